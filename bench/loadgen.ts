/**
 * Load generator, run as its own process: `node bench/loadgen.ts '<json LoadSpec>'`.
 *
 * Targets: `http` posts CloudEvents to <url>/v1/events over keep-alive connections
 * (node:http Agent, maxSockets = connections; the number of sockets opened is reported,
 * so connection reuse is visible); `pg` inserts the same rows straight into hub_events
 * (one multi-row INSERT ... SELECT FROM unnest per request, autocommit), no HTTP.
 *
 * Modes: `closed` = `connections` senders back to back for durationMs (the first
 * warmupMs are sent but not measured); `open` = a fixed rate scheduled by the clock
 * (latency counted from the scheduled send time, so queueing is not hidden).
 *
 * Prints one line "RESULT <json>". With ackFile, writes "n<TAB>ackEpochMs" per event
 * answered 202 (the hub's run joins it with hub_attempts.finished_at).
 */
import http from 'node:http';
import { createWriteStream } from 'node:fs';
import pg from 'pg';
import { eventSerializer, keyOf, BENCH_SOURCE } from './events.ts';
import { faultEvent } from '../test/helpers/load.ts';
import { nowMs, procCpuSeconds, sleep, summarize, type LatencySummary } from './lib.ts';

export interface LoadSpec {
  target: 'http' | 'pg';
  url: string;
  mode: 'closed' | 'open';
  /** events per request: 1 = a single event (application/cloudevents+json), more = a batch */
  batch: number;
  connections: number;
  durationMs: number;
  warmupMs: number;
  /** open mode: events per second */
  rate?: number;
  prefix: string;
  keys: number;
  ackFile?: string;
  /** pg target: also pg_notify in the same transaction, as ingest() does */
  notify?: boolean;
  /** http target: the bearer token sent with every request */
  token?: string;
}

export interface LoadResult {
  spec: LoadSpec;
  requests: number;
  events: number;
  /** events answered 202 (or inserted, for pg) among the measured requests */
  okEvents: number;
  eventsPerSec: number;
  requestsPerSec: number;
  windowMs: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  latencyMs: LatencySummary;
  /** open mode: how late the sender itself was against the schedule (client saturation) */
  sendLagMs?: LatencySummary;
  socketsOpened?: number;
  reusedRequests?: number;
  firstErrorBody?: string;
  totalRequestsSent: number;
  totalEventsOk: number;
  loadgenCpuSeconds: number;
  /** pg target: CPU seconds of the PostgreSQL backends that served the load */
  pgBackendCpuSeconds?: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
/** the body of the first answer that was not 202, for diagnosis */
const firstError: { body?: string } = {};
const ser = eventSerializer(spec.prefix, spec.keys);

type Send = (first: number, count: number) => Promise<string>; // returns a status ('202', 'ERR:code'...)

function httpTarget(): { send: Send; close(): void; sockets: Set<unknown>; reused: { n: number } } {
  const u = new URL(spec.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections, maxFreeSockets: spec.connections, scheduling: 'fifo' });
  const sockets = new Set<unknown>();
  const reused = { n: 0 };
  const send: Send = (first, count) =>
    new Promise((resolve) => {
      let body: string;
      if (count === 1) body = ser(first);
      else {
        body = '[';
        for (let i = 0; i < count; i++) body += (i ? ',' : '') + ser(first + i);
        body += ']';
      }
      const req = http.request(
        {
          agent,
          host: u.hostname,
          port: u.port,
          method: 'POST',
          path: '/v1/events',
          headers: {
            'content-type': count === 1 ? 'application/cloudevents+json' : 'application/cloudevents-batch+json',
            'content-length': Buffer.byteLength(body),
            ...(spec.token ? { authorization: `Bearer ${spec.token}` } : {}),
          },
        },
        (res) => {
          const keep = res.statusCode !== 202 && firstError.body === undefined;
          let text = '';
          res.on('data', (d: Buffer) => {
            if (keep && text.length < 2000) text += d;
          });
          res.on('end', () => {
            if (keep && firstError.body === undefined) firstError.body = `${res.statusCode} ${text.slice(0, 2000)}`;
            resolve(String(res.statusCode));
          });
          res.on('error', (e: NodeJS.ErrnoException) => resolve(`ERR:${e.code ?? e.message}`));
        },
      );
      req.on('socket', (s) => {
        sockets.add(s);
        if (req.reusedSocket) reused.n++;
      });
      req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
      req.on('error', (e: NodeJS.ErrnoException) => resolve(`ERR:${e.code ?? e.message}`));
      req.end(body);
    });
  return { send, close: () => agent.destroy(), sockets, reused };
}

function pgTarget(): { send: Send; close(): Promise<void>; backendCpuSeconds(): number } {
  const pool = new pg.Pool({ connectionString: spec.url, max: spec.connections, idleTimeoutMillis: 0 });
  pool.on('error', () => undefined);
  // the PostgreSQL backends serving this load, for their CPU time (same machine)
  const backends: number[] = [];
  pool.on('connect', (c) => {
    c.on('error', () => undefined);
    const pid = (c as unknown as { processID?: number }).processID;
    if (pid) backends.push(pid);
  });
  const backendCpuSeconds = () => backends.reduce((a, pid) => a + (procCpuSeconds(pid) ?? 0), 0);
  const proto = faultEvent('x', 0);
  const dataJson = JSON.stringify(proto.data);
  const sql = `insert into hub_events (tenant_id, source, id, type, specversion, subject, key, occurred_at, datacontenttype, dataschema, data, extensions, correlation_id)
    select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::text[], $10::text[], $11::jsonb[], $12::jsonb[], $13::text[])
    on conflict (tenant_id, source, id) do nothing`;
  // variant: the same INSERT plus the hub's pg_notify in the same (autocommit) statement
  const sqlNotify = `with ins as (${sql} returning 1) select pg_notify('bench_work', '') from (select count(*) as n from ins) x where x.n > 0`;
  const text = spec.notify ? sqlNotify : sql;
  const send: Send = async (first, count) => {
    const c = { tenant: [] as string[], source: [] as string[], id: [] as string[], type: [] as string[], spec: [] as string[], subject: [] as null[], key: [] as string[], time: [] as string[], dct: [] as string[], ds: [] as null[], data: [] as string[], ext: [] as string[], corr: [] as null[] };
    for (let n = first; n < first + count; n++) {
      const key = keyOf(n, spec.keys);
      c.tenant.push('default');
      c.source.push(BENCH_SOURCE);
      c.id.push(`${spec.prefix}-${n}`);
      c.type.push(proto.type);
      c.spec.push('1.0');
      c.subject.push(null);
      c.key.push(key);
      c.time.push(new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString());
      c.dct.push('application/json');
      c.ds.push(null);
      c.data.push(dataJson);
      c.ext.push(JSON.stringify({ partitionkey: key }));
      c.corr.push(null);
    }
    try {
      await pool.query(text, [c.tenant, c.source, c.id, c.type, c.spec, c.subject, c.key, c.time, c.dct, c.ds, c.data, c.ext, c.corr]);
      return '202';
    } catch (e) {
      return `ERR:${(e as { code?: string }).code ?? (e as Error).message}`;
    }
  };
  return { send, close: () => pool.end(), backendCpuSeconds };
}

async function main(): Promise<void> {
  const cpu0 = process.cpuUsage();
  const h = spec.target === 'http' ? httpTarget() : undefined;
  const p = spec.target === 'pg' ? pgTarget() : undefined;
  const send = (h ?? p)!.send;
  const ack = spec.ackFile ? createWriteStream(spec.ackFile) : undefined;
  let ackBuf = '';
  const flushAck = (force = false) => {
    if (ack && (force || ackBuf.length > 1 << 16)) {
      ack.write(ackBuf);
      ackBuf = '';
    }
  };

  const lat: number[] = [];
  const lag: number[] = [];
  const statuses: Record<string, number> = {};
  const errors: Record<string, number> = {};
  let requests = 0;
  let events = 0;
  let okEvents = 0;
  let totalSent = 0;
  let totalOk = 0;
  let lastDone = 0;

  // Warm the connections (and the hub's first-request paths) with a few requests
  // before the clock starts; these events are stored like the others.
  let next = 0;
  const record = (first: number, count: number, status: string, t0: number, t1: number, measured: boolean) => {
    totalSent++;
    if (status === '202') {
      totalOk += count;
      if (ack) {
        for (let i = 0; i < count; i++) ackBuf += `${first + i}\t${t1.toFixed(3)}\n`;
        flushAck();
      }
    }
    if (!measured) return;
    requests++;
    events += count;
    lat.push(t1 - t0);
    if (t1 > lastDone) lastDone = t1;
    if (status === '202') okEvents += count;
    else if (status.startsWith('ERR:')) errors[status.slice(4)] = (errors[status.slice(4)] ?? 0) + 1;
    statuses[status.startsWith('ERR:') ? 'error' : status] = (statuses[status.startsWith('ERR:') ? 'error' : status] ?? 0) + 1;
  };

  let windowStart: number;
  let windowMs: number;
  if (spec.mode === 'closed') {
    const t0 = nowMs();
    windowStart = t0 + spec.warmupMs;
    const end = windowStart + spec.durationMs;
    const sender = async () => {
      for (;;) {
        const ts = nowMs();
        if (ts >= end) return;
        const first = next;
        next += spec.batch;
        const status = await send(first, spec.batch);
        record(first, spec.batch, status, ts, nowMs(), ts >= windowStart);
      }
    };
    await Promise.all(Array.from({ length: spec.connections }, () => sender()));
    windowMs = Math.max(1, lastDone - windowStart);
  } else {
    const rate = spec.rate ?? 1000;
    const perReq = spec.batch;
    const interval = (1000 * perReq) / rate;
    // warm-up: a short burst at the same rate, not measured
    const warmN = Math.floor(spec.warmupMs / interval);
    const total = Math.floor(spec.durationMs / interval);
    const start = nowMs() + 20;
    windowStart = start + warmN * interval;
    const inflight = new Set<Promise<void>>();
    for (let i = 0; i < warmN + total; ) {
      const t = nowMs();
      while (i < warmN + total && start + i * interval <= t) {
        const sched = start + i * interval;
        const measured = i >= warmN;
        const first = next;
        next += perReq;
        if (measured) lag.push(t - sched);
        const pr = send(first, perReq).then((status) => record(first, perReq, status, sched, nowMs(), measured));
        inflight.add(pr);
        void pr.finally(() => inflight.delete(pr));
        i++;
      }
      // sleep at least 1 ms: spinning would take a core from the system under test
      await sleep(Math.max(1, Math.floor(start + i * interval - nowMs())));
    }
    await Promise.all([...inflight]);
    // achieved rate: a server that falls behind finishes the schedule late
    windowMs = Math.max(spec.durationMs, lastDone - windowStart);
  }
  flushAck(true);
  if (ack) await new Promise<void>((r) => ack.end(r));
  h?.close();
  const pgBackendCpuSeconds = p?.backendCpuSeconds();
  await p?.close();
  const cpu = process.cpuUsage(cpu0);
  const res: LoadResult = {
    spec,
    requests,
    events,
    okEvents,
    eventsPerSec: (okEvents * 1000) / windowMs,
    requestsPerSec: (requests * 1000) / windowMs,
    windowMs,
    statuses,
    errors,
    latencyMs: summarize(lat),
    ...(spec.mode === 'open' ? { sendLagMs: summarize(lag) } : {}),
    ...(h ? { socketsOpened: h.sockets.size, reusedRequests: h.reused.n } : {}),
    ...(firstError.body !== undefined ? { firstErrorBody: firstError.body } : {}),
    totalRequestsSent: totalSent,
    totalEventsOk: totalOk,
    loadgenCpuSeconds: (cpu.user + cpu.system) / 1e6,
    ...(pgBackendCpuSeconds !== undefined ? { pgBackendCpuSeconds } : {}),
  };
  process.stdout.write(`RESULT ${JSON.stringify(res)}\n`);
}

await main();
