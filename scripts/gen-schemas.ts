/**
 * `npm run schemas`: publishes the canonical model from its one source of truth
 * (src/domain): JSON Schemas (draft 2020-12) of every entity and of every event type's
 * data, the CloudEvents envelope, an AsyncAPI 3.0.0 document of the whole catalogue, and
 * docs/events.md.
 *
 *   node scripts/gen-schemas.ts          write schemas/ and docs/events.md (removes stale files in schemas/)
 *   node scripts/gen-schemas.ts --check  write nothing; exit 1 listing every file that differs, is missing or is extra
 *
 * Output is deterministic: keys sorted, files in a stable order, two-space indentation,
 * a trailing newline.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import {
  CATALOGUE_VERSION,
  CloudEventEnvelope,
  ENTITIES,
  EVENT_TYPES,
  HUB_EXTENSIONS,
  LIFECYCLES,
  SCHEMA_BASE_URL,
  TRACKING_MILESTONES,
  piiPaths,
} from '../src/domain/index.ts';
import type { EventTypeDefinition, LifecycleMachine } from '../src/domain/index.ts';
import { EXAMPLE_EVENT_DATA, exampleCloudEvent } from '../src/domain/examples.ts';

const root = join(import.meta.dirname, '..');
const SCHEMAS_DIR = 'schemas';
const DOCS_FILE = 'docs/events.md';
const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

// ------------------------------------------------------------------------------ helpers

/** Plain JSON of a TypeBox schema, with unions of constants published as `enum`. */
function publish(schema: unknown): Json {
  if (Array.isArray(schema)) return schema.map(publish);
  if (schema === null || typeof schema !== 'object') return schema as Json;
  const s = schema as Record<string, unknown>;
  const anyOf = s.anyOf;
  if (Array.isArray(anyOf) && anyOf.length > 0 && anyOf.every((v) => v && typeof v === 'object' && 'const' in v)) {
    const { anyOf: _, ...rest } = s;
    const types = [...new Set(anyOf.map((v) => (v as { type?: string }).type))];
    return publish({ ...rest, ...(types.length === 1 && types[0] ? { type: types[0] } : {}), enum: anyOf.map((v) => (v as { const: unknown }).const) });
  }
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(s)) if (v !== undefined) out[k] = publish(v);
  return out;
}

function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys(v[k]!)]),
  );
}

const render = (v: Json) => `${JSON.stringify(sortKeys(v), null, 2)}\n`;

function schemaDocument(id: string, schema: TSchema, extra: Record<string, Json> = {}): Json {
  return { $schema: DRAFT, $id: id, ...(publish(schema) as Record<string, Json>), ...extra };
}

const channelId = (type: string) => type.replaceAll('.', '-');
const asJson = (v: unknown) => JSON.parse(JSON.stringify(v)) as Json;

function lifecycleJson(d: EventTypeDefinition): Json {
  const b = d.lifecycle;
  if (!b) return null;
  return asJson('milestone' in b ? { kind: b.kind, subjectPaths: b.subjectPaths, milestone: b.milestone } : { kind: b.kind, subjectPaths: b.subjectPaths, milestoneFrom: b.milestoneFrom });
}

function eventExtensions(d: EventTypeDefinition): Record<string, Json> {
  const x: Record<string, Json> = {
    'x-event-type': d.type,
    'x-key-path': d.keyPath,
    'x-pii-paths': piiPaths(d.schema),
  };
  if (d.keyEntity) x['x-key-entity'] = d.keyEntity;
  if (d.timePath) x['x-time-path'] = d.timePath;
  if (d.lifecycle) x['x-lifecycle'] = lifecycleJson(d);
  if (d.deprecated) x['x-deprecated'] = { since: d.deprecated.since, replacedBy: d.deprecated.replacedBy };
  return x;
}

// ------------------------------------------------------------------------------ documents

function entityFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of Object.keys(ENTITIES).sort()) {
    const schema = ENTITIES[name as keyof typeof ENTITIES];
    files.set(`${SCHEMAS_DIR}/entities/${name}.json`, render(schemaDocument(`${SCHEMA_BASE_URL}/entities/${name}.json`, schema, { 'x-pii-paths': piiPaths(schema) })));
  }
  return files;
}

function eventFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const d of EVENT_TYPES) {
    files.set(
      `${SCHEMAS_DIR}/events/${d.type}.json`,
      render(
        schemaDocument(d.dataschema, d.schema, {
          title: `${d.type} data`,
          description: d.description,
          ...eventExtensions(d),
          ...(d.deprecated ? { deprecated: true } : {}),
        }),
      ),
    );
  }
  return files;
}

function envelopeFile(): [string, string] {
  return [`${SCHEMAS_DIR}/cloudevent.json`, render(schemaDocument(`${SCHEMA_BASE_URL}/cloudevent.json`, CloudEventEnvelope))];
}

/** CloudEvents binary content mode headers (HTTP binding names). */
function cloudEventHeaders(): Json {
  return {
    type: 'object',
    description:
      'CloudEvents 1.0 attributes in binary content mode, named as in the HTTP protocol binding (ce-<attribute>); other transports carry the same attributes under their binding. In structured mode the envelope is schemas/cloudevent.json instead.',
    required: ['ce-specversion', 'ce-id', 'ce-source', 'ce-type'],
    properties: {
      'ce-specversion': { type: 'string', const: '1.0' },
      'ce-id': { type: 'string', minLength: 1, maxLength: 256, description: 'unique per source; a redelivery keeps the same id' },
      'ce-source': { type: 'string', minLength: 1, maxLength: 1024, description: 'URI-reference of the producer' },
      'ce-type': { type: 'string', description: 'the event type' },
      'ce-time': { type: 'string', format: 'date-time', description: 'when the occurrence happened' },
      'ce-subject': { type: 'string' },
      'ce-dataschema': { type: 'string', format: 'uri' },
      'ce-partitionkey': { type: 'string', description: HUB_EXTENSIONS.partitionkey },
      'ce-tenant': { type: 'string', description: HUB_EXTENSIONS.tenant },
      'ce-correlationid': { type: 'string', description: HUB_EXTENSIONS.correlationid },
      traceparent: { type: 'string', description: HUB_EXTENSIONS.traceparent },
      tracestate: { type: 'string', description: HUB_EXTENSIONS.tracestate },
      'content-type': { type: 'string', const: 'application/json' },
    },
  };
}

function asyncApiFile(): [string, string] {
  const channels: Record<string, Json> = {};
  const operations: Record<string, Json> = {};
  const messages: Record<string, Json> = {};
  for (const d of EVENT_TYPES) {
    const id = channelId(d.type);
    const example = exampleCloudEvent(d.type);
    const headers: Record<string, Json> = {
      'ce-specversion': '1.0',
      'ce-id': example.id,
      'ce-source': example.source,
      'ce-type': d.type,
      'ce-time': example.time,
      'ce-dataschema': d.dataschema,
      'content-type': 'application/json',
    };
    messages[id] = {
      name: d.type,
      title: d.type,
      summary: d.description,
      contentType: 'application/json',
      headers: {
        allOf: [{ $ref: '#/components/schemas/CloudEventHeaders' }, { type: 'object', properties: { 'ce-type': { const: d.type }, 'ce-dataschema': { const: d.dataschema } } }],
      },
      payload: { $ref: `events/${d.type}.json` },
      correlationId: { $ref: '#/components/correlationIds/correlationid' },
      examples: [{ name: 'example', summary: `A valid ${d.type}`, headers, payload: asJson(EXAMPLE_EVENT_DATA[d.type]) }],
      ...eventExtensions(d),
    };
    channels[id] = {
      address: d.type,
      title: d.type,
      description: `${d.description} Business key: data.${d.keyPath}.`,
      messages: { [id]: { $ref: `#/components/messages/${id}` } },
    };
    operations[`publish-${id}`] = {
      action: 'send',
      title: `Publish ${d.type}`,
      summary: `The hub publishes ${d.type} (outbox, at least once; consumers de-duplicate on ce-source + ce-id).`,
      channel: { $ref: `#/channels/${id}` },
      messages: [{ $ref: `#/channels/${id}/messages/${id}` }],
    };
  }
  const doc: Json = {
    asyncapi: '3.0.0',
    id: 'urn:odoo-logistics-hub:events',
    info: {
      title: 'odoo-logistics-hub canonical events',
      version: CATALOGUE_VERSION,
      description:
        'Every canonical event of the hub, as CloudEvents 1.0 with JSON data. The channel address is the CloudEvents type; transports may prefix it. Events of one business key (x-key-path) are delivered in order.',
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: {
      schemas: { CloudEventHeaders: cloudEventHeaders() },
      messages,
      correlationIds: { correlationid: { description: 'id shared by every event of one business flow', location: '$message.header#/ce-correlationid' } },
    },
  };
  return [`${SCHEMAS_DIR}/asyncapi.json`, render(doc)];
}

// ------------------------------------------------------------------------------ docs

function machineTable(m: LifecycleMachine): string {
  const lines = ['| state | may move to | terminal |', '|---|---|---|'];
  for (const s of m.states) {
    const targets = s === m.side ? '(recovers to the interrupted state or any state allowed from it)' : (m.transitions[s] ?? []).join(', ') || '-';
    lines.push(`| ${s} | ${targets} | ${m.terminal.includes(s) ? 'yes' : ''} |`);
  }
  return lines.join('\n');
}

function docsFile(): [string, string] {
  const out: string[] = [];
  out.push('# Event catalogue');
  out.push('');
  out.push('Generated by `npm run schemas` from `src/domain` (do not edit by hand). Version ' + CATALOGUE_VERSION + '.');
  out.push('');
  out.push('Every event is a CloudEvents 1.0 message whose `type` is one of the types below and whose `data` validates against');
  out.push('`schemas/events/<type>.json`. The business key (the pipeline orders events per key) is read from `data` at the key path');
  out.push('unless the `partitionkey` extension is set. The occurrence time is read at the time path, else from the CloudEvents `time`.');
  out.push('The AsyncAPI document is `schemas/asyncapi.json`; entity schemas are in `schemas/entities/`.');
  out.push('');
  out.push('| type | key path | time path | lifecycle | description |');
  out.push('|---|---|---|---|---|');
  for (const d of EVENT_TYPES) {
    const b = d.lifecycle;
    const lc = !b ? '' : 'milestone' in b ? `${b.kind}: ${b.milestone}` : `${b.kind}: from \`${b.milestoneFrom.path}\``;
    out.push(`| \`${d.type}\`${d.deprecated ? ` (deprecated since ${d.deprecated.since}, use \`${d.deprecated.replacedBy}\`)` : ''} | \`${d.keyPath}\` | ${d.timePath ? `\`${d.timePath}\`` : '`time`'} | ${lc} | ${d.description} |`);
  }
  out.push('');
  out.push('## Lifecycles');
  out.push('');
  out.push('A lifecycle is folded from the set of its events ordered by occurrence time (`src/domain/lifecycle.ts`). Duplicates,');
  out.push('regressions, invalid transitions and events after a terminal state are recorded as flags and not applied. Shipment');
  out.push('events belong to the lifecycle of their `orderId`, or of their `shipmentId` when they have no order.');
  for (const m of Object.values(LIFECYCLES)) {
    out.push('');
    out.push(`### ${m.kind}`);
    out.push('');
    out.push(machineTable(m));
    out.push('');
    out.push(
      `Repeats (a state to itself) are accepted without a move.${m.side ? ` Any non-terminal state may move to ${m.side}.` : ''} The first milestone seen is accepted whatever it is.`,
    );
  }
  out.push('');
  out.push('### Tracking status → order milestone');
  out.push('');
  out.push('| tracking status | milestone |');
  out.push('|---|---|');
  for (const [status, milestone] of Object.entries(TRACKING_MILESTONES)) out.push(`| ${status} | ${milestone ?? '(none)'} |`);
  out.push('');
  out.push('## Examples');
  for (const d of EVENT_TYPES) {
    out.push('');
    out.push(`### ${d.type}`);
    out.push('');
    out.push(d.description);
    out.push('');
    out.push('```json');
    out.push(JSON.stringify(exampleCloudEvent(d.type), null, 2));
    out.push('```');
  }
  return [DOCS_FILE, `${out.join('\n')}\n`];
}

// ------------------------------------------------------------------------------ main

function generate(): Map<string, string> {
  const files = new Map<string, string>([...entityFiles(), ...eventFiles(), envelopeFile(), asyncApiFile(), docsFile()]);
  return new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

function existingFiles(): string[] {
  const dir = join(root, SCHEMAS_DIR);
  const walk = (d: string): string[] =>
    existsSync(d) ? readdirSync(d).flatMap((e) => (statSync(join(d, e)).isDirectory() ? walk(join(d, e)) : [relative(root, join(d, e)).split('\\').join('/')])) : [];
  const found = walk(dir);
  if (existsSync(join(root, DOCS_FILE))) found.push(DOCS_FILE);
  return found.sort();
}

const files = generate();
const existing = existingFiles();
const extra = existing.filter((f) => !files.has(f));

if (process.argv.includes('--check')) {
  const problems: string[] = [];
  for (const [path, content] of files) {
    const abs = join(root, path);
    if (!existsSync(abs)) problems.push(`missing: ${path}`);
    else if (readFileSync(abs, 'utf8') !== content) problems.push(`differs: ${path}`);
  }
  for (const f of extra) problems.push(`extra:   ${f}`);
  if (problems.length) {
    console.error(`schemas/ is out of date: run npm run schemas\n${problems.map((p) => `  ${p}`).join('\n')}`);
    process.exit(1);
  }
  console.log(`schemas/ is up to date (${files.size} files)`);
} else {
  let written = 0;
  for (const [path, content] of files) {
    const abs = join(root, path);
    if (existsSync(abs) && readFileSync(abs, 'utf8') === content) continue;
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, content);
    written++;
  }
  for (const f of extra) rmSync(join(root, f));
  console.log(`${files.size} files generated (${written} written, ${extra.length} stale removed)`);
}
