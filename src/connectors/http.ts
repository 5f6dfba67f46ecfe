/**
 * One HTTP exchange of a connector with its partner, the same way for every connector:
 *
 * - a client span (`<connector> <operation>`) whose parent is the active context (the workflow
 *   step, the pipeline event, the poll that caused the call);
 * - W3C `traceparent` / `tracestate` request headers of that span (with tracing off: of the
 *   trace the work came with, if any), so the partner can join the trace;
 * - hub_connector_calls_total{connector,operation,outcome}, hub_connector_call_duration_seconds
 *   and hub_connector_errors_total{connector,class};
 * - the outcome is the class of the HubError the connector's error table made of the answer
 *   (`read` throws it) or of the transport failure (`transportError` makes it): ok, transient,
 *   permanent or business. Anything else that escapes counts as transient, as in the pipeline.
 *
 * The telemetry (tracer, metrics) comes from the client's options or, when the client was built
 * without, from the hub's context the work runs in (platform/tracing.ts `withTelemetry`).
 */
import { SpanKind, trace } from '@opentelemetry/api';
import { HubError, type ErrorClass } from '../domain/errors.ts';
import { activeContext, currentTelemetry, currentTenant, disabledTracing, recordFailure, traceHeaders, withContext, type HubTelemetry } from '../platform/tracing.ts';

export interface PartnerOperation {
  /** the connector's name (metric label): easypost, ups, fedex, dhl, wms, odoo */
  connector: string;
  /** a bounded name of what is asked (metric label): `track`, `POST /v2/shipments/:id/buy`, `sale.order.write` */
  operation: string;
  /** the connector's HubError for a failure before an answer was read (socket, timeout, body cut off) */
  transportError(err: unknown): unknown;
  /** replaces the global fetch (tests, clients configured with their own) */
  fetch?: typeof fetch | undefined;
}

export type CallOutcome = 'ok' | ErrorClass;

/** The outcome label of a failure: its HubError class; anything else is transient. */
export function outcomeOf(err: unknown): ErrorClass {
  return err instanceof HubError ? err.errorClass : 'transient';
}

/** The URL without its query and credentials, for the span (queries may hold tracking numbers or keys). */
function safeUrl(url: string): { full: string; host?: string; port?: number } {
  try {
    const u = new URL(url);
    const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    return { full: `${u.protocol}//${u.host}${u.pathname}`, host: u.hostname, port };
  } catch {
    return { full: url.split('?')[0]! };
  }
}

function withTraceHeaders(init: RequestInit, ctx: ReturnType<typeof activeContext>): RequestInit {
  const h = traceHeaders(ctx);
  if (!h.traceparent) return init;
  const headers = new Headers(init.headers);
  headers.set('traceparent', h.traceparent);
  if (h.tracestate) headers.set('tracestate', h.tracestate);
  else headers.delete('tracestate');
  return { ...init, headers };
}

/** One exchange in the connector metrics: the call by outcome, its duration, an error by class. */
function countCall(metrics: HubTelemetry['metrics'], op: { connector: string; operation: string }, outcome: CallOutcome, started: number): void {
  if (!metrics) return;
  metrics.connectorCalls.inc({ connector: op.connector, operation: op.operation, outcome });
  metrics.connectorCallDuration.observe({ connector: op.connector, operation: op.operation }, (performance.now() - started) / 1000);
  if (outcome !== 'ok') metrics.connectorErrors.inc({ connector: op.connector, class: outcome });
}

/**
 * One exchange of a connector with its partner, whatever the protocol: a client span around
 * `run` (active while it runs, so `traceHeaders()` inside it names the span), counted in the
 * connector metrics by the class of what it throws. A failure that is not a HubError is
 * transient, as in the pipeline. The SFTP warehouse calls it directly; HTTP goes through
 * `partnerFetch`.
 */
export async function partnerCall<T>(ctx: HubTelemetry | undefined, op: { connector: string; operation: string; attributes?: Record<string, string | number> }, run: () => Promise<T>): Promise<T> {
  const parent = activeContext();
  const telemetry = ctx ?? currentTelemetry(parent);
  const tracing = telemetry?.tracing ?? disabledTracing;
  const tenant = currentTenant(parent);
  const span = tracing.startSpan(
    `${op.connector} ${op.operation}`,
    { kind: SpanKind.CLIENT, attributes: { 'hub.connector': op.connector, 'hub.operation': op.operation, ...(op.attributes ?? {}), ...(tenant ? { 'hub.tenant': tenant } : {}) } },
    parent,
  );
  const started = performance.now();
  let outcome: CallOutcome = 'ok';
  try {
    return await withContext(trace.setSpan(parent, span), run);
  } catch (err) {
    outcome = outcomeOf(err);
    recordFailure(span, err, outcome);
    throw err;
  } finally {
    span.end();
    countCall(telemetry?.metrics, op, outcome, started);
  }
}

/**
 * Sends `init` to `url` and lets `read` interpret the answer (read the body, check the status,
 * throw the connector's HubError for a refusal). Resolves with what `read` returns.
 */
export function partnerFetch<T>(
  ctx: HubTelemetry | undefined,
  op: PartnerOperation,
  url: string,
  init: RequestInit,
  read: (res: Response) => Promise<T>,
): Promise<T> {
  const target = safeUrl(url);
  const attributes: Record<string, string | number> = {
    'http.request.method': (init.method ?? 'GET').toUpperCase(),
    'url.full': target.full,
    ...(target.host ? { 'server.address': target.host } : {}),
    ...(target.port ? { 'server.port': target.port } : {}),
  };
  return partnerCall(ctx, { connector: op.connector, operation: op.operation, attributes }, async () => {
    const ctxNow = activeContext();
    let res: Response;
    try {
      res = await (op.fetch ?? fetch)(url, withTraceHeaders(init, ctxNow));
    } catch (err) {
      throw op.transportError(err);
    }
    const span = trace.getSpan(ctxNow);
    if (span?.isRecording()) span.setAttribute('http.response.status_code', res.status);
    try {
      return await read(res);
    } catch (err) {
      throw err instanceof HubError ? err : op.transportError(err);
    }
  });
}
