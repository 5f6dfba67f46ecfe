/**
 * `logistics-hub demo` as a newcomer runs it: the real command in a child process, with its
 * simulators, its hub and its scenario generator, on a fresh database. It prints where
 * everything is, orders flow until one is delivered and invoiced and a split order exists,
 * and SIGINT stops everything with exit 0, leaving no listener behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { freshDatabase } from '../helpers/db.ts';
import { MAIN, ROOT, tempDir } from './helpers.ts';
import { SCENARIOS, ScenarioGenerator, type ScenarioTargets } from '../../src/demo/scenarios.ts';

const db = await freshDatabase({ poolSize: 2 });
const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows as T[];

/** Polls `done` every 250 ms until it holds or the deadline passes. */
async function until(what: string, deadline: number, done: () => Promise<boolean>, context: () => string): Promise<void> {
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch {
    return true;
  }
}

test('demo: prints where everything is, orders reach delivered and invoiced, a split order ships, SIGINT stops everything (exit 0)', { timeout: 110_000 }, async () => {
  const started = Date.now();
  const dataDir = join(tempDir('hub-demo-'), 'data');
  const child = spawn(join(ROOT, 'node_modules', '.bin', 'node'), [MAIN, 'demo', '--port', '0', '--orders-per-minute', '30'], {
    cwd: tempDir(),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', DATABASE_URL: db.url, HUB_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  const output = () => `exit ${exitCode}\n--- stdout\n${stdout}\n--- stderr\n${stderr.slice(-4000)}`;

  try {
    await until('the ready line', Date.now() + 30_000, async () => exitCode !== undefined || /^odoo-logistics-hub demo listening on http:\/\/\S+ /m.test(stdout), output);
    assert.equal(exitCode, undefined, `the demo exited early\n${output()}`);
    const hub = /^odoo-logistics-hub demo listening on (http:\/\/\S+) \(database: postgresql:\/\/[^)]+\)$/m.exec(stdout)?.[1];
    assert.ok(hub, output());
    await until('the first order and its trace command', Date.now() + 15_000, async () => /npx logistics-hub trace ord-S\d+/.test(stdout), output);

    // where everything is
    const urls = Object.fromEntries(['odoo 18', 'wms east', 'wms west', 'easypost'].map((name) => [name, new RegExp(`^  ${name} +(http://\\S+)`, 'm').exec(stdout)?.[1]]));
    for (const [name, url] of Object.entries(urls)) assert.ok(url, `${name} is listed\n${output()}`);
    assert.match(stdout, new RegExp(`token: \\S*bootstrap-admin\\.token`));
    assert.equal((await fetch(`${hub}/healthz`)).status, 200);
    const east = (await (await fetch(`${urls['wms east']}/__sim/stats`)).json()) as { now: string };
    assert.ok(east.now, 'the warehouse simulator answers its administration API');
    const first = /^(S\d+) plain → trace (ord-S\d+)$/m.exec(stdout);
    assert.ok(first, `the first order is logged with its scenario and canonical id\n${output()}`);
    assert.equal(first[2], `ord-${first[1]}`);

    // orders flow: one delivered and invoiced, one split over both warehouses
    const deadline = started + 95_000;
    await until('an order delivered and invoiced (workflow completed)', deadline, async () => (await q(`select 1 from hub_workflows where status = 'completed' limit 1`)).length === 1, output);
    await until('a split order', deadline, async () => (await q(`select 1 from hub_events where type = 'order.split.v1' limit 1`)).length === 1, output);
    const [done] = await q<{ instance: string }>(`select instance from hub_workflows where status = 'completed' order by updated_at limit 1`);
    const invoiced = await q(`select 1 from hub_events where type = 'order.invoiced.v1' and key = $1`, [done!.instance]);
    assert.ok(invoiced.length >= 1, `${done!.instance} was invoiced`);
    assert.match(stdout, /^S\d+ split → trace ord-S\d+$/m, 'the split order is logged');
    const token = (await import('node:fs')).readFileSync(join(dataDir, 'bootstrap-admin.token'), 'utf8').trim();
    const timeline = await fetch(`${hub}/v1/timeline/${done!.instance}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(timeline.status, 200, 'the timeline API answers for the order with the bootstrap token');

    // SIGINT: everything stops, exit 0
    child.kill('SIGINT');
    let guard: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<'still running after 30 s'>((r) => (guard = setTimeout(() => r('still running after 30 s'), 30_000)))]);
    clearTimeout(guard);
    assert.equal(code, 0, output());
    assert.match(stderr, /SIGINT received: stopping/);
    assert.match(stderr, /stopped \(\d+ orders created\)\n$/);
    for (const url of [hub, ...Object.values(urls) as string[]]) assert.ok(await refused(url), `${url} no longer answers`);
  } finally {
    if (exitCode === undefined) child.kill('SIGKILL');
  }
});

test('the scenario mix: every scenario once first, then a draw the seed decides, only scenarios with a weight', () => {
  // nextScenario touches no simulator
  const nowhere = { odoo: { db: undefined as never }, east: { url: 'http://127.0.0.1:9', apiKey: '' }, west: { url: 'http://127.0.0.1:9', apiKey: '' }, easypost: { url: 'http://127.0.0.1:9' } } satisfies ScenarioTargets;
  fc.assert(
    fc.property(fc.integer({ min: -1e9, max: 1e9 }), (seed) => {
      const a = new ScenarioGenerator(nowhere, { seed });
      const b = new ScenarioGenerator(nowhere, { seed });
      const xs = Array.from({ length: 60 }, () => a.nextScenario());
      assert.deepEqual(xs, Array.from({ length: 60 }, () => b.nextScenario()), 'the same seed, the same orders');
      assert.deepEqual([...xs.slice(0, SCENARIOS.length)].sort(), [...SCENARIOS].sort(), 'the first round has every scenario once');
      const c = new ScenarioGenerator(nowhere, { seed, firstRound: false, mix: { plain: 0, cancel: 0 } });
      const ys = Array.from({ length: 60 }, () => c.nextScenario());
      assert.ok(ys.every((y) => y !== 'plain' && y !== 'cancel'), 'a weight of 0 is never drawn');
    }),
    { numRuns: 50 },
  );
  const d = new ScenarioGenerator(nowhere, { seed: 1, firstRound: false });
  const counts = new Map<string, number>();
  for (let i = 0; i < 2000; i++) {
    const s = d.nextScenario();
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  assert.ok((counts.get('plain') ?? 0) > (counts.get('split') ?? 0), 'plain orders are the most');
  assert.throws(() => new ScenarioGenerator(nowhere, { ordersPerMinute: 0 }), /ordersPerMinute/);
  assert.throws(() => new ScenarioGenerator(nowhere, { mix: { plain: 0, split: 0, 'short-pick': 0, 'failed-attempt': 0, 'carrier-outage': 0, cancel: 0, address: 0 } }), /at least one scenario/);
});
