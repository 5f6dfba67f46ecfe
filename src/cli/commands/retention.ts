/**
 * `logistics-hub retention run [--days N] [--dry-run]`: anonymises now the personal data
 * the scheduled retention job would (stored event payloads and webhook bodies older than
 * retention.piiDays), and records the run in the audit trail. --dry-run only counts.
 */
import { Command } from 'commander';
import { runRetention } from '../../security/retention.ts';
import { act, examples, optionsOf } from '../command.ts';
import { loadCliConfig, requester, withDatabase } from '../context.ts';
import { fmtTime, json, parsePositiveInt, plural } from '../output.ts';

function runCommand(): Command {
  const cmd = new Command('run')
    .description('anonymise the personal data older than the retention period now (the hub also does it on a schedule)')
    .option('--days <n>', 'personal data older than n days (default: retention.piiDays)', parsePositiveInt)
    .option('--dry-run', 'only count what would be anonymised; change and record nothing')
    .option('--json', 'print the counts as JSON')
    .action(
      act(async (_o: unknown, self: Command) => {
        const o = optionsOf<{ days?: number; dryRun?: boolean; json?: boolean }>(self);
        const { config } = loadCliConfig(o);
        const piiDays = o.days ?? config.retention.piiDays;
        return withDatabase(config, async (db) => {
          const r = await runRetention(db.pool, { piiDays, now: new Date(), actor: requester(), dryRun: !!o.dryRun });
          if (o.json) {
            process.stdout.write(json({ ...r, piiDays }) + '\n');
            return 0;
          }
          const what = `${plural(r.events, 'event')} and ${plural(r.webhookBodies, 'webhook body', 'webhook bodies')} received before ${fmtTime(r.cutoff)} (${plural(piiDays, 'day')})`;
          process.stdout.write(o.dryRun ? `dry run: would anonymise ${what}; nothing changed\n` : `anonymised the personal data of ${what}\n`);
          const tenants = Object.entries(r.byTenant).filter(([, n]) => n.events || n.webhookBodies);
          if (tenants.length > 1) for (const [t, n] of tenants) process.stdout.write(`  ${t}: ${plural(n.events, 'event')}, ${plural(n.webhookBodies, 'webhook body', 'webhook bodies')}\n`);
          if (!o.dryRun) process.stdout.write('recorded in the audit trail (retention.ran)\n');
          return 0;
        });
      }),
    );
  return examples(cmd, [
    ['logistics-hub retention run --dry-run', 'how much is due?'],
    ['logistics-hub retention run', 'anonymise what is older than retention.piiDays'],
    ['logistics-hub retention run --days 30', 'a shorter period, this once'],
  ]);
}

export function retentionCommand(): Command {
  const cmd = new Command('retention').description('personal-data retention: anonymise stored personal data after retention.piiDays');
  cmd.addCommand(runCommand());
  return examples(cmd, [['logistics-hub retention run --dry-run'], ['logistics-hub retention run']]);
}
