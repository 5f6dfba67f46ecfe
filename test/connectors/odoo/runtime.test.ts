/**
 * The Odoo connector inside a running hub: a tenant configured with `connectors.odoo`
 * and its password in the secrets store gets change capture started with the hub, so an
 * order created in Odoo becomes canonical events in the inbox; a tenant whose secret is
 * missing does not stop the hub.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub } from '../../../src/hub.ts';
import { validateConfig } from '../../../src/platform/config.ts';
import { putSecret } from '../../../src/security/secrets.ts';
import { Keyring } from '../../../src/security/keyring.ts';
import { OdooSimulator } from '../../../simulators/odoo/server.ts';
import { freshDatabase } from '../../helpers/db.ts';
import { silent } from '../../helpers/pipeline.ts';
import { TEST_MASTER_KEY } from '../../helpers/hubproc.ts';

/** A simulator, a fresh database with tenant default's Odoo password and hint token stored, and a hub configured for them. */
async function hubWithOdoo(odoo: (simUrl: string) => Record<string, unknown>) {
  const sim = await OdooSimulator.start({ version: 18 });
  after(() => sim.stop());
  const db = await freshDatabase();
  await db.pool.query(`insert into hub_tenants (id, name) values ('acme', 'ACME') on conflict do nothing`);
  process.env.HUB_MASTER_KEY = TEST_MASTER_KEY;
  after(() => void delete process.env.HUB_MASTER_KEY);
  const keyring = new Keyring([Buffer.from(TEST_MASTER_KEY, 'base64')], 'test');
  await putSecret(db.pool, keyring, { tenantId: 'default', name: 'odoo-password', value: 'admin', actor: 'test', overlapSeconds: 0 });
  await putSecret(db.pool, keyring, { tenantId: 'default', name: 'odoo-hint-token', value: 'a-long-random-hint-token', actor: 'test', overlapSeconds: 0 });
  const config = validateConfig({ databaseUrl: db.url, port: 0, dataDir: mkdtempSync(join(tmpdir(), 'hub-odoo-')), logLevel: 'silent', connectors: { odoo: odoo(sim.url) } });
  const hub = await startHub(config, { log: silent });
  after(() => hub.stop());
  return { sim, db, hub };
}

test('change capture starts with the hub for each configured tenant and feeds the inbox', async () => {
  const { sim, db, hub } = await hubWithOdoo((url) => ({
    default: { url, db: 'logi', login: 'admin', secretName: 'odoo-password', protocol: 'jsonrpc', captureIntervalMs: 1000, hintTokenSecret: 'odoo-hint-token' },
    acme: { url, db: 'logi', login: 'admin', secretName: 'no-such-secret', protocol: 'jsonrpc' },
  }));
  const soId = sim.db.call(2, 'sale.order', 'create', [{ partner_id: 10, client_order_ref: 'RUNTIME-1', order_line: [[0, 0, { product_id: 13, product_uom_qty: 2 }]] }], {}) as number;
  sim.db.call(2, 'sale.order', 'action_confirm', [[soId]], {});
  const deadline = Date.now() + 20_000;
  let rows: { type: string; tenant_id: string }[] = [];
  while (Date.now() < deadline) {
    rows = (await db.pool.query(`select type, tenant_id from hub_events where source like 'urn:hub:connector:odoo:%' and data::text like '%RUNTIME-1%'`)).rows;
    if (rows.some((r) => r.type === 'order.created.v1')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  // on failure, say what did arrive: event types per source and the mapping exceptions raised
  const seen = async () =>
    JSON.stringify({
      events: (await db.pool.query(`select source, type, count(*)::int n from hub_events group by 1, 2`)).rows,
      exceptions: (await db.pool.query(`select data->>'message' as message from hub_events where type = 'exception.raised.v1' limit 4`)).rows,
    });
  assert.ok(rows.some((r) => r.type === 'order.created.v1'), `the order reached the inbox; seen: ${rows.length ? JSON.stringify(rows) : await seen()}`);
  assert.ok(rows.every((r) => r.tenant_id === 'default'));
  assert.deepEqual(hub.odoo.tenants, ['default'], 'the tenant without its secret did not start, and did not stop the hub');
  assert.equal((await fetch(`${hub.url}/healthz`)).status, 200);
  const metrics = await (await fetch(`${hub.url}/metrics`)).text();
  assert.match(metrics, /hub_odoo_capture_last_poll_timestamp_seconds\{tenant="default",model="sale\.order"\} \d/, 'the capture lag can be watched');
  assert.match(metrics, /hub_connector_breaker_open\{connector="odoo",tenant="default"\} 0/, 'the breaker is watched (closed)');
});

test('Odoo webhook automations reach the connector as hints, authenticated by the tenant\'s URL token', async () => {
  const { sim, db, hub } = await hubWithOdoo((url) => ({
    default: { url, db: 'logi', login: 'admin', secretName: 'odoo-password', protocol: 'jsonrpc', captureIntervalMs: 3600000, hintTokenSecret: 'odoo-hint-token' },
  }));
  const deadline = Date.now() + 10_000;
  while (!hub.odoo.tenants.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const hint = (token: string, tenant = 'default', body: unknown = { _action: 'Send Webhook Notification(#1)', _id: 10, _model: 'res.partner', id: 10, name: 'Not Trusted' }) =>
    fetch(`${hub.url}/v1/connectors/odoo/${tenant}/hints?token=${encodeURIComponent(token)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal((await hint('wrong')).status, 401);
  assert.equal((await hint('a-long-random-hint-token', 'acme')).status, 404, 'no connector for that tenant');
  assert.equal((await hint('a-long-random-hint-token', 'default', { name: 'no model' })).status, 400);
  const before = sim.totalCalls;
  const ok = await hint('a-long-random-hint-token');
  assert.equal(ok.status, 202);
  assert.ok(sim.totalCalls > before, 'the hint made the connector read the record from Odoo');
  const party = (await db.pool.query(`select data->>'name' as name from hub_events where type = 'party.upserted.v1' and data->>'partyId' like '%10' order by seq desc limit 1`)).rows[0];
  assert.notEqual(party?.name, 'Not Trusted', 'the payload\'s values are never used');
  const log = await db.pool.query(`select code from hub_security_log where kind = 'connector'`);
  assert.deepEqual(log.rows.map((r) => r.code), ['connector.bad_token']);
});
