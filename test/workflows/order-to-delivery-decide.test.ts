/**
 * The order-to-delivery decisions as pure functions: the happy path step by step, a split,
 * a short pick, tracking problems and their recovery, cancellation after release with its
 * compensations, an address corrected after release, Odoo's echoes ignored.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideOrderToDelivery, type O2DConfig, type O2DState } from '../../src/workflows/order-to-delivery/decide.ts';
import type { Decision } from '../../src/workflows/engine.ts';
import type { StoredEvent } from '../../src/pipeline/types.ts';

const cfg: O2DConfig = { ackTimeoutMinutes: 15, firstScanHours: 24, noteWindowSeconds: 300, invoicePolicy: 'on_delivery', shortPickPolicy: 'backorder' };
const now = new Date('2026-11-24T10:00:00Z');
let seq = 0;
const ev = (type: string, data: Record<string, unknown>, source = 'urn:hub:connector:wms:wh1'): StoredEvent => ({
  seq: ++seq, tenantId: 't', id: `e${seq}`, source, type, specversion: '1.0', subject: null, key: 'k', time: null, occurredAt: null,
  receivedAt: now, datacontenttype: null, dataschema: null, data, extensions: {}, correlationId: null,
});
const shipTo = { name: 'Deco Addict', address: { lines: ['77 Santa Barbara Rd'], city: 'Pleasant Hill', postalCode: '94523', countryCode: 'US' } };
const released = ev('order.released.v1', {
  fulfilmentRequestId: 'ful-61', orderId: 'ord-odoo-s00013', orderNumber: 'S00013', warehouseId: 'loc-8', releasedAt: now.toISOString(), shipTo,
  refs: [{ system: 'odoo:stock.picking', id: '61' }], deliverBy: '2026-11-28T00:00:00Z',
  lines: [{ lineId: '101', orderLineId: '13', itemId: 'itm-13', sku: 'FURN_0097', quantity: 2, uom: 'EA' }, { lineId: '102', orderLineId: '14', itemId: 'itm-20', sku: 'E-COM10', quantity: 1, uom: 'EA' }],
}, 'urn:hub:connector:odoo:t');

function run(events: StoredEvent[], start?: O2DState): { state: O2DState; decisions: Decision<O2DState>[] } {
  let state = start;
  const decisions: Decision<O2DState>[] = [];
  for (const e of events) {
    const d = decideOrderToDelivery(cfg, state, e, now);
    decisions.push(d);
    state = d.state;
  }
  return { state: state!, decisions };
}
const steps = (d: Decision<O2DState>) => (d.steps ?? []).map((s) => s.key);
/** The completion of a part's Odoo validation. */
const validated = (shipmentId: string) =>
  ev('hub.step.completed.v1', { workflow: 'order-to-delivery', instance: 'ord-odoo-s00013', step: 'odoo.validate', stepKey: `odoo.validate:${shipmentId}`, completedAt: now.toISOString(), output: {} }, 'urn:hub:workflow:order-to-delivery');

/** The route step's completion: the parts it decided. */
const split = (parts: { fr: string; wh: string; lines: [string, number][] }[]) =>
  ev('hub.step.completed.v1', {
    workflow: 'order-to-delivery', instance: 'ord-odoo-s00013', step: 'route', stepKey: 'route:ful-61', completedAt: now.toISOString(),
    output: { reason: 'test', parts: parts.map((p) => ({ fulfilmentRequestId: p.fr, warehouseId: p.wh, lines: p.lines.map(([orderLineId, quantity]) => ({ orderLineId, quantity })) })) },
  }, 'urn:hub:workflow:order-to-delivery');

describe('order to delivery, decisions', () => {
  it('the happy path: route, release, book, labels, validate in Odoo, notes, invoice on delivery, complete', () => {
    const { state, decisions } = run([
      released,
      split([{ fr: 'ful-61', wh: 'loc-east', lines: [['101', 2], ['102', 1]] }]),
      ev('fulfilment.acknowledged.v1', { fulfilmentRequestId: 'ful-61', warehouseId: 'loc-east', status: 'accepted', acknowledgedAt: now.toISOString() }),
      ev('order.picked.v1', { fulfilmentRequestId: 'ful-61', pickedAt: now.toISOString(), lines: [{ orderLineId: '101', sku: 'FURN_0097', quantity: 2, uom: 'EA' }, { orderLineId: '102', sku: 'E-COM10', quantity: 1, uom: 'EA' }] }),
      ev('shipment.packed.v1', { shipmentId: 'shp-61', orderId: 'ord-odoo-s00013', packedAt: now.toISOString(), packages: [{ packageId: 'P1', weight: { value: 12.5, unit: 'kg' } }] }),
      ev('shipment.booked.v1', { shipmentId: 'shp-61', orderId: 'ord-odoo-s00013', bookedAt: now.toISOString(), carrier: { carrierCode: 'ups', service: 'Ground' }, trackingNumber: '1Z999', packages: [{ packageId: 'P1', trackingNumber: '1Z999' }] }, 'urn:hub:workflow:order-to-delivery'),
      ev('shipment.dispatched.v1', { shipmentId: 'shp-61', orderId: 'ord-odoo-s00013', dispatchedAt: now.toISOString() }),
      validated('shp-61'),
      ev('shipment.tracking.v1', { shipmentId: 'shp-61', orderId: 'ord-odoo-s00013', status: 'in_transit', occurredAt: now.toISOString() }, 'urn:hub:tracking:ups'),
      ev('shipment.delivered.v1', { shipmentId: 'shp-61', orderId: 'ord-odoo-s00013', deliveredAt: now.toISOString() }, 'urn:hub:tracking:ups'),
      ev('order.invoiced.v1', { orderId: 'ord-odoo-s00013', invoiceId: 'inv-7', invoicedAt: now.toISOString(), refs: [{ system: 'hub:shipment', id: 'shp-61' }] }, 'urn:hub:workflow:order-to-delivery'),
    ]);
    assert.deepEqual(decisions.map(steps), [
      ['route:ful-61'], ['wms.release:ful-61'], [], [], ['carrier.book:shp-61'], ['wms.labels:shp-61:1Z999'], ['odoo.validate:shp-61'], [],
      [`odoo.note:shp-61:${Math.floor(now.getTime() / 300_000)}`], ['odoo.invoice:shp-61'], [],
    ]);
    assert.deepEqual(decisions[1]!.refs, ['ful-61', 'shp-61']);
    assert.equal(decisions[1]!.emit, undefined, 'one warehouse: no split');
    assert.deepEqual(decisions[5]!.refs, ['1Z999']);
    assert.deepEqual(decisions[6]!.steps![0]!.input.lines, [{ moveId: 101, itemId: 'itm-13', sku: 'FURN_0097', quantity: 2 }, { moveId: 102, itemId: 'itm-20', sku: 'E-COM10', quantity: 1 }]);
    assert.equal(decisions[6]!.steps![0]!.input.remainder, 'backorder');
    assert.equal(decisions[6]!.steps![0]!.input.trackingRef, '1Z999');
    assert.deepEqual(decisions[2]!.cancelTimers, ['ack:ful-61']);
    assert.equal(decisions.at(-1)!.status, 'completed');
    assert.equal(state.phase, 'complete');
  });

  it('a split releases each part to its warehouse; parts validate in Odoo with the backorder policy only on the last', () => {
    const { state, decisions } = run([
      released,
      split([{ fr: 'ful-61', wh: 'loc-east', lines: [['101', 2]] }, { fr: 'ful-61-2', wh: 'loc-west', lines: [['102', 1]] }]),
      ev('shipment.dispatched.v1', { shipmentId: 'shp-61-2', orderId: 'ord-odoo-s00013', dispatchedAt: now.toISOString() }),
      ev('shipment.dispatched.v1', { shipmentId: 'shp-61', orderId: 'ord-odoo-s00013', dispatchedAt: now.toISOString() }),
    ]);
    assert.deepEqual(steps(decisions[1]!), ['wms.release:ful-61', 'wms.release:ful-61-2']);
    assert.deepEqual(decisions[1]!.emit!.map((e) => [e.type, (e.data.parts as unknown[]).length]), [['order.split.v1', 2]], 'order.split.v1 when two warehouses ship it');
    assert.deepEqual(state.parts.map((p) => [p.shipmentId, p.warehouseId]), [['shp-61', 'loc-east'], ['shp-61-2', 'loc-west']]);
    assert.deepEqual([decisions[2]!.steps![0]!.input.remainder, decisions[3]!.steps![0]!.input.remainder], ['backorder', 'backorder']);
    const cancelCfg = { ...cfg, shortPickPolicy: 'cancel' as const };
    const d = decideOrderToDelivery(cancelCfg, decisions[2]!.state, ev('shipment.dispatched.v1', { shipmentId: 'shp-61', orderId: 'ord-odoo-s00013', dispatchedAt: now.toISOString() }), now);
    assert.equal(d.steps![0]!.input.remainder, 'cancel', 'the last part applies the policy');
  });

  it('a short pick backorders the rest and raises a stock shortage for the warehouse', () => {
    const { decisions } = run([
      released, split([{ fr: 'ful-61', wh: 'loc-east', lines: [['101', 2], ['102', 1]] }]),
      ev('order.picked.v1', { fulfilmentRequestId: 'ful-61', pickedAt: now.toISOString(), lines: [{ orderLineId: '101', sku: 'FURN_0097', quantity: 1, uom: 'EA' }, { orderLineId: '102', sku: 'E-COM10', quantity: 1, uom: 'EA' }] }),
    ]);
    const d = decisions[2]!;
    assert.deepEqual(d.emit!.map((e) => [e.type, (e.data.lines as unknown[]).length]), [['order.backordered.v1', 1]]);
    assert.deepEqual(d.exceptions!.map((x) => [x.exceptionClass, x.code]), [['stock_shortage', 'short_pick:ful-61']]);
    assert.match(d.exceptions![0]!.message, /FURN_0097 1 of 2/);
    assert.deepEqual(d.state.parts[0]!.lines.map((l) => l.picked), [1, 1]);
  });

  it('a failed delivery attempt raises an exception; the next scan resolves it; timers raise missing scans and late deliveries', () => {
    const base = run([
      released, split([{ fr: 'ful-61', wh: 'loc-east', lines: [['101', 2], ['102', 1]] }]),
      ev('shipment.booked.v1', { shipmentId: 'shp-61', orderId: 'ord-odoo-s00013', bookedAt: now.toISOString(), carrier: { carrierCode: 'ups' }, trackingNumber: '1Z999' }, 'urn:hub:workflow:order-to-delivery'),
    ]);
    const booked = base.decisions[2]!;
    assert.deepEqual(booked.timers!.map((t) => [t.name, t.dueAt.toISOString()]), [['first-scan:shp-61', '2026-11-25T10:00:00.000Z'], ['promise:shp-61', '2026-11-28T00:00:00.000Z']]);
    const noScan = decideOrderToDelivery(cfg, base.state, ev('hub.timer.fired.v1', { name: 'first-scan:shp-61' }, 'urn:hub:timers'), now);
    assert.deepEqual(noScan.exceptions!.map((x) => [x.exceptionClass, x.code]), [['missing_scan', 'no_scan:shp-61']]);
    const failed = decideOrderToDelivery(cfg, base.state, ev('shipment.tracking.v1', { shipmentId: 'shp-61', status: 'delivery_failed', carrierStatusText: 'Receiver not available', occurredAt: now.toISOString() }, 'urn:hub:tracking:ups'), now);
    assert.deepEqual(failed.exceptions!.map((x) => [x.exceptionClass, x.code]), [['delivery_failed', 'tracking:shp-61:delivery_failed']]);
    assert.deepEqual(failed.resolve!.map((r) => r.code), ['no_scan:shp-61'], 'any scan answers the missing-scan exception');
    const again = decideOrderToDelivery(cfg, failed.state, ev('shipment.tracking.v1', { shipmentId: 'shp-61', status: 'out_for_delivery', occurredAt: now.toISOString() }, 'urn:hub:tracking:ups'), now);
    assert.ok(again.resolve!.some((r) => r.code === 'tracking:shp-61:delivery_failed' && /recovered: out_for_delivery/.test(r.resolution)));
    assert.equal(again.steps, undefined, 'one Odoo note per shipment and window: the second scan joins the first');
    const late = decideOrderToDelivery(cfg, again.state, ev('hub.timer.fired.v1', { name: 'promise:shp-61' }, 'urn:hub:timers'), now);
    assert.deepEqual(late.exceptions!.map((x) => x.exceptionClass), ['eta_breached']);
  });

  it('cancelled after release: the WMS release is cancelled and a booked label voided; shipped parts are left alone', () => {
    const { state } = run([
      released,
      split([{ fr: 'ful-61', wh: 'loc-east', lines: [['101', 2]] }, { fr: 'ful-61-2', wh: 'loc-west', lines: [['102', 1]] }]),
      ev('shipment.booked.v1', { shipmentId: 'shp-61', orderId: 'ord-odoo-s00013', bookedAt: now.toISOString(), carrier: { carrierCode: 'ups' }, trackingNumber: '1Z999' }, 'urn:hub:workflow:order-to-delivery'),
      ev('shipment.dispatched.v1', { shipmentId: 'shp-61-2', orderId: 'ord-odoo-s00013', dispatchedAt: now.toISOString() }),
    ]);
    const d = decideOrderToDelivery(cfg, state, ev('order.cancelled.v1', { orderId: 'ord-odoo-s00013', cancelledAt: now.toISOString() }, 'urn:hub:connector:odoo:t'), now);
    assert.deepEqual(steps(d), ['wms.cancel:ful-61', 'carrier.void:shp-61']);
    assert.equal(d.status, 'running', 'a shipped part is still on its way');
    assert.equal(d.state.phase, 'cancelled');
  });

  it('an address corrected after release goes to the WMS of parts not shipped; a shipped part raises an address issue', () => {
    const { state } = run([
      released,
      split([{ fr: 'ful-61', wh: 'loc-east', lines: [['101', 2]] }, { fr: 'ful-61-2', wh: 'loc-west', lines: [['102', 1]] }]),
      ev('shipment.dispatched.v1', { shipmentId: 'shp-61-2', orderId: 'ord-odoo-s00013', dispatchedAt: now.toISOString() }),
    ]);
    const moved = { ...shipTo, address: { ...shipTo.address, lines: ['78 Santa Barbara Rd'] } };
    const d = decideOrderToDelivery(cfg, state, ev('order.updated.v1', { orderId: 'ord-odoo-s00013', shipTo: moved }, 'urn:hub:connector:odoo:t'), now);
    assert.equal(d.steps!.length, 1);
    assert.match(d.steps![0]!.key, /^wms\.ship_to:ful-61:/);
    assert.deepEqual(d.exceptions!.map((x) => [x.exceptionClass, x.code]), [['address_issue', 'address_after_ship:shp-61-2']]);
    const same = decideOrderToDelivery(cfg, d.state, ev('order.updated.v1', { orderId: 'ord-odoo-s00013', shipTo: moved }, 'urn:hub:connector:odoo:t'), now);
    assert.equal(same.steps, undefined, 'the same address again changes nothing');
  });

  it("Odoo's echoes of the hub's own writes are ignored", () => {
    const { state } = run([released, split([{ fr: 'ful-61', wh: 'loc-east', lines: [['101', 2], ['102', 1]] }])]);
    const echo = decideOrderToDelivery(cfg, state, ev('shipment.dispatched.v1', { shipmentId: 'shp-61', orderId: 'ord-odoo-s00013', dispatchedAt: now.toISOString() }, 'urn:hub:connector:odoo:t'), now);
    assert.equal(echo.steps, undefined);
    assert.equal(echo.state, state);
  });

  it('late WMS webhooks do not move a part back: picks after the pack leave it packed and booked', () => {
    const { state } = run([
      released, split([{ fr: 'ful-61', wh: 'loc-east', lines: [['101', 2], ['102', 1]] }]),
      ev('shipment.packed.v1', { shipmentId: 'shp-61', orderId: 'ord-odoo-s00013', packedAt: now.toISOString(), packages: [{ packageId: 'P1', weight: { value: 3, unit: 'kg' } }] }),
      ev('fulfilment.acknowledged.v1', { fulfilmentRequestId: 'ful-61', warehouseId: 'loc-east', status: 'accepted', acknowledgedAt: now.toISOString() }),
      ev('order.picked.v1', { fulfilmentRequestId: 'ful-61', pickedAt: now.toISOString(), lines: [{ orderLineId: '101', sku: 'FURN_0097', quantity: 2, uom: 'EA' }, { orderLineId: '102', sku: 'E-COM10', quantity: 1, uom: 'EA' }] }),
    ]);
    assert.equal(state.parts[0]!.status, 'packed');
    assert.deepEqual(state.parts[0]!.lines.map((l) => l.picked), [2, 1], 'the picked quantities still count');
  });

  it('the carrier delivers before the ship confirmation reaches Odoo: Odoo is validated first, then invoiced', () => {
    const { state, decisions } = run([
      released, split([{ fr: 'ful-61', wh: 'loc-east', lines: [['101', 2], ['102', 1]] }]),
      ev('shipment.booked.v1', { shipmentId: 'shp-61', orderId: 'ord-odoo-s00013', bookedAt: now.toISOString(), carrier: { carrierCode: 'ups' }, trackingNumber: '1Z999' }, 'urn:hub:workflow:order-to-delivery'),
      ev('shipment.delivered.v1', { shipmentId: 'shp-61', orderId: 'ord-odoo-s00013', deliveredAt: now.toISOString() }, 'urn:hub:tracking:ups'),
      ev('shipment.dispatched.v1', { shipmentId: 'shp-61', orderId: 'ord-odoo-s00013', dispatchedAt: now.toISOString() }),
      validated('shp-61'),
    ]);
    assert.deepEqual(decisions.slice(3).map(steps), [['odoo.validate:shp-61'], [], ['odoo.invoice:shp-61']], 'validate on delivery, the late dispatch changes nothing, invoice once validated');
    assert.equal(state.parts[0]!.status, 'delivered');
  });
});
