/**
 * Errors the command line expects and explains: a one-line message, an optional fix, and
 * the exit code (0 ok, 1 failure, 2 usage or configuration error). Anything else is
 * unexpected: its message is printed, its stack only with --verbose.
 */
import { CommanderError } from 'commander';
import { ConfigError, HubError } from '../domain/errors.ts';
import { redactUrl } from '../platform/db.ts';
import { c } from './output.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class CliError extends Error {
  readonly exitCode: number;
  readonly fix: string | undefined;
  constructor(message: string, opts: { exitCode?: number; fix?: string | undefined; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CliError';
    this.exitCode = opts.exitCode ?? EXIT_FAILURE;
    this.fix = opts.fix;
  }
}

/** A mistake on the command line (missing filter, contradictory options). */
export class UsageError extends CliError {
  constructor(message: string, fix?: string) {
    super(message, { exitCode: EXIT_USAGE, fix });
    this.name = 'UsageError';
  }
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** Plain words for why the database cannot be used, and what to do about it. */
export function explainDatabaseError(e: unknown, url: string, embedded: boolean): { problem: string; fix: string } | undefined {
  const err = e as { code?: string; message?: string; errors?: { code?: string }[] };
  const code = err?.code ?? err?.errors?.[0]?.code;
  const msg = err?.message || (err?.errors?.length ? String((err.errors[0] as { message?: string }).message) : String(e));
  let where: string;
  try {
    const u = new URL(url);
    where = `${u.hostname}:${u.port || 5432}`;
  } catch {
    where = redactUrl(url);
  }
  const dbName = (() => {
    try {
      return decodeURIComponent(new URL(url).pathname.slice(1)) || 'postgres';
    } catch {
      return '?';
    }
  })();
  const target = embedded ? 'the embedded PostgreSQL' : `the database ${redactUrl(url)}`;
  const urlFix = embedded
    ? 'run `logistics-hub doctor`; if the embedded PostgreSQL is damaged, move the data directory aside'
    : 'correct DATABASE_URL (or --database-url, or databaseUrl in the config file), or unset it to use the embedded PostgreSQL';
  if (code === 'ECONNREFUSED') return { problem: `cannot reach ${target}: nothing is listening at ${where}`, fix: `start PostgreSQL at ${where}, or ${urlFix}` };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { problem: `cannot reach ${target}: the host name in ${where} cannot be resolved`, fix: urlFix };
  if (code && CONNECT_CODES.has(code)) return { problem: `cannot reach ${target}: ${msg}`, fix: `check that PostgreSQL runs at ${where} and that no firewall is in the way, or ${urlFix}` };
  if (/timeout/i.test(msg) && /connect/i.test(msg)) return { problem: `cannot reach ${target}: no answer from ${where} in time`, fix: `check that PostgreSQL runs at ${where} and that no firewall is in the way, or ${urlFix}` };
  if (/Connection terminated/i.test(msg))
    return { problem: `cannot reach ${target}: the connection to ${where} was closed before PostgreSQL answered`, fix: `check that PostgreSQL (and not another service) listens at ${where}, or ${urlFix}` };
  if (code === '28P01' || code === '28000') return { problem: `${target} refused the login: ${msg}`, fix: 'check the user name and password in DATABASE_URL' };
  if (code === '3D000') return { problem: `the PostgreSQL server at ${where} has no database "${dbName}"`, fix: `create it (\`createdb ${dbName}\` or CREATE DATABASE ${dbName}), or correct the database name in DATABASE_URL` };
  if (code === '57P03') return { problem: `${target} is starting up or shutting down`, fix: 'wait a moment and try again' };
  if (code === '53300') return { problem: `${target} has no free connections: ${msg}`, fix: 'raise max_connections on the server or lower database.poolSize' };
  if (code === '42P01' || code === '3F000') return { problem: `${target} has no hub tables (${msg})`, fix: 'run `logistics-hub migrate` (the hub also applies migrations when it starts)' };
  if (/SSL/i.test(msg)) return { problem: `${target}: ${msg}`, fix: 'match sslmode in DATABASE_URL to what the server supports' };
  return undefined;
}

/** Writes an error for a person and returns the exit code. */
export function reportError(e: unknown, verbose: boolean, stderr: NodeJS.WriteStream = process.stderr): number {
  const out = (s: string) => stderr.write(s + '\n');
  const label = c.red('error:', stderr);
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  if (e instanceof CliError) {
    out(`${label} ${e.message}`);
    if (e.fix) out(`  fix: ${e.fix}`);
    if (verbose && e.cause) out(String((e.cause as Error).stack ?? e.cause));
    return e.exitCode;
  }
  if (e instanceof ConfigError) {
    out(`${label} ${e.message}`);
    return EXIT_USAGE;
  }
  if (e instanceof HubError && e.code.startsWith('replay.')) {
    out(`${label} ${e.message}`);
    return EXIT_USAGE;
  }
  const message = e instanceof Error ? e.message : String(e);
  out(`${label} ${message}`);
  if (verbose && e instanceof Error && e.stack) out(e.stack);
  else out(c.dim('  (this was not expected: run again with --verbose to see where it happened)', stderr));
  return EXIT_FAILURE;
}
