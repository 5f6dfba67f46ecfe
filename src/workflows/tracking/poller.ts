/**
 * Polls carriers for the tracking numbers that are due (hub_tracking.next_poll_at), per
 * carrier adapter in batches, and stores what each answered as one
 * `carrier.scans.received.v1` event per number. The event id is derived from the scans'
 * identities, so an unchanged answer is a duplicate the inbox drops and polling an idle
 * shipment costs no event.
 *
 * The next poll comes sooner when the parcel is out for delivery. A carrier that fails
 * (outage, rate limit) leaves its numbers due later, with backoff (its Retry-After when it
 * gives one); other carriers are not held up. One process polls a number at a time (rows
 * are claimed with SKIP LOCKED by moving next_poll_at before the call).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { CarrierPort } from '../../connectors/carrier-port.ts';
import { dataschemaUrl } from '../../domain/catalogue.ts';
import { HubError } from '../../domain/errors.ts';
import { scanId } from '../../domain/tracking-fold.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Logger } from '../../platform/logger.ts';
import { ingest } from '../../pipeline/inbox.ts';
import type { IncomingEvent } from '../../pipeline/types.ts';

export interface TrackingPollerOptions {
  pool: pg.Pool;
  /** the tenant whose numbers this poller asks its carriers about */
  tenantId: string;
  carriers: readonly CarrierPort[];
  clock: Clock;
  log: Logger;
  /** between polls of one number (default 30 min) */
  intervalMs?: number;
  /** between polls of a number out for delivery (default 5 min) */
  outForDeliveryMs?: number;
  /** numbers per carrier and round (default 50) */
  batch?: number;
  /** a claimed number is not claimed again for this long (default 2 min) */
  claimMs?: number;
}

export interface PollReport {
  carrier: string;
  numbers: number;
  events: number;
  error?: string;
}

const digest = (s: string) => createHash('sha256').update(s).digest('base64url').slice(0, 22);

export class TrackingPoller {
  readonly #o: Required<TrackingPollerOptions>;
  #timer: NodeJS.Timeout | undefined;
  #busy: Promise<unknown> | undefined;
  #running = false;

  constructor(o: TrackingPollerOptions) {
    this.#o = { intervalMs: 30 * 60_000, outForDeliveryMs: 5 * 60_000, batch: 50, claimMs: 120_000, ...o };
  }

  start(everyMs = 5000): void {
    if (this.#running) return;
    this.#running = true;
    const tick = () => {
      if (!this.#running) return;
      this.#busy = this.pollDue()
        .catch((err) => this.#o.log.warn({ err }, 'tracking poll round failed'))
        .finally(() => {
          this.#busy = undefined;
          if (this.#running) this.#timer = setTimeout(tick, everyMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#busy;
  }

  /** One round: every carrier's due numbers, one batch each. */
  async pollDue(): Promise<PollReport[]> {
    const out: PollReport[] = [];
    for (const port of this.#o.carriers) {
      if (!port.track) continue;
      out.push(await this.#pollCarrier(port));
    }
    return out;
  }

  async #pollCarrier(port: CarrierPort): Promise<PollReport> {
    const now = this.#o.clock.now();
    const claimed = await this.#o.pool.query<{ tenant_id: string; tracking_number: string; status: string; poll_failures: number }>(
      `update hub_tracking t set next_poll_at = $3 from (
         select tenant_id, carrier, tracking_number from hub_tracking
         where tenant_id = $5 and carrier = $1 and not closed and next_poll_at <= $2 order by next_poll_at limit $4 for update skip locked) due
       where t.tenant_id = due.tenant_id and t.carrier = due.carrier and t.tracking_number = due.tracking_number
       returning t.tenant_id, t.tracking_number, t.status, t.poll_failures`,
      [port.id, now, new Date(now.getTime() + this.#o.claimMs), this.#o.batch, this.#o.tenantId],
    );
    if (!claimed.rowCount) return { carrier: port.id, numbers: 0, events: 0 };
    const numbers = [...new Set(claimed.rows.map((r) => r.tracking_number))];
    try {
      const results = await port.track!(numbers);
      const events: IncomingEvent[] = [];
      const at = now.toISOString();
      for (const row of claimed.rows) {
        const res = results.find((r) => r.trackingNumber === row.tracking_number);
        if (!res || (!res.scans.length && !res.notFound)) continue;
        const ids = res.scans.map((s) => scanId(s)).sort();
        const data = { carrier: port.id, trackingNumber: row.tracking_number, receivedVia: 'poll', receivedAt: at, scans: res.scans, ...(res.notFound ? { notFound: true } : {}) };
        events.push({
          id: `poll:${port.id}:${row.tracking_number}:${digest(ids.join('|') + (res.notFound ? '|nf' : ''))}`,
          source: `urn:hub:tracking:${port.id}`, type: 'carrier.scans.received.v1', specversion: '1.0', subject: row.tracking_number,
          time: at, occurredAt: at, datacontenttype: 'application/json', dataschema: dataschemaUrl('carrier.scans.received.v1'), data,
          extensions: { tenant: row.tenant_id }, key: row.tracking_number, tenantId: row.tenant_id,
        });
      }
      const ingested = events.length ? await ingest(this.#o.pool, events) : [];
      for (const row of claimed.rows) {
        const res = results.find((r) => r.trackingNumber === row.tracking_number);
        const soon = res?.scans.some((s) => s.status === 'out_for_delivery') ? this.#o.outForDeliveryMs : this.#o.intervalMs;
        await this.#o.pool.query(`update hub_tracking set next_poll_at = $4, poll_failures = 0 where tenant_id = $1 and carrier = $2 and tracking_number = $3`, [row.tenant_id, port.id, row.tracking_number, new Date(now.getTime() + soon)]);
      }
      return { carrier: port.id, numbers: numbers.length, events: ingested.filter((x) => !x.duplicate).length };
    } catch (e) {
      const err = e instanceof HubError ? e : undefined;
      for (const row of claimed.rows) {
        const backoff = Math.min(this.#o.intervalMs, 60_000 * 2 ** Math.min(row.poll_failures, 6));
        const delay = Math.max(err?.retryAfterMs ?? 0, backoff);
        await this.#o.pool.query(`update hub_tracking set next_poll_at = $4, poll_failures = poll_failures + 1 where tenant_id = $1 and carrier = $2 and tracking_number = $3`, [row.tenant_id, port.id, row.tracking_number, new Date(now.getTime() + delay)]);
      }
      this.#o.log.warn({ err: e, carrier: port.id, numbers: numbers.length }, 'tracking poll failed; due again later');
      return { carrier: port.id, numbers: numbers.length, events: 0, error: e instanceof Error ? e.message : String(e) };
    }
  }
}
