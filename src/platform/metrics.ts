/**
 * Prometheus metrics of one hub process. A registry per hub instance (tests start
 * several hubs in one process), exposed at GET /metrics.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics(opts: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'hub_process_' });
  const m = {
    registry,
    ingressEvents: new Counter({
      name: 'hub_ingress_events_total',
      help: 'Events received over HTTP, by outcome (stored, duplicate, rejected).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    ingressRequests: new Counter({
      name: 'hub_ingress_requests_total',
      help: 'Ingress requests by mode (structured, binary, batch) and HTTP status.',
      labelNames: ['mode', 'status'] as const,
      registers: [registry],
    }),
    backpressureRejections: new Counter({
      name: 'hub_backpressure_rejections_total',
      help: 'Requests answered 429 because the backlog was over its bound.',
      registers: [registry],
    }),
    backlog: new Gauge({
      name: 'hub_backlog',
      help: 'Work waiting, by queue: events (stored, not yet handled), outbox (not yet published), timers (due, not fired), replays (dead letters being replayed).',
      labelNames: ['queue'] as const,
      registers: [registry],
    }),
    backlogLimit: new Gauge({
      name: 'hub_backlog_limit',
      help: 'Backlog of unhandled events past which ingress answers 429.',
      registers: [registry],
    }),
    handlerDuration: new Histogram({
      name: 'hub_handler_duration_seconds',
      help: 'Time to handle one event (all its handlers and the commit), by event type and outcome.',
      labelNames: ['type', 'outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    handled: new Counter({
      name: 'hub_events_handled_total',
      help: 'Events handled, by outcome (done, retry, dead, exception, replayed, replay_failed).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'hub_retries_total',
      help: 'Transient failures scheduled for another attempt, by error code.',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'hub_dead_letters_total',
      help: 'Events moved to the dead letters, by error class.',
      labelNames: ['error_class'] as const,
      registers: [registry],
    }),
    deadLettersOpen: new Gauge({
      name: 'hub_dead_letters_open',
      help: 'Dead letters waiting for a replay or a decision.',
      registers: [registry],
    }),
    outboxPublished: new Counter({
      name: 'hub_outbox_published_total',
      help: 'Outbox messages published, by topic.',
      labelNames: ['topic'] as const,
      registers: [registry],
    }),
    timersFired: new Counter({
      name: 'hub_timers_fired_total',
      help: 'Durable timers fired.',
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'hub_http_request_duration_seconds',
      help: 'HTTP request latency by route and status.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    connectorBreakerOpen: new Gauge({
      name: 'hub_connector_breaker_open',
      help: "1 while a connector's circuit breaker holds its calls back (the partner is down), else 0; by connector and tenant.",
      labelNames: ['connector', 'tenant'] as const,
      registers: [registry],
    }),
    captureLastPoll: new Gauge({
      name: 'hub_odoo_capture_last_poll_timestamp_seconds',
      help: 'When change capture last completed a poll of an Odoo model (Unix seconds), by tenant and model; time() minus it is the capture lag.',
      labelNames: ['tenant', 'model'] as const,
      registers: [registry],
    }),
    workflowSteps: new Counter({
      name: 'hub_workflow_steps_total',
      help: 'Workflow steps run (each a call to a partner: WMS, carrier, Odoo), by workflow, step and outcome (done, retry, failed).',
      labelNames: ['workflow', 'step', 'outcome'] as const,
      registers: [registry],
    }),
    workflowStepDuration: new Histogram({
      name: 'hub_workflow_step_duration_seconds',
      help: 'Time one workflow step took (the partner calls it made), by workflow, step and outcome.',
      labelNames: ['workflow', 'step', 'outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
