import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { freshDatabase } from '../helpers/db.ts';
import { EXAMPLE_EVENT_DATA } from '../../src/domain/examples.ts';
import { Keyring, generateMasterKey, masterKeyId } from '../../src/security/keyring.ts';
import { activeSecretValues } from '../../src/security/secrets.ts';
import { MAIN, cli, show, tempDir, type CliResult } from './helpers.ts';

const db = await freshDatabase({ poolSize: 4 });
await db.pool.query(`insert into hub_tenants (id, name) values ('acme', 'Acme') on conflict do nothing`);
const keyA = generateMasterKey();
const env = { DATABASE_URL: db.url, HUB_MASTER_KEY: keyA };
const ringA = new Keyring([Buffer.from(keyA, 'base64')], 'test');
const actor = `cli:${userInfo().username}@${hostname()}`;

/** Runs the command line with `input` on its stdin (a pipe, not a terminal). */
function cliWithStdin(args: string[], input: string, extra: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      cwd: tempDir(),
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', HUB_DATA_DIR: join(tempDir(), 'data'), LOG_LEVEL: 'warn', ...env, ...extra },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const values = (tenant: string, name: string, keyring = ringA) => activeSecretValues(db.pool, keyring, tenant, name);

test('secrets set reads the value from stdin, a file or a variable, never prints it, and audits it', async () => {
  const piped = await cliWithStdin(['secrets', 'set', 'ups.api-key', '--kind', 'api_key'], 'ups-secret-1\n');
  assert.equal(piped.code, 0, show(piped));
  assert.match(piped.stdout, new RegExp(`^secret ups\\.api-key \\(tenant default\\): version 1 stored, read from stdin, sealed under master key ${ringA.current.id}\\n$`));
  assert.deepEqual(await values('default', 'ups.api-key'), ['ups-secret-1'], 'the trailing line break is not part of the value');

  const file = join(tempDir(), 'whsec.txt');
  writeFileSync(file, 'whsec_dGVzdC1zZWNyZXQtdmFsdWU=\n');
  const fromFile = await cli(['secrets', 'set', 'shopify.webhook', '--tenant', 'acme', '--kind', 'webhook', '--from-file', file], { env });
  assert.equal(fromFile.code, 0, show(fromFile));
  assert.match(fromFile.stdout, /version 1 stored, read from .*whsec\.txt/);
  assert.deepEqual(await values('acme', 'shopify.webhook'), ['whsec_dGVzdC1zZWNyZXQtdmFsdWU=']);

  const fromEnv = await cli(['secrets', 'set', 'odoo', '--from-env', 'ODOO_PASSWORD'], { env: { ...env, ODOO_PASSWORD: 'odoo pass word' } });
  assert.equal(fromEnv.code, 0, show(fromEnv));
  assert.match(fromEnv.stdout, /read from environment variable ODOO_PASSWORD/);
  assert.deepEqual(await values('default', 'odoo'), ['odoo pass word']);

  for (const r of [piped, fromFile, fromEnv]) assert.ok(!/ups-secret-1|whsec_|odoo pass word/.test(r.stdout + r.stderr), show(r));
  const audit = (await db.pool.query(`select tenant_id, actor, action, object_id, details from hub_audit where object_type = 'secret' order by seq`)).rows;
  assert.deepEqual(audit.map((a) => [a.tenant_id, a.actor, a.action, a.object_id]), [
    ['default', actor, 'secret.created', 'ups.api-key'],
    ['acme', actor, 'secret.created', 'shopify.webhook'],
    ['default', actor, 'secret.created', 'odoo'],
  ]);
});

test('secrets set again rotates: the overlap is --overlap, else security.credentialOverlapSeconds', async () => {
  const rotated = await cliWithStdin(['secrets', 'set', 'ups.api-key', '--overlap', '2h'], 'ups-secret-2');
  assert.equal(rotated.code, 0, show(rotated));
  assert.match(rotated.stdout, /version 2 stored/);
  assert.match(rotated.stdout, /^the previous version stays valid until \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(overlap 2h\)$/m);
  assert.deepEqual(await values('default', 'ups.api-key'), ['ups-secret-2', 'ups-secret-1']);
  const expiry = (await db.pool.query(`select extract(epoch from expires_at - now())::int as s from hub_secrets where name = 'ups.api-key' and version = 1`)).rows[0].s;
  assert.ok(expiry > 7100 && expiry <= 7200, String(expiry));

  const byConfig = await cliWithStdin(['secrets', 'set', 'odoo'], 'odoo-2');
  assert.equal(byConfig.code, 0, show(byConfig));
  assert.match(byConfig.stdout, /\(overlap 1d\)/);
  const none = await cliWithStdin(['secrets', 'set', 'odoo', '--overlap', '0'], 'odoo-3');
  assert.match(none.stdout, /the previous versions are no longer valid \(no overlap\)/);
  assert.deepEqual(await values('default', 'odoo'), ['odoo-3']);
  const audit = (await db.pool.query(`select action, details from hub_audit where object_id = 'ups.api-key' order by seq`)).rows;
  assert.deepEqual(audit.map((a) => a.action), ['secret.created', 'secret.rotated']);
});

test('secrets list shows names, versions, dates and master keys, never values', async () => {
  const [plain, asJson, acme] = await Promise.all([
    cli(['secrets', 'list'], { env }),
    cli(['secrets', 'list', '--json'], { env }),
    cli(['secrets', 'list', '--tenant', 'acme'], { env }),
  ]);
  assert.equal(plain.code, 0, show(plain));
  const lines = plain.stdout.trim().split('\n');
  assert.match(lines[0]!, /^TENANT\s+NAME\s+KIND\s+VERSION\s+STATUS\s+CREATED\s+BY\s+EXPIRES\s+MASTER KEY$/);
  assert.match(plain.stdout, new RegExp(`^default\\s+ups\\.api-key\\s+api_key\\s+2\\s+active\\s+\\S+ \\S+\\s+${actor}\\s+-\\s+${ringA.current.id}$`, 'm'));
  assert.match(plain.stdout, /^default\s+ups\.api-key\s+api_key\s+1\s+expiring\s+/m);
  assert.match(plain.stdout, /^default\s+odoo\s+opaque\s+1\s+expired\s+/m);
  assert.equal(lines.at(-1), '3 secrets, 6 versions');
  const rows = JSON.parse(asJson.stdout) as { tenantId: string; name: string; version: number; status: string; masterKey: string }[];
  assert.equal(rows.length, 6);
  assert.deepEqual(Object.keys(rows[0]!).sort(), ['createdAt', 'createdBy', 'expiresAt', 'kind', 'masterKey', 'name', 'status', 'tenantId', 'version']);
  assert.ok(rows.every((r) => r.masterKey === ringA.current.id));
  assert.deepEqual(acme.stdout.match(/shopify\.webhook/g), ['shopify.webhook']);
  for (const r of [plain, asJson, acme]) assert.ok(!/ups-secret|whsec_|odoo-\d|odoo pass/.test(r.stdout), show(r));
});

test('secrets: usage errors exit 2, missing things exit 1, nothing is stored', async () => {
  const file = join(tempDir(), 'v');
  writeFileSync(file, 'x');
  const [badName, empty, both, noVar, noYes, badOverlap, badTenant, unknownTenant, missing] = await Promise.all([
    cliWithStdin(['secrets', 'set', '../etc/passwd'], 'v'),
    cliWithStdin(['secrets', 'set', 'empty'], '\n'),
    cli(['secrets', 'set', 'x', '--from-file', file, '--from-env', 'X'], { env }),
    cli(['secrets', 'set', 'x', '--from-env', 'NOT_SET_ANYWHERE'], { env }),
    cli(['secrets', 'delete', 'odoo'], { env }),
    cliWithStdin(['secrets', 'set', 'x', '--overlap', 'soon'], 'v'),
    cliWithStdin(['secrets', 'set', 'x', '--tenant', 'Not A Tenant'], 'v'),
    cliWithStdin(['secrets', 'set', 'x', '--tenant', 'globex'], 'v'),
    cli(['secrets', 'delete', 'no-such-secret', '--yes'], { env }),
  ]);
  const expect = (r: CliResult, code: number, message: RegExp) => {
    assert.equal(r.code, code, show(r));
    assert.match(r.stderr, message, show(r));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  };
  expect(badName, 2, /^error: secret name "\.\.\/etc\/passwd": letters, digits/);
  expect(empty, 2, /^error: the value read from stdin is empty\n  fix: pipe the value in/);
  expect(both, 2, /--from-file and --from-env exclude each other/);
  expect(noVar, 2, /environment variable NOT_SET_ANYWHERE is not set or empty/);
  expect(noYes, 2, /^error: deleting secret odoo cannot be undone: add --yes to confirm/);
  expect(badOverlap, 2, /--overlap <duration>' argument 'soon' is invalid/);
  expect(badTenant, 2, /--tenant <id>' argument 'Not A Tenant' is invalid/);
  expect(unknownTenant, 1, /^error: tenant "globex" does not exist/);
  expect(missing, 1, /^error: secret "default\/no-such-secret" does not exist\n  fix: list them with `logistics-hub secrets list`/);
  assert.equal((await db.pool.query(`select 1 from hub_secrets where name in ('x', 'empty', '../etc/passwd')`)).rowCount, 0);
});

test('secrets delete --yes removes every version and audits it', async () => {
  const r = await cli(['secrets', 'delete', 'shopify.webhook', '--tenant', 'acme', '--yes'], { env });
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stdout, 'secret shopify.webhook (tenant acme) deleted: 1 version\n');
  assert.deepEqual(await values('acme', 'shopify.webhook'), []);
  const a = (await db.pool.query(`select actor, details from hub_audit where action = 'secret.deleted'`)).rows;
  assert.deepEqual(a, [{ actor, details: { versions: 1 } }]);
});

test('master key rotation from the command line: generate, rewrap, then the new key alone opens everything', async () => {
  const gen = await cli(['secrets', 'generate-master-key'], { env });
  assert.equal(gen.code, 0, show(gen));
  assert.match(gen.stdout, /^[A-Za-z0-9+/]{43}=\n$/, 'only the key on stdout');
  const keyB = gen.stdout.trim();
  assert.match(gen.stderr, new RegExp(`^new master key ${masterKeyId(Buffer.from(keyB, 'base64'))}; keep it secret`));
  assert.match(gen.stderr, /put it first in .*master\.key and move the current key to the next line/);
  assert.match(gen.stderr, /HUB_MASTER_KEY_PREVIOUS/);
  assert.match(gen.stderr, /logistics-hub secrets rewrap/);

  const rotated = { ...env, HUB_MASTER_KEY: keyB, HUB_MASTER_KEY_PREVIOUS: keyA };
  const r = await cli(['secrets', 'rewrap'], { env: rotated });
  assert.equal(r.code, 0, show(r));
  const idB = masterKeyId(Buffer.from(keyB, 'base64'));
  assert.match(r.stdout, new RegExp(`^re-wrapped 5 data keys under master key ${idB} \\(hub_secrets 5, hub_signing_keys 0\\)\\n`));
  assert.match(r.stdout, new RegExp(`every sealed value is under ${idB} now: the older keys \\(${ringA.current.id}\\) can be removed from HUB_MASTER_KEY_PREVIOUS`));
  const ringB = new Keyring([Buffer.from(keyB, 'base64')], 'b');
  assert.deepEqual(await values('default', 'ups.api-key', ringB), ['ups-secret-2', 'ups-secret-1']);
  const list = JSON.parse((await cli(['secrets', 'list', '--json'], { env: rotated })).stdout) as { masterKey: string }[];
  assert.ok(list.every((v) => v.masterKey === idB));
  const audit = (await db.pool.query(`select actor, object_id, details from hub_audit where action = 'master_key.rewrapped'`)).rows;
  assert.deepEqual(audit, [{ actor, object_id: idB, details: { rewrapped: 5, byTable: { hub_secrets: 5, hub_signing_keys: 0 } } }]);

  // only the old key: the values sealed under the new one cannot be re-wrapped, and it says why
  const wrong = await cli(['secrets', 'rewrap'], { env });
  assert.equal(wrong.code, 1, show(wrong));
  assert.match(wrong.stderr, new RegExp(`^error: the value was sealed under master key ${idB}, which is not configured \\(current ${ringA.current.id}\\); add it to HUB_MASTER_KEY_PREVIOUS`));
});

test('a command that does not see the hub master key refuses to create a new one', async () => {
  const dataDir = join(tempDir(), 'elsewhere');
  const r = await cliWithStdin(['secrets', 'set', 'late'], 'v', { HUB_MASTER_KEY: '', HUB_DATA_DIR: dataDir });
  assert.equal(r.code, 2, show(r));
  assert.match(r.stderr, new RegExp(`^error: there is no master key at ${dataDir}/master\\.key, but \\d+ secrets are sealed under master key mk_`));
  assert.match(r.stderr, /fix: use the hub's master key: set HUB_MASTER_KEY/);
  const bad = await cliWithStdin(['secrets', 'set', 'late'], 'v', { HUB_MASTER_KEY: 'too-short' });
  assert.equal(bad.code, 2, show(bad));
  assert.match(bad.stderr, /configuration key "HUB_MASTER_KEY": not a master key: a master key is 32 bytes/);
});

test('audit list filters by tenant, action, object and time; newest first; --json', async () => {
  const [all, secrets, one, acme, since, asJson, limited, badObject] = await Promise.all([
    cli(['audit', 'list'], { env }),
    cli(['audit', 'list', '--action', 'secret.*'], { env }),
    cli(['audit', 'list', '--object', 'secret:ups.api-key'], { env }),
    cli(['audit', 'list', '--tenant', 'acme'], { env }),
    cli(['audit', 'list', '--since', '2100-01-01', '--action', 'secret.rotated'], { env }),
    cli(['audit', 'list', '--json', '--action', 'secret.deleted'], { env }),
    cli(['audit', 'list', '--limit', '2'], { env }),
    cli(['audit', 'list', '--object', ':x'], { env }),
  ]);
  assert.equal(all.code, 0, show(all));
  const lines = all.stdout.trim().split('\n');
  assert.match(lines[0]!, /^\s*SEQ\s+AT\s+TENANT\s+ACTOR\s+ACTION\s+OBJECT\s+DETAILS$/);
  const seqs = lines.slice(1, -1).map((l) => Number(l.trim().split(/\s+/)[0]));
  assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a), 'newest first');
  assert.match(all.stdout, new RegExp(`^\\s*\\d+\\s+\\S+ \\S+\\s+default\\s+${actor}\\s+master_key\\.rewrapped\\s+master_key:mk_\\S+\\s+\\{"byTable":`, 'm'));
  assert.ok(secrets.stdout.trim().split('\n').slice(1, -1).every((l) => /\ssecret\.(created|rotated|deleted)\s/.test(l)), secrets.stdout);
  assert.deepEqual(one.stdout.match(/secret\.\w+/g), ['secret.rotated', 'secret.created']);
  assert.ok(acme.stdout.trim().split('\n').slice(1, -1).every((l) => /^\s*\d+\s+\S+ \S+\s+acme\s/.test(l)), acme.stdout);
  assert.equal(since.stdout, 'no audit entries match\n');
  const rows = JSON.parse(asJson.stdout) as { action: string; tenantId: string; details: unknown; hash: string }[];
  assert.deepEqual(rows.map((r) => [r.action, r.tenantId, r.details]), [['secret.deleted', 'acme', { versions: 1 }]]);
  assert.match(rows[0]!.hash, /^[0-9a-f]{64}$/);
  assert.match(limited.stdout, /2 entries \(the limit: there may be more/);
  assert.equal(badObject.code, 2, show(badObject));
});

test('retention run: --dry-run counts, run anonymises and records it, --days overrides', async () => {
  const old = new Date(Date.now() - 100 * 86_400_000);
  const order = EXAMPLE_EVENT_DATA['order.created.v1'];
  for (const [i, t] of ['default', 'acme', 'acme'].entries()) {
    await db.pool.query(`insert into hub_events (tenant_id, source, id, type, key, received_at, data) values ($1, 'urn:test', $2, 'order.created.v1', 'ord-S00065', $3, $4)`, [t, `old-${i}`, old, JSON.stringify(order)]);
  }
  await db.pool.query(`insert into hub_events (tenant_id, source, id, type, key, received_at, data) values ('default', 'urn:test', 'new-1', 'order.created.v1', 'ord-S00065', now() - interval '40 days', $1)`, [JSON.stringify(order)]);

  const dry = await cli(['retention', 'run', '--dry-run'], { env });
  assert.equal(dry.code, 0, show(dry));
  assert.match(dry.stdout, /^dry run: would anonymise 3 events and 0 webhook bodies received before \S+ \S+ \(90 days\); nothing changed\n/);
  assert.match(dry.stdout, /^ {2}acme: 2 events, 0 webhook bodies$/m);
  assert.equal((await db.pool.query(`select 1 from hub_events where anonymised_at is not null`)).rowCount, 0);

  const run = await cli(['retention', 'run'], { env });
  assert.equal(run.code, 0, show(run));
  assert.match(run.stdout, /^anonymised the personal data of 3 events and 0 webhook bodies received before .* \(90 days\)\n/);
  assert.match(run.stdout, /recorded in the audit trail \(retention\.ran\)\n$/);
  const left = (await db.pool.query(`select count(*)::int as n from hub_events where data::text like '%Deco Addict%'`)).rows[0].n;
  assert.equal(left, 1, 'only the 40-day-old one keeps its personal data');

  const short = await cli(['retention', 'run', '--days', '30', '--json'], { env });
  assert.equal(short.code, 0, show(short));
  const j = JSON.parse(short.stdout) as { events: number; piiDays: number; dryRun: boolean; byTenant: Record<string, { events: number }> };
  assert.deepEqual([j.events, j.piiDays, j.dryRun, j.byTenant], [1, 30, false, { default: { events: 1, webhookBodies: 0 } }]);
  const audit = (await db.pool.query(`select tenant_id, actor, details->'events' as events from hub_audit where action = 'retention.ran' order by seq`)).rows;
  assert.deepEqual(audit, [
    { tenant_id: 'acme', actor, events: 2 },
    { tenant_id: 'default', actor, events: 1 },
    { tenant_id: 'default', actor, events: 1 },
  ]);
  const zero = await cli(['retention', 'run', '--days', '0'], { env });
  assert.equal(zero.code, 2, show(zero));
});

test('audit verify: intact, then a tampered row is named with its tenant, entry and reason', async () => {
  const ok = await cli(['audit', 'verify'], { env });
  assert.equal(ok.code, 0, show(ok));
  const entries = Number((await db.pool.query(`select count(*) from hub_audit`)).rows[0].count);
  assert.equal(ok.stdout, `audit trail intact: ${entries} entries in 2 tenants\n`);
  const acme = await cli(['audit', 'verify', '--tenant', 'acme', '--json'], { env });
  const aj = JSON.parse(acme.stdout) as { intact: boolean; tenants: { tenantId: string }[]; broken: null };
  assert.deepEqual([aj.intact, aj.tenants.map((t) => t.tenantId), aj.broken], [true, ['acme'], null]);

  const target = (await db.pool.query(`select seq from hub_audit where tenant_id = 'default' and action = 'secret.rotated' order by seq limit 1`)).rows[0].seq as number;
  await db.pool.query(`update hub_audit set details = '{"version": 1}' where seq = $1`, [target]);
  const bad = await cli(['audit', 'verify'], { env });
  assert.equal(bad.code, 1, show(bad));
  assert.match(bad.stdout, new RegExp(`^audit trail broken: tenant default, entry ${target}: entry ${target} was altered: its content does not match its hash\\n`));
  const bj = JSON.parse((await cli(['audit', 'verify', '--json'], { env })).stdout) as { intact: boolean; broken: { tenantId: string; seq: number; reason: string } };
  assert.deepEqual([bj.intact, bj.broken.tenantId, bj.broken.seq], [false, 'default', target]);
  const other = await cli(['audit', 'verify', '--tenant', 'acme'], { env });
  assert.equal(other.code, 0, 'the other tenant is intact: ' + show(other));

  await db.pool.query(`delete from hub_audit where seq = (select max(seq) from hub_audit where tenant_id = 'acme')`);
  const cut = await cli(['audit', 'verify', '--tenant', 'acme'], { env });
  assert.equal(cut.code, 1, show(cut));
  assert.match(cut.stdout, /^audit trail broken: tenant acme, entry \d+: the chain ends at entry \d+ but the head records entry \d+ as the last/);
});

test('--help of the new commands names their options and shows examples', async () => {
  const commands: [string[], string[]][] = [
    [['secrets'], ['set', 'list', 'delete', 'rewrap', 'generate-master-key']],
    [['secrets', 'set'], ['<name>', '--tenant', '--kind', '--from-file', '--from-env', '--overlap']],
    [['secrets', 'list'], ['--tenant', '--json']],
    [['secrets', 'delete'], ['<name>', '--tenant', '--yes']],
    [['secrets', 'rewrap'], []],
    [['secrets', 'generate-master-key'], []],
    [['audit'], ['verify', 'list']],
    [['audit', 'verify'], ['--tenant', '--json']],
    [['audit', 'list'], ['--tenant', '--action', '--object', '--since', '--limit', '--json']],
    [['retention'], ['run']],
    [['retention', 'run'], ['--days', '--dry-run', '--json']],
  ];
  const results = await Promise.all(commands.map(([c]) => cli([...c, '--help'])));
  commands.forEach(([c, mentions], i) => {
    const r = results[i]!;
    const name = ['logistics-hub', ...c].join(' ');
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, new RegExp(`Usage: ${name}`));
    assert.match(r.stdout, /Examples:\n {2}\$ logistics-hub/, `${name} has examples`);
    for (const m of mentions) assert.ok(r.stdout.includes(m), `${name} --help mentions ${m}`);
  });
});
