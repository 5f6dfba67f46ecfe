/**
 * PostgreSQL stopped and restarted mid-stream (a dedicated embedded PostgreSQL, so the
 * shared service is untouched): the hub answers 503 with Retry-After while it is away,
 * /readyz reflects the outage, the hub reconnects by itself, and every acknowledged
 * event is handled exactly once.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/platform/db.ts';
import { HubProcess } from '../helpers/hubproc.ts';
import { faultEvent, loadToken, postBatch, waitFor } from '../helpers/load.ts';

async function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

test('PostgreSQL restarted mid-stream: readiness follows, nothing acknowledged is lost', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hub-pgrestart-'));
  const port = await freePort();
  let pgh = await startEmbeddedPostgres(dir, undefined, 'postgres', port);
  after(async () => {
    await pgh.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  const admin = new pg.Client({ connectionString: pgh.url });
  await admin.connect();
  await admin.query(`create table t_effects (id bigint generated always as identity primary key, source text not null, event_id text not null, key text not null, seq bigint not null, worker text not null, unique (source, event_id))`);
  await admin.end();

  const hub = new HubProcess('pgr', { DATABASE_URL: pgh.url }, { pipeline: { pollMs: 200 }, database: { connectTimeoutMs: 1000 } });
  after(() => hub.stop());
  const url = await hub.start();
  const tokenPool = new pg.Pool({ connectionString: pgh.url, max: 1 });
  const token = await loadToken(tokenPool);
  await tokenPool.end();

  const events = [];
  for (let n = 1; n <= 30; n++) for (let k = 0; k < 100; k++) events.push(faultEvent(`r${k}`, n));
  const statuses = new Map<number, number>();
  let acknowledged = 0;
  const deadline = Date.now() + 180_000;
  const flow = (async () => {
    for (let i = 0; i < events.length; i += 20) {
      const batch = events.slice(i, i + 20);
      for (;;) {
        if (Date.now() > deadline) throw new Error(`the stream did not complete in time (statuses ${JSON.stringify([...statuses])})`);
        const s = await postBatch(url, batch, token).catch(() => 0);
        statuses.set(s, (statuses.get(s) ?? 0) + 1);
        if (s === 202) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      acknowledged += batch.length;
    }
  })();

  if (process.env.HUB_TEST_DEBUG) process.on('uncaughtException', (e) => console.error('[pg-restart] uncaught', e));
  const debug = (m: string) => process.env.HUB_TEST_DEBUG && console.error(`[pg-restart] ${m} (acknowledged ${acknowledged})`);
  debug('hub started');
  flow.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
  await waitFor(async () => acknowledged >= 1000, 60_000, 'a third of the stream');
  debug('stopping PostgreSQL');
  await pgh.stop();
  debug('stopped');
  await waitFor(async () => (await fetch(`${url}/readyz`)).status === 503, 30_000, '/readyz to report the outage');
  debug('readyz is 503');
  const during = await postBatch(url, [faultEvent('outage', 1)], token);
  assert.equal(during, 503, 'ingress refuses with 503 while the database is away');
  await new Promise((r) => setTimeout(r, 1500));
  debug('restarting PostgreSQL');
  pgh = await startEmbeddedPostgres(dir, undefined, 'postgres', port);
  debug('restarted');
  await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, 60_000, '/readyz to recover');
  await flow;
  assert.equal(acknowledged, events.length);
  assert.ok((statuses.get(503) ?? 0) >= 1, `503 answers seen during the outage: ${JSON.stringify([...statuses])}`);
  assert.equal(statuses.get(500) ?? 0, 0, 'never a 500');

  const check = new pg.Client({ connectionString: pgh.url });
  check.on('error', () => undefined);
  await check.connect();
  try {
    await waitFor(async () => {
      const r = await check.query(`select coalesce(sum(pending), 0)::int p from hub_keys`);
      return r.rows[0].p === 0;
    }, 120_000, 'the backlog to drain after the restart');
    const eff = await check.query(`select count(*)::int n, count(distinct event_id)::int d from t_effects where key like 'r%'`);
    assert.deepEqual(eff.rows[0], { n: events.length, d: events.length }, 'every acknowledged event handled, once');
  } finally {
    await check.end();
  }
});
