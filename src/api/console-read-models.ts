/**
 * What the operations console shows, read from the pipeline's and the workflows' tables,
 * always bounded by the viewer's tenant: the live overview, the search by business key,
 * one shipment's (or order's) timeline with raw payloads and partner calls, and the
 * exception workbench's groups and filtered lists.
 */
import type pg from 'pg';
import { domainOfEventType, type Scope } from '../domain/scopes.ts';
import { dataFor, type Viewer } from './read-models.ts';
import { STEP_TRACE_KEY } from '../workflows/engine.ts';
import type { ConsoleTimeline, Overview, PartnerCall, SearchHit, TimelineItem } from './console-views.ts';

export type { ConsoleTimeline, Overview, PartnerCall, SearchHit, TimelineItem };

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

// ----------------------------------------------------------------------------- overview


/**
 * Rates over the last `windowSeconds` by type and source; work waiting per queue (events
 * not handled yet, outbox, due timers, and the partner steps of workflows by partner);
 * open dead letters and exceptions.
 */
export async function overview(db: pg.Pool, tenantId: string, now: Date, windowSeconds = 60): Promise<Overview> {
  const since = new Date(now.getTime() - windowSeconds * 1000);
  const [rates, keys, outbox, timers, steps, dead, exc] = await Promise.all([
    db.query<{ type: string; source: string; n: string }>(
      `select type, source, count(*) as n from hub_events
        where tenant_id = $1 and received_at > $2
        group by type, source`,
      [tenantId, since],
    ),
    db.query<{ waiting: string; oldest: Date | null }>(
      `select (select coalesce(sum(pending), 0)::bigint from hub_keys where tenant_id = $1 and pending > 0) as waiting,
              (select min(f.received_at) from (select key, cursor from hub_keys where tenant_id = $1 and pending > 0 limit 1000) k
                 cross join lateral (select e.received_at from hub_events e where e.tenant_id = $1 and e.key = k.key and e.seq > k.cursor order by e.seq limit 1) f) as oldest`,
      [tenantId],
    ),
    db.query<{ waiting: string; oldest: Date | null }>(`select count(*) as waiting, min(created_at) as oldest from hub_outbox where published_at is null and tenant_id = $1`, [tenantId]),
    db.query<{ waiting: string; oldest: Date | null }>(`select count(*) as waiting, min(due_at) as oldest from hub_timers where tenant_id = $1 and status = 'scheduled' and due_at <= $2`, [tenantId, now]),
    db.query<{ partner: string; waiting: string; oldest: Date | null }>(
      `select split_part(step, '.', 1) as partner, count(*) as waiting, min(created_at) as oldest
         from hub_workflow_steps where tenant_id = $1 and status in ('pending', 'running') group by 1 order by 1`,
      [tenantId],
    ),
    db.query<{ status: string; error_class: string; n: string }>(
      `select status, error_class, count(*) as n from hub_dead_letters where tenant_id = $1 and status in ('open', 'replaying') group by 1, 2`,
      [tenantId],
    ),
    db.query<{ class: string; n: string; critical: string }>(
      `select coalesce(details ->> 'class', 'other') as class, count(*) as n, count(*) filter (where severity = 'critical') as critical
         from hub_exceptions where tenant_id = $1 and status = 'open' group by 1 order by 2 desc, 1`,
      [tenantId],
    ),
  ]);
  const byType = new Map<string, number>();
  const bySource = new Map<string, number>();
  let total = 0;
  for (const r of rates.rows) {
    const n = Number(r.n);
    total += n;
    byType.set(r.type, (byType.get(r.type) ?? 0) + n);
    bySource.set(r.source, (bySource.get(r.source) ?? 0) + n);
  }
  const rate = (n: number) => Math.round((n / windowSeconds) * 100) / 100;
  const age = (d: Date | null | undefined) => (d ? Math.max(0, Math.round((now.getTime() - d.getTime()) / 1000)) : null);
  const sorted = <K extends string>(m: Map<string, number>, k: K) =>
    [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([name, n]) => ({ [k]: name, rate: rate(n) }) as Record<K, string> & { rate: number });
  const deadOpen = dead.rows.filter((r) => r.status === 'open');
  return {
    at: now.toISOString(),
    windowSeconds,
    eventsPerSecond: { total: rate(total), byType: sorted(byType, 'type'), bySource: sorted(bySource, 'source') },
    backlog: [
      { queue: 'events', waiting: Number(keys.rows[0]?.waiting ?? 0), oldestSeconds: age(keys.rows[0]?.oldest) },
      { queue: 'outbox', waiting: Number(outbox.rows[0]?.waiting ?? 0), oldestSeconds: age(outbox.rows[0]?.oldest) },
      { queue: 'timers', waiting: Number(timers.rows[0]?.waiting ?? 0), oldestSeconds: age(timers.rows[0]?.oldest) },
      ...steps.rows.map((r) => ({ queue: `steps:${r.partner}`, waiting: Number(r.waiting), oldestSeconds: age(r.oldest) })),
    ],
    deadLetters: {
      open: deadOpen.reduce((s, r) => s + Number(r.n), 0),
      replaying: dead.rows.filter((r) => r.status === 'replaying').reduce((s, r) => s + Number(r.n), 0),
      byErrorClass: deadOpen.map((r) => ({ errorClass: r.error_class, open: Number(r.n) })).sort((a, b) => b.open - a.open),
    },
    exceptions: {
      open: exc.rows.reduce((s, r) => s + Number(r.n), 0),
      byClass: exc.rows.map((r) => ({ class: r.class, open: Number(r.n), critical: Number(r.critical) })),
    },
  };
}

// ----------------------------------------------------------------------------- search


/**
 * Finds what a business key names: an order, a shipment, a tracking number, a partner's
 * reference (fulfilment request, booking, WMS order), an external id of any system (Odoo
 * record ids and names), an order's number or customer reference, a purchase order number.
 * Exact matches only (case-insensitive for order numbers), at most 25 hits.
 */
export async function search(db: pg.Pool, tenantId: string, q: string): Promise<SearchHit[]> {
  const term = q.trim();
  if (!term) return [];
  const [instances, refs, tracking, xref, numbers, keys] = await Promise.all([
    db.query<{ instance: string }>(`select instance from hub_workflows where tenant_id = $1 and instance = $2`, [tenantId, term]),
    db.query<{ instance: string; ref: string }>(`select instance, ref from hub_workflow_refs where tenant_id = $1 and ref = $2 limit 25`, [tenantId, term]),
    db.query<{ tracking_number: string; carrier: string; shipment_id: string | null; order_id: string | null }>(
      `select tracking_number, carrier, shipment_id, order_id from hub_tracking where tenant_id = $1 and tracking_number = $2 limit 25`,
      [tenantId, term],
    ),
    db.query<{ entity: string; canonical_id: string; system: string; external_id: string }>(
      `select entity, canonical_id, system, external_id from hub_xref where tenant_id = $1 and external_id = $2 limit 25`,
      [tenantId, term],
    ),
    db.query<{ key: string; type: string; field: string }>(
      `select distinct key, type, case when lower(data ->> 'orderNumber') = lower($2) then 'orderNumber' else 'customerReference' end as field
         from hub_events
        where tenant_id = $1 and (type like 'order.%' or type like 'purchase-order.%')
          and (lower(data ->> 'orderNumber') = lower($2) or data ->> 'customerReference' = $2)
        limit 25`,
      [tenantId, term],
    ),
    db.query<{ key: string }>(`select key from hub_keys where tenant_id = $1 and key = $2`, [tenantId, term]),
  ]);
  const hits = new Map<string, SearchHit>();
  const add = (h: SearchHit) => {
    const k = `${h.kind}\u0000${h.key}`;
    if (!hits.has(k)) hits.set(k, h);
  };
  for (const r of instances.rows) add({ kind: 'order', key: r.instance, matchedBy: 'order id', order: r.instance });
  for (const r of tracking.rows) {
    if (r.shipment_id) add({ kind: 'shipment', key: r.shipment_id, matchedBy: `${r.carrier} tracking number`, order: r.order_id });
    else if (r.order_id) add({ kind: 'order', key: r.order_id, matchedBy: `${r.carrier} tracking number`, order: r.order_id });
  }
  for (const r of refs.rows) add({ kind: 'order', key: r.instance, matchedBy: 'partner reference of the order', order: r.instance });
  for (const r of xref.rows) {
    const kind: SearchHit['kind'] = r.entity === 'order' ? 'order' : r.entity === 'shipment' ? 'shipment' : r.entity === 'purchase-order' ? 'purchase-order' : 'key';
    add({ kind, key: r.canonical_id, matchedBy: `${r.system} id of the ${r.entity}`, order: r.entity === 'order' ? r.canonical_id : null });
  }
  for (const r of numbers.rows) {
    const po = r.type.startsWith('purchase-order.');
    add({ kind: po ? 'purchase-order' : 'order', key: r.key, matchedBy: r.field === 'orderNumber' ? (po ? 'purchase order number' : 'order number') : 'customer reference', order: po ? null : r.key });
  }
  for (const r of keys.rows) add({ kind: 'key', key: r.key, matchedBy: 'business key', order: null });
  // a shipment found by its key alone still belongs to its order
  const shipments = [...hits.values()].filter((h) => h.kind !== 'order' && !h.order);
  if (shipments.length) {
    const owners = await db.query<{ instance: string; ref: string }>(`select instance, ref from hub_workflow_refs where tenant_id = $1 and ref = any($2::text[])`, [tenantId, shipments.map((h) => h.key)]);
    for (const o of owners.rows) for (const h of shipments) if (h.key === o.ref) h.order = o.instance;
  }
  // the same order reached several ways: keep the most specific hit first
  const out = [...hits.values()];
  const rank = { shipment: 0, order: 1, 'purchase-order': 2, key: 3 } as const;
  out.sort((a, b) => rank[a.kind] - rank[b.kind]);
  // a shipment found by the term speaks for its order, which the same term also reached
  const ordersOfShipments = new Set(out.filter((h) => h.kind === 'shipment' && h.order).map((h) => h.order));
  for (let i = out.length - 1; i >= 0; i--) if (out[i]!.kind === 'order' && ordersOfShipments.has(out[i]!.key) && out[i]!.matchedBy === 'partner reference of the order') out.splice(i, 1);
  const seen = new Set(out.filter((h) => h.kind !== 'order').map((h) => h.key));
  return out.filter((h) => !(h.kind === 'key' && seen.has(h.key)) && !(h.kind === 'key' && out.some((o) => o.kind === 'order' && o.key === h.key))).slice(0, 25);
}

// ----------------------------------------------------------------------------- timeline




const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

export function traceIdOf(extensions: unknown): string | null {
  const tp = (extensions as { traceparent?: unknown } | null)?.traceparent;
  const m = typeof tp === 'string' ? TRACEPARENT.exec(tp) : null;
  return m ? m[1]! : null;
}

function systemOf(source: string): string {
  const s = source.toLowerCase();
  if (s.startsWith('urn:hub:workflow')) return 'hub';
  for (const name of ['odoo', 'easypost', 'ups', 'fedex', 'dhl', 'wms', 'sftp', '3pl']) if (s.includes(name)) return name === 'easypost' || name === 'ups' || name === 'fedex' || name === 'dhl' ? `carrier:${name}` : name;
  return source;
}

/** Personal data inside step inputs and outputs (addresses, names, phones) is masked like event data. */
const PII_KEYS = /^(name|street|street2|city|zip|postalCode|phone|mobile|email|contact|recipient|address|shipTo|shipFrom|line1|line2|company)$/i;
export function maskDeep(v: unknown, depth = 0): unknown {
  if (depth > 12 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => maskDeep(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = PII_KEYS.test(k) && (typeof x === 'string' || (typeof x === 'object' && x !== null)) ? '***' : maskDeep(x, depth + 1);
  return out;
}

/**
 * One order's or shipment's story: every event of the order and its shipments from every
 * system, in occurrence order, with the raw delivery beside the canonical event; the
 * partner calls (workflow steps: Odoo, WMS, carriers) with their attempts; trace ids.
 */
export async function consoleTimeline(db: pg.Pool, viewer: Viewer & { scopes: ReadonlySet<Scope> }, key: string): Promise<ConsoleTimeline | undefined> {
  const t = viewer.tenantId;
  // the order the key belongs to: itself, or through a partner reference (shipment id, tracking number)
  let order: string | null = null;
  const own = await db.query<{ instance: string }>(`select instance from hub_workflows where tenant_id = $1 and instance = $2 limit 1`, [t, key]);
  if (own.rowCount) order = key;
  else {
    const viaRef = await db.query<{ instance: string }>(`select instance from hub_workflow_refs where tenant_id = $1 and ref = $2 limit 1`, [t, key]);
    order = viaRef.rows[0]?.instance ?? null;
  }
  const wf = order ? (await db.query(`select status, state, updated_at from hub_workflows where tenant_id = $1 and instance = $2 order by workflow limit 1`, [t, order])).rows[0] : undefined;
  const parts = Array.isArray(wf?.state?.parts) ? (wf.state.parts as Array<Record<string, unknown>>) : [];
  const shipmentIds = [...new Set(parts.map((p) => p.shipmentId).filter((x): x is string => typeof x === 'string'))];
  const tracking = (
    await db.query<{ shipment_id: string; carrier: string; tracking_number: string; status: string }>(
      `select shipment_id, carrier, tracking_number, status from hub_tracking where tenant_id = $1 and shipment_id = any($2::text[])`,
      [t, shipmentIds.length ? shipmentIds : [key]],
    )
  ).rows;
  const keys = [...new Set([key, ...(order ? [order] : []), ...shipmentIds])];
  const ev = await db.query(
    `select e.seq, e.id, e.key, e.source, e.type, e.occurred_at, e.received_at, e.data, e.extensions, e.correlation_id,
            k.cursor >= e.seq as handled, d.status as dead_status
       from hub_events e
       left join hub_keys k on k.tenant_id = e.tenant_id and k.key = e.key
       left join hub_dead_letters d on d.event_seq = e.seq
      where e.tenant_id = $1 and e.key = any($2::text[])
      order by coalesce(e.occurred_at, e.received_at), e.seq
      limit 2000`,
    [t, keys],
  );
  const visible = ev.rows.filter((r) => viewer.scopes.has(`${domainOfEventType(r.type) ?? 'admin'}:read` as Scope));
  if (!ev.rowCount && !order) return undefined;
  const seqs = visible.map((r) => r.seq as number);
  const receiptIds = [...new Set(visible.map((r) => Number((r.extensions as Record<string, unknown>)?.hubreceipt)).filter((n) => Number.isSafeInteger(n) && n > 0))];
  const [attempts, receipts, steps, exceptions] = await Promise.all([
    seqs.length ? db.query(`select event_seq, attempt, outcome, error_code, error_message, finished_at from hub_attempts where event_seq = any($1::bigint[]) order by id`, [seqs]) : { rows: [] as Record<string, unknown>[] },
    receiptIds.length
      ? db.query(`select id, partner, content_type, body from hub_webhook_receipts where tenant_id = $1 and id = any($2::bigint[])`, [t, receiptIds])
      : { rows: [] as Record<string, unknown>[] },
    order
      ? db.query(`select id, step, step_key, status, attempts, input, output, error, created_at, updated_at from hub_workflow_steps where tenant_id = $1 and instance = $2 order by id`, [t, order])
      : { rows: [] as Record<string, unknown>[] },
    db.query(`select id, code, severity, status, message, details, created_at from hub_exceptions where tenant_id = $1 and key = any($2::text[]) order by id`, [t, keys]),
  ]);
  const bySeq = new Map<number, TimelineItem['attempts']>();
  for (const a of attempts.rows) {
    const list = bySeq.get(a.event_seq as number) ?? [];
    list.push({ attempt: a.attempt as number, outcome: a.outcome as string, errorCode: (a.error_code as string | null) ?? null, errorMessage: (a.error_message as string | null) ?? null, at: iso(a.finished_at as Date)! });
    bySeq.set(a.event_seq as number, list);
  }
  const receiptById = new Map(receipts.rows.map((r) => [Number(r.id), r]));
  const traceIds = new Set<string>();
  const correlationIds = new Set<string>();
  const entries: TimelineItem[] = visible.map((r) => {
    const traceId = traceIdOf(r.extensions);
    if (traceId) traceIds.add(traceId);
    if (r.correlation_id) correlationIds.add(r.correlation_id);
    const rec = receiptById.get(Number((r.extensions as Record<string, unknown>)?.hubreceipt));
    const tries = bySeq.get(r.seq) ?? [];
    const last = tries.at(-1)?.outcome;
    return {
      seq: r.seq,
      at: iso(r.occurred_at ?? r.received_at)!,
      receivedAt: iso(r.received_at)!,
      key: r.key,
      source: r.source,
      system: systemOf(r.source),
      type: r.type,
      id: r.id,
      canonical: dataFor(viewer, r.type, r.data),
      raw: rec
        ? { receiptId: Number(rec.id), partner: rec.partner as string, contentType: rec.content_type as string, body: viewer.pii ? (rec.body as Buffer | null)?.toString('utf8') ?? '' : maskRaw((rec.body as Buffer | null)?.toString('utf8') ?? '') }
        : null,
      traceId,
      correlationId: r.correlation_id ?? null,
      status: r.dead_status === 'open' ? 'dead' : r.dead_status === 'replaying' ? 'retrying' : r.handled || r.dead_status === 'replayed' ? 'done' : last === 'retry' ? 'retrying' : 'pending',
      attempts: tries,
    };
  });
  const mask = (v: unknown) => (viewer.pii ? v : maskDeep(v));
  return {
    key,
    order,
    shipments: shipmentIds.map((s) => {
      const tr = tracking.find((x) => x.shipment_id === s);
      const part = parts.find((p) => p.shipmentId === s) as { carrier?: { carrierCode?: string }; trackingNumber?: string; status?: string } | undefined;
      return { shipmentId: s, carrier: tr?.carrier ?? part?.carrier?.carrierCode ?? null, trackingNumber: tr?.tracking_number ?? part?.trackingNumber ?? null, status: tr?.status ?? part?.status ?? null };
    }),
    workflow: wf ? { status: wf.status as string, updatedAt: iso(wf.updated_at as Date)! } : null,
    traceIds: [...traceIds],
    correlationIds: [...correlationIds].slice(0, 20),
    entries,
    // the workflow's partner calls are the order's business (orders:read); exceptions need exceptions:read
    partnerCalls: (viewer.scopes.has('orders:read') ? steps.rows : []).map((s) => ({
      id: Number(s.id),
      partner: String(s.step).split('.')[0]!,
      step: s.step as string,
      stepKey: s.step_key as string,
      status: s.status as string,
      attempts: s.attempts as number,
      createdAt: iso(s.created_at as Date)!,
      updatedAt: iso(s.updated_at as Date)!,
      error: s.error ?? null,
      input: mask(withoutTrace(s.input)),
      output: mask(s.output ?? null),
    })),
    exceptions: (viewer.scopes.has('exceptions:read') ? exceptions.rows : []).map((x) => ({
      id: Number(x.id), code: x.code, class: (x.details as { class?: string })?.class ?? 'other', severity: x.severity, status: x.status, message: x.message, createdAt: iso(x.created_at)!,
    })),
    hiddenTypes: ev.rowCount! - visible.length,
    hiddenCalls: viewer.scopes.has('orders:read') ? 0 : steps.rows.length,
  };
}

/** A step's input as the step sees it: without the trace context the engine keeps beside it. */
export function withoutTrace(input: unknown): unknown {
  if (input === null || typeof input !== 'object' || !(STEP_TRACE_KEY in input)) return input;
  const { [STEP_TRACE_KEY]: _trace, ...rest } = input as Record<string, unknown>;
  return rest;
}

/** A raw body for a viewer without pii:read: JSON with personal fields masked, anything else withheld. */
function maskRaw(body: string): string {
  try {
    return JSON.stringify(maskDeep(JSON.parse(body)), null, 2);
  } catch {
    return `(${Buffer.byteLength(body)} bytes, not JSON: shown only with pii:read)`;
  }
}

// ----------------------------------------------------------------------------- exceptions

export interface ExceptionFilter {
  status?: 'open' | 'resolved';
  class?: string;
  code?: string;
  severity?: string;
  partner?: string;
  warehouse?: string;
  carrier?: string;
  assignee?: string;
  /** only exceptions at least this old */
  minAgeSeconds?: number;
  /** only exceptions at most this old */
  maxAgeSeconds?: number;
  key?: string;
}

/**
 * The where clause of an exception filter. Partner, warehouse and carrier are read from
 * the exception's details (the workflow records them: warehouse, carrier, partner, step).
 */
export function exceptionWhere(tenantId: string, f: ExceptionFilter, now: Date): { sql: string; params: unknown[] } {
  const params: unknown[] = [tenantId];
  const w = ['x.tenant_id = $1'];
  const eq = (expr: string, v: string | undefined) => {
    if (v !== undefined && v !== '') w.push(`${expr} = $${params.push(v)}`);
  };
  eq('x.status', f.status);
  eq(`coalesce(x.details ->> 'class', 'other')`, f.class);
  eq('x.code', f.code);
  eq('x.severity', f.severity);
  eq('x.key', f.key);
  eq('x.assignee', f.assignee === '-' ? undefined : f.assignee);
  if (f.assignee === '-') w.push('x.assignee is null');
  // the part of the order the exception is about (its subject shipment; any part for an order-level one) names its warehouse and carrier
  const part = (cond: string) =>
    `exists (select 1 from hub_workflows wf cross join lateral jsonb_array_elements(coalesce(wf.state -> 'parts', '[]'::jsonb)) pt
              where wf.tenant_id = x.tenant_id and wf.instance = x.key
                and (x.details -> 'subject' ->> 'entity' is distinct from 'shipment' or pt ->> 'shipmentId' = x.details -> 'subject' ->> 'id')
                and ${cond})`;
  if (f.warehouse) {
    const n = params.push(f.warehouse);
    w.push(`(x.details ->> 'warehouse' = $${n} or x.details ->> 'warehouseId' = $${n} or ${part(`pt ->> 'warehouseId' = $${n}`)})`);
  }
  if (f.carrier) {
    const n = params.push(f.carrier.toLowerCase());
    w.push(`(lower(x.details ->> 'carrier') = $${n} or ${part(`lower(pt -> 'carrier' ->> 'carrierCode') = $${n}`)})`);
  }
  if (f.partner) {
    // any partner the exception involves: a named partner, warehouse or carrier, or the system of its failed step (odoo, wms, carrier)
    const n = params.push(f.partner.toLowerCase());
    w.push(`(lower(coalesce(x.details ->> 'partner', '')) = $${n} or lower(coalesce(x.details ->> 'carrier', '')) = $${n} or lower(coalesce(x.details ->> 'warehouse', '')) = $${n}
             or split_part(x.details ->> 'step', '.', 1) = $${n}
             or ${part(`(lower(pt ->> 'warehouseId') = $${n} or lower(pt -> 'carrier' ->> 'carrierCode') = $${n})`)})`);
  }
  if (f.minAgeSeconds !== undefined) w.push(`x.created_at <= $${params.push(new Date(now.getTime() - f.minAgeSeconds * 1000))}`);
  if (f.maxAgeSeconds !== undefined) w.push(`x.created_at >= $${params.push(new Date(now.getTime() - f.maxAgeSeconds * 1000))}`);
  return { sql: w.join(' and '), params };
}

export interface ExceptionGroup {
  class: string;
  code: string;
  severity: string;
  count: number;
  oldest: string;
  newest: string;
  assigned: number;
  suggestedAction: { code: string; description: string } | null;
}

/** Exceptions grouped by class and cause (code), worst severity first, then the largest group. */
export async function exceptionGroups(db: pg.Pool, tenantId: string, f: ExceptionFilter, now: Date): Promise<ExceptionGroup[]> {
  const { sql, params } = exceptionWhere(tenantId, f, now);
  const r = await db.query(
    `select coalesce(x.details ->> 'class', 'other') as class, x.code, max(x.severity) as severity,
            count(*)::int as n, min(x.created_at) as oldest, max(x.created_at) as newest, count(x.assignee)::int as assigned,
            (array_agg(x.details -> 'suggestedAction') filter (where x.details ? 'suggestedAction'))[1] as action,
            max(case x.severity when 'critical' then 4 when 'error' then 3 when 'warning' then 2 else 1 end) as rank
       from hub_exceptions x where ${sql}
      group by 1, 2 order by rank desc, n desc, 1, 2 limit 500`,
    params,
  );
  return r.rows.map((g) => ({
    class: g.class, code: g.code, severity: ['info', 'info', 'warning', 'error', 'critical'][g.rank as number] ?? g.severity,
    count: g.n, oldest: iso(g.oldest)!, newest: iso(g.newest)!, assigned: g.assigned, suggestedAction: g.action ?? null,
  }));
}

export interface ExceptionItem {
  id: number;
  key: string;
  eventSeq: number | null;
  code: string;
  class: string;
  severity: string;
  message: string;
  status: string;
  assignee: string | null;
  details: unknown;
  createdAt: string;
  updatedAt: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolution: string | null;
}

export function exceptionItem(x: Record<string, unknown>, pii: boolean): ExceptionItem {
  return {
    id: Number(x.id), key: x.key as string, eventSeq: x.event_seq === null || x.event_seq === undefined ? null : Number(x.event_seq), code: x.code as string,
    class: (x.details as { class?: string } | null)?.class ?? 'other', severity: x.severity as string, message: x.message as string, status: x.status as string,
    assignee: (x.assignee as string | null) ?? null, details: pii ? x.details : maskDeep(x.details), createdAt: iso(x.created_at as Date)!, updatedAt: iso((x.updated_at as Date | null) ?? (x.created_at as Date))!,
    resolvedAt: iso(x.resolved_at as Date | null), resolvedBy: (x.resolved_by as string | null) ?? null, resolution: (x.resolution as string | null) ?? null,
  };
}

export async function listExceptionItems(db: pg.Pool, viewer: Viewer, f: ExceptionFilter, now: Date, limit: number, beforeId?: number): Promise<{ items: ExceptionItem[]; total: number; nextBefore: number | null }> {
  const { sql, params } = exceptionWhere(viewer.tenantId, f, now);
  const [rows, count] = await Promise.all([
    db.query(`select x.* from hub_exceptions x where ${sql} ${beforeId ? `and x.id < $${params.length + 2}` : ''} order by x.id desc limit $${params.length + 1}`, [...params, limit + 1, ...(beforeId ? [beforeId] : [])]),
    db.query<{ n: number }>(`select count(*)::int as n from hub_exceptions x where ${sql}`, params),
  ]);
  const items = rows.rows.slice(0, limit).map((x) => exceptionItem(x, viewer.pii));
  return { items, total: count.rows[0]?.n ?? 0, nextBefore: rows.rows.length > limit ? items.at(-1)!.id : null };
}
