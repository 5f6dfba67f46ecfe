/**
 * Runs the Odoo simulator on its own: `npm run sim:odoo` (PORT, ODOO_VERSION 17|18|19,
 * ODOO_DB, ODOO_LATENCY_MS). Prints "READY <url>" when it listens; stops on SIGTERM/SIGINT.
 */
import { OdooSimulator, type OdooVersion } from './server.ts';

const version = Number(process.env.ODOO_VERSION ?? 18);
if (![17, 18, 19].includes(version)) {
  process.stderr.write(`ODOO_VERSION must be 17, 18 or 19 (got ${process.env.ODOO_VERSION})\n`);
  process.exit(2);
}
const port = Number(process.env.PORT ?? 8069);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`PORT must be a port number (got ${process.env.PORT})\n`);
  process.exit(2);
}
const sim = await OdooSimulator.start({ port, version: version as OdooVersion, db: process.env.ODOO_DB ?? 'logi', host: process.env.HOST ?? '127.0.0.1' });
if (process.env.ODOO_LATENCY_MS) sim.setFaults({ latencyMs: Number(process.env.ODOO_LATENCY_MS) });
process.stdout.write(`READY ${sim.url} (Odoo ${version}, database ${sim.dbName}; faults at ${sim.url}/__sim/faults)\n`);
const stop = async () => {
  await sim.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
