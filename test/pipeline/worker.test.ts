import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.ts';
import { createEffects, ev, recordingHandler, testWorker } from '../helpers/pipeline.ts';
import { ingest } from '../../src/pipeline/inbox.ts';
import { BusinessError, PermanentError, TransientError } from '../../src/domain/errors.ts';
import { requestReplay, replayProgress, listDeadLetters } from '../../src/pipeline/replay.ts';
import { scheduleTimer } from '../../src/pipeline/timers.ts';

const db = await freshDatabase();
await createEffects(db.pool);

test('stores each event once and reports duplicates with the stored seq', async () => {
  const first = await ingest(db.pool, [ev('dup-a', 1), ev('dup-a', 2), ev('dup-a', 1)]);
  assert.deepEqual(first.map((o) => o.duplicate), [false, false, true]);
  assert.equal(first[2]!.seq, first[0]!.seq);
  const again = await ingest(db.pool, [ev('dup-a', 2)]);
  assert.equal(again[0]!.duplicate, true);
  assert.equal(again[0]!.seq, first[1]!.seq);
  const { rows } = await db.pool.query(`select count(*)::int n, (select pending from hub_keys where key = 'dup-a') p from hub_events where key = 'dup-a'`);
  assert.deepEqual(rows[0], { n: 2, p: 2 });
});

test('handles every key in order, each event once', async () => {
  await db.pool.query('truncate t_effects');
  const batch = [];
  for (let n = 1; n <= 20; n++) for (const k of ['ord-a', 'ord-b', 'ord-c']) batch.push(ev(k, n));
  await ingest(db.pool, batch);
  const { worker } = testWorker(db.pool, [recordingHandler()]);
  await worker.drain();
  const { rows } = await db.pool.query(`select key, array_agg(n order by at) ns from t_effects where key like 'ord-%' group by key order by key`);
  const expected = Array.from({ length: 20 }, (_, i) => i + 1);
  assert.deepEqual(rows, ['ord-a', 'ord-b', 'ord-c'].map((key) => ({ key, ns: expected })));
  const k = await db.pool.query(`select sum(pending)::int p from hub_keys where key like 'ord-%'`);
  assert.equal(k.rows[0].p, 0);
});

test('a transient error is retried after a backoff and keeps the key in order', async () => {
  let failures = 0;
  const h = recordingHandler({ fail: ({ id, attempt }) => (id === 'tr-1' && attempt < 3 ? (failures++, new TransientError({ code: 'odoo.timeout', message: 'timed out' })) : undefined) });
  await ingest(db.pool, [ev('tr', 1), ev('tr', 2)]);
  const { worker, clock } = testWorker(db.pool, [h]);
  const seen: string[] = [];
  worker.on('handled', (x) => seen.push(`${x.event.id}:${x.outcome}`));
  await worker.drain();
  assert.deepEqual(seen, ['tr-1:retry'], 'the key waits: tr-2 is not handled before tr-1');
  clock.advance(1000); // first backoff with random 0.5 is 750 ms
  await worker.drain();
  clock.advance(2000);
  await worker.drain();
  assert.deepEqual(seen, ['tr-1:retry', 'tr-1:retry', 'tr-1:done', 'tr-2:done']);
  assert.equal(failures, 2);
  const hist = await db.pool.query(`select a.outcome, a.error_code from hub_attempts a join hub_events e on e.seq = a.event_seq where e.id = 'tr-1' order by a.id`);
  assert.deepEqual(hist.rows.map((r) => `${r.outcome}/${r.error_code}`), ['retry/odoo.timeout', 'retry/odoo.timeout', 'done/null']);
});

test('a permanent error is dead-lettered after one attempt; replay completes it once fixed', async () => {
  let broken = true;
  const h = recordingHandler({ fail: ({ id }) => (broken && id === 'pm-2' ? new PermanentError({ code: 'mapping.missing_field', message: 'no sku' }) : undefined) });
  await ingest(db.pool, [ev('pm', 1), ev('pm', 2), ev('pm', 3)]);
  const { worker } = testWorker(db.pool, [h]);
  await worker.drain();
  const dl = await listDeadLetters(db.pool, { key: 'pm', status: 'open' });
  assert.equal(dl.length, 1);
  assert.equal(dl[0]!.eventId, 'pm-2');
  assert.equal(dl[0]!.attempts, 1);
  assert.equal(dl[0]!.errorClass, 'permanent');
  assert.equal(dl[0]!.errorCode, 'mapping.missing_field');
  const effects = await db.pool.query(`select n from t_effects where key = 'pm' order by n`);
  assert.deepEqual(effects.rows.map((r) => r.n), [1, 3], 'the key moves on past the dead letter');
  broken = false;
  const { replayId, total } = await requestReplay(db.pool, { key: 'pm' }, 'test');
  assert.equal(total, 1);
  await worker.drain();
  assert.deepEqual(await replayProgress(db.pool, replayId), { replayId, total: 1, replaying: 0, replayed: 1, failed: 0, done: true });
  const after = await db.pool.query(`select n from t_effects where key = 'pm' order by n`);
  assert.deepEqual(after.rows.map((r) => r.n), [1, 2, 3]);
});

test('transient errors that persist become dead letters after maxAttempts', async () => {
  const h = recordingHandler({ fail: ({ id }) => (id === 'ex-1' ? new Error('socket hang up') : undefined) });
  await ingest(db.pool, [ev('ex', 1)]);
  const { worker, clock } = testWorker(db.pool, [h], { retry: { baseMs: 10, maxMs: 100, maxAttempts: 3 } });
  for (let i = 0; i < 5; i++) {
    await worker.drain();
    clock.advance(1000);
  }
  const dl = await listDeadLetters(db.pool, { key: 'ex' });
  assert.equal(dl.length, 1);
  assert.equal(dl[0]!.attempts, 3);
  assert.match(dl[0]!.reason, /persisted through 3 attempts: socket hang up/);
});

test('a business error becomes an exception record and the key moves on', async () => {
  const h = recordingHandler({ fail: ({ id }) => (id === 'bz-1' ? new BusinessError({ code: 'odoo.user_error', message: 'quantity exceeds order' }) : undefined) });
  await ingest(db.pool, [ev('bz', 1), ev('bz', 2)]);
  const { worker } = testWorker(db.pool, [h]);
  await worker.drain();
  const x = await db.pool.query(`select code, message, status from hub_exceptions where key = 'bz'`);
  assert.deepEqual(x.rows, [{ code: 'odoo.user_error', message: 'quantity exceeds order', status: 'open' }]);
  const effects = await db.pool.query(`select n from t_effects where key = 'bz'`);
  assert.deepEqual(effects.rows.map((r) => r.n), [2]);
});

test('a durable timer fires once as an event when the clock reaches it', async () => {
  const fired: string[] = [];
  const { worker, clock } = testWorker(db.pool, [{ name: 'test.timer', matches: (t) => t === 'test.sla.v1', handle: async (e) => void fired.push((e.data as { timer: string }).timer) }]);
  await scheduleTimer(db.pool, { key: 'tm', name: 'wms-ack', dueAt: new Date(clock.now().getTime() + 60_000), eventType: 'test.sla.v1' });
  await worker.drain();
  assert.deepEqual(fired, []);
  clock.advance(60_000);
  await worker.drain();
  await worker.drain();
  assert.deepEqual(fired, ['wms-ack']);
});

test('ready keys are claimed oldest pending event first, not in table order', async () => {
  await ingest(db.pool, [ev('fair-p', 1)]);
  await ingest(db.pool, [ev('fair-q', 1)]);
  await ingest(db.pool, [ev('fair-p', 2)]);
  await ingest(db.pool, [ev('fair-a', 1)]); // sorts first by name, arrived last
  const order: string[] = [];
  const { worker } = testWorker(db.pool, [{ name: 'test.order', matches: () => true, handle: async (e) => void order.push(e.id) }], {
    concurrency: 1,
    keysPerClaim: 1,
    batchSize: 1,
  });
  await worker.drain();
  assert.deepEqual(order.filter((id) => id.startsWith('fair-')), ['fair-p-1', 'fair-q-1', 'fair-p-2', 'fair-a-1']);
});

test("a failing event's own writes are rolled back; the writes of its neighbours in the batch are kept", async () => {
  const h = {
    name: 'test.write-then-fail',
    matches: (t: string) => t.startsWith('test.'),
    async handle(e: { id: string; seq: number; data: unknown }, ctx: { tx: { query: (s: string, v: unknown[]) => Promise<unknown> } }) {
      const d = e.data as { key: string; n: number };
      await ctx.tx.query(`insert into t_effects (event_id, key, n, seq) values ($1, $2, $3, $4)`, [e.id, d.key, d.n, e.seq]);
      if (e.id === 'wf-2') throw new PermanentError({ code: 'test.after_write', message: 'fails after writing' });
    },
  };
  await ingest(db.pool, [ev('wf', 1), ev('wf', 2), ev('wf', 3), ev('wf-other', 1)]);
  const { worker } = testWorker(db.pool, [h]);
  await worker.drain();
  const r = await db.pool.query(`select event_id from t_effects where key like 'wf%' order by event_id`);
  assert.deepEqual(r.rows.map((x) => x.event_id), ['wf-1', 'wf-3', 'wf-other-1']);
  const dl = await listDeadLetters(db.pool, { key: 'wf' });
  assert.deepEqual(dl.map((d) => d.eventId), ['wf-2']);
});
