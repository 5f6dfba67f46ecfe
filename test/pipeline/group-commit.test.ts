/**
 * Group commit: concurrent requests share transactions, each gets its own outcomes, and
 * one request the database refuses fails alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.ts';
import { ev } from '../helpers/pipeline.ts';
import { GroupCommitter } from '../../src/pipeline/group-commit.ts';

const db = await freshDatabase();

test('200 concurrent single-event requests are stored in a few transactions, each answered with its own outcome', async () => {
  const gc = new GroupCommitter(db.pool, { maxInFlight: 2 });
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => gc.submit([ev(`gc-${i % 20}`, i)])));
  results.forEach((r, i) => assert.deepEqual(r.map((o) => [o.id, o.duplicate]), [[`gc-${i % 20}-${i}`, false]]));
  assert.ok(gc.stats.transactions <= 10, `${gc.stats.transactions} transactions for 200 requests`);
  const n = await db.pool.query(`select count(*)::int n, (select sum(pending)::int from hub_keys where key like 'gc-%') p from hub_events where key like 'gc-%'`);
  assert.deepEqual(n.rows[0], { n: 200, p: 200 });
});

test('the same event in two concurrent requests is stored once; both are answered', async () => {
  const gc = new GroupCommitter(db.pool, { maxInFlight: 1 });
  const [a, b] = await Promise.all([gc.submit([ev('gcd', 1)]), gc.submit([ev('gcd', 1)])]);
  assert.equal(a[0]!.seq, b[0]!.seq);
  assert.deepEqual([a[0]!.duplicate, b[0]!.duplicate], [false, true]);
});

test('a request the database refuses fails alone; its neighbours in the group are stored', async () => {
  const gc = new GroupCommitter(db.pool, { maxInFlight: 1 });
  const first = gc.submit([ev('gcx', 0)]); // occupies the one commit slot: the next three form a group
  const bad = gc.submit([ev('gcx', 2, { time: '+275760-09-13T00:00:00Z' })]); // out of PostgreSQL's timestamp range
  const good = [gc.submit([ev('gcx', 1)]), gc.submit([ev('gcx', 3)])];
  await first;
  await assert.rejects(bad, /out of range|invalid input/);
  assert.deepEqual((await Promise.all(good)).map((r) => r[0]!.id), ['gcx-1', 'gcx-3']);
  const ids = await db.pool.query(`select id from hub_events where key = 'gcx' order by seq`);
  assert.deepEqual(ids.rows.map((r) => r.id), ['gcx-0', 'gcx-1', 'gcx-3']);
});
