/**
 * `logistics-hub clients` and `tenants` as an operator uses them against a real database,
 * and the tokens they print used against a real hub API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.ts';
import { call, startApi } from '../api/harness.ts';
import { cli, show } from './helpers.ts';

const db = await freshDatabase();
const env = { DATABASE_URL: db.url };
const api = await startApi({ pool: db.pool });

test('create prints the token once; it works against the API with exactly its scopes; list shows no token', async () => {
  const r = await cli(['clients', 'create', '--name', 'wms-east', '--scopes', 'warehouse:write,tracking:read'], { env });
  assert.equal(r.code, 0, show(r));
  const token = /^(olh_[A-Za-z0-9_-]{43})$/m.exec(r.stdout)?.[1];
  assert.ok(token, show(r));
  assert.match(r.stdout, /shown only now/);
  const ok = await call(`${api.url}/v1/xref?entity=shipment&canonicalId=x`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(ok.status, 200);
  const denied = await call(`${api.url}/v1/dead-letters`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(denied.status, 403);
  const list = await cli(['clients', 'list'], { env });
  assert.equal(list.code, 0, show(list));
  assert.match(list.stdout, /wms-east/);
  assert.match(list.stdout, /warehouse:write,tracking:read/);
  assert.ok(!list.stdout.includes(token!.slice(10)), 'the list never shows a token');
  const shown = await cli(['clients', 'show', 'wms-east', '--json'], { env });
  assert.equal(JSON.parse(shown.stdout).scopes.join(','), 'warehouse:write,tracking:read');
  const audit = await db.pool.query(`select actor, action from hub_audit where action = 'client.created' and details->>'name' = 'wms-east'`);
  assert.match(audit.rows[0].actor, /^cli:/);
});

test('rotate --overlap 0 ends the old token now; revoke ends the new one', async () => {
  const r = await cli(['clients', 'create', '--name', 'carrier-bridge', '--scopes', 'tracking:read', '--json'], { env });
  const { token: first } = JSON.parse(r.stdout);
  const rot = await cli(['clients', 'rotate', 'carrier-bridge', '--overlap', '0', '--json'], { env });
  assert.equal(rot.code, 0, show(rot));
  const { token: second } = JSON.parse(rot.stdout);
  const probe = (t: string) => call(`${api.url}/v1/xref?entity=shipment&canonicalId=x`, { headers: { authorization: `Bearer ${t}` } });
  assert.equal((await probe(first)).status, 401);
  assert.equal((await probe(second)).status, 200);
  const rev = await cli(['clients', 'revoke', 'carrier-bridge'], { env });
  assert.equal(rev.code, 0, show(rev));
  const lookup = await db.pool.query(`select revoked_at from hub_clients where name = 'carrier-bridge'`);
  assert.ok(lookup.rows[0].revoked_at);
});

test('bad input: unknown scope, duplicate name, unknown tenant or client: a clear message, exit 1 or 2, nothing written', async () => {
  const before = (await db.pool.query(`select count(*)::int n from hub_clients`)).rows[0].n;
  const scope = await cli(['clients', 'create', '--name', 'x', '--scopes', 'tracking:delete'], { env });
  assert.equal(scope.code, 2, show(scope));
  assert.match(scope.stderr, /unknown scope tracking:delete/);
  const dup = await cli(['clients', 'create', '--name', 'wms-east', '--scopes', 'tracking:read'], { env });
  assert.equal(dup.code, 2, show(dup));
  assert.match(dup.stderr, /already has a client named wms-east/);
  const tenant = await cli(['clients', 'create', '--name', 'y', '--tenant', 'nowhere', '--scopes', 'tracking:read'], { env });
  assert.equal(tenant.code, 1, show(tenant));
  assert.match(tenant.stderr, /tenant "nowhere" does not exist/);
  const missing = await cli(['clients', 'revoke', 'ghost'], { env });
  assert.equal(missing.code, 1, show(missing));
  assert.equal((await db.pool.query(`select count(*)::int n from hub_clients`)).rows[0].n, before);
});

test('tenants add and list; a client of the new tenant is created in it', async () => {
  const add = await cli(['tenants', 'add', 'acme', '--name', 'ACME GmbH', '--odoo-company', '3'], { env });
  assert.equal(add.code, 0, show(add));
  const again = await cli(['tenants', 'add', 'acme', '--name', 'ACME GmbH'], { env });
  assert.equal(again.code, 2, show(again));
  const list = await cli(['tenants', 'list', '--json'], { env });
  assert.deepEqual(JSON.parse(list.stdout).map((t: { id: string }) => t.id), ['acme', 'default']);
  const c = await cli(['clients', 'create', '--name', 'acme-portal', '--tenant', 'acme', '--scopes', 'orders:read', '--json'], { env });
  assert.equal(JSON.parse(c.stdout).client.tenantId, 'acme');
});
