/**
 * Builders of lifecycle events for tests: one catalogue event type per milestone, with
 * just the data fold reads (subject, time, status).
 */
import type { LifecycleEvent, OrderState, ProcurementState } from '../../src/domain/index.ts';

/** Order milestone → [event type, time field in data, extra data]. */
export const ORDER_EVENT: Record<OrderState, [string, string, Record<string, unknown>?]> = {
  created: ['order.created.v1', 'orderedAt'],
  released: ['order.released.v1', 'releasedAt'],
  backordered: ['order.backordered.v1', 'backorderedAt'],
  split: ['order.split.v1', 'splitAt'],
  picked: ['order.picked.v1', 'pickedAt'],
  packed: ['shipment.packed.v1', 'packedAt'],
  booked: ['shipment.booked.v1', 'bookedAt'],
  dispatched: ['shipment.dispatched.v1', 'dispatchedAt'],
  in_transit: ['shipment.tracking.v1', 'occurredAt', { status: 'in_transit' }],
  out_for_delivery: ['shipment.tracking.v1', 'occurredAt', { status: 'out_for_delivery' }],
  exception: ['shipment.exception.v1', 'occurredAt', { class: 'delivery_failed' }],
  delivered: ['shipment.delivered.v1', 'deliveredAt'],
  returned: ['shipment.returned.v1', 'returnedAt'],
  invoiced: ['order.invoiced.v1', 'invoicedAt'],
  paid: ['order.paid.v1', 'paidAt'],
  cancelled: ['order.cancelled.v1', 'cancelledAt'],
};

export const PROCUREMENT_EVENT: Record<ProcurementState, [string, string, Record<string, unknown>?]> = {
  released: ['purchase-order.released.v1', 'orderedAt'],
  acknowledged: ['purchase-order.acknowledged.v1', 'acknowledgedAt', { status: 'accepted' }],
  rejected: ['purchase-order.acknowledged.v1', 'acknowledgedAt', { status: 'rejected' }],
  asn_received: ['asn.received.v1', 'shippedAt'],
  received: ['receipt.recorded.v1', 'receivedAt', { receiptId: 'R1' }],
  discrepancy: ['purchase-order.discrepancy.v1', 'detectedAt'],
  billed: ['supplier-invoice.received.v1', 'receivedAt'],
  matched: ['purchase-order.matched.v1', 'matchedAt'],
  cancelled: ['purchase-order.cancelled.v1', 'cancelledAt'],
};

export interface EventOptions {
  source?: string;
  id?: string;
  /** put the time in the CloudEvents `time` instead of the data */
  envelopeTime?: boolean;
}

let counter = 0;

/** An event of the order lifecycle implying `milestone` at `time`. */
export function orderEvent(milestone: OrderState, time: string | null, o: EventOptions = {}): LifecycleEvent {
  const [type, timeField, extra] = ORDER_EVENT[milestone];
  const data: Record<string, unknown> = { orderId: 'ord-1', shipmentId: 'shp-1', ...extra };
  if (time !== null && !o.envelopeTime) data[timeField] = time;
  return { source: o.source ?? 'urn:test', id: o.id ?? `e${++counter}`, type, time: o.envelopeTime ? time : undefined, data };
}

/** An event of the procurement lifecycle implying `milestone` at `time`. */
export function poEvent(milestone: ProcurementState, time: string, o: EventOptions = {}): LifecycleEvent {
  const [type, timeField, extra] = PROCUREMENT_EVENT[milestone];
  const data: Record<string, unknown> = { purchaseOrderId: 'po-1', ...extra };
  if (!o.envelopeTime) data[timeField] = time;
  return { source: o.source ?? 'urn:test', id: o.id ?? `p${++counter}`, type, time: o.envelopeTime ? time : undefined, data };
}

/** 2026-01-01T00:00:00Z plus `minutes`. */
export const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1, 0, minutes)).toISOString();
