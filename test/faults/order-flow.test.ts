/**
 * The order flow under partner faults, through the same landscape as the demo: a warehouse
 * that sends every webhook twice and out of order, a carrier that rate-limits, Odoo down at the
 * moment the delivery is to be validated. Every order ends in the right state, once: one
 * booking, one validated delivery, one invoice.
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
const status = async (orderId: string) => (await q<{ status: string }>(`select status from hub_workflows where instance = $1`, [orderId]))[0]?.status;
const steps = (orderId: string, step: string) => q<{ status: string; attempts: number; error: { code: string } | null }>(`select status, attempts, error from hub_workflow_steps where instance = $1 and step = $2`, [orderId, step]);

async function until(what: string, done: () => Promise<boolean>, o: { wms?: number; carrier?: number; timeoutMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (o.timeoutMs ?? 40_000);
  while (!(await done())) {
    if (Date.now() > deadline) {
      const open = await q(`select instance, step_key, status, attempts, error from hub_workflow_steps where status <> 'done' order by id`);
      throw new Error(`timed out waiting for ${what}; steps not done: ${JSON.stringify(open)}`);
    }
    if (o.wms) await Promise.all([l.east.advance(o.wms), l.west.advance(o.wms)]);
    if (o.carrier) l.easypost.advance(o.carrier);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function order(product: number, qty: number, ref: string): { so: number; orderId: string } {
  const so = l.odoo.db.call(2, 'sale.order', 'create', [{ partner_id: 10, client_order_ref: ref, order_line: [[0, 0, { product_id: product, product_uom_qty: qty }]] }], {}) as number;
  l.odoo.db.call(2, 'sale.order', 'action_confirm', [[so]], {});
  const [row] = l.odoo.db.call(2, 'sale.order', 'read', [[so], ['name']], {}) as { name: string }[];
  return { so, orderId: `ord-${row!.name}` };
}
const read = (model: string, id: number, fields: string[]) => (l.odoo.db.call(2, model, 'read', [[id], fields], {}) as Record<string, unknown>[])[0]!;

function assertOnce(so: number): void {
  const o = read('sale.order', so, ['delivery_status', 'invoice_status', 'invoice_ids', 'picking_ids']);
  assert.deepEqual([o.delivery_status, o.invoice_status], ['full', 'invoiced']);
  assert.equal((o.invoice_ids as number[]).length, 1, 'one invoice');
  assert.equal((o.picking_ids as number[]).length, 1, 'one delivery, no stray backorder');
}

describe('order flow under faults', () => {
  it('the warehouse sends every webhook twice and out of order: one booking, one delivery, one invoice', async () => {
    l.east.setFaults({ duplicateWebhooks: true, reorderWebhooks: { window: 3, holdSeconds: 20 } });
    const before = { duplicated: l.east.stats().webhooks.duplicated, logged: l.east.log.length };
    try {
      const { so, orderId } = order(20, 2, 'FAULT-WMS');
      await until('completed', async () => (await status(orderId)) === 'completed', { wms: 2, carrier: 6 * 3600 });
      assertOnce(so);
      assert.equal((await steps(orderId, 'carrier.book')).length, 1);
      assert.equal((await q(`select 1 from hub_events where type = 'shipment.booked.v1' and data->>'orderId' = $1 and source = 'urn:hub:workflow:order-to-delivery'`, [orderId])).length, 1, 'one label bought');
      const delivered = l.east.log.slice(before.logged).filter((d) => d.status !== null && d.status < 300);
      const ids = delivered.map((d) => d.eventId);
      assert.equal(l.east.stats().webhooks.duplicated - before.duplicated, ids.length, 'every webhook was delivered a second time');
      assert.ok(ids.some((id, i) => ids.slice(i + 1).some((later) => later < id)), `some webhooks arrived after newer ones: ${ids.join(' ')}`);
    } finally {
      l.east.clearFaults();
    }
  });

  it('the carrier rate-limits: the booking waits as asked and goes through', async () => {
    const { so, orderId } = order(20, 1, 'FAULT-429');
    await until('packed', async () => (await q(`select 1 from hub_events where type = 'shipment.packed.v1' and data->>'orderId' = $1`, [orderId])).length === 1, { wms: 2 });
    l.easypost.setFaults({ rateLimit: { count: 2, retryAfterSeconds: 1 } } as never);
    await until('completed', async () => (await status(orderId)) === 'completed', { wms: 2, carrier: 6 * 3600 });
    const [book] = await steps(orderId, 'carrier.book');
    assert.ok(book!.attempts >= 2, `the rate-limited attempt was retried (${book!.attempts} attempts)`);
    assertOnce(so);
  });

  it('Odoo is down when the warehouse ships: the validation waits for Odoo and happens once', async () => {
    const { so, orderId } = order(20, 1, 'FAULT-ODOO');
    await until('labels at the warehouse', async () => (await q(`select 1 from hub_workflow_steps where instance = $1 and step = 'wms.labels' and status = 'done'`, [orderId])).length === 1, { wms: 2 });
    await l.odoo.goDown(60_000);
    // the warehouse ships; the order's Odoo work starts against a down Odoo and waits (retried, or held by the gateway's
    // breaker): the validation itself, or a chatter note that took the order's step lease first, with the validation behind it
    await until('Odoo work of the order is under way while Odoo is down', async () => {
      const validate = await steps(orderId, 'odoo.validate');
      const held = await q(`select 1 from hub_workflow_steps where instance = $1 and step like 'odoo.%' and status <> 'done' and attempts >= 1`, [orderId]);
      return validate.length === 1 && held.length > 0;
    }, { wms: 2 });
    await new Promise((r) => setTimeout(r, 2000));
    assert.notEqual((await steps(orderId, 'odoo.validate'))[0]!.status, 'done', 'nothing is validated while Odoo is down');
    await l.odoo.up();
    await until('completed', async () => (await status(orderId)) === 'completed', { wms: 2, carrier: 6 * 3600, timeoutMs: 60_000 });
    assert.equal((await steps(orderId, 'odoo.validate'))[0]!.status, 'done');
    assertOnce(so);
  });
});
