import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_ROUTES } from '../../src/api/route-table.ts';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { Writable } from 'node:stream';
import { connect } from 'node:net';
import { createPool } from '../../src/platform/db.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { BATCH, STRUCTURED, assertProblem, call, cloudEvent, post, startApi } from './harness.ts';

const api = await startApi();
const get = (path: string, init?: RequestInit) => call(`${api.url}${path}`, init);

test('GET /healthz answers 200 while serving', async () => {
  const a = await get('/healthz', { headers: { 'x-correlation-id': 'probe-1' } });
  assert.equal(a.status, 200);
  assert.deepEqual(a.body, { status: 'ok', instanceId: 'api-test' });
  assert.equal(a.headers.get('x-correlation-id'), 'probe-1');
});

test('GET /readyz: 200 with the checks, or 503 problem with Retry-After naming the failing checks', async () => {
  const ok = await get('/readyz');
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body, { ready: true, checks: { database: { ok: true } } });
  const down = await startApi({ pool: api.pool, readiness: async () => ({ ready: false, checks: { database: { ok: true }, migrations: { ok: false, detail: '1 pending' } } }) });
  const a = await call(`${down.url}/readyz`);
  assertProblem(a, 503, 'hub.not_ready');
  assert.equal(a.headers.get('retry-after'), '1');
  assert.deepEqual(a.body.issues, [{ path: 'migrations', message: '1 pending' }]);
});

test('an unexpected failure is a 500 problem that leaks nothing', async () => {
  const broken = await startApi({ pool: api.pool, readiness: async () => { throw new Error('password=hunter2 at /srv/secret.ts:12'); } });
  const a = await call(`${broken.url}/readyz`);
  assertProblem(a, 500, 'internal');
  assert.doesNotMatch(JSON.stringify(a.body), /hunter2|secret/);
});

test('the database being away is a 503 problem with Retry-After, not a 500', async () => {
  const pool = createPool('postgresql://postgres@127.0.0.1:1/none', 2, 500);
  const away = await startApi({ pool });
  const a = await call(`${away.url}/v1/events/x`);
  assertProblem(a, 503, 'dependency.unavailable');
  assert.ok(Number(a.headers.get('retry-after')) >= 1);
  const ingest = await post(away, cloudEvent('shipment.tracking.v1'));
  assertProblem(ingest, 503, 'dependency.unavailable');
  await pool.end();
});

test('unknown routes are 404, known paths with another method 405 with Allow, bad URLs 400: all problems', async () => {
  assertProblem(await get('/v2/nothing'), 404, 'route.not_found');
  const m = await get('/v1/events');
  assertProblem(m, 405, 'request.method_not_allowed');
  assert.equal(m.headers.get('allow'), 'POST');
  const d = await get('/v1/dead-letters', { method: 'DELETE' });
  assertProblem(d, 405, 'request.method_not_allowed');
  assert.match(d.headers.get('allow')!, /GET/);
  assertProblem(await get('/v1/events/%E0%A4%A'), 400, 'request.bad_url');
});

test('malformed HTTP gets a problem too', async () => {
  const { port } = new URL(api.url);
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
    let out = '';
    socket.on('data', (d) => (out += d));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
  });
  assert.match(raw, /^HTTP\/1\.1 400 /);
  assert.match(raw, /content-type: application\/problem\+json/i);
  assert.equal(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).code, 'request.bad_request');
});

test('a client correlation id is echoed; an unusable one is replaced', async () => {
  const a = await get('/v2/nothing', { headers: { 'x-correlation-id': 'bad id with spaces' } });
  assert.match(a.headers.get('x-correlation-id')!, /^[0-9a-f-]{36}$/);
  assert.equal(a.body.correlationId, a.headers.get('x-correlation-id'));
});

test('GET /metrics exposes Prometheus text with ingress and backlog metrics', async () => {
  await post(api, [cloudEvent('shipment.tracking.v1')], BATCH);
  await api.backlog.sample();
  const a = await get('/metrics');
  assert.equal(a.status, 200);
  assert.match(a.contentType, /^text\/plain/);
  assert.match(a.body, /^# TYPE hub_ingress_events_total counter$/m);
  assert.match(a.body, /^hub_ingress_events_total\{outcome="stored"\} 1$/m);
  assert.match(a.body, /^hub_backlog\{queue="events"\} 1$/m);
  assert.match(a.body, /^hub_backlog_limit \d+$/m);
  assert.match(a.body, /^hub_http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/healthz",status="200"\} \d+$/m);
});

test('GET /openapi.json is an OpenAPI 3.1 document of every route, and describes the real answers', async () => {
  const a = await get('/openapi.json');
  assert.equal(a.status, 200);
  const doc = a.body;
  assert.equal(doc.openapi, '3.1.0');
  assert.equal(typeof doc.info.title, 'string');
  assert.equal(typeof doc.info.version, 'string');
  const operations = Object.entries(doc.paths as Record<string, Record<string, { operationId: string; responses: Record<string, { content: Record<string, unknown> }> }>>).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })),
  );
  // the served document lists exactly the route table (which the authorization matrix covers)
  assert.deepEqual(
    operations.map((o) => o.route).sort(),
    Object.values(ALL_ROUTES).map((r) => `${r.method} ${r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`).sort(),
  );
  for (const { route, op } of operations) {
    const secured = (op as { security?: unknown[] }).security;
    assert.ok(Array.isArray(secured), `${route} states its security requirement`);
  }
  assert.deepEqual(doc.paths['/v1/dead-letters'].get.security, [{ bearerToken: [] }, { oauth2: ['exceptions:read'] }]);
  assert.deepEqual(doc.paths['/healthz'].get.security, []);
  assert.equal(doc.components.securitySchemes.oauth2.flows.clientCredentials.tokenUrl, '/oauth/token');
  for (const { route, op } of operations) {
    assert.ok(op.operationId, `${route} has an operationId`);
    assert.ok(op.responses['4XX']?.content['application/problem+json'], `${route} documents its problem responses`);
    assert.ok(op.responses['5XX']?.content['application/problem+json'], `${route} documents server errors`);
  }
  const ingest = doc.paths['/v1/events'].post;
  assert.deepEqual(Object.keys(ingest.requestBody.content).sort(), ['application/cloudevents+json', 'application/cloudevents-batch+json', 'application/json']);
  assert.ok(ingest.responses['429'].headers['Retry-After']);
  assert.deepEqual(doc.paths['/v1/events/{id}'].get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`), ['path:id', 'query:source']);

  // every $ref resolves, and real answers validate against the documented schemas
  const refs = JSON.stringify(doc).match(/#\/components\/schemas\/[A-Za-z]+/g) ?? [];
  for (const r of new Set(refs)) assert.ok(doc.components.schemas[r.split('/').at(-1)!], `${r} is defined`);
  const ajv = new Ajv2020({ strict: false });
  (addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addSchema({ ...doc, $id: 'https://hub.test/openapi.json' });
  const validate = (name: string, value: unknown) => {
    const v = ajv.compile({ $ref: `https://hub.test/openapi.json#/components/schemas/${name}` });
    assert.ok(v(value), `${name}: ${JSON.stringify(v.errors)}`);
  };
  const ev = cloudEvent('shipment.tracking.v1', { id: 'doc-1', tenant: 'default', partitionkey: 'k-doc' });
  validate('CloudEvent', ev);
  const accepted = await post(api, ev);
  validate('EventAccepted', accepted.body);
  validate('EventView', (await get('/v1/events/doc-1')).body);
  validate('Timeline', (await get('/v1/timeline/k-doc')).body);
  validate('DeadLetterPage', (await get('/v1/dead-letters')).body);
  validate('Readiness', (await get('/readyz')).body);
  validate('Problem', (await get('/v1/events/none')).body);
});

test('request logs carry the correlation id and never the request body', async () => {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  const logged = await startApi({ pool: api.pool, log: createLogger('debug', {}, stream) });
  const ok = await post(logged, cloudEvent('shipment.tracking.v1', {}, { shipmentId: 'SECRET-SHIPMENT-777' }), STRUCTURED, { 'x-correlation-id': 'log-corr-1' });
  assert.equal(ok.status, 202);
  const bad = await post(logged, '{"shipmentId": "SECRET-BROKEN-888" x', STRUCTURED, { 'x-correlation-id': 'log-corr-2' });
  assertProblem(bad, 400, 'request.malformed_json');
  assert.doesNotMatch(JSON.stringify(bad.body), /SECRET/, 'the problem does not echo the body either');
  await new Promise((r) => setTimeout(r, 50));
  assert.doesNotMatch(lines.join(''), /SECRET/);
  const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const completed = entries.filter((e) => e.msg === 'request completed');
  assert.ok(completed.some((e) => e.correlationId === 'log-corr-1' && e.statusCode === 202 && e.route === '/v1/events'), JSON.stringify(completed));
  assert.ok(entries.some((e) => e.correlationId === 'log-corr-2' && e.errorCode === 'request.malformed_json'));
});
