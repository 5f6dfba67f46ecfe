/**
 * Group commit for ingress. Concurrent requests each need their events durable before
 * their 202; committing each request alone costs one WAL flush per request. Requests
 * that arrive while a commit is in flight are queued and stored together in the next
 * transaction (up to maxEvents), and each request is answered from its own slice of
 * the result. An idle hub adds no delay: the first request starts a commit at once.
 *
 * A combined transaction that fails is retried request by request, so one request's
 * failure (a row the database refuses) never fails its neighbours; a database outage
 * fails each of them with the same error.
 */
import type pg from 'pg';
import { ingest, type IngestOutcome } from './inbox.ts';
import type { IncomingEvent } from './types.ts';

interface Pending {
  events: IncomingEvent[];
  resolve(o: IngestOutcome[]): void;
  reject(e: unknown): void;
}

export interface GroupCommitOptions {
  /** most events in one transaction */
  maxEvents?: number;
  /** commits in flight at once (each holds a pool connection) */
  maxInFlight?: number;
}

export class GroupCommitter {
  readonly pool: pg.Pool;
  readonly maxEvents: number;
  readonly maxInFlight: number;
  #queue: Pending[] = [];
  #inFlight = 0;
  /** transactions committed and requests served, for metrics and tests */
  stats = { transactions: 0, requests: 0 };

  constructor(pool: pg.Pool, o: GroupCommitOptions = {}) {
    this.pool = pool;
    this.maxEvents = o.maxEvents ?? 2000;
    this.maxInFlight = o.maxInFlight ?? 2;
  }

  /** Stores the events of one request; resolves once they are committed. */
  submit(events: IncomingEvent[]): Promise<IngestOutcome[]> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ events, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.maxInFlight && this.#queue.length > 0) {
      const group: Pending[] = [];
      let n = 0;
      while (this.#queue.length > 0 && (group.length === 0 || n + this.#queue[0]!.events.length <= this.maxEvents)) {
        const p = this.#queue.shift()!;
        group.push(p);
        n += p.events.length;
      }
      this.#inFlight++;
      void this.#commit(group).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  async #commit(group: Pending[]): Promise<void> {
    this.stats.transactions++;
    this.stats.requests += group.length;
    try {
      const outcomes = await ingest(this.pool, group.flatMap((p) => p.events));
      let i = 0;
      for (const p of group) {
        p.resolve(outcomes.slice(i, i + p.events.length));
        i += p.events.length;
      }
      return;
    } catch (e) {
      if (group.length === 1) {
        group[0]!.reject(e);
        return;
      }
    }
    // the combined transaction failed: each request on its own, so only the culprit fails
    for (const p of group) {
      try {
        this.stats.transactions++;
        p.resolve(await ingest(this.pool, p.events));
      } catch (e) {
        p.reject(e);
      }
    }
  }
}
