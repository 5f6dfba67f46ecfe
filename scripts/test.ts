/**
 * `npm test`: type check, static checks, then the test suite with node's test runner.
 *
 * PostgreSQL: the whole suite runs against an embedded PostgreSQL started here (the
 * zero-setup default a user gets). When the PostgreSQL service at 127.0.0.1:5432 (or
 * HUB_TEST_EXTERNAL_URL) is reachable, the pipeline and API tests run against it too.
 * HUB_TEST_ONLY=external|embedded restricts to one server; extra arguments select test files.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, startEmbeddedPostgres } from '../src/platform/db.ts';

const root = join(import.meta.dirname, '..');
const bin = (n: string) => join(root, 'node_modules', '.bin', n);
const started = Date.now();

/**
 * Runs a step as a child process. Asynchronously on purpose: this process must keep its
 * event loop turning, because it drains the embedded PostgreSQL's log pipe; a blocked
 * pipe would stall the server.
 */
function run(title: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  console.log(`\n== ${title}`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit', cwd: root, env: { ...process.env, ...env } });
    child.on('error', () => resolve(1));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    else if (e.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}


const selected = process.argv.slice(2);
const only = process.env.HUB_TEST_ONLY;
let failed = 0;

if (selected.length === 0) {
  failed += await run('type check (tsc --noEmit)', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
  failed += await run('type check of the console (browser code)', bin('tsc'), ['-p', 'console/tsconfig.json']);
  failed += await run('domain purity (src/domain imports no I/O)', process.execPath, ['scripts/check-domain-purity.ts']);
  failed += await run('published schemas match the domain (schemas/)', process.execPath, ['scripts/gen-schemas.ts', '--check']);
  failed += await run('configuration reference matches the schema (docs/configuration.md)', process.execPath, ['scripts/gen-config-docs.ts', '--check']);
}

const all = selected.length ? selected : testFiles(join(root, 'test'));
// Files that exercise the database pipeline and the HTTP API; run on both servers.
const dual = all.filter((f) => /test\/(pipeline|api|platform|security)\//.test(f));
const concurrency = String(Math.max(1, Number(process.env.HUB_TEST_CONCURRENCY ?? 2)));
const nodeTest = (files: string[]) => ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', '--test-timeout=600000', ...files];

const summary: string[] = [];
if (only !== 'external') {
  const dir = mkdtempSync(join(tmpdir(), 'hub-test-pg-'));
  const h = await startEmbeddedPostgres(dir, undefined, 'postgres');
  try {
    const code = await run(`tests on embedded PostgreSQL (${all.length} files)`, process.execPath, nodeTest(all), { HUB_TEST_DATABASE_URL: h.url, HUB_TEST_SERVER: 'embedded' });
    summary.push(`embedded: ${code === 0 ? 'ok' : 'FAILED'}`);
    failed += code;
  } finally {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
if (only !== 'embedded') {
  const ext = process.env.HUB_TEST_EXTERNAL_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const files = only === 'external' ? all : dual;
  if (files.length && (await canConnect(ext))) {
    const code = await run(`tests on the PostgreSQL service (${files.length} files)`, process.execPath, nodeTest(files), { HUB_TEST_DATABASE_URL: ext, HUB_TEST_SERVER: 'external' });
    summary.push(`external: ${code === 0 ? 'ok' : 'FAILED'}`);
    failed += code;
  } else if (only === 'external') {
    console.error(`PostgreSQL at ${ext} is not reachable`);
    failed += 1;
  } else if (files.length) {
    summary.push('external: skipped (no PostgreSQL service reachable)');
  } else {
    summary.push('external: no selected file runs on both servers');
  }
}
console.log(`\n${summary.join('; ')}; ${Math.round((Date.now() - started) / 1000)} s`);
process.exit(failed === 0 ? 0 : 1);
