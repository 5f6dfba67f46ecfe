/**
 * The warehouse inside the WMS simulator: SKU master, stock, outbound orders and the
 * operations that move them (accept, wave, pick, pack, ship, cancel), with no I/O. The
 * server (server.ts) schedules these steps on its clock and turns their results into API
 * answers and webhooks. Wire names are snake_case, as the simulated cloud WMS documents them.
 */

export interface SkuInfo {
  sku: string;
  description: string;
  /** weight of one unit in kilograms */
  weightKg: number;
  uom: string;
}

export interface WireAddress {
  name: string;
  company?: string;
  address1: string;
  address2?: string;
  city: string;
  state?: string;
  postal_code?: string;
  country: string;
  phone?: string;
  email?: string;
}

export interface OrderLine {
  line_no: number;
  line_ref: string;
  sku: string;
  quantity: number;
  uom: string;
  picked_qty: number;
  short_qty: number;
  short_reason: string | null;
}

export interface WirePackage {
  package_id: string;
  weight_kg: number;
  length_cm: number;
  width_cm: number;
  height_cm: number;
  tracking_number: string | null;
  label_url: string | null;
  label_format: string | null;
  contents: { line_ref: string; sku: string; quantity: number; uom: string }[];
}

export const ORDER_STATUSES = ['received', 'accepted', 'released', 'picked', 'packed', 'labelled', 'shipped', 'unfulfilled', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface WmsOrder {
  id: string;
  status: OrderStatus;
  client_reference: string;
  shipment_reference: string | null;
  order_number: string | null;
  service_level: string | null;
  carrier_hint: string | null;
  priority: string;
  ship_by: string | null;
  instructions: string | null;
  ship_to: WireAddress;
  lines: OrderLine[];
  wave_id: string | null;
  packages: WirePackage[];
  carrier: string | null;
  tracking_numbers: string[];
  created_at: string;
  updated_at: string;
  accepted_at: string | null;
  picked_at: string | null;
  packed_at: string | null;
  shipped_at: string | null;
  cancelled_at: string | null;
  cancel_reason: string | null;
}

/** A short pick decided in advance for one SKU of an order (by client reference). */
export interface ScriptedShort {
  shortQty: number;
  reason: string;
}

/** The warehouse's own address, sent as ship_from in pack.completed. */
export const WAREHOUSE = {
  code: 'RNO1',
  address: {
    name: 'SimWMS Reno Fulfilment Center',
    address1: '4750 Longley Lane',
    address2: 'Dock 3',
    city: 'Reno',
    state: 'NV',
    postal_code: '89502',
    country: 'US',
    phone: '+17755550100',
  } satisfies WireAddress,
};

export const DEFAULT_SKUS: SkuInfo[] = [
  { sku: 'FURN_7800', description: 'Desk Combination', weightKg: 12.5, uom: 'EA' },
  { sku: 'FURN_0269', description: 'Office Chair Black', weightKg: 6.2, uom: 'EA' },
  { sku: 'FURN_8888', description: 'Office Lamp', weightKg: 1.4, uom: 'EA' },
  { sku: 'E-COM11', description: 'Cabinet with Doors', weightKg: 18, uom: 'EA' },
  { sku: 'CABLE-01', description: 'Cable Management Box', weightKg: 0.4, uom: 'EA' },
];
export const DEFAULT_STOCK = 100;

/** Box sizes (cm) chosen by package weight, and the most one package may weigh. */
export const BOXES = [
  { upToKg: 5, length_cm: 30, width_cm: 20, height_cm: 15 },
  { upToKg: 15, length_cm: 40, width_cm: 30, height_cm: 25 },
  { upToKg: Infinity, length_cm: 60, width_cm: 40, height_cm: 40 },
] as const;
export const MAX_PACKAGE_KG = 25;
const TARE_KG = 0.3;

const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

/** RFC 3339 UTC with whole seconds, as the WMS writes every time. */
export function wireTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Picks each line from stock: picked = min(ordered, stock) less a scripted short; the
 * rest is short with a reason. Decrements the stock. Returns true when anything was picked.
 */
export function pickOrder(order: WmsOrder, stock: Map<string, number>, script: ReadonlyMap<string, ScriptedShort> | undefined): boolean {
  let any = false;
  for (const line of order.lines) {
    const scripted = script?.get(line.sku);
    const wanted = Math.max(0, line.quantity - Math.min(line.quantity, scripted?.shortQty ?? 0));
    const onHand = stock.get(line.sku) ?? 0;
    const picked = Math.min(wanted, Math.max(0, onHand));
    stock.set(line.sku, onHand - picked);
    line.picked_qty = picked;
    line.short_qty = line.quantity - picked;
    line.short_reason = line.short_qty === 0 ? null : scripted && scripted.shortQty > 0 ? scripted.reason : 'insufficient_stock';
    if (picked > 0) any = true;
  }
  return any;
}

/**
 * Packs the picked units: units in line order, a new package whenever the next unit would
 * take the package over MAX_PACKAGE_KG; box size by weight. Package ids are `<order id>-P<n>`.
 */
export function packOrder(order: WmsOrder, skus: ReadonlyMap<string, SkuInfo>): WirePackage[] {
  type Open = { weight: number; contents: Map<string, { line_ref: string; sku: string; quantity: number; uom: string }> };
  const packs: Open[] = [];
  let cur: Open | undefined;
  for (const line of order.lines) {
    const unit = skus.get(line.sku)?.weightKg ?? 1;
    for (let i = 0; i < line.picked_qty; i++) {
      if (!cur || (cur.weight > 0 && cur.weight + unit > MAX_PACKAGE_KG - TARE_KG)) {
        cur = { weight: 0, contents: new Map() };
        packs.push(cur);
      }
      cur.weight += unit;
      const c = cur.contents.get(line.line_ref) ?? { line_ref: line.line_ref, sku: line.sku, quantity: 0, uom: line.uom };
      c.quantity += 1;
      cur.contents.set(line.line_ref, c);
    }
  }
  return packs.map((p, i) => {
    const weight = round(p.weight + TARE_KG);
    const box = BOXES.find((b) => weight <= b.upToKg)!;
    return {
      package_id: `${order.id}-P${i + 1}`,
      weight_kg: weight,
      length_cm: box.length_cm,
      width_cm: box.width_cm,
      height_cm: box.height_cm,
      tracking_number: null,
      label_url: null,
      label_format: null,
      contents: [...p.contents.values()],
    };
  });
}

/** Puts picked units back on the shelf (an order cancelled after picking). */
export function restock(order: WmsOrder, stock: Map<string, number>): void {
  for (const line of order.lines) {
    if (line.picked_qty > 0) stock.set(line.sku, (stock.get(line.sku) ?? 0) + line.picked_qty);
  }
}

export type Issue = { field: string; message: string };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, max = 200) => typeof v === 'string' && v.trim() !== '' && v.length <= max;

/** Checks a ship-to address as the API documents it; returns the problems. */
export function checkAddress(v: unknown, field: string): Issue[] {
  if (!isObj(v)) return [{ field, message: 'is required and must be an object' }];
  const issues: Issue[] = [];
  for (const k of ['name', 'address1', 'city'] as const) if (!str(v[k])) issues.push({ field: `${field}.${k}`, message: 'is required' });
  if (typeof v.country !== 'string' || !/^[A-Z]{2}$/.test(v.country)) issues.push({ field: `${field}.country`, message: 'must be an ISO 3166-1 alpha-2 code' });
  for (const k of ['company', 'address2', 'state', 'postal_code', 'phone', 'email'] as const) {
    if (v[k] !== undefined && v[k] !== null && typeof v[k] !== 'string') issues.push({ field: `${field}.${k}`, message: 'must be a string' });
  }
  return issues;
}

/** A ship-to address as stored (unknown members dropped). */
export function toAddress(v: Record<string, unknown>): WireAddress {
  const a: WireAddress = { name: String(v.name), address1: String(v.address1), city: String(v.city), country: String(v.country) };
  for (const k of ['company', 'address2', 'state', 'postal_code', 'phone', 'email'] as const) if (typeof v[k] === 'string' && v[k] !== '') a[k] = v[k] as string;
  return a;
}

/** Checks a create-order body; returns the problems (empty when acceptable). */
export function checkCreateOrder(body: unknown, skus: ReadonlyMap<string, SkuInfo>): Issue[] {
  if (!isObj(body)) return [{ field: '', message: 'the body must be a JSON object' }];
  const issues: Issue[] = [];
  if (!str(body.client_reference, 100)) issues.push({ field: 'client_reference', message: 'is required (at most 100 characters)' });
  for (const k of ['shipment_reference', 'order_number', 'service_level', 'carrier_hint', 'instructions', 'ship_by'] as const) {
    if (body[k] !== undefined && body[k] !== null && typeof body[k] !== 'string') issues.push({ field: k, message: 'must be a string' });
  }
  if (body.priority !== undefined && !['standard', 'expedited', 'urgent'].includes(body.priority as string)) {
    issues.push({ field: 'priority', message: 'must be standard, expedited or urgent' });
  }
  issues.push(...checkAddress(body.ship_to, 'ship_to'));
  if (!Array.isArray(body.lines) || body.lines.length === 0) issues.push({ field: 'lines', message: 'must be a non-empty array' });
  else {
    body.lines.forEach((l: unknown, i: number) => {
      const f = `lines[${i}]`;
      if (!isObj(l)) return issues.push({ field: f, message: 'must be an object' });
      if (!str(l.sku, 64)) issues.push({ field: `${f}.sku`, message: 'is required' });
      else if (!skus.has(l.sku as string)) issues.push({ field: `${f}.sku`, message: `unknown SKU ${JSON.stringify(l.sku)}` });
      if (typeof l.quantity !== 'number' || !Number.isInteger(l.quantity) || l.quantity <= 0) issues.push({ field: `${f}.quantity`, message: 'must be a positive integer' });
      if (l.line_ref !== undefined && !str(l.line_ref, 64)) issues.push({ field: `${f}.line_ref`, message: 'must be a non-empty string' });
      return undefined;
    });
  }
  return issues;
}
