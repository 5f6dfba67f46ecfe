/**
 * The UPS connector's error table: every way a call to UPS (token endpoint or Track API) can
 * fail, turned into a HubError (TransientError / PermanentError / BusinessError) with a stable
 * `ups.*` code.
 *
 * A failure is first reduced to facts (`UpsFailure`): which endpoint, the HTTP status, UPS's
 * own error code from `{"response": {"errors": [{"code", "message"}]}}`, the socket error, the
 * Retry-After. `UPS_ERROR_TABLE` is then searched in order; the first row whose matcher accepts
 * the facts decides the code and the class. Docs and tests iterate the table.
 *
 * UPS error codes the table names: 10401 (token: client id or secret wrong), 10400 (token:
 * malformed request), 250002 (Invalid Authentication Information: token wrong or expired),
 * 151018 (Invalid tracking number), TW0001 (a warning, not an error: Tracking Information Not
 * Found; the adapter returns notFound).
 */
import type { HubError } from '../../domain/errors.ts';
import { classifyFailure, errorFromRow, type ErrorRow } from '../error-table.ts';

export type UpsEndpoint = 'token' | 'track' | 'alert';

/** The facts of one failure. */
export interface UpsFailure {
  /** transport: no HTTP answer; http: an answer with an error status; protocol: an unreadable answer; client: refused before sending */
  source: 'transport' | 'http' | 'protocol' | 'client';
  endpoint?: UpsEndpoint;
  status?: number;
  /** UPS's error code (`response.errors[0].code`) */
  upsCode?: string;
  /** socket / fetch error code: ECONNREFUSED, TimeoutError, ... */
  errno?: string;
  message: string;
  retryAfterMs?: number;
}

/** Carries the facts of a failure as the `cause` of the HubError built from it. */
export class UpsFailureCause extends Error {
  readonly failure: UpsFailure;
  constructor(failure: UpsFailure, cause?: unknown) {
    super(failure.message, cause === undefined ? undefined : { cause });
    this.name = 'UpsFailureCause';
    this.failure = failure;
  }
}

/** A row of the table (src/connectors/error-table.ts). */
export type UpsErrorRow = ErrorRow<UpsFailure>;

const TIMEOUT_ERRNOS = new Set(['TimeoutError', 'AbortError', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Ordered: the first matching row wins. */
export const UPS_ERROR_TABLE: readonly UpsErrorRow[] = [
  {
    code: 'ups.timeout',
    errorClass: 'transient',
    retryAfterMs: 2000,
    description: 'No answer within timeoutMs.',
    match: (f) => f.source === 'transport' && f.errno !== undefined && TIMEOUT_ERRNOS.has(f.errno),
  },
  {
    code: 'ups.unavailable',
    errorClass: 'transient',
    retryAfterMs: 1000,
    description: 'Connection refused, reset or unreachable; DNS failure.',
    match: (f) => f.source === 'transport',
  },
  {
    code: 'ups.rate_limited',
    errorClass: 'transient',
    retryAfterMs: 1000,
    description: 'HTTP 429 (UPS quota exceeded, on the token endpoint or the Track API); Retry-After honoured when sent.',
    match: (f) => f.status === 429,
  },
  {
    code: 'ups.invalid_client',
    errorClass: 'permanent',
    description: 'The token endpoint refused the client id or secret (401, UPS code 10401 "ClientId is Invalid").',
    match: (f) => f.endpoint === 'token' && (f.status === 401 || f.upsCode === '10401'),
  },
  {
    code: 'ups.token_request_invalid',
    errorClass: 'permanent',
    description: 'The token endpoint refused the request itself (400, UPS code 10400).',
    match: (f) => f.endpoint === 'token' && f.status === 400,
  },
  {
    code: 'ups.unauthorized',
    errorClass: 'permanent',
    description: 'The Track API refused a freshly issued token (401, UPS code 250002 "Invalid Authentication Information."): the app lacks the Tracking product or the credentials were revoked. A first 401 only makes the client fetch a new token and retry once.',
    match: (f) => f.status === 401 || f.upsCode === '250002',
  },
  {
    code: 'ups.blocked_merchant',
    errorClass: 'permanent',
    description: 'HTTP 403 "Blocked Merchant": UPS blocked the account or app.',
    match: (f) => f.status === 403,
  },
  {
    code: 'ups.invalid_tracking_number',
    errorClass: 'business',
    description: 'UPS (400, code 151018) or the adapter (before any call: not 7 to 34 characters A-Z 0-9) refused the tracking number.',
    match: (f) => f.upsCode === '151018' || (f.source === 'client' && f.endpoint === 'track'),
  },
  {
    code: 'ups.invalid_alert',
    errorClass: 'permanent',
    description: 'A Track Alert message that is not a TrackingEventRequest (no tracking number, no readable time).',
    match: (f) => f.endpoint === 'alert',
  },
  {
    code: 'ups.tracking_not_found',
    errorClass: 'business',
    description: 'HTTP 404 with a UPS error body ("Tracking number information not found"). Not thrown by track(): the number comes back with notFound, like the 200 answer with warning TW0001 that the live service sends.',
    match: (f) => f.status === 404 && f.upsCode !== undefined && f.endpoint === 'track',
  },
  {
    code: 'ups.not_found',
    errorClass: 'permanent',
    description: 'HTTP 404 without a UPS error body: wrong baseUrl or path.',
    match: (f) => f.status === 404,
  },
  {
    code: 'ups.bad_request',
    errorClass: 'permanent',
    description: 'Any other 4xx (400 Invalid request: missing transId / transactionSrc, bad parameter; 405).',
    match: (f) => f.status !== undefined && f.status >= 400 && f.status < 500,
  },
  {
    code: 'ups.server_error',
    errorClass: 'transient',
    retryAfterMs: 2000,
    description: 'HTTP 5xx (500 Internal server error, 502, 503 Resource is not available, 504).',
    match: (f) => f.status !== undefined && f.status >= 500,
  },
  {
    code: 'ups.malformed_response',
    errorClass: 'transient',
    retryAfterMs: 2000,
    description: 'An answer that is not the documented JSON (HTML from a proxy, truncated body, no trackResponse, token answer without access_token).',
    match: (f) => f.source === 'protocol',
  },
  {
    code: 'ups.unexpected',
    errorClass: 'permanent',
    description: 'Anything else (an HTTP status outside 4xx/5xx that is not success).',
    match: () => true,
  },
];

/** The codes in the table, once each. */
export const UPS_ERROR_CODES: readonly string[] = [...new Set(UPS_ERROR_TABLE.map((r) => r.code))];

/** Finds the row for a failure (the table ends with a catch-all). */
export function classifyUpsFailure(f: UpsFailure): UpsErrorRow {
  return classifyFailure(UPS_ERROR_TABLE, f);
}

/** Builds the HubError for a failure. `cause` is the underlying error, if any. */
export function upsError(f: UpsFailure, cause?: unknown): HubError {
  const row = classifyUpsFailure(f);
  const extra: Record<string, string | number | boolean> = {};
  if (f.endpoint) extra.endpoint = f.endpoint;
  if (f.status !== undefined) extra.httpStatus = f.status;
  if (f.upsCode) extra.upsCode = f.upsCode;
  return errorFromRow(row, { message: f.message, cause: new UpsFailureCause(f, cause), extra, retryAfterMs: f.retryAfterMs, fallbackRetryMs: 1000 });
}

/** UPS's first error `{code, message}` of a `{"response": {"errors": [...]}}` body, if any. */
export function upsErrorOf(body: unknown): { code?: string; message?: string } | undefined {
  const errors = (body as { response?: { errors?: unknown } } | null)?.response?.errors;
  if (!Array.isArray(errors) || !errors.length) return undefined;
  const e = errors[0] as { code?: unknown; message?: unknown };
  const out: { code?: string; message?: string } = {};
  if (typeof e?.code === 'string' || typeof e?.code === 'number') out.code = String(e.code);
  if (typeof e?.message === 'string') out.message = e.message;
  return out;
}

/** Facts of an HTTP error answer: status, UPS's code and message when the body has them. */
export function httpFailure(endpoint: UpsEndpoint, status: number, text: string, retryAfterMs?: number): UpsFailure {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const e = upsErrorOf(body);
  const excerpt = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
  const f: UpsFailure = { source: 'http', endpoint, status, message: e?.message ? `UPS ${status} ${e.code ?? ''}: ${e.message}`.replace('  ', ' ') : `UPS answered HTTP ${status}${excerpt ? `: ${excerpt}` : ''}` };
  if (e?.code) f.upsCode = e.code;
  if (retryAfterMs !== undefined) f.retryAfterMs = retryAfterMs;
  return f;
}

/** Facts of a fetch rejection: timeouts (AbortSignal.timeout) and socket errors. */
export function transportFailure(endpoint: UpsEndpoint, err: unknown, timeoutMs?: number): UpsFailure {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; name?: string; message?: string } };
  const errno = e?.name === 'TimeoutError' || e?.name === 'AbortError' ? e.name : (e?.cause?.code ?? e?.code ?? e?.cause?.name ?? e?.name ?? 'Error');
  const message = TIMEOUT_ERRNOS.has(errno) ? `UPS did not answer within ${timeoutMs ?? '?'} ms` : `cannot reach UPS: ${e?.cause?.message ?? e?.message ?? String(err)}`;
  return { source: 'transport', endpoint, errno, message };
}

export { parseRetryAfter } from '../error-table.ts';
