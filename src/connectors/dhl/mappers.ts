/**
 * Pure mapping of DHL Shipment Tracking – Unified answers to canonical carrier scans.
 *
 * Code. Each Unified event has a documented `statusCode` group (pre-transit, transit,
 * delivered, failure, unknown) and, from the business unit, an optional `statusDetailed`
 * (for DHL Express the checkpoint code: PU, AF, WC, OK, NH...). A scan's `code` is
 * `statusCode:statusDetailed` (`delivered:OK`), or the bare group when no detail is sent.
 * `DHL_STATUS_TABLE` maps codes to a canonical status and, where the code stands for one, an
 * exception class. A detailed code the table does not list falls back to its group's row:
 * that meaning is DHL's own documented grouping, not a guess. A group outside the five
 * documented ones maps to 'unknown'.
 *
 * Time. `timestamp` values are local wall-clock times, usually without offset:
 * - with an offset or `Z` → rule `offset`;
 * - without, and the event's `countryCode` is a single-zone country → rule `zone` (its zone);
 * - otherwise → rule `assumed`, read in the configured default zone and flagged.
 * The local time is kept (`localTime`), never stamped as UTC. An event whose timestamp is not
 * a date-time yields no scan (it cannot be placed in time).
 *
 * Pieces. An event whose `pieceIds` names some but not all pieces of a multi-piece shipment
 * gives one scan per named piece, with `pieceNumber`; otherwise one shipment-level scan.
 * Delivered scans carry the proof of delivery (`details.proofOfDelivery`: signer, document URL).
 * Nothing is de-duplicated here: the same event twice gives the same scan twice.
 */
import type { ExceptionClass, TrackingStatus } from '../../domain/model.ts';
import { localTimeToUtc, zoneOfPlace, type CarrierScan, type ScanPlace, type TimeRule } from '../../domain/tracking.ts';
import type { TrackResult } from '../carrier-port.ts';
import type { DhlLookup } from './client.ts';

export interface DhlStatusRow {
  status: TrackingStatus;
  exceptionClass?: ExceptionClass;
  /** what DHL means by the code */
  meaning: string;
}

/** Every DHL code the adapter knows: the five Unified groups and the DHL Express checkpoint codes. */
export const DHL_STATUS_TABLE: Readonly<Record<string, DhlStatusRow>> = {
  'pre-transit': { status: 'info_received', meaning: 'Unified group: shipment data received, not yet handed to DHL' },
  transit: { status: 'in_transit', meaning: 'Unified group: in DHL\'s network' },
  delivered: { status: 'delivered', meaning: 'Unified group: delivered' },
  failure: { status: 'exception', meaning: 'Unified group: a problem stops the shipment' },
  unknown: { status: 'unknown', meaning: 'Unified group: DHL has no status' },
  'transit:SA': { status: 'picked_up', meaning: 'Shipment accepted at a DHL point' },
  'transit:PU': { status: 'picked_up', meaning: 'Shipment picked up' },
  'transit:PL': { status: 'in_transit', meaning: 'Processed at location' },
  'transit:DF': { status: 'in_transit', meaning: 'Departed facility' },
  'transit:AF': { status: 'in_transit', meaning: 'Arrived at facility' },
  'transit:AR': { status: 'in_transit', meaning: 'Arrived at delivery facility' },
  'transit:CI': { status: 'in_transit', meaning: 'Facility check-in' },
  'transit:CR': { status: 'in_transit', meaning: 'Customs clearance released' },
  'transit:TP': { status: 'in_transit', meaning: 'Forwarded to a third party for delivery' },
  'transit:WC': { status: 'out_for_delivery', meaning: 'With delivery courier' },
  'transit:CC': { status: 'available_for_pickup', meaning: 'Awaiting collection by the recipient' },
  'transit:MD': { status: 'delayed', exceptionClass: 'delayed', meaning: 'Missed delivery cycle' },
  'transit:TD': { status: 'delayed', exceptionClass: 'delayed', meaning: 'Transport delay' },
  'transit:MS': { status: 'delayed', exceptionClass: 'delayed', meaning: 'Mis-sorted, being re-routed' },
  'transit:CD': { status: 'on_hold', exceptionClass: 'customs_hold', meaning: 'Clearance delay' },
  'transit:HP': { status: 'on_hold', exceptionClass: 'customs_hold', meaning: 'Held for payment of duties and taxes' },
  'transit:OH': { status: 'on_hold', meaning: 'Shipment on hold' },
  'delivered:OK': { status: 'delivered', meaning: 'Delivered' },
  'delivered:DD': { status: 'delivered', exceptionClass: 'damaged', meaning: 'Delivered damaged' },
  'failure:NH': { status: 'delivery_failed', exceptionClass: 'delivery_failed', meaning: 'Delivery attempted, recipient not home' },
  'failure:CA': { status: 'delivery_failed', exceptionClass: 'delivery_failed', meaning: 'Delivery attempted, business closed' },
  'failure:BA': { status: 'exception', exceptionClass: 'address_issue', meaning: 'Bad address' },
  'failure:CM': { status: 'exception', exceptionClass: 'address_issue', meaning: 'Recipient moved' },
  'failure:RD': { status: 'exception', exceptionClass: 'refused', meaning: 'Delivery refused' },
  'failure:SS': { status: 'on_hold', meaning: 'Shipment stopped at the shipper\'s request' },
  'failure:RT': { status: 'returned_to_sender', exceptionClass: 'return_to_sender', meaning: 'Returned to shipper' },
};

const UNKNOWN_ROW: DhlStatusRow = { status: 'unknown', meaning: 'not in the table' };

/** The row of a scan code: exact, else its documented group, else 'unknown'. */
export function dhlStatusOf(code: string): DhlStatusRow {
  const exact = Object.hasOwn(DHL_STATUS_TABLE, code) ? DHL_STATUS_TABLE[code] : undefined;
  if (exact) return exact;
  const i = code.indexOf(':');
  if (i > 0) {
    const group = Object.hasOwn(DHL_STATUS_TABLE, code.slice(0, i)) ? DHL_STATUS_TABLE[code.slice(0, i)] : undefined;
    if (group) return group;
  }
  return UNKNOWN_ROW;
}

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(?::(\d{2})(\.\d{1,9})?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

export interface ScanTime {
  occurredAt: string;
  timeRule: TimeRule;
  localTime: string;
  timeZone?: string;
}

/**
 * The instant of a DHL timestamp by the documented rules (module comment). Undefined when the
 * value is not a date-time or `defaultZone` is not a known zone.
 */
export function dhlScanTime(timestamp: unknown, countryCode: string | undefined, defaultZone: string): ScanTime | undefined {
  if (typeof timestamp !== 'string') return undefined;
  const m = TIMESTAMP.exec(timestamp.trim());
  if (!m) return undefined;
  const [, date, hm = '00:00', sec, frac = '', off] = m;
  const localTime = `${date}T${hm}${sec !== undefined ? `:${sec}` : ''}`;
  const wall = `${localTime}${frac}`;
  if (off) {
    const asUtc = localTimeToUtc(wall, 'UTC');
    if (!asUtc) return undefined;
    let minutes = 0;
    if (off.toUpperCase() !== 'Z') {
      const digits = off.slice(1).replace(':', '');
      const h = Number(digits.slice(0, 2));
      const mi = Number(digits.slice(2) || '0');
      if (h > 23 || mi > 59) return undefined;
      minutes = (off[0] === '-' ? -1 : 1) * (h * 60 + mi);
    }
    return { occurredAt: new Date(Date.parse(asUtc) - minutes * 60_000).toISOString(), timeRule: 'offset', localTime };
  }
  const zone = zoneOfPlace(countryCode);
  if (zone) {
    const at = localTimeToUtc(wall, zone);
    return at ? { occurredAt: at, timeRule: 'zone', localTime, timeZone: zone } : undefined;
  }
  const at = localTimeToUtc(wall, defaultZone);
  return at ? { occurredAt: at, timeRule: 'assumed', localTime, timeZone: defaultZone } : undefined;
}

const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const strList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.length > 0) : []);

/** The scan place of a Unified `location` (`{address: {addressLocality, addressRegion, postalCode, countryCode}}`). */
export function dhlPlace(location: unknown): ScanPlace | undefined {
  const a = obj(obj(location)?.address);
  if (!a) return undefined;
  const p: ScanPlace = {};
  const city = str(a.addressLocality);
  const region = str(a.addressRegion);
  const postal = str(a.postalCode);
  const cc = str(a.countryCode);
  if (city) p.city = city;
  if (region) p.region = region;
  if (postal) p.postalCode = postal;
  if (cc && /^[A-Za-z]{2}$/.test(cc)) p.countryCode = cc.toUpperCase();
  return Object.keys(p).length ? p : undefined;
}

function signerOf(pod: Record<string, unknown> | undefined, description: string | undefined): string | undefined {
  const signed = obj(pod?.signed);
  if (signed) {
    const name = str(signed.name) ?? ([str(signed.givenName), str(signed.familyName)].filter(Boolean).join(' ') || undefined) ?? str(signed.organizationName);
    if (name) return name;
  }
  const m = description ? /Signed for by:\s*(.+)$/i.exec(description) : null;
  return m ? m[1]!.trim() : undefined;
}

/** The scan code of a Unified event: `statusCode:statusDetailed`, or the bare group. */
export function dhlCodeOf(event: Record<string, unknown>): string {
  const group = str(event.statusCode);
  const detail = str(event.statusDetailed);
  if (group && detail) return `${group}:${detail}`;
  return group ?? detail ?? 'unknown';
}

/** The scans of one Unified `shipment` object. */
export function mapDhlShipment(shipment: unknown, fallbackNumber: string, defaultZone: string): CarrierScan[] {
  const s = obj(shipment);
  if (!s) return [];
  const trackingNumber = typeof s.id === 'string' || typeof s.id === 'number' ? String(s.id) : fallbackNumber;
  const details = obj(s.details);
  const pieces = strList(details?.pieceIds);
  const total = Math.max(pieces.length, typeof details?.totalNumberOfPieces === 'number' ? details.totalNumberOfPieces : 0);
  const pod = obj(details?.proofOfDelivery);
  const events = Array.isArray(s.events) && s.events.length > 0 ? s.events : obj(s.status) ? [s.status] : [];
  const scans: CarrierScan[] = [];
  for (const raw of events) {
    const e = obj(raw);
    if (!e) continue;
    const place = dhlPlace(e.location);
    const time = dhlScanTime(e.timestamp, place?.countryCode, defaultZone);
    if (!time) continue;
    const code = dhlCodeOf(e);
    const row = dhlStatusOf(code);
    const description = str(e.description) ?? str(e.status);
    const base: CarrierScan = { carrier: 'dhl', trackingNumber, code, status: row.status, occurredAt: time.occurredAt, timeRule: time.timeRule, localTime: time.localTime };
    if (row.exceptionClass) base.exceptionClass = row.exceptionClass;
    if (description) base.description = description;
    if (time.timeZone) base.timeZone = time.timeZone;
    if (place) base.location = place;
    if (row.status === 'delivered') {
      const signer = signerOf(pod, description);
      if (signer) base.signedBy = signer;
      const ref = str(pod?.documentUrl);
      if (ref) base.podReference = ref;
    }
    const named = [...new Set(strList(e.pieceIds))];
    const coversAll = pieces.length > 0 && pieces.every((p) => named.includes(p));
    if (total > 1 && named.length > 0 && !coversAll) for (const p of named) scans.push({ ...base, pieceNumber: p });
    else scans.push(base);
  }
  return scans;
}

/** The TrackResult of one lookup: DHL's 404 (or an empty list) is notFound, not an error. */
export function mapDhlLookup(lookup: DhlLookup, defaultZone: string): TrackResult {
  if (!lookup.found) return { trackingNumber: lookup.trackingNumber, scans: [], notFound: true };
  const list = (obj(lookup.body)?.shipments ?? []) as unknown[];
  if (!Array.isArray(list) || list.length === 0) return { trackingNumber: lookup.trackingNumber, scans: [], notFound: true };
  // DHL may list other shipments the number matches in other services; the exact id wins
  const exact = list.filter((s) => String(obj(s)?.id ?? '') === lookup.trackingNumber);
  const chosen = exact.length > 0 ? exact : list;
  return { trackingNumber: lookup.trackingNumber, scans: chosen.flatMap((s) => mapDhlShipment(s, lookup.trackingNumber, defaultZone)) };
}
