/**
 * Contract tests: the FedEx adapter against the FedEx simulator over real HTTP on 127.0.0.1.
 * Happy path, time moving forward, multi-piece, unknown numbers, batching, 429 with
 * Retry-After, 5xx, connection refused, timeout, expired and revoked tokens, bad credentials,
 * duplicated and shuffled events.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { HubError } from '../../../src/domain/errors.ts';
import { FakeClock } from '../../../src/platform/clock.ts';
import type { CarrierScan } from '../../../src/domain/tracking.ts';
import { createFedexCarrier, resolveFedexConfig } from '../../../src/connectors/fedex/index.ts';
import { FedexSimulator } from '../../../simulators/carriers/fedex/server.ts';

const simClock = new FakeClock('2026-03-10T12:00:00Z');
const sim = await FedexSimulator.start({ now: () => simClock.now(), tokenTtlSeconds: 3599 });
after(() => sim.stop());

function carrier(extra: Record<string, unknown> = {}) {
  const clock = new FakeClock('2026-03-10T12:00:00Z');
  const port = createFedexCarrier({ baseUrl: sim.url, clientId: sim.clientId, secretName: 'fedex-secret', clientSecret: sim.clientSecret, clock, timeoutMs: 2000, ...extra });
  return { port, clock, track: (ns: string[]) => port.track!(ns) };
}

function fresh(): void {
  sim.reset();
  simClock.set('2026-03-10T12:00:00Z');
}

const rejectsWith = async (p: Promise<unknown>, code: string, cls: string) => {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof HubError, String(e));
    assert.equal(e.code, code);
    assert.equal(e.errorClass, cls);
    return true;
  });
};

const scanKey = (s: CarrierScan) => JSON.stringify([s.trackingNumber, s.pieceNumber ?? null, s.code, s.occurredAt]);

test('happy path: a delivered journey, local times with their offsets, proof of delivery', async () => {
  fresh();
  const s = sim.script({ start: '2026-03-02T14:00:00Z', signedBy: 'K.KING' });
  const { track } = carrier();
  const [r] = await track([s.trackingNumber]);
  assert.equal(r!.trackingNumber, s.trackingNumber);
  assert.equal(r!.notFound, undefined);
  assert.deepEqual(r!.scans.map((x) => x.code), ['DL', 'OD', 'AR', 'IT', 'DP', 'AR', 'PU', 'OC']);
  assert.deepEqual(r!.scans.map((x) => x.status), ['delivered', 'out_for_delivery', 'in_transit', 'in_transit', 'in_transit', 'in_transit', 'picked_up', 'info_received']);
  const dl = r!.scans[0]!;
  assert.equal(dl.occurredAt, '2026-03-04T16:00:00.000Z');
  assert.equal(dl.localTime, '2026-03-04T08:00:00', 'Seattle, -08:00 before the DST change');
  assert.equal(dl.timeRule, 'offset');
  assert.equal(dl.signedBy, 'K.KING');
  assert.ok(dl.podReference);
  assert.equal(dl.pieceNumber, undefined, 'a single-piece shipment has no piece numbers');
  const pu = r!.scans.find((x) => x.code === 'PU')!;
  assert.equal(pu.localTime, '2026-03-02T15:00:00', 'Atlanta, -05:00');
  assert.equal(pu.occurredAt, '2026-03-02T20:00:00.000Z');
});

test('time moves forward: future events stay hidden; the estimate rides on the latest scan', async () => {
  fresh();
  simClock.set('2026-03-01T00:00:00Z');
  const s = sim.script({ start: '2026-03-02T14:00:00Z' });
  const { track } = carrier();
  assert.deepEqual(await track([s.trackingNumber]), [{ trackingNumber: s.trackingNumber, scans: [], notFound: true }], 'no event yet: FedEx does not know it');
  simClock.set('2026-03-03T17:00:00Z');
  const [r] = await track([s.trackingNumber]);
  assert.deepEqual(r!.scans.map((x) => x.code), ['IT', 'DP', 'AR', 'PU', 'OC'], '27 h after the start');
  assert.equal(r!.scans[0]!.estimatedDeliveryAt, '2026-03-04T22:00:00.000Z', 'window ends start+56h');
  assert.equal(r!.scans[1]!.estimatedDeliveryAt, undefined);
  simClock.set('2026-03-06T00:00:00Z');
  const [done] = await track([s.trackingNumber]);
  assert.equal(done!.scans[0]!.status, 'delivered');
  assert.ok(done!.scans.every((x) => x.estimatedDeliveryAt === undefined));
});

test('failed first attempt: DE with its exception code, then delivered the next day', async () => {
  fresh();
  const s = sim.script({ start: '2026-03-02T14:00:00Z', failedFirstAttempt: true });
  const [r] = await carrier().track([s.trackingNumber]);
  const de = r!.scans.find((x) => x.code.startsWith('DE'))!;
  assert.equal(de.code, 'DE:08');
  assert.equal(de.status, 'delivery_failed');
  assert.equal(de.exceptionClass, 'delivery_failed');
  assert.equal(r!.scans[0]!.status, 'delivered');
  assert.equal(r!.scans.filter((x) => x.code === 'OD').length, 2);
});

test('multi-piece: the master and every child piece, each scan with its piece number', async () => {
  fresh();
  const s = sim.script({ start: '2026-03-02T14:00:00Z', pieces: 3 });
  const [r] = await carrier().track([s.trackingNumber]);
  const byPiece = new Map<string, CarrierScan[]>();
  for (const x of r!.scans) {
    assert.equal(x.trackingNumber, s.trackingNumber);
    byPiece.set(x.pieceNumber!, [...(byPiece.get(x.pieceNumber!) ?? []), x]);
  }
  assert.deepEqual([...byPiece.keys()].sort(), [s.trackingNumber, ...s.pieces].sort());
  for (const scans of byPiece.values()) assert.equal(scans.length, 8);
  assert.equal(sim.calls.get('associatedshipments'), 1);
  const single = await carrier({ trackPieces: false }).track([s.trackingNumber]);
  assert.ok(single[0]!.scans.every((x) => x.pieceNumber === s.trackingNumber));
});

test('unknown numbers are notFound, in the order asked, duplicates answered once', async () => {
  fresh();
  const s = sim.script({ start: '2026-03-02T14:00:00Z' });
  const r = await carrier().track(['111111111111', s.trackingNumber, '111111111111']);
  assert.deepEqual(r.map((x) => [x.trackingNumber, x.notFound ?? false]), [['111111111111', true], [s.trackingNumber, false], ['111111111111', true]]);
  assert.equal(sim.calls.get('trackingnumbers'), 1);
});

test('batches of at most 30 numbers per request', async () => {
  fresh();
  const numbers = Array.from({ length: 61 }, (_, i) => String(500000000000 + i));
  const r = await carrier().track(numbers);
  assert.equal(r.length, 61);
  assert.ok(r.every((x) => x.notFound));
  assert.equal(sim.calls.get('trackingnumbers'), 3);
  assert.equal(sim.calls.get('token'), 1, 'one token for all batches');
});

test('429 → TransientError fedex.rate_limited with the Retry-After delay', async () => {
  fresh();
  sim.setFaults({ rateLimit: { count: 1, retryAfterSeconds: 7 } });
  const { track } = carrier();
  await assert.rejects(track(['794600000001']), (e: unknown) => e instanceof HubError && e.code === 'fedex.rate_limited' && e.errorClass === 'transient' && e.retryAfterMs === 7000 && e.status === 503);
  assert.equal((await track(['794600000001']))[0]!.notFound, true, 'the next call goes through');
});

test('5xx → TransientError fedex.unavailable', async () => {
  fresh();
  const { track } = carrier();
  sim.setFaults({ status5xx: { count: 2, status: 503 } });
  for (let i = 0; i < 2; i++) {
    await assert.rejects(track(['794600000001']), (e: unknown) => e instanceof HubError && e.code === 'fedex.unavailable' && e.errorClass === 'transient' && e.extra?.httpStatus === 503 && e.extra?.fedexCode === 'SERVICE.UNAVAILABLE.ERROR');
  }
  sim.setFaults({ status5xx: { count: 1 } });
  await assert.rejects(track(['794600000001']), (e: unknown) => e instanceof HubError && e.code === 'fedex.unavailable' && e.extra?.httpStatus === 500);
  assert.equal((await track(['794600000001']))[0]!.notFound, true, 'the fault is spent');
});

test('down → TransientError fedex.unavailable (connection refused); back up, it works', async () => {
  fresh();
  const { track } = carrier();
  sim.setFaults({ down: { forMs: 60_000 } });
  const deadline = Date.now() + 5000;
  while (sim.isUp && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  await rejectsWith(track(['794600000001']), 'fedex.unavailable', 'transient');
  await sim.up();
  assert.equal((await track(['794600000001']))[0]!.notFound, true);
});

test('no answer within timeoutMs → TransientError fedex.timeout', async () => {
  fresh();
  sim.setFaults({ latencyMs: 400 });
  await rejectsWith(carrier({ timeoutMs: 100 }).track(['794600000001']), 'fedex.timeout', 'transient');
  sim.clearFaults();
});

test('token: cached, renewed before expiry by the clock, refreshed once on a 401', async () => {
  fresh();
  const s = sim.script({ start: '2026-03-02T14:00:00Z' });
  const { track, clock } = carrier({ tokenRefreshMarginSeconds: 60 });
  await track([s.trackingNumber]);
  await track([s.trackingNumber]);
  assert.equal(sim.calls.get('token'), 1, 'cached');
  clock.advance(3540_000);
  await track([s.trackingNumber]);
  assert.equal(sim.calls.get('token'), 2, 'renewed inside the margin');
  // revoked (or expired by FedEx's clock) while ours says valid: 401, a new token, one retry
  sim.expireTokens();
  const before = sim.calls.get('trackingnumbers')!;
  const [r] = await track([s.trackingNumber]);
  assert.equal(r!.scans[0]!.status, 'delivered');
  assert.equal(sim.calls.get('token'), 3);
  assert.equal(sim.calls.get('trackingnumbers'), before + 2);
  // FedEx's clock ahead of ours: the token expires on its side first
  simClock.advance(3600_000);
  const [again] = await track([s.trackingNumber]);
  assert.equal(again!.scans[0]!.status, 'delivered');
  assert.equal(sim.calls.get('token'), 4);
});

test('a 401 that persists after a fresh token is fedex.unauthorized; bad credentials fedex.invalid_credentials', async () => {
  fresh();
  await rejectsWith(createFedexCarrier({ baseUrl: sim.url, clientId: sim.clientId, secretName: 'x', clientSecret: 'wrong' }).track!(['794600000001']), 'fedex.invalid_credentials', 'permanent');
  // a FedEx whose tokens are dead on arrival: 401, new token, 401 again → no third try
  const deadTokens = await FedexSimulator.start({ now: () => simClock.now(), tokenTtlSeconds: 0 });
  try {
    const port = createFedexCarrier({ baseUrl: deadTokens.url, clientId: deadTokens.clientId, secretName: 'x', clientSecret: deadTokens.clientSecret });
    await rejectsWith(port.track!(['794600000001']), 'fedex.unauthorized', 'permanent');
    assert.equal(deadTokens.calls.get('token'), 2);
    assert.equal(deadTokens.calls.get('trackingnumbers'), 2);
  } finally {
    await deadTokens.stop();
  }
});

test('duplicated and shuffled events give the same set of scans', async () => {
  fresh();
  const s = sim.script({ start: '2026-03-02T14:00:00Z', pieces: 2, failedFirstAttempt: true });
  const { track } = carrier();
  const clean = (await track([s.trackingNumber]))[0]!.scans;
  sim.setFaults({ duplicateEvents: true, shuffleEvents: true });
  const noisy = (await track([s.trackingNumber]))[0]!.scans;
  sim.clearFaults();
  assert.equal(noisy.length, clean.length * 2, 'the adapter does not de-duplicate');
  assert.deepEqual(new Set(noisy.map(scanKey)), new Set(clean.map(scanKey)));
  for (const n of noisy) {
    const c = clean.find((x) => scanKey(x) === scanKey(n))!;
    assert.deepEqual(n, c);
  }
});

test('bad input and bad configuration are refused before any call', async () => {
  fresh();
  await rejectsWith(carrier().track(['']), 'fedex.invalid_request', 'permanent');
  await rejectsWith(carrier().track(['12 34']), 'fedex.invalid_request', 'permanent');
  assert.equal(sim.totalCalls, 0);
  assert.deepEqual(await carrier().track([]), []);
  assert.throws(() => resolveFedexConfig({ clientId: 'a', secretName: 'b', batchSize: 31 }), /batchSize/);
  assert.throws(() => resolveFedexConfig({ clientId: 'a', secretName: 'b', assumedTimeZone: 'Mars/Olympus' }), /assumedTimeZone/);
  assert.throws(() => resolveFedexConfig({ secretName: 'b' }), /clientId/);
  assert.deepEqual(
    { ...resolveFedexConfig({ clientId: 'a', secretName: 'b' }) },
    { baseUrl: 'https://apis.fedex.com', clientId: 'a', secretName: 'b', timeoutMs: 15000, batchSize: 30, locale: 'en_US', assumedTimeZone: 'America/Chicago', tokenRefreshMarginSeconds: 60, trackPieces: true },
  );
});
