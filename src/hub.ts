/**
 * Composition root: configuration -> database (embedded or external) -> migrations ->
 * workers, outbox relay, backlog monitor -> HTTP server. `startHub` is what
 * `logistics-hub start` runs; tests start hubs the same way.
 */
import type pg from 'pg';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { HubConfig } from './platform/config.ts';
import { openDatabase, redactUrl, type Database } from './platform/db.ts';
import { loadMigrations, migrate, migrationStatus } from './platform/migrate.ts';
import { createLogger, type Logger } from './platform/logger.ts';
import { createMetrics, type Metrics } from './platform/metrics.ts';
import { createTracing, withTelemetry, type Tracing } from './platform/tracing.ts';
import { systemClock, type Clock } from './platform/clock.ts';
import { Worker } from './pipeline/worker.ts';
import { OutboxRelay } from './pipeline/outbox.ts';
import { BacklogMonitor } from './pipeline/backlog.ts';
import { GroupCommitter } from './pipeline/group-commit.ts';
import { JetStreamPublisher } from './pipeline/publishers/jetstream.ts';
import { builtinHandlers } from './pipeline/handlers/index.ts';
import type { Handler } from './pipeline/types.ts';
import { buildServer } from './api/server.ts';
import type { ReadinessCheck } from './api/context.ts';
import { loadKeyring, type Keyring } from './security/keyring.ts';
import { ensureBootstrapClient, ensureBootstrapUser, recordConfiguration } from './security/bootstrap.ts';
import { StoredReceiptSweeper } from './pipeline/webhook-receipts.ts';
import { RetentionJob } from './security/retention.ts';
import { Deliverer } from './pipeline/subscriptions/deliverer.ts';
import { OdooRuntime } from './connectors/odoo/runtime.ts';
import { OrderToDeliveryRuntime } from './workflows/order-to-delivery/runtime.ts';
import { easyPostWebhookMapper } from './connectors/easypost/webhook.ts';
import { registerWebhookMapper } from './pipeline/webhook-mappers.ts';

export interface Hub {
  config: HubConfig;
  log: Logger;
  metrics: Metrics;
  /** OpenTelemetry traces (observability.tracing; a no-op tracer when off) */
  tracing: Tracing;
  db: Database;
  clock: Clock;
  instanceId: string;
  keyring: Keyring;
  /** the Odoo connector of each configured tenant */
  odoo: OdooRuntime;
  /** the order-to-delivery flow of each configured tenant */
  flows: OrderToDeliveryRuntime;
  worker: Worker | undefined;
  relay: OutboxRelay | undefined;
  backlog: BacklogMonitor;
  server: FastifyInstance;
  /** base URL the HTTP server listens on */
  url: string;
  readiness(): Promise<{ ready: boolean; checks: Record<string, ReadinessCheck> }>;
  stop(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  clock?: Clock;
  /** handlers in addition to the built-in ones (tests, embedding applications) */
  handlers?: Handler[];
  /** replace the built-in handlers entirely */
  replaceHandlers?: boolean;
  /** runs after the migrations, before workers and connectors start (the demo stores its tenant and secrets here) */
  prepare?: (db: { pool: pg.Pool; keyring: Keyring }) => Promise<void>;
}

export async function startHub(config: HubConfig, opts: StartOptions = {}): Promise<Hub> {
  const log = opts.log ?? createLogger(config.logLevel);
  const instanceId = config.instanceId ?? `${hostname()}-${process.pid}`;
  const metrics = createMetrics();
  const tracing = createTracing(config.observability.tracing, { log: log.child({ component: 'tracing' }), instanceId });
  const telemetry = { tracing, metrics };
  const clock = opts.clock ?? systemClock;
  const keyring = loadKeyring(config);
  const db = await openDatabase(config, log);
  log.info({ database: redactUrl(db.url), embedded: db.embedded }, 'database ready');
  try {
    const applied = await migrate(db.pool);
    if (applied.length) log.info({ applied }, 'migrations applied');
  } catch (e) {
    await db.close();
    throw e;
  }

  try {
    if (await recordConfiguration(db.pool, config, instanceId)) log.info('configuration change recorded in the audit trail');
    const tokenFile = await ensureBootstrapClient(db.pool, config.dataDir);
    if (tokenFile) log.warn({ tokenFile }, 'no API client existed: created bootstrap-admin with every scope; its token is in this file (create your own clients, then revoke it)');
    if (config.console.enabled) {
      const passwordFile = await ensureBootstrapUser(db.pool, config.dataDir);
      if (passwordFile) log.warn({ passwordFile }, 'no console user existed: created admin with every scope; its password is in this file (add your own users, then disable it)');
    }
    await opts.prepare?.({ pool: db.pool, keyring });
  } catch (e) {
    await db.close();
    throw e;
  }

  // carrier webhooks partners may name as their mapper
  registerWebhookMapper(easyPostWebhookMapper(clock));
  let odoo: OdooRuntime | undefined;
  const flows = new OrderToDeliveryRuntime({ pool: db.pool, keyring, config, clock, log: log.child({ component: 'flows' }), metrics, odoo: (t) => odoo?.gateway(t) });
  const handlers = [
    ...(opts.replaceHandlers ? [] : builtinHandlers({ stream: !!config.nats.url })),
    ...(flows.configured ? flows.handlers() : []),
    ...(opts.handlers ?? []),
  ];
  const worker = config.pipeline.enabled
    ? new Worker({
        pool: db.pool,
        listenUrl: db.url,
        handlers,
        log: log.child({ component: 'worker' }),
        metrics,
        clock,
        instanceId,
        concurrency: config.pipeline.concurrency,
        keysPerClaim: config.pipeline.keysPerClaim,
        batchSize: config.pipeline.batchSize,
        leaseMs: config.pipeline.leaseMs,
        pollMs: config.pipeline.pollMs,
        retry: config.pipeline.retry,
        tracing,
      })
    : undefined;

  let relay: OutboxRelay | undefined;
  if (config.nats.url) {
    try {
      const publisher = await JetStreamPublisher.connect(config.nats.url, config.nats.stream, config.nats.subjectPrefix);
      relay = new OutboxRelay({ pool: db.pool, publisher, log: log.child({ component: 'outbox' }), metrics });
    } catch (e) {
      log.warn({ err: e, nats: config.nats.url }, 'NATS is not reachable; outbox messages wait in the database until it is');
    }
  }

  const backlog = new BacklogMonitor(db.pool, config.ingress.backlogLimit, 250, metrics);
  await backlog.sample();
  backlog.start();

  const migrationFiles = loadMigrations(); // read once: readiness probes come every few seconds
  const readiness = async () => {
    const checks: Record<string, ReadinessCheck> = {};
    try {
      const st = await migrationStatus(db.pool, undefined, migrationFiles);
      checks.database = { ok: true };
      checks.migrations = st.pending.length ? { ok: false, detail: `${st.pending.length} pending` } : { ok: true };
    } catch (e) {
      checks.database = { ok: false, detail: (e as Error).message };
    }
    if (worker) checks.workers = worker.lastError ? { ok: false, detail: worker.lastError.message } : { ok: true };
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  };

  const committer = new GroupCommitter(db.pool);
  odoo = new OdooRuntime({ pool: db.pool, keyring, config, log: log.child({ component: 'odoo' }), metrics });
  const odooRuntime = odoo;
  const server = await buildServer({
    pool: db.pool, config, log, metrics, tracing, backlog, instanceId, keyring, clock, readiness,
    ingest: (events) => committer.submit(events),
    odooHint: (tenantId, payload) => odooRuntime.hint(tenantId, payload),
  });
  let url: string;
  try {
    url = await server.listen({ port: config.port, host: config.host });
  } catch (e) {
    backlog.stop();
    await db.close();
    throw e;
  }
  // the hub's tracer and metrics travel with what each component starts (connector calls find them there)
  withTelemetry(telemetry, () => worker?.start());
  relay?.start();
  // webhooks stored but not mapped (a crash between the 2xx and the mapping) are mapped here
  const receipts = new StoredReceiptSweeper({ pool: db.pool, log: log.child({ component: 'webhooks' }), config, ingest: (e) => committer.submit(e) }, { intervalMs: 60_000, graceSeconds: 60 });
  receipts.start();
  const retention = config.retention.enabled ? new RetentionJob({ pool: db.pool, config: config.retention, clock, log: log.child({ component: 'retention' }) }) : undefined;
  retention?.start();
  const deliverer = config.subscriptions.enabled ? new Deliverer({ pool: db.pool, keyring, log: log.child({ component: 'deliverer' }), clock, config: config.subscriptions, tracing }) : undefined;
  deliverer?.start();
  withTelemetry(telemetry, () => odooRuntime.start());
  if (config.pipeline.enabled) withTelemetry(telemetry, () => flows.start());
  metrics.rateLimitSamplers.add((set) => {
    for (const tenant of odooRuntime.tenants) {
      const tokens = odooRuntime.gateway(tenant)?.rateLimitTokens;
      if (tokens !== undefined) set({ connector: 'odoo', tenant }, tokens);
    }
  });
  log.info({ url, instanceId, workers: !!worker }, 'hub started');

  let stopped = false;
  return {
    config, log, metrics, tracing, db, clock, instanceId, keyring, odoo: odooRuntime, flows, worker, relay, backlog, server, url, readiness,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await receipts.stop();
      await flows.stop();
      await odooRuntime.stop();
      await retention?.stop();
      await worker?.stop();
      await deliverer?.stop();
      await relay?.stop();
      await relay?.publisher.close?.();
      backlog.stop();
      await tracing.shutdown();
      await db.close();
      log.info('hub stopped');
    },
  };
}
