/**
 * `logistics-hub replay`: replays dead letters (by id, filter or time range) without
 * asking anything. The request is recorded in the database; hub workers (or, with
 * --in-process, a worker inside this command) replay them; this command follows the
 * progress until done and ends with "replayed N, failed M".
 */
import { Command } from 'commander';
import { hostname } from 'node:os';
import { createLogger } from '../../platform/logger.ts';
import { listDeadLetters, replayProgress, requestReplay, type DeadLetterFilter, type ReplayProgress } from '../../pipeline/replay.ts';
import type { Database } from '../../platform/db.ts';
import type { HubConfig } from '../../platform/config.ts';
import { act, examples, optionsOf } from '../command.ts';
import { loadCliConfig, requester, withDatabase } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { addFilterOptions, toFilter, type FilterOptions } from './dlq.ts';
import { c, json, parseSeconds, plural } from '../output.ts';

interface ReplayOptions extends FilterOptions {
  wait: boolean;
  timeout: number;
  inProcess?: boolean;
  json?: boolean;
  verbose?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parseIds(raw: string[]): number[] {
  return raw.map((s) => {
    if (!/^\d+$/.test(s) || Number(s) < 1) throw new UsageError(`"${s}" is not a dead letter id (a whole number, first column of \`logistics-hub dlq list\`)`);
    return Number(s);
  });
}

/** Why some of the given ids are not replayed (replayed already, or missing). */
async function notReplayable(db: Database, ids: number[]): Promise<string[]> {
  const r = await db.pool.query<{ id: number; status: string }>(`select id, status from hub_dead_letters where id = any($1::bigint[])`, [ids]);
  const byId = new Map(r.rows.map((x) => [x.id, x.status]));
  return ids.filter((id) => byId.get(id) !== 'open' && byId.get(id) !== 'replaying').map((id) => `${id} (${byId.has(id) ? byId.get(id) : 'does not exist'})`);
}

/** Dead letters matching the filter that an earlier request queued and no worker handled yet. */
async function queuedEarlier(db: Database, filter: DeadLetterFilter, replayId: number): Promise<number[]> {
  const out: number[] = [];
  for (let afterId = 0; ; ) {
    const page = await listDeadLetters(db.pool, { ...filter, status: 'replaying', limit: 1000, afterId });
    for (const d of page) afterId = d.id;
    out.push(...page.map((d) => d.id));
    if (page.length < 1000) break;
  }
  if (out.length === 0) return out;
  const mine = await db.pool.query<{ id: number }>(`select id from hub_dead_letters where replay_id = $1`, [replayId]);
  const own = new Set(mine.rows.map((r) => r.id));
  return out.filter((id) => !own.has(id));
}

/** Progress over this request plus the earlier-queued dead letters it follows. */
async function progress(db: Database, replayId: number, earlier: number[]): Promise<ReplayProgress> {
  if (earlier.length === 0) return (await replayProgress(db.pool, replayId))!;
  const r = await db.pool.query<{ total: number; replaying: number; replayed: number; failed: number }>(
    `select count(*)::int as total,
       count(*) filter (where status = 'replaying')::int as replaying,
       count(*) filter (where status = 'replayed')::int as replayed,
       count(*) filter (where status = 'open')::int as failed
     from hub_dead_letters where replay_id = $1 or id = any($2::bigint[])`,
    [replayId, earlier],
  );
  const x = r.rows[0]!;
  return { replayId, total: x.total, replaying: x.replaying, replayed: x.replayed, failed: x.failed, done: x.replaying === 0 };
}

interface Reporter {
  update(p: ReplayProgress): void;
  stop(): void;
}

function reporter(total: number, replayId: number, quiet: boolean): Reporter {
  if (quiet) return { update: () => undefined, stop: () => undefined };
  if (process.stdout.isTTY) {
    // cli-progress only on a terminal; loaded on demand
    let bar: { update(n: number, p: object): void; stop(): void } | undefined;
    const ready = import('cli-progress').then(({ default: cp }) => {
      bar = new cp.SingleBar(
        { format: `replay ${replayId} |{bar}| {value}/{total}  replayed {replayed}, failed {failed}`, hideCursor: true, clearOnComplete: false, noTTYOutput: false },
        cp.Presets.shades_classic,
      ) as unknown as typeof bar;
      (bar as unknown as { start(t: number, v: number, p: object): void }).start(total, 0, { replayed: 0, failed: 0 });
    });
    let last: ReplayProgress | undefined;
    return {
      update(p) {
        last = p;
        void ready.then(() => bar?.update(p.replayed + p.failed, { replayed: p.replayed, failed: p.failed }));
      },
      stop() {
        if (last) bar?.update(last.replayed + last.failed, { replayed: last.replayed, failed: last.failed });
        bar?.stop();
      },
    };
  }
  let lastLine = '';
  let lastAt = 0;
  return {
    update(p) {
      const line = `replay ${replayId}: ${p.replayed + p.failed}/${p.total} done (replayed ${p.replayed}, failed ${p.failed})`;
      if (line !== lastLine && (Date.now() - lastAt >= 1000 || p.done)) {
        process.stdout.write(line + '\n');
        lastLine = line;
        lastAt = Date.now();
      }
    },
    stop: () => undefined,
  };
}

async function inProcessWorker(db: Database, config: HubConfig, verbose: boolean) {
  const { Worker } = await import('../../pipeline/worker.ts');
  const { builtinHandlers } = await import('../../pipeline/handlers/index.ts');
  const log = verbose ? createLogger(config.logLevel, {}, process.stderr) : createLogger('silent');
  const worker = new Worker({
    pool: db.pool,
    listenUrl: db.url,
    handlers: builtinHandlers(),
    log,
    instanceId: `cli-replay-${hostname()}-${process.pid}`,
    keysPerClaim: config.pipeline.keysPerClaim,
    concurrency: config.pipeline.concurrency,
    batchSize: config.pipeline.batchSize,
    leaseMs: config.pipeline.leaseMs,
    pollMs: Math.min(config.pipeline.pollMs, 250),
    retry: config.pipeline.retry,
  });
  worker.start();
  return worker;
}

export function replayCommand(): Command {
  const cmd = new Command('replay')
    .description('replay dead letters by id, by filter or by time range, and follow the progress (asks nothing)')
    .argument('[ids...]', 'dead letter ids (first column of `dlq list`)');
  addFilterOptions(cmd)
    .option('--no-wait', 'only request the replay; do not follow it')
    .option('--timeout <seconds>', 'give up when no replay progresses for this long', parseSeconds, 30)
    .option('--in-process', 'replay in this command with its own worker (no running hub needed); the worker handles other ready events meanwhile too')
    .option('--json', 'print the request and the result as JSON')
    .action(
      act(async (rawIds: string[], _o: unknown, self: Command) => {
        const o = optionsOf<ReplayOptions>(self);
        const ids = parseIds(rawIds);
        const filter: DeadLetterFilter = toFilter(o);
        if (ids.length) filter.ids = ids;
        if (Object.keys(filter).length === 0)
          throw new UsageError('say which dead letters to replay: ids, or a filter (--type, --key, --source, --code, --class) or a time range (--since/--until)', 'to replay every open dead letter of the last day: logistics-hub replay --since 1d');
        if (o.inProcess && !o.wait) throw new UsageError('--in-process and --no-wait contradict each other: the in-process worker stops when this command ends');
        const { config } = loadCliConfig(o);
        return withDatabase(config, async (db) => {
          const { replayId, total: queued } = await requestReplay(db.pool, filter, requester());
          const skipped = ids.length ? await notReplayable(db, ids) : [];
          const earlier = o.wait ? await queuedEarlier(db, filter, replayId) : [];
          const total = queued + earlier.length;
          const say = (s: string) => !o.json && process.stdout.write(s + '\n');
          const result = (extra: Record<string, unknown>) =>
            o.json && process.stdout.write(json({ replayId, queued, followedFromEarlierRequests: earlier.length, skipped, ...extra }) + '\n');
          if (skipped.length) process.stderr.write(`${c.yellow('not replayed:', process.stderr)} ${skipped.join(', ')}\n`);
          if (total === 0) {
            say('nothing to replay: no open dead letters match');
            result({ replayed: 0, failed: 0, done: true });
            return ids.length ? 1 : 0;
          }
          say(
            `replay ${replayId}: ${plural(queued, 'dead letter')} queued` +
              (earlier.length ? `; following ${earlier.length} more queued by an earlier replay that no worker has handled yet` : ''),
          );
          if (!o.wait) {
            say(`not waiting: a running hub replays them; follow with \`logistics-hub dlq list --status replaying\``);
            result({ requested: true });
            return 0;
          }
          const worker = o.inProcess ? await inProcessWorker(db, config, !!o.verbose) : undefined;
          const rep = reporter(total, replayId, !!o.json);
          try {
            let lastDone = -1;
            let lastChange = Date.now();
            for (;;) {
              const p = await progress(db, replayId, earlier);
              rep.update(p);
              const doneCount = p.replayed + p.failed;
              if (doneCount !== lastDone) {
                lastDone = doneCount;
                lastChange = Date.now();
              }
              if (p.done) {
                rep.stop();
                say(`replayed ${p.replayed}, failed ${p.failed}`);
                if (p.failed) say(c.dim(`the failed ones are open dead letters again with the new reason: logistics-hub dlq list --code <code> or dlq show <id>`));
                result({ replayed: p.replayed, failed: p.failed, done: true });
                return p.failed ? 1 : 0;
              }
              if (Date.now() - lastChange >= o.timeout * 1000) {
                rep.stop();
                const why = worker
                  ? `the in-process worker made no progress for ${o.timeout} s${worker.lastError ? ` (${worker.lastError.message})` : ''}`
                  : 'no hub process is handling replays: start one with `logistics-hub start`';
                throw new CliError(
                  `${why}; replay ${replayId}: replayed ${p.replayed}, failed ${p.failed}, ${p.replaying} still queued`,
                  { fix: worker ? 'run with --verbose to see the worker log' : 'or run this command with --in-process; the queued dead letters are replayed as soon as a worker runs' },
                );
              }
              await sleep(200);
            }
          } finally {
            await worker?.stop();
          }
        });
      }),
    );
  return examples(cmd, [
    ['logistics-hub replay 42 43', 'two dead letters, by id'],
    ['logistics-hub replay --type shipment.tracking.v1 --code carrier.timeout', 'a filtered set'],
    ['logistics-hub replay --since 2026-03-01T08:00Z --until 2026-03-01T09:00Z', 'a time range'],
    ['logistics-hub replay --since 2h --no-wait', 'only request it'],
    ['logistics-hub replay --key SHP-1042 --in-process', 'no hub running: replay here'],
  ]);
}
