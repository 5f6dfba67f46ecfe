/**
 * POST /v1/webhooks/{partner} over real HTTP on a real database: accepted deliveries are
 * stored then mapped; every attack is refused with a precise problem+json and leaves
 * nothing but a security log entry; duplicates, replays and reused ids; secret rotation;
 * the hex HMAC scheme with its IP allow-list; unmapped deliveries raise an exception;
 * receipts left stored are mapped later; and fuzzed requests never crash the route or
 * leave a half-written receipt.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { putSecret } from '../../src/security/secrets.ts';
import { generateWebhookSecret, signHmacHex, standardHeaders } from '../../src/security/webhook-signature.ts';
import { StoredReceiptSweeper, mapStoredReceipts } from '../../src/pipeline/webhook-receipts.ts';
import { TEST_KEYRING, assertProblem, call, cloudEvent, startApi, type Answer } from './harness.ts';
import { silent } from '../helpers/pipeline.ts';

const TYPE = 'shipment.tracking.v1';
/** A partner's configuration with every key spelled out. */
const partner = (p: Record<string, unknown>) => ({ tenant: 'default', scheme: 'standard', signatureHeader: 'x-hmac-signature', allowIps: [], mapper: 'cloudevents', ...p });
const PARTNERS = {
  acme: partner({ secret: 'acme-webhook' }),
  small: partner({ secret: 'acme-webhook', maxBodyBytes: 2048 }),
  legacy: partner({ scheme: 'hmac-sha256-hex', secret: 'legacy-hmac', signatureHeader: 'X-Hmac-Signature', allowIps: ['127.0.0.0/8', '::1'] }),
  legacyid: partner({ scheme: 'hmac-sha256-hex', secret: 'legacy-hmac', idHeader: 'X-Delivery-Id', timestampHeader: 'X-Timestamp' }),
  fenced: partner({ secret: 'acme-webhook', allowIps: ['10.0.0.0/8', '2001:db8::/32', '203.0.113.7'] }),
  nosecret: partner({ secret: 'never-stored' }),
  wrongkind: partner({ secret: 'legacy-hmac' }),
  north: partner({ tenant: 'north', secret: 'north-webhook' }),
  rotating: partner({ secret: 'rotating-webhook' }),
};
const api = await startApi({ config: { webhooks: { maxBodyBytes: 16 * 1024, partners: PARTNERS } } });
const pool = api.pool;

await pool.query(`insert into hub_tenants (id, name) values ('north', 'North') on conflict do nothing`);
const ACME_SECRET = generateWebhookSecret();
const NORTH_SECRET = generateWebhookSecret();
const LEGACY_SECRET = 'legacy-shared-secret-0123456789';
await putSecret(pool, TEST_KEYRING, { tenantId: 'default', name: 'acme-webhook', value: ACME_SECRET, actor: 'test', overlapSeconds: 0 });
await putSecret(pool, TEST_KEYRING, { tenantId: 'north', name: 'north-webhook', value: NORTH_SECRET, actor: 'test', overlapSeconds: 0 });
await putSecret(pool, TEST_KEYRING, { tenantId: 'default', name: 'legacy-hmac', value: LEGACY_SECRET, actor: 'test', overlapSeconds: 0 });

const now = () => Math.floor(Date.now() / 1000);
const msgId = () => `msg_${randomUUID()}`;
const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8');
const shipment = (shipmentId: string, attrs: Record<string, unknown> = {}) => cloudEvent(TYPE, { source: 'urn:partner:acme', ...attrs }, { shipmentId });

interface Delivery {
  partner?: string;
  body: Buffer;
  contentType?: string | null;
  headers?: Record<string, string>;
}

function send(d: Delivery): Promise<Answer> {
  const headers: Record<string, string> = { authorization: '', ...(d.contentType === null ? {} : { 'content-type': d.contentType ?? 'application/cloudevents+json' }), ...d.headers };
  return call(`${api.url}/v1/webhooks/${d.partner ?? 'acme'}`, { method: 'POST', headers, body: d.body });
}

/** A delivery signed the Standard Webhooks way (by the reference library unless secrets are given). */
function signed(body: Buffer, o: { id?: string; ts?: number; secret?: string; secrets?: string[] } = {}): Record<string, string> {
  const id = o.id ?? msgId();
  const ts = o.ts ?? now();
  if (o.secrets) return standardHeaders(o.secrets, id, ts, body);
  const signature = new Webhook(o.secret ?? ACME_SECRET).sign(id, new Date(ts * 1000), body);
  return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature };
}

interface Counts {
  receipts: number;
  events: number;
  exceptions: number;
  securityLog: number;
}

async function counts(): Promise<Counts> {
  const r = await pool.query(
    `select (select count(*)::int from hub_webhook_receipts) as receipts, (select count(*)::int from hub_events) as events,
            (select count(*)::int from hub_exceptions) as exceptions, (select count(*)::int from hub_security_log) as "securityLog"`,
  );
  return r.rows[0];
}

async function securityEntries(a: Answer) {
  return (await pool.query(`select * from hub_security_log where correlation_id = $1 order by id`, [a.headers.get('x-correlation-id')])).rows;
}

/** The refusal: its problem, nothing stored, one security log entry naming the code and the partner, without the body. */
async function assertRefused(d: Delivery, status: number, code: string, partner = d.partner ?? 'acme'): Promise<Answer> {
  const before = await counts();
  const a = await send(d);
  assertProblem(a, status, code);
  const after = await counts();
  assert.deepEqual({ ...after, securityLog: after.securityLog - 1 }, before, `${code}: nothing stored but one security log entry`);
  const [entry, ...more] = await securityEntries(a);
  assert.equal(more.length, 0);
  assert.equal(entry.kind, 'webhook');
  assert.equal(entry.code, code);
  assert.equal(entry.partner, partner);
  assert.equal(entry.remote_ip, '127.0.0.1');
  assert.ok(!entry.detail.includes('SECRET-MARKER') && !entry.detail.includes(ACME_SECRET), 'no body or secret in the log');
  return a;
}

const MARKED = (shipmentId = `SHP-${randomUUID()}`) => bytes(shipment(shipmentId, { subject: 'SECRET-MARKER' }));

// ----------------------------------------------------------------------------- accepted

test('accepted: signed by the reference library, stored before the answer, then mapped into the inbox and the timeline', async () => {
  const ev = shipment('SHP-WH-1', { correlationid: 'corr-wh-1' });
  const body = bytes(ev);
  const headers = signed(body);
  const a = await send({ body, headers });
  assert.equal(a.status, 202, JSON.stringify(a.body));
  assert.deepEqual(Object.keys(a.body).sort(), ['events', 'mapped', 'receiptId', 'status']);
  assert.equal(a.body.status, 'accepted');
  assert.equal(a.body.events, 1);
  assert.equal(a.body.mapped, true);
  const [receipt] = (await pool.query(`select * from hub_webhook_receipts where id = $1`, [a.body.receiptId])).rows;
  assert.equal(receipt.partner, 'acme');
  assert.equal(receipt.tenant_id, 'default');
  assert.equal(receipt.webhook_id, headers['webhook-id']);
  assert.equal(receipt.status, 'mapped');
  assert.equal(receipt.events, 1);
  assert.ok(receipt.mapped_at);
  assert.ok(Buffer.compare(receipt.body, body) === 0, 'the raw bytes');
  assert.equal(receipt.body_sha256.toString('hex'), createHash('sha256').update(body).digest('hex'));
  assert.equal(receipt.content_type, 'application/cloudevents+json');
  assert.equal(receipt.signed_at.getTime() / 1000, Number(headers['webhook-timestamp']));
  const [event] = (await pool.query(`select * from hub_events where id = $1`, [ev.id])).rows;
  assert.equal(event.source, 'urn:partner:acme', 'the source as sent');
  assert.equal(event.tenant_id, 'default');
  assert.equal(event.key, 'SHP-WH-1');
  assert.equal(event.correlation_id, 'corr-wh-1');
  const timeline = await call(`${api.url}/v1/timeline/SHP-WH-1`);
  assert.equal(timeline.status, 200, JSON.stringify(timeline.body));
  assert.deepEqual(timeline.body.events.map((e: { id: string }) => e.id), [ev.id]);
});

test('accepted: a batch (cloudevents-batch+json, or a JSON array as application/json), events in the partner\'s tenant', async () => {
  for (const contentType of ['application/cloudevents-batch+json', 'application/json; charset=utf-8']) {
    const events = [shipment('SHP-WH-B'), shipment('SHP-WH-B')];
    const body = bytes(events);
    const a = await send({ body, contentType, headers: signed(body) });
    assert.equal(a.status, 202, JSON.stringify(a.body));
    assert.deepEqual([a.body.events, a.body.mapped], [2, true]);
    const r = await pool.query(`select tenant_id from hub_events where id = any($1)`, [events.map((e) => e.id)]);
    assert.deepEqual(r.rows.map((x) => x.tenant_id), ['default', 'default']);
  }
  const ev = shipment('SHP-NORTH');
  const body = bytes(ev);
  const a = await send({ partner: 'north', body, contentType: 'application/json', headers: signed(body, { secret: NORTH_SECRET }) });
  assert.equal(a.status, 202, JSON.stringify(a.body));
  const [row] = (await pool.query(`select tenant_id from hub_events where id = $1`, [ev.id])).rows;
  assert.equal(row.tenant_id, 'north', 'the partner\'s tenant');
  const [receipt] = (await pool.query(`select tenant_id from hub_webhook_receipts where id = $1`, [a.body.receiptId])).rows;
  assert.equal(receipt.tenant_id, 'north');
});

// ----------------------------------------------------------------------------- attacks

test('attack: unknown partner -> 404 webhook.unknown_partner', async () => {
  const body = MARKED();
  await assertRefused({ partner: 'nobody', body, headers: signed(body) }, 404, 'webhook.unknown_partner', 'nobody');
  await assertRefused({ partner: '__proto__', body, headers: signed(body) }, 404, 'webhook.unknown_partner', '__proto__');
  await assertRefused({ partner: 'toString', body, headers: signed(body) }, 404, 'webhook.unknown_partner', 'toString');
  const [entry] = await securityEntries(await send({ partner: 'nobody', body, headers: signed(body) }));
  assert.equal(entry.tenant_id, null);
});

test('attack: a bad signature -> 401 webhook.signature_invalid', async () => {
  const body = MARKED();
  await assertRefused({ body, headers: signed(body, { secret: generateWebhookSecret() }) }, 401, 'webhook.signature_invalid');
  const h = signed(body);
  await assertRefused({ body, headers: { ...h, 'webhook-signature': 'v1,' + Buffer.alloc(32).toString('base64') } }, 401, 'webhook.signature_invalid');
  await assertRefused({ body, headers: { ...h, 'webhook-signature': 'garbage' } }, 401, 'webhook.signature_invalid');
  await assertRefused({ body, headers: { ...h, 'webhook-id': h['webhook-id'] + 'x' } }, 401, 'webhook.signature_invalid');
  await assertRefused({ body, headers: { ...h, 'webhook-timestamp': String(Number(h['webhook-timestamp']) - 1) } }, 401, 'webhook.signature_invalid');
});

test('attack: the body changed by one byte -> 401 webhook.signature_invalid', async () => {
  const body = MARKED();
  const headers = signed(body);
  for (const at of [0, Math.floor(body.length / 2), body.length - 1]) {
    const changed = Buffer.from(body);
    changed[at] = changed[at]! ^ 0x01;
    await assertRefused({ body: changed, headers }, 401, 'webhook.signature_invalid');
  }
  await assertRefused({ body: Buffer.concat([body, Buffer.from(' ')]), headers }, 401, 'webhook.signature_invalid');
});

test('attack: stale and future timestamps -> 401 webhook.timestamp_too_old / webhook.timestamp_in_future (tolerance 300 s both ways)', async () => {
  const body = MARKED();
  const old = await assertRefused({ body, headers: signed(body, { ts: now() - 360 }) }, 401, 'webhook.timestamp_too_old');
  assert.match(old.body.detail, /36\d s old; at most 300 s/);
  await assertRefused({ body, headers: signed(body, { ts: now() + 360 }) }, 401, 'webhook.timestamp_in_future');
  await assertRefused({ body, headers: signed(body, { ts: 0 }) }, 401, 'webhook.timestamp_too_old');
  // within the tolerance, either way
  for (const ts of [now() - 240, now() + 240]) {
    const b = MARKED();
    assert.equal((await send({ body: b, headers: signed(b, { ts }) })).status, 202);
  }
});

test('attack: malformed timestamp or id -> 400 webhook.bad_timestamp / webhook.bad_id', async () => {
  const body = MARKED();
  for (const ts of ['yesterday', '1.5', '-5', '1e9', String(Date.now())]) {
    const a = await assertRefused({ body, headers: { ...signed(body), 'webhook-timestamp': ts } }, 400, 'webhook.bad_timestamp');
    assert.deepEqual(a.body.issues.map((i: { path: string }) => i.path), ['webhook-timestamp']);
  }
  for (const id of ['has space', 'x'.repeat(257)]) {
    await assertRefused({ body, headers: signed(body, { id }) }, 400, 'webhook.bad_id');
  }
});

test('attack: a replayed delivery -> 409 webhook.replayed, processed once', async () => {
  const body = MARKED();
  const headers = signed(body);
  const first = await send({ body, headers });
  assert.equal(first.status, 202);
  const again = await assertRefused({ body, headers }, 409, 'webhook.replayed');
  assert.match(again.body.detail, new RegExp(`receipt ${first.body.receiptId}`));
});

test('attack: oversized bodies -> 413 webhook.body_too_large (Content-Length, chunked, and beyond every partner\'s limit)', async () => {
  const big = Buffer.concat([MARKED(), Buffer.alloc(3000, 0x20)]);
  await assertRefused({ partner: 'small', body: big, headers: signed(big) }, 413, 'webhook.body_too_large', 'small');
  // chunked: no Content-Length, the bytes are counted
  const before = await counts();
  const chunked = await call(`${api.url}/v1/webhooks/small`, {
    method: 'POST',
    headers: { authorization: '', 'content-type': 'application/json', ...signed(big) },
    body: new ReadableStream({ start(c) { c.enqueue(big.subarray(0, 1000)); c.enqueue(big.subarray(1000)); c.close(); } }),
    duplex: 'half',
  } as RequestInit);
  assertProblem(chunked, 413, 'webhook.body_too_large');
  assert.equal((await counts()).receipts, before.receipts);
  assert.equal((await securityEntries(chunked))[0]?.code, 'webhook.body_too_large');
  const huge = Buffer.alloc(20 * 1024, 0x20);
  const a = await call(`${api.url}/v1/webhooks/acme`, {
    method: 'POST',
    headers: { authorization: '', 'content-type': 'application/json', ...signed(huge) },
    body: new ReadableStream({ start(c) { c.enqueue(huge); c.close(); } }),
    duplex: 'half',
  } as RequestInit);
  assertProblem(a, 413, 'webhook.body_too_large');
  assert.equal((await securityEntries(a))[0]?.code, 'webhook.body_too_large');
});

test('attack: a wrong content type -> 415 webhook.unsupported_media_type', async () => {
  const body = MARKED();
  for (const contentType of ['text/plain', 'application/xml', 'application/json; charset=iso-8859-1', 'application/cloudevents+xml', 'nonsense', null]) {
    await assertRefused({ body, contentType, headers: signed(body) }, 415, 'webhook.unsupported_media_type');
  }
  await assertRefused({ body, headers: { ...signed(body), 'content-encoding': 'gzip' } }, 415, 'webhook.unsupported_media_type');
});

test('attack: missing signature headers -> 400 webhook.missing_headers naming each', async () => {
  const body = MARKED();
  const full = signed(body);
  for (const drop of [['webhook-id'], ['webhook-timestamp'], ['webhook-signature'], ['webhook-id', 'webhook-timestamp', 'webhook-signature']]) {
    const headers = Object.fromEntries(Object.entries(full).filter(([k]) => !drop.includes(k)));
    const a = await assertRefused({ body, headers }, 400, 'webhook.missing_headers');
    assert.deepEqual(a.body.issues, drop.map((path) => ({ path, message: 'is required' })));
    for (const h of drop) assert.match(a.body.detail, new RegExp(h));
  }
  const blank = await assertRefused({ body, headers: { ...full, 'webhook-signature': ' ' } }, 400, 'webhook.missing_headers');
  assert.deepEqual(blank.body.issues, [{ path: 'webhook-signature', message: 'is required' }]);
});

test('attack: a partner whose secret is not stored (or not a whsec_ secret) -> 503 webhook.secret_missing, the secret\'s name not told', async () => {
  const body = MARKED();
  for (const partner of ['nosecret', 'wrongkind']) {
    const a = await assertRefused({ partner, body, headers: signed(body) }, 503, 'webhook.secret_missing', partner);
    assert.ok(a.headers.get('retry-after'));
    assert.doesNotMatch(JSON.stringify(a.body), /never-stored|legacy-hmac/);
  }
});

test('attack: a source address not on the partner\'s allow-list -> 403 webhook.ip_not_allowed', async () => {
  const body = MARKED();
  await assertRefused({ partner: 'fenced', body, headers: signed(body) }, 403, 'webhook.ip_not_allowed', 'fenced');
});

// ----------------------------------------------------------------------------- duplicates

test('duplicates: a retry (same id and body, new timestamp) -> 200 duplicate, not processed again; another body under the id -> 409 webhook.id_reused', async () => {
  const ev = shipment('SHP-DUP');
  const body = bytes(ev);
  const id = msgId();
  const first = await send({ body, headers: signed(body, { id, ts: now() - 10 }) });
  assert.equal(first.status, 202);
  const before = await counts();
  const retry = await send({ body, headers: signed(body, { id }) });
  assert.equal(retry.status, 200, JSON.stringify(retry.body));
  assert.match(retry.contentType, /^application\/json/);
  const [receipt] = (await pool.query(`select received_at from hub_webhook_receipts where id = $1`, [first.body.receiptId])).rows;
  assert.deepEqual(retry.body, { status: 'duplicate', receiptId: first.body.receiptId, receivedAt: receipt.received_at.toISOString() });
  const after = await counts();
  assert.deepEqual({ ...after, securityLog: after.securityLog - 1 }, before, 'nothing stored again');
  assert.equal((await securityEntries(retry))[0]?.code, 'webhook.duplicate');

  const other = bytes(shipment('SHP-DUP'));
  const reused = await assertRefused({ body: other, headers: signed(other, { id }) }, 409, 'webhook.id_reused');
  assert.match(reused.body.detail, /another body/);
});

test('duplicates: concurrent copies of one delivery are stored once (the unique constraint decides)', async () => {
  const body = bytes(shipment('SHP-RACE'));
  const id = msgId();
  const answers = await Promise.all([0, 1, 2, 3].map((i) => send({ body, headers: signed(body, { id, ts: now() - i }) })));
  assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 202]);
  const same = signed(body, { id: msgId() });
  const twins = await Promise.all([send({ body, headers: same }), send({ body, headers: same })]);
  assert.deepEqual(twins.map((a) => a.status).sort(), [202, 409]);
  const r = await pool.query(`select count(*)::int as n from hub_webhook_receipts where webhook_id = any($1)`, [[id, same['webhook-id']]]);
  assert.equal(r.rows[0].n, 2);
});

// ----------------------------------------------------------------------------- rotation

test('rotation: with two current secrets either signature (or both) is accepted; once the old one expires it is refused', async () => {
  const oldSecret = generateWebhookSecret();
  const newSecret = generateWebhookSecret();
  await putSecret(pool, TEST_KEYRING, { tenantId: 'default', name: 'rotating-webhook', value: oldSecret, actor: 'test', overlapSeconds: 0 });
  const deliver = (secrets: string[]) => {
    const body = bytes(shipment('SHP-ROT'));
    return send({ partner: 'rotating', body, headers: signed(body, { secrets }) });
  };
  assert.equal((await deliver([oldSecret])).status, 202);
  await putSecret(pool, TEST_KEYRING, { tenantId: 'default', name: 'rotating-webhook', value: newSecret, actor: 'test', overlapSeconds: 3600 });
  for (const secrets of [[oldSecret], [newSecret], [oldSecret, newSecret]]) assert.equal((await deliver(secrets)).status, 202, `${secrets.length} signature(s)`);
  await putSecret(pool, TEST_KEYRING, { tenantId: 'default', name: 'rotating-webhook', value: generateWebhookSecret(), actor: 'test', overlapSeconds: 0 });
  const body = bytes(shipment('SHP-ROT'));
  await assertRefused({ partner: 'rotating', body, headers: signed(body, { secrets: [oldSecret, newSecret] }) }, 401, 'webhook.signature_invalid', 'rotating');
});

// ----------------------------------------------------------------------------- hmac-sha256-hex

test('hmac-sha256-hex: hex HMAC of the body; the id is the body digest, so a repeat is a duplicate', async () => {
  const body = bytes(shipment('SHP-HEX'));
  const sig = signHmacHex(LEGACY_SECRET, body);
  const a = await send({ partner: 'legacy', body, contentType: 'application/json', headers: { 'x-hmac-signature': sig } });
  assert.equal(a.status, 202, JSON.stringify(a.body));
  const [receipt] = (await pool.query(`select webhook_id, signed_at from hub_webhook_receipts where id = $1`, [a.body.receiptId])).rows;
  assert.equal(receipt.webhook_id, createHash('sha256').update(body).digest('hex'));
  assert.equal(receipt.signed_at, null);
  const again = await send({ partner: 'legacy', body, contentType: 'application/json', headers: { 'x-hmac-signature': `sha256=${sig.toUpperCase()}` } });
  assert.equal(again.status, 200);
  assert.equal(again.body.receiptId, a.body.receiptId);
  const changed = Buffer.from(body);
  changed[5] = changed[5]! ^ 1;
  await assertRefused({ partner: 'legacy', body: changed, contentType: 'application/json', headers: { 'x-hmac-signature': sig } }, 401, 'webhook.signature_invalid', 'legacy');
  const missing = await assertRefused({ partner: 'legacy', body, contentType: 'application/json' }, 400, 'webhook.missing_headers', 'legacy');
  assert.deepEqual(missing.body.issues, [{ path: 'x-hmac-signature', message: 'is required' }]);
});

test('hmac-sha256-hex with id and timestamp headers: tolerance, retry -> duplicate, same timestamp -> replayed, other body -> id reused', async () => {
  const body = bytes(shipment('SHP-HEX2'));
  const id = `dlv-${randomUUID()}`;
  const headers = (ts: number, b = body) => ({ 'x-delivery-id': id, 'x-timestamp': String(ts), 'x-hmac-signature': signHmacHex(LEGACY_SECRET, b) });
  const ts = now();
  assert.equal((await send({ partner: 'legacyid', body, contentType: 'application/json', headers: headers(ts) })).status, 202);
  await assertRefused({ partner: 'legacyid', body, contentType: 'application/json', headers: headers(ts) }, 409, 'webhook.replayed', 'legacyid');
  assert.equal((await send({ partner: 'legacyid', body, contentType: 'application/json', headers: headers(ts + 5) })).status, 200);
  const other = bytes(shipment('SHP-HEX2'));
  await assertRefused({ partner: 'legacyid', body: other, contentType: 'application/json', headers: headers(ts, other) }, 409, 'webhook.id_reused', 'legacyid');
  await assertRefused({ partner: 'legacyid', body, contentType: 'application/json', headers: headers(now() - 1000) }, 401, 'webhook.timestamp_too_old', 'legacyid');
  const missing = await assertRefused({ partner: 'legacyid', body, contentType: 'application/json', headers: { 'x-hmac-signature': 'ab' } }, 400, 'webhook.missing_headers', 'legacyid');
  assert.deepEqual(missing.body.issues.map((i: { path: string }) => i.path), ['x-delivery-id', 'x-timestamp']);
});

test('IP allow-list: addresses and CIDR ranges, IPv4 and IPv6, behind a trusted proxy', async () => {
  const proxied = await startApi({ pool, config: { security: { trustProxy: true }, webhooks: { partners: PARTNERS } } });
  const deliver = (forwardedFor: string) => {
    const body = bytes(shipment('SHP-IP'));
    return call(`${proxied.url}/v1/webhooks/fenced`, { method: 'POST', headers: { authorization: '', 'content-type': 'application/json', 'x-forwarded-for': forwardedFor, ...signed(body) }, body });
  };
  for (const ip of ['10.1.2.3', '2001:db8::5', '2001:DB8:0:0::ffff', '203.0.113.7']) assert.equal((await deliver(ip)).status, 202, ip);
  for (const ip of ['11.0.0.1', '203.0.113.8', '2001:db9::1', '::1', 'not-an-address']) {
    const a = await deliver(ip);
    assertProblem(a, 403, 'webhook.ip_not_allowed');
    const [entry] = await securityEntries(a);
    assert.equal(entry.remote_ip, ip);
  }
});

// ----------------------------------------------------------------------------- mapping

test('unmapped: a signed body that is not a valid event is stored, answered 202 mapped:false, and raises a business exception', async () => {
  const cases: { body: Buffer; contentType: string; code: string }[] = [
    { body: bytes('{"not json'), contentType: 'application/json', code: 'request.malformed_json' },
    { body: bytes(shipment('SHP-T', { type: 'no.such.type.v1' })), contentType: 'application/cloudevents+json', code: 'event.unknown_type' },
    { body: bytes(shipment('SHP-T', { tenant: 'north' })), contentType: 'application/cloudevents+json', code: 'webhook.wrong_tenant' },
    { body: bytes([]), contentType: 'application/cloudevents-batch+json', code: 'batch.empty' },
  ];
  for (const c of cases) {
    const headers = signed(c.body);
    const before = await counts();
    const a = await send({ body: c.body, contentType: c.contentType, headers });
    assert.equal(a.status, 202, JSON.stringify(a.body));
    assert.deepEqual({ status: a.body.status, events: a.body.events, mapped: a.body.mapped }, { status: 'accepted', events: 0, mapped: false });
    const after = await counts();
    assert.deepEqual(after, { ...before, receipts: before.receipts + 1, exceptions: before.exceptions + 1 }, 'a receipt and an exception, no event');
    const [receipt] = (await pool.query(`select * from hub_webhook_receipts where id = $1`, [a.body.receiptId])).rows;
    assert.equal(receipt.status, 'unmapped');
    assert.match(receipt.error, new RegExp(`^${c.code.replace('.', '\\.')}: `));
    const [ex] = (await pool.query(`select * from hub_exceptions where key = $1`, [`webhook:acme:${headers['webhook-id']}`])).rows;
    assert.equal(ex.code, 'webhook.unmapped');
    assert.equal(ex.tenant_id, 'default');
    assert.equal(ex.details.receiptId, a.body.receiptId);
    assert.equal(ex.details.errorCode, c.code);
    assert.ok(Array.isArray(ex.details.issues));
    assert.ok(!JSON.stringify(ex.details).includes('SHP-T'), 'no body in the exception');
    const timeline = await call(`${api.url}/v1/timeline/${encodeURIComponent(ex.key)}`);
    assert.equal(timeline.status, 200, JSON.stringify(timeline.body));
    assert.deepEqual(timeline.body.exceptions.map((e: { code: string }) => e.code), ['webhook.unmapped']);
  }
});

test('mapStoredReceipts: a receipt left stored (a crash before mapping) is mapped later, once', async () => {
  const ev = shipment('SHP-LATE');
  const body = bytes(ev);
  const insert = (partner: string, id: string, b: Buffer) =>
    pool.query(
      `insert into hub_webhook_receipts (tenant_id, partner, webhook_id, signed_at, received_at, content_type, body_sha256, body)
       values ('default', $1, $2, now(), now() - interval '10 minutes', 'application/cloudevents+json', sha256($3), $3) returning id`,
      [partner, id, b],
    );
  const [stored] = (await insert('acme', msgId(), body)).rows;
  const [orphan] = (await insert('retired-partner', msgId(), body)).rows;
  const [fresh] = (await pool.query(
    `insert into hub_webhook_receipts (tenant_id, partner, webhook_id, content_type, body_sha256, body) values ('default', 'acme', $1, 'application/json', sha256($2), $2) returning id`,
    [msgId(), bytes(shipment('SHP-FRESH'))],
  )).rows;
  const deps = { pool, log: silent, config: api.config };
  const first = await mapStoredReceipts(deps, { graceSeconds: 60 });
  assert.deepEqual(first, { mapped: 1, unmapped: 1, stored: 0 });
  const status = async (id: number) => (await pool.query(`select status, events, error from hub_webhook_receipts where id = $1`, [id])).rows[0];
  assert.deepEqual(await status(stored.id), { status: 'mapped', events: 1, error: null });
  assert.equal((await status(orphan.id)).status, 'unmapped');
  assert.equal((await status(fresh.id)).status, 'stored', 'a receipt younger than the grace period is left to its request');
  assert.equal((await pool.query(`select count(*)::int as n from hub_events where id = $1`, [ev.id])).rows[0].n, 1);
  assert.deepEqual(await mapStoredReceipts(deps, { graceSeconds: 60 }), { mapped: 0, unmapped: 0, stored: 0 });
  assert.deepEqual(await mapStoredReceipts(deps, { graceSeconds: 0 }), { mapped: 1, unmapped: 0, stored: 0 });

  // the sweeper maps at start; stop() waits for the run in flight
  const [left] = (await insert('acme', msgId(), bytes(shipment('SHP-SWEEP')))).rows;
  const sweeper = new StoredReceiptSweeper(deps, { intervalMs: 3_600_000, graceSeconds: 60 });
  sweeper.start();
  await sweeper.stop();
  assert.equal((await status(left.id)).status, 'mapped');
});

// ----------------------------------------------------------------------------- fuzz

/** POST with arbitrary (latin1) header values through node:http, which fetch would refuse to send. */
function rawPost(path: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; contentType: string; text: string }> {
  const u = new URL(api.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path, method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('fuzz: any headers and body get a 2xx JSON answer or a problem+json, never a crash or a half-written receipt', async () => {
  const before = await counts();
  const headerText = fc.stringMatching(/^[\t\x20-\x7e\x80-\xff]{0,60}$/);
  const validBody = fc.oneof(
    fc.constant(null).map(() => bytes(shipment('SHP-FUZZ'))),
    fc.constant(null).map(() => bytes([shipment('SHP-FUZZ'), shipment('SHP-FUZZ')])),
    fc.jsonValue({ maxDepth: 3 }).map((v) => bytes(v)),
  );
  const anyBody = fc.oneof({ arbitrary: validBody, weight: 4 }, fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), fc.string({ maxLength: 100 }).map(bytes));
  // mostly well-formed, so that the deeper checks (signature, duplicates, mapping) are reached too
  const mostly = <T>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) => fc.oneof({ arbitrary: usual, weight: 4 }, { arbitrary: odd, weight: 1 });
  const fuzzCase = fc.record({
    partner: mostly(fc.constantFrom('acme', 'legacy', 'legacyid'), fc.constantFrom('nobody', 'ACME', '%00', 'a'.repeat(70))),
    contentType: mostly(
      fc.constantFrom('application/json', 'application/cloudevents+json', 'application/cloudevents-batch+json', 'application/json; charset=utf-8'),
      fc.option(fc.oneof(fc.constantFrom('text/plain', 'application/json; charset=latin1', ';;', 'application/'), headerText)),
    ),
    body: anyBody,
    id: mostly(fc.constantFrom('fuzz-1', 'fuzz-2', 'fuzz-3'), fc.option(headerText)),
    ts: mostly(fc.constantFrom('now', 'now', 'now', 'stale', 'future'), fc.option(headerText)),
    signature: fc.constantFrom('valid', 'valid', 'valid', 'none', 'garbage', 'other-secret'),
    flipByte: mostly(fc.constant(null), fc.nat()),
    extra: mostly(fc.constant({}), fc.dictionary(fc.constantFrom('webhook-signature', 'x-hmac-signature', 'x-delivery-id', 'x-timestamp', 'content-encoding', 'x-forwarded-for'), headerText, { maxKeys: 2 })),
  });
  let accepted = 0;
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(fuzzCase, async (c) => {
      const headers: Record<string, string> = {};
      if (c.contentType !== null) headers['content-type'] = c.contentType;
      const ts = c.ts === 'now' ? String(now()) : c.ts === 'stale' ? String(now() - 1000) : c.ts === 'future' ? String(now() + 1000) : c.ts;
      if (c.id !== null) headers['webhook-id'] = headers['x-delivery-id'] = c.id;
      if (ts !== null) headers['webhook-timestamp'] = headers['x-timestamp'] = ts;
      if (c.signature !== 'none') {
        const secret = c.signature === 'other-secret' ? generateWebhookSecret() : ACME_SECRET;
        headers['webhook-signature'] = c.signature === 'garbage' ? 'v1,garbage' : standardHeaders([secret], c.id ?? '', Number(ts ?? 0), c.body)['webhook-signature']!;
        headers['x-hmac-signature'] = signHmacHex(c.signature === 'valid' ? LEGACY_SECRET : 'other', c.body);
      }
      Object.assign(headers, c.extra);
      const body = Buffer.from(c.body);
      if (c.flipByte !== null && body.length) body[c.flipByte % body.length] = body[c.flipByte % body.length]! ^ 0x40;
      const a = await rawPost(`/v1/webhooks/${c.partner}`, headers, body);
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      assert.ok(a.status < 500, `status ${a.status}: ${a.text}`);
      if (a.status >= 200 && a.status < 300) {
        assert.match(a.contentType, /^application\/json/);
        const answer = JSON.parse(a.text);
        assert.ok(answer.status === 'accepted' || answer.status === 'duplicate', a.text);
        if (a.status === 202) accepted++;
      } else {
        assert.match(a.contentType, /^application\/problem\+json/, a.text);
        const problem = JSON.parse(a.text);
        assert.equal(problem.status, a.status);
        assert.match(problem.code, /^(webhook|request)\./);
      }
    }),
    { numRuns: 250 },
  );
  assert.ok((statuses.get(202) ?? 0) > 0 && (statuses.get(401) ?? 0) > 0, `the fuzz reaches acceptance and signature checks: ${JSON.stringify([...statuses])}`);
  const after = await counts();
  assert.equal(after.receipts - before.receipts, accepted, 'a receipt for every 202, none for anything else');
  const broken = await pool.query(
    `select id, status from hub_webhook_receipts
      where body is null or body_sha256 <> sha256(body) or status = 'stored' or mapped_at is null
         or (status = 'unmapped') <> (error is not null) or (status = 'mapped' and events < 1)`,
  );
  assert.deepEqual(broken.rows, [], 'every receipt is whole: body and digest agree, mapped or unmapped with its reason');
  const unmapped = await pool.query(`select count(*)::int as n from hub_webhook_receipts where status = 'unmapped'`);
  const raised = await pool.query(`select count(*)::int as n from hub_exceptions where code = 'webhook.unmapped'`);
  assert.equal(raised.rows[0].n, unmapped.rows[0].n, 'one exception per unmapped receipt');
});
