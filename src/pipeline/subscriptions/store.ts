/**
 * Outbound subscriptions: endpoints that receive the tenant's canonical events, signed
 * (Standard Webhooks). This module owns their records: create (the signing secret is
 * answered once, then only stored sealed as the secret `subscription:<id>`), read,
 * change, delete, disable and enable (optionally replaying what was missed meanwhile),
 * rotate the secret, and the delivery log.
 *
 * Every query is bounded by the tenant; every change is audited in its own transaction.
 * Who may do what (owners, admin scopes) is decided by the caller (the API routes).
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { PermanentError, ValidationError, assertEventData, dataschemaUrl } from '../../domain/index.ts';
import type { Clock } from '../../platform/clock.ts';
import { systemClock } from '../../platform/clock.ts';
import type { HubConfig } from '../../platform/config.ts';
import { withTx, type Queryable } from '../../platform/db.ts';
import { appendAudit } from '../../security/audit.ts';
import type { Keyring } from '../../security/keyring.ts';
import { putSecret } from '../../security/secrets.ts';
import { generateWebhookSecret } from '../../security/webhook-signature.ts';
import { ingest } from '../inbox.ts';
import type { IncomingEvent } from '../types.ts';
import { normalizePatterns } from './filters.ts';
import { checkEndpointUrl, type UrlPolicy } from './url-safety.ts';

export type SubscriptionStatus = 'enabled' | 'disabled';
export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'missed';

export interface Subscription {
  id: string;
  tenantId: string;
  /** the API client that created it; null for one created outside the API */
  ownerClientId: string | null;
  url: string;
  eventTypes: string[];
  description: string | null;
  status: SubscriptionStatus;
  /** the first failure since the last success; null while deliveries succeed */
  failingSince: Date | null;
  disabledAt: Date | null;
  disabledReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface DeliveryAttempt {
  attempt: number;
  startedAt: Date;
  durationMs: number;
  /** the endpoint's HTTP status; null when no answer came (timeout, connection error, refused address) */
  statusCode: number | null;
  error: string | null;
}

export interface Delivery {
  id: number;
  subscriptionId: string;
  eventSeq: number;
  eventId: string;
  eventSource: string;
  eventType: string;
  /** the webhook-id header: the same for every attempt */
  msgId: string;
  status: DeliveryStatus;
  attempts: number;
  /** when it is tried next (pending only) */
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
  /** every attempt, oldest first */
  history: DeliveryAttempt[];
}

export const SUBSCRIPTION_EVENT_SOURCE = 'hub://subscriptions';
export const SUBSCRIPTION_DISABLED_TYPE = 'hub.subscription.disabled.v1';
export const SECRET_KIND = 'webhook-signing';
export const MAX_DESCRIPTION = 500;

/** The stored secret holding a subscription's signing secret(s). */
export const secretNameOf = (subscriptionId: string) => `subscription:${subscriptionId}`;

export function rowToSubscription(r: Record<string, unknown>): Subscription {
  return {
    id: r.id as string,
    tenantId: r.tenant_id as string,
    ownerClientId: (r.owner_client_id as string | null) ?? null,
    url: r.url as string,
    eventTypes: r.event_types as string[],
    description: (r.description as string | null) ?? null,
    status: r.status as SubscriptionStatus,
    failingSince: (r.failing_since as Date | null) ?? null,
    disabledAt: (r.disabled_at as Date | null) ?? null,
    disabledReason: (r.disabled_reason as string | null) ?? null,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
  };
}

function subscriptionNotFound(id: string): PermanentError {
  return new PermanentError({ code: 'subscription.not_found', message: `no subscription ${JSON.stringify(id)} in this tenant`, status: 404 });
}

function checkDescription(d: string | null | undefined): string | null {
  if (d === undefined || d === null) return null;
  const t = d.trim();
  if (t.length > MAX_DESCRIPTION) throw new ValidationError('subscription.invalid_description', `the description is longer than ${MAX_DESCRIPTION} characters`, [{ path: '/description', message: 'too long' }]);
  return t === '' ? null : t;
}

/** The endpoint without query and fragment: for audit details and events (a query may carry a credential). */
export function publicUrlOf(url: string): string {
  const u = new URL(url);
  u.search = '';
  u.hash = '';
  return u.toString();
}

/** Facts about a subscription kept in the audit trail (no secret, no query string). */
const auditState = (s: Subscription) => ({ url: publicUrlOf(s.url), eventTypes: s.eventTypes, description: s.description, status: s.status, ownerClientId: s.ownerClientId });

export interface DisableRequest {
  now: Date;
  actor: string;
  reason: string;
  /** disabled by the deliverer after sustained failure: the owner is told by an event */
  automatic: boolean;
}

/**
 * Disables a subscription inside the caller's transaction, which holds its row locked:
 * pending deliveries become missed, the change is audited and, when automatic, a
 * hub.subscription.disabled.v1 event is stored for the owner (stored once: its id is
 * derived from the subscription and the instant).
 */
export async function disableInTx(tx: pg.PoolClient, s: Subscription, r: DisableRequest): Promise<{ subscription: Subscription; missed: number }> {
  const reason = r.reason.slice(0, 2000);
  const u = await tx.query(
    `update hub_subscriptions set status = 'disabled', disabled_at = $2, disabled_reason = $3, updated_at = $2 where id = $1 returning *`,
    [s.id, r.now, reason],
  );
  const subscription = rowToSubscription(u.rows[0]!);
  const missed = await tx.query(`update hub_deliveries set status = 'missed' where subscription_id = $1 and status = 'pending'`, [s.id]);
  if (r.automatic) {
    // stored before the audit entry: locks are taken in the pipeline's order (key, then audit head)
    const data = {
      subscriptionId: s.id,
      url: publicUrlOf(s.url),
      reason,
      disabledAt: r.now.toISOString(),
      failingSince: (s.failingSince ?? r.now).toISOString(),
      ...(s.ownerClientId ? { ownerClientId: s.ownerClientId } : {}),
    };
    assertEventData(SUBSCRIPTION_DISABLED_TYPE, data);
    const event: IncomingEvent = {
      id: `${s.id}.disabled.${r.now.getTime()}`,
      source: SUBSCRIPTION_EVENT_SOURCE,
      type: SUBSCRIPTION_DISABLED_TYPE,
      specversion: '1.0',
      subject: s.id,
      time: data.disabledAt,
      occurredAt: data.disabledAt,
      datacontenttype: 'application/json',
      dataschema: dataschemaUrl(SUBSCRIPTION_DISABLED_TYPE),
      data,
      extensions: {},
      key: s.id,
      tenantId: s.tenantId,
    };
    await ingest(tx, [event]);
  }
  await appendAudit(tx, {
    tenantId: s.tenantId,
    actor: r.actor,
    action: 'subscription.disabled',
    objectType: 'subscription',
    objectId: s.id,
    before: auditState(s),
    after: auditState(subscription),
    details: { reason, automatic: r.automatic, missed: missed.rowCount ?? 0, ...(s.failingSince ? { failingSince: s.failingSince.toISOString() } : {}) },
    at: r.now,
  });
  return { subscription, missed: missed.rowCount ?? 0 };
}

export interface SubscriptionStoreOptions {
  pool: pg.Pool;
  keyring: Keyring;
  config: { subscriptions: UrlPolicy; security: Pick<HubConfig['security'], 'credentialOverlapSeconds'> };
  clock?: Clock;
}

export interface CreateSubscription {
  tenantId: string;
  ownerClientId: string | null;
  url: string;
  eventTypes: readonly string[];
  description?: string | null;
  /** client:<id>, cli:<user>... */
  actor: string;
}

export interface UpdateSubscription {
  url?: string;
  eventTypes?: readonly string[];
  description?: string | null;
}

export interface ListSubscriptions {
  tenantId: string;
  /** only this client's subscriptions */
  ownerClientId?: string;
  status?: SubscriptionStatus;
  limit: number;
  /** position after which the page starts (from the previous page) */
  after?: { createdAt: string; id: string };
}

export interface DeliveryQuery {
  status?: DeliveryStatus;
  limit: number;
  /** deliveries older than this id (newest first) */
  before?: number;
}

export class SubscriptionStore {
  readonly pool: pg.Pool;
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly #policy: UrlPolicy;
  readonly #overlapSeconds: number;

  constructor(o: SubscriptionStoreOptions) {
    this.pool = o.pool;
    this.keyring = o.keyring;
    this.clock = o.clock ?? systemClock;
    this.#policy = { allowHttp: o.config.subscriptions.allowHttp, allowPrivateAddresses: o.config.subscriptions.allowPrivateAddresses };
    this.#overlapSeconds = o.config.security.credentialOverlapSeconds;
  }

  #tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return withTx(this.pool, fn);
  }

  /** The subscription, locked for the rest of the transaction; 404 when it is not the tenant's. */
  async #lock(tx: pg.PoolClient, tenantId: string, id: string): Promise<Subscription> {
    const r = await tx.query(`select * from hub_subscriptions where tenant_id = $1 and id = $2 for no key update`, [tenantId, id]);
    if (!r.rows[0]) throw subscriptionNotFound(id);
    return rowToSubscription(r.rows[0]);
  }

  /** Creates an enabled subscription; the signing secret is in the answer and nowhere else. */
  async create(p: CreateSubscription): Promise<{ subscription: Subscription; secret: string }> {
    const url = checkEndpointUrl(p.url, this.#policy);
    const eventTypes = normalizePatterns(p.eventTypes);
    const description = checkDescription(p.description);
    const id = 'sub_' + randomBytes(12).toString('hex');
    const secret = generateWebhookSecret();
    const now = this.clock.now();
    const subscription = await this.#tx(async (tx) => {
      const r = await tx.query(
        `insert into hub_subscriptions (id, tenant_id, owner_client_id, url, event_types, description, secret_name, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $8) returning *`,
        [id, p.tenantId, p.ownerClientId, url, eventTypes, description, secretNameOf(id), now],
      );
      const s = rowToSubscription(r.rows[0]!);
      await putSecret(tx, this.keyring, { tenantId: p.tenantId, name: secretNameOf(id), value: secret, kind: SECRET_KIND, actor: p.actor, overlapSeconds: 0 });
      await appendAudit(tx, {
        tenantId: p.tenantId, actor: p.actor, action: 'subscription.created', objectType: 'subscription', objectId: id,
        after: auditState(s), details: { host: new URL(url).host, eventTypes, ownerClientId: p.ownerClientId }, at: now,
      });
      return s;
    });
    return { subscription, secret };
  }

  async get(tenantId: string, id: string, db: Queryable = this.pool): Promise<Subscription | undefined> {
    const r = await db.query(`select * from hub_subscriptions where tenant_id = $1 and id = $2`, [tenantId, id]);
    return r.rows[0] ? rowToSubscription(r.rows[0]) : undefined;
  }

  /** 404 subscription.not_found when it is not the tenant's. */
  async require(tenantId: string, id: string): Promise<Subscription> {
    const s = await this.get(tenantId, id);
    if (!s) throw subscriptionNotFound(id);
    return s;
  }

  /** Newest first; one more than `limit` is read to tell whether a next page exists. */
  async list(q: ListSubscriptions): Promise<{ items: Subscription[]; more: boolean }> {
    const params: unknown[] = [q.tenantId];
    const w = ['tenant_id = $1'];
    if (q.ownerClientId !== undefined) w.push(`owner_client_id = $${params.push(q.ownerClientId)}`);
    if (q.status) w.push(`status = $${params.push(q.status)}`);
    if (q.after) w.push(`(created_at, id) < ($${params.push(q.after.createdAt)}::timestamptz, $${params.push(q.after.id)})`);
    const r = await this.pool.query(`select * from hub_subscriptions where ${w.join(' and ')} order by created_at desc, id desc limit $${params.push(q.limit + 1)}`, params);
    return { items: r.rows.slice(0, q.limit).map(rowToSubscription), more: r.rows.length > q.limit };
  }

  /** Changes the endpoint, the filter or the description; the secret and the deliveries stay. */
  async update(tenantId: string, id: string, patch: UpdateSubscription, actor: string): Promise<Subscription> {
    const url = patch.url === undefined ? undefined : checkEndpointUrl(patch.url, this.#policy);
    const eventTypes = patch.eventTypes === undefined ? undefined : normalizePatterns(patch.eventTypes);
    const description = patch.description === undefined ? undefined : checkDescription(patch.description);
    return this.#tx(async (tx) => {
      const before = await this.#lock(tx, tenantId, id);
      const now = this.clock.now();
      const r = await tx.query(
        `update hub_subscriptions set url = coalesce($2, url), event_types = coalesce($3, event_types),
                description = case when $4 then $5 else description end, updated_at = $6
          where id = $1 returning *`,
        [id, url ?? null, eventTypes ?? null, description !== undefined, description ?? null, now],
      );
      const after = rowToSubscription(r.rows[0]!);
      const changed = (['url', 'eventTypes', 'description'] as const).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
      await appendAudit(tx, {
        tenantId, actor, action: 'subscription.updated', objectType: 'subscription', objectId: id,
        before: auditState(before), after: auditState(after), details: { changed, ...(changed.includes('eventTypes') ? { eventTypes: after.eventTypes } : {}) }, at: now,
      });
      return after;
    });
  }

  /** Deletes the subscription with its deliveries, their attempts and its secret. */
  async delete(tenantId: string, id: string, actor: string): Promise<void> {
    await this.#tx(async (tx) => {
      const s = await this.#lock(tx, tenantId, id);
      await tx.query(`delete from hub_delivery_attempts a using hub_deliveries d where a.delivery_id = d.id and d.subscription_id = $1`, [id]);
      const deliveries = await tx.query(`delete from hub_deliveries where subscription_id = $1`, [id]);
      await tx.query(`delete from hub_subscriptions where id = $1`, [id]);
      const secrets = await tx.query(`delete from hub_secrets where tenant_id = $1 and name = $2`, [tenantId, secretNameOf(id)]);
      const now = this.clock.now();
      await appendAudit(tx, {
        tenantId, actor, action: 'secret.deleted', objectType: 'secret', objectId: secretNameOf(id), details: { versions: secrets.rowCount ?? 0 }, at: now,
      });
      await appendAudit(tx, {
        tenantId, actor, action: 'subscription.deleted', objectType: 'subscription', objectId: id,
        before: auditState(s), details: { deliveries: deliveries.rowCount ?? 0 }, at: now,
      });
    });
  }

  /** Stops deliveries at once; pending ones become missed. Disabling a disabled subscription changes nothing. */
  async disable(tenantId: string, id: string, actor: string, reason?: string): Promise<{ subscription: Subscription; missed: number }> {
    return this.#tx(async (tx) => {
      const s = await this.#lock(tx, tenantId, id);
      if (s.status === 'disabled') return { subscription: s, missed: 0 };
      return disableInTx(tx, s, { now: this.clock.now(), actor, reason: reason?.trim() || `disabled by ${actor}`, automatic: false });
    });
  }

  /**
   * Enables a disabled subscription. With replayMissed (the default) what it missed is
   * sent from now on: the missed deliveries, and those that failed for good since its
   * deliveries started failing, each with a fresh retry schedule. Each event is still
   * delivered once: (subscription, event) is unique. Enabling an enabled subscription
   * changes nothing.
   */
  async enable(tenantId: string, id: string, actor: string, o: { replayMissed?: boolean } = {}): Promise<{ subscription: Subscription; replayed: number }> {
    const replayMissed = o.replayMissed ?? true;
    return this.#tx(async (tx) => {
      const s = await this.#lock(tx, tenantId, id);
      if (s.status === 'enabled') return { subscription: s, replayed: 0 };
      const now = this.clock.now();
      let replayed = 0;
      if (replayMissed) {
        const r = await tx.query(
          `update hub_deliveries set status = 'pending', attempts = 0, next_attempt_at = $2
            where subscription_id = $1
              and (status = 'missed' or (status = 'failed' and last_attempt_at >= coalesce($3::timestamptz, $4::timestamptz)))`,
          [id, now, s.failingSince, s.disabledAt],
        );
        replayed = r.rowCount ?? 0;
      }
      const u = await tx.query(
        `update hub_subscriptions set status = 'enabled', disabled_at = null, disabled_reason = null, failing_since = null, updated_at = $2 where id = $1 returning *`,
        [id, now],
      );
      const subscription = rowToSubscription(u.rows[0]!);
      await appendAudit(tx, {
        tenantId, actor, action: 'subscription.enabled', objectType: 'subscription', objectId: id,
        before: auditState(s), after: auditState(subscription), details: { replayMissed, replayed }, at: now,
      });
      return { subscription, replayed };
    });
  }

  /**
   * A new signing secret (answered once). The previous versions stay valid for the
   * overlap and every delivery meanwhile is signed with each, so the receiver can switch
   * at its own pace.
   */
  async rotateSecret(tenantId: string, id: string, actor: string, overlapSeconds = this.#overlapSeconds): Promise<{ subscription: Subscription; secret: string; previousValidUntil: Date | null }> {
    const secret = generateWebhookSecret();
    return this.#tx(async (tx) => {
      const s = await this.#lock(tx, tenantId, id);
      const r = await putSecret(tx, this.keyring, { tenantId, name: secretNameOf(id), value: secret, kind: SECRET_KIND, actor, overlapSeconds });
      await appendAudit(tx, {
        tenantId, actor, action: 'subscription.secret_rotated', objectType: 'subscription', objectId: id,
        details: { version: r.version, overlapSeconds, previousValidUntil: r.supersededUntil?.toISOString() ?? null }, at: this.clock.now(),
      });
      return { subscription: s, secret, previousValidUntil: r.supersededUntil };
    });
  }

  /** The delivery log, newest first, each delivery with its attempts. */
  async deliveries(tenantId: string, id: string, q: DeliveryQuery): Promise<{ items: Delivery[]; more: boolean }> {
    const params: unknown[] = [tenantId, id];
    const w = ['d.tenant_id = $1', 'd.subscription_id = $2'];
    if (q.status) w.push(`d.status = $${params.push(q.status)}`);
    if (q.before !== undefined) w.push(`d.id < $${params.push(q.before)}`);
    const r = await this.pool.query(
      `select d.*, e.id as event_id, e.source as event_source, e.type as event_type
         from hub_deliveries d join hub_events e on e.seq = d.event_seq
        where ${w.join(' and ')} order by d.id desc limit $${params.push(q.limit + 1)}`,
      params,
    );
    const rows = r.rows.slice(0, q.limit);
    const attempts = rows.length
      ? await this.pool.query(`select * from hub_delivery_attempts where delivery_id = any ($1::bigint[]) order by delivery_id, started_at, id`, [rows.map((x) => x.id)])
      : { rows: [] };
    const byDelivery = new Map<number, DeliveryAttempt[]>();
    for (const a of attempts.rows) {
      const list = byDelivery.get(a.delivery_id as number) ?? [];
      list.push({ attempt: a.attempt, startedAt: a.started_at, durationMs: a.duration_ms, statusCode: a.status_code ?? null, error: a.error ?? null });
      byDelivery.set(a.delivery_id as number, list);
    }
    return {
      items: rows.map((x) => ({
        id: x.id,
        subscriptionId: x.subscription_id,
        eventSeq: x.event_seq,
        eventId: x.event_id,
        eventSource: x.event_source,
        eventType: x.event_type,
        msgId: x.msg_id,
        status: x.status,
        attempts: x.attempts,
        nextAttemptAt: x.status === 'pending' ? x.next_attempt_at : null,
        lastAttemptAt: x.last_attempt_at ?? null,
        lastStatus: x.last_status ?? null,
        lastError: x.last_error ?? null,
        createdAt: x.created_at,
        deliveredAt: x.delivered_at ?? null,
        history: byDelivery.get(x.id as number) ?? [],
      })),
      more: r.rows.length > q.limit,
    };
  }
}
