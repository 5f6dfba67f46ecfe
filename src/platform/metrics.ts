/**
 * Prometheus metrics of one hub process. A registry per hub instance (tests start
 * several hubs in one process), exposed at GET /metrics.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Buckets of the business KPIs (seconds): 1 min to 14 days. */
const KPI_BUCKETS = [60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 12 * 3600, 86_400, 2 * 86_400, 3 * 86_400, 5 * 86_400, 7 * 86_400, 14 * 86_400];

export function createMetrics(opts: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'hub_process_' });
  // ---- connector calls: what samples the rate limiters when the gauge is scraped (hub.ts adds them)
  const rateLimitSamplers = new Set<(set: (labels: { connector: string; tenant: string }, tokens: number) => void) => void>();
  const m = {
    registry,
    rateLimitSamplers,
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
    // ---- connector calls (src/connectors/http.ts partnerFetch; read by src/platform/connector-health.ts)
    connectorCalls: new Counter({
      name: 'hub_connector_calls_total',
      help: "HTTP exchanges of every connector with its partner, by connector, operation and outcome (ok, or the error class the connector's error table gave: transient, permanent, business).",
      labelNames: ['connector', 'operation', 'outcome'] as const,
      registers: [registry],
    }),
    connectorCallDuration: new Histogram({
      name: 'hub_connector_call_duration_seconds',
      help: 'Time of one HTTP exchange of a connector (request to the answer read), by connector and operation.',
      labelNames: ['connector', 'operation'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    connectorErrors: new Counter({
      name: 'hub_connector_errors_total',
      help: "Failed HTTP exchanges of a connector, by connector and error class (transient, permanent, business) as the connector's error table classified them.",
      labelNames: ['connector', 'class'] as const,
      registers: [registry],
    }),
    connectorRateLimitTokens: new Gauge({
      name: 'hub_connector_rate_limit_tokens',
      help: "Tokens left in a connector's rate limiter (0: calls wait for the next token), by connector and tenant; sampled when scraped.",
      labelNames: ['connector', 'tenant'] as const,
      registers: [registry],
      collect() {
        for (const sample of rateLimitSamplers) sample((labels, tokens) => this.set(labels, tokens));
      },
    }),
    // ---- end of connector calls
    // ---- business KPIs and partner SLAs (src/workflows/order-to-delivery/kpis.ts defines each; observed once per milestone, after commit)
    kpiOrderToDispatch: new Histogram({
      name: 'hub_kpi_order_to_dispatch_seconds',
      help: "From the order's release by Odoo to the warehouse's ship confirmation, per shipment; by tenant and warehouse.",
      labelNames: ['tenant', 'warehouse'] as const,
      buckets: KPI_BUCKETS,
      registers: [registry],
    }),
    kpiDispatchToDelivery: new Histogram({
      name: 'hub_kpi_dispatch_to_delivery_seconds',
      help: "From the ship confirmation to the carrier's proof-of-delivery scan; by tenant and carrier.",
      labelNames: ['tenant', 'carrier'] as const,
      buckets: KPI_BUCKETS,
      registers: [registry],
    }),
    kpiDeliveryConfirmationLag: new Histogram({
      name: 'hub_kpi_delivery_confirmation_lag_seconds',
      help: "From the ship confirmation (or the delivery, when the carrier was first) to the Odoo delivery's validation; by tenant.",
      labelNames: ['tenant'] as const,
      buckets: KPI_BUCKETS,
      registers: [registry],
    }),
    kpiPodToInvoice: new Histogram({
      name: 'hub_kpi_pod_to_invoice_seconds',
      help: 'From the proof of delivery to the posted Odoo invoice; by tenant.',
      labelNames: ['tenant'] as const,
      buckets: KPI_BUCKETS,
      registers: [registry],
    }),
    kpiDeliveries: new Counter({
      name: 'hub_kpi_deliveries_total',
      help: 'Shipments delivered, by tenant, carrier and on_time (true, false, unknown: no promised date).',
      labelNames: ['tenant', 'carrier', 'on_time'] as const,
      registers: [registry],
    }),
    slaBreaches: new Counter({
      name: 'hub_sla_breaches_total',
      help: 'Partner service-level breaches, counted when the late milestone arrives; by tenant, partner (warehouse id, carrier code, odoo) and kind (wms_ack, ship_confirmation, on_time, delivery_confirmation, invoice).',
      labelNames: ['tenant', 'partner', 'kind'] as const,
      registers: [registry],
    }),
    // ---- end of business KPIs
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
