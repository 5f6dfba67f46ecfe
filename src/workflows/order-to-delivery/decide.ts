/**
 * Order to delivery to invoice: what happens next, given what just happened. Pure: the
 * state and the event in, the decision out (src/workflows/engine.ts writes it).
 *
 * One instance per order (the canonical order id). The path of each part of the order
 * (a fulfilment request to one warehouse, a shipment):
 *
 *   order.released.v1 (Odoo)   → step route (stock per warehouse)
 *   route completed            → step wms.release per part; timer ack; order.split.v1 when
 *                                the order goes to more than one warehouse
 *   fulfilment.acknowledged.v1 → (rejected: exception partner_rejected)
 *   order.picked.v1            → short pick: order.backordered.v1 + exception stock_shortage
 *   shipment.packed.v1         → step carrier.book (rate shopping, fallback, labels)
 *   shipment.booked.v1         → step wms.labels; timers first-scan and delivery promise
 *   shipment.dispatched.v1     → step odoo.validate (carrier, tracking, weight, backorder policy)
 *   shipment.tracking.v1       → step odoo.note (coalesced per shipment and window); exceptions
 *                                raised on delivery problems and resolved on recovery
 *   shipment.delivered.v1      → step odoo.invoice when invoicing on delivery (once per shipment), after
 *                                the part's Odoo validation (run now if the carrier was faster than
 *                                the warehouse's ship confirmation)
 *   order.cancelled.v1         → compensation: wms.cancel for parts not shipped, carrier.void for
 *                                labels not shipped
 *   order.updated.v1           → a corrected address is pushed to the WMS of parts not shipped
 *
 * Events the hub's own Odoo writes bring back through change capture (the delivery Odoo
 * validated, the tracking reference written) are echoes: the workflow ignores shipment events
 * from the Odoo connector.
 */
import type { StoredEvent } from '../../pipeline/types.ts';
import type { Decision, ExceptionRequest, StepRequest } from '../engine.ts';
import type { TrackingStatus, ExceptionClass } from '../../domain/model.ts';

export interface O2DConfig {
  /** minutes a WMS has to acknowledge a release */
  ackTimeoutMinutes: number;
  /** hours after booking without a carrier scan before `missing_scan` */
  firstScanHours: number;
  /** Odoo chatter messages of a shipment are gathered over this window */
  noteWindowSeconds: number;
  invoicePolicy: 'on_delivery' | 'manual';
  shortPickPolicy: 'backorder' | 'cancel';
}

export type PartStatus = 'releasing' | 'acknowledged' | 'picked' | 'packed' | 'booked' | 'shipped' | 'delivered' | 'cancelled';

export interface PartLine {
  /** the Odoo stock.move id the line was released as */
  lineId: string;
  itemId?: string;
  orderLineId: string;
  sku: string;
  quantity: number;
  uom: string;
  picked?: number;
}

export interface Part {
  fulfilmentRequestId: string;
  shipmentId: string;
  warehouseId: string;
  lines: PartLine[];
  status: PartStatus;
  carrier?: { carrierCode: string; service?: string };
  trackingNumber?: string;
  trackingStatus?: TrackingStatus;
  weightKg?: number;
  /** tracking problems currently open, by exception code */
  openProblems?: string[];
  noteWindows?: number[];
  /** Odoo's delivery is validated for this part (its odoo.validate step completed) */
  validated?: boolean;
  /** delivered, invoice waiting for the Odoo validation */
  invoicePending?: boolean;
  invoiced?: boolean;
}

export interface O2DState {
  orderId: string;
  orderNumber?: string;
  /** the Odoo delivery (stock.picking id) the order was released as */
  pickingId?: number;
  request: Record<string, unknown>;
  parts: Part[];
  phase: 'routing' | 'fulfilling' | 'complete' | 'cancelled';
  cancelledAt?: string;
}

const ODOO_SOURCE = /^urn:hub:connector:odoo:/;
const PROBLEM_STATUSES: ReadonlySet<TrackingStatus> = new Set(['delivery_failed', 'exception', 'on_hold', 'returned_to_sender', 'delayed']);
const PROBLEM_CLASS: Partial<Record<TrackingStatus, ExceptionClass>> = {
  delivery_failed: 'delivery_failed',
  exception: 'other',
  on_hold: 'customs_hold',
  returned_to_sender: 'return_to_sender',
  delayed: 'delayed',
};

type D = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function pickingIdOf(data: D): number | undefined {
  const refs = Array.isArray(data.refs) ? (data.refs as { system: string; id: string }[]) : [];
  const r = refs.find((x) => x.system === 'odoo:stock.picking');
  return r ? Number(r.id) : undefined;
}

function partOf(s: O2DState, data: D): Part | undefined {
  const fr = str(data.fulfilmentRequestId);
  const shp = str(data.shipmentId);
  // a WMS knows the shipment id as its order reference and may report it in either field
  const ids = [fr, shp].filter((x): x is string => x !== undefined);
  return s.parts.find((p) => ids.includes(p.fulfilmentRequestId) || ids.includes(p.shipmentId));
}

function withPart(s: O2DState, part: Part, change: Partial<Part>): O2DState {
  return { ...s, parts: s.parts.map((p) => (p === part ? { ...p, ...change } : p)) };
}

const SHIPPED: ReadonlySet<PartStatus> = new Set(['shipped', 'delivered']);
const PART_RANK: Record<PartStatus, number> = { releasing: 0, acknowledged: 1, picked: 2, packed: 3, booked: 4, shipped: 5, delivered: 6, cancelled: 7 };
/** A part's status only moves forward: a WMS webhook arriving late (picks after the pack) does not move it back. */
const forward = (cur: PartStatus, next: PartStatus): PartStatus => (PART_RANK[next] > PART_RANK[cur] ? next : cur);

/** The workflow's decision for one event. */
export function decideOrderToDelivery(cfg: O2DConfig, state: O2DState | undefined, ev: StoredEvent, now: Date): Decision<O2DState> {
  const data = (ev.data ?? {}) as D;

  if (ev.type === 'order.released.v1') {
    if (state) return { state }; // a backorder Odoo created for what we could not ship: it stays with Odoo
    const orderId = String(data.orderId);
    const s: O2DState = {
      orderId, orderNumber: str(data.orderNumber), pickingId: pickingIdOf(data), request: data, parts: [], phase: 'routing',
    };
    return { state: s, steps: [{ name: 'route', key: `route:${String(data.fulfilmentRequestId)}`, input: { request: data } }] };
  }
  if (!state) return { state: state as unknown as O2DState };
  if (state.phase === 'cancelled' && ev.type !== 'shipment.cancelled.v1') return { state };

  if (ev.type === 'hub.step.completed.v1' && data.step === 'route') {
    if (state.parts.length) return { state };
    const routed = (data.output ?? {}) as D;
    const req = state.request;
    const reqLines = (req.lines as { lineId: string; orderLineId?: string; itemId?: string; sku: string; uom: string }[]) ?? [];
    const parts: Part[] = (routed.parts as { fulfilmentRequestId: string; warehouseId: string; lines: { orderLineId: string; quantity: number }[] }[]).map((p, i) => ({
      fulfilmentRequestId: p.fulfilmentRequestId,
      shipmentId: i === 0 && state.pickingId !== undefined ? `shp-${state.pickingId}` : `shp-${p.fulfilmentRequestId.replace(/^ful-/, '')}`,
      warehouseId: p.warehouseId,
      status: 'releasing',
      lines: p.lines.map((l) => {
        const rl = reqLines.find((x) => x.lineId === l.orderLineId)!;
        return { lineId: rl.lineId, orderLineId: rl.orderLineId ?? rl.lineId, ...(rl.itemId ? { itemId: rl.itemId } : {}), sku: rl.sku, uom: rl.uom, quantity: l.quantity };
      }),
    }));
    const steps: StepRequest[] = parts.map((p) => ({
      name: 'wms.release',
      key: `wms.release:${p.fulfilmentRequestId}`,
      input: {
        warehouseId: p.warehouseId,
        release: {
          fulfilmentRequestId: p.fulfilmentRequestId, orderId: state.orderId, orderNumber: state.orderNumber, shipmentId: p.shipmentId,
          shipTo: req.shipTo, shipBy: req.shipBy, priority: req.priority ?? 'standard',
          lines: p.lines.map((l) => ({ orderLineId: l.lineId, ...(l.itemId ? { itemId: l.itemId } : {}), sku: l.sku, quantity: l.quantity, uom: l.uom })),
        },
      },
    }));
    const d: Decision<O2DState> = {
      state: { ...state, parts, phase: 'fulfilling' },
      refs: parts.flatMap((p) => [p.fulfilmentRequestId, p.shipmentId]),
      steps,
      timers: parts.map((p) => ({ name: `ack:${p.fulfilmentRequestId}`, dueAt: new Date(now.getTime() + cfg.ackTimeoutMinutes * 60_000), payload: { fulfilmentRequestId: p.fulfilmentRequestId } })),
    };
    if (parts.length > 1) {
      d.emit = [{
        type: 'order.split.v1', dedupe: 'route',
        data: {
          orderId: state.orderId, splitAt: now.toISOString(), ...(typeof routed.reason === 'string' ? { reason: routed.reason.slice(0, 1000) } : {}),
          parts: parts.map((p) => ({ fulfilmentRequestId: p.fulfilmentRequestId, warehouseId: p.warehouseId, lines: p.lines.map((l) => ({ orderLineId: l.orderLineId, quantity: l.quantity })) })),
        },
      }];
    }
    return d;
  }

  if (ev.type === 'hub.step.completed.v1' && data.step === 'odoo.validate') {
    const shipmentId = String(data.stepKey).slice('odoo.validate:'.length);
    const part = state.parts.find((p) => p.shipmentId === shipmentId);
    if (!part || part.validated) return { state };
    const next = withPart(state, part, { validated: true, invoicePending: false });
    return part.invoicePending && !part.invoiced ? { state: next, steps: [invoiceStep(state, part)] } : { state: next };
  }
  if (ev.type === 'hub.timer.fired.v1') return onTimer(cfg, state, data);

  if (ev.type === 'order.cancelled.v1') return onCancelled(state, now);
  if (ev.type === 'order.updated.v1') return onUpdated(state, data);
  if (ev.type === 'order.invoiced.v1') {
    if (ODOO_SOURCE.test(ev.source)) return { state };
    const shipments = Array.isArray(data.refs) ? (data.refs as { system: string; id: string }[]).filter((r) => r.system === 'hub:shipment').map((r) => r.id) : [];
    const next = { ...state, parts: state.parts.map((p) => (shipments.includes(p.shipmentId) ? { ...p, invoiced: true } : p)) };
    const done = next.parts.every((p) => p.status === 'cancelled' || (p.status === 'delivered' && p.invoiced));
    return done ? { state: { ...next, phase: 'complete' }, status: 'completed' } : { state: next };
  }

  // shipment and fulfilment events: ours, not Odoo's echoes
  if (ODOO_SOURCE.test(ev.source)) return { state };
  const part = partOf(state, data);
  if (!part) return { state };

  switch (ev.type) {
    case 'fulfilment.acknowledged.v1': {
      const ok = data.status === 'accepted';
      const d: Decision<O2DState> = {
        state: withPart(state, part, ok ? { status: forward(part.status, 'acknowledged') } : {}),
        cancelTimers: [`ack:${part.fulfilmentRequestId}`],
        resolve: [{ code: `no_ack:${part.fulfilmentRequestId}`, resolution: 'the warehouse acknowledged' }],
      };
      if (!ok) {
        d.exceptions = [{ exceptionClass: 'partner_rejected', code: `wms_rejected:${part.fulfilmentRequestId}`, message: `${part.warehouseId} rejected the release: ${str(data.reason) ?? 'no reason given'}`, subject: { entity: 'shipment', id: part.shipmentId } }];
      }
      return d;
    }
    case 'order.picked.v1': {
      const picked = new Map<string, number>();
      for (const l of (data.lines as { orderLineId?: string; sku: string; quantity: number }[]) ?? []) {
        const line = part.lines.find((x) => x.lineId === l.orderLineId || (!l.orderLineId && x.sku === l.sku));
        if (line) picked.set(line.lineId, (picked.get(line.lineId) ?? 0) + l.quantity);
      }
      const lines = part.lines.map((l) => ({ ...l, picked: picked.get(l.lineId) ?? 0 }));
      const short = lines.filter((l) => (l.picked ?? 0) < l.quantity);
      const d: Decision<O2DState> = { state: withPart(state, part, { lines, status: forward(part.status, 'picked') }) };
      if (short.length) {
        d.emit = [{
          type: 'order.backordered.v1', dedupe: `short:${part.fulfilmentRequestId}`,
          data: {
            orderId: state.orderId, fulfilmentRequestId: part.fulfilmentRequestId, backorderedAt: String(data.pickedAt ?? now.toISOString()),
            lines: short.map((l) => ({ orderLineId: l.orderLineId, sku: l.sku, quantity: Math.round((l.quantity - (l.picked ?? 0)) * 1e6) / 1e6, uom: l.uom })),
          },
        }];
        d.exceptions = [{
          exceptionClass: 'stock_shortage', code: `short_pick:${part.fulfilmentRequestId}`,
          message: `${part.warehouseId} picked short: ${short.map((l) => `${l.sku} ${l.picked ?? 0} of ${l.quantity}`).join(', ')}; the rest is ${cfg.shortPickPolicy === 'backorder' ? 'backordered in Odoo' : 'cancelled in Odoo'}`,
          subject: { entity: 'order', id: state.orderId },
          details: { policy: cfg.shortPickPolicy },
        }];
      }
      return d;
    }
    case 'shipment.packed.v1': {
      if (part.status === 'packed' || part.status === 'booked' || SHIPPED.has(part.status)) return { state };
      const packages = (data.packages as { packageId: string; weight: { value: number; unit: string }; dimensions?: unknown }[]) ?? [];
      const weightKg = packages.reduce((n, p) => n + toKg(p.weight), 0);
      return {
        state: withPart(state, part, { status: 'packed', weightKg: Math.round(weightKg * 1000) / 1000 }),
        steps: [{
          name: 'carrier.book', key: `carrier.book:${part.shipmentId}`,
          input: { orderId: state.orderId, shipmentId: part.shipmentId, warehouseId: part.warehouseId, shipTo: state.request.shipTo, deliverBy: state.request.deliverBy, carrier: state.request.carrier, packages },
        }],
      };
    }
    case 'shipment.booked.v1': {
      const carrier = data.carrier as Part['carrier'];
      const trackingNumber = String(data.trackingNumber);
      const pieces = Array.isArray(data.packages) ? (data.packages as { trackingNumber: string }[]).map((p) => p.trackingNumber) : [];
      const d: Decision<O2DState> = {
        state: withPart(state, part, { status: forward(part.status, 'booked'), carrier, trackingNumber }),
        refs: [...new Set([trackingNumber, ...pieces])],
        steps: [{ name: 'wms.labels', key: `wms.labels:${part.shipmentId}:${trackingNumber}`, input: { warehouseId: part.warehouseId, fulfilmentRequestId: part.fulfilmentRequestId, shipmentId: part.shipmentId, trackingNumber } }],
        timers: [{ name: `first-scan:${part.shipmentId}`, dueAt: new Date(now.getTime() + cfg.firstScanHours * 3_600_000), payload: { shipmentId: part.shipmentId } }],
      };
      const deliverBy = str(state.request.deliverBy);
      if (deliverBy) d.timers!.push({ name: `promise:${part.shipmentId}`, dueAt: new Date(deliverBy), payload: { shipmentId: part.shipmentId } });
      return d;
    }
    case 'shipment.dispatched.v1': {
      if (SHIPPED.has(part.status)) return { state };
      return { state: withPart(state, part, { status: 'shipped' }), steps: [validateStep(cfg, state, part, str(data.trackingNumber))] };
    }
    case 'shipment.tracking.v1':
      return onTracking(cfg, state, part, data, now);
    case 'shipment.delivered.v1': {
      if (part.status === 'delivered') return { state };
      const d: Decision<O2DState> = {
        state: withPart(state, part, { status: 'delivered', trackingStatus: 'delivered', openProblems: [] }),
        cancelTimers: [`promise:${part.shipmentId}`, `first-scan:${part.shipmentId}`],
        resolve: (part.openProblems ?? []).map((code) => ({ code, resolution: 'delivered' })),
        steps: [],
      };
      // the carrier delivered before the warehouse's ship confirmation reached Odoo: the delivery proves the shipment
      if (part.status !== 'shipped') d.steps!.push(validateStep(cfg, state, part));
      const invoice = cfg.invoicePolicy === 'on_delivery' && !part.invoiced;
      if (invoice && part.validated) d.steps!.push(invoiceStep(state, part));
      else if (invoice) d.state = withPart(d.state, d.state.parts.find((p) => p.shipmentId === part.shipmentId)!, { invoicePending: true });
      return d;
    }
    case 'shipment.cancelled.v1':
      return { state: withPart(state, part, { status: 'cancelled' }) };
    default:
      return { state };
  }
}

/** The Odoo validation of a part: its shipped quantities, tracking, carrier and weight. */
function validateStep(cfg: O2DConfig, state: O2DState, part: Part, trackingNumber?: string): StepRequest {
  // parts still to ship keep their quantities on a backorder; the policy decides for the last one
  const last = state.parts.every((p) => p === part || SHIPPED.has(p.status) || p.status === 'cancelled');
  return {
    name: 'odoo.validate', key: `odoo.validate:${part.shipmentId}`,
    input: {
      pickingId: state.pickingId, orderNumber: state.orderNumber, shipmentId: part.shipmentId,
      remainder: last ? cfg.shortPickPolicy : 'backorder',
      trackingRef: part.trackingNumber ?? trackingNumber, carrierName: part.carrier?.carrierCode, weightKg: part.weightKg,
      lines: part.lines.map((l) => ({ moveId: Number(l.lineId), itemId: l.itemId, sku: l.sku, quantity: l.picked ?? l.quantity })),
    },
  };
}

function invoiceStep(state: O2DState, part: Part): StepRequest {
  return { name: 'odoo.invoice', key: `odoo.invoice:${part.shipmentId}`, input: { orderNumber: state.orderNumber, orderId: state.orderId, shipmentId: part.shipmentId } };
}

function toKg(w: { value: number; unit: string } | undefined): number {
  if (!w) return 0;
  return w.unit === 'kg' ? w.value : w.unit === 'g' ? w.value / 1000 : w.unit === 'lb' ? w.value * 0.45359237 : w.unit === 'oz' ? w.value * 0.028349523 : 0;
}

function onTimer(cfg: O2DConfig, s: O2DState, data: D): Decision<O2DState> {
  const name = String(data.name ?? '');
  const [kind, id] = [name.slice(0, name.indexOf(':')), name.slice(name.indexOf(':') + 1)];
  const part = s.parts.find((p) => p.fulfilmentRequestId === id || p.shipmentId === id);
  if (!part || part.status === 'cancelled') return { state: s };
  const raise = (x: ExceptionRequest): Decision<O2DState> => ({ state: s, exceptions: [x] });
  if (kind === 'ack' && part.status === 'releasing') {
    return raise({ exceptionClass: 'missing_ack', code: `no_ack:${part.fulfilmentRequestId}`, message: `${part.warehouseId} has not acknowledged the release within ${cfg.ackTimeoutMinutes} minutes`, subject: { entity: 'shipment', id: part.shipmentId } });
  }
  if (kind === 'first-scan' && !part.trackingStatus) {
    return raise({ exceptionClass: 'missing_scan', code: `no_scan:${part.shipmentId}`, message: `no carrier scan for ${part.trackingNumber ?? part.shipmentId} ${cfg.firstScanHours} h after the label`, subject: { entity: 'shipment', id: part.shipmentId } });
  }
  if (kind === 'promise' && part.status !== 'delivered') {
    return raise({ exceptionClass: 'eta_breached', code: `late:${part.shipmentId}`, message: `${part.shipmentId} is not delivered by the promised ${String(s.request.deliverBy)}`, subject: { entity: 'shipment', id: part.shipmentId } });
  }
  return { state: s };
}

function onCancelled(s: O2DState, now: Date): Decision<O2DState> {
  const steps: StepRequest[] = [];
  for (const p of s.parts) {
    if (SHIPPED.has(p.status) || p.status === 'cancelled') continue;
    steps.push({ name: 'wms.cancel', key: `wms.cancel:${p.fulfilmentRequestId}`, input: { warehouseId: p.warehouseId, fulfilmentRequestId: p.fulfilmentRequestId, shipmentId: p.shipmentId, orderId: s.orderId } });
    if (p.status === 'booked' && p.trackingNumber) {
      steps.push({ name: 'carrier.void', key: `carrier.void:${p.shipmentId}`, input: { shipmentId: p.shipmentId, orderId: s.orderId } });
    }
  }
  const pending = s.parts.filter((p) => !SHIPPED.has(p.status)).flatMap((p) => [`carrier.book:${p.shipmentId}`, `wms.release:${p.fulfilmentRequestId}`]);
  return {
    state: { ...s, phase: 'cancelled', cancelledAt: now.toISOString() },
    status: s.parts.some((p) => SHIPPED.has(p.status)) ? 'running' : 'cancelled',
    steps,
    cancelSteps: pending,
    cancelTimers: s.parts.flatMap((p) => [`ack:${p.fulfilmentRequestId}`, `first-scan:${p.shipmentId}`, `promise:${p.shipmentId}`]),
  };
}

function sameAddress(a: unknown, b: unknown): boolean {
  return JSON.stringify((a as D | undefined)?.address ?? null) === JSON.stringify((b as D | undefined)?.address ?? null);
}

function onUpdated(s: O2DState, data: D): Decision<O2DState> {
  const shipTo = data.shipTo;
  if (!shipTo || sameAddress(shipTo, s.request.shipTo)) return { state: s };
  const version = JSON.stringify((shipTo as D).address).length.toString(36) + ':' + hash(JSON.stringify((shipTo as D).address));
  const steps: StepRequest[] = [];
  const exceptions: ExceptionRequest[] = [];
  for (const p of s.parts) {
    if (p.status === 'cancelled') continue;
    if (SHIPPED.has(p.status)) {
      exceptions.push({ exceptionClass: 'address_issue', code: `address_after_ship:${p.shipmentId}`, message: `the delivery address changed after ${p.shipmentId} left the warehouse; ask ${p.carrier?.carrierCode ?? 'the carrier'} to redirect it`, subject: { entity: 'shipment', id: p.shipmentId } });
      continue;
    }
    steps.push({ name: 'wms.ship_to', key: `wms.ship_to:${p.fulfilmentRequestId}:${version}`, input: { warehouseId: p.warehouseId, fulfilmentRequestId: p.fulfilmentRequestId, shipmentId: p.shipmentId, shipTo } });
  }
  return { state: { ...s, request: { ...s.request, shipTo } }, steps, exceptions };
}

function hash(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0).toString(36);
}

function onTracking(cfg: O2DConfig, s: O2DState, part: Part, data: D, now: Date): Decision<O2DState> {
  const status = data.status as TrackingStatus;
  const d: Decision<O2DState> = { state: s, cancelTimers: [`first-scan:${part.shipmentId}`], resolve: [{ code: `no_scan:${part.shipmentId}`, resolution: 'the carrier scanned the parcel' }] };
  let open = [...(part.openProblems ?? [])];
  if (PROBLEM_STATUSES.has(status)) {
    const cls = (data.exceptionClass as ExceptionClass | undefined) ?? PROBLEM_CLASS[status] ?? 'other';
    const code = `tracking:${part.shipmentId}:${cls}`;
    if (!open.includes(code)) open.push(code);
    d.exceptions = [{ exceptionClass: cls, code, message: `${part.trackingNumber ?? part.shipmentId}: ${str(data.carrierStatusText) ?? status}`, subject: { entity: 'shipment', id: part.shipmentId }, details: { carrierStatusCode: data.carrierStatusCode, trackingStatus: status } }];
  } else if (status !== 'unknown' && status !== 'pending' && open.length) {
    d.resolve!.push(...open.map((code) => ({ code, resolution: `recovered: ${status}` })));
    open = [];
  }
  const window = Math.floor(now.getTime() / (cfg.noteWindowSeconds * 1000));
  const windows = part.noteWindows ?? [];
  if (!windows.includes(window)) {
    d.steps = [{
      name: 'odoo.note', key: `odoo.note:${part.shipmentId}:${window}`,
      input: { pickingId: part.shipmentId === `shp-${s.pickingId}` ? s.pickingId : undefined, orderNumber: s.orderNumber, shipmentId: part.shipmentId },
      runAt: new Date((window + 1) * cfg.noteWindowSeconds * 1000),
    }];
  }
  d.state = withPart(s, part, { trackingStatus: status === 'unknown' ? part.trackingStatus : status, openProblems: open, noteWindows: [...windows, window].slice(-20) });
  return d;
}
