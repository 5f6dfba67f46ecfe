/**
 * A hub process for the benchmarks: the real startHub (configuration from the
 * environment and HUB_CONFIG, as `logistics-hub start` reads it) with one benchmark
 * handler instead of the built-in ones:
 *   BENCH_HANDLER=noop      does nothing (ingest bench: measures the pipeline itself)
 *   BENCH_HANDLER=sidetable inserts one row per event into bench_effects inside the
 *                           pipeline transaction (pipeline bench: a minimal real effect)
 *   BENCH_HANDLER=audited   sidetable, and one audit-trail entry per event (every event a
 *                           state change: the hash chain's worst case)
 * Prints "READY <url>"; stops cleanly on SIGTERM.
 */
import pg from 'pg';
import { loadConfig } from '../src/platform/config.ts';
import { startHub } from '../src/hub.ts';
import type { Handler } from '../src/pipeline/types.ts';

// Statements sent to PostgreSQL by this process (every pool and client), printed as
// "STATS {...}" when the process stops: simple = no parameters (begin, commit, savepoint...).
const statements = { simple: 0, parameterized: 0 };
const clientProto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
const originalQuery = clientProto.query;
clientProto.query = function (this: unknown, ...a: unknown[]) {
  const first = a[0] as { values?: unknown[] } | string | undefined;
  const params = Array.isArray(a[1]) ? a[1].length > 0 : typeof first === 'object' && first !== null && (first.values?.length ?? 0) > 0;
  if (params) statements.parameterized++;
  else statements.simple++;
  return originalQuery.apply(this, a);
};

const kind = process.env.BENCH_HANDLER ?? 'noop';
const sidetable: Handler = {
  name: 'bench.sidetable',
  matches: () => true,
  async handle(e, ctx) {
    await ctx.tx.query(`insert into bench_effects (ref, key, started) values ($1, $2, $3)`, [e.id, e.key, new Date()]);
  },
};
const handler: Handler =
  kind === 'sidetable'
    ? sidetable
    : kind === 'audited'
      ? {
          name: 'bench.audited',
          matches: () => true,
          async handle(e, ctx) {
            await sidetable.handle(e, ctx);
            // every event a state change: the audit trail's worst case
            ctx.audit({ actor: `event:${e.source}`, action: 'bench.state_changed', objectType: 'bench', objectId: e.key, before: { seq: e.seq - 1 }, after: { seq: e.seq } });
          },
        }
      : { name: 'bench.noop', matches: () => true, async handle() {} };

// With BENCH_GATE=1 the process loads its modules, says "READY loaded" and starts the
// hub only on SIGUSR2 (then prints "STARTED <url>"), so several processes start together.
const gated = process.env.BENCH_GATE === '1';
if (gated) {
  process.stdout.write('READY loaded\n');
  const keepAlive = setInterval(() => undefined, 1 << 30); // a signal listener alone does not keep node running
  await new Promise<void>((r) => process.once('SIGUSR2', () => r()));
  clearInterval(keepAlive);
}
const hub = await startHub(loadConfig(), { handlers: [handler], replaceHandlers: true });
process.stdout.write(`${gated ? 'STARTED' : 'READY'} ${hub.url}\n`);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await hub.stop();
  process.stdout.write(`STATS ${JSON.stringify(statements)}\n`);
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
