/**
 * `logistics-hub mapping test`: the real command line as a child process, on the simwms
 * profile and the WMS fixtures: the events a webhook body becomes, the request an
 * operation becomes, and precise errors (file, line, path) with exit code 1 for profile
 * and mapping problems, 2 for usage mistakes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cli, ROOT } from './helpers.ts';

const PROFILE = join(ROOT, 'src', 'connectors', 'wms', 'profiles', 'simwms.yaml');
const fx = (name: string) => join(ROOT, 'test', 'fixtures', 'wms', name);
const show = (r: { code: number | null; stdout: string; stderr: string }) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

test('--inbound prints the canonical events of a webhook body', async () => {
  const r = await cli(['mapping', 'test', PROFILE, fx('webhook-pick.confirmed.json'), '--inbound']);
  assert.equal(r.code, 0, show(r));
  const out = JSON.parse(r.stdout);
  assert.equal(out.wmsEventType, 'pick.confirmed');
  assert.equal(out.dedupeKey, 'evt_00000003');
  assert.deepEqual(
    out.events.map((e: { type: string }) => e.type),
    ['order.picked.v1'],
  );
  assert.equal(r.stderr, '');
});

test('--operation prints the HTTP request; --const overrides a profile constant', async () => {
  const r = await cli(['mapping', 'test', PROFILE, fx('release-input.json'), '--operation', 'release']);
  assert.equal(r.code, 0, show(r));
  const out = JSON.parse(r.stdout);
  assert.equal(out.method, 'POST');
  assert.equal(out.path, '/api/v1/outbound-orders');
  assert.equal(out.headers['Idempotency-Key'], 'ful-S00065-1');
  assert.equal(out.body.lines.length, 2);
  const labels = await cli(['mapping', 'test', PROFILE, fx('labels-input.json'), '--operation', 'attachLabels']);
  assert.equal(labels.code, 0, show(labels));
  assert.match(JSON.parse(labels.stdout).path, /^\/api\/v1\/outbound-orders\/SO-000001\/labels$/);
  const ack = await cli(['mapping', 'test', PROFILE, fx('webhook-order.accepted.json'), '--inbound', '--const', 'warehouseId=loc-wh2']);
  assert.equal(JSON.parse(ack.stdout).events[0].data.warehouseId, 'loc-wh2');
});

test('mapping errors exit 1 with the reason, the profile place and the issues', async () => {
  const unknown = await cli(['mapping', 'test', PROFILE, fx('webhook-unknown-type.json'), '--inbound']);
  assert.equal(unknown.code, 1, show(unknown));
  assert.equal(unknown.stdout, '');
  assert.match(unknown.stderr, /error: wms\.mapping_failed: the WMS event type "inventory\.adjusted" has no mapping in profile simwms/);
  const invalid = await cli(['mapping', 'test', PROFILE, fx('webhook-pick.confirmed-invalid.json'), '--inbound']);
  assert.equal(invalid.code, 1, show(invalid));
  assert.match(invalid.stderr, /simwms\.yaml:\d+:\d+ inbound\.events\."pick\.confirmed"\.map/);
  assert.match(invalid.stderr, /\n {2}\/events\/0\/data\/orderId: order\.picked\.v1: is required/);
  const badInput = await cli(['mapping', 'test', PROFILE, fx('webhook-order.accepted.json'), '--operation', 'release']);
  assert.equal(badInput.code, 1, show(badInput));
  assert.match(badInput.stderr, /wms\.invalid_input/);
});

test('profile errors exit 1 with file:line:column and the profile path', async () => {
  const syntax = await cli(['mapping', 'test', fx('profile-jsonata-error.yaml'), fx('webhook-pick.confirmed.json'), '--inbound']);
  assert.equal(syntax.code, 1, show(syntax));
  assert.match(syntax.stderr, /profile-jsonata-error\.yaml:22:9: inbound\.events\."pick\.confirmed"\.map: JSONata syntax error at position \d+ of the expression/);
  const field = await cli(['mapping', 'test', fx('profile-unknown-field.yaml'), fx('release-input.json'), '--operation', 'release']);
  assert.equal(field.code, 1, show(field));
  assert.match(field.stderr, /profile-unknown-field\.yaml:9:5: outbound\.release\.bodyy: is not a known field/);
  const yaml = await cli(['mapping', 'test', fx('profile-bad-yaml.yaml'), fx('release-input.json'), '--operation', 'release']);
  assert.equal(yaml.code, 1, show(yaml));
  assert.match(yaml.stderr, /profile-bad-yaml\.yaml:3:1: YAML: /);
  const json = await cli(['mapping', 'test', PROFILE, fx('profile-bad-yaml.yaml'), '--inbound']);
  assert.equal(json.code, 1, show(json));
  assert.match(json.stderr, /profile-bad-yaml\.yaml(:\d+:\d+)?: the fixture is not valid JSON/);
});

test('usage errors exit 2', async () => {
  const neither = await cli(['mapping', 'test', PROFILE, fx('release-input.json')]);
  assert.equal(neither.code, 2, show(neither));
  assert.match(neither.stderr, /exactly one of --operation <name> and --inbound/);
  const both = await cli(['mapping', 'test', PROFILE, fx('release-input.json'), '--inbound', '--operation', 'release']);
  assert.equal(both.code, 2, show(both));
  const badOp = await cli(['mapping', 'test', PROFILE, fx('release-input.json'), '--operation', 'ship']);
  assert.equal(badOp.code, 2, show(badOp));
  assert.match(badOp.stderr, /Allowed choices are release, cancel, updateShipTo, attachLabels, getInventory/);
  const missing = await cli(['mapping', 'test', PROFILE, fx('does-not-exist.json'), '--inbound']);
  assert.equal(missing.code, 2, show(missing));
  assert.match(missing.stderr, /cannot read the fixture .*does-not-exist\.json: ENOENT/);
  const noArgs = await cli(['mapping', 'test']);
  assert.equal(noArgs.code, 2, show(noArgs));
});

const FILE_PROFILE = join(ROOT, 'src', 'connectors', 'wms-sftp', 'profiles', 'csv3pl.yaml');
const csv = (name: string) => join(ROOT, 'test', 'fixtures', 'wms-sftp', name);

test('a file profile: a 3PL status file becomes its events; a broken CSV names file, line and column (exit 1)', async () => {
  const ok = await cli(['mapping', 'test', FILE_PROFILE, csv('PCK_20260302090600_000002_shp-1001.csv'), '--inbound']);
  assert.equal(ok.code, 0, show(ok));
  const out = JSON.parse(ok.stdout) as { events: { type: string; data: { fulfilmentRequestId: string } }[] };
  assert.deepEqual(out.events.map((e) => e.type), ['order.picked.v1']);
  assert.equal(out.events[0]!.data.fulfilmentRequestId, 'shp-1001');
  const bad = await cli(['mapping', 'test', FILE_PROFILE, csv('bad-unclosed-quote.csv'), '--inbound']);
  assert.equal(bad.code, 1, show(bad));
  assert.match(bad.stderr, /bad-unclosed-quote\.csv:2:39: the quoted field that starts here is never closed/);
  assert.equal(bad.stdout, '');
});
