/**
 * What the FedEx simulator needs to render scans as FedEx does: the description of each Track
 * API event code (`scanEvents[].eventType`), the derived status FedEx puts next to it
 * (`derivedStatusCode` / `derivedStatus`), the scan location type, and the wall-clock zone of a
 * place so that local times carry the right UTC offset.
 *
 * Codes and descriptions follow FedEx's "Tracking Status Codes" table of the API reference
 * (plus AE "Shipment arriving early", added to scanEvents.eventType in October 2021). Where a
 * live response words an event differently from the table (OC "Shipment information sent to
 * FedEx", IT "On the way", OD "On FedEx vehicle for delivery"), the live wording is used.
 * The derived codes copy what live responses show: OD, AR, DP, HP... all derive to IT
 * "In transit"; OC derives to IN "Label created".
 */

/** eventType → default eventDescription. */
export const EVENT_DESCRIPTIONS: Readonly<Record<string, string>> = {
  AA: 'At airport',
  AC: 'At Canada Post facility',
  AD: 'At delivery',
  AE: 'Shipment arriving early',
  AF: 'At local FedEx facility',
  AO: 'Shipment arriving On-Time',
  AP: 'At pickup',
  AR: 'Arrived at FedEx location',
  AX: 'At USPS facility',
  CA: 'Shipment cancelled',
  CC: 'Cleared customs',
  CD: 'Clearance delay',
  CH: 'Location changed',
  CP: 'Clearance in progress',
  DD: 'Delivery delay',
  DE: 'Delivery exception',
  DL: 'Delivered',
  DP: 'Departed FedEx location',
  DR: 'Vehicle furnished but not used',
  DS: 'Vehicle dispatched',
  DY: 'Delay',
  EA: 'Enroute to airport',
  ED: 'Enroute to delivery',
  EO: 'Enroute to origin airport',
  EP: 'Enroute to pickup',
  FD: 'At FedEx destination',
  HL: 'Hold at location',
  HP: 'Ready for recipient pickup',
  IT: 'On the way',
  IX: 'In transit (see details)',
  LO: 'Left origin',
  LP: 'Return label link cancelled by shipment originator',
  OC: 'Shipment information sent to FedEx',
  OD: 'On FedEx vehicle for delivery',
  OF: 'At FedEx origin facility',
  OW: 'On the way',
  OX: 'Shipment information sent to USPS',
  PD: 'Pickup delay',
  PF: 'Plane in flight',
  PL: 'Plane landed',
  PM: 'In progress',
  PU: 'Picked up',
  PX: 'Picked up (see details)',
  RC: 'CDO cancelled',
  RD: 'Return label link expired',
  RG: 'Return label link expiring soon',
  RM: 'CDO modified',
  RP: 'Return label link emailed to return sender',
  RR: 'CDO requested',
  RS: 'Return to shipper',
  SE: 'Shipment exception',
  SF: 'At sort facility',
  SP: 'Split status',
  TR: 'Transfer',
};

/** eventType → [derivedStatusCode, derivedStatus]; anything else derives to IT "In transit". */
const DERIVED: Readonly<Record<string, readonly [string, string]>> = {
  OC: ['IN', 'Label created'],
  PU: ['PU', 'Picked up'],
  PX: ['PU', 'Picked up'],
  DL: ['DL', 'Delivered'],
  DE: ['DE', 'Delivery exception'],
  SE: ['SE', 'Shipment exception'],
  DY: ['DY', 'Delay'],
  DD: ['DY', 'Delay'],
  PD: ['DY', 'Delay'],
  CD: ['CD', 'Clearance delay'],
  CA: ['CA', 'Cancelled'],
  RS: ['RS', 'Return to shipper'],
  HL: ['HL', 'Ready for pickup'],
};

/** The derivedStatusCode and derivedStatus FedEx puts next to an event of this type. */
export function derivedStatus(eventType: string): readonly [string, string] {
  return DERIVED[eventType] ?? ['IT', 'In transit'];
}

/** The scanEvents[].locationType FedEx gives for an event of this type. */
export function locationTypeOf(eventType: string): string {
  switch (eventType) {
    case 'OC':
      return 'CUSTOMER';
    case 'PU':
    case 'PX':
      return 'PICKUP_LOCATION';
    case 'DL':
    case 'DE':
      return 'DELIVERY_LOCATION';
    case 'OD':
    case 'IT':
    case 'AE':
      return 'VEHICLE';
    case 'HL':
    case 'HP':
      return 'DESTINATION_FEDEX_FACILITY';
    default:
      return 'FEDEX_FACILITY';
  }
}

/** IANA zones of US states lying in one zone only. */
const US_STATE_ZONES: Readonly<Record<string, string>> = {
  CT: 'America/New_York', DE: 'America/New_York', DC: 'America/New_York', GA: 'America/New_York', ME: 'America/New_York',
  MD: 'America/New_York', MA: 'America/New_York', NH: 'America/New_York', NJ: 'America/New_York', NY: 'America/New_York',
  NC: 'America/New_York', OH: 'America/New_York', PA: 'America/New_York', RI: 'America/New_York', SC: 'America/New_York',
  VT: 'America/New_York', VA: 'America/New_York', WV: 'America/New_York',
  AL: 'America/Chicago', AR: 'America/Chicago', IL: 'America/Chicago', IA: 'America/Chicago', LA: 'America/Chicago',
  MN: 'America/Chicago', MS: 'America/Chicago', MO: 'America/Chicago', OK: 'America/Chicago', WI: 'America/Chicago',
  CO: 'America/Denver', MT: 'America/Denver', NM: 'America/Denver', UT: 'America/Denver', WY: 'America/Denver',
  AZ: 'America/Phoenix', CA: 'America/Los_Angeles', WA: 'America/Los_Angeles', HI: 'Pacific/Honolulu',
};

/** IANA zones of countries lying in one zone only. */
const COUNTRY_ZONES: Readonly<Record<string, string>> = {
  DE: 'Europe/Berlin', FR: 'Europe/Paris', GB: 'Europe/London', NL: 'Europe/Amsterdam', BE: 'Europe/Brussels',
  IT: 'Europe/Rome', PL: 'Europe/Warsaw', AT: 'Europe/Vienna', CH: 'Europe/Zurich', IE: 'Europe/Dublin',
  SE: 'Europe/Stockholm', DK: 'Europe/Copenhagen', NO: 'Europe/Oslo', FI: 'Europe/Helsinki', CZ: 'Europe/Prague',
  JP: 'Asia/Tokyo', CN: 'Asia/Shanghai', IN: 'Asia/Kolkata', SG: 'Asia/Singapore', HK: 'Asia/Hong_Kong',
  KR: 'Asia/Seoul', PR: 'America/Puerto_Rico',
};

/** The zone of a place from its state (US) or country; undefined when it spans several zones or is unknown. */
export function zoneOfPlace(region: string | undefined, countryCode: string | undefined): string | undefined {
  const cc = countryCode?.toUpperCase();
  if (cc === 'US' && region) return US_STATE_ZONES[region.toUpperCase()];
  return cc ? COUNTRY_ZONES[cc] : undefined;
}

/** Offset of `zone` at instant `ms`, in minutes east of UTC. */
export function offsetMinutes(zone: string, ms: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Wall-clock time of instant `ms` in `zone`, `YYYY-MM-DDTHH:MM:SS`, and its offset `±hh:mm`. */
export function localParts(ms: number, zone: string): { local: string; offset: string } {
  const off = offsetMinutes(zone, ms);
  const d = new Date(Math.floor(ms / 1000) * 1000 + off * 60_000);
  const local = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return { local, offset: `${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}` };
}

/** ISO 8601 local time with offset, as FedEx writes scanEvents[].date: `2024-02-17T12:34:26-05:00`. */
export function withOffset(ms: number, zone: string): string {
  const p = localParts(ms, zone);
  return p.local + p.offset;
}
