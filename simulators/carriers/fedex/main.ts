/**
 * Runs the FedEx simulator on its own: `node simulators/carriers/fedex/main.ts` (PORT, HOST,
 * FEDEX_CLIENT_ID, FEDEX_CLIENT_SECRET, FEDEX_TOKEN_TTL_SECONDS, FEDEX_LATENCY_MS). Prints
 * "READY <url>" when it listens; stops on SIGTERM/SIGINT.
 */
import { FedexSimulator } from './server.ts';

const port = Number(process.env.PORT ?? 8443);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`PORT must be a port number (got ${process.env.PORT})\n`);
  process.exit(2);
}
const ttl = process.env.FEDEX_TOKEN_TTL_SECONDS === undefined ? undefined : Number(process.env.FEDEX_TOKEN_TTL_SECONDS);
if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1)) {
  process.stderr.write(`FEDEX_TOKEN_TTL_SECONDS must be a positive integer (got ${process.env.FEDEX_TOKEN_TTL_SECONDS})\n`);
  process.exit(2);
}
const sim = await FedexSimulator.start({
  port,
  host: process.env.HOST ?? '127.0.0.1',
  ...(process.env.FEDEX_CLIENT_ID ? { clientId: process.env.FEDEX_CLIENT_ID } : {}),
  ...(process.env.FEDEX_CLIENT_SECRET ? { clientSecret: process.env.FEDEX_CLIENT_SECRET } : {}),
  ...(ttl === undefined ? {} : { tokenTtlSeconds: ttl }),
});
if (process.env.FEDEX_LATENCY_MS) sim.setFaults({ latencyMs: Number(process.env.FEDEX_LATENCY_MS) });
process.stdout.write(`READY ${sim.url} (FedEx Track API v1; client id ${sim.clientId}; admin at ${sim.url}/__sim/)\n`);
const stop = async () => {
  await sim.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
