/**
 * Numbered SQL migrations (migrations/NNNN_name.sql), applied in order, each in its own
 * transaction, under an advisory lock so several hub processes can start at once. The
 * checksum of every applied file is kept: an edited migration is reported, not re-run.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');
const LOCK_ID = 727_1_2026;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  const seen = new Set<number>();
  return files.map((f) => {
    const version = Number(f.slice(0, 4));
    if (seen.has(version)) throw new Error(`two migrations share number ${version} in ${dir}`);
    seen.add(version);
    const sql = readFileSync(join(dir, f), 'utf8');
    return { version, name: f.replace(/\.sql$/, ''), sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
}

export interface MigrationStatus {
  applied: { version: number; name: string; checksum: string }[];
  pending: Migration[];
  /** applied migrations whose file changed since */
  modified: { version: number; name: string }[];
  /** applied in the database but missing from the files (a newer hub ran here) */
  unknown: { version: number; name: string }[];
}

async function ensureTable(c: pg.ClientBase | pg.Pool): Promise<void> {
  await c.query(`create table if not exists hub_migrations (
    version integer primary key, name text not null, checksum text not null, applied_at timestamptz not null default now())`);
}

/** `files` defaults to reading `dir`; a caller that checks often (readiness) passes them once read. */
export async function migrationStatus(pool: pg.Pool, dir = MIGRATIONS_DIR, files: Migration[] = loadMigrations(dir)): Promise<MigrationStatus> {
  const exists = await pool.query(`select to_regclass('hub_migrations') is not null as ok`);
  const applied = exists.rows[0].ok
    ? (await pool.query<{ version: number; name: string; checksum: string }>('select version, name, checksum from hub_migrations order by version')).rows
    : [];
  const byVersion = new Map(applied.map((a) => [a.version, a]));
  const fileVersions = new Set(files.map((f) => f.version));
  return {
    applied,
    pending: files.filter((f) => !byVersion.has(f.version)),
    modified: files.filter((f) => byVersion.has(f.version) && byVersion.get(f.version)!.checksum !== f.checksum).map((f) => ({ version: f.version, name: f.name })),
    unknown: applied.filter((a) => !fileVersions.has(a.version)).map((a) => ({ version: a.version, name: a.name })),
  };
}

/** Applies pending migrations; returns the names applied. */
export async function migrate(pool: pg.Pool, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = loadMigrations(dir);
  const c = await pool.connect();
  const done: string[] = [];
  try {
    await c.query('select pg_advisory_lock($1)', [LOCK_ID]);
    await ensureTable(c);
    const applied = new Map((await c.query<{ version: number; checksum: string }>('select version, checksum from hub_migrations')).rows.map((r) => [r.version, r.checksum]));
    for (const m of files) {
      if (applied.has(m.version)) continue;
      await c.query('begin');
      try {
        await c.query(m.sql);
        await c.query('insert into hub_migrations (version, name, checksum) values ($1, $2, $3)', [m.version, m.name, m.checksum]);
        await c.query('commit');
        done.push(m.name);
      } catch (e) {
        await c.query('rollback');
        throw new Error(`migration ${m.name} failed: ${(e as Error).message}`, { cause: e });
      }
    }
  } finally {
    await c.query('select pg_advisory_unlock($1)', [LOCK_ID]).catch(() => undefined);
    c.release();
  }
  return done;
}
