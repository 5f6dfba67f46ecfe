import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BusinessError, PermanentError, TransientError } from '../../src/domain/errors.ts';
import type { Handler } from '../../src/pipeline/types.ts';
import { testWorker } from '../helpers/pipeline.ts';
import { BATCH, assertProblem, call, cloudEvent, post, startApi } from './harness.ts';

const api = await startApi();
const TYPE = 'shipment.tracking.v1';

/** Fails by event id prefix; `fixed` makes the permanent failures succeed (for replays). */
let fixed = false;
const handler: Handler = {
  name: 'test.api',
  matches: () => true,
  async handle(e) {
    if (e.id.startsWith('perm-') && !fixed) throw new PermanentError({ code: e.id.startsWith('perm-sku') ? 'mapping.missing_sku' : 'mapping.bad_unit', message: `cannot map ${e.id}` });
    if (e.id.startsWith('trans-')) throw new TransientError({ code: 'odoo.timeout', message: 'Odoo timed out' });
    if (e.id.startsWith('biz-')) throw new BusinessError({ code: 'carrier.rejected', message: 'the carrier refused the booking' });
  },
};
const { worker } = testWorker(api.pool, [handler]);

const get = (path: string) => call(`${api.url}${path}`);
async function ingestAll(events: Record<string, unknown>[]) {
  const a = await post(api, events, BATCH);
  assert.equal(a.status, 202, JSON.stringify(a.body));
}

await ingestAll([
  cloudEvent(TYPE, { id: 'ok-1' }, { shipmentId: 'SHP-OK' }),
  cloudEvent(TYPE, { id: 'perm-sku-1' }, { shipmentId: 'SHP-P1' }),
  cloudEvent(TYPE, { id: 'perm-sku-2' }, { shipmentId: 'SHP-P2' }),
  cloudEvent(TYPE, { id: 'perm-unit-1', source: 'urn:test:wms' }, { shipmentId: 'SHP-P3' }),
  cloudEvent(TYPE, { id: 'trans-1' }, { shipmentId: 'SHP-TR' }),
  cloudEvent(TYPE, { id: 'biz-1' }, { shipmentId: 'SHP-BIZ' }),
]);
await worker.drain();

test('GET /v1/events/{id}: a handled event with its history', async () => {
  const a = await get('/v1/events/ok-1');
  assert.equal(a.status, 200);
  assert.equal(a.body.status, 'done');
  assert.equal(a.body.key, 'SHP-OK');
  assert.equal(a.body.tenant, 'default');
  assert.equal(a.body.event.id, 'ok-1');
  assert.equal(a.body.event.specversion, '1.0');
  assert.equal(a.body.event.type, TYPE);
  assert.equal(a.body.event.data.shipmentId, 'SHP-OK');
  assert.equal(typeof a.body.seq, 'number');
  assert.ok(!Number.isNaN(Date.parse(a.body.receivedAt)));
  assert.equal(a.body.history.length, 1);
  assert.deepEqual({ ...a.body.history[0], startedAt: undefined, finishedAt: undefined }, {
    attempt: 1, outcome: 'done', worker: 'test-worker', errorClass: null, errorCode: null, errorMessage: null, startedAt: undefined, finishedAt: undefined,
  });
  assert.equal(a.body.deadLetter, null);
  assert.equal(a.body.links.timeline, '/v1/timeline/SHP-OK');
});

test('GET /v1/events/{id}: dead, retrying, business exception and pending states', async () => {
  const dead = await get('/v1/events/perm-sku-1');
  assert.equal(dead.body.status, 'dead');
  assert.equal(dead.body.deadLetter.errorCode, 'mapping.missing_sku');
  assert.equal(dead.body.deadLetter.errorClass, 'permanent');
  assert.equal(dead.body.history[0].outcome, 'dead');
  const retrying = await get('/v1/events/trans-1');
  assert.equal(retrying.body.status, 'retrying');
  assert.deepEqual(retrying.body.history.map((h: { outcome: string; errorCode: string }) => `${h.outcome}/${h.errorCode}`), ['retry/odoo.timeout']);
  const biz = await get('/v1/events/biz-1');
  assert.equal(biz.body.status, 'done');
  assert.equal(biz.body.history[0].outcome, 'exception');
  await ingestAll([cloudEvent(TYPE, { id: 'later-1' }, { shipmentId: 'SHP-LATER' })]);
  assert.equal((await get('/v1/events/later-1')).body.status, 'pending');
});

test('GET /v1/events/{id}: 404, and 409 when several sources used the id unless ?source= names one', async () => {
  assertProblem(await get('/v1/events/nope'), 404, 'event.not_found');
  await ingestAll([cloudEvent(TYPE, { id: 'twice', source: 'urn:a' }), cloudEvent(TYPE, { id: 'twice', source: 'urn:b/c' })]);
  const amb = await get('/v1/events/twice');
  assertProblem(amb, 409, 'event.ambiguous_id');
  const one = await get('/v1/events/twice?source=urn%3Ab%2Fc');
  assert.equal(one.status, 200);
  assert.equal(one.body.event.source, 'urn:b/c');
  assert.equal(one.body.links.self, '/v1/events/twice?source=urn%3Ab%2Fc');
  assertProblem(await get('/v1/events/twice?source=urn:z'), 404, 'event.not_found');
});

test('GET /v1/timeline/{key}: occurrence order although the events arrived out of order, paginated', async () => {
  const at = (h: number) => `2026-03-02T${String(h).padStart(2, '0')}:00:00Z`;
  // arrival order: 3, 1, 2b, 2a (2a and 2b share a time: inbox order decides)
  for (const [id, h] of [['tl-3', 3], ['tl-1', 1], ['tl-2b', 2], ['tl-2a', 2]] as const) {
    assert.equal((await post(api, cloudEvent(TYPE, { id }, { shipmentId: 'SHP-TL', occurredAt: at(h) }))).status, 202);
  }
  await ingestAll([cloudEvent(TYPE, { id: 'biz-tl' }, { shipmentId: 'SHP-TL', occurredAt: at(0) })]);
  await worker.drain();
  await api.pool.query(`insert into hub_lifecycles (key, kind, state, state_at, snapshot) values ('SHP-TL', 'order', 'in_transit', $1, '{}')`, [at(3)]);

  const all = await get('/v1/timeline/SHP-TL');
  assert.equal(all.status, 200);
  assert.deepEqual(all.body.events.map((e: { id: string }) => e.id), ['biz-tl', 'tl-1', 'tl-2b', 'tl-2a', 'tl-3']);
  assert.equal(all.body.events[1].occurredAt, '2026-03-02T01:00:00.000Z');
  assert.equal(all.body.events[0].lastOutcome, 'exception');
  assert.equal(all.body.events[1].status, 'done');
  assert.deepEqual(all.body.lifecycles.map((l: { kind: string; state: string }) => `${l.kind}:${l.state}`), ['order:in_transit']);
  assert.deepEqual(all.body.exceptions.map((x: { code: string }) => x.code), ['carrier.rejected']);
  assert.equal(all.body.nextCursor, null);

  const seen: string[] = [];
  let next: string | undefined = '/v1/timeline/SHP-TL?limit=2';
  while (next) {
    const page = await get(next);
    assert.equal(page.status, 200);
    assert.ok(page.body.events.length <= 2);
    seen.push(...page.body.events.map((e: { id: string }) => e.id));
    next = page.body.links.next;
  }
  assert.deepEqual(seen, ['biz-tl', 'tl-1', 'tl-2b', 'tl-2a', 'tl-3']);

  assertProblem(await get('/v1/timeline/SHP-NOTHING'), 404, 'timeline.not_found');
  assertProblem(await get('/v1/timeline/SHP-TL?cursor=garbage'), 400, 'request.invalid_cursor');
  assertProblem(await get('/v1/timeline/SHP-TL?limit=0'), 400, 'request.invalid');
});

test('GET /v1/dead-letters: filters, pagination, payload on request', async () => {
  const ids = (a: { body: { items: { eventId: string }[] } }) => a.body.items.map((d) => d.eventId).sort();
  const all = await get('/v1/dead-letters');
  assert.equal(all.status, 200);
  assert.deepEqual(ids(all), ['perm-sku-1', 'perm-sku-2', 'perm-unit-1']);
  const sku1 = all.body.items.find((d: { eventId: string }) => d.eventId === 'perm-sku-1');
  assert.equal(sku1.payload, undefined, 'no payload unless asked');
  assert.match(sku1.reason, /cannot map perm-sku-1/);
  assert.equal(sku1.attempts, 1);
  assert.equal(sku1.errorClass, 'permanent');

  const bySku = await get('/v1/dead-letters?errorCode=mapping.missing_sku&include=payload');
  assert.deepEqual(ids(bySku), ['perm-sku-1', 'perm-sku-2']);
  assert.ok(bySku.body.items.every((d: { payload: { shipmentId: string } }) => /^SHP-P[12]$/.test(d.payload.shipmentId)));
  assert.deepEqual(ids(await get('/v1/dead-letters?source=urn:test:wms')), ['perm-unit-1']);
  assert.deepEqual(ids(await get('/v1/dead-letters?key=SHP-P2&errorClass=permanent&status=open')), ['perm-sku-2']);
  assert.equal((await get(`/v1/dead-letters?type=${TYPE}&from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z`)).body.items.length, 3);
  assert.equal((await get('/v1/dead-letters?to=2000-01-01T00:00:00Z')).body.items.length, 0);

  const p1 = await get('/v1/dead-letters?limit=2');
  assert.equal(p1.body.items.length, 2);
  assert.ok(p1.body.nextCursor);
  const p2 = await get(p1.body.links.next);
  assert.equal(p2.body.items.length, 1);
  assert.equal(p2.body.nextCursor, null);
  assert.deepEqual([...ids(p1), ...ids(p2)].sort(), ids(all));

  assertProblem(await get('/v1/dead-letters?status=lost'), 400, 'request.invalid');
  assertProblem(await get('/v1/dead-letters?from=yesterday'), 400, 'request.invalid');
  assertProblem(await get('/v1/dead-letters?bogus=1'), 400, 'request.invalid');
  assertProblem(await get('/v1/dead-letters?cursor=eyJhIjotMX0'), 400, 'request.invalid_cursor');

  const one = await get(`/v1/dead-letters/${sku1.id}`);
  assert.equal(one.status, 200);
  assert.equal(one.body.payload.shipmentId, 'SHP-P1');
  assert.equal(one.body.links.event, '/v1/events/perm-sku-1?source=urn%3Atest%3Aapi');
  assertProblem(await get('/v1/dead-letters/999999'), 404, 'dead_letter.not_found');
  assertProblem(await get('/v1/dead-letters/abc'), 400, 'request.invalid');
});

test('POST /v1/dead-letters/replay: by filter, with progress; empty filters and bad ranges are refused', async () => {
  const replay = (body: unknown) => call(`${api.url}/v1/dead-letters/replay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const empty = await replay({});
  assertProblem(empty, 400, 'replay.filter_required');
  assertProblem(await replay({ from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }), 400, 'replay.bad_range');
  assertProblem(await replay({ errorCod: 'typo' }), 400, 'request.invalid');
  assertProblem(await replay({ ids: ['x'] }), 400, 'request.invalid');
  assertProblem(await call(`${api.url}/v1/dead-letters/replay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }), 400, 'request.malformed_json');
  assertProblem(await call(`${api.url}/v1/dead-letters/replay`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' }), 415, 'request.unsupported_media_type');

  const accepted = await replay({ errorCode: 'mapping.missing_sku' });
  assert.equal(accepted.status, 202);
  assert.equal(accepted.body.total, 2);
  assert.equal(accepted.body.links.progress, `/v1/replays/${accepted.body.replayId}`);
  const before = await get(accepted.body.links.progress);
  assert.deepEqual({ ...before.body, links: undefined }, { replayId: accepted.body.replayId, total: 2, replaying: 2, replayed: 0, failed: 0, done: false, links: undefined });
  assert.equal((await get('/v1/events/perm-sku-1')).body.status, 'retrying');

  fixed = true;
  await worker.drain();
  const after = await get(accepted.body.links.progress);
  assert.equal(after.body.replayed, 2);
  assert.equal(after.body.done, true);
  const ev = await get('/v1/events/perm-sku-1');
  assert.equal(ev.body.status, 'done');
  assert.deepEqual(ev.body.history.map((h: { outcome: string }) => h.outcome), ['dead', 'replayed']);

  const byTime = await replay({ from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' });
  assert.equal(byTime.body.total, 1, 'only the open dead letter is left');
  const byId = await replay({ ids: [999999] });
  assert.equal(byId.body.total, 0);
  assertProblem(await get('/v1/replays/999999'), 404, 'replay.not_found');
});

test('GET /v1/events/{id}: the CloudEvents time as sent, the occurrence time from the data', async () => {
  await ingestAll([cloudEvent(TYPE, { id: 'times-1', time: '2026-03-04T12:00:00Z' }, { shipmentId: 'SHP-T', occurredAt: '2026-03-04T03:10:00-08:00' })]);
  const a = await get('/v1/events/times-1');
  assert.equal(a.status, 200);
  assert.equal(a.body.event.time, '2026-03-04T12:00:00.000Z', 'the attribute as the producer sent it (in UTC)');
  assert.equal(a.body.occurredAt, '2026-03-04T11:10:00.000Z', 'the scan time of the data, with its offset applied');
});
