/**
 * What every connector's error table shares: a row (stable code, error class, default retry
 * delay, a description the docs print, a matcher over the connector's own failure facts),
 * the first-match lookup, the HubError a row makes, and the Retry-After header read.
 * Each connector keeps its own facts type and its own rows.
 */
import { BusinessError, HubError, PermanentError, TransientError, type ErrorClass, type FieldIssue } from '../domain/errors.ts';

export interface ErrorRow<F> {
  code: string;
  errorClass: ErrorClass;
  /** default delay before a retry (transient rows), when the partner does not say */
  retryAfterMs?: number;
  description: string;
  match(f: F): boolean;
}

/** The first row whose matcher accepts the facts; tables end with a catch-all row. */
export function classifyFailure<F, R extends ErrorRow<F>>(table: readonly R[], f: F): R {
  return table.find((r) => r.match(f)) ?? table[table.length - 1]!;
}

export interface RowErrorOptions {
  message: string;
  cause?: unknown;
  extra?: Record<string, string | number | boolean>;
  status?: number;
  issues?: FieldIssue[];
  /** what the partner asked for (Retry-After); else the row's default, else `fallbackRetryMs` */
  retryAfterMs?: number;
  fallbackRetryMs?: number;
}

/** The HubError a table row makes: transient rows carry a retry delay. */
export function errorFromRow<F>(row: ErrorRow<F>, o: RowErrorOptions): HubError {
  const base = {
    code: row.code,
    message: o.message,
    ...(o.cause !== undefined ? { cause: o.cause } : {}),
    ...(o.extra && Object.keys(o.extra).length ? { extra: o.extra } : {}),
    ...(o.status !== undefined ? { status: o.status } : {}),
    ...(o.issues?.length ? { issues: o.issues } : {}),
  };
  if (row.errorClass === 'transient') return new TransientError({ ...base, retryAfterMs: o.retryAfterMs ?? row.retryAfterMs ?? o.fallbackRetryMs ?? 1000 });
  if (row.errorClass === 'business') return new BusinessError(base);
  return new PermanentError(base);
}

/** A Retry-After header (delay in seconds, or an HTTP date) in milliseconds; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number | Date = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - (typeof now === 'number' ? now : now.getTime()));
}
