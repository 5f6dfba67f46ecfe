/**
 * `logistics-hub clients ...` and `logistics-hub tenants ...`: API clients (create, list,
 * show, rotate, revoke, change scopes) and the tenants they belong to. A token is printed
 * once, when it is issued; only its hash is stored.
 */
import { Command, InvalidArgumentError } from 'commander';
import type pg from 'pg';
import { HubError } from '../../domain/errors.ts';
import { SCOPES, parseScopes } from '../../domain/scopes.ts';
import { addTenant, createClient, findClient, listClients, listTenants, revokeClient, rotateClientToken, updateClient, type ClientInfo } from '../../security/clients.ts';
import { act, examples, optionsOf } from '../command.ts';
import { loadCliConfig, requester, withDatabase } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { c, fields, fmtTime, json, parsePositiveInt, plural, table } from '../output.ts';

/** 90s, 30m, 12h, 7d or plain seconds. */
export function parseDurationSeconds(value: string): number {
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected a duration like 0, 90s, 30m, 12h or 7d.');
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's'];
}

export function scopesArg(v: string): string[] {
  try {
    return parseScopes(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** Input errors of the security module are usage errors here (exit 2, with the message); "not found" says how to list. */
export function usageErrors(listHint: string) {
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof HubError && e.status >= 400 && e.status < 500) {
        if (e.status === 404) throw new CliError(e.message, { fix: `list them with ${listHint}` });
        throw new UsageError(e.message);
      }
      throw e;
    }
  };
}
const usage = usageErrors('`logistics-hub clients list` (or `logistics-hub tenants list`)');

/** `<noun>s list [--tenant] [--json]`: the rows as a table (or JSON), or what to do when there are none. */
export function listCommand<T>(o: { description: string; list: (pool: pg.Pool, tenant?: string) => Promise<T[]>; table: (rows: T[]) => string; noun: string; empty: string }): Command {
  return new Command('list')
    .description(o.description)
    .option('--tenant <id>', 'only this tenant')
    .option('--json', 'print JSON')
    .action(
      act(async (_o: unknown, self: Command) => {
        const opts = optionsOf<{ tenant?: string; json?: boolean }>(self);
        const { config } = loadCliConfig(opts);
        return withDatabase(config, async (db) => {
          const rows = await o.list(db.pool, opts.tenant);
          if (opts.json) process.stdout.write(json(rows) + '\n');
          else process.stdout.write(rows.length ? `${o.table(rows)}\n${plural(rows.length, o.noun)}\n` : `${o.empty}\n`);
          return 0;
        });
      }),
    );
}

function printToken(client: ClientInfo, token: string, note: string): void {
  process.stdout.write(
    [
      `${note}: ${c.bold(client.name)} (${client.id}) in tenant ${client.tenantId}`,
      `scopes: ${client.scopes.join(', ')}`,
      '',
      c.bold('token (shown only now; store it in your secret manager):'),
      token,
      '',
      c.dim(`use it as "Authorization: Bearer <token>", or as the OAuth2 client secret of client_id ${client.id} at POST /oauth/token`),
    ].join('\n') + '\n',
  );
}

function clientTable(rows: ClientInfo[]): string {
  return table(rows, [
    { header: 'ID', value: (x) => x.id },
    { header: 'TENANT', value: (x) => x.tenantId },
    { header: 'NAME', value: (x) => x.name, max: 30 },
    { header: 'SCOPES', value: (x) => x.scopes.join(','), max: 70 },
    { header: 'STATUS', value: (x) => (x.revokedAt ? 'revoked' : 'active') },
    { header: 'TOKENS', value: (x) => x.credentials.filter((k) => !k.revokedAt && (!k.expiresAt || k.expiresAt > new Date())).length, align: 'right' },
    { header: 'CREATED', value: (x) => fmtTime(x.createdAt) },
  ]);
}

export function clientsCommand(): Command {
  const cmd = new Command('clients').description('API clients: who may call the hub, in which tenant, with which scopes');

  const create = new Command('create')
    .description('create a client and print its token (once)')
    .requiredOption('--name <name>', 'a name unique in the tenant, e.g. wms-east')
    .requiredOption('--scopes <list>', `comma-separated scopes: ${SCOPES.join(', ')}`, scopesArg)
    .option('--tenant <id>', 'tenant (Odoo company) the client belongs to', 'default')
    .option('--rate <n>', 'requests per second (default: security.rateLimit.perSecond)', parsePositiveInt)
    .option('--burst <n>', 'requests at once (default: security.rateLimit.burst)', parsePositiveInt)
    .option('--json', 'print JSON {client, token}')
    .action(
      act(async (_o: unknown, self: Command) => {
        const o = optionsOf<{ name: string; scopes: string[]; tenant: string; rate?: number; burst?: number; json?: boolean }>(self);
        const { config } = loadCliConfig(o);
        return withDatabase(config, async (db) => {
          const r = await usage(() =>
            createClient(db.pool, { tenantId: o.tenant, name: o.name, scopes: o.scopes, actor: requester(), ...(o.rate ? { ratePerSecond: o.rate } : {}), ...(o.burst ? { burst: o.burst } : {}) }),
          );
          if (o.json) process.stdout.write(json(r) + '\n');
          else printToken(r.client, r.token, 'created client');
          return 0;
        });
      }),
    );
  examples(create, [
    ['logistics-hub clients create --name wms-east --scopes warehouse:write,tracking:read'],
    ['logistics-hub clients create --name portal --tenant acme --scopes orders:read,tracking:read --rate 5 --burst 20'],
  ]);

  const list = listCommand({
    description: 'list clients (never their tokens)',
    list: (pool, tenant) => listClients(pool, tenant),
    table: clientTable,
    noun: 'client',
    empty: 'no clients yet: create one with `logistics-hub clients create --name ... --scopes ...`',
  });

  const show = new Command('show')
    .description('one client with its credentials (hints only)')
    .argument('<client>', 'client id or name')
    .option('--tenant <id>', 'tenant, when several have a client of that name')
    .option('--json', 'print JSON')
    .action(
      act(async (id: string, _o: unknown, self: Command) => {
        const o = optionsOf<{ tenant?: string; json?: boolean }>(self);
        const { config } = loadCliConfig(o);
        return withDatabase(config, async (db) => {
          const x = await usage(async () => {
            const f = await findClient(db.pool, id, o.tenant);
            if (!f) throw new CliError(`no client ${id}${o.tenant ? ` in tenant ${o.tenant}` : ''}`, { fix: 'list them with `logistics-hub clients list`' });
            return f;
          });
          if (o.json) {
            process.stdout.write(json(x) + '\n');
            return 0;
          }
          process.stdout.write(
            [
              c.bold(`client ${x.name}`),
              fields([
                ['id', x.id], ['tenant', x.tenantId], ['scopes', x.scopes.join(', ')],
                ['rate limit', x.ratePerSecond || x.burst ? `${x.ratePerSecond ?? 'default'}/s, burst ${x.burst ?? 'default'}` : 'hub default'],
                ['created', `${fmtTime(x.createdAt)} by ${x.createdBy}`], ['revoked', x.revokedAt ? `${fmtTime(x.revokedAt)} by ${x.revokedBy}` : null],
              ]),
              '',
              c.bold('credentials'),
              table(x.credentials, [
                { header: 'ID', value: (k) => k.id, align: 'right' },
                { header: 'HINT', value: (k) => k.hint },
                { header: 'CREATED', value: (k) => fmtTime(k.createdAt) },
                { header: 'VALID UNTIL', value: (k) => (k.revokedAt ? 'revoked' : k.expiresAt ? fmtTime(k.expiresAt) : '-') },
                { header: 'LAST USED', value: (k) => (k.lastUsedAt ? fmtTime(k.lastUsedAt) : '-') },
              ]),
            ].join('\n') + '\n',
          );
          return 0;
        });
      }),
    );

  const rotate = new Command('rotate')
    .description('issue a new token; the previous ones stay valid for the overlap')
    .argument('<client>', 'client id or name')
    .option('--tenant <id>', 'tenant, when several have a client of that name')
    .option('--overlap <duration>', 'how long the previous token stays valid: 0, 90s, 30m, 12h, 7d (default: security.credentialOverlapSeconds)', parseDurationSeconds)
    .option('--json', 'print JSON {client, token, previousValidUntil}')
    .action(
      act(async (id: string, _o: unknown, self: Command) => {
        const o = optionsOf<{ tenant?: string; overlap?: number; json?: boolean }>(self);
        const { config } = loadCliConfig(o);
        return withDatabase(config, async (db) => {
          const r = await usage(() => rotateClientToken(db.pool, { client: id, actor: requester(), overlapSeconds: o.overlap ?? config.security.credentialOverlapSeconds, ...(o.tenant ? { tenantId: o.tenant } : {}) }));
          if (o.json) process.stdout.write(json(r) + '\n');
          else {
            printToken(r.client, r.token, 'rotated client');
            process.stdout.write(r.previousValidUntil ? `the previous token stays valid until ${fmtTime(r.previousValidUntil)}\n` : 'the previous token is no longer valid\n');
          }
          return 0;
        });
      }),
    );
  examples(rotate, [['logistics-hub clients rotate wms-east', 'previous token valid for the configured overlap'], ['logistics-hub clients rotate wms-east --overlap 0', 'leaked: end it now']]);

  const revoke = new Command('revoke')
    .description('revoke a client and every token it has, at once')
    .argument('<client>', 'client id or name')
    .option('--tenant <id>', 'tenant, when several have a client of that name')
    .action(
      act(async (id: string, _o: unknown, self: Command) => {
        const o = optionsOf<{ tenant?: string }>(self);
        const { config } = loadCliConfig(o);
        return withDatabase(config, async (db) => {
          const x = await usage(() => revokeClient(db.pool, { client: id, actor: requester(), ...(o.tenant ? { tenantId: o.tenant } : {}) }));
          process.stdout.write(`revoked client ${x.name} (${x.id}); hubs stop accepting its tokens within security.tokenCacheSeconds (${config.security.tokenCacheSeconds}s)\n`);
          return 0;
        });
      }),
    );

  const update = new Command('update')
    .description("change a client's scopes or rate limit")
    .argument('<client>', 'client id or name')
    .option('--tenant <id>', 'tenant, when several have a client of that name')
    .option('--scopes <list>', 'the new scopes (replace the old ones)', scopesArg)
    .option('--rate <n>', 'requests per second', parsePositiveInt)
    .option('--burst <n>', 'requests at once', parsePositiveInt)
    .action(
      act(async (id: string, _o: unknown, self: Command) => {
        const o = optionsOf<{ tenant?: string; scopes?: string[]; rate?: number; burst?: number }>(self);
        if (!o.scopes && !o.rate && !o.burst) throw new UsageError('nothing to change: give --scopes, --rate or --burst');
        const { config } = loadCliConfig(o);
        return withDatabase(config, async (db) => {
          const x = await usage(() =>
            updateClient(db.pool, { client: id, actor: requester(), ...(o.tenant ? { tenantId: o.tenant } : {}), ...(o.scopes ? { scopes: o.scopes } : {}), ...(o.rate ? { ratePerSecond: o.rate } : {}), ...(o.burst ? { burst: o.burst } : {}) }),
          );
          process.stdout.write(`updated client ${x.name}: scopes ${x.scopes.join(', ')}\n`);
          return 0;
        });
      }),
    );

  cmd.addCommand(create).addCommand(list).addCommand(show).addCommand(rotate).addCommand(revoke).addCommand(update);
  return examples(cmd, [
    ['logistics-hub clients create --name wms-east --scopes warehouse:write,tracking:read'],
    ['logistics-hub clients list'],
    ['logistics-hub clients rotate wms-east'],
    ['logistics-hub clients revoke wms-east'],
  ]);
}

export function tenantsCommand(): Command {
  const cmd = new Command('tenants').description('tenants: one per Odoo company; every record and client belongs to one');
  const add = new Command('add')
    .description('add a tenant')
    .argument('<id>', 'short id: lower-case letters, digits, _ and -')
    .requiredOption('--name <name>', 'display name, e.g. the company name')
    .option('--odoo-company <id>', 'the res.company id in Odoo', parsePositiveInt)
    .action(
      act(async (id: string, _o: unknown, self: Command) => {
        const o = optionsOf<{ name: string; odooCompany?: number }>(self);
        const { config } = loadCliConfig(o);
        return withDatabase(config, async (db) => {
          const t = await usage(() => addTenant(db.pool, { id, name: o.name, actor: requester(), ...(o.odooCompany ? { odooCompanyId: o.odooCompany } : {}) }));
          process.stdout.write(`added tenant ${t.id} (${t.name})\n`);
          return 0;
        });
      }),
    );
  const list = new Command('list')
    .description('list tenants')
    .option('--json', 'print JSON')
    .action(
      act(async (_o: unknown, self: Command) => {
        const o = optionsOf<{ json?: boolean }>(self);
        const { config } = loadCliConfig(o);
        return withDatabase(config, async (db) => {
          const rows = await listTenants(db.pool);
          if (o.json) process.stdout.write(json(rows) + '\n');
          else process.stdout.write(table(rows, [{ header: 'ID', value: (t) => t.id }, { header: 'NAME', value: (t) => t.name }, { header: 'ODOO COMPANY', value: (t) => t.odooCompanyId ?? '-' }, { header: 'CREATED', value: (t) => fmtTime(t.createdAt) }]) + '\n');
          return 0;
        });
      }),
    );
  cmd.addCommand(add).addCommand(list);
  return examples(cmd, [['logistics-hub tenants add acme --name "ACME GmbH" --odoo-company 3'], ['logistics-hub tenants list']]);
}
