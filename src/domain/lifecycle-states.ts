/**
 * The states of the canonical lifecycles (the machines themselves are in lifecycle.ts).
 * Kept apart so the catalogue can name milestones without importing the machines.
 */

/** Order to cash, one order (or one shipment without an order) end to end. */
export const ORDER_STATES = [
  'created',
  'released',
  'backordered',
  'split',
  'picked',
  'packed',
  'booked',
  'dispatched',
  'in_transit',
  'out_for_delivery',
  'exception',
  'delivered',
  'returned',
  'invoiced',
  'paid',
  'cancelled',
] as const;
export type OrderState = (typeof ORDER_STATES)[number];

/** Procure to pay, one purchase order. */
export const PROCUREMENT_STATES = ['released', 'rejected', 'acknowledged', 'asn_received', 'received', 'discrepancy', 'billed', 'matched', 'cancelled'] as const;
export type ProcurementState = (typeof PROCUREMENT_STATES)[number];

export const LIFECYCLE_KINDS = ['order', 'procurement'] as const;
export type LifecycleKind = (typeof LIFECYCLE_KINDS)[number];
