/**
 * Runs the WMS simulator on its own, in real time (demo mode): PORT (default 8090),
 * WMS_API_KEY, WMS_WEBHOOK_URL, WMS_WEBHOOK_SECRET, WMS_WAVE_SECONDS. Prints
 * "READY <url>" when it listens; stops on SIGTERM/SIGINT.
 */
import { WmsSimulator } from './server.ts';

const port = Number(process.env.PORT ?? 8090);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`PORT must be a port number (got ${process.env.PORT})\n`);
  process.exit(2);
}
const wave = Number(process.env.WMS_WAVE_SECONDS ?? 60);
if (!Number.isFinite(wave) || wave <= 0) {
  process.stderr.write(`WMS_WAVE_SECONDS must be a positive number (got ${process.env.WMS_WAVE_SECONDS})\n`);
  process.exit(2);
}
const sim = await WmsSimulator.start({
  port,
  host: process.env.HOST ?? '127.0.0.1',
  auto: true,
  waveIntervalSeconds: wave,
  ...(process.env.WMS_API_KEY ? { apiKey: process.env.WMS_API_KEY } : {}),
  ...(process.env.WMS_WEBHOOK_URL ? { webhookUrl: process.env.WMS_WEBHOOK_URL } : {}),
  ...(process.env.WMS_WEBHOOK_SECRET ? { webhookSecret: process.env.WMS_WEBHOOK_SECRET } : {}),
});
process.stdout.write(`READY ${sim.url} (SimWMS; API key header X-Api-Key; webhooks to ${sim.webhookUrl ?? 'nowhere yet: POST /__sim/config'}; admin at ${sim.url}/__sim/stats)\n`);
const stop = async () => {
  await sim.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
