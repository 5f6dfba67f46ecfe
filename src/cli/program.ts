/** The command tree of `logistics-hub`: global options, one file per command. */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { clientsCommand, tenantsCommand } from './commands/clients.ts';
import { usersCommand } from './commands/users.ts';
import { auditCommand } from './commands/audit.ts';
import { configCommand } from './commands/config.ts';
import { demoCommand } from './commands/demo.ts';
import { dlqCommand } from './commands/dlq.ts';
import { doctorCommand } from './commands/doctor.ts';
import { mappingCommand } from './commands/mapping.ts';
import { migrateCommand } from './commands/migrate.ts';
import { replayCommand } from './commands/replay.ts';
import { retentionCommand } from './commands/retention.ts';
import { secretsCommand } from './commands/secrets.ts';
import { startCommand } from './commands/start.ts';
import { traceCommand } from './commands/trace.ts';
import { examples } from './command.ts';
import { setColour } from './output.ts';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Settings every command shares; addCommand does not copy them to subcommands. */
function configureTree(cmd: Command): void {
  cmd
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({ outputError: (s, write) => write(s) });
  for (const sub of cmd.commands) configureTree(sub);
}

export function buildProgram(): Command {
  const program = new Command('logistics-hub')
    .description('odoo-logistics-hub: the event-driven integration hub between Odoo and logistics systems')
    .version(version(), '-V, --version', 'print the version')
    .option('-c, --config <file>', 'YAML configuration file (default: $HUB_CONFIG, else ./hub.yaml if present)')
    .option('--database-url <url>', 'PostgreSQL URL; overrides DATABASE_URL (unset: embedded PostgreSQL under the data directory)')
    .option('--data-dir <dir>', 'directory for the embedded PostgreSQL and local state; overrides HUB_DATA_DIR (default .hub-data)')
    .option('--verbose', 'show stack traces of unexpected errors (and worker logs where there are any)')
    .option('--no-color', 'no colours (also when NO_COLOR is set or output is not a terminal)')
    .hook('preAction', (self) => setColour(self.opts().color === false ? false : undefined));
  program
    .addCommand(startCommand())
    .addCommand(demoCommand())
    .addCommand(migrateCommand())
    .addCommand(doctorCommand())
    .addCommand(dlqCommand())
    .addCommand(replayCommand())
    .addCommand(traceCommand())
    .addCommand(configCommand())
    .addCommand(clientsCommand())
    .addCommand(usersCommand())
    .addCommand(tenantsCommand())
    .addCommand(secretsCommand())
    .addCommand(auditCommand())
    .addCommand(retentionCommand())
    .addCommand(mappingCommand());
  examples(program, [
    ['logistics-hub doctor', 'is everything in place?'],
    ['logistics-hub demo', 'the hub, every simulator and a stream of orders (what `npm start` runs)'],
    ['logistics-hub start', 'run the hub (embedded PostgreSQL, port 8080)'],
    ['logistics-hub dlq list --since 1d', "yesterday's dead letters"],
    ['logistics-hub replay --code carrier.timeout', 'replay them once fixed'],
    ['logistics-hub trace SHP-1042', 'one shipment, end to end'],
    ['logistics-hub audit verify', 'is the audit trail intact?'],
  ]);
  program.addHelpText(
    'after',
    '\nExit codes: 0 ok, 1 failure, 2 usage or configuration error.\nEnvironment: DATABASE_URL, HUB_CONFIG, HUB_DATA_DIR, PORT, HUB_HOST, LOG_LEVEL, NATS_URL... (see `logistics-hub config schema`), HUB_MASTER_KEY, HUB_MASTER_KEY_PREVIOUS, NO_COLOR.\n',
  );
  configureTree(program);
  return program;
}
