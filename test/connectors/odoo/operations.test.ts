/**
 * The Odoo flows (operations.ts) end to end against the Odoo 18 simulator over real HTTP,
 * over JSON-RPC and XML-RPC (where Odoo's None answers become faults): the resulting Odoo
 * states as the recorded transcripts show them, each operation run twice without creating
 * anything more, and each flow with an answer lost after Odoo committed.
 */
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { OdooSimulator } from '../../../simulators/odoo/server.ts';
import { createOdooClient, type OdooClient } from '../../../src/connectors/odoo/client.ts';
import { OdooGateway, type OdooRow } from '../../../src/connectors/odoo/gateway.ts';
import {
  applyInventoryAdjustment,
  confirmPurchaseOrder,
  confirmSaleOrder,
  invoiceDeliveredQuantities,
  registerVendorBill,
  validateDelivery,
  validateReceipt,
} from '../../../src/connectors/odoo/operations.ts';
import { BusinessError, HubError, ValidationError } from '../../../src/domain/errors.ts';

let sim: OdooSimulator;
let raw: OdooClient;
const gateways: OdooGateway[] = [];

before(async () => {
  sim = await OdooSimulator.start({ version: 18 });
  raw = createOdooClient({ url: sim.url, db: 'logi', login: 'admin', secret: 'admin', protocol: 'jsonrpc', timeoutMs: 5000 });
});
after(async () => {
  for (const g of gateways) g.close();
  await sim.stop();
});
beforeEach(() => {
  sim.reset();
});

type Protocol = 'jsonrpc' | 'xmlrpc';
const PROTOCOLS: Protocol[] = ['jsonrpc', 'xmlrpc'];

function gateway(protocol: Protocol): OdooGateway {
  const client = createOdooClient({ url: sim.url, db: 'logi', login: 'admin', secret: 'admin', protocol, timeoutMs: 5000 });
  const g = new OdooGateway(client, { ratePerSecond: Infinity, backoff: { baseMs: 5, maxMs: 20 } });
  gateways.push(g);
  return g;
}

const calls = (key: string) => sim.calls.get(key) ?? 0;

async function read(model: string, id: number, fields: string[]): Promise<OdooRow> {
  const rows = (await raw.call(model, 'read', [[id], fields])) as OdooRow[];
  assert.equal(rows.length, 1, `${model} ${id} exists`);
  return rows[0]!;
}

async function count(model: string, domain: unknown[] = []): Promise<number> {
  return (await raw.call(model, 'search_count', [domain])) as number;
}

/** Records of the models the flows touch, to show a repeat creates nothing. */
async function snapshot(): Promise<Record<string, number>> {
  const models = ['sale.order', 'stock.picking', 'stock.move', 'account.move', 'purchase.order', 'stock.quant'];
  const out: Record<string, number> = {};
  for (const m of models) out[m] = await count(m);
  return out;
}

async function saleOrder(partnerId: number, qty: number, productId = 13): Promise<number> {
  return (await raw.call('sale.order', 'create', [{ partner_id: partnerId, client_order_ref: `T-${partnerId}-${qty}`, order_line: [[0, 0, { product_id: productId, product_uom_qty: qty }]] }])) as number;
}

async function purchaseOrder(qty = 5): Promise<number> {
  return (await raw.call('purchase.order', 'create', [{ partner_id: 9, partner_ref: 'T-PO', order_line: [[0, 0, { product_id: 18, product_qty: qty }]] }])) as number;
}

async function movesOf(pickingId: number): Promise<OdooRow[]> {
  return (await raw.call('stock.move', 'search_read', [[['picking_id', '=', pickingId]], ['state', 'product_uom_qty', 'quantity', 'picked']], { order: 'id' })) as OdooRow[];
}

/** What the hub does with an operation that failed transiently: run it again. */
async function retrying<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof HubError) || !e.retryable || i >= attempts) throw e;
    }
  }
}

const SMS_FLAGS = ['stock_move_sms_validation', 'has_received_warning_stock_sms'];

for (const protocol of PROTOCOLS) {
  // ---------------------------------------------------------------- sale order

  test(`${protocol}: confirmSaleOrder confirms once and returns the delivery created`, async () => {
    const gw = gateway(protocol);
    const so = await saleOrder(10, 2);
    const r = await confirmSaleOrder(gw, so);
    assert.equal(r.state, 'sale');
    assert.equal(r.pickingIds.length, 1);
    const order = await read('sale.order', so, ['state', 'delivery_status', 'invoice_status', 'picking_ids']);
    assert.deepEqual([order.state, order.delivery_status, order.invoice_status, order.picking_ids], ['sale', 'pending', 'no', r.pickingIds]);
    const picking = await read('stock.picking', r.pickingIds[0]!, ['state', 'picking_type_code', 'sale_id']);
    assert.deepEqual([picking.state, picking.picking_type_code, (picking.sale_id as unknown[])[0]], ['assigned', 'outgoing', so]);

    const before = await snapshot();
    assert.deepEqual(await confirmSaleOrder(gw, so), r);
    assert.deepEqual(await snapshot(), before);
    assert.equal(calls('sale.order.action_confirm'), 1);
  });

  test(`${protocol}: confirmSaleOrder with the answer lost after the commit confirms once`, async () => {
    const gw = gateway(protocol);
    const so = await saleOrder(10, 2);
    sim.setFaults({ dropAfterCommit: { count: 1, match: { method: 'action_confirm' } } });
    const r = await retrying(() => confirmSaleOrder(gw, so));
    assert.equal(sim.faults.dropAfterCommit, undefined, 'an answer was lost');
    assert.equal(r.state, 'sale');
    assert.equal(r.pickingIds.length, 1);
    assert.equal(calls('sale.order.action_confirm'), 1);
    assert.equal(await count('stock.picking', [['sale_id', '=', so]]), 1);
  });

  test(`${protocol}: confirmSaleOrder of a cancelled order is Odoo's refusal, as a BusinessError`, async () => {
    const gw = gateway(protocol);
    const so = await saleOrder(10, 1);
    await raw.call('sale.order', 'action_cancel', [[so]]);
    const { name } = await read('sale.order', so, ['name']);
    await assert.rejects(confirmSaleOrder(gw, so), (e: unknown) => {
      assert.ok(e instanceof BusinessError);
      assert.equal(e.message, `The following orders are not in a state requiring confirmation: ${String(name)}`);
      return true;
    });
    await assert.rejects(confirmSaleOrder(gw, 99999999), (e: unknown) => e instanceof BusinessError && e.code === 'odoo.missing_record');
  });

  // ---------------------------------------------------------------- delivery

  test(`${protocol}: validateDelivery in full with a tracking reference, past the SMS wizard without changing settings`, async () => {
    const gw = gateway(protocol);
    const so = await saleOrder(10, 2); // Deco Addict has a phone: Odoo would answer the SMS wizard
    const { pickingIds } = await confirmSaleOrder(gw, so);
    const picking = pickingIds[0]!;
    const r = await validateDelivery(gw, picking, { trackingRef: 'TRACK-1' });
    assert.equal(r.state, 'done');
    assert.equal(r.backorderId, null);
    assert.match(r.dateDone ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const p = await read('stock.picking', picking, ['state', 'carrier_tracking_ref', 'date_done']);
    assert.deepEqual([p.state, p.carrier_tracking_ref], ['done', 'TRACK-1']);
    assert.equal(`${String(p.date_done).replace(' ', 'T')}Z`, r.dateDone);
    const moves = await movesOf(picking);
    assert.deepEqual(moves.map((m) => [m.state, m.quantity, m.picked]), [['done', 2, true]]);
    const order = await read('sale.order', so, ['delivery_status', 'invoice_status']);
    assert.deepEqual([order.delivery_status, order.invoice_status], ['full', 'to invoice']);
    const company = await read('res.company', 1, SMS_FLAGS);
    assert.deepEqual([company.stock_move_sms_validation, company.has_received_warning_stock_sms], [true, false]);
    assert.equal(calls('confirm.stock.sms.dont_send_sms'), 0);

    const before = await snapshot();
    const validations = calls('stock.picking.button_validate');
    assert.deepEqual(await validateDelivery(gw, picking, { trackingRef: 'TRACK-1' }), r);
    assert.deepEqual(await snapshot(), before);
    assert.equal(calls('stock.picking.button_validate'), validations);
    assert.equal(calls('stock.picking.write'), 1);
  });

  test(`${protocol}: validateDelivery with the answer lost after the commit validates once`, async () => {
    const gw = gateway(protocol);
    const so = await saleOrder(10, 2);
    const { pickingIds } = await confirmSaleOrder(gw, so);
    sim.setFaults({ dropAfterCommit: { count: 1, match: { method: 'button_validate' } } });
    const r = await retrying(() => validateDelivery(gw, pickingIds[0]!, { trackingRef: 'TRACK-2' }));
    assert.equal(sim.faults.dropAfterCommit, undefined, 'an answer was lost');
    assert.deepEqual([r.state, r.backorderId], ['done', null]);
    assert.equal(await count('stock.picking', [['sale_id', '=', so]]), 1);
    assert.equal((await read('sale.order', so, ['delivery_status'])).delivery_status, 'full');
  });

  test(`${protocol}: validateDelivery in full of a transfer short of stock delivers the whole demand`, async () => {
    const gw = gateway(protocol);
    const so = await saleOrder(15, 70); // 60 on hand: 60 reserved
    const { pickingIds } = await confirmSaleOrder(gw, so);
    assert.deepEqual((await movesOf(pickingIds[0]!)).map((m) => [m.state, m.quantity]), [['partially_available', 60]]);
    const r = await validateDelivery(gw, pickingIds[0]!);
    assert.deepEqual([r.state, r.backorderId], ['done', null]);
    assert.deepEqual((await movesOf(pickingIds[0]!)).map((m) => [m.state, m.quantity]), [['done', 70]]);
    assert.equal((await read('sale.order', so, ['delivery_status'])).delivery_status, 'full');
    assert.equal(calls('stock.backorder.confirmation.create'), 0);
  });

  test(`${protocol}: validateDelivery partially creates the backorder through the wizard`, async () => {
    const gw = gateway(protocol);
    const so = await saleOrder(10, 3);
    const { pickingIds } = await confirmSaleOrder(gw, so);
    const picking = pickingIds[0]!;
    const [move] = await movesOf(picking);
    const r = await validateDelivery(gw, picking, { quantities: { [move!.id]: 1 } });
    assert.equal(r.state, 'done');
    assert.ok(typeof r.backorderId === 'number');
    assert.ok(r.dateDone);
    assert.equal(calls('stock.backorder.confirmation.create'), 1);
    assert.equal(calls('stock.backorder.confirmation.process'), 1);
    const original = await read('stock.picking', picking, ['state']);
    assert.equal(original.state, 'done');
    assert.deepEqual((await movesOf(picking)).map((m) => [m.state, m.quantity]), [['done', 1]]);
    const back = await read('stock.picking', r.backorderId!, ['state', 'backorder_id', 'picking_type_code']);
    assert.deepEqual([back.state, (back.backorder_id as unknown[])[0], back.picking_type_code], ['assigned', picking, 'outgoing']);
    assert.deepEqual((await movesOf(r.backorderId!)).map((m) => [m.state, m.product_uom_qty, m.quantity, m.picked]), [['assigned', 2, 2, false]]);
    const order = await read('sale.order', so, ['delivery_status', 'picking_ids']);
    assert.equal(order.delivery_status, 'partial');
    assert.deepEqual(order.picking_ids, [r.backorderId, picking]);
    const company = await read('res.company', 1, SMS_FLAGS);
    assert.deepEqual([company.stock_move_sms_validation, company.has_received_warning_stock_sms], [true, false]);

    const before = await snapshot();
    assert.deepEqual(await validateDelivery(gw, picking, { quantities: { [move!.id]: 1 } }), r);
    assert.deepEqual(await snapshot(), before);
    assert.equal(calls('stock.backorder.confirmation.process'), 1);

    // The rest, in full: the order is then fully delivered.
    const rest = await validateDelivery(gw, r.backorderId!);
    assert.deepEqual([rest.state, rest.backorderId], ['done', null]);
    assert.equal((await read('sale.order', so, ['delivery_status'])).delivery_status, 'full');
  });

  test(`${protocol}: validateDelivery partially with remainder cancel leaves no backorder; the order is delivered for what shipped`, async () => {
    const gw = gateway(protocol);
    const so = await saleOrder(10, 3);
    const { pickingIds } = await confirmSaleOrder(gw, so);
    const picking = pickingIds[0]!;
    const [move] = await movesOf(picking);
    const r = await validateDelivery(gw, picking, { quantities: { [move!.id]: 2 }, remainder: 'cancel' });
    assert.deepEqual([r.state, r.backorderId], ['done', null]);
    assert.equal(calls('stock.backorder.confirmation.process_cancel_backorder'), 1);
    const order = await read('sale.order', so, ['picking_ids']);
    assert.deepEqual(order.picking_ids, [picking], 'no backorder picking');
  });

  test(`${protocol}: validateDelivery partially with the process answer lost makes one backorder`, async () => {
    const gw = gateway(protocol);
    const so = await saleOrder(10, 3);
    const { pickingIds } = await confirmSaleOrder(gw, so);
    const [move] = await movesOf(pickingIds[0]!);
    sim.setFaults({ dropAfterCommit: { count: 1, match: { method: 'process' } } });
    const r = await retrying(() => validateDelivery(gw, pickingIds[0]!, { quantities: { [move!.id]: 1 } }));
    assert.equal(sim.faults.dropAfterCommit, undefined, 'an answer was lost');
    assert.ok(typeof r.backorderId === 'number');
    assert.equal(await count('stock.picking', [['sale_id', '=', so]]), 2);
    assert.equal(await count('stock.picking', [['backorder_id', '=', pickingIds[0]!]]), 1);
    assert.equal((await read('sale.order', so, ['delivery_status'])).delivery_status, 'partial');
  });

  test(`${protocol}: validateDelivery refuses quantities of moves not in the transfer, and cancelled transfers`, async () => {
    const gw = gateway(protocol);
    const { pickingIds } = await confirmSaleOrder(gw, await saleOrder(10, 2));
    await assert.rejects(validateDelivery(gw, pickingIds[0]!, { quantities: { 99999: 1 } }), ValidationError);
    assert.equal((await read('stock.picking', pickingIds[0]!, ['state'])).state, 'assigned');
    await raw.call('stock.picking', 'action_cancel', [[pickingIds[0]!]]);
    await assert.rejects(validateDelivery(gw, pickingIds[0]!), (e: unknown) => e instanceof BusinessError && e.code === 'odoo.picking_cancelled');
  });

  // ---------------------------------------------------------------- invoicing

  for (const [label, partner] of [['with a payment term', 10], ['without a payment term (None in the action)', 44]] as const) {
    test(`${protocol}: invoiceDeliveredQuantities, customer ${label}: one invoice, posted INV/`, async () => {
      const gw = gateway(protocol);
      const so = await saleOrder(partner, 2);
      const { pickingIds } = await confirmSaleOrder(gw, so);
      await validateDelivery(gw, pickingIds[0]!);
      const r = await invoiceDeliveredQuantities(gw, so);
      assert.equal(r.invoiceIds.length, 1);
      assert.equal(r.posted.length, 1);
      assert.equal(r.posted[0]!.id, r.invoiceIds[0]);
      assert.equal(r.posted[0]!.state, 'posted');
      assert.match(r.posted[0]!.name, /^INV\/\d{4}\/\d{5}$/);
      const inv = await read('account.move', r.invoiceIds[0]!, ['name', 'state', 'move_type', 'payment_state', 'amount_total', 'invoice_origin']);
      assert.deepEqual([inv.name, inv.state, inv.move_type, inv.payment_state, inv.amount_total], [r.posted[0]!.name, 'posted', 'out_invoice', 'not_paid', 1500]);
      const order = await read('sale.order', so, ['invoice_status', 'invoice_ids', 'name']);
      assert.deepEqual([order.invoice_status, order.invoice_ids], ['invoiced', r.invoiceIds]);
      assert.equal(inv.invoice_origin, order.name);

      const before = await snapshot();
      assert.deepEqual(await invoiceDeliveredQuantities(gw, so), r);
      assert.deepEqual(await snapshot(), before);
      assert.equal(calls('sale.advance.payment.inv.create_invoices'), 1);
      assert.equal(calls('account.move.action_post'), 1);
    });
  }

  test(`${protocol}: invoiceDeliveredQuantities with the create_invoices answer lost makes one invoice`, async () => {
    const gw = gateway(protocol);
    const so = await saleOrder(44, 1);
    const { pickingIds } = await confirmSaleOrder(gw, so);
    await validateDelivery(gw, pickingIds[0]!);
    sim.setFaults({ dropAfterCommit: { count: 1, match: { method: 'create_invoices' } } });
    const r = await retrying(() => invoiceDeliveredQuantities(gw, so));
    assert.equal(sim.faults.dropAfterCommit, undefined, 'an answer was lost');
    assert.equal(r.invoiceIds.length, 1);
    assert.equal(await count('account.move', [['move_type', '=', 'out_invoice'], ['invoice_origin', '=', (await read('sale.order', so, ['name'])).name]]), 1);
    assert.equal(calls('sale.advance.payment.inv.create_invoices'), 1);
    assert.deepEqual(r.posted.map((p) => p.state), ['posted']);
    assert.equal((await read('sale.order', so, ['invoice_status'])).invoice_status, 'invoiced');
  });

  test(`${protocol}: invoiceDeliveredQuantities after a partial delivery invoices what left, then the rest`, async () => {
    const gw = gateway(protocol);
    const so = await saleOrder(10, 3);
    const { pickingIds } = await confirmSaleOrder(gw, so);
    const [move] = await movesOf(pickingIds[0]!);
    const { backorderId } = await validateDelivery(gw, pickingIds[0]!, { quantities: { [move!.id]: 1 } });
    const first = await invoiceDeliveredQuantities(gw, so);
    assert.equal(first.invoiceIds.length, 1);
    assert.equal((await read('account.move', first.invoiceIds[0]!, ['amount_total'])).amount_total, 750);
    assert.equal((await read('sale.order', so, ['invoice_status'])).invoice_status, 'no');
    assert.deepEqual(await invoiceDeliveredQuantities(gw, so), first);
    await validateDelivery(gw, backorderId!);
    const second = await invoiceDeliveredQuantities(gw, so);
    assert.equal(second.invoiceIds.length, 2);
    assert.deepEqual(second.posted.map((p) => p.state), ['posted', 'posted']);
    assert.equal((await read('sale.order', so, ['invoice_status'])).invoice_status, 'invoiced');
  });

  test(`${protocol}: invoiceDeliveredQuantities with nothing delivered is Odoo's refusal, as a BusinessError`, async () => {
    const gw = gateway(protocol);
    const so = await saleOrder(10, 1);
    await confirmSaleOrder(gw, so);
    await assert.rejects(invoiceDeliveredQuantities(gw, so), (e: unknown) => e instanceof BusinessError && e.message.startsWith('Cannot create an invoice. No items are available to invoice.'));
    assert.equal(await count('account.move'), 0);
  });

  // ---------------------------------------------------------------- vendor bill

  const bill = { partnerId: 9, ref: 'WC-2026-0042', invoiceDate: '2026-11-20', lines: [{ productId: 18, quantity: 5, priceUnit: 13 }] };

  test(`${protocol}: registerVendorBill creates and posts one bill per vendor reference`, async () => {
    const gw = gateway(protocol);
    const r = await registerVendorBill(gw, bill);
    assert.equal(r.state, 'posted');
    assert.match(r.name, /^BILL\//);
    const b = await read('account.move', r.id, ['move_type', 'state', 'ref', 'partner_id', 'invoice_date', 'name', 'invoice_line_ids']);
    assert.deepEqual([b.move_type, b.state, b.ref, (b.partner_id as unknown[])[0], b.invoice_date, b.name], ['in_invoice', 'posted', bill.ref, 9, '2026-11-20', r.name]);
    const lines = (await raw.call('account.move.line', 'read', [b.invoice_line_ids, ['product_id', 'quantity', 'price_unit']])) as OdooRow[];
    assert.deepEqual(lines.map((l) => [(l.product_id as unknown[])[0], l.quantity, l.price_unit]), [[18, 5, 13]]);

    const before = await snapshot();
    assert.deepEqual(await registerVendorBill(gw, bill), r);
    assert.deepEqual(await snapshot(), before);
    assert.equal(calls('account.move.create'), 1);
    assert.equal(calls('account.move.action_post'), 1);

    // Another vendor with the same reference is another bill.
    const other = await registerVendorBill(gw, { ...bill, partnerId: 12 });
    assert.notEqual(other.id, r.id);
  });

  test(`${protocol}: registerVendorBill with the create answer lost makes one bill`, async () => {
    const gw = gateway(protocol);
    sim.setFaults({ dropAfterCommit: { count: 1, match: { model: 'account.move', method: 'create' } } });
    const r = await retrying(() => registerVendorBill(gw, bill));
    assert.equal(sim.faults.dropAfterCommit, undefined, 'an answer was lost');
    assert.equal(r.state, 'posted');
    assert.equal(await count('account.move', [['move_type', '=', 'in_invoice'], ['ref', '=', bill.ref]]), 1);
    await assert.rejects(registerVendorBill(gw, { ...bill, invoiceDate: '20-11-2026' }), ValidationError);
  });

  // ---------------------------------------------------------------- purchase

  test(`${protocol}: confirmPurchaseOrder and validateReceipt: PO purchase, receipt done, received in full`, async () => {
    const gw = gateway(protocol);
    const po = await purchaseOrder(5);
    const r = await confirmPurchaseOrder(gw, po);
    assert.equal(r.state, 'purchase');
    assert.equal(r.receiptIds.length, 1);
    const receipt = await read('stock.picking', r.receiptIds[0]!, ['state', 'picking_type_code', 'origin']);
    assert.deepEqual([receipt.state, receipt.picking_type_code], ['assigned', 'incoming']);
    assert.deepEqual((await movesOf(r.receiptIds[0]!)).map((m) => [m.state, m.product_uom_qty, m.quantity]), [['assigned', 5, 5]]);
    assert.equal((await read('purchase.order', po, ['receipt_status'])).receipt_status, 'pending');

    let before = await snapshot();
    assert.deepEqual(await confirmPurchaseOrder(gw, po), r);
    assert.deepEqual(await snapshot(), before);
    assert.equal(calls('purchase.order.button_confirm'), 1);

    const stock = (await read('stock.quant', 2, ['quantity'])).quantity as number;
    const v = await validateReceipt(gw, r.receiptIds[0]!);
    assert.deepEqual([v.state, v.backorderId], ['done', null]);
    assert.equal((await read('stock.picking', r.receiptIds[0]!, ['state'])).state, 'done');
    const order = await read('purchase.order', po, ['state', 'receipt_status']);
    assert.deepEqual([order.state, order.receipt_status], ['purchase', 'full']);
    assert.equal((await read('stock.quant', 2, ['quantity'])).quantity, stock + 5);

    before = await snapshot();
    assert.deepEqual(await validateReceipt(gw, r.receiptIds[0]!), v);
    assert.deepEqual(await snapshot(), before);
    assert.equal((await read('stock.quant', 2, ['quantity'])).quantity, stock + 5);
  });

  test(`${protocol}: validateReceipt partially receives what came and leaves the rest in a backorder`, async () => {
    const gw = gateway(protocol);
    const po = await purchaseOrder(5);
    const { receiptIds } = await confirmPurchaseOrder(gw, po);
    const [move] = await movesOf(receiptIds[0]!);
    const v = await validateReceipt(gw, receiptIds[0]!, { [move!.id]: 2 });
    assert.ok(typeof v.backorderId === 'number');
    assert.equal((await read('stock.picking', receiptIds[0]!, ['state'])).state, 'done');
    assert.deepEqual((await movesOf(receiptIds[0]!)).map((m) => [m.state, m.quantity]), [['done', 2]]);
    assert.deepEqual((await movesOf(v.backorderId!)).map((m) => [m.state, m.product_uom_qty]), [['assigned', 3]]);
    const line = (await raw.call('purchase.order.line', 'search_read', [[['order_id', '=', po]], ['qty_received']])) as OdooRow[];
    assert.equal(line[0]!.qty_received, 2);
    assert.deepEqual(await validateReceipt(gw, receiptIds[0]!, { [move!.id]: 2 }), v);
  });

  test(`${protocol}: confirmPurchaseOrder with the answer lost makes one receipt`, async () => {
    const gw = gateway(protocol);
    const po = await purchaseOrder(5);
    sim.setFaults({ dropAfterCommit: { count: 1, match: { method: 'button_confirm' } } });
    const r = await retrying(() => confirmPurchaseOrder(gw, po));
    assert.equal(sim.faults.dropAfterCommit, undefined, 'an answer was lost');
    assert.equal(r.state, 'purchase');
    assert.equal(r.receiptIds.length, 1);
    assert.equal(await count('stock.picking', [['origin', '=', (await read('purchase.order', po, ['name'])).name]]), 1);
  });

  test(`${protocol}: confirmPurchaseOrder of a cancelled order is refused`, async () => {
    const gw = gateway(protocol);
    const po = await purchaseOrder(5);
    await raw.call('purchase.order', 'button_cancel', [[po]]);
    await assert.rejects(confirmPurchaseOrder(gw, po), (e: unknown) => e instanceof BusinessError && e.code === 'odoo.order_cancelled');
  });

  // ---------------------------------------------------------------- inventory

  test(`${protocol}: applyInventoryAdjustment sets the quant (action_apply_inventory returns None), once`, async () => {
    const gw = gateway(protocol);
    const moves = () => count('stock.move', [['product_id', '=', 20], ['is_inventory', '=', true]]);
    const r = await applyInventoryAdjustment(gw, { productId: 20, locationId: 8, quantity: 33 });
    assert.deepEqual(r, { quantId: 4, quantity: 33 });
    const q = await read('stock.quant', 4, ['quantity', 'inventory_quantity', 'inventory_quantity_set', 'inventory_diff_quantity']);
    assert.deepEqual([q.quantity, q.inventory_quantity, q.inventory_quantity_set, q.inventory_diff_quantity], [33, 0, false, 0]);
    const [move] = (await raw.call('stock.move', 'search_read', [[['product_id', '=', 20], ['is_inventory', '=', true]], ['reference', 'state', 'quantity', 'location_id', 'location_dest_id']])) as OdooRow[];
    assert.deepEqual([move!.reference, move!.state, move!.quantity, (move!.location_id as unknown[])[0], (move!.location_dest_id as unknown[])[0]], ['Product Quantity Updated', 'done', 3, 14, 8]);
    const product = (await raw.call('product.product', 'read', [[20], ['qty_available']], { context: { location: 8 } })) as OdooRow[];
    assert.equal(product[0]!.qty_available, 33);

    const before = await snapshot();
    assert.deepEqual(await applyInventoryAdjustment(gw, { productId: 20, locationId: 8, quantity: 33 }), r);
    assert.deepEqual(await snapshot(), before);
    assert.equal(await moves(), 1);
    assert.equal(calls('stock.quant.action_apply_inventory'), 1);

    // Down again: 32, as in transcript 11.
    assert.deepEqual(await applyInventoryAdjustment(gw, { productId: 20, locationId: 8, quantity: 32 }), { quantId: 4, quantity: 32 });
    assert.equal(await moves(), 2);
  });

  test(`${protocol}: applyInventoryAdjustment creates the quant of a product not in the location yet`, async () => {
    const gw = gateway(protocol);
    const template = (await raw.call('product.template', 'create', [{ name: 'Crate', type: 'consu', is_storable: true, uom_id: 1, uom_po_id: 1 }])) as number;
    const product = (await raw.call('product.product', 'create', [{ product_tmpl_id: template, name: 'Crate', type: 'consu', is_storable: true, uom_id: 1 }])) as number;
    const r = await applyInventoryAdjustment(gw, { productId: product, locationId: 8, quantity: 7 });
    assert.equal(r.quantity, 7);
    const q = await read('stock.quant', r.quantId, ['product_id', 'location_id', 'quantity']);
    assert.deepEqual([(q.product_id as unknown[])[0], (q.location_id as unknown[])[0], q.quantity], [product, 8, 7]);
    const quants = await count('stock.quant');
    assert.deepEqual(await applyInventoryAdjustment(gw, { productId: product, locationId: 8, quantity: 7 }), r);
    assert.equal(await count('stock.quant'), quants);
  });

  test(`${protocol}: applyInventoryAdjustment with the answer lost after the commit applies once`, async () => {
    const gw = gateway(protocol);
    sim.setFaults({ dropAfterCommit: { count: 1, match: { method: 'action_apply_inventory' } } });
    const r = await retrying(() => applyInventoryAdjustment(gw, { productId: 20, locationId: 8, quantity: 25 }));
    assert.equal(sim.faults.dropAfterCommit, undefined, 'an answer was lost');
    assert.deepEqual(r, { quantId: 4, quantity: 25 });
    assert.equal(await count('stock.move', [['product_id', '=', 20], ['is_inventory', '=', true]]), 1);
    assert.equal(calls('stock.quant.action_apply_inventory'), 1);
  });
}
