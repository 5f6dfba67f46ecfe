/**
 * The published artefacts agree with the domain: the JSON Schemas in schemas/ compile
 * with an independent validator (ajv, draft 2020-12, strict) and accept and refuse what
 * TypeBox accepts and refuses; the AsyncAPI document's references resolve; the glossary
 * exists once in two places.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { CloudEventEnvelope, ENTITIES, EVENT_TYPES, validate, validateEventData } from '../../src/domain/index.ts';
import { EXAMPLE_EVENT_DATA, exampleCloudEvent } from '../../src/domain/examples.ts';

const root = join(import.meta.dirname, '..', '..');
const readJson = (rel: string) => JSON.parse(readFileSync(join(root, rel), 'utf8')) as Record<string, any>;

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => void;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
for (const k of ['x-pii', 'x-entity', 'x-entity-id', 'x-pii-paths', 'x-event-type', 'x-key-path', 'x-key-entity', 'x-time-path', 'x-lifecycle', 'x-deprecated']) {
  ajv.addKeyword(k);
}
for (const f of readdirSync(join(root, 'schemas/entities'))) ajv.addSchema(readJson(`schemas/entities/${f}`));
for (const f of readdirSync(join(root, 'schemas/events'))) ajv.addSchema(readJson(`schemas/events/${f}`));
ajv.addSchema(readJson('schemas/cloudevent.json'));

const ajvValid = (id: string, data: unknown) => {
  const v = ajv.getSchema(id);
  assert.ok(v, `schema ${id} is published`);
  return v(data) as boolean;
};

describe('published JSON Schemas', () => {
  it('are up to date with src/domain (gen-schemas --check)', () => {
    const r = spawnSync(process.execPath, ['scripts/gen-schemas.ts', '--check'], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('exist for every entity and every event type, with draft 2020-12 and their $id', () => {
    for (const name of Object.keys(ENTITIES)) {
      const s = readJson(`schemas/entities/${name}.json`);
      assert.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema');
      assert.equal(s.$id, `https://odoo-logistics-hub.dev/schemas/entities/${name}.json`);
    }
    for (const d of EVENT_TYPES) {
      const s = readJson(`schemas/events/${d.type}.json`);
      assert.equal(s.$id, d.dataschema);
      assert.equal(s['x-key-path'], d.keyPath);
    }
  });

  it('accept every example, as TypeBox does', () => {
    for (const d of EVENT_TYPES) assert.ok(ajvValid(d.dataschema, (EXAMPLE_EVENT_DATA as Record<string, unknown>)[d.type]), d.type);
  });

  it('refuse what TypeBox refuses: each required property missing, an unknown property, a wrong format', () => {
    for (const d of EVENT_TYPES) {
      const example = (EXAMPLE_EVENT_DATA as Record<string, Record<string, unknown>>)[d.type]!;
      const required = ((d.schema as { required?: string[] }).required ?? []) as string[];
      const variants: Array<[string, unknown]> = required.map((p) => {
        const copy = structuredClone(example);
        delete copy[p];
        return [`without ${p}`, copy];
      });
      variants.push(['with an unknown property', { ...example, unknownProperty: 1 }]);
      if (d.timePath && !d.timePath.includes('.')) variants.push(['with a bad time', { ...example, [d.timePath]: '2026-02-30T00:00:00Z' }]);
      for (const [what, data] of variants) {
        assert.equal(validateEventData(d.type, data).length > 0, true, `${d.type} ${what}: TypeBox`);
        assert.equal(ajvValid(d.dataschema, data), false, `${d.type} ${what}: ajv`);
      }
    }
  });

  it('describe the CloudEvents envelope: the example events are valid for both validators', () => {
    for (const d of EVENT_TYPES) {
      const e = { ...exampleCloudEvent(d.type), partitionkey: 'k', tenant: 'acme', custom1: 7 };
      assert.deepEqual(validate(CloudEventEnvelope, e), [], d.type);
      assert.ok(ajvValid('https://odoo-logistics-hub.dev/schemas/cloudevent.json', e), d.type);
    }
    const bad = { ...exampleCloudEvent('order.created.v1'), specversion: '0.3', 'Bad-Name': 'x' };
    assert.equal(ajvValid('https://odoo-logistics-hub.dev/schemas/cloudevent.json', bad), false);
    assert.deepEqual(validate(CloudEventEnvelope, bad).map((i) => i.path), ['/specversion']);
  });
});

describe('AsyncAPI document', () => {
  const doc = readJson('schemas/asyncapi.json');
  const resolve = (ref: string): unknown => ref.replace(/^#\//, '').split('/').reduce<any>((o, k) => o?.[k.replaceAll('~1', '/').replaceAll('~0', '~')], doc);

  it('is AsyncAPI 3.0.0 with one channel, operation and message per event type', () => {
    assert.equal(doc.asyncapi, '3.0.0');
    assert.ok(doc.info.title && doc.info.version);
    assert.equal(Object.keys(doc.channels).length, EVENT_TYPES.length);
    assert.equal(Object.keys(doc.operations).length, EVENT_TYPES.length);
    for (const d of EVENT_TYPES) {
      const id = d.type.replaceAll('.', '-');
      const channel = doc.channels[id];
      assert.equal(channel.address, d.type);
      assert.ok(resolve(channel.messages[id].$ref), `${d.type}: message reference resolves`);
      const message = doc.components.messages[id];
      assert.equal(message.name, d.type);
      assert.ok(existsSync(join(root, 'schemas', message.payload.$ref)), `${d.type}: payload file exists`);
      assert.ok(resolve(message.headers.allOf[0].$ref));
      assert.ok(resolve(message.correlationId.$ref));
      assert.deepEqual(message.examples[0].payload, JSON.parse(JSON.stringify((EXAMPLE_EVENT_DATA as Record<string, unknown>)[d.type])));
      const op = doc.operations[`publish-${id}`];
      assert.equal(op.action, 'send');
      assert.equal(resolve(op.channel.$ref), channel);
      assert.ok(resolve(op.messages[0].$ref));
    }
  });

  it('uses only component keys AsyncAPI allows', () => {
    for (const group of [doc.channels, doc.operations, doc.components.messages, doc.components.schemas]) {
      for (const k of Object.keys(group)) assert.match(k, /^[A-Za-z0-9_-]+$/);
    }
  });
});

describe('glossary', () => {
  it('is the same in src/domain/index.ts and src/domain/GLOSSARY.md', () => {
    const md = readFileSync(join(root, 'src/domain/GLOSSARY.md'), 'utf8').trimEnd();
    const src = readFileSync(join(root, 'src/domain/index.ts'), 'utf8');
    const comment = /^\/\*\*\n([\s\S]*?)\n \*\//.exec(src)![1]!;
    const fromComment = comment
      .split('\n')
      .map((l) => l.replace(/^ \* ?/, ''))
      .join('\n');
    assert.equal(fromComment, md);
    for (const term of ['Event', 'Business key', 'Canonical id', 'Cross-reference registry', 'Lifecycle', 'Milestone', 'Regression', 'Dead letter', 'Outbox', 'Tenant']) {
      assert.ok(md.includes(`**${term}`), term);
    }
  });
});
