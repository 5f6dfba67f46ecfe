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

let l: Landscape;
const db = await freshDatabase();

before(async () => {
  l = await startLandscape({ databaseUrl: db.url, captureIntervalMs: 1000 });
});
after(() => l?.stop());

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows as T[];

/** Moves the simulators' time in small steps until `done` holds (the hub reacts in real time in between). */
async function until(what: string, done: () => Promise<boolean>, o: { wms?: number; carrier?: number; timeoutMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  while (!(await done())) {
    if (Date.now() > deadline) {
      const steps = await q(`select step_key, status, attempts, error from hub_workflow_steps order by id`);
      const events = await q(`select type, count(*)::int n from hub_events group by 1 order by 1`);
      const dead = await q(`select error_code, error_message from hub_dead_letters`).catch(() => []);
      throw new Error(`timed out waiting for ${what}\nsteps: ${JSON.stringify(steps)}\nevents: ${JSON.stringify(events)}\ndead letters: ${JSON.stringify(dead)}`);
    }
    if (o.wms) await Promise.all([l.east.advance(o.wms), l.west.advance(o.wms)]);
    if (o.carrier) l.easypost.advance(o.carrier);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function saleOrder(lines: [product: number, qty: number][], ref: string): { so: number; name: string } {
  const so = l.odoo.db.call(2, 'sale.order', 'create', [{ partner_id: 10, client_order_ref: ref, order_line: lines.map(([p, n]) => [0, 0, { product_id: p, product_uom_qty: n }]) }], {}) as number;
  l.odoo.db.call(2, 'sale.order', 'action_confirm', [[so]], {});
  const [row] = l.odoo.db.call(2, 'sale.order', 'read', [[so], ['name']], {}) as { name: string }[];
  return { so, name: row!.name };
}
const orderIdOf = (name: string) => `ord-${name}`;
const read = (model: string, id: number, fields: string[]) => (l.odoo.db.call(2, model, 'read', [[id], fields], {}) as Record<string, unknown>[])[0]!;

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
    const picking = read('stock.picking', pickingId!, ['state', 'carrier_tracking_ref']);
    assert.deepEqual([picking.state, picking.carrier_tracking_ref], ['done', tracking]);
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
  });
});
