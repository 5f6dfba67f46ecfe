/**
 * Shared helpers of the benchmarks: statistics, PostgreSQL admin (fresh databases),
 * child processes that print "READY <x>", peak RSS, machine facts and a CPU-busy probe.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Wall clock in epoch milliseconds with sub-millisecond resolution, comparable across processes. */
export const nowMs = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------- statistics

/** Nearest-rank percentile of an ascending sorted array. */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface LatencySummary {
  n: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

export function summarize(values: number[] | Float64Array): LatencySummary {
  const s = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of s) sum += v;
  return {
    n: s.length,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s.length ? s[s.length - 1]! : null,
    mean: s.length ? sum / s.length : null,
  };
}

export const round = (v: number | null | undefined, d = 1): number | null => (v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v * 10 ** d) / 10 ** d);

// ---------------------------------------------------------------- PostgreSQL

export function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = '/' + db;
  return u.toString();
}

export async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(serverUrl: string, sql: string, values?: unknown[]): Promise<pg.QueryResult<T>> {
  const c = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await c.query<T>(sql, values);
  } finally {
    await c.end().catch(() => undefined);
  }
}

export { canConnect as reachable } from '../src/platform/db.ts';

export const dbName = (tag: string) => `bench_${tag}_${randomBytes(4).toString('hex')}`;

/** Creates an empty database (or a copy of `template`); returns its URL. */
export async function createDatabase(serverUrl: string, name: string, template?: string): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      await adminQuery(serverUrl, `create database ${name}${template ? ` template ${template}` : ''}`);
      return withDb(serverUrl, name);
    } catch (e) {
      // a connection to the template may linger for a moment
      if (i > 30 || !/being accessed by other users/.test((e as Error).message)) throw e;
      await sleep(100);
    }
  }
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await adminQuery(serverUrl, `drop database if exists ${name} with (force)`).catch(() => undefined);
}

// ---------------------------------------------------------------- child processes

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** text after READY on the child's first READY line */
  ready: string;
  stderr(): string;
  /** lines the child printed on stdout after READY */
  lines: string[];
  /** resolves with the first stdout line after READY that matches */
  waitLine(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Spawns `node <script> ...args`, waits for "READY <x>" on stdout. */
export async function spawnReady(script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Child> {
  const proc = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d) => (err = (err + d).slice(-20_000)));
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let buf = '';
  // 'close' comes after 'exit' once stdout is drained, so every line printed is in `lines`
  const exited = new Promise<number | null>((r) => proc.once('close', (code) => r(code)));
  const ready = await new Promise<string>((resolve, reject) => {
    let done = false;
    const t = setTimeout(() => {
      if (!done) reject(new Error(`${script} did not become ready in ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    proc.stdout!.on('data', (d) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^READY (.*)$/.exec(line);
        if (m && !done) {
          done = true;
          clearTimeout(t);
          resolve(m[1]!);
        } else {
          lines.push(line);
          for (const w of [...waiters]) if (w.re.test(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    });
    void exited.then((code) => {
      if (!done) {
        done = true;
        clearTimeout(t);
        reject(new Error(`${script} exited with ${code} before it was ready: ${err}`));
      }
    });
  });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
    proc.kill(signal);
    const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
    return proc.exitCode;
  };
  const waitLine = (re: RegExp, ms = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return resolve(seen);
      const t = setTimeout(() => reject(new Error(`${script}: no line matching ${re} in ${ms} ms: ${err}`)), ms);
      waiters.push({ re, resolve: (l) => (clearTimeout(t), resolve(l)) });
      void exited.then((code) => (clearTimeout(t), reject(new Error(`${script} exited with ${code}: ${err}`))));
    });
  return { proc, pid: proc.pid!, ready, stderr: () => err, lines, waitLine, stop, exited };
}

/** Runs `node <script> ...args` to completion; returns its stdout (throws on a non-zero exit). */
export async function runToEnd(script: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 300_000): Promise<string> {
  const proc = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err = (err + d).slice(-20_000)));
  const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(proc, 'exit')) as [number | null];
  clearTimeout(t);
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited with ${code}: ${err}`);
  return out;
}

/** Peak resident set size (VmHWM) of a live process, in MiB. */
export function peakRssMiB(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- machine

function cpuTimes(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Share of all CPUs busy over `ms` (0..1). Run while the benchmark itself is idle. */
export async function cpuBusy(ms = 1000): Promise<number> {
  const a = cpuTimes();
  await sleep(ms);
  const b = cpuTimes();
  return b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
}

/** Busy share of all CPUs between two samples taken with cpuSample(). */
export function cpuSample(): { busy: number; total: number } {
  return cpuTimes();
}
export function cpuBetween(a: { busy: number; total: number }, b: { busy: number; total: number }): number {
  return b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
}

/** CPU seconds (user+system) used so far by a process, from /proc/<pid>/stat. */
export function procCpuSeconds(pid: number): number | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields after the command: state is f[0]; utime is field 14 => f[11], stime f[12]
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

export function machine(): { nproc: number; cpuModel: string; node: string; loadavg: number[] } {
  return { nproc: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, loadavg: loadavg().map((x) => Math.round(x * 100) / 100) };
}

// ---------------------------------------------------------------- CPU accounting

export interface CpuSnapshot {
  at: number;
  machineBusySec: number;
  procs: Map<number, { comm: string; sec: number }>;
}

/** CPU seconds of the whole machine and of every process, for attributing a phase's CPU. */
export function cpuSnapshot(): CpuSnapshot {
  const m = cpuTimes();
  const procs = new Map<number, { comm: string; sec: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(d), { comm, sec: (Number(f[11]) + Number(f[12])) / 100 });
    } catch {
      // the process ended meanwhile
    }
  }
  return { at: Date.now(), machineBusySec: m.busy / 100, procs };
}

export interface CpuUse {
  wallSec: number;
  /** average number of busy cores over the phase (of nproc) */
  busyCores: number;
  /** CPU seconds per wall second, by group */
  groups: Record<string, number>;
  /** busy cores not explained by the named groups or PostgreSQL: other work on the machine */
  otherCores: number;
}

/** Attributes the CPU used between two snapshots to named process groups, PostgreSQL and the rest. */
export function cpuUse(a: CpuSnapshot, b: CpuSnapshot, groups: Record<string, number[]>, foreignBackends: Set<number> = new Set()): CpuUse {
  const wall = Math.max(0.001, (b.at - a.at) / 1000);
  const used = (pid: number) => {
    const x = b.procs.get(pid);
    if (!x) return 0;
    return x.sec - (a.procs.get(pid)?.sec ?? 0);
  };
  const out: Record<string, number> = {};
  let named = 0;
  const claimed = new Set<number>();
  for (const [g, pids] of Object.entries(groups)) {
    let s = 0;
    for (const p of pids) {
      s += used(p);
      claimed.add(p);
    }
    out[g] = s / wall;
    named += s;
  }
  let pgSec = 0;
  // PostgreSQL processes, less the backends serving other people's databases (those are "other")
  for (const [pid, x] of b.procs) if (x.comm === 'postgres' && !claimed.has(pid) && !foreignBackends.has(pid)) pgSec += used(pid);
  out.postgres = pgSec / wall;
  const busy = b.machineBusySec - a.machineBusySec;
  return { wallSec: wall, busyCores: busy / wall, groups: out, otherCores: Math.max(0, busy - named - pgSec) / wall };
}
