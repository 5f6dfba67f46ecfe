/**
 * Loading WMS mapping profiles: the shipped simwms profile compiles completely, and every
 * kind of mistake is reported precisely (file, YAML line and column, profile path, the
 * position inside a JSONata expression) with nothing half-loaded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinProfilePath, loadProfile, OPERATIONS, parseProfile, ProfileError } from '../../../src/connectors/wms/profile.ts';

const SIMWMS = readFileSync(builtinProfilePath('simwms'), 'utf8');
const fixture = (name: string) => new URL(`../../fixtures/wms/${name}`, import.meta.url).pathname;

function problemsOf(fn: () => unknown): ProfileError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ProfileError, String(e));
    assert.equal(e.code, 'wms.profile_invalid');
    assert.equal(e.errorClass, 'permanent');
    return e;
  }
  assert.fail('expected a ProfileError');
}

test('the simwms profile loads: every operation and every SimWMS webhook type compiled', () => {
  const p = loadProfile(builtinProfilePath('simwms'));
  assert.equal(p.id, 'simwms');
  assert.deepEqual(Object.keys(p.outbound).sort(), [...OPERATIONS].sort());
  assert.deepEqual([...p.inbound.events.keys()].sort(), ['order.accepted', 'order.cancelled', 'order.shipped', 'pack.completed', 'pick.confirmed', 'wave.released']);
  assert.deepEqual(p.outbound.cancel!.pathFields, ['wmsOrderId']);
  assert.equal(p.inbound.events.get('pick.confirmed')!.at.path, 'inbound.events."pick.confirmed".map');
  assert.ok(p.inbound.events.get('pick.confirmed')!.at.line > 1);
  assert.deepEqual(p.auth, { header: 'X-Api-Key', scheme: 'plain' });
});

test('bad YAML: the line and column of the syntax error', () => {
  const e = problemsOf(() => loadProfile(fixture('profile-bad-yaml.yaml')));
  assert.equal(e.problems.length, 1);
  assert.equal(e.problems[0]!.file, fixture('profile-bad-yaml.yaml'));
  assert.equal(e.problems[0]!.line, 3);
  assert.match(e.problems[0]!.message, /^YAML: /);
  const dup = problemsOf(() => parseProfile('id: a\nid: b\n', 'dup.yaml'));
  assert.match(dup.message, /dup\.yaml:2:1: YAML: Map keys must be unique/);
});

test('an unknown field: its line and profile path', () => {
  const e = problemsOf(() => loadProfile(fixture('profile-unknown-field.yaml')));
  assert.deepEqual(
    e.problems.map((p) => [p.line, p.column, p.path]),
    [[9, 5, 'outbound.release.bodyy']],
  );
  assert.match(e.problems[0]!.message, /not a known field/);
});

test('a JSONata syntax error: the position in the expression and the line in the file', () => {
  const e = problemsOf(() => loadProfile(fixture('profile-jsonata-error.yaml')));
  assert.equal(e.problems.length, 1);
  const p = e.problems[0]!;
  assert.equal(p.path, 'inbound.events."pick.confirmed".map');
  assert.match(p.message, /JSONata syntax error at position \d+ of the expression \(near "\}"\): Expected "\]", got "\}" \[S0202\]/);
  assert.equal(p.line, 22, 'the line of the offending } in the block scalar');
  assert.equal(p.column, 9);
  assert.match(e.message, new RegExp(`${fixture('profile-jsonata-error.yaml').replace(/[.]/g, '\\.')}:22:9: inbound\\.events\\."pick\\.confirmed"\\.map: JSONata syntax error`));
});

test('a JSONata error in a one-line expression points into that line', () => {
  const text = SIMWMS.replace("body: '{ \"reason\": reason }'", "body: '{ \"reason\": reason, }'");
  const e = problemsOf(() => parseProfile(text, 'p.yaml'));
  const p = e.problems[0]!;
  assert.equal(p.path, 'outbound.cancel.body');
  const line = text.split('\n')[p.line - 1]!;
  assert.match(line, /body: '\{ "reason": reason, \}'/);
  assert.equal(line[p.column - 1], '}');
});

test('several problems at once, sorted by line; wrong types and unknown placeholders named', () => {
  const text = SIMWMS.replace('method: PATCH', 'method: FETCH').replace('/api/v1/outbound-orders/{wmsOrderId}/labels', '/api/v1/outbound-orders/{orderRef}/labels').replace('dedupeKey: id', 'dedupeKey: ""');
  const e = problemsOf(() => parseProfile(text, 'p.yaml'));
  const paths = e.problems.map((p) => p.path);
  assert.ok(paths.includes('outbound.updateShipTo.method'), paths.join());
  assert.ok(paths.includes('inbound.dedupeKey'), paths.join());
  const lines = e.problems.map((p) => p.line);
  assert.deepEqual(lines, [...lines].sort((a, b) => a - b));
  // the placeholder is checked once the document is valid
  const e2 = problemsOf(() => parseProfile(SIMWMS.replace('/api/v1/outbound-orders/{wmsOrderId}/labels', '/api/v1/outbound-orders/{orderRef}/labels'), 'p.yaml'));
  assert.equal(e2.problems[0]!.path, 'outbound.attachLabels.path');
  assert.match(e2.problems[0]!.message, /\{orderRef\} is not a field of the attachLabels input/);
});

test('missing required parts are named by path; a file that is not a mapping is refused', () => {
  const e = problemsOf(() => parseProfile('id: x\nname: X\nsystem: wms:x\nsource: /wms/x\noutbound: {}\n', 'p.yaml'));
  assert.deepEqual(
    e.problems.map((p) => [p.path, p.message]),
    [['inbound', 'is required']],
  );
  problemsOf(() => parseProfile('- a\n- b\n', 'list.yaml'));
  const missing = problemsOf(() => loadProfile(join(mkdtempSync(join(tmpdir(), 'wms-')), 'absent.yaml')));
  assert.match(missing.message, /cannot read the file/);
});

test('nothing half-loaded: a profile with one bad expression among good ones is refused whole', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wms-profile-'));
  const file = join(dir, 'p.yaml');
  writeFileSync(file, SIMWMS.replace('eventType: type', 'eventType: type[')); // one broken, everything else fine
  const e = problemsOf(() => loadProfile(file));
  assert.equal(e.problems.length, 1);
  assert.equal(e.problems[0]!.path, 'inbound.eventType');
});
