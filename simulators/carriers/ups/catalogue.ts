/**
 * What the UPS simulator knows about UPS's own codes and places: the activity codes an admin
 * request may register and how each is rendered in a Track API `activity.status` (and a Track
 * Alert `activityStatus`), and the IANA zone a UPS facility prints its local times in.
 *
 * A UPS activity status carries three codes: `type` (the status type: M manifest, MV manifest
 * void, P pickup, I in progress, X exception, U update, D delivery, RS returned to shipper),
 * `code` (the two-character activity code, e.g. OR, DP, AR, OT, FS) and `statusCode` (the
 * three-digit "activity package detail status code", e.g. 005 In Transit, 011 Delivered, sent
 * as `descriptionCode` by Track Alert). The pairs below come from the Track Alert OpenAPI
 * examples (MP/003, OR/005, DP/005, YP/071, OT/021, FS/011) and from the code table UPS
 * published in UPS-API/api-documentation issue #7 (ZP/040, ZQ/017, LX/025, HA/048, H1/029,
 * H8/035, Z1/012, LM/044). The failed-attempt code 48 with status code 022 is as UPS responses
 * show it; the public specification does not list activity codes.
 * A registration may also name `<statusCode>:<activityCode>` (e.g. '099:ZZ') to send a code no
 * table knows.
 */

export interface UpsCodeRendering {
  type: string;
  statusCode: string;
  description: string;
  /** Track API `simplifiedTextDescription` */
  simplified: string;
}

/** The activity codes the simulator renders, keyed by UPS's two-character activity code. */
export const UPS_ACTIVITY_CODES: Readonly<Record<string, UpsCodeRendering>> = {
  MP: { type: 'M', statusCode: '003', description: 'Shipper created a label, UPS has not received the package yet. ', simplified: 'Label Created' },
  OR: { type: 'I', statusCode: '005', description: 'Origin Scan', simplified: 'On the Way' },
  PU: { type: 'P', statusCode: '038', description: 'Pickup Scan ', simplified: 'Picked Up' },
  DP: { type: 'I', statusCode: '005', description: 'Departed from Facility', simplified: 'On the Way' },
  AR: { type: 'I', statusCode: '005', description: 'Arrived at Facility', simplified: 'On the Way' },
  YP: { type: 'I', statusCode: '071', description: 'Processing at UPS Facility', simplified: 'Preparing for Delivery' },
  OT: { type: 'I', statusCode: '021', description: 'Out For Delivery Today', simplified: 'Out for Delivery' },
  '48': {
    type: 'X',
    statusCode: '022',
    description: "The receiver was not available for delivery. We'll make a second attempt the next business day.",
    simplified: 'Delivery Attempted',
  },
  FS: { type: 'D', statusCode: '011', description: 'DELIVERED ', simplified: 'Delivered' },
  ZP: { type: 'D', statusCode: '040', description: 'Delivered to UPS Access Point™ Awaiting Customer Pickup', simplified: 'Delivered to UPS Access Point™' },
  ZQ: { type: 'X', statusCode: '017', description: 'Held for Customer Pickup', simplified: 'Held for Customer Pickup' },
  LX: { type: 'I', statusCode: '025', description: 'Transferred to Local Post Office for Delivery', simplified: 'In Transit' },
  HA: { type: 'X', statusCode: '048', description: 'Delay', simplified: 'Delay' },
  H1: { type: 'X', statusCode: '029', description: 'The shipping address provided is either incorrect or incomplete.', simplified: 'Address Information Required' },
  H8: { type: 'X', statusCode: '035', description: 'Returning to Sender', simplified: 'Returning to Sender' },
  Z1: { type: 'I', statusCode: '012', description: 'Clearance in Progress', simplified: 'Clearance in Progress' },
  LM: { type: 'I', statusCode: '044', description: 'In Transit to UPS', simplified: 'On Its Way to UPS' },
};

const RAW = /^(\d{3}):([A-Z0-9]{1,3})$/;

/** The rendering of a registration code, or undefined when the simulator does not know it. */
export function renderingOf(code: string): (UpsCodeRendering & { code: string }) | undefined {
  const known = UPS_ACTIVITY_CODES[code];
  if (known) return { ...known, code };
  const m = RAW.exec(code);
  if (m) return { type: 'X', statusCode: m[1]!, description: `Status ${m[1]} (${m[2]})`, simplified: 'Update', code: m[2]! };
  return undefined;
}

/** US states and Canadian provinces → IANA zone (the zone of most of the state). */
const REGION_ZONES: Readonly<Record<string, Record<string, string>>> = {
  US: {
    AL: 'America/Chicago', AK: 'America/Anchorage', AZ: 'America/Phoenix', AR: 'America/Chicago', CA: 'America/Los_Angeles', CO: 'America/Denver',
    CT: 'America/New_York', DE: 'America/New_York', DC: 'America/New_York', FL: 'America/New_York', GA: 'America/New_York', HI: 'Pacific/Honolulu',
    ID: 'America/Boise', IL: 'America/Chicago', IN: 'America/Indiana/Indianapolis', IA: 'America/Chicago', KS: 'America/Chicago', KY: 'America/New_York',
    LA: 'America/Chicago', ME: 'America/New_York', MD: 'America/New_York', MA: 'America/New_York', MI: 'America/Detroit', MN: 'America/Chicago',
    MS: 'America/Chicago', MO: 'America/Chicago', MT: 'America/Denver', NE: 'America/Chicago', NV: 'America/Los_Angeles', NH: 'America/New_York',
    NJ: 'America/New_York', NM: 'America/Denver', NY: 'America/New_York', NC: 'America/New_York', ND: 'America/Chicago', OH: 'America/New_York',
    OK: 'America/Chicago', OR: 'America/Los_Angeles', PA: 'America/New_York', RI: 'America/New_York', SC: 'America/New_York', SD: 'America/Chicago',
    TN: 'America/Chicago', TX: 'America/Chicago', UT: 'America/Denver', VT: 'America/New_York', VA: 'America/New_York', WA: 'America/Los_Angeles',
    WV: 'America/New_York', WI: 'America/Chicago', WY: 'America/Denver', PR: 'America/Puerto_Rico',
  },
  CA: { BC: 'America/Vancouver', AB: 'America/Edmonton', SK: 'America/Regina', MB: 'America/Winnipeg', ON: 'America/Toronto', QC: 'America/Toronto', NB: 'America/Moncton', NS: 'America/Halifax', PE: 'America/Halifax', NL: 'America/St_Johns' },
};

const COUNTRY_ZONES: Readonly<Record<string, string>> = {
  GB: 'Europe/London', IE: 'Europe/Dublin', FR: 'Europe/Paris', DE: 'Europe/Berlin', NL: 'Europe/Amsterdam', BE: 'Europe/Brussels', ES: 'Europe/Madrid',
  IT: 'Europe/Rome', PL: 'Europe/Warsaw', CH: 'Europe/Zurich', AT: 'Europe/Vienna', JP: 'Asia/Tokyo', CN: 'Asia/Shanghai', HK: 'Asia/Hong_Kong', IN: 'Asia/Kolkata',
};

/** The zone the simulator prints an event's local time in: the place's zone, else UTC. */
export function zoneOfPlace(countryCode?: string, region?: string): string {
  if (!countryCode) return 'UTC';
  const byRegion = REGION_ZONES[countryCode];
  if (byRegion && region && byRegion[region]) return byRegion[region]!;
  return COUNTRY_ZONES[countryCode] ?? (countryCode === 'US' ? 'America/New_York' : 'UTC');
}
