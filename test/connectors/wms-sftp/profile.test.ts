/**
 * Loading file profiles: the shipped csv3pl profile compiles completely, and every kind of
 * mistake is reported precisely (file, YAML line and column, profile path, the position
 * inside a JSONata expression), all problems at once, nothing half-loaded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { builtinFileProfilePath, FILE_OPERATIONS, FileProfileError, loadFileProfile, parseFileProfile } from '../../../src/connectors/wms-sftp/profile.ts';

const fixture = (name: string) => new URL(`../../fixtures/wms-sftp/${name}`, import.meta.url).pathname;

function problemsOf(fn: () => unknown): FileProfileError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof FileProfileError, String(e));
    assert.equal(e.code, 'wms-sftp.profile_invalid');
    assert.equal(e.errorClass, 'permanent');
    return e;
  }
  assert.fail('expected a FileProfileError');
}

test('the csv3pl profile loads: every operation, the stock files and every kind of 3PL file compiled', () => {
  const p = loadFileProfile(builtinFileProfilePath('csv3pl'));
  assert.equal(p.id, 'csv3pl');
  assert.equal(p.delimiter, ',');
  assert.deepEqual(Object.keys(p.outbound).sort(), [...FILE_OPERATIONS].sort());
  assert.deepEqual(p.outbound.release!.nameFields, ['shipmentId']);
  assert.deepEqual(p.outbound.updateShipTo!.nameFields, ['shipmentId', 'timestamp']);
  assert.deepEqual(p.inbound.map((k) => [k.name, k.each]), [['ack', 'row'], ['picks', 'file'], ['packs', 'file'], ['shipments', 'row'], ['cancellations', 'row']]);
  assert.ok(p.inventory?.pattern.test('STK_20260302092100.csv'));
  const picks = p.inbound.find((k) => k.name === 'picks')!;
  assert.equal(picks.map.at.path, 'inbound.picks.map');
  assert.ok(picks.map.at.line > 100);
  assert.ok(picks.pattern.test('PCK_20260302090600_000002_shp-1001.csv'));
});

test('bad YAML: the line and column of the syntax error', () => {
  const e = problemsOf(() => loadFileProfile(fixture('profile-bad-yaml.yaml')));
  assert.equal(e.problems[0]!.file, fixture('profile-bad-yaml.yaml'));
  assert.deepEqual([e.problems[0]!.line, e.problems[0]!.column], [2, 7]);
  assert.match(e.problems[0]!.message, /^YAML: /);
  assert.match(problemsOf(() => parseFileProfile('id: a\nid: b\n', 'dup.yaml')).message, /dup\.yaml:2:1: YAML: Map keys must be unique/);
  assert.match(problemsOf(() => parseFileProfile('- a\n', 'list.yaml')).message, /list\.yaml:1:1: a file profile is a YAML mapping/);
});

test('an unknown field (a typo): its line and profile path, and the field it stands for reported missing', () => {
  const e = problemsOf(() => loadFileProfile(fixture('profile-unknown-field.yaml')));
  assert.deepEqual(
    e.problems.map((p) => [p.line, p.column, p.path]),
    [
      [7, 5, 'outbound.cancel.columns'],
      [8, 5, 'outbound.cancel.colums'],
    ],
  );
  assert.match(e.problems[1]!.message, /not a known field/);
});

test('all mistakes at once: an unknown placeholder, a JSONata syntax error at its line, a bad regular expression', () => {
  const e = problemsOf(() => loadFileProfile(fixture('profile-errors.yaml')));
  assert.deepEqual(
    e.problems.map((p) => [p.line, p.column, p.path]),
    [
      [7, 11, 'outbound.release.file'],
      [17, 7, 'outbound.cancel.rows'],
      [20, 11, 'inbound.ack.file'],
    ],
  );
  assert.match(e.problems[0]!.message, /placeholder \{colour\} is not a field of the release input/);
  assert.match(e.problems[1]!.message, /JSONata syntax error at position \d+ of the expression \(near "\}"\).*\[S0202\]/);
  assert.match(e.problems[2]!.message, /not a regular expression/);
  assert.match(e.message, new RegExp(`${fixture('profile-errors.yaml')}:17:7: outbound.cancel.rows: JSONata`));
});

test('schema problems: a file name that is not a file name, no inbound kinds, a placeholder left open', () => {
  const base = (over: string) => `id: t\nname: T\nsystem: wms:t\nsource: /wms/t\n${over}`;
  const slash = problemsOf(() => parseFileProfile(base(`outbound:\n  release:\n    file: 'a/{shipmentId}.csv'\n    columns: [a]\n    rows: '{}'\ninbound:\n  a:\n    file: x\n    map: '[]'\n`), 's.yaml'));
  assert.deepEqual([slash.problems[0]!.line, slash.problems[0]!.path], [7, 'outbound.release.file']);
  const none = problemsOf(() => parseFileProfile(base('outbound: {}\ninbound: {}\n'), 'n.yaml'));
  assert.match(none.problems[0]!.message, /no kind of inbound file/);
  const open = problemsOf(() => parseFileProfile(base(`outbound:\n  cancel:\n    file: 'CAN_{shipmentId.csv'\n    columns: [a]\n    rows: '{}'\ninbound:\n  a:\n    file: x\n    map: '[]'\n`), 'o.yaml'));
  assert.match(open.problems.map((p) => p.message).join('; '), /brace that opens or closes no placeholder|not a field of the cancel input/);
  const missing = problemsOf(() => loadFileProfile(fixture('no-such-profile.yaml')));
  assert.match(missing.problems[0]!.message, /cannot read the file/);
});

test('the example profile of docs/connectors/wms-sftp.md loads', () => {
  const doc = readFileSync(new URL('../../../docs/connectors/wms-sftp.md', import.meta.url), 'utf8');
  const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
  const p = parseFileProfile(yaml, 'docs/connectors/wms-sftp.md');
  assert.equal(p.id, 'acme3pl');
  assert.equal(p.delimiter, ';');
  assert.deepEqual(p.outbound.release!.nameFields, ['shipmentId']);
});
