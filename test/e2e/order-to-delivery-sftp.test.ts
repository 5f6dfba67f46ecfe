/**
 * The order flow with a warehouse that only exchanges CSV files over SFTP: the hub writes the
 * order file, the 3PL's acknowledgement, pick, pack and ship files come back and move the order,
 * the label file goes out, Odoo's delivery is validated and the invoice posted. Real SSH/SFTP to
 * the in-process 3PL simulator, real HTTP to Odoo and the aggregator, a real PostgreSQL.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase } from '../helpers/db.ts';
import { silent } from '../helpers/pipeline.ts';
import { OdooSimulator } from '../../simulators/odoo/server.ts';
import { EasyPostSimulator } from '../../simulators/carriers/easypost/server.ts';
import { Sftp3plSimulator } from '../../simulators/sftp3pl/server.ts';
import { startHub, type Hub } from '../../src/hub.ts';
import { validateConfig } from '../../src/platform/config.ts';
import { putSecret } from '../../src/security/secrets.ts';

const db = await freshDatabase();
let hub: Hub;
let odoo: OdooSimulator;
let easypost: EasyPostSimulator;
let tpl: Sftp3plSimulator;

before(async () => {
  odoo = await OdooSimulator.start({ version: 18 });
  easypost = await EasyPostSimulator.start({ apiKeys: ['EZTK_sftp_test'] });
  tpl = await Sftp3plSimulator.start({ username: 'hub', password: 'sftp-secret', stock: { 'E-COM10': 40 } });
  const config = validateConfig({
    databaseUrl: db.url, port: 0, dataDir: mkdtempSync(join(tmpdir(), 'hub-sftp-')), logLevel: 'silent',
    webhooks: { partners: { easypost: { tenant: 'default', scheme: 'hmac-sha256-hex', secret: 'easypost-webhook', signatureHeader: 'x-hmac-signature', mapper: 'easypost' } } },
    connectors: { odoo: { default: { url: odoo.url, db: 'logi', login: 'admin', secretName: 'odoo-password', protocol: 'jsonrpc', captureIntervalMs: 1000 } } },
    flows: {
      orderToDelivery: {
        default: {
          warehouses: [{
            id: 'loc-3pl', address: { lines: ['1 Depot Rd'], city: 'Sparks', region: 'NV', postalCode: '89431', countryCode: 'US' },
            sftp: { host: '127.0.0.1', port: tpl.port, username: 'hub', secretName: 'tpl-password', hostKeySha256: tpl.hostKeySha256, pollIntervalSeconds: 5 },
          }],
          carriers: { easypost: { baseUrl: easypost.url, secretName: 'easypost-key' } },
          trackingPollMinutes: 1,
        },
      },
    },
  });
  hub = await startHub(config, {
    log: silent,
    prepare: async ({ pool, keyring }) => {
      for (const [name, value] of [['odoo-password', 'admin'], ['tpl-password', 'sftp-secret'], ['easypost-key', 'EZTK_sftp_test'], ['easypost-webhook', 'ep-webhook-secret']] as const) {
        await putSecret(pool, keyring, { tenantId: 'default', name, value, actor: 'test', overlapSeconds: 0 });
      }
    },
  });
  easypost.addWebhook(`${hub.url}/v1/webhooks/easypost`, 'ep-webhook-secret');
});
after(async () => {
  await hub?.stop();
  await Promise.all([odoo?.stop(), easypost?.stop(), tpl?.stop()]);
});

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows as T[];

it('a sale order goes out as a CSV file and comes back delivered and invoiced through the 3PL\'s files', { timeout: 120_000 }, async () => {
  const so = odoo.db.call(2, 'sale.order', 'create', [{ partner_id: 10, order_line: [[0, 0, { product_id: 20, product_uom_qty: 2 }]] }], {}) as number;
  odoo.db.call(2, 'sale.order', 'action_confirm', [[so]], {});
  const name = (odoo.db.call(2, 'sale.order', 'read', [[so], ['name']], {}) as { name: string }[])[0]!.name;
  const orderId = `ord-${name}`;
  const deadline = Date.now() + 100_000;
  const status = async () => (await q<{ status: string }>(`select status from hub_workflows where instance = $1`, [orderId]))[0]?.status;
  const shipFile = async () => (await q(`select 1 from hub_events where type = 'shipment.dispatched.v1' and source = '/wms/csv3pl' and data->>'orderId' = $1`, [orderId])).length > 0;
  while ((await status()) !== 'completed' || !(await shipFile())) {
    if (Date.now() > deadline) {
      const steps = await q(`select step_key, status, attempts, error from hub_workflow_steps where instance = $1 order by id`, [orderId]);
      const events = await q(`select type, source from hub_events where data->>'orderId' = $1 order by seq`, [orderId]);
      throw new Error(`not completed: steps ${JSON.stringify(steps)} events ${JSON.stringify(events)}`);
    }
    tpl.advance(5);
    easypost.advance(6 * 3600);
    await new Promise((r) => setTimeout(r, 250));
  }
  const sources = new Set((await q<{ type: string; source: string }>(`select type, source from hub_events where data->>'orderId' = $1 or data->>'fulfilmentRequestId' like 'shp-%'`, [orderId])).map((e) => `${e.type} ${e.source}`));
  for (const t of ['fulfilment.acknowledged.v1', 'order.picked.v1', 'shipment.packed.v1', 'shipment.dispatched.v1']) {
    assert.ok([...sources].some((s) => s.startsWith(t)), `${t} came from the 3PL's files: ${[...sources].join('; ')}`);
  }
  const order = odoo.db.call(2, 'sale.order', 'read', [[so], ['delivery_status', 'invoice_status']], {}) as { delivery_status: string; invoice_status: string }[];
  assert.deepEqual([order[0]!.delivery_status, order[0]!.invoice_status], ['full', 'invoiced']);
  assert.ok(tpl.listFiles('/to-3pl/processed').some((f) => f.startsWith('LBL_')), 'the label file reached the 3PL');
});
