/**
 * Rate shopping: which of the carriers' quotes to book, by rule. Pure.
 *
 * A quote is eligible when its carrier is allowed for the customer (allow list, when given)
 * and not denied, its carrier's circuit is closed, its service level is one the order accepts
 * (the requested level or faster), the billable weight (dimensional when larger) is within the
 * carrier's limit, and it is promised by the order's delivery date. When no quote meets the
 * date, the date rule is relaxed (the fastest quotes first) and the choice says so: a late
 * delivery is better than none, and the delay exception is raised by the workflow.
 * Eligible quotes are ranked by price, then earlier delivery, then carrier and service (a
 * total order: the same quotes always give the same choice). The first is booked; the others
 * are the fallbacks, in order, when the first carrier errs.
 */
import { SERVICE_LEVELS, type RateQuote, type ServiceLevel } from '../../connectors/carrier-port.ts';

export interface ParcelWeight {
  weightKg: number;
  /** centimetres */
  lengthCm?: number;
  widthCm?: number;
  heightCm?: number;
}

export interface ShoppingRules {
  /** the slowest service level the order accepts (faster ones are fine); any when absent */
  serviceLevel?: ServiceLevel;
  /** YYYY-MM-DD the order is promised for */
  deliverBy?: string;
  /** carrier names (RateQuote.carrierAccount ?? carrier) the customer allows; all when absent */
  allow?: readonly string[];
  deny?: readonly string[];
  /** carriers whose circuit is open (too many recent failures) */
  unavailable?: readonly string[];
  /** per carrier: the heaviest billable parcel it takes, kg */
  maxParcelKg?: Readonly<Record<string, number>>;
  /** divisor of the dimensional weight, cm³ per kg (5000 by default) */
  dimDivisor?: number;
}

export interface Rejected {
  quote: RateQuote;
  reason: string;
}

export interface Choice {
  /** eligible quotes, best first */
  ranked: RateQuote[];
  rejected: Rejected[];
  /** true when no quote met the delivery date and the date rule was relaxed */
  late: boolean;
}

export const carrierName = (q: RateQuote): string => q.carrierAccount ?? q.carrier;

/** The weight a carrier bills for a parcel: the actual weight or the dimensional one, whichever is larger. */
export function billableKg(p: ParcelWeight, divisor = 5000): number {
  const dim = p.lengthCm && p.widthCm && p.heightCm ? (p.lengthCm * p.widthCm * p.heightCm) / divisor : 0;
  return Math.round(Math.max(p.weightKg, dim) * 1000) / 1000;
}

const levelRank = (l: ServiceLevel) => SERVICE_LEVELS.indexOf(l);

function byPrice(a: RateQuote, b: RateQuote): number {
  const pa = Number(a.price.amount);
  const pb = Number(b.price.amount);
  if (pa !== pb) return pa - pb;
  const da = a.estimatedDeliveryDate ?? '9999-12-31';
  const db = b.estimatedDeliveryDate ?? '9999-12-31';
  if (da !== db) return da < db ? -1 : 1;
  const ka = `${carrierName(a)}/${a.service}`;
  const kb = `${carrierName(b)}/${b.service}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function byDelivery(a: RateQuote, b: RateQuote): number {
  const da = a.estimatedDeliveryDate ?? '9999-12-31';
  const db = b.estimatedDeliveryDate ?? '9999-12-31';
  return da !== db ? (da < db ? -1 : 1) : byPrice(a, b);
}

export function chooseQuotes(quotes: readonly RateQuote[], parcels: readonly ParcelWeight[], rules: ShoppingRules = {}): Choice {
  const rejected: Rejected[] = [];
  const heaviest = Math.max(0, ...parcels.map((p) => billableKg(p, rules.dimDivisor)));
  const fits: RateQuote[] = [];
  for (const q of quotes) {
    const name = carrierName(q);
    let reason: string | undefined;
    if (rules.allow && !rules.allow.includes(name)) reason = `${name} is not on the customer's allow list`;
    else if (rules.deny?.includes(name)) reason = `${name} is on the customer's deny list`;
    else if (rules.unavailable?.includes(name) || rules.unavailable?.includes(q.carrier)) reason = `${name} is unavailable (circuit open)`;
    else if (rules.serviceLevel && levelRank(q.serviceLevel) > levelRank(rules.serviceLevel)) reason = `${q.serviceLevel} is slower than the ${rules.serviceLevel} the order asks for`;
    else if (rules.maxParcelKg?.[name] !== undefined && heaviest > rules.maxParcelKg[name]!) reason = `billable weight ${heaviest} kg is over ${name}'s ${rules.maxParcelKg[name]} kg`;
    if (reason) rejected.push({ quote: q, reason });
    else fits.push(q);
  }
  if (!rules.deliverBy) return { ranked: fits.sort(byPrice), rejected, late: false };
  const onTime = fits.filter((q) => q.estimatedDeliveryDate !== undefined && q.estimatedDeliveryDate <= rules.deliverBy!);
  if (onTime.length) {
    for (const q of fits) if (!onTime.includes(q)) rejected.push({ quote: q, reason: `delivers ${q.estimatedDeliveryDate ?? 'at an unknown date'}, after ${rules.deliverBy}` });
    return { ranked: onTime.sort(byPrice), rejected, late: false };
  }
  return { ranked: fits.sort(byDelivery), rejected, late: fits.length > 0 };
}
