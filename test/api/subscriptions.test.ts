/**
 * The subscription endpoints with real tokens: registering (the secret once, sealed at
 * rest), validation of filters and URLs, the domain scopes a filter needs, owners and
 * admin scopes, tenant isolation (another tenant's subscription does not exist), the
 * admin actions (audited), and the delivery log of a real delivery.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeClock } from '../../src/platform/clock.ts';
import { Deliverer } from '../../src/pipeline/subscriptions/deliverer.ts';
import { subscriptionFanout } from '../../src/pipeline/subscriptions/fanout.ts';
import { clientForToken } from '../../src/security/clients.ts';
import { verifyStandardSignature } from '../../src/security/webhook-signature.ts';
import { silent, testWorker } from '../helpers/pipeline.ts';
import { assertProblem, call, cloudEvent, startApi, TEST_KEYRING, type Answer } from './harness.ts';

const RATE = { rateLimit: { perSecond: 10000, burst: 10000 } };
const api = await startApi({ config: { security: RATE } });
/** a hub that delivers to local endpoints (its own database: its deliveries are only this file's local ones) */
const local = await startApi({ config: { subscriptions: { allowHttp: true, allowPrivateAddresses: true }, security: RATE } });

const json = (base: string, method: string, path: string, token: string, body?: unknown): Promise<Answer> =>
  call(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
const req = (method: string, path: string, token: string, body?: unknown) => json(api.url, method, path, token, body);

const clientIdOf = async (token: string): Promise<string> => (await clientForToken(api.pool, token))!.client.id;

const tracking = await api.client(['tracking:read']);
const trackingOther = await api.client(['tracking:read']);
const ordersPii = await api.client(['orders:read', 'tracking:read', 'pii:read']);
const adminRead = await api.client(['admin:read', 'tracking:read']);
const adminWrite = await api.client(['admin:read', 'admin:write', 'tracking:read', 'orders:read']);
const acme = await api.client(['orders:read', 'orders:write', 'tracking:read', 'tracking:write', 'admin:read', 'admin:write', 'pii:read'], 'acme');
const HOOK = 'https://hooks.example.com/logistics';

async function create(token: string, body: Record<string, unknown> = {}): Promise<{ id: string; secret: string; body: any }> {
  const a = await req('POST', '/v1/subscriptions', token, { url: HOOK, eventTypes: ['shipment.*'], ...body });
  assert.equal(a.status, 201, JSON.stringify(a.body));
  return { id: a.body.subscription.id, secret: a.body.secret, body: a.body };
}

test('registering answers the subscription and its secret once; the secret is stored sealed only', async () => {
  const a = await req('POST', '/v1/subscriptions', tracking, { url: HOOK, eventTypes: ['shipment.delivered.v1', 'shipment.*'], description: 'customer portal' });
  assert.equal(a.status, 201, JSON.stringify(a.body));
  assert.equal(a.headers.get('cache-control'), 'no-store');
  const s = a.body.subscription;
  assert.match(s.id, /^sub_[0-9a-f]{24}$/);
  assert.equal(a.headers.get('location'), `/v1/subscriptions/${s.id}`);
  assert.match(a.body.secret, /^whsec_[A-Za-z0-9+/]{32}$/);
  assert.deepEqual(
    { ...s, createdAt: undefined, updatedAt: undefined },
    {
      id: s.id, tenant: 'default', url: HOOK, eventTypes: ['shipment.*', 'shipment.delivered.v1'], description: 'customer portal', status: 'enabled',
      ownerClientId: await clientIdOf(tracking), failingSince: null, disabledAt: null, disabledReason: null, createdAt: undefined, updatedAt: undefined,
      links: { self: `/v1/subscriptions/${s.id}`, deliveries: `/v1/subscriptions/${s.id}/deliveries` },
    },
  );
  const got = await req('GET', `/v1/subscriptions/${s.id}`, tracking);
  assert.equal(got.status, 200);
  assert.deepEqual(got.body, s);
  assert.ok(!JSON.stringify(got.body).includes(a.body.secret));
  const list = await req('GET', '/v1/subscriptions', tracking);
  assert.ok(!JSON.stringify(list.body).includes(a.body.secret));
  const stored = await api.pool.query(`select sealed::text, kind from hub_secrets where name = $1`, [`subscription:${s.id}`]);
  assert.equal(stored.rows.length, 1);
  assert.equal(stored.rows[0].kind, 'webhook-signing');
  assert.ok(!stored.rows[0].sealed.includes(a.body.secret.slice(6)));
  const audit = await api.pool.query(`select actor, action from hub_audit where object_id = $1 order by seq`, [s.id]);
  assert.deepEqual(audit.rows, [{ actor: `client:${await clientIdOf(tracking)}`, action: 'subscription.created' }]);
});

test('filters and URLs are checked, each refusal a precise problem', async () => {
  const bad = await req('POST', '/v1/subscriptions', tracking, { url: HOOK, eventTypes: ['shipment.teleported.v1', 'shipment*'] });
  assertProblem(bad, 400, 'subscription.unknown_event_type');
  assert.deepEqual(bad.body.issues.map((i: { path: string }) => i.path), ['/eventTypes/0', '/eventTypes/1']);
  assertProblem(await req('POST', '/v1/subscriptions', tracking, { url: HOOK, eventTypes: [] }), 400, 'request.invalid');
  assertProblem(await req('POST', '/v1/subscriptions', tracking, { url: HOOK }), 400, 'request.invalid');
  assertProblem(await req('POST', '/v1/subscriptions', tracking, { url: HOOK, eventTypes: ['shipment.*'], secret: 'mine' }), 400, 'request.invalid');
  assertProblem(await req('POST', '/v1/subscriptions', tracking, { url: 'hooks.example.com', eventTypes: ['shipment.*'] }), 400, 'subscription.invalid_url');

  const onStrict = (url: string) => req('POST', '/v1/subscriptions', api.token, { url, eventTypes: ['shipment.*'] });
  assertProblem(await onStrict('http://hooks.example.com/x'), 400, 'subscription.insecure_url');
  assertProblem(await onStrict('https://user:pw@hooks.example.com/x'), 400, 'subscription.url_credentials');
  for (const u of ['https://127.0.0.1/x', 'https://10.1.2.3/x', 'https://169.254.169.254/latest/meta-data', 'https://[::1]/x', 'https://localhost/x']) {
    const a = await onStrict(u);
    assertProblem(a, 400, 'subscription.private_address');
    assert.deepEqual(a.body.issues.map((i: { path: string }) => i.path), ['/url']);
  }
  assert.equal((await onStrict('https://hooks.example.com/x')).status, 201);
  const allowed = await json(local.url, 'POST', '/v1/subscriptions', local.token, { url: 'http://127.0.0.1:9/x', eventTypes: ['shipment.*'] });
  assert.equal(allowed.status, 201, 'allowed by subscriptions.allowHttp and allowPrivateAddresses');
  assert.equal((await json(local.url, 'DELETE', `/v1/subscriptions/${allowed.body.subscription.id}`, local.token)).status, 204);
});

test('a filter needs the read scope of every domain it covers', async () => {
  const orders = await req('POST', '/v1/subscriptions', tracking, { url: HOOK, eventTypes: ['shipment.*', 'order.created.v1'] });
  assertProblem(orders, 403, 'auth.missing_scope');
  assert.match(orders.body.detail, /orders:read/);
  assertProblem(await req('POST', '/v1/subscriptions', tracking, { url: HOOK, eventTypes: ['*'] }), 403, 'auth.missing_scope');
  assertProblem(await req('POST', '/v1/subscriptions', tracking, { url: HOOK, eventTypes: ['hub.subscription.disabled.v1'] }), 403, 'auth.missing_scope');
  const { id } = await create(tracking);
  assertProblem(await req('PATCH', `/v1/subscriptions/${id}`, tracking, { eventTypes: ['invoice.*'] }), 403, 'auth.missing_scope');
  assertProblem(await call(`${api.url}/v1/subscriptions`, { headers: { authorization: '' } }), 401, 'auth.missing_credential');
  const all = await api.client(['orders:read', 'warehouse:read', 'tracking:read', 'fleet:read', 'billing:read', 'procurement:read', 'exceptions:read', 'admin:read']);
  assert.equal((await req('POST', '/v1/subscriptions', all, { url: HOOK, eventTypes: ['*'] })).status, 201);
});

test('a client manages its own subscriptions; admin:read shows the tenant\'s, admin:write changes them, 403 naming the scope otherwise', async () => {
  const mine = await create(trackingOther);
  const theirs = await create(tracking);
  const needs = async (a: Promise<Answer>, scope: string) => {
    const r = await a;
    assertProblem(r, 403, 'auth.missing_scope');
    assert.deepEqual(r.body.issues, [{ path: 'scope', message: `requires ${scope}` }]);
  };
  await needs(req('GET', `/v1/subscriptions/${theirs.id}`, trackingOther), 'admin:read');
  await needs(req('GET', `/v1/subscriptions/${theirs.id}/deliveries`, trackingOther), 'admin:read');
  await needs(req('PATCH', `/v1/subscriptions/${theirs.id}`, trackingOther, { description: 'x' }), 'admin:write');
  await needs(req('DELETE', `/v1/subscriptions/${theirs.id}`, trackingOther), 'admin:write');
  await needs(req('POST', `/v1/subscriptions/${theirs.id}/rotate-secret`, trackingOther), 'admin:write');
  const own = await req('GET', '/v1/subscriptions?limit=500', trackingOther);
  assert.deepEqual(own.body.items.map((s: { id: string }) => s.id), [mine.id]);
  assertProblem(await req('GET', `/v1/subscriptions?owner=${await clientIdOf(tracking)}`, trackingOther), 403, 'auth.missing_scope');

  assert.equal((await req('GET', `/v1/subscriptions/${theirs.id}`, adminRead)).status, 200);
  const everything = await req('GET', '/v1/subscriptions?limit=500', adminRead);
  const ids = everything.body.items.map((s: { id: string }) => s.id);
  assert.ok(ids.includes(mine.id) && ids.includes(theirs.id));
  const byOwner = await req('GET', `/v1/subscriptions?owner=${await clientIdOf(tracking)}&limit=500`, adminRead);
  assert.ok(byOwner.body.items.every((s: { ownerClientId: string }) => s.ownerClientId === byOwner.body.items[0].ownerClientId));
  assert.ok(byOwner.body.items.some((s: { id: string }) => s.id === theirs.id));
  await needs(req('PATCH', `/v1/subscriptions/${theirs.id}`, adminRead, { description: 'x' }), 'admin:write');
  await needs(req('POST', `/v1/subscriptions/${theirs.id}/disable`, adminRead), 'admin:write');
  const changed = await req('PATCH', `/v1/subscriptions/${theirs.id}`, adminWrite, { description: 'checked by ops' });
  assert.equal(changed.status, 200);
  assert.equal(changed.body.description, 'checked by ops');
  assert.equal(changed.body.ownerClientId, await clientIdOf(tracking), 'the owner stays');
  const audit = await api.pool.query(`select actor from hub_audit where object_id = $1 and action = 'subscription.updated'`, [theirs.id]);
  assert.deepEqual(audit.rows, [{ actor: `client:${await clientIdOf(adminWrite)}` }]);
});

test('another tenant\'s subscription does not exist for a client of any scope', async () => {
  const { id } = await create(tracking);
  for (const [method, path, body] of [
    ['GET', `/v1/subscriptions/${id}`],
    ['GET', `/v1/subscriptions/${id}/deliveries`],
    ['PATCH', `/v1/subscriptions/${id}`, { description: 'mine now' }],
    ['DELETE', `/v1/subscriptions/${id}`],
    ['POST', `/v1/subscriptions/${id}/disable`],
    ['POST', `/v1/subscriptions/${id}/enable`],
    ['POST', `/v1/subscriptions/${id}/rotate-secret`],
  ] as const) {
    assertProblem(await req(method, path, acme, body), 404, 'subscription.not_found');
  }
  const list = await req('GET', '/v1/subscriptions?limit=500', acme);
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.items, []);
  const byOwner = await req('GET', `/v1/subscriptions?owner=${await clientIdOf(tracking)}`, acme);
  assert.deepEqual(byOwner.body.items, []);
  const own = await req('POST', '/v1/subscriptions', acme, { url: HOOK, eventTypes: ['order.*'] });
  assert.equal(own.body.subscription.tenant, 'acme');
  assertProblem(await req('GET', `/v1/subscriptions/${own.body.subscription.id}`, adminWrite), 404, 'subscription.not_found');
  const unchanged = await req('GET', `/v1/subscriptions/${id}`, tracking);
  assert.equal(unchanged.body.description, null);
});

test('PATCH changes the endpoint, the filter and the description', async () => {
  const { id } = await create(ordersPii, { description: 'first' });
  const a = await req('PATCH', `/v1/subscriptions/${id}`, ordersPii, { url: 'https://hooks.example.com/v2', eventTypes: ['order.*', 'shipment.delivered.v1'], description: null });
  assert.equal(a.status, 200, JSON.stringify(a.body));
  assert.equal(a.body.url, 'https://hooks.example.com/v2');
  assert.deepEqual(a.body.eventTypes, ['order.*', 'shipment.delivered.v1']);
  assert.equal(a.body.description, null);
  assertProblem(await req('PATCH', `/v1/subscriptions/${id}`, ordersPii, {}), 400, 'request.invalid');
  assertProblem(await req('PATCH', `/v1/subscriptions/${id}`, ordersPii, { eventTypes: ['nothing.*'] }), 400, 'subscription.unknown_event_type');
  assertProblem(await req('PATCH', `/v1/subscriptions/${id}`, ordersPii, { status: 'disabled' }), 400, 'request.invalid');
  assertProblem(await req('PATCH', '/v1/subscriptions/sub_000000000000000000000000', ordersPii, { description: 'x' }), 404, 'subscription.not_found');
});

test('disable, enable, rotate and delete are audited', async () => {
  const { id, secret } = await create(tracking);
  const d = await req('POST', `/v1/subscriptions/${id}/disable`, tracking, { reason: 'maintenance window' });
  assert.equal(d.status, 200, JSON.stringify(d.body));
  assert.equal(d.body.subscription.status, 'disabled');
  assert.equal(d.body.subscription.disabledReason, 'maintenance window');
  assert.equal(d.body.missed, 0);
  const e = await req('POST', `/v1/subscriptions/${id}/enable`, tracking, { replayMissed: false });
  assert.equal(e.body.subscription.status, 'enabled');
  assert.equal(e.body.replayed, 0);
  const e2 = await req('POST', `/v1/subscriptions/${id}/enable`, tracking);
  assert.equal(e2.status, 200);
  const r = await req('POST', `/v1/subscriptions/${id}/rotate-secret`, tracking, { overlapSeconds: 600 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.match(r.body.secret, /^whsec_/);
  assert.notEqual(r.body.secret, secret);
  const until = Date.parse(r.body.previousValidUntil);
  assert.ok(Math.abs(until - (Date.now() + 600_000)) < 60_000, r.body.previousValidUntil);
  const r2 = await req('POST', `/v1/subscriptions/${id}/rotate-secret`, tracking);
  assert.equal(r2.status, 200);
  const del = await req('DELETE', `/v1/subscriptions/${id}`, tracking);
  assert.equal(del.status, 204);
  assertProblem(await req('GET', `/v1/subscriptions/${id}`, tracking), 404, 'subscription.not_found');
  assertProblem(await req('DELETE', `/v1/subscriptions/${id}`, tracking), 404, 'subscription.not_found');
  const actor = `client:${await clientIdOf(tracking)}`;
  const audit = await api.pool.query(`select actor, action from hub_audit where object_id in ($1, $2) order by seq`, [id, `subscription:${id}`]);
  assert.deepEqual(
    audit.rows.map((x) => x.action),
    ['secret.created', 'subscription.created', 'subscription.disabled', 'subscription.enabled', 'secret.rotated', 'subscription.secret_rotated', 'secret.rotated', 'subscription.secret_rotated', 'secret.deleted', 'subscription.deleted'],
  );
  assert.ok(audit.rows.every((x) => x.actor === actor));
  const verify = await req('GET', '/v1/audit/verify', api.token);
  assert.equal(verify.body.intact, true);
});

test('the delivery log shows each delivery with its attempts, newest first, paginated', async (t) => {
  const received: { headers: IncomingMessage['headers']; body: Buffer }[] = [];
  let status = 500;
  const rx = createServer((q, res) => {
    const chunks: Buffer[] = [];
    q.on('data', (c: Buffer) => chunks.push(c));
    q.on('end', () => {
      received.push({ headers: q.headers, body: Buffer.concat(chunks) });
      res.writeHead(status).end();
    });
  });
  rx.listen(0, '127.0.0.1');
  await once(rx, 'listening');
  t.after(() => {
    rx.closeAllConnections();
    rx.close();
  });
  const url = `http://127.0.0.1:${(rx.address() as AddressInfo).port}/hook`;
  const owner = await local.client(['orders:read', 'tracking:read', 'pii:read']);
  const admin = await local.client(['admin:read']);
  const stranger = await local.client(['orders:read', 'tracking:read']);
  const lreq = (method: string, path: string, token: string) => json(local.url, method, path, token);
  const created = await json(local.url, 'POST', '/v1/subscriptions', owner, { url, eventTypes: ['order.created.v1', 'shipment.dispatched.v1'] });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { id } = created.body.subscription;
  const { secret } = created.body;

  const clock = new FakeClock();
  const { worker } = testWorker(local.pool, [subscriptionFanout], { clock });
  const deliverer = new Deliverer({ pool: local.pool, keyring: TEST_KEYRING, log: silent, clock, config: local.config.subscriptions, random: () => 0.5 });
  const posted = await call(`${local.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents-batch+json', authorization: `Bearer ${local.token}` },
    body: JSON.stringify([cloudEvent('order.created.v1'), cloudEvent('shipment.dispatched.v1'), cloudEvent('shipment.delivered.v1')]),
  });
  assert.equal(posted.status, 202, JSON.stringify(posted.body));
  await worker.drain();
  assert.equal(await deliverer.runOnce(), 2);
  status = 200;
  clock.advance(5_000);
  assert.equal(await deliverer.runOnce(), 2);
  assert.equal(received.length, 4);
  assert.ok(received.every((r) => verifyStandardSignature([secret], r.headers['webhook-id'] as string, r.headers['webhook-timestamp'] as string, r.body, r.headers['webhook-signature'] as string)));
  const order = received.map((r) => JSON.parse(r.body.toString())).find((b) => b.type === 'order.created.v1');
  assert.equal(order.data.shipTo.name, 'Deco Addict', 'the owner holds pii:read');

  const log = await lreq('GET', `/v1/subscriptions/${id}/deliveries`, owner);
  assert.equal(log.status, 200, JSON.stringify(log.body));
  assert.equal(log.body.items.length, 2);
  assert.equal(log.body.nextCursor, null);
  const [newest, oldest] = log.body.items;
  assert.ok(newest.id > oldest.id);
  assert.deepEqual([oldest.eventType, newest.eventType], ['order.created.v1', 'shipment.dispatched.v1']);
  for (const d of log.body.items) {
    assert.equal(d.status, 'succeeded');
    assert.equal(d.attempts, 2);
    assert.equal(d.lastStatus, 200);
    assert.equal(d.nextAttemptAt, null);
    assert.match(d.msgId, /^msg_/);
    assert.equal(d.deliveredAt, clock.now().toISOString());
    assert.deepEqual(d.history.map((a: { attempt: number; statusCode: number }) => [a.attempt, a.statusCode]), [[1, 500], [2, 200]]);
    assert.equal(d.history[0].error, 'HTTP 500');
    assert.equal(typeof d.history[0].durationMs, 'number');
  }
  const page1 = await lreq('GET', `/v1/subscriptions/${id}/deliveries?limit=1`, owner);
  assert.equal(page1.body.items[0].id, newest.id);
  assert.equal(typeof page1.body.nextCursor, 'string');
  const page2 = await lreq('GET', `/v1/subscriptions/${id}/deliveries?limit=1&cursor=${page1.body.nextCursor}`, owner);
  assert.deepEqual(page2.body.items.map((d: { id: number }) => d.id), [oldest.id]);
  assert.equal(page2.body.nextCursor, null);
  assert.equal((await lreq('GET', `/v1/subscriptions/${id}/deliveries?status=failed`, owner)).body.items.length, 0);
  assertProblem(await lreq('GET', `/v1/subscriptions/${id}/deliveries?cursor=nonsense`, owner), 400, 'request.invalid_cursor');
  assertProblem(await lreq('GET', `/v1/subscriptions/${id}/deliveries?status=lost`, owner), 400, 'request.invalid');
  assert.equal((await lreq('GET', `/v1/subscriptions/${id}/deliveries`, admin)).status, 200);
  assertProblem(await lreq('GET', `/v1/subscriptions/${id}/deliveries`, stranger), 403, 'auth.missing_scope');
});

test('the list of subscriptions paginates, newest first', async () => {
  await create(tracking);
  await create(tracking);
  const first = await req('GET', '/v1/subscriptions?limit=1', adminRead);
  assert.equal(first.body.items.length, 1);
  const second = await req('GET', `/v1/subscriptions?limit=1&cursor=${first.body.nextCursor}`, adminRead);
  assert.equal(second.body.items.length, 1);
  assert.notEqual(second.body.items[0].id, first.body.items[0].id);
  assert.ok(Date.parse(second.body.items[0].createdAt) <= Date.parse(first.body.items[0].createdAt));
  assertProblem(await req('GET', '/v1/subscriptions?cursor=bm9wZQ', adminRead), 400, 'request.invalid_cursor');
});
