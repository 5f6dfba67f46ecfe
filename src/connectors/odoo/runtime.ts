/**
 * The Odoo connector running inside a hub: for every tenant with `connectors.odoo.<tenant>`
 * configured, a client (credentials from the secrets store) and the change capture that
 * polls the tenant's Odoo and emits canonical events into the inbox. A tenant whose Odoo or
 * secret is not usable is logged and retried later; it does not stop the hub or the others.
 */
import type pg from 'pg';
import type { HubConfig } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { Keyring } from '../../security/keyring.ts';
import { ChangeCapture } from './capture.ts';
import type { OdooClient } from './client.ts';
import { odooClientFor } from './factory.ts';
import { OdooGateway } from './gateway.ts';

interface TenantRuntime {
  client: OdooClient;
  capture: ChangeCapture;
  /** what workflows write to this Odoo through (coalescing, limits, breaker) */
  gateway: OdooGateway;
}

export class OdooRuntime {
  readonly #deps: { pool: pg.Pool; keyring: Keyring; config: HubConfig; log: Logger; metrics?: Metrics };
  readonly #tenants = new Map<string, TenantRuntime>();
  readonly #retry = new Map<string, NodeJS.Timeout>();
  #stopped = false;

  constructor(deps: { pool: pg.Pool; keyring: Keyring; config: HubConfig; log: Logger; metrics?: Metrics }) {
    this.#deps = deps;
  }

  /** Starts every configured tenant (in the background: a tenant that cannot start is retried). */
  start(): void {
    for (const tenantId of Object.keys(this.#deps.config.connectors.odoo)) void this.#startTenant(tenantId);
  }

  get tenants(): string[] {
    return [...this.#tenants.keys()];
  }

  /** The gateway to a tenant's Odoo, once its connector runs. */
  gateway(tenantId: string): OdooGateway | undefined {
    return this.#tenants.get(tenantId)?.gateway;
  }

  /** An Odoo webhook payload for a tenant: a hint to read those records now (never their data). */
  async hint(tenantId: string, payload: unknown): Promise<boolean> {
    const t = this.#tenants.get(tenantId);
    if (!t) return false;
    await t.capture.hintPayload(payload);
    return true;
  }

  async #startTenant(tenantId: string): Promise<void> {
    if (this.#stopped) return;
    const log = this.#deps.log.child({ tenant: tenantId, connector: 'odoo' });
    try {
      const client = await odooClientFor({ db: this.#deps.pool, keyring: this.#deps.keyring, config: this.#deps.config }, tenantId);
      const capture = new ChangeCapture({
        pool: this.#deps.pool,
        tenantId,
        client,
        intervalMs: this.#deps.config.connectors.odoo[tenantId]!.captureIntervalMs,
        onError: (err) => log.warn({ err }, 'change capture failed; it polls again at the next interval'),
        onMissingFields: (model, fields) => log.info({ model, fields }, 'this Odoo has no such fields; they are read as absent'),
        onPolled: (r) => this.#deps.metrics?.captureLastPoll.set({ tenant: tenantId, model: r.model }, Date.now() / 1000),
      });
      if (this.#stopped) return void (await client.close());
      capture.start();
      const c = this.#deps.config.connectors.odoo[tenantId]!;
      const gateway = new OdooGateway(client, { concurrency: c.concurrency, ...(c.ratePerSecond ? { ratePerSecond: c.ratePerSecond } : {}) });
      const breaker = this.#deps.metrics?.connectorBreakerOpen;
      breaker?.set({ connector: 'odoo', tenant: tenantId }, 0);
      gateway.on('breaker', (b) => {
        breaker?.set({ connector: 'odoo', tenant: tenantId }, b.state === 'closed' ? 0 : 1);
        log.warn({ state: b.state, failures: b.failures }, `the Odoo circuit breaker is ${b.state}`);
      });
      this.#tenants.set(tenantId, { client, capture, gateway });
      log.info('Odoo change capture started');
    } catch (err) {
      log.warn({ err }, 'the Odoo connector of this tenant cannot start; retrying in 60 s');
      this.#retry.set(tenantId, setTimeout(() => void this.#startTenant(tenantId), 60_000).unref());
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#retry.values()) clearTimeout(t);
    await Promise.all([...this.#tenants.values()].map(async (t) => {
      await t.capture.stop();
      await t.client.close().catch(() => undefined);
    }));
    this.#tenants.clear();
  }
}
