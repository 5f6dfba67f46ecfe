/**
 * What the DHL simulator knows about DHL's own codes and places: the event codes an admin
 * request may use and how each is rendered on the Shipment Tracking – Unified wire, and the
 * time zone a DHL facility would print its local times in.
 *
 * The Unified API documents `statusCode` as five high-level groups (pre-transit, transit,
 * delivered, failure, unknown); the business unit's own event code travels in
 * `statusDetailed`, which the API documents only as "detailed status of the shipment". For
 * DHL Express the simulator puts the Express checkpoint code there (PU, AF, WC, OK, NH...),
 * with its group in `statusCode`, its short title in `status` and DHL's English wording in
 * `description`. A bare group code ('pre-transit') renders with no `statusDetailed`, as the
 * Unified API sends a pre-advice. `group:DETAIL` (e.g. 'transit:ZZ') renders any other code,
 * so tests can send codes no table knows.
 */

export type StatusGroup = 'pre-transit' | 'transit' | 'delivered' | 'failure' | 'unknown';

export const STATUS_GROUPS: readonly StatusGroup[] = ['pre-transit', 'transit', 'delivered', 'failure', 'unknown'];

export interface CodeRendering {
  statusCode: StatusGroup;
  statusDetailed?: string;
  /** the short title (`status`) */
  title: string;
  /** the description; `{city}` is replaced by the event's city */
  description: string;
}

/** DHL Express checkpoint codes the simulator renders, with their Unified group. */
export const EXPRESS_CODES: Readonly<Record<string, CodeRendering>> = {
  SA: { statusCode: 'transit', statusDetailed: 'SA', title: 'Shipment accepted', description: 'Shipment accepted at DHL point {city}' },
  PU: { statusCode: 'transit', statusDetailed: 'PU', title: 'Shipment picked up', description: 'Shipment picked up' },
  PL: { statusCode: 'transit', statusDetailed: 'PL', title: 'Processed', description: 'Processed at {city}' },
  DF: { statusCode: 'transit', statusDetailed: 'DF', title: 'Departed facility', description: 'Departed Facility in {city}' },
  AF: { statusCode: 'transit', statusDetailed: 'AF', title: 'Arrived at facility', description: 'Arrived at Sort Facility {city}' },
  AR: { statusCode: 'transit', statusDetailed: 'AR', title: 'Arrived at delivery facility', description: 'Arrived at Delivery Facility in {city}' },
  CI: { statusCode: 'transit', statusDetailed: 'CI', title: 'Facility check-in', description: 'Shipment checked in at {city}' },
  CR: { statusCode: 'transit', statusDetailed: 'CR', title: 'Clearance complete', description: 'Clearance processing complete at {city}' },
  TP: { statusCode: 'transit', statusDetailed: 'TP', title: 'Forwarded', description: 'Forwarded to third party for delivery' },
  WC: { statusCode: 'transit', statusDetailed: 'WC', title: 'With delivery courier', description: 'Shipment is out with courier for delivery' },
  CC: { statusCode: 'transit', statusDetailed: 'CC', title: 'Awaiting collection', description: 'Awaiting collection by recipient as requested at {city}' },
  MD: { statusCode: 'transit', statusDetailed: 'MD', title: 'Missed delivery cycle', description: 'Scheduled for delivery next business day' },
  TD: { statusCode: 'transit', statusDetailed: 'TD', title: 'Transport delay', description: 'Shipment delayed due to a transport delay' },
  MS: { statusCode: 'transit', statusDetailed: 'MS', title: 'Mis-sorted', description: 'Shipment misrouted; being corrected' },
  CD: { statusCode: 'transit', statusDetailed: 'CD', title: 'Clearance delay', description: 'Clearance delay at {city}' },
  HP: { statusCode: 'transit', statusDetailed: 'HP', title: 'Held for payment', description: 'Shipment on hold awaiting payment of duties and taxes' },
  OH: { statusCode: 'transit', statusDetailed: 'OH', title: 'On hold', description: 'Shipment on hold' },
  OK: { statusCode: 'delivered', statusDetailed: 'OK', title: 'Delivered', description: 'Delivered' },
  DD: { statusCode: 'delivered', statusDetailed: 'DD', title: 'Delivered damaged', description: 'Delivered; shipment damaged' },
  NH: { statusCode: 'failure', statusDetailed: 'NH', title: 'Recipient not home', description: 'Delivery attempted; recipient not home' },
  CA: { statusCode: 'failure', statusDetailed: 'CA', title: 'Closed on arrival', description: 'Delivery attempted; business closed' },
  BA: { statusCode: 'failure', statusDetailed: 'BA', title: 'Bad address', description: 'Delivery attempted; incorrect address' },
  CM: { statusCode: 'failure', statusDetailed: 'CM', title: 'Customer moved', description: 'Recipient moved; address to be confirmed' },
  RD: { statusCode: 'failure', statusDetailed: 'RD', title: 'Refused delivery', description: 'Delivery refused by the recipient' },
  SS: { statusCode: 'failure', statusDetailed: 'SS', title: 'Shipment stopped', description: 'Shipment stopped at the request of the shipper' },
  RT: { statusCode: 'failure', statusDetailed: 'RT', title: 'Returned to shipper', description: 'Shipment returned to shipper' },
};

const GROUP_RENDERING: Readonly<Record<StatusGroup, CodeRendering>> = {
  'pre-transit': { statusCode: 'pre-transit', title: 'pre-transit', description: 'Shipment information received' },
  transit: { statusCode: 'transit', title: 'transit', description: 'Shipment in transit' },
  delivered: { statusCode: 'delivered', title: 'delivered', description: 'Delivered' },
  failure: { statusCode: 'failure', title: 'failure', description: 'Delivery failed' },
  unknown: { statusCode: 'unknown', title: 'unknown', description: 'Status not available' },
};

/** The rendering of an admin `code`, or undefined when the simulator cannot render it. */
export function renderingOf(code: string): CodeRendering | undefined {
  if ((STATUS_GROUPS as readonly string[]).includes(code)) return GROUP_RENDERING[code as StatusGroup];
  const express = EXPRESS_CODES[code];
  if (express) return express;
  const m = /^(pre-transit|transit|delivered|failure|unknown):([A-Za-z0-9_-]{1,40})$/.exec(code);
  if (m) {
    const known = EXPRESS_CODES[m[2]!];
    if (known && known.statusCode === m[1]) return known;
    return { statusCode: m[1] as StatusGroup, statusDetailed: m[2]!, title: m[2]!, description: `Status ${m[2]}` };
  }
  return undefined;
}

/**
 * The zone a DHL facility prints its local times in. Single-zone countries by country code;
 * a few multi-zone countries by region (state / province code); otherwise the simulator's
 * default zone.
 */
const COUNTRY_ZONE: Readonly<Record<string, string>> = {
  DE: 'Europe/Berlin', NL: 'Europe/Amsterdam', BE: 'Europe/Brussels', FR: 'Europe/Paris', IT: 'Europe/Rome', GB: 'Europe/London',
  IE: 'Europe/Dublin', AT: 'Europe/Vienna', CH: 'Europe/Zurich', PL: 'Europe/Warsaw', CZ: 'Europe/Prague', DK: 'Europe/Copenhagen',
  SE: 'Europe/Stockholm', NO: 'Europe/Oslo', FI: 'Europe/Helsinki', JP: 'Asia/Tokyo', CN: 'Asia/Shanghai', HK: 'Asia/Hong_Kong',
  SG: 'Asia/Singapore', IN: 'Asia/Kolkata', AE: 'Asia/Dubai', ZA: 'Africa/Johannesburg', ES: 'Europe/Madrid', PT: 'Europe/Lisbon',
};

const REGION_ZONE: Readonly<Record<string, string>> = {
  'US:NY': 'America/New_York', 'US:NJ': 'America/New_York', 'US:GA': 'America/New_York', 'US:FL': 'America/New_York', 'US:OH': 'America/New_York',
  'US:KY': 'America/New_York', 'US:IL': 'America/Chicago', 'US:TX': 'America/Chicago', 'US:TN': 'America/Chicago', 'US:CO': 'America/Denver',
  'US:AZ': 'America/Phoenix', 'US:CA': 'America/Los_Angeles', 'US:WA': 'America/Los_Angeles', 'CA:ON': 'America/Toronto',
  'CA:QC': 'America/Toronto', 'CA:BC': 'America/Vancouver', 'AU:NSW': 'Australia/Sydney', 'AU:VIC': 'Australia/Melbourne',
};

/** The IANA zone of a place as a DHL facility there keeps its clock. */
export function facilityZone(place: { countryCode?: string | undefined; region?: string | undefined } | undefined, fallback: string): string {
  if (!place?.countryCode) return fallback;
  const cc = place.countryCode.toUpperCase();
  if (place.region) {
    const z = REGION_ZONE[`${cc}:${place.region.toUpperCase()}`];
    if (z) return z;
  }
  return COUNTRY_ZONE[cc] ?? fallback;
}

/** Wall-clock time `YYYY-MM-DDTHH:MM:SS` of instant `ms` in `zone`. */
export function wallTime(ms: number, zone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}:${get('second')}`;
}
