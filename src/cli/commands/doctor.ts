/**
 * `logistics-hub doctor`: checks what the hub needs, one line each, and says how to fix
 * what is wrong. Exit 0 when every check passes, 1 otherwise.
 */
import { Command } from 'commander';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { join, resolve } from 'node:path';
import type pg from 'pg';
import type { HubConfig } from '../../platform/config.ts';
import { createPool, redactUrl, startEmbeddedPostgres, type EmbeddedHandle } from '../../platform/db.ts';
import { migrationStatus } from '../../platform/migrate.ts';
import { loadKeyring, type Keyring } from '../../security/keyring.ts';
import { diffSchema, dumpSchema, readSnapshot } from '../../platform/schema-dump.ts';
import { act, examples, optionsOf } from '../command.ts';
import { CliError, explainDatabaseError } from '../errors.ts';
import { loadCliConfig, type Overrides } from '../context.ts';
import { c, json, mark, parsePort, plural } from '../output.ts';

export interface Check {
  name: string;
  status: 'ok' | 'fail' | 'skip';
  message: string;
  fix?: string;
}

function printer(asJson: boolean) {
  const checks: Check[] = [];
  return {
    checks,
    add(ch: Check) {
      checks.push(ch);
      if (asJson) return;
      const m = ch.status === 'ok' ? mark.ok() : ch.status === 'fail' ? mark.fail() : mark.skip();
      process.stdout.write(`${m} ${ch.message}\n`);
      if (ch.fix) process.stdout.write(`    ${c.cyan('fix:')} ${ch.fix}\n`);
    },
  };
}

function checkWritable(dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.doctor-${process.pid}`);
    writeFileSync(probe, 'ok');
    rmSync(probe);
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  }
}

export function tcpReachable(host: string, port: number, timeoutMs = 2000): Promise<string | undefined> {
  return new Promise((res) => {
    const s = new Socket();
    const done = (err?: string) => {
      s.destroy();
      res(err);
    };
    s.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs / 1000} s`));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    s.connect(port, host, () => done());
  });
}

function portFree(host: string, port: number): Promise<string | undefined> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => res(e.code ?? e.message));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => res(undefined)));
  });
}

async function healthz(url: string): Promise<number | string> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await r.arrayBuffer().catch(() => undefined);
    return r.status;
  } catch (e) {
    return (e as Error).message;
  }
}

async function checkDatabase(config: HubConfig, add: (c: Check) => void): Promise<void> {
  let url = config.databaseUrl;
  let embedded: EmbeddedHandle | undefined;
  let how = '';
  if (!url) {
    const dir = resolve(config.dataDir);
    const problem = checkWritable(dir);
    if (problem) {
      add({
        name: 'dataDir',
        status: 'fail',
        message: `the data directory ${dir} is not writable (${problem}): the embedded PostgreSQL keeps its files there`,
        fix: `make it writable by this user, choose another with HUB_DATA_DIR or --data-dir, or set DATABASE_URL to use an external PostgreSQL`,
      });
      add({ name: 'database', status: 'skip', message: 'database not checked: the embedded PostgreSQL needs a writable data directory' });
      return;
    }
    add({ name: 'dataDir', status: 'ok', message: `data directory ${dir} is writable` });
    try {
      embedded = await startEmbeddedPostgres(config.dataDir);
      url = embedded.url;
      how = embedded.owned ? ', started for this check and stopped again' : ', already running (a hub uses it)';
    } catch (e) {
      add({
        name: 'database',
        status: 'fail',
        message: `the embedded PostgreSQL in ${join(dir, 'pg')} does not start: ${(e as Error).message.split('\n')[0]}`,
        fix: `see ${join(dir, 'pg', 'log')} if present; move ${join(dir, 'pg')} aside to start from an empty database, or set DATABASE_URL`,
      });
      return;
    }
  }
  const pool = createPool(url, 2, Math.min(config.database.connectTimeoutMs, 5000));
  try {
    let version: string;
    try {
      const r = await pool.query<{ v: string }>(`select current_setting('server_version') as v`);
      version = r.rows[0]!.v;
    } catch (e) {
      const x = explainDatabaseError(e, url, !!embedded);
      add({ name: 'database', status: 'fail', message: x?.problem ?? `the database ${redactUrl(url)} does not answer: ${(e as Error).message}`, fix: x?.fix ?? 'check DATABASE_URL and that PostgreSQL runs there' });
      add({ name: 'migrations', status: 'skip', message: 'migrations not checked: the database is not reachable' });
      return;
    }
    const label = embedded ? `embedded PostgreSQL in ${join(config.dataDir, 'pg')} (${redactUrl(url)}${how})` : redactUrl(url);
    add({ name: 'database', status: 'ok', message: `database reachable: ${label}, PostgreSQL ${version}` });
    await checkMigrations(pool, add);
    await checkMasterKey(config, pool, add);
  } finally {
    await pool.end().catch(() => undefined);
    if (embedded?.owned) await embedded.stop().catch(() => undefined);
  }
}

/** The master key loads, and every sealed value in the database opens with the keys configured. */
async function checkMasterKey(config: HubConfig, pool: pg.Pool, add: (c: Check) => void): Promise<void> {
  const implicit = join(config.dataDir, 'master.key');
  if (!process.env.HUB_MASTER_KEY && !config.security.masterKeyFile && !existsSync(implicit)) {
    add({ name: 'masterKey', status: 'skip', message: `no master key yet: the hub generates ${resolve(implicit)} on its first start (back it up; every hub process of this database needs it)` });
    return;
  }
  let keyring: Keyring;
  try {
    keyring = loadKeyring(config);
  } catch (e) {
    add({ name: 'masterKey', status: 'fail', message: (e as Error).message, fix: 'set HUB_MASTER_KEY (base64 of 32 bytes) or security.masterKeyFile to a readable key file' });
    return;
  }
  let rows: { mk: string; n: number }[];
  try {
    rows = (
      await pool.query<{ mk: string; n: number }>(
        `select mk, sum(n)::int as n from (select sealed->>'mk' as mk, count(*) as n from hub_secrets group by 1
           union all select sealed->>'mk', count(*) from hub_signing_keys group by 1) s group by mk`,
      )
    ).rows;
  } catch {
    add({ name: 'masterKey', status: 'skip', message: `master key ${keyring.current.id} loaded from ${keyring.origin}; stored secrets not checked (migrations missing)` });
    return;
  }
  const missing = rows.filter((r) => !keyring.has(r.mk));
  const older = rows.filter((r) => keyring.has(r.mk) && r.mk !== keyring.current.id);
  if (missing.length) {
    add({
      name: 'masterKey',
      status: 'fail',
      message: `${plural(missing.reduce((a, r) => a + r.n, 0), 'stored secret')} sealed under master key${missing.length > 1 ? 's' : ''} ${missing.map((r) => r.mk).join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not configured (current ${keyring.current.id} from ${keyring.origin})`,
      fix: 'add the previous key to HUB_MASTER_KEY_PREVIOUS or as a further line of the key file, then run `logistics-hub secrets rewrap`',
    });
    return;
  }
  add({
    name: 'masterKey',
    status: 'ok',
    message: `master key ${keyring.current.id} from ${keyring.origin}; ${plural(rows.reduce((a, r) => a + r.n, 0), 'stored secret')} open with it` +
      (older.length ? ` (${plural(older.reduce((a, r) => a + r.n, 0), 'value')} still under an older key: run \`logistics-hub secrets rewrap\`)` : ''),
  });
}

async function checkMigrations(pool: pg.Pool, add: (c: Check) => void): Promise<void> {
  let st;
  try {
    st = await migrationStatus(pool);
  } catch (e) {
    add({ name: 'migrations', status: 'fail', message: `cannot read the migration status: ${(e as Error).message}`, fix: 'check that the database user may read the hub tables' });
    return;
  }
  let bad = false;
  if (st.pending.length) {
    bad = true;
    add({
      name: 'migrations',
      status: 'fail',
      message: `${plural(st.pending.length, 'migration')} not applied yet: ${st.pending.map((p) => p.name).join(', ')}`,
      fix: 'run `logistics-hub migrate` (the hub also applies them when it starts)',
    });
  }
  if (st.modified.length) {
    bad = true;
    add({
      name: 'migrations.modified',
      status: 'fail',
      message: `${plural(st.modified.length, 'migration')} changed since applied: ${st.modified.map((m) => m.name).join(', ')}`,
      fix: 'restore the original migration file (git checkout); schema changes belong in a new numbered migration',
    });
  }
  if (st.unknown.length) {
    bad = true;
    add({
      name: 'migrations.unknown',
      status: 'fail',
      message: `${plural(st.unknown.length, 'migration')} applied to this database that this hub does not know: ${st.unknown.map((m) => m.name).join(', ')}`,
      fix: 'a newer hub ran on this database: upgrade this hub to that version',
    });
  }
  if (!bad) add({ name: 'migrations', status: 'ok', message: `migrations up to date (${plural(st.applied.length, 'migration')} applied)` });
  if (bad || st.applied.length === 0) return;
  // The live schema against the one the migrations produce: changes made by hand show here.
  const drift = diffSchema(readSnapshot(), await dumpSchema(pool));
  if (drift.missing.length || drift.unexpected.length) {
    const sample = [...drift.missing.map((l) => `missing: ${l}`), ...drift.unexpected.map((l) => `not from a migration: ${l}`)];
    add({
      name: 'schema',
      status: 'fail',
      message: `the database schema differs from what the migrations create (${sample.length} difference${sample.length === 1 ? '' : 's'}; first: ${sample[0]})`,
      fix: 'undo the manual change, or put it in a new numbered migration',
    });
  } else add({ name: 'schema', status: 'ok', message: 'database schema matches the migrations' });
}

export function natsServers(url: string): { host: string; port: number; label: string }[] {
  return url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const u = new URL(/^[a-z]+:\/\//i.test(s) ? s : `nats://${s}`);
      const host = u.hostname.replace(/^\[|\]$/g, '');
      const port = Number(u.port || 4222);
      return { host, port, label: `${host}:${port}` };
    });
}

async function checkNats(config: HubConfig, add: (c: Check) => void): Promise<void> {
  if (!config.nats.url) {
    add({ name: 'nats', status: 'skip', message: 'NATS not configured: canonical events are not streamed (set NATS_URL to stream them)' });
    return;
  }
  let servers;
  try {
    servers = natsServers(config.nats.url);
  } catch {
    add({ name: 'nats', status: 'fail', message: `NATS_URL ${JSON.stringify(redactUrl(config.nats.url))} is not a server address`, fix: 'use nats://host:4222 (several separated by commas)' });
    return;
  }
  const results = await Promise.all(servers.map(async (s) => ({ s, err: await tcpReachable(s.host, s.port) })));
  const up = results.filter((r) => !r.err);
  if (up.length)
    add({ name: 'nats', status: 'ok', message: `NATS reachable at ${up.map((r) => r.s.label).join(', ')}` });
  else
    add({
      name: 'nats',
      status: 'fail',
      message: `cannot reach NATS at ${results.map((r) => `${r.s.label} (${r.err})`).join(', ')}`,
      fix: 'start NATS with JetStream (`nats-server -js`), or correct NATS_URL / nats.url; unset it to run without streaming (outbox messages then wait in the database)',
    });
}

async function checkPort(config: HubConfig, add: (c: Check) => void): Promise<void> {
  const { host, port } = config;
  if (port === 0) {
    add({ name: 'http', status: 'ok', message: 'HTTP port 0: the hub picks a free port when it starts' });
    return;
  }
  const err = await portFree(host, port);
  if (!err) {
    add({ name: 'http', status: 'ok', message: `HTTP port ${port} on ${host} is free` });
    return;
  }
  if (err === 'EADDRINUSE') {
    const probeHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    const url = `http://${probeHost}:${port}/healthz`;
    const r = await healthz(url);
    if (r === 200) add({ name: 'http', status: 'ok', message: `a hub is already running on port ${port}: ${url} answers 200` });
    else
      add({
        name: 'http',
        status: 'fail',
        message: `HTTP port ${port} on ${host} is taken by another program (${url} answered ${typeof r === 'number' ? r : `nothing: ${r}`})`,
        fix: 'stop that program, or choose another port with PORT, --port or `port` in the config file',
      });
    return;
  }
  if (err === 'EADDRNOTAVAIL' || err === 'ENOTFOUND')
    add({ name: 'http', status: 'fail', message: `the hub cannot listen on ${host}: it is not an address of this machine`, fix: 'set HUB_HOST (or `host`) to 127.0.0.1, 0.0.0.0 or an address of this machine' });
  else if (err === 'EACCES')
    add({ name: 'http', status: 'fail', message: `port ${port} needs privileges this user does not have`, fix: 'choose a port above 1023 with PORT or --port' });
  else add({ name: 'http', status: 'fail', message: `the hub cannot listen on ${host}:${port}: ${err}`, fix: 'choose another port or host' });
}

export function doctorCommand(): Command {
  const cmd = new Command('doctor')
    .description('check the configuration, database, migrations, data directory, NATS and HTTP port, with a fix for each problem')
    .option('--port <port>', 'check this HTTP port instead of the configured one', parsePort)
    .option('--host <address>', 'check this listen address instead of the configured one')
    .option('--json', 'print the checks as JSON')
    .action(
      act(async (_o: unknown, self: Command) => {
        const o = optionsOf<{ port?: number; host?: string; json?: boolean }>(self);
        const out = printer(!!o.json);
        const overrides: Overrides = {};
        if (o.port !== undefined) overrides.port = { value: o.port, flag: '--port' };
        if (o.host !== undefined) overrides.host = { value: o.host, flag: '--host' };
        let config: HubConfig | undefined;
        try {
          const loaded = loadCliConfig(o, overrides);
          config = loaded.config;
          const file = loaded.file ? `file ${loaded.file} (from ${loaded.fileFrom})` : 'no file (defaults and environment)';
          const env = loaded.env.length ? `environment ${loaded.env.join(', ')}` : 'no environment variables';
          const flags = loaded.flags.length ? `, flags ${loaded.flags.join(', ')}` : '';
          out.add({ name: 'config', status: 'ok', message: `configuration valid: ${file}, ${env}${flags}` });
        } catch (e) {
          if (!(e instanceof CliError)) throw e;
          out.add({ name: 'config', status: 'fail', message: `configuration invalid: ${e.message}`, fix: e.fix ?? 'correct it; `logistics-hub config schema` lists every key and its type' });
          out.add({ name: 'other', status: 'skip', message: 'other checks skipped: they need a valid configuration' });
        }
        if (config) {
          await checkDatabase(config, out.add);
          await checkNats(config, out.add);
          await checkPort(config, out.add);
        }
        const failed = out.checks.filter((ch) => ch.status === 'fail').length;
        if (o.json) process.stdout.write(json({ ok: failed === 0, checks: out.checks }) + '\n');
        else process.stdout.write(failed === 0 ? `\n${c.green('all checks passed')}\n` : `\n${c.red(`${plural(failed, 'problem')} found`)}\n`);
        return failed === 0 ? 0 : 1;
      }),
    );
  return examples(cmd, [
    ['logistics-hub doctor'],
    ['DATABASE_URL=postgresql://hub@db:5432/hub logistics-hub doctor', 'check an external PostgreSQL'],
    ['logistics-hub doctor --port 9090 --json', 'another port; JSON for scripts'],
  ]);
}
