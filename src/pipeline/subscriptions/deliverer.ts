/**
 * The deliverer: sends the deliveries that fan-out (fanout.ts) recorded to their
 * subscribers' endpoints, signed the Standard Webhooks way, and retries failures on the
 * specification's schedule (schedule.ts). Several deliverers may run in one process and
 * in many processes on one database.
 *
 * A round claims due deliveries (FOR UPDATE SKIP LOCKED) and, in the same statement,
 * counts the attempt and pushes next_attempt_at past the longest an attempt can take: a
 * lease. The POST happens after that commit, outside any transaction. If the process
 * dies mid-flight the lease runs out and another deliverer tries again (the endpoint may
 * see the message twice, with the same webhook-id: receivers de-duplicate on it). The
 * outcome is written with a fence (the attempt number and its start), so a deliverer
 * that lost its lease cannot overwrite the result of the one that took over.
 *
 * The body is the event as a CloudEvent (JSON, structured mode); personal data is masked
 * unless the subscription's owner holds pii:read. Any answer but 2xx (redirects are not
 * followed), a timeout, a connection error or an address the URL policy refuses is a
 * failure: recorded as an attempt and retried until the schedule ends. A subscription
 * whose deliveries have all failed for subscriptions.disableAfterHours is disabled, its
 * pending deliveries kept as missed, the change audited and the owner told by a
 * hub.subscription.disabled.v1 event.
 *
 * All scheduling uses the injected clock (a fake one in tests), never the database's.
 */
import { withTx } from '../../platform/db.ts';
import type pg from 'pg';
import pkg from '../../../package.json' with { type: 'json' };
import { domainOfEventType, redactEventData } from '../../domain/index.ts';
import type { Clock } from '../../platform/clock.ts';
import { systemClock } from '../../platform/clock.ts';
import type { HubConfig } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Keyring } from '../../security/keyring.ts';
import { activeSecretValues } from '../../security/secrets.ts';
import { standardHeaders } from '../../security/webhook-signature.ts';
import { rowToEvent, type StoredEvent } from '../types.ts';
import { nextAttemptDelay } from './schedule.ts';
import { disableInTx, rowToSubscription, secretNameOf, type Subscription } from './store.ts';
import { assertDeliverable, RefusedEndpointError } from './url-safety.ts';
import { trace } from '@opentelemetry/api';
import { SpanKind, contextWithTenant, currentTelemetry, disabledTracing, extractTraceContext, recordFailure, traceHeaders, type Tracing } from '../../platform/tracing.ts';

export const USER_AGENT = `odoo-logistics-hub/${pkg.version}`;
export const DELIVERER_ACTOR = 'system:deliverer';

/** Longest error text kept per attempt. */
const MAX_ERROR = 500;
/** Bytes of a failed answer's body kept in its error text. */
const MAX_BODY_EXCERPT = 200;

export interface DelivererOptions {
  pool: pg.Pool;
  keyring: Keyring;
  log: Logger;
  config: HubConfig['subscriptions'];
  clock?: Clock;
  /** in [0, 1): the jitter of retry delays */
  random?: () => number;
  /** a span per attempt (default: the hub's of the context the deliverer runs in) */
  tracing?: Tracing;
}

/** A delivery claimed for one attempt. */
export interface ClaimedDelivery {
  id: number;
  tenantId: string;
  subscriptionId: string;
  eventSeq: number;
  msgId: string;
  /** this attempt's number (1 = the first) */
  attempt: number;
  /** when the attempt was claimed: with the number, the fence of its outcome */
  claimedAt: Date;
}

export type AttemptOutcome = 'succeeded' | 'retrying' | 'failed' | 'skipped';

interface AttemptResult {
  ok: boolean;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
}

const truncate = (s: string, n = MAX_ERROR) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

/** A failure as one line for the delivery log (never the request: it carries the signature). */
function describeFailure(e: unknown, timeoutMs: number): string {
  if (e instanceof RefusedEndpointError) return `refused: ${e.message}`;
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  const cause = err?.cause;
  if (cause?.code || cause?.message) return `connection failed: ${[cause.code, cause.message].filter(Boolean).join(' ')}`;
  return `failed: ${err?.message ?? String(e)}`;
}

/** The first bytes of a body, as text; gives up quietly. */
async function excerpt(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_BODY_EXCERPT) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // a body that breaks off or times out says nothing more
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY_EXCERPT).toString('utf8').replace(/\s+/g, ' ').trim();
}

/** The event as subscribers receive it: a CloudEvent in JSON (structured mode). */
export function cloudEventBody(e: StoredEvent, unmasked: boolean): Record<string, unknown> {
  return {
    ...(e.extensions as Record<string, unknown>),
    specversion: '1.0',
    id: e.id,
    source: e.source,
    type: e.type,
    ...(e.subject !== null ? { subject: e.subject } : {}),
    ...(e.time ? { time: e.time.toISOString() } : {}),
    datacontenttype: e.datacontenttype ?? 'application/json',
    ...(e.dataschema !== null ? { dataschema: e.dataschema } : {}),
    partitionkey: e.key,
    ...(e.correlationId ? { correlationid: e.correlationId } : {}),
    ...(e.data !== null && e.data !== undefined ? { data: unmasked ? e.data : redactEventData(e.type, e.data) } : {}),
  };
}

export class Deliverer {
  readonly pool: pg.Pool;
  readonly keyring: Keyring;
  readonly log: Logger;
  readonly config: HubConfig['subscriptions'];
  readonly clock: Clock;
  readonly random: () => number;
  /** how long a claimed delivery is left alone: resolving and posting may each take timeoutMs */
  readonly leaseMs: number;
  readonly tracing: Tracing | undefined;
  #stopping = false;
  #loopDone: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(o: DelivererOptions) {
    this.pool = o.pool;
    this.keyring = o.keyring;
    this.log = o.log;
    this.config = o.config;
    this.clock = o.clock ?? systemClock;
    this.random = o.random ?? Math.random;
    this.leaseMs = 2 * o.config.timeoutMs + 30_000;
    this.tracing = o.tracing;
  }

  // ---------------------------------------------------------------- lifecycle

  start(): void {
    if (this.#loopDone) return;
    this.#stopping = false;
    this.#loopDone = this.#loop();
  }

  /** Stops claiming and waits for the deliveries in flight. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loopDone;
    await Promise.allSettled([...this.#inFlight]);
    this.#loopDone = undefined;
  }

  /** Looks for due deliveries now (new deliveries, or a test advanced the clock). */
  poke(): void {
    this.#wake?.();
  }

  /**
   * Claims the deliveries due now (at most `limit`) and attempts each, at most
   * config.concurrency at once; returns how many were attempted. Tests with a fake clock
   * call this instead of start().
   */
  async runOnce(limit = 100): Promise<number> {
    const claimed = await this.claim(limit);
    let next = 0;
    const lane = async () => {
      while (next < claimed.length) await this.attempt(claimed[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.config.concurrency, claimed.length) }, lane));
    return claimed.length;
  }

  async #loop(): Promise<void> {
    let errorDelay = 100;
    while (!this.#stopping) {
      const free = this.config.concurrency - this.#inFlight.size;
      let claimed = 0;
      if (free > 0) {
        try {
          const batch = await this.claim(free);
          claimed = batch.length;
          for (const d of batch) {
            const p: Promise<unknown> = this.attempt(d)
              .catch((e: unknown) => this.log.error({ err: e, delivery: d.id }, 'delivery attempt could not be recorded; it is retried when its lease ends'))
              .finally(() => {
                this.#inFlight.delete(p);
                this.#wake?.();
              });
            this.#inFlight.add(p);
          }
          errorDelay = 100;
        } catch (e) {
          this.log.warn({ err: e }, 'deliverer cannot reach the database');
          await this.#sleep(errorDelay);
          errorDelay = Math.min(errorDelay * 2, 10_000);
          continue;
        }
      }
      // claimed a full batch and slots are free again: go on at once; else wait for a slot or the poll
      if (this.#stopping || (claimed === free && claimed > 0 && this.#inFlight.size < this.config.concurrency)) continue;
      await this.#sleep(this.config.pollMs);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.#wake = done;
    });
  }

  // ---------------------------------------------------------------- one attempt

  /**
   * Claims up to `limit` due deliveries of enabled subscriptions: each gets its attempt
   * counted and a lease (next_attempt_at moves past the longest an attempt can take).
   */
  async claim(limit: number): Promise<ClaimedDelivery[]> {
    const now = this.clock.now();
    const r = await this.pool.query(
      `with due as (
         select d.id from hub_deliveries d join hub_subscriptions s on s.id = d.subscription_id
          where d.status = 'pending' and d.next_attempt_at <= $1 and s.status = 'enabled'
          order by d.next_attempt_at, d.id
          limit $2
          for update of d skip locked
       )
       update hub_deliveries d set attempts = d.attempts + 1, last_attempt_at = $1, next_attempt_at = $3
         from due where d.id = due.id
       returning d.id, d.tenant_id, d.subscription_id, d.event_seq, d.msg_id, d.attempts`,
      [now, limit, new Date(now.getTime() + this.leaseMs)],
    );
    return r.rows
      .map((x) => ({ id: x.id, tenantId: x.tenant_id, subscriptionId: x.subscription_id, eventSeq: x.event_seq, msgId: x.msg_id, attempt: x.attempts, claimedAt: now }))
      .sort((a, b) => a.id - b.id);
  }

  /** Makes one claimed attempt and records its outcome. */
  async attempt(d: ClaimedDelivery): Promise<AttemptOutcome> {
    const s = await this.pool.query(
      `select s.*, c.scopes as owner_scopes, c.revoked_at as owner_revoked_at
         from hub_subscriptions s left join hub_clients c on c.id = s.owner_client_id
        where s.id = $1`,
      [d.subscriptionId],
    );
    const row = s.rows[0];
    if (!row) return 'skipped'; // deleted meanwhile, its deliveries with it
    const sub = rowToSubscription(row);
    const ev = await this.pool.query(`select * from hub_events where seq = $1`, [d.eventSeq]);
    const event = rowToEvent(ev.rows[0]!);

    // the owner must still be allowed to read the event; otherwise it is not sent (not the endpoint's failure)
    const scopes: string[] = (row.owner_scopes as string[] | null) ?? [];
    if (sub.ownerClientId !== null) {
      const readScope = `${domainOfEventType(event.type) ?? 'admin'}:read`;
      const denied = row.owner_revoked_at ? 'the owner client is revoked' : !scopes.includes(readScope) ? `the owner client no longer holds ${readScope}` : undefined;
      if (denied) {
        await this.pool.query(
          `update hub_deliveries set status = 'failed', last_error = $3, next_attempt_at = $4 where id = $1 and attempts = $2 and status = 'pending'`,
          [d.id, d.attempt, `not sent: ${denied}`, this.clock.now()],
        );
        return 'skipped';
      }
    }
    const unmasked = sub.ownerClientId !== null && scopes.includes('pii:read');
    const body = JSON.stringify(cloudEventBody(event, unmasked));

    // a span per attempt, in the trace of the event delivered; its traceparent goes with the POST
    const parent = contextWithTenant(extractTraceContext(event.extensions as Record<string, unknown>), sub.tenantId);
    const tracing = this.tracing ?? currentTelemetry()?.tracing ?? disabledTracing;
    const span = tracing.startSpan(`deliver ${event.type}`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        'hub.subscription': sub.id, 'hub.delivery': d.id, 'hub.attempt': d.attempt, 'hub.event.type': event.type, 'hub.event.id': event.id,
        'hub.tenant': sub.tenantId, 'http.request.method': 'POST', 'url.full': sub.url.split('?')[0]!,
      },
    }, parent);
    const traceContext = traceHeaders(trace.setSpan(parent, span));

    const startedAt = this.clock.now();
    const t0 = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const secrets = await activeSecretValues(this.pool, this.keyring, sub.tenantId, secretNameOf(sub.id));
      if (!secrets.length) throw new RefusedEndpointError('the subscription has no valid signing secret (rotate it to issue one)');
      await assertDeliverable(sub.url, this.config, this.config.timeoutMs);
      const res = await fetch(sub.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          ...traceContext,
          ...standardHeaders(secrets, d.msgId, Math.floor(startedAt.getTime() / 1000), body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
      statusCode = res.status;
      if (res.status >= 200 && res.status < 300) {
        await res.body?.cancel().catch(() => undefined);
      } else {
        const text = await excerpt(res);
        const location = res.status >= 300 && res.status < 400 ? res.headers.get('location') : null;
        error = `HTTP ${res.status}${location ? ` (redirect to ${truncate(location, 200)} not followed)` : ''}${text ? `: ${text}` : ''}`;
      }
    } catch (e) {
      error = describeFailure(e, this.config.timeoutMs);
    }
    if (statusCode !== null && span.isRecording()) span.setAttribute('http.response.status_code', statusCode);
    if (error !== null) recordFailure(span, { code: statusCode === null ? 'delivery.failed' : `http.${statusCode}`, message: error });
    span.end();
    const result: AttemptResult = { ok: error === null, startedAt, durationMs: Math.max(0, Math.round(performance.now() - t0)), statusCode, error: error === null ? null : truncate(error) };
    return this.#record(d, result);
  }

  /** Writes the attempt and its consequences in one transaction, fenced by the claim. */
  #record(d: ClaimedDelivery, r: AttemptResult): Promise<AttemptOutcome> {
    return withTx(this.pool, (c) => this.#recordInTx(c, d, r));
  }

  async #recordInTx(tx: pg.PoolClient, d: ClaimedDelivery, r: AttemptResult): Promise<AttemptOutcome> {
    // the subscription first, then the delivery: the order every writer of both follows
    const s = await tx.query(`select * from hub_subscriptions where id = $1 for no key update`, [d.subscriptionId]);
    if (!s.rows[0]) return 'skipped';
    const sub = rowToSubscription(s.rows[0]);
    const cur = await tx.query<{ status: string; attempts: number; last_attempt_at: Date | null }>(
      `select status, attempts, last_attempt_at from hub_deliveries where id = $1 for update`,
      [d.id],
    );
    const delivery = cur.rows[0];
    if (!delivery) return 'skipped';
    await tx.query(
      `insert into hub_delivery_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error) values ($1, $2, $3, $4, $5, $6)`,
      [d.id, d.attempt, r.startedAt, r.durationMs, r.statusCode, r.error],
    );
    const fenced = delivery.attempts === d.attempt && delivery.last_attempt_at?.getTime() === d.claimedAt.getTime();
    const now = this.clock.now();
    const log = this.log.child({ subscription: sub.id, delivery: d.id, msgId: d.msgId, attempt: d.attempt });

    if (r.ok) {
      // a success counts even when the subscription was disabled meanwhile (the delivery was missed): it arrived
      if (fenced && (delivery.status === 'pending' || delivery.status === 'missed')) {
        await tx.query(
          `update hub_deliveries set status = 'succeeded', delivered_at = $2, last_status = $3, last_error = null where id = $1`,
          [d.id, now, r.statusCode],
        );
      }
      if (sub.failingSince) await tx.query(`update hub_subscriptions set failing_since = null where id = $1`, [sub.id]);
      log.debug({ status: r.statusCode, durationMs: r.durationMs }, 'delivered');
      return 'succeeded';
    }

    let outcome: AttemptOutcome = 'skipped';
    if (fenced && delivery.status === 'pending') {
      const delay = nextAttemptDelay(d.attempt, this.random);
      outcome = delay === undefined ? 'failed' : 'retrying';
      await tx.query(
        `update hub_deliveries set status = $2, next_attempt_at = $3, last_status = $4, last_error = $5 where id = $1`,
        [d.id, outcome === 'failed' ? 'failed' : 'pending', delay === undefined ? now : new Date(now.getTime() + delay), r.statusCode, r.error],
      );
      log.info({ status: r.statusCode, error: r.error, retryInMs: delay ?? null }, outcome === 'failed' ? 'delivery failed for good' : 'delivery failed; will retry');
    }
    if (fenced && sub.status === 'enabled') await this.#maybeDisable(tx, sub, r, now, log);
    return outcome;
  }

  /** Starts the failing period, or ends the subscription's deliveries when it has lasted too long. */
  async #maybeDisable(tx: pg.PoolClient, sub: Subscription, r: AttemptResult, now: Date, log: Logger): Promise<void> {
    if (!sub.failingSince) {
      await tx.query(`update hub_subscriptions set failing_since = $2 where id = $1`, [sub.id, r.startedAt]);
      return;
    }
    const hours = this.config.disableAfterHours;
    if (now.getTime() - sub.failingSince.getTime() < hours * 3_600_000) return;
    const since = await tx.query(`select 1 from hub_deliveries where subscription_id = $1 and delivered_at >= $2 limit 1`, [sub.id, sub.failingSince]);
    if (since.rowCount) return;
    const reason = `every delivery failed for ${hours} hours or more (since ${sub.failingSince.toISOString()}); last error: ${r.error ?? 'unknown'}`;
    const { missed } = await disableInTx(tx, sub, { now, actor: DELIVERER_ACTOR, reason, automatic: true });
    log.warn({ failingSince: sub.failingSince.toISOString(), missed, owner: sub.ownerClientId }, 'subscription disabled after sustained failure; its owner is notified');
  }
}
