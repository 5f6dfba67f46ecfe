/**
 * The Odoo connector's error table: every way an Odoo call can fail, turned into a
 * HubError (TransientError / PermanentError / BusinessError) with a stable `odoo.*` code.
 *
 * A failure is first reduced to facts (`OdooFailure`): which protocol answered, the Python
 * exception class when one is known (JSON-RPC `data.name`, JSON-2 `name`, the last line of
 * an XML-RPC faultCode 1 traceback, the class in a legacy `warning -- Class` fault code),
 * the JSON-RPC error code, the XML-RPC faultCode, the HTTP status, the socket error code
 * and Odoo's own message. `ODOO_ERROR_TABLE` is then searched in order; the first row
 * whose matcher accepts the facts decides the code and the class. Docs and tests iterate
 * the table.
 *
 * XML-RPC limit: Odoo sends UserError, ValidationError and MissingError alike as
 * faultCode 2 with the bare message, so over XML-RPC they all become
 * `odoo.business_error`; JSON-RPC, the web session and JSON-2 carry the class name and
 * classify precisely.
 */
import { BusinessError, HubError, PermanentError, TransientError, type ErrorClass } from '../../domain/errors.ts';

export type OdooProtocol = 'xmlrpc' | 'jsonrpc' | 'web' | 'json2';

/** The facts of one failure, whatever the protocol. */
export interface OdooFailure {
  /** Where the failure was seen: an Odoo answer, an HTTP-level answer, the socket, or the client. */
  source: 'odoo' | 'http' | 'transport' | 'protocol' | 'client';
  protocol?: OdooProtocol;
  /** Python exception class as Odoo named it (`odoo.exceptions.UserError`, `builtins.ValueError`, `ValueError`). */
  exception?: string;
  /** JSON-RPC `error.code` (200 server error, 100 session expired). */
  jsonrpcCode?: number;
  /** XML-RPC faultCode: 1-4 on `/xmlrpc/2`, strings on the legacy `/xmlrpc`. */
  faultCode?: number | string;
  /** HTTP status of the answer. */
  status?: number;
  /** Socket / fetch error code: ECONNREFUSED, ECONNRESET, TimeoutError, … */
  errno?: string;
  /** Odoo's message (or the transport's). Kept verbatim as the HubError message. */
  message: string;
  /** Server traceback or raw body excerpt, for the logs. */
  debug?: string;
  /** From a Retry-After header. */
  retryAfterMs?: number;
}

/** Carries the facts of a failure as the `cause` of the HubError built from it. */
export class OdooFailureCause extends Error {
  readonly failure: OdooFailure;
  constructor(failure: OdooFailure, cause?: unknown) {
    super(failure.message, cause === undefined ? undefined : { cause });
    this.name = 'OdooFailureCause';
    this.failure = failure;
  }
}

export interface OdooErrorRow {
  code: string;
  errorClass: ErrorClass;
  /** Default retry delay for transient rows (a Retry-After from the server wins). */
  retryAfterMs?: number;
  description: string;
  match: (f: OdooFailure) => boolean;
}

/** Last segment of a Python class path: `odoo.exceptions.UserError` → `UserError`. */
export function shortException(name: string | undefined): string {
  if (!name) return '';
  const i = name.lastIndexOf('.');
  return i < 0 ? name : name.slice(i + 1);
}

const exc = (...names: string[]) => (f: OdooFailure) => names.includes(shortException(f.exception));

const TIMEOUT_ERRNOS = new Set(['TimeoutError', 'AbortError', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const SERIALIZATION = ['SerializationFailure', 'TransactionRollbackError', 'DeadlockDetected', 'LockNotAvailable', 'ConcurrentUpdate'];
const SERIALIZATION_TEXT = /could not serialize access|deadlock detected|could not obtain lock|concurrent update/i;

/** Ordered: the first matching row wins. */
export const ODOO_ERROR_TABLE: readonly OdooErrorRow[] = [
  {
    code: 'odoo.timeout',
    errorClass: 'transient',
    retryAfterMs: 2000,
    description: 'No answer within timeoutMs (the call may still complete on the server: re-read before repeating a non-idempotent call).',
    match: (f) => f.source === 'transport' && f.errno !== undefined && TIMEOUT_ERRNOS.has(f.errno),
  },
  {
    code: 'odoo.unavailable',
    errorClass: 'transient',
    retryAfterMs: 1000,
    description: 'Connection refused, reset or unreachable; DNS failure.',
    match: (f) => f.source === 'transport',
  },
  {
    code: 'odoo.rate_limited',
    errorClass: 'transient',
    retryAfterMs: 1000,
    description: 'HTTP 429 from Odoo or a proxy in front of it (Retry-After honoured).',
    match: (f) => f.status === 429,
  },
  {
    code: 'odoo.session_expired',
    errorClass: 'transient',
    retryAfterMs: 0,
    description: 'Web session expired or invalid (JSON-RPC code 100, SessionExpiredException); the client re-logs in once by itself.',
    match: (f) => f.jsonrpcCode === 100 || shortException(f.exception) === 'SessionExpiredException',
  },
  {
    code: 'odoo.serialization_failure',
    errorClass: 'transient',
    retryAfterMs: 500,
    description: 'PostgreSQL serialization failure, deadlock or lock timeout inside Odoo (concurrent update).',
    match: (f) => f.source === 'odoo' && (exc(...SERIALIZATION)(f) || (shortException(f.exception) === 'OperationalError' && SERIALIZATION_TEXT.test(f.message))),
  },
  {
    code: 'odoo.unknown_database',
    errorClass: 'permanent',
    description: 'The configured database does not exist (psycopg2 OperationalError "database … does not exist", also on authenticate).',
    match: (f) => f.source === 'odoo' && /database ".*" does not exist/.test(f.message),
  },
  {
    code: 'odoo.unavailable',
    errorClass: 'transient',
    retryAfterMs: 1000,
    description: "Odoo cannot reach its own PostgreSQL (OperationalError, InterfaceError, PoolError).",
    match: (f) => f.source === 'odoo' && exc('OperationalError', 'InterfaceError', 'PoolError')(f),
  },
  {
    code: 'odoo.unavailable',
    errorClass: 'transient',
    retryAfterMs: 1000,
    description: 'HTTP 5xx that is not an Odoo error object (502/503/504 HTML from a proxy, a crashed worker).',
    match: (f) => f.source === 'http' && f.status !== undefined && f.status >= 500,
  },
  {
    code: 'odoo.access_denied',
    errorClass: 'permanent',
    description: 'Wrong login, password or API key (AccessDenied, XML-RPC faultCode 3, authenticate returning False, JSON-2 401).',
    match: (f) =>
      exc('AccessDenied', 'Unauthorized')(f) || f.faultCode === 3 || f.faultCode === 'AccessDenied' || (f.protocol === 'json2' && f.status === 401),
  },
  {
    code: 'odoo.access_error',
    errorClass: 'permanent',
    description: 'The user may not do this (AccessError: ACL, record rule, private method; XML-RPC faultCode 4; JSON-2 403).',
    match: (f) => exc('AccessError', 'Forbidden')(f) || f.faultCode === 4 || (f.protocol === 'json2' && f.status === 403),
  },
  {
    code: 'odoo.cannot_marshal_none',
    errorClass: 'permanent',
    description:
      'XML-RPC faultCode 1 "cannot marshal None": the method ran and its transaction is committed, only the None in its answer could not be sent. Re-read the records instead of repeating the call.',
    match: (f) => /cannot marshal None/.test(f.message),
  },
  {
    code: 'odoo.unknown_model',
    errorClass: 'permanent',
    description: 'The model does not exist in this database (UserError "Object x doesn\'t exist"; the module is not installed).',
    match: (f) => f.source === 'odoo' && /^Object \S+ doesn't exist$/.test(f.message.trim()),
  },
  {
    code: 'odoo.unknown_method',
    errorClass: 'permanent',
    description: 'The method does not exist on the model, or the service has no such method.',
    match: (f) => f.source === 'odoo' && (/^The method '[^']*' does not exist/.test(f.message) || /^Method not found: /.test(f.message)),
  },
  {
    code: 'odoo.invalid_field',
    errorClass: 'permanent',
    description: 'A field name that does not exist, in `fields`, in a domain or in values (ValueError "Invalid field …").',
    match: (f) => f.source === 'odoo' && /^Invalid field /.test(f.message),
  },
  {
    code: 'odoo.invalid_value',
    errorClass: 'permanent',
    description: 'A value the field cannot take (ValueError "Wrong value for …", e.g. an unknown selection key).',
    match: (f) => f.source === 'odoo' && /^Wrong value for /.test(f.message),
  },
  {
    code: 'odoo.missing_record',
    errorClass: 'business',
    description: 'The record does not exist or has been deleted (MissingError on write, unlink or a button; `read` silently drops missing ids).',
    match: exc('MissingError'),
  },
  {
    code: 'odoo.validation_error',
    errorClass: 'business',
    description: 'A constraint refused the values (ValidationError, including NOT NULL on a required field).',
    match: exc('ValidationError'),
  },
  {
    code: 'odoo.user_error',
    errorClass: 'business',
    description: 'A business rule said no (UserError, RedirectWarning, the legacy `warning -- UserError` fault).',
    match: exc('UserError', 'RedirectWarning', 'Warning', 'except_orm', 'CacheMiss'),
  },
  {
    code: 'odoo.business_error',
    errorClass: 'business',
    description: 'XML-RPC faultCode 2: UserError, ValidationError or MissingError, which XML-RPC cannot tell apart (use JSON-RPC or JSON-2 for the precise class).',
    match: (f) => f.faultCode === 2 || (typeof f.faultCode === 'string' && f.faultCode.startsWith('warning')),
  },
  {
    code: 'odoo.business_error',
    errorClass: 'business',
    description: 'JSON-2 422 Unprocessable Content without a known exception class.',
    match: (f) => f.protocol === 'json2' && f.status === 422,
  },
  {
    code: 'odoo.not_found',
    errorClass: 'permanent',
    description: 'HTTP 404: the endpoint (or, over JSON-2, the model or method) does not exist on this server or version.',
    match: (f) => f.status === 404,
  },
  {
    code: 'odoo.bad_request',
    errorClass: 'permanent',
    description: 'HTTP 4xx for a request Odoo could not read (e.g. "Invalid JSON data", wrong content type).',
    match: (f) => f.status !== undefined && f.status >= 400 && f.status < 500,
  },
  {
    code: 'odoo.no_result',
    errorClass: 'permanent',
    description: 'A JSON-RPC answer without `result`: the method returned None (only raised by `expectResult`; `call` resolves NO_RESULT).',
    match: (f) => f.source === 'client' && f.errno === 'no_result',
  },
  {
    code: 'odoo.invalid_argument',
    errorClass: 'permanent',
    description: 'The call cannot be expressed in the protocol (a value XML-RPC cannot encode, positional arguments JSON-2 cannot name).',
    match: (f) => f.source === 'client',
  },
  {
    code: 'odoo.protocol',
    errorClass: 'transient',
    retryAfterMs: 1000,
    description: 'An answer that is not a well-formed XML-RPC / JSON-RPC / JSON-2 message (truncated body, HTML with status 200).',
    match: (f) => f.source === 'protocol',
  },
  {
    code: 'odoo.server_error',
    errorClass: 'permanent',
    description: 'Any other exception raised inside Odoo (XML-RPC faultCode 1, JSON-RPC code 200): the same call fails the same way.',
    match: () => true,
  },
];

/** The codes in the table, once each. */
export const ODOO_ERROR_CODES: readonly string[] = [...new Set(ODOO_ERROR_TABLE.map((r) => r.code))];

/** Finds the row for a failure (the table ends with a catch-all). */
export function classifyOdooFailure(f: OdooFailure): OdooErrorRow {
  for (const row of ODOO_ERROR_TABLE) if (row.match(f)) return row;
  return ODOO_ERROR_TABLE[ODOO_ERROR_TABLE.length - 1]!;
}

/** Builds the HubError for a failure. `cause` is the underlying error, if any. */
export function odooError(f: OdooFailure, cause?: unknown): HubError {
  const row = classifyOdooFailure(f);
  const extra: Record<string, string | number | boolean> = {};
  if (f.protocol) extra.protocol = f.protocol;
  if (f.exception) extra.exception = f.exception;
  if (f.faultCode !== undefined) extra.faultCode = f.faultCode;
  if (f.jsonrpcCode !== undefined) extra.jsonrpcCode = f.jsonrpcCode;
  if (f.status !== undefined) extra.httpStatus = f.status;
  const opts = {
    code: row.code,
    message: f.message,
    cause: new OdooFailureCause(f, cause),
    extra,
    retryAfterMs: row.errorClass === 'transient' ? (f.retryAfterMs ?? row.retryAfterMs ?? 1000) : undefined,
  };
  if (row.errorClass === 'transient') return new TransientError(opts);
  if (row.errorClass === 'business') return new BusinessError(opts);
  return new PermanentError(opts);
}

// ------------------------------------------------------------- per-protocol facts

/**
 * Splits a Python traceback into the exception class and message of its last exception:
 * the first unindented line after the last `  File` frame, up to the end.
 */
export function parseTraceback(text: string): { exception?: string; message: string } {
  const lines = text.split('\n');
  let lastFrame = -1;
  for (let i = 0; i < lines.length; i++) if (lines[i]!.startsWith('  File ')) lastFrame = i;
  if (lastFrame < 0 && !text.startsWith('Traceback')) {
    const m = /^([A-Za-z_][\w.]*): ([\s\S]*)$/.exec(text.trim());
    return m ? { exception: m[1]!, message: m[2]!.trim() } : { message: text.trim() };
  }
  let i = lastFrame + 1;
  while (i < lines.length && /^\s/.test(lines[i]!)) i++;
  const tail = lines.slice(i).join('\n').trim();
  const m = /^([A-Za-z_][\w.]*)(?:: ([\s\S]*))?$/.exec(tail);
  if (!m) return { message: tail || text.trim() };
  return { exception: m[1]!, message: (m[2] ?? m[1]!).trim() };
}

/** Facts of an XML-RPC fault (integer codes of `/xmlrpc/2`, string codes of `/xmlrpc`). */
export function xmlrpcFaultFailure(faultCode: number | string, faultString: string): OdooFailure {
  const base = { source: 'odoo' as const, protocol: 'xmlrpc' as const, faultCode };
  if (typeof faultCode === 'string') {
    // Legacy endpoint: 'AccessDenied', or 'warning -- UserError\n\n<message>' with an empty faultString.
    const m = /^warning -- (\w+)\s*\n\n?([\s\S]*)$/.exec(faultCode);
    if (m) return { ...base, exception: m[1]!, message: m[2]!.trim() || faultString };
    if (faultCode === 'AccessDenied') return { ...base, exception: 'AccessDenied', message: faultString || 'Access Denied' };
    const t = parseTraceback(faultString || faultCode);
    return { ...base, ...t, debug: faultString };
  }
  switch (faultCode) {
    case 1: {
      const t = parseTraceback(faultString);
      return { ...base, ...t, debug: faultString };
    }
    case 3:
      return { ...base, exception: 'AccessDenied', message: faultString };
    case 4:
      return { ...base, exception: 'AccessError', message: faultString };
    default:
      // 2: UserError / ValidationError / MissingError, class not transmitted.
      return { ...base, message: faultString };
  }
}

interface JsonRpcErrorObject {
  code?: unknown;
  message?: unknown;
  data?: { name?: unknown; message?: unknown; debug?: unknown; arguments?: unknown } | null;
}

/** Facts of a JSON-RPC `error` member (`/jsonrpc` and `/web/...`). */
export function jsonrpcErrorFailure(error: JsonRpcErrorObject, protocol: OdooProtocol): OdooFailure {
  const data = error.data && typeof error.data === 'object' ? error.data : undefined;
  const message = typeof data?.message === 'string' ? data.message : typeof error.message === 'string' ? error.message : 'Odoo error';
  const f: OdooFailure = { source: 'odoo', protocol, message };
  if (typeof error.code === 'number') f.jsonrpcCode = error.code;
  if (typeof data?.name === 'string') f.exception = data.name;
  if (typeof data?.debug === 'string') f.debug = data.debug;
  return f;
}

/** Facts of a JSON-2 error answer: HTTP status plus `{name, message, arguments, context, debug}`. */
export function json2ErrorFailure(status: number, body: unknown, retryAfterMs?: number): OdooFailure {
  const b = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const f: OdooFailure = {
    source: typeof b.name === 'string' ? 'odoo' : 'http',
    protocol: 'json2',
    status,
    message: typeof b.message === 'string' ? b.message : `HTTP ${status}`,
  };
  if (typeof b.name === 'string') f.exception = b.name;
  if (typeof b.debug === 'string') f.debug = b.debug;
  if (retryAfterMs !== undefined) f.retryAfterMs = retryAfterMs;
  return f;
}

/** Facts of an HTTP answer that is not an Odoo message (proxy page, 400 "Invalid JSON data"). */
export function httpFailure(status: number, body: string, protocol?: OdooProtocol, retryAfterMs?: number): OdooFailure {
  const text = body
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
  const f: OdooFailure = { source: 'http', status, message: `HTTP ${status}${text ? `: ${text}` : ''}`, debug: body.slice(0, 2000) };
  if (protocol) f.protocol = protocol;
  if (retryAfterMs !== undefined) f.retryAfterMs = retryAfterMs;
  return f;
}

/** Facts of a fetch rejection: timeouts (AbortSignal.timeout) and socket errors. */
export function transportFailure(err: unknown, protocol?: OdooProtocol, timeoutMs?: number): OdooFailure {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; name?: string; message?: string } };
  const errno = e?.name === 'TimeoutError' || e?.name === 'AbortError' ? e.name : (e?.cause?.code ?? e?.code ?? e?.cause?.name ?? e?.name ?? 'Error');
  const isTimeout = TIMEOUT_ERRNOS.has(errno);
  const message = isTimeout
    ? `Odoo did not answer within ${timeoutMs ?? '?'} ms`
    : `cannot reach Odoo: ${e?.cause?.message ?? e?.message ?? String(err)}`;
  const f: OdooFailure = { source: 'transport', errno, message };
  if (protocol) f.protocol = protocol;
  return f;
}

export { parseRetryAfter } from '../error-table.ts';
