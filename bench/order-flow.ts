/**
 * The end-to-end order flow benchmark (`node bench/run.ts --only flow`): orders per minute from
 * a sale order confirmed in Odoo to its order-to-delivery workflow completed, through the demo
 * landscape (src/demo/landscape.ts: an Odoo 18 simulator, two SimWMS warehouses, the
 * EasyPost-style aggregator) with every simulator answering after a fixed latency.
 *
 * The hub runs in its own process with the landscape's own configuration: the landscape is
 * started in this process (simulators, database, tenant and secrets), its in-process hub is
 * stopped, and `node bench/order-flow.ts --hub` starts a hub from the same configuration on the
 * same port, so the simulators' webhooks reach it unchanged. This process keeps the simulators
 * and moves their time as test/e2e/order-to-delivery.test.ts does (small steps every 100 ms).
 *
 * Baseline, same run: a straight script over fresh simulators with the same latencies that makes,
 * order after order, the partner calls the flow needs (Odoo reads and writes one call per field
 * change or action, WMS inventory and release, carrier rate and buy, labels, tracking) with no
 * database and no retries: the minimum work, without the hub's guarantees.
 */
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { DEMO_SKUS, startLandscape } from '../src/demo/landscape.ts';
import { OdooSimulator } from '../simulators/odoo/server.ts';
import { WmsSimulator } from '../simulators/wms/server.ts';
import { EasyPostSimulator } from '../simulators/carriers/easypost/server.ts';
import { createOdooClient, type OdooClient } from '../src/connectors/odoo/client.ts';
import { WmsConnector } from '../src/connectors/wms/index.ts';
import { wmsPort } from '../src/connectors/wms/port.ts';
import { createEasyPostCarrier } from '../src/connectors/easypost/index.ts';
import type { CarrierPort, RateQuote } from '../src/connectors/carrier-port.ts';
import type { WmsPort } from '../src/connectors/wms-port.ts';
import { ENV_KEYS, loadConfig } from '../src/platform/config.ts';
import { systemClock } from '../src/platform/clock.ts';
import { adminQuery, cpuSnapshot, cpuUse, machine, peakRssMiB, round, sleep, spawnReady, summarize, type Child, type LatencySummary } from './lib.ts';

// ---------------------------------------------------------------- parameters

/** What a run is made of; stored with the results. */
export interface FlowParams {
  orders: number;
  odooLatencyMs: number;
  wmsLatencyMs: number;
  carrierLatencyMs: number;
  /** how the simulators' time moves: every driveEveryMs, WMS + wmsStepSeconds, carrier + carrierStepSeconds */
  driveEveryMs: number;
  wmsStepSeconds: number;
  carrierStepSeconds: number;
  captureIntervalMs: number;
  timeoutMs: number;
}

export function flowParams(quick: boolean): FlowParams {
  return {
    orders: quick ? 30 : 200,
    odooLatencyMs: 10,
    wmsLatencyMs: 10,
    carrierLatencyMs: 20,
    driveEveryMs: 100,
    wmsStepSeconds: 2,
    carrierStepSeconds: 6 * 3600,
    captureIntervalMs: 1000,
    timeoutMs: quick ? 120_000 : 600_000,
  };
}

/** Single-line orders over the four demo products: the east ships desks and bins, the west desk combinations and boxes. */
const PRODUCTS = [13, 27, 20, 18];

// ---------------------------------------------------------------- results

export interface FlowRun {
  orders: number;
  completed: number;
  /** first order confirmed in Odoo → last workflow completed */
  wallMs: number;
  ordersPerMinute: number;
  /** per order: confirmed → completed (hub) or confirmed → done (baseline), ms */
  latencyMs: LatencySummary & { p95: number | null };
  /** baseline only: the time its own calls took per order, ms */
  serviceMs?: LatencySummary & { p95: number | null };
  odooCalls: number;
  odooByMethod: Record<string, number>;
  wmsCalls: number;
  wmsByRoute: Record<string, number>;
  carrierCalls: number;
  carrierByRoute: Record<string, number>;
}

export interface FlowResult {
  /** when the section started, and on what */
  started: string;
  machine: ReturnType<typeof machine>;
  params: FlowParams;
  hub: FlowRun & {
    notCompleted: { instance: string; status: string; phase?: string; parts?: string }[];
    /** steps of the orders not completed that are not done */
    stuckSteps: { instance: string; step: string; status: string; attempts: number; error: string | null }[];
    deadLetters: number;
    openExceptions: number;
    exceptionsByCode: Record<string, number>;
    webhooksReceived: { wms: number; carrier: number };
    cpu: { wallSec: number; hubCores: number | null; postgresCores: number | null; benchCores: number | null; otherCores: number | null; busyCores: number | null };
    hubCpuSecondsPerOrder: number | null;
    hubPeakRssMiB: number | null;
    /** time steps of the run, and those in which the aggregator's clock was held (labels bought, parcels not shipped yet) */
    ticks: number;
    carrierHeldTicks: number;
    /** workflow steps (partner calls) of the measured orders: done, attempts, and done per second of the run */
    steps: { done: number; attempts: number; perSecond: number | null };
    /** committed transactions in the hub's database during the run, per order completed */
    commitsPerOrder: number | null;
    /** where the time goes: per milestone, p50 / p95 of (milestone − order confirmed), ms */
    milestones: { what: string; n: number; p50: number | null; p95: number | null }[];
  };
  baseline: FlowRun;
  failure?: string;
}

// ---------------------------------------------------------------- helpers

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const p95 = (values: number[]): LatencySummary & { p95: number | null } => {
  const s = summarize(values);
  const sorted = [...values].sort((a, b) => a - b);
  return { ...s, p95: sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]! : null };
};

const pick = (s: LatencySummary & { p95: number | null }) => ({ n: s.n, p50: s.p50, p95: s.p95 });
const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

/** Counters after minus counters before, by key. */
function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d) out[k] = d;
  }
  return out;
}

const wmsRequests = (sims: WmsSimulator[]) => {
  const out: Record<string, number> = {};
  for (const s of sims) for (const [k, v] of Object.entries(s.stats().requests as Record<string, number>)) out[k] = (out[k] ?? 0) + v;
  return out;
};

/** Confirms a single-line sale order directly in the simulator's database (no RPC: not counted). */
function confirmOrder(odoo: OdooSimulator, product: number, ref: string): { so: number; name: string; at: number } {
  const so = odoo.db.call(2, 'sale.order', 'create', [{ partner_id: 10, client_order_ref: ref, order_line: [[0, 0, { product_id: product, product_uom_qty: 1 }]] }], {}) as number;
  odoo.db.call(2, 'sale.order', 'action_confirm', [[so]], {});
  const at = Date.now();
  const [row] = odoo.db.call(2, 'sale.order', 'read', [[so], ['name']], {}) as { name: string }[];
  return { so, name: row!.name, at };
}

function setLatencies(p: FlowParams, odoo: OdooSimulator, wms: WmsSimulator[], easypost: EasyPostSimulator): void {
  odoo.setFaults({ latencyMs: p.odooLatencyMs });
  for (const w of wms) w.setFaults({ latencyMs: p.wmsLatencyMs });
  easypost.setFaults({ latencyMs: p.carrierLatencyMs });
}

// ---------------------------------------------------------------- the hub

export interface FlowContext {
  quick: boolean;
  /** a fresh, empty database on the bench's PostgreSQL server */
  freshDb(tag: string): Promise<{ name: string; url: string }>;
  serverUrl: string;
  log(m: string): void;
  /** child processes, stopped by the caller's cleanup on an interruption */
  children: Child[];
  interrupted(): boolean;
}

async function benchHub(ctx: FlowContext, p: FlowParams): Promise<FlowResult['hub']> {
  const db = await ctx.freshDb('flow');
  const dataDir = mkdtempSync(join(tmpdir(), 'hub-flow-'));
  const port = await freePort();
  const l = await startLandscape({ databaseUrl: db.url, dataDir, port, logLevel: 'silent', captureIntervalMs: p.captureIntervalMs });
  let hub: Child | undefined;
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  try {
    // the landscape's hub configured everything (tenant, secrets, webhooks on the simulators);
    // the same configuration now runs in a process of its own, on the same port
    const config = l.hub.config;
    await l.hub.stop();
    const configFile = join(dataDir, 'hub-flow.json');
    writeFileSync(configFile, JSON.stringify(config)); // JSON is YAML
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.keys(ENV_KEYS).map((k) => [k, '']));
    Object.assign(env, { HUB_CONFIG: configFile, DATABASE_URL: db.url, PORT: String(port), HUB_DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    hub = await spawnReady(join(import.meta.dirname, 'order-flow.ts'), ['--hub'], env);
    ctx.children.push(hub);
    ctx.log(`flow: hub process ${hub.pid} at ${hub.ready}`);
    setLatencies(p, l.odoo, [l.east, l.west], l.easypost);

    const q = async <T extends pg.QueryResultRow>(sql: string, v: unknown[] = []) => (await pool.query<T>(sql, v)).rows;
    // Carriers scan a parcel after it left the warehouse: the aggregator's clock moves only while
    // every label bought has shipped at its WMS (otherwise a 6 h step delivers parcels still on
    // the packing bench). The end-to-end test does the same by advancing the carrier last.
    const shipped = () => [...l.east.orders(), ...l.west.orders()].filter((o) => o.status === 'shipped').length;
    let carrierHeld = 0;
    const drive = async () => {
      await Promise.all([l.east.advance(p.wmsStepSeconds), l.west.advance(p.wmsStepSeconds)]);
      if (l.easypost.stats.labelsPurchased <= shipped()) l.easypost.advance(p.carrierStepSeconds);
      else carrierHeld++;
      await sleep(p.driveEveryMs);
    };
    const completedOf = async (ids: string[]) =>
      q<{ instance: string; at: string }>(`select instance, extract(epoch from updated_at) * 1000 as at from hub_workflows where status = 'completed' and instance = any($1)`, [ids]);

    // warm-up: one order through the whole flow (connections, code paths, the flow's bindings)
    const w = confirmOrder(l.odoo, 13, 'BENCH-WARMUP');
    const warmDeadline = Date.now() + 120_000;
    while ((await completedOf([`ord-${w.name}`])).length === 0) {
      if (Date.now() > warmDeadline || ctx.interrupted()) throw new Error(`the warm-up order ${w.name} did not complete in 120 s: ${hub.stderr().slice(-2000)}`);
      await drive();
    }
    ctx.log(`flow: warm-up order completed in ${((Date.now() - w.at) / 1000).toFixed(1)} s`);
    await sleep(1500); // let its last webhooks and notes settle before the counters start

    const foreign = new Set((await adminQuery<{ pid: number }>(ctx.serverUrl, `select pid from pg_stat_activity where datname is distinct from $1`, [db.name])).rows.map((r) => r.pid));
    const backends = async () => (await adminQuery<{ pid: number }>(ctx.serverUrl, `select pid from pg_stat_activity where datname = $1`, [db.name])).rows.map((r) => r.pid);
    const commits = async () => Number((await adminQuery<{ c: string }>(ctx.serverUrl, `select xact_commit as c from pg_stat_database where datname = $1`, [db.name])).rows[0]?.c ?? 0);
    l.odoo.resetCounters();
    const wms0 = wmsRequests([l.east, l.west]);
    const ep0 = { ...l.easypost.stats.requests };
    const hooks0 = { wms: sum(await webhookCount(pool, 'wms-%')), carrier: sum(await webhookCount(pool, 'easypost')) };
    const x0 = await commits();
    const c0 = cpuSnapshot();
    carrierHeld = 0;
    let ticks = 0;

    const orders = Array.from({ length: p.orders }, (_, i) => confirmOrder(l.odoo, PRODUCTS[i % PRODUCTS.length]!, `BENCH-${i + 1}`));
    const first = orders[0]!.at;
    const ids = orders.map((o) => `ord-${o.name}`);
    ctx.log(`flow: ${p.orders} orders confirmed in Odoo in ${Date.now() - first} ms; moving the simulators' time`);
    const deadline = first + p.timeoutMs;
    let done: { instance: string; at: string }[] = [];
    let lastLog = Date.now();
    for (;;) {
      done = await completedOf(ids);
      if (done.length === ids.length || Date.now() > deadline || ctx.interrupted()) break;
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        ctx.log(`flow: ${done.length}/${ids.length} completed`);
      }
      await drive();
      ticks++;
    }
    const c1 = cpuSnapshot();
    const hubBackends = await backends();
    const peak = peakRssMiB(hub.pid);
    const odooByMethod = Object.fromEntries([...l.odoo.calls].sort((a, b) => b[1] - a[1]));
    const wmsByRoute = diff(wmsRequests([l.east, l.west]), wms0);
    const carrierByRoute = diff(l.easypost.stats.requests, ep0);
    const hooks1 = { wms: sum(await webhookCount(pool, 'wms-%')), carrier: sum(await webhookCount(pool, 'easypost')) };
    const u = cpuUse(c0, c1, { hub: [hub.pid], bench: [process.pid], backends: hubBackends }, foreign);
    const x1 = await commits();
    const at = new Map(done.map((d) => [d.instance, Number(d.at)]));
    const lat = orders.filter((o) => at.has(`ord-${o.name}`)).map((o) => at.get(`ord-${o.name}`)! - o.at);
    const last = Math.max(...at.values());
    const wallMs = done.length ? last - first : Date.now() - first;
    const notCompleted = await q<{ instance: string; status: string; phase: string; parts: string }>(
      `select instance, status, state->>'phase' as phase,
              (select string_agg(coalesce(p->>'status', '?') || coalesce(' ' || (p->>'trackingStatus'), '') || case when (p->>'invoiced')::boolean then ' invoiced' else '' end, ', ') from jsonb_array_elements(state->'parts') p) as parts
         from hub_workflows where instance = any($1) and status <> 'completed' order by instance limit 20`, [ids]);
    const missing = ids.filter((i) => !at.has(i)).length;
    const confirmedAt = new Map(orders.map((o) => [`ord-${o.name}`, o.at]));
    const since = (rows: { instance: string; at: string }[]) => rows.filter((x) => confirmedAt.has(x.instance)).map((x) => Number(x.at) - confirmedAt.get(x.instance)!);
    const milestones: FlowResult['hub']['milestones'] = [];
    const created = await q<{ instance: string; at: string }>(`select instance, extract(epoch from created_at) * 1000 as at from hub_workflows where instance = any($1)`, [ids]);
    milestones.push({ what: 'workflow started (change capture → order.confirmed handled)', ...pick(p95(since(created))) });
    for (const step of ['route', 'wms.release', 'carrier.book', 'wms.labels', 'odoo.validate', 'odoo.invoice']) {
      const rows = await q<{ instance: string; at: string }>(
        `select instance, extract(epoch from min(updated_at)) * 1000 as at from hub_workflow_steps where instance = any($1) and step = $2 and status = 'done' group by instance`, [ids, step]);
      milestones.push({ what: `step ${step} done`, ...pick(p95(since(rows))) });
    }
    milestones.push({ what: 'workflow completed', ...pick(p95(lat)) });
    const [st] = await q<{ done: string; attempts: string }>(`select count(*) filter (where status = 'done') done, coalesce(sum(attempts), 0) attempts from hub_workflow_steps where instance = any($1)`, [ids]);
    const steps = { done: Number(st?.done ?? 0), attempts: Number(st?.attempts ?? 0), perSecond: round(Number(st?.done ?? 0) / (wallMs / 1000), 1) };
    const deadLetters = Number((await q<{ n: string }>(`select count(*) n from hub_dead_letters`))[0]?.n ?? 0);
    const openExceptions = Number((await q<{ n: string }>(`select count(*) n from hub_exceptions where status = 'open'`))[0]?.n ?? 0);
    const exceptionsByCode = Object.fromEntries(
      (await q<{ code: string; n: string }>(`select split_part(code, ':', 1) || coalesce(' (' || (details->>'class') || ')', '') as code, count(*) n from hub_exceptions where status = 'open' group by 1 order by 2 desc`)).map((x) => [x.code, Number(x.n)]),
    );
    const stuckSteps = missing
      ? (await q<{ instance: string; step: string; status: string; attempts: number; error: unknown }>(
          `select instance, step, status, attempts, error from hub_workflow_steps where instance = any($1) and status <> 'done' and instance in (select instance from hub_workflows where status <> 'completed') order by instance, id limit 30`, [ids],
        )).map((x) => ({ instance: x.instance, step: x.step, status: x.status, attempts: x.attempts, error: x.error === null ? null : JSON.stringify(x.error).slice(0, 300) }))
      : [];
    const hubCpu = u.groups.hub ?? 0;
    const n = p.orders;
    const result: FlowResult['hub'] = {
      orders: n,
      completed: done.length,
      wallMs,
      ordersPerMinute: done.length / (wallMs / 60_000),
      latencyMs: p95(lat),
      odooCalls: l.odoo.totalCalls,
      odooByMethod,
      wmsCalls: sum(wmsByRoute),
      wmsByRoute,
      carrierCalls: sum(carrierByRoute),
      carrierByRoute,
      notCompleted: missing ? notCompleted : [],
      stuckSteps,
      deadLetters,
      openExceptions,
      exceptionsByCode,
      webhooksReceived: { wms: hooks1.wms - hooks0.wms, carrier: hooks1.carrier - hooks0.carrier },
      cpu: {
        wallSec: round(u.wallSec, 2)!, hubCores: round(hubCpu, 2), postgresCores: round((u.groups.postgres ?? 0) + (u.groups.backends ?? 0), 2),
        benchCores: round(u.groups.bench, 2), otherCores: round(u.otherCores, 2), busyCores: round(u.busyCores, 2),
      },
      hubCpuSecondsPerOrder: done.length ? round((hubCpu * u.wallSec) / done.length, 3) : null,
      hubPeakRssMiB: round(peak, 0),
      commitsPerOrder: done.length ? round((x1 - x0) / done.length, 1) : null,
      milestones,
      ticks,
      carrierHeldTicks: carrierHeld,
      steps,
    };
    ctx.log(`flow: hub ${done.length}/${n} completed in ${(wallMs / 1000).toFixed(1)} s: ${result.ordersPerMinute.toFixed(0)} orders/min, p50 ${(result.latencyMs.p50 ?? 0) / 1000} s`);
    return result;
  } finally {
    await hub?.stop();
    await pool.end().catch(() => undefined);
    await l.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Webhook receipts the hub stored per partner (hub_webhook_receipts when present). */
async function webhookCount(pool: pg.Pool, partnerLike: string): Promise<Record<string, number>> {
  try {
    const r = await pool.query<{ partner: string; n: string }>(`select partner, count(*) n from hub_webhook_receipts where partner like $1 group by 1`, [partnerLike]);
    return Object.fromEntries(r.rows.map((x) => [x.partner, Number(x.n)]));
  } catch {
    return {};
  }
}


// ---------------------------------------------------------------- the baseline

interface BaselineSims {
  odoo: OdooSimulator;
  east: WmsSimulator;
  west: WmsSimulator;
  easypost: EasyPostSimulator;
}

/** The landscape's simulators without a hub: same data, same timings, no webhooks anywhere. */
async function baselineSims(): Promise<BaselineSims> {
  const timings = { acceptDelaySeconds: 1, waveIntervalSeconds: 10, pickSeconds: 5, packSeconds: 5, shipSeconds: 5 };
  const odoo = await OdooSimulator.start({ version: 18 });
  const east = await WmsSimulator.start({ apiKey: 'east-api-key', ...timings });
  const west = await WmsSimulator.start({ apiKey: 'west-api-key', ...timings });
  const easypost = await EasyPostSimulator.start({ apiKeys: ['EZTK_sim_demo_key'] });
  for (const w of [east, west]) {
    w.setSkus(DEMO_SKUS);
    w.setStock(Object.fromEntries(DEMO_SKUS.map((s) => [s.sku, 0])));
  }
  east.setStock({ FURN_0097: 500, 'E-COM10': 500 });
  west.setStock({ FURN_7800: 500, 'E-COM08': 500 });
  return { odoo, east, west, easypost };
}

interface Site {
  id: string;
  sim: WmsSimulator;
  port: WmsPort;
  apiKey: string;
  address: { lines: string[]; city: string; region: string; postalCode: string; countryCode: string };
}

type Row = Record<string, unknown>;
const m2o = (v: unknown): number | undefined => (Array.isArray(v) ? (v[0] as number) : undefined);

/**
 * One order, straight through: each call once, in order, as the flow's steps need them.
 * Odoo: one call per read, per field change and per action (no batching, no re-reads).
 */
async function baselineOrder(s: BaselineSims, odoo: OdooClient, sites: Site[], carrier: CarrierPort, so: number): Promise<void> {
  // the order, as change capture reads it
  const [order] = (await odoo.call('sale.order', 'read', [[so], ['name', 'partner_shipping_id', 'order_line', 'picking_ids']])) as Row[];
  const lines = (await odoo.call('sale.order.line', 'read', [order!.order_line, ['product_id', 'product_uom_qty']])) as Row[];
  const products = (await odoo.call('product.product', 'read', [lines.map((x) => m2o(x.product_id)), ['default_code']])) as Row[];
  const [partner] = (await odoo.call('res.partner', 'read', [[m2o(order!.partner_shipping_id)], ['name', 'street', 'city', 'zip', 'country_code']])) as Row[];
  const name = String(order!.name);
  const orderId = `ord-${name}`;
  const sku = (l: Row) => String(products.find((x) => x.id === m2o(l.product_id))?.default_code);
  const want = lines.map((l) => ({ lineId: `sol-${String(l.id)}`, sku: sku(l), quantity: Number(l.product_uom_qty) }));
  // route: stock in every warehouse, the first (by priority) that holds every line
  const stock = await Promise.all(sites.map((w) => w.port.inventory(want.map((x) => x.sku))));
  const i = stock.findIndex((st) => want.every((x) => (st[x.sku] ?? 0) >= x.quantity));
  if (i < 0) throw new Error(`baseline: no warehouse holds ${name}`);
  const site = sites[i]!;
  const shipTo = { name: String(partner!.name), address: { lines: [String(partner!.street)], city: String(partner!.city), postalCode: String(partner!.zip), countryCode: String(partner!.country_code || 'US') } };
  const shipmentId = `shp-${name}-1`;
  const { wmsOrderId } = await site.port.release({
    fulfilmentRequestId: `fr-${name}`, orderId, orderNumber: name, shipmentId, shipTo: shipTo as never,
    lines: want.map((x) => ({ orderLineId: x.lineId, sku: x.sku, quantity: x.quantity, uom: 'EA' })),
  });
  // the warehouse works (simulated time); the script asks once for the packed order
  const get = async () => {
    const r = await fetch(`${site.sim.url}/api/v1/outbound-orders/${encodeURIComponent(wmsOrderId)}`, { headers: { 'x-api-key': site.apiKey } });
    if (!r.ok) throw new Error(`baseline: GET ${wmsOrderId} answered ${r.status}`);
    return (await r.json()) as { status: string; packages: { package_id: string; weight_kg: number; length_cm: number; width_cm: number; height_cm: number }[] };
  };
  await site.sim.advance(30);
  const packed = await get();
  if (packed.status !== 'packed') throw new Error(`baseline: ${wmsOrderId} is ${packed.status} after 30 s`);
  // carrier: rate, buy the cheapest quote
  const request = {
    shipmentId, from: site.address as never, to: shipTo.address as never,
    parcels: packed.packages.map((x) => ({ packageId: x.package_id, weight: { value: x.weight_kg, unit: 'kg' } as never, dimensions: { length: x.length_cm, width: x.width_cm, height: x.height_cm, unit: 'cm' } as never })),
  };
  const quotes = await carrier.rate!(request);
  const best = [...quotes].sort((a: RateQuote, b: RateQuote) => Number(a.price.amount) - Number(b.price.amount))[0];
  if (!best) throw new Error(`baseline: no quote for ${name}`);
  const booking = await carrier.book!({ quote: best, request, labelFormat: 'PDF', idempotencyKey: `baseline:${shipmentId}` });
  const ref = { fulfilmentRequestId: `fr-${name}`, shipmentId, orderId, wmsOrderId };
  const attached = await site.port.attachLabels(ref, {
    carrier: booking.carrierAccount ?? booking.carrier, service: booking.service, masterTrackingNumber: booking.masterTrackingNumber,
    pieces: booking.pieces.map((x) => ({ packageId: x.packageId, trackingNumber: x.trackingNumber, label: x.label, labelUri: `urn:baseline:${x.trackingNumber}` })),
  });
  if (!attached.ok) throw new Error(`baseline: labels refused: ${attached.reason}`);
  await site.sim.advance(10);
  const shipped = await get();
  if (shipped.status !== 'shipped') throw new Error(`baseline: ${wmsOrderId} is ${shipped.status} after the labels`);
  // Odoo: the delivery done with its tracking number
  const picking = (order!.picking_ids as number[])[0];
  if (picking === undefined) throw new Error(`baseline: ${name} has no delivery`);
  const moves = (await odoo.call('stock.move', 'search_read', [[['picking_id', '=', picking]]], { fields: ['product_uom_qty'] })) as Row[];
  for (const m of moves) await odoo.call('stock.move', 'write', [[m.id], { quantity: m.product_uom_qty, picked: true }]);
  await odoo.call('stock.picking', 'write', [[picking], { carrier_tracking_ref: booking.masterTrackingNumber }]);
  await odoo.call('stock.picking', 'button_validate', [[picking]], { context: { skip_sms: true } });
  // the carrier delivers (simulated time); the script asks once
  s.easypost.advance(5 * 24 * 3600);
  const [t] = await carrier.track!([booking.masterTrackingNumber]);
  if (!t?.scans.some((x) => x.status === 'delivered')) throw new Error(`baseline: ${booking.masterTrackingNumber} not delivered: ${JSON.stringify(t?.scans.map((x) => x.status))}`);
  await odoo.call('stock.picking', 'message_post', [[picking]], { body: `<p>Tracking ${shipmentId}: delivered</p>`, message_type: 'comment', subtype_xmlid: 'mail.mt_note' });
  // invoice what was delivered, post it
  const context = { active_ids: [so], active_model: 'sale.order', active_id: so };
  const wizard = (await odoo.call('sale.advance.payment.inv', 'create', [{ advance_payment_method: 'delivered' }], { context })) as number | number[];
  await odoo.call('sale.advance.payment.inv', 'create_invoices', [[Array.isArray(wizard) ? wizard[0] : wizard]], { context });
  const [after] = (await odoo.call('sale.order', 'read', [[so], ['invoice_ids']])) as Row[];
  await odoo.call('account.move', 'action_post', [after!.invoice_ids]);
}

async function benchBaseline(ctx: FlowContext, p: FlowParams): Promise<FlowRun> {
  const s = await baselineSims();
  try {
    const addresses = {
      east: { lines: ['4750 Longley Lane'], city: 'Reno', region: 'NV', postalCode: '89502', countryCode: 'US' },
      west: { lines: ['1200 Harbor Blvd'], city: 'Oakland', region: 'CA', postalCode: '94607', countryCode: 'US' },
    };
    const sites: Site[] = (['east', 'west'] as const).map((id) => {
      const sim = s[id];
      const apiKey = `${id}-api-key`;
      const connector = WmsConnector.fromConfig({ baseUrl: sim.url, profile: 'simwms', apiKey, timeoutMs: 30_000, constants: { system: `wms:loc-${id}`, warehouseId: `loc-${id}` } });
      return { id: `loc-${id}`, sim, apiKey, port: wmsPort(`loc-${id}`, connector, systemClock), address: addresses[id] };
    });
    const carrier = createEasyPostCarrier({ baseUrl: s.easypost.url, apiKey: 'EZTK_sim_demo_key' });
    const odoo = createOdooClient({ url: s.odoo.url, db: 'logi', login: 'admin', secret: 'admin', protocol: 'jsonrpc', timeoutMs: 30_000 });
    setLatencies(p, s.odoo, [s.east, s.west], s.easypost);
    // warm-up outside the counters: log in, one order through
    const w = confirmOrder(s.odoo, 13, 'BASELINE-WARMUP');
    await baselineOrder(s, odoo, sites, carrier, w.so);
    s.odoo.resetCounters();
    const wms0 = wmsRequests([s.east, s.west]);
    const ep0 = { ...s.easypost.stats.requests };

    const orders = Array.from({ length: p.orders }, (_, i) => confirmOrder(s.odoo, PRODUCTS[i % PRODUCTS.length]!, `BASELINE-${i + 1}`));
    const first = orders[0]!.at;
    const lat: number[] = [];
    const service: number[] = [];
    let last = first;
    for (const o of orders) {
      if (ctx.interrupted()) break;
      const t = Date.now();
      await baselineOrder(s, odoo, sites, carrier, o.so);
      last = Date.now();
      service.push(last - t);
      lat.push(last - o.at);
    }
    const wmsByRoute = diff(wmsRequests([s.east, s.west]), wms0);
    const carrierByRoute = diff(s.easypost.stats.requests, ep0);
    const wallMs = last - first;
    const r: FlowRun = {
      orders: p.orders, completed: lat.length, wallMs, ordersPerMinute: lat.length / (wallMs / 60_000),
      latencyMs: p95(lat), serviceMs: p95(service),
      odooCalls: s.odoo.totalCalls, odooByMethod: Object.fromEntries([...s.odoo.calls].sort((a, b) => b[1] - a[1])),
      wmsCalls: sum(wmsByRoute), wmsByRoute, carrierCalls: sum(carrierByRoute), carrierByRoute,
    };
    ctx.log(`flow: baseline ${r.completed}/${p.orders} in ${(wallMs / 1000).toFixed(1)} s: ${r.ordersPerMinute.toFixed(0)} orders/min, ${(r.odooCalls / r.completed).toFixed(1)} Odoo calls per order`);
    return r;
  } finally {
    await Promise.all([s.odoo.stop(), s.east.stop(), s.west.stop(), s.easypost.stop()]);
  }
}

// ---------------------------------------------------------------- the section

/** Runs the hub's measurement, then the baseline's, on the same machine in the same run. */
export async function benchOrderFlow(ctx: FlowContext): Promise<FlowResult> {
  const p = flowParams(ctx.quick);
  const started = new Date().toISOString();
  ctx.log(`flow: ${p.orders} orders; latency Odoo ${p.odooLatencyMs} ms, WMS ${p.wmsLatencyMs} ms, carrier ${p.carrierLatencyMs} ms per call`);
  const hub = await benchHub(ctx, p);
  const baseline = await benchBaseline(ctx, p);
  return { started, machine: machine(), params: p, hub, baseline };
}

const f1 = (v: number | null | undefined, d = 1) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const secs = (ms: number | null | undefined) => (ms === null || ms === undefined ? '–' : `${(ms / 1000).toFixed(2)} s`);
const per = (n: number, orders: number) => (orders ? f1(n / orders, 2) : '–');

/** Markdown for RESULTS.md ("Order flow end to end") and the console summary. */
export function renderOrderFlow(r: FlowResult): { md: string; summary: string } {
  const p = r.params;
  const h = r.hub;
  const b = r.baseline;
  // calls of every order fed, finished or not
  const hn = h.orders;
  const bn = b.orders;
  const main = [
    '| | hub | baseline (straight script, no database) | hub ÷ baseline |',
    '| --- | --- | --- | --- |',
    `| orders completed | ${h.completed} / ${h.orders} | ${b.completed} / ${b.orders} | |`,
    `| wall time, first confirmed → last completed | ${secs(h.wallMs)} | ${secs(b.wallMs)} | |`,
    `| orders per minute | ${f1(h.ordersPerMinute)} | ${f1(b.ordersPerMinute)} | ${f1(h.ordersPerMinute / b.ordersPerMinute, 2)}× |`,
    `| per order, confirmed → completed, p50 / p95 | ${secs(h.latencyMs.p50)} / ${secs(h.latencyMs.p95)} | ${secs(b.latencyMs.p50)} / ${secs(b.latencyMs.p95)} (queued behind earlier orders) | |`,
    `| per order, its own calls (baseline), p50 / p95 | | ${secs(b.serviceMs?.p50)} / ${secs(b.serviceMs?.p95)} | |`,
    `| Odoo calls per order | ${per(h.odooCalls, hn)} | ${per(b.odooCalls, bn)} | ${f1(h.odooCalls / hn / (b.odooCalls / bn), 2)}× |`,
    `| WMS calls per order | ${per(h.wmsCalls, hn)} | ${per(b.wmsCalls, bn)} | ${f1(h.wmsCalls / hn / (b.wmsCalls / bn), 2)}× |`,
    `| carrier calls per order | ${per(h.carrierCalls, hn)} | ${per(b.carrierCalls, bn)} | ${f1(h.carrierCalls / hn / (b.carrierCalls / bn), 2)}× |`,
    `| hub CPU: cores while the flow ran / CPU seconds per order | ${f1(h.cpu.hubCores, 2)} / ${f1(h.hubCpuSecondsPerOrder, 3)} s | | |`,
    `| hub peak RSS (VmHWM) | ${f1(h.hubPeakRssMiB, 0)} MiB | | |`,
    `| PostgreSQL: cores / commits in the hub's database per order | ${f1(h.cpu.postgresCores, 2)} / ${f1(h.commitsPerOrder, 1)} | none | |`,
  ].join('\n');
  const methods = [...new Set([...Object.keys(h.odooByMethod), ...Object.keys(b.odooByMethod)])].sort((x, y) => (h.odooByMethod[y] ?? 0) - (h.odooByMethod[x] ?? 0) || (b.odooByMethod[y] ?? 0) - (b.odooByMethod[x] ?? 0));
  const odooTable = [
    '| Odoo model.method | hub per order | baseline per order |',
    '| --- | --- | --- |',
    ...methods.map((m) => `| ${m} | ${h.odooByMethod[m] ? per(h.odooByMethod[m], hn) : '–'} | ${b.odooByMethod[m] ? per(b.odooByMethod[m], bn) : '–'} |`),
  ].join('\n');
  const routes = (hm: Record<string, number>, bm: Record<string, number>) =>
    [...new Set([...Object.keys(hm), ...Object.keys(bm)])].sort().map((k) => `${k}: ${hm[k] ? per(hm[k], hn) : '0'} / ${bm[k] ? per(bm[k], bn) : '0'}`).join('; ');
  const md: string[] = [];
  md.push(
    `Measured ${r.started} on ${r.machine.nproc} cores (${r.machine.cpuModel}), node ${r.machine.node}, load average after the section ${r.machine.loadavg.join(' ')}; ${p.orders} orders${p.orders < 200 ? ' (quick)' : ''}.`,
    '',
    `${p.orders} single-line sale orders (rotating over the four demo products, so both warehouses ship) are confirmed in the Odoo simulator at once, directly in its database as the end-to-end test does (not counted as calls). ` +
      `Every simulator answers each API call after a fixed delay: Odoo ${p.odooLatencyMs} ms, each SimWMS ${p.wmsLatencyMs} ms, the EasyPost-style aggregator ${p.carrierLatencyMs} ms. ` +
      `The hub runs in its own process with the demo landscape's configuration (src/demo/landscape.ts: change capture every ${p.captureIntervalMs / 1000} s, two warehouses, the aggregator, note window 5 s) on a fresh database; one warm-up order goes through first, outside the counters. ` +
      `The benchmark process holds the simulators and moves their time as test/e2e/order-to-delivery.test.ts does: every ${p.driveEveryMs} ms the warehouses advance ${p.wmsStepSeconds} s and the aggregator ${p.carrierStepSeconds / 3600} h, the aggregator only while every label bought has shipped at its warehouse (carriers scan parcels after they leave; held in ${h.carrierHeldTicks ?? '–'} of ${h.ticks ?? '–'} steps); the hub runs on the wall clock. ` +
      `Wall time: the first order confirmed → the last hub_workflows row with status 'completed' (its updated_at); per-order latency: its confirmation → its completion, so with every order fed at once it includes the wait behind the others. ` +
      `Calls are counted by the simulators (Odoo by model.method, including the change-capture polls during the run; WMS and aggregator by route).`,
    '',
    `Baseline, same run, fresh simulators with the same data and latencies: a script that takes the orders one after another and makes each call once, sequentially, with no database, no retries and no idempotency: ` +
      `Odoo reads of the order (with its delivery), its lines, products and address; the stock of both warehouses and the release; after moving the warehouse's time, one read of the packed order; aggregator rate and buy of the cheapest quote; the labels to the WMS; after moving time, one read of the shipped order; ` +
      `in Odoo one call per field change or action (read the delivery's moves, write each move's quantity, write the tracking number, validate); after moving the aggregator's time, one tracking request; one chatter note; invoice (wizard create, create_invoices, read, post). ` +
      `Its Odoo calls per order are the naive count: one call per read, per field change and per action.`,
    '',
    main,
    '',
    '#### Odoo calls by model.method',
    '',
    odooTable,
    '',
    '#### Where an order\'s time goes (hub)',
    '',
    ...(h.steps ? [`Workflow steps of the measured orders: ${h.steps.done} done (${per(h.steps.done, hn)} per order, ${h.steps.attempts} attempts), ${f1(h.steps.perSecond, 1)} steps done per second of the run.`, ''] : []),
    '| milestone | orders | p50 / p95 after the order was confirmed |',
    '| --- | --- | --- |',
    ...(h.milestones ?? []).map((m) => `| ${m.what} | ${m.n} | ${secs(m.p50)} / ${secs(m.p95)} |`),
    '',
    `WMS calls per order by route, hub / baseline: ${routes(h.wmsByRoute, b.wmsByRoute)}.`,
    '',
    `Aggregator calls per order by route, hub / baseline: ${routes(h.carrierByRoute, b.carrierByRoute)}.`,
    '',
    `CPU while the hub's flow ran (${f1(h.cpu.wallSec, 1)} s): hub process ${f1(h.cpu.hubCores, 2)} cores, PostgreSQL ${f1(h.cpu.postgresCores, 2)}, the benchmark process with all the simulators ${f1(h.cpu.benchCores, 2)}, other ${f1(h.cpu.otherCores, 2)} (machine busy ${f1(h.cpu.busyCores, 2)} cores).` +
      (h.webhooksReceived.wms || h.webhooksReceived.carrier ? ` Webhooks the hub received per order: WMS ${per(h.webhooksReceived.wms, hn)}, aggregator ${per(h.webhooksReceived.carrier, hn)}.` : '') +
      ` Dead letters: ${h.deadLetters}; open exceptions: ${h.openExceptions}${h.openExceptions ? ` (${Object.entries(h.exceptionsByCode ?? {}).map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''}.` +
      (h.notCompleted.length ? ` Not completed: ${h.notCompleted.map((x) => `${x.instance} (${x.status}, phase ${x.phase ?? '?'}, parts: ${x.parts ?? '?'})`).join(', ')}.` : '') +
      (h.stuckSteps?.length ? ` Their steps not done: ${h.stuckSteps.map((x) => `${x.instance} ${x.step} ${x.status} after ${x.attempts} attempts${x.error ? ` (${x.error})` : ''}`).join('; ')}.` : ''),
    '',
  );
  if (r.failure) md.push(`**The flow benchmark failed**: ${r.failure}`, '');
  return { md: md.join('\n'), summary: `${main}\n\n${odooTable}\n` };
}

// ---------------------------------------------------------------- the hub process

// `node bench/order-flow.ts --hub`: the real startHub with the configuration of HUB_CONFIG and the
// environment (as `logistics-hub start` reads it); prints "READY <url>"; stops on SIGTERM.
if (import.meta.main && process.argv.includes('--hub')) {
  const { startHub } = await import('../src/hub.ts');
  const hub = await startHub(loadConfig());
  process.stdout.write(`READY ${hub.url}\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await hub.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}
