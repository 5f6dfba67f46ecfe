/** `logistics-hub migrate [--status]`: apply pending database migrations, or only show them. */
import { Command } from 'commander';
import { migrate, migrationStatus, type MigrationStatus } from '../../platform/migrate.ts';
import { act, examples, optionsOf } from '../command.ts';
import { describeDatabase, loadCliConfig, withDatabase } from '../context.ts';
import { c, json, mark, plural } from '../output.ts';

export function statusLines(st: MigrationStatus): string[] {
  const lines: string[] = [];
  for (const a of st.applied) {
    const changed = st.modified.some((m) => m.version === a.version);
    const unknown = st.unknown.some((u) => u.version === a.version);
    if (unknown) lines.push(`${mark.warn()} ${a.name}  applied, but this hub has no such file (a newer hub ran on this database)`);
    else if (changed) lines.push(`${mark.fail()} ${a.name}  applied, but the file changed since`);
    else lines.push(`${mark.ok()} ${a.name}  applied`);
  }
  for (const p of st.pending) lines.push(`${c.yellow('•')} ${p.name}  pending`);
  return lines;
}

function problems(st: MigrationStatus): string[] {
  const out: string[] = [];
  if (st.modified.length)
    out.push(`${plural(st.modified.length, 'applied migration')} changed since applied (${st.modified.map((m) => m.name).join(', ')}): restore the original file; schema changes belong in a new numbered migration`);
  if (st.unknown.length)
    out.push(`${plural(st.unknown.length, 'applied migration')} unknown to this hub (${st.unknown.map((m) => m.name).join(', ')}): a newer hub ran here; upgrade this one`);
  return out;
}

export function migrateCommand(): Command {
  const cmd = new Command('migrate')
    .description('apply pending database migrations (the hub also applies them when it starts)')
    .option('--status', 'only show which migrations are applied and which are pending')
    .option('--json', 'with --status: print the status as JSON')
    .action(
      act(async (_o: unknown, self: Command) => {
        const o = optionsOf<{ status?: boolean; json?: boolean }>(self);
        const { config } = loadCliConfig(o);
        return withDatabase(config, async (db) => {
          const where = describeDatabase(db, config);
          if (o.status) {
            const st = await migrationStatus(db.pool);
            if (o.json) {
              process.stdout.write(
                json({
                  database: where,
                  applied: st.applied.map((a) => a.name),
                  pending: st.pending.map((p) => p.name),
                  modified: st.modified.map((m) => m.name),
                  unknown: st.unknown.map((u) => u.name),
                }) + '\n',
              );
              return 0;
            }
            process.stdout.write(`database: ${where}\n`);
            const lines = statusLines(st);
            process.stdout.write((lines.length ? lines.join('\n') : 'no migrations') + '\n');
            process.stdout.write(
              `${plural(st.applied.length, 'migration')} applied, ${st.pending.length} pending${st.pending.length ? ': run `logistics-hub migrate` to apply them' : ''}\n`,
            );
            for (const p of problems(st)) process.stdout.write(`${mark.warn()} ${p}\n`);
            return 0;
          }
          const applied = await migrate(db.pool);
          const st = await migrationStatus(db.pool);
          for (const name of applied) process.stdout.write(`${mark.ok()} applied ${name}\n`);
          process.stdout.write(
            applied.length
              ? `${plural(applied.length, 'migration')} applied to ${where}\n`
              : `${where} is up to date (${plural(st.applied.length, 'migration')} applied)\n`,
          );
          for (const p of problems(st)) process.stderr.write(`${mark.warn(process.stderr)} ${p}\n`);
          return 0;
        });
      }),
    );
  return examples(cmd, [
    ['logistics-hub migrate', 'apply what is pending'],
    ['logistics-hub migrate --status', 'only show'],
    ['DATABASE_URL=postgresql://hub@db/hub logistics-hub migrate', 'an external PostgreSQL'],
  ]);
}
