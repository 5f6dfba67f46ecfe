/** `logistics-hub dlq list|show`: the dead letters, filtered, and one in full. */
import { Command, Option } from 'commander';
import { getDeadLetter, listDeadLetters, type DeadLetter, type DeadLetterFilter } from '../../pipeline/replay.ts';
import { act, examples, optionsOf } from '../command.ts';
import { loadCliConfig, withDatabase } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { c, fields, fmtTime, json, parsePositiveInt, parseTime, plural, table } from '../output.ts';

export interface FilterOptions {
  type?: string;
  key?: string;
  source?: string;
  code?: string;
  class?: string;
  since?: Date;
  until?: Date;
}

/** The filter options shared by `dlq list` and `replay`. */
export function addFilterOptions(cmd: Command): Command {
  return cmd
    .option('--type <type>', 'event type, e.g. shipment.tracking.v1')
    .option('--key <key>', 'business key (one shipment, order...)')
    .option('--source <source>', 'event source (CloudEvents source URI)')
    .option('--code <code>', 'error code, e.g. mapping.missing_field')
    .addOption(new Option('--class <class>', 'error class').choices(['transient', 'permanent', 'business']))
    .option('--since <time>', 'dead-lettered at or after: ISO time or relative (30m, 2h, 3d, 1w)', (v) => parseTime(v))
    .option('--until <time>', 'dead-lettered before: ISO time or relative (30m, 2h, 3d, 1w)', (v) => parseTime(v));
}

export function toFilter(o: FilterOptions): DeadLetterFilter {
  if (o.since && o.until && o.since >= o.until) throw new UsageError(`--since (${fmtTime(o.since)}) must be before --until (${fmtTime(o.until)})`);
  const f: DeadLetterFilter = {};
  if (o.type) f.type = o.type;
  if (o.key) f.key = o.key;
  if (o.source) f.source = o.source;
  if (o.code) f.errorCode = o.code;
  if (o.class) f.errorClass = o.class;
  if (o.since) f.from = o.since;
  if (o.until) f.to = o.until;
  return f;
}

export function deadLetterTable(rows: DeadLetter[]): string {
  const wide = process.stdout.isTTY ? Math.max(30, (process.stdout.columns ?? 160) - 110) : 80;
  return table(rows, [
    { header: 'ID', value: (d) => d.id, align: 'right' },
    { header: 'CREATED', value: (d) => fmtTime(d.createdAt) },
    { header: 'STATUS', value: (d) => d.status },
    { header: 'TYPE', value: (d) => d.type, max: 40 },
    { header: 'KEY', value: (d) => d.key, max: 30 },
    { header: 'CODE', value: (d) => d.errorCode, max: 32 },
    { header: 'CLASS', value: (d) => d.errorClass },
    { header: 'ATT', value: (d) => d.attempts, align: 'right' },
    { header: 'REASON', value: (d) => d.reason, max: wide },
  ]);
}

function listCommand(): Command {
  const cmd = new Command('list').description('list dead letters (open ones unless --status says otherwise), oldest first');
  addFilterOptions(cmd)
    .addOption(new Option('--status <status>', 'open (waiting), replaying (queued for replay), replayed, or all').choices(['open', 'replaying', 'replayed', 'all']).default('open'))
    .option('--limit <n>', 'show at most n (up to 1000)', parsePositiveInt, 50)
    .option('--json', 'print JSON (one array) for scripts')
    .action(
      act(async (_o: unknown, self: Command) => {
        const o = optionsOf<FilterOptions & { status: string; limit: number; json?: boolean }>(self);
        const filter = toFilter(o);
        if (o.limit > 1000) throw new UsageError('--limit can be at most 1000', 'narrow the filter (--since/--until, --type...) to page through more');
        const { config } = loadCliConfig(o);
        return withDatabase(config, async (db) => {
          const rows = await listDeadLetters(db.pool, { ...filter, ...(o.status === 'all' ? {} : { status: o.status }), limit: o.limit });
          if (o.json) {
            process.stdout.write(json(rows) + '\n');
            return 0;
          }
          if (rows.length === 0) {
            process.stdout.write(`no ${o.status === 'all' ? '' : o.status + ' '}dead letters match\n`);
            return 0;
          }
          process.stdout.write(deadLetterTable(rows) + '\n');
          const more = rows.length === o.limit ? c.dim(` (the limit: there may be more; use --limit or narrow the filter)`) : '';
          process.stdout.write(`${plural(rows.length, 'dead letter')}${more}\n`);
          return 0;
        });
      }),
    );
  return examples(cmd, [
    ['logistics-hub dlq list'],
    ['logistics-hub dlq list --type shipment.tracking.v1 --since 2h', 'one type, last two hours'],
    ['logistics-hub dlq list --code mapping.missing_field --status all --limit 200'],
    ['logistics-hub dlq list --key SHP-1042 --json | jq ".[].id"'],
  ]);
}

function showCommand(): Command {
  const cmd = new Command('show')
    .description('show one dead letter: why it failed, its attempts and the event payload')
    .argument('<id>', 'dead letter id (first column of `dlq list`)', parsePositiveInt)
    .option('--json', 'print JSON for scripts')
    .action(
      act(async (id: number, _o: unknown, self: Command) => {
        const o = optionsOf<{ json?: boolean }>(self);
        const { config } = loadCliConfig(o);
        return withDatabase(config, async (db) => {
          const d = await getDeadLetter(db.pool, id);
          if (!d) throw new CliError(`dead letter ${id} does not exist`, { fix: 'list them with `logistics-hub dlq list --status all`' });
          const attempts = (
            await db.pool.query(
              `select attempt, worker, outcome, error_class, error_code, error_message, started_at, finished_at from hub_attempts where event_seq = $1 order by id`,
              [d.eventSeq],
            )
          ).rows as { attempt: number; worker: string; outcome: string; error_class: string | null; error_code: string | null; error_message: string | null; started_at: Date; finished_at: Date }[];
          if (o.json) {
            process.stdout.write(json({ ...d, history: attempts }) + '\n');
            return 0;
          }
          const out = [
            c.bold(`dead letter ${d.id}`),
            fields([
              ['status', d.status],
              ['reason', d.reason],
              ['error', `${d.errorCode} (${d.errorClass})`],
              ['attempts', d.attempts],
              ['replays', d.replayCount],
              ['created', fmtTime(d.createdAt)],
              ['updated', fmtTime(d.updatedAt)],
              ['event', `${d.eventId} (seq ${d.eventSeq})`],
              ['type', d.type],
              ['source', d.source],
              ['key', d.key],
              ['tenant', d.tenantId],
            ]),
            '',
            c.bold('history'),
            attempts.length
              ? table(attempts, [
                  { header: '#', value: (a) => a.attempt, align: 'right' },
                  { header: 'FINISHED', value: (a) => fmtTime(a.finished_at) },
                  { header: 'OUTCOME', value: (a) => a.outcome },
                  { header: 'CODE', value: (a) => a.error_code },
                  { header: 'WORKER', value: (a) => a.worker, max: 30 },
                  { header: 'MESSAGE', value: (a) => a.error_message, max: 80 },
                ])
              : '(none recorded)',
            '',
            c.bold('payload'),
            d.payload === null || d.payload === undefined ? '(none)' : json(d.payload),
            '',
            c.dim(d.status === 'open' ? `replay it with: logistics-hub replay ${d.id}` : `trace its key with: logistics-hub trace ${d.key}`),
          ];
          process.stdout.write(out.join('\n') + '\n');
          return 0;
        });
      }),
    );
  return examples(cmd, [['logistics-hub dlq show 42'], ['logistics-hub dlq show 42 --json | jq .payload']]);
}

export function dlqCommand(): Command {
  const cmd = new Command('dlq').description('inspect dead letters: events that failed permanently or ran out of retries');
  cmd.addCommand(listCommand()).addCommand(showCommand());
  return examples(cmd, [
    ['logistics-hub dlq list --since 1d'],
    ['logistics-hub dlq show 42'],
    ['logistics-hub replay 42', 'then replay it once the cause is fixed'],
  ]);
}
