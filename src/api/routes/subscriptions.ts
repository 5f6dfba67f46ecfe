/**
 * Outbound subscriptions over HTTP (docs/subscriptions.md is the subscriber's guide):
 * register an endpoint with event-type filters, read, change and delete it, disable and
 * enable it (replaying what it missed), rotate its signing secret, and read its delivery
 * log.
 *
 * Authorization: the routes are of auth kind `domain`. Subscribing needs the read scope
 * of every domain the filter covers (`*`: all of them), checked here. A client manages
 * the subscriptions it owns; admin:read shows the tenant's others, admin:write changes
 * them (403 naming the scope otherwise). A subscription of another tenant is 404: its
 * existence is not revealed.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ForbiddenError, PermanentError } from '../../domain/errors.ts';
import { MAX_PATTERNS, normalizePatterns, readScopesFor } from '../../pipeline/subscriptions/filters.ts';
import { MAX_DESCRIPTION, SubscriptionStore, type Delivery, type DeliveryStatus, type Subscription, type SubscriptionStatus } from '../../pipeline/subscriptions/store.ts';
import { MAX_URL_LENGTH } from '../../pipeline/subscriptions/url-safety.ts';
import type { ApiContext } from '../context.ts';
import { decodeCursor, encodeCursor, isPositiveSafeInteger } from '../cursor.ts';
import { hasScope, principalOf, requireScope, type Principal } from '../principal.ts';
import { DateTime, Nullable, Pagination, StringEnum, problems, route } from '../schemas.ts';

// ----------------------------------------------------------------------------- schemas

const STATUSES = ['enabled', 'disabled'] as const;
const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed', 'missed'] as const;

const EventTypePatterns = Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
  minItems: 1,
  maxItems: MAX_PATTERNS,
  description: 'which events are delivered: event types (shipment.delivered.v1), every type of an entity (shipment.*) or everything (*)',
});
const Url = Type.String({ minLength: 1, maxLength: MAX_URL_LENGTH, description: 'the endpoint: https, no credentials, a public address' });
const Description = Type.String({ maxLength: MAX_DESCRIPTION, description: 'what the endpoint is, for people' });
const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100, description: 'subscription id (sub_...)' }) });

export const SubscriptionView = Type.Object(
  {
    id: Type.String(),
    tenant: Type.String(),
    url: Type.String(),
    eventTypes: Type.Array(Type.String()),
    description: Nullable(Type.String()),
    status: StringEnum(STATUSES, { description: 'enabled: deliveries are sent; disabled: they are kept as missed' }),
    ownerClientId: Nullable(Type.String({ description: 'the API client that owns it' })),
    failingSince: Nullable(DateTime('every delivery has failed since then; null while deliveries succeed')),
    disabledAt: Nullable(DateTime()),
    disabledReason: Nullable(Type.String()),
    createdAt: DateTime(),
    updatedAt: DateTime(),
    links: Type.Object({ self: Type.String(), deliveries: Type.String() }),
  },
  { title: 'Subscription', description: 'an endpoint that receives the tenant\'s events, signed (Standard Webhooks)' },
);

const SubscriptionWithSecret = Type.Object(
  {
    subscription: SubscriptionView,
    secret: Type.String({ description: 'shown once: the signing secret (whsec_...), to verify the webhook-signature header' }),
    previousValidUntil: Type.Optional(Nullable(DateTime('after a rotation: the previous secret signs deliveries until then'))),
  },
  { title: 'SubscriptionWithSecret' },
);

const SubscriptionPage = Type.Object({ items: Type.Array(SubscriptionView), nextCursor: Nullable(Type.String()) }, { title: 'SubscriptionPage' });

const DeliveryAttemptView = Type.Object(
  {
    attempt: Type.Integer(),
    startedAt: DateTime(),
    durationMs: Type.Integer(),
    statusCode: Nullable(Type.Integer({ description: 'the endpoint\'s HTTP status; null when it did not answer' })),
    error: Nullable(Type.String({ description: 'why it failed: HTTP status and the start of the answer, timeout, connection error, refused address' })),
  },
  { title: 'DeliveryAttempt' },
);

export const DeliveryView = Type.Object(
  {
    id: Type.Integer(),
    msgId: Type.String({ description: 'the webhook-id header: the same for every attempt' }),
    eventId: Type.String(),
    eventSource: Type.String(),
    eventType: Type.String(),
    status: StringEnum(DELIVERY_STATUSES, {
      description: 'pending: to be sent or retried; succeeded: the endpoint answered 2xx; failed: every attempt failed; missed: the subscription was disabled',
    }),
    attempts: Type.Integer(),
    nextAttemptAt: Nullable(DateTime('pending: when it is tried next')),
    lastAttemptAt: Nullable(DateTime()),
    lastStatus: Nullable(Type.Integer()),
    lastError: Nullable(Type.String()),
    createdAt: DateTime(),
    deliveredAt: Nullable(DateTime()),
    history: Type.Array(DeliveryAttemptView, { description: 'every attempt, oldest first' }),
  },
  { title: 'Delivery', description: 'one event offered to one subscription' },
);

const DeliveryPage = Type.Object({ items: Type.Array(DeliveryView), nextCursor: Nullable(Type.String()) }, { title: 'DeliveryPage' });

const tags = ['subscriptions'];
const readAuth = { auth: { kind: 'domain', access: 'read' } } as const;

export const SUBSCRIPTION_ROUTES = {
  createSubscription: route({
    method: 'POST',
    url: '/v1/subscriptions',
    config: readAuth,
    schema: {
      operationId: 'createSubscription',
      summary: 'Register an endpoint for events; answers its signing secret once',
      description: 'Needs the read scope of each domain the filter covers (`*`: every domain). The caller owns the subscription.',
      tags,
      body: Type.Object({ url: Url, eventTypes: EventTypePatterns, description: Type.Optional(Description) }, { additionalProperties: false, title: 'CreateSubscription' }),
      response: {
        201: SubscriptionWithSecret,
        ...problems({ 400: 'unknown event type pattern, URL not https, with credentials or a non-public address', 403: 'the read scope of a domain of the filter is missing' }),
      },
    },
  }),
  listSubscriptions: route({
    method: 'GET',
    url: '/v1/subscriptions',
    config: readAuth,
    schema: {
      operationId: 'listSubscriptions',
      summary: 'The caller\'s subscriptions (with admin:read: the tenant\'s), newest first',
      tags,
      querystring: Type.Object(
        {
          status: Type.Optional(StringEnum(STATUSES)),
          owner: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'only this client\'s (another client: needs admin:read)' })),
          ...Pagination,
        },
        { additionalProperties: false },
      ),
      response: { 200: SubscriptionPage, ...problems({ 400: 'invalid cursor', 403: 'another client\'s subscriptions need admin:read' }) },
    },
  }),
  getSubscription: route({
    method: 'GET',
    url: '/v1/subscriptions/:id',
    config: readAuth,
    schema: { operationId: 'getSubscription', summary: 'One subscription', tags, params: IdParam, response: { 200: SubscriptionView, ...problems({ 403: 'another client\'s subscription needs admin:read', 404: 'no such subscription in the caller\'s tenant' }) } },
  }),
  updateSubscription: route({
    method: 'PATCH',
    url: '/v1/subscriptions/:id',
    config: readAuth,
    schema: {
      operationId: 'updateSubscription',
      summary: 'Change the endpoint, the filter or the description',
      description: 'The secret, the status and the delivery log stay. A new filter needs the read scope of each domain it covers.',
      tags,
      params: IdParam,
      body: Type.Object(
        { url: Type.Optional(Url), eventTypes: Type.Optional(EventTypePatterns), description: Type.Optional(Nullable(Description)) },
        { additionalProperties: false, minProperties: 1, title: 'UpdateSubscription' },
      ),
      response: { 200: SubscriptionView, ...problems({ 400: 'unknown event type pattern or refused URL', 403: 'the read scope of a domain of the filter is missing, or another client\'s subscription without admin:write', 404: 'no such subscription in the caller\'s tenant' }) },
    },
  }),
  deleteSubscription: route({
    method: 'DELETE',
    url: '/v1/subscriptions/:id',
    config: readAuth,
    schema: {
      operationId: 'deleteSubscription',
      summary: 'Delete a subscription with its delivery log and its secret',
      tags,
      params: IdParam,
      response: { 204: Type.Null({ description: 'deleted' }), ...problems({ 403: 'another client\'s subscription needs admin:write', 404: 'no such subscription in the caller\'s tenant' }) },
    },
  }),
  disableSubscription: route({
    method: 'POST',
    url: '/v1/subscriptions/:id/disable',
    config: readAuth,
    schema: {
      operationId: 'disableSubscription',
      summary: 'Stop deliveries; events meanwhile are kept as missed',
      tags,
      params: IdParam,
      body: Type.Optional(Nullable(Type.Object({ reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })) }, { additionalProperties: false, title: 'DisableSubscription' }))),
      response: {
        200: Type.Object({ subscription: SubscriptionView, missed: Type.Integer({ description: 'pending deliveries now kept as missed' }) }, { title: 'SubscriptionDisabled' }),
        ...problems({ 403: 'another client\'s subscription needs admin:write', 404: 'no such subscription in the caller\'s tenant' }),
      },
    },
  }),
  enableSubscription: route({
    method: 'POST',
    url: '/v1/subscriptions/:id/enable',
    config: readAuth,
    schema: {
      operationId: 'enableSubscription',
      summary: 'Resume deliveries, by default replaying what was missed',
      description: 'With replayMissed (default true) the missed deliveries, and those that failed for good since the deliveries started failing, are sent again with a fresh retry schedule, each once.',
      tags,
      params: IdParam,
      body: Type.Optional(Nullable(Type.Object({ replayMissed: Type.Optional(Type.Boolean({ description: 'default true: send what was missed' })) }, { additionalProperties: false, title: 'EnableSubscription' }))),
      response: {
        200: Type.Object({ subscription: SubscriptionView, replayed: Type.Integer({ description: 'deliveries scheduled again' }) }, { title: 'SubscriptionEnabled' }),
        ...problems({ 403: 'another client\'s subscription needs admin:write', 404: 'no such subscription in the caller\'s tenant' }),
      },
    },
  }),
  rotateSubscriptionSecret: route({
    method: 'POST',
    url: '/v1/subscriptions/:id/rotate-secret',
    config: readAuth,
    schema: {
      operationId: 'rotateSubscriptionSecret',
      summary: 'Issue a new signing secret; deliveries are signed with both until the old one expires',
      tags,
      params: IdParam,
      body: Type.Optional(
        Nullable(
          Type.Object(
            { overlapSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 31536000, description: 'how long the previous secret still signs; default security.credentialOverlapSeconds' })) },
            { additionalProperties: false, title: 'RotateSubscriptionSecret' },
          ),
        ),
      ),
      response: { 200: SubscriptionWithSecret, ...problems({ 403: 'another client\'s subscription needs admin:write', 404: 'no such subscription in the caller\'s tenant' }) },
    },
  }),
  listSubscriptionDeliveries: route({
    method: 'GET',
    url: '/v1/subscriptions/:id/deliveries',
    config: readAuth,
    schema: {
      operationId: 'listSubscriptionDeliveries',
      summary: 'The delivery log of a subscription, newest first, with every attempt',
      tags,
      params: IdParam,
      querystring: Type.Object({ status: Type.Optional(StringEnum(DELIVERY_STATUSES)), ...Pagination }, { additionalProperties: false }),
      response: { 200: DeliveryPage, ...problems({ 400: 'invalid cursor', 403: 'another client\'s subscription needs admin:read', 404: 'no such subscription in the caller\'s tenant' }) },
    },
  }),
} as const;

/** The named schemas of these routes: components of the OpenAPI document. */
export const SUBSCRIPTION_COMPONENTS = [SubscriptionView, SubscriptionWithSecret, SubscriptionPage, DeliveryAttemptView, DeliveryView, DeliveryPage];

// ----------------------------------------------------------------------------- views

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const selfLink = (id: string) => `/v1/subscriptions/${encodeURIComponent(id)}`;

export function subscriptionView(s: Subscription): Static<typeof SubscriptionView> {
  return {
    id: s.id,
    tenant: s.tenantId,
    url: s.url,
    eventTypes: s.eventTypes,
    description: s.description,
    status: s.status,
    ownerClientId: s.ownerClientId,
    failingSince: iso(s.failingSince),
    disabledAt: iso(s.disabledAt),
    disabledReason: s.disabledReason,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
    links: { self: selfLink(s.id), deliveries: `${selfLink(s.id)}/deliveries` },
  };
}

export function deliveryView(d: Delivery): Static<typeof DeliveryView> {
  return {
    id: d.id,
    msgId: d.msgId,
    eventId: d.eventId,
    eventSource: d.eventSource,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: iso(d.nextAttemptAt),
    lastAttemptAt: iso(d.lastAttemptAt),
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    createdAt: d.createdAt.toISOString(),
    deliveredAt: iso(d.deliveredAt),
    history: d.history.map((a) => ({ attempt: a.attempt, startedAt: a.startedAt.toISOString(), durationMs: a.durationMs, statusCode: a.statusCode, error: a.error })),
  };
}

// ----------------------------------------------------------------------------- routes

const actorOf = (p: Principal) => p.actor;

function notFound(id: string): PermanentError {
  return new PermanentError({ code: 'subscription.not_found', message: `no subscription ${JSON.stringify(id)} in this tenant`, status: 404 });
}

/** Subscribing to these patterns needs the read scope of each domain they cover (unknown patterns are a 400 first). */
function requirePatternScopes(p: Principal, patterns: readonly string[]): void {
  for (const scope of readScopesFor(normalizePatterns(patterns))) requireScope(p, scope);
}

export async function subscriptionRoutes(app: FastifyInstance, { ctx }: { ctx: ApiContext }): Promise<void> {
  const store = new SubscriptionStore({ pool: ctx.pool, keyring: ctx.keyring, config: ctx.config, clock: ctx.clock });

  /** The tenant's subscription; 404 for one that does not exist here (another tenant's included). */
  const find = async (request: FastifyRequest, id: string): Promise<Subscription> => {
    const s = await store.get(principalOf(request).tenantId, id);
    if (!s) throw notFound(id);
    return s;
  };

  /** The subscription if the caller may read it: its own, or any of the tenant with admin:read. */
  const readable = async (request: FastifyRequest, id: string): Promise<Subscription> => {
    const s = await find(request, id);
    const p = principalOf(request);
    if (s.ownerClientId !== p.clientId) requireScope(p, 'admin:read');
    return s;
  };

  /** The subscription if the caller may change it: its own, or any of the tenant with admin:write. */
  const changeable = async (request: FastifyRequest, id: string): Promise<Subscription> => {
    const s = await find(request, id);
    const p = principalOf(request);
    if (s.ownerClientId !== p.clientId) requireScope(p, 'admin:write');
    return s;
  };

  app.route<{ Body: { url: string; eventTypes: string[]; description?: string } }>({
    ...SUBSCRIPTION_ROUTES.createSubscription,
    handler: async (request, reply) => {
      const p = principalOf(request);
      requirePatternScopes(p, request.body.eventTypes);
      if (p.via === 'session') throw new ForbiddenError('subscription.needs_client', 'a subscription belongs to an API client: create it with a client\'s credential, not from a console session');
      const { subscription, secret } = await store.create({
        tenantId: p.tenantId, ownerClientId: p.clientId, url: request.body.url, eventTypes: request.body.eventTypes, description: request.body.description ?? null, actor: actorOf(p),
      });
      request.log.info({ subscription: subscription.id, eventTypes: subscription.eventTypes }, 'subscription created');
      reply.code(201).header('Cache-Control', 'no-store').header('Location', selfLink(subscription.id));
      return { subscription: subscriptionView(subscription), secret };
    },
  });

  app.route<{ Querystring: { status?: SubscriptionStatus; owner?: string; limit: number; cursor?: string } }>({
    ...SUBSCRIPTION_ROUTES.listSubscriptions,
    handler: async (request) => {
      const p = principalOf(request);
      const q = request.query;
      if (q.owner !== undefined && q.owner !== p.clientId) requireScope(p, 'admin:read');
      const owner = q.owner ?? (hasScope(p, 'admin:read') ? undefined : p.clientId);
      const after = q.cursor === undefined
        ? undefined
        : decodeCursor(q.cursor, (v) => (typeof v.c === 'string' && !Number.isNaN(Date.parse(v.c)) && typeof v.i === 'string' ? { createdAt: v.c, id: v.i } : undefined));
      const page = await store.list({ tenantId: p.tenantId, limit: q.limit, ...(owner !== undefined ? { ownerClientId: owner } : {}), ...(q.status ? { status: q.status } : {}), ...(after ? { after } : {}) });
      const last = page.items.at(-1);
      return { items: page.items.map(subscriptionView), nextCursor: page.more && last ? encodeCursor({ c: last.createdAt.toISOString(), i: last.id }) : null };
    },
  });

  app.route<{ Params: { id: string } }>({
    ...SUBSCRIPTION_ROUTES.getSubscription,
    handler: async (request) => subscriptionView(await readable(request, request.params.id)),
  });

  app.route<{ Params: { id: string }; Body: { url?: string; eventTypes?: string[]; description?: string | null } }>({
    ...SUBSCRIPTION_ROUTES.updateSubscription,
    handler: async (request) => {
      const p = principalOf(request);
      const s = await changeable(request, request.params.id);
      if (request.body.eventTypes) requirePatternScopes(p, request.body.eventTypes);
      const updated = await store.update(p.tenantId, s.id, request.body, actorOf(p));
      return subscriptionView(updated);
    },
  });

  app.route<{ Params: { id: string } }>({
    ...SUBSCRIPTION_ROUTES.deleteSubscription,
    handler: async (request, reply) => {
      const p = principalOf(request);
      const s = await changeable(request, request.params.id);
      await store.delete(p.tenantId, s.id, actorOf(p));
      request.log.info({ subscription: s.id }, 'subscription deleted');
      return reply.code(204).send();
    },
  });

  app.route<{ Params: { id: string }; Body: { reason?: string } | null | undefined }>({
    ...SUBSCRIPTION_ROUTES.disableSubscription,
    handler: async (request) => {
      const p = principalOf(request);
      const s = await changeable(request, request.params.id);
      const r = await store.disable(p.tenantId, s.id, actorOf(p), request.body?.reason);
      return { subscription: subscriptionView(r.subscription), missed: r.missed };
    },
  });

  app.route<{ Params: { id: string }; Body: { replayMissed?: boolean } | null | undefined }>({
    ...SUBSCRIPTION_ROUTES.enableSubscription,
    handler: async (request) => {
      const p = principalOf(request);
      const s = await changeable(request, request.params.id);
      const r = await store.enable(p.tenantId, s.id, actorOf(p), { replayMissed: request.body?.replayMissed ?? true });
      return { subscription: subscriptionView(r.subscription), replayed: r.replayed };
    },
  });

  app.route<{ Params: { id: string }; Body: { overlapSeconds?: number } | null | undefined }>({
    ...SUBSCRIPTION_ROUTES.rotateSubscriptionSecret,
    handler: async (request, reply) => {
      const p = principalOf(request);
      const s = await changeable(request, request.params.id);
      const r = await store.rotateSecret(p.tenantId, s.id, actorOf(p), request.body?.overlapSeconds ?? ctx.config.security.credentialOverlapSeconds);
      reply.header('Cache-Control', 'no-store');
      return { subscription: subscriptionView(r.subscription), secret: r.secret, previousValidUntil: iso(r.previousValidUntil) };
    },
  });

  app.route<{ Params: { id: string }; Querystring: { status?: DeliveryStatus; limit: number; cursor?: string } }>({
    ...SUBSCRIPTION_ROUTES.listSubscriptionDeliveries,
    handler: async (request) => {
      const p = principalOf(request);
      const s = await readable(request, request.params.id);
      const q = request.query;
      const before = q.cursor === undefined ? undefined : decodeCursor(q.cursor, (v) => (isPositiveSafeInteger(v.b) ? v.b : undefined));
      const page = await store.deliveries(p.tenantId, s.id, { limit: q.limit, ...(q.status ? { status: q.status } : {}), ...(before !== undefined ? { before } : {}) });
      const last = page.items.at(-1);
      return { items: page.items.map(deliveryView), nextCursor: page.more && last ? encodeCursor({ b: last.id }) : null };
    },
  });
}
