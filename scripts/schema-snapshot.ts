/**
 * Rewrites migrations/schema.snapshot.txt from a scratch database migrated from zero.
 * Run after adding a migration: `npm run schema:snapshot` (DATABASE_URL or the local
 * PostgreSQL service is used to create and drop the scratch database).
 */
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { createPool } from '../src/platform/db.ts';
import { migrate } from '../src/platform/migrate.ts';
import { dumpSchema, SNAPSHOT_FILE } from '../src/platform/schema-dump.ts';

const server = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const name = `hub_snapshot_${process.pid}`;
const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`create database ${name}`);
try {
  const u = new URL(server);
  u.pathname = '/' + name;
  const pool = createPool(u.toString(), 2);
  await migrate(pool);
  writeFileSync(SNAPSHOT_FILE, await dumpSchema(pool));
  await pool.end();
  console.log(`wrote ${SNAPSHOT_FILE}`);
} finally {
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
