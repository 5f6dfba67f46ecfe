/**
 * The warehouse port (src/connectors/wms-port.ts) over the profile-driven WMS connector: the
 * workflow's calls become the profile's operations. The WMS order reference is the hub's
 * shipment id (one WMS order per shipment), so the WMS's acknowledgements, picks, packs and
 * shipping come back under the shipment they are about. A refusal in the order's current state
 * (HTTP 409/422: cancel after packing, address change after shipping) is an answer, not an error.
 */
import { HubError } from '../../domain/errors.ts';
import type { PartyAddress } from '../../domain/primitives.ts';
import type { Clock } from '../../platform/clock.ts';
import type { WmsAnswer, WmsLabels, WmsOrderRef, WmsPort, WmsRelease } from '../wms-port.ts';
import type { WmsConnector } from './index.ts';

async function answer(call: () => Promise<unknown>): Promise<WmsAnswer> {
  try {
    await call();
    return { ok: true };
  } catch (e) {
    if (e instanceof HubError && e.errorClass === 'business') return { ok: false, reason: e.message };
    throw e;
  }
}

export function wmsPort(warehouseId: string, wms: WmsConnector, clock: Clock): WmsPort {
  return {
    warehouseId,
    async release(r: WmsRelease) {
      const res = await wms.release({
        fulfilmentRequestId: r.shipmentId,
        refs: [{ system: 'hub:fulfilment-request', id: r.fulfilmentRequestId }],
        orderId: r.orderId,
        ...(r.orderNumber ? { orderNumber: r.orderNumber } : {}),
        warehouseId,
        releasedAt: clock.now().toISOString(),
        ...(r.shipBy ? { shipBy: r.shipBy } : {}),
        ...(r.priority ? { priority: r.priority } : {}),
        shipTo: r.shipTo,
        lines: r.lines.map((l) => ({ lineId: l.orderLineId, orderLineId: l.orderLineId, itemId: l.itemId ?? `itm-${l.sku}`.slice(0, 128), sku: l.sku, quantity: l.quantity, uom: l.uom })),
      } as never);
      const out = res.result as { wmsOrderId?: string };
      if (!out?.wmsOrderId) throw new HubError({ code: 'wms.no_order_id', errorClass: 'permanent', message: `the WMS answered the release of ${r.shipmentId} without an order id` });
      return { wmsOrderId: out.wmsOrderId };
    },
    cancel: (ref: WmsOrderRef, reason?: string) =>
      answer(() => wms.cancel({ wmsOrderId: ref.wmsOrderId, orderId: ref.orderId, fulfilmentRequestId: ref.shipmentId, ...(reason ? { reason } : {}) })),
    updateShipTo: (ref: WmsOrderRef, shipTo: PartyAddress) =>
      answer(() => wms.updateShipTo({ wmsOrderId: ref.wmsOrderId, orderId: ref.orderId, fulfilmentRequestId: ref.shipmentId, shipTo })),
    attachLabels: (ref: WmsOrderRef, l: WmsLabels) =>
      answer(() =>
        wms.attachLabels({
          wmsOrderId: ref.wmsOrderId, orderId: ref.orderId, shipmentId: ref.shipmentId, fulfilmentRequestId: ref.shipmentId,
          carrier: { carrierCode: l.carrier.toLowerCase().replace(/[^a-z0-9_.-]+/g, '_').slice(0, 40), service: l.service.slice(0, 60) },
          trackingNumber: l.masterTrackingNumber,
          packages: l.pieces.map((p) => ({ packageId: p.packageId, trackingNumber: p.trackingNumber })),
          labels: l.pieces.map((p) => ({ packageId: p.packageId, format: p.label.format === 'PDF' ? 'pdf' : 'zpl', uri: p.labelUri })),
        }),
      ),
    async inventory(skus: string[]) {
      const res = await wms.getInventory({ skus, warehouseId });
      const items = (Array.isArray(res.result) ? res.result : []) as { sku: string; available?: number; onHand?: number }[];
      const out: Record<string, number> = Object.fromEntries(skus.map((s) => [s, 0]));
      for (const i of items) if (i.sku in out) out[i.sku] = Math.max(0, Number(i.available ?? i.onHand ?? 0));
      return out;
    },
  };
}
