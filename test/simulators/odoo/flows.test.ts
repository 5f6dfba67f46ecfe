/**
 * The business methods of the simulated Odoo 18 (simulators/odoo/orm/flows), driven through
 * `OdooDatabase.call` as `execute_kw` would: sale confirmation and delivery with the SMS and
 * backorder wizards, invoicing and payment, purchase receipts, inventory adjustments, chatter,
 * and the UserErrors Odoo raises with its own wording.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OdooDatabase, OdooException } from '../../../simulators/odoo/orm/database.ts';

type Rec = Record<string, unknown>;

function fresh(): OdooDatabase {
  return new OdooDatabase({ name: 'logi', version: 18, now: () => new Date('2026-11-24T05:26:53Z') });
}

/** Plain JSON-like values (PyFloat becomes its number). */
function plain(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && 'value' in x && Object.keys(x).length === 1 ? (x as { value: unknown }).value : x)));
}

function read(db: OdooDatabase, model: string, id: number, fields: string[], context: Rec = {}): Rec {
  return plain((db.call(2, model, 'read', [[id], fields], { context }) as Rec[])[0]) as Rec;
}

function moves(db: OdooDatabase, picking: number): Rec[] {
  return plain(db.call(2, 'stock.move', 'search_read', [[['picking_id', '=', picking]]], { fields: ['state', 'product_uom_qty', 'quantity', 'picked', 'product_id'] })) as Rec[];
}

function quantQty(db: OdooDatabase, product: number): number {
  return Number(read(db, 'product.product', product, ['qty_available'], { location: 8 })['qty_available']);
}

function newOrder(db: OdooDatabase, partner: number, qty: number, ref = 'TX-1'): number {
  return db.call(2, 'sale.order', 'create', [{ partner_id: partner, client_order_ref: ref, order_line: [[0, 0, { product_id: 13, product_uom_qty: qty }]] }], {}) as number;
}

function confirmed(db: OdooDatabase, partner: number, qty: number): { so: number; picking: number } {
  const so = newOrder(db, partner, qty);
  assert.equal(db.call(2, 'sale.order', 'action_confirm', [[so]], {}), true);
  const picking = (read(db, 'sale.order', so, ['picking_ids'])['picking_ids'] as number[])[0]!;
  return { so, picking };
}

function throwsOdoo(fn: () => unknown, pyClass: string, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof OdooException);
    assert.equal(e.pyClass, pyClass);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test('sale.order action_confirm: state sale, reserved WH/OUT picking, statuses', () => {
  const db = fresh();
  const so = newOrder(db, 10, 2, 'TX-JSON-OUT');
  assert.deepEqual(read(db, 'sale.order', so, ['state', 'delivery_status', 'invoice_status', 'picking_ids', 'amount_total']), {
    id: so, state: 'draft', delivery_status: false, invoice_status: 'no', picking_ids: [], amount_total: 1500,
  });
  const before = quantQty(db, 13);
  assert.equal(db.call(2, 'sale.order', 'action_confirm', [[so]], {}), true);
  const o = read(db, 'sale.order', so, ['name', 'state', 'delivery_status', 'invoice_status', 'picking_ids']);
  assert.equal(o['state'], 'sale');
  assert.equal(o['delivery_status'], 'pending');
  assert.equal(o['invoice_status'], 'no');
  const [picking] = o['picking_ids'] as number[];
  const p = read(db, 'stock.picking', picking!, ['name', 'state', 'picking_type_code', 'origin', 'sale_id', 'move_ids', 'date_done', 'backorder_id', 'partner_id']);
  assert.match(String(p['name']), /^WH\/OUT\/\d{5}$/);
  assert.equal(p['state'], 'assigned');
  assert.equal(p['picking_type_code'], 'outgoing');
  assert.equal(p['origin'], `${String(o['name'])} - TX-JSON-OUT`);
  assert.deepEqual(p['sale_id'], [so, o['name']]);
  assert.equal(p['date_done'], false);
  assert.equal(p['backorder_id'], false);
  assert.deepEqual(moves(db, picking!).map((m) => [m['state'], m['product_uom_qty'], m['quantity'], m['picked']]), [['assigned', 2, 2, false]]);
  assert.equal(quantQty(db, 13), before, 'a reservation does not move stock');
  assert.equal(Number(read(db, 'product.product', 13, ['free_qty'], { location: 8 })['free_qty']), before - 2);
  throwsOdoo(() => db.call(2, 'sale.order', 'action_confirm', [[so]], {}), 'odoo.exceptions.UserError', /not in a state requiring confirmation/);
});

test('button_validate returns the SMS wizard (picked already true); skip_sms finishes it', () => {
  const db = fresh();
  const { so, picking } = confirmed(db, 10, 2);
  db.call(2, 'stock.picking', 'write', [[picking], { carrier_tracking_ref: 'TRACK-1' }], {});
  const before = quantQty(db, 13);
  const wiz = plain(db.call(2, 'stock.picking', 'button_validate', [[picking]], {})) as Rec;
  assert.deepEqual(Object.keys(wiz), ['name', 'type', 'view_mode', 'res_model', 'views', 'view_id', 'target', 'res_id', 'context']);
  assert.deepEqual({ ...wiz, res_id: 0 }, {
    name: 'SMS', type: 'ir.actions.act_window', view_mode: 'form', res_model: 'confirm.stock.sms', views: [[1167, 'form']],
    view_id: 1167, target: 'new', res_id: 0, context: { button_validate_picking_ids: [picking] },
  });
  assert.equal(typeof wiz['res_id'], 'number');
  assert.equal(read(db, 'stock.picking', picking, ['state'])['state'], 'assigned');
  assert.equal(moves(db, picking)[0]!['picked'], true);
  assert.equal(db.call(2, 'stock.picking', 'button_validate', [[picking]], { context: { skip_sms: true } }), true);
  const p = read(db, 'stock.picking', picking, ['state', 'date_done', 'carrier_tracking_ref']);
  assert.deepEqual(p, { id: picking, state: 'done', date_done: '2026-11-24 05:26:53', carrier_tracking_ref: 'TRACK-1' });
  assert.deepEqual(moves(db, picking).map((m) => [m['state'], m['quantity'], m['picked']]), [['done', 2, true]]);
  assert.equal(quantQty(db, 13), before - 2);
  assert.deepEqual(read(db, 'sale.order', so, ['delivery_status', 'invoice_status']), { id: so, delivery_status: 'full', invoice_status: 'to invoice' });
  assert.deepEqual(read(db, 'res.company', 1, ['stock_move_sms_validation', 'has_received_warning_stock_sms']), { id: 1, stock_move_sms_validation: true, has_received_warning_stock_sms: false });
});

test('confirm.stock.sms dont_send_sms validates and switches the company flags off for good', () => {
  const db = fresh();
  const { picking } = confirmed(db, 10, 1);
  const wiz = db.call(2, 'stock.picking', 'button_validate', [[picking]], {}) as Rec;
  assert.equal(db.call(2, 'confirm.stock.sms', 'dont_send_sms', [[wiz['res_id']]], { context: wiz['context'] }), true);
  assert.equal(read(db, 'stock.picking', picking, ['state'])['state'], 'done');
  assert.deepEqual(read(db, 'res.company', 1, ['stock_move_sms_validation', 'has_received_warning_stock_sms']), { id: 1, stock_move_sms_validation: false, has_received_warning_stock_sms: true });
  // No wizard any more for the next delivery.
  const next = confirmed(db, 10, 1);
  assert.equal(db.call(2, 'stock.picking', 'button_validate', [[next.picking]], {}), true);
});

test('partial quantity: backorder wizard echoing the context, process cascades into the SMS wizard', () => {
  const db = fresh();
  const { so, picking } = confirmed(db, 10, 3);
  const [move] = moves(db, picking);
  db.call(2, 'stock.move', 'write', [[move!['id']], { quantity: 1, picked: true }], {});
  const action = plain(db.call(2, 'stock.picking', 'button_validate', [[picking]], {})) as Rec;
  assert.deepEqual(action, {
    name: 'Create Backorder?', type: 'ir.actions.act_window', view_mode: 'form', res_model: 'stock.backorder.confirmation',
    views: [[893, 'form']], view_id: 893, target: 'new',
    context: { button_validate_picking_ids: [picking], default_show_transfers: false, default_pick_ids: [[4, picking]] },
  });
  assert.equal(read(db, 'stock.picking', picking, ['state'])['state'], 'assigned');
  const ctx = action['context'] as Rec;
  const wid = db.call(2, 'stock.backorder.confirmation', 'create', [{}], { context: ctx }) as number;
  assert.deepEqual(read(db, 'stock.backorder.confirmation', wid, ['pick_ids'])['pick_ids'], [picking]);
  const sms = plain(db.call(2, 'stock.backorder.confirmation', 'process', [[wid]], { context: ctx })) as Rec;
  assert.equal(sms['res_model'], 'confirm.stock.sms');
  assert.deepEqual(sms['context'], { ...ctx, skip_backorder: true });
  assert.deepEqual(Object.keys(sms['context'] as Rec), ['button_validate_picking_ids', 'default_show_transfers', 'default_pick_ids', 'skip_backorder']);
  assert.equal(read(db, 'stock.picking', picking, ['state'])['state'], 'assigned');
  assert.equal(db.call(2, 'stock.picking', 'button_validate', [[picking]], { context: { ...(sms['context'] as Rec), skip_sms: true } }), true);
  assert.equal(read(db, 'stock.picking', picking, ['state'])['state'], 'done');
  const [back] = db.call(2, 'stock.picking', 'search', [[['backorder_id', '=', picking]]], {}) as number[];
  const b = read(db, 'stock.picking', back!, ['state', 'origin', 'sale_id', 'backorder_id']);
  assert.equal(b['state'], 'assigned');
  assert.deepEqual((b['backorder_id'] as unknown[])[0], picking);
  assert.deepEqual(moves(db, back!).map((m) => [m['state'], m['product_uom_qty'], m['quantity'], m['picked']]), [['assigned', 2, 2, false]]);
  assert.deepEqual(moves(db, picking).map((m) => [m['state'], m['product_uom_qty'], m['quantity']]), [['done', 1, 1]]);
  assert.deepEqual(read(db, 'sale.order', so, ['delivery_status', 'picking_ids']), { id: so, delivery_status: 'partial', picking_ids: [back, picking] });
});

test('skip_sms passed once is echoed by the backorder action, so process returns True', () => {
  const db = fresh();
  const { picking } = confirmed(db, 10, 3);
  const [move] = moves(db, picking);
  db.call(2, 'stock.move', 'write', [[move!['id']], { quantity: 1, picked: true }], {});
  const action = plain(db.call(2, 'stock.picking', 'button_validate', [[picking]], { context: { skip_sms: true } })) as Rec;
  assert.deepEqual(Object.keys(action['context'] as Rec), ['skip_sms', 'button_validate_picking_ids', 'default_show_transfers', 'default_pick_ids']);
  const wid = db.call(2, 'stock.backorder.confirmation', 'create', [{}], { context: action['context'] }) as number;
  assert.equal(db.call(2, 'stock.backorder.confirmation', 'process', [[wid]], { context: action['context'] }), true);
  assert.equal(read(db, 'stock.picking', picking, ['state'])['state'], 'done');
});

test('process_cancel_backorder: no backorder, the rest is cancelled, delivery full', () => {
  const db = fresh();
  const { so, picking } = confirmed(db, 44, 3);
  const [move] = moves(db, picking);
  db.call(2, 'stock.move', 'write', [[move!['id']], { quantity: 2, picked: true }], {});
  const before = quantQty(db, 13);
  const action = db.call(2, 'stock.picking', 'button_validate', [[picking]], {}) as Rec;
  const wid = db.call(2, 'stock.backorder.confirmation', 'create', [{}], { context: action['context'] }) as number;
  assert.equal(db.call(2, 'stock.backorder.confirmation', 'process_cancel_backorder', [[wid]], { context: action['context'] }), true);
  assert.deepEqual(db.call(2, 'stock.picking', 'search', [[['backorder_id', '=', picking]]], {}), []);
  assert.equal(quantQty(db, 13), before - 2);
  assert.equal(read(db, 'sale.order', so, ['delivery_status'])['delivery_status'], 'full');
  assert.equal(Number(read(db, 'product.product', 13, ['free_qty'], { location: 8 })['free_qty']), before - 2, 'the reservation is released');
});

test('invoicing: create_invoices act_window (None payment term), action_post returns False', () => {
  const db = fresh();
  const { so, picking } = confirmed(db, 44, 1);
  assert.equal(db.call(2, 'stock.picking', 'button_validate', [[picking]], {}), true, 'no phone: no SMS wizard');
  assert.equal(read(db, 'sale.order', so, ['invoice_status'])['invoice_status'], 'to invoice');
  const ctx = { active_ids: [so], active_model: 'sale.order', active_id: so };
  const wid = db.call(2, 'sale.advance.payment.inv', 'create', [{ advance_payment_method: 'delivered' }], { context: ctx }) as number;
  const action = db.call(2, 'sale.advance.payment.inv', 'create_invoices', [[wid]], { context: ctx }) as Rec;
  assert.equal(action['type'], 'ir.actions.act_window');
  assert.equal(action['res_model'], 'account.move');
  const inv = action['res_id'] as number;
  const actx = action['context'] as Rec;
  assert.equal(actx['default_invoice_payment_term_id'], null, 'Python None: XML-RPC cannot marshal it');
  assert.equal(actx['default_partner_id'], 44);
  assert.deepEqual(read(db, 'sale.order', so, ['invoice_status', 'invoice_ids']), { id: so, invoice_status: 'invoiced', invoice_ids: [inv] });
  const draft = read(db, 'account.move', inv, ['name', 'move_type', 'state', 'payment_state', 'amount_total', 'amount_residual', 'invoice_origin', 'invoice_date', 'invoice_payment_term_id', 'invoice_line_ids']);
  assert.deepEqual({ ...draft, invoice_line_ids: (draft['invoice_line_ids'] as number[]).length }, {
    id: inv, name: false, move_type: 'out_invoice', state: 'draft', payment_state: 'not_paid', amount_total: 750, amount_residual: 750,
    invoice_origin: read(db, 'sale.order', so, ['name'])['name'], invoice_date: false, invoice_payment_term_id: false, invoice_line_ids: 1,
  });
  assert.equal(db.call(2, 'account.move', 'action_post', [[inv]], {}), false);
  const posted = read(db, 'account.move', inv, ['name', 'state', 'invoice_date', 'payment_state']);
  assert.match(String(posted['name']), /^INV\/2026\/\d{5}$/);
  assert.equal(posted['state'], 'posted');
  assert.equal(posted['invoice_date'], '2026-11-24');
  assert.equal(posted['payment_state'], 'not_paid');
  throwsOdoo(() => db.call(2, 'account.move', 'action_post', [[inv]], {}), 'odoo.exceptions.UserError', /is already posted/);
  // Nothing left to invoice.
  const again = db.call(2, 'sale.advance.payment.inv', 'create', [{ advance_payment_method: 'delivered' }], { context: ctx }) as number;
  throwsOdoo(() => db.call(2, 'sale.advance.payment.inv', 'create_invoices', [[again]], { context: ctx }), 'odoo.exceptions.UserError', /No items are available to invoice/);
});

test('invoicing a customer with a payment term; invoice lines from delivered quantities; payment', () => {
  const db = fresh();
  const { so, picking } = confirmed(db, 10, 3);
  const [move] = moves(db, picking);
  db.call(2, 'stock.move', 'write', [[move!['id']], { quantity: 2, picked: true }], {});
  const action = db.call(2, 'stock.picking', 'button_validate', [[picking]], { context: { skip_sms: true } }) as Rec;
  const bw = db.call(2, 'stock.backorder.confirmation', 'create', [{}], { context: action['context'] }) as number;
  db.call(2, 'stock.backorder.confirmation', 'process', [[bw]], { context: action['context'] });
  const ctx = { active_ids: [so], active_model: 'sale.order', active_id: so };
  const wid = db.call(2, 'sale.advance.payment.inv', 'create', [{ advance_payment_method: 'delivered' }], { context: ctx }) as number;
  const act = db.call(2, 'sale.advance.payment.inv', 'create_invoices', [[wid]], { context: ctx }) as Rec;
  assert.equal((act['context'] as Rec)['default_invoice_payment_term_id'], 4);
  const inv = act['res_id'] as number;
  assert.equal(read(db, 'account.move', inv, ['amount_total'])['amount_total'], 1500, '2 delivered of 3 ordered');
  assert.deepEqual(read(db, 'account.move', inv, ['invoice_payment_term_id'])['invoice_payment_term_id'], [4, '30 Days']);
  assert.equal(read(db, 'sale.order', so, ['invoice_status'])['invoice_status'], 'no', 'partly delivered, delivered part invoiced');
  db.call(2, 'account.move', 'action_post', [[inv]], {});
  const pctx = { active_model: 'account.move', active_ids: [inv] };
  const reg = db.call(2, 'account.payment.register', 'create', [{}], { context: pctx }) as number;
  const pay = db.call(2, 'account.payment.register', 'action_create_payments', [[reg]], { context: pctx }) as Rec;
  assert.equal(pay['res_model'], 'account.payment');
  assert.equal(typeof pay['res_id'], 'number');
  assert.deepEqual(read(db, 'account.move', inv, ['payment_state', 'amount_residual']), { id: inv, payment_state: 'paid', amount_residual: 0 });
  assert.equal(read(db, 'account.payment', pay['res_id'] as number, ['amount'])['amount'], 1500);
});

test('purchase: button_confirm creates an assigned receipt; validation adds stock', () => {
  const db = fresh();
  const po = db.call(2, 'purchase.order', 'create', [{ partner_id: 9, partner_ref: 'TX-PO', order_line: [[0, 0, { product_id: 18, product_qty: 5 }]] }], {}) as number;
  assert.deepEqual(read(db, 'purchase.order', po, ['state', 'amount_total', 'receipt_status', 'invoice_status', 'picking_ids', 'date_planned']), {
    id: po, state: 'draft', amount_total: 65, receipt_status: false, invoice_status: 'no', picking_ids: [], date_planned: '2026-11-27 05:26:53',
  });
  assert.equal(db.call(2, 'purchase.order', 'button_confirm', [[po]], {}), true);
  const o = read(db, 'purchase.order', po, ['name', 'state', 'receipt_status', 'picking_ids']);
  assert.equal(o['state'], 'purchase');
  assert.equal(o['receipt_status'], 'pending');
  const [picking] = o['picking_ids'] as number[];
  const p = read(db, 'stock.picking', picking!, ['name', 'state', 'picking_type_code', 'origin', 'location_id', 'location_dest_id', 'scheduled_date']);
  assert.match(String(p['name']), /^WH\/IN\/\d{5}$/);
  assert.deepEqual([p['state'], p['picking_type_code'], p['origin'], p['location_id'], p['location_dest_id'], p['scheduled_date']],
    ['assigned', 'incoming', o['name'], [4, 'Partners/Vendors'], [8, 'WH/Stock'], '2026-11-27 05:26:53']);
  const [m] = plain(db.call(2, 'stock.move', 'search_read', [[['picking_id', '=', picking]]], { fields: ['state', 'product_uom_qty', 'quantity', 'purchase_line_id', 'price_unit'] })) as Rec[];
  assert.deepEqual([m!['state'], m!['product_uom_qty'], m!['quantity'], m!['price_unit']], ['assigned', 5, 5, 13]);
  const before = quantQty(db, 18);
  assert.equal(db.call(2, 'stock.picking', 'button_validate', [[picking]], {}), true, 'receipts never ask for SMS');
  assert.equal(quantQty(db, 18), before + 5);
  assert.deepEqual(read(db, 'purchase.order', po, ['receipt_status', 'invoice_status']), { id: po, receipt_status: 'full', invoice_status: 'to invoice' });
  assert.equal(read(db, 'purchase.order.line', (read(db, 'purchase.order', po, ['order_line'])['order_line'] as number[])[0]!, ['qty_received'])['qty_received'], 5);
});

test('purchase: a partial receipt leaves a backorder that belongs to the order; receipt_status partial until it is done', () => {
  const db = fresh();
  const po = db.call(2, 'purchase.order', 'create', [{ partner_id: 9, order_line: [[0, 0, { product_id: 18, product_qty: 5 }]] }], {}) as number;
  db.call(2, 'purchase.order', 'button_confirm', [[po]], {});
  const [receipt] = read(db, 'purchase.order', po, ['picking_ids'])['picking_ids'] as number[];
  const [m] = db.call(2, 'stock.move', 'search', [[['picking_id', '=', receipt]]], {}) as number[];
  db.call(2, 'stock.move', 'write', [[m], { quantity: 3, picked: true }], {});
  const wiz = db.call(2, 'stock.picking', 'button_validate', [[receipt]], {}) as Rec;
  assert.equal(wiz['res_model'], 'stock.backorder.confirmation');
  const bw = db.call(2, 'stock.backorder.confirmation', 'create', [{ pick_ids: [[4, receipt]] }], { context: wiz['context'] }) as number;
  assert.equal(db.call(2, 'stock.backorder.confirmation', 'process', [[bw]], { context: wiz['context'] }), true);
  const [back] = db.call(2, 'stock.picking', 'search', [[['backorder_id', '=', receipt]]], {}) as number[];
  assert.ok(back, 'a backorder for the 2 not received');
  const o = read(db, 'purchase.order', po, ['receipt_status', 'picking_ids', 'incoming_picking_count']);
  assert.deepEqual(o, { id: po, receipt_status: 'partial', picking_ids: [receipt, back], incoming_picking_count: 2 });
  const line = (read(db, 'purchase.order', po, ['order_line'])['order_line'] as number[])[0]!;
  assert.equal(read(db, 'purchase.order.line', line, ['qty_received'])['qty_received'], 3);
  assert.equal(db.call(2, 'stock.picking', 'button_validate', [[back]], {}), true);
  assert.deepEqual(read(db, 'purchase.order', po, ['receipt_status']), { id: po, receipt_status: 'full' });
  assert.equal(read(db, 'purchase.order.line', line, ['qty_received'])['qty_received'], 5);
});

test('stock.quant inventory: counted quantity, action_apply_inventory returns None, is_inventory move', () => {
  const db = fresh();
  const [q] = db.call(2, 'stock.quant', 'search', [[['product_id', '=', 20], ['location_id', '=', 8]]], {}) as number[];
  const start = Number(read(db, 'stock.quant', q!, ['quantity'])['quantity']);
  assert.equal(quantQty(db, 20), start);
  db.call(2, 'stock.quant', 'write', [[q], { inventory_quantity: start + 3 }], {});
  assert.deepEqual(read(db, 'stock.quant', q!, ['quantity', 'inventory_quantity', 'inventory_quantity_set', 'inventory_diff_quantity']), {
    id: q, quantity: start, inventory_quantity: start + 3, inventory_quantity_set: true, inventory_diff_quantity: 3,
  });
  assert.equal(db.call(2, 'stock.quant', 'action_apply_inventory', [[q]], {}), undefined);
  assert.deepEqual(read(db, 'stock.quant', q!, ['quantity', 'inventory_quantity', 'inventory_quantity_set', 'inventory_diff_quantity']), {
    id: q, quantity: start + 3, inventory_quantity: 0, inventory_quantity_set: false, inventory_diff_quantity: 0,
  });
  const [mv] = plain(db.call(2, 'stock.move', 'search_read', [[['product_id', '=', 20], ['is_inventory', '=', true]]], {
    fields: ['reference', 'state', 'product_uom_qty', 'quantity', 'location_id', 'location_dest_id'], order: 'id desc', limit: 1,
  })) as Rec[];
  assert.deepEqual(mv, { id: mv!['id'], reference: 'Product Quantity Updated', state: 'done', product_uom_qty: 3, quantity: 3, location_id: [14, 'Virtual Locations/Inventory adjustment'], location_dest_id: [8, 'WH/Stock'] });
  assert.equal(quantQty(db, 20), start + 3);
  // A lower count moves stock out to the adjustment location.
  db.call(2, 'stock.quant', 'write', [[q], { inventory_quantity: start }], {});
  db.call(2, 'stock.quant', 'action_apply_inventory', [[q]], {});
  assert.equal(quantQty(db, 20), start);
  assert.equal(Number(read(db, 'product.product', 20, ['qty_available'], { location: 5 })['qty_available']), 0, 'customers location holds no internal stock');
});

test('UserErrors worded as Odoo 18; MissingError on missing ids; failed calls roll back', () => {
  const db = fresh();
  const { so, picking } = confirmed(db, 44, 1);
  throwsOdoo(() => db.call(2, 'sale.order', 'action_quotation_sent', [[so]], {}), 'odoo.exceptions.UserError', 'Only draft orders can be marked as sent directly.');
  db.call(2, 'stock.picking', 'button_validate', [[picking]], {});
  throwsOdoo(() => db.call(2, 'stock.picking', 'action_cancel', [[picking]], {}), 'odoo.exceptions.UserError',
    "You cannot cancel a stock move that has been set to 'Done'. Create a return in order to reverse the moves which took place.");
  assert.equal(read(db, 'stock.picking', picking, ['state'])['state'], 'done');
  throwsOdoo(() => db.call(2, 'sale.order', 'action_confirm', [[99999999]], {}), 'odoo.exceptions.MissingError',
    'Record does not exist or has been deleted.\n(Record: sale.order(99999999,), User: 2)');
  throwsOdoo(() => db.call(2, 'stock.picking', 'button_validate', [[99999999]], {}), 'odoo.exceptions.MissingError', /stock\.picking\(99999999,\)/);
  const draft = newOrder(db, 10, 1);
  assert.equal(db.call(2, 'sale.order', 'action_quotation_sent', [[draft]], {}), undefined, 'returns None');
  assert.equal(read(db, 'sale.order', draft, ['state'])['state'], 'sent');
});

test('sale.order action_cancel cancels the open delivery and releases the reservation', () => {
  const db = fresh();
  const before = Number(read(db, 'product.product', 13, ['free_qty'], { location: 8 })['free_qty']);
  const { so, picking } = confirmed(db, 10, 2);
  assert.equal(db.call(2, 'sale.order', 'action_cancel', [[so]], {}), true);
  assert.equal(read(db, 'sale.order', so, ['state'])['state'], 'cancel');
  assert.equal(read(db, 'stock.picking', picking, ['state'])['state'], 'cancel');
  assert.equal(Number(read(db, 'product.product', 13, ['free_qty'], { location: 8 })['free_qty']), before);
});

test('message_post returns the new mail.message id', () => {
  const db = fresh();
  const id = db.call(2, 'sale.order', 'message_post', [[1]], { body: 'Shipped <today>', message_type: 'comment', subtype_xmlid: 'mail.mt_note' });
  assert.equal(typeof id, 'number');
  const msg = read(db, 'mail.message', id as number, ['model', 'res_id', 'body', 'message_type', 'author_id']);
  assert.deepEqual({ ...msg, author_id: (msg['author_id'] as unknown[])[0] }, { id, model: 'sale.order', res_id: 1, body: 'Shipped &lt;today&gt;', message_type: 'comment', author_id: 3 });
  assert.deepEqual(read(db, 'sale.order', 1, ['message_ids'])['message_ids'], [id]);
});
