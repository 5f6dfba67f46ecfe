/**
 * Contract of the WMS connector with the simwms profile against the WMS simulator, over
 * real HTTP both ways: release → acknowledgement → picks → packing → labels → shipped,
 * every webhook signature-checked and mapped into canonical events by the profile;
 * cancel before and after packing; ship-to refused after shipping; and how outages and
 * refusals are classified (transient, permanent, business) with their `wms.*` codes.
 */
import { test, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { WmsSimulator } from '../../../simulators/wms/server.ts';
import { FakeClock } from '../../../src/platform/clock.ts';
import { HubError } from '../../../src/domain/errors.ts';
import { keyOf } from '../../../src/domain/catalogue.ts';
import type { IncomingEvent } from '../../../src/pipeline/types.ts';
import { builtinProfilePath, loadProfile, WmsClient, WmsConnector, verifyWmsSignature, wmsWebhookMapper } from '../../../src/connectors/wms/index.ts';
import type { OperationInputs } from '../../../src/connectors/wms/mappers.ts';
import { WebhookReceiver, type ReceivedDelivery } from '../../fixtures/wms/receiver.ts';

const SECRET = 'wms-hook-secret';
const profile = loadProfile(builtinProfilePath('simwms'));
const mapper = wmsWebhookMapper(profile);
const clock = new FakeClock('2026-03-03T09:00:00Z');
const rx = await WebhookReceiver.start();
const sim = await WmsSimulator.start({ clock, webhookUrl: rx.url, webhookSecret: SECRET });
const wms = new WmsConnector({ profile, transport: new WmsClient({ baseUrl: sim.url, apiKey: sim.apiKey, auth: profile.auth, timeoutMs: 5000 }) });

/** What the hub's webhook route does with a delivery: check the signature, map it. */
const events: IncomingEvent[] = [];
let n = 0;
const hubRoute = async (d: ReceivedDelivery) => {
  if (!verifyWmsSignature(profile, d.headers, d.body, [SECRET])) throw new Error('bad signature');
  const mapped = await mapper.map(
    { receiptId: ++n, partner: 'simwms', tenantId: 'default', webhookId: String(d.headers['x-simwms-event-id']), contentType: 'application/json', body: d.body, correlationId: `c-${n}` },
    { maxBatch: 100 },
  );
  events.push(...(await mapped));
};
rx.onDelivery = hubRoute;

after(async () => {
  await sim.stop();
  await rx.stop();
});
beforeEach(() => {
  clock.set('2026-03-03T09:00:00Z');
  sim.reset();
  events.length = 0;
  rx.deliveries.length = 0;
});

const release = (): OperationInputs['release'] => JSON.parse(readFileSync(new URL('../../fixtures/wms/release-input.json', import.meta.url), 'utf8'));
const ofType = (t: string) => events.filter((e) => e.type === t);
const data = (e: IncomingEvent) => e.data as Record<string, any>;

async function rejection(p: Promise<unknown>): Promise<HubError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof HubError, `a HubError, got ${e}`);
    return e;
  }
  assert.fail('expected a rejection');
}

test('release → ack → picks (one short) → packed → labels → shipped, all through the profile', async () => {
  sim.setStock({ FURN_8888: 1 });
  const input = release();
  const r = await wms.release(input);
  assert.equal(r.status, 201);
  const { wmsOrderId, status, refs } = r.result as { wmsOrderId: string; status: string; refs: unknown[] };
  assert.match(wmsOrderId, /^SO-\d{6}$/);
  assert.equal(status, 'received');
  assert.deepEqual(refs, [{ system: 'wms:simwms', id: wmsOrderId }]);
  const again = await wms.release(input);
  assert.equal((again.result as { wmsOrderId: string }).wmsOrderId, wmsOrderId, 'a retried release is the same order (Idempotency-Key)');

  await sim.advance(5);
  const [ack] = ofType('fulfilment.acknowledged.v1');
  assert.ok(ack);
  assert.deepEqual(data(ack), {
    fulfilmentRequestId: input.fulfilmentRequestId,
    refs: [{ system: 'wms:simwms', id: wmsOrderId }],
    orderId: input.orderId,
    warehouseId: 'loc-wh',
    status: 'accepted',
    acknowledgedAt: '2026-03-03T09:00:05Z',
  });
  assert.equal(ack.key, input.orderId);
  assert.equal(ack.source, '/wms/simwms');

  await sim.advance(85); // wave at +60 (no canonical event), picks at +90
  assert.equal(events.length, 2, 'the acknowledgement and the picks: what to do with the short line is the hub\'s policy');
  const picked = data(ofType('order.picked.v1')[0]!);
  assert.deepEqual(picked.lines, [
    { orderLineId: '101', sku: 'FURN_7800', quantity: 3, uom: 'EA' },
    { orderLineId: '102', sku: 'FURN_8888', quantity: 1, uom: 'EA' },
  ]);
  assert.equal(ofType('order.backordered.v1').length, 0);

  await sim.advance(30);
  const packedEvent = ofType('shipment.packed.v1')[0]!;
  const packed = data(packedEvent);
  assert.equal(packedEvent.key, input.fulfilmentRequestId, 'the fulfilment request id is the shipment id');
  assert.equal(packed.shipTo.name, input.shipTo.name);
  assert.equal(packed.shipFrom.address.city, 'Reno');
  assert.equal(packed.packages.length, 3);
  const units = packed.packages.flatMap((p: { contents: { quantity: number }[] }) => p.contents).reduce((s: number, c: { quantity: number }) => s + c.quantity, 0);
  assert.equal(units, 4);

  // the hub books a carrier and attaches the labels, from the canonical packages
  const packages = packed.packages.map((p: { packageId: string }, i: number) => ({ packageId: p.packageId, trackingNumber: `1Z999AA1012345678${i}` }));
  const labelled = await wms.attachLabels({
    wmsOrderId,
    orderId: input.orderId,
    shipmentId: packed.shipmentId,
    carrier: { carrierCode: 'ups', service: 'ups_ground' },
    packages,
    labels: packages.map((p: { packageId: string; trackingNumber: string }) => ({ packageId: p.packageId, format: 'zpl' as const, uri: `https://labels.example.com/${p.trackingNumber}.zpl` })),
  });
  assert.equal((labelled.result as { status: string }).status, 'labelled');
  assert.equal(sim.order(wmsOrderId)!.packages[0]!.label_url, 'https://labels.example.com/1Z999AA10123456780.zpl');

  await sim.advance(10);
  const dispatched = data(ofType('shipment.dispatched.v1')[0]!);
  assert.deepEqual(dispatched, {
    shipmentId: input.fulfilmentRequestId,
    refs: [{ system: 'wms:simwms', id: wmsOrderId }],
    orderId: input.orderId,
    dispatchedAt: '2026-03-03T09:02:10Z',
    carrier: { carrierCode: 'ups', service: 'ups_ground' },
    trackingNumber: '1Z999AA10123456780',
    fromLocationId: 'loc-wh',
  });
  // every event is valid, keyed, and its id is stable per WMS event
  for (const e of events) assert.equal(e.key, keyOf(e.type, e.data));
  assert.equal(new Set(events.map((e) => e.id)).size, events.length);
});

test('duplicate webhooks map to the same CloudEvents ids (stored once by the inbox)', async () => {
  sim.setFaults({ duplicateWebhooks: true });
  await wms.release(release());
  await sim.advance(5);
  assert.equal(events.length, 2);
  assert.equal(events[0]!.id, events[1]!.id);
  assert.equal(events[0]!.id, `simwms:${rx.deliveries[0]!.json.id}:0`);
});

test('cancel before packing succeeds and is confirmed by shipment.cancelled; after packing it is a business refusal', async () => {
  const a = release();
  const b = { ...release(), orderId: 'ord-S00070', fulfilmentRequestId: 'ful-S00070-1' };
  const ra = (await wms.release(a)).result as { wmsOrderId: string };
  const rb = (await wms.release(b)).result as { wmsOrderId: string };
  await sim.advance(90);
  const c = await wms.cancel({ wmsOrderId: ra.wmsOrderId, orderId: a.orderId, reason: 'customer changed their mind' });
  assert.equal((c.result as { status: string }).status, 'cancelled');
  await rx.waitFor(() => ofType('shipment.cancelled.v1').length === 1, 5000, 'shipment.cancelled.v1');
  assert.deepEqual(data(ofType('shipment.cancelled.v1')[0]!), {
    shipmentId: a.fulfilmentRequestId, refs: [{ system: 'wms:simwms', id: ra.wmsOrderId }], orderId: a.orderId, cancelledAt: '2026-03-03T09:01:30Z', reason: 'customer changed their mind',
  });
  assert.equal(ofType('order.cancelled.v1').length, 0, 'one WMS order is one shipment, not the whole order');

  await sim.advance(30);
  const e = await rejection(wms.cancel({ wmsOrderId: rb.wmsOrderId, orderId: b.orderId }));
  assert.equal(e.code, 'wms.conflict');
  assert.equal(e.errorClass, 'business');
  assert.match(e.message, /is packed and can no longer be cancelled/);
  assert.equal(e.extra?.wmsCode, 'order_not_cancellable');
});

test('the ship-to address can change until the order ships, then the WMS refuses', async () => {
  const input = release();
  const { wmsOrderId } = (await wms.release(input)).result as { wmsOrderId: string };
  const shipTo = { ...input.shipTo, address: { ...input.shipTo.address, lines: ['1 Market Street', 'Floor 3', 'Desk 9'] } };
  await wms.updateShipTo({ wmsOrderId, orderId: input.orderId, shipTo });
  assert.equal(sim.order(wmsOrderId)!.ship_to.address2, 'Floor 3, Desk 9');
  await sim.advance(120);
  const packages = sim.order(wmsOrderId)!.packages.map((p, i) => ({ packageId: p.package_id, trackingNumber: `1Z${i}` }));
  await wms.attachLabels({ wmsOrderId, orderId: input.orderId, shipmentId: input.fulfilmentRequestId, carrier: { carrierCode: 'ups' }, packages });
  await sim.advance(10);
  assert.equal(sim.order(wmsOrderId)!.status, 'shipped');
  const e = await rejection(wms.updateShipTo({ wmsOrderId, orderId: input.orderId, shipTo: input.shipTo }));
  assert.equal(e.code, 'wms.conflict');
  assert.equal(e.errorClass, 'business');
  assert.match(e.message, /has shipped/);
});

test('inventory through the profile: stock per SKU in canonical terms', async () => {
  const r = await wms.getInventory({ skus: ['FURN_7800', 'CABLE-01'] });
  assert.deepEqual(
    (r.result as { sku: string; onHand: number; locationId: string }[]).map((l) => [l.sku, l.onHand, l.locationId]),
    [
      ['FURN_7800', 100, 'loc-wh'],
      ['CABLE-01', 100, 'loc-wh'],
    ],
  );
});

test('outages and refusals are classified: connection, 5xx and 429 transient; 401 permanent; 422 business; timeout transient', async () => {
  const input = release();
  await sim.goDown(60_000);
  try {
    const down = await rejection(wms.release(input));
    assert.equal(down.code, 'wms.connection_failed');
    assert.equal(down.errorClass, 'transient');
  } finally {
    await sim.up();
  }
  sim.setFaults({ status5xx: { count: 1 } });
  const unavailable = await rejection(wms.release(input));
  assert.deepEqual([unavailable.code, unavailable.errorClass], ['wms.unavailable', 'transient']);
  sim.setFaults({ tooManyRequests: { count: 1, retryAfterSeconds: 7 } });
  const limited = await rejection(wms.release(input));
  assert.deepEqual([limited.code, limited.errorClass, limited.retryAfterMs], ['wms.rate_limited', 'transient', 7000]);

  const wrongKey = new WmsConnector({ profile, transport: new WmsClient({ baseUrl: sim.url, apiKey: 'wrong', auth: profile.auth }) });
  const denied = await rejection(wrongKey.release(input));
  assert.deepEqual([denied.code, denied.errorClass], ['wms.unauthorized', 'permanent']);

  const unknownSku = { ...input, lines: [{ ...input.lines[0]!, sku: 'NOPE-1' }] };
  const refused = await rejection(wms.release(unknownSku));
  assert.deepEqual([refused.code, refused.errorClass], ['wms.rejected', 'business']);
  assert.match(refused.message, /unknown SKU "NOPE-1"/);

  sim.setFaults({ latencyMs: 400 });
  const slow = new WmsConnector({ profile, transport: new WmsClient({ baseUrl: sim.url, apiKey: sim.apiKey, timeoutMs: 100 }) });
  const timeout = await rejection(slow.getInventory({}));
  assert.deepEqual([timeout.code, timeout.errorClass], ['wms.timeout', 'transient']);
  sim.setFaults({ latencyMs: 0 });

  const notFound = await rejection(wms.cancel({ wmsOrderId: 'SO-424242', orderId: input.orderId }));
  assert.deepEqual([notFound.code, notFound.errorClass], ['wms.not_found', 'permanent']);
  // nothing was created by the refused or failed calls
  assert.equal(sim.orders().length, 0);
});

test('bad canonical input is refused before any request', async () => {
  const before = sim.stats().requests;
  const e = await rejection(wms.release({ ...release(), lines: [] }));
  assert.equal(e.code, 'wms.invalid_input');
  assert.equal(e.errorClass, 'permanent');
  assert.ok(e.issues.some((i) => i.path === '/lines'));
  assert.deepEqual(sim.stats().requests, before);
});

test('a delivery signed with another secret, or not signed, is refused', async () => {
  await wms.release(release());
  rx.onDelivery = undefined;
  await sim.advance(5).finally(() => (rx.onDelivery = hubRoute));
  const d = rx.deliveries.at(-1)!;
  assert.ok(verifyWmsSignature(profile, d.headers, d.body, [SECRET]));
  assert.ok(!verifyWmsSignature(profile, d.headers, d.body, ['another']));
  assert.ok(!verifyWmsSignature(profile, { ...d.headers, 'x-simwms-signature': undefined }, d.body, [SECRET]));
  assert.ok(!verifyWmsSignature(profile, d.headers, Buffer.concat([d.body, Buffer.from(' ')]), [SECRET]));
});
