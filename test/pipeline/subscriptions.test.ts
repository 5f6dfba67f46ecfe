/**
 * Outbound subscriptions end to end below the HTTP API: fan-out in the worker's
 * transaction, signed deliveries to a real local receiver, the retry schedule on a fake
 * clock, timeouts and refused endpoints, disabling after sustained failure (event and
 * audit entry), enabling with replay, secret rotation, and a deliverer killed mid-flight.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once, EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import type pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { PermanentError, redactEventData, SCOPE_DOMAINS, type Scope } from '../../src/domain/index.ts';
import { EXAMPLE_EVENT_DATA } from '../../src/domain/examples.ts';
import { FakeClock } from '../../src/platform/clock.ts';
import { validateConfig, type HubConfig } from '../../src/platform/config.ts';
import { ingest } from '../../src/pipeline/inbox.ts';
import { Deliverer, USER_AGENT } from '../../src/pipeline/subscriptions/deliverer.ts';
import { subscriptionFanout } from '../../src/pipeline/subscriptions/fanout.ts';
import { matchesAny, normalizePatterns, readScopesFor } from '../../src/pipeline/subscriptions/filters.ts';
import { MAX_DELIVERY_ATTEMPTS, RETRY_SCHEDULE_MS, nextAttemptDelay } from '../../src/pipeline/subscriptions/schedule.ts';
import { SubscriptionStore, type Subscription } from '../../src/pipeline/subscriptions/store.ts';
import { checkEndpointUrl, isNonPublicAddress } from '../../src/pipeline/subscriptions/url-safety.ts';
import { rowToEvent, type Handler, type HandlerContext, type IncomingEvent } from '../../src/pipeline/types.ts';
import { verifyAudit } from '../../src/security/audit.ts';
import { createClient } from '../../src/security/clients.ts';
import { Keyring } from '../../src/security/keyring.ts';
import { verifyStandardSignature } from '../../src/security/webhook-signature.ts';
import { freshDatabase } from '../helpers/db.ts';
import { silent, testWorker } from '../helpers/pipeline.ts';

const keyring = new Keyring([Buffer.alloc(32, 9)], 'test');
const HOUR = 3_600_000;

// ----------------------------------------------------------------------------- a receiver

interface Received {
  headers: IncomingMessage['headers'];
  body: Buffer;
  json: any;
  path: string;
}

type Reply = number | 'hang' | ((req: Received, res: ServerResponse) => void);

/** A real HTTP endpoint: records every request and answers as told (200 unless set). */
class Receiver extends EventEmitter<{ request: [Received] }> {
  readonly server: Server;
  readonly received: Received[] = [];
  reply: Reply = 200;
  readonly #held = new Set<ServerResponse>();
  url = '';

  constructor() {
    super();
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const r: Received = { headers: req.headers, body, json: JSON.parse(body.toString('utf8')), path: req.url ?? '' };
        this.received.push(r);
        const reply = this.reply;
        if (reply === 'hang') this.#held.add(res);
        else if (typeof reply === 'function') reply(r, res);
        else res.writeHead(reply, { 'content-type': 'text/plain' }).end(reply >= 300 ? `endpoint says ${reply}` : 'ok');
        this.emit('request', r);
      });
    });
  }

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  /** Answers the requests left hanging. */
  release(status: number): void {
    for (const res of this.#held) res.writeHead(status).end();
    this.#held.clear();
  }

  async close(): Promise<void> {
    this.release(503);
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close').catch(() => undefined);
  }
}

// ----------------------------------------------------------------------------- fixtures

interface Setup {
  pool: pg.Pool;
  clock: FakeClock;
  config: HubConfig;
  store: SubscriptionStore;
  deliverer: Deliverer;
  /** the pipeline with fan-out (and the given handlers after it) */
  drain(): Promise<number>;
  owner(scopes: Scope[], tenantId?: string): Promise<string>;
  subscribe(o: { url: string; eventTypes: string[]; owner: string | null; tenantId?: string }): Promise<{ subscription: Subscription; secret: string }>;
  deliverer2(overrides?: Partial<HubConfig['subscriptions']>): Deliverer;
}

let clients = 0;

/** A fresh database, a fake clock at the present (receivers may check timestamps) and the parts wired together. */
async function setup(o: { subscriptions?: Partial<HubConfig['subscriptions']>; handlers?: Handler[] } = {}): Promise<Setup> {
  const { pool } = await freshDatabase();
  const clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000);
  const config = validateConfig({ subscriptions: { allowHttp: true, allowPrivateAddresses: true, timeoutMs: 2000, disableAfterHours: 1000, ...o.subscriptions } });
  const store = new SubscriptionStore({ pool, keyring, config, clock });
  const make = (overrides: Partial<HubConfig['subscriptions']> = {}) =>
    new Deliverer({ pool, keyring, log: silent, clock, config: { ...config.subscriptions, ...overrides }, random: () => 0.5 });
  const { worker } = testWorker(pool, [subscriptionFanout, ...(o.handlers ?? [])], { clock });
  const owner = async (scopes: Scope[], tenantId = 'default') => {
    await pool.query(`insert into hub_tenants (id, name) values ($1, $1) on conflict do nothing`, [tenantId]);
    return (await createClient(pool, { tenantId, name: `owner-${++clients}`, scopes, actor: 'test' })).client.id;
  };
  return {
    pool, clock, config, store,
    deliverer: make(),
    deliverer2: make,
    drain: () => worker.drain(),
    owner,
    subscribe: (s) => store.create({ tenantId: s.tenantId ?? 'default', ownerClientId: s.owner, url: s.url, eventTypes: s.eventTypes, actor: 'test' }),
  };
}

let events = 0;
function event(type: keyof typeof EXAMPLE_EVENT_DATA, o: { tenantId?: string; key?: string } = {}): IncomingEvent {
  const data = structuredClone(EXAMPLE_EVENT_DATA[type]) as Record<string, unknown>;
  return {
    id: `evt-${++events}`,
    source: 'urn:test:subscriptions',
    type,
    specversion: '1.0',
    time: '2026-03-03T09:13:00Z',
    datacontenttype: 'application/json',
    data,
    extensions: { correlationid: `corr-${events}` },
    key: o.key ?? `key-${events}`,
    tenantId: o.tenantId ?? 'default',
    correlationId: `corr-${events}`,
  };
}

async function deliveriesOf(pool: pg.Pool, subscriptionId: string) {
  const r = await pool.query(`select * from hub_deliveries where subscription_id = $1 order by id`, [subscriptionId]);
  return r.rows;
}

async function attemptsOf(pool: pg.Pool, deliveryId: number) {
  return (await pool.query(`select * from hub_delivery_attempts where delivery_id = $1 order by id`, [deliveryId])).rows;
}

const ALL_READ = SCOPE_DOMAINS.map((d): Scope => `${d}:read`);

// ----------------------------------------------------------------------------- pure parts

describe('retry schedule', () => {
  test('follows the Standard Webhooks schedule after the first attempt, then stops', () => {
    assert.deepEqual(RETRY_SCHEDULE_MS, [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    assert.equal(MAX_DELIVERY_ATTEMPTS, 8);
    for (let a = 1; a <= 7; a++) assert.equal(nextAttemptDelay(a, () => 0.5), RETRY_SCHEDULE_MS[a - 1]);
    assert.equal(nextAttemptDelay(8, () => 0.5), undefined);
    assert.equal(nextAttemptDelay(1, () => 0), 4_000);
    assert.equal(nextAttemptDelay(7, () => 0.999999), Math.round(36_000_000 * (0.8 + 0.4 * 0.999999)));
    assert.throws(() => nextAttemptDelay(0), RangeError);
  });

  test('jitter stays within ±20 % of the scheduled delay', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
        const d = nextAttemptDelay(attempt, () => r)!;
        const base = RETRY_SCHEDULE_MS[attempt - 1]!;
        return d >= Math.floor(base * 0.8) && d <= Math.ceil(base * 1.2);
      }),
    );
  });
});

describe('filters and URL policy', () => {
  test('patterns are catalogue types, <entity>.* or *; unknown ones are named', () => {
    assert.deepEqual(normalizePatterns(['shipment.*', 'order.created.v1', 'shipment.*']), ['order.created.v1', 'shipment.*']);
    assert.deepEqual(normalizePatterns(['*']), ['*']);
    assert.throws(
      () => normalizePatterns(['order.created.v1', 'order.teleported.v1', 'nothing.*', 'order*']),
      (e: unknown) => e instanceof PermanentError && e.code === 'subscription.unknown_event_type' && e.issues.map((i) => i.path).join() === '/eventTypes/1,/eventTypes/2,/eventTypes/3',
    );
    assert.throws(() => normalizePatterns([]), (e: unknown) => (e as PermanentError).code === 'subscription.no_event_types');
    assert.ok(matchesAny(['shipment.*'], 'shipment.delivered.v1'));
    assert.ok(!matchesAny(['shipment.*'], 'shipments.x.v1'));
    assert.ok(matchesAny(['*'], 'order.created.v1'));
    assert.deepEqual(readScopesFor(['shipment.delivered.v1', 'shipment.*']), ['tracking:read']);
    const all = readScopesFor(['*']);
    assert.ok(all.includes('orders:read') && all.includes('admin:read') && all.includes('tracking:read'), all.join());
  });

  test('endpoints: https, no credentials, public addresses (unless allowed)', () => {
    const strict = { allowHttp: false, allowPrivateAddresses: false };
    const code = (url: string, policy = strict) => {
      try {
        checkEndpointUrl(url, policy);
        return 'ok';
      } catch (e) {
        return (e as PermanentError).code;
      }
    };
    assert.equal(code('https://portal.example.com/hooks?x=1'), 'ok');
    assert.equal(code('http://portal.example.com/hooks'), 'subscription.insecure_url');
    assert.equal(code('http://portal.example.com/hooks', { allowHttp: true, allowPrivateAddresses: false }), 'ok');
    assert.equal(code('ftp://portal.example.com/'), 'subscription.invalid_url');
    assert.equal(code('not a url'), 'subscription.invalid_url');
    assert.equal(code('https://user:pw@portal.example.com/'), 'subscription.url_credentials');
    for (const u of ['https://127.0.0.1/', 'https://10.0.0.8/', 'https://169.254.169.254/latest', 'https://[::1]/', 'https://[fd00::1]/', 'https://2130706433/', 'https://localhost/', 'https://0.0.0.0/']) {
      assert.equal(code(u), 'subscription.private_address', u);
      assert.equal(code(u, { allowHttp: false, allowPrivateAddresses: true }), 'ok', u);
    }
    assert.ok(!isNonPublicAddress('8.8.8.8'));
    assert.ok(!isNonPublicAddress('2606:4700:4700::1111'));
    assert.ok(isNonPublicAddress('::ffff:10.0.0.1'));
  });
});

// ----------------------------------------------------------------------------- fan-out

describe('fan-out', () => {
  test('records deliveries in the worker transaction: pending, missed when disabled, never across tenants or past the owner\'s scopes', async () => {
    const s = await setup();
    const reader = await s.owner(['orders:read']);
    const all = await s.owner(ALL_READ);
    const tracking = await s.owner(['tracking:read']);
    const other = await s.owner(ALL_READ, 'acme');
    const orders = await s.subscribe({ url: 'http://127.0.0.1:9/a', eventTypes: ['order.*'], owner: reader });
    const exact = await s.subscribe({ url: 'http://127.0.0.1:9/b', eventTypes: ['shipment.dispatched.v1'], owner: all });
    const everything = await s.subscribe({ url: 'http://127.0.0.1:9/c', eventTypes: ['*'], owner: all });
    const noScope = await s.subscribe({ url: 'http://127.0.0.1:9/d', eventTypes: ['*'], owner: tracking });
    const unowned = await s.subscribe({ url: 'http://127.0.0.1:9/e', eventTypes: ['order.created.v1'], owner: null });
    const otherTenant = await s.subscribe({ url: 'http://127.0.0.1:9/f', eventTypes: ['*'], owner: other, tenantId: 'acme' });
    await s.store.disable('default', everything.subscription.id, 'test');

    const [o] = await ingest(s.pool, [event('order.created.v1')]);
    assert.equal(await s.drain(), 1);
    const rows = (await s.pool.query(`select subscription_id, status, msg_id, next_attempt_at from hub_deliveries where event_seq = $1`, [o!.seq])).rows;
    const by = new Map(rows.map((r) => [r.subscription_id, r]));
    assert.equal(by.get(orders.subscription.id)?.status, 'pending');
    assert.equal(by.get(unowned.subscription.id)?.status, 'pending');
    assert.equal(by.get(everything.subscription.id)?.status, 'missed');
    assert.ok(!by.has(exact.subscription.id), 'filter does not match');
    assert.ok(!by.has(noScope.subscription.id), 'owner cannot read orders');
    assert.ok(!by.has(otherTenant.subscription.id), 'another tenant');
    assert.equal(rows.length, 3);
    assert.equal(by.get(orders.subscription.id)!.next_attempt_at.getTime(), s.clock.now().getTime());
    assert.match(by.get(orders.subscription.id)!.msg_id, /^msg_[0-9a-f]{32}$/);
    assert.notEqual(by.get(orders.subscription.id)!.msg_id, by.get(unowned.subscription.id)!.msg_id);

    // handled again (a replay): no second delivery, the same message id
    const tx = await s.pool.connect();
    try {
      await tx.query('begin');
      const stored = (await tx.query(`select * from hub_events where seq = $1`, [o!.seq])).rows[0];
      await subscriptionFanout.handle(rowToEvent(stored), { tx, clock: s.clock } as unknown as HandlerContext);
      await tx.query('commit');
    } finally {
      tx.release();
    }
    assert.equal((await s.pool.query(`select count(*)::int n from hub_deliveries where event_seq = $1`, [o!.seq])).rows[0].n, 3);
  });

  test('a batch that rolls back offers nothing', async () => {
    const failing: Handler = {
      name: 'test.fail',
      matches: (t) => t === 'order.cancelled.v1',
      async handle() {
        throw new PermanentError({ code: 'test.refused', message: 'refused' });
      },
    };
    const s = await setup({ handlers: [failing] });
    const owner = await s.owner(['orders:read']);
    const sub = await s.subscribe({ url: 'http://127.0.0.1:9/a', eventTypes: ['order.*'], owner });
    await ingest(s.pool, [event('order.cancelled.v1'), event('order.created.v1')]);
    await s.drain();
    const dead = (await s.pool.query(`select count(*)::int n from hub_dead_letters`)).rows[0].n;
    assert.equal(dead, 1);
    const rows = await deliveriesOf(s.pool, sub.subscription.id);
    assert.equal(rows.length, 1, 'only the event that was handled');
  });
});

// ----------------------------------------------------------------------------- delivery

describe('delivery', { timeout: 60_000 }, () => {
  test('posts the CloudEvent signed (Standard Webhooks) to the endpoint and records the attempt', async (t) => {
    const s = await setup();
    const rx = await new Receiver().start();
    t.after(() => rx.close());
    const owner = await s.owner(['orders:read']);
    const { subscription, secret } = await s.subscribe({ url: rx.url, eventTypes: ['order.created.v1'], owner });
    assert.match(secret, /^whsec_/);
    const e = event('order.created.v1');
    await ingest(s.pool, [e]);
    await s.drain();
    assert.equal(await s.deliverer.runOnce(), 1);
    assert.equal(rx.received.length, 1);
    const r = rx.received[0]!;
    const [d] = await deliveriesOf(s.pool, subscription.id);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['user-agent'], USER_AGENT);
    assert.equal(r.headers['webhook-id'], d.msg_id);
    assert.equal(r.headers['webhook-timestamp'], String(Math.floor(s.clock.now().getTime() / 1000)));
    assert.ok(verifyStandardSignature([secret], d.msg_id, r.headers['webhook-timestamp'] as string, r.body, r.headers['webhook-signature'] as string));
    assert.ok(!verifyStandardSignature(['whsec_' + Buffer.alloc(24, 1).toString('base64')], d.msg_id, r.headers['webhook-timestamp'] as string, r.body, r.headers['webhook-signature'] as string));
    // and by the reference implementation, timestamp tolerance included
    new Webhook(secret).verify(r.body.toString('utf8'), r.headers as Record<string, string>);
    assert.equal(r.json.specversion, '1.0');
    assert.equal(r.json.id, e.id);
    assert.equal(r.json.source, e.source);
    assert.equal(r.json.type, 'order.created.v1');
    assert.equal(r.json.time, '2026-03-03T09:13:00.000Z');
    assert.equal(r.json.datacontenttype, 'application/json');
    assert.equal(r.json.partitionkey, e.key);
    assert.equal(r.json.correlationid, e.correlationId);
    assert.equal(d.status, 'succeeded');
    assert.equal(d.attempts, 1);
    assert.equal(d.last_status, 200);
    assert.equal(d.delivered_at.getTime(), s.clock.now().getTime());
    const attempts = await attemptsOf(s.pool, d.id);
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0].status_code, 200);
    assert.equal(attempts[0].error, null);
    assert.equal(await s.deliverer.runOnce(), 0, 'nothing left to send');
  });

  test('masks personal data unless the owner holds pii:read', async (t) => {
    const s = await setup();
    const rx = await new Receiver().start();
    t.after(() => rx.close());
    const plain = await s.owner(['orders:read']);
    const pii = await s.owner(['orders:read', 'pii:read']);
    const a = await s.subscribe({ url: `${rx.url}/plain`, eventTypes: ['order.created.v1'], owner: plain });
    const b = await s.subscribe({ url: `${rx.url}/pii`, eventTypes: ['order.created.v1'], owner: pii });
    await ingest(s.pool, [event('order.created.v1')]);
    await s.drain();
    assert.equal(await s.deliverer.runOnce(), 2);
    const byPath = new Map(rx.received.map((r) => [r.path, r.json]));
    const original = EXAMPLE_EVENT_DATA['order.created.v1'];
    assert.deepEqual(byPath.get('/hooks/plain').data, redactEventData('order.created.v1', original));
    assert.equal(byPath.get('/hooks/plain').data.shipTo.name, '***');
    assert.deepEqual(byPath.get('/hooks/pii').data, original);
    for (const sub of [a, b]) assert.equal((await deliveriesOf(s.pool, sub.subscription.id))[0].status, 'succeeded');
  });

  test('retries failures on the schedule (fake clock), then gives up', async (t) => {
    const s = await setup();
    const rx = await new Receiver().start();
    t.after(() => rx.close());
    rx.reply = 500;
    const owner = await s.owner(['tracking:read']);
    const { subscription } = await s.subscribe({ url: rx.url, eventTypes: ['shipment.*'], owner });
    await ingest(s.pool, [event('shipment.dispatched.v1')]);
    await s.drain();
    const start = s.clock.now().getTime();
    assert.equal(await s.deliverer.runOnce(), 1);
    let elapsed = 0;
    for (const delay of RETRY_SCHEDULE_MS) {
      const [d] = await deliveriesOf(s.pool, subscription.id);
      assert.equal(d.status, 'pending');
      assert.equal(d.next_attempt_at.getTime(), start + elapsed + delay, `attempt ${d.attempts + 1} is due ${delay} ms after attempt ${d.attempts}`);
      s.clock.set(start + elapsed + delay - 1);
      assert.equal(await s.deliverer.runOnce(), 0, 'not due yet');
      s.clock.advance(1);
      assert.equal(await s.deliverer.runOnce(), 1);
      elapsed += delay;
    }
    const [d] = await deliveriesOf(s.pool, subscription.id);
    assert.equal(d.status, 'failed');
    assert.equal(d.attempts, 8);
    assert.equal(d.last_status, 500);
    assert.equal(d.last_error, 'HTTP 500: endpoint says 500');
    const attempts = await attemptsOf(s.pool, d.id);
    assert.deepEqual(attempts.map((a) => a.attempt), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.ok(attempts.every((a) => a.status_code === 500));
    assert.equal(rx.received.length, 8);
    assert.equal(new Set(rx.received.map((r) => r.headers['webhook-id'])).size, 1, 'one webhook-id across retries');
    s.clock.advance(100 * HOUR);
    assert.equal(await s.deliverer.runOnce(), 0);
    const sub = await s.store.get('default', subscription.id);
    assert.equal(sub?.failingSince?.getTime(), start, 'failing since the first failure');
  });

  test('a timeout, a refused connection, a redirect and a refused address are failures with a clear reason', async (t) => {
    const s = await setup({ subscriptions: { timeoutMs: 300 } });
    const slow = await new Receiver().start();
    const redirecting = await new Receiver().start();
    t.after(() => Promise.all([slow.close(), redirecting.close()]));
    slow.reply = 'hang';
    redirecting.reply = (_r, res) => res.writeHead(302, { location: 'http://127.0.0.1:9/elsewhere' }).end();
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/gone`;
    closed.close();
    await once(closed, 'close');
    const owner = await s.owner(['tracking:read']);
    const subs = {
      timeout: await s.subscribe({ url: slow.url, eventTypes: ['shipment.*'], owner }),
      refused: await s.subscribe({ url: closedUrl, eventTypes: ['shipment.*'], owner }),
      redirect: await s.subscribe({ url: redirecting.url, eventTypes: ['shipment.*'], owner }),
    };
    await ingest(s.pool, [event('shipment.dispatched.v1')]);
    await s.drain();
    assert.equal(await s.deliverer.runOnce(), 3);
    const errorOf = async (k: keyof typeof subs) => {
      const [d] = await deliveriesOf(s.pool, subs[k].subscription.id);
      const [a] = await attemptsOf(s.pool, d.id);
      assert.equal(d.status, 'pending', k);
      assert.equal(d.next_attempt_at.getTime(), s.clock.now().getTime() + 5_000, k);
      return { status: a.status_code, error: a.error as string, ms: a.duration_ms as number };
    };
    const timeout = await errorOf('timeout');
    assert.deepEqual([timeout.status, timeout.error], [null, 'timed out after 300 ms']);
    assert.ok(timeout.ms >= 250, `took ${timeout.ms} ms`);
    const refused = await errorOf('refused');
    assert.equal(refused.status, null);
    assert.match(refused.error, /^connection failed: ECONNREFUSED/);
    const redirect = await errorOf('redirect');
    assert.equal(redirect.status, 302);
    assert.match(redirect.error, /^HTTP 302 \(redirect to http:\/\/127\.0\.0\.1:9\/elsewhere not followed\)/);
    assert.equal(redirecting.received.length, 1);

    // the policy is applied again at delivery: a hub that no longer allows private addresses refuses them
    const strict = s.deliverer2({ allowPrivateAddresses: false });
    s.clock.advance(5_000);
    slow.reply = 200;
    const before = slow.received.length;
    assert.equal(await strict.runOnce(), 3);
    const [d] = await deliveriesOf(s.pool, subs.timeout.subscription.id);
    const attempts = await attemptsOf(s.pool, d.id);
    assert.equal(attempts[1].status_code, null);
    assert.match(attempts[1].error, /^refused: 127\.0\.0\.1 is a loopback, private, link-local or otherwise non-public address/);
    assert.equal(slow.received.length, before, 'nothing was sent');
  });

  test('signs with every valid secret during a rotation', async (t) => {
    const s = await setup();
    const rx = await new Receiver().start();
    t.after(() => rx.close());
    const owner = await s.owner(['tracking:read']);
    const { subscription, secret: oldSecret } = await s.subscribe({ url: rx.url, eventTypes: ['shipment.*'], owner });
    const rotated = await s.store.rotateSecret('default', subscription.id, 'test', 3600);
    assert.notEqual(rotated.secret, oldSecret);
    assert.ok(rotated.previousValidUntil);
    await ingest(s.pool, [event('shipment.dispatched.v1')]);
    await s.drain();
    await s.deliverer.runOnce();
    const r = rx.received[0]!;
    const sig = r.headers['webhook-signature'] as string;
    assert.equal(sig.split(' ').length, 2);
    for (const secret of [oldSecret, rotated.secret]) {
      assert.ok(verifyStandardSignature([secret], r.headers['webhook-id'] as string, r.headers['webhook-timestamp'] as string, r.body, sig));
    }
    // without overlap every previous secret stops signing at once
    const again = await s.store.rotateSecret('default', subscription.id, 'test', 0);
    await ingest(s.pool, [event('shipment.dispatched.v1')]);
    await s.drain();
    await s.deliverer.runOnce();
    const r2 = rx.received[1]!;
    const sig2 = r2.headers['webhook-signature'] as string;
    assert.equal(sig2.split(' ').length, 1);
    assert.ok(verifyStandardSignature([again.secret], r2.headers['webhook-id'] as string, r2.headers['webhook-timestamp'] as string, r2.body, sig2));
    assert.ok(!verifyStandardSignature([oldSecret, rotated.secret], r2.headers['webhook-id'] as string, r2.headers['webhook-timestamp'] as string, r2.body, sig2));
  });
});

// ----------------------------------------------------------------------------- disable, enable, replay

describe('sustained failure', { timeout: 60_000 }, () => {
  test('disables the subscription, keeps its pending deliveries as missed, audits it and tells the owner by an event', async (t) => {
    const s = await setup({ subscriptions: { disableAfterHours: 1 } });
    const rx = await new Receiver().start();
    const notify = await new Receiver().start();
    t.after(() => Promise.all([rx.close(), notify.close()]));
    rx.reply = 503;
    const owner = await s.owner(['tracking:read', 'admin:read']);
    const { subscription } = await s.subscribe({ url: `${rx.url}?token=abc`, eventTypes: ['shipment.*'], owner });
    const watcher = await s.subscribe({ url: notify.url, eventTypes: ['hub.subscription.disabled.v1'], owner });
    await ingest(s.pool, [event('shipment.dispatched.v1'), event('shipment.delivered.v1')]);
    await s.drain();
    const start = s.clock.now().getTime();

    // follow the schedule until the failing period passes the hour
    for (let i = 0; i < 10; i++) {
      await s.deliverer.runOnce();
      const sub = (await s.store.get('default', subscription.id))!;
      if (sub.status === 'disabled') break;
      const next = (await s.pool.query(`select min(next_attempt_at) t from hub_deliveries where subscription_id = $1 and status = 'pending'`, [subscription.id])).rows[0].t as Date;
      s.clock.set(next);
    }
    const sub = (await s.store.get('default', subscription.id))!;
    assert.equal(sub.status, 'disabled');
    assert.equal(sub.failingSince?.getTime(), start);
    assert.ok(s.clock.now().getTime() - start >= HOUR);
    assert.equal(sub.disabledAt?.getTime(), s.clock.now().getTime());
    assert.match(sub.disabledReason!, /^every delivery failed for 1 hours or more \(since .*\); last error: HTTP 503/);
    const rows = await deliveriesOf(s.pool, subscription.id);
    assert.deepEqual(rows.map((r) => r.status), ['missed', 'missed']);
    const sent = rx.received.length;
    s.clock.advance(48 * HOUR);
    assert.equal(await s.deliverer.runOnce(), 0, 'a disabled subscription gets nothing');
    assert.equal(rx.received.length, sent);

    // the owner's notification: an event stored once, fanned out to the watcher and delivered
    const ev = (await s.pool.query(`select * from hub_events where type = 'hub.subscription.disabled.v1'`)).rows;
    assert.equal(ev.length, 1);
    assert.equal(ev[0].source, 'hub://subscriptions');
    assert.equal(ev[0].key, subscription.id);
    assert.equal(ev[0].tenant_id, 'default');
    assert.deepEqual(ev[0].data, {
      subscriptionId: subscription.id,
      url: rx.url,
      reason: sub.disabledReason,
      disabledAt: sub.disabledAt!.toISOString(),
      failingSince: sub.failingSince!.toISOString(),
      ownerClientId: owner,
    });
    await s.drain();
    assert.equal(await s.deliverer.runOnce(), 1);
    assert.equal(notify.received.length, 1);
    assert.equal(notify.received[0]!.json.type, 'hub.subscription.disabled.v1');
    assert.equal(notify.received[0]!.json.data.subscriptionId, subscription.id);
    assert.equal((await deliveriesOf(s.pool, watcher.subscription.id))[0].status, 'succeeded');

    // audited by the deliverer, chain intact
    const audit = (await s.pool.query(`select * from hub_audit where object_id = $1 and action = 'subscription.disabled'`, [subscription.id])).rows;
    assert.equal(audit.length, 1);
    assert.equal(audit[0].actor, 'system:deliverer');
    assert.equal(audit[0].details.automatic, true);
    assert.equal(audit[0].details.missed, 2);
    assert.equal((await verifyAudit(s.pool)).broken, undefined);
  });

  test('a success ends the failing period', async (t) => {
    const s = await setup({ subscriptions: { disableAfterHours: 1 } });
    const rx = await new Receiver().start();
    t.after(() => rx.close());
    const owner = await s.owner(['tracking:read']);
    const { subscription } = await s.subscribe({ url: rx.url, eventTypes: ['shipment.*'], owner });
    rx.reply = 500;
    await ingest(s.pool, [event('shipment.dispatched.v1')]);
    await s.drain();
    await s.deliverer.runOnce();
    assert.ok((await s.store.get('default', subscription.id))!.failingSince);
    rx.reply = 200;
    s.clock.advance(5_000);
    await s.deliverer.runOnce();
    assert.equal((await s.store.get('default', subscription.id))!.failingSince, null);
    rx.reply = 500;
    s.clock.advance(2 * HOUR);
    await ingest(s.pool, [event('shipment.delivered.v1')]);
    await s.drain();
    await s.deliverer.runOnce();
    const sub = (await s.store.get('default', subscription.id))!;
    assert.equal(sub.status, 'enabled', 'a new failing period starts: not disabled');
    assert.equal(sub.failingSince?.getTime(), s.clock.now().getTime());
  });

  test('enabling replays what was missed exactly once; later events flow again', async (t) => {
    const s = await setup();
    const rx = await new Receiver().start();
    t.after(() => rx.close());
    const owner = await s.owner(['tracking:read']);
    const { subscription } = await s.subscribe({ url: rx.url, eventTypes: ['shipment.*'], owner });

    // one event fails for good while the endpoint is down, then the subscription is disabled by hand
    rx.reply = 500;
    await ingest(s.pool, [event('shipment.dispatched.v1')]);
    await s.drain();
    for (let i = 0; i < MAX_DELIVERY_ATTEMPTS; i++) {
      await s.deliverer.runOnce();
      s.clock.advance(11 * HOUR);
    }
    await ingest(s.pool, [event('shipment.packed.v1')]);
    await s.drain();
    const disabled = await s.store.disable('default', subscription.id, 'test', 'endpoint under maintenance');
    assert.equal(disabled.missed, 1);
    assert.equal(disabled.subscription.disabledReason, 'endpoint under maintenance');
    await ingest(s.pool, [event('shipment.delivered.v1')]);
    await s.drain();
    assert.deepEqual((await deliveriesOf(s.pool, subscription.id)).map((d) => d.status), ['failed', 'missed', 'missed']);
    const failedBefore = rx.received.length;

    rx.reply = 200;
    const enabled = await s.store.enable('default', subscription.id, 'test');
    assert.equal(enabled.replayed, 3);
    assert.equal(enabled.subscription.status, 'enabled');
    assert.equal(enabled.subscription.failingSince, null);
    assert.equal(await s.deliverer.runOnce(), 3);
    assert.equal(rx.received.length - failedBefore, 3);
    const ids = rx.received.slice(failedBefore).map((r) => r.json.type).sort();
    assert.deepEqual(ids, ['shipment.delivered.v1', 'shipment.dispatched.v1', 'shipment.packed.v1']);
    assert.deepEqual((await deliveriesOf(s.pool, subscription.id)).map((d) => d.status), ['succeeded', 'succeeded', 'succeeded']);

    // again: nothing more to replay or send
    assert.equal((await s.store.enable('default', subscription.id, 'test')).replayed, 0);
    s.clock.advance(HOUR);
    assert.equal(await s.deliverer.runOnce(), 0);

    await ingest(s.pool, [event('shipment.returned.v1')]);
    await s.drain();
    assert.equal(await s.deliverer.runOnce(), 1);
    assert.equal(rx.received.length - failedBefore, 4);

    // enabling without replay leaves missed deliveries alone
    await s.store.disable('default', subscription.id, 'test');
    await ingest(s.pool, [event('shipment.cancelled.v1')]);
    await s.drain();
    assert.equal((await s.store.enable('default', subscription.id, 'test', { replayMissed: false })).replayed, 0);
    assert.equal(await s.deliverer.runOnce(), 0);
    assert.equal((await deliveriesOf(s.pool, subscription.id)).at(-1).status, 'missed');

    const actions = (await s.pool.query(`select action from hub_audit where object_id = $1 order by seq`, [subscription.id])).rows.map((r) => r.action);
    assert.deepEqual(actions, ['subscription.created', 'subscription.disabled', 'subscription.enabled', 'subscription.disabled', 'subscription.enabled']);
  });

  test('delete removes the deliveries, their attempts and the secret', async (t) => {
    const s = await setup();
    const rx = await new Receiver().start();
    t.after(() => rx.close());
    const owner = await s.owner(['tracking:read']);
    const { subscription } = await s.subscribe({ url: rx.url, eventTypes: ['shipment.*'], owner });
    await ingest(s.pool, [event('shipment.dispatched.v1')]);
    await s.drain();
    await s.deliverer.runOnce();
    await s.store.delete('default', subscription.id, 'test');
    const left = (await s.pool.query(
      `select (select count(*)::int from hub_deliveries) d, (select count(*)::int from hub_delivery_attempts) a,
              (select count(*)::int from hub_secrets where name = $1) s, (select count(*)::int from hub_subscriptions) n`,
      [`subscription:${subscription.id}`],
    )).rows[0];
    assert.deepEqual(left, { d: 0, a: 0, s: 0, n: 0 });
    const actions = (await s.pool.query(`select action from hub_audit where object_id in ($1, $2) order by seq`, [subscription.id, `subscription:${subscription.id}`])).rows.map((r) => r.action);
    assert.deepEqual(actions, ['secret.created', 'subscription.created', 'secret.deleted', 'subscription.deleted']);
    await assert.rejects(s.store.delete('default', subscription.id, 'test'), (e: unknown) => (e as PermanentError).code === 'subscription.not_found');
  });
});

// ----------------------------------------------------------------------------- crashes

describe('a delivery interrupted mid-flight', { timeout: 60_000 }, () => {
  test('is tried again when its lease runs out; the late outcome of the first attempt changes nothing', async (t) => {
    const s = await setup();
    const rx = await new Receiver().start();
    t.after(() => rx.close());
    const owner = await s.owner(['tracking:read']);
    const { subscription } = await s.subscribe({ url: rx.url, eventTypes: ['shipment.*'], owner });
    await ingest(s.pool, [event('shipment.dispatched.v1')]);
    await s.drain();

    rx.reply = 'hang';
    const first = s.deliverer2({ timeoutMs: 60_000 });
    const arrived = once(rx, 'request');
    const running = first.runOnce();
    await arrived;
    const [claimed] = await deliveriesOf(s.pool, subscription.id);
    assert.equal(claimed.status, 'pending');
    assert.equal(claimed.attempts, 1);
    assert.equal(claimed.next_attempt_at.getTime(), s.clock.now().getTime() + first.leaseMs);

    const second = s.deliverer;
    assert.equal(await second.runOnce(), 0, 'leased');
    s.clock.advance(first.leaseMs);
    rx.reply = 204;
    assert.equal(await second.runOnce(), 1);
    const [done] = await deliveriesOf(s.pool, subscription.id);
    assert.equal(done.status, 'succeeded');
    assert.equal(done.attempts, 2);

    rx.release(500);
    assert.equal(await running, 1);
    const [after] = await deliveriesOf(s.pool, subscription.id);
    assert.equal(after.status, 'succeeded', 'the stale failure is fenced off');
    assert.equal(after.last_status, 204);
    const attempts = await attemptsOf(s.pool, after.id);
    assert.deepEqual(attempts.map((a) => [a.attempt, a.status_code]).sort(), [[1, 500], [2, 204]]);
    assert.equal((await s.store.get('default', subscription.id))!.failingSince, null);
    assert.equal(rx.received.length, 2);
    assert.equal(rx.received[0]!.headers['webhook-id'], rx.received[1]!.headers['webhook-id']);
  });

  test('a deliverer process killed while posting leaves the delivery to another', async (t) => {
    const s = await setup();
    const rx = await new Receiver().start();
    t.after(() => rx.close());
    const owner = await s.owner(['tracking:read']);
    const { subscription } = await s.subscribe({ url: rx.url, eventTypes: ['shipment.*'], owner });
    await ingest(s.pool, [event('shipment.dispatched.v1')]);
    await s.drain();
    rx.reply = 'hang';

    const url = (await s.pool.query(`select current_database() db`)).rows[0].db as string;
    const dbUrl = new URL(process.env.HUB_TEST_DATABASE_URL!);
    dbUrl.pathname = '/' + url;
    const mod = (p: string) => JSON.stringify(pathToFileURL(new URL(p, import.meta.url).pathname).href);
    const script = `
      import pg from 'pg';
      import { Deliverer } from ${mod('../../src/pipeline/subscriptions/deliverer.ts')};
      import { FakeClock } from ${mod('../../src/platform/clock.ts')};
      import { validateConfig } from ${mod('../../src/platform/config.ts')};
      import { createLogger } from ${mod('../../src/platform/logger.ts')};
      import { Keyring } from ${mod('../../src/security/keyring.ts')};
      const pool = new pg.Pool({ connectionString: ${JSON.stringify(dbUrl.toString())} });
      const config = validateConfig({ subscriptions: { allowHttp: true, allowPrivateAddresses: true, timeoutMs: 60000 } });
      const d = new Deliverer({ pool, keyring: new Keyring([Buffer.alloc(32, 9)], 'test'), log: createLogger('silent'), clock: new FakeClock(${s.clock.now().getTime()}), config: config.subscriptions });
      await d.runOnce();
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('../..', import.meta.url).pathname, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = once(child, 'exit');
    await Promise.race([once(rx, 'request'), exited.then(() => assert.fail(`the deliverer process ended early: ${stderr}`))]);
    child.kill('SIGKILL');
    await exited;

    const [claimed] = await deliveriesOf(s.pool, subscription.id);
    assert.equal(claimed.status, 'pending');
    assert.equal(claimed.attempts, 1);
    assert.equal((await attemptsOf(s.pool, claimed.id)).length, 0, 'the killed attempt recorded nothing');
    const survivor = s.deliverer2({ timeoutMs: 60_000 });
    assert.equal(await survivor.runOnce(), 0, 'still leased');
    s.clock.set(claimed.next_attempt_at);
    rx.reply = 200;
    assert.equal(await survivor.runOnce(), 1);
    const [done] = await deliveriesOf(s.pool, subscription.id);
    assert.equal(done.status, 'succeeded');
    assert.equal(done.attempts, 2);
    assert.equal(rx.received.length, 2);
    assert.equal(rx.received[0]!.headers['webhook-id'], rx.received[1]!.headers['webhook-id']);
  });
});

describe('the running deliverer', { timeout: 60_000 }, () => {
  test('start() delivers without being asked and stop() waits for deliveries in flight', async (t) => {
    const s = await setup({ subscriptions: { pollMs: 20 } });
    const rx = await new Receiver().start();
    t.after(() => rx.close());
    const owner = await s.owner(['tracking:read']);
    await s.subscribe({ url: rx.url, eventTypes: ['shipment.*'], owner });
    s.deliverer.start();
    const all = new Promise<void>((resolve) => rx.on('request', () => rx.received.length === 5 && resolve()));
    await ingest(s.pool, [1, 2, 3, 4, 5].map(() => event('shipment.dispatched.v1')));
    await s.drain();
    await all;
    await s.deliverer.stop();
    const r = await s.pool.query(`select status, count(*)::int n from hub_deliveries group by status`);
    assert.deepEqual(r.rows, [{ status: 'succeeded', n: 5 }]);
  });

  test('a revoked owner\'s deliveries are not sent', async (t) => {
    const s = await setup();
    const rx = await new Receiver().start();
    t.after(() => rx.close());
    const owner = await s.owner(['tracking:read']);
    const { subscription } = await s.subscribe({ url: rx.url, eventTypes: ['shipment.*'], owner });
    await ingest(s.pool, [event('shipment.dispatched.v1')]);
    await s.drain();
    await s.pool.query(`update hub_clients set revoked_at = now() where id = $1`, [owner]);
    assert.equal(await s.deliverer.runOnce(), 1);
    assert.equal(rx.received.length, 0);
    const [d] = await deliveriesOf(s.pool, subscription.id);
    assert.equal(d.status, 'failed');
    assert.equal(d.last_error, 'not sent: the owner client is revoked');
    assert.equal((await s.store.get('default', subscription.id))!.failingSince, null, 'not the endpoint\'s failure');
    await ingest(s.pool, [event('shipment.delivered.v1')]);
    await s.drain();
    assert.equal((await deliveriesOf(s.pool, subscription.id)).length, 1, 'no new deliveries for a revoked owner');
  });
});
