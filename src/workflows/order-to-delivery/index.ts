/**
 * The order-to-delivery workflow: its definition for the engine (events it listens to, how an
 * event finds its instance, the pure decision, the steps).
 */
import type { StoredEvent } from '../../pipeline/types.ts';
import type { WorkflowDefinition } from '../engine.ts';
import { decideOrderToDelivery, type O2DConfig, type O2DState } from './decide.ts';
import { orderToDeliverySteps, type O2DDeps } from './steps.ts';

export const ORDER_TO_DELIVERY = 'order-to-delivery';

export const DEFAULT_O2D_CONFIG: O2DConfig = {
  ackTimeoutMinutes: 15,
  firstScanHours: 24,
  noteWindowSeconds: 300,
  invoicePolicy: 'on_delivery',
  shortPickPolicy: 'backorder',
};

const EVENT_TYPES = [
  'order.released.v1', 'fulfilment.acknowledged.v1', 'order.picked.v1', 'shipment.packed.v1', 'shipment.booked.v1',
  'shipment.dispatched.v1', 'shipment.tracking.v1', 'shipment.delivered.v1', 'order.invoiced.v1', 'order.cancelled.v1', 'order.updated.v1',
  'shipment.cancelled.v1',
] as const;

const ODOO_SOURCE = /^urn:hub:connector:odoo:/;

/** The workflow; `configFor` gives a tenant's policies (timeouts, invoicing, short picks). */
export function orderToDelivery(configFor: (tenantId: string) => O2DConfig, deps: O2DDeps): WorkflowDefinition<O2DState> {
  return {
    name: ORDER_TO_DELIVERY,
    eventTypes: EVENT_TYPES,
    // only an Odoo release starts an order's way (an order released by hand through the API is someone else's)
    starts: (e: StoredEvent) => e.type === 'order.released.v1' && ODOO_SOURCE.test(e.source),
    instanceOf(e: StoredEvent): string | undefined {
      const d = (e.data ?? {}) as { orderId?: unknown };
      return typeof d.orderId === 'string' ? d.orderId : undefined;
    },
    refsOf(e: StoredEvent): string[] {
      const d = (e.data ?? {}) as Record<string, unknown>;
      return [d.fulfilmentRequestId, d.shipmentId, d.trackingNumber].filter((x): x is string => typeof x === 'string' && x !== '');
    },
    decide: (state, e, now) => decideOrderToDelivery(configFor(e.tenantId), state, e, now),
    steps: orderToDeliverySteps(deps),
  };
}

export type { O2DConfig, O2DState } from './decide.ts';
export type { O2DDeps, TenantBindings, WarehouseBinding } from './steps.ts';
export { CarrierCircuits } from './steps.ts';
