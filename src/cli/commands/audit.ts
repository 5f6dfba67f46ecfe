/**
 * `logistics-hub audit verify|list`: the hash-chained audit trail. `verify` recomputes
 * every tenant's chain and names the first broken link (exit 1); `list` shows entries,
 * newest first, filtered by tenant, action, object and time.
 */
import { Command } from 'commander';
import { rowToAudit, verifyAudit, type AuditEntry } from '../../security/audit.ts';
import { act, examples, optionsOf } from '../command.ts';
import { loadCliConfig, withDatabase } from '../context.ts';
import { UsageError } from '../errors.ts';
import { c, fmtTime, json, parsePositiveInt, parseTime, plural, table } from '../output.ts';
import { parseTenant } from './secrets.ts';

function verifyCommand(): Command {
  const cmd = new Command('verify')
    .description("recompute the audit trail's hash chains and name the first broken link (exit 1 when one is broken)")
    .option('--tenant <id>', 'only this tenant (default: every tenant)', parseTenant)
    .option('--json', 'print the result as JSON')
    .action(
      act(async (_o: unknown, self: Command) => {
        const o = optionsOf<{ tenant?: string; json?: boolean }>(self);
        const { config } = loadCliConfig(o);
        return withDatabase(config, async (db) => {
          const progress = process.stderr.isTTY && !o.json;
          const v = await verifyAudit(db.pool, {
            ...(o.tenant ? { tenantId: o.tenant } : {}),
            ...(progress ? { onProgress: (n: number) => process.stderr.write(`\rchecked ${n} entries…`) } : {}),
          });
          if (progress) process.stderr.write('\r\u001b[K');
          const entries = v.tenants.reduce((n, t) => n + t.entries, 0);
          if (o.json) {
            process.stdout.write(json({ intact: !v.broken, entries, tenants: v.tenants, broken: v.broken ?? null }) + '\n');
            return v.broken ? 1 : 0;
          }
          if (v.broken) {
            const b = v.broken;
            process.stdout.write(`${c.red('audit trail broken')}: tenant ${b.tenantId}, entry ${b.seq}: ${b.reason}\n`);
            process.stdout.write(c.dim(`(${plural(entries, 'entry', 'entries')} verified before it; see it with: logistics-hub audit list --tenant ${b.tenantId} --limit 5)`) + '\n');
            return 1;
          }
          process.stdout.write(`audit trail intact: ${plural(entries, 'entry', 'entries')} in ${plural(v.tenants.length, 'tenant')}\n`);
          return 0;
        });
      }),
    );
  return examples(cmd, [['logistics-hub audit verify'], ['logistics-hub audit verify --tenant acme'], ['logistics-hub audit verify --json | jq .broken']]);
}

interface ListOptions {
  tenant?: string;
  action?: string;
  object?: string;
  since?: Date;
  limit: number;
  json?: boolean;
}

/** TYPE or TYPE:ID; the id may itself contain colons. */
function parseObject(value: string): { type: string; id?: string } {
  const i = value.indexOf(':');
  const type = i < 0 ? value : value.slice(0, i);
  if (!type) throw new UsageError(`--object ${JSON.stringify(value)}: expected TYPE or TYPE:ID, e.g. secret or client:cl_123`);
  return i < 0 ? { type } : { type, id: value.slice(i + 1) };
}

function listCommand(): Command {
  const cmd = new Command('list')
    .description('list audit entries, newest first: who did what to which object, when')
    .option('--tenant <id>', 'only this tenant (default: every tenant)', parseTenant)
    .option('--action <action>', 'an action (secret.rotated), or every action under a prefix (secret.*)')
    .option('--object <type[:id]>', 'an object type (client), or one object (client:cl_123)')
    .option('--since <time>', 'at or after: ISO time or relative (30m, 2h, 3d, 1w)', (v) => parseTime(v))
    .option('--limit <n>', 'show at most n (up to 1000)', parsePositiveInt, 50)
    .option('--json', 'print JSON (one array) for scripts')
    .action(
      act(async (_o: unknown, self: Command) => {
        const o = optionsOf<ListOptions>(self);
        if (o.limit > 1000) throw new UsageError('--limit can be at most 1000', 'narrow the filter (--since, --action, --object) to see more');
        const where: string[] = [];
        const args: unknown[] = [];
        const add = (sql: string, v: unknown) => {
          args.push(v);
          where.push(sql.replace('?', `$${args.length}`));
        };
        if (o.tenant) add('tenant_id = ?', o.tenant);
        if (o.action) {
          if (o.action.endsWith('*')) add(`starts_with(action, ?)`, o.action.slice(0, -1));
          else add('action = ?', o.action);
        }
        if (o.object) {
          const obj = parseObject(o.object);
          add('object_type = ?', obj.type);
          if (obj.id !== undefined) add('object_id = ?', obj.id);
        }
        if (o.since) add('at >= ?', o.since);
        const { config } = loadCliConfig(o);
        return withDatabase(config, async (db) => {
          args.push(o.limit);
          const r = await db.pool.query(`select * from hub_audit ${where.length ? 'where ' + where.join(' and ') : ''} order by seq desc limit $${args.length}`, args);
          const rows = r.rows.map(rowToAudit);
          if (o.json) {
            process.stdout.write(json(rows) + '\n');
            return 0;
          }
          if (!rows.length) {
            process.stdout.write('no audit entries match\n');
            return 0;
          }
          const wide = process.stdout.isTTY ? Math.max(30, (process.stdout.columns ?? 160) - 120) : 100;
          process.stdout.write(
            table<AuditEntry>(rows, [
              { header: 'SEQ', value: (e) => e.seq, align: 'right' },
              { header: 'AT', value: (e) => fmtTime(e.at) },
              { header: 'TENANT', value: (e) => e.tenantId },
              { header: 'ACTOR', value: (e) => e.actor, max: 32 },
              { header: 'ACTION', value: (e) => e.action, max: 32 },
              { header: 'OBJECT', value: (e) => `${e.objectType}:${e.objectId}`, max: 40 },
              { header: 'DETAILS', value: (e) => (Object.keys(e.details).length ? JSON.stringify(e.details) : ''), max: wide },
            ]) + '\n',
          );
          const more = rows.length === o.limit ? c.dim(' (the limit: there may be more; use --limit or narrow the filter)') : '';
          process.stdout.write(`${plural(rows.length, 'entry', 'entries')}${more}\n`);
          return 0;
        });
      }),
    );
  return examples(cmd, [
    ['logistics-hub audit list', 'the last 50 entries'],
    ['logistics-hub audit list --action "secret.*" --since 1w', 'secret changes of the last week'],
    ['logistics-hub audit list --object client:cl_7f3a --tenant acme'],
    ['logistics-hub audit list --action retention.ran --limit 5 --json'],
  ]);
}

export function auditCommand(): Command {
  const cmd = new Command('audit').description('the audit trail: every admin action and state change, hash-chained per tenant');
  cmd.addCommand(verifyCommand()).addCommand(listCommand());
  return examples(cmd, [['logistics-hub audit verify'], ['logistics-hub audit list --since 1d']]);
}
