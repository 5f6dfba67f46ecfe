/**
 * The DHL connector's error table: every way a call to Shipment Tracking – Unified can fail,
 * turned into a HubError (TransientError / PermanentError / BusinessError) with a stable
 * `dhl.*` code. A failure is first reduced to facts (`DhlFailure`: where it was seen, the HTTP
 * status, the socket error code, DHL's problem document `{status, title, detail}`); the first
 * row of `DHL_ERROR_TABLE` whose matcher accepts the facts decides. Docs and tests iterate
 * the table.
 *
 * A 404 "No result found" is not an error for `track`: the client turns it into
 * `notFound: true`. Its row exists so that anything else asking about it gets a business code.
 */
import type { HubError } from '../../domain/errors.ts';
import { classifyFailure, errorFromRow, type ErrorRow } from '../error-table.ts';

/** The facts of one failure. */
export interface DhlFailure {
  source: 'transport' | 'http' | 'protocol' | 'client';
  status?: number;
  /** socket / fetch error code: ECONNREFUSED, ECONNRESET, TimeoutError... */
  errno?: string;
  /** problem document members, when DHL sent one */
  title?: string;
  detail?: string;
  message: string;
  retryAfterMs?: number;
}

/** Carries the facts of a failure as the `cause` of the HubError built from it. */
export class DhlFailureCause extends Error {
  readonly failure: DhlFailure;
  constructor(failure: DhlFailure, cause?: unknown) {
    super(failure.message, cause === undefined ? undefined : { cause });
    this.name = 'DhlFailureCause';
    this.failure = failure;
  }
}

/** A row of the table (src/connectors/error-table.ts). */
export type DhlErrorRow = ErrorRow<DhlFailure>;

const TIMEOUT_ERRNOS = new Set(['TimeoutError', 'AbortError', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Ordered: the first matching row wins; the last row matches everything. */
export const DHL_ERROR_TABLE: readonly DhlErrorRow[] = [
  {
    code: 'dhl.timeout',
    errorClass: 'transient',
    retryAfterMs: 5000,
    description: 'No answer within timeoutMs.',
    match: (f) => f.source === 'transport' && f.errno !== undefined && TIMEOUT_ERRNOS.has(f.errno),
  },
  {
    code: 'dhl.unavailable',
    errorClass: 'transient',
    retryAfterMs: 5000,
    description: 'Connection refused, reset or unreachable; DNS failure.',
    match: (f) => f.source === 'transport',
  },
  {
    code: 'dhl.rate_limited',
    errorClass: 'transient',
    retryAfterMs: 5000,
    description: 'HTTP 429: over the app\'s calls per second or per day (Retry-After honoured; the default plan allows one call every 5 seconds).',
    match: (f) => f.status === 429,
  },
  {
    code: 'dhl.unauthorized',
    errorClass: 'permanent',
    description: 'HTTP 401 "Unauthorized for given resource.": the DHL-API-Key is wrong, revoked or not subscribed to Shipment Tracking – Unified (the client re-reads the key once first).',
    match: (f) => f.status === 401,
  },
  {
    code: 'dhl.forbidden',
    errorClass: 'permanent',
    description: 'HTTP 403: the key may not use this API or service.',
    match: (f) => f.status === 403,
  },
  {
    code: 'dhl.shipment_not_found',
    errorClass: 'business',
    description: 'HTTP 404 "No result found": DHL does not know the number (yet: new labels take 10 to 30 minutes to appear). `track` reports it as notFound, not as an error.',
    match: (f) => f.status === 404 && f.title !== undefined,
  },
  {
    code: 'dhl.endpoint_not_found',
    errorClass: 'permanent',
    description: 'HTTP 404 without a DHL problem document: the base URL or path is wrong.',
    match: (f) => f.status === 404,
  },
  {
    code: 'dhl.bad_request',
    errorClass: 'permanent',
    description: 'HTTP 400: a parameter DHL refuses (missing trackingNumber, unknown service, bad limit/offset).',
    match: (f) => f.status === 400,
  },
  {
    code: 'dhl.server_error',
    errorClass: 'transient',
    retryAfterMs: 10000,
    description: 'HTTP 5xx from DHL or its gateway.',
    match: (f) => f.status !== undefined && f.status >= 500,
  },
  {
    code: 'dhl.malformed_body',
    errorClass: 'transient',
    retryAfterMs: 10000,
    description: 'A 200 whose body is not the documented JSON (truncated, HTML from a proxy, no shipments list).',
    match: (f) => f.source === 'protocol',
  },
  {
    code: 'dhl.invalid_argument',
    errorClass: 'permanent',
    description: 'The request cannot be sent (an empty tracking number).',
    match: (f) => f.source === 'client',
  },
  {
    code: 'dhl.unexpected_status',
    errorClass: 'permanent',
    description: 'Any other HTTP status (405, 406, 415...): the request is not what DHL accepts.',
    match: () => true,
  },
];

/** The codes in the table, once each. */
export const DHL_ERROR_CODES: readonly string[] = [...new Set(DHL_ERROR_TABLE.map((r) => r.code))];

/** Finds the row for a failure (the table ends with a catch-all). */
export function classifyDhlFailure(f: DhlFailure): DhlErrorRow {
  return classifyFailure(DHL_ERROR_TABLE, f);
}

/** Builds the HubError for a failure. `cause` is the underlying error, if any. */
export function dhlError(f: DhlFailure, cause?: unknown): HubError {
  const row = classifyDhlFailure(f);
  const extra: Record<string, string | number | boolean> = {};
  if (f.status !== undefined) extra.httpStatus = f.status;
  if (f.title) extra.title = f.title;
  if (f.errno) extra.errno = f.errno;
  return errorFromRow(row, { message: f.message, cause: new DhlFailureCause(f, cause), extra, retryAfterMs: f.retryAfterMs, fallbackRetryMs: 5000 });
}

/** Facts of an HTTP error answer; `body` is the raw text (a problem document when DHL sent one). */
export function httpFailure(status: number, body: string, retryAfterMs?: number): DhlFailure {
  let title: string | undefined;
  let detail: string | undefined;
  try {
    const b = JSON.parse(body) as Record<string, unknown>;
    if (b && typeof b === 'object') {
      if (typeof b.title === 'string') title = b.title;
      if (typeof b.detail === 'string') detail = b.detail;
    }
  } catch {
    // not a problem document (proxy page, empty body)
  }
  const text = body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
  const f: DhlFailure = { source: 'http', status, message: `DHL answered HTTP ${status}: ${detail ?? title ?? (text || 'no body')}` };
  if (title !== undefined) f.title = title;
  if (detail !== undefined) f.detail = detail;
  if (retryAfterMs !== undefined) f.retryAfterMs = retryAfterMs;
  return f;
}

/** Facts of a fetch rejection: timeouts (AbortSignal.timeout) and socket errors. */
export function transportFailure(err: unknown, timeoutMs: number): DhlFailure {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; name?: string; message?: string } };
  const errno = e?.name === 'TimeoutError' || e?.name === 'AbortError' ? e.name : (e?.cause?.code ?? e?.code ?? e?.cause?.name ?? e?.name ?? 'Error');
  const message = TIMEOUT_ERRNOS.has(errno) ? `DHL did not answer within ${timeoutMs} ms` : `cannot reach DHL: ${e?.cause?.message ?? e?.message ?? String(err)}`;
  return { source: 'transport', errno, message };
}

export { parseRetryAfter } from '../error-table.ts';
