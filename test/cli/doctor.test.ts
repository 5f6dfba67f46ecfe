import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { freshDatabase, serverUrl } from '../helpers/db.ts';
import { cli, show } from './helpers.ts';
import { loadMigrations } from '../../src/platform/migrate.ts';

const db = await freshDatabase({ poolSize: 2 });


/** The migrations in migrations/, as the commands count them. */
const NAMES = loadMigrations().map((m) => m.name);
const N = NAMES.length;
/** An empty database (no migrations applied), dropped after the file. */
async function emptyDatabase(): Promise<string> {
  const name = 'hub_cli_' + randomBytes(5).toString('hex');
  const admin = new pg.Client({ connectionString: serverUrl() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  after(async () => {
    const c = new pg.Client({ connectionString: serverUrl() });
    await c.connect();
    await c.query(`drop database if exists ${name} with (force)`);
    await c.end();
  });
  const u = new URL(serverUrl());
  u.pathname = '/' + name;
  return u.toString();
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

test('migrate --status and doctor on a migrated database: all green', async () => {
  const port = String(await freePort());
  const [status, doctor] = await Promise.all([
    cli(['migrate', '--status'], { env: { DATABASE_URL: db.url } }),
    cli(['doctor'], { env: { DATABASE_URL: db.url, PORT: port } }),
  ]);
  assert.equal(status.code, 0, show(status));
  assert.match(status.stdout, /✓ 0001_pipeline {2}applied/);
  assert.match(status.stdout, new RegExp(`${N} migrations applied, 0 pending`));

  assert.equal(doctor.code, 0, show(doctor));
  const lines = doctor.stdout.trim().split('\n');
  assert.match(lines[0]!, /^✓ configuration valid: no file \(defaults and environment\), environment .*DATABASE_URL/);
  assert.match(doctor.stdout, /^✓ database reachable: postgresql:\/\/.*, PostgreSQL \d+/m);
  assert.match(doctor.stdout, new RegExp(`^✓ migrations up to date \\(${N} migrations applied\\)$`, 'm'));
  assert.match(doctor.stdout, /^✓ database schema matches the migrations$/m);
  assert.match(doctor.stdout, /^- NATS not configured/m);
  assert.match(doctor.stdout, new RegExp(`^✓ HTTP port ${port} on 127\\.0\\.0\\.1 is free$`, 'm'));
  assert.match(doctor.stdout, /all checks passed\n$/);
  assert.doesNotMatch(doctor.stdout, /✗/);
});

test('doctor is red with a fix on an unreachable database, and names it without its password', async () => {
  const r = await cli(['doctor', '--port', '0'], { env: { DATABASE_URL: 'postgresql://hub:hunter2@127.0.0.1:1/hub' } });
  assert.equal(r.code, 1, show(r));
  assert.match(r.stdout, /^✗ cannot reach the database postgresql:\/\/hub:\*\*\*@127\.0\.0\.1:1\/hub: nothing is listening at 127\.0\.0\.1:1$/m);
  assert.match(r.stdout, /^ {4}fix: start PostgreSQL at 127\.0\.0\.1:1, or correct DATABASE_URL/m);
  assert.match(r.stdout, /^- migrations not checked/m);
  assert.match(r.stdout, /1 problem found/);
  assert.doesNotMatch(r.stdout + r.stderr, /hunter2/);
  // the other commands say the same in one line, exit 1
  const list = await cli(['dlq', 'list'], { env: { DATABASE_URL: 'postgresql://hub:hunter2@127.0.0.1:1/hub' } });
  assert.equal(list.code, 1, show(list));
  assert.match(list.stderr, /^error: cannot reach the database postgresql:\/\/hub:\*\*\*@127\.0\.0\.1:1\/hub: nothing is listening at 127\.0\.0\.1:1\n {2}fix: /);
});

test('pending migrations: doctor is red, migrate --status lists them, migrate applies them, doctor is green', async () => {
  const url = await emptyDatabase();
  const env = { DATABASE_URL: url };
  const [doctor, status, list] = await Promise.all([
    cli(['doctor', '--port', '0'], { env }),
    cli(['migrate', '--status'], { env }),
    cli(['dlq', 'list'], { env }),
  ]);
  assert.equal(doctor.code, 1, show(doctor));
  assert.match(doctor.stdout, new RegExp(`^✗ ${N} migrations not applied yet: ${NAMES.join(', ')}\\n {4}fix: run \`logistics-hub migrate\``, 'm'));
  assert.equal(status.code, 0, show(status));
  assert.match(status.stdout, /• 0001_pipeline {2}pending/);
  assert.match(status.stdout, new RegExp(`0 migrations applied, ${N} pending: run \`logistics-hub migrate\``));
  assert.equal(list.code, 1, show(list));
  assert.match(list.stderr, /has no hub tables .*\n {2}fix: run `logistics-hub migrate`/);

  const migrate = await cli(['migrate', '--database-url', url]);
  assert.equal(migrate.code, 0, show(migrate));
  assert.match(migrate.stdout, new RegExp(`✓ applied ${NAMES.at(-1)}\\n${N} migrations applied to postgresql:`));
  const again = await cli(['migrate'], { env });
  assert.match(again.stdout, new RegExp(`is up to date \\(${N} migrations applied\\)`));
  const green = await cli(['doctor', '--port', '0', '--json'], { env });
  assert.equal(green.code, 0, show(green));
  assert.equal(JSON.parse(green.stdout).ok, true);
});

test('doctor: an edited migration, a port taken by another program and an unreachable NATS are each red with a fix', async () => {
  const url = await emptyDatabase();
  assert.equal((await cli(['migrate'], { env: { DATABASE_URL: url } })).code, 0);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`update hub_migrations set checksum = 'edited' where version = 1`);
  await c.end();
  const other = createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  const port = String((other.address() as { port: number }).port);
  try {
    const r = await cli(['doctor', '--json'], { env: { DATABASE_URL: url, PORT: port, NATS_URL: 'nats://127.0.0.1:1' } });
    assert.equal(r.code, 1, show(r));
    const { checks } = JSON.parse(r.stdout) as { checks: { name: string; status: string; message: string; fix?: string }[] };
    const by = Object.fromEntries(checks.map((x) => [x.name, x]));
    assert.equal(by['migrations.modified']!.status, 'fail');
    assert.match(by['migrations.modified']!.message, /changed since applied: 0001_pipeline/);
    assert.match(by['migrations.modified']!.fix!, /new numbered migration/);
    assert.equal(by.nats!.status, 'fail');
    assert.match(by.nats!.message, /cannot reach NATS at 127\.0\.0\.1:1 \(ECONNREFUSED\)/);
    assert.match(by.nats!.fix!, /nats-server -js/);
    assert.equal(by.http!.status, 'fail');
    assert.match(by.http!.message, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is taken by another program .*answered 404`));
    assert.match(by.http!.fix!, /PORT, --port/);
  } finally {
    await new Promise((r) => other.close(r));
  }
});

test('a schema changed by hand: doctor names the difference and how to fix it', async () => {
  await db.pool.query('create index hub_events_manual_idx on hub_events (type)');
  try {
    const r = await cli(['doctor', '--port', '0'], { env: { DATABASE_URL: db.url } });
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /^✗ the database schema differs from what the migrations create \(1 difference; first: not from a migration: index hub_events\.hub_events_manual_idx/m);
    assert.match(r.stdout, /fix: undo the manual change, or put it in a new numbered migration/);
  } finally {
    await db.pool.query('drop index hub_events_manual_idx');
  }
});
