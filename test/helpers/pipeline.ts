/** Helpers for pipeline tests: events, a recording handler, a worker on a fake clock. */
import type pg from 'pg';
import { FakeClock } from '../../src/platform/clock.ts';
import { createLogger } from '../../src/platform/logger.ts';
import type { Handler, IncomingEvent } from '../../src/pipeline/types.ts';
import { Worker, type WorkerOptions } from '../../src/pipeline/worker.ts';

export const silent = createLogger('silent');

export function ev(key: string, n: number, extra: Partial<IncomingEvent> = {}): IncomingEvent {
  return {
    id: `${key}-${n}`,
    source: 'urn:test',
    type: 'test.step.v1',
    specversion: '1.0',
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    datacontenttype: 'application/json',
    data: { key, n },
    extensions: {},
    key,
    tenantId: 'default',
    ...extra,
  };
}

/** A side-effect table with a unique constraint: a second application of one event fails loudly. */
export async function createEffects(pool: pg.Pool): Promise<void> {
  await pool.query(`create table if not exists t_effects (event_id text primary key, key text not null, n int not null, seq bigint not null, at timestamptz not null default clock_timestamp())`);
}

/** Records each event into t_effects inside the pipeline's transaction. */
export function recordingHandler(opts: { fail?: (e: { id: string; attempt: number }) => Error | undefined } = {}): Handler {
  return {
    name: 'test.record',
    matches: (t) => t.startsWith('test.'),
    async handle(e, ctx) {
      const err = opts.fail?.({ id: e.id, attempt: ctx.attempt });
      if (err) throw err;
      const d = e.data as { key: string; n: number };
      await ctx.tx.query(`insert into t_effects (event_id, key, n, seq) values ($1, $2, $3, $4)`, [e.id, d.key, d.n, e.seq]);
    },
  };
}

export function testWorker(pool: pg.Pool, handlers: Handler[], o: Partial<WorkerOptions> = {}): { worker: Worker; clock: FakeClock } {
  const clock = (o.clock as FakeClock | undefined) ?? new FakeClock('2026-03-01T00:00:00Z');
  const worker = new Worker({
    pool,
    handlers,
    log: silent,
    clock,
    instanceId: 'test-worker',
    concurrency: 4,
    keysPerClaim: 8,
    batchSize: 50,
    leaseMs: 30000,
    pollMs: 50,
    retry: { baseMs: 1000, maxMs: 60000, maxAttempts: 5 },
    random: () => 0.5,
    ...o,
  });
  return { worker, clock };
}
