import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BATCH, STRUCTURED, assertProblem, call, cloudEvent, countEvents, post, startApi, type Answer } from './harness.ts';

const api = await startApi({ ingress: { bodyLimitBytes: 16 * 1024, maxBatch: 5, retryAfterSeconds: 7 } });
const TYPE = 'shipment.tracking.v1';

async function stored(id: string) {
  const r = await api.pool.query(`select * from hub_events where id = $1`, [id]);
  return r.rows;
}

test('structured mode: 202 after the event is stored, with the self link', async () => {
  const ev = cloudEvent(TYPE, { source: 'urn:carrier/ups', subject: 'scan' }, { shipmentId: 'SHP-S1', occurredAt: '2026-03-01T10:00:00+02:00' });
  const a = await post(api, ev, STRUCTURED, { 'x-correlation-id': 'corr-structured-1' });
  assert.equal(a.status, 202);
  assert.deepEqual(a.body, { id: ev.id, source: 'urn:carrier/ups', status: 'accepted', links: { self: `/v1/events/${ev.id}?source=urn%3Acarrier%2Fups` } });
  assert.equal(a.headers.get('x-correlation-id'), 'corr-structured-1');
  const [row] = await stored(ev.id as string);
  assert.equal(row.key, 'SHP-S1', 'business key from the data');
  assert.equal(row.tenant_id, 'default');
  assert.equal(row.correlation_id, 'corr-structured-1');
  assert.equal(row.subject, 'scan');
  assert.equal(row.occurred_at.toISOString(), '2026-03-01T08:00:00.000Z', 'occurrence time from the data, in UTC');
  assert.deepEqual(row.data, ev.data);
});

test('binary mode: attributes in ce-* headers, extensions kept, percent-encoding undone', async () => {
  const ev = cloudEvent(TYPE, {}, { shipmentId: 'SHP-B1' });
  const headers = {
    'ce-specversion': '1.0',
    'ce-id': 'bin-1',
    'ce-source': 'urn:wms/%C3%A9ast',
    'ce-type': TYPE,
    'ce-time': '2026-03-01T10:00:00Z',
    'ce-partitionkey': 'order-42',
    'ce-tenant': 'acme',
    'ce-traceparent': '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  };
  // the default client belongs to tenant default: an event for tenant acme is not its to write
  assertProblem(await post(api, ev.data, 'application/json; charset=utf-8', headers), 403, 'auth.wrong_tenant');
  const acme = await api.client(['tracking:write'], 'acme');
  const a = await post(api, ev.data, 'application/json; charset=utf-8', { ...headers, authorization: `Bearer ${acme}` });
  assert.equal(a.status, 202, JSON.stringify(a.body));
  assert.equal(a.body.source, 'urn:wms/éast');
  const [row] = await stored('bin-1');
  assert.equal(row.key, 'order-42', 'the partitionkey extension wins over the data');
  assert.equal(row.tenant_id, 'acme');
  assert.equal(row.datacontenttype, 'application/json; charset=utf-8');
  assert.deepEqual(row.extensions, { partitionkey: 'order-42', tenant: 'acme', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
  assert.match(a.headers.get('x-correlation-id')!, /^[0-9a-f-]{36}$/, 'a generated correlation id');
  assert.equal(row.correlation_id, a.headers.get('x-correlation-id'));
});

test('batch: all stored in order, one answer per event', async () => {
  const events = [1, 2, 3].map((n) => cloudEvent(TYPE, { id: `batch-${n}` }, { shipmentId: 'SHP-BATCH' }));
  const a = await post(api, events, BATCH);
  assert.equal(a.status, 202);
  assert.equal(a.body.accepted, 3);
  assert.deepEqual(a.body.events.map((e: { id: string }) => e.id), ['batch-1', 'batch-2', 'batch-3']);
  assert.ok(a.body.events.every((e: { status: string }) => e.status === 'accepted'));
  const r = await api.pool.query(`select id from hub_events where key = 'SHP-BATCH' order by seq`);
  assert.deepEqual(r.rows.map((x) => x.id), ['batch-1', 'batch-2', 'batch-3']);
});

test('a duplicate (same source and id) gets the identical answer and is stored once', async () => {
  const ev = cloudEvent(TYPE, { id: 'dup-1' }, { shipmentId: 'SHP-DUP' });
  const first = await post(api, ev);
  const again = await post(api, { ...ev, data: { ...(ev.data as object), shipmentId: 'SHP-OTHER' } });
  assert.equal(first.status, 202);
  assert.equal(again.status, first.status);
  assert.deepEqual(again.body, first.body);
  const inBatch = await post(api, [ev, cloudEvent(TYPE, { id: 'dup-2' }), ev], BATCH);
  assert.equal(inBatch.status, 202);
  assert.deepEqual(inBatch.body.events[0], first.body);
  assert.deepEqual(inBatch.body.events[2], first.body);
  const r = await api.pool.query(`select count(*)::int n, min(key) k from hub_events where id = 'dup-1'`);
  assert.deepEqual(r.rows[0], { n: 1, k: 'SHP-DUP' });
  const sameIdOtherSource = await post(api, { ...ev, source: 'urn:test:other' });
  assert.equal(sameIdOtherSource.status, 202);
  assert.equal((await stored('dup-1')).length, 2, 'identity is source + id');
});

test('the correlationid extension is the correlation id of its event and of the answer', async () => {
  const ev = cloudEvent(TYPE, { id: 'corr-ext', correlationid: 'from-event' });
  const a = await post(api, ev, STRUCTURED, { 'x-correlation-id': 'from-header' });
  assert.equal(a.status, 202);
  assert.equal(a.headers.get('x-correlation-id'), 'from-event');
  assert.equal((await stored('corr-ext'))[0].correlation_id, 'from-event');
  const b = await post(api, [cloudEvent(TYPE, { id: 'corr-b1' }), cloudEvent(TYPE, { id: 'corr-b2', correlationid: 'own' })], BATCH, { 'x-correlation-id': 'batch-header' });
  assert.equal(b.headers.get('x-correlation-id'), 'batch-header');
  const r = await api.pool.query(`select id, correlation_id from hub_events where id like 'corr-b%' order by id`);
  assert.deepEqual(r.rows, [
    { id: 'corr-b1', correlation_id: 'batch-header' },
    { id: 'corr-b2', correlation_id: 'own' },
  ]);
});

// ----------------------------------------------------------------------------- bad input

interface BadCase {
  name: string;
  send: () => Promise<Answer>;
  status: number;
  code: string;
  index?: number;
  path?: string | RegExp;
}

const bin = (headers: Record<string, string>, data: unknown = cloudEvent(TYPE).data) =>
  post(api, data, 'application/json', { 'ce-specversion': '1.0', 'ce-id': 'b-bad', 'ce-source': 'urn:test', 'ce-type': TYPE, ...headers });
const without = (o: Record<string, unknown>, k: string) => Object.fromEntries(Object.entries(o).filter(([x]) => x !== k));
const batchWith = (i: number, bad: Record<string, unknown>) => Array.from({ length: 5 }, (_, n) => (n === i ? bad : cloudEvent(TYPE)));

const BAD: BadCase[] = [
  { name: 'malformed JSON', send: () => post(api, '{"specversion":"1.0",'), status: 400, code: 'request.malformed_json' },
  { name: 'malformed JSON in a batch', send: () => post(api, '[{"id":1},', BATCH), status: 400, code: 'request.malformed_json' },
  { name: 'invalid UTF-8', send: () => post(api, new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])), status: 400, code: 'request.malformed_json' },
  { name: 'empty structured body', send: () => post(api, ''), status: 400, code: 'request.malformed_json' },
  { name: 'text/plain', send: () => post(api, cloudEvent(TYPE), 'text/plain'), status: 415, code: 'request.unsupported_media_type' },
  { name: 'application/xml', send: () => post(api, '<event/>', 'application/xml'), status: 415, code: 'request.unsupported_media_type' },
  { name: 'no content type', send: () => post(api, cloudEvent(TYPE), null), status: 415, code: 'request.unsupported_media_type' },
  { name: 'a charset other than UTF-8', send: () => post(api, cloudEvent(TYPE), `${STRUCTURED}; charset=iso-8859-1`), status: 415, code: 'request.unsupported_media_type' },
  { name: 'a compressed body', send: () => post(api, cloudEvent(TYPE), STRUCTURED, { 'content-encoding': 'gzip' }), status: 415, code: 'request.unsupported_media_type' },
  { name: 'body over the size limit', send: () => post(api, cloudEvent(TYPE, {}, { notes: 'x'.repeat(20_000) })), status: 413, code: 'request.body_too_large' },
  { name: 'empty batch', send: () => post(api, [], BATCH), status: 400, code: 'batch.empty' },
  { name: 'batch over maxBatch', send: () => post(api, Array.from({ length: 6 }, () => cloudEvent(TYPE)), BATCH), status: 413, code: 'batch.too_large' },
  { name: 'batch that is not an array', send: () => post(api, cloudEvent(TYPE), BATCH), status: 400, code: 'batch.not_array' },
  { name: 'batch with a missing type at 3', send: () => post(api, batchWith(3, without(cloudEvent(TYPE), 'type')), BATCH), status: 400, code: 'event.missing_attribute', index: 3, path: '/3/type' },
  { name: 'batch with an unknown type at 2', send: () => post(api, batchWith(2, cloudEvent(TYPE, { type: 'shipment.teleported.v1' })), BATCH), status: 422, code: 'event.unknown_type', index: 2, path: '/2/type' },
  { name: 'batch with invalid data at 1', send: () => post(api, batchWith(1, cloudEvent(TYPE, {}, { shipmentId: 42 })), BATCH), status: 422, code: 'event.invalid_data', index: 1, path: '/1/data/shipmentId' },
  { name: 'batch with a non-object at 4', send: () => post(api, batchWith(4, 'event' as never), BATCH), status: 400, code: 'event.malformed', index: 4, path: '/4' },
  { name: 'missing id', send: () => post(api, without(cloudEvent(TYPE), 'id')), status: 400, code: 'event.missing_attribute', path: '/id' },
  { name: 'missing specversion', send: () => post(api, without(cloudEvent(TYPE), 'specversion')), status: 400, code: 'event.missing_attribute', path: '/specversion' },
  { name: 'specversion 0.3', send: () => post(api, cloudEvent(TYPE, { specversion: '0.3' })), status: 400, code: 'event.unsupported_specversion', path: '/specversion' },
  { name: 'empty source', send: () => post(api, cloudEvent(TYPE, { source: '' })), status: 400, code: 'event.invalid_attribute', path: '/source' },
  { name: 'numeric id', send: () => post(api, cloudEvent(TYPE, { id: 7 })), status: 400, code: 'event.invalid_attribute', path: '/id' },
  { name: 'NUL in the id', send: () => post(api, cloudEvent(TYPE, { id: 'a\u0000b' })), status: 400, code: 'event.invalid_attribute', path: '/id' },
  { name: 'an id over 256 bytes', send: () => post(api, cloudEvent(TYPE, { id: 'i'.repeat(257) })), status: 400, code: 'event.invalid_attribute', path: '/id' },
  { name: 'time not RFC 3339', send: () => post(api, cloudEvent(TYPE, { time: '2026-02-30T10:00:00Z' })), status: 400, code: 'event.invalid_attribute', path: '/time' },
  { name: 'upper-case extension name', send: () => post(api, cloudEvent(TYPE, { traceParent: 'x' })), status: 400, code: 'event.invalid_attribute', path: '/traceParent' },
  { name: 'extension name over 20 characters', send: () => post(api, cloudEvent(TYPE, { abcdefghijklmnopqrstu: 'x' })), status: 400, code: 'event.invalid_attribute', path: '/abcdefghijklmnopqrstu' },
  { name: 'extension value that is an object', send: () => post(api, cloudEvent(TYPE, { partitionkey: { a: 1 } })), status: 400, code: 'event.invalid_attribute', path: '/partitionkey' },
  { name: 'structured body that is an array', send: () => post(api, [cloudEvent(TYPE)]), status: 400, code: 'event.malformed' },
  { name: 'unknown event type', send: () => post(api, cloudEvent(TYPE, { type: 'shipment.teleported.v1' })), status: 422, code: 'event.unknown_type', path: '/type' },
  { name: 'data invalid for its type', send: () => post(api, cloudEvent(TYPE, {}, { shipmentId: 42 })), status: 422, code: 'event.invalid_data', path: '/data/shipmentId' },
  { name: 'no data', send: () => post(api, without(cloudEvent(TYPE), 'data')), status: 422, code: 'event.invalid_data', path: /^\/data/ },
  { name: 'NUL in the data', send: () => post(api, cloudEvent(TYPE, {}, { shipmentId: 'a\u0000' })), status: 422, code: 'event.invalid_data', path: '/data/shipmentId' },
  { name: 'non-JSON datacontenttype', send: () => post(api, cloudEvent(TYPE, { datacontenttype: 'application/xml' })), status: 415, code: 'event.unsupported_datacontenttype', path: '/datacontenttype' },
  { name: 'data_base64', send: () => post(api, { ...without(cloudEvent(TYPE), 'data'), data_base64: 'e30=' }), status: 415, code: 'event.unsupported_datacontenttype', path: '/data_base64' },
  { name: 'binary mode with an empty ce-id', send: () => bin({ 'ce-id': '' }), status: 400, code: 'event.invalid_attribute', path: 'ce-id' },
  { name: 'binary mode without any ce-* header', send: () => post(api, cloudEvent(TYPE).data, 'application/json'), status: 400, code: 'event.missing_attribute', path: 'ce-specversion' },
  { name: 'binary mode with a bad extension header', send: () => bin({ 'ce-trace_parent': 'x' }), status: 400, code: 'event.invalid_attribute', path: 'ce-trace_parent' },
  { name: 'binary mode with a bad percent-encoding', send: () => bin({ 'ce-subject': '%E9%' }), status: 400, code: 'event.invalid_attribute', path: 'ce-subject' },
  { name: 'binary mode with invalid data', send: () => bin({}, { shipmentId: 1 }), status: 422, code: 'event.invalid_data', path: /^\/data/ },
  { name: 'binary mode with malformed JSON', send: () => post(api, '{', 'application/json', { 'ce-id': 'x' }), status: 400, code: 'request.malformed_json' },
];

for (const c of BAD) {
  test(`bad input: ${c.name} -> ${c.status} ${c.code}, nothing stored`, async () => {
    const before = await countEvents(api.pool);
    const a = await c.send();
    assertProblem(a, c.status, c.code);
    if (c.index !== undefined) assert.equal(a.body.index, c.index);
    if (c.path !== undefined) {
      const paths: string[] = (a.body.issues ?? []).map((i: { path: string }) => i.path);
      assert.ok(paths.some((p) => (typeof c.path === 'string' ? p === c.path : c.path!.test(p))), `issues ${JSON.stringify(a.body.issues)} name ${c.path}`);
    }
    assert.equal(await countEvents(api.pool), before, 'nothing of the request is stored');
  });
}

test('back-pressure: past the backlog bound ingress answers 429 with Retry-After, reads still work', async () => {
  const tiny = await startApi({ pool: api.pool, ingress: { backlogLimit: 1, retryAfterSeconds: 7 } });
  await tiny.backlog.sample(); // no worker runs here: every stored event is backlog
  assert.ok(tiny.backlog.overloaded);
  const before = await countEvents(api.pool);
  const a = await post(tiny, cloudEvent(TYPE));
  assertProblem(a, 429, 'backlog.full');
  assert.equal(a.headers.get('retry-after'), '7');
  const malformed = await post(tiny, '{', STRUCTURED);
  assert.equal(malformed.status, 429, 'refused before the body is parsed');
  assert.equal(await countEvents(api.pool), before);
  assert.equal((await call(`${tiny.url}/healthz`)).status, 200);
  const metrics = (await call(`${tiny.url}/metrics`)).body as string;
  assert.match(metrics, /^hub_backpressure_rejections_total 2$/m);
  assert.match(metrics, /^hub_backlog_limit 1$/m);
  assert.match(metrics, /^hub_backlog\{queue="events"\} [1-9]\d*$/m);
});

test('ingress metrics count requests by mode and events by outcome', async () => {
  const metrics = (await call(`${api.url}/metrics`)).body as string;
  assert.match(metrics, /^hub_ingress_events_total\{outcome="stored"\} [1-9]\d*$/m);
  assert.match(metrics, /^hub_ingress_events_total\{outcome="duplicate"\} [1-9]\d*$/m);
  assert.match(metrics, /^hub_ingress_events_total\{outcome="rejected"\} [1-9]\d*$/m);
  assert.match(metrics, /^hub_ingress_requests_total\{mode="batch",status="202"\} [1-9]\d*$/m);
  assert.match(metrics, /^hub_ingress_requests_total\{mode="binary",status="202"\} [1-9]\d*$/m);
  assert.match(metrics, /^hub_ingress_requests_total\{mode="structured",status="415"\} [1-9]\d*$/m);
  assert.match(metrics, /^hub_http_request_duration_seconds_count\{method="POST",route="\/v1\/events",status="202"\} [1-9]\d*$/m);
});
