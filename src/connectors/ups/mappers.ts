/**
 * Pure mapping of UPS tracking data to canonical scans: the Track API v1 answer
 * (`trackResponse.shipment[].package[].activity[]`) and the Track Alert push message.
 *
 * Codes. A UPS activity status has a `type` (M, MV, P, I, X, U, D, RS...), a two-character
 * activity `code` (OR, DP, FS...) and a three-digit `statusCode` ("activity package detail
 * status code"; Track Alert's `descriptionCode`). The scan `code` is `<statusCode>:<activity
 * code>` (e.g. `011:FS`); without a statusCode it is `<type>:<activity code>`. The canonical
 * status comes from UPS_STATUS_TABLE by statusCode; only when UPS sends no statusCode does the
 * type decide, through UPS_STATUS_TYPE_TABLE, and only for the types that mean one thing (D, I
 * and U cover several stages: "delivery information" is out for delivery as well as delivered).
 * Anything else is `unknown`, never guessed.
 *
 * Time rules, per field:
 * - Track API `date` + `time` with `gmtOffset`: rule `offset` (the local time and its offset).
 * - `gmtDate` + `gmtTime` without `gmtOffset`, and Track Alert `gmtActivityDate` +
 *   `gmtActivityTime`: rule `utc`. `gmtTime` arrives as HHMMSS, as HH:MM:SS, or as a number with
 *   its leading zeros dropped (the spec's example is '74700' for 07:47:00): all are read.
 * - local `date` + `time` alone: rule `zone` with the zone of the activity's place when the place
 *   fixes one (a single-zone country, state or province), else rule `assumed` in the configured
 *   default zone. A local time is never stamped as UTC.
 * `localTime` keeps the local wall-clock time as UPS sent it.
 *
 * Multi-piece: a lead number answers a `package` per piece; scans of a shipment with several
 * packages (or of a package other than the inquiry number) carry `pieceNumber`. Delivered scans
 * carry `signedBy` from `deliveryInformation.receivedBy`. The adapter does not de-duplicate: the
 * same activity listed twice gives the same code and occurredAt twice, and the tracking fold
 * merges them.
 */
import type { ExceptionClass, TrackingStatus } from '../../domain/model.ts';
import { localTimeToUtc, zoneOfPlace, type CarrierScan, type ScanPlace, type TimeRule } from '../../domain/tracking.ts';
import type { TrackResult } from '../carrier-port.ts';
import { upsError } from './errors.ts';

export interface UpsStatusRow {
  status: TrackingStatus;
  exceptionClass?: ExceptionClass;
  /** UPS's name of the status code */
  description: string;
}

/**
 * UPS activity status codes (three digits) → canonical status. Sources: the Track Alert
 * OpenAPI examples (003, 005, 011, 021, 071) and the code table UPS published in
 * UPS-API/api-documentation issue #7 (the rest). Damage, loss, refusal and customs holds have no
 * status code of their own at this level (they come as 013 Exception with a description): they
 * stay without an exception class rather than be guessed from free text.
 */
export const UPS_STATUS_TABLE: Readonly<Record<string, UpsStatusRow>> = {
  '003': { status: 'info_received', description: 'Order Processed: Ready for UPS (label created)' },
  '005': { status: 'in_transit', description: 'In Transit' },
  '007': { status: 'cancelled', description: 'Shipment Information Voided' },
  '011': { status: 'delivered', description: 'Delivered' },
  '012': { status: 'in_transit', description: 'Clearance in Progress' },
  '013': { status: 'exception', description: 'Exception' },
  '014': { status: 'in_transit', description: 'Clearance Completed' },
  '016': { status: 'on_hold', description: 'Held in Warehouse' },
  '017': { status: 'available_for_pickup', description: 'Held for Customer Pickup' },
  '018': { status: 'on_hold', description: 'Delivery Change Requested: Hold' },
  '019': { status: 'on_hold', description: 'Held for Future Delivery' },
  '020': { status: 'on_hold', description: 'Held for Future Delivery Requested' },
  '021': { status: 'out_for_delivery', description: 'Out For Delivery' },
  '022': { status: 'delivery_failed', exceptionClass: 'delivery_failed', description: 'First Attempt Made' },
  '023': { status: 'delivery_failed', exceptionClass: 'delivery_failed', description: 'Second Attempt Made' },
  '024': { status: 'delivery_failed', exceptionClass: 'delivery_failed', description: 'Final Attempt Made' },
  '025': { status: 'in_transit', description: 'Transferred to Local Post Office for Delivery' },
  '026': { status: 'delivered', description: 'Delivered by Local Post Office' },
  '027': { status: 'in_transit', description: 'Delivery Address Change Requested' },
  '028': { status: 'in_transit', description: 'Delivery Address Changed' },
  '029': { status: 'exception', exceptionClass: 'address_issue', description: 'Exception: Action Required (address information required)' },
  '030': { status: 'exception', description: 'Local Post Office Exception' },
  '032': { status: 'delayed', exceptionClass: 'weather', description: 'Adverse Weather May Cause Delay' },
  '033': { status: 'exception', exceptionClass: 'return_to_sender', description: 'Return to Sender Requested' },
  '034': { status: 'returned_to_sender', exceptionClass: 'return_to_sender', description: 'Returned to Sender' },
  '035': { status: 'exception', exceptionClass: 'return_to_sender', description: 'Returning to Sender' },
  '036': { status: 'exception', exceptionClass: 'return_to_sender', description: 'Returning to Sender: In Transit' },
  '037': { status: 'exception', exceptionClass: 'return_to_sender', description: 'Returning to Sender: Left UPS Facility' },
  '038': { status: 'picked_up', description: 'Picked Up' },
  '039': { status: 'in_transit', description: 'In Transit by Post' },
  '040': { status: 'available_for_pickup', description: 'Delivered to UPS Access Point, Awaiting Customer Pickup' },
  '044': { status: 'info_received', description: 'In Transit to UPS (on its way to UPS)' },
  '045': { status: 'info_received', description: 'Order Processed: In Transit to UPS' },
  '046': { status: 'delayed', exceptionClass: 'delayed', description: 'Delay' },
  '047': { status: 'delayed', exceptionClass: 'delayed', description: 'Delay' },
  '048': { status: 'delayed', exceptionClass: 'delayed', description: 'Delay' },
  '071': { status: 'in_transit', description: 'Preparing for Delivery' },
};

/**
 * UPS status types → canonical status, used only when an activity has no statusCode, and only
 * for the types with one meaning (Track Alert: M and MV manifest, X exception; Track API: P
 * pickup, RS returned to shipper). D, I, U, O and the freight-only types are left out.
 */
export const UPS_STATUS_TYPE_TABLE: Readonly<Record<string, UpsStatusRow>> = {
  M: { status: 'info_received', description: 'Manifest (billing information received)' },
  MV: { status: 'cancelled', description: 'Manifest void (billing information voided)' },
  P: { status: 'picked_up', description: 'Pickup' },
  X: { status: 'exception', description: 'Exception' },
  RS: { status: 'returned_to_sender', exceptionClass: 'return_to_sender', description: 'Returned to shipper' },
};

/** The canonical status and exception class of a UPS status (statusCode first; type only when there is none). */
export function upsStatusOf(statusCode: string | undefined, type: string | undefined): { status: TrackingStatus; exceptionClass?: ExceptionClass } {
  // own keys only: a code such as "toString" must not find Object.prototype
  const row = statusCode ? (Object.hasOwn(UPS_STATUS_TABLE, statusCode) ? UPS_STATUS_TABLE[statusCode] : undefined) : type && Object.hasOwn(UPS_STATUS_TYPE_TABLE, type) ? UPS_STATUS_TYPE_TABLE[type] : undefined;
  if (!row) return { status: 'unknown' };
  return row.exceptionClass ? { status: row.status, exceptionClass: row.exceptionClass } : { status: row.status };
}

/** The scan code: `<statusCode>:<activity code>`, `<type>:<activity code>` without a statusCode. */
export function upsScanCode(statusCode: string | undefined, type: string | undefined, activityCode: string | undefined): string {
  const head = statusCode || type || 'none';
  return activityCode ? `${head}:${activityCode}` : head;
}

// --------------------------------------------------------------------------- places and zones

// --------------------------------------------------------------------------- time

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);

/** YYYYMMDD (or YYYY-MM-DD) → YYYY-MM-DD when it is a real date. */
export function upsDate(v: unknown): string | undefined {
  const s = str(v);
  const m = s ? /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(s) : null;
  if (!m) return undefined;
  const [, y, mo, d] = m;
  const t = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (t.getUTCFullYear() !== Number(y) || t.getUTCMonth() !== Number(mo) - 1 || t.getUTCDate() !== Number(d)) return undefined;
  return `${y}-${mo}-${d}`;
}

/** HHMMSS, HH:MM:SS, or HHMMSS with its leading zeros dropped ('74700') → HH:MM:SS. */
export function upsTime(v: unknown): string | undefined {
  const s = str(v);
  if (!s) return undefined;
  let h: string, mi: string, se: string;
  const colon = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(s);
  if (colon) [h, mi, se] = [colon[1]!.padStart(2, '0'), colon[2]!, colon[3] ?? '00'];
  else if (/^\d{1,6}$/.test(s)) {
    const p = s.padStart(6, '0');
    [h, mi, se] = [p.slice(0, 2), p.slice(2, 4), p.slice(4, 6)];
  } else return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(se) > 59) return undefined;
  return `${h}:${mi}:${se}`;
}

/** ±HH:MM (or ±HHMM, ±HH) → minutes east of UTC. */
export function upsOffsetMinutes(v: unknown): number | undefined {
  const s = str(v);
  const m = s ? /^([+-])(\d{2}):?(\d{2})?$/.exec(s) : null;
  if (!m) return undefined;
  const mins = Number(m[2]) * 60 + Number(m[3] ?? 0);
  if (Number(m[2]) > 18 || Number(m[3] ?? 0) > 59) return undefined;
  return m[1] === '-' ? -mins : mins;
}

export interface UpsTimeFields {
  date?: unknown;
  time?: unknown;
  gmtDate?: unknown;
  gmtTime?: unknown;
  gmtOffset?: unknown;
  countryCode?: string;
  region?: string;
}

export interface UpsInstant {
  occurredAt: string;
  timeRule: TimeRule;
  localTime?: string;
  timeZone?: string;
}

/** The instant of a UPS activity by the time rules above; undefined when no field gives one. */
export function upsInstant(f: UpsTimeFields, defaultZone: string): UpsInstant | undefined {
  const ld = upsDate(f.date);
  const lt = upsTime(f.time);
  const localTime = ld && lt ? `${ld}T${lt}` : undefined;
  const off = upsOffsetMinutes(f.gmtOffset);
  if (localTime && off !== undefined) {
    const ms = Date.parse(`${localTime}Z`) - off * 60_000;
    if (Number.isFinite(ms)) return { occurredAt: new Date(ms).toISOString(), timeRule: 'offset', localTime };
  }
  const gd = upsDate(f.gmtDate);
  const gt = upsTime(f.gmtTime);
  if (gd && gt) {
    const out: UpsInstant = { occurredAt: new Date(Date.parse(`${gd}T${gt}Z`)).toISOString(), timeRule: 'utc' };
    if (localTime) out.localTime = localTime;
    return out;
  }
  if (!localTime) return undefined;
  const zone = zoneOfPlace(f.countryCode, f.region);
  if (zone) {
    const at = localTimeToUtc(localTime, zone);
    if (at) return { occurredAt: at, timeRule: 'zone', localTime, timeZone: zone };
  }
  const at = localTimeToUtc(localTime, defaultZone);
  return at ? { occurredAt: at, timeRule: 'assumed', localTime, timeZone: defaultZone } : undefined;
}

// --------------------------------------------------------------------------- Track API

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj).filter((x): x is Obj => x !== undefined) : []);

function placeOf(address: Obj | undefined, slic: unknown): ScanPlace | undefined {
  const p: ScanPlace = {};
  const city = str(address?.city);
  const region = str(address?.stateProvince);
  const postal = str(address?.postalCode);
  const country = str(address?.countryCode) ?? str(address?.country);
  const facility = str(slic);
  if (city) p.city = city;
  if (region) p.region = region;
  if (postal) p.postalCode = postal;
  if (country && /^[A-Z]{2}$/.test(country)) p.countryCode = country;
  if (facility) p.facility = facility;
  return Object.keys(p).length ? p : undefined;
}

/**
 * One Track API answer (the body of GET /api/track/v1/details/{inquiryNumber}, or of its
 * documented 404) → the TrackResult of `requested`. Activities without any readable time are
 * left out (a scan needs an instant).
 */
export function mapUpsTrackResponse(requested: string, body: unknown, defaultZone: string): TrackResult {
  const shipments = list(obj(obj(body)?.trackResponse)?.shipment);
  const scans: CarrierScan[] = [];
  let packages = 0;
  for (const sh of shipments) {
    const inquiry = str(sh.inquiryNumber) ?? requested;
    const pkgs = list(sh.package);
    packages += pkgs.length;
    for (const pkg of pkgs) {
      const pkgNumber = str(pkg.trackingNumber);
      const count = typeof pkg.packageCount === 'number' ? pkg.packageCount : Number(pkg.packageCount);
      const piece = pkgNumber && (pkgs.length > 1 || pkgNumber !== inquiry || count > 1) ? pkgNumber : undefined;
      const delivery = obj(pkg.deliveryInformation);
      const receivedBy = str(delivery?.receivedBy);
      for (const a of list(pkg.activity)) {
        const status = obj(a.status);
        const location = obj(a.location);
        const address = obj(location?.address);
        const place = placeOf(address, location?.slic);
        const statusCode = str(status?.statusCode);
        const type = str(status?.type);
        const when = upsInstant({ date: a.date, time: a.time, gmtDate: a.gmtDate, gmtTime: a.gmtTime, gmtOffset: a.gmtOffset, countryCode: place?.countryCode, region: place?.region }, defaultZone);
        if (!when) continue;
        const mapped = upsStatusOf(statusCode, type);
        const scan: CarrierScan = {
          carrier: 'ups',
          trackingNumber: inquiry,
          code: upsScanCode(statusCode, type, str(status?.code)),
          status: mapped.status,
          occurredAt: when.occurredAt,
          timeRule: when.timeRule,
        };
        if (piece) scan.pieceNumber = piece;
        const description = str(status?.description) ?? str(status?.simplifiedTextDescription);
        if (description) scan.description = description;
        if (mapped.exceptionClass) scan.exceptionClass = mapped.exceptionClass;
        if (when.localTime) scan.localTime = when.localTime;
        if (when.timeZone) scan.timeZone = when.timeZone;
        if (place) scan.location = place;
        if (mapped.status === 'delivered' && receivedBy) scan.signedBy = receivedBy;
        scans.push(scan);
      }
    }
  }
  const result: TrackResult = { trackingNumber: requested, scans };
  if (packages === 0) result.notFound = true;
  return result;
}

// --------------------------------------------------------------------------- Track Alert

/**
 * One Track Alert message (UPSTrackAlert.yaml, webhook TrackingEvent, TrackingEventRequest) →
 * its scan. The GMT date and time make the instant (rule `utc`); the local date and time are
 * kept. Track Alert speaks per package: the scan's trackingNumber is the package's number.
 * Throws PermanentError `ups.invalid_alert` for a message without a tracking number or time.
 */
export function mapTrackAlert(body: unknown, defaultZone = 'America/New_York'): CarrierScan[] {
  const b = obj(body);
  const tn = str(b?.trackingNumber);
  if (!b || !tn) throw upsError({ source: 'protocol', endpoint: 'alert', message: 'Track Alert message without trackingNumber' });
  const status = obj(b.activityStatus);
  const loc = obj(b.activityLocation);
  const place = placeOf(loc ? { ...loc, countryCode: loc.country } : undefined, undefined);
  const when = upsInstant(
    { date: b.localActivityDate, time: b.localActivityTime, gmtDate: b.gmtActivityDate, gmtTime: b.gmtActivityTime, countryCode: place?.countryCode, region: place?.region },
    defaultZone,
  );
  if (!when) throw upsError({ source: 'protocol', endpoint: 'alert', message: `Track Alert message for ${tn} without a readable activity date and time` });
  const statusCode = str(status?.descriptionCode);
  const type = str(status?.type);
  const mapped = upsStatusOf(statusCode, type);
  const scan: CarrierScan = {
    carrier: 'ups',
    trackingNumber: tn,
    code: upsScanCode(statusCode, type, str(status?.code)),
    status: mapped.status,
    occurredAt: when.occurredAt,
    timeRule: when.timeRule,
  };
  const description = str(status?.description);
  if (description) scan.description = description;
  if (mapped.exceptionClass) scan.exceptionClass = mapped.exceptionClass;
  if (when.localTime) scan.localTime = when.localTime;
  if (when.timeZone) scan.timeZone = when.timeZone;
  if (place) scan.location = place;
  return [scan];
}
