/**
 * Typed errors of the hub. Every error that crosses a module boundary is a HubError with
 * a stable `code` (clients and the retry policy act on it, never on the message), an
 * error class that decides what the pipeline does with it, an optional retry delay and
 * the underlying cause. `src/api/problem.ts` is the one place that turns them into HTTP.
 *
 * Error classes:
 * - transient: the same call may succeed later (network, timeout, 5xx, lock, back-pressure).
 *   The pipeline retries with exponential backoff and jitter, up to a cap.
 * - permanent: retrying cannot help (bad data, unknown type, access denied). Dead-lettered
 *   after one attempt; replay after the cause is fixed.
 * - business: a partner or Odoo said "no" for a business reason (validation, rule). Not a
 *   crash: recorded as an exception for a person to act on.
 */
export type ErrorClass = 'transient' | 'permanent' | 'business';

export interface FieldIssue {
  /** JSON pointer or attribute name the problem is about */
  path: string;
  message: string;
}

export interface HubErrorOptions {
  code: string;
  message: string;
  errorClass: ErrorClass;
  /** HTTP status this error maps to when it reaches a client */
  status?: number;
  retryAfterMs?: number;
  cause?: unknown;
  issues?: FieldIssue[];
  /** index of the offending item in a batch */
  index?: number;
  /** further members of the problem document (e.g. OAuth2's `error`) */
  extra?: Record<string, string | number | boolean>;
}

export class HubError extends Error {
  readonly code: string;
  readonly errorClass: ErrorClass;
  readonly status: number;
  readonly retryAfterMs: number | undefined;
  readonly issues: FieldIssue[];
  readonly index: number | undefined;
  readonly extra: Record<string, string | number | boolean> | undefined;

  constructor(o: HubErrorOptions) {
    super(o.message, o.cause === undefined ? undefined : { cause: o.cause });
    this.name = new.target.name;
    this.code = o.code;
    this.errorClass = o.errorClass;
    this.status = o.status ?? (o.errorClass === 'transient' ? 503 : o.errorClass === 'business' ? 422 : 400);
    this.retryAfterMs = o.retryAfterMs;
    this.issues = o.issues ?? [];
    this.index = o.index;
    this.extra = o.extra;
  }

  get retryable(): boolean {
    return this.errorClass === 'transient';
  }
}

type Opts = Omit<HubErrorOptions, 'errorClass'>;

/** Worth retrying later. */
export class TransientError extends HubError {
  constructor(o: Opts) {
    super({ ...o, errorClass: 'transient' });
  }
}

/** Retrying cannot help. */
export class PermanentError extends HubError {
  constructor(o: Opts) {
    super({ ...o, errorClass: 'permanent' });
  }
}

/** A business rule said no: becomes an exception record, not a crash. */
export class BusinessError extends HubError {
  constructor(o: Opts) {
    super({ ...o, errorClass: 'business' });
  }
}

/** Input that does not conform: a precise list of what is wrong. */
export class ValidationError extends PermanentError {
  constructor(code: string, message: string, issues: FieldIssue[] = [], extra: { status?: number; index?: number } = {}) {
    super({ code, message, issues, status: extra.status ?? 400, index: extra.index });
  }
}

export class NotFoundError extends PermanentError {
  constructor(what: string, id: string) {
    super({ code: 'not_found', message: `${what} ${JSON.stringify(id)} does not exist`, status: 404 });
  }
}

/** The hub is saturated: come back later. */
export class BackPressureError extends TransientError {
  constructor(message: string, retryAfterMs: number) {
    super({ code: 'backlog.full', message, status: 429, retryAfterMs });
  }
}

/** A dependency (the database, a partner) is not reachable right now. */
export class UnavailableError extends TransientError {
  constructor(message: string, cause?: unknown, retryAfterMs = 1000) {
    super({ code: 'dependency.unavailable', message, status: 503, retryAfterMs, cause });
  }
}

/** No credential, or one that is not (or no longer) valid: HTTP 401. */
export class UnauthenticatedError extends PermanentError {
  constructor(code: string, message: string) {
    super({ code, message, status: 401 });
  }
}

/** A valid credential without the right to do this: HTTP 403, naming what is missing. */
export class ForbiddenError extends PermanentError {
  readonly missingScope: string | undefined;
  constructor(code: string, message: string, missingScope?: string) {
    super({ code, message, status: 403, issues: missingScope ? [{ path: 'scope', message: `requires ${missingScope}` }] : [] });
    this.missingScope = missingScope;
  }
}

/** A client went over its request rate: HTTP 429 with Retry-After. */
export class RateLimitedError extends TransientError {
  constructor(message: string, retryAfterMs: number) {
    super({ code: 'rate_limited', message, status: 429, retryAfterMs });
  }
}

/** Configuration that cannot be used; names the key. */
export class ConfigError extends PermanentError {
  readonly key: string;
  constructor(key: string, message: string) {
    super({ code: 'config.invalid', message: `configuration key "${key}": ${message}`, issues: [{ path: key, message }] });
    this.key = key;
  }
}

/**
 * Classifies anything thrown by a handler. HubErrors keep their class; anything else is
 * treated as transient (a bug or an unexpected failure should be retried a few times and
 * then dead-lettered, never silently dropped).
 */
export function classify(err: unknown): { errorClass: ErrorClass; code: string; message: string; retryAfterMs?: number } {
  if (err instanceof HubError) {
    return { errorClass: err.errorClass, code: err.code, message: err.message, retryAfterMs: err.retryAfterMs };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { errorClass: 'transient', code: 'unexpected', message };
}
