/**
 * A fresh PostgreSQL database per test file, cloned from a migrated template.
 * The server is the one scripts/test.ts chose (HUB_TEST_DATABASE_URL: the PostgreSQL
 * service when reachable, else an embedded PostgreSQL it started).
 */
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import { createPool } from '../../src/platform/db.ts';
import { loadMigrations, migrate } from '../../src/platform/migrate.ts';
import { createHash } from 'node:crypto';

export function serverUrl(): string {
  const url = process.env.HUB_TEST_DATABASE_URL;
  if (!url) throw new Error('HUB_TEST_DATABASE_URL is not set: run the tests with `npm test` (scripts/test.ts chooses the server)');
  return url;
}

function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = '/' + db;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: serverUrl() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function templateName(): string {
  const h = createHash('sha256');
  for (const m of loadMigrations()) h.update(m.checksum);
  return 'hub_tpl_' + h.digest('hex').slice(0, 12);
}

async function ensureTemplate(): Promise<string> {
  const name = templateName();
  await admin(async (c) => {
    await c.query('select pg_advisory_lock(7272026)');
    try {
      const r = await c.query('select 1 from pg_database where datname = $1', [name]);
      if (r.rowCount === 0) {
        await c.query(`create database ${name}`);
        const pool = createPool(withDb(serverUrl(), name), 2);
        try {
          await migrate(pool);
        } catch (e) {
          await pool.end();
          await c.query(`drop database if exists ${name}`);
          throw e;
        }
        await pool.end();
      }
    } finally {
      await c.query('select pg_advisory_unlock(7272026)');
    }
  });
  return name;
}

export interface TestDb {
  name: string;
  url: string;
  pool: pg.Pool;
}

/** Creates a migrated database for this test file; dropped when the file's tests end. */
export async function freshDatabase(opts: { poolSize?: number } = {}): Promise<TestDb> {
  const tpl = await ensureTemplate();
  const name = 'hub_t_' + randomBytes(6).toString('hex');
  for (let i = 0; ; i++) {
    try {
      await admin((c) => c.query(`create database ${name} template ${tpl}`));
      break;
    } catch (e) {
      // another process may be connected to the template for a moment
      if (i > 20 || !/being accessed by other users/.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 100 + i * 50));
    }
  }
  const url = withDb(serverUrl(), name);
  const pool = createPool(url, opts.poolSize ?? 10);
  after(async () => {
    await pool.end().catch(() => undefined);
    await admin((c) => c.query(`drop database if exists ${name} with (force)`)).catch(() => undefined);
  });
  return { name, url, pool };
}
