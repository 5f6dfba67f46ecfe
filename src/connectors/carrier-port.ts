/**
 * The carrier port: what the order-to-delivery workflow asks of any carrier, whatever its API.
 * An adapter (src/connectors/<carrier>/) implements the operations its carrier offers and says
 * which in its manifest's capabilities (`carrier.rate`, `carrier.book`, `carrier.cancel`,
 * `carrier.track`, `carrier.track.webhook`, `carrier.manifest`). Tracking-only carriers (UPS,
 * FedEx and DHL tracking APIs) implement `track` alone.
 *
 * Errors are the hub's typed errors (src/domain/errors.ts), classified by each adapter's error
 * table: TransientError (network, 5xx, 429 with its retry delay), PermanentError (bad
 * credentials, malformed request), BusinessError (the carrier refused: address invalid, service
 * not available, label already voided). A refusal is data the workflow records, not a crash.
 */
import type { Static } from '@sinclair/typebox';
import type { Address, Dimensions, Money, Weight } from '../domain/primitives.ts';
import type { CarrierScan } from '../domain/tracking.ts';

export type LabelFormat = 'PDF' | 'ZPL';

/** Canonical service levels, fastest first. Adapters map their service codes onto these. */
export const SERVICE_LEVELS = ['same_day', 'next_day', 'two_day', 'three_day', 'ground', 'economy'] as const;
export type ServiceLevel = (typeof SERVICE_LEVELS)[number];

export interface ParcelSpec {
  /** unique within the shipment; echoed back on the booked piece */
  packageId: string;
  weight: Weight;
  dimensions?: Static<typeof Dimensions>;
}

export interface RateRequest {
  /** canonical shipment id; adapters send it as the carrier's reference where one exists */
  shipmentId: string;
  from: Address;
  to: Address;
  parcels: ParcelSpec[];
  /** YYYY-MM-DD; today when absent */
  shipDate?: string;
}

export interface RateQuote {
  /** adapter id ('easypost', ...) */
  carrier: string;
  /** the carrier within an aggregator (e.g. 'USPS', 'UPS'); equals `carrier` for a direct API */
  carrierAccount?: string;
  /** the carrier's service code, verbatim */
  service: string;
  serviceLevel: ServiceLevel;
  price: Money;
  /** YYYY-MM-DD the carrier promises delivery by, when it says */
  estimatedDeliveryDate?: string;
  transitDays?: number;
  /** the weight the carrier bills (dimensional when larger than the actual) */
  billableWeight?: Weight;
  /** what `book` needs to buy exactly this quote (the aggregator's shipment and rate ids...) */
  quoteRef: string;
  /** RFC 3339: the quote is not bookable after this */
  expiresAt?: string;
}

export interface BookRequest {
  quote: RateQuote;
  request: RateRequest;
  labelFormat: LabelFormat;
  /** the same key books once: a retry after a lost answer returns the first booking */
  idempotencyKey: string;
}

export interface Label {
  format: LabelFormat;
  /** the label itself, base64 */
  contentBase64: string;
}

export interface BookedPiece {
  packageId: string;
  trackingNumber: string;
  label: Label;
}

export interface Booking {
  carrier: string;
  carrierAccount?: string;
  service: string;
  /** the carrier's id of the booking (what cancel and manifest take) */
  bookingRef: string;
  masterTrackingNumber: string;
  pieces: BookedPiece[];
  /** what the carrier charged at booking */
  charged: Money;
}

export interface CancelResult {
  /** voided now, or already voided before (idempotent) */
  voided: boolean;
  /** the carrier's own status of the refund / void, verbatim */
  carrierStatus: string;
}

export interface ManifestResult {
  manifestRef: string;
  /** the end-of-day document (SCAN form / manifest PDF), base64, when the carrier returns one */
  documentBase64?: string;
  bookingRefs: string[];
}

/** What `track` returns for one tracking number. */
export interface TrackResult {
  trackingNumber: string;
  /** every scan the carrier reports, in the carrier's order; the tracking fold orders and de-duplicates */
  scans: CarrierScan[];
  /** the carrier does not know the number (yet): not an error */
  notFound?: boolean;
}

export interface CarrierPort {
  readonly id: string;
  rate?(req: RateRequest): Promise<RateQuote[]>;
  book?(req: BookRequest): Promise<Booking>;
  cancel?(bookingRef: string): Promise<CancelResult>;
  track?(trackingNumbers: string[]): Promise<TrackResult[]>;
  manifest?(bookingRefs: string[], shipDate: string): Promise<ManifestResult>;
}
