/**
 * Pure mappers between Odoo 18 records and the hub's canonical model. No I/O, no clock.
 *
 * Input: records as `read`/`search_read` return them with the explicit field lists of
 * `ODOO_FIELDS` (classic load): many2one `[id, "display name"]` or `false`, datetimes as
 * naive UTC `YYYY-MM-DD HH:MM:SS`, dates `YYYY-MM-DD`, floats, `false` for every unset value.
 * A record is mapped together with the related records it needs (`RelatedRecords`: order
 * lines, moves, partners, products...), which the caller reads with `RELATED_FIELDS`.
 *
 * Output: canonical events `{type, data, dedupe}` whose data passes
 * `validateEventData(type, data)`, or a typed `OdooMappingError`; a mapper never throws.
 * `dedupe` says how the capture names the event: `version` events (a full snapshot: order
 * updated, party, item, stock level) are new for every `write_date`; `once` events (a
 * milestone: order created, released, dispatched, invoice posted...) exist once per record
 * and suffix, however often the record is re-read.
 *
 * Canonical ids (stable, derived from Odoo ids or names only):
 *   res.partner 10 → `pty-10`, product.product 20 → `itm-20`, sale.order S00065 → `ord-S00065`,
 *   stock.picking 61 → `shp-61` / `ful-61` / `rcp-61`, purchase.order 12 → `po-12`,
 *   account.move 38 → `inv-38` (customer) / `sinv-38` (vendor bill), stock.location 8 → `loc-8`,
 *   stock.warehouse 1 → `loc-wh-1`, stock.move 4471 → `mov-4471`.
 * Refs: `{system: 'odoo', id: '<record id>'}` for the entity's main model, `odoo:name` for
 * its Odoo name, `odoo:<model>` when the record is of another model (a picking).
 *
 * Reverse mappers build `create`/`write` values: a shipment's tracking number → picking
 * `carrier_tracking_ref`, a canonical order → `sale.order` create vals with `order_line`
 * command tuples, a party → `res.partner` vals.
 */
import { PermanentError, type FieldIssue } from '../../domain/errors.ts';
import { validateEventData, type EventData, type EventType } from '../../domain/catalogue.ts';
import type { Order, Party } from '../../domain/model.ts';
import type { PartyAddress } from '../../domain/primitives.ts';

// ------------------------------------------------------------------ records and results

/** A record as `read` returns it. */
export type OdooRecord = { id: number } & Record<string, unknown>;

/** Related records by model, then id (order lines, moves, partners, products...). */
export type RelatedRecords = Readonly<Record<string, ReadonlyMap<number, OdooRecord>>>;

/** The models whose changes the capture follows. */
export const CAPTURED_MODELS = ['sale.order', 'stock.picking', 'purchase.order', 'account.move', 'stock.quant', 'res.partner', 'product.product'] as const;
export type CapturedModel = (typeof CAPTURED_MODELS)[number];

export type MappingErrorKind = 'missing_field' | 'invalid_value' | 'missing_related' | 'invalid_data' | 'unexpected';

/** Why a record could not be mapped. Permanent: re-reading the same version cannot help. */
export class OdooMappingError extends PermanentError {
  readonly kind: MappingErrorKind;
  readonly model: string;
  readonly recordId: number | undefined;
  constructor(kind: MappingErrorKind, model: string, recordId: number | undefined, message: string, issues: FieldIssue[] = [], cause?: unknown) {
    super({ code: `odoo.mapping.${kind}`, message: `${model}${recordId === undefined ? '' : ` ${recordId}`}: ${message}`, issues, cause });
    this.kind = kind;
    this.model = model;
    this.recordId = recordId;
  }
}

/** `version`: one event per record version; `once`: one per record and `key`. */
export type Dedupe = { scope: 'version' } | { scope: 'once'; key: string };

export interface MappedEvent<T extends EventType = EventType> {
  type: T;
  data: EventData<T>;
  dedupe: Dedupe;
}

export type MapResult = { ok: true; events: MappedEvent[] } | { ok: false; error: OdooMappingError };

// ------------------------------------------------------------------ field lists

/** Fields read for each captured model (search_read / read). */
export const ODOO_FIELDS = {
  'res.partner': [
    'name', 'display_name', 'is_company', 'type', 'parent_id', 'street', 'street2', 'city', 'zip', 'state_id', 'country_code',
    'email', 'phone', 'mobile', 'vat', 'lang', 'active', 'customer_rank', 'supplier_rank', 'ref', 'write_date',
  ],
  'product.product': [
    'name', 'display_name', 'default_code', 'barcode', 'type', 'is_storable', 'tracking', 'uom_id', 'weight', 'weight_uom_name', 'hs_code', 'active', 'write_date',
  ],
  'sale.order': [
    'name', 'state', 'delivery_status', 'invoice_status', 'partner_id', 'partner_invoice_id', 'partner_shipping_id', 'client_order_ref', 'date_order',
    'commitment_date', 'warehouse_id', 'currency_id', 'incoterm', 'order_line', 'amount_untaxed', 'amount_tax', 'amount_total', 'write_date',
  ],
  'stock.picking': [
    'name', 'state', 'picking_type_code', 'partner_id', 'origin', 'sale_id', 'purchase_id', 'move_ids', 'location_id', 'location_dest_id',
    'scheduled_date', 'date_deadline', 'date_done', 'carrier_id', 'carrier_tracking_ref', 'backorder_id', 'priority', 'create_date', 'write_date',
  ],
  'purchase.order': [
    'name', 'state', 'partner_id', 'partner_ref', 'date_order', 'date_approve', 'date_planned', 'currency_id', 'incoterm_id', 'picking_type_id',
    'order_line', 'amount_untaxed', 'amount_tax', 'amount_total', 'receipt_status', 'write_date',
  ],
  'account.move': [
    'name', 'ref', 'move_type', 'state', 'payment_state', 'partner_id', 'invoice_date', 'invoice_date_due', 'invoice_origin', 'currency_id',
    'invoice_line_ids', 'amount_untaxed', 'amount_tax', 'amount_total', 'amount_residual', 'create_date', 'write_date',
  ],
  'stock.quant': ['product_id', 'location_id', 'lot_id', 'product_uom_id', 'quantity', 'reserved_quantity', 'write_date'],
} as const satisfies Record<CapturedModel, readonly string[]>;

/** Fields read for the related records the mappers use. */
export const RELATED_FIELDS = {
  'sale.order.line': ['order_id', 'product_id', 'name', 'product_uom_qty', 'product_uom', 'price_unit', 'display_type'],
  'purchase.order.line': ['order_id', 'product_id', 'name', 'product_qty', 'product_uom', 'price_unit', 'date_planned', 'display_type'],
  'stock.move': ['picking_id', 'product_id', 'product_uom_qty', 'quantity', 'product_uom', 'state', 'sale_line_id', 'purchase_line_id', 'location_id', 'location_dest_id', 'date'],
  'account.move.line': ['move_id', 'product_id', 'name', 'quantity', 'product_uom_id', 'price_unit', 'price_subtotal', 'display_type', 'sale_line_ids', 'purchase_line_id', 'purchase_order_id'],
  'res.partner': ODOO_FIELDS['res.partner'],
  'product.product': ODOO_FIELDS['product.product'],
  'stock.picking.type': ['default_location_dest_id', 'warehouse_id'],
} as const;

// ------------------------------------------------------------------ value readers

/** The id of a many2one value (`[id, name]`, a bare id with load=null, or false). */
export function m2oId(v: unknown): number | undefined {
  if (Array.isArray(v) && Number.isInteger(v[0]) && (v[0] as number) > 0) return v[0] as number;
  if (Number.isInteger(v) && (v as number) > 0) return v as number;
  return undefined;
}

/** The display name of a many2one value. */
export function m2oName(v: unknown): string | undefined {
  return Array.isArray(v) && typeof v[1] === 'string' && v[1].trim() !== '' ? v[1] : undefined;
}

/** Ids of an x2many value. */
export function x2mIds(v: unknown): number[] {
  return Array.isArray(v) ? v.filter((x): x is number => Number.isInteger(x) && x > 0) : [];
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text for the hub: false/empty → undefined; NUL and lone surrogates removed; trimmed; cut at `max`. */
export function text(v: unknown, max = 1000): string | undefined {
  if (typeof v !== 'string') return undefined;
  let s = v.replace(LONE_SURROGATE, '').replace(/\u0000/g, '').trim();
  if (s === '') return undefined;
  if (s.length > max) s = s.slice(0, max).replace(LONE_SURROGATE, '').trim();
  return s === '' ? undefined : s;
}

/** A finite number (floats as Odoo sends them); false and anything else → undefined. */
export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

const ODOO_DATETIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

/** Odoo naive UTC datetime `YYYY-MM-DD HH:MM:SS` → RFC 3339 `YYYY-MM-DDTHH:MM:SSZ`; invalid → undefined. */
export function odooDatetime(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = ODOO_DATETIME.exec(v);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  const t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const back = new Date(t);
  if (Number(y) < 1 || back.getUTCFullYear() !== Number(y) || back.getUTCMonth() !== Number(mo) - 1 || back.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    return undefined;
  }
  return `${y}-${mo}-${d}T${h}:${mi}:${s}Z`;
}

/** RFC 3339 instant → Odoo's naive UTC form `YYYY-MM-DD HH:MM:SS`. */
export function toOdooDatetime(iso: string): string | undefined {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return undefined;
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ');
}

/** Odoo date `YYYY-MM-DD` (or the date part of a datetime) → full-date; invalid → undefined. */
export function odooDate(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(v);
  if (!m) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const d = new Date(t);
  if (Number(m[1]) < 1 || d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCDate() !== Number(m[3])) return undefined;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

const DECIMAL = /^-?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,6})?$/;

/** A float as a decimal string with `digits` decimals ("1350.00"); undefined when out of range. */
export function decimal(v: number, digits = 2): string | undefined {
  if (!Number.isFinite(v) || Math.abs(v) >= 1e18) return undefined;
  let s = v.toFixed(digits);
  if (/^-0(?:\.0*)?$/.test(s)) s = s.slice(1);
  return DECIMAL.test(s) ? s : undefined;
}

/** ISO 4217 code of a currency many2one (Odoo displays currencies by code: "USD"). */
export function currencyCode(v: unknown): string | undefined {
  const n = m2oName(v);
  return n && /^[A-Z]{3}$/.test(n) ? n : undefined;
}

const UOM_CODES: Record<string, string> = {
  units: 'EA', unit: 'EA', 'unit(s)': 'EA', dozens: 'DZ', dozen: 'DZ', pack: 'PK', packs: 'PK', box: 'BX', boxes: 'BX',
  kg: 'KG', g: 'G', t: 'TNE', lb: 'LB', lbs: 'LB', oz: 'OZ', m: 'M', cm: 'CM', mm: 'MM', km: 'KM', in: 'IN', ft: 'FT',
  l: 'L', liters: 'L', litre: 'L', ml: 'ML', 'm³': 'M3', 'm3': 'M3', hours: 'HUR', hour: 'HUR', days: 'DAY', day: 'DAY',
};

/** Canonical unit code of an Odoo unit of measure name ("Units" → "EA", "kg" → "KG"). */
export function uomCode(v: unknown): string {
  const n = (typeof v === 'string' ? v : m2oName(v) ?? '').trim();
  const known = UOM_CODES[n.toLowerCase()];
  if (known) return known;
  const code = n.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 12);
  return code || 'EA';
}

/** Odoo uom code back to a likely Odoo unit name, for logs and for matching by name. */
export const ODOO_UOM_NAME: Readonly<Record<string, string>> = { EA: 'Units', DZ: 'Dozens', KG: 'kg', G: 'g', LB: 'lb', OZ: 'oz', M: 'm', L: 'L', HUR: 'Hours', DAY: 'Days' };

const ID_SAFE = /[^A-Za-z0-9._:-]/g;

/** A canonical id `<prefix>-<part>`; unsafe characters of an Odoo name become "_". */
export function canonicalId(prefix: string, part: string | number): string {
  return `${prefix}-${String(part).replace(ID_SAFE, '_')}`.slice(0, 128);
}

export const partyId = (partnerId: number) => canonicalId('pty', partnerId);
export const itemId = (productId: number) => canonicalId('itm', productId);
export const locationId = (locId: number) => canonicalId('loc', locId);
export const warehouseLocationId = (warehouseId: number) => canonicalId('loc-wh', warehouseId);
export const orderIdOfName = (name: string) => canonicalId('ord', name);
export const purchaseOrderId = (poId: number) => canonicalId('po', poId);

/** `[CODE] Name` (Odoo product display name) → CODE. */
export function skuFromDisplayName(v: unknown): string | undefined {
  const n = typeof v === 'string' ? v : m2oName(v);
  const m = n ? /^\[([^\]]+)\]/.exec(n) : null;
  return m ? text(m[1], 64) : undefined;
}

function money(amount: unknown, currency: string): { amount: string; currency: string } | undefined {
  const n = num(amount);
  if (n === undefined) return undefined;
  const s = decimal(n);
  return s === undefined ? undefined : { amount: s, currency };
}

function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[0-9 ()./-]{3,32}$/;
const LANG = /^[a-z]{2}(?:[-_][A-Z]{2})?$/;
const BARCODE = /^[0-9A-Za-z-]{4,48}$/;
const COUNTRY = /^[A-Z]{2}$/;

// ------------------------------------------------------------------ mapping context

class Fail extends Error {
  readonly error: OdooMappingError;
  constructor(error: OdooMappingError) {
    super(error.message);
    this.error = error;
  }
}

class Ctx {
  readonly model: string;
  readonly rec: OdooRecord;
  readonly related: RelatedRecords;
  constructor(model: string, rec: OdooRecord, related: RelatedRecords) {
    this.model = model;
    this.rec = rec;
    this.related = related;
  }
  fail(kind: MappingErrorKind, message: string, path = ''): never {
    throw new Fail(new OdooMappingError(kind, this.model, this.rec.id, message, path ? [{ path, message }] : []));
  }
  /** A related record that must be there. */
  need(model: string, id: number | undefined, what: string): OdooRecord {
    if (id === undefined) this.fail('missing_field', `${what} is not set`, what);
    const r = this.related[model]?.get(id);
    if (!r) this.fail('missing_related', `${model} ${id} (${what}) was not read`, what);
    return r;
  }
  get(model: string, id: number | undefined): OdooRecord | undefined {
    return id === undefined ? undefined : this.related[model]?.get(id);
  }
  requireText(field: string, max: number, rec: OdooRecord = this.rec): string {
    const t = text(rec[field], max);
    if (t === undefined) this.fail('missing_field', `${field} is empty`, field);
    return t;
  }
  requireTime(field: string, rec: OdooRecord = this.rec): string {
    const t = odooDatetime(rec[field]);
    if (t === undefined) this.fail(rec[field] === false || rec[field] === undefined ? 'missing_field' : 'invalid_value', `${field} is not a datetime`, field);
    return t;
  }
  /** The record's write_date, else its create_date. */
  changedAt(): string {
    return odooDatetime(this.rec['write_date']) ?? this.requireTime('create_date');
  }
  sku(productId: number | undefined, displayName: unknown, where: string): string {
    const p = this.get('product.product', productId);
    const sku = (p && text(p['default_code'], 64)) ?? skuFromDisplayName(displayName);
    if (!sku) this.fail('missing_field', `no SKU (default_code) for product ${productId ?? '?'}`, where);
    return sku;
  }
  uomOf(productId: number | undefined, uomField: unknown): string {
    if (m2oName(uomField)) return uomCode(uomField);
    const p = this.get('product.product', productId);
    return uomCode(p?.['uom_id']);
  }
}

/** Runs a mapper: a mapping failure or anything unexpected becomes a typed error; output is validated. */
function run(model: string, rec: unknown, related: RelatedRecords, fn: (c: Ctx) => MappedEvent[]): MapResult {
  if (typeof rec !== 'object' || rec === null || Array.isArray(rec) || !Number.isInteger((rec as OdooRecord).id)) {
    return { ok: false, error: new OdooMappingError('invalid_value', model, undefined, 'not a record with an integer id') };
  }
  const r = rec as OdooRecord;
  let events: MappedEvent[];
  try {
    events = fn(new Ctx(model, r, related));
  } catch (e) {
    if (e instanceof Fail) return { ok: false, error: e.error };
    return { ok: false, error: new OdooMappingError('unexpected', model, r.id, `mapper failed: ${(e as Error)?.message ?? String(e)}`, [], e) };
  }
  for (const ev of events) {
    const issues = validateEventData(ev.type, ev.data);
    if (issues.length) {
      return { ok: false, error: new OdooMappingError('invalid_data', model, r.id, `the mapped ${ev.type} does not match its schema: ${issues[0]!.path || '/'} ${issues[0]!.message}`, issues) };
    }
  }
  return { ok: true, events };
}

const ev = <T extends EventType>(type: T, data: EventData<T>, dedupe: Dedupe): MappedEvent => ({ type, data, dedupe }) as MappedEvent;
const VERSION: Dedupe = { scope: 'version' };
const once = (key: string): Dedupe => ({ scope: 'once', key });

// ------------------------------------------------------------------ canonical states

export type SaleOrderPhase = 'quotation' | 'confirmed' | 'cancelled';
export type DeliveryPhase = 'none' | 'pending' | 'started' | 'partial' | 'full';
export type InvoicePhase = 'nothing_to_invoice' | 'to_invoice' | 'invoiced' | 'upselling';

/** sale.order state → phase: draft/sent are quotations, sale/done confirmed orders. */
export function saleOrderPhase(state: unknown): SaleOrderPhase {
  return state === 'sale' || state === 'done' ? 'confirmed' : state === 'cancel' ? 'cancelled' : 'quotation';
}
/** sale.order delivery_status (false while draft) → delivery phase. */
export function deliveryPhase(v: unknown): DeliveryPhase {
  return v === 'pending' || v === 'started' || v === 'partial' || v === 'full' ? v : 'none';
}
/** sale.order invoice_status → invoice phase. */
export function invoicePhase(v: unknown): InvoicePhase {
  return v === 'to invoice' ? 'to_invoice' : v === 'invoiced' ? 'invoiced' : v === 'upselling' ? 'upselling' : 'nothing_to_invoice';
}

export type PickingKind = 'outbound' | 'inbound' | 'internal' | 'other';
export type PickingPhase = 'draft' | 'waiting' | 'ready' | 'done' | 'cancelled';

export function pickingKind(code: unknown): PickingKind {
  return code === 'outgoing' ? 'outbound' : code === 'incoming' ? 'inbound' : code === 'internal' ? 'internal' : 'other';
}
/** stock.picking state → phase (confirmed and waiting wait for stock; assigned is ready to pick). */
export function pickingPhase(state: unknown): PickingPhase {
  switch (state) {
    case 'waiting':
    case 'confirmed':
      return 'waiting';
    case 'assigned':
      return 'ready';
    case 'done':
      return 'done';
    case 'cancel':
      return 'cancelled';
    default:
      return 'draft';
  }
}

export type MoveDocument = 'customer_invoice' | 'customer_credit_note' | 'vendor_bill' | 'vendor_credit_note' | 'other';
export type PaymentPhase = 'unpaid' | 'partial' | 'paid' | 'reversed';

export function moveDocument(moveType: unknown): MoveDocument {
  switch (moveType) {
    case 'out_invoice':
      return 'customer_invoice';
    case 'out_refund':
      return 'customer_credit_note';
    case 'in_invoice':
      return 'vendor_bill';
    case 'in_refund':
      return 'vendor_credit_note';
    default:
      return 'other';
  }
}
/** account.move payment_state → payment phase (in_payment counts as paid: the payment is registered). */
export function paymentPhase(v: unknown): PaymentPhase {
  return v === 'paid' || v === 'in_payment' ? 'paid' : v === 'partial' ? 'partial' : v === 'reversed' ? 'reversed' : 'unpaid';
}

// ------------------------------------------------------------------ shared pieces

function partyAddress(c: Ctx, partnerId: number | undefined, what: string): PartyAddress {
  const p = c.need('res.partner', partnerId, what);
  const address = addressOf(p);
  if (!address) c.fail('missing_field', `partner ${p.id} (${what}) has no complete address (street, city, country)`, what);
  const name = text(p['name'], 200) ?? text(p['display_name'], 200);
  if (!name) c.fail('missing_field', `partner ${p.id} (${what}) has no name`, what);
  return compact({ partyId: partyId(p.id), name, address, contact: contactOf(p) });
}

function addressOf(p: OdooRecord): PartyAddress['address'] | undefined {
  const lines = [text(p['street'], 200), text(p['street2'], 200)].filter((x): x is string => x !== undefined);
  const city = text(p['city'], 100);
  const cc = typeof p['country_code'] === 'string' ? p['country_code'].toUpperCase() : '';
  if (!lines.length || !city || !COUNTRY.test(cc)) return undefined;
  const region = text(m2oName(p['state_id']), 100);
  return compact({ lines, city, region, postalCode: text(p['zip'], 20), countryCode: cc });
}

function contactOf(p: OdooRecord): PartyAddress['contact'] {
  const phoneRaw = text(p['phone'], 64) ?? text(p['mobile'], 64);
  const phone = phoneRaw && PHONE.test(phoneRaw) ? phoneRaw : undefined;
  const emailRaw = text(p['email'], 254);
  const email = emailRaw && EMAIL.test(emailRaw) ? emailRaw : undefined;
  return phone || email ? compact({ phone, email }) : undefined;
}

function carrierOf(rec: OdooRecord): { carrierCode: string; service?: string } | undefined {
  const name = m2oName(rec['carrier_id']);
  if (!name) return undefined;
  const code = name.toLowerCase().replace(/[^a-z0-9_.-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40);
  return code ? compact({ carrierCode: code, service: text(name, 60) }) : undefined;
}

function incotermOf(v: unknown): string | undefined {
  const m = /^\[?([A-Z]{3})\]?/.exec(m2oName(v) ?? '');
  return m ? m[1] : undefined;
}

function totalsOf(rec: OdooRecord, currency: string) {
  const untaxed = money(rec['amount_untaxed'], currency);
  const tax = money(rec['amount_tax'], currency);
  const total = money(rec['amount_total'], currency);
  return untaxed && tax && total ? { untaxed, tax, total } : undefined;
}

function orderName(c: Ctx): string {
  return c.requireText('name', 64);
}

// ------------------------------------------------------------------ res.partner

/** res.partner → `party.upserted.v1` (one per version). */
export function mapPartner(rec: unknown): MapResult {
  return run('res.partner', rec, {}, (c: Ctx) => [ev('party.upserted.v1', partyOf(c, c.rec), VERSION)]);
}

function partyOf(c: Ctx, p: OdooRecord): Party {
  const name = text(p['name'], 200) ?? text(p['display_name'], 200);
  if (!name) c.fail('missing_field', 'name is empty', 'name');
  const roles: Party['roles'] = [];
  if ((num(p['customer_rank']) ?? 0) > 0) roles.push('customer');
  if ((num(p['supplier_rank']) ?? 0) > 0) roles.push('supplier');
  if (!roles.length) roles.push(p['is_company'] === true ? 'company' : 'contact');
  const vat = text(p['vat'], 30);
  const lang = typeof p['lang'] === 'string' && LANG.test(p['lang']) ? p['lang'] : undefined;
  const parent = m2oId(p['parent_id']);
  return compact({
    partyId: partyId(p.id),
    refs: [{ system: 'odoo', id: String(p.id) }],
    roles,
    name,
    isCompany: p['is_company'] === true,
    parentPartyId: parent === undefined ? undefined : partyId(parent),
    vatNumber: vat && vat.length >= 2 ? vat : undefined,
    address: addressOf(p),
    contact: contactOf(p),
    languageCode: lang,
    active: typeof p['active'] === 'boolean' ? p['active'] : undefined,
  });
}

// ------------------------------------------------------------------ product.product

/** product.product → `item.upserted.v1` (one per version). A product without default_code cannot be mapped. */
export function mapProduct(rec: unknown): MapResult {
  return run('product.product', rec, {}, (c: Ctx) => {
    const p = c.rec;
    const sku = c.requireText('default_code', 64);
    const name = text(p['name'], 300) ?? text(p['display_name'], 300);
    if (!name) c.fail('missing_field', 'name is empty', 'name');
    const barcode = text(p['barcode'], 48);
    const weight = num(p['weight']);
    const wUnit = p['weight_uom_name'] === 'lb' || p['weight_uom_name'] === 'lbs' ? 'lb' : 'kg';
    const hs = typeof p['hs_code'] === 'string' ? p['hs_code'].replace(/[\s.]/g, '') : '';
    const kind = p['type'] === 'service' ? 'service' : p['is_storable'] === true || p['type'] === 'product' ? 'stockable' : 'consumable';
    const tracking = p['tracking'] === 'serial' || p['tracking'] === 'lot' ? p['tracking'] : 'none';
    return [
      ev(
        'item.upserted.v1',
        compact({
          itemId: itemId(p.id),
          refs: [{ system: 'odoo', id: String(p.id) }],
          sku,
          name,
          uom: uomCode(p['uom_id']),
          barcode: barcode && BARCODE.test(barcode) ? barcode : undefined,
          kind,
          tracking,
          weight: weight !== undefined && weight > 0 ? { value: weight, unit: wUnit } : undefined,
          hsCode: /^[0-9]{6,10}$/.test(hs) ? hs : undefined,
          active: typeof p['active'] === 'boolean' ? p['active'] : undefined,
        }) as EventData<'item.upserted.v1'>,
        VERSION,
      ),
    ];
  });
}

// ------------------------------------------------------------------ sale.order

/**
 * sale.order → events. Quotations (draft, sent) give none. A confirmed order gives
 * `order.created.v1` once and `order.updated.v1` per version (the full current order, with
 * its Odoo state, delivery and invoice status as attributes); a cancelled one
 * `order.cancelled.v1` once. Related: sale.order.line (order_line), res.partner
 * (partner_shipping_id, partner_invoice_id), optionally product.product (SKUs; else the
 * `[CODE]` of the line's product name).
 */
export function mapSaleOrder(rec: unknown, related: RelatedRecords = {}): MapResult {
  return run('sale.order', rec, related, (c: Ctx) => {
    const phase = saleOrderPhase(c.rec['state']);
    if (phase === 'quotation') return [];
    const name = orderName(c);
    const orderId = orderIdOfName(name);
    if (phase === 'cancelled') {
      return [ev('order.cancelled.v1', { orderId, refs: orderRefs(c.rec, name), cancelledAt: c.changedAt(), cancelledBy: 'merchant' }, once('order.cancelled.v1'))];
    }
    const order = orderOf(c, name);
    const { refs: _refs, ...updated } = order;
    return [ev('order.created.v1', order, once('order.created.v1')), ev('order.updated.v1', updated, VERSION)];
  });
}

function orderRefs(rec: OdooRecord, name: string) {
  return [
    { system: 'odoo', id: String(rec.id) },
    { system: 'odoo:name', id: name },
  ];
}

function orderOf(c: Ctx, name: string): Order {
  const r = c.rec;
  const currency = currencyCode(r['currency_id']);
  const customer = m2oId(r['partner_id']);
  if (customer === undefined) c.fail('missing_field', 'partner_id is not set', 'partner_id');
  const shipTo = partyAddress(c, m2oId(r['partner_shipping_id']) ?? customer, 'partner_shipping_id');
  const billToId = m2oId(r['partner_invoice_id']);
  const billToRec = c.get('res.partner', billToId);
  const billTo = billToRec && addressOf(billToRec) ? partyAddress(c, billToId, 'partner_invoice_id') : undefined;
  const lines: Order['lines'] = [];
  for (const lid of x2mIds(r['order_line'])) {
    const l = c.need('sale.order.line', lid, 'order_line');
    if (typeof l['display_type'] === 'string' && l['display_type'] !== '') continue; // section or note
    const qty = num(l['product_uom_qty']);
    if (qty === undefined || qty <= 0) continue;
    const pid = m2oId(l['product_id']);
    if (pid === undefined) continue;
    lines.push(
      compact({
        lineId: String(l.id),
        itemId: itemId(pid),
        sku: c.sku(pid, l['product_id'], 'order_line'),
        description: text(l['name'], 1000),
        quantity: qty,
        uom: c.uomOf(pid, l['product_uom']),
        unitPrice: currency ? money(l['price_unit'], currency) : undefined,
      }),
    );
  }
  if (!lines.length) c.fail('missing_field', 'no product line with a positive quantity', 'order_line');
  const wh = m2oId(r['warehouse_id']);
  const status: Record<string, string> = { 'odoo.state': String(r['state']), 'odoo.deliveryStatus': deliveryPhase(r['delivery_status']), 'odoo.invoiceStatus': invoicePhase(r['invoice_status']) };
  return compact({
    orderId: orderIdOfName(name),
    refs: orderRefs(r, name),
    orderNumber: name,
    kind: 'sale' as const,
    channel: 'odoo',
    customerId: partyId(customer),
    customerReference: text(r['client_order_ref'], 100),
    orderedAt: c.requireTime('date_order'),
    shipTo,
    billTo,
    warehouseId: wh === undefined ? undefined : warehouseLocationId(wh),
    requestedDeliveryDate: odooDate(r['commitment_date']),
    incoterm: incotermOf(r['incoterm']),
    currency,
    lines,
    totals: currency ? totalsOf(r, currency) : undefined,
    attributes: status,
  });
}

// ------------------------------------------------------------------ stock.picking

/**
 * stock.picking → events, by `picking_type_code` and state. Related: stock.move (move_ids),
 * res.partner (partner_id), optionally product.product.
 * - outgoing with a sale order, not draft/cancelled: `order.released.v1` once;
 *   with a tracking number: `shipment.booked.v1` once per number (when a carrier is set);
 *   done: `shipment.dispatched.v1` once; cancelled: `shipment.cancelled.v1` once.
 * - incoming done: `receipt.recorded.v1` once.
 * - internal done: `stock.moved.v1` once per done move.
 */
export function mapPicking(rec: unknown, related: RelatedRecords = {}): MapResult {
  return run('stock.picking', rec, related, (c: Ctx) => {
    const r = c.rec;
    const phase = pickingPhase(r['state']);
    const kind = pickingKind(r['picking_type_code']);
    const refs = [{ system: 'odoo:stock.picking', id: String(r.id) }];
    const saleName = m2oName(r['sale_id']);
    const orderId = saleName ? orderIdOfName(saleName) : undefined;
    const out: MappedEvent[] = [];
    if (kind === 'outbound') {
      const shipmentId = canonicalId('shp', r.id);
      if (phase === 'cancelled') {
        out.push(ev('shipment.cancelled.v1', compact({ shipmentId, refs, orderId, cancelledAt: c.changedAt() }), once('shipment.cancelled.v1')));
        return out;
      }
      if (phase === 'draft') return out;
      if (orderId && saleName) out.push(ev('order.released.v1', fulfilmentOf(c, orderId, saleName), once('order.released.v1')));
      const tracking = text(r['carrier_tracking_ref'], 200);
      const carrier = carrierOf(r);
      if (tracking && carrier) {
        out.push(ev('shipment.booked.v1', compact({ shipmentId, refs, orderId, bookedAt: c.changedAt(), carrier, trackingNumber: tracking }), once(`shipment.booked.v1:${tracking}`)));
      }
      if (phase === 'done') {
        const from = m2oId(r['location_id']);
        out.push(
          ev(
            'shipment.dispatched.v1',
            compact({
              shipmentId,
              refs,
              orderId,
              dispatchedAt: odooDatetime(r['date_done']) ?? c.changedAt(),
              carrier,
              trackingNumber: tracking,
              fromLocationId: from === undefined ? undefined : locationId(from),
            }),
            once('shipment.dispatched.v1'),
          ),
        );
      }
      return out;
    }
    if (kind === 'inbound' && phase === 'done') return [ev('receipt.recorded.v1', receiptOf(c), once('receipt.recorded.v1'))];
    if (kind === 'internal' && phase === 'done') return movementsOf(c);
    return out;
  });
}

function movesOf(c: Ctx): OdooRecord[] {
  return x2mIds(c.rec['move_ids']).map((id) => c.need('stock.move', id, 'move_ids'));
}

function fulfilmentOf(c: Ctx, orderId: string, orderNumber: string): EventData<'order.released.v1'> {
  const r = c.rec;
  const lines: EventData<'order.released.v1'>['lines'] = [];
  for (const m of movesOf(c)) {
    const qty = num(m['product_uom_qty']);
    const pid = m2oId(m['product_id']);
    if (qty === undefined || qty <= 0 || pid === undefined || m['state'] === 'cancel') continue;
    const sol = m2oId(m['sale_line_id']);
    lines.push({ lineId: String(m.id), orderLineId: String(sol ?? m.id), itemId: itemId(pid), sku: c.sku(pid, m['product_id'], 'move_ids'), quantity: qty, uom: c.uomOf(pid, m['product_uom']) });
  }
  if (!lines.length) c.fail('missing_field', 'no move with a positive quantity', 'move_ids');
  const loc = m2oId(r['location_id']);
  if (loc === undefined) c.fail('missing_field', 'location_id is not set', 'location_id');
  return compact({
    fulfilmentRequestId: canonicalId('ful', r.id),
    refs: [{ system: 'odoo:stock.picking', id: String(r.id) }, ...(text(r['name'], 200) ? [{ system: 'odoo:stock.picking:name', id: text(r['name'], 200)! }] : [])],
    orderId,
    orderNumber,
    warehouseId: locationId(loc),
    releasedAt: odooDatetime(r['create_date']) ?? c.changedAt(),
    shipBy: odooDatetime(r['scheduled_date']),
    deliverBy: odooDatetime(r['date_deadline']),
    priority: r['priority'] === '1' ? ('urgent' as const) : ('standard' as const),
    shipTo: partyAddress(c, m2oId(r['partner_id']), 'partner_id'),
    carrier: carrierOf(r),
    lines,
  });
}

function receiptOf(c: Ctx): EventData<'receipt.recorded.v1'> {
  const r = c.rec;
  const po = m2oId(r['purchase_id']);
  const lines: EventData<'receipt.recorded.v1'>['lines'] = [];
  for (const m of movesOf(c)) {
    const pid = m2oId(m['product_id']);
    if (pid === undefined || m['state'] === 'cancel') continue;
    const expected = num(m['product_uom_qty']);
    const received = Math.max(0, num(m['quantity']) ?? 0);
    const pol = m2oId(m['purchase_line_id']);
    lines.push(
      compact({
        lineId: String(m.id),
        poLineId: pol === undefined ? undefined : String(pol),
        itemId: itemId(pid),
        sku: c.sku(pid, m['product_id'], 'move_ids'),
        quantityExpected: expected !== undefined && expected >= 0 ? expected : undefined,
        quantityReceived: received,
        uom: c.uomOf(pid, m['product_uom']),
      }),
    );
  }
  if (!lines.length) c.fail('missing_field', 'no move with a product', 'move_ids');
  const dest = m2oId(r['location_dest_id']);
  if (dest === undefined) c.fail('missing_field', 'location_dest_id is not set', 'location_dest_id');
  const name = text(r['name'], 64);
  return compact({
    receiptId: canonicalId('rcp', r.id),
    refs: [{ system: 'odoo:stock.picking', id: String(r.id) }],
    receiptNumber: name,
    kind: po !== undefined ? ('purchase' as const) : ('other' as const),
    locationId: locationId(dest),
    purchaseOrderId: po === undefined ? undefined : purchaseOrderId(po),
    receivedAt: odooDatetime(r['date_done']) ?? c.changedAt(),
    lines,
  });
}

function movementsOf(c: Ctx): MappedEvent[] {
  const out: MappedEvent[] = [];
  for (const m of movesOf(c)) {
    const qty = num(m['quantity']);
    const pid = m2oId(m['product_id']);
    if (m['state'] !== 'done' || qty === undefined || qty <= 0 || pid === undefined) continue;
    const from = m2oId(m['location_id']);
    const to = m2oId(m['location_dest_id']);
    out.push(
      ev(
        'stock.moved.v1',
        compact({
          movementId: canonicalId('mov', m.id),
          refs: [{ system: 'odoo:stock.move', id: String(m.id) }],
          itemId: itemId(pid),
          sku: c.sku(pid, m['product_id'], 'move_ids'),
          quantity: qty,
          uom: c.uomOf(pid, m['product_uom']),
          fromLocationId: from === undefined ? undefined : locationId(from),
          toLocationId: to === undefined ? undefined : locationId(to),
          reason: 'transfer' as const,
          occurredAt: odooDatetime(m['date']) ?? odooDatetime(c.rec['date_done']) ?? c.changedAt(),
        }),
        once(`stock.moved.v1:${m.id}`),
      ),
    );
  }
  return out;
}

// ------------------------------------------------------------------ purchase.order

/**
 * purchase.order → `purchase-order.released.v1` once when confirmed (purchase, done),
 * `purchase-order.cancelled.v1` once when cancelled; drafts give none. Related:
 * purchase.order.line (order_line), stock.picking.type (picking_type_id, for the receiving
 * location), optionally product.product.
 */
export function mapPurchaseOrder(rec: unknown, related: RelatedRecords = {}): MapResult {
  return run('purchase.order', rec, related, (c: Ctx) => {
    const r = c.rec;
    const id = purchaseOrderId(r.id);
    const name = c.requireText('name', 64);
    const refs = [
      { system: 'odoo', id: String(r.id) },
      { system: 'odoo:name', id: name },
    ];
    if (r['state'] === 'cancel') return [ev('purchase-order.cancelled.v1', { purchaseOrderId: id, refs, cancelledAt: c.changedAt() }, once('purchase-order.cancelled.v1'))];
    if (r['state'] !== 'purchase' && r['state'] !== 'done') return [];
    const currency = currencyCode(r['currency_id']);
    if (!currency) c.fail('missing_field', 'currency_id has no ISO code', 'currency_id');
    const supplier = m2oId(r['partner_id']);
    if (supplier === undefined) c.fail('missing_field', 'partner_id is not set', 'partner_id');
    const pt = c.need('stock.picking.type', m2oId(r['picking_type_id']), 'picking_type_id');
    const dest = m2oId(pt['default_location_dest_id']);
    if (dest === undefined) c.fail('missing_field', `picking type ${pt.id} has no default destination`, 'picking_type_id');
    const lines: EventData<'purchase-order.released.v1'>['lines'] = [];
    for (const lid of x2mIds(r['order_line'])) {
      const l = c.need('purchase.order.line', lid, 'order_line');
      if (typeof l['display_type'] === 'string' && l['display_type'] !== '') continue;
      const qty = num(l['product_qty']);
      const pid = m2oId(l['product_id']);
      if (qty === undefined || qty <= 0 || pid === undefined) continue;
      const unitPrice = money(l['price_unit'], currency);
      if (!unitPrice) c.fail('invalid_value', `line ${l.id} has no usable price_unit`, 'order_line');
      lines.push(
        compact({
          lineId: String(l.id),
          itemId: itemId(pid),
          sku: c.sku(pid, l['product_id'], 'order_line'),
          description: text(l['name'], 1000),
          quantity: qty,
          uom: c.uomOf(pid, l['product_uom']),
          unitPrice,
          expectedDate: odooDate(l['date_planned']),
        }),
      );
    }
    if (!lines.length) c.fail('missing_field', 'no product line with a positive quantity', 'order_line');
    return [
      ev(
        'purchase-order.released.v1',
        compact({
          purchaseOrderId: id,
          refs,
          orderNumber: name,
          supplierId: partyId(supplier),
          orderedAt: odooDatetime(r['date_approve']) ?? c.requireTime('date_order'),
          currency,
          shipToLocationId: locationId(dest),
          expectedDate: odooDate(r['date_planned']),
          incoterm: incotermOf(r['incoterm_id']),
          lines,
          totals: totalsOf(r, currency),
        }),
        once('purchase-order.released.v1'),
      ),
    ];
  });
}

// ------------------------------------------------------------------ account.move

/**
 * account.move → events. Posted customer invoices (out_invoice): `invoice.posted.v1` once,
 * then `invoice.paid.v1` once when paid (and once per residual while partially paid).
 * Posted vendor bills (in_invoice): `supplier-invoice.received.v1` once (the purchase order
 * comes from the lines' purchase_order_id). Credit notes, entries, drafts: none.
 * Related: account.move.line (invoice_line_ids), optionally product.product.
 */
export function mapAccountMove(rec: unknown, related: RelatedRecords = {}): MapResult {
  return run('account.move', rec, related, (c: Ctx) => {
    const r = c.rec;
    const doc = moveDocument(r['move_type']);
    if (r['state'] !== 'posted' || (doc !== 'customer_invoice' && doc !== 'vendor_bill')) return [];
    const currency = currencyCode(r['currency_id']);
    if (!currency) c.fail('missing_field', 'currency_id has no ISO code', 'currency_id');
    const partner = m2oId(r['partner_id']);
    if (partner === undefined) c.fail('missing_field', 'partner_id is not set', 'partner_id');
    const name = c.requireText('name', 64);
    const invoiceDate = odooDate(r['invoice_date']);
    if (!invoiceDate) c.fail('missing_field', 'invoice_date is not set', 'invoice_date');
    const totals = totalsOf(r, currency);
    if (!totals) c.fail('missing_field', 'amounts are not numbers', 'amount_total');
    const amlines = x2mIds(r['invoice_line_ids'])
      .map((id) => c.need('account.move.line', id, 'invoice_line_ids'))
      .filter((l) => l['display_type'] === 'product' || l['display_type'] === false || l['display_type'] === undefined);
    const base = (l: OdooRecord) => {
      const pid = m2oId(l['product_id']);
      const qty = num(l['quantity']) ?? 0;
      if (qty < 0) c.fail('invalid_value', `line ${l.id} has a negative quantity`, 'invoice_line_ids');
      const unitPrice = money(l['price_unit'], currency);
      const amount = money(l['price_subtotal'], currency);
      if (!unitPrice || !amount) c.fail('invalid_value', `line ${l.id} has no usable price`, 'invoice_line_ids');
      const description = text(l['name'], 1000) ?? text(m2oName(l['product_id']), 1000) ?? `line ${l.id}`;
      const sku = pid === undefined ? undefined : (text(c.get('product.product', pid)?.['default_code'], 64) ?? skuFromDisplayName(l['product_id']));
      return compact({
        lineId: String(l.id),
        description,
        itemId: pid === undefined ? undefined : itemId(pid),
        sku,
        quantity: qty,
        uom: pid === undefined && !m2oName(l['product_uom_id']) ? undefined : c.uomOf(pid, l['product_uom_id']),
        unitPrice,
        amount,
      });
    };
    if (!amlines.length) c.fail('missing_field', 'no product line', 'invoice_line_ids');
    const refs = [
      { system: 'odoo', id: String(r.id) },
      { system: 'odoo:name', id: name },
    ];
    if (doc === 'customer_invoice') {
      const invoiceId = canonicalId('inv', r.id);
      const origins = (text(r['invoice_origin'], 2000) ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      const orderIds = [...new Set(origins.map(orderIdOfName))].slice(0, 1000);
      const residual = money(r['amount_residual'], currency);
      const out: MappedEvent[] = [
        ev(
          'invoice.posted.v1',
          compact({
            invoiceId,
            refs,
            invoiceNumber: name,
            customerId: partyId(partner),
            orderIds,
            invoiceDate,
            dueDate: odooDate(r['invoice_date_due']),
            currency,
            lines: amlines.map((l) => {
              const b = base(l);
              const sol = x2mIds(l['sale_line_ids'])[0];
              return compact({ ...b, orderLineId: sol === undefined ? undefined : String(sol) });
            }),
            totals,
            amountDue: residual && Number(residual.amount) >= 0 ? residual : undefined,
            postedAt: c.changedAt(),
          }),
          once('invoice.posted.v1'),
        ),
      ];
      const pay = paymentPhase(r['payment_state']);
      if (pay === 'paid' || pay === 'partial') {
        const paid = money((num(r['amount_total']) ?? 0) - (num(r['amount_residual']) ?? 0), currency);
        if (paid && Number(paid.amount) > 0) {
          out.push(
            ev(
              'invoice.paid.v1',
              compact({ invoiceId, refs, orderIds: orderIds.length ? orderIds : undefined, paidAt: c.changedAt(), amount: paid, fullyPaid: pay === 'paid' }),
              once(pay === 'paid' ? 'invoice.paid.v1' : `invoice.paid.v1:partial:${paid.amount}`),
            ),
          );
        }
      }
      return out;
    }
    const poIds = new Set(amlines.map((l) => m2oId(l['purchase_order_id'])).filter((x): x is number => x !== undefined));
    if (poIds.size !== 1) c.fail('missing_field', poIds.size ? 'the bill covers several purchase orders' : 'no purchase order on the lines', 'invoice_line_ids');
    return [
      ev(
        'supplier-invoice.received.v1',
        compact({
          invoiceId: canonicalId('sinv', r.id),
          refs,
          invoiceNumber: text(r['ref'], 64) ?? name,
          supplierId: partyId(partner),
          purchaseOrderId: purchaseOrderId([...poIds][0]!),
          invoiceDate,
          dueDate: odooDate(r['invoice_date_due']),
          currency,
          lines: amlines.map((l) => {
            const b = base(l);
            const pol = m2oId(l['purchase_line_id']);
            return compact({ ...b, poLineId: pol === undefined ? undefined : String(pol) });
          }),
          totals,
          receivedAt: odooDatetime(r['create_date']) ?? c.changedAt(),
        }),
        once('supplier-invoice.received.v1'),
      ),
    ];
  });
}

// ------------------------------------------------------------------ stock.quant

/** stock.quant → `stock.level.v1` (one per version): on hand, reserved and available at its location. */
export function mapQuant(rec: unknown, related: RelatedRecords = {}): MapResult {
  return run('stock.quant', rec, related, (c: Ctx) => {
    const r = c.rec;
    const pid = m2oId(r['product_id']);
    if (pid === undefined) c.fail('missing_field', 'product_id is not set', 'product_id');
    const loc = m2oId(r['location_id']);
    if (loc === undefined) c.fail('missing_field', 'location_id is not set', 'location_id');
    const onHand = num(r['quantity']);
    if (onHand === undefined) c.fail('invalid_value', 'quantity is not a number', 'quantity');
    const reserved = num(r['reserved_quantity']);
    return [
      ev(
        'stock.level.v1',
        compact({
          itemId: itemId(pid),
          refs: [{ system: 'odoo:stock.quant', id: String(r.id) }],
          sku: c.sku(pid, r['product_id'], 'product_id'),
          locationId: locationId(loc),
          lot: text(m2oName(r['lot_id']), 64),
          uom: c.uomOf(pid, r['product_uom_id']),
          onHand,
          reserved: reserved !== undefined && reserved >= 0 ? reserved : undefined,
          available: reserved !== undefined && reserved >= 0 ? onHand - reserved : undefined,
          asOf: c.changedAt(),
          basis: 'snapshot' as const,
        }),
        VERSION,
      ),
    ];
  });
}

// ------------------------------------------------------------------ dispatch

/** Maps a record of any captured model. */
export function mapRecord(model: CapturedModel, rec: unknown, related: RelatedRecords = {}): MapResult {
  switch (model) {
    case 'res.partner':
      return mapPartner(rec);
    case 'product.product':
      return mapProduct(rec);
    case 'sale.order':
      return mapSaleOrder(rec, related);
    case 'stock.picking':
      return mapPicking(rec, related);
    case 'purchase.order':
      return mapPurchaseOrder(rec, related);
    case 'account.move':
      return mapAccountMove(rec, related);
    case 'stock.quant':
      return mapQuant(rec, related);
  }
}

// ------------------------------------------------------------------ hub → Odoo

export type Vals = Record<string, unknown>;
export type ValsResult = { ok: true; vals: Vals } | { ok: false; error: OdooMappingError };

const valsFail = (model: string, message: string, path = ''): ValsResult => ({
  ok: false,
  error: new OdooMappingError('missing_field', model, undefined, message, path ? [{ path, message }] : []),
});

/**
 * A shipment's tracking number (shipment.booked.v1, shipment.tracking.v1...) → the picking
 * `write` values: `{carrier_tracking_ref}`. The picking id comes from the shipment's
 * `odoo:stock.picking` ref (pickingIdOf).
 */
export function pickingTrackingVals(data: { trackingNumber?: string | undefined }): ValsResult {
  const t = text(data.trackingNumber, 200);
  return t ? { ok: true, vals: { carrier_tracking_ref: t } } : valsFail('stock.picking', 'no tracking number', '/trackingNumber');
}

/** The Odoo picking id named by a shipment's refs or canonical id (`shp-61`). */
export function pickingIdOf(data: { shipmentId?: string; refs?: { system: string; id: string }[] | undefined }): number | undefined {
  const ref = data.refs?.find((r) => r.system === 'odoo:stock.picking');
  const raw = ref?.id ?? /^shp-(\d+)$/.exec(data.shipmentId ?? '')?.[1];
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export interface SaleOrderResolver {
  /** Odoo partner id of a canonical party id (xref), or undefined when unknown. */
  partnerId(partyId: string): number | undefined;
  /** Odoo product id of a canonical order line (by itemId / sku), or undefined when unknown. */
  productId(line: Order['lines'][number]): number | undefined;
}

/**
 * A canonical order → `sale.order` create values, lines as `[0, 0, {...}]` commands.
 * Partner and product ids come from the resolver (the cross-reference registry).
 */
export function saleOrderCreateVals(order: Order, resolve: SaleOrderResolver): ValsResult {
  const partner = resolve.partnerId(order.customerId);
  if (partner === undefined) return valsFail('sale.order', `customer ${order.customerId} has no Odoo partner`, '/customerId');
  const shipping = order.shipTo.partyId ? resolve.partnerId(order.shipTo.partyId) : undefined;
  const lines: unknown[] = [];
  for (const [i, l] of order.lines.entries()) {
    const product = resolve.productId(l);
    if (product === undefined) return valsFail('sale.order', `line ${l.lineId}: item ${l.itemId} (${l.sku}) has no Odoo product`, `/lines/${i}`);
    lines.push([0, 0, compact({ product_id: product, product_uom_qty: l.quantity, price_unit: l.unitPrice ? Number(l.unitPrice.amount) : undefined, name: l.description })]);
  }
  return {
    ok: true,
    vals: compact({
      partner_id: partner,
      partner_shipping_id: shipping,
      client_order_ref: order.customerReference ?? order.orderNumber,
      date_order: toOdooDatetime(order.orderedAt),
      commitment_date: order.requestedDeliveryDate ? `${order.requestedDeliveryDate} 00:00:00` : undefined,
      order_line: lines,
    }),
  };
}

/** A canonical party → `res.partner` create/write values (country by id through `countryId`). */
export function partnerVals(party: Party, countryId: (code: string) => number | undefined = () => undefined): Vals {
  const a = party.address;
  return compact({
    name: party.name,
    is_company: party.isCompany,
    street: a?.lines[0],
    street2: a?.lines[1] ?? (a ? false : undefined),
    city: a?.city,
    zip: a?.postalCode,
    country_id: a ? countryId(a.countryCode) : undefined,
    email: party.contact?.email,
    phone: party.contact?.phone,
    vat: party.vatNumber,
    lang: party.languageCode?.replace('-', '_'),
    active: party.active,
    customer_rank: party.roles.includes('customer') ? 1 : undefined,
    supplier_rank: party.roles.includes('supplier') ? 1 : undefined,
  });
}
