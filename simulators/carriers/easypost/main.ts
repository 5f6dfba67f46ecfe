/**
 * Runs the EasyPost simulator on its own: `node simulators/carriers/easypost/main.ts`
 * (PORT, HOST, EASYPOST_API_KEY, EASYPOST_LATENCY_MS). Prints "READY <url>" when it listens;
 * trackers follow the wall clock (plus POST /__sim/advance); stops on SIGTERM/SIGINT.
 */
import { EasyPostSimulator } from './server.ts';

const port = Number(process.env.PORT ?? 8091);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`PORT must be a port number (got ${process.env.PORT})\n`);
  process.exit(2);
}
const apiKey = process.env.EASYPOST_API_KEY ?? 'EZTK_sim_test_key';
const sim = await EasyPostSimulator.start({ port, host: process.env.HOST ?? '127.0.0.1', apiKeys: [apiKey], autoTickMs: 1000 });
if (process.env.EASYPOST_LATENCY_MS) sim.setFaults({ latencyMs: Number(process.env.EASYPOST_LATENCY_MS) });
process.stdout.write(`READY ${sim.url} (EasyPost v2, API key ${apiKey}; faults at ${sim.url}/__sim/faults)\n`);
const stop = async () => {
  await sim.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
