/**
 * The baseline worker process: graphile-worker 0.18 through its documented run() API
 * (pgPool, concurrency, pollInterval, taskList), one task `bench` that inserts one row
 * per job into bench_effects, the same effect as the hub's benchmark handler.
 *
 * Env: DATABASE_URL, GW_CONCURRENCY, GW_POLL_MS, GW_POOL_SIZE.
 * Prints "READY loaded", starts on SIGUSR2 (so several processes start together), then
 * prints "STARTED"; stops with runner.stop() on SIGTERM.
 */
import pg from 'pg';
import { run, Logger, type Runner, type TaskList } from 'graphile-worker';

const concurrency = Number(process.env.GW_CONCURRENCY ?? 8);
const pollInterval = Number(process.env.GW_POLL_MS ?? 1000);
const pgPool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.GW_POOL_SIZE ?? concurrency + 3) });
pgPool.on('error', () => undefined);
pgPool.on('connect', (c) => c.on('error', () => undefined));

const taskList: TaskList = {
  bench: async (payload, helpers) => {
    const started = new Date();
    const p = payload as { ref: string; key: string };
    await helpers.withPgClient((c) => c.query(`insert into bench_effects (ref, key, started) values ($1, $2, $3)`, [p.ref, p.key, started]));
  },
};

const quiet = new Logger(() => (level, message) => {
  if (level === 'error') process.stderr.write(`graphile-worker: ${message}\n`);
});

process.stdout.write('READY loaded\n');
const keepAlive = setInterval(() => undefined, 1 << 30); // a signal listener alone does not keep node running
await new Promise<void>((r) => process.once('SIGUSR2', () => r()));
clearInterval(keepAlive);
const runner: Runner = await run({ pgPool, concurrency, pollInterval, taskList, logger: quiet, noHandleSignals: true });
process.stdout.write('STARTED\n');
let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void runner
    .stop()
    .catch(() => undefined)
    .then(() => pgPool.end())
    .then(() => process.exit(0));
});
