import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, ROOT, show, tempDir } from './helpers.ts';
import { loadCliConfig } from '../../src/cli/context.ts';
import { renderConfigDocs } from '../../src/cli/config-docs.ts';

function yamlFile(text: string, name = 'hub.yaml'): { dir: string; file: string } {
  const dir = tempDir();
  const file = join(dir, name);
  writeFileSync(file, text);
  return { dir, file };
}

const noStack = (s: string) => assert.doesNotMatch(s, /\n\s+at |Error:/, 'no stack trace');

test('invalid configuration exits 2 naming the key and where it was set', async () => {
  const badYaml = yamlFile('port: 8080\npipeline:\n  concurrency: 4\n  retry: baseMs: 5\n');
  const unknown = yamlFile('port: 8080\ndatabse:\n  poolSize: 3\n');
  const nested = yamlFile('pipeline:\n  retry:\n    maxAtempts: 3\n');
  const outOfRange = yamlFile('port: 8080\ndatabase:\n  poolSize: 1\n');
  const [yamlErr, portAbc, unknownKey, nestedKey, range, logLevel, missing, flag] = await Promise.all([
    cli(['--config', badYaml.file, 'start']),
    cli(['start'], { env: { PORT: 'abc' } }),
    cli(['config', 'show'], { cwd: unknown.dir }),
    cli(['config', 'show'], { env: { HUB_CONFIG: nested.file } }),
    cli(['doctor', '--json', '--config', outOfRange.file]),
    cli(['migrate', '--status'], { env: { LOG_LEVEL: 'loud' } }),
    cli(['config', 'show', '--config', join(badYaml.dir, 'nope.yaml')]),
    cli(['--database-url', 'mysql://root:hunter2@db/hub', 'dlq', 'list']),
  ]);

  assert.equal(yamlErr.code, 2, show(yamlErr));
  assert.equal(yamlErr.stderr.trim(), `error: ${badYaml.file}:4:10: not valid YAML: Nested mappings are not allowed in compact mappings`);

  assert.equal(portAbc.code, 2, show(portAbc));
  assert.match(portAbc.stderr, /^error: configuration key "port": environment variable PORT="abc" is not a whole number\n  fix: correct or unset PORT\n$/);

  assert.equal(unknownKey.code, 2, show(unknownKey));
  assert.match(unknownKey.stderr, /^error: hub\.yaml:2:1: configuration key "databse" is not a known configuration key \(did you mean "database"\?\)/);

  assert.equal(nestedKey.code, 2, show(nestedKey));
  assert.match(nestedKey.stderr, new RegExp(`${nested.file.replaceAll('.', '\\.')}:3:5: configuration key "pipeline\\.retry\\.maxAtempts" is not a known configuration key \\(did you mean "maxAttempts"\\?\\)`));

  // doctor reports the configuration as a failed check (exit 1) rather than a usage error
  assert.equal(range.code, 1, show(range));
  const checks = JSON.parse(range.stdout) as { ok: boolean; checks: { name: string; status: string; message: string }[] };
  assert.equal(checks.ok, false);
  assert.equal(checks.checks[0]!.status, 'fail');
  assert.match(checks.checks[0]!.message, /hub\.yaml:3:13: configuration key "database\.poolSize": Expected integer to be greater or equal to 2 \(got 1\)/);

  assert.equal(logLevel.code, 2, show(logLevel));
  assert.match(logLevel.stderr, /configuration key "logLevel": must be one of trace, debug, info, warn, error, silent \(got "loud"\) \(set by environment variable LOG_LEVEL\)/);

  assert.equal(missing.code, 2, show(missing));
  assert.match(missing.stderr, /cannot read the configuration file .*nope\.yaml \(named by --config\): no such file/);

  assert.equal(flag.code, 2, show(flag));
  assert.match(flag.stderr, /configuration key "databaseUrl": .*\(set by --database-url\)/);
  assert.doesNotMatch(flag.stderr, /hunter2/, 'the password is not echoed');

  for (const r of [yamlErr, portAbc, unknownKey, nestedKey, logLevel, missing, flag]) noStack(r.stderr);
});

test('config show prints the effective configuration with passwords hidden; config schema is JSON Schema', async () => {
  const f = yamlFile('port: 9090\npipeline:\n  concurrency: 3\n');
  const [shown, asJson, schema] = await Promise.all([
    cli(['config', 'show', '--config', f.file], { env: { DATABASE_URL: 'postgresql://hub:s3cret@db:5432/hub', NATS_URL: 'nats://app:t0ken@nats:4222', PORT: '9191' } }),
    cli(['--data-dir', '/srv/hub', 'config', 'show', '--json'], { env: { DATABASE_URL: 'postgresql://hub:s3cret@db:5432/hub' } }),
    cli(['config', 'schema']),
  ]);
  assert.equal(shown.code, 0, show(shown));
  assert.doesNotMatch(shown.stdout, /s3cret|t0ken/);
  assert.match(shown.stdout, /databaseUrl: postgresql:\/\/hub:\*\*\*@db:5432\/hub/);
  assert.match(shown.stdout, /url: nats:\/\/app:\*\*\*@nats:4222/);
  assert.match(shown.stdout, /^port: 9191$/m, 'the environment wins over the file');
  assert.match(shown.stdout, /^  concurrency: 3$/m);
  assert.match(shown.stdout, /^# environment: .*\bDATABASE_URL\b/m);
  assert.match(shown.stdout, /^# environment: .*\bPORT\b/m);
  assert.ok(shown.stdout.includes(`# file: ${f.file} (from --config)`));

  assert.equal(asJson.code, 0, show(asJson));
  const cfg = JSON.parse(asJson.stdout);
  assert.equal(cfg.dataDir, '/srv/hub');
  assert.equal(cfg.databaseUrl, 'postgresql://hub:***@db:5432/hub');
  assert.equal(cfg.pipeline.retry.maxAttempts, 10);

  assert.equal(schema.code, 0, show(schema));
  const s = JSON.parse(schema.stdout);
  assert.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.equal(s.additionalProperties, false);
  assert.equal(s.properties.port.maximum, 65535);
  assert.equal(s.required, undefined, 'every key is optional in the file');
});

test('hub.example.yaml is a valid configuration that states the defaults', () => {
  const loaded = loadCliConfig({ config: join(ROOT, 'hub.example.yaml') }, {}, {});
  const defaults = loadCliConfig({}, {}, {});
  assert.deepEqual(loaded.config, defaults.config);
});

test('docs/configuration.md is generated from the schema and up to date', () => {
  const have = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
  assert.equal(have, renderConfigDocs(), 'run `node scripts/gen-config-docs.ts`');
  assert.match(have, /\| `pipeline\.retry\.maxAttempts` \|  \| integer \| `10` \|/);
  assert.match(have, /\| `port` \| `PORT` \| integer \| `8080` \|/);
});
