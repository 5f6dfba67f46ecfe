/**
 * The Odoo business flows as connector operations, over an `OdooGateway`: confirm a sale
 * order, validate a delivery (fully, or partially with a backorder), invoice the delivered
 * quantities, register a vendor bill, confirm a purchase order and validate its receipt,
 * apply an inventory adjustment.
 *
 * Every operation is safe to repeat. It reads the current state first and only does what
 * is still to be done, so running it again after a success, a crash or a lost answer
 * neither confirms twice nor invoices twice nor creates a second bill. The Odoo methods
 * are called with a `verify` re-read, which the gateway uses after a lost answer (and after
 * a None answer) to decide whether the call happened.
 *
 * Odoo's wizards are followed the way a real client does it (test/fixtures/odoo-18,
 * transcripts 05-08 and 11): `button_validate` gets `skip_sms` in its context (never
 * `confirm.stock.sms.dont_send_sms`, which permanently changes the company's settings);
 * the backorder action is answered by creating `stock.backorder.confirmation` with the
 * returned context and calling `process`. Where XML-RPC cannot carry Odoo's None
 * (`create_invoices` with no payment term, `action_apply_inventory`), the records are
 * re-read to decide.
 *
 * Odoo's refusals (UserError, ValidationError, MissingError) reach the caller as the
 * gateway raised them: BusinessError with Odoo's message. Refusals decided here (a
 * cancelled transfer, a record that does not exist) are BusinessError too.
 */
import { BusinessError, HubError, PermanentError, ValidationError, type FieldIssue } from '../../domain/errors.ts';
import type { OdooGateway, OdooRow, Vals } from './gateway.ts';
import { odooDatetime, x2mIds } from './mappers.ts';

type Context = Record<string, unknown>;

/** Quantities are compared the way Odoo rounds them (product UoM precision is at least 1e-6). */
const EPSILON = 1e-6;
const same = (a: number, b: number) => Math.abs(a - b) < EPSILON;

/** Most wizard steps one validation follows before giving up (backorder, SMS, repeated). */
const MAX_WIZARD_STEPS = 6;

/** How often a create whose answer was lost is looked up and sent again. */
const MAX_CREATE_ATTEMPTS = 3;

const OPEN_MOVE_STATES = new Set(['draft', 'waiting', 'confirmed', 'partially_available', 'assigned']);

// ------------------------------------------------------------------ results

export interface ConfirmSaleOrderResult {
  /** The order's state after the operation (`sale`). */
  state: string;
  /** The transfers of the order (delivery orders, and pick/pack steps when configured), ascending ids. */
  pickingIds: number[];
}

export interface ValidateDeliveryOptions {
  /** Written to `carrier_tracking_ref` before validating (and on a done transfer when it differs). */
  trackingRef?: string;
  /**
   * Quantities done per `stock.move` id. Absent: every move is delivered in full. Present:
   * the moves listed get these quantities, the others none; what is left goes to a backorder.
   */
  quantities?: Record<number, number>;
  /**
   * What happens to quantities not delivered: a backorder (default) or cancelled
   * (`process_cancel_backorder`: the order will not get them).
   */
  remainder?: 'backorder' | 'cancel';
}

export interface ValidateDeliveryResult {
  state: 'done';
  /** The backorder created for what was not delivered, or null. */
  backorderId: number | null;
  /** `date_done` as RFC 3339 UTC (`2026-11-24T05:26:53Z`). */
  dateDone: string | null;
}

export interface InvoiceDeliveredResult {
  /** Every invoice of the order (`invoice_ids`), ascending. */
  invoiceIds: number[];
  /** The order's customer invoices that are posted after the operation. */
  posted: { id: number; name: string; state: string }[];
}

export interface VendorBillInput {
  partnerId: number;
  /** The vendor's bill number: with the partner, the natural key of the bill. */
  ref: string;
  /** `YYYY-MM-DD`. */
  invoiceDate: string;
  lines: { productId: number; quantity: number; priceUnit: number }[];
}

export interface VendorBillResult {
  id: number;
  name: string;
  state: string;
}

export interface ConfirmPurchaseOrderResult {
  /** The order's state after the operation (`purchase`, or `to approve` under double validation). */
  state: string;
  /** The receipts of the order, ascending ids. */
  receiptIds: number[];
}

export interface InventoryAdjustmentInput {
  productId: number;
  /** An internal location (WH/Stock is 8 in the demo database). */
  locationId: number;
  /** The counted quantity: the quantity on hand after the adjustment. */
  quantity: number;
}

export interface InventoryAdjustmentResult {
  quantId: number;
  /** The quant's `quantity` as re-read after the adjustment. */
  quantity: number;
}

// ------------------------------------------------------------------ helpers

function missing(model: string, id: number): BusinessError {
  return new BusinessError({
    code: 'odoo.missing_record',
    message: `Record does not exist or has been deleted.\n(Record: ${model}(${id},))`,
    extra: { model, id },
  });
}

async function readOne(gw: OdooGateway, model: string, id: number, fields: string[]): Promise<OdooRow> {
  const rows = await gw.read(model, [id], fields);
  const row = rows[0];
  if (!row) throw missing(model, id);
  return row;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function numberOf(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function isAction(v: unknown): v is { type?: unknown; res_model?: unknown; res_id?: unknown; context?: unknown } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function positiveId(v: unknown, what: string): number {
  if (!Number.isInteger(v) || (v as number) <= 0) throw new ValidationError('odoo.invalid_argument', `${what} must be a positive integer id`);
  return v as number;
}

/**
 * Creates a record that has no single-field natural key, without ever making two: `find`
 * looks the record up first, and again after a create whose answer may have been lost.
 */
async function createOnce(gw: OdooGateway, model: string, vals: Vals, find: () => Promise<number | undefined>): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const existing = await find();
    if (existing !== undefined) return existing;
    try {
      return await gw.create(model, vals);
    } catch (e) {
      // The gateway does not repeat a create without a natural key after a failure that may
      // have reached Odoo: look it up here before sending it again.
      if (!(e instanceof HubError) || !e.retryable || attempt >= MAX_CREATE_ATTEMPTS) throw e;
    }
  }
}

// ------------------------------------------------------------------ sale orders

/**
 * Confirms a sale order (`action_confirm`) and returns its state and the transfers the
 * confirmation created. Safe to repeat: an order already `sale` (or `done`) is not sent
 * again, only read; after a lost answer the gateway re-reads the state before repeating.
 * A cancelled order is refused by Odoo (UserError, kept as BusinessError).
 */
export async function confirmSaleOrder(gw: OdooGateway, saleOrderId: number): Promise<ConfirmSaleOrderResult> {
  positiveId(saleOrderId, 'saleOrderId');
  const fields = ['name', 'state', 'picking_ids'];
  let so = await readOne(gw, 'sale.order', saleOrderId, fields);
  if (so.state !== 'sale' && so.state !== 'done') {
    await gw.callMethod('sale.order', 'action_confirm', [saleOrderId], {}, {
      verify: async () => (await readOne(gw, 'sale.order', saleOrderId, ['state'])).state === 'sale',
    });
    so = await readOne(gw, 'sale.order', saleOrderId, fields);
  }
  return { state: str(so.state), pickingIds: x2mIds(so.picking_ids).sort((a, b) => a - b) };
}

// ------------------------------------------------------------------ transfers

interface MoveRow {
  id: number;
  state: string;
  demand: number;
  quantity: number;
  picked: boolean;
}

async function movesOf(gw: OdooGateway, pickingId: number): Promise<MoveRow[]> {
  const rows = (await gw.call('stock.move', 'search_read', [[['picking_id', '=', pickingId]], ['state', 'product_uom_qty', 'quantity', 'picked']], { order: 'id' })) as OdooRow[];
  return rows.map((r) => ({ id: r.id, state: str(r.state), demand: numberOf(r.product_uom_qty), quantity: numberOf(r.quantity), picked: r.picked === true }));
}

async function backorderOf(gw: OdooGateway, pickingId: number): Promise<number | null> {
  const ids = (await gw.call('stock.picking', 'search', [[['backorder_id', '=', pickingId]]], { order: 'id', limit: 1 })) as number[];
  return ids[0] ?? null;
}

/** The writes on the moves that make `button_validate` deliver what is asked. */
function moveWrites(moves: MoveRow[], quantities: Record<number, number> | undefined): { id: number; vals: Vals }[] {
  const open = moves.filter((m) => OPEN_MOVE_STATES.has(m.state));
  if (!quantities) {
    // In full: Odoo picks every move itself when none is picked; otherwise every move must
    // be picked with its whole demand.
    const untouched = open.every((m) => same(m.quantity, m.demand)) && (open.every((m) => !m.picked) || open.every((m) => m.picked));
    if (untouched) return [];
    return open.filter((m) => !m.picked || !same(m.quantity, m.demand)).map((m) => ({ id: m.id, vals: { quantity: m.demand, picked: true } }));
  }
  const writes: { id: number; vals: Vals }[] = [];
  for (const m of open) {
    const q = quantities[m.id];
    if (q !== undefined) {
      if (!m.picked || !same(m.quantity, q)) writes.push({ id: m.id, vals: { quantity: q, picked: true } });
    } else if (m.picked) {
      // Not listed: nothing of it leaves now; the move goes to the backorder.
      writes.push({ id: m.id, vals: { picked: false } });
    }
  }
  return writes;
}

function checkQuantities(pickingId: number, moves: MoveRow[], quantities: Record<number, number>): void {
  const ids = new Set(moves.map((m) => m.id));
  const byId = new Map(moves.map((m) => [m.id, m]));
  const issues: FieldIssue[] = [];
  for (const [key, q] of Object.entries(quantities)) {
    const move = byId.get(Number(key));
    const path = `quantities.${key}`;
    if (!move) issues.push({ path, message: `stock.move ${key} is not a move of stock.picking ${pickingId}` });
    else if (typeof q !== 'number' || !Number.isFinite(q) || q < 0) issues.push({ path, message: 'must be a finite number >= 0' });
    else if (!OPEN_MOVE_STATES.has(move.state)) issues.push({ path, message: `stock.move ${key} is ${move.state}` });
  }
  if (issues.length) throw new ValidationError('odoo.invalid_argument', `invalid quantities for stock.picking ${pickingId}`, issues);
}

/**
 * Runs `button_validate` and follows the wizards it returns until the transfer is done:
 * the backorder confirmation (created with the returned context, then `process`) and, if
 * it shows up despite `skip_sms`, the SMS warning (validated again with its context plus
 * `skip_sms`).
 */
async function runValidation(gw: OdooGateway, pickingId: number, remainder: 'backorder' | 'cancel' = 'backorder'): Promise<void> {
  const done = async () => (await readOne(gw, 'stock.picking', pickingId, ['state'])).state === 'done';
  let answer = await gw.callMethod('stock.picking', 'button_validate', [pickingId], { context: { skip_sms: true } }, { verify: done });
  for (let step = 0; isAction(answer) && answer.type !== 'ir.actions.act_window_close'; step++) {
    if (step >= MAX_WIZARD_STEPS) {
      throw new PermanentError({ code: 'odoo.unexpected_action', message: `stock.picking ${pickingId}: button_validate kept answering wizards` });
    }
    const context = (isAction(answer.context) ? answer.context : {}) as Context;
    if (answer.res_model === 'stock.backorder.confirmation') {
      const ctx = { ...context, skip_sms: true };
      // A wizard created twice after a lost answer is a transient record Odoo vacuums.
      const created = await gw.call('stock.backorder.confirmation', 'create', [{}], { context: ctx });
      const wizard = Array.isArray(created) ? (created[0] as number) : (created as number);
      const method = remainder === 'cancel' ? 'process_cancel_backorder' : 'process';
      answer = await gw.callMethod('stock.backorder.confirmation', method, [wizard], { context: ctx }, { verify: done });
    } else if (answer.res_model === 'confirm.stock.sms') {
      answer = await gw.callMethod('stock.picking', 'button_validate', [pickingId], { context: { ...context, skip_sms: true } }, { verify: done });
    } else {
      throw new PermanentError({
        code: 'odoo.unexpected_action',
        message: `stock.picking ${pickingId}: button_validate answered an unexpected action (${String(answer.res_model ?? answer.type)})`,
      });
    }
  }
}

/**
 * Validates a transfer: writes the tracking reference, the quantities done (all of them when
 * none are given), then `button_validate` with `skip_sms`, following the backorder wizard
 * when something is left (a backorder is created for it, or with `remainder: 'cancel'` the
 * rest is cancelled). Returns the backorder and
 * `date_done`.
 *
 * Safe to repeat: a transfer already `done` is only read (its backorder looked up), the
 * writes are of absolute values, and after a lost answer the gateway re-reads the state
 * before validating again. A cancelled transfer is refused (`odoo.picking_cancelled`).
 */
export async function validateDelivery(gw: OdooGateway, pickingId: number, opts: ValidateDeliveryOptions = {}): Promise<ValidateDeliveryResult> {
  positiveId(pickingId, 'pickingId');
  const fields = ['name', 'state', 'carrier_tracking_ref', 'date_done'];
  let picking = await readOne(gw, 'stock.picking', pickingId, fields);
  const track = opts.trackingRef;
  if (track !== undefined && str(picking.carrier_tracking_ref) !== track) {
    // Also on a done transfer: the carrier's reference often comes after the goods left.
    await gw.write('stock.picking', pickingId, { carrier_tracking_ref: track });
  }
  if (picking.state === 'cancel') {
    throw new BusinessError({ code: 'odoo.picking_cancelled', message: `The transfer ${str(picking.name)} is cancelled and cannot be validated.`, extra: { pickingId } });
  }
  if (picking.state !== 'done') {
    const moves = await movesOf(gw, pickingId);
    if (opts.quantities) checkQuantities(pickingId, moves, opts.quantities);
    const writes = moveWrites(moves, opts.quantities);
    await Promise.all(writes.map((w) => gw.write('stock.move', w.id, w.vals)));
    await runValidation(gw, pickingId, opts.remainder);
    picking = await readOne(gw, 'stock.picking', pickingId, fields);
    if (picking.state !== 'done') {
      throw new PermanentError({ code: 'odoo.unverified', message: `stock.picking ${pickingId} is ${String(picking.state)} after validation` });
    }
  }
  return { state: 'done', backorderId: await backorderOf(gw, pickingId), dateDone: odooDatetime(picking.date_done) ?? null };
}

// ------------------------------------------------------------------ invoicing

/**
 * Invoices what was delivered and not invoiced yet (`sale.advance.payment.inv` with
 * `advance_payment_method: 'delivered'` and the order in `active_ids`, `create_invoices`),
 * then posts the order's draft customer invoices (`action_post`, which returns False).
 *
 * Safe to repeat: an invoice is created only while the order is `to invoice` (or has no
 * invoice at all, so that Odoo's own refusal "nothing to invoice" reaches the caller);
 * invoices already posted are not posted again. `create_invoices` can answer with a None
 * inside its action (no payment term): over XML-RPC that is the "cannot marshal None"
 * fault although the invoice was committed, so the order's `invoice_ids` are re-read to
 * decide, as after a lost answer.
 */
export async function invoiceDeliveredQuantities(gw: OdooGateway, saleOrderId: number): Promise<InvoiceDeliveredResult> {
  positiveId(saleOrderId, 'saleOrderId');
  const so = await readOne(gw, 'sale.order', saleOrderId, ['state', 'invoice_status', 'invoice_ids']);
  const before = new Set(x2mIds(so.invoice_ids));
  if (so.invoice_status === 'to invoice' || before.size === 0) {
    const context = { active_ids: [saleOrderId], active_model: 'sale.order', active_id: saleOrderId };
    const created = await gw.call('sale.advance.payment.inv', 'create', [{ advance_payment_method: 'delivered' }], { context });
    const wizard = Array.isArray(created) ? (created[0] as number) : (created as number);
    await gw.callMethod('sale.advance.payment.inv', 'create_invoices', [wizard], { context }, {
      returnsNone: true,
      verify: async () => x2mIds((await readOne(gw, 'sale.order', saleOrderId, ['invoice_ids'])).invoice_ids).some((id) => !before.has(id)),
    });
  }
  const invoiceIds = x2mIds((await readOne(gw, 'sale.order', saleOrderId, ['invoice_ids'])).invoice_ids).sort((a, b) => a - b);
  const fields = ['name', 'state', 'move_type'];
  let moves = invoiceIds.length ? await gw.read('account.move', invoiceIds, fields) : [];
  const drafts = moves.filter((m) => m.move_type === 'out_invoice' && m.state === 'draft').map((m) => m.id);
  if (drafts.length) {
    await gw.callMethod('account.move', 'action_post', drafts, {}, {
      verify: async () => (await gw.read('account.move', drafts, ['state'])).every((m) => m.state === 'posted'),
    });
    moves = await gw.read('account.move', invoiceIds, fields);
  }
  const posted = moves
    .filter((m) => m.move_type === 'out_invoice' && m.state === 'posted')
    .sort((a, b) => a.id - b.id)
    .map((m) => ({ id: m.id, name: str(m.name), state: str(m.state) }));
  return { invoiceIds, posted };
}

// ------------------------------------------------------------------ vendor bills

function checkBill(input: VendorBillInput): void {
  const issues: FieldIssue[] = [];
  if (!Number.isInteger(input.partnerId) || input.partnerId <= 0) issues.push({ path: 'partnerId', message: 'must be a positive integer id' });
  if (typeof input.ref !== 'string' || !input.ref.trim()) issues.push({ path: 'ref', message: 'must be a non-empty string' });
  if (typeof input.invoiceDate !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(input.invoiceDate)) issues.push({ path: 'invoiceDate', message: 'must be YYYY-MM-DD' });
  if (!Array.isArray(input.lines) || !input.lines.length) issues.push({ path: 'lines', message: 'at least one line' });
  else {
    input.lines.forEach((l, i) => {
      if (!Number.isInteger(l.productId) || l.productId <= 0) issues.push({ path: `lines.${i}.productId`, message: 'must be a positive integer id' });
      if (typeof l.quantity !== 'number' || !Number.isFinite(l.quantity)) issues.push({ path: `lines.${i}.quantity`, message: 'must be a finite number' });
      if (typeof l.priceUnit !== 'number' || !Number.isFinite(l.priceUnit)) issues.push({ path: `lines.${i}.priceUnit`, message: 'must be a finite number' });
    });
  }
  if (issues.length) throw new ValidationError('odoo.invalid_argument', 'invalid vendor bill', issues);
}

/**
 * Registers a vendor bill (`account.move`, `move_type: 'in_invoice'`) and posts it.
 *
 * Safe to repeat: the bill is identified by the vendor's reference and the partner (a bill
 * that is not cancelled with the same `ref` and `partner_id` is the one), looked up before
 * creating and again after a create whose answer was lost; a bill already posted is not
 * posted again.
 */
export async function registerVendorBill(gw: OdooGateway, input: VendorBillInput): Promise<VendorBillResult> {
  checkBill(input);
  const find = async (): Promise<number | undefined> => {
    const ids = (await gw.call('account.move', 'search', [[
      ['move_type', '=', 'in_invoice'],
      ['partner_id', '=', input.partnerId],
      ['ref', '=', input.ref],
      ['state', '!=', 'cancel'],
    ]], { order: 'id', limit: 1 })) as number[];
    return ids[0];
  };
  const id = await createOnce(gw, 'account.move', {
    move_type: 'in_invoice',
    partner_id: input.partnerId,
    ref: input.ref,
    invoice_date: input.invoiceDate,
    invoice_line_ids: input.lines.map((l) => [0, 0, { product_id: l.productId, quantity: l.quantity, price_unit: l.priceUnit }]),
  }, find);
  let bill = await readOne(gw, 'account.move', id, ['name', 'state']);
  if (bill.state === 'draft') {
    await gw.callMethod('account.move', 'action_post', [id], {}, {
      verify: async () => (await readOne(gw, 'account.move', id, ['state'])).state === 'posted',
    });
    bill = await readOne(gw, 'account.move', id, ['name', 'state']);
  }
  return { id, name: str(bill.name), state: str(bill.state) };
}

// ------------------------------------------------------------------ purchase orders

/**
 * Confirms a purchase order (`button_confirm`) and returns its state and receipts.
 * Safe to repeat: only a `draft` or `sent` order is sent the call; after a lost answer the
 * gateway re-reads the state before repeating. Odoo silently ignores a cancelled order,
 * so that one is refused here (`odoo.order_cancelled`).
 */
export async function confirmPurchaseOrder(gw: OdooGateway, purchaseOrderId: number): Promise<ConfirmPurchaseOrderResult> {
  positiveId(purchaseOrderId, 'purchaseOrderId');
  const fields = ['name', 'state', 'picking_ids'];
  let po = await readOne(gw, 'purchase.order', purchaseOrderId, fields);
  if (po.state === 'cancel') {
    throw new BusinessError({ code: 'odoo.order_cancelled', message: `The purchase order ${str(po.name)} is cancelled and cannot be confirmed.`, extra: { purchaseOrderId } });
  }
  if (po.state === 'draft' || po.state === 'sent') {
    await gw.callMethod('purchase.order', 'button_confirm', [purchaseOrderId], {}, {
      verify: async () => !['draft', 'sent'].includes(String((await readOne(gw, 'purchase.order', purchaseOrderId, ['state'])).state)),
    });
    po = await readOne(gw, 'purchase.order', purchaseOrderId, fields);
  }
  return { state: str(po.state), receiptIds: x2mIds(po.picking_ids).sort((a, b) => a - b) };
}

/**
 * Validates a receipt: `validateDelivery` without a tracking reference. Absent quantities
 * receive everything; given ones receive those and leave the rest in a backorder.
 */
export function validateReceipt(gw: OdooGateway, pickingId: number, quantities?: Record<number, number>): Promise<ValidateDeliveryResult> {
  return validateDelivery(gw, pickingId, quantities ? { quantities } : {});
}

// ------------------------------------------------------------------ inventory

/**
 * Sets the quantity on hand of a product at a location: finds (or creates) its quant
 * (no lot, package or owner), writes the counted `inventory_quantity` and calls
 * `action_apply_inventory`. That method returns None (no `result` over JSON-RPC, the
 * "cannot marshal None" fault over XML-RPC, both after committing): the quant's `quantity`
 * is re-read to confirm.
 *
 * Safe to repeat: the quantity is absolute, and a quant already at it is left alone; the
 * quant is looked up before being created and again after a create whose answer was lost.
 */
export async function applyInventoryAdjustment(gw: OdooGateway, input: InventoryAdjustmentInput): Promise<InventoryAdjustmentResult> {
  positiveId(input.productId, 'productId');
  positiveId(input.locationId, 'locationId');
  if (typeof input.quantity !== 'number' || !Number.isFinite(input.quantity)) {
    throw new ValidationError('odoo.invalid_argument', 'quantity must be a finite number');
  }
  const target = input.quantity;
  const find = async (): Promise<number | undefined> => {
    const ids = (await gw.call('stock.quant', 'search', [[
      ['product_id', '=', input.productId],
      ['location_id', '=', input.locationId],
      ['lot_id', '=', false],
      ['package_id', '=', false],
      ['owner_id', '=', false],
    ]], { order: 'id', limit: 1 })) as number[];
    return ids[0];
  };
  const quantId = await createOnce(gw, 'stock.quant', { product_id: input.productId, location_id: input.locationId }, find);
  const current = await readOne(gw, 'stock.quant', quantId, ['quantity']);
  if (same(numberOf(current.quantity), target)) return { quantId, quantity: numberOf(current.quantity) };
  await gw.write('stock.quant', quantId, { inventory_quantity: target });
  const applied = async () => same(numberOf((await readOne(gw, 'stock.quant', quantId, ['quantity'])).quantity), target);
  await gw.callMethod('stock.quant', 'action_apply_inventory', [quantId], {}, { returnsNone: true, verify: applied });
  const after = await readOne(gw, 'stock.quant', quantId, ['quantity']);
  if (!same(numberOf(after.quantity), target)) {
    throw new PermanentError({ code: 'odoo.unverified', message: `stock.quant ${quantId} holds ${numberOf(after.quantity)} after the adjustment to ${target}` });
  }
  return { quantId, quantity: numberOf(after.quantity) };
}
