/**
 * FedEx Track API v1 answers → canonical scans (pure: no I/O, no clock).
 *
 * Status: by `scanEvents[].eventType` through FEDEX_STATUS_TABLE, never by `derivedStatusCode`
 * (live answers derive OD "On FedEx vehicle for delivery" and AR/DP/HP to IT "In transit", so
 * reading the derived code would lose out-for-delivery and pickup-ready). A code not in the
 * table gives status `unknown`. `code` is the eventType with FedEx's exceptionCode joined by ':'
 * when there is one (`DE:08`, `DL:014`): the status still comes from the eventType, so a
 * delivered scan with a delivery note stays delivered.
 *
 * Time rules, field by field:
 * - `scanEvents[].date`: local time with offset (`2024-02-17T12:34:26-05:00`) → rule `offset`.
 *   Defensive: without offset it is read in the zone of the scan place (`zone`) when its state /
 *   country lies in one zone, else in the configured zone (`assumed`).
 * - `dateAndTimes[].dateTime` (ESTIMATED_DELIVERY) and `estimatedDeliveryTimeWindow.window.ends`:
 *   local with offset in live answers → `offset`; without one, the recipient's place decides
 *   (`zone`), else `assumed`.
 * - `estimatedDeliveryTimeWindow.window.begins`: documented WITHOUT offset
 *   (`2021-10-01T08:00:00`) → `zone` from the recipient's place, else `assumed`.
 * A time is never read as UTC unless it says `Z` or `+00:00`.
 *
 * Multi-piece: the master tracking number is package 1 of its shipment; when FedEx says
 * `hasAssociatedShipments`, the master's own scans carry pieceNumber = the master number and
 * the children's scans (from /associatedshipments) their own number. The adapter does not
 * de-duplicate: duplicated scans come out twice with the same `code` and `occurredAt`.
 */
import type { ExceptionClass, TrackingStatus } from '../../domain/model.ts';
import { isKnownZone, localTimeToUtc, zoneOfPlace, type CarrierScan, type ScanPlace, type TimeRule } from '../../domain/tracking.ts';
import { fedexError } from './errors.ts';

export interface FedexStatusRow {
  status: TrackingStatus;
  exceptionClass?: ExceptionClass;
  /** FedEx's definition of the code */
  definition: string;
}

/**
 * Every event code of FedEx's "Tracking Status Codes" table (plus AE, added in 2021) → the
 * canonical status and, where the code stands for one, the exception class.
 */
export const FEDEX_STATUS_TABLE: Readonly<Record<string, FedexStatusRow>> = {
  // before FedEx has the parcel
  OC: { status: 'info_received', definition: 'Order created (shipment information sent to FedEx)' },
  EP: { status: 'info_received', definition: 'Enroute to pickup' },
  AP: { status: 'info_received', definition: 'At pickup' },
  DS: { status: 'info_received', definition: 'Vehicle dispatched' },
  DR: { status: 'info_received', definition: 'Vehicle furnished but not used' },
  RP: { status: 'info_received', definition: 'Return label link emailed to return sender' },
  RG: { status: 'info_received', definition: 'Return label link expiring soon' },
  RD: { status: 'info_received', definition: 'Return label link expired' },
  LP: { status: 'info_received', definition: 'Return label link cancelled by shipment originator' },
  PD: { status: 'delayed', exceptionClass: 'delayed', definition: 'Pickup delay' },
  // collected
  PU: { status: 'picked_up', definition: 'Picked up' },
  PX: { status: 'picked_up', definition: 'Picked up (see details)' },
  // moving
  AA: { status: 'in_transit', definition: 'At airport' },
  AC: { status: 'in_transit', definition: 'At Canada Post facility' },
  AE: { status: 'in_transit', definition: 'Shipment arriving early' },
  AF: { status: 'in_transit', definition: 'At local FedEx facility' },
  AO: { status: 'in_transit', definition: 'Shipment arriving on-time' },
  AR: { status: 'in_transit', definition: 'Arrived at FedEx location' },
  AX: { status: 'in_transit', definition: 'At USPS facility' },
  CH: { status: 'in_transit', definition: 'Location changed' },
  DP: { status: 'in_transit', definition: 'Departed' },
  EA: { status: 'in_transit', definition: 'Enroute to airport / export approved' },
  EO: { status: 'in_transit', definition: 'Enroute to origin airport' },
  FD: { status: 'in_transit', definition: 'At FedEx destination' },
  IT: { status: 'in_transit', definition: 'In transit' },
  IX: { status: 'in_transit', definition: 'In transit (see details)' },
  LO: { status: 'in_transit', definition: 'Left origin' },
  OF: { status: 'in_transit', definition: 'At FedEx origin facility' },
  OW: { status: 'in_transit', definition: 'On the way' },
  OX: { status: 'in_transit', definition: 'Shipment information sent to USPS' },
  PF: { status: 'in_transit', definition: 'Plane in flight' },
  PL: { status: 'in_transit', definition: 'Plane landed' },
  PM: { status: 'in_transit', definition: 'In progress' },
  SF: { status: 'in_transit', definition: 'At sort facility' },
  SP: { status: 'in_transit', definition: 'Split status' },
  TR: { status: 'in_transit', definition: 'Transfer' },
  CC: { status: 'in_transit', definition: 'Cleared customs' },
  CP: { status: 'in_transit', definition: 'Clearance in progress' },
  RR: { status: 'in_transit', definition: 'CDO (delivery option) requested' },
  RM: { status: 'in_transit', definition: 'CDO (delivery option) modified' },
  RC: { status: 'in_transit', definition: 'CDO (delivery option) cancelled' },
  // last mile
  AD: { status: 'out_for_delivery', definition: 'At delivery' },
  ED: { status: 'out_for_delivery', definition: 'Enroute to delivery' },
  OD: { status: 'out_for_delivery', definition: 'Out for delivery' },
  DL: { status: 'delivered', definition: 'Delivered' },
  HL: { status: 'available_for_pickup', definition: 'Hold at location' },
  HP: { status: 'available_for_pickup', definition: 'Ready for recipient pickup' },
  // trouble
  DE: { status: 'delivery_failed', exceptionClass: 'delivery_failed', definition: 'Delivery exception' },
  DD: { status: 'delayed', exceptionClass: 'delayed', definition: 'Delivery delay' },
  DY: { status: 'delayed', exceptionClass: 'delayed', definition: 'Delay' },
  CD: { status: 'on_hold', exceptionClass: 'customs_hold', definition: 'Clearance delay' },
  SE: { status: 'exception', definition: 'Shipment exception (the kind is in exceptionCode / exceptionDescription)' },
  RS: { status: 'returned_to_sender', exceptionClass: 'return_to_sender', definition: 'Return to shipper' },
  CA: { status: 'cancelled', definition: 'Shipment cancelled' },
};

/** `delayDetail.type` refines the class of a delay: weather and clearance are documented types. */
export const FEDEX_DELAY_TYPE_CLASSES: Readonly<Record<string, ExceptionClass>> = {
  WEATHER: 'weather',
  CLEARANCE: 'customs_hold',
};

/** The status row of an event code; undefined when FedEx's table does not have it. */
export function fedexStatus(eventType: string): FedexStatusRow | undefined {
  return Object.hasOwn(FEDEX_STATUS_TABLE, eventType) ? FEDEX_STATUS_TABLE[eventType] : undefined;
}

// ------------------------------------------------------------------ time

export interface ReadTime {
  /** RFC 3339 UTC instant, millisecond precision */
  occurredAt: string;
  timeRule: TimeRule;
  /** the wall-clock time as FedEx sent it, without offset */
  localTime: string;
  timeZone?: string;
}

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Reads a FedEx date-time. With an offset (or Z): the exact instant, rule `offset`. Without:
 * read in the zone of `place` (rule `zone`) or else in `assumedZone` (rule `assumed`).
 * Undefined for anything that is not a valid date-time.
 */
export function readFedexTime(value: unknown, place: { region?: string | undefined; countryCode?: string | undefined } | undefined, assumedZone: string): ReadTime | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TIME_RE.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, off] = m;
  const localTime = `${y}-${mo}-${d}T${h}:${mi}${s === undefined ? '' : `:${s}${frac === undefined ? '' : `.${frac}`}`}`;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0), Number((frac ?? '').padEnd(3, '0').slice(0, 3)));
  const check = new Date(wall);
  if (Number.isNaN(wall) || check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59) return undefined;
  if (off !== undefined) {
    let minutes = 0;
    if (off !== 'Z') {
      const digits = off.replace(':', '');
      const hh = Number(digits.slice(1, 3));
      const mm = Number(digits.slice(3, 5));
      if (hh > 18 || mm > 59) return undefined;
      minutes = (off[0] === '-' ? -1 : 1) * (hh * 60 + mm);
    }
    return { occurredAt: new Date(wall - minutes * 60_000).toISOString(), timeRule: 'offset', localTime };
  }
  const zone = zoneOfPlace(place?.countryCode, place?.region);
  if (zone) {
    const at = localTimeToUtc(localTime, zone);
    return at ? { occurredAt: at, timeRule: 'zone', localTime, timeZone: zone } : undefined;
  }
  const at = isKnownZone(assumedZone) ? localTimeToUtc(localTime, assumedZone) : undefined;
  return at ? { occurredAt: at, timeRule: 'assumed', localTime, timeZone: assumedZone } : undefined;
}

// ------------------------------------------------------------------ answers

export interface MapOptions {
  /** zone for times without offset whose place does not tell one (config assumedTimeZone) */
  assumedTimeZone: string;
}

/** One package of an answer: its number, whether FedEx knows it, and its scans. */
export interface MappedPackage {
  trackingNumber: string;
  notFound: boolean;
  /** FedEx says the package has associated pieces (multi-piece master) */
  hasAssociatedShipments: boolean;
  scans: CarrierScan[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

function unexpected(message: string): never {
  throw fedexError({ source: 'body', message });
}

function placeOf(a: unknown, facility?: unknown): ScanPlace | undefined {
  if (!isObj(a) && facility === undefined) return undefined;
  const o = isObj(a) ? a : {};
  const p: ScanPlace = {};
  const city = str(o.city);
  const region = str(o.stateOrProvinceCode);
  const postal = str(o.postalCode);
  const cc = str(o.countryCode);
  const fac = str(facility);
  if (city) p.city = city;
  if (region) p.region = region;
  if (postal) p.postalCode = postal;
  if (cc) p.countryCode = cc.toUpperCase();
  if (fac) p.facility = fac;
  return Object.keys(p).length ? p : undefined;
}

/** The `completeTrackResults` of a trackingnumbers / associatedshipments answer, or a fedex.unexpected_response. */
function completeResults(body: unknown): Obj[] {
  const out = isObj(body) ? body.output : undefined;
  const list = isObj(out) ? out.completeTrackResults : undefined;
  if (!Array.isArray(list)) unexpected('the FedEx answer has no output.completeTrackResults');
  return list.map((c, i) => (isObj(c) ? c : unexpected(`completeTrackResults[${i}] is not an object`)));
}

/** The latest scan instant of a trackResult (for choosing among duplicate shipments). */
function latestScanMs(tr: Obj, assumed: string): number {
  const evs = Array.isArray(tr.scanEvents) ? tr.scanEvents : [];
  let max = -Infinity;
  for (const e of evs) {
    const t = isObj(e) ? readFedexTime(e.date, undefined, assumed) : undefined;
    if (t) max = Math.max(max, Date.parse(t.occurredAt));
  }
  return max;
}

/**
 * Maps one trackResult of package `number` to scans. `master` is the shipment's master
 * tracking number; `pieceNumber` is set on every scan when given.
 */
function mapTrackResult(tr: Obj, master: string, pieceNumber: string | undefined, o: MapOptions): CarrierScan[] {
  const events = tr.scanEvents === undefined ? [] : tr.scanEvents;
  if (!Array.isArray(events)) unexpected(`scanEvents of ${master} is not an array`);
  const delivery = isObj(tr.deliveryDetails) ? tr.deliveryDetails : {};
  const signedBy = str(delivery.signedByName);
  const images = Array.isArray(tr.availableImages) ? tr.availableImages : [];
  const hasSpod = images.some((im) => isObj(im) && im.type === 'SIGNATURE_PROOF_OF_DELIVERY');
  const info = isObj(tr.trackingNumberInfo) ? tr.trackingNumberInfo : {};
  const podReference = hasSpod ? (str(info.trackingNumberUniqueId) ?? pieceNumber ?? master) : undefined;

  const scans = events.map((raw, i): CarrierScan => {
    if (!isObj(raw)) unexpected(`scanEvents[${i}] of ${master} is not an object`);
    const eventType = str(raw.eventType);
    if (!eventType) unexpected(`scanEvents[${i}] of ${master} has no eventType`);
    const location = placeOf(raw.scanLocation, raw.locationId);
    const time = readFedexTime(raw.date, location, o.assumedTimeZone);
    if (!time) unexpected(`scanEvents[${i}] of ${master} has an unreadable date ${JSON.stringify(raw.date)}`);
    const exceptionCode = str(raw.exceptionCode);
    const row = fedexStatus(eventType);
    const scan: CarrierScan = {
      carrier: 'fedex',
      trackingNumber: master,
      code: exceptionCode ? `${eventType}:${exceptionCode}` : eventType,
      status: row?.status ?? 'unknown',
      occurredAt: time.occurredAt,
      timeRule: time.timeRule,
      localTime: time.localTime,
    };
    if (pieceNumber) scan.pieceNumber = pieceNumber;
    const desc = str(raw.eventDescription);
    const exDesc = str(raw.exceptionDescription);
    const description = desc && exDesc && exDesc !== desc ? `${desc}: ${exDesc}` : (desc ?? exDesc);
    if (description) scan.description = description;
    let cls = row?.exceptionClass;
    const delayType = isObj(raw.delayDetail) ? str(raw.delayDetail.type) : undefined;
    if (cls && delayType && Object.hasOwn(FEDEX_DELAY_TYPE_CLASSES, delayType)) cls = FEDEX_DELAY_TYPE_CLASSES[delayType];
    if (cls) scan.exceptionClass = cls;
    if (time.timeZone) scan.timeZone = time.timeZone;
    if (location) scan.location = location;
    if (row?.status === 'delivered') {
      if (signedBy) scan.signedBy = signedBy;
      if (podReference) scan.podReference = podReference;
    }
    return scan;
  });

  // the estimate belongs to the package's present state: it goes on its latest scan(s)
  if (scans.length && !scans.some((s) => s.status === 'delivered')) {
    const est = estimatedDelivery(tr, o);
    if (est) {
      const latest = Math.max(...scans.map((s) => Date.parse(s.occurredAt)));
      for (const s of scans) if (Date.parse(s.occurredAt) === latest) s.estimatedDeliveryAt = est;
    }
  }
  return scans;
}

/** ESTIMATED_DELIVERY of dateAndTimes, else the end, else the start of estimatedDeliveryTimeWindow. */
function estimatedDelivery(tr: Obj, o: MapOptions): string | undefined {
  const recipient = isObj(tr.recipientInformation) && isObj(tr.recipientInformation.address) ? tr.recipientInformation.address : tr.lastUpdatedDestinationAddress;
  const place = placeOf(recipient);
  const dates = Array.isArray(tr.dateAndTimes) ? tr.dateAndTimes : [];
  const ed = dates.find((d) => isObj(d) && d.type === 'ESTIMATED_DELIVERY') as Obj | undefined;
  const w = isObj(tr.estimatedDeliveryTimeWindow) && isObj(tr.estimatedDeliveryTimeWindow.window) ? tr.estimatedDeliveryTimeWindow.window : {};
  for (const v of [ed?.dateTime, w.ends, w.begins]) {
    const t = readFedexTime(v, place, o.assumedTimeZone);
    if (t) return t.occurredAt;
  }
  return undefined;
}

/**
 * Maps a /track/v1/trackingnumbers answer: one MappedPackage per completeTrackResult. A
 * TRACKING.TRACKINGNUMBER.NOTFOUND error is `notFound`; any other per-number error throws the
 * error table's business error for that number. Of duplicate shipments under one number
 * (several trackResults) the one with the latest scan is kept.
 */
export function mapTrackingNumbersResponse(body: unknown, o: MapOptions): MappedPackage[] {
  return completeResults(body).map((c, i) => {
    const trs = Array.isArray(c.trackResults) ? c.trackResults.filter(isObj) : [];
    const number = str(c.trackingNumber) ?? str((trs[0]?.trackingNumberInfo as Obj | undefined)?.trackingNumber) ?? unexpected(`completeTrackResults[${i}] has no trackingNumber`);
    const ok = trs.filter((tr) => !isObj(tr.error) || !str(tr.error.code));
    if (ok.length === 0) {
      const err = trs.map((tr) => tr.error).find(isObj);
      const code = err ? str(err.code) : undefined;
      if (!code || code === 'TRACKING.TRACKINGNUMBER.NOTFOUND') return { trackingNumber: number, notFound: true, hasAssociatedShipments: false, scans: [] };
      throw fedexError({ source: 'number', fedexCode: code, trackingNumber: number, message: `FedEx refused tracking number ${number}: ${code} ${str(err?.message) ?? ''}`.trim() });
    }
    const tr = ok.length === 1 ? ok[0]! : ok.reduce((a, b) => (latestScanMs(b, o.assumedTimeZone) > latestScanMs(a, o.assumedTimeZone) ? b : a));
    const mps = isObj(tr.additionalTrackingInfo) && tr.additionalTrackingInfo.hasAssociatedShipments === true;
    return { trackingNumber: number, notFound: false, hasAssociatedShipments: mps, scans: mapTrackResult(tr, number, mps ? number : undefined, o) };
  });
}

/**
 * Maps a /track/v1/associatedshipments answer for `master`: the children's scans, each with
 * trackingNumber = master and pieceNumber = the child's number. An unknown master gives none.
 */
export function mapAssociatedResponse(body: unknown, master: string, o: MapOptions): CarrierScan[] {
  return completeResults(body).flatMap((c) => {
    const trs = Array.isArray(c.trackResults) ? c.trackResults.filter(isObj) : [];
    return trs.flatMap((tr) => {
      if (isObj(tr.error) && str(tr.error.code)) return [];
      const piece = str((tr.trackingNumberInfo as Obj | undefined)?.trackingNumber) ?? str(c.trackingNumber);
      if (!piece || piece === master) return [];
      return mapTrackResult(tr, master, piece, o);
    });
  });
}
