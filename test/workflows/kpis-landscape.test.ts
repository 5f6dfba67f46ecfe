/**
 * The KPIs of an order that went through the real flow: Odoo, a SimWMS warehouse and the
 * EasyPost-style aggregator over HTTP, a hub as `logistics-hub demo` configures it. The hub's
 * registry holds one observation per KPI, and the report reads one sample per series.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.ts';
import { startLandscape, type Landscape } from '../../src/demo/landscape.ts';
import { kpiReport } from '../../src/workflows/order-to-delivery/kpis.ts';

let l: Landscape;
const db = await freshDatabase();

before(async () => {
  l = await startLandscape({ databaseUrl: db.url, captureIntervalMs: 1000 });
  for (const name of ['USPS', 'UPS', 'FedEx', 'DHLExpress']) l.odoo.db.call(2, 'delivery.carrier', 'create', [{ name, delivery_type: 'fixed', invoice_policy: 'estimated', product_id: 51 }], {});
});
after(() => l?.stop());

it('an order delivered and invoiced through the simulators: one observation per KPI, one sample per series', async () => {
  const so = l.odoo.db.call(2, 'sale.order', 'create', [{ partner_id: 10, client_order_ref: 'KPI-1', order_line: [[0, 0, { product_id: 13, product_uom_qty: 1 }]] }], {}) as number;
  l.odoo.db.call(2, 'sale.order', 'action_confirm', [[so]], {});
  const [row] = l.odoo.db.call(2, 'sale.order', 'read', [[so], ['name']], {}) as { name: string }[];
  const orderId = `ord-${row!.name}`;
  const started = Date.now();
  const deadline = started + 60_000;
  for (;;) {
    const r = await db.pool.query(`select status from hub_workflows where instance = $1`, [orderId]);
    if (r.rows[0]?.status === 'completed') break;
    assert.ok(Date.now() < deadline, 'the order completes');
    await Promise.all([l.east.advance(2), l.west.advance(2)]);
    l.easypost.advance(6 * 3600);
    await new Promise((r) => setTimeout(r, 100));
  }
  const kpis = l.hub.flows.kpis!;
  assert.ok(kpis, 'the hub keeps metrics, so the flow observes KPIs');
  await kpis.flush();
  assert.equal(kpis.pending, 0, 'every milestone committed and observed');
  const text = await l.hub.metrics.registry.metrics();
  const value = (re: RegExp) => Number(text.match(re)?.[1] ?? 0);
  assert.equal(value(/^hub_kpi_order_to_dispatch_seconds_count\{tenant="default",warehouse="loc-east"\} (\d+)$/m), 1);
  assert.equal(value(/^hub_kpi_dispatch_to_delivery_seconds_count\{tenant="default",carrier="[a-z_]+"\} (\d+)$/m), 1);
  assert.equal(value(/^hub_kpi_delivery_confirmation_lag_seconds_count\{tenant="default"\} (\d+)$/m), 1);
  assert.equal(value(/^hub_kpi_pod_to_invoice_seconds_count\{tenant="default"\} (\d+)$/m), 1);
  assert.equal(value(/^hub_kpi_deliveries_total\{tenant="default",carrier="[a-z_]+",on_time="(?:true|false|unknown)"\} (\d+)$/m), 1);

  // the simulated carrier's clock runs days ahead: a window reaching a month out holds every milestone
  const r = await kpiReport(db.pool, 'default', { from: new Date(started - 86_400_000), to: new Date(started + 30 * 86_400_000) });
  assert.deepEqual(r.series.map((s) => [s.name, s.count]), [['orderToDispatch', 1], ['dispatchToDelivery', 1], ['deliveryConfirmationLag', 1], ['podToInvoice', 1]]);
  assert.equal(r.carrierOnTime.reduce((n, c) => n + c.delivered, 0), 1);
  assert.ok(r.sla.some((s) => s.partner === 'loc-east' && s.kind === 'wms_ack' && s.measured === 1));
  assert.ok(r.sla.some((s) => s.partner === 'odoo' && s.kind === 'invoice' && s.measured === 1 && s.breaches === 0));
});
