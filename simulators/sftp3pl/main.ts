/**
 * Runs the CSV-3PL SFTP simulator on its own (demo mode): PORT (default 2222), ADMIN port
 * chosen by the system, SFTP_USER (hub), SFTP_PASSWORD (hub-secret), SFTP_TICK_SECONDS (the
 * 3PL's time moves this many seconds every real second; default 60). Prints
 * "READY <url>" with the host key fingerprint to pin; stops on SIGTERM/SIGINT.
 */
import { Sftp3plSimulator } from './server.ts';

const port = Number(process.env.PORT ?? 2222);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`PORT must be a port number (got ${process.env.PORT})\n`);
  process.exit(2);
}
const tick = Number(process.env.SFTP_TICK_SECONDS ?? 60);
if (!Number.isFinite(tick) || tick < 0) {
  process.stderr.write(`SFTP_TICK_SECONDS must be a number >= 0 (got ${process.env.SFTP_TICK_SECONDS})\n`);
  process.exit(2);
}
const sim = await Sftp3plSimulator.start({
  port,
  host: process.env.HOST ?? '127.0.0.1',
  ...(process.env.SFTP_USER ? { username: process.env.SFTP_USER } : {}),
  ...(process.env.SFTP_PASSWORD ? { password: process.env.SFTP_PASSWORD } : {}),
});
const timer = setInterval(() => sim.advance(tick), 1000);
process.stdout.write(`READY ${sim.url} (CSV-3PL over SFTP; user ${sim.username}; host key ${sim.hostKeySha256}; admin at ${sim.adminUrl}/__sim/stats)\n`);
const stop = async () => {
  clearInterval(timer);
  await sim.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
