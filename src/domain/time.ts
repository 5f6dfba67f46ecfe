/**
 * Calendar and instant arithmetic without the wall clock. RFC 3339 timestamps are parsed
 * by hand (not with Date.parse) because Date.parse silently rolls 2026-02-30 over to
 * March 2 and drops digits beyond the millisecond, and because the lifecycle fold needs
 * a total order on instants that is exact to the nanosecond.
 */

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;
const FULL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const MS_PER_DAY = 86_400_000;

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeap(y) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;
}

function validDate(y: number, m: number, d: number): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Inverse of daysFromCivil. */
function civilFromDays(z: number): [number, number, number] {
  const zz = z + 719468;
  const era = Math.floor(zz / 146097);
  const doe = zz - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [era * 400 + yoe + (m <= 2 ? 1 : 0), m, d];
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** True for an RFC 3339 `full-date` that exists in the calendar (2026-02-29 does not). */
export function isFullDate(s: string): boolean {
  const m = FULL_DATE.exec(s);
  return m !== null && validDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/**
 * True for an RFC 3339 `date-time` with an explicit offset (Z or ±hh:mm), an existing
 * calendar date and valid clock fields. Leap seconds (:60) are refused: no JavaScript
 * runtime can represent them, so accepting them would only move the failure downstream.
 */
export function isDateTime(s: string): boolean {
  return parseInstant(s) !== undefined;
}

/**
 * An exact instant: milliseconds since the epoch plus the nanoseconds below the
 * millisecond that RFC 3339 allows but Date cannot hold.
 */
export interface Instant {
  epochMs: number;
  subMsNanos: number;
}

export function parseInstant(s: string): Instant | undefined {
  const m = DATE_TIME.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i])) as [number, number, number, number, number, number];
  if (!validDate(y, mo, d) || h > 23 || mi > 59 || se > 59) return undefined;
  let offsetMin = 0;
  const off = m[8]!;
  if (off !== 'Z') {
    const oh = Number(off.slice(1, 3));
    const om = Number(off.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (off[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const frac = (m[7] ?? '').padEnd(9, '0');
  const epochMs = daysFromCivil(y, mo, d) * MS_PER_DAY + ((h * 60 + mi - offsetMin) * 60 + se) * 1000 + Number(frac.slice(0, 3));
  return { epochMs, subMsNanos: Number(frac.slice(3)) };
}

export function instantFromDate(d: Date): Instant | undefined {
  const ms = d.getTime();
  return Number.isFinite(ms) ? { epochMs: ms, subMsNanos: 0 } : undefined;
}

/**
 * A fixed-width UTC rendering (`YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`) whose lexicographic order
 * is the order of the instants, for years 0000 to 9999.
 */
export function instantKey(i: Instant): string {
  const days = Math.floor(i.epochMs / MS_PER_DAY);
  const msOfDay = i.epochMs - days * MS_PER_DAY;
  const [y, mo, d] = civilFromDays(days);
  const h = Math.floor(msOfDay / 3_600_000);
  const mi = Math.floor((msOfDay % 3_600_000) / 60_000);
  const s = Math.floor((msOfDay % 60_000) / 1000);
  const ms = msOfDay % 1000;
  return `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(ms, 3)}${pad(i.subMsNanos, 6)}Z`;
}

/**
 * The canonical display form of an instant: UTC, milliseconds, and sub-millisecond
 * digits only when there are any. Two spellings of one instant give the same string.
 */
export function formatInstant(i: Instant): string {
  const key = instantKey(i);
  const fraction = key.slice(20, 29).replace(/0+$/, '');
  return `${key.slice(0, 19)}.${fraction.length <= 3 ? fraction.padEnd(3, '0') : fraction}Z`;
}
