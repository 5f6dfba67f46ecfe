/**
 * Carrier tracking, from scans to the shipment's timeline. A pipeline handler, so each step
 * commits with the event that caused it:
 *
 * - `shipment.booked.v1` registers the tracking number (and each piece's) for polling by the
 *   carrier adapter that booked it (`refs` system `carrier:<adapter>`), or the adapter the
 *   configuration names for the carrier code (a delivery Odoo booked itself).
 * - `carrier.scans.received.v1` (from the poller or a carrier webhook) is folded into the
 *   number's tracking state (src/domain/tracking-fold.ts). What the fold adds becomes
 *   `shipment.tracking.v1` events for the shipment: applied scans, and scans with codes no
 *   table knows (status `unknown`, flagged, never guessed). Duplicates change nothing;
 *   regressions are kept in the state, not emitted. When every piece is delivered,
 *   `shipment.delivered.v1` with the proof of delivery; the number is then closed (no more
 *   polling).
 * Scans pushed before the booking is registered wait in the state and are emitted when it is.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { dataschemaUrl } from '../../domain/catalogue.ts';
import type { EventType } from '../../domain/catalogue.ts';
import type { CarrierScan } from '../../domain/tracking.ts';
import { emptyTracking, foldScans, scanId, type FoldedScan, type TrackingState } from '../../domain/tracking-fold.ts';
import { ingest } from '../../pipeline/inbox.ts';
import type { Handler, IncomingEvent, StoredEvent } from '../../pipeline/types.ts';

export interface TrackingOptions {
  /** per tenant: carrier code (as in shipment.booked.v1 `carrier.carrierCode`) → the adapter that tracks it, for bookings made outside the hub */
  carrierAdapters?: (tenantId: string) => Readonly<Record<string, string>> | undefined;
  /** per tenant: the tracking adapters it has (a number whose adapter is missing is not polled) */
  adapters: (tenantId: string) => readonly string[];
  /** first poll after booking, ms (default 60 s) */
  firstPollMs?: number;
}

const CLOSING = new Set(['delivered', 'cancelled', 'returned_to_sender']);

interface Row {
  shipment_id: string | null;
  order_id: string | null;
  state: TrackingState;
  closed: boolean;
}

const digest = (s: string) => createHash('sha256').update(s).digest('base64url').slice(0, 16);

function adapterOf(tenantId: string, data: Record<string, unknown>, o: TrackingOptions): string | undefined {
  const adapters = o.adapters(tenantId);
  const refs = Array.isArray(data.refs) ? (data.refs as { system: string; id: string }[]) : [];
  const booked = refs.find((r) => r.system.startsWith('carrier:'))?.system.slice('carrier:'.length);
  if (booked && adapters.includes(booked)) return booked;
  const code = (data.carrier as { carrierCode?: string } | undefined)?.carrierCode?.toLowerCase();
  const mapped = code ? o.carrierAdapters?.(tenantId)?.[code] ?? (adapters.includes(code) ? code : undefined) : undefined;
  return mapped && adapters.includes(mapped) ? mapped : undefined;
}

function trackingEvents(tenantId: string, row: { shipment_id: string; order_id: string | null }, state: TrackingState, scans: readonly FoldedScan[], originals: Map<string, CarrierScan>, wasDelivered: boolean): IncomingEvent[] {
  const out: IncomingEvent[] = [];
  const mk = (type: EventType, id: string, data: Record<string, unknown>, at: string): IncomingEvent => ({
    id, source: `urn:hub:tracking:${state.carrier}`, type, specversion: '1.0', subject: row.shipment_id, time: at, occurredAt: at,
    datacontenttype: 'application/json', dataschema: dataschemaUrl(type), data, extensions: { tenant: tenantId }, key: row.shipment_id, tenantId,
  });
  for (const s of scans) {
    if (s.ignored && s.ignored !== 'unknown_code') continue;
    const o = originals.get(s.id);
    const data: Record<string, unknown> = {
      shipmentId: row.shipment_id,
      ...(row.order_id ? { orderId: row.order_id } : {}),
      trackingNumber: state.trackingNumber,
      ...(s.piece !== state.trackingNumber ? { packageId: s.piece.slice(0, 64) } : {}),
      status: s.status,
      carrierStatusCode: s.code.slice(0, 40),
      ...(s.description ? { carrierStatusText: s.description.slice(0, 500) } : {}),
      occurredAt: s.at,
      ...(o?.localTime ? { carrierLocalTime: o.localTime } : {}),
      ...(o?.timeZone ? { timeZone: o.timeZone } : {}),
      ...(s.location ? { location: s.location } : {}),
      ...(s.exceptionClass ? { exceptionClass: s.exceptionClass } : {}),
      ...(s.estimatedDeliveryAt ? { estimatedDeliveryAt: s.estimatedDeliveryAt } : {}),
    };
    out.push(mk('shipment.tracking.v1', `trk:${state.carrier}:${digest(s.id)}`, data, s.at));
  }
  if (state.delivered && !wasDelivered) {
    const d = state.delivered;
    out.push(mk('shipment.delivered.v1', `trk:${state.carrier}:${digest(state.trackingNumber)}:delivered`, {
      shipmentId: row.shipment_id,
      ...(row.order_id ? { orderId: row.order_id } : {}),
      trackingNumber: state.trackingNumber,
      deliveredAt: d.at,
      ...(d.signedBy ? { receivedBy: d.signedBy.slice(0, 200) } : {}),
      packagesDelivered: Math.max(1, state.pieces.length),
      ...(d.podReference ? { refs: [{ system: `carrier:${state.carrier}:pod`, id: d.podReference.slice(0, 200) }] } : {}),
    }, d.at));
  }
  return out;
}

async function lockRow(tx: pg.PoolClient, tenantId: string, carrier: string, tn: string): Promise<Row | undefined> {
  const r = await tx.query<Row>(`select shipment_id, order_id, state, closed from hub_tracking where tenant_id = $1 and carrier = $2 and tracking_number = $3 for update`, [tenantId, carrier, tn]);
  return r.rows[0];
}

export function trackingHandler(o: TrackingOptions): Handler {
  const firstPoll = o.firstPollMs ?? 60_000;
  return {
    name: 'tracking',
    matches: (t) => t === 'shipment.booked.v1' || t === 'carrier.scans.received.v1',
    async handle(ev: StoredEvent, ctx) {
      const data = (ev.data ?? {}) as Record<string, unknown>;
      const now = ctx.clock.now();
      if (ev.type === 'shipment.booked.v1') {
        const carrier = adapterOf(ev.tenantId, data, o);
        if (!carrier) {
          ctx.log.info({ shipmentId: data.shipmentId, carrier: data.carrier }, 'no tracking adapter for this carrier: not tracked');
          return;
        }
        const tn = String(data.trackingNumber);
        // the same number booked through one adapter and echoed by Odoo is tracked once, by the first
        const other = await ctx.tx.query(`select 1 from hub_tracking where tenant_id = $1 and tracking_number = $2 and carrier <> $3 and shipment_id is not null limit 1`, [ev.tenantId, tn, carrier]);
        if (other.rowCount) return;
        const pieces = Array.isArray(data.packages) ? (data.packages as { trackingNumber: string }[]).map((p) => p.trackingNumber).filter((p) => p !== tn) : [];
        const existing = await lockRow(ctx.tx, ev.tenantId, carrier, tn);
        const state = existing?.state ?? emptyTracking(carrier, tn, pieces.length ? [tn, ...pieces] : []);
        await ctx.tx.query(
          `insert into hub_tracking (tenant_id, carrier, tracking_number, shipment_id, order_id, state, status, next_poll_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           on conflict (tenant_id, carrier, tracking_number) do update set shipment_id = excluded.shipment_id, order_id = excluded.order_id, updated_at = excluded.updated_at`,
          [ev.tenantId, carrier, tn, String(data.shipmentId), typeof data.orderId === 'string' ? data.orderId : null, JSON.stringify(state), state.status, new Date(now.getTime() + firstPoll), now],
        );
        // scans that arrived before the booking: now they have a shipment
        if (existing && !existing.shipment_id && existing.state.timeline.length) {
          const events = trackingEvents(ev.tenantId, { shipment_id: String(data.shipmentId), order_id: typeof data.orderId === 'string' ? data.orderId : null }, existing.state, existing.state.timeline, new Map(), false);
          await ingest(ctx.tx, events);
        }
        return;
      }
      // carrier.scans.received.v1
      const carrier = String(data.carrier);
      const tn = String(data.trackingNumber);
      const scans = (data.scans as CarrierScan[]) ?? [];
      const row = await lockRow(ctx.tx, ev.tenantId, carrier, tn);
      const before = row?.state ?? emptyTracking(carrier, tn);
      const r = foldScans(before, scans);
      const closed = CLOSING.has(r.state.status);
      await ctx.tx.query(
        `insert into hub_tracking (tenant_id, carrier, tracking_number, state, status, closed, updated_at) values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (tenant_id, carrier, tracking_number) do update set state = excluded.state, status = excluded.status, closed = excluded.closed, updated_at = excluded.updated_at`,
        [ev.tenantId, carrier, tn, JSON.stringify(r.state), r.state.status, closed, now],
      );
      if (r.regressions.length) ctx.log.info({ carrier, trackingNumber: tn, regressions: r.regressions.map((s) => `${s.code}@${s.at}`) }, 'carrier scans that would move the shipment backwards: kept, not applied');
      if (!row?.shipment_id) return; // not booked through the hub (yet): kept until it is
      const originals = new Map(scans.map((s) => [scanId(s), s])); // valid: the fold refused the call otherwise
      await ingest(ctx.tx, trackingEvents(ev.tenantId, { shipment_id: row.shipment_id, order_id: row.order_id }, r.state, r.added, originals, !!before.delivered));
    },
  };
}

