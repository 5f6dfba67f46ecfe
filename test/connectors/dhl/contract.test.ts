/**
 * Contract tests: the DHL adapter against the DHL simulator over real HTTP on 127.0.0.1.
 * Time moves by setting the simulator's clock; faults are injected through the simulator.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { HubError, PermanentError, TransientError } from '../../../src/domain/errors.ts';
import { createDhlCarrier, type DhlCarrierOptions } from '../../../src/connectors/dhl/index.ts';
import type { CarrierPort, TrackResult } from '../../../src/connectors/carrier-port.ts';
import { DhlSimulator } from '../../../simulators/carriers/dhl/server.ts';

const START = '2026-03-02T08:00:00Z';
const at = (hours: number) => new Date(Date.parse(START) + hours * 3_600_000);
let now = at(0);
let sim: DhlSimulator;

before(async () => {
  sim = await DhlSimulator.start({ now: () => now, apiKeys: ['key-1'] });
});
after(async () => {
  await sim.stop();
});
beforeEach(() => {
  sim.reset();
  sim.setApiKeys(['key-1']);
  now = at(0);
});

const carrier = (o: Partial<DhlCarrierOptions> = {}): CarrierPort =>
  createDhlCarrier({ baseUrl: sim.url, secretName: 'dhl-key', language: 'en', defaultTimeZone: 'Europe/Berlin', timeoutMs: 2000, concurrency: 2, apiKey: 'key-1', ...o });

async function rejects(p: Promise<unknown>): Promise<HubError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof HubError, String(e));
    return e;
  }
  assert.fail('expected a rejection');
}

const scanSet = (r: TrackResult) => new Set(r.scans.map((s) => JSON.stringify(s)));

test('happy path: the journey as time passes, delivered with proof, times read in the facility zone', async () => {
  sim.script({ trackingNumber: '1234567890', start: START });
  const dhl = carrier();
  now = at(15);
  let [r] = await dhl.track!(['1234567890']);
  assert.deepEqual(r!.scans.map((s) => s.code), ['transit:AF', 'transit:DF', 'transit:PL', 'transit:PU', 'pre-transit']);
  assert.ok(!r!.scans.some((s) => s.status === 'delivered'));
  now = at(30);
  [r] = await dhl.track!(['1234567890']);
  assert.deepEqual(
    r!.scans.map((s) => [s.code, s.status, s.occurredAt, s.timeRule, s.timeZone]),
    [
      ['delivered:OK', 'delivered', at(21).toISOString(), 'zone', 'Europe/London'],
      ['transit:WC', 'out_for_delivery', at(18).toISOString(), 'zone', 'Europe/London'],
      ['transit:AR', 'in_transit', at(16).toISOString(), 'zone', 'Europe/London'],
      ['transit:AF', 'in_transit', at(14).toISOString(), 'zone', 'Europe/London'],
      ['transit:DF', 'in_transit', at(5).toISOString(), 'zone', 'Europe/Berlin'],
      ['transit:PL', 'in_transit', at(4).toISOString(), 'zone', 'Europe/Berlin'],
      ['transit:PU', 'picked_up', at(2).toISOString(), 'zone', 'Europe/Berlin'],
      ['pre-transit', 'info_received', at(0).toISOString(), 'zone', 'Europe/Berlin'],
    ],
  );
  const delivered = r!.scans[0]!;
  assert.equal(delivered.signedBy, 'SMITH');
  assert.match(delivered.podReference!, /^https:\/\/webpod\.dhl\.com\//);
  assert.equal(delivered.localTime, '2026-03-03T05:00:00', 'London local time kept as sent');
  assert.equal(r!.scans[7]!.localTime, '2026-03-02T09:00:00', 'Leipzig local time kept as sent');
});

test('a shipment before its first event and an unknown number are notFound; order of results kept', async () => {
  sim.script({ trackingNumber: '1234567890', start: START });
  now = new Date(Date.parse(START) - 60_000);
  const dhl = carrier();
  assert.deepEqual(await dhl.track!(['1234567890']), [{ trackingNumber: '1234567890', scans: [], notFound: true }]);
  now = at(3);
  const rs = await dhl.track!(['NOPE0000', '1234567890', 'ALSO0000']);
  assert.deepEqual(rs.map((r) => [r.trackingNumber, r.notFound ?? false, r.scans.length]), [
    ['NOPE0000', true, 0],
    ['1234567890', false, 2],
    ['ALSO0000', true, 0],
  ]);
  assert.equal(sim.trackCalls, 4, 'one request per number: the Unified API takes one trackingNumber');
});

test('multi-piece: per-piece arrival scans carry pieceNumber; shipment-level scans do not', async () => {
  const s = sim.script({ trackingNumber: '5550001111', start: START, pieces: 3 });
  now = at(30);
  const [r] = await carrier().track!(['5550001111']);
  const ar = r!.scans.filter((x) => x.code === 'transit:AR');
  assert.deepEqual(ar.map((x) => x.pieceNumber).sort(), [...s.pieces!].sort());
  assert.ok(r!.scans.filter((x) => x.code !== 'transit:AR').every((x) => x.pieceNumber === undefined));
  assert.equal(r!.scans.filter((x) => x.status === 'delivered').length, 1);
  // a piece id finds its shipment too
  const [byPiece] = await carrier().track!([s.pieces![1]!]);
  assert.equal(byPiece!.scans[0]!.trackingNumber, '5550001111');
});

test('failed first attempt: NH is delivery_failed with its exception class, then delivered', async () => {
  sim.script({ trackingNumber: '1234567891', start: START, failedFirstAttempt: true });
  now = at(50);
  const [r] = await carrier().track!(['1234567891']);
  const nh = r!.scans.find((s) => s.code === 'failure:NH')!;
  assert.equal(nh.status, 'delivery_failed');
  assert.equal(nh.exceptionClass, 'delivery_failed');
  assert.equal(r!.scans[0]!.status, 'delivered');
});

test('a multi-zone country: local times read in the configured zone, flagged assumed', async () => {
  sim.script({ trackingNumber: '1234567892', start: START, destination: { city: 'Chicago', region: 'IL', countryCode: 'US' } });
  now = at(30);
  const [r] = await carrier({ defaultTimeZone: 'America/Chicago' }).track!(['1234567892']);
  const ok = r!.scans[0]!;
  assert.deepEqual([ok.timeRule, ok.timeZone, ok.occurredAt, ok.localTime], ['assumed', 'America/Chicago', at(21).toISOString(), '2026-03-02T23:00:00']);
});

test('429 → TransientError dhl.rate_limited with the Retry-After delay; then it works', async () => {
  sim.script({ trackingNumber: '1234567890', start: START });
  now = at(1);
  sim.setFaults({ rateLimit: { count: 1, retryAfterSeconds: 7 } });
  const e = await rejects(carrier().track!(['1234567890']));
  assert.ok(e instanceof TransientError);
  assert.equal(e.code, 'dhl.rate_limited');
  assert.equal(e.retryAfterMs, 7000);
  const [r] = await carrier().track!(['1234567890']);
  assert.equal(r!.scans.length, 1);
});

test('5xx → TransientError dhl.server_error', async () => {
  sim.script({ trackingNumber: '1234567890', start: START });
  sim.setFaults({ status5xx: { count: 1, status: 503 } });
  const e = await rejects(carrier().track!(['1234567890']));
  assert.ok(e instanceof TransientError);
  assert.equal(e.code, 'dhl.server_error');
  assert.equal((await carrier().track!(['1234567890']))[0]!.scans.length, 1);
});

test('down → TransientError dhl.unavailable; back up → works', async () => {
  sim.script({ trackingNumber: '1234567890', start: START });
  await sim.goDown(60_000);
  try {
    const e = await rejects(carrier().track!(['1234567890']));
    assert.ok(e instanceof TransientError);
    assert.equal(e.code, 'dhl.unavailable');
  } finally {
    await sim.up();
  }
  assert.equal((await carrier().track!(['1234567890']))[0]!.scans.length, 1);
});

test('no answer within timeoutMs → TransientError dhl.timeout', async () => {
  sim.setFaults({ latencyMs: 400 });
  const e = await rejects(carrier({ timeoutMs: 100 }).track!(['1234567890']));
  assert.equal(e.code, 'dhl.timeout');
  assert.ok(e instanceof TransientError);
  sim.clearFaults();
});

test('key rotated: 401, the key is read again, the call repeated once and it succeeds', async () => {
  sim.script({ trackingNumber: '1234567890', start: START });
  let secret = 'key-1';
  let reads = 0;
  const dhl = carrier({ apiKey: () => (reads++, secret) });
  await dhl.track!(['1234567890']);
  assert.equal(reads, 1, 'the key is cached between calls');
  sim.setApiKeys(['key-2']);
  secret = 'key-2';
  const before = sim.trackCalls;
  const [r] = await dhl.track!(['1234567890']);
  assert.equal(r!.scans.length, 1);
  assert.equal(sim.trackCalls - before, 2);
  assert.equal(reads, 2);
});

test('a wrong key that does not change → PermanentError dhl.unauthorized, no loop', async () => {
  const dhl = carrier({ apiKey: () => 'wrong' });
  const before = sim.trackCalls;
  const e = await rejects(dhl.track!(['1234567890']));
  assert.ok(e instanceof PermanentError);
  assert.equal(e.code, 'dhl.unauthorized');
  assert.equal(sim.trackCalls - before, 1);
});

test('a service DHL refuses → PermanentError dhl.bad_request', async () => {
  const e = await rejects(carrier({ service: 'carrier-pigeon' }).track!(['1234567890']));
  assert.ok(e instanceof PermanentError);
  assert.equal(e.code, 'dhl.bad_request');
});

test('duplicated and shuffled events give the same set of scans', async () => {
  sim.script({ trackingNumber: '5550001111', start: START, pieces: 2, failedFirstAttempt: true });
  now = at(50);
  const dhl = carrier();
  const [clean] = await dhl.track!(['5550001111']);
  sim.setFaults({ duplicateEvents: true, shuffleEvents: true });
  const [noisy] = await dhl.track!(['5550001111']);
  assert.equal(noisy!.scans.length, clean!.scans.length * 2);
  assert.deepEqual(scanSet(noisy!), scanSet(clean!));
  sim.setFaults({ duplicateEvents: false });
  const [shuffled] = await dhl.track!(['5550001111']);
  assert.deepEqual(scanSet(shuffled!), scanSet(clean!));
  assert.notDeepEqual(shuffled!.scans, clean!.scans, 'the order did change');
});

test('an unknown default zone is a configuration error, before any call', () => {
  assert.throws(() => carrier({ defaultTimeZone: 'Mars/Olympus' }), (e: unknown) => e instanceof HubError && e.code === 'config.invalid');
});
