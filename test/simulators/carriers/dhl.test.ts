/**
 * The DHL simulator on the wire: authentication and problem documents as the Unified API
 * sends them, local timestamps without offset, newest-first events, the clock hiding future
 * events, pieces, admin validation, faults and counters, and `main.ts` printing READY.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { DhlSimulator } from '../../../simulators/carriers/dhl/server.ts';

let now = new Date('2026-07-01T12:00:00Z');
let sim: DhlSimulator;
before(async () => {
  sim = await DhlSimulator.start({ now: () => now, apiKeys: ['k'] });
});
after(async () => {
  await sim.stop();
});
beforeEach(() => {
  sim.reset();
  now = new Date('2026-07-01T12:00:00Z');
});

const track = (tn: string, key: string | null = 'k', extra = '') =>
  fetch(`${sim.url}/track/shipments?trackingNumber=${encodeURIComponent(tn)}${extra}`, { headers: key ? { 'DHL-API-Key': key } : {} });
const admin = (path: string, body?: unknown, method = 'POST') =>
  fetch(`${sim.url}/__sim/${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? null : JSON.stringify(body) });

const SHIPMENT = {
  trackingNumber: '1234567890',
  pieces: ['JD01', 'JD02'],
  events: [
    { code: 'PU', at: '2026-07-01T06:00:00Z', location: { city: 'Leipzig', postalCode: '04435', countryCode: 'DE' } },
    { code: 'AR', at: '2026-07-01T09:00:00Z', piece: 'JD02', location: { city: 'Tokyo', countryCode: 'JP' } },
    { code: 'OK', at: '2026-07-01T20:00:00+09:00', location: { city: 'Tokyo', countryCode: 'JP' }, signedBy: 'TANAKA' },
    { code: 'RT', at: '2026-07-02T00:00:00Z' },
  ],
};

test('401 without or with a wrong key, in the documented problem shape', async () => {
  for (const key of [null, 'nope']) {
    const r = await track('1234567890', key);
    assert.equal(r.status, 401);
    assert.match(r.headers.get('content-type')!, /application\/problem\+json/);
    assert.deepEqual(await r.json(), { status: 401, title: 'Unauthorized', detail: 'Unauthorized for given resource.' });
  }
});

test('unknown number: 404 "No result found"; missing trackingNumber: 400', async () => {
  const r = await track('0000000000');
  assert.equal(r.status, 404);
  assert.deepEqual(await r.json(), { status: 404, title: 'No result found', detail: 'No shipment with given tracking number found.' });
  const bad = await fetch(`${sim.url}/track/shipments`, { headers: { 'DHL-API-Key': 'k' } });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { status: number }).status, 400);
});

test('rendering: local times without offset, newest first, pieces, status, proof of delivery; future events hidden', async () => {
  assert.equal((await admin('shipments', SHIPMENT)).status, 201);
  const r = await track('1234567890');
  assert.equal(r.status, 200);
  const body = (await r.json()) as { shipments: Record<string, any>[] };
  const s = body.shipments[0]!;
  assert.equal(s.id, '1234567890');
  assert.equal(s.service, 'express');
  assert.deepEqual(
    s.events.map((e: any) => [e.timestamp, e.statusCode, e.statusDetailed, e.pieceIds]),
    [
      ['2026-07-01T20:00:00', 'delivered', 'OK', ['JD01', 'JD02']],
      ['2026-07-01T18:00:00', 'transit', 'AR', ['JD02']],
      ['2026-07-01T08:00:00', 'transit', 'PU', ['JD01', 'JD02']],
    ],
  );
  assert.deepEqual(s.events[0].location, { address: { addressLocality: 'Tokyo', countryCode: 'JP' } });
  assert.match(s.events[0].description, /Signed for by: TANAKA/);
  assert.equal(s.status.statusCode, 'delivered');
  assert.equal(s.status.pieceIds, undefined);
  assert.deepEqual(s.details.pieceIds, ['JD01', 'JD02']);
  assert.equal(s.details.totalNumberOfPieces, 2);
  assert.equal(s.details.proofOfDelivery.signed.name, 'TANAKA');
  assert.equal(s.details.proofOfDelivery.timestamp, '2026-07-01T20:00:00');
  // the RT event appears once the clock reaches it
  now = new Date('2026-07-02T00:00:00Z');
  const later = (await (await track('JD02')).json()) as { shipments: Record<string, any>[] };
  assert.equal(later.shipments[0]!.events[0].statusCode, 'failure');
  assert.equal(later.shipments[0]!.events[0].timestamp, '2026-07-02T02:00:00', 'no location: the default zone (Berlin)');
  // before the first event: not known yet
  now = new Date('2026-07-01T05:00:00Z');
  assert.equal((await track('1234567890')).status, 404);
});

test('admin: bad input is refused with the list of problems and nothing is stored', async () => {
  const r = await admin('shipments', { trackingNumber: 'x', events: [{ code: 'NOPE', at: 'yesterday', piece: 'P9' }] });
  assert.equal(r.status, 400);
  const { issues } = (await r.json()) as { issues: string[] };
  assert.ok(issues.some((i) => i.startsWith('trackingNumber')));
  assert.ok(issues.some((i) => i.startsWith('events[0].code')));
  assert.ok(issues.some((i) => i.startsWith('events[0].at')));
  assert.ok(issues.some((i) => i.startsWith('events[0].piece')));
  assert.equal(sim.shipments.size, 0);
  assert.equal((await admin('faults', { rateLimit: { count: 0 } })).status, 400);
  assert.equal((await admin('script', { trackingNumber: '1234567890' })).status, 400);
  assert.equal((await admin('nothing', {})).status, 404);
});

test('script: a typical journey, N pieces, failed first attempt', async () => {
  const r = await admin('script', { trackingNumber: '9990001111', start: '2026-06-30T00:00:00Z', pieces: 2, failedFirstAttempt: true });
  assert.equal(r.status, 201);
  const s = (await r.json()) as { pieces: string[]; events: { code: string }[] };
  assert.equal(s.pieces.length, 2);
  assert.deepEqual(s.events.map((e) => e.code), ['pre-transit', 'PU', 'PL', 'DF', 'AF', 'AR', 'AR', 'WC', 'NH', 'WC', 'OK']);
});

test('faults: rate limit with Retry-After, 5xx, duplicates, shuffle; stats count calls; DELETE clears', async () => {
  await admin('shipments', SHIPMENT);
  await admin('faults', { rateLimit: { count: 2, retryAfterSeconds: 3 }, status5xx: { count: 1, status: 502 } });
  for (let i = 0; i < 2; i++) {
    const r = await track('1234567890');
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '3');
    assert.equal(((await r.json()) as { status: number }).status, 429);
  }
  assert.equal((await track('1234567890')).status, 502);
  assert.equal((await track('1234567890')).status, 200);
  await admin('faults', { duplicateEvents: true, shuffleEvents: true });
  const noisy = (await (await track('1234567890')).json()) as { shipments: { events: unknown[] }[] };
  assert.equal(noisy.shipments[0]!.events.length, 6);
  await admin('faults', undefined, 'DELETE');
  const clean = (await (await track('1234567890')).json()) as { shipments: { events: unknown[] }[] };
  assert.equal(clean.shipments[0]!.events.length, 3);
  const key = (e: unknown) => JSON.stringify(e);
  assert.deepEqual([...new Set(noisy.shipments[0]!.events.map(key))].sort(), clean.shipments[0]!.events.map(key).sort());
  const stats = (await (await fetch(`${sim.url}/__sim/stats`)).json()) as { trackCalls: number; calls: Record<string, number> };
  assert.equal(stats.trackCalls, 6);
  assert.deepEqual(stats.calls, { 'track 429': 2, 'track 502': 1, 'track 200': 3 });
});

test('down: connection refused, then back on the same port', async () => {
  const url = sim.url;
  await admin('faults', { down: { forMs: 50 } });
  await assert.rejects(fetch(`${url}/track/shipments?trackingNumber=1`, { headers: { 'DHL-API-Key': 'k' } }));
  const deadline = Date.now() + 5000;
  while (!sim.isUp && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  assert.equal(sim.url, url);
  assert.equal((await track('1234567890')).status, 404);
});

test('clock and keys through the admin API', async () => {
  await admin('shipments', SHIPMENT);
  assert.equal((await admin('clock', { now: '2026-07-01T05:00:00Z' })).status, 200);
  assert.equal((await track('1234567890')).status, 404);
  await admin('keys', { keys: ['k2'] });
  assert.equal((await track('1234567890', 'k')).status, 401);
  sim.setApiKeys(['k']);
  sim.setNow(undefined);
});

test('main.ts prints READY <url> and serves', async () => {
  const child = spawn(process.execPath, ['simulators/carriers/dhl/main.ts'], { env: { ...process.env, PORT: '0', DHL_API_KEYS: 'main-key' }, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^READY (\S+)/m.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    const r = await fetch(`${url}/track/shipments?trackingNumber=1234`, { headers: { 'DHL-API-Key': 'main-key' } });
    assert.equal(r.status, 404);
  } finally {
    child.kill('SIGTERM');
  }
});
