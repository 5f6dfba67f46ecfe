/**
 * `logistics-hub users` as an operator uses it against a real database, and the users it
 * makes signing in to the console of a real hub API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.ts';
import { call, startApi } from '../api/harness.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, show, tempDir } from './helpers.ts';

const db = await freshDatabase();
const env = { DATABASE_URL: db.url };
const api = await startApi({ pool: db.pool });

const signIn = (username: string, password: string) =>
  call(`${api.url}/v1/console/session`, { method: 'POST', headers: { authorization: '', 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });

test('add takes the password from an environment variable; the user signs in with exactly its scopes; list shows no password', async () => {
  const r = await cli(['users', 'add', 'Maria', '--scopes', 'exceptions:read,orders:read', '--name', 'Maria Ops', '--password-env', 'MARIA_PW'], { env: { ...env, MARIA_PW: 'a long enough secret' } });
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, /added user maria in tenant default with orders:read, exceptions:read/);
  const s = await signIn('maria', 'a long enough secret');
  assert.equal(s.status, 200);
  assert.deepEqual(s.body.user.scopes, ['orders:read', 'exceptions:read']);
  const list = await cli(['users', 'list'], { env });
  assert.equal(list.code, 0, show(list));
  assert.match(list.stdout, /maria\s+Maria Ops\s+orders:read,exceptions:read\s+active/);
  assert.doesNotMatch(list.stdout, /secret|scrypt/);
  const audit = await db.pool.query(`select actor from hub_audit where action = 'user.created'`);
  assert.match(audit.rows[0].actor, /^cli:/);
});

test('a weak password, an unknown scope or a taken name is refused with exit 2 and the reason; nothing is stored', async () => {
  const weak = await cli(['users', 'add', 'olga', '--scopes', 'orders:read', '--password-env', 'PW'], { env: { ...env, PW: 'short' } });
  assert.equal(weak.code, 2, show(weak));
  assert.match(weak.stderr, /a password needs at least 12 characters/);
  const scope = await cli(['users', 'add', 'olga', '--scopes', 'orders:raed', '--password-env', 'PW'], { env: { ...env, PW: 'a long enough secret' } });
  assert.equal(scope.code, 2, show(scope));
  assert.match(scope.stderr, /unknown scope orders:raed/);
  assert.equal((await db.pool.query(`select 1 from hub_users where username = 'olga'`)).rowCount, 0);
  const taken = await cli(['users', 'add', 'maria', '--scopes', 'orders:read', '--password-env', 'PW'], { env: { ...env, PW: 'another long secret' } });
  assert.equal(taken.code, 2, show(taken));
  assert.match(taken.stderr, /already has a user maria/);
});

test('set-password reads a file and ends the sessions; update --disable refuses sign-in until --enable', async () => {
  const before = await signIn('maria', 'a long enough secret');
  const cookie = /^olh_session=([^;]+)/.exec(before.headers.get('set-cookie')!)![0];
  const file = join(tempDir(), 'pw');
  writeFileSync(file, 'the new long secret\n', { mode: 0o600 });
  const pw = await cli(['users', 'set-password', 'maria', '--password-file', file], { env });
  assert.equal(pw.code, 0, show(pw));
  assert.match(pw.stdout, /sessions have ended/);
  assert.equal((await call(`${api.url}/v1/console/overview`, { headers: { authorization: '', cookie } })).status, 401);
  assert.equal((await signIn('maria', 'a long enough secret')).status, 401);
  assert.equal((await signIn('maria', 'the new long secret')).status, 200);
  const off = await cli(['users', 'update', 'maria', '--disable'], { env });
  assert.equal(off.code, 0, show(off));
  assert.equal((await signIn('maria', 'the new long secret')).status, 401);
  const on = await cli(['users', 'update', 'maria', '--enable', '--scopes', 'orders:read'], { env });
  assert.match(on.stdout, /maria: active, scopes orders:read/);
  assert.equal((await signIn('maria', 'the new long secret')).status, 200);
  const none = await cli(['users', 'update', 'maria'], { env });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /say what to change/);
  const missing = await cli(['users', 'set-password', 'nobody', '--password-file', file], { env });
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /no user nobody[\s\S]*logistics-hub users list/);
});
