/**
 * Pure mappings between the hub's carrier port and EasyPost's wire objects (no I/O, no clock):
 * addresses and parcels out, rates in as RateQuotes (service level table, billable weight),
 * quote references, and Trackers in as CarrierScans (status table, UTC datetimes).
 *
 * Units: EasyPost parcels are in ounces and inches (one decimal); the hub's weights and
 * dimensions carry their unit and are converted here (weights rounded up to 0.1 oz so a
 * parcel never weighs less on the label than in reality).
 *
 * Times: TrackingDetail.datetime is an RFC 3339 value. With `Z` or an offset it is exact
 * (time rule `offset`); without one it is read as UTC, as EasyPost documents ("timestamps
 * default to UTC", rule `utc`).
 */
import type { Address, Money, Weight } from '../../domain/primitives.ts';
import type { ExceptionClass, TrackingStatus } from '../../domain/model.ts';
import type { CarrierScan, ScanPlace } from '../../domain/tracking.ts';
import type { ParcelSpec, RateQuote, ServiceLevel, TrackResult } from '../carrier-port.ts';

// ---------------------------------------------------------------------------------------
// wire shapes (the fields the adapter reads)

export interface EpAddress {
  street1: string;
  street2?: string;
  city: string;
  state?: string;
  zip?: string;
  country: string;
}

export interface EpParcel {
  /** ounces */
  weight: number;
  length?: number;
  width?: number;
  height?: number;
}

export interface EpRate {
  id: string;
  carrier: string;
  service: string;
  rate: string;
  currency: string;
  delivery_days?: number | null;
  est_delivery_days?: number | null;
  delivery_date?: string | null;
  carrier_account_id?: string | null;
  shipment_id?: string | null;
}

export interface EpTrackingLocation {
  city?: string | null;
  state?: string | null;
  zip?: string | null;
  country?: string | null;
}

export interface EpTrackingDetail {
  datetime: string;
  message?: string | null;
  description?: string | null;
  status: string;
  status_detail?: string | null;
  tracking_location?: EpTrackingLocation | null;
}

export interface EpTracker {
  object: 'Tracker';
  id: string;
  tracking_code: string;
  status: string;
  status_detail?: string | null;
  carrier?: string | null;
  signed_by?: string | null;
  est_delivery_date?: string | null;
  tracking_details?: EpTrackingDetail[] | null;
}

// ---------------------------------------------------------------------------------------
// units

const OZ_PER: Record<Weight['unit'], number> = { oz: 1, lb: 16, kg: 35.27396195, g: 0.03527396195 };
const IN_PER: Record<string, number> = { in: 1, ft: 12, mm: 1 / 25.4, cm: 1 / 2.54, m: 100 / 2.54 };

/** Ounces, rounded up to one decimal (EasyPost's precision). */
export function toOunces(w: Weight): number {
  return Math.ceil(w.value * OZ_PER[w.unit] * 10 - 1e-9) / 10;
}

/** Inches, rounded to one decimal (EasyPost's precision), at least 0.1. */
export function toInches(value: number, unit: string): number {
  const f = IN_PER[unit];
  if (f === undefined) throw new RangeError(`unknown length unit ${unit}`);
  return Math.max(0.1, Math.round(value * f * 10) / 10);
}

/** The dimensional divisor for inches → pounds that EasyPost's carriers use for retail rates. */
export const DIM_DIVISOR = 139;

/**
 * The weight a carrier bills for one parcel, in pounds: the larger of the actual and the
 * dimensional weight (L × W × H / 139, inches), rounded up to a whole pound (at least 1).
 * Computed by the adapter: EasyPost's Rate does not carry it.
 */
export function billablePounds(p: ParcelSpec): number {
  const actual = toOunces(p.weight) / 16;
  const d = p.dimensions;
  const dim = d ? (toInches(d.length, d.unit) * toInches(d.width, d.unit) * toInches(d.height, d.unit)) / DIM_DIVISOR : 0;
  return Math.max(1, Math.ceil(Math.max(actual, dim) - 1e-9));
}

export function toEasyPostAddress(a: Address): EpAddress {
  const out: EpAddress = { street1: a.lines[0]!, city: a.city, country: a.countryCode };
  if (a.lines.length > 1) out.street2 = a.lines.slice(1).join(', ');
  if (a.region) out.state = a.region;
  if (a.postalCode) out.zip = a.postalCode;
  return out;
}

export function toEasyPostParcel(p: ParcelSpec): EpParcel {
  const out: EpParcel = { weight: toOunces(p.weight) };
  const d = p.dimensions;
  if (d) {
    out.length = toInches(d.length, d.unit);
    out.width = toInches(d.width, d.unit);
    out.height = toInches(d.height, d.unit);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// money

const DECIMAL = /^-?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,6})?$/;

/** EasyPost's money string ("12.3", "7.52") as the hub's decimal string with at least two decimals. */
export function normaliseAmount(s: string): string | undefined {
  const t = s.trim();
  if (!/^-?[0-9]+(?:\.[0-9]+)?$/.test(t)) return undefined;
  const neg = t.startsWith('-');
  const [i, f = ''] = (neg ? t.slice(1) : t).split('.');
  const int = i!.replace(/^0+(?=[0-9])/, '');
  const frac = f.replace(/0+$/, '').padEnd(2, '0').slice(0, 6);
  const out = `${neg && /[1-9]/.test(int + frac) ? '-' : ''}${int}.${frac}`;
  return DECIMAL.test(out) ? out : undefined;
}

/** Exact sum of decimal strings (at most 6 decimals), e.g. order totals. */
export function sumAmounts(amounts: string[]): string {
  const SCALE = 1_000_000n;
  let total = 0n;
  for (const a of amounts) {
    const n = normaliseAmount(a);
    if (n === undefined) throw new RangeError(`not a decimal amount: ${a}`);
    const neg = n.startsWith('-');
    const [i, f = ''] = (neg ? n.slice(1) : n).split('.');
    const v = BigInt(i!) * SCALE + BigInt(f.padEnd(6, '0'));
    total += neg ? -v : v;
  }
  const neg = total < 0n;
  const abs = neg ? -total : total;
  return normaliseAmount(`${neg ? '-' : ''}${abs / SCALE}.${String(abs % SCALE).padStart(6, '0')}`)!;
}

// ---------------------------------------------------------------------------------------
// service levels

/** EasyPost carrier + service → canonical service level. Unlisted services fall back on delivery_days. */
export const SERVICE_LEVEL_TABLE: readonly { carrier: string; service: string; level: ServiceLevel }[] = [
  { carrier: 'USPS', service: 'GroundAdvantage', level: 'ground' },
  { carrier: 'USPS', service: 'ParcelSelect', level: 'economy' },
  { carrier: 'USPS', service: 'First', level: 'economy' },
  { carrier: 'USPS', service: 'Priority', level: 'two_day' },
  { carrier: 'USPS', service: 'Express', level: 'next_day' },
  { carrier: 'UPS', service: 'Ground', level: 'ground' },
  { carrier: 'UPS', service: '3DaySelect', level: 'three_day' },
  { carrier: 'UPS', service: '2ndDayAir', level: 'two_day' },
  { carrier: 'UPS', service: '2ndDayAirAM', level: 'two_day' },
  { carrier: 'UPS', service: 'NextDayAir', level: 'next_day' },
  { carrier: 'UPS', service: 'NextDayAirSaver', level: 'next_day' },
  { carrier: 'UPS', service: 'NextDayAirEarlyAM', level: 'next_day' },
  { carrier: 'UPS', service: 'Expedited', level: 'three_day' },
  { carrier: 'UPS', service: 'UPSSaver', level: 'two_day' },
  { carrier: 'FedEx', service: 'FEDEX_GROUND', level: 'ground' },
  { carrier: 'FedEx', service: 'GROUND_HOME_DELIVERY', level: 'ground' },
  { carrier: 'FedEx', service: 'FEDEX_EXPRESS_SAVER', level: 'three_day' },
  { carrier: 'FedEx', service: 'FEDEX_2_DAY', level: 'two_day' },
  { carrier: 'FedEx', service: 'FEDEX_2_DAY_AM', level: 'two_day' },
  { carrier: 'FedEx', service: 'STANDARD_OVERNIGHT', level: 'next_day' },
  { carrier: 'FedEx', service: 'PRIORITY_OVERNIGHT', level: 'next_day' },
  { carrier: 'FedEx', service: 'FIRST_OVERNIGHT', level: 'next_day' },
  { carrier: 'FedEx', service: 'INTERNATIONAL_PRIORITY', level: 'three_day' },
  { carrier: 'FedEx', service: 'INTERNATIONAL_ECONOMY', level: 'economy' },
  { carrier: 'DHLExpress', service: 'ExpressWorldwideNonDoc', level: 'three_day' },
  { carrier: 'DHLExpress', service: 'Express1200NonDoc', level: 'next_day' },
  { carrier: 'DHLExpress', service: 'Express0900NonDoc', level: 'next_day' },
  { carrier: 'DHLExpress', service: 'EconomySelectNonDoc', level: 'economy' },
];

/** Service level from the table (overrides first, keyed "carrier:service"), else from the transit days. */
export function serviceLevelOf(carrier: string, service: string, deliveryDays: number | null | undefined, overrides: Record<string, ServiceLevel> = {}): ServiceLevel {
  const o = overrides[`${carrier}:${service}`];
  if (o) return o;
  const row = SERVICE_LEVEL_TABLE.find((r) => r.carrier.toLowerCase() === carrier.toLowerCase() && r.service === service);
  if (row) return row.level;
  if (typeof deliveryDays !== 'number' || !Number.isFinite(deliveryDays)) return 'economy';
  if (deliveryDays <= 0) return 'same_day';
  if (deliveryDays === 1) return 'next_day';
  if (deliveryDays === 2) return 'two_day';
  if (deliveryDays === 3) return 'three_day';
  return deliveryDays <= 5 ? 'ground' : 'economy';
}

// ---------------------------------------------------------------------------------------
// quote references

export type QuoteRef = { kind: 'shipment'; shipmentId: string; rateId: string } | { kind: 'order'; orderId: string; carrier: string; service: string };

const ID = /^[a-z]+_[0-9a-zA-Z]+$/;
const WORD = /^[A-Za-z0-9_.-]+$/;

/** `shipment:<shp_id>:<rate_id>` or `order:<order_id>:<carrier>:<service>`. */
export function encodeQuoteRef(r: QuoteRef): string {
  return r.kind === 'shipment' ? `shipment:${r.shipmentId}:${r.rateId}` : `order:${r.orderId}:${r.carrier}:${r.service}`;
}

/** The inverse of encodeQuoteRef; undefined for anything else. */
export function decodeQuoteRef(s: string): QuoteRef | undefined {
  const p = s.split(':');
  if (p[0] === 'shipment' && p.length === 3 && ID.test(p[1]!) && ID.test(p[2]!)) return { kind: 'shipment', shipmentId: p[1]!, rateId: p[2]! };
  if (p[0] === 'order' && p.length === 4 && ID.test(p[1]!) && WORD.test(p[2]!) && WORD.test(p[3]!)) return { kind: 'order', orderId: p[1]!, carrier: p[2]!, service: p[3]! };
  return undefined;
}

// ---------------------------------------------------------------------------------------
// rates

/** One EasyPost Rate as a RateQuote; undefined when the rate's amount is not a decimal. */
export function rateToQuote(rate: EpRate, quoteRef: string, billable: Weight, overrides: Record<string, ServiceLevel> = {}): RateQuote | undefined {
  const amount = normaliseAmount(String(rate.rate));
  if (amount === undefined || !/^[A-Z]{3}$/.test(rate.currency)) return undefined;
  const days = typeof rate.delivery_days === 'number' ? rate.delivery_days : typeof rate.est_delivery_days === 'number' ? rate.est_delivery_days : undefined;
  const q: RateQuote = {
    carrier: 'easypost',
    carrierAccount: rate.carrier,
    service: rate.service,
    serviceLevel: serviceLevelOf(rate.carrier, rate.service, days, overrides),
    price: { amount, currency: rate.currency } satisfies Money,
    billableWeight: billable,
    quoteRef,
  };
  const date = typeof rate.delivery_date === 'string' ? /^(\d{4}-\d{2}-\d{2})/.exec(rate.delivery_date)?.[1] : undefined;
  if (date) q.estimatedDeliveryDate = date;
  if (days !== undefined) q.transitDays = days;
  return q;
}

// ---------------------------------------------------------------------------------------
// tracking

export interface StatusRow {
  status: string;
  /** the status_detail; '*' for any detail without a row of its own */
  detail: string;
  canonical: TrackingStatus;
  exceptionClass?: ExceptionClass;
}

/**
 * EasyPost Tracker status + status_detail → canonical status and exception class. Exact
 * (status, detail) rows first, then the status's '*' row; an unknown status is `unknown`.
 */
export const STATUS_TABLE: readonly StatusRow[] = [
  { status: 'pre_transit', detail: '*', canonical: 'info_received' },
  { status: 'pre_transit', detail: 'label_created', canonical: 'info_received' },
  { status: 'pre_transit', detail: 'cancelled', canonical: 'cancelled' },
  { status: 'pre_transit', detail: 'expired', canonical: 'cancelled' },
  { status: 'pre_transit', detail: 'address_correction', canonical: 'on_hold', exceptionClass: 'address_issue' },
  { status: 'in_transit', detail: '*', canonical: 'in_transit' },
  { status: 'in_transit', detail: 'received_at_origin_facility', canonical: 'picked_up' },
  { status: 'in_transit', detail: 'weather_delay', canonical: 'delayed', exceptionClass: 'weather' },
  { status: 'in_transit', detail: 'delayed', canonical: 'delayed', exceptionClass: 'delayed' },
  { status: 'in_transit', detail: 'missorted', canonical: 'delayed', exceptionClass: 'delayed' },
  { status: 'in_transit', detail: 'transit_exception', canonical: 'exception', exceptionClass: 'delayed' },
  { status: 'in_transit', detail: 'address_correction', canonical: 'exception', exceptionClass: 'address_issue' },
  { status: 'in_transit', detail: 'damaged', canonical: 'exception', exceptionClass: 'damaged' },
  { status: 'in_transit', detail: 'lost', canonical: 'exception', exceptionClass: 'lost' },
  { status: 'in_transit', detail: 'held', canonical: 'on_hold' },
  { status: 'in_transit', detail: 'awaiting_information', canonical: 'on_hold' },
  { status: 'in_transit', detail: 'delivery_exception', canonical: 'delivery_failed', exceptionClass: 'delivery_failed' },
  { status: 'in_transit', detail: 'refused', canonical: 'exception', exceptionClass: 'refused' },
  { status: 'out_for_delivery', detail: '*', canonical: 'out_for_delivery' },
  { status: 'delivered', detail: '*', canonical: 'delivered' },
  { status: 'available_for_pickup', detail: '*', canonical: 'available_for_pickup' },
  { status: 'return_to_sender', detail: '*', canonical: 'returned_to_sender', exceptionClass: 'return_to_sender' },
  { status: 'failure', detail: '*', canonical: 'delivery_failed', exceptionClass: 'delivery_failed' },
  { status: 'failure', detail: 'address_correction', canonical: 'delivery_failed', exceptionClass: 'address_issue' },
  { status: 'failure', detail: 'refused', canonical: 'delivery_failed', exceptionClass: 'refused' },
  { status: 'failure', detail: 'damaged', canonical: 'exception', exceptionClass: 'damaged' },
  { status: 'failure', detail: 'lost', canonical: 'exception', exceptionClass: 'lost' },
  { status: 'cancelled', detail: '*', canonical: 'cancelled' },
  { status: 'error', detail: '*', canonical: 'unknown' },
  { status: 'unknown', detail: '*', canonical: 'unknown' },
];

export function mapStatus(status: string, detail: string | null | undefined): { status: TrackingStatus; exceptionClass?: ExceptionClass } {
  const row = STATUS_TABLE.find((r) => r.status === status && r.detail === detail) ?? STATUS_TABLE.find((r) => r.status === status && r.detail === '*');
  if (!row) return { status: 'unknown' };
  return row.exceptionClass ? { status: row.canonical, exceptionClass: row.exceptionClass } : { status: row.canonical };
}

const DATETIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:\d{2})?$/i;

/** An EasyPost datetime as a UTC instant with its time rule; undefined when it is not one. */
export function parseEasyPostDateTime(s: string): { occurredAt: string; timeRule: 'offset' | 'utc'; localTime?: string } | undefined {
  const m = DATETIME.exec(s.trim());
  if (!m) return undefined;
  const [, local, zone] = m;
  const ms = Date.parse(`${local}${zone ?? 'Z'}`);
  if (Number.isNaN(ms)) return undefined;
  const day = Date.parse(`${local!.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(day) || new Date(day).toISOString().slice(0, 10) !== local!.slice(0, 10)) return undefined;
  const occurredAt = new Date(ms).toISOString();
  if (!zone) return { occurredAt, timeRule: 'utc' };
  return zone.toUpperCase() === 'Z' ? { occurredAt, timeRule: 'offset' } : { occurredAt, timeRule: 'offset', localTime: local! };
}

/** A trimmed string cut to `max` characters (the canonical schema's limits); undefined when blank. */
function text(v: unknown, max: number): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t ? t.slice(0, max) : undefined;
}

function place(l: EpTrackingLocation | null | undefined): ScanPlace | undefined {
  if (!l) return undefined;
  const p: ScanPlace = {};
  const city = text(l.city, 100);
  const region = text(l.state, 100);
  const postalCode = text(l.zip, 20);
  if (city) p.city = city;
  if (region) p.region = region;
  if (postalCode) p.postalCode = postalCode;
  if (typeof l.country === 'string' && /^[A-Za-z]{2}$/.test(l.country.trim())) p.countryCode = l.country.trim().toUpperCase();
  return Object.keys(p).length ? p : undefined;
}

/** Thrown by the tracking mappers for a Tracker they cannot read. */
export class MalformedTrackerError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'MalformedTrackerError';
    this.path = path;
  }
}

/** Whether a value looks like an EasyPost Tracker (object "Tracker" with a tracking code and status). */
export function isTracker(v: unknown): v is EpTracker {
  if (!v || typeof v !== 'object') return false;
  const t = v as Record<string, unknown>;
  return t.object === 'Tracker' && typeof t.tracking_code === 'string' && t.tracking_code !== '' && typeof t.status === 'string';
}

/**
 * Every TrackingDetail of a Tracker as a CarrierScan, in EasyPost's order. The Tracker's
 * est_delivery_date is put on the last scan, signed_by on delivered scans. Throws
 * MalformedTrackerError for a detail without a readable datetime or status.
 */
export function trackerToScans(t: EpTracker): CarrierScan[] {
  const details = Array.isArray(t.tracking_details) ? t.tracking_details : [];
  const scans = details.map((d, i): CarrierScan => {
    if (!d || typeof d !== 'object' || typeof d.status !== 'string' || d.status === '') throw new MalformedTrackerError(`/tracking_details/${i}/status`, 'missing');
    const when = typeof d.datetime === 'string' ? parseEasyPostDateTime(d.datetime) : undefined;
    if (!when) throw new MalformedTrackerError(`/tracking_details/${i}/datetime`, `not an RFC 3339 datetime: ${JSON.stringify(d.datetime)}`);
    const detail = typeof d.status_detail === 'string' && d.status_detail !== '' ? d.status_detail : undefined;
    const mapped = mapStatus(d.status, detail);
    const scan: CarrierScan = {
      carrier: 'easypost',
      trackingNumber: t.tracking_code,
      code: (detail ? `${d.status}:${detail}` : d.status).slice(0, 80),
      status: mapped.status,
      occurredAt: when.occurredAt,
      timeRule: when.timeRule,
    };
    if (mapped.exceptionClass) scan.exceptionClass = mapped.exceptionClass;
    const description = text(d.message, 500) ?? text(d.description, 500);
    if (description) scan.description = description;
    if (when.localTime) scan.localTime = when.localTime;
    const loc = place(d.tracking_location);
    if (loc) scan.location = loc;
    const signedBy = mapped.status === 'delivered' ? text(t.signed_by, 200) : undefined;
    if (signedBy) scan.signedBy = signedBy;
    return scan;
  });
  const eta = typeof t.est_delivery_date === 'string' ? parseEasyPostDateTime(t.est_delivery_date) : undefined;
  if (eta && scans.length) scans[scans.length - 1]!.estimatedDeliveryAt = eta.occurredAt;
  return scans;
}

/** A Tracker as the port's TrackResult: a number no carrier reports on yet (status unknown, no details) is `notFound`. */
export function trackerToTrackResult(t: EpTracker): TrackResult {
  const scans = trackerToScans(t);
  if (scans.length === 0 && (t.status === 'unknown' || t.status === 'error')) return { trackingNumber: t.tracking_code, scans, notFound: true };
  return { trackingNumber: t.tracking_code, scans };
}
