/**
 * The EasyPost simulator's carrier accounts, services and price list: deterministic rates so
 * tests can assert exact amounts. Pure (no clock, no I/O).
 *
 * Pricing, per service: base + perLb × billable pounds + perZone × (zone − 1), in cents.
 * - billable weight: the larger of the actual weight and the dimensional weight
 *   (length × width × height / 139, inches → pounds), rounded up to the next whole pound, as
 *   US parcel carriers bill;
 * - zone: 1 to 8 from the distance between the first digits of the US ZIP codes
 *   (zone-ish, like USPS zones); 8 for anything international;
 * - delivery: `days` business days after the ship date (Saturday and Sunday skipped).
 *
 * Domestic (US → US) shipments are rated by USPS, UPS and FedEx; any other lane by DHLExpress,
 * UPS and FedEx international services.
 */

export interface SimService {
  service: string;
  /** business days in transit */
  days: number;
  baseCents: number;
  perLbCents: number;
  perZoneCents: number;
  /** offered on domestic US lanes (true) or on international ones (false) */
  domestic: boolean;
}

export interface SimCarrierAccount {
  /** EasyPost's carrier name, as in Rate.carrier */
  carrier: string;
  /** the carrier account id (`ca_` + 32 hex) */
  id: string;
  /** human readable, as EasyPost's `readable` */
  readable: string;
  services: SimService[];
  /** how this carrier's tracking codes look: prefix and digit count after it */
  trackingPrefix: string;
  trackingDigits: number;
}

const ca = (n: number) => `ca_${n.toString(16).padStart(32, '0')}`;

export const CARRIER_ACCOUNTS: readonly SimCarrierAccount[] = [
  {
    carrier: 'USPS',
    id: ca(0x05b5),
    readable: 'USPS',
    trackingPrefix: '9400',
    trackingDigits: 18,
    services: [
      { service: 'GroundAdvantage', days: 5, baseCents: 520, perLbCents: 55, perZoneCents: 35, domestic: true },
      { service: 'Priority', days: 2, baseCents: 890, perLbCents: 95, perZoneCents: 60, domestic: true },
      { service: 'Express', days: 1, baseCents: 2850, perLbCents: 180, perZoneCents: 120, domestic: true },
    ],
  },
  {
    carrier: 'UPS',
    id: ca(0x0095),
    readable: 'UPS',
    trackingPrefix: '1Z999AA1',
    trackingDigits: 10,
    services: [
      { service: 'Ground', days: 4, baseCents: 980, perLbCents: 70, perZoneCents: 45, domestic: true },
      { service: '2ndDayAir', days: 2, baseCents: 1950, perLbCents: 160, perZoneCents: 95, domestic: true },
      { service: 'NextDayAir', days: 1, baseCents: 3900, perLbCents: 260, perZoneCents: 150, domestic: true },
      { service: 'Expedited', days: 5, baseCents: 5200, perLbCents: 420, perZoneCents: 0, domestic: false },
    ],
  },
  {
    carrier: 'FedEx',
    id: ca(0xfede),
    readable: 'FedEx',
    trackingPrefix: '7',
    trackingDigits: 11,
    services: [
      { service: 'FEDEX_GROUND', days: 4, baseCents: 960, perLbCents: 68, perZoneCents: 44, domestic: true },
      { service: 'FEDEX_2_DAY', days: 2, baseCents: 1890, perLbCents: 155, perZoneCents: 92, domestic: true },
      { service: 'PRIORITY_OVERNIGHT', days: 1, baseCents: 4100, perLbCents: 270, perZoneCents: 155, domestic: true },
      { service: 'INTERNATIONAL_PRIORITY', days: 3, baseCents: 6900, perLbCents: 510, perZoneCents: 0, domestic: false },
    ],
  },
  {
    carrier: 'DHLExpress',
    id: ca(0xd417),
    readable: 'DHL Express',
    trackingPrefix: '',
    trackingDigits: 10,
    services: [
      { service: 'ExpressWorldwideNonDoc', days: 3, baseCents: 6400, perLbCents: 480, perZoneCents: 0, domestic: false },
      { service: 'Express1200NonDoc', days: 2, baseCents: 8800, perLbCents: 560, perZoneCents: 0, domestic: false },
      { service: 'EconomySelectNonDoc', days: 6, baseCents: 4200, perLbCents: 310, perZoneCents: 0, domestic: false },
    ],
  },
];

export function carrierAccount(carrier: string): SimCarrierAccount | undefined {
  return CARRIER_ACCOUNTS.find((c) => c.carrier.toLowerCase() === carrier.toLowerCase());
}

export function carrierAccountById(id: string): SimCarrierAccount | undefined {
  return CARRIER_ACCOUNTS.find((c) => c.id === id);
}

/** Dimensional divisor for inches → pounds. */
export const DIM_DIVISOR = 139;

export interface SimParcel {
  /** ounces */
  weight: number;
  /** inches */
  length?: number | null;
  width?: number | null;
  height?: number | null;
}

/** Billable pounds: the larger of actual and dimensional weight, rounded up to a whole pound (at least 1). */
export function billablePounds(p: SimParcel): number {
  const actual = p.weight / 16;
  const dim = p.length && p.width && p.height ? (p.length * p.width * p.height) / DIM_DIVISOR : 0;
  return Math.max(1, Math.ceil(Math.max(actual, dim) - 1e-9));
}

/** Zone 1..8 from two ZIP codes' first digits; 8 when either is not a US ZIP or the lane is international. */
export function zoneOf(fromZip: string, toZip: string, domestic: boolean): number {
  if (!domestic) return 8;
  const a = /^[0-9]/.test(fromZip) ? Number(fromZip[0]) : NaN;
  const b = /^[0-9]/.test(toZip) ? Number(toZip[0]) : NaN;
  if (Number.isNaN(a) || Number.isNaN(b)) return 8;
  return Math.min(8, 1 + Math.abs(a - b));
}

/** Price in cents of one service for one parcel on a lane. */
export function priceCents(s: SimService, pounds: number, zone: number): number {
  return s.baseCents + s.perLbCents * pounds + s.perZoneCents * (zone - 1);
}

/** Cents → EasyPost's decimal string ("12.30"). */
export function centsToDecimal(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const a = Math.abs(Math.round(cents));
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

/** The date `days` business days after `shipDate` (YYYY-MM-DD), skipping Saturdays and Sundays. */
export function addBusinessDays(shipDate: string, days: number): string {
  const d = new Date(`${shipDate}T00:00:00Z`);
  let left = days;
  while (left > 0) {
    d.setUTCDate(d.getUTCDate() + 1);
    const wd = d.getUTCDay();
    if (wd !== 0 && wd !== 6) left -= 1;
  }
  return d.toISOString().slice(0, 10);
}
