/**
 * The WMS connector's error table: every way a call to a WMS can fail, turned into a
 * HubError with a stable `wms.*` code. A failure is first reduced to facts (`WmsFailure`:
 * connection, timeout, an HTTP status with the WMS's own error code and message, or an
 * answer that is not JSON); `WMS_ERROR_TABLE` is searched in order and the first row
 * that matches decides the code and the class. A partner's refusal (409, 422) is a
 * BusinessError carrying the WMS's message: data for a person, not a crash. Docs and
 * tests iterate the table.
 */
import { BusinessError, HubError, PermanentError, TransientError, type ErrorClass } from '../../domain/errors.ts';
import { classifyFailure } from '../error-table.ts';

export interface WmsFailure {
  kind: 'connection' | 'timeout' | 'http' | 'protocol';
  /** HTTP status of the answer (kind http) */
  status?: number;
  /** socket error code (ECONNREFUSED, ECONNRESET...) */
  errno?: string;
  /** the WMS's own error code from the body, when it gives one */
  wmsCode?: string;
  /** the WMS's message, or the transport's */
  message: string;
  /** from a Retry-After header */
  retryAfterMs?: number;
  /** method and path of the request, for messages */
  request?: string;
}

export interface WmsErrorRow {
  code: string;
  errorClass: ErrorClass;
  /** default retry delay for transient rows (a Retry-After from the WMS wins) */
  retryAfterMs?: number;
  description: string;
  match: (f: WmsFailure) => boolean;
}

const status = (...codes: number[]) => (f: WmsFailure) => f.kind === 'http' && f.status !== undefined && codes.includes(f.status);

/** Ordered: the first matching row wins. */
export const WMS_ERROR_TABLE: readonly WmsErrorRow[] = [
  { code: 'wms.timeout', errorClass: 'transient', retryAfterMs: 5000, description: 'No answer within the configured timeout.', match: (f) => f.kind === 'timeout' },
  {
    code: 'wms.connection_failed',
    errorClass: 'transient',
    retryAfterMs: 2000,
    description: 'The connection was refused, reset or could not be made (WMS down, network).',
    match: (f) => f.kind === 'connection',
  },
  { code: 'wms.rate_limited', errorClass: 'transient', retryAfterMs: 1000, description: 'HTTP 429: too many requests; Retry-After is honoured.', match: status(429) },
  {
    code: 'wms.unavailable',
    errorClass: 'transient',
    retryAfterMs: 2000,
    description: 'HTTP 5xx: the WMS failed or is unavailable for now.',
    match: (f) => f.kind === 'http' && f.status !== undefined && f.status >= 500,
  },
  { code: 'wms.unauthorized', errorClass: 'permanent', description: 'HTTP 401: the API key is missing or not valid; fix the stored secret.', match: status(401) },
  { code: 'wms.forbidden', errorClass: 'permanent', description: 'HTTP 403: the API key may not do this.', match: status(403) },
  { code: 'wms.not_found', errorClass: 'permanent', description: 'HTTP 404: the order (or route) does not exist at the WMS.', match: status(404) },
  { code: 'wms.conflict', errorClass: 'business', description: "HTTP 409: the WMS refuses in the order's current state (cancel once packed, ship-to once shipped).", match: status(409) },
  { code: 'wms.rejected', errorClass: 'business', description: 'HTTP 422: the WMS refuses the content (unknown SKU, invalid address).', match: status(422) },
  { code: 'wms.bad_request', errorClass: 'permanent', description: 'Another 4xx: the request is wrong (a profile error, usually).', match: (f) => f.kind === 'http' && (f.status ?? 0) >= 400 && (f.status ?? 0) < 500 },
  { code: 'wms.invalid_response', errorClass: 'permanent', description: 'The WMS answered 2xx with a body that is not JSON.', match: (f) => f.kind === 'protocol' },
  { code: 'wms.http_error', errorClass: 'permanent', description: 'Any other answer (unexpected status).', match: () => true },
];

/** The table row a failure falls under. */
export function classifyWmsFailure(f: WmsFailure): WmsErrorRow {
  return classifyFailure(WMS_ERROR_TABLE, f);
}

/** Carries the facts of a failure as the `cause` of the HubError built from it. */
export class WmsFailureCause extends Error {
  readonly failure: WmsFailure;
  constructor(failure: WmsFailure, cause?: unknown) {
    super(failure.message, cause === undefined ? undefined : { cause });
    this.name = 'WmsFailureCause';
    this.failure = failure;
  }
}

/** The HubError of a failure, by the table. */
export function wmsError(f: WmsFailure, cause?: unknown): HubError {
  const row = classifyWmsFailure(f);
  const what = f.kind === 'http' ? `HTTP ${f.status}${f.wmsCode ? ` ${f.wmsCode}` : ''}` : f.kind;
  const message = `${f.request ? f.request + ': ' : ''}WMS ${what}: ${f.message}`;
  const o = {
    code: row.code,
    message,
    cause: new WmsFailureCause(f, cause),
    ...(f.status !== undefined && row.errorClass !== 'transient' ? { status: row.errorClass === 'business' ? 422 : 502 } : {}),
    ...(f.wmsCode ? { extra: { wmsCode: f.wmsCode } } : {}),
  };
  if (row.errorClass === 'transient') return new TransientError({ ...o, retryAfterMs: f.retryAfterMs ?? row.retryAfterMs });
  if (row.errorClass === 'business') return new BusinessError(o);
  return new PermanentError(o);
}

/**
 * The WMS's code and message from an error body: `{error: {code, message}}`,
 * `{code, message}`, `{title, detail}` (problem+json) or `{errors: [{message}]}`; else the text.
 */
export function errorDetails(body: unknown, text: string): { wmsCode?: string; message: string } {
  const b = body as Record<string, unknown> | null;
  if (b && typeof b === 'object') {
    const e = (b.error && typeof b.error === 'object' ? b.error : b) as Record<string, unknown>;
    const first = Array.isArray(b.errors) ? (b.errors[0] as Record<string, unknown> | undefined) : undefined;
    const message = [e.message, e.detail, e.title, first?.message, typeof b.error === 'string' ? b.error : undefined].find((x) => typeof x === 'string' && x !== '') as string | undefined;
    const code = [e.code, first?.code].find((x) => typeof x === 'string' || typeof x === 'number');
    if (message) return { message, ...(code !== undefined ? { wmsCode: String(code) } : {}) };
  }
  const t = text.trim();
  return { message: t === '' ? 'no message' : t.length > 300 ? t.slice(0, 297) + '...' : t };
}
