/**
 * The FedEx connector's error table: every way a FedEx call can fail, turned into a HubError
 * (TransientError / PermanentError / BusinessError) with a stable `fedex.*` code.
 *
 * A failure is first reduced to facts (`FedexFailure`): where it was seen (the socket, an HTTP
 * answer, the body), the endpoint, the HTTP status, FedEx's own error code from
 * `errors[0].code` (or a per-number `trackResults[].error.code`), the socket error code and a
 * Retry-After. `FEDEX_ERROR_TABLE` is searched in order; the first row whose matcher accepts
 * the facts decides the code and the class. Docs and tests iterate the table.
 */
import type { HubError } from '../../domain/errors.ts';
import { classifyFailure, errorFromRow, type ErrorRow } from '../error-table.ts';

export type FedexEndpoint = 'token' | 'trackingnumbers' | 'associatedshipments';

/** The facts of one failure. */
export interface FedexFailure {
  /** transport: no HTTP answer; http: an error status; body: a 2xx answer that cannot be used; number: FedEx refused one tracking number; client: refused before any call */
  source: 'transport' | 'http' | 'body' | 'number' | 'client';
  endpoint?: FedexEndpoint;
  status?: number;
  /** FedEx's error code: NOT.AUTHORIZED.ERROR, TRACKING.TRACKINGNUMBER.INVALID, ... */
  fedexCode?: string;
  /** socket / fetch error code: ECONNREFUSED, ECONNRESET, TimeoutError, ... */
  errno?: string;
  /** the body is not JSON at all (a proxy page, a truncated answer) */
  notJson?: boolean;
  message: string;
  /** from a Retry-After header */
  retryAfterMs?: number;
  /** the tracking number a per-number refusal is about */
  trackingNumber?: string;
}

/** Carries the facts of a failure as the `cause` of the HubError built from it. */
export class FedexFailureCause extends Error {
  readonly failure: FedexFailure;
  constructor(failure: FedexFailure, cause?: unknown) {
    super(failure.message, cause === undefined ? undefined : { cause });
    this.name = 'FedexFailureCause';
    this.failure = failure;
  }
}

/** A row of the table (src/connectors/error-table.ts). */
export type FedexErrorRow = ErrorRow<FedexFailure>;

const TIMEOUT_ERRNOS = new Set(['TimeoutError', 'AbortError', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const INVALID_NUMBER_CODES = new Set(['TRACKING.TRACKINGNUMBER.INVALID', 'TRACKING.TRACKINGNUMBER.EMPTY', 'TRACKING.REFERENCETYPE.INVALID']);

/** Ordered: the first matching row wins. */
export const FEDEX_ERROR_TABLE: readonly FedexErrorRow[] = [
  {
    code: 'fedex.invalid_request',
    errorClass: 'permanent',
    description: 'Refused by the adapter before any call: a tracking number that is not 1 to 40 letters or digits.',
    match: (f) => f.source === 'client',
  },
  {
    code: 'fedex.timeout',
    errorClass: 'transient',
    retryAfterMs: 2000,
    description: 'No answer within timeoutMs (tracking is read-only: repeating it is safe).',
    match: (f) => f.source === 'transport' && f.errno !== undefined && TIMEOUT_ERRNOS.has(f.errno),
  },
  {
    code: 'fedex.unavailable',
    errorClass: 'transient',
    retryAfterMs: 1000,
    description: 'Connection refused, reset or unreachable; DNS failure.',
    match: (f) => f.source === 'transport',
  },
  {
    code: 'fedex.rate_limited',
    errorClass: 'transient',
    retryAfterMs: 10_000,
    description: 'HTTP 429: FedEx throttles an API key that goes over its quota (Retry-After honoured when sent; 10 s otherwise).',
    match: (f) => f.status === 429,
  },
  {
    code: 'fedex.invalid_credentials',
    errorClass: 'permanent',
    description: 'The token endpoint refused the client id / secret (401 NOT.AUTHORIZED.ERROR, or 400 on /oauth/token).',
    match: (f) => f.endpoint === 'token' && (f.status === 401 || f.status === 400 || f.status === 403),
  },
  {
    code: 'fedex.unauthorized',
    errorClass: 'permanent',
    description: 'HTTP 401 NOT.AUTHORIZED.ERROR from the Track API even with a fresh token (the client refreshes the token and retries once first).',
    match: (f) => f.status === 401,
  },
  {
    code: 'fedex.forbidden',
    errorClass: 'permanent',
    description: 'HTTP 403 FORBIDDEN.ERROR: the project of these credentials is not entitled to the Track API.',
    match: (f) => f.status === 403,
  },
  {
    code: 'fedex.not_found',
    errorClass: 'permanent',
    description: 'HTTP 404 NOT.FOUND.ERROR: the endpoint does not exist (wrong baseUrl or path).',
    match: (f) => f.status === 404,
  },
  {
    code: 'fedex.unavailable',
    errorClass: 'transient',
    retryAfterMs: 5000,
    description: 'HTTP 5xx: 500 INTERNAL.SERVER.ERROR, 503 SERVICE.UNAVAILABLE.ERROR, or a gateway error page.',
    match: (f) => f.source === 'http' && f.status !== undefined && f.status >= 500,
  },
  {
    code: 'fedex.invalid_tracking_number',
    errorClass: 'business',
    description: 'FedEx refused a tracking number as malformed (TRACKING.TRACKINGNUMBER.INVALID / EMPTY, per number or for the request).',
    match: (f) => f.fedexCode !== undefined && INVALID_NUMBER_CODES.has(f.fedexCode),
  },
  {
    code: 'fedex.tracking_refused',
    errorClass: 'business',
    description: 'Any other per-number error FedEx returns inside a 200 answer (not NOTFOUND, which is `notFound`, not an error).',
    match: (f) => f.source === 'number',
  },
  {
    code: 'fedex.bad_request',
    errorClass: 'permanent',
    description: 'HTTP 400 (or another 4xx) for a request FedEx could not read (INVALID.INPUT.EXCEPTION, more than 30 numbers).',
    match: (f) => f.status !== undefined && f.status >= 400 && f.status < 500,
  },
  {
    code: 'fedex.malformed_body',
    errorClass: 'transient',
    retryAfterMs: 2000,
    description: 'An answer whose body is not JSON (truncated transfer, an HTML page with status 200).',
    match: (f) => f.source === 'body' && f.notJson === true,
  },
  {
    code: 'fedex.unexpected_response',
    errorClass: 'permanent',
    description: 'JSON that is not a Track API answer (no output.completeTrackResults, a scan without eventType or with an unreadable date): the same call gives the same body.',
    match: () => true,
  },
];

/** The codes in the table, once each. */
export const FEDEX_ERROR_CODES: readonly string[] = [...new Set(FEDEX_ERROR_TABLE.map((r) => r.code))];

/** Finds the row for a failure (the table ends with a catch-all). */
export function classifyFedexFailure(f: FedexFailure): FedexErrorRow {
  return classifyFailure(FEDEX_ERROR_TABLE, f);
}

/** Builds the HubError for a failure. `cause` is the underlying error, if any. */
export function fedexError(f: FedexFailure, cause?: unknown): HubError {
  const row = classifyFedexFailure(f);
  const extra: Record<string, string | number | boolean> = {};
  if (f.endpoint) extra.endpoint = f.endpoint;
  if (f.status !== undefined) extra.httpStatus = f.status;
  if (f.fedexCode) extra.fedexCode = f.fedexCode;
  if (f.trackingNumber) extra.trackingNumber = f.trackingNumber;
  return errorFromRow(row, { message: f.message, cause: new FedexFailureCause(f, cause), extra, retryAfterMs: f.retryAfterMs, fallbackRetryMs: 1000 });
}


/** Facts of a fetch rejection: timeouts (AbortSignal.timeout) and socket errors. */
export function transportFailure(err: unknown, endpoint: FedexEndpoint, timeoutMs: number): FedexFailure {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; name?: string; message?: string } };
  const errno = e?.name === 'TimeoutError' || e?.name === 'AbortError' ? e.name : (e?.cause?.code ?? e?.code ?? e?.cause?.name ?? e?.name ?? 'Error');
  const message = TIMEOUT_ERRNOS.has(errno) ? `FedEx did not answer within ${timeoutMs} ms` : `cannot reach FedEx: ${e?.cause?.message ?? e?.message ?? String(err)}`;
  return { source: 'transport', endpoint, errno, message };
}

/** Facts of an HTTP error answer: status plus FedEx's `{errors: [{code, message}]}` when the body has it. */
export function httpFailure(status: number, bodyText: string, endpoint: FedexEndpoint, retryAfterMs?: number): FedexFailure {
  let fedexCode: string | undefined;
  let message = `HTTP ${status}`;
  try {
    const b = JSON.parse(bodyText) as { errors?: { code?: unknown; message?: unknown }[] };
    const e0 = Array.isArray(b?.errors) ? b.errors[0] : undefined;
    if (typeof e0?.code === 'string') fedexCode = e0.code;
    if (typeof e0?.message === 'string') message = `HTTP ${status} ${fedexCode ?? ''}: ${e0.message}`.replace(' :', ':');
  } catch {
    const text = bodyText.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
    if (text) message = `HTTP ${status}: ${text}`;
  }
  const f: FedexFailure = { source: 'http', endpoint, status, message };
  if (fedexCode) f.fedexCode = fedexCode;
  if (retryAfterMs !== undefined) f.retryAfterMs = retryAfterMs;
  return f;
}

export { parseRetryAfter } from '../error-table.ts';
