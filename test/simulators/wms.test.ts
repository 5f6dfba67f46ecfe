/**
 * The WMS simulator as a client meets it: the API (auth, validation, idempotency, state
 * refusals), behaviour over time (acceptance delay, waves grouping accepted orders, short
 * picks from stock or scripted, packing by weight, shipping after labels), signed
 * webhooks and their faults (retries with backoff, outage, duplicates, reordering) and
 * the API faults (connection refused, 5xx, 429, latency), through real HTTP.
 */
import { test, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { WmsSimulator } from '../../simulators/wms/server.ts';
import { FakeClock } from '../../src/platform/clock.ts';
import { verifyHmacHexSignature } from '../../src/security/webhook-signature.ts';
import { WebhookReceiver } from '../fixtures/wms/receiver.ts';

const clock = new FakeClock('2026-03-03T09:00:00Z');
const rx = await WebhookReceiver.start();
const sim = await WmsSimulator.start({ clock, webhookUrl: rx.url, webhookSecret: 's3cret', acceptDelaySeconds: 5, waveIntervalSeconds: 60, pickSeconds: 30, packSeconds: 30, shipSeconds: 10 });
after(async () => {
  await sim.stop();
  await rx.stop();
});
beforeEach(() => {
  clock.set('2026-03-03T09:00:00Z');
  sim.reset();
  rx.deliveries.length = 0;
  rx.failNext(0);
});

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(sim.url + path, {
    method,
    headers: { 'x-api-key': sim.apiKey, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : undefined };
}

const shipTo = { name: 'Deco Addict', address1: '77 Santa Barbara Rd', city: 'Pleasant Hill', state: 'CA', postal_code: '94523', country: 'US' };
const order = (ref: string, lines: { sku: string; quantity: number }[] = [{ sku: 'FURN_7800', quantity: 2 }]) => ({
  client_reference: ref,
  shipment_reference: `ful-${ref}`,
  ship_to: shipTo,
  lines: lines.map((l, i) => ({ line_ref: String(100 + i), ...l })),
});

test('the API wants the key, validates the order and names every problem', async () => {
  const noKey = await fetch(`${sim.url}/api/v1/outbound-orders`, { method: 'POST', body: '{}' });
  assert.equal(noKey.status, 401);
  assert.equal(((await noKey.json()) as { error: { code: string } }).error.code, 'unauthorized');
  const bad = await api('POST', '/api/v1/outbound-orders', { client_reference: 'x', ship_to: { name: 'A' }, lines: [{ sku: 'NOPE', quantity: 0 }] });
  assert.equal(bad.status, 422);
  assert.equal(bad.body.error.code, 'validation_failed');
  const fields = bad.body.error.details.map((d: { field: string }) => d.field);
  for (const f of ['ship_to.address1', 'ship_to.city', 'ship_to.country', 'lines[0].sku', 'lines[0].quantity']) assert.ok(fields.includes(f), f);
  const notJson = await fetch(`${sim.url}/api/v1/outbound-orders`, { method: 'POST', headers: { 'x-api-key': sim.apiKey }, body: '{' });
  assert.equal(notJson.status, 400);
  assert.equal((await api('GET', '/api/v1/outbound-orders/SO-999999')).status, 404);
});

test('Idempotency-Key replays the first answer; a duplicate reference without one is 409', async () => {
  const a = await api('POST', '/api/v1/outbound-orders', order('o1'), { 'idempotency-key': 'k1' });
  const b = await api('POST', '/api/v1/outbound-orders', order('o1'), { 'idempotency-key': 'k1' });
  assert.equal(a.status, 201);
  assert.equal(b.status, 201);
  assert.equal(b.body.id, a.body.id);
  assert.equal(b.headers.get('idempotent-replayed'), 'true');
  const c = await api('POST', '/api/v1/outbound-orders', order('o1'));
  assert.equal(c.status, 409);
  assert.equal(c.body.error.code, 'duplicate_order');
  assert.equal(c.body.error.existing_order_id, a.body.id);
  assert.equal(sim.orders().length, 1);
});

test('acceptance after the delay, one wave for the accepted orders, picks, packing, labels, shipping', async () => {
  const o1 = (await api('POST', '/api/v1/outbound-orders', order('o1'))).body;
  const o2 = (await api('POST', '/api/v1/outbound-orders', order('o2', [{ sku: 'CABLE-01', quantity: 3 }]))).body;
  assert.equal(o1.status, 'received');
  await sim.advance(4);
  assert.deepEqual(rx.types(), []);
  await sim.advance(1);
  assert.deepEqual(rx.types(), ['order.accepted', 'order.accepted']);
  await sim.advance(55); // the first wave, at +60 s
  const waves = rx.ofType('wave.released');
  assert.equal(waves.length, 1);
  assert.deepEqual(
    (waves[0]!.json.data.orders as { order_id: string }[]).map((o) => o.order_id),
    [o1.id, o2.id],
  );
  await sim.advance(30);
  assert.equal(rx.ofType('pick.confirmed').length, 2);
  await sim.advance(30);
  const packed = rx.ofType('pack.completed').find((d) => d.json.data.order_id === o1.id)!;
  const pkgs = packed.json.data.packages as { package_id: string; weight_kg: number; length_cm: number }[];
  // 2 × 12.5 kg + 0.3 kg tare is over 25 kg: two packages in the medium box
  assert.deepEqual(
    pkgs.map((p) => [p.weight_kg, p.length_cm]),
    [
      [12.8, 40],
      [12.8, 40],
    ],
  );
  assert.equal(sim.order(o1.id)!.status, 'packed');
  await sim.advance(3600);
  assert.equal(rx.ofType('order.shipped').length, 0, 'it waits for labels');
  const early = await api('POST', `/api/v1/outbound-orders/${o1.id}/labels`, { carrier: 'ups', packages: [{ package_id: 'nope', tracking_number: '1Z' }] });
  assert.equal(early.status, 422);
  const missing = await api('POST', `/api/v1/outbound-orders/${o1.id}/labels`, { carrier: 'ups', packages: [{ package_id: pkgs[0]!.package_id, tracking_number: '1Z999' }] });
  assert.equal(missing.status, 422, 'every package needs its label');
  const ok = await api('POST', `/api/v1/outbound-orders/${o1.id}/labels`, {
    carrier: 'ups',
    service_level: 'ups_ground',
    packages: pkgs.map((p, i) => ({ package_id: p.package_id, tracking_number: `1Z99${i}`, label_url: `https://l/${i}.zpl`, label_format: 'zpl' })),
  });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.status, 'labelled');
  await sim.advance(10);
  const shipped = rx.ofType('order.shipped');
  assert.equal(shipped.length, 1);
  assert.deepEqual(shipped[0]!.json.data.tracking_numbers, ['1Z990', '1Z991']);
  assert.equal(shipped[0]!.json.data.shipped_at, '2026-03-03T10:02:10Z');
  assert.equal(sim.order(o1.id)!.status, 'shipped');
});

test('short picks when stock is insufficient, or as scripted; nothing picked means unfulfilled', async () => {
  sim.setStock({ FURN_8888: 1, FURN_0269: 0 });
  sim.scriptShort('o2', { FURN_7800: { shortQty: 1, reason: 'damaged' } });
  const o1 = (await api('POST', '/api/v1/outbound-orders', order('o1', [{ sku: 'FURN_8888', quantity: 3 }]))).body;
  const o2 = (await api('POST', '/api/v1/outbound-orders', order('o2', [{ sku: 'FURN_7800', quantity: 2 }]))).body;
  const o3 = (await api('POST', '/api/v1/outbound-orders', order('o3', [{ sku: 'FURN_0269', quantity: 1 }]))).body;
  await sim.advance(120);
  const pick = (id: string) => rx.ofType('pick.confirmed').find((d) => d.json.data.order_id === id)!.json.data.lines as Record<string, unknown>[];
  assert.deepEqual([pick(o1.id)[0]!.picked_qty, pick(o1.id)[0]!.short_qty, pick(o1.id)[0]!.short_reason], [1, 2, 'insufficient_stock']);
  assert.deepEqual([pick(o2.id)[0]!.picked_qty, pick(o2.id)[0]!.short_qty, pick(o2.id)[0]!.short_reason], [1, 1, 'damaged']);
  assert.deepEqual([pick(o3.id)[0]!.picked_qty, pick(o3.id)[0]!.short_qty], [0, 1]);
  assert.equal(sim.order(o3.id)!.status, 'unfulfilled');
  assert.equal(sim.stats().stock.FURN_8888, 0);
  const inv = await api('GET', '/api/v1/inventory?sku=FURN_8888&sku=FURN_7800');
  assert.deepEqual(
    inv.body.items.map((i: { sku: string; on_hand: number }) => [i.sku, i.on_hand]),
    [
      ['FURN_8888', 0],
      ['FURN_7800', 99],
    ],
  );
  assert.equal((await api('GET', '/api/v1/inventory?sku=NOPE')).status, 404);
});

test('packing follows the SKU master weights set through the admin API', async () => {
  const r = await fetch(`${sim.url}/__sim/skus`, { method: 'POST', body: JSON.stringify({ items: [{ sku: 'ANVIL', weightKg: 20 }] }) });
  assert.equal(r.status, 200);
  await fetch(`${sim.url}/__sim/stock`, { method: 'POST', body: JSON.stringify({ items: [{ sku: 'ANVIL', quantity: 5 }] }) });
  const o = (await api('POST', '/api/v1/outbound-orders', order('o1', [{ sku: 'ANVIL', quantity: 3 }]))).body;
  const adv = await fetch(`${sim.url}/__sim/advance`, { method: 'POST', body: JSON.stringify({ seconds: 150 }) });
  assert.equal(adv.status, 200);
  const pkgs = sim.order(o.id)!.packages;
  assert.deepEqual(
    pkgs.map((p) => p.weight_kg),
    [20.3, 20.3, 20.3],
  );
});

test('cancel is refused once packed; ship-to is refused once shipped', async () => {
  const a = (await api('POST', '/api/v1/outbound-orders', order('a'))).body;
  const b = (await api('POST', '/api/v1/outbound-orders', order('b'))).body;
  await sim.advance(90); // picked
  const c1 = await api('POST', `/api/v1/outbound-orders/${a.id}/cancel`, { reason: 'customer request' });
  assert.equal(c1.status, 200);
  assert.equal(c1.body.status, 'cancelled');
  assert.equal(sim.stats().stock.FURN_7800, 98, 'picked units of the cancelled order go back on the shelf');
  assert.equal((await api('POST', `/api/v1/outbound-orders/${a.id}/cancel`, {})).status, 200, 'cancelling again is harmless');
  await rx.waitFor(() => rx.ofType('order.cancelled').length === 1, 5000, 'order.cancelled');
  await sim.advance(30); // b packed
  const c2 = await api('POST', `/api/v1/outbound-orders/${b.id}/cancel`, {});
  assert.equal(c2.status, 409);
  assert.equal(c2.body.error.code, 'order_not_cancellable');
  const moved = await api('PATCH', `/api/v1/outbound-orders/${b.id}/ship-to`, { ...shipTo, address1: '1 New Street' });
  assert.equal(moved.status, 200);
  assert.equal(moved.body.ship_to.address1, '1 New Street');
  const packages = sim.order(b.id)!.packages.map((p, i) => ({ package_id: p.package_id, tracking_number: `1Z${i}` }));
  assert.equal((await api('POST', `/api/v1/outbound-orders/${b.id}/labels`, { carrier: 'ups', packages })).status, 200);
  await sim.advance(10);
  const late = await api('PATCH', `/api/v1/outbound-orders/${b.id}/ship-to`, shipTo);
  assert.equal(late.status, 409);
  assert.equal(late.body.error.code, 'order_already_shipped');
});

test('webhooks are signed with HMAC-SHA256 hex and carry their id and type', async () => {
  await api('POST', '/api/v1/outbound-orders', order('o1'));
  await sim.advance(5);
  const d = rx.deliveries[0]!;
  assert.equal(d.headers['x-simwms-event-id'], d.json.id);
  assert.equal(d.headers['x-simwms-event-type'], 'order.accepted');
  assert.match(String(d.headers['x-simwms-signature']), /^sha256=[0-9a-f]{64}$/);
  assert.ok(verifyHmacHexSignature(['s3cret'], d.body, String(d.headers['x-simwms-signature'])));
  assert.ok(!verifyHmacHexSignature(['other'], d.body, String(d.headers['x-simwms-signature'])));
});

test('a failing receiver gets retries with exponential backoff until it answers 2xx', async () => {
  rx.failNext(3, 503);
  await api('POST', '/api/v1/outbound-orders', order('o1'));
  await sim.advance(5); // attempt 1 fails
  assert.equal(rx.deliveries.length, 0);
  await sim.advance(1); // +1 s: attempt 2 fails
  await sim.advance(2); // +2 s after it: attempt 3 fails at 5+1+2 = 8 s
  assert.equal(rx.deliveries.length, 0);
  await sim.advance(3.9);
  assert.equal(rx.deliveries.length, 0, 'the fourth attempt waits 4 s');
  await sim.advance(0.1);
  assert.equal(rx.deliveries.length, 1);
  const attempts = sim.log.filter((l) => l.eventId === rx.deliveries[0]!.json.id);
  assert.deepEqual(
    attempts.map((a) => [a.attempt, a.status, a.at]),
    [
      [1, 503, '2026-03-03T09:00:05Z'],
      [2, 503, '2026-03-03T09:00:06Z'],
      [3, 503, '2026-03-03T09:00:08Z'],
      [4, 200, '2026-03-03T09:00:12Z'],
    ],
  );
  assert.equal(sim.stats().webhooks.failed, 3);
});

test('webhookOutage: deliveries fail for the outage, then the retries get through', async () => {
  sim.setFaults({ webhookOutage: 20_000 });
  await api('POST', '/api/v1/outbound-orders', order('o1'));
  await sim.advance(19);
  assert.equal(rx.deliveries.length, 0);
  assert.ok(sim.stats().webhooks.failed >= 3);
  await sim.advance(30);
  assert.deepEqual(rx.types(), ['order.accepted']);
});

test('duplicateWebhooks: every webhook arrives twice with the same id', async () => {
  sim.setFaults({ duplicateWebhooks: true });
  await api('POST', '/api/v1/outbound-orders', order('o1'));
  await sim.advance(60);
  assert.deepEqual(rx.types(), ['order.accepted', 'order.accepted', 'wave.released', 'wave.released']);
  assert.equal(rx.deliveries[0]!.json.id, rx.deliveries[1]!.json.id);
  assert.equal(sim.stats().webhooks.duplicated, 2);
});

test('reorderWebhooks: held, then delivered newest first', async () => {
  sim.setFaults({ reorderWebhooks: { window: 2, holdSeconds: 5 } });
  await api('POST', '/api/v1/outbound-orders', order('o1'));
  await api('POST', '/api/v1/outbound-orders', order('o2'));
  await sim.advance(5); // two acceptances: the window is full
  const refs = rx.deliveries.map((d) => d.json.data.client_reference);
  assert.deepEqual(refs, ['o2', 'o1']);
  const ids = rx.deliveries.map((d) => d.json.id);
  assert.ok(ids[0]! > ids[1]!);
  await sim.advance(55); // the wave: held alone
  assert.equal(rx.ofType('wave.released').length, 0);
  await sim.advance(4);
  assert.equal(rx.ofType('wave.released').length, 0);
  await sim.advance(1); // held 5 s: released
  assert.equal(rx.ofType('wave.released').length, 1);
});

test('API faults: connection refused while down, 5xx, 429 with Retry-After, latency', async () => {
  sim.setFaults({ status5xx: { count: 1, status: 502 }, tooManyRequests: { count: 1, retryAfterSeconds: 7 } });
  assert.equal((await api('GET', '/api/v1/inventory')).status, 502);
  const limited = await api('GET', '/api/v1/inventory');
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get('retry-after'), '7');
  assert.equal((await api('GET', '/api/v1/inventory')).status, 200);
  sim.setFaults({ latencyMs: 60 });
  const t0 = performance.now();
  await api('GET', '/api/v1/inventory');
  assert.ok(performance.now() - t0 >= 55);
  sim.setFaults({ latencyMs: 0 });
  await sim.goDown(60_000);
  try {
    // a fresh connection (no pooled keep-alive socket)
    const code = await new Promise<string | undefined>((resolve) => {
      const req = httpRequest(`${sim.url}/api/v1/inventory`, { agent: false }, () => resolve(undefined));
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code));
      req.end();
    });
    assert.equal(code, 'ECONNREFUSED');
  } finally {
    await sim.up();
  }
  assert.equal((await api('GET', '/api/v1/inventory')).status, 200);
});

test('admin: stats, reset, faults and advance over HTTP', async () => {
  await api('POST', '/api/v1/outbound-orders', order('o1'));
  const stats = (await (await fetch(`${sim.url}/__sim/stats`)).json()) as ReturnType<typeof sim.stats>;
  assert.equal(stats.orders.total, 1);
  assert.equal(stats.requests['POST /api/v1/outbound-orders'], 1);
  assert.equal((await fetch(`${sim.url}/__sim/faults`, { method: 'POST', body: JSON.stringify({ status5xx: { count: 1 } }) })).status, 200);
  assert.equal((await api('GET', '/api/v1/inventory')).status, 503);
  assert.equal((await fetch(`${sim.url}/__sim/advance`, { method: 'POST', body: JSON.stringify({ seconds: -1 }) })).status, 422);
  assert.equal((await fetch(`${sim.url}/__sim/reset`, { method: 'POST' })).status, 200);
  assert.equal(sim.orders().length, 0);
});
