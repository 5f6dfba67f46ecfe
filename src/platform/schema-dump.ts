/**
 * A normalised text dump of the hub's schema (tables, columns, constraints, indexes),
 * compared with migrations/schema.snapshot.txt: by the test suite (the migrations must
 * produce exactly the committed snapshot) and by `logistics-hub doctor` (a live database
 * changed by hand, or migrated by another version, is reported).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { MIGRATIONS_DIR } from './migrate.ts';

export const SNAPSHOT_FILE = join(MIGRATIONS_DIR, 'schema.snapshot.txt');

export async function dumpSchema(db: pg.Pool | pg.Client): Promise<string> {
  const lines: string[] = [];
  const cols = await db.query(
    `select c.table_name, c.column_name, c.data_type, c.is_nullable, coalesce(c.column_default, '') d, c.is_identity
     from information_schema.columns c join information_schema.tables t on t.table_name = c.table_name and t.table_schema = c.table_schema
     where c.table_schema = current_schema() and t.table_type = 'BASE TABLE' and c.table_name like 'hub\\_%'
     order by c.table_name, c.column_name`,
  );
  for (const r of cols.rows) lines.push(`column ${r.table_name}.${r.column_name} ${r.data_type}${r.is_nullable === 'NO' ? ' not null' : ''}${r.d ? ` default ${r.d}` : ''}${r.is_identity === 'YES' ? ' identity' : ''}`);
  const cons = await db.query(
    `select conrelid::regclass::text t, conname, pg_get_constraintdef(oid) def from pg_constraint
     where connamespace = current_schema()::regnamespace and contype <> 'n' and conrelid::regclass::text like 'hub\\_%' order by 1, 2`,
  );
  for (const r of cons.rows) lines.push(`constraint ${r.t}.${r.conname} ${r.def}`);
  const idx = await db.query(
    `select tablename, indexname, indexdef from pg_indexes where schemaname = current_schema() and tablename like 'hub\\_%' order by 1, 2`,
  );
  for (const r of idx.rows) lines.push(`index ${r.tablename}.${r.indexname} ${String(r.indexdef).replace(/ ON [\w."]+\./, ' ON ')}`);
  return lines.join('\n') + '\n';
}

export function readSnapshot(): string {
  return readFileSync(SNAPSHOT_FILE, 'utf8');
}

/** Lines only in `expected` (missing) and only in `actual` (unexpected). */
export function diffSchema(expected: string, actual: string): { missing: string[]; unexpected: string[] } {
  const e = new Set(expected.split('\n').filter(Boolean));
  const a = new Set(actual.split('\n').filter(Boolean));
  return { missing: [...e].filter((l) => !a.has(l)), unexpected: [...a].filter((l) => !e.has(l)) };
}
