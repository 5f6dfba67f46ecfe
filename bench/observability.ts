/**
 * Section 5 of `npm run bench`: what observability and the console cost.
 *
 * a. One partner HTTP call on loopback (a node:http server answering a small JSON body), three
 *    ways in alternating rounds: plain `fetch` (the baseline), through `partnerFetch` with
 *    tracing off (metrics counted), and through `partnerFetch` with tracing on (spans batched
 *    to an OTLP/HTTP sink on loopback that reads and drops them). Sequential calls, so the
 *    figure is the added latency per call, not a throughput.
 * b. The console's read models on a database holding `events` canonical events over 2,000
 *    orders with their workflows, steps, refs, tracking rows and 500 exceptions: the overview
 *    (what the live stream recomputes every interval), a search by tracking number, one
 *    order's console timeline, the exception groups, the KPI report over 24 h (every order
 *    changed inside it, the report's worst case); the baseline is the existing
 *    /v1/timeline read model of the same order, measured in the same run.
 *
 * Medians of the rounds; ratios against the baseline of the same run.
 */
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { partnerFetch } from '../src/connectors/http.ts';
import { createMetrics } from '../src/platform/metrics.ts';
import { createTracing, disabledTracing, type Tracing } from '../src/platform/tracing.ts';
import { ingest } from '../src/pipeline/inbox.ts';
import { consoleTimeline, exceptionGroups, overview, search } from '../src/api/console-read-models.ts';
import { timelineView } from '../src/api/read-models.ts';
import { kpiReport } from '../src/workflows/order-to-delivery/kpis.ts';
import { SCOPES, type Scope } from '../src/domain/scopes.ts';
import { EXAMPLE_EVENT_DATA } from '../src/domain/examples.ts';

export interface ObservabilityParams {
  calls: number;
  rounds: number;
  orders: number;
  readRounds: number;
}

export const observabilityParams = (quick: boolean): ObservabilityParams =>
  quick ? { calls: 1000, rounds: 3, orders: 500, readRounds: 20 } : { calls: 4000, rounds: 5, orders: 2000, readRounds: 50 };

export interface ObservabilityResult {
  params: ObservabilityParams;
  calls: Array<{ variant: string; usPerCall: number; ratio: number; rounds: number[] }>;
  spansExported: number;
  reads: Array<{ read: string; msMedian: number; msP90: number; ratio: number }>;
  events: number;
}

function listen(handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const s = createServer(handler);
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r(s)));
}
const urlOf = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))]!;

async function benchCalls(p: ObservabilityParams, log: (m: string) => void): Promise<{ rows: ObservabilityResult['calls']; spans: number }> {
  const body = JSON.stringify({ id: 'shp_1', status: 'ok', tracking_code: '9400100000000000000000' });
  const partner = await listen((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  let spans = 0;
  const sink = await listen((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      spans += 1; // export requests; each carries a batch
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
      void n;
    });
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const on: Tracing = createTracing({ enabled: true, endpoint: `${urlOf(sink)}/v1/traces`, serviceName: 'bench', sampleRatio: 1 });
  const op = { connector: 'bench', operation: 'GET /shipment', transportError: (e: unknown) => e };
  const url = `${urlOf(partner)}/shipment`;
  const variants: Array<[string, () => Promise<unknown>]> = [
    ['plain fetch (baseline)', async () => (await fetch(url)).json()],
    ['partnerFetch, tracing off', () => partnerFetch({ tracing: disabledTracing, metrics }, op, url, {}, (r) => r.json())],
    ['partnerFetch, tracing on', () => partnerFetch({ tracing: on, metrics }, op, url, {}, (r) => r.json())],
  ];
  const rounds = new Map<string, number[]>(variants.map(([v]) => [v, []]));
  for (const [, f] of variants) for (let i = 0; i < 200; i++) await f(); // warm-up
  for (let r = 0; r < p.rounds; r++) {
    for (const [name, f] of variants) {
      const t = performance.now();
      for (let i = 0; i < p.calls; i++) await f();
      rounds.get(name)!.push(((performance.now() - t) * 1000) / p.calls);
    }
    log(`observability: call round ${r + 1}/${p.rounds}`);
  }
  await on.shutdown();
  partner.close();
  sink.close();
  const base = median(rounds.get(variants[0]![0])!);
  return {
    rows: variants.map(([name]) => ({ variant: name, usPerCall: median(rounds.get(name)!), ratio: median(rounds.get(name)!) / base, rounds: rounds.get(name)! })),
    spans,
  };
}

/** Orders as the flow leaves them: events on the order and shipment keys, a workflow with steps and refs, tracking, exceptions. */
async function seed(pool: pg.Pool, orders: number): Promise<{ order: string; tracking: string; events: number }> {
  const ex = EXAMPLE_EVENT_DATA as Record<string, Record<string, unknown>>;
  let events = 0;
  for (let start = 0; start < orders; start += 100) {
    const batch: Parameters<typeof ingest>[1] = [];
    const wf: unknown[][] = [];
    for (let i = start; i < Math.min(orders, start + 100); i++) {
      const order = `ord-B${i}`;
      const shp = `shp-B${i}`;
      for (const type of ['order.created.v1', 'order.released.v1', 'fulfilment.acknowledged.v1', 'order.picked.v1']) {
        batch.push({ id: randomUUID(), source: 'urn:bench:odoo', type, specversion: '1.0', data: { ...(ex[type] ?? {}), orderId: order }, extensions: {}, key: order, tenantId: 'default' });
      }
      for (const type of ['shipment.packed.v1', 'shipment.booked.v1', 'shipment.dispatched.v1', 'shipment.tracking.v1', 'shipment.tracking.v1', 'shipment.delivered.v1']) {
        batch.push({ id: randomUUID(), source: 'urn:bench:carrier', type, specversion: '1.0', data: { ...(ex[type] ?? {}), shipmentId: shp, orderId: order }, extensions: {}, key: shp, tenantId: 'default' });
      }
      wf.push([order, shp, `1ZBENCH${String(i).padStart(8, '0')}`]);
    }
    events += batch.length;
    await ingest(pool, batch);
    const [o, s, t] = [wf.map((w) => w[0]), wf.map((w) => w[1]), wf.map((w) => w[2])];
    await pool.query(
      `insert into hub_workflows (tenant_id, workflow, instance, status, state)
       select 'default', 'order-to-delivery', o, 'completed', jsonb_build_object('parts', jsonb_build_array(jsonb_build_object('shipmentId', s, 'trackingNumber', t, 'status', 'delivered')))
       from unnest($1::text[], $2::text[], $3::text[]) as x(o, s, t)`,
      [o, s, t],
    );
    await pool.query(`insert into hub_workflow_refs (tenant_id, workflow, ref, instance) select 'default', 'order-to-delivery', r, o from unnest($1::text[], $2::text[]) x(r, o) union all select 'default', 'order-to-delivery', t, o from unnest($3::text[], $1::text[]) y(t, o)`, [s, o, t]);
    await pool.query(`insert into hub_tracking (tenant_id, carrier, tracking_number, shipment_id, order_id, status, state) select 'default', 'ups', t, s, o, 'delivered', '{}' from unnest($1::text[], $2::text[], $3::text[]) x(t, s, o)`, [t, s, o]);
    await pool.query(
      `insert into hub_workflow_steps (tenant_id, workflow, instance, step, step_key, status, attempts, input, output)
       select 'default', 'order-to-delivery', o, st, st || ':' || s, 'done', 1, '{}', '{}' from unnest($1::text[], $2::text[]) x(o, s)
       cross join unnest(array['route', 'wms.release', 'carrier.book', 'wms.labels', 'odoo.validate', 'odoo.invoice']) st`,
      [o, s],
    );
  }
  await pool.query(
    `insert into hub_exceptions (tenant_id, key, code, severity, message, details)
     select 'default', 'ord-B' || g, 'short_pick:' || g, (array['warning', 'error', 'critical'])[1 + g % 3], 'bench', jsonb_build_object('class', (array['stock_shortage', 'delivery_failed', 'missing_scan', 'partner_rejected'])[1 + g % 4], 'carrier', 'ups')
     from generate_series(0, 499) g`,
  );
  await pool.query('analyze');
  const mid = Math.floor(orders / 2);
  return { order: `ord-B${mid}`, tracking: `1ZBENCH${String(mid).padStart(8, '0')}`, events };
}

async function benchReads(pool: pg.Pool, p: ObservabilityParams, log: (m: string) => void): Promise<{ rows: ObservabilityResult['reads']; events: number }> {
  const s = await seed(pool, p.orders);
  log(`observability: seeded ${s.events} events over ${p.orders} orders`);
  const viewer = { tenantId: 'default', pii: true, scopes: new Set(SCOPES) as ReadonlySet<Scope> };
  const now = new Date();
  const reads: Array<[string, () => Promise<unknown>]> = [
    ['GET /v1/timeline/{order} (baseline)', () => timelineView(pool, viewer, s.order, 100, undefined)],
    ['console overview (live stream tick)', () => overview(pool, 'default', now)],
    ['console search by tracking number', () => search(pool, 'default', s.tracking)],
    ['console timeline of the order', () => consoleTimeline(pool, viewer, s.order)],
    ['console exception groups', () => exceptionGroups(pool, 'default', { status: 'open' }, now)],
    ['console KPI report, 24 h window', () => kpiReport(pool, 'default', { from: new Date(now.getTime() - 86_400_000), to: now }, { now })],
  ];
  const times = new Map<string, number[]>(reads.map(([r]) => [r, []]));
  for (const [, f] of reads) for (let i = 0; i < 5; i++) await f();
  for (let r = 0; r < p.readRounds; r++) {
    for (const [name, f] of reads) {
      const t = performance.now();
      await f();
      times.get(name)!.push(performance.now() - t);
    }
  }
  const base = median(times.get(reads[0]![0])!);
  return { rows: reads.map(([name]) => ({ read: name, msMedian: median(times.get(name)!), msP90: p90(times.get(name)!), ratio: median(times.get(name)!) / base })), events: s.events };
}

export async function benchObservability(o: { quick: boolean; pool: pg.Pool; log: (m: string) => void }): Promise<ObservabilityResult> {
  const params = observabilityParams(o.quick);
  const calls = await benchCalls(params, o.log);
  const reads = await benchReads(o.pool, params, o.log);
  return { params, calls: calls.rows, spansExported: calls.spans, reads: reads.rows, events: reads.events };
}

export function renderObservability(r: ObservabilityResult): { md: string; summary: string } {
  const f = (n: number, d = 1) => n.toFixed(d);
  const calls = [
    '| partner call on loopback | µs per call (median of rounds) | × plain fetch | rounds (µs) |',
    '| --- | --- | --- | --- |',
    ...r.calls.map((c) => `| ${c.variant} | ${f(c.usPerCall)} | ${f(c.ratio, 2)} | ${c.rounds.map((x) => f(x, 0)).join(', ')} |`),
  ].join('\n');
  const reads = [
    '| console read | median ms | p90 ms | × /v1/timeline |',
    '| --- | --- | --- | --- |',
    ...r.reads.map((x) => `| ${x.read} | ${f(x.msMedian, 2)} | ${f(x.msP90, 2)} | ${f(x.ratio, 2)} |`),
  ].join('\n');
  const md = [
    `${r.params.rounds} alternating rounds of ${r.params.calls.toLocaleString('en')} sequential calls per variant after 200 warm-up calls each; with tracing on the spans went out in ${r.spansExported} OTLP/HTTP export requests to a loopback sink.`,
    '',
    calls,
    '',
    `The console's read models on ${r.events.toLocaleString('en')} events over ${r.params.orders.toLocaleString('en')} orders (each with a workflow, 6 steps, 2 refs and a tracking row) and 500 open exceptions; ${r.params.readRounds} rounds, in process, PostgreSQL on loopback.`,
    '',
    reads,
    '',
  ].join('\n');
  return { md, summary: `${calls}\n${reads}\n` };
}
