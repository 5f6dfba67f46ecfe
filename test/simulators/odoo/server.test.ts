/**
 * The Odoo simulator's HTTP behaviour beyond the transcripts: injected faults as a client
 * meets them (latency, connection refused, proxy errors, session expiry, serialization
 * failures, slow answers, a committed call whose answer is lost), the Odoo 19 JSON-2 API,
 * and the webhook automation.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OdooSimulator } from '../../../simulators/odoo/server.ts';
import { ADMIN_API_KEY } from '../../../simulators/odoo/orm/seed.ts';

const sim = await OdooSimulator.start({ version: 18 });
after(() => sim.stop());

async function jsonrpc(s: OdooSimulator, service: string, method: string, args: unknown[], signal?: AbortSignal): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const t0 = performance.now();
  const r = await fetch(`${s.url}/jsonrpc`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'call', params: { service, method, args }, id: 1 }),
    ...(signal ? { signal } : {}),
  });
  const text = await r.text();
  return { status: r.status, body: r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : { text }, ms: performance.now() - t0 };
}

const object = (model: string, method: string, args: unknown[], kwargs: Record<string, unknown> = {}) => ['logi', 2, 'admin', model, method, args, kwargs];
const partnerCount = async () => (await jsonrpc(sim, 'object', 'execute_kw', object('res.partner', 'search_count', [[]]))).body.result as number;

test('latency is added to every call; calls are counted per model and method', async () => {
  sim.resetCounters();
  sim.setFaults({ latencyMs: 60 });
  const r = await jsonrpc(sim, 'object', 'execute_kw', object('res.partner', 'search_count', [[]]));
  assert.ok(r.ms >= 55, `took ${r.ms} ms`);
  sim.faults.clear();
  assert.equal(sim.calls.get('res.partner.search_count'), 1);
  assert.equal(sim.totalCalls, 1);
});

test('down: connection refused for the period, then the same port answers again', async () => {
  const url = sim.url;
  await sim.goDown(60_000);
  await assert.rejects(fetch(`${url}/web/version`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }), (e: Error & { cause?: { code?: string } }) => e.cause?.code === 'ECONNREFUSED');
  await sim.up();
  assert.equal(sim.url, url);
  assert.equal((await jsonrpc(sim, 'common', 'version', [])).status, 200);
});

test('a proxy in front answers 502/503 HTML for the next calls of a model only', async () => {
  sim.setFaults({ proxyError: { status: 502, count: 2, match: { model: 'res.partner' } } });
  const a = await jsonrpc(sim, 'object', 'execute_kw', object('res.partner', 'search_count', [[]]));
  assert.equal(a.status, 502);
  assert.match(String(a.body.text), /502 Bad Gateway/);
  assert.equal((await jsonrpc(sim, 'object', 'execute_kw', object('sale.order', 'search_count', [[]]))).status, 200, 'another model is not affected');
  assert.equal((await jsonrpc(sim, 'object', 'execute_kw', object('res.partner', 'search_count', [[]]))).status, 502);
  assert.equal((await jsonrpc(sim, 'object', 'execute_kw', object('res.partner', 'search_count', [[]]))).status, 200, 'two calls, then over');
});

test('serialization failures: an error like Odoo gives after its own retries, nothing changed', async () => {
  const before = await partnerCount();
  sim.setFaults({ serializationFailures: { count: 1, match: { model: 'res.partner', method: 'create' } } });
  const r = await jsonrpc(sim, 'object', 'execute_kw', object('res.partner', 'create', [{ name: 'Locked Out' }]));
  const error = r.body.error as { code: number; data: { name: string; message: string } };
  assert.equal(error.code, 200);
  assert.equal(error.data.name, 'psycopg2.errors.SerializationFailure');
  assert.equal(await partnerCount(), before, 'the failed call changed nothing');
  assert.equal(typeof (await jsonrpc(sim, 'object', 'execute_kw', object('res.partner', 'create', [{ name: 'Second Try' }]))).body.result, 'number');
});

test('committed, then the connection drops: no answer, but the record exists', async () => {
  const before = await partnerCount();
  sim.setFaults({ dropAfterCommit: { count: 1, match: { method: 'create' } } });
  await assert.rejects(jsonrpc(sim, 'object', 'execute_kw', object('res.partner', 'create', [{ name: 'Committed But Unanswered' }])));
  assert.equal(await partnerCount(), before + 1);
  const found = await jsonrpc(sim, 'object', 'execute_kw', object('res.partner', 'search', [[['name', '=', 'Committed But Unanswered']]]));
  assert.equal((found.body.result as number[]).length, 1);
});

test('slow: an answer later than the client waits', async () => {
  sim.setFaults({ slow: { count: 1, ms: 400 } });
  await assert.rejects(jsonrpc(sim, 'common', 'version', [], AbortSignal.timeout(100)), (e: Error) => e.name === 'TimeoutError');
  assert.equal((await jsonrpc(sim, 'common', 'version', [])).status, 200);
});

test('session expiry: every web session ends; the next call through a cookie gets code 100 with id null', async () => {
  const auth = await fetch(`${sim.url}/web/session/authenticate`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', params: { db: 'logi', login: 'admin', password: 'admin' }, id: 1 }) });
  const cookie = auth.headers.getSetCookie()[0]!.split(';')[0]!;
  await auth.arrayBuffer();
  const call = () =>
    fetch(`${sim.url}/web/dataset/call_kw/res.partner/search_count`, { method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: cookie }, body: JSON.stringify({ jsonrpc: '2.0', params: { model: 'res.partner', method: 'search_count', args: [[]], kwargs: {} }, id: 7 }) }).then((r) => r.json() as Promise<Record<string, unknown>>);
  assert.equal(typeof (await call()).result, 'number');
  const admin = await fetch(`${sim.url}/__sim/faults`, { method: 'POST', body: JSON.stringify({ expireSessions: true }) });
  assert.equal(admin.status, 200);
  const expired = await call();
  assert.equal(expired.id, null);
  assert.equal((expired.error as { code: number }).code, 100);
});

test('JSON-2 exists only in 19: bearer API key, named arguments, real HTTP statuses and the error body', async () => {
  const v19 = await OdooSimulator.start({ version: 19 });
  after(() => v19.stop());
  const j2 = (path: string, body: unknown, key = ADMIN_API_KEY, s = v19) =>
    fetch(`${s.url}/json/2/${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `bearer ${key}` }, body: JSON.stringify(body) });
  const read = await j2('res.partner/search_read', { domain: [['id', '=', 10]], fields: ['name'] });
  assert.equal(read.status, 200);
  assert.deepEqual(await read.json(), [{ id: 10, name: 'Deco Addict' }]);
  const created = await j2('res.partner/create', { vals_list: [{ name: 'JSON-2 Partner' }] });
  assert.equal(created.status, 200);
  const ids = (await created.json()) as number[];
  assert.equal(ids.length, 1);
  const written = await j2('res.partner/write', { ids, vals: { name: 'JSON-2 Partner, renamed' } });
  assert.equal(await written.json(), true);

  const denied = await j2('res.partner/search_read', { fields: ['name'] }, 'not-a-key');
  assert.equal(denied.status, 401);
  const body = (await denied.json()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['arguments', 'context', 'debug', 'message', 'name']);
  assert.equal(body.name, 'werkzeug.exceptions.Unauthorized');
  const missing = await j2('sale.order/write', { ids: [99999999], vals: { note: 'x' } });
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { name: string }).name, 'odoo.exceptions.MissingError');
  const unknown = await j2('no.such.model/search_read', {});
  assert.equal(unknown.status, 422);
  assert.equal((await j2('res.partner/search_read', {}, ADMIN_API_KEY, sim)).status, 404, 'Odoo 18 has no JSON-2');
});

async function hookReceiver(): Promise<{ url: string; received: { headers: Record<string, unknown>; body: Record<string, unknown> }[]; answer: { status: number }; wait: (n: number) => Promise<void> }> {
  const received: { headers: Record<string, unknown>; body: Record<string, unknown> }[] = [];
  const answer = { status: 200 };
  const receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(text) });
      res.statusCode = answer.status;
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  after(() => new Promise<void>((r) => receiver.close(() => r())));
  const wait = async (n: number) => {
    const deadline = Date.now() + 3000;
    while (received.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  };
  return { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, received, answer, wait };
}

test('webhook automation: an unsigned POST with bare ids on create and on a changed trigger field, never retried', async () => {
  const { url, received, answer, wait } = await hookReceiver();
  const rule = await fetch(`${sim.url}/__sim/automations`, { method: 'POST', body: JSON.stringify({ model: 'res.partner', fields: ['phone'], payloadFields: ['name', 'phone', 'parent_id'], url }) });
  assert.equal(rule.status, 201);
  const ruleId = (await rule.json() as { id: number }).id;
  const id = (await jsonrpc(sim, 'object', 'execute_kw', object('res.partner', 'create', [{ name: 'Hooked', parent_id: 10 }]))).body.result as number;
  await wait(1);
  assert.equal(received.length, 1, 'a create fires whatever its fields');
  assert.deepEqual(received[0]!.body, { _action: `Send Webhook Notification(#${ruleId})`, _id: id, _model: 'res.partner', id, name: 'Hooked', phone: false, parent_id: 10 });
  assert.equal(received[0]!.headers['webhook-signature'], undefined, 'unsigned');
  // What must not notify is followed by a write that must: the next delivery has to be that one.
  const phone = async (value: string) => jsonrpc(sim, 'object', 'execute_kw', object('res.partner', 'write', [[id], { phone: value }]));
  const lastPhone = () => received.at(-1)!.body.phone;
  await jsonrpc(sim, 'object', 'execute_kw', object('res.partner', 'write', [[id], { email: 'not.watched@example.com' }]));
  await phone('+1 555 0100');
  await wait(2);
  assert.equal(received.length, 2, 'the write of a non-trigger field does not fire');
  assert.deepEqual(received[1]!.body, { _action: `Send Webhook Notification(#${ruleId})`, _id: id, _model: 'res.partner', id, name: 'Hooked', phone: '+1 555 0100', parent_id: 10 });
  await phone('+1 555 0100');
  await phone('+1 555 0101');
  await wait(3);
  assert.deepEqual([received.length, lastPhone()], [3, '+1 555 0101'], 'writing the value the field already has is no change');
  answer.status = 500;
  await phone('+1 555 0102');
  await wait(4);
  answer.status = 200;
  await phone('+1 555 0103');
  await wait(5);
  assert.deepEqual(received.slice(3).map((r) => r.body.phone), ['+1 555 0102', '+1 555 0103'], 'the delivery answered 500 is not retried');
  const before = await partnerCount();
  const failed = await jsonrpc(sim, 'object', 'execute_kw', object('res.partner', 'create', [[{ name: 'Rolled back', phone: '+1 555 0199' }, { name: 'Bad', no_such_field: 1 }]]));
  assert.equal((failed.body.error as { data: { name: string } }).data.name, 'builtins.ValueError');
  assert.equal(await partnerCount(), before, 'the first record of the failed create is gone too');
  await phone('+1 555 0104');
  await wait(6);
  assert.deepEqual([received.length, lastPhone()], [6, '+1 555 0104'], 'a call that rolled back notifies nothing');
  sim.automations.length = 0;
});

test('webhook automation fires on a state a business method sets: a delivery validated by button_validate', async () => {
  const { url, received, wait } = await hookReceiver();
  const rule = sim.addAutomation({ model: 'stock.picking', fields: ['state'], domain: [['state', '=', 'done']], payloadFields: ['state', 'carrier_tracking_ref'], url });
  const so = (await jsonrpc(sim, 'object', 'execute_kw', object('sale.order', 'create', [{ partner_id: 10, order_line: [[0, 0, { product_id: 13, product_uom_qty: 1 }]] }]))).body.result as number;
  await jsonrpc(sim, 'object', 'execute_kw', object('sale.order', 'action_confirm', [[so]]));
  const [picking] = ((await jsonrpc(sim, 'object', 'execute_kw', object('sale.order', 'read', [[so], ['picking_ids']]))).body.result as { picking_ids: number[] }[])[0]!.picking_ids;
  await jsonrpc(sim, 'object', 'execute_kw', object('stock.picking', 'write', [[picking], { carrier_tracking_ref: 'TRK-HOOK' }]));
  const done = await jsonrpc(sim, 'object', 'execute_kw', object('stock.picking', 'button_validate', [[picking]], { context: { skip_sms: true } }));
  assert.equal(done.body.result, true);
  await wait(1);
  assert.equal(received.length, 1, 'the picking was created and written before, but only done passes the filter');
  assert.deepEqual(received[0]!.body, { _action: `Send Webhook Notification(#${rule.id})`, _id: picking, _model: 'stock.picking', id: picking, state: 'done', carrier_tracking_ref: 'TRK-HOOK' });
  sim.automations.length = 0;
});
