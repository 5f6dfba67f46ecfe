/**
 * Every route of the API with its JSON Schemas, in one place. Fastify validates and
 * serializes with these schemas, and /openapi.json is generated from the same objects
 * (collected as the routes are registered), so the document cannot drift from the code.
 *
 * Named schemas carry a `title`; the OpenAPI builder turns each into a component.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CloudEventEnvelope } from '../domain/index.ts';
import { BATCH_MEDIA_TYPE, STRUCTURED_MEDIA_TYPE } from './cloudevents.ts';
import { PROBLEM_MEDIA_TYPE } from './problem.ts';
import type { RouteAuth } from './principal.ts';

export const StringEnum = <const T extends readonly string[]>(values: T, o: { description?: string; default?: T[number] } = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...o });
export const DateTime = (description?: string) => Type.String({ format: 'date-time', ...(description ? { description } : {}) });
export const Nullable = <T extends TSchema>(s: T) => Type.Union([s, Type.Null()]);
export const Serial = (description?: string) => Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, ...(description ? { description } : {}) });
export const Text = (description?: string) => Type.String({ minLength: 1, maxLength: 2048, ...(description ? { description } : {}) });

// ----------------------------------------------------------------------------- shared

export const Problem = Type.Object(
  {
    type: Type.String({ description: 'URI of the problem type: https://odoo-logistics-hub.dev/problems/<code>' }),
    title: Type.String({ description: 'short summary of the problem type' }),
    status: Type.Integer({ description: 'HTTP status code' }),
    detail: Type.String({ description: 'what went wrong this time' }),
    code: Type.String({ description: 'stable machine-readable code (see docs/api.md)' }),
    instance: Type.String({ description: 'the request path this problem is about' }),
    correlationId: Type.String({ description: 'correlation id of the request (also in the X-Correlation-Id header)' }),
    issues: Type.Optional(
      Type.Array(Type.Object({ path: Type.String({ description: 'JSON pointer (or header name) of the offending value' }), message: Type.String() }), {
        description: 'each problem with the input',
      }),
    ),
    index: Type.Optional(Type.Integer({ minimum: 0, description: 'index of the offending event in a batch' })),
  },
  { title: 'Problem', description: 'RFC 9457 problem details', additionalProperties: true },
);

/** Problem responses of a route, by status (`4xx`/`5xx` cover the rest). */
export function problems(statuses: Record<string, string>) {
  const out: Record<string, { description: string; content: Record<string, { schema: TSchema }> }> = {};
  for (const [status, description] of Object.entries({ ...statuses, '4xx': 'client error', '5xx': 'server error' })) {
    out[status] = { description, content: { [PROBLEM_MEDIA_TYPE]: { schema: Problem } } };
  }
  return out;
}

export const Pagination = {
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100, description: 'page size' }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'opaque cursor from the previous page (nextCursor)' })),
};

// ----------------------------------------------------------------------------- events

/** The published CloudEvents envelope of canonical events (title CloudEvent). */
export const CloudEvent = CloudEventEnvelope;

export const EventAccepted = Type.Object(
  {
    id: Type.String(),
    source: Type.String(),
    status: Type.Literal('accepted'),
    links: Type.Object({ self: Type.String() }),
  },
  { title: 'EventAccepted', description: 'the event is stored durably (also when it was a duplicate)' },
);

export const BatchAccepted = Type.Object(
  { accepted: Type.Integer({ minimum: 1 }), events: Type.Array(EventAccepted) },
  { title: 'BatchAccepted', description: 'every event of the batch is stored durably, in the order given' },
);

const EventStatus = StringEnum(['pending', 'retrying', 'done', 'dead'] as const, {
  description: 'pending: stored, not yet handled; retrying: a transient failure, another attempt is scheduled (or a replay is under way); done: handled; dead: in the dead letters',
});
const AttemptOutcome = StringEnum(['done', 'retry', 'dead', 'exception', 'replayed', 'replay_failed'] as const);

export const Attempt = Type.Object(
  {
    attempt: Type.Integer(),
    outcome: AttemptOutcome,
    worker: Type.String(),
    errorClass: Nullable(Type.String()),
    errorCode: Nullable(Type.String()),
    errorMessage: Nullable(Type.String()),
    startedAt: DateTime(),
    finishedAt: DateTime(),
  },
  { title: 'Attempt', description: 'one attempt at handling an event' },
);

export const DeadLetter = Type.Object(
  {
    id: Type.Integer(),
    tenant: Type.String(),
    eventSeq: Type.Integer(),
    eventId: Type.String(),
    key: Type.String(),
    type: Type.String(),
    source: Type.String(),
    reason: Type.String(),
    errorClass: Type.String(),
    errorCode: Type.String(),
    attempts: Type.Integer(),
    status: StringEnum(['open', 'replaying', 'replayed'] as const),
    createdAt: DateTime(),
    updatedAt: DateTime(),
    replayCount: Type.Integer(),
    payload: Type.Optional(Type.Unknown({ description: 'the event data (only with ?include=payload in lists)' })),
    links: Type.Object({ self: Type.String(), event: Type.String() }),
  },
  { title: 'DeadLetter' },
);

export const EventView = Type.Object(
  {
    event: CloudEvent,
    seq: Type.Integer({ description: 'position in the inbox' }),
    key: Type.String({ description: 'business key' }),
    tenant: Type.String(),
    occurredAt: Nullable(DateTime('when it happened: the data\'s own time field when its type has one, else the CloudEvents time')),
    receivedAt: DateTime(),
    correlationId: Nullable(Type.String()),
    status: EventStatus,
    history: Type.Array(Attempt),
    deadLetter: Nullable(DeadLetter),
    links: Type.Object({ self: Type.String(), timeline: Type.String() }),
  },
  { title: 'EventView', description: 'a stored event, its processing history and its dead letter if any' },
);

// ----------------------------------------------------------------------------- cross references

export const XrefList = Type.Object(
  {
    items: Type.Array(
      Type.Object({ entity: Type.String(), canonicalId: Type.String(), system: Type.String(), externalId: Type.String(), registeredAt: DateTime() }),
    ),
  },
  { title: 'XrefList', description: 'entries of the cross-reference registry' },
);

// ----------------------------------------------------------------------------- timeline

export const TimelineEntry = Type.Object(
  {
    seq: Type.Integer(),
    id: Type.String(),
    source: Type.String(),
    type: Type.String(),
    subject: Nullable(Type.String()),
    occurredAt: Nullable(DateTime('when it happened (the data\'s own time field, else the CloudEvents time); null when neither was given')),
    receivedAt: DateTime(),
    status: EventStatus,
    attempts: Type.Integer(),
    lastOutcome: Nullable(AttemptOutcome),
    lastError: Nullable(Type.Object({ errorClass: Nullable(Type.String()), errorCode: Nullable(Type.String()), errorMessage: Nullable(Type.String()) })),
    deadLetterId: Nullable(Type.Integer()),
    links: Type.Object({ self: Type.String() }),
  },
  { title: 'TimelineEntry' },
);

export const Lifecycle = Type.Object(
  {
    kind: Type.String({ description: 'which lifecycle: order, procurement...' }),
    state: Nullable(Type.String()),
    stateAt: Nullable(DateTime()),
    flags: Type.Unknown({ description: 'events recorded but not applied (duplicate, regression...) with their reason' }),
    updatedAt: DateTime(),
  },
  { title: 'Lifecycle', description: 'a lifecycle folded for the key' },
);

export const BusinessException = Type.Object(
  {
    id: Type.Integer(),
    eventSeq: Nullable(Type.Integer()),
    code: Type.String(),
    severity: Type.String(),
    message: Type.String(),
    status: Type.String(),
    details: Type.Unknown(),
    createdAt: DateTime(),
    resolvedAt: Nullable(DateTime()),
  },
  { title: 'BusinessException' },
);

export const Timeline = Type.Object(
  {
    key: Type.String(),
    lifecycles: Type.Array(Lifecycle),
    exceptions: Type.Array(BusinessException),
    events: Type.Array(TimelineEntry, { description: 'in occurrence order: event time (receipt time when absent), then inbox order' }),
    nextCursor: Nullable(Type.String()),
    links: Type.Object({ self: Type.String(), next: Type.Optional(Type.String()) }),
  },
  { title: 'Timeline' },
);

// ----------------------------------------------------------------------------- dead letters and replays

const ErrorClass = StringEnum(['transient', 'permanent', 'business'] as const);
const DeadLetterStatus = StringEnum(['open', 'replaying', 'replayed'] as const);

export const DeadLetterQuery = Type.Object(
  {
    status: Type.Optional(DeadLetterStatus),
    type: Type.Optional(Text()),
    key: Type.Optional(Text()),
    source: Type.Optional(Text()),
    errorCode: Type.Optional(Text()),
    errorClass: Type.Optional(ErrorClass),
    from: Type.Optional(DateTime('created at or after')),
    to: Type.Optional(DateTime('created before')),
    include: Type.Optional(StringEnum(['payload'] as const, { description: 'include each event payload' })),
    ...Pagination,
  },
  { additionalProperties: false },
);
export type DeadLetterQuery = Static<typeof DeadLetterQuery>;

export const DeadLetterPage = Type.Object(
  { items: Type.Array(DeadLetter), nextCursor: Nullable(Type.String()), links: Type.Object({ self: Type.String(), next: Type.Optional(Type.String()) }) },
  { title: 'DeadLetterPage' },
);

export const ReplayRequest = Type.Object(
  {
    ids: Type.Optional(Type.Array(Serial(), { minItems: 1, maxItems: 10000, description: 'dead letter ids' })),
    type: Type.Optional(Text()),
    key: Type.Optional(Text()),
    source: Type.Optional(Text()),
    errorCode: Type.Optional(Text()),
    errorClass: Type.Optional(ErrorClass),
    from: Type.Optional(DateTime('dead letters created at or after')),
    to: Type.Optional(DateTime('dead letters created before')),
  },
  { title: 'ReplayRequest', description: 'selects open dead letters (all criteria must match); at least one criterion is required', additionalProperties: false },
);
export type ReplayRequest = Static<typeof ReplayRequest>;

export const ReplayAccepted = Type.Object(
  { replayId: Type.Integer(), total: Type.Integer({ description: 'dead letters selected' }), links: Type.Object({ progress: Type.String() }) },
  { title: 'ReplayAccepted' },
);

export const ReplayProgress = Type.Object(
  {
    replayId: Type.Integer(),
    total: Type.Integer(),
    replaying: Type.Integer({ description: 'waiting or running' }),
    replayed: Type.Integer({ description: 'handled successfully' }),
    failed: Type.Integer({ description: 'failed again: open dead letters with the new reason' }),
    done: Type.Boolean(),
    links: Type.Object({ self: Type.String() }),
  },
  { title: 'ReplayProgress' },
);

// ----------------------------------------------------------------------------- operations

const ReadinessCheck = Type.Object({ ok: Type.Boolean(), detail: Type.Optional(Type.String()) });
export const Readiness = Type.Object({ ready: Type.Boolean(), checks: Type.Record(Type.String(), ReadinessCheck) }, { title: 'Readiness' });

const IdParam = (description: string) => Type.Object({ id: Type.String({ minLength: 1, maxLength: 1024, description }) });
const NumericIdParam = (description: string) => Type.Object({ id: Serial(description) });

const ceHeader = (description: string) => Type.Optional(Type.String({ description }));

// ----------------------------------------------------------------------------- routes

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  /** who may call it (enforced by auth.ts; the authorization matrix test is generated from it) */
  config: { auth: RouteAuth };
  schema: {
    operationId: string;
    summary: string;
    description?: string;
    tags: string[];
    params?: TSchema;
    querystring?: TSchema;
    headers?: TSchema;
    body?: TSchema | { content: Record<string, { schema: TSchema }> };
    response: Record<string, unknown>;
  };
}

export const route = <S extends RouteSpec>(r: S): S => r;

export const ROUTES = {
  postEvents: route({
    method: 'POST',
    url: '/v1/events',
    config: { auth: { kind: 'domain', access: 'write' } },
    schema: {
      operationId: 'postEvents',
      summary: 'Ingest CloudEvents (structured, binary or batch)',
      description:
        `Content-Type selects the mode: ${STRUCTURED_MEDIA_TYPE} (structured), ${BATCH_MEDIA_TYPE} (batch), or the JSON data content type with ce-* headers (binary). ` +
        'Answers 202 once every event of the request is stored durably. A duplicate (same source and id) gets the same answer and is stored once. ' +
        'A batch is all or nothing: one bad event rejects it, naming its index. Past the configured backlog the answer is 429 with Retry-After.',
      tags: ['events'],
      headers: Type.Object({
        'ce-specversion': ceHeader('binary mode: "1.0"'),
        'ce-id': ceHeader('binary mode: event id'),
        'ce-source': ceHeader('binary mode: event source'),
        'ce-type': ceHeader('binary mode: event type'),
        'ce-time': ceHeader('binary mode: RFC 3339 event time'),
        'ce-subject': ceHeader('binary mode: subject'),
        'ce-partitionkey': ceHeader('binary mode: business key (other ce-* headers are extensions too)'),
        'x-correlation-id': Type.Optional(Type.String({ description: 'correlation id for events without a correlationid extension; echoed in the response' })),
      }),
      body: {
        content: {
          [STRUCTURED_MEDIA_TYPE]: { schema: CloudEvent },
          [BATCH_MEDIA_TYPE]: { schema: Type.Array(CloudEvent, { minItems: 1, description: 'at most ingress.maxBatch events' }) },
          'application/json': { schema: Type.Unknown({ description: 'binary mode: the event data; the attributes are ce-* headers' }) },
        },
      },
      response: {
        202: Type.Union([EventAccepted, BatchAccepted], { description: 'stored (a batch answers BatchAccepted)' }),
        ...problems({
          400: 'malformed JSON, missing or invalid attribute, empty batch',
          413: 'body or batch too large',
          415: 'unsupported content type or data content type',
          422: 'unknown event type, data invalid for its type, no business key',
          429: 'backlog over its bound: retry after Retry-After seconds',
          503: 'the event store is unavailable: retry after Retry-After seconds',
        }),
      },
    },
  }),
  getEvent: route({
    method: 'GET',
    url: '/v1/events/:id',
    config: { auth: { kind: 'domain', access: 'read' } },
    schema: {
      operationId: 'getEvent',
      summary: 'An event with its processing history',
      tags: ['events'],
      params: IdParam('event id'),
      querystring: Type.Object({ source: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'needed when several sources used this id' })) }, { additionalProperties: false }),
      response: { 200: EventView, ...problems({ 404: 'no such event', 409: 'several sources used this id: add ?source=' }) },
    },
  }),
  findXrefs: route({
    method: 'GET',
    url: '/v1/xref',
    config: { auth: { kind: 'domain', access: 'read' } },
    schema: {
      operationId: 'findXrefs',
      summary: 'The cross-reference registry: which canonical id a system id names, or every system id of a canonical id',
      tags: ['xref'],
      querystring: Type.Object(
        {
          system: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'with externalId: resolve this system\'s id' })),
          externalId: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
          canonicalId: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'list every system id of this canonical id' })),
          entity: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'e.g. order, shipment, item' })),
        },
        { additionalProperties: false },
      ),
      response: { 200: XrefList, ...problems({ 400: 'give system and externalId, or canonicalId' }) },
    },
  }),
  getTimeline: route({
    method: 'GET',
    url: '/v1/timeline/:key',
    config: { auth: { kind: 'domain', access: 'read' } },
    schema: {
      operationId: 'getTimeline',
      summary: 'Everything that happened to one business key, in occurrence order',
      tags: ['timeline'],
      params: Type.Object({ key: Type.String({ minLength: 1, maxLength: 1024, description: 'business key' }) }),
      querystring: Type.Object(Pagination, { additionalProperties: false }),
      response: { 200: Timeline, ...problems({ 404: 'no event, lifecycle or exception for this key' }) },
    },
  }),
  listDeadLetters: route({
    method: 'GET',
    url: '/v1/dead-letters',
    config: { auth: { kind: 'scope', scope: 'exceptions:read' } },
    schema: {
      operationId: 'listDeadLetters',
      summary: 'Dead letters, filtered, oldest first',
      tags: ['dead-letters'],
      querystring: DeadLetterQuery,
      response: { 200: DeadLetterPage, ...problems({ 400: 'invalid filter or cursor' }) },
    },
  }),
  getDeadLetter: route({
    method: 'GET',
    url: '/v1/dead-letters/:id',
    config: { auth: { kind: 'scope', scope: 'exceptions:read' } },
    schema: {
      operationId: 'getDeadLetter',
      summary: 'One dead letter with its payload',
      tags: ['dead-letters'],
      params: NumericIdParam('dead letter id'),
      response: { 200: DeadLetter, ...problems({ 404: 'no such dead letter' }) },
    },
  }),
  replayDeadLetters: route({
    method: 'POST',
    url: '/v1/dead-letters/replay',
    config: { auth: { kind: 'scope', scope: 'exceptions:write' } },
    schema: {
      operationId: 'replayDeadLetters',
      summary: 'Replay one, a filtered set or a time range of open dead letters',
      tags: ['dead-letters'],
      body: ReplayRequest,
      response: { 202: ReplayAccepted, ...problems({ 400: 'no filter, or an empty time range' }) },
    },
  }),
  getReplay: route({
    method: 'GET',
    url: '/v1/replays/:id',
    config: { auth: { kind: 'scope', scope: 'exceptions:read' } },
    schema: {
      operationId: 'getReplay',
      summary: 'Progress of a replay',
      tags: ['dead-letters'],
      params: NumericIdParam('replay id'),
      response: { 200: ReplayProgress, ...problems({ 404: 'no such replay' }) },
    },
  }),
  healthz: route({
    method: 'GET',
    url: '/healthz',
    config: { auth: { kind: 'public' } },
    schema: {
      operationId: 'healthz',
      summary: 'Liveness: 200 while the process serves HTTP',
      tags: ['operations'],
      response: { 200: Type.Object({ status: Type.Literal('ok'), instanceId: Type.String() }, { title: 'Health' }), ...problems({}) },
    },
  }),
  readyz: route({
    method: 'GET',
    url: '/readyz',
    config: { auth: { kind: 'public' } },
    schema: {
      operationId: 'readyz',
      summary: 'Readiness: database reachable, migrations applied, workers running',
      tags: ['operations'],
      response: { 200: Readiness, ...problems({ 503: 'not ready: the failing checks are the issues' }) },
    },
  }),
  metrics: route({
    method: 'GET',
    url: '/metrics',
    config: { auth: { kind: 'public' } },
    schema: {
      operationId: 'metrics',
      summary: 'Prometheus metrics (text exposition format)',
      tags: ['operations'],
      response: { 200: { description: 'metrics', content: { 'text/plain': { schema: Type.String() } } }, ...problems({}) },
    },
  }),
  openapi: route({
    method: 'GET',
    url: '/openapi.json',
    config: { auth: { kind: 'public' } },
    schema: {
      operationId: 'openapi',
      summary: 'This OpenAPI 3.1 document',
      tags: ['operations'],
      response: { 200: Type.Object({}, { additionalProperties: true, description: 'OpenAPI 3.1 document' }), ...problems({}) },
    },
  }),
} as const;

/** The named schemas: components of the OpenAPI document. */
export const COMPONENTS: TSchema[] = [
  Problem,
  CloudEvent,
  EventAccepted,
  BatchAccepted,
  Attempt,
  DeadLetter,
  EventView,
  TimelineEntry,
  Lifecycle,
  BusinessException,
  Timeline,
  DeadLetterPage,
  ReplayRequest,
  ReplayAccepted,
  ReplayProgress,
  Readiness,
];
