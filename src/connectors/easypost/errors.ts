/**
 * The EasyPost connector's error table: every way a call to EasyPost can fail, turned into a
 * HubError (TransientError / PermanentError / BusinessError) with a stable `easypost.*` code.
 *
 * A failure is first reduced to facts (`EasyPostFailure`): where it was seen (an HTTP answer,
 * the socket, an unreadable body), the HTTP status, EasyPost's own error `code` (the
 * `error.code` of `{ "error": { "code", "message", "errors": [...] } }`, e.g.
 * `ADDRESS.VERIFY.FAILURE`), its message and field errors, a Retry-After. `EASYPOST_ERROR_TABLE`
 * is then searched in order; the first matching row decides the hub code and the class. The
 * EasyPost code is kept on the error (`extra.easypostCode`) and in the message. Docs and tests
 * iterate the table.
 */
import { HubError, type FieldIssue } from '../../domain/errors.ts';
import { classifyFailure, errorFromRow, type ErrorRow } from '../error-table.ts';

/** The facts of one failure. */
export interface EasyPostFailure {
  source: 'http' | 'transport' | 'protocol';
  /** HTTP status of the answer */
  status?: number;
  /** EasyPost's `error.code`, verbatim */
  code?: string;
  message: string;
  /** EasyPost's `error.errors`: field errors (objects) or plain strings */
  fieldErrors?: { field?: string; message: string }[];
  /** socket / fetch error code: ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET, TimeoutError… */
  errno?: string;
  /** from a Retry-After header */
  retryAfterMs?: number;
}

/** Carries the facts of a failure as the `cause` of the HubError built from it. */
export class EasyPostFailureCause extends Error {
  readonly failure: EasyPostFailure;
  constructor(failure: EasyPostFailure, cause?: unknown) {
    super(failure.message, cause === undefined ? undefined : { cause });
    this.name = 'EasyPostFailureCause';
    this.failure = failure;
  }
}

/** A row of the table (src/connectors/error-table.ts). */
export type EasyPostErrorRow = ErrorRow<EasyPostFailure>;

const TIMEOUT_ERRNOS = new Set(['TimeoutError', 'AbortError', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const code = (...codes: string[]) => (f: EasyPostFailure) => f.code !== undefined && codes.includes(f.code);
const prefix = (...prefixes: string[]) => (f: EasyPostFailure) => f.code !== undefined && prefixes.some((p) => f.code!.startsWith(p));

/** Ordered: the first matching row wins. */
export const EASYPOST_ERROR_TABLE: readonly EasyPostErrorRow[] = [
  {
    code: 'easypost.timeout',
    errorClass: 'transient',
    retryAfterMs: 2000,
    description: 'No answer within timeoutMs. A buy may still have gone through: book re-reads the shipment before buying again.',
    match: (f) => f.source === 'transport' && f.errno !== undefined && TIMEOUT_ERRNOS.has(f.errno),
  },
  {
    code: 'easypost.unavailable',
    errorClass: 'transient',
    retryAfterMs: 1000,
    description: 'Connection refused, reset or closed before the answer; DNS failure.',
    match: (f) => f.source === 'transport',
  },
  {
    code: 'easypost.rate_limited',
    errorClass: 'transient',
    retryAfterMs: 2000,
    description: 'HTTP 429 Too Many Requests (load-based limiter); Retry-After honoured when sent.',
    match: (f) => f.status === 429,
  },
  {
    code: 'easypost.carrier_no_response',
    errorClass: 'transient',
    retryAfterMs: 5000,
    description: 'SHIPMENT.POSTAGE.NO_RESPONSE / REFUND.NO_RESPONSE: the carrier did not answer EasyPost in time.',
    match: code('SHIPMENT.POSTAGE.NO_RESPONSE', 'REFUND.NO_RESPONSE'),
  },
  {
    code: 'easypost.purchase_in_progress',
    errorClass: 'transient',
    retryAfterMs: 2000,
    description: 'SHIPMENT.PURCHASE.IN_PROGRESS: another buy of this shipment is running; re-read it shortly.',
    match: code('SHIPMENT.PURCHASE.IN_PROGRESS'),
  },
  {
    code: 'easypost.server_error',
    errorClass: 'transient',
    retryAfterMs: 1000,
    description: 'HTTP 5xx (EasyPost error body or an HTML page from the load balancer).',
    match: (f) => f.status !== undefined && f.status >= 500,
  },
  {
    code: 'easypost.malformed_response',
    errorClass: 'transient',
    retryAfterMs: 1000,
    description: 'A 2xx answer that is not the JSON object expected (truncated body, wrong object, bad label bytes).',
    match: (f) => f.source === 'protocol',
  },
  {
    code: 'easypost.unauthorized',
    errorClass: 'permanent',
    description: 'HTTP 401: missing, wrong or deactivated API key (APIKEY.*).',
    match: (f) => f.status === 401,
  },
  {
    code: 'easypost.payment_required',
    errorClass: 'business',
    description: 'HTTP 402: the EasyPost wallet lacks funds or billing details (a person tops it up).',
    match: (f) => f.status === 402,
  },
  {
    code: 'easypost.forbidden',
    errorClass: 'permanent',
    description: 'HTTP 403: the key may not do this (test key on a production-only feature, MODE.UNAUTHORIZED...).',
    match: (f) => f.status === 403,
  },
  {
    code: 'easypost.address_invalid',
    errorClass: 'business',
    description: 'ADDRESS.* (ADDRESS.VERIFY.FAILURE...): the address could not be verified; field errors kept as issues.',
    match: prefix('ADDRESS.'),
  },
  {
    code: 'easypost.postage_exists',
    errorClass: 'business',
    description: 'SHIPMENT.POSTAGE.EXISTS: the shipment already has a label (book treats it by re-reading the shipment).',
    match: code('SHIPMENT.POSTAGE.EXISTS'),
  },
  {
    code: 'easypost.postage_failure',
    errorClass: 'business',
    description: 'SHIPMENT.POSTAGE.FAILURE / SHIPMENT.PURCHASE.FAILURE: the carrier refused or failed the purchase; shop another carrier.',
    match: code('SHIPMENT.POSTAGE.FAILURE', 'SHIPMENT.PURCHASE.FAILURE'),
  },
  {
    code: 'easypost.rate_unavailable',
    errorClass: 'business',
    description: 'The rate or service asked for is not available (SHIPMENT.MISSING_RATE, SHIPMENT.RATES.UNAVAILABLE, ORDER.RATE.UNAVAILABLE, SHIPMENT.RATE.CARRIER_ACCOUNT_INVALID).',
    match: code('SHIPMENT.MISSING_RATE', 'SHIPMENT.RATES.UNAVAILABLE', 'ORDER.RATE.UNAVAILABLE', 'SHIPMENT.RATE.CARRIER_ACCOUNT_INVALID'),
  },
  {
    code: 'easypost.label_format_unavailable',
    errorClass: 'business',
    description: 'SHIPMENT.POSTAGE.INVALID_FORMAT / FORMAT_UNAVAILABLE: the carrier cannot give the label in this format.',
    match: code('SHIPMENT.POSTAGE.INVALID_FORMAT', 'SHIPMENT.POSTAGE.FORMAT_UNAVAILABLE'),
  },
  {
    code: 'easypost.refund_unavailable',
    errorClass: 'business',
    description: 'SHIPMENT.REFUND.UNAVAILABLE, REFUND.*: the label cannot be refunded (already shipped, already refunded, no postage).',
    match: (f) => code('SHIPMENT.REFUND.UNAVAILABLE', 'SHIPMENT.REFUND.FAILURE')(f) || prefix('REFUND.')(f),
  },
  {
    code: 'easypost.scan_form_failed',
    errorClass: 'business',
    description: 'SCAN_FORM.*: the SCAN form was refused (unpaid or refunded shipment, several carriers, already on a form).',
    match: prefix('SCAN_FORM.'),
  },
  {
    code: 'easypost.tracker_refused',
    errorClass: 'business',
    description: 'TRACKER.*: EasyPost cannot track this number (unknown carrier, invalid code).',
    match: prefix('TRACKER.'),
  },
  {
    code: 'easypost.not_found',
    errorClass: 'permanent',
    description: 'HTTP 404: the shipment, order, tracker or scan form does not exist (or belongs to another key / mode).',
    match: (f) => f.status === 404,
  },
  {
    code: 'easypost.invalid_request',
    errorClass: 'permanent',
    description: 'HTTP 400, or a 422 about the request itself (PARAMETER.*, PARCEL.*, *.INVALID_PARAMS, ORDER.*): the adapter sent something wrong.',
    match: (f) => f.status === 400 || prefix('PARAMETER.', 'PARCEL.', 'ORDER.', 'SHIPMENT.INVALID')(f),
  },
  {
    code: 'easypost.unprocessable',
    errorClass: 'business',
    description: 'Any other HTTP 422: EasyPost or the carrier refused the data; the EasyPost code says why.',
    match: (f) => f.status === 422,
  },
  {
    code: 'easypost.client_error',
    errorClass: 'permanent',
    description: 'Any other HTTP 4xx (405, 406, 413...).',
    match: (f) => f.status !== undefined && f.status >= 400 && f.status < 500,
  },
  {
    code: 'easypost.unexpected',
    errorClass: 'transient',
    retryAfterMs: 1000,
    description: 'Anything else (an unexpected status): retried, then dead-lettered.',
    match: () => true,
  },
];

/** The row deciding a failure. */
export function classifyEasyPostFailure(f: EasyPostFailure): EasyPostErrorRow {
  return classifyFailure(EASYPOST_ERROR_TABLE, f);
}

/** The HubError for a failure, classified by the table. */
export function easyPostError(f: EasyPostFailure, cause?: unknown): HubError {
  const row = classifyEasyPostFailure(f);
  const issues: FieldIssue[] = (f.fieldErrors ?? []).map((e) => ({ path: e.field ?? '', message: e.message }));
  const message = f.code ? `${f.code}: ${f.message}` : f.message;
  return errorFromRow(row, { message, cause: new EasyPostFailureCause(f, cause), issues, ...(f.code ? { extra: { easypostCode: f.code } } : {}), retryAfterMs: f.retryAfterMs, fallbackRetryMs: 2000 });
}

/** The EasyPost error code a HubError was built from, if any. */
export function easyPostCodeOf(err: unknown): string | undefined {
  if (!(err instanceof HubError)) return undefined;
  const c = err.extra?.easypostCode;
  return typeof c === 'string' ? c : undefined;
}

/** Whether a HubError came from the socket (no HTTP answer at all). */
export function isTransportFailure(err: unknown): boolean {
  return err instanceof HubError && err.cause instanceof EasyPostFailureCause && err.cause.failure.source === 'transport';
}

export { parseRetryAfter } from '../error-table.ts';
