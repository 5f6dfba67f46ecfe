/**
 * Runs the DHL Shipment Tracking – Unified simulator on its own:
 * `node_modules/.bin/node simulators/carriers/dhl/main.ts` (PORT, HOST, DHL_API_KEYS comma-separated,
 * DHL_DEFAULT_ZONE). Prints "READY <url>" when it listens; stops on SIGTERM/SIGINT.
 */
import { DhlSimulator } from './server.ts';

const port = Number(process.env.PORT ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`PORT must be a port number (got ${process.env.PORT})\n`);
  process.exit(2);
}
const keys = (process.env.DHL_API_KEYS ?? 'demo-key').split(',').map((k) => k.trim()).filter(Boolean);
const sim = await DhlSimulator.start({ port, host: process.env.HOST ?? '127.0.0.1', apiKeys: keys, defaultZone: process.env.DHL_DEFAULT_ZONE ?? 'Europe/Berlin' });
process.stdout.write(`READY ${sim.url} (DHL Shipment Tracking - Unified: GET ${sim.url}/track/shipments; admin at ${sim.url}/__sim/...)\n`);
const stop = async () => {
  await sim.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
