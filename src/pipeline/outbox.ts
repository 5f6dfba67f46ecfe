/**
 * The outbox relay. Messages written by handlers in their transaction (hub_outbox) are
 * published afterwards, in id order, by one relay at a time across all hub processes
 * (a PostgreSQL advisory lock elects it). Publishing is at least once; each message
 * carries its msg_id so the broker (JetStream's duplicate window) and consumers drop
 * the repeat after a crash between publish and mark.
 */
import type pg from 'pg';
import type { Logger } from '../platform/logger.ts';
import type { Metrics } from '../platform/metrics.ts';
import { backoff, type RetryPolicy } from './retry.ts';

export interface OutboxRow {
  id: number;
  tenantId: string;
  topic: string;
  key: string | null;
  msgId: string;
  payload: unknown;
  headers: Record<string, string>;
}

export interface Publisher {
  name: string;
  publish(msg: OutboxRow): Promise<void>;
  close?(): Promise<void>;
}

const RELAY_LOCK = 727_2_2026;

export class OutboxRelay {
  readonly pool: pg.Pool;
  readonly publisher: Publisher;
  readonly log: Logger;
  readonly metrics: Metrics | undefined;
  readonly policy: RetryPolicy;
  readonly pollMs: number;
  #stopping = false;
  #done: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(o: { pool: pg.Pool; publisher: Publisher; log: Logger; metrics?: Metrics; policy?: RetryPolicy; pollMs?: number }) {
    this.pool = o.pool;
    this.publisher = o.publisher;
    this.log = o.log;
    this.metrics = o.metrics;
    this.policy = o.policy ?? { baseMs: 500, maxMs: 60000, maxAttempts: Number.MAX_SAFE_INTEGER };
    this.pollMs = o.pollMs ?? 500;
  }

  start(): void {
    this.#stopping = false;
    this.#done ??= this.#loop();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#done;
    this.#done = undefined;
  }

  /** Publishes what is ready now; returns how many were published (0 if another relay leads). */
  async publishBatch(limit = 200): Promise<number> {
    const c = await this.pool.connect();
    try {
      const lock = await c.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [RELAY_LOCK]);
      if (!lock.rows[0]!.ok) return 0;
      try {
        const rows = await c.query(
          `select id, tenant_id, topic, key, msg_id, payload, headers from hub_outbox
           where published_at is null and next_attempt_at <= now() order by id limit $1`,
          [limit],
        );
        let n = 0;
        for (const r of rows.rows) {
          const msg: OutboxRow = { id: r.id, tenantId: r.tenant_id, topic: r.topic, key: r.key, msgId: r.msg_id, payload: r.payload, headers: r.headers };
          try {
            await this.publisher.publish(msg);
          } catch (e) {
            const a = await c.query<{ attempts: number }>(`update hub_outbox set attempts = attempts + 1, last_error = $2 where id = $1 returning attempts`, [r.id, (e as Error).message]);
            const delay = backoff(this.policy, a.rows[0]!.attempts, undefined, Math.random());
            await c.query(`update hub_outbox set next_attempt_at = now() + $2 * interval '1 millisecond' where id = $1`, [r.id, delay]);
            this.log.warn({ err: e, topic: r.topic, msgId: r.msg_id, delayMs: delay }, 'outbox publish failed; will retry');
            // keep order: stop at the first failure
            break;
          }
          await c.query(`update hub_outbox set published_at = now(), attempts = attempts + 1, last_error = null where id = $1`, [r.id]);
          this.metrics?.outboxPublished.inc({ topic: r.topic });
          n++;
        }
        return n;
      } finally {
        await c.query('select pg_advisory_unlock($1)', [RELAY_LOCK]);
      }
    } finally {
      c.release();
    }
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      let n = 0;
      try {
        n = await this.publishBatch();
      } catch (e) {
        this.log.warn({ err: e }, 'outbox relay cannot reach the database');
      }
      if (n === 0 && !this.#stopping) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.pollMs);
          this.#wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    }
  }
}
