/**
 * The personal-data retention job. Personal data is kept only as long as it is needed to
 * handle and replay events: after `retention.piiDays` the personal fields of stored event
 * payloads (the schema's `x-pii` fields) are replaced by "[anonymised]", and the raw body
 * of webhooks received from partners (their format, not ours: nothing tells personal
 * from other data) is dropped, keeping its digest. Non-personal fields stay, so history,
 * timelines and metrics keep working.
 *
 * Events of a type the catalogue does not know have no schema to tell personal data
 * from the rest, so their whole payload is replaced (the domain's rule for unknown
 * types, see redactEventData).
 *
 * The work is done in batches, each its own transaction, skipping rows another
 * transaction holds; the audit entry `retention.ran` (one per tenant touched, or one for
 * the default tenant when nothing was due) commits with the last batch. Only one hub
 * process runs the scheduled job at a time (an advisory lock), and a scheduled run is
 * skipped when the audit trail shows one less than an interval ago.
 */
import type pg from 'pg';
import { redactEventData } from '../domain/catalogue.ts';
import { ValidationError } from '../domain/errors.ts';
import type { Clock } from '../platform/clock.ts';
import { withTx, type Queryable } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import { appendAudit } from './audit.ts';
import { pruneSessions } from './users.ts';

export const ANONYMISED = '[anonymised]';
export const RETENTION_ACTOR = 'system:retention';
const AUDIT_OBJECT = { objectType: 'retention', objectId: 'personal-data' } as const;
const DAY_MS = 86_400_000;

export interface RetentionOptions {
  /** personal data older than this many days is anonymised */
  piiDays: number;
  /** the time the cutoff is counted back from; also recorded as the time of the anonymisation */
  now: Date;
  /** who asked: system:retention, cli:<user> */
  actor: string;
  /** only count what would be anonymised: nothing changes, nothing is audited */
  dryRun?: boolean;
  batchSize?: number;
}

export interface RetentionCounts {
  events: number;
  webhookBodies: number;
}

export interface RetentionResult extends RetentionCounts {
  cutoff: Date;
  dryRun: boolean;
  byTenant: Record<string, RetentionCounts>;
}

export function retentionCutoff(now: Date, piiDays: number): Date {
  return new Date(now.getTime() - piiDays * DAY_MS);
}

async function countDue(db: Queryable, cutoff: Date): Promise<Record<string, RetentionCounts>> {
  const r = await db.query<{ tenant_id: string; events: number; bodies: number }>(
    `select tenant_id, sum(events)::int as events, sum(bodies)::int as bodies from (
       select tenant_id, count(*) as events, 0 as bodies from hub_events where received_at < $1 and anonymised_at is null group by tenant_id
       union all
       select tenant_id, 0, count(*) from hub_webhook_receipts where received_at < $1 and body is not null group by tenant_id
     ) x group by tenant_id order by tenant_id`,
    [cutoff],
  );
  return Object.fromEntries(r.rows.map((x) => [x.tenant_id, { events: x.events, webhookBodies: x.bodies }]));
}

/** Anonymises the personal data received before `now - piiDays`; returns what it changed, by tenant. */
export async function runRetention(pool: pg.Pool, o: RetentionOptions): Promise<RetentionResult> {
  if (!Number.isInteger(o.piiDays) || o.piiDays < 1) {
    throw new ValidationError('retention.bad_days', `personal data is kept a whole number of days, 1 or more (got ${o.piiDays})`, [{ path: 'piiDays', message: 'invalid' }]);
  }
  const cutoff = retentionCutoff(o.now, o.piiDays);
  const batch = o.batchSize ?? 500;
  const byTenant: Record<string, RetentionCounts> = {};
  const tally = (tenantId: string, k: keyof RetentionCounts, n: number) => {
    byTenant[tenantId] ??= { events: 0, webhookBodies: 0 };
    byTenant[tenantId][k] += n;
  };
  const result = (): RetentionResult => {
    const t = Object.values(byTenant);
    return { cutoff, dryRun: !!o.dryRun, byTenant, events: t.reduce((n, c) => n + c.events, 0), webhookBodies: t.reduce((n, c) => n + c.webhookBodies, 0) };
  };

  if (o.dryRun) {
    for (const [tenantId, c] of Object.entries(await countDue(pool, cutoff))) {
      tally(tenantId, 'events', c.events);
      tally(tenantId, 'webhookBodies', c.webhookBodies);
    }
    return result();
  }

  // events: keyset pagination on seq, so a run never reads the same rows twice
  for (let afterSeq = 0; ; ) {
    const n = await withTx(pool, async (tx) => {
      const rows = await tx.query<{ seq: number; tenant_id: string; type: string; data: unknown }>(
        `select seq, tenant_id, type, data from hub_events
          where seq > $1 and received_at < $2 and anonymised_at is null
          order by seq limit $3 for update skip locked`,
        [afterSeq, cutoff, batch],
      );
      if (!rows.rows.length) return 0;
      await tx.query(
        `update hub_events e set data = v.data, anonymised_at = $3
           from unnest($1::bigint[], $2::jsonb[]) as v(seq, data) where e.seq = v.seq`,
        [rows.rows.map((r) => r.seq), rows.rows.map((r) => (r.data === null ? null : JSON.stringify(redactEventData(r.type, r.data, ANONYMISED)))), o.now],
      );
      for (const r of rows.rows) tally(r.tenant_id, 'events', 1);
      afterSeq = rows.rows.at(-1)!.seq;
      return rows.rows.length;
    });
    if (n < batch) break;
  }

  // webhook bodies; the last batch (short, possibly empty) commits the audit entries
  for (let afterId = 0; ; ) {
    const done = await withTx(pool, async (tx) => {
      const rows = await tx.query<{ id: number; tenant_id: string }>(
        `select id, tenant_id from hub_webhook_receipts
          where id > $1 and received_at < $2 and body is not null
          order by id limit $3 for update skip locked`,
        [afterId, cutoff, batch],
      );
      if (rows.rows.length) {
        await tx.query(`update hub_webhook_receipts set body = null where id = any($1::bigint[])`, [rows.rows.map((r) => r.id)]);
        for (const r of rows.rows) tally(r.tenant_id, 'webhookBodies', 1);
        afterId = rows.rows.at(-1)!.id;
      }
      if (rows.rows.length === batch) return false;
      const tenants = Object.keys(byTenant).sort();
      for (const tenantId of tenants.length ? tenants : ['default']) {
        const c = byTenant[tenantId] ?? { events: 0, webhookBodies: 0 };
        await appendAudit(tx, {
          tenantId,
          actor: o.actor,
          action: 'retention.ran',
          ...AUDIT_OBJECT,
          at: o.now,
          details: { piiDays: o.piiDays, cutoff: cutoff.toISOString(), events: c.events, webhookBodies: c.webhookBodies },
        });
      }
      return true;
    });
    if (done) break;
  }
  // console sessions that ended more than a day ago (their address and browser are personal data too)
  await pruneSessions(pool, o.now);
  return result();
}

/** When the job last ran according to the audit trail (any tenant), if ever. */
export async function lastRetentionRun(db: Queryable): Promise<Date | undefined> {
  const r = await db.query<{ at: Date | null }>(
    `select max(a.at) as at from hub_audit_heads h
       cross join lateral (select max(at) as at from hub_audit where tenant_id = h.tenant_id and object_type = $1 and object_id = $2) a`,
    [AUDIT_OBJECT.objectType, AUDIT_OBJECT.objectId],
  );
  return r.rows[0]?.at ?? undefined;
}

export interface RetentionJobOptions {
  pool: pg.Pool;
  config: { piiDays: number; intervalMinutes: number };
  clock: Clock;
  log: Logger;
  actor?: string;
  batchSize?: number;
  /** delay of the first scheduled run after start (default one minute: the hub starts first) */
  firstRunDelayMs?: number;
}

export type RetentionOutcome = { ran: true; result: RetentionResult } | { ran: false; reason: 'locked' | 'not_due' };

/**
 * Runs the retention job on a schedule: the first time shortly after start, then every
 * `intervalMinutes`. At most one hub process runs it at a time.
 */
export class RetentionJob {
  readonly #o: RetentionJobOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = true;
  /** the last failure, until a run succeeds */
  lastError: Error | undefined;

  constructor(o: RetentionJobOptions) {
    this.#o = o;
  }

  get intervalMs(): number {
    return this.#o.config.intervalMinutes * 60_000;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(this.#o.firstRunDelayMs ?? 60_000);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.runOnce()
        .catch(() => undefined)
        .finally(() => {
          this.#running = undefined;
          this.#schedule(this.intervalMs);
        });
    }, ms);
    this.#timer.unref();
  }

  /**
   * One run, unless another process is running it (`locked`) or, unless `force`, the
   * audit trail shows a run less than an interval ago (`not_due`).
   */
  async runOnce(opts: { force?: boolean } = {}): Promise<RetentionOutcome> {
    const { pool, clock, log, config } = this.#o;
    const lock = await pool.connect();
    let broken: Error | undefined;
    try {
      const got = await lock.query<{ ok: boolean }>(`select pg_try_advisory_lock(hashtextextended('odoo-logistics-hub retention', 0)) as ok`);
      if (!got.rows[0]!.ok) {
        log.debug('retention job runs in another process');
        return { ran: false, reason: 'locked' };
      }
      try {
        const now = clock.now();
        if (!opts.force) {
          const last = await lastRetentionRun(pool);
          // a little slack, so a run a few seconds early on this process's timer still counts
          if (last && now.getTime() - last.getTime() < this.intervalMs * 0.9) return { ran: false, reason: 'not_due' };
        }
        const result = await runRetention(pool, { piiDays: config.piiDays, now, actor: this.#o.actor ?? RETENTION_ACTOR, ...(this.#o.batchSize ? { batchSize: this.#o.batchSize } : {}) });
        this.lastError = undefined;
        log.info({ events: result.events, webhookBodies: result.webhookBodies, cutoff: result.cutoff.toISOString(), piiDays: config.piiDays }, 'retention job ran: personal data anonymised');
        return { ran: true, result };
      } finally {
        await lock.query(`select pg_advisory_unlock(hashtextextended('odoo-logistics-hub retention', 0))`).catch((e: Error) => (broken = e));
      }
    } catch (e) {
      this.lastError = e as Error;
      broken ??= e as Error;
      log.warn({ err: e }, 'retention job failed; it runs again at the next interval');
      throw e;
    } finally {
      // after a failure the connection is closed rather than reused: that releases the lock in any case
      lock.release(broken);
    }
  }
}
