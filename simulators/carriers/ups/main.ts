/**
 * Runs the UPS simulator on its own: `node simulators/carriers/ups/main.ts` (PORT, HOST,
 * UPS_CLIENT_ID, UPS_CLIENT_SECRET, UPS_TOKEN_TTL_SEC, UPS_LATENCY_MS). Prints "READY <url>" when
 * it listens; stops on SIGTERM/SIGINT. The clock is the wall clock unless set with POST /__sim/clock.
 */
import { UpsSimulator } from './server.ts';

const port = Number(process.env.PORT ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`PORT must be a port number (got ${process.env.PORT})\n`);
  process.exit(2);
}
const ttl = process.env.UPS_TOKEN_TTL_SEC === undefined ? undefined : Number(process.env.UPS_TOKEN_TTL_SEC);
if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0)) {
  process.stderr.write(`UPS_TOKEN_TTL_SEC must be a positive integer (got ${process.env.UPS_TOKEN_TTL_SEC})\n`);
  process.exit(2);
}
const opts: Parameters<typeof UpsSimulator.start>[0] = { port, host: process.env.HOST ?? '127.0.0.1' };
if (process.env.UPS_CLIENT_ID) opts.clientId = process.env.UPS_CLIENT_ID;
if (process.env.UPS_CLIENT_SECRET) opts.clientSecret = process.env.UPS_CLIENT_SECRET;
if (ttl !== undefined) opts.tokenTtlSec = ttl;
const sim = await UpsSimulator.start(opts);
if (process.env.UPS_LATENCY_MS) sim.setFaults({ latencyMs: Number(process.env.UPS_LATENCY_MS) });
process.stdout.write(`READY ${sim.url} (UPS Track API v1; client id ${sim.clientId}; admin at ${sim.url}/__sim/)\n`);
const stop = async () => {
  await sim.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
