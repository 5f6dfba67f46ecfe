/**
 * The authorization matrix: every route of the route table, asked
 *   - without a credential, with a made-up one,
 *   - by a client holding exactly one scope (each of the 17 in turn),
 *   - by a client holding every scope but the one the route needs,
 *   - by a client of another tenant holding every scope,
 * with the exact status each cell must get. Each route has a probe: a request that
 * succeeds for the right client, built on fresh fixtures of tenant default. A route
 * without a probe fails the test, so a new endpoint cannot escape the matrix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SCOPES, type Scope } from '../../src/domain/scopes.ts';
import { ALL_ROUTES, type RouteName } from '../../src/api/route-table.ts';
import { ingest } from '../../src/pipeline/inbox.ts';
import { requestReplay } from '../../src/pipeline/replay.ts';
import { createClient } from '../../src/security/clients.ts';
import { createSession, createUser, type UserInfo } from '../../src/security/users.ts';
import { putSecret } from '../../src/security/secrets.ts';
import { SubscriptionStore } from '../../src/pipeline/subscriptions/store.ts';
import { generateWebhookSecret, standardHeaders } from '../../src/security/webhook-signature.ts';
import { call, cloudEvent, startApi, tokenFor, TEST_KEYRING, type Answer } from './harness.ts';

const api = await startApi({
  config: {
    security: { rateLimit: { perSecond: 10000, burst: 10000 } },
    webhooks: { partners: { matrix: { secret: 'matrix-webhook' } } },
    connectors: { odoo: { default: { url: 'http://127.0.0.1:9', db: 'logi', login: 'admin', secretName: 'odoo-password', hintTokenSecret: 'odoo-hint-token' } } },
  },
  odooHint: async () => true,
});
const pool = api.pool;

// ----------------------------------------------------------------------------- fixtures (tenant default)

const incoming = (type: string, data: Record<string, unknown> = {}, key?: string) => {
  const ce = cloudEvent(type, {}, data);
  return { id: ce.id as string, source: ce.source as string, type, specversion: '1.0', data: ce.data, extensions: {}, key: key ?? (Object.values(data)[0] as string), tenantId: 'default' };
};
const shipment = incoming('shipment.dispatched.v1', { shipmentId: 'SHP-MATRIX' });
const vehicle = incoming('vehicle.position.v1', { vehicleId: 'VEH-MATRIX' });
const broken = incoming('shipment.delivered.v1', { shipmentId: 'SHP-DEAD' });
const [, , deadSeq] = (await ingest(pool, [shipment, vehicle, broken])).map((o) => o.seq);
const deadLetterId = (await pool.query(`insert into hub_dead_letters (event_seq, key, type, source, reason, error_class, error_code, attempts) values ($1, 'SHP-DEAD', $2, $3, 'test', 'permanent', 'test.failed', 1) returning id`, [deadSeq, broken.type, broken.source])).rows[0].id as number;
const replayId = (await requestReplay(pool, { ids: [deadLetterId], tenantId: 'default' }, 'test')).replayId;
await pool.query(`insert into hub_xref (entity, canonical_id, system, external_id) values ('order', 'ord-matrix', 'odoo', '77')`);
await pool.query(`insert into hub_documents (tenant_id, ref, kind, media_type, content) values ('default', 'label:shp-matrix:1Z1', 'label', 'application/pdf', '\\x255044462d')`);

const newClient = async () => (await createClient(pool, { tenantId: 'default', name: `target-${randomUUID().slice(0, 8)}`, scopes: ['tracking:read'], actor: 'test' })).client.id;
const newSecret = async () => {
  const name = `probe-${randomUUID().slice(0, 8)}`;
  await putSecret(pool, TEST_KEYRING, { tenantId: 'default', name, value: 's3cret', actor: 'test', overlapSeconds: 0 });
  return name;
};
const newException = async () => (await pool.query(`insert into hub_exceptions (key, code, message) values ('SHP-MATRIX', 'test.exception', 'look at it') returning id`)).rows[0].id as number;
await putSecret(pool, TEST_KEYRING, { tenantId: 'default', name: 'odoo-hint-token', value: 'hint-token-of-default', actor: 'test', overlapSeconds: 0 });
const webhookSecret = generateWebhookSecret();
await putSecret(pool, TEST_KEYRING, { tenantId: 'default', name: 'matrix-webhook', value: webhookSecret, actor: 'test', overlapSeconds: 0 });
const signedWebhook = (): Req => {
  const body = JSON.stringify(cloudEvent('shipment.dispatched.v1'));
  const id = `msg_${randomUUID()}`;
  return { method: 'POST', path: '/v1/webhooks/matrix', body, contentType: 'application/json', headers: standardHeaders([webhookSecret], id, Math.floor(Date.now() / 1000), body) };
};
const subscriptionOwner = (await createClient(pool, { tenantId: 'default', name: 'subscription-owner', scopes: ['tracking:read'], actor: 'test' })).client.id;
const subscriptions = new SubscriptionStore({ pool, keyring: TEST_KEYRING, config: api.config });
const newSubscription = async () =>
  (await subscriptions.create({ tenantId: 'default', ownerClientId: subscriptionOwner, url: 'https://hooks.example.com/matrix', eventTypes: ['shipment.*'], actor: 'test' })).subscription.id;
// console: a user to sign in as, sessions to read and end, exceptions with an event behind them
const CONSOLE_PASSWORD = 'matrix console password';
const consoleUser = await createUser(pool, { tenantId: 'default', username: 'matrix-operator', password: CONSOLE_PASSWORD, scopes: ['orders:read'], actor: 'test' });
const newSession = async (user: UserInfo = consoleUser) => createSession(pool, { user, now: new Date(), absoluteSeconds: 3600 });
const newEventException = async () => {
  const ev = incoming('shipment.dispatched.v1', { shipmentId: `SHP-${randomUUID().slice(0, 8)}` });
  const [o] = await ingest(pool, [ev]);
  return (await pool.query(`insert into hub_exceptions (key, event_seq, code, message, details) values ($1, $2, 'test.mapping', 'fix me', '{"class":"mapping_error"}') returning id`, [ev.key, o!.seq])).rows[0].id as number;
};
const shipmentData = { ...(cloudEvent('shipment.dispatched.v1').data as Record<string, unknown>), shipmentId: 'SHP-MATRIX-FIXED' };
const oauthSecret = await tokenFor(pool, ['tracking:read']);
const oauthClient = (await pool.query(`select client_id from hub_client_credentials order by id desc limit 1`)).rows[0].client_id as string;

// ----------------------------------------------------------------------------- probes

type Need = Scope | 'public' | 'signature';
interface Req {
  method: string;
  path: string;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}
interface Probe {
  /** what grants access */
  need: Need;
  /** the status of a successful request */
  ok: number;
  /** the status another tenant's all-scope client gets */
  other: number;
  /** the status a console session holding the needed scope gets, when it differs from ok */
  session?: number;
  req(): Promise<Req> | Req;
}
const json = (method: string, path: string, body?: unknown): Req => ({ method, path, ...(body !== undefined ? { body, contentType: 'application/json' } : {}) });

const PROBES: Record<RouteName, Probe> = {
  postEvents: {
    need: 'tracking:write', ok: 202, other: 403, // another tenant cannot write into tenant default
    req: () => ({ method: 'POST', path: '/v1/events', body: cloudEvent('shipment.dispatched.v1', { tenant: 'default' }), contentType: 'application/cloudevents+json' }),
  },
  getEvent: { need: 'tracking:read', ok: 200, other: 404, req: () => json('GET', `/v1/events/${shipment.id}`) },
  findXrefs: { need: 'orders:read', ok: 200, other: 200, req: () => json('GET', '/v1/xref?entity=order&canonicalId=ord-matrix') },
  getTimeline: { need: 'fleet:read', ok: 200, other: 404, req: () => json('GET', '/v1/timeline/VEH-MATRIX') },
  listDeadLetters: { need: 'exceptions:read', ok: 200, other: 200, req: () => json('GET', '/v1/dead-letters') },
  getDeadLetter: { need: 'exceptions:read', ok: 200, other: 404, req: () => json('GET', `/v1/dead-letters/${deadLetterId}`) },
  replayDeadLetters: { need: 'exceptions:write', ok: 202, other: 202, req: () => json('POST', '/v1/dead-letters/replay', { ids: [deadLetterId] }) },
  getReplay: { need: 'exceptions:read', ok: 200, other: 404, req: () => json('GET', `/v1/replays/${replayId}`) },
  healthz: { need: 'public', ok: 200, other: 200, req: () => json('GET', '/healthz') },
  readyz: { need: 'public', ok: 200, other: 200, req: () => json('GET', '/readyz') },
  metrics: { need: 'public', ok: 200, other: 200, req: () => json('GET', '/metrics') },
  openapi: { need: 'public', ok: 200, other: 200, req: () => json('GET', '/openapi.json') },
  oauthToken: {
    need: 'public', ok: 200, other: 200,
    req: () => ({ method: 'POST', path: '/oauth/token', contentType: 'application/x-www-form-urlencoded', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: oauthClient, client_secret: oauthSecret }).toString() }),
  },
  jwks: { need: 'public', ok: 200, other: 200, req: () => json('GET', '/.well-known/jwks.json') },
  listClients: { need: 'admin:read', ok: 200, other: 200, req: () => json('GET', '/v1/admin/clients') },
  createClient: { need: 'admin:write', ok: 201, other: 201, req: () => json('POST', '/v1/admin/clients', { name: `new-${randomUUID().slice(0, 8)}`, scopes: ['admin:write'] }) },
  getClient: { need: 'admin:read', ok: 200, other: 404, req: async () => json('GET', `/v1/admin/clients/${await newClient()}`) },
  updateClient: { need: 'admin:write', ok: 200, other: 404, req: async () => json('PATCH', `/v1/admin/clients/${await newClient()}`, { rateLimit: { perSecond: 5 } }) },
  rotateClient: { need: 'admin:write', ok: 200, other: 404, req: async () => json('POST', `/v1/admin/clients/${await newClient()}/rotate`, { overlapSeconds: 0 }) },
  revokeClient: { need: 'admin:write', ok: 200, other: 404, req: async () => json('POST', `/v1/admin/clients/${await newClient()}/revoke`) },
  listSecrets: { need: 'admin:read', ok: 200, other: 200, req: () => json('GET', '/v1/admin/secrets') },
  putSecret: { need: 'admin:write', ok: 200, other: 200, req: () => json('PUT', `/v1/admin/secrets/probe-${randomUUID().slice(0, 8)}`, { value: 'v' }) },
  deleteSecret: { need: 'admin:write', ok: 204, other: 404, req: async () => json('DELETE', `/v1/admin/secrets/${await newSecret()}`) },
  listAudit: { need: 'admin:read', ok: 200, other: 200, req: () => json('GET', '/v1/audit') },
  verifyAudit: { need: 'admin:read', ok: 200, other: 200, req: () => json('GET', '/v1/audit/verify') },
  listExceptions: { need: 'exceptions:read', ok: 200, other: 200, req: () => json('GET', '/v1/exceptions') },
  resolveException: { need: 'exceptions:write', ok: 200, other: 404, req: async () => json('POST', `/v1/exceptions/${await newException()}/resolve`, { resolution: 'called the carrier' }) },
  securityLog: { need: 'admin:read', ok: 200, other: 200, req: () => json('GET', '/v1/admin/security-log') },
  // the partner's signature is the credential: bearer tokens, valid or not, change nothing
  receiveWebhook: { need: 'signature', ok: 202, other: 202, req: signedWebhook },
  // subscribing to shipment events needs tracking:read; another client's subscription needs admin scopes
  createSubscription: { need: 'tracking:read', ok: 201, other: 201, session: 403, req: () => json('POST', '/v1/subscriptions', { url: 'https://hooks.example.com/matrix', eventTypes: ['shipment.*'] }) },
  listSubscriptions: { need: 'admin:read', ok: 200, other: 200, req: () => json('GET', `/v1/subscriptions?owner=${subscriptionOwner}`) },
  getSubscription: { need: 'admin:read', ok: 200, other: 404, req: async () => json('GET', `/v1/subscriptions/${await newSubscription()}`) },
  listSubscriptionDeliveries: { need: 'admin:read', ok: 200, other: 404, req: async () => json('GET', `/v1/subscriptions/${await newSubscription()}/deliveries`) },
  updateSubscription: { need: 'admin:write', ok: 200, other: 404, req: async () => json('PATCH', `/v1/subscriptions/${await newSubscription()}`, { description: 'probe' }) },
  deleteSubscription: { need: 'admin:write', ok: 204, other: 404, req: async () => json('DELETE', `/v1/subscriptions/${await newSubscription()}`) },
  disableSubscription: { need: 'admin:write', ok: 200, other: 404, req: async () => json('POST', `/v1/subscriptions/${await newSubscription()}/disable`) },
  enableSubscription: { need: 'admin:write', ok: 200, other: 404, req: async () => json('POST', `/v1/subscriptions/${await newSubscription()}/enable`) },
  // the token in the URL is the credential of Odoo's unsigned webhook automations
  getDocument: { need: 'warehouse:read', ok: 200, other: 404, req: () => json('GET', `/v1/documents/${encodeURIComponent('label:shp-matrix:1Z1')}`) },
  odooHint: {
    need: 'signature', ok: 202, other: 202,
    req: () => ({ method: 'POST', path: '/v1/connectors/odoo/default/hints?token=hint-token-of-default', contentType: 'application/json', body: JSON.stringify({ _action: 'Send Webhook Notification(#1)', _id: 62, _model: 'stock.picking', id: 62 }) }),
  },
  rotateSubscriptionSecret: { need: 'admin:write', ok: 200, other: 404, req: async () => json('POST', `/v1/subscriptions/${await newSubscription()}/rotate-secret`) },
  consoleSignIn: { need: 'public', ok: 200, other: 200, req: () => json('POST', '/v1/console/session', { username: 'matrix-operator', password: CONSOLE_PASSWORD }) },
  consoleSession: { need: 'public', ok: 200, other: 200, req: async () => ({ ...json('GET', '/v1/console/session'), headers: { cookie: `olh_session=${(await newSession()).cookie}` } }) },
  consoleSignOut: {
    need: 'public', ok: 204, other: 204,
    req: async () => {
      const s = await newSession();
      return { ...json('DELETE', '/v1/console/session'), headers: { cookie: `olh_session=${s.cookie}`, 'x-csrf-token': s.session.csrfToken } };
    },
  },
  consoleOverview: { need: 'exceptions:read', ok: 200, other: 200, req: () => json('GET', '/v1/console/overview') },
  consoleLive: { need: 'exceptions:read', ok: 200, other: 200, req: () => json('GET', '/v1/console/live?once=true') },
  consoleSearch: { need: 'tracking:read', ok: 200, other: 200, req: () => json('GET', '/v1/console/search?q=SHP-MATRIX') },
  consoleTimeline: { need: 'tracking:read', ok: 200, other: 404, req: () => json('GET', '/v1/console/timeline/SHP-MATRIX') },
  consoleExceptionGroups: { need: 'exceptions:read', ok: 200, other: 200, req: () => json('GET', '/v1/console/exception-groups?status=open') },
  consoleExceptions: { need: 'exceptions:read', ok: 200, other: 200, req: () => json('GET', '/v1/console/exceptions?severity=error') },
  consoleException: { need: 'exceptions:read', ok: 200, other: 404, req: async () => json('GET', `/v1/console/exceptions/${await newException()}`) },
  consoleAssignException: { need: 'exceptions:write', ok: 200, other: 404, req: async () => json('POST', `/v1/console/exceptions/${await newException()}/assign`, { assignee: 'probe' }) },
  consoleCommentException: { need: 'exceptions:write', ok: 200, other: 404, req: async () => json('POST', `/v1/console/exceptions/${await newException()}/comments`, { text: 'probe' }) },
  consoleApplyAction: { need: 'exceptions:write', ok: 200, other: 404, req: async () => json('POST', `/v1/console/exceptions/${await newException()}/apply`, {}) },
  consoleReplayException: { need: 'exceptions:write', ok: 200, other: 404, req: async () => json('POST', `/v1/console/exceptions/${await newEventException()}/replay`, { data: shipmentData }) },
  consoleConnectors: { need: 'exceptions:read', ok: 200, other: 200, req: () => json('GET', '/v1/console/connectors') },
  consoleKpis: { need: 'orders:read', ok: 200, other: 200, req: () => json('GET', '/v1/console/kpis?window=24h') },
};

// ----------------------------------------------------------------------------- callers

/** A session of a console user holding `spec` (a scope, or all-but:<scope>), made once per spec. */
const sessionUsers = new Map<string, { cookie: string; csrf: string }>();
async function sessionFor(spec: string): Promise<{ cookie: string; csrf: string }> {
  const hit = sessionUsers.get(spec);
  if (hit) return hit;
  const scopes = spec.startsWith('all-but:') ? SCOPES.filter((x) => x !== spec.slice('all-but:'.length)) : [spec];
  const user = await createUser(pool, { tenantId: 'default', username: `matrix-${sessionUsers.size}-${randomUUID().slice(0, 6)}`, password: CONSOLE_PASSWORD, scopes, actor: 'test' });
  const s = await newSession(user);
  const entry = { cookie: `olh_session=${s.cookie}`, csrf: s.session.csrfToken };
  sessionUsers.set(spec, entry);
  return entry;
}

async function sendAsSession(p: Probe, spec: string): Promise<Answer> {
  const s = await sessionFor(spec);
  const r = await p.req();
  const body = r.body === undefined ? undefined : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  const headers: Record<string, string> = { authorization: '', cookie: s.cookie, ...(r.contentType ? { 'content-type': r.contentType } : {}), ...(r.headers ?? {}) };
  if (r.method !== 'GET') headers['x-csrf-token'] = s.csrf;
  return call(`${api.url}${r.path}`, { method: r.method, headers, ...(body !== undefined ? { body } : {}) });
}

const tokens = new Map<string, string>();
for (const s of SCOPES) tokens.set(s, await tokenFor(pool, [s]));
const allBut = async (s: Scope) => tokens.get(`all-but:${s}`) ?? tokens.set(`all-but:${s}`, await tokenFor(pool, SCOPES.filter((x) => x !== s))).get(`all-but:${s}`)!;
const otherTenant = await tokenFor(pool, [...SCOPES], 'other-company');

async function send(p: Probe, authorization: string): Promise<Answer> {
  const r = await p.req();
  const body = r.body === undefined ? undefined : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  return call(`${api.url}${r.path}`, { method: r.method, headers: { authorization, ...(r.contentType ? { 'content-type': r.contentType } : {}), ...(r.headers ?? {}) }, ...(body !== undefined ? { body } : {}) });
}

test('every route of the route table has a probe, and nothing else does', () => {
  assert.deepEqual(Object.keys(PROBES).sort(), Object.keys(ALL_ROUTES).sort());
  for (const [name, r] of Object.entries(ALL_ROUTES)) {
    const auth = r.config.auth;
    const need = PROBES[name as RouteName].need;
    if (auth.kind === 'scope') assert.equal(need, auth.scope, `${name}: the probe needs what the route declares`);
    if (auth.kind === 'public' || auth.kind === 'signature') assert.equal(need, auth.kind, name);
  }
});

for (const [name, probe] of Object.entries(PROBES) as [RouteName, Probe][]) {
  test(`matrix: ${ALL_ROUTES[name].method} ${ALL_ROUTES[name].url}`, async () => {
    const open = probe.need === 'public' || probe.need === 'signature';
    const cells: [string, string, number][] = [
      ['no credential', '', open ? probe.ok : 401],
      ['made-up token', `Bearer olh_${'x'.repeat(43)}`, open ? probe.ok : 401],
      ['another tenant, every scope', `Bearer ${otherTenant}`, probe.other],
    ];
    for (const s of SCOPES) cells.push([`only ${s}`, `Bearer ${tokens.get(s)}`, open || s === probe.need ? probe.ok : 403]);
    if (!open) cells.push([`every scope but ${probe.need}`, `Bearer ${await allBut(probe.need as Scope)}`, 403]);
    // the same checks for a console user's session (cookie + CSRF token) as for an API client's token
    if (!open) {
      cells.push([`session holding only ${probe.need}`, `session:${probe.need}`, probe.session ?? probe.ok]);
      cells.push([`session holding every scope but ${probe.need}`, `session:all-but:${probe.need}`, 403]);
    }
    const wrong: string[] = [];
    for (const [who, authorization, expected] of cells) {
      const a = authorization.startsWith('session:') ? await sendAsSession(probe, authorization.slice('session:'.length)) : await send(probe, authorization);
      if (a.status !== expected) wrong.push(`${who}: expected ${expected}, got ${a.status} ${typeof a.body === 'object' ? a.body.code ?? '' : ''}`);
      else if (expected >= 400) assert.match(a.contentType, /^application\/problem\+json/, `${who}: a problem document`);
      if (expected === 403 && a.status === 403 && !open && probe.other !== 403 && !who.startsWith('session holding only')) assert.match(a.body.detail, new RegExp(probe.need.replace(':', ':')), `${who}: the 403 names the missing scope`);
    }
    assert.deepEqual(wrong, [], `cells with the wrong status for ${name}`);
  });
}

test('another tenant sees none of tenant default\'s rows in lists', async () => {
  const h = { authorization: `Bearer ${otherTenant}` };
  for (const path of ['/v1/dead-letters', '/v1/admin/clients', '/v1/admin/secrets', '/v1/audit', '/v1/exceptions', '/v1/xref?entity=order&canonicalId=ord-matrix', '/v1/admin/security-log', `/v1/subscriptions?owner=${subscriptionOwner}`]) {
    const a = await call(`${api.url}${path}`, { headers: h });
    assert.equal(a.status, 200, path);
    const items = a.body.items as { tenant?: string; tenantId?: string }[];
    assert.ok(items.every((x) => (x.tenant ?? x.tenantId ?? 'other-company') === 'other-company'), `${path} shows only its own rows: ${JSON.stringify(items).slice(0, 300)}`);
    if (/^\/v1\/(dead-letters|xref|exceptions|subscriptions)/.test(path)) assert.equal(items.length, 0, path);
  }
  const r = await call(`${api.url}/v1/dead-letters/replay`, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: JSON.stringify({ ids: [deadLetterId] }) });
  assert.equal(r.body.total, 0, 'a replay by another tenant selects none of this tenant\'s dead letters');
});
