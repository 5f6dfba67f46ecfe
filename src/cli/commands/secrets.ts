/**
 * `logistics-hub secrets set|list|delete|rewrap|generate-master-key`: the stored secrets
 * (partner API keys, webhook signing secrets, Odoo credentials), sealed under the master
 * key. A value is read from stdin (hidden on a terminal), a file or an environment
 * variable, never from an argument, so it stays out of shell history and process lists;
 * no command prints a value. Every change is recorded in the audit trail.
 */
import { Command, InvalidArgumentError } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, HubError, NotFoundError, ValidationError } from '../../domain/errors.ts';
import type { HubConfig } from '../../platform/config.ts';
import type { Database } from '../../platform/db.ts';
import { generateMasterKey, loadKeyring, masterKeyId, type Keyring } from '../../security/keyring.ts';
import { SECRET_NAME, deleteSecret, listSecrets, putSecret, rewrapAll, type SecretInfo } from '../../security/secrets.ts';
import { act, examples, optionsOf } from '../command.ts';
import { loadCliConfig, withDatabase, requester } from '../context.ts';
import { CliError, EXIT_USAGE, UsageError } from '../errors.ts';
import { c, fmtTime, json, plural, table } from '../output.ts';

const TENANT = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function parseTenant(value: string): string {
  if (!TENANT.test(value)) throw new InvalidArgumentError('expected a tenant id: lower-case letters, digits, _ and -, e.g. default.');
  return value;
}

/** Fails unless the tenant exists (secrets belong to one). */
export async function requireTenant(db: Database, tenantId: string): Promise<void> {
  const r = await db.pool.query(`select 1 from hub_tenants where id = $1`, [tenantId]);
  if (!r.rowCount) throw new CliError(`tenant "${tenantId}" does not exist`, { fix: 'check the --tenant value; the default tenant is "default"' });
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** A duration in seconds: 0, 90 (seconds), 30s, 15m, 2h, 1d, 1w. */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw]?)$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected a duration: 0, a number of seconds, or a number with s, m, h, d or w (30m, 1d).');
  return Math.round(Number(m[1]) * DURATION_UNITS[(m[2] || 's').toLowerCase()]!);
}

function fmtDuration(seconds: number): string {
  for (const [u, n] of [['w', 604800], ['d', 86400], ['h', 3600], ['m', 60]] as const) if (seconds >= n && seconds % n === 0) return `${seconds / n}${u}`;
  return `${seconds}s`;
}

/** One trailing line break is what `echo` and editors add; it is not part of the value. */
const withoutFinalNewline = (s: string) => s.replace(/\r?\n$/, '');

const MAX_INPUT = 1024 * 1024;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_INPUT) throw new UsageError('the value on stdin is larger than 1 MiB; a secret is at most 64 KiB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  // echo off before the prompt shows, so nothing typed right after it is echoed
  stdin.setRawMode(true);
  process.stderr.write(prompt);
  return new Promise((resolveValue, reject) => {
    let value = '';
    const finish = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolveValue(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new CliError('cancelled: nothing was stored'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else value += ch;
      }
    };
    stdin.resume();
    stdin.on('data', onData);
  });
}

interface ValueOptions {
  fromFile?: string;
  fromEnv?: string;
}

export async function readValue(o: ValueOptions, name: string): Promise<{ value: string; from: string }> {
  if (o.fromFile && o.fromEnv) throw new UsageError('--from-file and --from-env exclude each other: the value comes from one place');
  if (o.fromFile) {
    try {
      return { value: withoutFinalNewline(readFileSync(o.fromFile, 'utf8')), from: resolve(o.fromFile) };
    } catch (e) {
      throw new CliError(`cannot read ${resolve(o.fromFile)}: ${(e as Error).message}`);
    }
  }
  if (o.fromEnv) {
    const v = process.env[o.fromEnv];
    if (v === undefined || v === '') throw new UsageError(`environment variable ${o.fromEnv} is not set or empty`, `export ${o.fromEnv} first, or give the value on stdin`);
    return { value: v, from: `environment variable ${o.fromEnv}` };
  }
  if (process.stdin.isTTY) return { value: await promptHidden(`value of ${name} (input hidden, Enter to finish): `), from: 'the terminal' };
  return { value: withoutFinalNewline(await readStdin()), from: 'stdin' };
}

/** Errors of the secret store, said for the command line. */
function explain(e: unknown): never {
  if (e instanceof ValidationError) throw new UsageError(e.message);
  if (e instanceof NotFoundError) throw new CliError(e.message, { fix: 'list them with `logistics-hub secrets list`' });
  if (e instanceof HubError && e.code === 'secret.master_key_missing') throw new CliError(e.message, { cause: e });
  if (e instanceof HubError && e.code === 'secret.tampered') throw new CliError(e.message, { fix: 'restore the row from a backup, or set the secret again', cause: e });
  throw e;
}

const keyFile = (config: HubConfig) => resolve(config.security.masterKeyFile ?? join(config.dataDir, 'master.key'));

/**
 * The master keys. A key is generated on first use only while nothing is sealed yet:
 * otherwise a missing key file means this command does not see the hub's key (another
 * data directory), and a new key would seal values the hub cannot open.
 */
async function keyringFor(config: HubConfig, db: Database): Promise<Keyring> {
  const file = keyFile(config);
  if (!process.env.HUB_MASTER_KEY && !config.security.masterKeyFile && !existsSync(file)) {
    const r = await db.pool.query<{ mk: string; n: number }>(`select sealed->>'mk' as mk, count(*)::int as n from hub_secrets group by 1 order by 2 desc limit 1`);
    const found = r.rows[0];
    if (found) {
      throw new CliError(`there is no master key at ${file}, but ${plural(found.n, 'secret')} ${found.n === 1 ? 'is' : 'are'} sealed under master key ${found.mk}`, {
        exitCode: EXIT_USAGE,
        fix: "use the hub's master key: set HUB_MASTER_KEY, security.masterKeyFile (HUB_MASTER_KEY_FILE), or --data-dir to where the hub keeps master.key",
      });
    }
  }
  try {
    return loadKeyring(config);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message, { exitCode: EXIT_USAGE, cause: e });
    throw e;
  }
}

function setCommand(): Command {
  const cmd = new Command('set')
    .description('store a secret, or a new version of it (the previous version stays valid for the overlap); the value comes from stdin, a file or a variable, never an argument')
    .argument('<name>', 'secret name: letters, digits and . _ : -, e.g. ups.api-key')
    .option('--tenant <id>', 'the tenant the secret belongs to', parseTenant, 'default')
    .option('--kind <kind>', 'what it is, for people: api_key, webhook, odoo, password... (default: opaque, or the kind of the previous version)')
    .option('--from-file <file>', 'read the value from this file (one trailing line break is dropped)')
    .option('--from-env <var>', 'read the value from this environment variable')
    .option('--overlap <duration>', 'how long the previous version stays valid: 0, 30m, 1d... (default: security.credentialOverlapSeconds)', parseDuration)
    .action(
      act(async (name: string, _o: unknown, self: Command) => {
        const o = optionsOf<ValueOptions & { tenant: string; kind?: string; overlap?: number }>(self);
        if (!SECRET_NAME.test(name)) throw new UsageError(`secret name ${JSON.stringify(name)}: letters, digits and . _ : - only, at most 128, starting with a letter or digit`);
        const { config } = loadCliConfig(o);
        const { value, from } = await readValue(o, name);
        if (value === '') throw new UsageError(`the value read from ${from} is empty`, 'pipe the value in (`printf %s "$VALUE" | logistics-hub secrets set NAME`), or use --from-file / --from-env');
        const overlapSeconds = o.overlap ?? config.security.credentialOverlapSeconds;
        return withDatabase(config, async (db) => {
          await requireTenant(db, o.tenant);
          const keyring = await keyringFor(config, db);
          const r = await putSecret(db.pool, keyring, { tenantId: o.tenant, name, value, actor: requester(), overlapSeconds, ...(o.kind ? { kind: o.kind } : {}) }).catch(explain);
          process.stdout.write(`secret ${name} (tenant ${o.tenant}): version ${r.version} stored, read from ${from}, sealed under master key ${keyring.current.id}\n`);
          if (r.version > 1) {
            process.stdout.write(
              r.supersededUntil && overlapSeconds > 0
                ? `the previous version stays valid until ${fmtTime(r.supersededUntil)} (overlap ${fmtDuration(overlapSeconds)})\n`
                : 'the previous versions are no longer valid (no overlap)\n',
            );
          }
          return 0;
        });
      }),
    );
  return examples(cmd, [
    ['logistics-hub secrets set ups.api-key', 'type the value (hidden)'],
    ['printf %s "$KEY" | logistics-hub secrets set ups.api-key', 'from a pipe'],
    ['logistics-hub secrets set shopify.webhook --from-file whsec.txt --overlap 1d', 'rotate, old one valid one more day'],
    ['logistics-hub secrets set odoo --tenant acme --from-env ODOO_PASSWORD'],
  ]);
}

interface VersionRow {
  tenantId: string;
  name: string;
  kind: string;
  version: number;
  status: 'active' | 'expiring' | 'expired';
  createdAt: Date;
  createdBy: string;
  expiresAt: Date | null;
  masterKey: string;
}

function versionRows(secrets: SecretInfo[], now: Date): VersionRow[] {
  return secrets.flatMap((s) =>
    s.versions.map((v) => ({
      tenantId: s.tenantId,
      name: s.name,
      kind: v.kind,
      version: v.version,
      status: v.expiresAt === null ? ('active' as const) : v.expiresAt > now ? ('expiring' as const) : ('expired' as const),
      createdAt: v.createdAt,
      createdBy: v.createdBy,
      expiresAt: v.expiresAt,
      masterKey: v.masterKey,
    })),
  );
}

function listCommand(): Command {
  const cmd = new Command('list')
    .description('list the stored secrets and their versions: names, kinds, dates and master key, never the values')
    .option('--tenant <id>', 'only this tenant (default: every tenant)', parseTenant)
    .option('--json', 'print JSON (one array of versions) for scripts')
    .action(
      act(async (_o: unknown, self: Command) => {
        const o = optionsOf<{ tenant?: string; json?: boolean }>(self);
        const { config } = loadCliConfig(o);
        return withDatabase(config, async (db) => {
          const now = (await db.pool.query<{ now: Date }>(`select now()`)).rows[0]!.now;
          const rows = versionRows(await listSecrets(db.pool, o.tenant), now);
          if (o.json) {
            process.stdout.write(json(rows) + '\n');
            return 0;
          }
          if (!rows.length) {
            process.stdout.write(`no secrets${o.tenant ? ` in tenant ${o.tenant}` : ''}\n`);
            return 0;
          }
          process.stdout.write(
            table(rows, [
              { header: 'TENANT', value: (r) => r.tenantId },
              { header: 'NAME', value: (r) => r.name, max: 48 },
              { header: 'KIND', value: (r) => r.kind, max: 20 },
              { header: 'VERSION', value: (r) => r.version, align: 'right' },
              { header: 'STATUS', value: (r) => (r.status === 'expired' ? c.dim('expired') : r.status === 'expiring' ? c.yellow('expiring') : c.green('active')) },
              { header: 'CREATED', value: (r) => fmtTime(r.createdAt) },
              { header: 'BY', value: (r) => r.createdBy, max: 30 },
              { header: 'EXPIRES', value: (r) => fmtTime(r.expiresAt) },
              { header: 'MASTER KEY', value: (r) => r.masterKey },
            ]) + '\n',
          );
          const names = new Set(rows.map((r) => `${r.tenantId}/${r.name}`)).size;
          process.stdout.write(`${plural(names, 'secret')}, ${plural(rows.length, 'version')}\n`);
          return 0;
        });
      }),
    );
  return examples(cmd, [['logistics-hub secrets list'], ['logistics-hub secrets list --tenant acme --json | jq ".[] | select(.status == \\"active\\") | .name"']]);
}

function deleteCommand(): Command {
  const cmd = new Command('delete')
    .description('delete every version of a secret (cannot be undone)')
    .argument('<name>', 'secret name')
    .option('--tenant <id>', 'the tenant the secret belongs to', parseTenant, 'default')
    .option('--yes', 'confirm: the secret is gone for good, and whatever uses it stops working')
    .action(
      act(async (name: string, _o: unknown, self: Command) => {
        const o = optionsOf<{ tenant: string; yes?: boolean }>(self);
        if (!o.yes) throw new UsageError(`deleting secret ${name} cannot be undone: add --yes to confirm`);
        const { config } = loadCliConfig(o);
        return withDatabase(config, async (db) => {
          const n = await deleteSecret(db.pool, o.tenant, name, requester()).catch(explain);
          process.stdout.write(`secret ${name} (tenant ${o.tenant}) deleted: ${plural(n, 'version')}\n`);
          return 0;
        });
      }),
    );
  return examples(cmd, [['logistics-hub secrets delete old-partner.api-key --yes'], ['logistics-hub secrets delete odoo --tenant acme --yes']]);
}

function rewrapCommand(): Command {
  const cmd = new Command('rewrap')
    .description('after a master key rotation: re-wrap every data key under the current master key (the values themselves do not change)')
    .action(
      act(async (_o: unknown, self: Command) => {
        const o = optionsOf<object>(self);
        const { config } = loadCliConfig(o);
        return withDatabase(config, async (db) => {
          const keyring = await keyringFor(config, db);
          const r = await rewrapAll(db.pool, keyring, requester()).catch(explain);
          const by = Object.entries(r.byTable).map(([t, n]) => `${t} ${n}`).join(', ');
          process.stdout.write(`re-wrapped ${plural(r.rewrapped, 'data key')} under master key ${keyring.current.id} (${by})\n`);
          const left = await db.pool.query<{ n: number }>(
            `select (select count(*) from hub_secrets where sealed->>'mk' <> $1) + (select count(*) from hub_signing_keys where sealed->>'mk' <> $1) as n`,
            [keyring.current.id],
          );
          const remaining = Number(left.rows[0]!.n);
          if (remaining > 0) {
            process.stdout.write(`${plural(remaining, 'sealed value')} still under an older key (in use by another transaction): run \`logistics-hub secrets rewrap\` again\n`);
            return 1;
          }
          const older = keyring.ids.filter((id) => id !== keyring.current.id);
          process.stdout.write(
            older.length
              ? `every sealed value is under ${keyring.current.id} now: the older keys (${older.join(', ')}) can be removed from ${keyring.origin === 'HUB_MASTER_KEY' ? 'HUB_MASTER_KEY_PREVIOUS' : `${keyring.origin} (and HUB_MASTER_KEY_PREVIOUS)`}\n`
              : `every sealed value is under ${keyring.current.id}\n`,
          );
          return 0;
        });
      }),
    );
  return examples(cmd, [['logistics-hub secrets rewrap', 'once the new key is first and the old one second']]);
}

function generateCommand(): Command {
  const cmd = new Command('generate-master-key')
    .description('print a new random master key (base64, on stdout) and how to rotate to it (on stderr); nothing is stored')
    .action(
      act(async (_o: unknown, self: Command) => {
        const o = optionsOf<object>(self);
        const { config } = loadCliConfig(o);
        const key = generateMasterKey();
        const file = keyFile(config);
        process.stdout.write(key + '\n');
        process.stderr.write(
          [
            `new master key ${masterKeyId(Buffer.from(key, 'base64'))}; keep it secret. To rotate to it:`,
            `  1. put it first in ${file} and move the current key to the next line,`,
            `     or set HUB_MASTER_KEY to it and HUB_MASTER_KEY_PREVIOUS to the current key;`,
            `  2. restart every hub process: new secrets are sealed under the new key, and older ones still open;`,
            `  3. run \`logistics-hub secrets rewrap\`: every data key is re-wrapped under the new key;`,
            `  4. remove the old key (its line in the file, or HUB_MASTER_KEY_PREVIOUS) and restart again.`,
            '',
          ].join('\n'),
        );
        return 0;
      }),
    );
  return examples(cmd, [['logistics-hub secrets generate-master-key', 'prints the key and the rotation steps'], ['logistics-hub secrets generate-master-key 2>/dev/null > new.key', 'only the key, into a file']]);
}

export function secretsCommand(): Command {
  const cmd = new Command('secrets').description('stored secrets (partner API keys, webhook secrets, Odoo credentials), encrypted under the master key; values are never printed');
  cmd.addCommand(setCommand()).addCommand(listCommand()).addCommand(deleteCommand()).addCommand(rewrapCommand()).addCommand(generateCommand());
  return examples(cmd, [
    ['logistics-hub secrets list'],
    ['printf %s "$KEY" | logistics-hub secrets set ups.api-key'],
    ['logistics-hub secrets generate-master-key', 'then rotate the master key'],
    ['logistics-hub secrets rewrap'],
  ]);
}
