/**
 * POST /v1/events: CloudEvents in structured mode, binary mode and batches. Answers 202
 * only after ingest() committed the whole request; a bad request stores nothing.
 *
 * Admission (back-pressure, media type) happens in onRequest, before the body is read.
 * The route's body schemas are documentation: the CloudEvents module validates, so every
 * rejection has a precise code and, in a batch, the index of the bad event.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BackPressureError, ForbiddenError, domainOfEventType, getEventType } from '../../domain/index.ts';
import { principalOf, requireScope, type Principal } from '../principal.ts';
import { ingest } from '../../pipeline/inbox.ts';
import type { IncomingEvent } from '../../pipeline/types.ts';
import type { ApiContext } from '../context.ts';
import { decodeJsonBody, isUtf8, parseContentType } from '../body.ts';
import { BATCH_MEDIA_TYPE, STRUCTURED_MEDIA_TYPE, eventFromBinary, eventFromStructured, eventsFromBatch, ingressMode, type IngressMode } from '../cloudevents.ts';
import { unsupportedMediaType } from '../errors.ts';
import { links } from '../read-models.ts';
import { ROUTES } from '../schemas.ts';

export interface IngressState {
  mode: IngressMode | 'unknown';
  /** events in the request once parsed (for the rejected-events metric) */
  events: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    ingress: IngressState | null;
  }
}

function admit(ctx: ApiContext, request: FastifyRequest): void {
  const mode = ingressMode(request.headers['content-type']);
  request.ingress = { mode: mode ?? 'unknown', events: 0 };
  if (ctx.backlog.overloaded) {
    ctx.metrics.backpressureRejections.inc();
    throw new BackPressureError(
      `the hub has ${ctx.backlog.last?.events ?? 'too many'} unhandled events (bound ${ctx.backlog.limit}); retry later`,
      ctx.config.ingress.retryAfterSeconds * 1000,
    );
  }
  const ct = parseContentType(request.headers['content-type']);
  if (!mode || !ct) {
    throw unsupportedMediaType(
      `send ${STRUCTURED_MEDIA_TYPE} (structured mode), ${BATCH_MEDIA_TYPE} (batch) or a JSON data content type with ce-* headers (binary mode)`,
      [{ path: 'content-type', message: request.headers['content-type'] ? 'is not supported' : 'is required' }],
    );
  }
  if (!isUtf8(ct)) throw unsupportedMediaType('JSON bodies must be UTF-8', [{ path: 'content-type', message: 'charset must be utf-8' }]);
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw unsupportedMediaType('compressed bodies are not accepted', [{ path: 'content-encoding', message: 'must be absent or identity' }]);
  }
}

/**
 * The caller may write each event's domain, and only into its own tenant: an event without
 * the tenant extension belongs to the caller's tenant, one naming another tenant is refused.
 */
function authorizeEvents(p: Principal, events: IncomingEvent[]): void {
  events.forEach((e, index) => {
    const tenant = e.extensions.tenant;
    if (tenant !== undefined && tenant !== p.tenantId) {
      throw new ForbiddenError('auth.wrong_tenant', `event ${index} names tenant ${JSON.stringify(tenant)}, but client ${p.clientName} belongs to ${p.tenantId}`);
    }
    e.tenantId = p.tenantId;
    const domain = domainOfEventType(e.type);
    requireScope(p, `${domain ?? 'admin'}:write`);
  });
}

function parseEvents(ctx: ApiContext, request: FastifyRequest): IncomingEvent[] {
  const defaults = { correlationId: request.correlationId };
  switch (request.ingress?.mode) {
    case 'batch':
      if (Array.isArray(request.body)) request.ingress.events = request.body.length;
      return eventsFromBatch(request.body, defaults, ctx.config.ingress.maxBatch);
    case 'structured':
      return [eventFromStructured(request.body, defaults)];
    default:
      return [eventFromBinary(request.headers, request.body, defaults)];
  }
}

export async function ingestRoutes(app: FastifyInstance, { ctx }: { ctx: ApiContext }): Promise<void> {
  // Only JSON reaches the handler (admit() refused the rest); decoded strictly here so
  // malformed bodies get request.malformed_json. Binary mode allows an empty body (no data).
  app.decorateRequest('ingress', null);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      done(null, decodeJsonBody(body as Buffer, request.ingress?.mode === 'binary'));
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    const mode = request.ingress?.mode ?? 'unknown';
    ctx.metrics.ingressRequests.inc({ mode, status: String(reply.statusCode) });
    if (reply.statusCode >= 400) ctx.metrics.ingressEvents.inc({ outcome: 'rejected' }, Math.max(1, request.ingress?.events ?? 0));
  });

  app.route({
    ...ROUTES.postEvents,
    // validation is the CloudEvents module's job (precise codes, batch indexes)
    validatorCompiler: () => () => true,
    onRequest: async (request) => admit(ctx, request),
    handler: async (request, reply) => {
      const events = parseEvents(ctx, request);
      request.ingress!.events = events.length;
      authorizeEvents(principalOf(request), events);
      const single = request.ingress!.mode !== 'batch';
      const own = events[0]!.correlationId;
      if (single && own && own !== request.correlationId) {
        request.correlationId = own;
        request.log = app.log.child({ correlationId: own });
        reply.header('X-Correlation-Id', own);
      }
      const deprecated = [...new Set(events.map((e) => e.type))].filter((t) => getEventType(t)?.deprecated);
      if (deprecated.length) request.log.warn({ types: deprecated }, 'deprecated event types received');
      const outcomes = await (ctx.ingest ? ctx.ingest(events) : ingest(ctx.pool, events));
      const duplicates = outcomes.filter((o) => o.duplicate).length;
      if (outcomes.length > duplicates) ctx.metrics.ingressEvents.inc({ outcome: 'stored' }, outcomes.length - duplicates);
      if (duplicates) ctx.metrics.ingressEvents.inc({ outcome: 'duplicate' }, duplicates);
      request.log.debug({ mode: request.ingress!.mode, events: outcomes.length, duplicates }, 'events stored');
      const accepted = outcomes.map((o) => ({ id: o.id, source: o.source, status: 'accepted' as const, links: { self: links.event(o.id, o.source) } }));
      reply.code(202);
      return single ? accepted[0]! : { accepted: accepted.length, events: accepted };
    },
  });
}
