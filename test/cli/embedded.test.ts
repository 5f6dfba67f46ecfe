import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/platform/db.ts';
import { cli, show, startHub, tempDir } from './helpers.ts';

// Without DATABASE_URL the commands use the embedded PostgreSQL under the data directory:
// they start it when it is not running and stop it again; a running one is reused and left running.
const dataDir = tempDir('hub-cli-pg-'); // as root, initdb runs as the postgres user: no private parent directory
const env = { HUB_DATA_DIR: dataDir, DATABASE_URL: undefined };
const pidFile = join(dataDir, 'pg', 'postmaster.pid');

test('doctor and migrate start the embedded PostgreSQL and stop it again', async () => {
  const doctor = await cli(['doctor', '--port', '0'], { env, timeoutMs: 60000 });
  assert.equal(doctor.code, 1, show(doctor));
  assert.match(doctor.stdout, /^✓ data directory .* is writable$/m);
  assert.match(doctor.stdout, /^✓ database reachable: embedded PostgreSQL in .*\/pg \(postgresql:\/\/hub:\*\*\*@127\.0\.0\.1:\d+\/hub, started for this check and stopped again\), PostgreSQL \d+/m);
  assert.match(doctor.stdout, /^✗ \d+ migrations? not applied yet/m);
  assert.equal(existsSync(pidFile), false, 'the embedded PostgreSQL was stopped');

  const migrate = await cli(['migrate'], { env, timeoutMs: 60000 });
  assert.equal(migrate.code, 0, show(migrate));
  assert.match(migrate.stdout, /\d+ migrations? applied to embedded PostgreSQL in .*\/pg/);
  assert.equal(existsSync(pidFile), false);
});

test('a running embedded PostgreSQL (a hub uses it) is reused and left running', async () => {
  const running = await startEmbeddedPostgres(dataDir);
  try {
    const [doctor, list] = await Promise.all([cli(['doctor', '--port', '0'], { env }), cli(['dlq', 'list'], { env })]);
    assert.equal(doctor.code, 0, show(doctor));
    assert.match(doctor.stdout, /already running \(a hub uses it\)/);
    assert.equal(list.code, 0, show(list));
    assert.equal(list.stdout, 'no open dead letters match\n');
    assert.equal(existsSync(pidFile), true, 'still running');
  } finally {
    await running.stop();
  }
});

test('doctor says when the data directory cannot be used', async () => {
  const file = join(tempDir(), 'not-a-dir');
  writeFileSync(file, '');
  const r = await cli(['doctor', '--port', '0'], { env: { HUB_DATA_DIR: join(file, 'data'), DATABASE_URL: undefined } });
  assert.equal(r.code, 1, show(r));
  assert.match(r.stdout, /^✗ the data directory .*not-a-dir\/data is not writable \(ENOTDIR\)/m);
  assert.match(r.stdout, /fix: make it writable by this user, choose another with HUB_DATA_DIR or --data-dir, or set DATABASE_URL/);
  assert.match(r.stdout, /^- database not checked/m);
});

test('start on the embedded PostgreSQL stops it cleanly on SIGINT and exits 0', async () => {
  const hub = await startHub(['--port', '0', '--no-workers'], { env: { ...env, LOG_LEVEL: 'warn' }, timeoutMs: 60000 });
  try {
    assert.match(hub.banner, /listening on http:\/\/127\.0\.0\.1:\d+ \(database: embedded PostgreSQL in .*\/pg; workers off\)$/);
    assert.equal((await fetch(`${hub.url}/healthz`)).status, 200);
    assert.equal(existsSync(pidFile), true);
    const code = await hub.signal('SIGINT');
    assert.equal(code, 0, JSON.stringify(hub.output()));
    assert.equal(existsSync(pidFile), false, 'the embedded PostgreSQL was stopped');
  } finally {
    hub.kill();
  }
});
