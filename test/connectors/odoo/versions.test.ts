/**
 * The connector against Odoo 17, 18 and 19: change capture of every captured model runs on each,
 * reading only the fields that server has (17 has no `is_storable`, 19 no `res.partner.mobile`;
 * asking for either fails the whole read), and the mappers give the same canonical answer
 * whichever way the version spells it (a 17 storable product is `type: product`; a locked 18
 * purchase order is `state: done`).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OdooSimulator } from '../../../simulators/odoo/server.ts';
import { ADMIN_API_KEY } from '../../../simulators/odoo/orm/seed.ts';
import { createOdooClient } from '../../../src/connectors/odoo/client.ts';
import { ChangeCapture, type CaptureReport } from '../../../src/connectors/odoo/capture.ts';
import { CAPTURED_MODELS } from '../../../src/connectors/odoo/mappers.ts';
import { freshDatabase } from '../../helpers/db.ts';

const { pool } = await freshDatabase();

async function eventsOf(tenant: string, type: string) {
  const r = await pool.query<{ subject: string; data: Record<string, unknown> }>(`select subject, data from hub_events where tenant_id = $1 and type = $2 order by seq`, [tenant, type]);
  return r.rows;
}

for (const version of [17, 18, 19] as const) {
  describe(`Odoo ${version}`, () => {
    const tenant = `v${version}`;
    let sim: OdooSimulator;
    const missing = new Map<string, string[]>();
    let po = 0;

    it('captures every model, leaving out only the fields this version lacks', async () => {
      await pool.query(`insert into hub_tenants (id, name) values ($1, $1)`, [tenant]);
      sim = await OdooSimulator.start({ version });
      after(() => sim.stop());
      // 19 speaks JSON-2 with an API key; the others the classic protocols
      const client = createOdooClient({ url: sim.url, db: 'logi', login: 'admin', secret: version === 19 ? ADMIN_API_KEY : 'admin', protocol: 'auto' });
      after(() => client.close());
      assert.equal(await client.protocol(), version === 19 ? 'json2' : 'jsonrpc');
      // a locked purchase order (17/18: state done; 19: the locked flag) and a confirmed one
      po = sim.db.call(2, 'purchase.order', 'create', [{ partner_id: 9, partner_ref: `LOCK-${version}`, order_line: [[0, 0, { product_id: 18, product_qty: 2 }]] }], {}) as number;
      sim.db.call(2, 'purchase.order', 'button_confirm', [[po]], {});
      sim.db.call(2, 'purchase.order', version === 19 ? 'button_lock' : 'button_done', [[po]], {});
      sim.db.call(2, 'res.partner', 'write', [[10], { phone: '+1 555 0142' }], {});

      const cap = new ChangeCapture({ pool, tenantId: tenant, client, onMissingFields: (m, f) => missing.set(m, f) });
      const reports: CaptureReport[] = await cap.pollOnce();
      assert.deepEqual(reports.map((r) => r.model), [...CAPTURED_MODELS]);
      // the demo data has two sale orders whose delivery address is incomplete, on every version
      for (const r of reports) assert.equal(r.mappingErrors, r.model === 'sale.order' ? 2 : 0, `${r.model}: mapping errors`);
      const read = Object.fromEntries(reports.map((r) => [r.model, r.records]));
      for (const m of ['res.partner', 'product.product', 'sale.order', 'stock.picking', 'purchase.order', 'stock.quant'] as const) assert.ok(read[m]! > 0, `${m} records were read: ${JSON.stringify(read)}`);
      const expectMissing: Record<number, [string, string[]][]> = {
        17: [['product.product', ['is_storable']]],
        18: [],
        19: [['res.partner', ['mobile']]],
      };
      // only the fields the version really lacks, and only for the models that read them
      for (const [model, fields] of expectMissing[version]!) assert.deepEqual(missing.get(model)?.filter((f) => fields.includes(f)), fields, model);
      if (version !== 17) assert.equal(missing.get('product.product')?.includes('is_storable') ?? false, false);
      if (version !== 19) assert.equal(missing.get('res.partner')?.includes('mobile') ?? false, false);
    });

    it('maps the version\'s spelling to the same canonical values', async () => {
      const items = new Map((await eventsOf(tenant, 'item.upserted.v1')).map((e) => [e.subject, e.data]));
      assert.equal(items.get('product.product/13')?.['kind'], 'stockable', 'a storable product, whichever field says so');
      assert.equal(items.get('product.product/51')?.['kind'], 'service');
      const party = (await eventsOf(tenant, 'party.upserted.v1')).filter((e) => e.subject === 'res.partner/10').at(-1)!;
      assert.match(JSON.stringify(party.data), /\+1 555 0142/, 'the phone is read on every version');
      const released = (await eventsOf(tenant, 'purchase-order.released.v1')).map((e) => e.subject);
      assert.ok(released.includes(`purchase.order/${po}`), 'a locked purchase order is a released one');
    });
  });
}
