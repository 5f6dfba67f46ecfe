/**
 * Ingress tracing: a server span per HTTP request whose parent is the caller's `traceparent`
 * header, active (platform/tracing.ts `withContext`) from validation through the handler, so
 * what the request stores or calls continues the trace:
 *
 * - events stored through `ApiContext.ingest` (POST /v1/events, partner webhooks mapped in the
 *   request) get the request's trace context as their `traceparent` extension, unless they carry
 *   one of their own;
 * - the response has no trace header (W3C Trace Context Level 2 `traceresponse` is a draft).
 *
 * Tracing off: no span; a caller's traceparent is still made the active context, so the events
 * keep it.
 */
import type { FastifyInstance } from 'fastify';
import { trace } from '@opentelemetry/api';
import { ingest as ingestInbox } from '../pipeline/inbox.ts';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, contextWithTelemetry, extractTraceContext, stampTraceContext, withContext, type Context, type HubTelemetry, type Span } from '../platform/tracing.ts';
import type { ApiContext } from './context.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** the request's trace context: its server span, or the caller's traceparent (null: none) */
    traceContext: Context | null;
    traceSpan: Span | null;
  }
}

/**
 * The request hooks of ingress tracing (register before the routes). Every request's handler
 * runs in a context holding the hub's telemetry, so partner calls a request makes (an Odoo
 * hint) are counted like any other.
 */
export function installTracing(app: FastifyInstance, telemetry: HubTelemetry): void {
  const { tracing } = telemetry;
  const base = contextWithTelemetry(ROOT_CONTEXT, telemetry);
  app.decorateRequest('traceContext', null);
  app.decorateRequest('traceSpan', null);

  app.addHook('onRequest', async (request) => {
    const hasParent = request.headers.traceparent !== undefined;
    if (!tracing.enabled && !hasParent) return;
    const parent = extractTraceContext(request.headers as Record<string, unknown>, base);
    const route = request.routeOptions.url;
    const span = tracing.startSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'url.path': request.url.split('?')[0]!,
          ...(route ? { 'http.route': route } : {}),
          'hub.correlation_id': request.correlationId,
        },
      },
      parent,
    );
    request.traceSpan = span;
    request.traceContext = trace.setSpan(parent, span);
  });

  // after the body is parsed, the rest of the request (hooks, handler) runs in its trace context
  app.addHook('preValidation', (request, _reply, done) => {
    withContext(request.traceContext ?? base, done);
  });

  app.addHook('onResponse', async (request, reply) => {
    const span = request.traceSpan;
    if (!span) return;
    if (span.isRecording()) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  });
}

/** `ctx` whose ingest stamps the active trace context on events without a traceparent of their own. */
export function withTracedIngest(ctx: ApiContext): ApiContext {
  const store = ctx.ingest ?? ((events) => ingestInbox(ctx.pool, events));
  return { ...ctx, ingest: (events) => store(stampTraceContext(events)) };
}
