import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.ts';
import { diffSchema, dumpSchema, readSnapshot } from '../../src/platform/schema-dump.ts';
import { loadMigrations, migrationStatus } from '../../src/platform/migrate.ts';

const db = await freshDatabase();

test('the migrations produce exactly the committed schema snapshot', async () => {
  const d = diffSchema(readSnapshot(), await dumpSchema(db.pool));
  assert.deepEqual(d, { missing: [], unexpected: [] }, 'schema and migrations disagree: add a migration, then `npm run schema:snapshot`');
});

test('a change made by hand is reported as drift', async () => {
  await db.pool.query('alter table hub_events add column sneaky text');
  const d = diffSchema(readSnapshot(), await dumpSchema(db.pool));
  assert.deepEqual(d.unexpected, ['column hub_events.sneaky text']);
  await db.pool.query('alter table hub_events drop column sneaky');
});

test('migrations are numbered without gaps and all applied, with matching checksums', async () => {
  const ms = loadMigrations();
  assert.deepEqual(ms.map((m) => m.version), ms.map((_, i) => i + 1));
  const st = await migrationStatus(db.pool);
  assert.deepEqual({ pending: st.pending.length, modified: st.modified, unknown: st.unknown }, { pending: 0, modified: [], unknown: [] });
});
