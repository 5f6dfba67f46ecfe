/**
 * The UPS simulator on the wire, spoken to with plain fetch: token endpoint, Track API answers
 * and error bodies as UPS documents them, the clock hiding future events, faults, stats, the
 * admin API's refusals, and main.ts printing READY.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, beforeEach, describe, it } from 'node:test';
import { FakeClock } from '../../../src/platform/clock.ts';
import { UpsSimulator } from '../../../simulators/carriers/ups/server.ts';

const clock = new FakeClock('2026-07-01T12:00:00Z');
let sim: UpsSimulator;

async function token(): Promise<string> {
  const res = await fetch(`${sim.url}/security/v1/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${sim.clientId}:${sim.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as Record<string, string>;
  assert.deepEqual(Object.keys(body).sort(), ['access_token', 'client_id', 'expires_in', 'issued_at', 'refresh_count', 'scope', 'status', 'token_type']);
  assert.equal(body.token_type, 'Bearer');
  assert.equal(body.expires_in, '14399');
  return body.access_token!;
}

async function track(n: string, t: string, extra: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${sim.url}/api/track/v1/details/${n}?locale=en_US`, { headers: { authorization: `Bearer ${t}`, transId: 'abc123', transactionSrc: 'tests', ...extra } });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

before(async () => {
  sim = await UpsSimulator.start({ now: () => clock.now() });
});
after(async () => {
  await sim.stop();
});
beforeEach(() => {
  sim.reset();
  clock.set('2026-07-01T12:00:00Z');
});

describe('UPS simulator', () => {
  it('renders activities newest first with local date/time and gmt fields', async () => {
    const admin = await fetch(`${sim.url}/__sim/shipments`, {
      method: 'POST',
      body: JSON.stringify({
        trackingNumber: '1ZSIM00000000001',
        events: [
          { code: 'MP', at: '2026-07-01T07:05:00Z', location: { countryCode: 'US', region: 'NY' } },
          { code: 'OR', at: '2026-07-01T11:00:00Z', location: { city: 'CHICAGO', region: 'IL', countryCode: 'US' } },
          { code: 'FS', at: '2026-07-02T11:00:00Z', location: { city: 'CHICAGO', region: 'IL', countryCode: 'US' } },
        ],
      }),
    });
    assert.equal(admin.status, 201);
    const { status, body } = await track('1ZSIM00000000001', await token());
    assert.equal(status, 200);
    const pkg = body.trackResponse.shipment[0].package[0];
    assert.equal(body.trackResponse.shipment[0].inquiryNumber, '1ZSIM00000000001');
    assert.equal(pkg.activity.length, 2, 'the delivery tomorrow is not visible yet');
    assert.deepEqual(pkg.activity[0], {
      location: { address: { city: 'CHICAGO', stateProvince: 'IL', country: 'US', countryCode: 'US' }, slic: '' },
      status: { type: 'I', description: 'Origin Scan', simplifiedTextDescription: 'On the Way', statusCode: '005', code: 'OR' },
      date: '20260701',
      time: '060000',
      gmtDate: '20260701',
      gmtOffset: '-05:00',
      gmtTime: '110000',
    });
    assert.equal(pkg.activity[1].time, '030500');
    assert.equal(pkg.activity[1].gmtTime, '70500', 'as the spec example, without the leading zero');
    assert.equal(pkg.currentStatus.statusCode, '005');
    assert.equal(pkg.deliveryInformation, undefined);

    clock.advance(86_400_000);
    const later = await track('1ZSIM00000000001', await token());
    const p2 = later.body.trackResponse.shipment[0].package[0];
    assert.equal(p2.activity[0].status.code, 'FS');
    assert.deepEqual(p2.deliveryDate, [{ type: 'DEL', date: '20260702' }]);
    assert.equal(p2.deliveryInformation.location, 'Front Door');
  });

  it('answers an unknown number with the TW0001 warning, and a bad length with 151018', async () => {
    const t = await token();
    const nf = await track('1ZUNKNOWN0000001', t);
    assert.deepEqual(nf.body, { trackResponse: { shipment: [{ inquiryNumber: '1ZUNKNOWN0000001', warnings: [{ code: 'TW0001', message: 'Tracking Information Not Found' }] }] } });
    const bad = await track('1Z12', t);
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { response: { errors: [{ code: '151018', message: 'Invalid tracking number' }] } });
  });

  it('refuses missing or expired tokens with 401 250002 and missing headers with 400', async () => {
    const none = await track('1ZSIM00000000001', 'nope');
    assert.equal(none.status, 401);
    assert.deepEqual(none.body, { response: { errors: [{ code: '250002', message: 'Invalid Authentication Information.' }] } });
    const t = await token();
    clock.advance(14_400_000);
    assert.equal((await track('1ZSIM00000000001', t)).status, 401, 'expired by the clock');
    const t2 = await token();
    const res = await fetch(`${sim.url}/api/track/v1/details/1ZSIM00000000001`, { headers: { authorization: `Bearer ${t2}` } });
    assert.equal(res.status, 400);
    const wrong = await fetch(`${sim.url}/security/v1/oauth/token`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('x:y').toString('base64')}` }, body: 'grant_type=client_credentials' });
    assert.equal(wrong.status, 401);
    assert.deepEqual(await wrong.json(), { response: { errors: [{ code: '10401', message: 'ClientId is Invalid' }] } });
  });

  it('injects and clears faults through the admin API, and counts calls', async () => {
    const t = await token();
    await fetch(`${sim.url}/__sim/faults`, { method: 'POST', body: JSON.stringify({ rateLimit: { count: 1, retryAfterSec: 3 }, status5xx: { count: 1, status: 500 } }) });
    const a = await track('1ZSIM00000000001', t);
    assert.equal(a.status, 429);
    assert.equal(a.headers.get('retry-after'), '3');
    const b = await track('1ZSIM00000000001', t);
    assert.equal(b.status, 500);
    assert.deepEqual(b.body, { response: { errors: [{ code: '500', message: 'Internal server error' }] } });
    assert.equal((await track('1ZSIM00000000001', t)).status, 200);
    await fetch(`${sim.url}/__sim/faults`, { method: 'POST', body: JSON.stringify({ latencyMs: 5 }) });
    assert.equal(sim.faults.latencyMs, 5);
    await fetch(`${sim.url}/__sim/faults`, { method: 'DELETE' });
    assert.deepEqual(sim.faults, {});
    const stats = (await (await fetch(`${sim.url}/__sim/stats`)).json()) as { calls: Record<string, number> };
    assert.deepEqual(stats.calls, { token: 1, track: 3, rejected429: 1, rejected5xx: 1, rejected401: 0, total: 4 });
  });

  it('scripts a multi-piece journey and moves its clock through /__sim/clock', async () => {
    const s = await fetch(`${sim.url}/__sim/script`, { method: 'POST', body: JSON.stringify({ trackingNumber: '1ZSCRIPT00000100', start: '2026-07-01T12:00:00Z', pieces: 2, failedFirstAttempt: true }) });
    assert.equal(s.status, 201);
    const reg = (await s.json()) as { pieces: string[]; events: { code: string }[] };
    assert.deepEqual(reg.pieces, ['1ZSCRIPT00000100', '1ZSCRIPT00000101']);
    assert.deepEqual(reg.events.map((e) => e.code), ['MP', 'PU', 'DP', 'AR', 'DP', 'AR', 'OT', '48', 'OT', 'FS', 'FS']);
    const c = await fetch(`${sim.url}/__sim/clock`, { method: 'POST', body: JSON.stringify({ now: '2026-08-01T00:00:00Z' }) });
    assert.deepEqual(await c.json(), { now: '2026-08-01T00:00:00.000Z' });
    const { body } = await track('1ZSCRIPT00000100', await token());
    const pkgs = body.trackResponse.shipment[0].package;
    assert.equal(pkgs.length, 2);
    assert.equal(pkgs[0].packageCount, 2);
    assert.equal(pkgs[0].activity.length, 10);
  });

  it('refuses bad admin input with 400 and stores nothing', async () => {
    for (const body of [
      { trackingNumber: '1ZBAD00000000001', events: [{ code: 'NOPE', at: '2026-07-01T00:00:00Z' }] },
      { trackingNumber: '1ZBAD00000000001', events: [{ code: 'FS', at: '2026-07-01 00:00' }] },
      { trackingNumber: '1ZBAD00000000001', events: [{ code: 'FS', at: '2026-07-01T00:00:00Z', piece: '1ZOTHER000000001' }] },
      { trackingNumber: 'x', events: [] },
    ]) {
      const res = await fetch(`${sim.url}/__sim/shipments`, { method: 'POST', body: JSON.stringify(body) });
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    assert.equal(sim.stats().shipments, 0);
    assert.equal((await fetch(`${sim.url}/__sim/faults`, { method: 'POST', body: '{"rateLimit":{"count":0}}' })).status, 400);
  });

  it('runs on its own and prints READY <url>', async () => {
    const child = spawn(process.execPath, ['simulators/carriers/ups/main.ts'], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c) => {
          out += c;
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      const m = /^READY (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      assert.ok(m, line);
      assert.equal((await fetch(`${m[1]}/__sim/stats`)).status, 200);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
