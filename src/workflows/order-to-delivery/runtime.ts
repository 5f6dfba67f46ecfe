/**
 * The order-to-delivery flow inside a hub: for every tenant with `flows.orderToDelivery.<tenant>`,
 * its warehouses (a WMS connector each, API key from the secrets store), its carriers (adapters
 * built from their configuration and secrets), the step runner that makes the workflow's calls,
 * and a tracking poller per tenant. The pipeline handlers (the workflow's decisions and the
 * tracking fold) are created before the workers start; the bindings that need secrets are
 * built when the runtime starts, and a tenant whose secrets are not usable yet is retried
 * (its steps wait, they do not fail).
 *
 * Each warehouse's WMS webhooks are mapped by the mapper `wms:<warehouse id>`: name it in the
 * partner's configuration (webhooks.partners.<name>.mapper).
 */
import type pg from 'pg';
import { TransientError, PermanentError } from '../../domain/errors.ts';
import type { CarrierPort } from '../../connectors/carrier-port.ts';
import { createEasyPostCarrier } from '../../connectors/easypost/index.ts';
import { createUpsCarrier } from '../../connectors/ups/index.ts';
import { createFedexCarrier } from '../../connectors/fedex/index.ts';
import { createDhlCarrier } from '../../connectors/dhl/index.ts';
import { WmsConnector, builtinProfilePath, loadProfile, wmsWebhookMapper } from '../../connectors/wms/index.ts';
import { wmsPort } from '../../connectors/wms/port.ts';
import { createSftpWms, type SftpWms } from '../../connectors/wms-sftp/index.ts';
import { ConfigError } from '../../domain/errors.ts';
import type { OdooGateway } from '../../connectors/odoo/gateway.ts';
import type { Clock } from '../../platform/clock.ts';
import type { HubConfig } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { Keyring } from '../../security/keyring.ts';
import { activeSecretValues } from '../../security/secrets.ts';
import { registerWebhookMapper } from '../../pipeline/webhook-mappers.ts';
import type { Handler } from '../../pipeline/types.ts';
import { StepRunner, workflowHandler, type WorkflowDefinition } from '../engine.ts';
import { trackingHandler } from '../tracking/handler.ts';
import { TrackingPoller } from '../tracking/poller.ts';
import type { OrderToDeliveryConfig } from './config.ts';
import { KpiObserver } from './kpis.ts';
import { CarrierCircuits, orderToDelivery, type O2DConfig, type TenantBindings, type WarehouseBinding } from './index.ts';

export interface FlowRuntimeDeps {
  pool: pg.Pool;
  keyring: Keyring;
  config: HubConfig;
  clock: Clock;
  log: Logger;
  metrics?: Metrics;
  odoo(tenantId: string): OdooGateway | undefined;
}

const TRACKERS = ['ups', 'fedex', 'dhl', 'easypost'] as const;

/** A warehouse's profile constants: its location id, and its own id system (`wms:<warehouse>`) so two WMSs' ids never meet. */
function wmsConstants(w: OrderToDeliveryConfig['warehouses'][number]): Record<string, string | number | boolean> {
  return { system: `wms:${w.id.toLowerCase().replace(/[^a-z0-9_-]+/g, '-')}`, ...w.wms?.constants, warehouseId: w.id };
}

export class OrderToDeliveryRuntime {
  readonly #d: FlowRuntimeDeps;
  readonly #bindings = new Map<string, TenantBindings>();
  readonly #pollers = new Map<string, TrackingPoller>();
  readonly #sftp: SftpWms[] = [];
  readonly #retry = new Map<string, NodeJS.Timeout>();
  readonly definition: WorkflowDefinition<unknown>;
  readonly runner: StepRunner;
  /** the KPI histograms and SLA breaches, observed once per milestone after its commit (when metrics are kept) */
  readonly kpis: KpiObserver | undefined;
  #stopped = false;

  constructor(d: FlowRuntimeDeps) {
    this.#d = d;
    const flows = d.config.flows.orderToDelivery;
    const policies = (tenantId: string): O2DConfig => {
      const c = flows[tenantId];
      return {
        ackTimeoutMinutes: c?.ackTimeoutMinutes ?? 15, firstScanHours: c?.firstScanHours ?? 24, noteWindowSeconds: c?.noteWindowSeconds ?? 300,
        invoicePolicy: c?.invoicePolicy ?? 'on_delivery', shortPickPolicy: c?.shortPickPolicy ?? 'backorder',
      };
    };
    this.definition = orderToDelivery(policies, {
      pool: d.pool,
      clock: d.clock,
      odoo: d.odoo,
      tenant: (tenantId) => {
        const b = this.#bindings.get(tenantId);
        if (b) return b;
        if (flows[tenantId]) throw new TransientError({ code: 'workflow.starting', message: `the order flow of tenant ${tenantId} is starting (its connectors are not ready yet)`, retryAfterMs: 10_000 });
        return undefined;
      },
    }) as WorkflowDefinition<unknown>;
    if (d.metrics) {
      this.kpis = new KpiObserver({ pool: d.pool, metrics: d.metrics, sla: d.config.kpis.sla, log: d.log.child({ component: 'kpis' }), invoiceOnDelivery: (t) => (flows[t]?.invoicePolicy ?? 'on_delivery') === 'on_delivery' });
      this.definition = this.kpis.wrap(this.definition);
    }
    for (const [tenantId, c] of Object.entries(flows)) {
      for (const [i, w] of c.warehouses.entries()) {
        if (!w.wms === !w.sftp) throw new ConfigError(`flows.orderToDelivery.${tenantId}.warehouses.${i}`, `warehouse ${w.id}: give its WMS API (wms) or its SFTP exchange (sftp), one of them`);
        // the WMS webhook mappers exist before the HTTP server checks the partners that name them
        if (w.wms) this.#registerWmsMapper(w.id, w.wms.profile, wmsConstants(w));
      }
    }
    this.runner = new StepRunner({ pool: d.pool, workflows: [this.definition], clock: d.clock, log: d.log.child({ component: 'steps' }), concurrency: d.config.flows.stepConcurrency, ...(d.metrics ? { metrics: d.metrics } : {}) });
  }

  get configured(): boolean {
    return Object.keys(this.#d.config.flows.orderToDelivery).length > 0;
  }

  /** The pipeline handlers of the flow: the workflow's decisions and the tracking fold. */
  handlers(): Handler[] {
    const flows = this.#d.config.flows.orderToDelivery;
    const decisions = workflowHandler([this.definition]);
    return [
      this.kpis ? this.kpis.handler(decisions) : decisions,
      trackingHandler({
        adapters: (t) => {
          const c = flows[t]?.carriers ?? {};
          return TRACKERS.filter((a) => c[a] !== undefined);
        },
        carrierAdapters: (t) => flows[t]?.carrierAdapters,
      }),
    ];
  }

  /** Builds every configured tenant's bindings (retried while secrets are missing), then runs steps and polling. */
  start(): void {
    if (!this.configured) return;
    for (const tenantId of Object.keys(this.#d.config.flows.orderToDelivery)) void this.#startTenant(tenantId);
    this.runner.start();
  }

  async #secret(tenantId: string, name: string, what: string): Promise<string> {
    const [v] = await activeSecretValues(this.#d.pool, this.#d.keyring, tenantId, name);
    if (!v) throw new PermanentError({ code: 'secret.missing', message: `the secret ${tenantId}/${name} (${what}) is not stored: \`logistics-hub secrets set ${name} --tenant ${tenantId}\`` });
    return v;
  }

  async #startTenant(tenantId: string): Promise<void> {
    if (this.#stopped) return;
    const c = this.#d.config.flows.orderToDelivery[tenantId]!;
    const log = this.#d.log.child({ tenant: tenantId, flow: 'order-to-delivery' });
    try {
      const warehouses: WarehouseBinding[] = [];
      const started: SftpWms[] = [];
      for (const w of c.warehouses) {
        const base = { id: w.id, priority: w.priority, countries: w.countries, address: w.address as WarehouseBinding['address'] };
        if (w.wms) {
          const apiKey = await this.#secret(tenantId, w.wms.secretName, `the API key of the WMS of ${w.id}`);
          const connector = WmsConnector.fromConfig({ baseUrl: w.wms.baseUrl, profile: w.wms.profile, apiKey, timeoutMs: w.wms.timeoutMs, constants: wmsConstants(w) });
          warehouses.push({ ...base, wms: wmsPort(w.id, connector, this.#d.clock) });
        } else if (w.sftp) {
          const secret = await this.#secret(tenantId, w.sftp.secretName, `the SFTP password or key of the 3PL of ${w.id}`);
          const sftp = createSftpWms({ ...w.sftp, warehouseId: w.id, tenantId }, secret, { pool: this.#d.pool, clock: this.#d.clock, log: log.child({ warehouse: w.id }) });
          started.push(sftp);
          warehouses.push({ ...base, wms: sftp.port });
        }
      }
      const carriers = await this.#carriers(tenantId, c);
      const bindings: TenantBindings = {
        warehouses,
        carriers,
        labelFormat: c.labelFormat,
        circuits: new CarrierCircuits(this.#d.clock),
        shoppingRules: (order) => ({
          maxParcelKg: c.maxParcelKg,
          ...(order.customerId && c.customers[order.customerId]?.allow ? { allow: c.customers[order.customerId]!.allow! } : {}),
          ...(order.customerId && c.customers[order.customerId]?.deny ? { deny: c.customers[order.customerId]!.deny! } : {}),
        }),
      };
      if (this.#stopped) return;
      this.#bindings.set(tenantId, bindings);
      for (const x of started) {
        x.start();
        this.#sftp.push(x);
      }
      const trackers = carriers.filter((p) => p.track);
      if (trackers.length) {
        const poller = new TrackingPoller({ pool: this.#d.pool, tenantId, carriers: trackers, clock: this.#d.clock, log, intervalMs: c.trackingPollMinutes * 60_000 });
        poller.start();
        this.#pollers.set(tenantId, poller);
      }
      log.info({ warehouses: warehouses.map((w) => w.id), carriers: carriers.map((p) => p.id) }, 'order flow started');
    } catch (err) {
      log.warn({ err }, 'the order flow of this tenant cannot start; retrying in 60 s');
      this.#retry.set(tenantId, setTimeout(() => void this.#startTenant(tenantId), 60_000).unref());
    }
  }

  #registerWmsMapper(warehouseId: string, profileRef: string, constants: Record<string, string | number | boolean>): void {
    const profile = loadProfile(/^[a-z][a-z0-9_-]*$/.test(profileRef) ? builtinProfilePath(profileRef) : profileRef);
    const base = wmsWebhookMapper(profile, constants);
    // one warehouse's WMS event ids are not another's: the events carry the warehouse in id and source
    registerWebhookMapper({
      name: `wms:${warehouseId}`,
      mediaTypes: base.mediaTypes,
      async map(d, limits) {
        const events = await base.map(d, limits);
        for (const e of events) {
          e.id = `${warehouseId}:${e.id}`;
          e.source = `${e.source}/${warehouseId}`;
        }
        return events;
      },
    });
  }

  async #carriers(tenantId: string, c: OrderToDeliveryConfig): Promise<CarrierPort[]> {
    const out: CarrierPort[] = [];
    const k = c.carriers;
    if (k.easypost) {
      const { secretName: _s, webhookSecretName: _w, ...rest } = k.easypost;
      out.push(createEasyPostCarrier({ ...rest, apiKey: await this.#secret(tenantId, k.easypost.secretName, 'the EasyPost API key') }));
    }
    if (k.ups) {
      const name = k.ups.secretName;
      out.push(createUpsCarrier({ ...k.ups, clientSecret: () => this.#secret(tenantId, name, 'the UPS client secret'), clock: this.#d.clock } as never));
    }
    if (k.fedex) out.push(createFedexCarrier({ ...k.fedex, clientSecret: await this.#secret(tenantId, k.fedex.secretName, 'the FedEx secret key'), clock: this.#d.clock } as never));
    if (k.dhl) {
      const name = k.dhl.secretName;
      out.push(createDhlCarrier({ ...k.dhl, apiKey: () => this.#secret(tenantId, name, 'the DHL API key'), clock: this.#d.clock }));
    }
    return out;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#retry.values()) clearTimeout(t);
    await this.runner.stop();
    await this.kpis?.stop();
    await Promise.all([...this.#pollers.values()].map((p) => p.stop()));
    await Promise.all(this.#sftp.map((x) => x.stop()));
  }
}
