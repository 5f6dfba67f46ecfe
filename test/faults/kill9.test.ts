/**
 * Three hub processes share one database; one at a time is killed with SIGKILL at
 * random moments while 20,000 events over 500 keys flow in over HTTP, and restarted.
 * Every acknowledged (202) event must be handled exactly once in effect (t_effects has
 * a unique constraint on the event identity, written in the pipeline's transaction),
 * each key's events in the order they were stored, and nothing may stay in flight.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.ts';
import { HubProcess } from '../helpers/hubproc.ts';
import { faultEvent, loadToken, postBatch, waitFor } from '../helpers/load.ts';

const KEYS = 500;
const PER_KEY = 40;
const BATCH = 50;
const LANES = 10;

test('kill -9 of hub processes mid-stream loses nothing and applies nothing twice', { timeout: 600_000 }, async (t) => {
  const db = await freshDatabase();
  await db.pool.query(`create table t_effects (id bigint generated always as identity primary key, source text not null, event_id text not null, key text not null, seq bigint not null, worker text not null, unique (source, event_id))`);
  const token = await loadToken(db.pool);
  const config = { pipeline: { leaseMs: 2000, pollMs: 200, concurrency: 8 } };
  const hubs = [0, 1, 2].map((i) => new HubProcess(`hub-${i}`, { DATABASE_URL: db.url }, config));
  after(() => Promise.all(hubs.map((h) => h.stop())));
  await Promise.all(hubs.map((h) => h.start()));

  // Lanes: each lane owns a slice of the keys and sends their events in order, batch by batch.
  const acknowledged = new Set<string>();
  let rr = 0;
  const nextUrl = () => {
    for (let i = 0; i < hubs.length; i++) {
      const h = hubs[rr++ % hubs.length]!;
      if (h.url) return h.url;
    }
    return undefined;
  };
  const lane = async (l: number) => {
    const keys = Array.from({ length: KEYS / LANES }, (_, i) => `k${l * (KEYS / LANES) + i}`);
    const events = [];
    for (let n = 1; n <= PER_KEY; n++) for (const k of keys) events.push(faultEvent(k, n));
    for (let i = 0; i < events.length; i += BATCH) {
      const batch = events.slice(i, i + BATCH);
      for (let tries = 0; ; tries++) {
        const url = nextUrl();
        const status = url ? await postBatch(url, batch, token).catch(() => 0) : 0;
        if (status === 202) break;
        assert.ok(tries < 400, `batch ${i} of lane ${l} never acknowledged (last status ${status})`);
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const e of batch) acknowledged.add(e.id);
    }
  };

  let flowing = true;
  let kills = 0;
  const restarts: Promise<unknown>[] = [];
  const killer = (async () => {
    while (flowing) {
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 500));
      const up = hubs.filter((h) => h.url);
      if (!flowing || up.length < 2) continue; // keep one process serving
      const h = up[Math.floor(Math.random() * up.length)]!;
      await h.kill9();
      kills++;
      restarts.push(new Promise((r) => setTimeout(r, 100 + Math.random() * 400)).then(() => h.start()));
    }
  })();
  await Promise.all(Array.from({ length: LANES }, (_, l) => lane(l)));
  flowing = false;
  await killer;
  await Promise.all(restarts);
  assert.ok(kills >= 3, `only ${kills} kills happened during the flow`);
  t.diagnostic(`${kills} hub processes killed with SIGKILL during the flow`);
  assert.equal(acknowledged.size, KEYS * PER_KEY, 'every event acknowledged in the end');

  // Recovery: everything handled, no key left leased or pending.
  await waitFor(async () => {
    const r = await db.pool.query(`select coalesce(sum(pending), 0)::int as pending, count(*) filter (where locked_by is not null)::int as locked from hub_keys`);
    return r.rows[0].pending === 0 && r.rows[0].locked === 0;
  }, 180_000, 'the backlog to drain after the kills');

  const stored = await db.pool.query(`select count(*)::int n from hub_events`);
  assert.equal(stored.rows[0].n, KEYS * PER_KEY, 'each acknowledged event stored once');
  const eff = await db.pool.query(`select count(*)::int n, count(distinct (source, event_id))::int d from t_effects`);
  assert.equal(eff.rows[0].n, KEYS * PER_KEY, 'each acknowledged event applied (no loss)');
  assert.equal(eff.rows[0].d, eff.rows[0].n, 'no event applied twice');
  const dead = await db.pool.query(`select count(*)::int n from hub_dead_letters`);
  assert.equal(dead.rows[0].n, 0, 'no dead letters (a second application would have failed the unique constraint)');
  // Per-key order: effects were written in seq order for every key.
  const disorder = await db.pool.query(
    `select key from (select key, seq, lag(seq) over (partition by key order by id) prev from t_effects) x where prev > seq limit 5`,
  );
  assert.deepEqual(disorder.rows, [], 'per-key order kept');
  // Per-key order also matches the order the client sent each key's events.
  const sent = await db.pool.query(
    `select key from (select e.key, split_part(e.id, '-', 2)::int n, lag(split_part(e.id, '-', 2)::int) over (partition by e.key order by f.id) prev
       from t_effects f join hub_events e on e.source = f.source and e.id = f.event_id) x where prev > n limit 5`,
  );
  assert.deepEqual(sent.rows, []);
  const workers = await db.pool.query(`select count(distinct worker)::int n from t_effects`);
  assert.ok(workers.rows[0].n >= 3, 'the work was shared by the processes');
});
