/**
 * The warehouse port: what the order-to-delivery workflow asks of a warehouse's system,
 * whatever its protocol (a REST API driven by a mapping profile, CSV files over SFTP).
 * What the warehouse reports back (acknowledgement, picks, packs, shipping) arrives as
 * canonical events through the connector's inbound side, not through this port.
 *
 * Every call is idempotent on the fulfilment request id: releasing twice releases once. The
 * WMS knows one order per shipment; adapters send the hub's shipment id as the WMS's order
 * reference, so what the WMS reports comes back under the shipment it is about.
 * A refusal (the WMS cannot cancel a packed order, cannot change the address of a shipped
 * one) is an answer, not an error.
 */
import type { PartyAddress } from '../domain/primitives.ts';
import type { Label } from './carrier-port.ts';

export interface WmsReleaseLine {
  /** the line's id in the release; picks are reported against it */
  orderLineId: string;
  itemId?: string;
  sku: string;
  quantity: number;
  uom: string;
}

export interface WmsRelease {
  fulfilmentRequestId: string;
  orderId: string;
  orderNumber?: string;
  shipmentId: string;
  shipTo: PartyAddress;
  lines: WmsReleaseLine[];
  /** RFC 3339 */
  shipBy?: string;
  serviceLevel?: string;
  priority?: 'standard' | 'expedited' | 'urgent';
}

/** How the hub names an order the WMS holds (the WMS's own id comes from the release). */
export interface WmsOrderRef {
  fulfilmentRequestId: string;
  shipmentId: string;
  orderId: string;
  wmsOrderId: string;
}

export interface WmsLabels {
  carrier: string;
  service: string;
  masterTrackingNumber: string;
  pieces: { packageId: string; trackingNumber: string; label: Label; labelUri: string }[];
}

export interface WmsAnswer {
  ok: boolean;
  /** the WMS's reason when it refused */
  reason?: string;
}

export interface WmsPort {
  /** the warehouse (canonical location id) this WMS ships from */
  readonly warehouseId: string;
  release(r: WmsRelease): Promise<{ wmsOrderId: string }>;
  cancel(ref: WmsOrderRef, reason?: string): Promise<WmsAnswer>;
  updateShipTo(ref: WmsOrderRef, shipTo: PartyAddress): Promise<WmsAnswer>;
  attachLabels(ref: WmsOrderRef, l: WmsLabels): Promise<WmsAnswer>;
  /** stock on hand per SKU (SKUs the WMS does not know: 0) */
  inventory(skus: string[]): Promise<Record<string, number>>;
}
