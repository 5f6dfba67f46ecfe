/**
 * GET /v1/xref: the cross-reference registry filled by the xref handler from the refs an
 * event carries, resolved both ways.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinHandlers } from '../../src/pipeline/handlers/index.ts';
import { testWorker } from '../helpers/pipeline.ts';
import { STRUCTURED, assertProblem, call, cloudEvent, post, startApi } from './harness.ts';

const api = await startApi();
const { worker } = testWorker(api.pool, builtinHandlers());

test('an item upserted with its Odoo and WMS ids resolves both ways', async () => {
  const a = await post(api, cloudEvent('item.upserted.v1', { id: 'itm-evt-1' }), STRUCTURED);
  assert.equal(a.status, 202, JSON.stringify(a.body));
  await worker.drain();
  const byWms = await call(`${api.url}/v1/xref?system=wms:reno&externalId=FURN-7800`);
  assert.equal(byWms.status, 200);
  assert.deepEqual(byWms.body.items.map((x: Record<string, string>) => `${x.entity}:${x.canonicalId}`), ['item:itm-20']);
  const all = await call(`${api.url}/v1/xref?canonicalId=itm-20`);
  assert.deepEqual(all.body.items.map((x: Record<string, string>) => `${x.system}=${x.externalId}`), ['odoo=20', 'wms:reno=FURN-7800']);
  const none = await call(`${api.url}/v1/xref?system=odoo&externalId=99999`);
  assert.deepEqual(none.body.items, []);
});

test('a query that is neither a system id nor a canonical id is a 400 problem', async () => {
  for (const q of ['', '?system=odoo', '?externalId=1', '?system=odoo&externalId=1&canonicalId=x']) {
    const r = await call(`${api.url}/v1/xref${q}`);
    assertProblem(r, 400, 'xref.bad_query');
  }
});
