/**
 * The demo landscape: the simulators of every system around the hub (an Odoo 18, two
 * warehouses running SimWMS, the EasyPost-style aggregator), and the hub configured against
 * them for tenant `default` (Odoo change capture, the order-to-delivery flow over both
 * warehouses, signed webhooks from the WMSs and the aggregator). The end-to-end tests start
 * the same landscape with the simulators' clocks in their hands; `logistics-hub demo` starts
 * it in real time with a scenario generator.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OdooSimulator } from '../../simulators/odoo/server.ts';
import { WmsSimulator } from '../../simulators/wms/server.ts';
import { EasyPostSimulator } from '../../simulators/carriers/easypost/server.ts';
import { startHub, type Hub } from '../hub.ts';
import { validateConfig, type HubConfig } from '../platform/config.ts';
import type { Clock } from '../platform/clock.ts';
import type { Logger } from '../platform/logger.ts';
import { putSecret } from '../security/secrets.ts';

export const DEMO_TENANT = 'default';

/** The Odoo demo products as the warehouses know them: SKU and weight. */
export const DEMO_SKUS = [
  { sku: 'FURN_0097', description: 'Customizable Desk (Steel, Black)', weightKg: 24 },
  { sku: 'E-COM08', description: 'Storage Box', weightKg: 1.2 },
  { sku: 'E-COM10', description: 'Pedal Bin', weightKg: 2.5 },
  { sku: 'FURN_7800', description: 'Desk Combination', weightKg: 12.5 },
];

export interface LandscapeOptions {
  /** PostgreSQL of the hub; the embedded one under dataDir when absent */
  databaseUrl?: string;
  dataDir?: string;
  /** HTTP port of the hub (0: any) */
  port?: number;
  logLevel?: HubConfig['logLevel'];
  log?: Logger;
  clock?: Clock;
  /** simulators move on their own in real time (demo); tests advance them */
  realTime?: boolean;
  /**
   * In real time, how much faster than the wall clock the aggregator's clock runs (default 1).
   * Carrier transit takes days; at 21,600 (six simulated hours per real second) a five-day
   * parcel arrives in 20 s. The warehouses and the hub stay on the wall clock, so the carrier's
   * timestamps then run ahead of the hub's; the demo keeps 1 by default and scripts each parcel's
   * transit instead (docs/demo.md, "Time").
   */
  carrierTimeScale?: number;
  /** change capture interval (ms) */
  captureIntervalMs?: number;
  /** more configuration of the flow (policies...) */
  flow?: Record<string, unknown>;
  /** more hub configuration, top-level sections (observability, console...) */
  config?: Record<string, unknown>;
}

export interface Landscape {
  hub: Hub;
  odoo: OdooSimulator;
  east: WmsSimulator;
  west: WmsSimulator;
  easypost: EasyPostSimulator;
  stop(): Promise<void>;
}

const SECRETS: Record<string, string> = {
  'odoo-password': 'admin',
  'wms-east-api-key': 'east-api-key',
  'wms-east-webhook': 'east-webhook-secret',
  'wms-west-api-key': 'west-api-key',
  'wms-west-webhook': 'west-webhook-secret',
  'easypost-api-key': 'EZTK_sim_demo_key',
  'easypost-webhook': 'easypost-webhook-secret',
};

/** A clock that starts at the wall clock's now and runs `scale` times faster. */
export function scaledClock(scale: number, wall: () => number = Date.now): () => Date {
  const t0 = wall();
  return () => new Date(t0 + (wall() - t0) * scale);
}

/** Starts the simulators and a hub configured against them; stop() stops everything. */
export async function startLandscape(o: LandscapeOptions = {}): Promise<Landscape> {
  const realTime = o.realTime ?? false;
  const scale = o.carrierTimeScale ?? 1;
  if (!Number.isFinite(scale) || scale < 1) throw new RangeError(`carrierTimeScale must be a number of at least 1, not ${scale}`);
  const timings = realTime
    ? { acceptDelaySeconds: 2, waveIntervalSeconds: 10, pickSeconds: 5, packSeconds: 5, shipSeconds: 5 }
    : { acceptDelaySeconds: 1, waveIntervalSeconds: 10, pickSeconds: 5, packSeconds: 5, shipSeconds: 5 };
  const odoo = await OdooSimulator.start({ version: 18 });
  const east = await WmsSimulator.start({ apiKey: SECRETS['wms-east-api-key'], webhookSecret: SECRETS['wms-east-webhook'], auto: realTime, ...timings });
  const west = await WmsSimulator.start({ apiKey: SECRETS['wms-west-api-key'], webhookSecret: SECRETS['wms-west-webhook'], auto: realTime, ...timings });
  const easypost = await EasyPostSimulator.start({ apiKeys: [SECRETS['easypost-api-key']!], ...(realTime ? { autoTickMs: scale > 1 ? 250 : 1000, now: scaledClock(scale) } : {}) });
  for (const w of [east, west]) {
    w.setSkus(DEMO_SKUS);
    w.setStock(Object.fromEntries(DEMO_SKUS.map((s) => [s.sku, 0])));
  }
  // the east ships desks and bins, the west desk combinations and boxes: mixed orders split
  east.setStock({ FURN_0097: 500, 'E-COM10': 500 });
  west.setStock({ FURN_7800: 500, 'E-COM08': 500 });

  const wms = (name: string, sim: WmsSimulator) => ({ baseUrl: sim.url, profile: 'simwms', secretName: `wms-${name}-api-key`, webhookSecretName: `wms-${name}-webhook` });
  const partner = (name: string, mapper: string) => ({
    tenant: DEMO_TENANT, scheme: 'hmac-sha256-hex', secret: name === 'easypost' ? 'easypost-webhook' : `wms-${name}-webhook`,
    signatureHeader: name === 'easypost' ? 'x-hmac-signature' : 'x-simwms-signature', ...(name === 'easypost' ? {} : { idHeader: 'x-simwms-event-id' }), mapper,
  });
  const config = validateConfig({
    ...(o.config ?? {}),
    ...(o.databaseUrl ? { databaseUrl: o.databaseUrl } : {}),
    dataDir: o.dataDir ?? mkdtempSync(join(tmpdir(), 'hub-demo-')),
    port: o.port ?? 0,
    logLevel: o.logLevel ?? 'silent',
    connectors: { odoo: { [DEMO_TENANT]: { url: odoo.url, db: 'logi', login: 'admin', secretName: 'odoo-password', protocol: 'jsonrpc', captureIntervalMs: o.captureIntervalMs ?? 1000 } } },
    webhooks: { partners: { 'wms-east': partner('east', 'wms:loc-east'), 'wms-west': partner('west', 'wms:loc-west'), easypost: partner('easypost', 'easypost') } },
    flows: {
      orderToDelivery: {
        [DEMO_TENANT]: {
          warehouses: [
            { id: 'loc-east', priority: 1, countries: ['US'], address: { lines: ['4750 Longley Lane'], city: 'Reno', region: 'NV', postalCode: '89502', countryCode: 'US' }, wms: wms('east', east) },
            { id: 'loc-west', priority: 2, countries: ['US', 'CA'], address: { lines: ['1200 Harbor Blvd'], city: 'Oakland', region: 'CA', postalCode: '94607', countryCode: 'US' }, wms: wms('west', west) },
          ],
          carriers: { easypost: { baseUrl: easypost.url, secretName: 'easypost-api-key' } },
          noteWindowSeconds: 5,
          trackingPollMinutes: 1,
          ...o.flow,
        },
      },
    },
  });
  let hub: Hub;
  try {
    hub = await startHub(config, {
      ...(o.log ? { log: o.log } : {}),
      ...(o.clock ? { clock: o.clock } : {}),
      prepare: async ({ pool, keyring }) => {
        await pool.query(`insert into hub_tenants (id, name) values ($1, 'Demo') on conflict do nothing`, [DEMO_TENANT]);
        for (const [name, value] of Object.entries(SECRETS)) {
          const have = await pool.query(`select 1 from hub_secrets where tenant_id = $1 and name = $2 limit 1`, [DEMO_TENANT, name]);
          if (!have.rowCount) await putSecret(pool, keyring, { tenantId: DEMO_TENANT, name, value, actor: 'demo', overlapSeconds: 0 });
        }
      },
    });
  } catch (e) {
    await Promise.all([odoo.stop(), east.stop(), west.stop(), easypost.stop()]);
    throw e;
  }
  east.configure({ webhookUrl: `${hub.url}/v1/webhooks/wms-east` });
  west.configure({ webhookUrl: `${hub.url}/v1/webhooks/wms-west` });
  easypost.addWebhook(`${hub.url}/v1/webhooks/easypost`, SECRETS['easypost-webhook']!);
  return {
    hub, odoo, east, west, easypost,
    async stop() {
      await hub.stop();
      await Promise.all([odoo.stop(), east.stop(), west.stop(), easypost.stop()]);
    },
  };
}
