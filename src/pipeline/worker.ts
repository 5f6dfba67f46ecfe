/**
 * The pipeline worker. Several can run in one process and in many processes on one
 * database. A worker leases business keys (hub_keys rows) with FOR UPDATE SKIP LOCKED,
 * handles each leased key's events strictly in seq order, and commits each event's
 * handler effects together with the key's cursor, fenced by its lease token: a worker
 * that lost its lease (it stalled, or was presumed dead) cannot commit, so an event's
 * effects are applied exactly once even when processes die at any instant.
 *
 * Failures follow the retry policy: transient -> the key waits (run_at) and the same
 * event is tried again, keeping the key's order; permanent or retries exhausted -> dead
 * letter, and the key moves on; business -> exception record, and the key moves on.
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { classify } from '../domain/errors.ts';
import type { Clock } from '../platform/clock.ts';
import { systemClock } from '../platform/clock.ts';
import type { Logger } from '../platform/logger.ts';
import type { Metrics } from '../platform/metrics.ts';
import { WORK_CHANNEL } from './inbox.ts';
import { decide, type RetryPolicy } from './retry.ts';
import { rowToEvent, type Handler, type HandlerContext, type StoredEvent } from './types.ts';
import { fireDueTimers } from './timers.ts';

export interface WorkerOptions {
  pool: pg.Pool;
  /** connection string for the LISTEN connection (wake-ups); polling alone when absent */
  listenUrl?: string;
  handlers: Handler[];
  log: Logger;
  metrics?: Metrics;
  clock?: Clock;
  instanceId: string;
  concurrency: number;
  batchSize: number;
  leaseMs: number;
  pollMs: number;
  retry: RetryPolicy;
  random?: () => number;
}

export type Outcome = 'done' | 'retry' | 'dead' | 'exception' | 'replayed' | 'replay_failed';

export interface HandledEvent {
  event: StoredEvent;
  outcome: Outcome;
  attempt: number;
  error?: { errorClass: string; code: string; message: string };
}

interface Claim {
  key: string;
  token: string;
  cursor: number;
  attempts: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Worker extends EventEmitter<{ handled: [HandledEvent]; error: [Error]; idle: [] }> {
  readonly o: WorkerOptions;
  readonly clock: Clock;
  #claims = 0;
  #active = new Map<string, Claim>();
  #running = new Set<Promise<void>>();
  #stopping = false;
  #loopDone: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #listener: pg.Client | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #replayRunning = false;
  /** the last database error seen by the loop; cleared on success */
  lastError: Error | undefined;

  constructor(o: WorkerOptions) {
    super();
    this.o = o;
    this.clock = o.clock ?? systemClock;
  }

  // ---------------------------------------------------------------- lifecycle

  start(): void {
    if (this.#loopDone) return;
    this.#stopping = false;
    if (this.o.listenUrl) void this.#listen();
    this.#heartbeat = setInterval(() => void this.#extendLeases(), Math.max(100, Math.floor(this.o.leaseMs / 3)));
    this.#heartbeat.unref();
    this.#loopDone = this.#loop();
  }

  /** Stops claiming, lets in-flight events finish, releases leases. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loopDone;
    await Promise.allSettled([...this.#running]);
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#loopDone = undefined;
    const l = this.#listener;
    this.#listener = undefined;
    await l?.end().catch(() => undefined);
  }

  /** Wakes an idle worker (new work, or a test advanced the clock). */
  poke(): void {
    this.#wake?.();
  }

  /**
   * Handles everything that is ready now (timers due by the clock included) and returns
   * how many events were handled. Tests with a fake clock call this instead of start().
   */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      let n = await fireDueTimers(this.o.pool, this.clock.now(), 1000);
      this.o.metrics?.timersFired.inc(n);
      const claims = await this.#claim(this.o.concurrency);
      const counts = await Promise.all(claims.map((c) => this.#runKey(c)));
      n += counts.reduce((a, b) => a + b, 0);
      n += await this.#runReplays();
      total += n;
      if (n === 0) return total;
    }
  }

  // ---------------------------------------------------------------- main loop

  async #loop(): Promise<void> {
    let errorDelay = 100;
    let nextTimerCheck = 0;
    while (!this.#stopping) {
      let claimed = 0;
      try {
        if (Date.now() >= nextTimerCheck) {
          const fired = await fireDueTimers(this.o.pool, this.clock.now(), 500);
          this.o.metrics?.timersFired.inc(fired);
          nextTimerCheck = fired > 0 ? 0 : Date.now() + this.o.pollMs;
        }
        const free = this.o.concurrency - this.#active.size;
        if (free > 0) {
          const claims = await this.#claim(free);
          claimed = claims.length;
          for (const c of claims) this.#track(this.#runKey(c).then(() => undefined));
        }
        if (!this.#replayRunning && this.#active.size < this.o.concurrency) {
          this.#replayRunning = true;
          this.#track(this.#runReplays().then((n) => {
            this.#replayRunning = false;
            if (n > 0) this.poke();
          }, () => { this.#replayRunning = false; }));
        }
        this.lastError = undefined;
        errorDelay = 100;
      } catch (e) {
        this.lastError = e as Error;
        this.o.log.warn({ err: e }, 'worker cannot reach the database; retrying');
        await sleep(errorDelay);
        errorDelay = Math.min(errorDelay * 2, 5000);
        continue;
      }
      const full = this.#active.size >= this.o.concurrency;
      if (claimed === 0 || full) {
        if (claimed === 0 && this.#active.size === 0) this.emit('idle');
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.o.pollMs);
          this.#wake = () => {
            clearTimeout(t);
            this.#wake = undefined;
            resolve();
          };
        });
      }
    }
  }

  #track(p: Promise<void>): void {
    this.#running.add(p);
    void p.finally(() => {
      this.#running.delete(p);
      this.#wake?.();
    });
  }

  async #listen(): Promise<void> {
    let delay = 200;
    while (!this.#stopping) {
      const c = new pg.Client({ connectionString: this.o.listenUrl });
      try {
        await c.connect();
        await c.query(`listen ${WORK_CHANNEL}`);
        this.#listener = c;
        delay = 200;
        c.on('notification', () => this.#wake?.());
        await new Promise<void>((resolve) => {
          c.on('error', () => resolve());
          c.on('end', () => resolve());
        });
      } catch {
        // the database is away; polling goes on meanwhile
      }
      await c.end().catch(() => undefined);
      if (this.#stopping) return;
      await sleep(delay);
      delay = Math.min(delay * 2, 5000);
    }
  }

  async #extendLeases(): Promise<void> {
    const tokens = [...this.#active.values()].map((c) => c.token);
    if (tokens.length === 0) return;
    await this.o.pool
      .query(`update hub_keys set lease_until = now() + $2 * interval '1 millisecond' where locked_by = any($1::text[])`, [tokens, this.o.leaseMs])
      .catch((e) => this.o.log.warn({ err: e }, 'could not extend leases'));
  }

  // ---------------------------------------------------------------- keys

  async #claim(n: number): Promise<Claim[]> {
    if (n <= 0) return [];
    const token = `${this.o.instanceId}#${++this.#claims}`;
    // One token per claim batch, suffixed per key so each lease is unique.
    const r = await this.o.pool.query<{ key: string; cursor: number; attempts: number }>(
      `update hub_keys k set locked_by = $1 || ':' || k.key, lease_until = now() + $3 * interval '1 millisecond'
       from (select key from hub_keys
             where pending > 0 and run_at <= $2 and (lease_until is null or lease_until < now())
             order by run_at limit $4 for update skip locked) c
       where k.key = c.key
       returning k.key, k.cursor, k.attempts`,
      [token, this.clock.now(), this.o.leaseMs, n],
    );
    const claims = r.rows.map((row) => ({ key: row.key, token: `${token}:${row.key}`, cursor: row.cursor, attempts: row.attempts }));
    for (const c of claims) this.#active.set(c.token, c);
    return claims;
  }

  /** Handles up to batchSize events of one leased key; returns how many were handled. */
  async #runKey(claim: Claim): Promise<number> {
    let handled = 0;
    try {
      const rows = await this.o.pool.query(`select * from hub_events where key = $1 and seq > $2 order by seq limit $3`, [claim.key, claim.cursor, this.o.batchSize]);
      if (rows.rowCount === 0) {
        // pending says there is work but none is visible: repair the counter.
        await this.o.pool.query(`update hub_keys set pending = (select count(*) from hub_events e where e.key = hub_keys.key and e.seq > hub_keys.cursor) where key = $1 and locked_by = $2`, [claim.key, claim.token]);
      }
      let cursor = claim.cursor;
      let attempts = claim.attempts;
      for (const row of rows.rows) {
        if (this.#stopping && handled > 0) break;
        const ev = rowToEvent(row);
        const r = await this.#handleOne(ev, claim.token, cursor, attempts + 1);
        if (r === 'stop') return handled;
        handled++;
        cursor = ev.seq;
        attempts = 0;
      }
      return handled;
    } catch (e) {
      this.lastError = e as Error;
      this.o.log.warn({ err: e, key: claim.key }, 'key processing interrupted; the lease will lapse and another attempt follows');
      return handled;
    } finally {
      this.#active.delete(claim.token);
      await this.o.pool.query(`update hub_keys set locked_by = null, lease_until = null where key = $1 and locked_by = $2`, [claim.key, claim.token]).catch(() => undefined);
    }
  }

  /** 'next': the key moves on; 'stop': the key waits (retry scheduled, or lease lost). */
  async #handleOne(ev: StoredEvent, token: string, prevCursor: number, attempt: number): Promise<'next' | 'stop'> {
    const started = new Date();
    const t0 = performance.now();
    const log = this.o.log.child({ correlationId: ev.correlationId ?? `${ev.source}/${ev.id}`, eventSeq: ev.seq, eventType: ev.type, key: ev.key });
    const client = await this.o.pool.connect();
    try {
      await client.query('begin');
      await this.#runHandlers(ev, client, log, attempt, false);
      const u = await client.query(
        `update hub_keys set cursor = $3, pending = pending - 1, attempts = 0, last_error = null where key = $1 and locked_by = $2 and cursor = $4`,
        [ev.key, token, ev.seq, prevCursor],
      );
      if (u.rowCount !== 1) {
        await client.query('rollback');
        client.release();
        log.warn('lease lost before commit; leaving the event to the new lease holder');
        return 'stop';
      }
      await this.#history(client, ev.seq, attempt, 'done', started);
      await client.query('commit');
      client.release();
    } catch (e) {
      let broken: Error | undefined;
      await client.query('rollback').catch((re: Error) => (broken = re));
      // a connection that failed to roll back is destroyed, not returned to the pool
      client.release(broken);
      return this.#failed(ev, token, prevCursor, attempt, e, started, t0, log);
    }
    this.#observe(ev, 'done', attempt, t0);
    return 'next';
  }

  async #failed(ev: StoredEvent, token: string, prevCursor: number, attempt: number, err: unknown, started: Date, t0: number, log: Logger): Promise<'next' | 'stop'> {
    const cls = classify(err);
    const d = decide(this.o.retry, cls.errorClass, attempt, cls.retryAfterMs, (this.o.random ?? Math.random)());
    const errInfo = { errorClass: cls.errorClass, code: cls.code, message: cls.message };
    if (d.action === 'retry') {
      log.warn({ err, attempt, delayMs: d.delayMs, errorCode: cls.code }, 'transient failure; will retry');
      const runAt = new Date(this.clock.now().getTime() + d.delayMs);
      const client = await this.o.pool.connect();
      try {
        await client.query('begin');
        const u = await client.query(
          `update hub_keys set attempts = $3, run_at = $4, last_error = $5, locked_by = null, lease_until = null where key = $1 and locked_by = $2 and cursor = $6`,
          [ev.key, token, attempt, runAt, `${cls.code}: ${cls.message}`, prevCursor],
        );
        if (u.rowCount === 1) await this.#history(client, ev.seq, attempt, 'retry', started, errInfo);
        await client.query('commit');
      } catch (e) {
        await client.query('rollback').catch(() => undefined);
        log.warn({ err: e }, 'could not record the retry; the lease will lapse');
      } finally {
        client.release();
      }
      this.o.metrics?.retries.inc({ code: cls.code });
      this.#observe(ev, 'retry', attempt, t0, errInfo);
      return 'stop';
    }
    const outcome: Outcome = d.action === 'dead' ? 'dead' : 'exception';
    const client = await this.o.pool.connect();
    try {
      await client.query('begin');
      const u = await client.query(
        `update hub_keys set cursor = $3, pending = pending - 1, attempts = 0, last_error = $5 where key = $1 and locked_by = $2 and cursor = $4`,
        [ev.key, token, ev.seq, prevCursor, `${cls.code}: ${cls.message}`],
      );
      if (u.rowCount !== 1) {
        await client.query('rollback');
        return 'stop';
      }
      if (d.action === 'dead') {
        await client.query(
          `insert into hub_dead_letters (tenant_id, event_seq, key, type, source, reason, error_class, error_code, attempts)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           on conflict (event_seq) do update set status = 'open', reason = excluded.reason, error_class = excluded.error_class,
             error_code = excluded.error_code, attempts = hub_dead_letters.attempts + excluded.attempts, updated_at = now()`,
          [ev.tenantId, ev.seq, ev.key, ev.type, ev.source, `${d.reason}: ${cls.message}`, cls.errorClass, cls.code, attempt],
        );
      } else {
        await insertException(client, ev, cls.code, cls.message, 'error', {});
      }
      await this.#history(client, ev.seq, attempt, outcome, started, errInfo);
      await client.query('commit');
    } catch (e) {
      await client.query('rollback').catch(() => undefined);
      log.warn({ err: e }, 'could not record the failure; the lease will lapse and the event is tried again');
      return 'stop';
    } finally {
      client.release();
    }
    if (outcome === 'dead') {
      log.error({ err, attempt, errorCode: cls.code }, 'event moved to the dead letters');
      this.o.metrics?.deadLetters.inc({ error_class: cls.errorClass });
    } else log.warn({ errorCode: cls.code, message: cls.message }, 'business exception raised');
    this.#observe(ev, outcome, attempt, t0, errInfo);
    return 'next';
  }

  // ---------------------------------------------------------------- replays

  /** Replays dead letters marked 'replaying', one transaction each; returns how many. */
  async #runReplays(): Promise<number> {
    let n = 0;
    while (!this.#stopping) {
      const client = await this.o.pool.connect();
      const started = new Date();
      const t0 = performance.now();
      let row: Record<string, unknown> | undefined;
      try {
        await client.query('begin');
        const r = await client.query(
          `select d.id as dl_id, d.attempts as dl_attempts, e.* from hub_dead_letters d join hub_events e on e.seq = d.event_seq
           where d.status = 'replaying' order by d.id limit 1 for update of d skip locked`,
        );
        row = r.rows[0];
        if (!row) {
          await client.query('commit');
          client.release();
          return n;
        }
        const ev = rowToEvent(row);
        const attempt = (row.dl_attempts as number) + 1;
        const log = this.o.log.child({ correlationId: ev.correlationId ?? `${ev.source}/${ev.id}`, eventSeq: ev.seq, replay: true });
        await this.#runHandlers(ev, client, log, attempt, true);
        await client.query(`update hub_dead_letters set status = 'replayed', replay_count = replay_count + 1, attempts = attempts + 1, updated_at = now() where id = $1`, [row.dl_id]);
        await this.#history(client, ev.seq, attempt, 'replayed', started);
        await client.query('commit');
        client.release();
        this.#observe(ev, 'replayed', attempt, t0);
        n++;
      } catch (e) {
        let broken: Error | undefined;
        await client.query('rollback').catch((re) => (broken = re as Error));
        client.release(broken);
        if (!row) throw e;
        const cls = classify(e);
        const ev = rowToEvent(row);
        const attempt = (row.dl_attempts as number) + 1;
        const info = { errorClass: cls.errorClass, code: cls.code, message: cls.message };
        await this.o.pool
          .query(
            `with u as (update hub_dead_letters set status = 'open', attempts = attempts + 1, replay_count = replay_count + 1,
               reason = $2, error_class = $3, error_code = $4, updated_at = now() where id = $1 and status = 'replaying')
             insert into hub_attempts (event_seq, attempt, worker, outcome, error_class, error_code, error_message, started_at, finished_at)
             values ($5, $6, $7, 'replay_failed', $3, $4, $8, $9, clock_timestamp())`,
            [row.dl_id, `replay failed: ${cls.message}`, cls.errorClass, cls.code, ev.seq, attempt, this.o.instanceId, cls.message, started],
          )
          .catch((e2) => this.o.log.warn({ err: e2 }, 'could not record the failed replay'));
        this.#observe(ev, 'replay_failed', attempt, t0, info);
        n++;
      }
    }
    return n;
  }

  // ---------------------------------------------------------------- helpers

  async #runHandlers(ev: StoredEvent, tx: pg.PoolClient, log: Logger, attempt: number, replay: boolean): Promise<void> {
    const ctx: HandlerContext = {
      tx,
      clock: this.clock,
      log,
      attempt,
      replay,
      worker: this.o.instanceId,
      outbox: async (m) => {
        await tx.query(
          `insert into hub_outbox (tenant_id, topic, key, msg_id, payload, headers) values ($1, $2, $3, $4, $5, $6) on conflict (msg_id) do nothing`,
          [m.tenantId ?? ev.tenantId, m.topic, m.key ?? ev.key, m.msgId, JSON.stringify(m.payload), JSON.stringify(m.headers ?? {})],
        );
      },
      scheduleTimer: async (t) => {
        await tx.query(
          `insert into hub_timers (tenant_id, key, name, due_at, event_type, payload) values ($1, $2, $3, $4, $5, $6)
           on conflict (key, name) do update set due_at = excluded.due_at, event_type = excluded.event_type, payload = excluded.payload, status = 'scheduled', fired_at = null`,
          [t.tenantId ?? ev.tenantId, t.key, t.name, t.dueAt, t.eventType, JSON.stringify(t.payload ?? {})],
        );
      },
      cancelTimer: async (key, name) => {
        await tx.query(`update hub_timers set status = 'cancelled' where key = $1 and name = $2 and status = 'scheduled'`, [key, name]);
      },
      raiseException: (x) => insertException(tx, ev, x.code, x.message, x.severity ?? 'error', x.details ?? {}),
    };
    for (const h of this.o.handlers) {
      if (h.matches(ev.type)) await h.handle(ev, ctx);
    }
  }

  async #history(c: pg.PoolClient, seq: number, attempt: number, outcome: Outcome, started: Date, err?: { errorClass: string; code: string; message: string }): Promise<void> {
    await c.query(
      `insert into hub_attempts (event_seq, attempt, worker, outcome, error_class, error_code, error_message, started_at, finished_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, clock_timestamp())`,
      [seq, attempt, this.o.instanceId, outcome, err?.errorClass ?? null, err?.code ?? null, err?.message ?? null, started],
    );
  }

  #observe(ev: StoredEvent, outcome: Outcome, attempt: number, t0: number, error?: HandledEvent['error']): void {
    this.o.metrics?.handled.inc({ outcome });
    this.o.metrics?.handlerDuration.observe({ type: ev.type, outcome }, (performance.now() - t0) / 1000);
    this.emit('handled', { event: ev, outcome, attempt, ...(error ? { error } : {}) });
  }
}

async function insertException(c: pg.PoolClient, ev: StoredEvent, code: string, message: string, severity: string, details: Record<string, unknown>): Promise<void> {
  await c.query(
    `insert into hub_exceptions (tenant_id, key, event_seq, code, severity, message, details) values ($1, $2, $3, $4, $5, $6, $7)`,
    [ev.tenantId, ev.key, ev.seq, code, severity, message, JSON.stringify(details)],
  );
}
