/**
 * Stock flows of the simulated Odoo 18: reservation (`action_assign`), validation
 * (`button_validate` with the backorder and SMS pre-validation wizards, backorders, quants moved,
 * `date_done`), cancellation, the `stock.backorder.confirmation` and `confirm.stock.sms` wizards,
 * inventory adjustments (`stock.quant.action_apply_inventory`) and the quantities of
 * `product.product` (`qty_available`... honouring `context.location` / `context.warehouse`).
 */
import type { Context, OdooDatabase } from '../database.ts';
import type { Row } from '../domain.ts';
import { userError, valueError } from '../errors.ts';
import { BACKORDER_VIEW_ID, SMS_VIEW_ID, ctxIds, ctxOf, idsWhere, num, qty, ref, requireIds, row, wizardAction } from './common.ts';

/** Reserved quantity a move holds on quants (hidden column, never read over RPC). */
const RESERVED = '__reserved';
const OPEN_MOVE = new Set(['draft', 'waiting', 'confirmed', 'partially_available', 'assigned']);

/** Called after pickings change state, to recompute the orders they belong to. */
export type PickingListener = (db: OdooDatabase, pickingIds: number[]) => void;
const listeners: PickingListener[] = [];
export function onPickingsChanged(fn: PickingListener): void {
  if (!listeners.includes(fn)) listeners.push(fn);
}
function notify(db: OdooDatabase, ids: number[]): void {
  for (const fn of listeners) fn(db, ids);
}

// ---------------------------------------------------------------- locations and quants

/** A location and every location below it. */
export function locationTree(db: OdooDatabase, root: number): Set<number> {
  const out = new Set<number>([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const id of db.ids('stock.location')) {
      const parent = ref(db.row('stock.location', id)!['location_id']);
      if (parent !== undefined && out.has(parent) && !out.has(id)) {
        out.add(id);
        grew = true;
      }
    }
  }
  return out;
}

export function isInternal(db: OdooDatabase, loc: unknown): boolean {
  const id = ref(loc);
  return id !== undefined && db.row('stock.location', id)?.['usage'] === 'internal';
}

function quantsIn(db: OdooDatabase, product: number, locs: Set<number>): number[] {
  return idsWhere(db, 'stock.quant', (q) => q['product_id'] === product && locs.has(ref(q['location_id']) ?? -1));
}

/** The quant of a product at exactly one location, created when absent. */
function quantAt(db: OdooDatabase, product: number, loc: number): number {
  const found = idsWhere(db, 'stock.quant', (q) => q['product_id'] === product && q['location_id'] === loc)[0];
  if (found !== undefined) return found;
  return db.create('stock.quant', { product_id: product, location_id: loc, quantity: 0, reserved_quantity: 0, inventory_quantity: 0, inventory_quantity_set: false });
}

/** Move `delta` units of a product into (positive) or out of (negative) an internal location. */
function changeStock(db: OdooDatabase, product: number, loc: number, delta: number): void {
  if (!delta) return;
  const locs = locationTree(db, loc);
  if (delta > 0) {
    const q = quantAt(db, product, loc);
    db.setRaw('stock.quant', q, { quantity: qty(num(row(db, 'stock.quant', q)['quantity']) + delta) });
    return;
  }
  let left = -delta;
  for (const q of quantsIn(db, product, locs)) {
    if (left <= 0) break;
    const have = num(row(db, 'stock.quant', q)['quantity']);
    const take = Math.min(have, left);
    if (take <= 0) continue;
    db.setRaw('stock.quant', q, { quantity: qty(have - take) });
    left = qty(left - take);
  }
  if (left > 0) {
    const q = quantAt(db, product, loc);
    db.setRaw('stock.quant', q, { quantity: qty(num(row(db, 'stock.quant', q)['quantity']) - left) });
  }
}

/** Reserve up to `want` units on the quants below `loc`; returns what was reserved. */
function reserveQuants(db: OdooDatabase, product: number, loc: number, want: number): number {
  let got = 0;
  for (const q of quantsIn(db, product, locationTree(db, loc))) {
    const r = row(db, 'stock.quant', q);
    const free = qty(num(r['quantity']) - num(r['reserved_quantity']));
    const take = Math.min(free, want - got);
    if (take <= 0) continue;
    db.setRaw('stock.quant', q, { reserved_quantity: qty(num(r['reserved_quantity']) + take) });
    got = qty(got + take);
    if (got >= want) break;
  }
  return got;
}

function releaseQuants(db: OdooDatabase, product: number, loc: number, amount: number): void {
  let left = amount;
  for (const q of quantsIn(db, product, locationTree(db, loc))) {
    if (left <= 0) break;
    const r = row(db, 'stock.quant', q);
    const take = Math.min(num(r['reserved_quantity']), left);
    if (take <= 0) continue;
    db.setRaw('stock.quant', q, { reserved_quantity: qty(num(r['reserved_quantity']) - take) });
    left = qty(left - take);
  }
}

// ---------------------------------------------------------------- moves and pickings

export function movesOf(db: OdooDatabase, picking: number): number[] {
  return idsWhere(db, 'stock.move', (m) => m['picking_id'] === picking);
}

/** Reserve what a confirmed move still needs: from stock for internal sources, in full otherwise. */
function reserveMove(db: OdooDatabase, id: number): void {
  const m = row(db, 'stock.move', id);
  if (!OPEN_MOVE.has(String(m['state']))) return;
  const demand = num(m['product_uom_qty']);
  const product = ref(m['product_id']);
  const src = ref(m['location_id']);
  if (product === undefined || src === undefined) return;
  let reserved = num(m[RESERVED]);
  let quantity = num(m['quantity']);
  if (isInternal(db, src)) {
    const need = qty(demand - quantity);
    if (need > 0) {
      const got = reserveQuants(db, product, src, need);
      reserved = qty(reserved + got);
      quantity = qty(quantity + got);
    }
  } else if (quantity < demand) quantity = demand;
  const state = quantity >= demand ? 'assigned' : quantity > 0 ? 'partially_available' : 'confirmed';
  db.setRaw('stock.move', id, { quantity, [RESERVED]: reserved, state });
}

function unreserveMove(db: OdooDatabase, id: number): void {
  const m = row(db, 'stock.move', id);
  const reserved = num(m[RESERVED]);
  const product = ref(m['product_id']);
  const src = ref(m['location_id']);
  if (reserved > 0 && product !== undefined && src !== undefined) releaseQuants(db, product, src, reserved);
  db.setRaw('stock.move', id, { [RESERVED]: 0 });
}

/** The picking state Odoo derives from its moves. */
export function refreshPickingState(db: OdooDatabase, picking: number): void {
  const p = row(db, 'stock.picking', picking);
  const states = movesOf(db, picking).map((m) => String(row(db, 'stock.move', m)['state']));
  let state: string;
  if (!states.length) state = p['state'] === 'cancel' ? 'cancel' : 'draft';
  else if (states.every((s) => s === 'cancel')) state = 'cancel';
  else {
    const live = states.filter((s) => s !== 'cancel');
    if (live.every((s) => s === 'done')) state = 'done';
    else if (live.some((s) => s === 'draft')) state = 'draft';
    else if (live.every((s) => s === 'assigned' || s === 'done')) state = 'assigned';
    else if (p['move_type'] !== 'one' && live.some((s) => s === 'assigned' || s === 'partially_available')) state = 'assigned';
    else state = live.some((s) => s === 'waiting') ? 'waiting' : 'confirmed';
  }
  if (p['state'] !== state) db.setRaw('stock.picking', picking, { state });
}

/** `action_confirm` of a draft picking, then reservation. */
export function confirmPicking(db: OdooDatabase, picking: number): void {
  for (const m of movesOf(db, picking)) {
    if (row(db, 'stock.move', m)['state'] === 'draft') db.setRaw('stock.move', m, { state: 'confirmed' });
  }
  assignPicking(db, picking);
}

export function assignPicking(db: OdooDatabase, picking: number): void {
  for (const m of movesOf(db, picking)) {
    const s = String(row(db, 'stock.move', m)['state']);
    if (s === 'draft') db.setRaw('stock.move', m, { state: 'confirmed' });
    if (s !== 'done' && s !== 'cancel') reserveMove(db, m);
  }
  refreshPickingState(db, picking);
}

function openMoves(db: OdooDatabase, picking: number): number[] {
  return movesOf(db, picking).filter((m) => OPEN_MOVE.has(String(row(db, 'stock.move', m)['state'])));
}

/** Whether validating would leave something undelivered (`_check_backorder`). */
function needsBackorder(db: OdooDatabase, picking: number): boolean {
  return openMoves(db, picking).some((m) => {
    const r = row(db, 'stock.move', m);
    return (r['picked'] ? num(r['quantity']) : 0) < num(r['product_uom_qty']);
  });
}

function smsApplies(db: OdooDatabase, picking: number): boolean {
  const p = row(db, 'stock.picking', picking);
  if (p['picking_type_code'] !== 'outgoing') return false;
  const company = db.row('res.company', ref(p['company_id']) ?? 1);
  if (!company || !company['stock_move_sms_validation'] || company['has_received_warning_stock_sms']) return false;
  const partner = db.row('res.partner', ref(p['partner_id']) ?? -1);
  return Boolean(partner && (partner['phone'] || partner['mobile']));
}

/** `_action_done` of one picking: done quantities moved, the rest to a backorder or cancelled. */
function pickingDone(db: OdooDatabase, picking: number, cancelBackorder: boolean): number | undefined {
  const p = row(db, 'stock.picking', picking);
  const now = db.txNowSeconds();
  const rest: { from: number; amount: number; whole: boolean }[] = [];
  for (const m of openMoves(db, picking)) {
    const r = row(db, 'stock.move', m);
    const demand = num(r['product_uom_qty']);
    const done = r['picked'] ? num(r['quantity']) : 0;
    unreserveMove(db, m);
    if (done <= 0) {
      rest.push({ from: m, amount: demand, whole: true });
      continue;
    }
    const product = ref(r['product_id'])!;
    const src = ref(r['location_id']);
    const dest = ref(r['location_dest_id']);
    if (isInternal(db, src)) changeStock(db, product, src!, -done);
    if (isInternal(db, dest)) changeStock(db, product, dest!, done);
    if (done < demand) rest.push({ from: m, amount: qty(demand - done), whole: false });
    db.setRaw('stock.move', m, { state: 'done', quantity: done, picked: true, date: now, product_uom_qty: done < demand ? done : demand, product_qty: done < demand ? done : demand });
  }
  let backorder: number | undefined;
  if (rest.length && !cancelBackorder) {
    backorder = db.create('stock.picking', {
      picking_type_id: ref(p['picking_type_id']), partner_id: ref(p['partner_id']) ?? false, origin: p['origin'] ?? false,
      location_id: ref(p['location_id']), location_dest_id: ref(p['location_dest_id']), scheduled_date: p['scheduled_date'] ?? now,
      move_type: p['move_type'] ?? 'direct', company_id: ref(p['company_id']) ?? 1, user_id: ref(p['user_id']) ?? false,
      sale_id: ref(p['sale_id']) ?? false, backorder_id: picking, carrier_id: ref(p['carrier_id']) ?? false,
    });
    for (const { from, amount, whole } of rest) {
      if (whole) {
        db.setRaw('stock.move', from, { picking_id: backorder, quantity: 0, picked: false, state: 'confirmed', reference: row(db, 'stock.picking', backorder)['name'] });
      } else {
        const r = row(db, 'stock.move', from);
        db.create('stock.move', {
          picking_id: backorder, product_id: ref(r['product_id']), product_uom_qty: amount, name: r['name'], origin: r['origin'] ?? false,
          reference: row(db, 'stock.picking', backorder)['name'], sale_line_id: ref(r['sale_line_id']) ?? false,
          purchase_line_id: ref(r['purchase_line_id']) ?? false, partner_id: ref(r['partner_id']) ?? false, price_unit: num(r['price_unit']),
          state: 'confirmed', product_uom: ref(r['product_uom']) ?? 1, location_id: ref(r['location_id']), location_dest_id: ref(r['location_dest_id']),
          picking_type_id: ref(r['picking_type_id']) ?? false, company_id: ref(r['company_id']) ?? 1, warehouse_id: ref(r['warehouse_id']) ?? false,
        });
      }
    }
    assignPicking(db, backorder);
  } else {
    for (const { from, whole } of rest) if (whole) db.setRaw('stock.move', from, { state: 'cancel', quantity: 0, picked: false });
  }
  db.setRaw('stock.picking', picking, { date_done: now });
  refreshPickingState(db, picking);
  if (row(db, 'stock.picking', picking)['state'] !== 'done' && movesOf(db, picking).some((m) => row(db, 'stock.move', m)['state'] === 'done')) {
    db.setRaw('stock.picking', picking, { state: 'done' });
  }
  return backorder;
}

/** `stock.picking.button_validate`: wizards first (backorder, then SMS), then `_action_done`. */
export function buttonValidate(db: OdooDatabase, uid: number, ids: number[], ctx: Context): unknown {
  requireIds(db, uid, 'stock.picking', ids);
  const todo = ids.filter((id) => !['done', 'cancel'].includes(String(row(db, 'stock.picking', id)['state'])));
  for (const id of todo) {
    if (row(db, 'stock.picking', id)['state'] === 'draft') {
      confirmPicking(db, id);
      for (const m of openMoves(db, id)) {
        const r = row(db, 'stock.move', m);
        if (!num(r['quantity'])) db.setRaw('stock.move', m, { quantity: num(r['product_uom_qty']) });
      }
    }
  }
  for (const id of todo) {
    if (!movesOf(db, id).length) throw userError("You can't validate an empty transfer. Please add some products to move before proceeding.");
  }
  for (const id of todo) {
    const moves = openMoves(db, id);
    if (!moves.some((m) => row(db, 'stock.move', m)['picked'])) for (const m of moves) db.setRaw('stock.move', m, { picked: true });
    const any = moves.some((m) => {
      const r = row(db, 'stock.move', m);
      return r['picked'] && num(r['quantity']) > 0;
    });
    if (moves.length && !any) {
      throw userError('You cannot validate a transfer if no quantities are reserved nor done. You can use the info button on the top right corner of your screen to know why the stock is not available.');
    }
  }
  const context: Context = { ...ctx };
  if (!ctxIds(context, 'button_validate_picking_ids').length && !Array.isArray(context['button_validate_picking_ids'])) context['button_validate_picking_ids'] = [...ids];
  if (!ctx['skip_backorder']) {
    const back = todo.filter((id) => needsBackorder(db, id));
    if (back.length) {
      return wizardAction('Create Backorder?', 'stock.backorder.confirmation', BACKORDER_VIEW_ID, undefined, {
        ...context, default_show_transfers: false, default_pick_ids: back.map((id) => [4, id]),
      });
    }
  }
  if (!ctx['skip_sms']) {
    const sms = todo.filter((id) => smsApplies(db, id));
    if (sms.length) {
      const company = ref(row(db, 'stock.picking', sms[0]!)['company_id']) ?? 1;
      const wiz = db.create('confirm.stock.sms', { company_id: company });
      return wizardAction('SMS', 'confirm.stock.sms', SMS_VIEW_ID, wiz, context);
    }
  }
  const noBackorder = new Set(ctxIds(ctx, 'picking_ids_not_to_backorder'));
  for (const id of todo) pickingDone(db, id, Boolean(ctx['cancel_backorder']) || noBackorder.has(id));
  notify(db, ids);
  return true;
}

function actionAssign(db: OdooDatabase, uid: number, ids: number[]): boolean {
  requireIds(db, uid, 'stock.picking', ids);
  for (const id of ids) {
    const s = String(row(db, 'stock.picking', id)['state']);
    if (s === 'done' || s === 'cancel') continue;
    if (s === 'draft') confirmPicking(db, id);
    else assignPicking(db, id);
  }
  notify(db, ids);
  return true;
}

const CANCEL_DONE = "You cannot cancel a stock move that has been set to 'Done'. Create a return in order to reverse the moves which took place.";

export function cancelPickings(db: OdooDatabase, ids: number[]): void {
  for (const id of ids) {
    if (movesOf(db, id).some((m) => row(db, 'stock.move', m)['state'] === 'done')) throw userError(CANCEL_DONE);
  }
  for (const id of ids) {
    for (const m of movesOf(db, id)) {
      if (row(db, 'stock.move', m)['state'] === 'cancel') continue;
      unreserveMove(db, m);
      db.setRaw('stock.move', m, { state: 'cancel', quantity: 0 });
    }
    db.setRaw('stock.picking', id, { state: 'cancel' });
  }
}

function registerQuantities(db: OdooDatabase): void {
  /** Internal locations the quantities of a product are counted in, from the context. */
  const scope = (ctx: Context): Set<number> => {
    const roots: number[] = [];
    const loc = ctx['location'];
    const wh = ctx['warehouse'] ?? ctx['warehouse_id'];
    if (typeof loc === 'number') roots.push(loc);
    else if (Array.isArray(loc)) roots.push(...loc.filter((x): x is number => typeof x === 'number'));
    else if (typeof loc === 'string' && loc) {
      roots.push(...idsWhere(db, 'stock.location', (l) => String(l['complete_name'] ?? '').toLowerCase().includes(loc.toLowerCase())));
    } else if (typeof wh === 'number') {
      const view = ref(db.row('stock.warehouse', wh)?.['view_location_id']);
      if (view !== undefined) roots.push(view);
    }
    const out = new Set<number>();
    if (!roots.length) {
      for (const id of db.ids('stock.location')) if (isInternal(db, id)) out.add(id);
      return out;
    }
    for (const r of roots) for (const id of locationTree(db, r)) if (isInternal(db, id)) out.add(id);
    return out;
  };
  const onHand = (product: number, locs: Set<number>, field: 'quantity' | 'reserved_quantity'): number =>
    qty(quantsIn(db, product, locs).reduce((s, q) => s + num(row(db, 'stock.quant', q)[field]), 0));
  const pending = (product: number, locs: Set<number>, dir: 'in' | 'out'): number => {
    let s = 0;
    for (const id of db.ids('stock.move')) {
      const m = db.row('stock.move', id)!;
      if (m['product_id'] !== product || !['waiting', 'confirmed', 'partially_available', 'assigned'].includes(String(m['state']))) continue;
      const src = locs.has(ref(m['location_id']) ?? -1);
      const dest = locs.has(ref(m['location_dest_id']) ?? -1);
      if (dir === 'in' && dest && !src) s += num(m['product_uom_qty']);
      if (dir === 'out' && src && !dest) s += num(m['product_uom_qty']);
    }
    return qty(s);
  };
  db.registerComputed('product.product', 'qty_available', (_d, id, ctx) => onHand(id, scope(ctx), 'quantity'));
  db.registerComputed('product.product', 'free_qty', (_d, id, ctx) => {
    const l = scope(ctx);
    return qty(onHand(id, l, 'quantity') - onHand(id, l, 'reserved_quantity'));
  });
  db.registerComputed('product.product', 'incoming_qty', (_d, id, ctx) => pending(id, scope(ctx), 'in'));
  db.registerComputed('product.product', 'outgoing_qty', (_d, id, ctx) => pending(id, scope(ctx), 'out'));
  db.registerComputed('product.product', 'virtual_available', (_d, id, ctx) => {
    const l = scope(ctx);
    return qty(onHand(id, l, 'quantity') + pending(id, l, 'in') - pending(id, l, 'out'));
  });
  db.registerComputed('stock.quant', 'available_quantity', (_d, id) => {
    const q = row(db, 'stock.quant', id);
    return qty(num(q['quantity']) - num(q['reserved_quantity']));
  });
  db.registerComputed('stock.quant', 'inventory_diff_quantity', (_d, id) => {
    const q = row(db, 'stock.quant', id);
    return q['inventory_quantity_set'] ? qty(num(q['inventory_quantity']) - num(q['quantity'])) : 0;
  });
}

/** `stock.quant.action_apply_inventory`: returns None (JSON-RPC omits `result`, XML-RPC faults). */
function applyInventory(db: OdooDatabase, uid: number, ids: number[]): undefined {
  requireIds(db, uid, 'stock.quant', ids);
  const invLoc = idsWhere(db, 'stock.location', (l) => l['usage'] === 'inventory')[0] ?? false;
  const now = db.txNowSeconds();
  for (const id of ids) {
    const q = row(db, 'stock.quant', id);
    if (!q['inventory_quantity_set']) continue;
    const product = ref(q['product_id'])!;
    const loc = ref(q['location_id'])!;
    const diff = qty(num(q['inventory_quantity']) - num(q['quantity']));
    if (diff) {
      db.create('stock.move', {
        name: 'Product Quantity Updated', reference: 'Product Quantity Updated', product_id: product, product_uom_qty: Math.abs(diff), quantity: Math.abs(diff),
        location_id: diff < 0 ? loc : invLoc, location_dest_id: diff < 0 ? invLoc : loc, state: 'done', picked: true, is_inventory: true,
        date: now, company_id: ref(q['company_id']) ?? 1, product_uom: ref(db.row('product.product', product)?.['uom_id']) ?? 1,
      });
    }
    db.setRaw('stock.quant', id, {
      quantity: num(q['inventory_quantity']), inventory_quantity: 0, inventory_quantity_set: false, inventory_diff_quantity: 0,
      inventory_date: false, last_count_date: now.slice(0, 10), user_id: false,
    });
  }
  return undefined;
}

export function registerStock(db: OdooDatabase): void {
  db.registerMethod('stock.picking', 'button_validate', (d, uid, ids, _a, kw) => buttonValidate(d, uid, ids, ctxOf(kw)));
  db.registerMethod('stock.picking', 'action_assign', (d, uid, ids) => actionAssign(d, uid, ids));
  db.registerMethod('stock.picking', 'action_confirm', (d, uid, ids) => {
    requireIds(d, uid, 'stock.picking', ids);
    for (const id of ids) if (row(d, 'stock.picking', id)['state'] === 'draft') confirmPicking(d, id);
    notify(d, ids);
    return true;
  });
  db.registerMethod('stock.picking', 'action_cancel', (d, uid, ids) => {
    requireIds(d, uid, 'stock.picking', ids);
    cancelPickings(d, ids);
    notify(d, ids);
    return true;
  });
  db.registerMethod('stock.picking', 'do_unreserve', (d, uid, ids) => {
    requireIds(d, uid, 'stock.picking', ids);
    for (const id of ids) {
      for (const m of openMoves(d, id)) {
        unreserveMove(d, m);
        d.setRaw('stock.move', m, { quantity: 0, state: 'confirmed' });
      }
      refreshPickingState(d, id);
    }
    return undefined;
  });

  db.registerMethod('stock.backorder.confirmation', 'process', (d, uid, ids, _a, kw) => {
    requireIds(d, uid, 'stock.backorder.confirmation', ids);
    const ctx = ctxOf(kw);
    const pickings = ctxIds(ctx, 'button_validate_picking_ids');
    if (!pickings.length) return true;
    return buttonValidate(d, uid, pickings, { ...ctx, skip_backorder: true });
  });
  db.registerMethod('stock.backorder.confirmation', 'process_cancel_backorder', (d, uid, ids, _a, kw) => {
    requireIds(d, uid, 'stock.backorder.confirmation', ids);
    const ctx = ctxOf(kw);
    const pickings = ctxIds(ctx, 'button_validate_picking_ids');
    if (!pickings.length) return true;
    const wizardPicks = ids.flatMap((w) => (Array.isArray(row(d, 'stock.backorder.confirmation', w)['pick_ids']) ? row(d, 'stock.backorder.confirmation', w)['pick_ids'] as number[] : []));
    return buttonValidate(d, uid, pickings, { ...ctx, skip_backorder: true, picking_ids_not_to_backorder: wizardPicks.length ? wizardPicks : pickings });
  });

  const smsExit = (flags: Row) => (d: OdooDatabase, uid: number, ids: number[], _a: unknown[], kw: Record<string, unknown>): unknown => {
    requireIds(d, uid, 'confirm.stock.sms', ids);
    if (ids.length !== 1) throw valueError(`Expected singleton: confirm.stock.sms(${ids.join(', ')})`);
    const company = ref(row(d, 'confirm.stock.sms', ids[0]!)['company_id']) ?? 1;
    if (!row(d, 'res.company', company)['has_received_warning_stock_sms']) d.write('res.company', [company], flags);
    const ctx = ctxOf(kw);
    const pickings = ctxIds(ctx, 'button_validate_picking_ids');
    if (!pickings.length) return true;
    return buttonValidate(d, uid, pickings, ctx);
  };
  db.registerMethod('confirm.stock.sms', 'send_sms', smsExit({ has_received_warning_stock_sms: true }));
  db.registerMethod('confirm.stock.sms', 'dont_send_sms', smsExit({ has_received_warning_stock_sms: true, stock_move_sms_validation: false }));

  db.onWrite('stock.quant', (d, ids, vals) => {
    if ('inventory_quantity' in vals && !('inventory_quantity_set' in vals)) for (const id of ids) d.setRaw('stock.quant', id, { inventory_quantity_set: true });
  });
  db.registerMethod('stock.quant', 'action_apply_inventory', (d, uid, ids) => applyInventory(d, uid, ids));
  db.registerMethod('stock.quant', 'action_set_inventory_quantity_to_zero', (d, uid, ids) => {
    requireIds(d, uid, 'stock.quant', ids);
    for (const id of ids) d.setRaw('stock.quant', id, { inventory_quantity: 0, inventory_quantity_set: false, inventory_diff_quantity: 0 });
    return undefined;
  });
  registerQuantities(db);
}
