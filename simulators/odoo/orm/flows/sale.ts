/**
 * Sales flows of the simulated Odoo 18: `sale.order.action_confirm` (delivery picking
 * WH/OUT/xxxxx reserved from stock), `action_cancel`, `action_draft`, `action_quotation_sent`,
 * the stored `delivery_status` / `invoice_status` and line quantities recomputed whenever a
 * picking or invoice of the order changes, and the `sale.advance.payment.inv` invoicing wizard.
 */
import type { Context, OdooDatabase } from '../database.ts';
import type { Row } from '../domain.ts';
import { userError } from '../errors.ts';
import { ctxIds, ctxOf, idsWhere, num, qty, ref, requireIds, row } from './common.ts';
import { assignPicking, cancelPickings, onPickingsChanged } from './stock.ts';
import { isGoodsType } from '../versions.ts';

function linesOf(db: OdooDatabase, order: number): number[] {
  return idsWhere(db, 'sale.order.line', (l) => l['order_id'] === order && !l['display_type']);
}

export function pickingsOf(db: OdooDatabase, order: number): number[] {
  return idsWhere(db, 'stock.picking', (p) => p['sale_id'] === order);
}

/** Customer invoices (and refunds) holding a line of the order, in id order. */
export function invoicesOf(db: OdooDatabase, order: number): number[] {
  const lines = new Set(linesOf(db, order));
  const moves = new Set<number>();
  for (const id of db.ids('account.move.line')) {
    const l = db.row('account.move.line', id)!;
    const links = Array.isArray(l['sale_line_ids']) ? (l['sale_line_ids'] as number[]) : [];
    const move = ref(l['move_id']);
    if (move !== undefined && links.some((x) => lines.has(x))) moves.add(move);
  }
  return [...moves].filter((m) => db.row('account.move', m)).sort((a, b) => a - b);
}

function isGoods(db: OdooDatabase, product: number | undefined): boolean {
  const p = product === undefined ? undefined : db.row('product.product', product);
  return Boolean(p && isGoodsType(db.version, p['type']));
}

/** Recompute the stored quantities and statuses of an order and its lines. */
export function refreshSaleOrder(db: OdooDatabase, order: number): void {
  const so = db.row('sale.order', order);
  if (!so) return;
  const confirmed = so['state'] === 'sale';
  const invoiceLines = new Map<number, number>();
  for (const inv of invoicesOf(db, order)) {
    const m = row(db, 'account.move', inv);
    if (m['state'] === 'cancel') continue;
    const sign = m['move_type'] === 'out_refund' ? -1 : 1;
    for (const lid of idsWhere(db, 'account.move.line', (l) => l['move_id'] === inv)) {
      const l = row(db, 'account.move.line', lid);
      for (const sl of (Array.isArray(l['sale_line_ids']) ? l['sale_line_ids'] : []) as number[]) {
        invoiceLines.set(sl, (invoiceLines.get(sl) ?? 0) + sign * num(l['quantity']));
      }
    }
  }
  const statuses: string[] = [];
  for (const lid of linesOf(db, order)) {
    const l = row(db, 'sale.order.line', lid);
    const product = ref(l['product_id']);
    let delivered = num(l['qty_delivered']);
    if (isGoods(db, product)) {
      delivered = 0;
      for (const mid of idsWhere(db, 'stock.move', (m) => m['sale_line_id'] === lid && m['state'] === 'done')) {
        const m = row(db, 'stock.move', mid);
        const out = db.row('stock.location', ref(m['location_dest_id']) ?? -1)?.['usage'] === 'customer';
        delivered += out ? num(m['quantity']) : -num(m['quantity']);
      }
      delivered = qty(delivered);
    }
    const invoiced = qty(invoiceLines.get(lid) ?? 0);
    const policy = db.row('product.product', product ?? -1)?.['invoice_policy'] ?? 'order';
    const base = policy === 'delivery' ? delivered : num(l['product_uom_qty']);
    const toInvoice = confirmed ? qty(base - invoiced) : 0;
    let status = 'no';
    if (confirmed) {
      if (toInvoice !== 0) status = 'to invoice';
      else if (policy === 'order' && delivered > num(l['product_uom_qty'])) status = 'upselling';
      else if (invoiced >= num(l['product_uom_qty'])) status = 'invoiced';
    }
    statuses.push(status);
    db.setRaw('sale.order.line', lid, { qty_delivered: delivered, qty_invoiced: invoiced, qty_to_invoice: toInvoice, invoice_status: status, state: so['state'] });
  }
  let invoiceStatus = 'no';
  if (confirmed && statuses.length) {
    if (statuses.some((x) => x === 'to invoice')) invoiceStatus = 'to invoice';
    else if (statuses.every((x) => x === 'invoiced')) invoiceStatus = 'invoiced';
    else if (statuses.every((x) => x === 'invoiced' || x === 'upselling')) invoiceStatus = 'upselling';
  }
  const pickings = pickingsOf(db, order).map((p) => String(row(db, 'stock.picking', p)['state']));
  let delivery: string | false = false;
  if (pickings.length && !pickings.every((s) => s === 'cancel')) {
    if (pickings.every((s) => s === 'done' || s === 'cancel')) delivery = 'full';
    else if (pickings.some((s) => s === 'done')) delivery = 'partial';
    else delivery = 'pending';
  }
  const doneDates = pickingsOf(db, order).map((p) => row(db, 'stock.picking', p)['date_done']).filter((x): x is string => typeof x === 'string' && x !== '').sort();
  db.setRaw('sale.order', order, { invoice_status: invoiceStatus, delivery_status: delivery, effective_date: doneDates[0] ?? false });
}

/** The outgoing picking of a confirmed order, with one move per goods line, reserved. */
function createDelivery(db: OdooDatabase, order: number): void {
  const so = row(db, 'sale.order', order);
  const lines = linesOf(db, order).filter((l) => isGoods(db, ref(row(db, 'sale.order.line', l)['product_id'])) && num(row(db, 'sale.order.line', l)['product_uom_qty']) > 0);
  if (!lines.length) return;
  const wh = db.row('stock.warehouse', ref(so['warehouse_id']) ?? 1);
  const type = ref(wh?.['out_type_id']) ?? idsWhere(db, 'stock.picking.type', (t) => t['code'] === 'outgoing')[0];
  const ref_ = so['client_order_ref'];
  const origin = typeof ref_ === 'string' && ref_ ? `${String(so['name'])} - ${ref_}` : String(so['name']);
  const partner = ref(so['partner_shipping_id']) ?? ref(so['partner_id']) ?? false;
  const when = typeof so['commitment_date'] === 'string' && so['commitment_date'] ? so['commitment_date'] : db.txNowSeconds();
  const picking = db.create('stock.picking', {
    picking_type_id: type, partner_id: partner, origin, sale_id: order, scheduled_date: when,
    move_type: so['picking_policy'] ?? 'direct', company_id: ref(so['company_id']) ?? 1, user_id: ref(so['user_id']) ?? false,
    carrier_id: ref(so['carrier_id']) ?? false,
  });
  const name = row(db, 'stock.picking', picking)['name'];
  for (const lid of lines) {
    const l = row(db, 'sale.order.line', lid);
    db.create('stock.move', {
      picking_id: picking, product_id: ref(l['product_id']), product_uom_qty: num(l['product_uom_qty']), product_uom: ref(l['product_uom']) ?? 1,
      name: l['name'] || false, origin: so['name'], reference: name, sale_line_id: lid, partner_id: partner, state: 'confirmed',
      company_id: ref(so['company_id']) ?? 1, warehouse_id: ref(so['warehouse_id']) ?? false, date: when, price_unit: num(l['price_unit']),
    });
  }
  assignPicking(db, picking);
}

function actionConfirm(db: OdooDatabase, uid: number, ids: number[]): boolean {
  requireIds(db, uid, 'sale.order', ids);
  const wrong = ids.filter((id) => !['draft', 'sent'].includes(String(row(db, 'sale.order', id)['state'])));
  if (wrong.length) {
    throw userError(`The following orders are not in a state requiring confirmation: ${wrong.map((id) => String(row(db, 'sale.order', id)['name'])).join(', ')}`);
  }
  for (const id of ids) {
    db.setRaw('sale.order', id, { state: 'sale', date_order: db.txNow() });
    createDelivery(db, id);
    refreshSaleOrder(db, id);
  }
  return true;
}

function actionCancel(db: OdooDatabase, uid: number, ids: number[]): boolean {
  requireIds(db, uid, 'sale.order', ids);
  if (ids.some((id) => row(db, 'sale.order', id)['locked'])) throw userError('You cannot cancel a locked order. Please unlock it first.');
  for (const id of ids) {
    const open = pickingsOf(db, id).filter((p) => !['done', 'cancel'].includes(String(row(db, 'stock.picking', p)['state'])));
    cancelPickings(db, open);
    for (const inv of invoicesOf(db, id)) {
      if (row(db, 'account.move', inv)['state'] === 'draft') db.setRaw('account.move', inv, { state: 'cancel' });
    }
    db.setRaw('sale.order', id, { state: 'cancel' });
    refreshSaleOrder(db, id);
  }
  return true;
}

/** Invoice lines of an order: what was delivered (or ordered) and not yet invoiced. */
function invoiceableLines(db: OdooDatabase, order: number): { line: number; quantity: number }[] {
  refreshSaleOrder(db, order);
  return linesOf(db, order)
    .map((line) => ({ line, quantity: num(row(db, 'sale.order.line', line)['qty_to_invoice']) }))
    .filter((x) => x.quantity > 0);
}

const NOTHING_TO_INVOICE =
  'Cannot create an invoice. No items are available to invoice.\n\n' +
  'To resolve this issue, please ensure that:\n' +
  '   • The products have been delivered before attempting to invoice them.\n' +
  '   • The invoicing policy of the product is configured correctly.\n\n' +
  'If you want to invoice based on ordered quantities instead:\n' +
  "   • For consumable or storable products, open the product, go to the 'General Information' tab and change the 'Invoicing Policy' from 'Delivered Quantities' to 'Ordered Quantities'.\n" +
  "   • For services (and other products), change the 'Invoicing Policy' to 'Prepaid/Fixed Price'.\n";

function createInvoice(db: OdooDatabase, order: number): number {
  const so = row(db, 'sale.order', order);
  const lines = invoiceableLines(db, order);
  if (!lines.length) throw userError(NOTHING_TO_INVOICE);
  const partner = ref(so['partner_invoice_id']) ?? ref(so['partner_id']);
  const term = ref(so['payment_term_id']) ?? ref(db.row('res.partner', partner ?? -1)?.['property_payment_term_id']) ?? false;
  let total = 0;
  const cmds = lines.map(({ line, quantity }) => {
    const l = row(db, 'sale.order.line', line);
    const price = num(l['price_unit']);
    const sub = qty(quantity * price * (1 - num(l['discount']) / 100));
    total += sub;
    return [0, 0, {
      product_id: ref(l['product_id']) ?? false, name: l['name'] || false, quantity, price_unit: price, discount: num(l['discount']),
      price_subtotal: sub, price_total: sub, sale_line_ids: [[6, 0, [line]]], product_uom_id: ref(l['product_uom']) ?? 1,
      partner_id: partner ?? false, display_type: 'product', debit: 0, credit: sub, balance: -sub, amount_currency: -sub,
    }];
  });
  total = Math.round(total * 100) / 100;
  const inv = db.create('account.move', {
    move_type: 'out_invoice', partner_id: partner ?? false, partner_shipping_id: ref(so['partner_shipping_id']) ?? partner ?? false,
    invoice_origin: so['name'], invoice_payment_term_id: term, currency_id: ref(so['currency_id']) ?? 1, company_id: ref(so['company_id']) ?? 1,
    invoice_user_id: ref(so['user_id']) ?? false, ref: so['client_order_ref'] ?? false, payment_reference: false, journal_id: 1,
    invoice_line_ids: cmds,
  });
  db.setRaw('account.move', inv, {
    amount_untaxed: total, amount_total: total, amount_tax: 0, amount_residual: total, amount_untaxed_signed: total,
    amount_total_signed: total, amount_residual_signed: total, amount_total_in_currency_signed: total, payment_state: 'not_paid',
  });
  refreshSaleOrder(db, order);
  return inv;
}

/** `sale.order.action_view_invoice` as Odoo 18 returns it (action 262 with its views). */
function invoiceAction(db: OdooDatabase, orders: number[], invoices: number[]): Row {
  const so = row(db, 'sale.order', orders[0]!);
  const partner = ref(so['partner_id']);
  const term = ref(so['payment_term_id']) ?? ref(db.row('res.partner', partner ?? -1)?.['property_payment_term_id']);
  const a: Row = {
    id: 262, name: 'Invoices', type: 'ir.actions.act_window', xml_id: 'account.action_move_out_invoice_type', path: 'invoicing',
    help: '<p class="o_view_nocontent_smiling_face">\n                Create a customer invoice\n              </p><p>\n                Create invoices, register payments and keep track of the discussions with your customers.\n              </p>\n            ',
    binding_model_id: false, binding_type: 'action', binding_view_types: 'list,form', display_name: 'Invoices',
    view_id: [709, 'account.out.invoice.list'],
    domain: invoices.length > 1 ? [['id', 'in', invoices]] : "[('move_type', 'in', ['out_invoice', 'out_refund'])]",
    context: {
      default_move_type: 'out_invoice', default_partner_id: partner ?? false, default_partner_shipping_id: ref(so['partner_shipping_id']) ?? false,
      // None when neither the order nor the customer has a payment term (XML-RPC cannot marshal it).
      default_invoice_payment_term_id: term ?? null, default_invoice_origin: so['name'],
    },
  };
  if (invoices.length === 1) a['res_id'] = invoices[0];
  Object.assign(a, {
    res_model: 'account.move', target: 'current', view_mode: 'list,kanban,form,activity', mobile_view_mode: 'kanban',
    views: invoices.length === 1 ? [[716, 'form'], [709, 'list'], [false, 'kanban'], [false, 'activity']] : [[709, 'list'], [false, 'kanban'], [716, 'form'], [false, 'activity']],
    limit: 80, groups_id: [], search_view_id: [719, 'account.invoice.select'], embedded_action_ids: [], filter: false,
  });
  if (!invoices.length) return { type: 'ir.actions.act_window_close' };
  return a;
}

function createInvoices(db: OdooDatabase, uid: number, ids: number[], ctx: Context): Row {
  requireIds(db, uid, 'sale.advance.payment.inv', ids);
  const wiz = row(db, 'sale.advance.payment.inv', ids[0]!);
  let orders = Array.isArray(wiz['sale_order_ids']) ? [...(wiz['sale_order_ids'] as number[])] : [];
  if (!orders.length) orders = ctxIds(ctx, 'active_ids');
  requireIds(db, uid, 'sale.order', orders);
  const method = wiz['advance_payment_method'] ?? 'delivered';
  if (method !== 'delivered') throw userError('Down payments are not supported by this server.');
  const invoices = orders.map((o) => createInvoice(db, o));
  return invoiceAction(db, orders, invoices);
}

export function registerSale(db: OdooDatabase): void {
  db.registerMethod('sale.order', 'action_confirm', (d, uid, ids) => actionConfirm(d, uid, ids));
  db.registerMethod('sale.order', 'action_cancel', (d, uid, ids) => actionCancel(d, uid, ids));
  db.registerMethod('sale.order', 'action_quotation_sent', (d, uid, ids) => {
    requireIds(d, uid, 'sale.order', ids);
    if (ids.some((id) => row(d, 'sale.order', id)['state'] !== 'draft')) throw userError('Only draft orders can be marked as sent directly.');
    d.write('sale.order', ids, { state: 'sent' });
    return undefined;
  });
  db.registerMethod('sale.order', 'action_draft', (d, uid, ids) => {
    requireIds(d, uid, 'sale.order', ids);
    const ok = ids.filter((id) => ['cancel', 'sent'].includes(String(row(d, 'sale.order', id)['state'])));
    d.write('sale.order', ok, { state: 'draft', signature: false, signed_by: false, signed_on: false });
    return true;
  });
  db.registerComputed('sale.order', 'invoice_ids', (d, id) => invoicesOf(d, id));
  db.registerComputed('sale.order', 'invoice_count', (d, id) => invoicesOf(d, id).length);
  db.registerComputed('sale.order', 'delivery_count', (d, id) => pickingsOf(d, id).length);
  db.registerMethod('sale.advance.payment.inv', 'create_invoices', (d, uid, ids, _a, kw) => createInvoices(d, uid, ids, ctxOf(kw)));
  db.onCreate('sale.advance.payment.inv', (d, ids, vals, ctx) => {
    const active = ctxIds(ctx, 'active_ids');
    if (vals['sale_order_ids'] !== undefined || !active.length) return;
    if (ctx['active_model'] !== undefined && ctx['active_model'] !== 'sale.order') return;
    for (const id of ids) d.setRaw('sale.advance.payment.inv', id, { sale_order_ids: active.filter((o) => d.row('sale.order', o)) });
  });
  onPickingsChanged((d, pickings) => {
    const orders = new Set<number>();
    for (const p of pickings) {
      const so = ref(d.row('stock.picking', p)?.['sale_id']);
      if (so !== undefined) orders.add(so);
    }
    for (const o of orders) refreshSaleOrder(d, o);
  });
}
