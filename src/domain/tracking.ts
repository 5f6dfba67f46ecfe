/**
 * Carrier tracking in canonical terms: the scan every carrier adapter produces, and the rule
 * turning a carrier's local wall-clock time into a UTC instant.
 *
 * Glossary
 * - scan: one event a carrier reports for a tracking number (a status change, a facility scan).
 * - piece: one package of a multi-piece shipment, with its own tracking number; the master
 *   tracking number stands for the shipment.
 * - time rule: how a scan's instant was obtained from what the carrier sent (below).
 *
 * Time rules (each adapter documents which one each of its fields uses):
 * - `offset`: the carrier sent a local time with its UTC offset (or a `Z`): the instant is exact.
 * - `zone`: the carrier sent a local time without offset but with a place whose IANA zone is
 *   known (given by the carrier, or derived by the adapter from the scan location): the local
 *   time is read in that zone, daylight saving included. A time that does not exist there (the
 *   skipped hour) is read with the offset before the change; a repeated hour takes the first.
 * - `utc`: the carrier documents its times as UTC without saying so in the value.
 * - `assumed`: a local time with neither offset nor known zone: read in the zone the connector
 *   is configured with for that carrier account, and flagged (`timeAssumed`), never silently
 *   stamped as UTC.
 *
 * Pure: no clock, no I/O. Zone arithmetic uses the runtime's time-zone database (Intl).
 */
import type { ExceptionClass, TrackingStatus } from './model.ts';

export type TimeRule = 'offset' | 'zone' | 'utc' | 'assumed';

export interface ScanPlace {
  city?: string;
  region?: string;
  postalCode?: string;
  /** ISO 3166-1 alpha-2 */
  countryCode?: string;
  facility?: string;
}

/** One carrier scan, normalised by a carrier adapter's mapping table. */
export interface CarrierScan {
  /** the adapter id: 'ups', 'fedex', 'dhl', 'easypost'... */
  carrier: string;
  /** the shipment's master tracking number */
  trackingNumber: string;
  /** the piece's tracking number when the scan is about one package of a multi-piece shipment */
  pieceNumber?: string;
  /** the carrier's own event or status code, verbatim (with its sub-code joined by ':' where the carrier has one) */
  code: string;
  /** the carrier's own description of the event */
  description?: string;
  /** the canonical status from the adapter's table; `unknown` when the table does not know `code` */
  status: TrackingStatus;
  /** the exception the code stands for, when it stands for one (damage, address problem...) */
  exceptionClass?: ExceptionClass;
  /** RFC 3339 UTC instant (`...Z`) computed by `timeRule` */
  occurredAt: string;
  timeRule: TimeRule;
  /** the local wall-clock time as the carrier sent it, without offset (`YYYY-MM-DDTHH:MM[:SS]`), kept for audit */
  localTime?: string;
  /** the IANA zone the local time was read in (`zone` and `assumed` rules) */
  timeZone?: string;
  location?: ScanPlace;
  /** the carrier's estimated delivery, when the scan carries one (RFC 3339 UTC) */
  estimatedDeliveryAt?: string;
  /** proof of delivery, on delivered scans */
  signedBy?: string;
  podReference?: string;
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;

/** Offset of `zone` at UTC instant `ms`, in minutes east of UTC. */
export function zoneOffsetMinutes(zone: string, ms: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
}

/** Whether `zone` is an IANA zone this runtime knows. */
export function isKnownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The UTC instant (RFC 3339, `Z`, millisecond precision) of wall-clock time `local`
 * (`YYYY-MM-DDTHH:MM[:SS[.fff]]`) in IANA `zone`. Skipped local times (spring forward) use the
 * offset in force before the change; repeated ones (fall back) the first occurrence.
 * Returns undefined for a malformed time or an unknown zone.
 */
export function localTimeToUtc(local: string, zone: string): string | undefined {
  const m = LOCAL.exec(local);
  if (!m || !isKnownZone(zone)) return undefined;
  const [, y, mo, d, h, mi, s = '0', frac = ''] = m;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(frac.padEnd(3, '0').slice(0, 3)));
  if (Number.isNaN(wall)) return undefined;
  const check = new Date(wall);
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d)) return undefined;
  // the offsets in force a day either side of the wall time: at most two candidates
  const before = zoneOffsetMinutes(zone, wall - 86_400_000);
  const after = zoneOffsetMinutes(zone, wall + 86_400_000);
  for (const off of before === after ? [before] : [before, after].sort((a, b) => b - a)) {
    // the larger offset first: for a repeated hour, that is the earlier instant
    const ms = wall - off * 60_000;
    if (zoneOffsetMinutes(zone, ms) === off) return new Date(ms).toISOString();
  }
  // a skipped local time: read it with the offset before the change
  return new Date(wall - before * 60_000).toISOString();
}

// ------------------------------------------------------------------ zones of places

/**
 * US states and Canadian provinces that lie in one zone. Multi-zone ones (TX, FL, KY, TN, IN, MI,
 * ID, ND, SD, NE, KS, OR, AK; AZ with its Navajo Nation; ON, QC, MB...) are left out on purpose.
 */
const SINGLE_ZONE_REGIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  US: Object.fromEntries([
    ...['CT', 'DE', 'DC', 'GA', 'ME', 'MD', 'MA', 'NH', 'NJ', 'NY', 'NC', 'OH', 'PA', 'RI', 'SC', 'VT', 'VA', 'WV'].map((r) => [r, 'America/New_York']),
    ...['AL', 'AR', 'IL', 'IA', 'LA', 'MN', 'MS', 'MO', 'OK', 'WI'].map((r) => [r, 'America/Chicago']),
    ...['CO', 'MT', 'NM', 'UT', 'WY'].map((r) => [r, 'America/Denver']),
    ...['CA', 'WA'].map((r) => [r, 'America/Los_Angeles']),
    ['HI', 'Pacific/Honolulu'],
    ['PR', 'America/Puerto_Rico'],
  ]),
  CA: { NS: 'America/Halifax', PE: 'America/Halifax', NB: 'America/Moncton', NL: 'America/St_Johns', BC: 'America/Vancouver' },
};

/** Countries (ISO 3166-1 alpha-2) that lie in one zone; multi-zone countries are absent on purpose. */
export const SINGLE_ZONE_COUNTRIES: Readonly<Record<string, string>> = {
  AE: 'Asia/Dubai', AT: 'Europe/Vienna', BE: 'Europe/Brussels', BG: 'Europe/Sofia', CH: 'Europe/Zurich', CN: 'Asia/Shanghai',
  CZ: 'Europe/Prague', DE: 'Europe/Berlin', DK: 'Europe/Copenhagen', EE: 'Europe/Tallinn', EG: 'Africa/Cairo', FI: 'Europe/Helsinki',
  FR: 'Europe/Paris', GB: 'Europe/London', GR: 'Europe/Athens', HK: 'Asia/Hong_Kong', HR: 'Europe/Zagreb', HU: 'Europe/Budapest',
  IE: 'Europe/Dublin', IL: 'Asia/Jerusalem', IN: 'Asia/Kolkata', IT: 'Europe/Rome', JP: 'Asia/Tokyo', KE: 'Africa/Nairobi',
  KR: 'Asia/Seoul', LT: 'Europe/Vilnius', LU: 'Europe/Luxembourg', LV: 'Europe/Riga', MA: 'Africa/Casablanca', MY: 'Asia/Kuala_Lumpur',
  NG: 'Africa/Lagos', NL: 'Europe/Amsterdam', NO: 'Europe/Oslo', PH: 'Asia/Manila', PL: 'Europe/Warsaw', PR: 'America/Puerto_Rico',
  RO: 'Europe/Bucharest', SA: 'Asia/Riyadh', SE: 'Europe/Stockholm', SG: 'Asia/Singapore', SI: 'Europe/Ljubljana', SK: 'Europe/Bratislava',
  TH: 'Asia/Bangkok', TR: 'Europe/Istanbul', TW: 'Asia/Taipei', VN: 'Asia/Ho_Chi_Minh', ZA: 'Africa/Johannesburg',
};

/**
 * The IANA zone a scan's place fixes (the `zone` time rule), or undefined when it fixes none: an
 * unknown place, a multi-zone country without a single-zone region. Case-insensitive.
 */
export function zoneOfPlace(countryCode: string | undefined, region?: string): string | undefined {
  const cc = countryCode?.toUpperCase();
  if (!cc) return undefined;
  const own = (t: Readonly<Record<string, string>>, k: string) => (Object.hasOwn(t, k) ? t[k] : undefined);
  const regions = Object.hasOwn(SINGLE_ZONE_REGIONS, cc) ? SINGLE_ZONE_REGIONS[cc] : undefined;
  if (regions) return region ? own(regions, region.toUpperCase()) : undefined;
  return own(SINGLE_ZONE_COUNTRIES, cc);
}
