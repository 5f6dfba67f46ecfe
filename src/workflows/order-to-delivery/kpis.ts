/**
 * Business KPIs of the order flow and the partners' service levels (SLA adherence), read from
 * the tables the flow writes, and the same KPIs observed as Prometheus histograms while the
 * hub runs.
 *
 * The milestones of one shipment (a part of an order: one fulfilment request, one shipment),
 * each the occurrence time (`occurred_at`: the partner's own time field) of the first event
 * that states it:
 *
 *   released        order.released.v1 of the order from Odoo (the hub receives the order)
 *   wmsReleased     the step wms.release of the part completed (hub.step.completed.v1)
 *   acknowledged    fulfilment.acknowledged.v1 of the part from its WMS or 3PL
 *   dispatched      shipment.dispatched.v1 of the shipment from the WMS/3PL (ship confirmation);
 *                   Odoo's echo of its own validated delivery is not a dispatch
 *   delivered       shipment.delivered.v1 of the shipment (the carrier's proof-of-delivery scan)
 *   confirmedInOdoo the step odoo.validate of the shipment completed, else the delivery's done
 *                   state as change capture reports it (shipment.dispatched.v1 from Odoo)
 *   invoiced        the step odoo.invoice of the shipment completed (the invoice is posted)
 *   promised        the order's deliverBy when it has one, else the estimated delivery date of
 *                   the quote of record (carrier.book output), until the end of that day (UTC)
 *
 * The KPIs, one sample per shipment, placed in time by the milestone that ends it:
 *
 *   orderToDispatch          released → dispatched
 *   dispatchToDelivery       dispatched → delivered
 *   deliveryConfirmationLag  the first physical evidence (dispatched, or delivered when the
 *                            carrier was faster than the ship confirmation) → confirmedInOdoo:
 *                            how far Odoo's record of the delivery trails the warehouse
 *   podToInvoice             delivered → invoiced
 *
 * A negative interval (partners' clocks disagree) counts as 0. Percentiles are computed in code
 * with the definition of PostgreSQL's percentile_cont (linear interpolation between the two
 * closest ranks), from the samples whose end lies in the window [from, to).
 *
 * SLA adherence, per partner (a warehouse by its location id, a carrier by its carrier code, and
 * `odoo`), with targets from `kpis.sla` (docs/configuration.md):
 *
 *   wms_ack                the warehouse acknowledged within wmsAckMinutes of wmsReleased
 *   ship_confirmation      the warehouse confirmed the shipment within shipConfirmationHours of wmsReleased
 *   on_time                the carrier delivered by the promised date
 *   delivery_confirmation  Odoo's delivery was validated within deliveryConfirmationMinutes of the
 *                          first physical evidence
 *   invoice                the invoice was posted within invoiceHours of the delivery (invoicing on delivery)
 *
 * An item belongs to the window by the time its clock starts (on_time: by its delivery, or by its
 * promised date when it was not delivered); it is measured once it ended, or once its deadline
 * passed without the end (a breach). adherence = (measured − breaches) / measured.
 *
 * The Prometheus histograms are observed by the running hub once per milestone: the workflow's
 * decision (pure) is compared with the state before it, the milestones it reached are held until
 * the worker's transaction committed (its processing history says `done` or `replayed` for that
 * event, attempt and worker), then observed. A duplicated or redelivered event changes no state
 * and so observes nothing; a rolled-back attempt observes nothing. SLA breaches are counted at the
 * milestone that ends a late item (an item that never ends shows as an exception instead:
 * missing_ack, missing_scan, eta_breached).
 */
import type pg from 'pg';
import { Type, type Static } from '@sinclair/typebox';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { Handler, StoredEvent } from '../../pipeline/types.ts';
import type { WorkflowDefinition } from '../engine.ts';
import type { O2DState, Part } from './decide.ts';

// ------------------------------------------------------------------ configuration

const Target = (o: { default: number; description: string }) => Type.Number({ exclusiveMinimum: 0, ...o });

const SlaTargetsOverride = Type.Object(
  {
    wmsAckMinutes: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    shipConfirmationHours: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    deliveryConfirmationMinutes: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    invoiceHours: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: false },
);

export const KpiConfigSchema = Type.Object(
  {
    sla: Type.Object(
      {
        wmsAckMinutes: Target({ default: 15, description: 'A warehouse (WMS or 3PL) acknowledges a release within this many minutes.' }),
        shipConfirmationHours: Target({ default: 24, description: 'A warehouse confirms the shipment (ship confirmation) within this many hours of the release.' }),
        deliveryConfirmationMinutes: Target({ default: 60, description: "Odoo's delivery is validated within this many minutes of the ship confirmation (or of the delivery, when the carrier was first)." }),
        invoiceHours: Target({ default: 24, description: 'The Odoo invoice is posted within this many hours of the proof of delivery (invoicePolicy on_delivery).' }),
        partners: Type.Record(Type.String({ minLength: 1 }), SlaTargetsOverride, {
          default: {},
          description: 'Targets of one partner that differ from the above, by partner: a warehouse id (loc-east), a carrier code (ups), or odoo.',
        }),
      },
      { default: {}, additionalProperties: false, description: 'Service levels partners are measured against (carriers: the promised delivery date).' },
    ),
  },
  { default: {}, additionalProperties: false, description: 'Business KPIs and partner service levels.' },
);
export type KpiConfig = Static<typeof KpiConfigSchema>;
export type SlaConfig = KpiConfig['sla'];

export const DEFAULT_SLA: SlaConfig = { wmsAckMinutes: 15, shipConfirmationHours: 24, deliveryConfirmationMinutes: 60, invoiceHours: 24, partners: {} };

// ------------------------------------------------------------------ the report

export interface KpiWindow {
  from: Date;
  to: Date;
}

export type KpiName = 'orderToDispatch' | 'dispatchToDelivery' | 'deliveryConfirmationLag' | 'podToInvoice';

export interface KpiSeries {
  name: KpiName;
  label: string;
  unit: 'seconds';
  count: number;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  points: Array<{ at: string; count: number; p50: number | null; p90: number | null }>;
}

export interface KpiReport {
  window: { from: string; to: string; bucketSeconds: number };
  series: KpiSeries[];
  exceptionsByClass: Array<{ class: string; open: number; total: number }>;
  /** deliveries in the window by carrier; rate = onTime / (onTime + late), deliveries without a promised date are neither */
  carrierOnTime: Array<{ carrier: string; delivered: number; onTime: number; late: number; rate: number | null }>;
  sla: Array<{ partner: string; kind: SlaKind; target: string; measured: number; breaches: number; adherence: number | null }>;
}

export type SlaKind = 'wms_ack' | 'ship_confirmation' | 'on_time' | 'delivery_confirmation' | 'invoice';

export const KPI_LABELS: Record<KpiName, string> = {
  orderToDispatch: 'Order to dispatch',
  dispatchToDelivery: 'Dispatch to delivery',
  deliveryConfirmationLag: 'Delivery confirmation lag (Odoo)',
  podToInvoice: 'Proof of delivery to invoice',
};

// ------------------------------------------------------------------ pure helpers

/** percentile_cont(p) of ascending `sorted` (PostgreSQL's definition); null when empty. */
export function percentile(sorted: readonly number[], p: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const pos = Math.min(1, Math.max(0, p)) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

const BUCKETS = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 7 * 86_400];
const MAX_POINTS = 30;

/** The bucket size of a window: the smallest of 1 min, 5 min, 15 min, 30 min, 1 h, 3 h, 6 h, 12 h, 1 d, 7 d (then multiples of 7 d) giving at most 30 buckets. */
export function bucketSecondsFor(w: KpiWindow): number {
  const span = Math.max(1, (w.to.getTime() - w.from.getTime()) / 1000);
  for (const b of BUCKETS) if (span / b <= MAX_POINTS) return b;
  return Math.ceil(span / MAX_POINTS / (7 * 86_400)) * 7 * 86_400;
}

export interface Sample {
  /** epoch ms of the milestone that ends it */
  at: number;
  seconds: number;
}

const round = (x: number | null): number | null => (x === null ? null : Math.round(x * 1000) / 1000);

/**
 * Summary and buckets of samples over a window: samples outside [from, to) are ignored; buckets
 * start at multiples of `bucketSeconds` since the epoch (UTC), from the one holding `from` to the
 * one holding the last instant before `to`; an empty bucket has count 0 and null percentiles.
 */
export function summarize(samples: readonly Sample[], w: KpiWindow, bucketSeconds: number): Omit<KpiSeries, 'name' | 'label' | 'unit'> {
  const from = w.from.getTime();
  const to = w.to.getTime();
  const size = bucketSeconds * 1000;
  const start = Math.floor(from / size) * size;
  const n = to > from ? Math.floor((to - 1 - start) / size) + 1 : 0;
  const buckets: number[][] = Array.from({ length: n }, () => []);
  const all: number[] = [];
  for (const s of samples) {
    if (s.at < from || s.at >= to) continue;
    all.push(s.seconds);
    buckets[Math.floor((s.at - start) / size)]!.push(s.seconds);
  }
  const asc = (a: number, b: number) => a - b;
  all.sort(asc);
  return {
    count: all.length,
    p50: round(percentile(all, 0.5)),
    p90: round(percentile(all, 0.9)),
    p95: round(percentile(all, 0.95)),
    p99: round(percentile(all, 0.99)),
    points: buckets.map((b, i) => {
      b.sort(asc);
      return { at: new Date(start + i * size).toISOString(), count: b.length, p50: round(percentile(b, 0.5)), p90: round(percentile(b, 0.9)) };
    }),
  };
}

// ------------------------------------------------------------------ milestones

/** One shipment of an order with its milestone times (epoch ms, null when not reached). */
export interface ShipmentMilestones {
  orderId: string;
  shipmentId: string;
  fulfilmentRequestId: string;
  warehouse: string;
  carrier: string;
  status: string;
  released: number | null;
  wmsReleased: number | null;
  acknowledged: number | null;
  dispatched: number | null;
  delivered: number | null;
  confirmedInOdoo: number | null;
  invoiced: number | null;
  /** the instant after which a delivery is late */
  promised: number | null;
}

const ODOO_SOURCE_LIKE = 'urn:hub:connector:odoo:%';
const WORKFLOW = 'order-to-delivery';

/**
 * The milestones of the shipments of the tenant's orders: of every order whose workflow changed
 * since `since` (a milestone stated more than a day ahead of the hub's clock may be missed), or
 * of one order.
 */
export async function loadMilestones(db: pg.Pool | pg.PoolClient, tenantId: string, which: { since: Date } | { orderId: string }): Promise<ShipmentMilestones[]> {
  const filter = 'since' in which ? `w.updated_at >= $2::timestamptz - interval '1 day'` : `w.instance = $2`;
  const r = await db.query<Record<string, unknown>>(
    `with parts as (
       select w.tenant_id, w.workflow, w.instance, w.state->'request'->>'deliverBy' as deliver_by,
              p->>'shipmentId' as shipment_id, p->>'fulfilmentRequestId' as fr_id, p->>'warehouseId' as warehouse,
              coalesce(p->'carrier'->>'carrierCode', 'unknown') as carrier, p->>'status' as status
       from hub_workflows w cross join lateral jsonb_array_elements(coalesce(w.state->'parts', '[]'::jsonb)) p
       where w.tenant_id = $1 and w.workflow = '${WORKFLOW}' and ${filter})
     select parts.instance as order_id, parts.shipment_id, parts.fr_id, parts.warehouse, parts.carrier, parts.status, parts.deliver_by,
            o.released, o.wms_released, o.acknowledged, o.validated, o.invoiced,
            s.dispatched, s.delivered, s.odoo_done,
            (select st.output->'quoteOfRecord'->>'estimatedDeliveryDate' from hub_workflow_steps st
              where st.tenant_id = parts.tenant_id and st.workflow = parts.workflow and st.instance = parts.instance
                and st.step_key = 'carrier.book:' || parts.shipment_id and st.status = 'done') as quoted_date
     from parts
     left join lateral (
       select min(coalesce(e.occurred_at, e.received_at)) filter (where e.type = 'order.released.v1' and e.source like '${ODOO_SOURCE_LIKE}') as released,
              min(coalesce(e.occurred_at, e.received_at)) filter (where e.type = 'hub.step.completed.v1' and e.data->>'stepKey' = 'wms.release:' || parts.fr_id) as wms_released,
              min(coalesce(e.occurred_at, e.received_at)) filter (where e.type = 'fulfilment.acknowledged.v1' and e.source not like '${ODOO_SOURCE_LIKE}'
                and (e.data->>'fulfilmentRequestId' in (parts.fr_id, parts.shipment_id) or e.data->>'shipmentId' in (parts.fr_id, parts.shipment_id))) as acknowledged,
              min(coalesce(e.occurred_at, e.received_at)) filter (where e.type = 'hub.step.completed.v1' and e.data->>'stepKey' = 'odoo.validate:' || parts.shipment_id) as validated,
              min(coalesce(e.occurred_at, e.received_at)) filter (where e.type = 'hub.step.completed.v1' and e.data->>'stepKey' = 'odoo.invoice:' || parts.shipment_id) as invoiced
       from hub_events e
       where e.tenant_id = parts.tenant_id and e.key = parts.instance and e.type in ('order.released.v1', 'hub.step.completed.v1', 'fulfilment.acknowledged.v1')) o on true
     left join lateral (
       select min(coalesce(e.occurred_at, e.received_at)) filter (where e.type = 'shipment.dispatched.v1' and e.source not like '${ODOO_SOURCE_LIKE}') as dispatched,
              min(coalesce(e.occurred_at, e.received_at)) filter (where e.type = 'shipment.delivered.v1' and e.source not like '${ODOO_SOURCE_LIKE}') as delivered,
              min(coalesce(e.occurred_at, e.received_at)) filter (where e.type = 'shipment.dispatched.v1' and e.source like '${ODOO_SOURCE_LIKE}') as odoo_done
       from hub_events e
       where e.tenant_id = parts.tenant_id and e.key = parts.shipment_id and e.type in ('shipment.dispatched.v1', 'shipment.delivered.v1')) s on true
     order by parts.instance, parts.shipment_id`,
    [tenantId, 'since' in which ? which.since : which.orderId],
  );
  const t = (v: unknown): number | null => (v instanceof Date ? v.getTime() : v == null ? null : new Date(String(v)).getTime());
  return r.rows.map((x) => {
    const deliverBy = typeof x.deliver_by === 'string' ? Date.parse(x.deliver_by) : NaN;
    const quoted = typeof x.quoted_date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(x.quoted_date) ? Date.parse(`${x.quoted_date}T00:00:00Z`) + 86_400_000 - 1 : NaN;
    return {
      orderId: String(x.order_id), shipmentId: String(x.shipment_id), fulfilmentRequestId: String(x.fr_id),
      warehouse: String(x.warehouse ?? 'unknown'), carrier: String(x.carrier), status: String(x.status),
      released: t(x.released), wmsReleased: t(x.wms_released), acknowledged: t(x.acknowledged),
      dispatched: t(x.dispatched), delivered: t(x.delivered), confirmedInOdoo: t(x.validated) ?? t(x.odoo_done), invoiced: t(x.invoiced),
      promised: Number.isFinite(deliverBy) ? deliverBy : Number.isFinite(quoted) ? quoted : null,
    };
  });
}

const span = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : Math.max(0, (b - a) / 1000));
const firstOf = (...xs: (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? Math.min(...v) : null;
};

/** The KPI sample a shipment gives (end time and seconds), or null while either end is missing. */
export function kpiSample(name: KpiName, m: ShipmentMilestones): Sample | null {
  let start: number | null;
  let end: number | null;
  switch (name) {
    case 'orderToDispatch': [start, end] = [m.released, m.dispatched]; break;
    case 'dispatchToDelivery': [start, end] = [m.dispatched, m.delivered]; break;
    case 'deliveryConfirmationLag': [start, end] = [firstOf(m.dispatched, m.delivered), m.confirmedInOdoo]; break;
    case 'podToInvoice': [start, end] = [m.delivered, m.invoiced]; break;
  }
  const s = span(start, end);
  return s === null ? null : { at: end!, seconds: s };
}

/** Whether a delivered shipment was on time: null when it has no promised date or is not delivered. */
export function onTime(m: ShipmentMilestones): boolean | null {
  return m.delivered === null || m.promised === null ? null : m.delivered <= m.promised;
}

/** The targets of one partner (its overrides over the defaults). */
export function targetsOf(sla: SlaConfig, partner: string): Omit<SlaConfig, 'partners'> {
  const { partners, ...base } = sla;
  return { ...base, ...(partners?.[partner] ?? {}) };
}

interface SlaItem {
  partner: string;
  kind: SlaKind;
  /** when the item belongs in time */
  at: number;
  /** measured: ended, or its deadline passed */
  measured: boolean;
  breach: boolean;
}

/** SLA items of a shipment, judged at `now`. */
export function slaItems(m: ShipmentMilestones, sla: SlaConfig, now: number, invoiceOnDelivery = true): SlaItem[] {
  const out: SlaItem[] = [];
  const clock = (partner: string, kind: SlaKind, start: number | null, end: number | null, limitMs: number) => {
    if (start === null) return;
    const deadline = start + limitMs;
    if (end !== null) out.push({ partner, kind, at: start, measured: true, breach: end > deadline });
    else if (now > deadline && m.status !== 'cancelled') out.push({ partner, kind, at: start, measured: true, breach: true });
    else out.push({ partner, kind, at: start, measured: false, breach: false });
  };
  const w = targetsOf(sla, m.warehouse);
  clock(m.warehouse, 'wms_ack', m.wmsReleased, m.acknowledged, w.wmsAckMinutes * 60_000);
  clock(m.warehouse, 'ship_confirmation', m.wmsReleased, m.dispatched, w.shipConfirmationHours * 3_600_000);
  const o = targetsOf(sla, 'odoo');
  clock('odoo', 'delivery_confirmation', firstOf(m.dispatched, m.delivered), m.confirmedInOdoo, o.deliveryConfirmationMinutes * 60_000);
  if (invoiceOnDelivery) clock('odoo', 'invoice', m.delivered, m.invoiced, o.invoiceHours * 3_600_000);
  // a part never booked has no carrier to hold to the promise
  if (m.promised !== null && m.carrier !== 'unknown') {
    if (m.delivered !== null) out.push({ partner: m.carrier, kind: 'on_time', at: m.delivered, measured: true, breach: m.delivered > m.promised });
    else if (m.status !== 'cancelled' && now > m.promised) out.push({ partner: m.carrier, kind: 'on_time', at: m.promised, measured: true, breach: true });
  }
  return out;
}

function targetText(kind: SlaKind, t: Omit<SlaConfig, 'partners'>): string {
  switch (kind) {
    case 'wms_ack': return `acknowledged within ${t.wmsAckMinutes} min of the release`;
    case 'ship_confirmation': return `ship confirmation within ${t.shipConfirmationHours} h of the release`;
    case 'delivery_confirmation': return `Odoo delivery validated within ${t.deliveryConfirmationMinutes} min of the dispatch`;
    case 'invoice': return `invoice posted within ${t.invoiceHours} h of the proof of delivery`;
    case 'on_time': return 'delivered by the promised date';
  }
}

export interface KpiReportOptions {
  /** targets (config kpis.sla); defaults when absent */
  sla?: SlaConfig;
  /** the instant overdue items are judged at (default: now) */
  now?: Date;
  /** whether the tenant invoices on delivery (flows.orderToDelivery.<tenant>.invoicePolicy); default true */
  invoiceOnDelivery?: boolean;
}

/** The KPI report of a tenant over a window, for the console's charts. */
export async function kpiReport(pool: pg.Pool, tenantId: string, window: KpiWindow, opts: KpiReportOptions = {}): Promise<KpiReport> {
  if (!(window.to.getTime() > window.from.getTime())) throw new RangeError('the KPI window must end after it starts');
  const bucketSeconds = bucketSecondsFor(window);
  const sla = opts.sla ?? DEFAULT_SLA;
  const now = (opts.now ?? new Date()).getTime();
  const [from, to] = [window.from.getTime(), window.to.getTime()];
  const inWindow = (t: number) => t >= from && t < to;
  const ms = await loadMilestones(pool, tenantId, { since: window.from });

  const series: KpiSeries[] = (Object.keys(KPI_LABELS) as KpiName[]).map((name) => {
    const samples = ms.map((m) => kpiSample(name, m)).filter((s): s is Sample => s !== null);
    return { name, label: KPI_LABELS[name], unit: 'seconds', ...summarize(samples, window, bucketSeconds) };
  });

  const carriers = new Map<string, { delivered: number; onTime: number; late: number }>();
  for (const m of ms) {
    if (m.delivered === null || !inWindow(m.delivered)) continue;
    const c = carriers.get(m.carrier) ?? carriers.set(m.carrier, { delivered: 0, onTime: 0, late: 0 }).get(m.carrier)!;
    c.delivered++;
    const ok = onTime(m);
    if (ok === true) c.onTime++;
    else if (ok === false) c.late++;
  }
  const carrierOnTime = [...carriers].sort(([a], [b]) => a.localeCompare(b)).map(([carrier, c]) => ({ carrier, ...c, rate: c.onTime + c.late ? round(c.onTime / (c.onTime + c.late)) : null }));

  const slaRows = new Map<string, KpiReport['sla'][number]>();
  for (const m of ms) {
    for (const it of slaItems(m, sla, now, opts.invoiceOnDelivery ?? true)) {
      if (!inWindow(it.at)) continue;
      const k = `${it.partner}\u0000${it.kind}`;
      const row = slaRows.get(k) ?? slaRows.set(k, { partner: it.partner, kind: it.kind, target: targetText(it.kind, targetsOf(sla, it.partner)), measured: 0, breaches: 0, adherence: null }).get(k)!;
      if (it.measured) row.measured++;
      if (it.breach) row.breaches++;
    }
  }
  const slaOut = [...slaRows.values()]
    .map((r) => ({ ...r, adherence: r.measured ? round((r.measured - r.breaches) / r.measured) : null }))
    .sort((a, b) => a.partner.localeCompare(b.partner) || a.kind.localeCompare(b.kind));

  const ex = await pool.query<{ class: string; open: number; total: number }>(
    `select coalesce(details->>'class', 'other') as class, count(*) filter (where status = 'open')::int as open, count(*)::int as total
     from hub_exceptions where tenant_id = $1 and created_at >= $2 and created_at < $3
     group by 1 order by total desc, class`,
    [tenantId, window.from, window.to],
  );

  return {
    window: { from: window.from.toISOString(), to: window.to.toISOString(), bucketSeconds },
    series,
    exceptionsByClass: ex.rows,
    carrierOnTime,
    sla: slaOut,
  };
}

// ------------------------------------------------------------------ observed while the hub runs

export type Milestone = 'acknowledged' | 'dispatched' | 'delivered' | 'confirmedInOdoo' | 'invoiced';

/** The milestones a decision reached, per shipment: the state before and after it compared. */
export function milestonesReached(before: O2DState | undefined, after: O2DState | undefined): { shipmentId: string; milestone: Milestone }[] {
  if (!after?.parts) return [];
  const out: { shipmentId: string; milestone: Milestone }[] = [];
  for (const p of after.parts) {
    const b: Partial<Part> = before?.parts?.find((x) => x.shipmentId === p.shipmentId) ?? {};
    const was = b.status ?? 'releasing';
    if (was === 'releasing' && p.status !== 'releasing' && p.status !== 'cancelled') out.push({ shipmentId: p.shipmentId, milestone: 'acknowledged' });
    if (p.status === 'shipped' && !['shipped', 'delivered', 'cancelled'].includes(was)) out.push({ shipmentId: p.shipmentId, milestone: 'dispatched' });
    if (p.status === 'delivered' && was !== 'delivered') out.push({ shipmentId: p.shipmentId, milestone: 'delivered' });
    if (p.validated && !b.validated) out.push({ shipmentId: p.shipmentId, milestone: 'confirmedInOdoo' });
    if (p.invoiced && !b.invoiced) out.push({ shipmentId: p.shipmentId, milestone: 'invoiced' });
  }
  return out;
}

export type KpiMetrics = Pick<Metrics, 'kpiOrderToDispatch' | 'kpiDispatchToDelivery' | 'kpiDeliveryConfirmationLag' | 'kpiPodToInvoice' | 'kpiDeliveries' | 'slaBreaches'>;

interface Reached {
  tenantId: string;
  instance: string;
  shipmentId: string;
  milestone: Milestone;
}

interface Pending {
  seq: number;
  worker: string;
  attempt: number;
  reached: Reached[];
  since: number;
}

export interface KpiObserverOptions {
  pool: pg.Pool;
  metrics: KpiMetrics;
  sla: SlaConfig;
  log: Logger;
  /** whether a tenant invoices on delivery (its invoice SLA counts) */
  invoiceOnDelivery?: (tenantId: string) => boolean;
  /** how long milestones wait for their transaction's commit before they are given up (default 15 min) */
  expireMs?: number;
}

/**
 * Observes the KPI histograms, delivery counts and SLA breaches once per milestone reached in a
 * committed decision. Wrap the workflow definition (`wrap`) and its pipeline handler (`handler`).
 */
export class KpiObserver {
  readonly #o: KpiObserverOptions;
  /** milestones of a decision in progress, by tenant and event seq (taken by the handler when the decision is written) */
  readonly #deciding = new Map<string, Reached[]>();
  /** milestones whose transaction has not been seen committed yet, by tenant and event seq */
  readonly #pending = new Map<string, Pending>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<number> | undefined;
  #stopped = false;

  constructor(o: KpiObserverOptions) {
    this.#o = o;
  }

  /** The workflow with its decisions watched for milestones (the decision itself is unchanged). */
  wrap<S>(def: WorkflowDefinition<S>): WorkflowDefinition<S> {
    return {
      ...def,
      decide: (state, ev, now) => {
        const d = def.decide(state, ev, now);
        const reached = milestonesReached(state as O2DState | undefined, d.state as O2DState | undefined);
        if (reached.length) {
          const instance = (d.state as O2DState).orderId;
          const k = keyOf(ev);
          this.#deciding.set(k, [...(this.#deciding.get(k) ?? []), ...reached.map((r) => ({ ...r, tenantId: ev.tenantId, instance }))]);
        }
        return d;
      },
    };
  }

  /** The workflow handler, holding the milestones its decision reached until the event's transaction commits. */
  handler(inner: Handler): Handler {
    return {
      name: inner.name,
      matches: (t) => inner.matches(t),
      handle: async (ev, ctx) => {
        const k = keyOf(ev);
        this.#deciding.delete(k);
        try {
          await inner.handle(ev, ctx);
        } catch (e) {
          this.#deciding.delete(k);
          throw e;
        }
        const reached = this.#deciding.get(k);
        this.#deciding.delete(k);
        if (reached?.length) {
          // a later attempt of the same event replaces an earlier one (which rolled back)
          this.#pending.set(k, { seq: ev.seq, worker: ctx.worker, attempt: ctx.attempt, reached, since: Date.now() });
          this.#schedule(100);
        }
      },
    };
  }

  /** Milestones waiting for their commit. */
  get pending(): number {
    return this.#pending.size;
  }

  #schedule(ms: number): void {
    if (this.#stopped || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush()
        .catch((err) => this.#o.log.warn({ err }, 'KPI observation failed'))
        .finally(() => {
          if (this.#pending.size) this.#schedule(500);
        });
    }, ms);
    this.#timer.unref();
  }

  /**
   * Observes the milestones whose transaction committed (the processing history of their event
   * has `done` or `replayed` for the attempt and worker that decided them); returns how many.
   */
  flush(): Promise<number> {
    const run = (this.#flushing ?? Promise.resolve(0)).catch(() => 0).then(() => this.#flush());
    this.#flushing = run;
    return run;
  }

  async #flush(): Promise<number> {
    if (!this.#pending.size) return 0;
    const entries = [...this.#pending.entries()];
    const r = await this.#o.pool.query<{ event_seq: string; attempt: number; worker: string }>(
      `select event_seq, attempt, worker from hub_attempts where event_seq = any($1::bigint[]) and outcome in ('done', 'replayed')`,
      [entries.map(([, p]) => p.seq)],
    );
    const committed = new Set(r.rows.map((x) => `${x.event_seq}\u0000${x.attempt}\u0000${x.worker}`));
    const reached: Reached[] = [];
    const expired = Date.now() - (this.#o.expireMs ?? 15 * 60_000);
    for (const [k, p] of entries) {
      if (this.#pending.get(k) !== p) continue; // replaced by a later attempt meanwhile
      if (committed.has(`${p.seq}\u0000${p.attempt}\u0000${p.worker}`)) {
        this.#pending.delete(k);
        reached.push(...p.reached);
      } else if (p.since < expired) {
        this.#pending.delete(k);
      }
    }
    const byOrder = new Map<string, Reached[]>();
    for (const x of reached) {
      const k = `${x.tenantId}\u0000${x.instance}`;
      (byOrder.get(k) ?? byOrder.set(k, []).get(k)!).push(x);
    }
    let n = 0;
    for (const xs of byOrder.values()) {
      const ms = await loadMilestones(this.#o.pool, xs[0]!.tenantId, { orderId: xs[0]!.instance });
      for (const x of xs) {
        const m = ms.find((s) => s.shipmentId === x.shipmentId);
        if (m && this.#observe(x.tenantId, x.milestone, m)) n++;
      }
    }
    return n;
  }

  #observe(tenant: string, milestone: Milestone, m: ShipmentMilestones): boolean {
    const mx = this.#o.metrics;
    const breach = (partner: string, kind: SlaKind) => {
      const it = slaItems(m, this.#o.sla, Number.POSITIVE_INFINITY, true).find((x) => x.partner === partner && x.kind === kind);
      if (it?.breach) mx.slaBreaches.inc({ tenant, partner, kind });
    };
    const sample = (name: KpiName) => kpiSample(name, m);
    switch (milestone) {
      case 'acknowledged': {
        if (m.acknowledged === null) return false;
        breach(m.warehouse, 'wms_ack');
        return true;
      }
      case 'dispatched': {
        const s = sample('orderToDispatch');
        if (s) mx.kpiOrderToDispatch.observe({ tenant, warehouse: m.warehouse }, s.seconds);
        if (m.dispatched !== null) breach(m.warehouse, 'ship_confirmation');
        return s !== null;
      }
      case 'delivered': {
        if (m.delivered === null) return false;
        const s = sample('dispatchToDelivery');
        if (s) mx.kpiDispatchToDelivery.observe({ tenant, carrier: m.carrier }, s.seconds);
        const ok = onTime(m);
        mx.kpiDeliveries.inc({ tenant, carrier: m.carrier, on_time: ok === null ? 'unknown' : String(ok) });
        if (ok === false) mx.slaBreaches.inc({ tenant, partner: m.carrier, kind: 'on_time' });
        return true;
      }
      case 'confirmedInOdoo': {
        const s = sample('deliveryConfirmationLag');
        if (s) mx.kpiDeliveryConfirmationLag.observe({ tenant }, s.seconds);
        if (s) breach('odoo', 'delivery_confirmation');
        return s !== null;
      }
      case 'invoiced': {
        const s = sample('podToInvoice');
        if (s) mx.kpiPodToInvoice.observe({ tenant }, s.seconds);
        if (s && (this.#o.invoiceOnDelivery?.(tenant) ?? true)) breach('odoo', 'invoice');
        return s !== null;
      }
    }
  }

  /** Observes what already committed, then stops watching. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush().catch(() => 0);
  }
}

const keyOf = (ev: StoredEvent): string => `${ev.tenantId}\u0000${ev.seq}`;
