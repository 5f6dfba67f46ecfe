/**
 * Purchase flows of the simulated Odoo 18: `purchase.order.button_confirm` (receipt WH/IN/xxxxx,
 * moves already `assigned` with `quantity` = demand), `button_cancel`, `button_draft`, the
 * expected arrival dates from the vendor lead time, and `receipt_status` / `qty_received` /
 * `invoice_status` recomputed when a receipt is validated, and locking: the `done` ("Locked")
 * state through `button_done` / `button_unlock` up to 18, the `locked` boolean through
 * `button_lock` / `button_unlock` in 19. Like Odoo's, these return None.
 */
import type { OdooDatabase } from '../database.ts';
import { userError } from '../errors.ts';
import { addDays, idsWhere, num, qty, ref, requireIds, row } from './common.ts';
import { assignPicking, cancelPickings, onPickingsChanged } from './stock.ts';
import { isGoodsType } from '../versions.ts';

function linesOf(db: OdooDatabase, order: number): number[] {
  return idsWhere(db, 'purchase.order.line', (l) => l['order_id'] === order && !l['display_type']);
}

/**
 * The order's receipts as Odoo computes `picking_ids`: the pickings of the moves of its lines, so
 * a backorder split off a partial receipt belongs to the order too.
 */
function receiptsOf(db: OdooDatabase, order: number): number[] {
  const lines = new Set(linesOf(db, order));
  const ids = new Set<number>();
  for (const mid of idsWhere(db, 'stock.move', (m) => lines.has(ref(m['purchase_line_id']) ?? -1))) {
    const p = ref(row(db, 'stock.move', mid)['picking_id']);
    if (p !== undefined && db.row('stock.picking', p)) ids.add(p);
  }
  return [...ids].sort((a, b) => a - b);
}

/** Vendor lead time in days of a product bought from a partner. */
function leadTime(db: OdooDatabase, product: unknown, partner: unknown): number {
  const tmpl = ref(db.row('product.product', ref(product) ?? -1)?.['product_tmpl_id']);
  for (const id of idsWhere(db, 'product.supplierinfo', () => true)) {
    const s = db.row('product.supplierinfo', id)!;
    const forProduct = s['product_id'] === ref(product) || (!s['product_id'] && s['product_tmpl_id'] === tmpl);
    if (forProduct && (partner === undefined || s['partner_id'] === ref(partner))) return num(s['delay']);
  }
  return 0;
}

export function refreshPurchaseOrder(db: OdooDatabase, order: number): void {
  const po = db.row('purchase.order', order);
  if (!po) return;
  const confirmed = po['state'] === 'purchase' || po['state'] === 'done';
  let anyToBill = false;
  for (const lid of linesOf(db, order)) {
    let received = 0;
    for (const mid of idsWhere(db, 'stock.move', (m) => m['purchase_line_id'] === lid && m['state'] === 'done')) {
      const m = row(db, 'stock.move', mid);
      const fromVendor = db.row('stock.location', ref(m['location_id']) ?? -1)?.['usage'] === 'supplier';
      received += fromVendor ? num(m['quantity']) : -num(m['quantity']);
    }
    received = qty(received);
    const toBill = qty(received - num(row(db, 'purchase.order.line', lid)['qty_invoiced']));
    if (toBill > 0) anyToBill = true;
    db.setRaw('purchase.order.line', lid, { qty_received: received, qty_to_invoice: toBill });
  }
  const states = receiptsOf(db, order).map((p) => String(row(db, 'stock.picking', p)['state']));
  let receipt: string | false = false;
  if (confirmed && states.length && !states.every((s) => s === 'cancel')) {
    if (states.every((s) => s === 'done' || s === 'cancel')) receipt = 'full';
    else if (states.some((s) => s === 'done')) receipt = 'partial';
    else receipt = 'pending';
  }
  const dates = receiptsOf(db, order).map((p) => row(db, 'stock.picking', p)['date_done']).filter((x): x is string => typeof x === 'string' && x !== '').sort();
  db.setRaw('purchase.order', order, {
    receipt_status: receipt, invoice_status: confirmed && anyToBill ? 'to invoice' : po['invoice_status'] === 'invoiced' ? 'invoiced' : 'no',
    effective_date: dates[0] ?? false,
  });
}

function createReceipt(db: OdooDatabase, order: number): void {
  const po = row(db, 'purchase.order', order);
  const lines = linesOf(db, order).filter((l) => {
    const p = db.row('product.product', ref(row(db, 'purchase.order.line', l)['product_id']) ?? -1);
    return isGoodsType(db.version, p?.['type']) && num(row(db, 'purchase.order.line', l)['product_qty']) > 0;
  });
  if (!lines.length) return;
  const type = ref(po['picking_type_id']) ?? idsWhere(db, 'stock.picking.type', (t) => t['code'] === 'incoming')[0];
  const planned = (l: number): string => {
    const v = row(db, 'purchase.order.line', l)['date_planned'];
    return typeof v === 'string' && v ? v.slice(0, 19) : addDays(db.txNow(), leadTime(db, row(db, 'purchase.order.line', l)['product_id'], po['partner_id']));
  };
  const when = lines.map(planned).sort()[0]!;
  const picking = db.create('stock.picking', {
    picking_type_id: type, partner_id: ref(po['partner_id']) ?? false, origin: po['name'], scheduled_date: when,
    company_id: ref(po['company_id']) ?? 1, user_id: ref(po['user_id']) ?? false,
  });
  const name = row(db, 'stock.picking', picking)['name'];
  for (const lid of lines) {
    const l = row(db, 'purchase.order.line', lid);
    db.create('stock.move', {
      picking_id: picking, product_id: ref(l['product_id']), product_uom_qty: num(l['product_qty']), product_uom: ref(l['product_uom']) ?? 1,
      name: l['name'] || false, origin: po['name'], reference: name, purchase_line_id: lid, partner_id: ref(po['partner_id']) ?? false,
      state: 'confirmed', price_unit: num(l['price_unit']), company_id: ref(po['company_id']) ?? 1, date: planned(lid), date_deadline: false,
    });
  }
  assignPicking(db, picking);
}

export function registerPurchase(db: OdooDatabase): void {
  db.registerMethod('purchase.order', 'button_confirm', (d, uid, ids) => {
    requireIds(d, uid, 'purchase.order', ids);
    for (const id of ids) {
      if (!['draft', 'sent'].includes(String(row(d, 'purchase.order', id)['state']))) continue;
      d.setRaw('purchase.order', id, { state: 'purchase', date_approve: d.txNow() });
      createReceipt(d, id);
      refreshPurchaseOrder(d, id);
    }
    return true;
  });
  db.registerMethod('purchase.order', 'button_cancel', (d, uid, ids) => {
    requireIds(d, uid, 'purchase.order', ids);
    for (const id of ids) {
      const receipts = receiptsOf(d, id);
      if (receipts.some((p) => row(d, 'stock.picking', p)['state'] === 'done')) {
        throw userError(`Unable to cancel purchase order ${String(row(d, 'purchase.order', id)['name'])} as some receptions have already been done.`);
      }
      cancelPickings(d, receipts.filter((p) => row(d, 'stock.picking', p)['state'] !== 'cancel'));
      d.setRaw('purchase.order', id, { state: 'cancel' });
      refreshPurchaseOrder(d, id);
    }
    return undefined;
  });
  if (db.version < 19) {
    db.registerMethod('purchase.order', 'button_done', (d, uid, ids) => {
      requireIds(d, uid, 'purchase.order', ids);
      for (const id of ids) d.setRaw('purchase.order', id, { state: 'done', priority: '0' });
      return undefined;
    });
    db.registerMethod('purchase.order', 'button_unlock', (d, uid, ids) => {
      requireIds(d, uid, 'purchase.order', ids);
      for (const id of ids) d.setRaw('purchase.order', id, { state: 'purchase' });
      return undefined;
    });
  } else {
    for (const [method, locked] of [['button_lock', true], ['button_unlock', false]] as const) {
      db.registerMethod('purchase.order', method, (d, uid, ids) => {
        requireIds(d, uid, 'purchase.order', ids);
        for (const id of ids) d.setRaw('purchase.order', id, { locked });
        return undefined;
      });
    }
  }
  db.registerMethod('purchase.order', 'button_draft', (d, uid, ids) => {
    requireIds(d, uid, 'purchase.order', ids);
    for (const id of ids) if (row(d, 'purchase.order', id)['state'] === 'cancel') d.setRaw('purchase.order', id, { state: 'draft' });
    return {};
  });
  db.onCreate('purchase.order.line', (d, ids, vals) => {
    if (vals['date_planned']) return;
    for (const id of ids) {
      const l = row(d, 'purchase.order.line', id);
      const po = d.row('purchase.order', ref(l['order_id']) ?? -1);
      d.setRaw('purchase.order.line', id, { date_planned: addDays(d.txNow(), leadTime(d, l['product_id'], po?.['partner_id'])) });
    }
  });
  db.registerComputed('purchase.order', 'date_planned', (d, id) => {
    const dates = linesOf(d, id).map((l) => d.row('purchase.order.line', l)!['date_planned']).filter((x): x is string => typeof x === 'string' && x !== '').sort();
    return dates[0] ?? d.row('purchase.order', id)?.['date_planned'] ?? false;
  });
  db.registerComputed('purchase.order', 'picking_ids', (d, id) => receiptsOf(d, id));
  db.registerComputed('purchase.order', 'incoming_picking_count', (d, id) => receiptsOf(d, id).length);
  onPickingsChanged((d, pickings) => {
    const orders = new Set<number>();
    for (const p of pickings) {
      for (const m of idsWhere(d, 'stock.move', (x) => x['picking_id'] === p)) {
        const o = ref(d.row('purchase.order.line', ref(d.row('stock.move', m)!['purchase_line_id']) ?? -1)?.['order_id']);
        if (o !== undefined) orders.add(o);
      }
    }
    for (const o of orders) refreshPurchaseOrder(d, o);
  });
}
