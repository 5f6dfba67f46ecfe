/**
 * The EasyPost simulator on the wire: authentication, object shapes and error bodies, buying
 * and refunding twice, label files and conversion, trackers moving with the simulator clock,
 * signed webhooks with retries and the duplicate / out-of-order fault, 429 and stats.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EasyPostSimulator } from '../../../simulators/carriers/easypost/server.ts';
import { verifyEasyPostSignature } from '../../../src/connectors/easypost/webhook.ts';

let sim: EasyPostSimulator;
let auth: Record<string, string>;

before(async () => {
  sim = await EasyPostSimulator.start({ now: () => new Date('2026-11-24T15:00:00Z'), webhookBackoffMs: 5 });
  auth = { authorization: 'Basic ' + Buffer.from(`${sim.apiKey}:`).toString('base64'), 'content-type': 'application/json' };
});
after(() => sim.stop());
beforeEach(() => sim.reset());

async function call(method: string, path: string, body?: unknown, headers = auth): Promise<{ status: number; json: any; headers: Headers }> {
  const r = await fetch(sim.url + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined, headers: r.headers };
}

const address = (zip: string, city = 'Reno') => ({ name: 'A Person', street1: '1 Main St', city, state: 'NV', zip, country: 'US' });
const shipmentBody = (zip = '89501') => ({ shipment: { to_address: address(zip), from_address: address('10001', 'New York'), parcel: { weight: 20, length: 10, width: 8, height: 4 }, reference: 'SO-1' } });

async function boughtShipment(options: Record<string, unknown> = {}) {
  const c = await call('POST', '/v2/shipments', { shipment: { ...shipmentBody().shipment, options } });
  const rate = c.json.rates.find((r: any) => r.carrier === 'USPS' && r.service === 'Priority');
  const b = await call('POST', `/v2/shipments/${c.json.id}/buy`, { rate: { id: rate.id } });
  assert.equal(b.status, 200);
  return b.json;
}

describe('EasyPost simulator', () => {
  it('requires the API key as the Basic user name, answering EasyPost error bodies', async () => {
    const none = await call('GET', '/v2/shipments/shp_x', undefined, {});
    assert.equal(none.status, 401);
    assert.deepEqual(none.json, { error: { code: 'APIKEY.REQUIRED', message: 'Missing or invalid API key.', errors: [] } });
    const wrong = await call('GET', '/v2/shipments/shp_x', undefined, { authorization: 'Basic ' + Buffer.from('nope:').toString('base64') });
    assert.equal(wrong.json.error.code, 'APIKEY.INVALID');
    assert.equal((await call('GET', '/v2/shipments/shp_x')).status, 404);
  });

  it('creates a shipment with rates as EasyPost shapes them', async () => {
    const r = await call('POST', '/v2/shipments', shipmentBody());
    assert.equal(r.status, 201);
    const s = r.json;
    assert.match(s.id, /^shp_[0-9a-f]{32}$/);
    assert.equal(s.object, 'Shipment');
    assert.equal(s.reference, 'SO-1');
    assert.equal(s.to_address.object, 'Address');
    assert.equal(s.parcel.object, 'Parcel');
    assert.equal(s.postage_label, null);
    assert.equal(s.created_at, '2026-11-24T15:00:00Z');
    const rate = s.rates.find((x: any) => x.carrier === 'UPS' && x.service === 'Ground');
    // 20 oz = 1.25 lb, 320/139 = 2.3 → 3 lb; zone |1−8|+1 = 8; 9.80 + 3 × 0.70 + 7 × 0.45
    assert.equal(rate.rate, '15.05');
    assert.equal(rate.currency, 'USD');
    assert.equal(rate.shipment_id, s.id);
    assert.match(rate.carrier_account_id, /^ca_[0-9a-f]{32}$/);
    assert.equal(rate.delivery_days, 4);
    assert.equal(rate.delivery_date, '2026-11-30T00:00:00Z');
  });

  it('refuses an address it cannot verify', async () => {
    const r = await call('POST', '/v2/shipments', shipmentBody('00000'));
    assert.equal(r.status, 422);
    assert.equal(r.json.error.code, 'ADDRESS.VERIFY.FAILURE');
    assert.ok(r.json.error.errors.some((e: any) => e.field === 'zip'));
    const bad = await fetch(sim.url + '/v2/shipments', { method: 'POST', headers: auth, body: '{nope' });
    assert.equal(bad.status, 400);
  });

  it('buys once (a second buy is SHIPMENT.POSTAGE.EXISTS), serves the label and converts it', async () => {
    const s = await boughtShipment();
    assert.match(s.tracking_code, /^9400[0-9]{18}$/);
    assert.equal(s.postage_label.object, 'PostageLabel');
    assert.equal(s.postage_label.label_file_type, 'image/png');
    assert.equal(s.tracker.object, 'Tracker');
    assert.equal(s.tracker.status, 'pre_transit');
    const png = Buffer.from(await (await fetch(s.postage_label.label_url)).arrayBuffer());
    assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    const again = await call('POST', `/v2/shipments/${s.id}/buy`, { rate: { id: s.selected_rate.id } });
    assert.equal(again.status, 422);
    assert.equal(again.json.error.code, 'SHIPMENT.POSTAGE.EXISTS');
    const zpl = await call('GET', `/v2/shipments/${s.id}/label?file_format=ZPL`);
    const text = await (await fetch(zpl.json.postage_label.label_zpl_url)).text();
    assert.ok(text.startsWith('^XA') && text.includes(s.tracking_code) && text.trimEnd().endsWith('^XZ'));
    assert.equal(sim.stats.labelsPurchased, 1);
  });

  it('refunds once; the second refund is SHIPMENT.REFUND.UNAVAILABLE', async () => {
    const s = await boughtShipment({ label_format: 'PDF' });
    assert.equal(s.postage_label.label_file_type, 'application/pdf');
    const r1 = await call('POST', `/v2/shipments/${s.id}/refund`, {});
    assert.equal(r1.status, 200);
    assert.equal(r1.json.refund_status, 'submitted');
    const r2 = await call('POST', `/v2/shipments/${s.id}/refund`, {});
    assert.equal(r2.status, 422);
    assert.equal(r2.json.error.code, 'SHIPMENT.REFUND.UNAVAILABLE');
  });

  it('moves trackers with the simulator clock and EasyPost test tracking codes', async () => {
    const s = await boughtShipment();
    await call('POST', '/__sim/advance', { seconds: 13 * 3600 });
    let t = (await call('GET', `/v2/trackers/${s.tracker.id}`)).json;
    assert.equal(t.status, 'in_transit');
    assert.deepEqual(t.tracking_details.map((d: any) => d.status_detail), ['label_created', 'received_at_origin_facility', 'departed_origin_facility']);
    assert.equal(t.tracking_details[1].datetime, '2026-11-24T21:00:00Z');
    assert.equal(t.tracking_details[1].tracking_location.object, 'TrackingLocation');
    await call('POST', '/__sim/advance', { seconds: 2 * 86400 });
    t = (await call('GET', `/v2/trackers/${s.tracker.id}`)).json;
    assert.equal(t.status, 'delivered');
    const created = await call('POST', '/v2/trackers', { tracker: { tracking_code: 'EZ4000000004', carrier: 'USPS' } });
    assert.equal(created.json.status, 'delivered');
    const same = await call('POST', '/v2/trackers', { tracker: { tracking_code: 'EZ4000000004' } });
    assert.equal(same.json.id, created.json.id);
    assert.equal((await call('POST', '/v2/trackers', { tracker: {} })).json.error.code, 'TRACKER.INVALID_PARAMS');
  });

  it('takes scripts and outages over its admin endpoint', async () => {
    const s = await boughtShipment();
    const scripted = await call('POST', '/__sim/script', { tracking_code: s.tracking_code, plan: [{ afterSeconds: 60, status: 'failure', status_detail: 'address_correction', city: 'RENO' }] });
    assert.equal(scripted.status, 200);
    await call('POST', '/__sim/advance', { seconds: 120 });
    const t = (await call('GET', `/v2/trackers/${s.tracker.id}`)).json;
    assert.equal(t.status, 'failure');
    assert.equal(t.tracking_details.at(-1).tracking_location.city, 'RENO');
    assert.equal((await call('POST', '/__sim/script', { tracking_code: 'x', plan: [] })).status, 422);
    await call('POST', '/__sim/faults', { down: { forMs: 50 } });
    await assert.rejects(fetch(sim.url + '/__sim/stats'));
    const deadline = Date.now() + 5000;
    for (;;) {
      const ok = await fetch(sim.url + '/__sim/stats').then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) assert.fail('the simulator did not come back');
      await new Promise((r) => setTimeout(r, 10));
    }
  });

  it('answers 429 for the next N calls and counts requests', async () => {
    await call('POST', '/__sim/faults', { rateLimit: { count: 2 } });
    const a = await call('POST', '/v2/shipments', shipmentBody());
    assert.equal(a.status, 429);
    assert.equal(a.json.error.code, 'RATE_LIMITED');
    assert.equal(a.headers.get('retry-after'), null);
    assert.equal((await call('POST', '/v2/shipments', shipmentBody())).status, 429);
    assert.equal((await call('POST', '/v2/shipments', shipmentBody())).status, 201);
    const stats = (await call('GET', '/__sim/stats')).json;
    assert.equal(stats.requests['POST /v2/shipments'], 3);
  });
});

describe('webhooks', () => {
  let receiver: Server;
  let url: string;
  const got: { body: Buffer; signature: string | undefined }[] = [];
  let failFirst = 0;

  before(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        if (failFirst > 0) {
          failFirst -= 1;
          res.writeHead(500).end();
          return;
        }
        got.push({ body: Buffer.concat(chunks), signature: req.headers['x-hmac-signature'] as string | undefined });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/easypost`;
  });
  after(() => new Promise<void>((r) => receiver.close(() => r())));
  beforeEach(() => {
    got.length = 0;
    failFirst = 0;
  });

  async function until(cond: () => boolean, what: string) {
    const deadline = Date.now() + 5000;
    while (!cond()) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setImmediate(r));
    }
  }

  it('POSTs a signed Event for every tracker change, retrying a non-2xx answer', async () => {
    await call('POST', '/__sim/webhooks', { url, secret: 'ｓｅｃｒｅｔ' }); // full-width: NFKD gives "secret"
    failFirst = 2;
    const s = await boughtShipment();
    await until(() => got.length === 1, 'tracker.created');
    await call('POST', '/__sim/advance', { seconds: 7 * 3600 });
    await until(() => got.length === 2, 'tracker.updated');
    for (const g of got) {
      assert.ok(verifyEasyPostSignature(g.body, g.signature, ['secret']), 'NFKD-normalised secret');
      assert.ok(verifyEasyPostSignature(g.body, g.signature, ['ｓｅｃｒｅｔ']));
    }
    const [e1, e2] = got.map((g) => JSON.parse(g.body.toString('utf8')));
    assert.equal(e1.object, 'Event');
    assert.equal(e1.description, 'tracker.created');
    assert.equal(e2.description, 'tracker.updated');
    assert.equal(e2.result.tracking_code, s.tracking_code);
    assert.equal(e2.result.status, 'in_transit');
    assert.deepEqual(e2.previous_attributes, { status: 'pre_transit' });
    assert.ok(sim.stats.webhookFailedAttempts >= 2);
  });

  it('sends every Event twice and out of order under webhookChaos', async () => {
    const s = await boughtShipment();
    await call('POST', '/__sim/webhooks', { url, secret: 's' });
    await call('POST', '/__sim/faults', { webhookChaos: true });
    await call('POST', '/__sim/advance', { seconds: 13 * 3600 });
    await until(() => got.length === 4, 'two Events twice');
    const seen = got.map((g) => JSON.parse(g.body.toString('utf8')));
    assert.ok(seen.every((e) => e.result.tracking_code === s.tracking_code));
    const details = seen.map((e) => e.result.tracking_details.length);
    assert.deepEqual(details, [3, 3, 2, 2]); // the newer state first
  });
});
