/**
 * The pipeline worker. Several can run in one process and in many processes on one
 * database. A worker leases business keys (hub_keys rows) with FOR UPDATE SKIP LOCKED,
 * a batch of keys at a time, and handles the batch in ONE transaction: it first locks
 * the rows it leased (fencing: a key whose lease was taken over is dropped), then runs
 * each key's events strictly in seq order, each inside a savepoint (taken on the event's
 * first query), and commits the handler effects together with every key's new cursor. A worker that lost its lease
 * (stalled, or presumed dead) cannot commit, so an event's effects are applied exactly
 * once even when processes die at any instant. One commit per batch instead of one per
 * event is what makes the pipeline cheap (bench/RESULTS.md, pipeline section).
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
import { appendAuditMany, type AuditEntryInput } from '../security/audit.ts';
import { SpanKind, contextWithTenant, currentTelemetry, extractTraceContext, inSpan, type Tracing } from '../platform/tracing.ts';

export interface WorkerOptions {
  pool: pg.Pool;
  /** connection string for the LISTEN connection (wake-ups); polling alone when absent */
  listenUrl?: string;
  handlers: Handler[];
  log: Logger;
  metrics?: Metrics;
  clock?: Clock;
  instanceId: string;
  /** batches (transactions) in flight at once */
  concurrency: number;
  /** keys leased per batch */
  keysPerClaim: number;
  /** events of one key per batch */
  batchSize: number;
  leaseMs: number;
  pollMs: number;
  retry: RetryPolicy;
  random?: () => number;
  /** spans per handled event (default: the hub's of the context the worker was started in) */
  tracing?: Tracing;
}

export type Outcome = 'done' | 'retry' | 'dead' | 'exception' | 'replayed' | 'replay_failed';

export interface HandledEvent {
  event: StoredEvent;
  outcome: Outcome;
  attempt: number;
  error?: { errorClass: string; code: string; message: string };
}

interface Claim {
  tenantId: string;
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
  #nextReplayCheck = 0;
  /** batches in flight */
  #batches = 0;
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
      const batches: Promise<number>[] = [];
      for (let i = 0; i < this.o.concurrency; i++) {
        const claims = await this.#claim(this.o.keysPerClaim);
        if (claims.length === 0) break;
        batches.push(this.#runBatch(claims));
      }
      n += (await Promise.all(batches)).reduce((a, b) => a + b, 0);
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
      let claimedAny = false;
      try {
        if (Date.now() >= nextTimerCheck) {
          const fired = await fireDueTimers(this.o.pool, this.clock.now(), 500);
          this.o.metrics?.timersFired.inc(fired);
          nextTimerCheck = fired > 0 ? 0 : Date.now() + this.o.pollMs;
        }
        while (this.#batches < this.o.concurrency && !this.#stopping) {
          const claims = await this.#claim(this.o.keysPerClaim);
          if (claims.length === 0) break;
          claimedAny = true;
          this.#batches++;
          this.#track(this.#runBatch(claims).finally(() => this.#batches--));
        }
        if (!this.#replayRunning && Date.now() >= this.#nextReplayCheck && this.#batches < this.o.concurrency) {
          this.#replayRunning = true;
          this.#track(
            this.#runReplays().then(
              (n) => {
                this.#nextReplayCheck = n > 0 ? 0 : Date.now() + this.o.pollMs;
              },
              () => undefined,
            ).finally(() => {
              this.#replayRunning = false;
            }),
          );
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
      if (!claimedAny || this.#batches >= this.o.concurrency) {
        if (!claimedAny && this.#batches === 0) this.emit('idle');
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

  /** Keeps a task for stop(); a finished batch frees a slot, so it wakes the loop. */
  #track(p: Promise<unknown>): void {
    const q = p.then(() => undefined, () => undefined);
    this.#running.add(q);
    void q.finally(() => {
      this.#running.delete(q);
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
        c.on('notification', () => {
          this.#nextReplayCheck = 0; // a replay request notifies too
          this.#wake?.();
        });
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

  /** Extends the leases of claimed keys whose batch has not locked them yet (a locked row needs no lease). */
  async #extendLeases(): Promise<void> {
    const tokens = [...this.#active.values()].map((c) => c.token);
    if (tokens.length === 0) return;
    await this.o.pool
      .query(
        `update hub_keys set lease_until = now() + $2 * interval '1 millisecond'
         where (tenant_id, key) in (select tenant_id, key from hub_keys where locked_by = any($1::text[]) for update skip locked)`,
        [tokens, this.o.leaseMs],
      )
      .catch((e) => this.o.log.warn({ err: e }, 'could not extend leases'));
  }

  // ---------------------------------------------------------------- keys

  async #claim(n: number): Promise<Claim[]> {
    if (n <= 0) return [];
    const token = `${this.o.instanceId}#${++this.#claims}`;
    // One token per claim, suffixed per key so each lease is unique.
    const r = await this.o.pool.query<{ tenant_id: string; key: string; locked_by: string; cursor: number; attempts: number }>(
      `update hub_keys k set locked_by = $1 || ':' || k.tenant_id || '/' || k.key, lease_until = now() + $3 * interval '1 millisecond'
       from (select tenant_id, key from hub_keys
             where pending > 0 and run_at <= $2 and (lease_until is null or lease_until < now())
             order by run_at, head_seq limit $4 for update skip locked) c
       where k.tenant_id = c.tenant_id and k.key = c.key
       returning k.tenant_id, k.key, k.locked_by, k.cursor, k.attempts`,
      [token, this.clock.now(), this.o.leaseMs, n],
    );
    const claims = r.rows.map((row) => ({ tenantId: row.tenant_id, key: row.key, token: row.locked_by, cursor: row.cursor, attempts: row.attempts }));
    for (const c of claims) this.#active.set(c.token, c);
    return claims;
  }

  /**
   * Handles the events of a batch of leased keys in one transaction; returns how many
   * events were handled (done, dead-lettered or raised as exceptions).
   */
  async #runBatch(claims: Claim[]): Promise<number> {
    const client = await this.o.pool.connect().catch((e) => {
      for (const c of claims) this.#active.delete(c.token);
      throw e;
    });
    const observed: { ev: StoredEvent; outcome: Outcome; attempt: number; ms: number; error?: HandledEvent['error'] }[] = [];
    let committed = false;
    try {
      await client.query('begin');
      // Fencing: lock the rows we leased; a key whose lease another worker took is not ours any more.
      const owned = await client.query<{ tenant_id: string; key: string; cursor: number; attempts: number; locked_by: string }>(
        `select k.tenant_id, k.key, k.cursor, k.attempts, k.locked_by from hub_keys k
         join unnest($1::text[], $2::text[], $3::text[]) as c(tenant_id, key, token) on k.tenant_id = c.tenant_id and k.key = c.key and k.locked_by = c.token
         order by k.tenant_id, k.key for update of k`,
        [claims.map((c) => c.tenantId), claims.map((c) => c.key), claims.map((c) => c.token)],
      );
      if (owned.rowCount === 0) {
        await client.query('commit');
        committed = true;
        client.release();
        return 0;
      }
      const rows = await client.query(
        `select e.* from unnest($1::text[], $2::text[], $3::bigint[]) as k(tenant_id, key, cursor)
         cross join lateral (select * from hub_events e where e.tenant_id = k.tenant_id and e.key = k.key and e.seq > k.cursor order by e.seq limit $4) e
         order by e.tenant_id, e.key, e.seq`,
        [owned.rows.map((r) => r.tenant_id), owned.rows.map((r) => r.key), owned.rows.map((r) => r.cursor), this.o.batchSize],
      );
      const byKey = new Map<string, StoredEvent[]>();
      for (const r of rows.rows) {
        const ev = rowToEvent(r);
        const id = ev.tenantId + '\u0000' + ev.key;
        (byKey.get(id) ?? byKey.set(id, []).get(id)!).push(ev);
      }
      const updates: { tenantId: string; key: string; token: string; cursor: number; handled: number; attempts: number; runAt: Date | null; lastError: string | null }[] = [];
      const history: { seq: number; attempt: number; outcome: Outcome; startedAt: Date; error?: HandledEvent['error'] }[] = [];
      const audits: AuditEntryInput[] = [];
      for (const k of owned.rows) {
        const u = { tenantId: k.tenant_id, key: k.key, token: k.locked_by, cursor: k.cursor, handled: 0, attempts: k.attempts, runAt: null as Date | null, lastError: null as string | null };
        updates.push(u);
        for (const ev of byKey.get(k.tenant_id + '\u0000' + k.key) ?? []) {
          if (this.#stopping && u.handled > 0) break;
          const attempt = u.attempts + 1;
          const startedAt = new Date();
          const t0 = performance.now();
          const log = this.o.log.child({ correlationId: ev.correlationId ?? `${ev.source}/${ev.id}`, eventSeq: ev.seq, eventType: ev.type, key: ev.key });
          const sp = savepointOnFirstQuery(client);
          try {
            await this.#traced(ev, attempt, false, () => this.#runHandlers(ev, sp.client, log, attempt, false, audits));
            if (sp.taken) await client.query('release savepoint ev');
            history.push({ seq: ev.seq, attempt, outcome: 'done', startedAt });
            observed.push({ ev, outcome: 'done', attempt, ms: performance.now() - t0 });
            Object.assign(u, { cursor: ev.seq, handled: u.handled + 1, attempts: 0, lastError: null });
            continue;
          } catch (err) {
            // a failed rollback means the connection is gone: the whole batch is abandoned
            if (sp.taken) await client.query('rollback to savepoint ev');
            const cls = classify(err);
            const d = decide(this.o.retry, cls.errorClass, attempt, cls.retryAfterMs, (this.o.random ?? Math.random)());
            const error = { errorClass: cls.errorClass, code: cls.code, message: cls.message };
            const ms = performance.now() - t0;
            if (d.action === 'retry') {
              log.warn({ err, attempt, delayMs: d.delayMs, errorCode: cls.code }, 'transient failure; will retry');
              Object.assign(u, { attempts: attempt, runAt: new Date(this.clock.now().getTime() + d.delayMs), lastError: `${cls.code}: ${cls.message}` });
              history.push({ seq: ev.seq, attempt, outcome: 'retry', startedAt, error });
              observed.push({ ev, outcome: 'retry', attempt, ms, error });
              this.o.metrics?.retries.inc({ code: cls.code });
              break; // the key waits: its later events must not overtake this one
            }
            if (d.action === 'dead') {
              await client.query(
                `insert into hub_dead_letters (tenant_id, event_seq, key, type, source, reason, error_class, error_code, attempts)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 on conflict (event_seq) do update set status = 'open', reason = excluded.reason, error_class = excluded.error_class,
                   error_code = excluded.error_code, attempts = hub_dead_letters.attempts + excluded.attempts, updated_at = now()`,
                [ev.tenantId, ev.seq, ev.key, ev.type, ev.source, `${d.reason}: ${cls.message}`, cls.errorClass, cls.code, attempt],
              );
              log.error({ err, attempt, errorCode: cls.code }, 'event moved to the dead letters');
              this.o.metrics?.deadLetters.inc({ error_class: cls.errorClass });
            } else {
              await insertException(client, ev, cls.code, cls.message, 'error', {});
              log.warn({ errorCode: cls.code, message: cls.message }, 'business exception raised');
            }
            const outcome: Outcome = d.action === 'dead' ? 'dead' : 'exception';
            history.push({ seq: ev.seq, attempt, outcome, startedAt, error });
            observed.push({ ev, outcome, attempt, ms, error });
            Object.assign(u, { cursor: ev.seq, handled: u.handled + 1, attempts: 0, lastError: `${cls.code}: ${cls.message}` });
          }
        }
      }
      await client.query(
        `update hub_keys k set cursor = u.cursor, pending = k.pending - u.handled, attempts = u.attempts,
           run_at = coalesce(u.run_at, k.run_at), last_error = u.last_error, locked_by = null, lease_until = null,
           head_seq = case when k.pending - u.handled > 0 then (select min(e.seq) from hub_events e where e.tenant_id = k.tenant_id and e.key = k.key and e.seq > u.cursor) end
         from unnest($1::text[], $2::text[], $3::bigint[], $4::int[], $5::int[], $6::timestamptz[], $7::text[], $8::text[]) as u(key, token, cursor, handled, attempts, run_at, last_error, tenant_id)
         where k.tenant_id = u.tenant_id and k.key = u.key and k.locked_by = u.token`,
        [updates.map((u) => u.key), updates.map((u) => u.token), updates.map((u) => u.cursor), updates.map((u) => u.handled), updates.map((u) => u.attempts), updates.map((u) => u.runAt), updates.map((u) => u.lastError), updates.map((u) => u.tenantId)],
      );
      if (history.length) {
        await client.query(
          `insert into hub_attempts (event_seq, attempt, worker, outcome, error_class, error_code, error_message, started_at, finished_at)
           select seq, attempt, $3, outcome, error_class, error_code, error_message, started_at, clock_timestamp()
           from unnest($1::bigint[], $2::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[]) as h(seq, attempt, outcome, error_class, error_code, error_message, started_at)`,
          [
            history.map((h) => h.seq), history.map((h) => h.attempt), this.o.instanceId, history.map((h) => h.outcome),
            history.map((h) => h.error?.errorClass ?? null), history.map((h) => h.error?.code ?? null), history.map((h) => h.error?.message ?? null), history.map((h) => h.startedAt),
          ],
        );
      }
      // last before the commit: the audit head lock is held only for the commit
      await appendAuditMany(client, audits);
      await client.query('commit');
      committed = true;
      client.release();
    } catch (e) {
      let broken: Error | undefined;
      if (!committed) await client.query('rollback').catch((re: Error) => (broken = re));
      client.release(broken ?? (e as Error));
      this.lastError = e as Error;
      this.o.log.warn({ err: e, keys: claims.length }, 'batch abandoned; its keys are retried when their leases lapse');
      // best effort: hand the keys back at once rather than after the lease
      await this.o.pool
        .query(
          `update hub_keys k set locked_by = null, lease_until = null from unnest($1::text[], $2::text[], $3::text[]) as c(tenant_id, key, token)
           where k.tenant_id = c.tenant_id and k.key = c.key and k.locked_by = c.token`,
          [claims.map((c) => c.tenantId), claims.map((c) => c.key), claims.map((c) => c.token)],
        )
        .catch(() => undefined);
      return 0;
    } finally {
      for (const c of claims) this.#active.delete(c.token);
    }
    for (const o of observed) this.#observe(o.ev, o.outcome, o.attempt, o.ms, o.error);
    return observed.filter((o) => o.outcome !== 'retry').length;
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
        const audits: AuditEntryInput[] = [];
        await this.#traced(ev, attempt, true, () => this.#runHandlers(ev, client, log, attempt, true, audits));
        await appendAuditMany(client, audits);
        await client.query(`update hub_dead_letters set status = 'replayed', replay_count = replay_count + 1, attempts = attempts + 1, updated_at = now() where id = $1`, [row.dl_id]);
        await this.#history(client, ev.seq, attempt, 'replayed', started);
        await client.query('commit');
        client.release();
        this.#observe(ev, 'replayed', attempt, performance.now() - t0);
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
        this.#observe(ev, 'replay_failed', attempt, performance.now() - t0, info);
        n++;
      }
    }
    return n;
  }

  // ---------------------------------------------------------------- helpers

  /**
   * Runs an event's handlers in a span whose parent is the trace context the event was stored
   * with (its traceparent extension), with the span active: partner calls and events the
   * handlers emit continue that trace. Tracing off and no traceparent: just runs them.
   */
  #traced<T>(ev: StoredEvent, attempt: number, replay: boolean, fn: () => Promise<T>): Promise<T> {
    const tracing = this.o.tracing ?? currentTelemetry()?.tracing;
    if (!tracing?.enabled && ev.extensions.traceparent === undefined) return fn();
    const parent = contextWithTenant(extractTraceContext(ev.extensions), ev.tenantId);
    return inSpan(tracing, `pipeline ${ev.type}`, {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.operation.type': 'process',
        'hub.event.type': ev.type, 'hub.event.id': ev.id, 'hub.event.source': ev.source, 'hub.event.seq': ev.seq,
        'hub.key': ev.key, 'hub.tenant': ev.tenantId, 'hub.attempt': attempt, 'hub.replay': replay,
      },
    }, parent, fn);
  }

  async #runHandlers(ev: StoredEvent, tx: pg.PoolClient, log: Logger, attempt: number, replay: boolean, auditSink: AuditEntryInput[]): Promise<void> {
    const audits: AuditEntryInput[] = [];
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
           on conflict (tenant_id, key, name) do update set due_at = excluded.due_at, event_type = excluded.event_type, payload = excluded.payload, status = 'scheduled', fired_at = null`,
          [t.tenantId ?? ev.tenantId, t.key, t.name, t.dueAt, t.eventType, JSON.stringify(t.payload ?? {})],
        );
      },
      cancelTimer: async (key, name) => {
        await tx.query(`update hub_timers set status = 'cancelled' where tenant_id = $1 and key = $2 and name = $3 and status = 'scheduled'`, [ev.tenantId, key, name]);
      },
      raiseException: (x) => insertException(tx, ev, x.code, x.message, x.severity ?? 'error', x.details ?? {}),
      audit: (a) => void audits.push({ ...a, tenantId: a.tenantId ?? ev.tenantId, at: a.at ?? this.clock.now() }),
    };
    for (const h of this.o.handlers) {
      if (h.matches(ev.type)) await h.handle(ev, ctx);
    }
    auditSink.push(...audits); // only once every handler succeeded: a rolled-back event records nothing
  }

  async #history(c: pg.PoolClient, seq: number, attempt: number, outcome: Outcome, started: Date, err?: { errorClass: string; code: string; message: string }): Promise<void> {
    await c.query(
      `insert into hub_attempts (event_seq, attempt, worker, outcome, error_class, error_code, error_message, started_at, finished_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, clock_timestamp())`,
      [seq, attempt, this.o.instanceId, outcome, err?.errorClass ?? null, err?.code ?? null, err?.message ?? null, started],
    );
  }

  #observe(ev: StoredEvent, outcome: Outcome, attempt: number, ms: number, error?: HandledEvent['error']): void {
    this.o.metrics?.handled.inc({ outcome });
    this.o.metrics?.handlerDuration.observe({ type: ev.type, outcome }, ms / 1000);
    this.emit('handled', { event: ev, outcome, attempt, ...(error ? { error } : {}) });
  }
}

/**
 * The batch transaction as one event's handlers see it: the savepoint that isolates the
 * event is taken on its first query, so an event whose handlers do not touch the database
 * costs no SAVEPOINT/RELEASE round trips (they were 2 of the ~3 statements per event).
 */
function savepointOnFirstQuery(client: pg.PoolClient): { client: pg.PoolClient; readonly taken: boolean } {
  let taken = false;
  const guarded = Object.create(client) as pg.PoolClient;
  guarded.query = (async (...args: Parameters<pg.PoolClient['query']>) => {
    if (!taken) {
      await client.query('savepoint ev');
      taken = true;
    }
    return (client.query as (...a: unknown[]) => unknown)(...args);
  }) as pg.PoolClient['query'];
  return {
    client: guarded,
    get taken() {
      return taken;
    },
  };
}

async function insertException(c: pg.PoolClient, ev: StoredEvent, code: string, message: string, severity: string, details: Record<string, unknown>): Promise<void> {
  await c.query(
    `insert into hub_exceptions (tenant_id, key, event_seq, code, severity, message, details) values ($1, $2, $3, $4, $5, $6, $7)`,
    [ev.tenantId, ev.key, ev.seq, code, severity, message, JSON.stringify(details)],
  );
}
