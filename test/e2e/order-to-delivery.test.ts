/**
 * Order to delivery to invoice, end to end through real protocols: an Odoo 18 simulator, two
 * SimWMS warehouses and the EasyPost-style aggregator, each over HTTP, and a hub on a real
 * PostgreSQL configured as `logistics-hub demo` configures it. The simulators' clocks are in
 * the test's hands; the hub runs on the wall clock. What the user sees: the sale order in Odoo
 * delivered with its tracking number, the tracking milestones in the chatter, the invoice
 * posted once, and the order's workflow completed without a dead letter.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.ts';
import { startLandscape, type Landscape } from '../../src/demo/landscape.ts';
import { collectTrace, renderTrace } from '../../src/cli/commands/trace.ts';

let l: Landscape;
const db = await freshDatabase();

before(async () => {
  // Gemini Furniture (pty-11) will not have its parcels carried by USPS
  l = await startLandscape({ databaseUrl: db.url, captureIntervalMs: 1000, flow: { customers: { 'pty-11': { deny: ['USPS'] } } } });
  // the shipping methods Odoo knows, by carrier name
  for (const name of ['USPS', 'UPS', 'FedEx', 'DHLExpress']) l.odoo.db.call(2, 'delivery.carrier', 'create', [{ name, delivery_type: 'fixed', invoice_policy: 'estimated', product_id: 51 }], {});
});
after(() => l?.stop());

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows as T[];

/** Moves the simulators' time in small steps until `done` holds (the hub reacts in real time in between). */
async function until(what: string, done: () => Promise<boolean>, o: { wms?: number; carrier?: number; timeoutMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  while (!(await done())) {
    if (Date.now() > deadline) {
      const steps = await q(`select instance, step_key, status, attempts, error from hub_workflow_steps where status <> 'done' order by id`);
      const wfs = await q(`select instance, status, state->'parts' as parts from hub_workflows where status <> 'completed'`);
      const ex = await q(`select key, code, message from hub_exceptions order by id desc limit 5`);
      const events = await q(`select type, count(*)::int n from hub_events group by 1 order by 1`);
      const dead = await q(`select error_code, error_message from hub_dead_letters`).catch(() => []);
      throw new Error(`timed out waiting for ${what}\nsteps not done: ${JSON.stringify(steps)}\nworkflows: ${JSON.stringify(wfs)}\nexceptions: ${JSON.stringify(ex)}\nevents: ${JSON.stringify(events)}\ndead letters: ${JSON.stringify(dead)}`);
    }
    if (o.wms) await Promise.all([l.east.advance(o.wms), l.west.advance(o.wms)]);
    if (o.carrier) l.easypost.advance(o.carrier);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function saleOrder(lines: [product: number, qty: number][], ref: string, partner = 10): { so: number; name: string } {
  const so = l.odoo.db.call(2, 'sale.order', 'create', [{ partner_id: partner, client_order_ref: ref, order_line: lines.map(([p, n]) => [0, 0, { product_id: p, product_uom_qty: n }]) }], {}) as number;
  l.odoo.db.call(2, 'sale.order', 'action_confirm', [[so]], {});
  const [row] = l.odoo.db.call(2, 'sale.order', 'read', [[so], ['name']], {}) as { name: string }[];
  return { so, name: row!.name };
}
const orderIdOf = (name: string) => `ord-${name}`;
const read = (model: string, id: number, fields: string[]) => (l.odoo.db.call(2, model, 'read', [[id], fields], {}) as Record<string, unknown>[])[0]!;

interface Wf {
  status: string;
  state: { phase: string; parts: { shipmentId: string; fulfilmentRequestId: string; status: string; trackingNumber?: string; warehouseId: string }[] };
}
const workflow = async (orderId: string) => (await q<Wf>(`select status, state from hub_workflows where instance = $1`, [orderId]))[0];
const stepDone = async (orderId: string, step: string) => (await q(`select 1 from hub_workflow_steps where instance = $1 and step = $2 and status = 'done'`, [orderId, step])).length;
const exceptions = (orderId: string) => q<{ code: string; status: string; details: { class: string } }>(`select code, status, details from hub_exceptions where key = $1 order by id`, [orderId]);

describe('order to delivery to invoice', () => {
  it('happy path: a confirmed sale order is routed, picked, packed, booked, shipped, tracked, delivered and invoiced once', async () => {
    const { so, name } = saleOrder([[13, 1]], 'E2E-HAPPY');
    const orderId = orderIdOf(name);
    const wf = async () => (await q<{ status: string; state: { phase: string; parts: { status: string; trackingNumber?: string; warehouseId: string }[] } }>(`select status, state from hub_workflows where instance = $1`, [orderId]))[0];
    await until('the order reaches the east warehouse', async () => (await q(`select 1 from hub_workflow_steps where instance = $1 and step = 'wms.release' and status = 'done'`, [orderId])).length === 1);
    assert.deepEqual((await wf())!.state.parts.map((p) => p.warehouseId), ['loc-east'], 'the east holds the desk');
    await until('packed, booked and shipped', async () => (await wf())?.state.parts[0]?.status === 'shipped', { wms: 2 });
    const tracking = (await wf())!.state.parts[0]!.trackingNumber!;
    assert.ok(tracking, 'a tracking number from the carrier');
    await until('the Odoo delivery is validated', async () => (await q(`select 1 from hub_workflow_steps where instance = $1 and step = 'odoo.validate' and status = 'done'`, [orderId])).length === 1);
    const [pickingId] = read('sale.order', so, ['picking_ids']).picking_ids as number[];
    const picking = read('stock.picking', pickingId!, ['state', 'carrier_tracking_ref', 'carrier_id', 'shipping_weight']);
    assert.deepEqual([picking.state, picking.carrier_tracking_ref], ['done', tracking]);
    const part = (await wf())!.state.parts[0]! as unknown as { carrier: { carrierCode: string }; weightKg: number };
    assert.equal(((picking.carrier_id as [number, string]) || [0, ''])[1].toLowerCase(), part.carrier.carrierCode.toLowerCase(), 'the carrier booked, as an Odoo shipping method');
    assert.equal(Number(picking.shipping_weight), part.weightKg);
    await until('delivered and invoiced', async () => (await wf())?.status === 'completed', { carrier: 6 * 3600 });
    const order = read('sale.order', so, ['invoice_status', 'invoice_ids']);
    assert.equal(order.invoice_status, 'invoiced');
    assert.equal((order.invoice_ids as number[]).length, 1, 'one invoice');
    assert.equal(read('account.move', (order.invoice_ids as number[])[0]!, ['state']).state, 'posted');
    await until('the tracking milestones are in the chatter', async () => {
      const notes = l.odoo.db.call(2, 'mail.message', 'search_read', [[['model', '=', 'stock.picking'], ['res_id', '=', pickingId], ['body', 'like', 'Tracking']]], { fields: ['body'] }) as { body: string }[];
      return notes.some((n) => /delivered/.test(n.body));
    });
    const timeline = await q<{ type: string }>(`select type from hub_events where data->>'orderId' = $1 or key = $1 order by seq`, [orderId]);
    const types = new Set(timeline.map((e) => e.type));
    for (const t of ['order.released.v1', 'fulfilment.acknowledged.v1', 'order.picked.v1', 'shipment.packed.v1', 'shipment.booked.v1', 'shipment.dispatched.v1', 'shipment.tracking.v1', 'shipment.delivered.v1', 'order.invoiced.v1']) {
      assert.ok(types.has(t), `${t} is on the order's timeline`);
    }
    assert.deepEqual(await q(`select seq from hub_dead_letters`).catch(() => []), [], 'no dead letter');
    // the label the WMS was given is served to it by reference
    const [bookedEv] = await q<{ data: { labels: { uri: string; format: string }[] } }>(`select data from hub_events where type = 'shipment.booked.v1' and data->>'orderId' = $1 and source = 'urn:hub:workflow:order-to-delivery'`, [orderId]);
    const uri = bookedEv!.data.labels[0]!.uri;
    assert.match(uri, /^urn:hub:document:/);
    const label = await fetch(`${l.hub.url}/v1/documents/${uri.slice('urn:hub:document:'.length)}`, { headers: { authorization: `Bearer ${await token()}` } });
    assert.equal(label.status, 200);
    assert.equal(label.headers.get('content-type'), 'application/pdf');
    assert.equal(Buffer.from(await label.arrayBuffer()).subarray(0, 5).toString('latin1'), '%PDF-');
    // every partner call is counted and timed by step
    const metrics = await (await fetch(`${l.hub.url}/metrics`, { headers: { authorization: `Bearer ${await token()}` } })).text();
    for (const step of ['route', 'wms.release', 'carrier.book', 'wms.labels', 'odoo.validate', 'odoo.invoice']) {
      assert.match(metrics, new RegExp(`hub_workflow_steps_total\\{workflow="order-to-delivery",step="${step.replace('.', '\\.')}",outcome="done"\\} [1-9]`), step);
    }
    assert.match(metrics, /hub_workflow_step_duration_seconds_bucket\{le="30",workflow="order-to-delivery",step="carrier\.book",outcome="done"\} [1-9]/);
    // what `logistics-hub trace <order>` shows: the workflow, its parts and steps, and the shipment's events with the order's
    const t = await collectTrace(db.pool, orderId);
    assert.deepEqual(t.workflows.map((w) => w.status), ['completed']);
    assert.ok(t.events.some((e) => e.type === 'shipment.delivered.v1' && t.relatedKeys.includes(e.key)));
    const text = renderTrace(t);
    assert.match(text, /workflow order-to-delivery: completed/);
    assert.match(text, new RegExp(`odoo\\.invoice:${t.relatedKeys[0]}`));
    assert.match(text, new RegExp(tracking));
  });

  it('split: a desk from the east and a desk combination from the west ship apart; Odoo delivers by backorder; each delivery is invoiced', async () => {
    const { so, name } = saleOrder([[13, 1], [27, 1]], 'E2E-SPLIT');
    const orderId = orderIdOf(name);
    await until('both parts shipped', async () => (await workflow(orderId))?.state.parts.filter((p) => p.status === 'shipped' || p.status === 'delivered').length === 2, { wms: 2 });
    assert.deepEqual((await workflow(orderId))!.state.parts.map((p) => p.warehouseId).sort(), ['loc-east', 'loc-west']);
    const split = await q<{ data: { parts: unknown[] } }>(`select data from hub_events where type = 'order.split.v1' and data->>'orderId' = $1`, [orderId]);
    assert.equal(split.length, 1);
    assert.equal(split[0]!.data.parts.length, 2);
    await until('both delivered and invoiced', async () => (await workflow(orderId))?.status === 'completed', { carrier: 6 * 3600 });
    const order = read('sale.order', so, ['delivery_status', 'invoice_status', 'invoice_ids', 'picking_ids']);
    assert.deepEqual([order.delivery_status, order.invoice_status], ['full', 'invoiced']);
    assert.equal((order.picking_ids as number[]).length, 2, 'the delivery and the backorder the first part left');
    const invoiced = (order.invoice_ids as number[]).map((id) => read('account.move', id, ['state', 'invoice_line_ids']));
    assert.ok(invoiced.every((i) => i.state === 'posted'));
    const lines = invoiced.flatMap((i) => i.invoice_line_ids as number[]).map((id) => read('account.move.line', id, ['product_id', 'quantity'])).filter((x) => x.product_id);
    assert.deepEqual(lines.map((x) => [(x.product_id as [number, string])[0], Number(x.quantity)]).sort(), [[13, 1], [27, 1]], 'each unit invoiced once');
  });

  it('short pick: the warehouse picks 2 of 3; Odoo delivers 2 and backorders 1; a stock shortage is raised for the warehouse; 2 are invoiced', async () => {
    const { so, name } = saleOrder([[20, 3]], 'E2E-SHORT');
    const orderId = orderIdOf(name);
    l.east.scriptShort(orderId, { 'E-COM10': { shortQty: 1, reason: 'damaged' } });
    await until('delivered and invoiced', async () => (await workflow(orderId))?.status === 'completed', { wms: 2, carrier: 6 * 3600 });
    const order = read('sale.order', so, ['delivery_status', 'invoice_ids', 'picking_ids', 'order_line']);
    assert.equal(order.delivery_status, 'partial', 'one unit is still to deliver');
    const [line] = order.order_line as number[];
    const sol = read('sale.order.line', line!, ['qty_delivered', 'qty_invoiced']);
    assert.deepEqual([Number(sol.qty_delivered), Number(sol.qty_invoiced)], [2, 2]);
    const back = (order.picking_ids as number[]).map((id) => read('stock.picking', id, ['state', 'backorder_id'])).filter((p) => p.backorder_id);
    assert.equal(back.length, 1, 'a backorder for the unit not picked');
    const ex = await exceptions(orderId);
    assert.ok(ex.some((x) => x.code.startsWith('short_pick:') && x.details.class === 'stock_shortage' && x.status === 'open'));
    assert.equal((await q(`select 1 from hub_events where type = 'order.backordered.v1' and data->>'orderId' = $1`, [orderId])).length, 1);
  });

  it('carrier outage: the cheapest carrier quotes but cannot sell labels; the booking falls back to the next quote and records the switch', async () => {
    l.easypost.setFaults({ failPurchases: 'USPS' } as never);
    try {
      const { name } = saleOrder([[20, 1]], 'E2E-FALLBACK');
      const orderId = orderIdOf(name);
      await until('booked', async () => (await stepDone(orderId, 'carrier.book')) === 1, { wms: 2 });
      const [book] = await q<{ output: { booking: { carrierAccount?: string }; quoteOfRecord: { carrierAccount?: string }; fallbacks: { from: string; reason: string }[] } }>(
        `select output from hub_workflow_steps where instance = $1 and step = 'carrier.book'`, [orderId]);
      assert.ok(book!.output.fallbacks.length >= 1, 'the failed purchase is recorded');
      assert.match(book!.output.fallbacks[0]!.from, /^USPS /);
      assert.match(book!.output.fallbacks[0]!.reason, /label service is temporarily unavailable/);
      assert.notEqual(book!.output.booking.carrierAccount, 'USPS');
      assert.equal(book!.output.quoteOfRecord.carrierAccount, book!.output.booking.carrierAccount, 'the quote of record is the one booked');
      await until('completed', async () => (await workflow(orderId))?.status === 'completed', { wms: 2, carrier: 6 * 3600 });
    } finally {
      l.easypost.setFaults({ failPurchases: null } as never);
    }
  });

  it("a customer's deny list keeps a carrier off its parcels", async () => {
    const { name } = saleOrder([[20, 1]], 'E2E-DENY', 11);
    const orderId = orderIdOf(name);
    await until('booked', async () => (await stepDone(orderId, 'carrier.book')) === 1, { wms: 2 });
    const [book] = await q<{ output: { booking: { carrierAccount?: string }; rejected: { carrier: string; reason: string }[] } }>(`select output from hub_workflow_steps where instance = $1 and step = 'carrier.book'`, [orderId]);
    assert.notEqual(book!.output.booking.carrierAccount, 'USPS');
    assert.ok(book!.output.rejected.some((r) => r.carrier === 'USPS' && /deny list/.test(r.reason)));
  });

  it('a failed delivery attempt raises a delivery exception; the delivery the next day resolves it', async () => {
    const { name } = saleOrder([[20, 1]], 'E2E-ATTEMPT');
    const orderId = orderIdOf(name);
    await until('booked', async () => Boolean((await workflow(orderId))?.state.parts[0]?.trackingNumber), { wms: 2 });
    const tracking = (await workflow(orderId))!.state.parts[0]!.trackingNumber!;
    l.easypost.script(tracking, [
      { status: 'in_transit', status_detail: 'arrived_at_facility', afterSeconds: 3600 },
      { status: 'out_for_delivery', status_detail: 'out_for_delivery', afterSeconds: 7200 },
      { status: 'failure', status_detail: 'receiver_unavailable', message: 'Receiver not available', afterSeconds: 10800 },
      { status: 'out_for_delivery', status_detail: 'out_for_delivery', afterSeconds: 90000 },
      { status: 'delivered', status_detail: 'arrived_at_destination', afterSeconds: 93600 },
    ]);
    await until('the failed attempt is an open exception', async () => (await exceptions(orderId)).some((x) => x.details.class === 'delivery_failed' && x.status === 'open'), { wms: 2, carrier: 1800 });
    await until('completed', async () => (await workflow(orderId))?.status === 'completed', { wms: 2, carrier: 3 * 3600 });
    const ex = (await exceptions(orderId)).filter((x) => x.details.class === 'delivery_failed');
    assert.deepEqual(ex.map((x) => x.status), ['resolved'], 'one exception, resolved by the recovery');
  });

  it('cancelled after release: the warehouse order is cancelled, nothing ships, the workflow ends cancelled', async () => {
    const { so, name } = saleOrder([[20, 1]], 'E2E-CANCEL');
    const orderId = orderIdOf(name);
    await until('released', async () => (await stepDone(orderId, 'wms.release')) === 1);
    l.odoo.db.call(2, 'sale.order', 'action_cancel', [[so]], {});
    await until('the WMS release is cancelled', async () => (await stepDone(orderId, 'wms.cancel')) === 1);
    await until('the workflow is cancelled', async () => (await workflow(orderId))?.status === 'cancelled');
    const [release] = await q<{ output: { wmsOrderId: string } }>(`select output from hub_workflow_steps where instance = $1 and step = 'wms.release'`, [orderId]);
    assert.equal(l.east.order(release!.output.wmsOrderId)!.status, 'cancelled');
    await l.east.advance(120);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await stepDone(orderId, 'carrier.book')), 0, 'nothing was booked');
  });

  it('an address corrected in Odoo after release reaches the warehouse before it ships', async () => {
    const { so, name } = saleOrder([[20, 1]], 'E2E-ADDRESS');
    const orderId = orderIdOf(name);
    await until('released', async () => (await stepDone(orderId, 'wms.release')) === 1);
    const moved = l.odoo.db.call(2, 'res.partner', 'create', [{ name: 'Deco Addict, new warehouse', parent_id: 10, type: 'delivery', street: '900 Harbor Way', city: 'Richmond', zip: '94804', country_code: 'US' }], {}) as number;
    l.odoo.db.call(2, 'sale.order', 'write', [[so], { partner_shipping_id: moved }], {});
    await until('the WMS has the new address', async () => (await stepDone(orderId, 'wms.ship_to')) === 1);
    const [release] = await q<{ output: { wmsOrderId: string } }>(`select output from hub_workflow_steps where instance = $1 and step = 'wms.release'`, [orderId]);
    assert.equal(l.east.order(release!.output.wmsOrderId)!.ship_to.address1, '900 Harbor Way');
  });

  it('proof of delivery invoices once, even when the delivery is reported three times', async () => {
    const { so, name } = saleOrder([[20, 1]], 'E2E-POD3');
    const orderId = orderIdOf(name);
    await until('completed', async () => (await workflow(orderId))?.status === 'completed', { wms: 2, carrier: 6 * 3600 });
    const [delivered] = await q<{ data: Record<string, unknown>; key: string }>(`select data, key from hub_events where type = 'shipment.delivered.v1' and data->>'orderId' = $1`, [orderId]);
    for (const n of [1, 2, 3]) {
      const r = await l.hub.server.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${await token()}`, 'content-type': 'application/cloudevents+json' },
        payload: { specversion: '1.0', id: `carrier-resend-${n}`, source: 'urn:test:carrier', type: 'shipment.delivered.v1', data: delivered!.data } });
      assert.equal(r.statusCode, 202, r.body);
    }
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((read('sale.order', so, ['invoice_ids']).invoice_ids as number[]).length, 1, 'still one invoice');
    assert.equal((await q(`select 1 from hub_workflow_steps where instance = $1 and step = 'odoo.invoice'`, [orderId])).length, 1);
  });
});

async function token(): Promise<string> {
  const { readFileSync } = await import('node:fs');
  return readFileSync(`${l.hub.config.dataDir}/bootstrap-admin.token`, 'utf8').trim();
}
