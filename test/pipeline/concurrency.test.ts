/**
 * Several workers on one database: no event handled twice at once, none lost, per-key
 * order kept; a worker whose lease was taken over cannot commit (fencing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { freshDatabase } from '../helpers/db.ts';
import { createEffects, ev, recordingHandler, testWorker } from '../helpers/pipeline.ts';
import { ingest } from '../../src/pipeline/inbox.ts';
import { systemClock } from '../../src/platform/clock.ts';

const db = await freshDatabase({ poolSize: 20 });
await createEffects(db.pool);

test('three workers share 3,000 events over 60 keys: each handled once, per-key order kept', async () => {
  const workers = [1, 2, 3].map((i) => testWorker(db.pool, [recordingHandler()], { instanceId: `w${i}`, clock: systemClock, concurrency: 4, batchSize: 10, pollMs: 20 }).worker);
  const total = 3000;
  let handled = 0;
  const done = new Promise<void>((resolve) => {
    for (const w of workers)
      w.on('handled', () => {
        if (++handled === total) resolve();
      });
  });
  for (const w of workers) w.start();
  // ingest concurrently from several "clients", each sending its keys in order
  await Promise.all(
    [0, 1, 2, 3].map(async (c) => {
      for (let n = 1; n <= 50; n++) {
        const keys = Array.from({ length: 15 }, (_, i) => `cc-${c}-${i}`);
        await ingest(db.pool, keys.map((k) => ev(k, n)));
      }
    }),
  );
  await done;
  await Promise.all(workers.map((w) => w.stop()));
  const r = await db.pool.query(`select count(*)::int n, count(distinct event_id)::int d from t_effects where key like 'cc-%'`);
  assert.deepEqual(r.rows[0], { n: total, d: total });
  const disorder = await db.pool.query(`select key from (select key, n, lag(n) over (partition by key order by at, seq) p from t_effects where key like 'cc-%') x where p >= n`);
  assert.deepEqual(disorder.rows, []);
  const leased = await db.pool.query(`select count(*)::int n from hub_keys where locked_by is not null`);
  assert.equal(leased.rows[0].n, 0, 'stop() released every lease');
});

test('a worker whose lease was taken over before its batch began handles nothing (fencing)', async () => {
  // Worker a claims the key, then stalls before its batch transaction starts (after its timer
  // check, its pool hands out connections only when the gate opens); its lease lapses and b
  // takes the key over.
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let connects = 0;
  const stalledPool = new Proxy(db.pool, {
    get(target, prop) {
      if (prop === 'connect') return async () => (++connects > 1 && (await gate), target.connect());
      const v = Reflect.get(target, prop);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const a = testWorker(stalledPool, [recordingHandler()], { instanceId: 'a' }).worker;
  const b = testWorker(db.pool, [recordingHandler()], { instanceId: 'b' }).worker;
  await ingest(db.pool, [ev('fence', 1)]);
  const aDone = a.drain();
  for (let i = 0; ; i++) {
    const r = await db.pool.query(`select locked_by from hub_keys where key = 'fence'`);
    if (String(r.rows[0].locked_by).startsWith('a#')) break;
    assert.ok(i < 500, 'a claimed the key');
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(connects, 2, 'a waits at the gate with its batch');
  await db.pool.query(`update hub_keys set lease_until = now() - interval '1 second' where key = 'fence'`);
  assert.equal(await b.drain(), 1);
  open();
  assert.equal(await aDone, 0, 'a found its lease gone and did nothing');
  assert.equal(db.pool.totalCount, db.pool.idleCount, 'every connection went back to the pool');
  const r = await db.pool.query(`select count(*)::int n from t_effects where key = 'fence'`);
  assert.equal(r.rows[0].n, 1, 'applied once');
  const h = await db.pool.query(`select worker, outcome from hub_attempts a join hub_events e on e.seq = a.event_seq where e.key = 'fence'`);
  assert.deepEqual(h.rows, [{ worker: 'b', outcome: 'done' }]);
});

test('a worker busy with a key keeps it: nobody else handles the key meanwhile', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inHandler = new Promise<void>((r) => (entered = r));
  const rec = recordingHandler();
  const a = testWorker(db.pool, [{ ...rec, handle: async (e, ctx) => { entered(); await gate; await rec.handle(e, ctx); } }], { instanceId: 'busy-a' }).worker;
  const b = testWorker(db.pool, [recordingHandler()], { instanceId: 'busy-b' }).worker;
  await ingest(db.pool, [ev('busy', 1)]);
  const aDone = a.drain();
  await inHandler;
  assert.equal(await b.drain(), 0, 'the key is locked by the batch that handles it');
  release();
  assert.equal(await aDone, 1);
  const r = await db.pool.query(`select count(*)::int n from t_effects where key = 'busy'`);
  assert.equal(r.rows[0].n, 1);
});

test('a started worker wakes on NOTIFY and handles new work without waiting for its poll', async () => {
  const { worker } = testWorker(db.pool, [recordingHandler()], { instanceId: 'n', clock: systemClock, pollMs: 60_000, listenUrl: db.url });
  worker.start();
  await once(worker, 'idle');
  // give LISTEN a moment to be registered: wait until the listener connection shows up
  for (let i = 0; i < 100; i++) {
    const r = await db.pool.query(`select count(*)::int n from pg_stat_activity where datname = current_database() and query like 'listen %'`);
    if (r.rows[0].n > 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const handled = once(worker, 'handled');
  await ingest(db.pool, [ev('notify', 1)]);
  const [h] = await handled;
  assert.equal(h.event.id, 'notify-1');
  await worker.stop();
});
