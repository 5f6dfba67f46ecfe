/**
 * Authentication as a client sees it: bearer tokens (missing, unknown, revoked, rotated
 * with an overlap), scopes (403 naming the missing one), per-client rate limits (429 with
 * Retry-After and RateLimit headers), the OAuth2 client-credentials grant with JWTs
 * verified against the JWKS, and tenant isolation of reads and writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import fc from 'fast-check';
import { FakeClock } from '../../src/platform/clock.ts';
import { assertProblem, call, cloudEvent, post, startApi, type Api } from './harness.ts';

const clock = new FakeClock('2026-11-24T08:00:00Z');
const api: Api = await startApi({ clock, config: { security: { tokenCacheSeconds: 0, rateLimit: { perSecond: 1000, burst: 1000 } } } });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

async function clientIdOf(token: string): Promise<string> {
  const r = await api.pool.query(`select c.id from hub_clients c join hub_client_credentials k on k.client_id = c.id where k.hint = $1`, [token.slice(0, 10) + '…']);
  return r.rows[0].id;
}

test('no credential: 401 auth.missing_credential with WWW-Authenticate; public routes stay open', async () => {
  const a = await call(`${api.url}/v1/dead-letters`, { headers: { authorization: '' } });
  assertProblem(a, 401, 'auth.missing_credential');
  assert.match(a.headers.get('www-authenticate')!, /^Bearer realm=/);
  assert.equal((await call(`${api.url}/healthz`, { headers: { authorization: '' } })).status, 200);
  assert.equal((await call(`${api.url}/openapi.json`, { headers: { authorization: '' } })).status, 200);
});

test('a malformed, unknown or made-up token: 401 auth.invalid_credential, and a security log entry', async () => {
  for (const h of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer olh_' + 'A'.repeat(43), 'Bearer not-a-token', 'Bearer a.b.c']) {
    const a = await call(`${api.url}/v1/dead-letters`, { headers: { authorization: h } });
    assertProblem(a, 401, 'auth.invalid_credential');
    assert.match(a.headers.get('www-authenticate')!, /error="invalid_token"/);
  }
  const log = await api.pool.query(`select count(*)::int n from hub_security_log where kind = 'auth' and code = 'auth.invalid_credential'`);
  assert.ok(log.rows[0].n >= 5);
});

test('outside its scopes: 403 auth.missing_scope naming the scope', async () => {
  const t = await api.client(['tracking:read']);
  const a = await call(`${api.url}/v1/dead-letters`, { headers: bearer(t) });
  assertProblem(a, 403, 'auth.missing_scope');
  assert.match(a.body.detail, /exceptions:read/);
  assert.deepEqual(a.body.issues, [{ path: 'scope', message: 'requires exceptions:read' }]);
  const ok = await call(`${api.url}/v1/dead-letters`);
  assert.equal(ok.headers.get('cache-control'), 'no-store', 'tenant data is not cached by intermediaries');
  assert.equal(ok.headers.get('x-content-type-options'), 'nosniff');
  // ingest: the domain of the event type decides
  const w = await post(api, cloudEvent('shipment.dispatched.v1'), undefined, bearer(t));
  assertProblem(w, 403, 'auth.missing_scope');
  assert.match(w.body.detail, /tracking:write/);
  const written = await post(api, cloudEvent('shipment.dispatched.v1'), undefined, bearer(await api.client(['tracking:write'])));
  assert.equal(written.status, 202);
});

test('revoked: the next request is 401 (this process forgets the token at once)', async () => {
  const t = await api.client(['exceptions:read']);
  assert.equal((await call(`${api.url}/v1/dead-letters`, { headers: bearer(t) })).status, 200);
  const id = await clientIdOf(t);
  const r = await call(`${api.url}/v1/admin/clients/${id}/revoke`, { method: 'POST' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.ok(r.body.revokedAt);
  assertProblem(await call(`${api.url}/v1/dead-letters`, { headers: bearer(t) }), 401, 'auth.invalid_credential');
  const audit = await api.pool.query(`select actor, action from hub_audit where object_id = $1 order by seq`, [id]);
  assert.deepEqual(audit.rows.map((x) => x.action), ['client.created', 'client.revoked']);
});

test('rotation: the new token works, the previous one until the overlap ends, then 401', async () => {
  const old = await api.client(['exceptions:read']);
  const id = await clientIdOf(old);
  const r = await call(`${api.url}/v1/admin/clients/${id}/rotate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ overlapSeconds: 3600 }) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const fresh = r.body.token as string;
  assert.notEqual(fresh, old);
  assert.ok(Date.parse(r.body.previousValidUntil) > Date.now() + 3500_000);
  for (const t of [old, fresh]) assert.equal((await call(`${api.url}/v1/dead-letters`, { headers: bearer(t) })).status, 200);
  // the overlap ends (moved into the past rather than waited for)
  await api.pool.query(`update hub_client_credentials set expires_at = now() - interval '1 second' where client_id = $1 and expires_at is not null`, [id]);
  assertProblem(await call(`${api.url}/v1/dead-letters`, { headers: bearer(old) }), 401, 'auth.invalid_credential');
  assert.equal((await call(`${api.url}/v1/dead-letters`, { headers: bearer(fresh) })).status, 200);
  // the listing never shows a token
  const shown = await call(`${api.url}/v1/admin/clients/${id}`);
  assert.ok(!JSON.stringify(shown.body).includes(fresh.slice(10)));
});

test('a client may grant only the scopes it holds', async () => {
  const admin = await api.client(['admin:write', 'admin:read', 'tracking:read']);
  const a = await call(`${api.url}/v1/admin/clients`, { method: 'POST', headers: { ...bearer(admin), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'greedy', scopes: ['tracking:read', 'pii:read'] }) });
  assertProblem(a, 403, 'auth.scope_escalation');
  assert.match(a.body.detail, /pii:read/);
  const b = await call(`${api.url}/v1/admin/clients`, { method: 'POST', headers: { ...bearer(admin), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'modest', scopes: ['tracking:read'] }) });
  assert.equal(b.status, 201, JSON.stringify(b.body));
  assert.match(b.body.token, /^olh_[A-Za-z0-9_-]{43}$/);
  const dup = await call(`${api.url}/v1/admin/clients`, { method: 'POST', headers: { ...bearer(admin), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'modest', scopes: ['tracking:read'] }) });
  assertProblem(dup, 409, 'client.name_taken');
  const bad = await call(`${api.url}/v1/admin/clients`, { method: 'POST', headers: { ...bearer(admin), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', scopes: ['tracking:delete'] }) });
  assertProblem(bad, 400, 'request.invalid');
});

test('rate limit: a token bucket per client; 429 with Retry-After and RateLimit headers; other clients unaffected', async () => {
  const slow = await api.client(['exceptions:read']);
  await api.pool.query(`update hub_clients set rate_per_second = 1, rate_burst = 3 where id = $1`, [await clientIdOf(slow)]);
  const answers = [];
  for (let i = 0; i < 5; i++) answers.push(await call(`${api.url}/v1/dead-letters`, { headers: bearer(slow) }));
  assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 429, 429]);
  assert.equal(answers[0]!.headers.get('ratelimit-policy'), '"client";q=3;w=3');
  assert.match(answers[0]!.headers.get('ratelimit')!, /^"client";r=2;t=\d+$/);
  assertProblem(answers[3]!, 429, 'rate_limited');
  assert.equal(answers[3]!.headers.get('retry-after'), '1');
  assert.match(answers[3]!.headers.get('ratelimit')!, /^"client";r=0;t=1$/);
  assert.equal((await call(`${api.url}/v1/dead-letters`)).status, 200, 'another client has its own bucket');
});

test('OAuth2 client credentials: a JWT that verifies against the JWKS, works as a bearer, narrows scopes, expires', async () => {
  const secret = await api.client(['exceptions:read', 'tracking:read']);
  const id = await clientIdOf(secret);
  const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
  const tokenReq = (body: string, headers: Record<string, string> = {}) =>
    call(`${api.url}/oauth/token`, { method: 'POST', headers: { authorization: '', 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });

  const basic = 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
  const t = await tokenReq(form({ grant_type: 'client_credentials', scope: 'exceptions:read' }), { authorization: basic });
  assert.equal(t.status, 200, JSON.stringify(t.body));
  assert.equal(t.headers.get('cache-control'), 'no-store');
  assert.equal(t.body.token_type, 'Bearer');
  assert.equal(t.body.expires_in, 900);
  assert.equal(t.body.scope, 'exceptions:read');
  const jwt = t.body.access_token as string;
  const [h, p, s] = jwt.split('.');
  const header = JSON.parse(Buffer.from(h!, 'base64url').toString());
  assert.equal(header.alg, 'ES256');
  const jwks = await call(`${api.url}/.well-known/jwks.json`, { headers: { authorization: '' } });
  const jwk = jwks.body.keys.find((k: { kid: string }) => k.kid === header.kid);
  assert.ok(jwk, 'the signing key is published');
  assert.equal(jwk.d, undefined, 'no private part');
  assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, Buffer.from(s!, 'base64url')));

  assert.equal((await call(`${api.url}/v1/dead-letters`, { headers: bearer(jwt) })).status, 200);
  assertProblem(await call(`${api.url}/v1/xref?entity=shipment&canonicalId=x`, { headers: bearer(jwt) }), 403, 'auth.missing_scope'); // narrowed away

  // body credentials work too; wrong secret, unknown grant, scope beyond the client
  assert.equal((await tokenReq(form({ grant_type: 'client_credentials', client_id: id, client_secret: secret }))).status, 200);
  const wrong = await tokenReq(form({ grant_type: 'client_credentials', client_id: id, client_secret: 'olh_' + 'B'.repeat(43) }));
  assertProblem(wrong, 401, 'oauth.invalid_client');
  assert.equal(wrong.body.error, 'invalid_client');
  const grant = await tokenReq(form({ grant_type: 'password', client_id: id, client_secret: secret }));
  assertProblem(grant, 400, 'oauth.unsupported_grant_type');
  assert.equal(grant.body.error, 'unsupported_grant_type');
  assertProblem(await tokenReq(form({ grant_type: 'client_credentials', client_id: id, client_secret: secret, scope: 'admin:write' })), 400, 'oauth.invalid_scope');

  // tampered claims, alg none, and expiry on the hub's clock
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), scope: 'admin:write' })).toString('base64url')}.${s}`;
  assertProblem(await call(`${api.url}/v1/dead-letters`, { headers: bearer(forged) }), 401, 'auth.invalid_credential');
  const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: header.kid })).toString('base64url')}.${p}.`;
  assertProblem(await call(`${api.url}/v1/dead-letters`, { headers: bearer(none) }), 401, 'auth.invalid_credential');
  clock.advance(16 * 60_000);
  const expired = await call(`${api.url}/v1/dead-letters`, { headers: bearer(jwt) });
  assertProblem(expired, 401, 'auth.invalid_credential');
  assert.match(expired.body.detail, /expired/);
});

test('signing keys rotate: a new key signs after the rotation period, the old one stays published until its tokens expired', async () => {
  const secret = await api.client(['exceptions:read']);
  const id = await clientIdOf(secret);
  const issue = async () => {
    const r = await call(`${api.url}/oauth/token`, { method: 'POST', headers: { authorization: '', 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'client_credentials', client_id: id, client_secret: secret }).toString() });
    return { jwt: r.body.access_token as string, kid: JSON.parse(Buffer.from(String(r.body.access_token).split('.')[0]!, 'base64url').toString()).kid as string };
  };
  const first = await issue();
  clock.advance(25 * 3600_000); // past security.signingKeyRotationHours (24)
  const second = await issue();
  assert.notEqual(second.kid, first.kid);
  const kids = async () => (await call(`${api.url}/.well-known/jwks.json`)).body.keys.map((k: { kid: string }) => k.kid);
  assert.ok((await kids()).includes(second.kid));
  clock.advance(24 * 3600_000);
  assert.ok(!(await kids()).includes(first.kid), 'the retired key leaves the JWKS once its tokens have expired');
  const sealed = await api.pool.query(`select sealed::text as s from hub_signing_keys`);
  for (const r of sealed.rows) assert.ok(!r.s.includes('PRIVATE KEY'), 'private keys are stored sealed');
});

test('tenancy: another tenant\'s client sees none of this tenant\'s data and cannot write into it', async () => {
  const ev = cloudEvent('shipment.dispatched.v1', {}, { shipmentId: 'SHP-T1' });
  assert.equal((await post(api, ev)).status, 202);
  const other = await api.client(['tracking:read', 'tracking:write', 'exceptions:read'], 'other-co');
  const h = bearer(other);
  assertProblem(await call(`${api.url}/v1/events/${ev.id}`, { headers: h }), 404, 'event.not_found');
  assertProblem(await call(`${api.url}/v1/timeline/SHP-T1`, { headers: h }), 404, 'timeline.not_found');
  assert.equal((await call(`${api.url}/v1/events/${ev.id}`)).status, 200, 'its own tenant sees it');
  // the same source and id in the other tenant is a different event, not a duplicate
  assert.equal((await post(api, ev, undefined, h)).status, 202);
  const rows = await api.pool.query(`select tenant_id from hub_events where id = $1 order by tenant_id`, [ev.id]);
  assert.deepEqual(rows.rows.map((r) => r.tenant_id), ['default', 'other-co']);
  assertProblem(await post(api, { ...ev, id: 'x-1', tenant: 'default' }, undefined, h), 403, 'auth.wrong_tenant');
});

test('fuzz: the token endpoint answers every input with 200 or a problem, never a crash', async () => {
  const secret = await api.client(['exceptions:read']);
  const id = await clientIdOf(secret);
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        contentType: fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data; boundary=x', ''),
        body: fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.dictionary(fc.constantFrom('grant_type', 'client_id', 'client_secret', 'scope', 'x'), fc.oneof(fc.string({ maxLength: 60 }), fc.constant(id), fc.constant(secret), fc.constant('client_credentials'))).map((d) => new URLSearchParams(d).toString()),
        ),
        auth: fc.oneof(fc.constant(''), fc.string({ maxLength: 80 }).map((s) => 'Basic ' + Buffer.from(s).toString('base64')), fc.constant('Basic ' + Buffer.from(`${id}:${secret}`).toString('base64')), fc.constant('Basic %%%')),
      }),
      async ({ contentType, body, auth }) => {
        const a = await call(`${api.url}/oauth/token`, { method: 'POST', headers: { authorization: auth, ...(contentType ? { 'content-type': contentType } : {}) }, body });
        if (a.status === 200) assert.equal(typeof a.body.access_token, 'string');
        else {
          assert.ok([400, 401, 413, 415, 429].includes(a.status), `status ${a.status}: ${JSON.stringify(a.body)}`);
          assert.match(a.contentType, /^application\/problem\+json/);
        }
      },
    ),
    { numRuns: 150 },
  );
  assert.equal((await call(`${api.url}/healthz`)).status, 200, 'still serving');
});
