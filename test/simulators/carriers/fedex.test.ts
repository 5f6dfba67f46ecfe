/**
 * The FedEx simulator on the wire: token endpoint, Track API answers in FedEx's format (local
 * times with offsets, newest first, derived codes as live answers give them, NOTFOUND inside a
 * 200), documented error bodies, the admin API (shipments, script, clock, faults, stats) and
 * main.ts printing READY.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { FedexSimulator } from '../../../simulators/carriers/fedex/server.ts';

const sim = await FedexSimulator.start({ now: () => new Date('2026-07-01T12:00:00Z'), tokenTtlSeconds: 60 });
after(() => sim.stop());

const OFFSET_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/;
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(sim.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json, headers: res.headers };
}

async function token(): Promise<string> {
  const r = await post('/oauth/token', `grant_type=client_credentials&client_id=${sim.clientId}&client_secret=${sim.clientSecret}`, { 'content-type': 'application/x-www-form-urlencoded' });
  assert.equal(r.status, 200);
  return r.body.access_token as string;
}

async function track(numbers: string[], tok?: string): Promise<{ status: number; body: Json; headers: Headers }> {
  return post('/track/v1/trackingnumbers', { includeDetailedScans: true, trackingInfo: numbers.map((trackingNumber) => ({ trackingNumberInfo: { trackingNumber } })) }, { authorization: `Bearer ${tok ?? (await token())}`, 'x-customer-transaction-id': 'ctid-1' });
}

test('token endpoint: client credentials → bearer token; wrong secret and wrong grant refused', async () => {
  const ok = await post('/oauth/token', `grant_type=client_credentials&client_id=${sim.clientId}&client_secret=${sim.clientSecret}`, { 'content-type': 'application/x-www-form-urlencoded' });
  assert.deepEqual(Object.keys(ok.body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
  assert.equal(ok.body.token_type, 'bearer');
  assert.equal(ok.body.expires_in, 60);
  const bad = await post('/oauth/token', `grant_type=client_credentials&client_id=${sim.clientId}&client_secret=nope`, { 'content-type': 'application/x-www-form-urlencoded' });
  assert.equal(bad.status, 401);
  assert.equal(bad.body.errors[0].code, 'NOT.AUTHORIZED.ERROR');
  assert.equal((await post('/oauth/token', 'grant_type=password', { 'content-type': 'application/x-www-form-urlencoded' })).status, 400);
});

test('an expired token gets the documented 401 body', async () => {
  sim.reset();
  const tok = await token();
  sim.setClock('2026-07-01T12:01:01Z');
  const r = await track(['794600000001'], tok);
  assert.equal(r.status, 401);
  assert.deepEqual(r.body.errors, [{ code: 'NOT.AUTHORIZED.ERROR', message: 'Access token expired. Please modify your request and try again.' }]);
  assert.equal(typeof r.body.transactionId, 'string');
  assert.equal(r.body.customerTransactionId, 'ctid-1');
  sim.setClock(undefined);
});

test('a registered journey in FedEx wire format', async () => {
  sim.reset();
  const reg = await post('/__sim/script', { trackingNumber: '794600000123', start: '2026-06-28T10:00:00Z', failedFirstAttempt: true, signedBy: 'A.LEE' });
  assert.equal(reg.status, 201);
  const r = await track(['794600000123']);
  assert.equal(r.status, 200);
  assert.equal(r.body.customerTransactionId, 'ctid-1');
  const [c] = r.body.output.completeTrackResults;
  assert.equal(c.trackingNumber, '794600000123');
  const tr = c.trackResults[0];
  assert.equal(tr.trackingNumberInfo.trackingNumber, '794600000123');
  const scans = tr.scanEvents as Json[];
  assert.deepEqual(scans.map((s) => s.eventType), ['DL', 'OD', 'DE', 'OD', 'AR', 'IT', 'DP', 'AR', 'PU', 'OC'], 'newest first');
  for (const s of scans) assert.match(s.date, OFFSET_TIME);
  const times = scans.map((s) => Date.parse(s.date));
  assert.deepEqual([...times].sort((a, b) => b - a), times);
  const dl = scans[0]!;
  assert.equal(dl.date, '2026-07-01T04:00:00-07:00', 'Seattle in summer: PDT');
  assert.equal(scans.at(-2)!.date, '2026-06-28T12:00:00-04:00', 'Atlanta in summer: EDT');
  assert.equal(scans[1]!.derivedStatusCode, 'IT', 'OD derives to IT as on live answers');
  assert.equal(scans.at(-1)!.derivedStatusCode, 'IN');
  assert.equal(scans[2]!.exceptionCode, '08');
  assert.equal(tr.latestStatusDetail.code, 'DL');
  assert.equal(tr.deliveryDetails.signedByName, 'A.LEE');
  assert.equal(tr.deliveryDetails.deliveryAttempts, '1');
  assert.deepEqual(tr.availableImages, [{ type: 'SIGNATURE_PROOF_OF_DELIVERY' }]);
  for (const d of tr.dateAndTimes as Json[]) assert.match(d.dateTime, OFFSET_TIME);
  assert.deepEqual(tr.estimatedDeliveryTimeWindow, { window: {} }, 'no estimate once delivered');
});

test('in transit: the estimated window with begins without offset and ends with offset', async () => {
  sim.reset();
  await post('/__sim/script', { trackingNumber: '794600000124', start: '2026-06-30T08:00:00Z' });
  const tr = (await track(['794600000124'])).body.output.completeTrackResults[0].trackResults[0];
  assert.equal(tr.latestStatusDetail.code, 'IT');
  assert.match(tr.estimatedDeliveryTimeWindow.window.begins, LOCAL_TIME);
  assert.match(tr.estimatedDeliveryTimeWindow.window.ends, OFFSET_TIME);
  assert.equal(tr.estimatedDeliveryTimeWindow.window.ends, '2026-07-02T09:00:00-07:00');
});

test('unknown numbers: 200 with a per-number NOTFOUND error; bad requests: the documented 400s', async () => {
  sim.reset();
  const r = await track(['111111111111']);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.output.completeTrackResults[0].trackResults[0].error.code, 'TRACKING.TRACKINGNUMBER.NOTFOUND');
  const tok = await token();
  const empty = await post('/track/v1/trackingnumbers', { includeDetailedScans: true, trackingInfo: [] }, { authorization: `Bearer ${tok}` });
  assert.equal(empty.status, 400);
  assert.equal(empty.body.errors[0].code, 'TRACKING.TRACKINGNUMBER.EMPTY');
  const many = await track(Array.from({ length: 31 }, (_, i) => String(100000000000 + i)), tok);
  assert.equal(many.status, 400);
  const notJson = await post('/track/v1/trackingnumbers', '{', { authorization: `Bearer ${tok}` });
  assert.equal(notJson.status, 400);
  const nowhere = await post('/track/v2/nothing', {}, { authorization: `Bearer ${tok}` });
  assert.equal(nowhere.status, 404);
  assert.equal(nowhere.body.errors[0].code, 'NOT.FOUND.ERROR');
});

test('multi-piece: the master says hasAssociatedShipments; associatedshipments lists the children', async () => {
  sim.reset();
  const reg = await post('/__sim/script', { trackingNumber: '794600000200', start: '2026-06-28T13:00:00Z', pieces: 3 });
  const pieces = reg.body.pieces as string[];
  assert.equal(pieces.length, 2);
  const master = (await track(['794600000200'])).body.output.completeTrackResults[0].trackResults[0];
  assert.equal(master.additionalTrackingInfo.hasAssociatedShipments, true);
  assert.equal(master.packageDetails.count, '3');
  const tok = await token();
  const a = await post('/track/v1/associatedshipments', { includeDetailedScans: true, associatedType: 'STANDARD_MPS', masterTrackingNumberInfo: { trackingNumberInfo: { trackingNumber: '794600000200' } } }, { authorization: `Bearer ${tok}` });
  assert.equal(a.status, 200);
  assert.deepEqual(a.body.output.completeTrackResults.map((c: Json) => c.trackingNumber), pieces);
  const child = (await track([pieces[0]!], tok)).body.output.completeTrackResults[0].trackResults[0];
  assert.equal(child.packageDetails.sequenceNumber, '2');
  const wrongType = await post('/track/v1/associatedshipments', { associatedType: 'NOPE', masterTrackingNumberInfo: { trackingNumberInfo: { trackingNumber: '794600000200' } } }, { authorization: `Bearer ${tok}` });
  assert.equal(wrongType.body.errors[0].code, 'TRACKING.REFERENCETYPE.INVALID');
});

test('admin: shipments are validated; events after the clock are hidden until the clock moves', async () => {
  sim.reset();
  const bad = [
    { trackingNumber: '794600000300', events: [{ code: 'XX', at: '2026-06-30T10:00:00Z' }] },
    { trackingNumber: '794600000300', events: [{ code: 'PU', at: '2026-06-30 10:00' }] },
    { trackingNumber: '794600000300', events: [{ code: 'PU', at: '2026-06-30T10:00:00Z', location: { city: 'DALLAS', region: 'TX', countryCode: 'US' } }] },
    { trackingNumber: '794600000300', events: [{ code: 'PU', at: '2026-06-30T10:00:00Z', piece: '794600000399' }] },
    { trackingNumber: '1', events: [] },
  ];
  for (const b of bad) {
    const r = await post('/__sim/shipments', b);
    assert.equal(r.status, 400, JSON.stringify(b));
    assert.equal(typeof r.body.error, 'string');
  }
  const ok = await post('/__sim/shipments', {
    trackingNumber: '794600000300',
    events: [
      { code: 'PU', at: '2026-06-30T10:00:00Z', location: { city: 'DALLAS', region: 'TX', countryCode: 'US', timeZone: 'America/Chicago' } },
      { code: 'DL', at: '2026-07-02T10:00:00Z', location: { city: 'BERLIN', countryCode: 'DE' }, signedBy: 'M.MUELLER' },
    ],
  });
  assert.equal(ok.status, 201);
  let tr = (await track(['794600000300'])).body.output.completeTrackResults[0].trackResults[0];
  assert.deepEqual(tr.scanEvents.map((s: Json) => [s.eventType, s.date]), [['PU', '2026-06-30T05:00:00-05:00']]);
  const clock = await post('/__sim/clock', { now: '2026-07-03T00:00:00Z' });
  assert.equal(clock.body.now, '2026-07-03T00:00:00.000Z');
  tr = (await track(['794600000300'])).body.output.completeTrackResults[0].trackResults[0];
  assert.deepEqual(tr.scanEvents[0].date, '2026-07-02T12:00:00+02:00');
  await post('/__sim/clock', { now: null });
});

test('admin: faults over HTTP (429 with Retry-After, 5xx, duplicates), stats, reset', async () => {
  sim.reset();
  await post('/__sim/script', { trackingNumber: '794600000400', start: '2026-06-28T13:00:00Z' });
  const tok = await token();
  assert.equal((await post('/__sim/faults', { bogus: 1 })).status, 400);
  await post('/__sim/faults', { rateLimit: { count: 1, retryAfterSeconds: 3 } });
  const limited = await track(['794600000400'], tok);
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get('retry-after'), '3');
  assert.equal(limited.body.errors[0].code, 'TOO.MANY.REQUESTS.ERROR');
  await post('/__sim/faults', { status5xx: { count: 1 } });
  const failed = await track(['794600000400'], tok);
  assert.equal(failed.status, 500);
  assert.equal(failed.body.errors[0].code, 'INTERNAL.SERVER.ERROR');
  await post('/__sim/faults', { duplicateEvents: true });
  const dup = (await track(['794600000400'], tok)).body.output.completeTrackResults[0].trackResults[0].scanEvents;
  assert.equal(dup.length, 16);
  const cleared = await fetch(`${sim.url}/__sim/faults`, { method: 'DELETE' });
  assert.deepEqual(await cleared.json(), { faults: {} });
  const stats = (await (await fetch(`${sim.url}/__sim/stats`)).json()) as Json;
  assert.equal(stats.calls.trackingnumbers, 3);
  assert.equal(stats.calls.token, 1);
  const listed = (await (await fetch(`${sim.url}/__sim/shipments`)).json()) as Json;
  assert.equal(listed.shipments[0].trackingNumber, '794600000400');
  await post('/__sim/reset', {});
  assert.equal(sim.shipments.size, 0);
});

test('main.ts prints READY <url> and serves', async () => {
  const child = spawn(process.execPath, ['simulators/carriers/fedex/main.ts'], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const m = /^READY (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
    assert.ok(m, line);
    const res = await fetch(`${m[1]}/__sim/stats`);
    assert.equal(res.status, 200);
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
});
