/**
 * `logistics-hub users ...`: the people who sign in to the operations console (/console).
 * A password is read from the terminal (hidden), a file, an environment variable or stdin,
 * never from the command line, and only its scrypt hash is stored.
 */
import { Command } from 'commander';
import { SCOPES } from '../../domain/scopes.ts';
import { createUser, listUsers, setPassword, updateUser, type UserInfo } from '../../security/users.ts';
import { act, examples, optionsOf } from '../command.ts';
import { loadCliConfig, requester, withDatabase } from '../context.ts';
import { UsageError } from '../errors.ts';
import { c, fmtTime, json, table } from '../output.ts';
import { listCommand, scopesArg, usageErrors } from './clients.ts';
import { readValue } from './secrets.ts';

const usage = usageErrors('`logistics-hub users list`');

function userTable(rows: UserInfo[]): string {
  return table(rows, [
    { header: 'TENANT', value: (x) => x.tenantId },
    { header: 'USER', value: (x) => x.username, max: 30 },
    { header: 'NAME', value: (x) => x.displayName, max: 30 },
    { header: 'SCOPES', value: (x) => x.scopes.join(','), max: 70 },
    { header: 'STATUS', value: (x) => (x.disabledAt ? 'disabled' : x.lockedUntil && x.lockedUntil > new Date() ? 'locked' : 'active') },
    { header: 'LAST SIGN-IN', value: (x) => (x.lastLoginAt ? fmtTime(x.lastLoginAt) : '—') },
  ]);
}

const passwordOptions = (cmd: Command) =>
  cmd
    .option('--password-file <file>', 'read the password from this file')
    .option('--password-env <name>', 'read the password from this environment variable');

export function usersCommand(): Command {
  const cmd = new Command('users').description('console users: the people who sign in to /console, with their scopes');

  const add = passwordOptions(
    new Command('add')
      .description('add a user; the password comes from the terminal (hidden), --password-file, --password-env or stdin')
      .argument('<username>', 'sign-in name (a-z, 0-9, . _ @ -)')
      .requiredOption('--scopes <list>', `comma-separated scopes: ${SCOPES.join(', ')}`, scopesArg)
      .option('--name <display name>', 'name shown in the console')
      .option('--tenant <id>', 'tenant the user works in', 'default')
      .option('--json', 'print JSON'),
  ).action(
    act(async (username: string, _o: unknown, self: Command) => {
      const o = optionsOf<{ scopes: string[]; name?: string; tenant: string; passwordFile?: string; passwordEnv?: string; json?: boolean }>(self);
      const { config } = loadCliConfig(o);
      const { value: password } = await readValue({ fromFile: o.passwordFile, fromEnv: o.passwordEnv }, `the password of ${username}`);
      return withDatabase(config, async (db) => {
        const u = await usage(() => createUser(db.pool, { tenantId: o.tenant, username, password, scopes: o.scopes, actor: requester(), ...(o.name ? { displayName: o.name } : {}) }));
        if (o.json) process.stdout.write(json(u) + '\n');
        else process.stdout.write(`added user ${c.bold(u.username)} in tenant ${u.tenantId} with ${u.scopes.join(', ')}\nsign in at /console on the hub's address\n`);
        return 0;
      });
    }),
  );
  examples(add, [
    ['logistics-hub users add maria --scopes exceptions:read,exceptions:write,orders:read,tracking:read,pii:read'],
    ['HUB_PW=... logistics-hub users add viewer --scopes orders:read,tracking:read --password-env HUB_PW'],
  ]);

  const list = listCommand({
    description: 'list users (never their passwords)',
    list: (pool, tenant) => listUsers(pool, tenant),
    table: userTable,
    noun: 'user',
    empty: 'no users yet: add one with `logistics-hub users add <name> --scopes ...`',
  });

  const password = passwordOptions(
    new Command('set-password')
      .description("change a user's password (ends the user's sessions)")
      .argument('<username>')
      .option('--tenant <id>', 'tenant', 'default'),
  ).action(
    act(async (username: string, _o: unknown, self: Command) => {
      const o = optionsOf<{ tenant: string; passwordFile?: string; passwordEnv?: string }>(self);
      const { config } = loadCliConfig(o);
      const { value } = await readValue({ fromFile: o.passwordFile, fromEnv: o.passwordEnv }, `the new password of ${username}`);
      return withDatabase(config, async (db) => {
        await usage(() => setPassword(db.pool, { tenantId: o.tenant, username, password: value, actor: requester() }));
        process.stdout.write(`password of ${username} changed; the user's sessions have ended\n`);
        return 0;
      });
    }),
  );

  const update = new Command('update')
    .description("change a user's scopes, or disable / enable the user (fewer scopes or disabling ends the user's sessions)")
    .argument('<username>')
    .option('--tenant <id>', 'tenant', 'default')
    .option('--scopes <list>', 'the new scopes (replacing the old)', scopesArg)
    .option('--disable', 'the user may no longer sign in')
    .option('--enable', 'the user may sign in again')
    .action(
      act(async (username: string, _o: unknown, self: Command) => {
        const o = optionsOf<{ tenant: string; scopes?: string[]; disable?: boolean; enable?: boolean }>(self);
        if (o.disable && o.enable) throw new UsageError('--disable and --enable exclude each other');
        if (!o.scopes && !o.disable && !o.enable) throw new UsageError('say what to change: --scopes, --disable or --enable');
        const { config } = loadCliConfig(o);
        return withDatabase(config, async (db) => {
          const u = await usage(() => updateUser(db.pool, { tenantId: o.tenant, username, actor: requester(), ...(o.scopes ? { scopes: o.scopes } : {}), ...(o.disable ? { disabled: true } : o.enable ? { disabled: false } : {}) }));
          process.stdout.write(`${u.username}: ${u.disabledAt ? 'disabled' : 'active'}, scopes ${u.scopes.join(', ')}\n`);
          return 0;
        });
      }),
    );

  return cmd.addCommand(add).addCommand(list).addCommand(password).addCommand(update);
}
