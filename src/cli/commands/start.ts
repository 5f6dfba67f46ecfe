/**
 * `logistics-hub start`: runs the hub (database, migrations, workers, HTTP) until SIGINT or
 * SIGTERM, then stops it cleanly and exits 0.
 */
import { Command } from 'commander';
import { resolve } from 'node:path';
import { createLogger } from '../../platform/logger.ts';
import { act, examples, optionsOf, stopOnSignal } from '../command.ts';
import { describeDatabase, loadCliConfig, type Overrides } from '../context.ts';
import { CliError, explainDatabaseError } from '../errors.ts';
import { parsePort } from '../output.ts';


export function startCommand(): Command {
  const cmd = new Command('start')
    .description('run the hub: database (embedded unless DATABASE_URL is set), migrations, workers and the HTTP API')
    .option('--port <port>', 'HTTP port (0 picks a free one; default from PORT or the config, else 8080)', parsePort)
    .option('--host <address>', 'address to listen on (default from HUB_HOST or the config, else 127.0.0.1)')
    .option('--no-workers', 'do not run pipeline workers in this process (HTTP ingress only)')
    .action(
      act(async (_o: unknown, self: Command) => {
        const o = optionsOf<{ port?: number; host?: string; workers: boolean }>(self);
        const overrides: Overrides = {};
        if (o.port !== undefined) overrides.port = { value: o.port, flag: '--port' };
        if (o.host !== undefined) overrides.host = { value: o.host, flag: '--host' };
        if (o.workers === false) overrides['pipeline.enabled'] = { value: false, flag: '--no-workers' };
        const { config } = loadCliConfig(o, overrides);
        // the HTTP stack is loaded only by the command that serves it
        const { startHub } = await import('../../hub.ts');
        const log = createLogger(config.logLevel);
        let hub: Awaited<ReturnType<typeof startHub>>;
        try {
          hub = await startHub(config, { log });
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          if (err.code === 'EADDRINUSE')
            throw new CliError(`port ${config.port} on ${config.host} is already in use`, {
              fix: 'stop the other program (`logistics-hub doctor` tells whether it is a hub), or choose another port with --port or PORT',
              cause: e,
            });
          if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND')
            throw new CliError(`cannot listen on ${config.host}: it is not an address of this machine`, { fix: 'use --host 127.0.0.1 or 0.0.0.0 (or HUB_HOST)', cause: e });
          if (err.code === 'EACCES') throw new CliError(`not allowed to listen on port ${config.port}`, { fix: 'choose a port above 1023', cause: e });
          const url = config.databaseUrl ?? '';
          const x = url ? explainDatabaseError(e, url, false) : undefined;
          if (x) throw new CliError(x.problem, { fix: x.fix, cause: e });
          if (!config.databaseUrl && /postgres|initdb|pg_ctl/i.test(err.message ?? ''))
            throw new CliError(`could not start the embedded PostgreSQL in ${resolve(config.dataDir, 'pg')}: ${err.message}`, {
              fix: 'run `logistics-hub doctor`, or set DATABASE_URL to use an external PostgreSQL',
              cause: e,
            });
          throw e;
        }
        process.stdout.write(
          `odoo-logistics-hub listening on ${hub.url} (database: ${describeDatabase(hub.db, config)}${hub.worker ? '' : '; workers off'})\n`,
        );

        return stopOnSignal({ what: 'the hub', doing: '(finishing events in flight)', stop: () => hub.stop(), stopped: () => 'stopped' }).done;
      }),
    );
  return examples(cmd, [
    ['logistics-hub start', 'embedded PostgreSQL in .hub-data/pg, port 8080'],
    ['DATABASE_URL=postgresql://hub:secret@db:5432/hub logistics-hub start --host 0.0.0.0', 'an external PostgreSQL'],
    ['logistics-hub start --port 9090 --no-workers', 'HTTP ingress only; workers run elsewhere'],
    ['logistics-hub --config /etc/hub/hub.yaml start'],
  ]);
}
