/**
 * Back-pressure. The backlog (events stored but not yet handled) is sampled on an
 * interval, never per request; ingress compares the last sample with the bound and
 * answers 429 with Retry-After when it is over. Published as hub_backlog{queue}.
 */
import type pg from 'pg';
import type { Metrics } from '../platform/metrics.ts';

export interface BacklogSample {
  events: number;
  outbox: number;
  timers: number;
  replays: number;
  deadLettersOpen: number;
  at: Date;
}

export async function sampleBacklog(db: pg.Pool, now: Date = new Date()): Promise<BacklogSample> {
  const r = await db.query(
    `select
       (select coalesce(sum(pending), 0)::bigint from hub_keys where pending > 0) as events,
       (select count(*) from hub_outbox where published_at is null) as outbox,
       (select count(*) from hub_timers where status = 'scheduled' and due_at <= $1) as timers,
       (select count(*) from hub_dead_letters where status = 'replaying') as replays,
       (select count(*) from hub_dead_letters where status = 'open') as dead`,
    [now],
  );
  const x = r.rows[0];
  return { events: Number(x.events), outbox: Number(x.outbox), timers: Number(x.timers), replays: Number(x.replays), deadLettersOpen: Number(x.dead), at: now };
}

export class BacklogMonitor {
  #timer: NodeJS.Timeout | undefined;
  last: BacklogSample | undefined;
  readonly db: pg.Pool;
  readonly limit: number;
  readonly intervalMs: number;
  readonly metrics: Metrics | undefined;

  constructor(db: pg.Pool, limit: number, intervalMs = 250, metrics?: Metrics) {
    this.db = db;
    this.limit = limit;
    this.intervalMs = intervalMs;
    this.metrics = metrics;
    metrics?.backlogLimit.set(limit);
  }

  async sample(): Promise<BacklogSample | undefined> {
    try {
      const s = await sampleBacklog(this.db);
      this.last = s;
      if (this.metrics) {
        this.metrics.backlog.set({ queue: 'events' }, s.events);
        this.metrics.backlog.set({ queue: 'outbox' }, s.outbox);
        this.metrics.backlog.set({ queue: 'timers' }, s.timers);
        this.metrics.backlog.set({ queue: 'replays' }, s.replays);
        this.metrics.deadLettersOpen.set(s.deadLettersOpen);
      }
      return s;
    } catch {
      return undefined;
    }
  }

  start(): void {
    const tick = async () => {
      await this.sample();
      this.#timer = setTimeout(tick, this.intervalMs);
      this.#timer.unref();
    };
    void tick();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
  }

  /** true when ingress should refuse new work */
  get overloaded(): boolean {
    return (this.last?.events ?? 0) >= this.limit;
  }
}
