/**
 * OpenTelemetry traces of one hub (observability.tracing). Each hub has its own tracer
 * provider, span processor and OTLP/HTTP exporter; nothing is registered with the
 * OpenTelemetry globals, so several hubs in one process (the tests) never share a tracer.
 *
 * The active trace context travels with the work through one AsyncLocalStorage of OpenTelemetry
 * `Context` values (`activeContext`, `withContext`), not through OpenTelemetry's global context
 * manager. The same context carries the hub's telemetry (its tracer and metrics: `withTelemetry`)
 * and the tenant of the work (`withTenant`), which is how connector clients deep inside a step
 * find both without every factory passing them along.
 *
 * Off (the default): no provider, no exporter, no span is recorded and no id is generated; a
 * "span" is the incoming parent context wrapped as a non-recording span, so a traceparent that
 * came in (an HTTP header, an event's extension) is still stored with the events and sent on
 * to partners unchanged.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  createContextKey,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanOptions,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import pkg from '../../package.json' with { type: 'json' };
import type { HubConfig } from './config.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

export { ROOT_CONTEXT, SpanKind, SpanStatusCode };
export type { Context, Span };

export type TracingConfig = HubConfig['observability']['tracing'];

/** The tracer of one hub. */
export interface Tracing {
  /** spans are recorded and exported */
  readonly enabled: boolean;
  /** A span whose parent is the span in `parent` (default: the active context); off: the parent, not recording. */
  startSpan(name: string, options?: SpanOptions, parent?: Context): Span;
  /** Exports the spans ended so far. */
  forceFlush(): Promise<void>;
  /** Exports what is left and stops the exporter. */
  shutdown(): Promise<void>;
}

/** What the hub's components find in the active context. */
export interface HubTelemetry {
  tracing: Tracing;
  metrics?: Metrics | undefined;
}

// ------------------------------------------------------------------ the active context

const storage = new AsyncLocalStorage<Context>();
const TELEMETRY = createContextKey('odoo-logistics-hub telemetry');
const TENANT = createContextKey('odoo-logistics-hub tenant');

/** The context of the work running now (ROOT_CONTEXT outside any). */
export function activeContext(): Context {
  return storage.getStore() ?? ROOT_CONTEXT;
}

/** Runs `fn` with `ctx` as the active context (and everything it starts, timers included). */
export function withContext<T>(ctx: Context, fn: () => T): T {
  return storage.run(ctx, fn);
}

/** `ctx` with the hub's tracer and metrics. */
export function contextWithTelemetry(ctx: Context, t: HubTelemetry): Context {
  return ctx.setValue(TELEMETRY, t);
}

/** Runs `fn` (and what it starts) with the hub's tracer and metrics in the active context. */
export function withTelemetry<T>(t: HubTelemetry, fn: () => T): T {
  return withContext(contextWithTelemetry(activeContext(), t), fn);
}

/** The hub's tracer and metrics, when the work runs inside `withTelemetry`. */
export function currentTelemetry(ctx: Context = activeContext()): HubTelemetry | undefined {
  return ctx.getValue(TELEMETRY) as HubTelemetry | undefined;
}

/** `ctx` with the tenant the work belongs to. */
export function contextWithTenant(ctx: Context, tenantId: string): Context {
  return ctx.setValue(TENANT, tenantId);
}

/** The tenant of the work running now, when a step or an event set it. */
export function currentTenant(ctx: Context = activeContext()): string | undefined {
  return ctx.getValue(TENANT) as string | undefined;
}

// ------------------------------------------------------------------ W3C trace context

const propagator = new W3CTraceContextPropagator();

/** Reads HTTP headers as Node gives them (lower-case names, repeated headers as arrays) or a plain record. */
const headerGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const v = carrier[key] ?? carrier[key.toLowerCase()];
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    return undefined;
  },
};
const recordSetter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

/** The traceparent and tracestate of the span in `ctx`; empty when it holds none. */
export function traceHeaders(ctx: Context = activeContext()): { traceparent?: string; tracestate?: string } {
  const out: Record<string, string> = {};
  propagator.inject(ctx, out, recordSetter);
  return out;
}

/**
 * `base` (default: the active context without its span) with the remote parent named by
 * `traceparent` / `tracestate` in `carrier` (HTTP headers, an event's extensions). An absent
 * or malformed traceparent leaves `base` without a span: the work starts a new trace.
 */
export function extractTraceContext(carrier: Record<string, unknown> | undefined, base: Context = trace.deleteSpan(activeContext())): Context {
  if (!carrier || carrier.traceparent === undefined) return base;
  return propagator.extract(base, carrier, headerGetter);
}

/** Trace ids of a traceparent value, when it is well-formed. */
export function parseTraceparent(value: unknown): { traceId: string; spanId: string; sampled: boolean } | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value.trim());
  if (!m || m[1] === 'ff' || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return undefined;
  return { traceId: m[2]!, spanId: m[3]!, sampled: (parseInt(m[4]!, 16) & 1) === 1 };
}

/**
 * Gives each event without a `traceparent` extension the trace context of `ctx` (default: the
 * active one, e.g. the ingress request's span). An event that carries its own keeps it.
 */
export function stampTraceContext<E extends { extensions: Record<string, string | number | boolean> }>(events: E[], ctx: Context = activeContext()): E[] {
  const h = traceHeaders(ctx);
  if (!h.traceparent) return events;
  for (const e of events) {
    if (e.extensions.traceparent !== undefined) continue;
    e.extensions.traceparent = h.traceparent;
    if (h.tracestate && e.extensions.tracestate === undefined) e.extensions.tracestate = h.tracestate;
  }
  return events;
}

// ------------------------------------------------------------------ spans

/** A HubError-like failure as span status and attributes. */
export function recordFailure(span: Span, err: unknown, errorClass?: string): void {
  if (!span.isRecording()) return;
  const e = err as { code?: unknown; message?: unknown; errorClass?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : err instanceof Error ? err.name : 'error';
  span.setAttribute('error.type', code);
  const cls = errorClass ?? (typeof e?.errorClass === 'string' ? e.errorClass : undefined);
  if (cls) span.setAttribute('hub.error_class', cls);
  if (err instanceof Error) span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: typeof e?.message === 'string' ? e.message.slice(0, 300) : String(err).slice(0, 300) });
}

/**
 * Runs `fn` inside a new span (child of `parent`, default the active context) with the span
 * active; a throw marks the span failed and is rethrown. Without tracing (no hub telemetry and
 * no `tracing` given) `fn` runs in `parent` as is.
 */
export async function inSpan<T>(
  tracing: Tracing | undefined,
  name: string,
  options: SpanOptions,
  parent: Context | undefined,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const t = tracing ?? currentTelemetry(parent)?.tracing ?? disabledTracing;
  const base = parent ?? activeContext();
  const span = t.startSpan(name, options, base);
  try {
    return await withContext(trace.setSpan(base, span), () => fn(span));
  } catch (err) {
    recordFailure(span, err);
    throw err;
  } finally {
    span.end();
  }
}

// ------------------------------------------------------------------ the tracer

/** Tracing off: the parent's context as a non-recording span, nothing exported. */
export const disabledTracing: Tracing = {
  enabled: false,
  startSpan(_name, _options, parent) {
    return trace.wrapSpanContext(trace.getSpanContext(parent ?? activeContext()) ?? INVALID_SPAN_CONTEXT);
  },
  async forceFlush() {},
  async shutdown() {},
};

/** Logs export failures (at most one line a minute) instead of the OpenTelemetry diagnostics. */
class LoggingExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #log: Logger | undefined;
  readonly #endpoint: string;
  #lastWarn = 0;

  constructor(inner: SpanExporter, endpoint: string, log: Logger | undefined) {
    this.#inner = inner;
    this.#endpoint = endpoint;
    this.#log = log;
  }

  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    this.#inner.export(spans, (r) => {
      if (r.code !== ExportResultCode.SUCCESS && Date.now() - this.#lastWarn > 60_000) {
        this.#lastWarn = Date.now();
        this.#log?.warn({ err: r.error, endpoint: this.#endpoint, spans: spans.length }, 'trace export failed; spans are dropped, not retried');
      }
      done(r);
    });
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }
}

export interface TracingOptions {
  log?: Logger;
  /** service.instance.id of the spans */
  instanceId?: string;
  /** replaces the OTLP exporter (tests of the span tree without a collector) */
  exporter?: SpanExporter;
}

/** The hub's tracer: `disabledTracing` unless observability.tracing.enabled. */
export function createTracing(cfg: TracingConfig, o: TracingOptions = {}): Tracing {
  if (!cfg.enabled) return disabledTracing;
  const otlp = o.exporter ?? new OTLPTraceExporter({ url: cfg.endpoint, ...(cfg.headers ? { headers: { ...cfg.headers } } : {}), timeoutMillis: 10_000 });
  const attributes: Attributes = { [ATTR_SERVICE_NAME]: cfg.serviceName, [ATTR_SERVICE_VERSION]: pkg.version };
  if (o.instanceId) attributes['service.instance.id'] = o.instanceId;
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(attributes),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(cfg.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor(new LoggingExporter(otlp, cfg.endpoint, o.log), { scheduledDelayMillis: 2000, maxExportBatchSize: 512, maxQueueSize: 4096 })],
  });
  const tracer = provider.getTracer('odoo-logistics-hub', pkg.version);
  let stopped = false;
  return {
    enabled: true,
    startSpan(name, options, parent) {
      return tracer.startSpan(name, options, parent ?? activeContext());
    },
    forceFlush: () => provider.forceFlush(),
    async shutdown() {
      if (stopped) return;
      stopped = true;
      await provider.shutdown().catch((err: unknown) => o.log?.warn({ err }, 'trace exporter did not shut down cleanly'));
    },
  };
}
