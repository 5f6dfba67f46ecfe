/**
 * Structured JSON logs (pino). Every log line inside a request or a handler carries the
 * correlation id of the work it belongs to, through `child({ correlationId })`.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export function createLogger(level: string = 'info', opts: LoggerOptions = {}, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'odoo-logistics-hub', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ['password', '*.password', 'authorization', '*.authorization', 'headers.authorization', 'secret', '*.secret'], censor: '[redacted]' },
      ...opts,
    },
    destination as pino.DestinationStream | undefined,
  );
}
