/**
 * `logistics-hub demo`: the zero-setup demonstration `npm start` runs. Starts every simulator
 * (Odoo 18, two SimWMS warehouses, the EasyPost-style aggregator), the
 * hub configured against them on a fresh database, and the scenario generator that keeps
 * creating orders; prints where everything is and what happens to each order, until SIGINT
 * or SIGTERM stops everything cleanly (exit 0). `logistics-hub start` is the hub alone
 * against configured endpoints.
 */
import { Command, InvalidArgumentError } from 'commander';
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import pg from 'pg';
import { createLogger, type Logger } from '../../platform/logger.ts';
import { redactUrl, startEmbeddedPostgres, type EmbeddedHandle } from '../../platform/db.ts';
import type { HubConfig } from '../../platform/config.ts';
import { act, examples, optionsOf, stopOnSignal } from '../command.ts';
import { loadCliConfig, type Overrides } from '../context.ts';
import { CliError, EXIT_USAGE, explainDatabaseError } from '../errors.ts';
import { parsePort } from '../output.ts';
import type { Landscape } from '../../demo/landscape.ts';
import type { CreatedOrder, ScenarioGenerator } from '../../demo/scenarios.ts';

/** Written into a data directory whose embedded database belongs to the demo (reset on every run). */
const DEMO_MARKER = 'demo-database';
const WATCH_MS = 2000;

function parseRate(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0) || n > 600) throw new InvalidArgumentError('expected a number of orders per minute above 0 and at most 600.');
  return n;
}

function parseSeed(value: string): number {
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('expected an integer.');
  return Number(value);
}

function parseTransit(value: string): 'express' | 'carrier' {
  if (value !== 'express' && value !== 'carrier') throw new InvalidArgumentError('expected express or carrier.');
  return value;
}

function parseScale(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n >= 1) || n > 1_000_000) throw new InvalidArgumentError('expected a factor from 1 to 1000000.');
  return n;
}

/** A path as the user would type it: relative to the working directory when inside it. */
function shown(path: string): string {
  const abs = resolve(path);
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') ? rel : abs;
}

interface DemoDatabase {
  url: string;
  description: string;
  embedded?: EmbeddedHandle;
}

/**
 * The database of one demo run, empty: every run starts a fresh Odoo simulator, whose record
 * ids and order names would collide with those a previous run left in the hub. An external
 * database (DATABASE_URL) must hold no events; the embedded one under the data directory is
 * reset, but only when the demo created it.
 */
async function demoDatabase(config: HubConfig, log: Logger): Promise<DemoDatabase> {
  if (config.databaseUrl) {
    const c = new pg.Client({ connectionString: config.databaseUrl, connectionTimeoutMillis: config.database.connectTimeoutMs });
    c.on('error', () => undefined);
    try {
      await c.connect();
      const r = await c.query<{ used: boolean }>(`select to_regclass('hub_events') is not null and exists (select 1 from hub_events) as used`).catch(async (e: unknown) => {
        if ((e as { code?: string }).code === '42P01') return { rows: [{ used: false }] };
        throw e;
      });
      if (r.rows[0]?.used) {
        throw new CliError(`the database ${redactUrl(config.databaseUrl)} already holds events; the demo needs an empty one`, {
          fix: 'create a new database for the demo and point DATABASE_URL at it, or unset DATABASE_URL to use the embedded PostgreSQL (reset on every demo run)',
        });
      }
    } catch (e) {
      if (e instanceof CliError) throw e;
      const x = explainDatabaseError(e, config.databaseUrl, false);
      throw new CliError(x?.problem ?? `cannot use the database ${redactUrl(config.databaseUrl)}: ${(e as Error).message}`, { ...(x ? { fix: x.fix } : {}), cause: e });
    } finally {
      await c.end().catch(() => undefined);
    }
    return { url: config.databaseUrl, description: redactUrl(config.databaseUrl) };
  }

  const dir = resolve(config.dataDir);
  const marker = join(dir, DEMO_MARKER);
  if (existsSync(join(dir, 'pg', 'PG_VERSION')) && !existsSync(marker)) {
    throw new CliError(`the data directory ${shown(dir)} holds the database of a hub that is not a demo; the demo resets its database on every run and leaves this one alone`, {
      exitCode: EXIT_USAGE,
      fix: 'give the demo a directory of its own: logistics-hub --data-dir .hub-demo demo (or HUB_DATA_DIR=.hub-demo npm start)',
    });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(marker, 'The embedded PostgreSQL in this directory belongs to `logistics-hub demo`, which empties it on every run.\n');
  let h: EmbeddedHandle;
  try {
    h = await startEmbeddedPostgres(dir, log);
  } catch (e) {
    throw new CliError(`could not start the embedded PostgreSQL in ${shown(join(dir, 'pg'))}: ${(e as Error).message}`, {
      fix: 'run `logistics-hub doctor`, or set DATABASE_URL to an empty PostgreSQL database',
      cause: e,
    });
  }
  try {
    const name = decodeURIComponent(new URL(h.url).pathname.slice(1));
    const maintenance = new URL(h.url);
    maintenance.pathname = '/postgres';
    const c = new pg.Client({ connectionString: maintenance.toString() });
    c.on('error', () => undefined);
    await c.connect();
    try {
      const others = await c.query<{ n: number }>(`select count(*)::int n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [name]);
      if (others.rows[0]!.n > 0) {
        throw new CliError(`another program is connected to the demo database in ${shown(join(dir, 'pg'))} (a demo already running?)`, {
          fix: 'stop it first, or run this demo with its own data directory: logistics-hub --data-dir .hub-demo-2 demo',
        });
      }
      await c.query(`drop database if exists ${pg.escapeIdentifier(name)}`);
      await c.query(`create database ${pg.escapeIdentifier(name)}`);
    } finally {
      await c.end().catch(() => undefined);
    }
  } catch (e) {
    if (h.owned) await h.stop().catch(() => undefined);
    throw e;
  }
  return { url: h.url, description: `embedded PostgreSQL in ${shown(join(dir, 'pg'))}, emptied for this run`, embedded: h };
}

/** Prints each order once its workflow has ended (delivered and invoiced, or cancelled). */
class OutcomeWatcher {
  readonly #pool: pg.Pool;
  readonly #generator: ScenarioGenerator;
  readonly #reported = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #busy: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(pool: pg.Pool, generator: ScenarioGenerator) {
    this.#pool = pool;
    this.#generator = generator;
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.#busy = this.#busy.then(() => this.#check()).catch(() => undefined);
    }, WATCH_MS);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#busy;
  }

  async #check(): Promise<void> {
    if (this.#stopped) return;
    const open = this.#generator.orders.filter((o) => !this.#reported.has(o.orderId));
    if (!open.length) return;
    const r = await this.#pool.query<{ instance: string; status: string; updated_at: Date }>(
      `select instance, status, updated_at from hub_workflows where instance = any($1::text[]) and status in ('completed', 'cancelled')`,
      [open.map((o) => o.orderId)],
    );
    const byId = new Map(open.map((o) => [o.orderId, o] as [string, CreatedOrder]));
    for (const row of r.rows) {
      const o = byId.get(row.instance);
      if (!o || this.#stopped) continue;
      this.#reported.add(o.orderId);
      const seconds = Math.max(0, Math.round((row.updated_at.getTime() - o.createdAt.getTime()) / 1000));
      const outcome = row.status === 'completed' ? 'delivered and invoiced' : 'cancelled';
      process.stdout.write(`${o.name} ${outcome} ${seconds} s after confirmation (${o.orderId})\n`);
    }
  }
}

export function demoCommand(): Command {
  const cmd = new Command('demo')
    .description('run the demo: every simulator (Odoo, two warehouses, a carrier aggregator), the hub against them and a generator of orders with exceptions')
    .option('--port <port>', 'HTTP port of the hub (0 picks a free one; default from PORT or the config, else 8080)', parsePort)
    .option('--orders-per-minute <n>', 'sale orders the generator creates per minute', parseRate, 6)
    .option('--seed <n>', 'seed of the scenario mix (the same seed gives the same orders)', parseSeed, 1)
    .option('--transit <mode>', "parcels in transit: express (scripted to the door in about 20 s) or carrier (the aggregator's plan over the service's transit days)", parseTransit, 'express')
    .option('--carrier-time-scale <factor>', "how much faster the aggregator's clock runs than the wall clock (21600: six simulated hours per second, for --transit carrier; its timestamps then run ahead of the hub's)", parseScale, 1)
    .action(
      act(async (_o: unknown, self: Command) => {
        const o = optionsOf<{ port?: number; ordersPerMinute: number; seed: number; transit: 'express' | 'carrier'; carrierTimeScale: number }>(self);
        const overrides: Overrides = {};
        if (o.port !== undefined) overrides.port = { value: o.port, flag: '--port' };
        const loaded = loadCliConfig(o, overrides);
        const { config } = loaded;
        // the hub's own log lines go to stderr, warnings and errors only unless LOG_LEVEL says otherwise
        const level = loaded.env.includes('LOG_LEVEL') ? config.logLevel : 'warn';
        const log = createLogger(level, {}, process.stderr);
        const { startLandscape } = await import('../../demo/landscape.ts');
        const { ScenarioGenerator, describeOrder } = await import('../../demo/scenarios.ts');

        const db = await demoDatabase(config, log);
        let l: Landscape;
        try {
          l = await startLandscape({
            databaseUrl: db.url,
            dataDir: config.dataDir,
            port: config.port,
            log,
            realTime: true,
            carrierTimeScale: o.carrierTimeScale,
          });
        } catch (e) {
          if (db.embedded?.owned) await db.embedded.stop().catch(() => undefined);
          const err = e as NodeJS.ErrnoException;
          if (err.code === 'EADDRINUSE')
            throw new CliError(`port ${config.port} is already in use`, { fix: 'stop the other program, or choose another port with --port or PORT', cause: e });
          if (err.code === 'EACCES') throw new CliError(`not allowed to listen on port ${config.port}`, { fix: 'choose a port above 1023', cause: e });
          throw e;
        }

        const write = (line: string) => process.stdout.write(line + '\n');
        const generator = new ScenarioGenerator(
          { odoo: l.odoo, east: l.east, west: l.west, easypost: l.easypost },
          {
            ordersPerMinute: o.ordersPerMinute,
            seed: o.seed,
            transit: o.transit,
            carrierTimeScale: o.carrierTimeScale,
            onOrder: (order) => write(describeOrder(order)),
            onNote: (text) => write(`  ${text}`),
            onError: (e, order) => process.stderr.write(`scenario${order ? ` ${order.orderId}` : ''}: ${e.message}\n`),
          },
        );
        const watcher = new OutcomeWatcher(l.hub.db.pool, generator);

        const dataDir = shown(config.dataDir);
        const token = shown(join(config.dataDir, 'bootstrap-admin.token'));
        const cliFlags = o.dataDir !== undefined ? ` --data-dir ${dataDir}` : o.databaseUrl !== undefined ? ' --database-url <the URL given>' : '';
        write(`odoo-logistics-hub demo listening on ${l.hub.url} (database: ${db.description})`);
        write(`  hub           ${l.hub.url}   token: ${token}   API: ${l.hub.url}/openapi.json`);
        write(`  console       ${l.hub.url}/console   user admin, password in ${shown(join(config.dataDir, 'bootstrap-admin.password'))}`);
        write(`  odoo 18       ${l.odoo.url}   database logi, login admin, password admin`);
        write(`  wms east      ${l.east.url}   SimWMS, stocks FURN_0097 and E-COM10   ${l.east.url}/__sim/stats`);
        write(`  wms west      ${l.west.url}   SimWMS, stocks FURN_7800 and E-COM08   ${l.west.url}/__sim/stats`);
        const clock = o.carrierTimeScale === 1 ? 'wall clock' : `clock ${o.carrierTimeScale}x the wall clock (${+(o.carrierTimeScale / 3600).toFixed(2)} simulated hours per second)`;
        const transit = o.transit === 'express' ? 'parcels delivered about 20 s after they ship' : "the carriers' transit days";
        write(`  easypost      ${l.easypost.url}   ${transit}, ${clock}   ${l.easypost.url}/__sim/stats`);
        write(`  orders        ${o.ordersPerMinute} per minute, seed ${o.seed}`);

        let first: CreatedOrder | undefined;
        const signals = stopOnSignal({
          what: 'the demo',
          doing: 'the generator, the hub and the simulators',
          stop: async () => {
            await generator.stop();
            await watcher.stop();
            await l.stop();
            if (db.embedded?.owned) await db.embedded.stop();
          },
          stopped: () => `stopped (${generator.orders.length} orders created)`,
        });

        try {
          first = await generator.start();
        } catch (e) {
          signals.stopping = true;
          await generator.stop();
          await l.stop();
          if (db.embedded?.owned) await db.embedded.stop();
          throw e;
        }
        if (!signals.stopping) {
          watcher.start();
          if (first) {
            write(`follow the first order:`);
            write(`  npx logistics-hub${cliFlags} trace ${first.orderId}`);
            write(`  curl -s ${l.hub.url}/v1/timeline/${first.orderId} -H "authorization: Bearer $(cat ${token})"`);
          }
          write('Ctrl-C stops everything.');
        }
        return signals.done;
      }),
    );
  return examples(cmd, [
    ['logistics-hub demo', 'embedded PostgreSQL in .hub-data/pg (emptied on every run), hub on port 8080'],
    ['logistics-hub demo --orders-per-minute 30 --seed 7', 'more orders, another mix'],
    ['logistics-hub demo --transit carrier --carrier-time-scale 21600', "the carriers' own transit plans, six simulated hours per second"],
    ['DATABASE_URL=postgresql://hub:secret@localhost:5432/hub_demo logistics-hub demo --port 0', 'an empty external database, any free port'],
    ['logistics-hub --data-dir .hub-demo demo', 'keep the demo away from a real hub in .hub-data'],
  ]);
}
