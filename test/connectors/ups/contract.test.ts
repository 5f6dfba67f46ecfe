/**
 * Contract tests: the UPS adapter against the UPS simulator over real HTTP on 127.0.0.1.
 * Happy path, multi-piece, unknown number, 429 with Retry-After, 5xx, connection refused, token
 * expiry (refresh and retry once), duplicated and shuffled events, Track Alert pushes.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { HubError } from '../../../src/domain/errors.ts';
import { FakeClock } from '../../../src/platform/clock.ts';
import { createUpsCarrier, mapTrackAlert, type UpsCarrierOptions } from '../../../src/connectors/ups/index.ts';
import { createUpsClient } from '../../../src/connectors/ups/client.ts';
import type { CarrierScan } from '../../../src/domain/tracking.ts';
import { UpsSimulator } from '../../../simulators/carriers/ups/server.ts';

const START = '2026-03-02T14:00:00Z';
const simClock = new FakeClock(START);
let sim: UpsSimulator;

const config = (over: Partial<UpsCarrierOptions> = {}): UpsCarrierOptions => ({
  baseUrl: sim.url,
  clientId: sim.clientId,
  secretName: 'ups-secret',
  clientSecret: sim.clientSecret,
  transactionSrc: 'hub-tests',
  locale: 'en_US',
  defaultTimeZone: 'America/New_York',
  timeoutMs: 2000,
  concurrency: 4,
  ...over,
});

const isHub = (code: string, cls?: string) => (e: unknown) => e instanceof HubError && e.code === code && (cls === undefined || e.errorClass === cls);
const setKey = (scans: CarrierScan[]) => new Set(scans.map((s) => `${s.pieceNumber ?? ''}|${s.code}|${s.occurredAt}`));

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setImmediate(r));
  }
}

before(async () => {
  sim = await UpsSimulator.start({ now: () => simClock.now() });
});
after(async () => {
  await sim.stop();
});
beforeEach(() => {
  sim.reset();
  simClock.set(START);
});

describe('UPS adapter ↔ simulator', () => {
  it('tracks a scripted journey as time passes, ending delivered with the signature', async () => {
    sim.script({ trackingNumber: '1Z999AA10123456784', start: START, signedBy: 'JOHNSON' });
    const ups = createUpsCarrier(config());
    assert.equal(ups.id, 'ups');
    let [r] = await ups.track!(['1Z999AA10123456784']);
    assert.equal(r!.scans.length, 1);
    assert.equal(r!.scans[0]!.status, 'info_received');
    assert.equal(r!.scans[0]!.occurredAt, '2026-03-02T14:00:00.000Z');
    assert.equal(r!.scans[0]!.timeRule, 'offset');
    assert.equal(r!.scans[0]!.localTime, '2026-03-02T09:00:00', 'Atlanta prints 09:00 local');

    simClock.advance(27 * 3600_000);
    [r] = await ups.track!(['1Z999AA10123456784']);
    assert.deepEqual(r!.scans.map((s) => s.code), ['005:AR', '005:DP', '005:AR', '005:DP', '038:PU', '003:MP']);

    simClock.advance(10 * 24 * 3600_000);
    [r] = await ups.track!(['1Z999AA10123456784']);
    const delivered = r!.scans[0]!;
    assert.equal(delivered.status, 'delivered');
    assert.equal(delivered.code, '011:FS');
    assert.equal(delivered.signedBy, 'JOHNSON');
    assert.equal(delivered.location?.city, 'DENVER');
    assert.equal(delivered.occurredAt, '2026-03-04T01:00:00.000Z');
    assert.equal(delivered.localTime, '2026-03-03T18:00:00', 'Denver is UTC-7 in March before DST');
    for (const s of r!.scans) assert.match(s.occurredAt, /Z$/);
  });

  it('reports a failed first attempt as delivery_failed with its exception class', async () => {
    sim.script({ trackingNumber: '1Z999AA10123456785', start: START, failedFirstAttempt: true });
    simClock.advance(30 * 24 * 3600_000);
    const [r] = await createUpsCarrier(config()).track!(['1Z999AA10123456785']);
    const failed = r!.scans.find((s) => s.code === '022:48')!;
    assert.equal(failed.status, 'delivery_failed');
    assert.equal(failed.exceptionClass, 'delivery_failed');
    assert.equal(r!.scans.filter((s) => s.status === 'out_for_delivery').length, 2);
    assert.equal(r!.scans[0]!.status, 'delivered');
  });

  it('tracks a multi-piece shipment: one package per piece, pieceNumber on every scan', async () => {
    const reg = sim.script({ trackingNumber: '1ZMULTI0000000100', start: START, pieces: 3 });
    simClock.advance(30 * 24 * 3600_000);
    const [r] = await createUpsCarrier(config()).track!(['1ZMULTI0000000100']);
    const pieces = reg.pieces!;
    assert.equal(pieces.length, 3);
    assert.deepEqual(new Set(r!.scans.map((s) => s.pieceNumber)), new Set(pieces));
    for (const p of pieces) {
      const own = r!.scans.filter((s) => s.pieceNumber === p);
      assert.equal(own.filter((s) => s.status === 'delivered').length, 1, `piece ${p} delivered once`);
      assert.ok(own.every((s) => s.trackingNumber === '1ZMULTI0000000100'));
    }
    // a piece number asked alone answers that package
    const [one] = await createUpsCarrier(config()).track!([pieces[2]!]);
    assert.deepEqual(new Set(one!.scans.map((s) => s.pieceNumber)), new Set([pieces[2]]));
  });

  it('answers notFound for an unknown number and for one whose events are not visible yet', async () => {
    sim.script({ trackingNumber: '1ZFUTURE000000001', start: '2026-04-01T00:00:00Z' });
    const r = await createUpsCarrier(config()).track!(['1ZNOSUCH000000001', '1ZFUTURE000000001']);
    assert.deepEqual(r, [
      { trackingNumber: '1ZNOSUCH000000001', scans: [], notFound: true },
      { trackingNumber: '1ZFUTURE000000001', scans: [], notFound: true },
    ]);
  });

  it('refuses a malformed number before any call', async () => {
    await assert.rejects(createUpsCarrier(config()).track!(['1Z']), isHub('ups.invalid_tracking_number', 'business'));
    assert.equal((sim.stats().calls as { total: number }).total, 0);
  });

  it('turns a 429 into a TransientError carrying Retry-After', async () => {
    sim.script({ trackingNumber: '1Z999AA10123456784', start: START });
    sim.setFaults({ rateLimit: { count: 1, retryAfterSec: 7 } });
    const ups = createUpsCarrier(config());
    await assert.rejects(ups.track!(['1Z999AA10123456784']), (e: unknown) => isHub('ups.rate_limited', 'transient')(e) && (e as HubError).retryAfterMs === 7000);
    const [r] = await ups.track!(['1Z999AA10123456784']);
    assert.equal(r!.scans.length, 1);
  });

  it('turns a 5xx into a transient ups.server_error', async () => {
    sim.setFaults({ status5xx: { count: 1, status: 503 } });
    await assert.rejects(createUpsCarrier(config()).track!(['1Z999AA10123456784']), (e: unknown) => isHub('ups.server_error', 'transient')(e) && (e as HubError).retryAfterMs! > 0);
  });

  it('turns a refused connection into a transient ups.unavailable, and recovers', async () => {
    const ups = createUpsCarrier(config());
    await sim.goDown(60_000);
    await assert.rejects(ups.track!(['1Z999AA10123456784']), isHub('ups.unavailable', 'transient'));
    await sim.up();
    const [r] = await ups.track!(['1Z999AA10123456784']);
    assert.equal(r!.notFound, true);
  });

  it('turns no answer within timeoutMs into ups.timeout', async () => {
    sim.setFaults({ latencyMs: 300 });
    await assert.rejects(createUpsCarrier(config({ timeoutMs: 100 })).track!(['1Z999AA10123456784']), isHub('ups.timeout', 'transient'));
  });

  it('caches the token, refreshes it after expiry by the clock, and on a 401 fetches a new one and retries once', async () => {
    sim.script({ trackingNumber: '1Z999AA10123456784', start: START });
    const clientClock = new FakeClock(START);
    const ups = createUpsCarrier(config({ clock: clientClock }));
    await ups.track!(['1Z999AA10123456784', '1Z999AA10123456784', '1Z999AA10123456784']);
    assert.equal((sim.stats().calls as { token: number }).token, 1, 'one token for concurrent calls');

    // the simulator forgets every token: the next call gets 401, the client refreshes and retries once
    sim.setFaults({ expireTokens: true });
    const [r] = await ups.track!(['1Z999AA10123456784']);
    assert.equal(r!.scans.length, 1);
    const st = sim.stats().calls as { token: number; rejected401: number };
    assert.equal(st.token, 2);
    assert.equal(st.rejected401, 1);

    // tokens expire by the clock: both clocks move past expires_in (14399 s)
    simClock.advance(4 * 3600_000);
    clientClock.advance(4 * 3600_000);
    await ups.track!(['1Z999AA10123456784']);
    assert.equal((sim.stats().calls as { token: number; rejected401: number }).token, 3, 'refreshed before expiry, no 401');
    assert.equal((sim.stats().calls as { rejected401: number }).rejected401, 1);
  });

  it('gives ups.unauthorized when a fresh token is refused too, and ups.invalid_client for a wrong secret', async () => {
    const client = createUpsClient({ ...config(), clientSecret: sim.clientSecret });
    // the simulator forgets each token as soon as it is issued
    const f = async (input: string | URL | Request, init?: RequestInit) => {
      const res = await fetch(input, init);
      if (String(input).includes('/oauth/token')) sim.setFaults({ expireTokens: true });
      return res;
    };
    const bad = createUpsClient({ ...config(), fetch: f as typeof fetch });
    await assert.rejects(bad.track(['1Z999AA10123456784']), isHub('ups.unauthorized', 'permanent'));
    await client.track(['1Z999AA10123456784']);
    await assert.rejects(createUpsCarrier(config({ clientSecret: 'wrong' })).track!(['1Z999AA10123456784']), isHub('ups.invalid_client', 'permanent'));
  });

  it('gives the same set of scans with duplicated and shuffled events', async () => {
    sim.script({ trackingNumber: '1ZMULTI0000000200', start: START, pieces: 2, failedFirstAttempt: true });
    simClock.advance(30 * 24 * 3600_000);
    const ups = createUpsCarrier(config());
    const [plain] = await ups.track!(['1ZMULTI0000000200']);
    sim.setFaults({ duplicateEvents: true, shuffleEvents: true });
    const [noisy] = await ups.track!(['1ZMULTI0000000200']);
    assert.equal(noisy!.scans.length, plain!.scans.length * 2);
    assert.deepEqual(setKey(noisy!.scans), setKey(plain!.scans));
    sim.clearFaults();
  });

  it('pushes Track Alert messages as events become visible; mapTrackAlert reads them', async () => {
    const received: unknown[] = [];
    const headers: Record<string, string | string[] | undefined>[] = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(JSON.parse(body));
        headers.push(req.headers);
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/ups-alerts`;
      sim.subscribe(url, 'shared-secret');
      sim.script({ trackingNumber: '1Z999AA10123456784', start: START, signedBy: 'LEE' });
      await waitFor(() => received.length === 1);
      simClock.advance(40 * 3600_000);
      await sim.pushVisible();
      await waitFor(() => received.length >= 8);
      const scans = received.flatMap((b) => mapTrackAlert(b));
      assert.deepEqual(scans.map((s) => s.code), ['003:MP', '038:PU', '005:DP', '005:AR', '005:DP', '005:AR', '021:OT', '011:FS']);
      assert.ok(scans.every((s) => s.timeRule === 'utc' && s.trackingNumber === '1Z999AA10123456784'));
      assert.equal(headers[0]!.credential, 'shared-secret');
      assert.equal(headers[0]!['user-agent'], 'UPSPubSubTrackingService');
      // the same instants as the Track API gives
      const [r] = await createUpsCarrier(config()).track!(['1Z999AA10123456784']);
      assert.deepEqual(new Set(scans.map((s) => `${s.code}@${s.occurredAt}`)), new Set(r!.scans.map((s) => `${s.code}@${s.occurredAt}`)));
    } finally {
      await new Promise<void>((r) => hook.close(() => r()));
    }
  });
});
