/**
 * `npm run bench` — benchmarks of the durable pipeline. They measure and report; they do
 * not assert. Everything runs on loopback; every loop is bounded in time.
 *
 *   node bench/run.ts [--quick] [--only ingest|pipeline|odoo|flow|observability]
 *
 * 1. ingest:   the hub as its own process (no-op handler, workers on) driven over HTTP by
 *              bench/loadgen.ts in a separate process; ceilings measured in the same run:
 *              a bare node:http server (bench/bare-server.ts) under the same load, and raw
 *              multi-row INSERTs of the same rows into hub_events (no HTTP).
 * 2. pipeline: N events pre-loaded with ingest(), drained by 1, 2, 4 hub processes with a
 *              handler that inserts one row per event; baseline: graphile-worker 0.18 on the
 *              same PostgreSQL, the same jobs, unordered and with queue_name = key.
 * 3. odoo:     the Odoo connector benches (bench/odoo.ts, bench/odoo-capture.ts).
 * 4. flow:     orders end to end through the demo landscape's simulators at fixed latencies
 *              (bench/order-flow.ts); baseline: a straight script making the same partner calls.
 * 5. observability: the added latency of a partner call through the instrumented wrapper,
 *              tracing off and on (baseline: plain fetch), and the console's read models
 *              (baseline: the /v1/timeline read model) (bench/observability.ts).
 *
 * Writes bench/RESULTS.md and raw JSON in bench/out/; prints a summary.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createPool, startEmbeddedPostgres } from '../src/platform/db.ts';
import { migrate } from '../src/platform/migrate.ts';
import { validateConfig } from '../src/platform/config.ts';
import { ingest } from '../src/pipeline/inbox.ts';
import { incomingEvent } from './events.ts';
import { benchOrderFlow, renderOrderFlow, type FlowResult } from './order-flow.ts';
import { benchObservability, renderObservability, type ObservabilityResult } from './observability.ts';
import type { LoadResult, LoadSpec } from './loadgen.ts';
import {
  adminQuery, cpuBusy, cpuSnapshot, cpuUse, createDatabase, dbName, dropDatabase, machine, peakRssMiB, reachable, round, runToEnd, sleep,
  spawnReady, summarize, type Child, type CpuUse, type LatencySummary,
} from './lib.ts';

const here = import.meta.dirname;
const args = process.argv.slice(2);
const outDir = join(here, 'out');
// --report [file]: no measurement; re-render RESULTS.md from a raw JSON (default: the latest
// run), e.g. after editing RESULTS.notes.md
const reportIdx = args.indexOf('--report');
const reportFrom = reportIdx >= 0 ? (args[reportIdx + 1] && !args[reportIdx + 1]!.startsWith('--') ? args[reportIdx + 1]! : join(outDir, 'latest.json')) : undefined;
const loaded = reportFrom ? (JSON.parse(readFileSync(reportFrom, 'utf8')) as RawResults) : undefined;
const quick: boolean = loaded ? loaded.quick : args.includes('--quick');
const onlyIdx = args.indexOf('--only');
const only = loaded ? (loaded.only === 'all' ? undefined : loaded.only) : onlyIdx >= 0 ? args[onlyIdx + 1] : undefined;
if (only !== undefined && only !== 'ingest' && only !== 'pipeline' && only !== 'odoo' && only !== 'flow' && only !== 'observability') {
  console.error('usage: node bench/run.ts [--quick] [--only ingest|pipeline|odoo|flow|observability] | --report [bench/out/<run>.json]');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), 'hub-bench-'));
const t0 = Date.now();
const log = (m: string) => console.log(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${m}`);

// ---------------------------------------------------------------- parameters

const P: Params = loaded
  ? loaded.params
  : quick
  ? { durationMs: 2500, batchDurationMs: 2500, warmupMs: 500, rateDurationMs: 3000, drainTimeoutMs: 30_000, drainSampleMs: 3000, batches: [100], diagnostic: false, pipelineN: 2000, procs: [1, 2], pipelineTimeoutMs: 60_000 }
  : { durationMs: 10_000, batchDurationMs: 6000, warmupMs: 1000, rateDurationMs: 10_000, drainTimeoutMs: 90_000, drainSampleMs: 8000, batches: [100, 500], diagnostic: true, pipelineN: 10_000, procs: [1, 2, 4], pipelineTimeoutMs: 120_000 };
interface Params {
  durationMs: number;
  batchDurationMs: number;
  warmupMs: number;
  rateDurationMs: number;
  drainTimeoutMs: number;
  drainSampleMs: number;
  batches: number[];
  diagnostic: boolean;
  pipelineN: number;
  procs: number[];
  pipelineTimeoutMs: number;
}
const SINGLE_CONNECTIONS = 32;
const BATCH_CONNECTIONS = 8;
const RATE = 1000;
const INGEST_KEYS = 10_000;
/** pipeline bench: HUB_CONCURRENCY per hub process, and graphile-worker's concurrency */
const HUB_CONCURRENCY = 8;
/** the hub's shipped defaults, as the ingest bench runs it */
const HUB_DEFAULTS = (() => {
  const c = validateConfig({});
  const pl = c.pipeline as Record<string, unknown>;
  return { poolSize: c.database.poolSize, concurrency: c.pipeline.concurrency, keysPerClaim: pl.keysPerClaim as number | undefined, batchSize: c.pipeline.batchSize };
})();
const defaultsText = `pool ${HUB_DEFAULTS.poolSize}, pipeline.concurrency ${HUB_DEFAULTS.concurrency}${HUB_DEFAULTS.keysPerClaim ? `, keysPerClaim ${HUB_DEFAULTS.keysPerClaim}` : ''}, batchSize ${HUB_DEFAULTS.batchSize}`;
const BIG_BACKLOG = 1_000_000_000;
const TARGETS = { batchEps: 5000, singleEps: 1500, p99At1000Ms: 50, ratioToCeiling: 0.4 };

interface Mode {
  name: string;
  label: string;
  mode: 'closed' | 'open';
  batch: number;
  connections: number;
  durationMs: number;
  rate?: number;
}
const MODES: Mode[] = [
  { name: 'rate1000', label: `fixed ${RATE} ev/s, single events`, mode: 'open', batch: 1, connections: 64, durationMs: P.rateDurationMs, rate: RATE },
  { name: 'single', label: `single events, ${SINGLE_CONNECTIONS} connections`, mode: 'closed', batch: 1, connections: SINGLE_CONNECTIONS, durationMs: P.durationMs },
  ...P.batches.map((b): Mode => ({ name: `batch${b}`, label: `batches of ${b}, ${BATCH_CONNECTIONS} connections`, mode: 'closed', batch: b, connections: BATCH_CONNECTIONS, durationMs: P.batchDurationMs })),
];

// ---------------------------------------------------------------- PostgreSQL server

let serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
let serverKind = 'PostgreSQL service at 127.0.0.1:5432';
let embedded: { stop(): Promise<void> } | undefined;
let pgVersion = '';
let pgSettings: Record<string, string> = {};
async function chooseServer(): Promise<void> {
  if (!(await reachable(serverUrl))) {
    log('PostgreSQL at 127.0.0.1:5432 is not reachable; starting an embedded PostgreSQL');
    const h = await startEmbeddedPostgres(join(tmp, 'pg'), undefined, 'postgres');
    embedded = h;
    serverUrl = h.url;
    serverKind = 'embedded PostgreSQL (127.0.0.1:5432 unreachable)';
  }
  pgVersion = String((await adminQuery(serverUrl, 'show server_version')).rows[0]?.server_version);
  pgSettings = Object.fromEntries(
    (await adminQuery(serverUrl, `select name, setting from pg_settings where name in ('max_connections','shared_buffers','synchronous_commit','fsync','wal_level')`)).rows.map((r) => [r.name, String(r.setting)]),
  );
}

const created: string[] = [];
async function freshDb(tag: string, template?: string): Promise<{ name: string; url: string }> {
  const name = dbName(tag);
  created.push(name);
  return { name, url: await createDatabase(serverUrl, name, template) };
}
async function dropDb(name: string): Promise<void> {
  await dropDatabase(serverUrl, name);
}
async function migrated(tag: string): Promise<{ name: string; url: string }> {
  const d = await freshDb(tag);
  const pool = createPool(d.url, 2);
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  return d;
}

const children: Child[] = [];
async function cleanup(): Promise<void> {
  await Promise.allSettled(children.map((c) => c.stop('SIGTERM', 5000)));
  for (const n of created) await dropDb(n);
  await embedded?.stop().catch(() => undefined);
  rmSync(tmp, { recursive: true, force: true });
}
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    interrupted = true;
    void cleanup().finally(() => process.exit(130));
  });

// ---------------------------------------------------------------- machine state

const busyProbes: { when: string; busyPct: number }[] = [];
async function probe(when: string): Promise<void> {
  const b = await cpuBusy(1500);
  busyProbes.push({ when, busyPct: Math.round(b * 1000) / 10 });
  log(`machine CPU busy while the bench is idle (${when}): ${(b * 100).toFixed(1)}%`);
}

// ---------------------------------------------------------------- helpers

/** PostgreSQL backends serving databases that are not the bench's (other people's tests). */
async function foreignBackends(): Promise<Set<number>> {
  try {
    const r = await adminQuery<{ pid: number }>(serverUrl, `select pid from pg_stat_activity where datname is not null and datname not like 'bench\\_%'`);
    return new Set(r.rows.map((x) => x.pid));
  } catch {
    return new Set();
  }
}

async function loadgen(spec: LoadSpec): Promise<LoadResult> {
  const out = await runToEnd(join(here, 'loadgen.ts'), [JSON.stringify(spec)], {}, spec.durationMs + spec.warmupMs + 120_000);
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`loadgen printed no result: ${out.slice(-2000)}`);
  return JSON.parse(line.slice(7)) as LoadResult;
}

function writeHubConfig(name: string, cfg: Record<string, unknown>): string {
  const f = join(tmp, `${name}.yaml`);
  writeFileSync(f, JSON.stringify(cfg)); // JSON is YAML
  return f;
}

function hubEnv(dbUrl: string, instance: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: dbUrl,
    PORT: '0',
    LOG_LEVEL: 'warn',
    HUB_INSTANCE_ID: instance,
    HUB_DATA_DIR: join(tmp, `data-${instance}`),
    // the load generator is one client: the throughput measured is the hub's, not its rate limit
    HUB_CONFIG: writeHubConfig(instance, { security: { rateLimit: { perSecond: 1_000_000, burst: 1_000_000 } } }),
    HUB_WORKERS: '1',
    HUB_BACKLOG_LIMIT: String(BIG_BACKLOG),
    ...extra,
  };
}

async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number, everyMs = 25): Promise<{ ok: boolean; at: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (interrupted) return { ok: false, at: Date.now() };
    try {
      if (await cond()) return { ok: true, at: Date.now() };
    } catch {
      // keep polling
    }
    if (Date.now() > deadline) return { ok: false, at: Date.now() };
    await sleep(everyMs);
  }
}

/** "other" = busy cores not accounted to any named group (after groups were added by hand). */
function settleOther(c: ReturnType<typeof cpuRound>): void {
  const named = Object.values(c.groups).reduce<number>((a, v) => a + (v ?? 0), 0);
  c.otherCores = round(Math.max(0, (c.busyCores ?? 0) - named), 2);
}

const cpuRound = (u: CpuUse) => ({
  wallSec: round(u.wallSec, 2),
  busyCores: round(u.busyCores, 2),
  groups: Object.fromEntries(Object.entries(u.groups).map(([k, v]) => [k, round(v, 2)])),
  otherCores: round(u.otherCores, 2),
});

// ---------------------------------------------------------------- 1. ingest

interface IngestRow {
  mode: string;
  label: string;
  target: 'hub' | 'bare' | 'rawinsert' | 'rawnotify';
  eventsPerSec: number;
  requestsPerSec: number;
  latencyMs: LatencySummary;
  sendLagMs?: LatencySummary;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  nonAccepted: number;
  socketsOpened?: number;
  firstErrorBody?: string;
  requests: number;
  totalEventsOk: number;
  /** hub only: 202 -> handler finished (hub_attempts.finished_at), ms */
  toHandledMs?: LatencySummary & { missing: number };
  drain?: { ok: boolean; ms: number; events: number; eventsPerSec: number | null; left: number };
  /** committed transactions per stored event (ingest + workers), when the backlog was drained */
  xacts?: { commits: number; events: number; perEvent: number | null };
  /** statements the hub sent to PostgreSQL per stored event (ingest + workers), when drained */
  statements?: { simple: number; parameterized: number; perEvent: number };
  peakRssMiB?: number | null;
  cpu?: ReturnType<typeof cpuRound>;
  loadgenCpuSeconds: number;
}

async function handledLatency(pool: pg.Pool, prefix: string, ackFile: string): Promise<LatencySummary & { missing: number }> {
  const acks = new Map<string, number>();
  for (const line of readFileSync(ackFile, 'utf8').split('\n')) {
    if (!line) continue;
    const tab = line.indexOf('\t');
    acks.set(`${prefix}-${line.slice(0, tab)}`, Number(line.slice(tab + 1)));
  }
  const r = await pool.query<{ id: string; f: string }>(
    `select e.id, extract(epoch from a.finished_at) * 1000 as f
       from hub_events e join hub_attempts a on a.event_seq = e.seq and a.outcome = 'done'
      where e.source = 'urn:bench' and e.id like $1`,
    [`${prefix}-%`],
  );
  const lat: number[] = [];
  for (const row of r.rows) {
    const a = acks.get(row.id);
    if (a !== undefined) lat.push(Number(row.f) - a);
  }
  return { ...summarize(lat), missing: acks.size - lat.length };
}

function ingestRow(m: Mode, target: IngestRow['target'], r: LoadResult): IngestRow {
  const nonAccepted = Object.entries(r.statuses).filter(([s]) => s !== '202').reduce((a, [, n]) => a + n, 0);
  return {
    mode: m.name,
    label: m.label,
    target,
    eventsPerSec: r.eventsPerSec,
    requestsPerSec: r.requestsPerSec,
    latencyMs: r.latencyMs,
    ...(r.sendLagMs ? { sendLagMs: r.sendLagMs } : {}),
    statuses: r.statuses,
    errors: r.errors,
    nonAccepted,
    ...(r.socketsOpened !== undefined ? { socketsOpened: r.socketsOpened } : {}),
    ...(r.firstErrorBody !== undefined ? { firstErrorBody: r.firstErrorBody } : {}),
    requests: r.requests,
    totalEventsOk: r.totalEventsOk,
    loadgenCpuSeconds: r.loadgenCpuSeconds,
  };
}

function specFor(m: Mode, target: 'http' | 'pg', url: string, prefix: string, ackFile?: string, notify = false, token?: string): LoadSpec {
  return {
    target, url, mode: m.mode, batch: m.batch, connections: m.connections, durationMs: m.durationMs, warmupMs: P.warmupMs,
    ...(m.rate ? { rate: m.rate } : {}), prefix, keys: INGEST_KEYS, ...(ackFile ? { ackFile } : {}), ...(notify ? { notify } : {}), ...(token ? { token } : {}),
  };
}

/** The token of the admin client a fresh hub creates on its first start (the loadgen authenticates like any client). */
function bootstrapToken(env: NodeJS.ProcessEnv): string {
  return readFileSync(join(env.HUB_DATA_DIR!, 'bootstrap-admin.token'), 'utf8').trim();
}

/** The "STATS" line a stopped hub-child printed: statements it sent to PostgreSQL. */
function statementsOf(kids: Child[]): { simple: number; parameterized: number } | undefined {
  let simple = 0;
  let parameterized = 0;
  let found = false;
  for (const k of kids) {
    const line = k.lines.find((l) => l.startsWith('STATS '));
    if (!line) continue;
    const x = JSON.parse(line.slice(6)) as { simple: number; parameterized: number };
    simple += x.simple;
    parameterized += x.parameterized;
    found = true;
  }
  return found ? { simple, parameterized } : undefined;
}

/** Committed transactions per stored event in a database whose clients have all gone (stats flushed at backend exit). */
async function xactsPerEvent(name: string, hubRows: IngestRow[]): Promise<{ commits: number; events: number; perEvent: number | null }> {
  await sleep(500);
  const r = await adminQuery<{ c: string }>(serverUrl, `select xact_commit as c from pg_stat_database where datname = $1`, [name]);
  const events = hubRows.reduce((a, x) => a + (x.totalEventsOk ?? 0), 0);
  const commits = Number(r.rows[0]?.c ?? 0);
  return { commits, events, perEvent: events ? commits / events : null };
}

async function benchIngest(): Promise<{ rows: IngestRow[]; hubPeakRssMiB: number | null; barePeakRssMiB: number | null }> {
  const rows: IngestRow[] = [];

  // (a) the hub: a fresh database and a fresh hub process per mode, so every mode starts
  // without a backlog and VmHWM is the mode's own peak
  let hubPeak: number | null = null;
  for (const m of MODES) {
    if (interrupted) break;
    const db = await freshDb(`ingest_${m.name}`);
    const env = hubEnv(db.url, `bench-ingest-${m.name}`, { BENCH_HANDLER: 'noop' });
    const hub = await spawnReady(join(here, 'hub-child.ts'), [], env);
    children.push(hub);
    const pool = createPool(db.url, 2);
    let row: IngestRow | undefined;
    let drainedAll = false;
    try {
      const prefix = `hub-${m.name}`;
      const ackFile = join(tmp, `${prefix}.acks`);
      const c0 = cpuSnapshot();
      const res = await loadgen(specFor(m, 'http', hub.ready, prefix, ackFile, false, bootstrapToken(env)));
      const c1 = cpuSnapshot();
      row = ingestRow(m, 'hub', res);
      row.cpu = cpuRound(cpuUse(c0, c1, { hub: [hub.pid] }, await foreignBackends()));
      row.cpu.groups.loadgen = round(res.loadgenCpuSeconds / Math.max(0.001, (c1.at - c0.at) / 1000), 2);
      settleOther(row.cpu);
      log(`ingest hub ${m.name}: ${res.eventsPerSec.toFixed(0)} ev/s, p50 ${res.latencyMs.p50?.toFixed(1)} ms, p99 ${res.latencyMs.p99?.toFixed(1)} ms, statuses ${JSON.stringify(res.statuses)}, sockets ${res.socketsOpened}`);
      if (res.firstErrorBody) log(`  first answer that was not 202: ${res.firstErrorBody.slice(0, 500)}`);
      // Backlog left by the load: waited for (bounded) after the single-event modes; after
      // the batch modes, which can leave a large backlog, only for drainSampleMs, so the run
      // stays bounded. 202 -> handled is measured whenever the backlog is gone.
      const full = m.batch === 1;
      const d0 = Date.now();
      const drained = await waitUntil(async () => (await pool.query(`select 1 from hub_keys where pending > 0 limit 1`)).rowCount === 0, full ? P.drainTimeoutMs : P.drainSampleMs, 50);
      const tailMs = drained.at - d0;
      const tail = await pool.query<{ n: string }>(`select count(*) as n from hub_attempts where finished_at >= to_timestamp($1 / 1000.0)`, [d0]);
      const left = await pool.query<{ n: string }>(`select coalesce(sum(pending), 0) as n from hub_keys`);
      drainedAll = drained.ok;
      row.drain = { ok: drained.ok, ms: tailMs, events: Number(tail.rows[0]!.n), eventsPerSec: tailMs > 500 ? (Number(tail.rows[0]!.n) * 1000) / tailMs : null, left: Number(left.rows[0]!.n) };
      if (drained.ok) row.toHandledMs = await handledLatency(pool, prefix, ackFile);
      row.peakRssMiB = peakRssMiB(hub.pid);
      hubPeak = Math.max(hubPeak ?? 0, row.peakRssMiB ?? 0);
      log(`  backlog: ${drained.ok ? `drained in ${tailMs} ms` : `${row.drain.left} events left after ${tailMs} ms`} (${row.drain.eventsPerSec?.toFixed(0)} ev/s handled meanwhile); 202->handled p50 ${row.toHandledMs?.p50?.toFixed(1)} ms p99 ${row.toHandledMs?.p99?.toFixed(1)} ms; hub VmHWM ${row.peakRssMiB?.toFixed(0)} MiB`);
      rows.push(row);
    } finally {
      await pool.end();
      await hub.stop();
      if (row && drainedAll) {
        row.xacts = await xactsPerEvent(db.name, [row]);
        const st = statementsOf([hub]);
        if (st && row.totalEventsOk) row.statements = { ...st, perEvent: (st.simple + st.parameterized) / row.totalEventsOk };
      }
      await dropDb(db.name);
    }
  }

  // (b) ceiling: bare node:http
  log('ingest: bare node:http server ceiling');
  const bare = await spawnReady(join(here, 'bare-server.ts'), [], {});
  children.push(bare);
  let barePeak: number | null = null;
  try {
    for (const m of MODES) {
      if (interrupted) break;
      const c0 = cpuSnapshot();
      const res = await loadgen(specFor(m, 'http', bare.ready, `bare-${m.name}`));
      const c1 = cpuSnapshot();
      const row = ingestRow(m, 'bare', res);
      row.cpu = cpuRound(cpuUse(c0, c1, { bare: [bare.pid] }, await foreignBackends()));
      row.cpu.groups.loadgen = round(res.loadgenCpuSeconds / Math.max(0.001, (c1.at - c0.at) / 1000), 2);
      settleOther(row.cpu);
      row.peakRssMiB = barePeak = peakRssMiB(bare.pid);
      log(`ingest bare ${m.name}: ${res.eventsPerSec.toFixed(0)} ev/s, p50 ${res.latencyMs.p50?.toFixed(2)} ms, p99 ${res.latencyMs.p99?.toFixed(2)} ms, sockets ${res.socketsOpened}`);
      rows.push(row);
    }
  } finally {
    await bare.stop();
  }

  // (c) ceiling: raw multi-row INSERTs of the same rows; (d) diagnostic: the same plus
  // the pg_notify that ingest() sends in its transaction
  const variants = [{ target: 'rawinsert' as const, notify: false }, ...(P.diagnostic ? [{ target: 'rawnotify' as const, notify: true }] : [])];
  for (const variant of variants) {
    const raw = await migrated(variant.target);
    log(`ingest: raw INSERT${variant.notify ? ' + pg_notify' : ''} on ${raw.name}`);
    try {
      for (const m of MODES) {
        if (interrupted) break;
        const c0 = cpuSnapshot();
        const res = await loadgen(specFor(m, 'pg', raw.url, `${variant.target}-${m.name}`, undefined, variant.notify));
        const c1 = cpuSnapshot();
        const row = ingestRow(m, variant.target, res);
        const wall = Math.max(0.001, (c1.at - c0.at) / 1000);
        row.cpu = cpuRound(cpuUse(c0, c1, {}, await foreignBackends()));
        row.cpu.groups.loadgen = round(res.loadgenCpuSeconds / wall, 2);
        row.cpu.groups.postgres = round((res.pgBackendCpuSeconds ?? 0) / wall, 2);
        settleOther(row.cpu);
        log(`ingest raw INSERT${variant.notify ? ' + pg_notify' : ''} ${m.name}: ${res.eventsPerSec.toFixed(0)} ev/s, p50 ${res.latencyMs.p50?.toFixed(2)} ms, p99 ${res.latencyMs.p99?.toFixed(2)} ms`);
        rows.push(row);
      }
    } finally {
      await dropDb(raw.name);
    }
  }
  return { rows, hubPeakRssMiB: hubPeak, barePeakRssMiB: barePeak };
}

// ---------------------------------------------------------------- 2. pipeline

interface PipelineRow {
  system: 'hub' | 'graphile-worker';
  variant: string;
  keys: number | null;
  processes: number;
  n: number;
  handled: number;
  ok: boolean;
  /** first handler start -> backlog observed empty (polled every 25 ms); same for both systems */
  spanMs: number;
  eventsPerSec: number;
  /** hub only: min(hub_attempts.started_at) -> max(finished_at) */
  dbSpanMs?: number;
  /** committed transactions in the database per handled event (pg_stat_database, includes the 25 ms poll) */
  xactsPerEvent?: number | null;
  /** hub only: statements its processes sent to PostgreSQL per handled event (simple ones: begin, savepoint...) */
  statementsPerEvent?: { all: number; simple: number } | null;
  dbEventsPerSec?: number;
  peakRssMiB: (number | null)[];
  cpu: ReturnType<typeof cpuRound>;
}

const EFFECTS_DDL = `create table bench_effects (ref text not null, key text not null, started timestamptz, at timestamptz not null default clock_timestamp())`;

async function hubTemplate(keys: number): Promise<string> {
  const d = await migrated(`tpl_hub_${keys}`);
  const pool = createPool(d.url, 2);
  try {
    await pool.query(EFFECTS_DDL);
    for (let i = 0; i < P.pipelineN; i += 1000) {
      const evs = [];
      for (let n = i; n < Math.min(P.pipelineN, i + 1000); n++) evs.push(incomingEvent('pl', n, keys));
      await ingest(pool, evs);
    }
    await pool.query('vacuum analyze');
  } finally {
    await pool.end();
  }
  return d.name;
}

async function gwTemplate(keys: number | null): Promise<string> {
  const { runMigrations, makeWorkerUtils } = await import('graphile-worker');
  const d = await freshDb(`tpl_gw_${keys ?? 'unordered'}`);
  const pool = new pg.Pool({ connectionString: d.url, max: 2 });
  pool.on('error', () => undefined);
  pool.on('connect', (c) => c.on('error', () => undefined));
  try {
    await runMigrations({ pgPool: pool, logger: quietGwLogger() });
    await pool.query(EFFECTS_DDL);
    const utils = await makeWorkerUtils({ pgPool: pool, logger: quietGwLogger() });
    try {
      for (let i = 0; i < P.pipelineN; i += 1000) {
        const specs = [];
        for (let n = i; n < Math.min(P.pipelineN, i + 1000); n++) {
          const e = incomingEvent('pl', n, keys ?? 1000);
          specs.push({ identifier: 'bench', payload: { ref: e.id, key: e.key, data: e.data }, ...(keys ? { queueName: e.key } : {}) });
        }
        await utils.addJobs(specs);
      }
    } finally {
      await utils.release();
    }
    await pool.query('vacuum analyze');
  } finally {
    await pool.end();
  }
  return d.name;
}

function quietGwLogger() {
  // graphile-worker's Logger, silent below errors (imported lazily with the module)
  return new GwLogger(() => (level: string, message: string) => {
    if (level === 'error') process.stderr.write(`graphile-worker: ${message}\n`);
  });
}
let GwLogger: typeof import('graphile-worker').Logger;

async function runPipeline(system: PipelineRow['system'], variant: string, keys: number | null, template: string, procs: number, handler = 'sidetable'): Promise<PipelineRow> {
  const db = await freshDb(`pl_${system === 'hub' ? 'hub' : 'gw'}`, template);
  const kids: Child[] = [];
  const pool = createPool(db.url, 2);
  let result: PipelineRow | undefined;
  let xacts0 = 0;
  try {
    xacts0 = Number((await adminQuery<{ c: string }>(serverUrl, `select xact_commit as c from pg_stat_database where datname = $1`, [db.name])).rows[0]?.c ?? 0);
    const starts = [];
    for (let i = 0; i < procs; i++) {
      starts.push(
        system === 'hub'
          ? spawnReady(join(here, 'hub-child.ts'), [], hubEnv(db.url, `bench-p${i}`, { BENCH_HANDLER: handler, BENCH_GATE: '1', HUB_CONCURRENCY: String(HUB_CONCURRENCY) }))
          : spawnReady(join(here, 'gw-child.ts'), [], { DATABASE_URL: db.url, GW_CONCURRENCY: String(HUB_CONCURRENCY), GW_POLL_MS: '1000', GW_POOL_SIZE: String(10 + 1) }),
      );
    }
    const started = await Promise.allSettled(starts);
    for (const s of started) if (s.status === 'fulfilled') kids.push(s.value), children.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    await sleep(200);
    const c0 = cpuSnapshot();
    for (const k of kids) k.proc.kill('SIGUSR2');
    const sql = system === 'hub' ? `select 1 from hub_keys where pending > 0 limit 1` : `select 1 from graphile_worker._private_jobs limit 1`;
    let crashed: Child | undefined;
    const empty = async () => {
      crashed = kids.find((k) => k.proc.exitCode !== null || k.proc.signalCode !== null);
      return crashed !== undefined || (await pool.query(sql)).rowCount === 0;
    };
    const done = await waitUntil(empty, P.pipelineTimeoutMs, 25);
    if (crashed) {
      log(`pipeline ${system}: a worker process exited early: ${crashed.stderr().slice(-2000)}`);
      done.ok = false;
    }
    const c1 = cpuSnapshot();
    const rss = kids.map((k) => peakRssMiB(k.pid));
    const eff = (await pool.query<{ n: string; first: string | null }>(`select count(*) as n, extract(epoch from min(started)) * 1000 as first from bench_effects`)).rows[0]!;
    let first = eff.first === null ? null : Number(eff.first);
    let dbSpanMs: number | undefined;
    if (system === 'hub') {
      const a = (await pool.query<{ s: string | null; f: string | null }>(`select extract(epoch from min(started_at)) * 1000 as s, extract(epoch from max(finished_at)) * 1000 as f from hub_attempts where outcome = 'done'`)).rows[0]!;
      if (a.s !== null && a.f !== null) {
        first = Number(a.s);
        dbSpanMs = Number(a.f) - Number(a.s);
      }
    }
    const handled = Number(eff.n);
    const spanMs = first === null ? NaN : done.at - first;
    const row: PipelineRow = {
      system, variant, keys, processes: procs, n: P.pipelineN, handled, ok: done.ok && handled === P.pipelineN,
      spanMs, eventsPerSec: (handled * 1000) / spanMs,
      ...(dbSpanMs !== undefined ? { dbSpanMs, dbEventsPerSec: (handled * 1000) / dbSpanMs } : {}),
      peakRssMiB: rss,
      cpu: cpuRound(cpuUse(c0, c1, { workers: kids.map((k) => k.pid), bench: [process.pid] }, await foreignBackends())),
    };
    result = row;
    return row;
  } finally {
    await Promise.allSettled(kids.map((k) => k.stop('SIGTERM', 10_000)));
    await pool.end();
    if (result && system === 'hub') {
      const st = statementsOf(kids);
      result.statementsPerEvent = st && result.handled ? { all: (st.simple + st.parameterized) / result.handled, simple: st.simple / result.handled } : null;
    }
    if (result) {
      await sleep(500);
      const x = Number((await adminQuery<{ c: string }>(serverUrl, `select xact_commit as c from pg_stat_database where datname = $1`, [db.name])).rows[0]?.c ?? 0);
      result.xactsPerEvent = result.handled ? (x - xacts0) / result.handled : null;
      const r = result;
      log(`pipeline ${system} ${variant} x${procs}: ${r.eventsPerSec.toFixed(0)} /s (${r.handled}/${P.pipelineN} in ${r.spanMs.toFixed(0)} ms${r.dbSpanMs !== undefined ? `; db span ${r.dbSpanMs.toFixed(0)} ms` : ''})${r.ok ? '' : ' NOT COMPLETE'}; cores busy ${r.cpu.busyCores} ${JSON.stringify(r.cpu.groups)}; ${r.xactsPerEvent?.toFixed(2)} transactions/event${r.statementsPerEvent ? `, ${r.statementsPerEvent.all.toFixed(2)} statements/event (${r.statementsPerEvent.simple.toFixed(2)} simple)` : ''}`);
    }
    await dropDb(db.name);
  }
}

async function benchPipeline(): Promise<PipelineRow[]> {
  GwLogger = (await import('graphile-worker')).Logger;
  const rows: PipelineRow[] = [];
  const dists = [
    { keys: 1000, name: '1,000 keys' },
    { keys: 10, name: '10 hot keys' },
  ];
  for (const dist of dists) {
    if (interrupted) break;
    log(`pipeline: pre-loading ${P.pipelineN} events over ${dist.name} with ingest()`);
    const tpl = await hubTemplate(dist.keys);
    for (const procs of P.procs) if (!interrupted) rows.push(await runPipeline('hub', `per-key order`, dist.keys, tpl, procs));
    // the audit trail's cost: the same load with one hash-chained audit entry per event
    if (dist.keys === 1000) for (const procs of P.procs) if (!interrupted) rows.push(await runPipeline('hub', AUDITED, dist.keys, tpl, procs, 'audited'));
    await dropDb(tpl);
  }
  const gw: { keys: number | null; variant: string }[] = [
    { keys: null, variant: 'unordered (no queue_name)' },
    { keys: 1000, variant: 'queue_name = key' },
    { keys: 10, variant: 'queue_name = key' },
  ];
  for (const g of gw) {
    if (interrupted) break;
    log(`pipeline: graphile-worker, ${P.pipelineN} jobs via addJobs, ${g.variant}${g.keys ? ` over ${g.keys} keys` : ''}`);
    const tpl = await gwTemplate(g.keys);
    for (const procs of P.procs) if (!interrupted) rows.push(await runPipeline('graphile-worker', g.variant, g.keys, tpl, procs));
    await dropDb(tpl);
  }
  return rows;
}

// ---------------------------------------------------------------- report

const fmt = (v: number | null | undefined, d = 0) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const pct = (a: number | null | undefined, b: number | null | undefined) => (a && b ? `${Math.round((a / b) * 100)}%` : '–');
const times = (a: number | null | undefined, b: number | null | undefined) => (a && b ? `${(a / b).toFixed(a / b < 10 ? 2 : 1)}×` : '–');
const table = (head: string[], body: string[][]) =>
  [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');

function ingestTables(rows: IngestRow[]): { main: string; ceilings: string; latency: string; targets: string[] } {
  const get = (t: IngestRow['target'], m: string) => rows.find((r) => r.target === t && r.mode === m);
  const diag = rows.some((r) => r.target === 'rawnotify');
  const body: string[][] = [];
  const lat: string[][] = [];
  const ceil: string[][] = [];
  for (const m of MODES) {
    const h = get('hub', m.name);
    const b = get('bare', m.name);
    const r = get('rawinsert', m.name);
    const rn = get('rawnotify', m.name);
    const binding = Math.min(b?.eventsPerSec ?? Infinity, r?.eventsPerSec ?? Infinity);
    body.push([
      m.label,
      fmt(h?.eventsPerSec),
      pct(h?.eventsPerSec, b?.eventsPerSec),
      pct(h?.eventsPerSec, r?.eventsPerSec),
      pct(h?.eventsPerSec, Number.isFinite(binding) ? binding : null),
      `${fmt(h?.latencyMs.p50, 1)} / ${fmt(h?.latencyMs.p99, 1)}`,
      h?.toHandledMs ? `${fmt(h.toHandledMs.p50, 1)} / ${fmt(h.toHandledMs.p99, 1)}` : 'backlog not drained',
      h ? `${h.nonAccepted}${h.nonAccepted ? ` (${JSON.stringify(h.statuses)})` : ''}` : '–',
      fmt(h?.peakRssMiB),
    ]);
    ceil.push([
      m.label,
      fmt(b?.eventsPerSec),
      `${fmt(b?.latencyMs.p50, 2)} / ${fmt(b?.latencyMs.p99, 2)}`,
      fmt(r?.eventsPerSec),
      `${fmt(r?.latencyMs.p50, 2)} / ${fmt(r?.latencyMs.p99, 2)}`,
      ...(diag ? [`${fmt(rn?.eventsPerSec)} (${pct(rn?.eventsPerSec, r?.eventsPerSec)} of raw)`, `${fmt(rn?.latencyMs.p50, 2)} / ${fmt(rn?.latencyMs.p99, 2)}`] : []),
      `${h?.socketsOpened ?? '–'} / ${b?.socketsOpened ?? '–'}`,
      `${fmt(h?.requests)}`,
    ]);
    lat.push([
      m.label,
      `${times(h?.latencyMs.p50, b?.latencyMs.p50)} / ${times(h?.latencyMs.p99, b?.latencyMs.p99)}`,
      `${times(h?.latencyMs.p50, r?.latencyMs.p50)} / ${times(h?.latencyMs.p99, r?.latencyMs.p99)}`,
      h?.drain ? (h.drain.ok ? `drained in ${fmt(h.drain.ms / 1000, 1)} s` : `${fmt(h.drain.left)} left after ${fmt(h.drain.ms / 1000, 1)} s`) + (h.drain.eventsPerSec ? `, ${fmt(h.drain.eventsPerSec)} ev/s` : '') : '–',
      h?.cpu ? `hub ${h.cpu.groups.hub}, pg ${h.cpu.groups.postgres}, loadgen ${h.cpu.groups.loadgen}, other ${h.cpu.otherCores}` : '–',
      r?.cpu ? `pg ${r.cpu.groups.postgres}, loadgen ${r.cpu.groups.loadgen}` : '–',
    ]);
  }
  const targets: string[] = [];
  const best = (names: string[]) => rows.filter((r) => r.target === 'hub' && names.includes(r.mode)).sort((a, b) => b.eventsPerSec - a.eventsPerSec)[0];
  const batchBest = best(P.batches.map((b) => `batch${b}`));
  const single = best(['single']);
  const rate = best(['rate1000']);
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  if (batchBest) targets.push(`≥ ${fmt(TARGETS.batchEps)} events/s durable in batches: ${fmt(batchBest.eventsPerSec)} (${batchBest.label}) — ${mark(batchBest.eventsPerSec >= TARGETS.batchEps)}`);
  if (single) targets.push(`≥ ${fmt(TARGETS.singleEps)} events/s as single requests: ${fmt(single.eventsPerSec)} — ${mark(single.eventsPerSec >= TARGETS.singleEps)}`);
  if (rate) targets.push(`p99 to 202 ≤ ${TARGETS.p99At1000Ms} ms at ${RATE} events/s: ${fmt(rate.latencyMs.p99, 1)} ms (achieved ${fmt(rate.eventsPerSec)} ev/s, non-202: ${rate.nonAccepted}) — ${mark((rate.latencyMs.p99 ?? Infinity) <= TARGETS.p99At1000Ms && rate.nonAccepted === 0)}`);
  for (const h of [single, batchBest].filter((x): x is IngestRow => !!x)) {
    const b = get('bare', h.mode);
    const r = get('rawinsert', h.mode);
    const binding = Math.min(b?.eventsPerSec ?? Infinity, r?.eventsPerSec ?? Infinity);
    targets.push(`ratio to ceiling ≥ ${TARGETS.ratioToCeiling * 100}% (${h.label}): ${pct(h.eventsPerSec, binding)} of the lower ceiling (${fmt(binding)} ev/s) — ${mark(h.eventsPerSec / binding >= TARGETS.ratioToCeiling)}`);
  }
  return {
    main: table(['mode', 'hub events/s', '% of bare HTTP', '% of raw INSERT', '% of lower ceiling', 'hub p50 / p99 to 202 (ms)', 'p50 / p99 202 → handled (ms)', 'non-202 answers', 'hub VmHWM (MiB)'], body),
    ceilings: table(['mode', 'bare HTTP events/s', 'bare p50 / p99 (ms)', 'raw INSERT events/s', 'raw INSERT p50 / p99 (ms)', ...(diag ? ['diagnostic: raw INSERT + pg_notify events/s', 'raw INSERT + pg_notify p50 / p99 (ms)'] : []), 'sockets opened hub / bare', 'hub requests measured'], ceil),
    latency: table(['mode', 'hub latency ÷ bare HTTP (p50 / p99)', 'hub latency ÷ raw INSERT (p50 / p99)', 'backlog drain after the load (no-op handler)', 'cores used during hub run', 'cores used during raw INSERT'], lat),
    targets,
  };
}

const AUDITED = 'per-key order, one audit entry per event';

/** Events per second with and without an audit entry per event, same run, same template. */
function auditTable(rows: PipelineRow[]): string {
  const body: string[][] = [];
  for (const procs of P.procs) {
    const plain = rows.find((r) => r.system === 'hub' && r.keys === 1000 && r.processes === procs && r.variant !== AUDITED);
    const audited = rows.find((r) => r.system === 'hub' && r.keys === 1000 && r.processes === procs && r.variant === AUDITED);
    if (!plain && !audited) continue;
    body.push([
      String(procs),
      fmt(plain?.eventsPerSec),
      `${fmt(audited?.eventsPerSec)}${audited && !audited.ok ? ' (incomplete)' : ''}`,
      pct(audited?.eventsPerSec, plain?.eventsPerSec),
      `${fmt(plain?.xactsPerEvent, 2)} / ${fmt(audited?.xactsPerEvent, 2)}`,
      audited?.statementsPerEvent && plain?.statementsPerEvent ? `${fmt(plain.statementsPerEvent.all, 2)} / ${fmt(audited.statementsPerEvent.all, 2)}` : '–',
    ]);
  }
  return table(['processes', 'events/s, side-table effect', 'events/s, same + audit entry per event', 'audited ÷ plain', 'commits per event (plain / audited)', 'statements per event (plain / audited)'], body);
}

function pipelineTable(rows: PipelineRow[]): string {
  const body: string[][] = [];
  for (const keys of [1000, 10]) {
    for (const procs of P.procs) {
      const h = rows.find((r) => r.system === 'hub' && r.keys === keys && r.processes === procs && r.variant !== AUDITED);
      const gq = rows.find((r) => r.system === 'graphile-worker' && r.keys === keys && r.processes === procs);
      const gu = rows.find((r) => r.system === 'graphile-worker' && r.keys === null && r.processes === procs);
      body.push([
        keys === 1000 ? '1,000 keys' : '10 hot keys',
        String(procs),
        `${fmt(h?.eventsPerSec)}${h && !h.ok ? ' (incomplete)' : ''}`,
        fmt(h?.dbEventsPerSec),
        `${fmt(gq?.eventsPerSec)}${gq && !gq.ok ? ' (incomplete)' : ''}`,
        times(h?.eventsPerSec, gq?.eventsPerSec),
        `${fmt(gu?.eventsPerSec)}${gu && !gu.ok ? ' (incomplete)' : ''}`,
        times(h?.eventsPerSec, gu?.eventsPerSec),
        h ? `${h.cpu.groups.workers} / ${h.cpu.groups.postgres} / ${h.cpu.otherCores}` : '–',
        gq ? `${gq.cpu.groups.workers} / ${gq.cpu.groups.postgres} / ${gq.cpu.otherCores}` : '–',
        `${fmt(h?.xactsPerEvent, 2)} / ${fmt(gq?.xactsPerEvent, 2)} / ${fmt(gu?.xactsPerEvent, 2)}`,
        h?.statementsPerEvent ? `${fmt(h.statementsPerEvent.all, 2)} (${fmt(h.statementsPerEvent.simple, 2)} simple)` : '–',
      ]);
    }
  }
  return table(
    ['keys', 'processes', 'hub events/s', 'hub events/s (db timestamps)', 'graphile-worker jobs/s, queue_name = key', 'hub ÷ gw per-key', 'graphile-worker jobs/s, unordered', 'hub ÷ gw unordered', 'cores: hub procs / pg / other', 'cores: gw procs / pg / other (per-key)', 'commits per event: hub / gw per-key / gw unordered', 'hub statements per event'],
    body,
  );
}

// ---------------------------------------------------------------- idle cost

interface IdleCost {
  seconds: number;
  commitsPerSec: number;
  hubCores: number | null;
  postgresCores: number | null;
}

/** A hub with workers on and nothing to do: what does it cost? */
async function benchIdle(): Promise<IdleCost> {
  const db = await freshDb('idle');
  const hub = await spawnReady(join(here, 'hub-child.ts'), [], hubEnv(db.url, 'bench-idle', { BENCH_HANDLER: 'noop' }));
  children.push(hub);
  try {
    await sleep(2000);
    const seconds = quick ? 3 : 5;
    const backends = (await adminQuery<{ pid: number }>(serverUrl, `select pid from pg_stat_activity where datname = $1`, [db.name])).rows.map((r) => r.pid);
    const stat = async () => Number((await adminQuery<{ c: string }>(serverUrl, `select xact_commit as c from pg_stat_database where datname = $1`, [db.name])).rows[0]?.c ?? 0);
    const x0 = await stat();
    const c0 = cpuSnapshot();
    await sleep(seconds * 1000);
    const c1 = cpuSnapshot();
    const x1 = await stat();
    const u = cpuUse(c0, c1, { hub: [hub.pid], backends }, await foreignBackends());
    const r = { seconds, commitsPerSec: (x1 - x0) / seconds, hubCores: round(u.groups.hub, 2), postgresCores: round(u.groups.backends, 2) };
    log(`idle hub (workers on, no events): ${r.commitsPerSec.toFixed(0)} commits/s, hub ${r.hubCores} cores, its PostgreSQL backends ${r.postgresCores} cores`);
    return r;
  } finally {
    await hub.stop();
    await dropDb(db.name);
  }
}

// ---------------------------------------------------------------- main

interface RawResults {
  started: string;
  finished: string;
  quick: boolean;
  only: string;
  params: Params;
  machine: ReturnType<typeof machine> & { postgres: string; postgresSettings: Record<string, string>; server: string };
  busyProbes: { when: string; busyPct: number }[];
  hubDefaults?: string;
  /** the code measured: git HEAD and whether src/ or migrations/ had uncommitted changes */
  code?: { commit: string; dirty: boolean } | undefined;
  idle?: IdleCost | undefined;
  /** the Odoo connector benches (bench/odoo.ts, bench/odoo-capture.ts): their markdown reports */
  odoo?: { file: string; markdown: string; ok: boolean }[] | undefined;
  ingest?: { rows: IngestRow[]; hubPeakRssMiB: number | null; barePeakRssMiB: number | null } | undefined;
  pipeline?: PipelineRow[] | undefined;
  /** the end-to-end order flow (bench/order-flow.ts) */
  flow?: FlowResult | undefined;
  /** partner-call instrumentation and the console's read models (bench/observability.ts) */
  observability?: ObservabilityResult | undefined;
  failure?: string | undefined;
}

async function measure(): Promise<RawResults> {
  await chooseServer();
  const started = new Date();
  const info = { ...machine(), postgres: pgVersion, postgresSettings: pgSettings, server: serverKind };
  log(`machine: ${info.nproc} cores (${info.cpuModel}), node ${info.node}, PostgreSQL ${pgVersion} (${serverKind}), load average ${info.loadavg.join(' ')}`);
  const raw: RawResults = { started: started.toISOString(), finished: '', quick, only: only ?? 'all', params: P, machine: info, busyProbes, hubDefaults: defaultsText, code: codeVersion() };
  try {
    await probe('start');
    if (only === undefined || only === 'ingest') {
      raw.idle = await benchIdle();
      raw.ingest = await benchIngest();
    }
    if ((only === undefined || only === 'pipeline') && !interrupted) {
      await probe('between benchmarks');
      raw.pipeline = await benchPipeline();
    }
    if ((only === undefined || only === 'odoo') && !interrupted) {
      await probe('between benchmarks');
      raw.odoo = benchOdoo();
    }
    if ((only === undefined || only === 'flow') && !interrupted) {
      await probe('between benchmarks');
      raw.flow = await benchOrderFlow({ quick, freshDb, serverUrl, log, children, interrupted: () => interrupted });
    }
    if ((only === undefined || only === 'observability') && !interrupted) {
      await probe('between benchmarks');
      const d = await migrated('observability');
      const pool = createPool(d.url, 4);
      try {
        raw.observability = await benchObservability({ quick, pool, log });
      } finally {
        await pool.end();
      }
    }
    await probe('end');
  } catch (e) {
    const failure = e as Error;
    raw.failure = failure.message;
    console.error(`bench failed: ${failure.stack ?? failure.message}`);
  } finally {
    await cleanup();
  }
  raw.finished = new Date().toISOString();
  raw.machine.loadavg = machine().loadavg;
  const stamp = raw.started.replace(/[:.]/g, '-');
  writeFileSync(join(outDir, `bench-${stamp}.json`), JSON.stringify(raw, null, 2));
  writeFileSync(join(outDir, 'latest.json'), JSON.stringify(raw, null, 2));
  return raw;
}

/** Runs the Odoo connector benches (each writes its own bench/RESULTS-*.md) and keeps their reports. */
function benchOdoo(): { file: string; markdown: string; ok: boolean }[] {
  const out: { file: string; markdown: string; ok: boolean }[] = [];
  for (const [script, report] of [['odoo.ts', 'RESULTS-odoo.md'], ['odoo-capture.ts', 'RESULTS-odoo-capture.md']] as const) {
    log(`odoo: node bench/${script}`);
    const r = spawnSync(process.execPath, [join(here, script)], { encoding: 'utf8', env: process.env, timeout: 600_000 });
    const ok = r.status === 0;
    out.push({ file: report, ok, markdown: ok ? readFileSync(join(here, report), 'utf8') : `${r.stdout ?? ''}\n${r.stderr ?? ''}` });
    log(`odoo: bench/${script} ${ok ? 'done' : `failed (exit ${r.status})`}`);
  }
  return out;
}

/** Read-only git queries: which code was measured. */
function codeVersion(): { commit: string; dirty: boolean } | undefined {
  const root = join(here, '..');
  const git = (a: string[]) => spawnSync('git', a, { cwd: root, encoding: 'utf8' });
  const head = git(['rev-parse', '--short', 'HEAD']);
  if (head.status !== 0) return undefined;
  const st = git(['status', '--porcelain', '--', 'src', 'migrations']);
  return { commit: head.stdout.trim(), dirty: st.stdout.trim().length > 0 };
}

function busyNoteOf(raw: RawResults): string {
  const probes = raw.busyProbes;
  const maxIdleBusy = Math.max(...probes.map((p) => p.busyPct), 0);
  const rows: { what: string; other: number }[] = [
    ...(raw.ingest?.rows ?? []).map((r) => ({ what: `ingest ${r.target} ${r.mode}`, other: r.cpu?.otherCores ?? 0 })),
    ...(raw.pipeline ?? []).map((r) => ({ what: `pipeline ${r.system} ${r.variant}${r.keys ? ` ${r.keys} keys` : ''} ×${r.processes}`, other: r.cpu.otherCores ?? 0 })),
    ...(raw.flow ? [{ what: 'order flow (hub)', other: raw.flow.hub.cpu.otherCores ?? 0 }] : []),
  ];
  const disturbed = rows.filter((r) => r.other >= 0.25);
  const probeText = probes.map((p) => `${p.busyPct}% (${p.when})`).join(', ');
  if (maxIdleBusy > 10 || disturbed.length)
    return (
      `**The machine was otherwise busy during this run.** CPU in use by other work while the benchmark was idle: ${probeText}.` +
      (disturbed.length ? ` Measurements during which other work used ≥ 0.25 cores: ${disturbed.map((d) => `${d.what} (${d.other})`).join(', ')}.` : '') +
      ' Those figures are lower and noisier than on an idle machine.'
    );
  return `The machine was otherwise idle: CPU in use while the benchmark was idle: ${probeText}; no measurement saw other work above 0.25 cores ("other" in the CPU columns).`;
}

function render(raw: RawResults): { md: string; summary: string } {
  const info = raw.machine;
  const busyNote = busyNoteOf(raw);
  const stamp = raw.started.replace(/[:.]/g, '-');
  const secs = Math.round((Date.parse(raw.finished) - Date.parse(raw.started)) / 1000);
  const md: string[] = [];
  md.push(`# Benchmark results`, '');
  md.push(`Generated by \`npm run bench${raw.quick ? ' -- --quick' : ''}${raw.only !== 'all' ? ` -- --only ${raw.only}` : ''}\` (bench/run.ts). Raw figures: \`bench/out/bench-${stamp}.json\` (not committed). Method: bench/ARCHITECTURE-bench.md.`, '');
  md.push(`| | |`, `| --- | --- |`);
  md.push(`| date | ${raw.started} (${secs} s) |`);
  md.push(`| machine | ${info.nproc} cores (${info.cpuModel}), node ${info.node}, load average at the end ${info.loadavg.join(' ')} |`);
  md.push(`| PostgreSQL | ${info.postgres}, ${info.server}; ${Object.entries(info.postgresSettings).map(([k, v]) => `${k}=${v}`).join(', ')} |`);
  md.push(`| mode | ${raw.quick ? 'quick (smoke run: short durations, smaller N)' : 'full'} |`);
  if (raw.code) md.push(`| code | commit ${raw.code.commit}${raw.code.dirty ? ' with uncommitted changes in src/ or migrations/' : ''} |`);
  md.push('', busyNote, '');
  if (raw.failure) md.push(`**The run failed**: ${raw.failure}`, '');

  let summary = '';
  if (raw.ingest) {
    const t = ingestTables(raw.ingest.rows);
    md.push(`## 1. Durable ingest over HTTP`, '');
    md.push(
      `The hub runs as its own process (startHub with its default configuration: ${raw.hubDefaults ?? defaultsText}; workers on with a no-op handler; HUB_BACKLOG_LIMIT=${BIG_BACKLOG}) on a fresh database; ` +
        `bench/loadgen.ts posts from a separate process over keep-alive connections (node:http Agent). Events are stock.moved.v1 over ${fmt(INGEST_KEYS)} keys. ` +
        `Single-event closed-loop modes run ${P.durationMs / 1000} s, batch modes ${P.batchDurationMs / 1000} s, each after ${P.warmupMs / 1000} s of warm-up; the fixed-rate mode schedules sends by the clock for ${P.rateDurationMs / 1000} s and measures from the scheduled time. ` +
        `Every mode gets a fresh database and a fresh hub process. After the single-event modes the backlog is drained (at most ${P.drainTimeoutMs / 1000} s) and "202 → handled" measured; after the batch modes the drain gets at most ${P.drainSampleMs / 1000} s: "202 → handled" is measured when the backlog is gone by then, otherwise only the drain rate. ` +
        `Ceilings, same run, same loadgen and modes: a bare node:http server that reads the body and answers 202, and raw multi-row INSERT … SELECT FROM unnest of the same rows into hub_events (same batch sizes, same client concurrency, autocommit, no HTTP).`,
      '',
    );
    md.push(`### Targets`, '', ...t.targets.map((x) => `- ${x}`), '');
    md.push(`### Hub, and each figure against the ceilings`, '', t.main, '');
    md.push(`### Ceilings measured in the same run`, '', t.ceilings, '');
    md.push(`### Latency against the ceilings, backlog drain, CPU`, '', t.latency, '');
    const xs = raw.ingest.rows.filter((r) => r.target === 'hub' && r.xacts?.perEvent);
    if (xs.length)
      md.push(
        `Per stored event, ingest and workers together (backlog drained): committed transactions in the hub's database (pg_stat_database.xact_commit) and statements the hub process sent to PostgreSQL (counted in bench/hub-child.ts; "simple" = without parameters: begin, commit, savepoint, release): ${xs
          .map((r) => `${r.label}: ${r.xacts!.perEvent!.toFixed(2)} commits, ${r.statements ? `${r.statements.perEvent.toFixed(2)} statements (${(r.statements.simple / r.totalEventsOk).toFixed(2)} simple)` : '–'}`)
          .join('; ')}. The raw INSERT ceiling sends one statement and commits once per request.`,
        '',
      );
    if (raw.idle)
      md.push(
        `Idle cost: a hub with workers on and no events at all committed ${fmt(raw.idle.commitsPerSec)} transactions/s and used ${raw.idle.hubCores} cores itself plus ${raw.idle.postgresCores} cores in its PostgreSQL backends (measured over ${raw.idle.seconds} s).`,
        '',
      );
    md.push(
      `"202 → handled" joins the time the loadgen received each event's 202 with hub_attempts.finished_at (clock_timestamp(), same machine clock); negative values would mean the worker committed before the 202 reached the client. In the closed-loop modes it includes whatever backlog the load built up (the workers run beside ingest on the same cores); the fixed-rate row is the steady-state figure. CPU columns are cores in use on average (of ${info.nproc}); "pg" counts PostgreSQL processes except backends of other databases.`,
      '',
    );
    summary += '\nINGEST\n' + t.main + '\n\n' + t.ceilings + '\n\n' + t.targets.map((x) => `- ${x}`).join('\n') + '\n';
    if (raw.idle) summary += `- idle hub: ${fmt(raw.idle.commitsPerSec)} commits/s, ${raw.idle.hubCores} + ${raw.idle.postgresCores} (PostgreSQL) cores\n`;
  }
  if (raw.pipeline) {
    md.push(`## 2. Pipeline throughput (pre-loaded backlog)`, '');
    md.push(
      `${fmt(P.pipelineN)} events are pre-loaded with ingest() into a fresh database (cloned from a loaded template for every run), then ${P.procs.join(', ')} hub processes (startHub, HUB_CONCURRENCY=${HUB_CONCURRENCY}, otherwise defaults: ${raw.hubDefaults ?? defaultsText}; no HTTP load) drain them with a handler that inserts one row per event into a side table inside the pipeline transaction. ` +
        `Baseline: graphile-worker 0.18 on the same PostgreSQL (own fresh database, migrations run before timing), the same number of jobs added with addJobs in batches of 1,000 (payload: the event's id, key and data), run() with pgPool (11 connections), concurrency ${HUB_CONCURRENCY}, pollInterval 1000 in the same number of processes, a task that inserts one row. ` +
        `All processes load first and start together on a signal. Throughput = handled ÷ (first handler start → backlog observed empty, polled every 25 ms), the same rule for both systems; "db timestamps" is the hub's min(hub_attempts.started_at) → max(finished_at). ` +
        `graphile-worker "unordered" ignores keys (no per-key order: an upper bound, not a like-for-like comparison), so the same figure stands in both halves of the table.`,
      '',
    );
    md.push(pipelineTable(raw.pipeline), '');
    summary += '\nPIPELINE\n' + pipelineTable(raw.pipeline) + '\n';
    if (raw.pipeline.some((r) => r.variant === AUDITED)) {
      md.push('### Audit trail cost', '', 'The 1,000-key load again, with a handler that also appends one hash-chained audit entry per event (in the worker\'s transaction, one head lock per batch): the worst case, where every event changes a state.', '', auditTable(raw.pipeline), '');
      summary += '\nAUDIT\n' + auditTable(raw.pipeline) + '\n';
    }
  }
  if (raw.odoo?.length) {
    md.push('## 3. Odoo connector', '');
    for (const r of raw.odoo) {
      // the report's own title becomes a subsection
      md.push(r.ok ? r.markdown.trim().replace(/^# /, '### ').replace(/\n## /g, '\n#### ') : `### ${r.file}\n\nfailed: ${r.markdown.slice(-800)}`, '');
      summary += `\nODOO (${r.file})\n${r.markdown.split('\n').filter((l) => l.startsWith('|')).join('\n')}\n`;
    }
  }
  if (raw.flow) {
    const f = renderOrderFlow(raw.flow);
    md.push('## 4. Order flow end to end', '', f.md);
    summary += '\nORDER FLOW\n' + f.summary;
  }
  if (raw.observability) {
    const o = renderObservability(raw.observability);
    md.push('## 5. Observability and the console', '', o.md);
    summary += '\nOBSERVABILITY\n' + o.summary;
  }
  let notes = '';
  try {
    notes = readFileSync(join(here, 'RESULTS.notes.md'), 'utf8').trim();
  } catch {
    notes = '';
  }
  md.push(`## Notes`, '', notes || '(none)', '');
  return { md: md.join('\n') + '\n', summary: `bench ${raw.quick ? '(quick) ' : ''}took ${secs} s; ${busyNote.replace(/\*\*/g, '')}\n${summary}` };
}

const raw = loaded ?? (await measure());
if (loaded) rmSync(tmp, { recursive: true, force: true });
const out = render(raw);
writeFileSync(join(here, 'RESULTS.md'), out.md);
console.log('\n' + '='.repeat(100) + '\n' + out.summary);
console.log(`wrote bench/RESULTS.md${loaded ? ` from ${reportFrom}` : ` and bench/out/bench-${raw.started.replace(/[:.]/g, '-')}.json`}`);
process.exit(raw.failure ? 1 : 0);
