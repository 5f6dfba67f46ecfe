/**
 * The one place that turns errors into HTTP answers: RFC 9457 `application/problem+json`
 * bodies with a stable `code` (clients act on it, never on the wording), the problem
 * `type` URI derived from the code, the request's correlation id, and the field issues.
 *
 * Anything thrown (a HubError, one of Fastify's own errors, a database error, a bug) goes
 * through `toHubError` first, so every error response has the same shape and an
 * unexpected failure never leaks its message or stack to the client.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HubError, PermanentError, TransientError, UnavailableError, ValidationError, type FieldIssue } from '../domain/errors.ts';

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'https://odoo-logistics-hub.dev/problems/';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance: string;
  correlationId: string;
  issues?: FieldIssue[];
  /** index of the offending event in a batch */
  index?: number;
}

/** Stable titles of the codes the API answers with; the detail says what happened this time. */
export const PROBLEM_TITLES: Readonly<Record<string, string>> = {
  'request.malformed_json': 'The request body is not valid JSON',
  'request.unsupported_media_type': 'Unsupported media type',
  'request.body_too_large': 'The request body is too large',
  'request.invalid': 'The request does not match its schema',
  'request.invalid_cursor': 'The pagination cursor is not valid',
  'request.invalid_content_length': 'The Content-Length header does not match the body',
  'request.bad_url': 'The URL is not valid',
  'request.header_too_large': 'The request headers are too large',
  'request.timeout': 'The request took too long to arrive',
  'request.bad_request': 'Bad request',
  'request.method_not_allowed': 'Method not allowed on this resource',
  'route.not_found': 'No such resource',
  'batch.not_array': 'A batch must be a JSON array of events',
  'batch.empty': 'The batch is empty',
  'batch.too_large': 'The batch has too many events',
  'event.malformed': 'The event is not a JSON object',
  'event.missing_attribute': 'A required CloudEvents attribute is missing',
  'event.invalid_attribute': 'A CloudEvents attribute is not valid',
  'event.unsupported_specversion': 'Unsupported CloudEvents specversion',
  'event.unsupported_datacontenttype': 'Unsupported event data content type',
  'event.unknown_type': 'Unknown event type',
  'event.invalid_data': 'The event data does not match its type',
  'event.missing_key': 'The event has no business key',
  'event.not_found': 'No such event',
  'event.ambiguous_id': 'Several events have this id',
  'timeline.not_found': 'No such business key',
  'dead_letter.not_found': 'No such dead letter',
  'replay.not_found': 'No such replay',
  'replay.filter_required': 'A replay needs a filter',

  'webhook.unknown_partner': 'No such webhook partner',
  'webhook.ip_not_allowed': 'The source address is not allowed for this partner',
  'webhook.body_too_large': 'The webhook body is too large',
  'webhook.unsupported_media_type': 'Unsupported webhook content type',
  'webhook.missing_headers': 'Webhook signature headers are missing',
  'webhook.bad_id': 'The webhook id is not usable',
  'webhook.bad_timestamp': 'The webhook timestamp is malformed',
  'webhook.timestamp_too_old': 'The webhook timestamp is too old',
  'webhook.timestamp_in_future': 'The webhook timestamp is in the future',
  'webhook.signature_invalid': 'No valid webhook signature',
  'webhook.secret_missing': 'The partner\'s signing secret is not configured',
  'webhook.id_reused': 'The webhook id was used for another body',
  'webhook.replayed': 'The webhook delivery was already received',
  'auth.missing_credential': 'A credential is required',
  'auth.invalid_credential': 'The credential is not valid',
  'auth.missing_scope': 'The client lacks a scope this needs',
  'auth.wrong_tenant': 'The event belongs to another tenant',
  'auth.scope_escalation': 'A client may grant only scopes it holds',
  'rate_limited': 'Too many requests from this client',
  'oauth.invalid_request': 'The token request is malformed',
  'oauth.invalid_client': 'Client authentication failed',
  'oauth.unsupported_grant_type': 'Unsupported grant type',
  'oauth.invalid_scope': 'A requested scope is not granted to this client',
  'connector.not_configured': 'No connector is configured for this tenant',
  'connector.bad_token': 'The connector URL token is missing or wrong',
  'connector.bad_hint': 'Not an Odoo webhook payload',
  'connector.not_running': 'The connector of this tenant is not running',
  'subscription.not_found': 'No such subscription',
  'subscription.unknown_event_type': 'A filter names no known event type',
  'subscription.no_event_types': 'A subscription needs at least one event type',
  'subscription.too_many_event_types': 'Too many event-type filters',
  'subscription.invalid_url': 'The endpoint URL is not valid',
  'subscription.insecure_url': 'The endpoint must use https',
  'subscription.url_credentials': 'The endpoint URL must not carry credentials',
  'subscription.private_address': 'The endpoint is in a private or local network',
  'subscription.invalid_description': 'The description is not valid',
  'replay.bad_range': 'The time range is empty',
  'backlog.full': 'The hub is saturated',
  'dependency.unavailable': 'A dependency is not reachable',
  'hub.not_ready': 'The hub is not ready',
  'hub.shutting_down': 'The hub is shutting down',
  internal: 'Internal error',
};

export function problemType(code: string): string {
  return PROBLEM_TYPE_BASE + encodeURIComponent(code);
}

interface FastifyLikeError {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  validation?: { instancePath?: string; keyword?: string; message?: string; params?: Record<string, unknown> }[];
  validationContext?: string;
}

const PG_TRANSIENT_CLASSES = ['08', '53', '57']; // connection exception, insufficient resources, operator intervention
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);
const POOL_MESSAGES = /timeout exceeded when trying to connect|Connection terminated|connection error|Client was closed|Cannot use a pool after calling end/i;

function isDatabaseUnavailable(e: FastifyLikeError): boolean {
  const code = typeof e.code === 'string' ? e.code : '';
  if (NET_CODES.has(code)) return true;
  if (/^[0-9A-Z]{5}$/.test(code) && (PG_TRANSIENT_CLASSES.includes(code.slice(0, 2)) || code === '40001' || code === '40P01')) return true;
  return typeof e.message === 'string' && POOL_MESSAGES.test(e.message);
}

/** Fastify's schema-validation errors as field issues: `/<location><JSON pointer>`. */
function validationIssues(e: FastifyLikeError): FieldIssue[] {
  const location = e.validationContext ?? 'body';
  return (e.validation ?? []).map((v) => {
    const missing = v.keyword === 'required' && typeof v.params?.missingProperty === 'string' ? `/${v.params.missingProperty}` : '';
    const extra = v.keyword === 'additionalProperties' && typeof v.params?.additionalProperty === 'string' ? `/${v.params.additionalProperty}` : '';
    const message =
      v.keyword === 'additionalProperties' ? 'is not a known property' : v.keyword === 'required' ? 'is required' : (v.message ?? 'is not valid');
    return { path: `/${location}${v.instancePath ?? ''}${missing}${extra}`, message };
  });
}

/** Anything thrown -> a HubError with a stable code. Internals never reach `message` of a 500. */
export function toHubError(err: unknown): HubError {
  if (err instanceof HubError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as FastifyLikeError;
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const message = typeof e.message === 'string' ? e.message : '';
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PermanentError({ code: 'request.body_too_large', message: 'the request body is larger than the configured limit', status: 413 });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new PermanentError({ code: 'request.unsupported_media_type', message: 'the Content-Type of the request is missing, malformed or not supported here', status: 415 });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ValidationError('request.malformed_json', 'the body is empty but its Content-Type is JSON');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ValidationError('request.malformed_json', 'the body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ValidationError('request.invalid_content_length', 'the body length does not match the Content-Length header');
    case 'FST_ERR_BAD_URL':
      return new ValidationError('request.bad_url', 'the URL contains an invalid percent-encoding');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new PermanentError({ code: 'request.bad_url', message: 'a path parameter is longer than the server accepts', status: 414 });
    case 'HPE_HEADER_OVERFLOW':
      return new PermanentError({ code: 'request.header_too_large', message: 'the request headers are larger than the server accepts', status: 431 });
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new PermanentError({ code: 'request.timeout', message: 'the request was not received in time', status: 408 });
  }
  if (Array.isArray(e.validation)) return new ValidationError('request.invalid', message || 'the request does not match its schema', validationIssues(e));
  // Fastify's default JSON parser (secure-json-parse) reports syntax errors as a plain SyntaxError with statusCode 400
  if (err instanceof SyntaxError && status === 400) return new ValidationError('request.malformed_json', `the body is not valid JSON: ${message}`);
  if (isDatabaseUnavailable(e)) return new UnavailableError('the database is not reachable right now', err);
  if (status !== undefined && status >= 400 && status < 500) {
    return new PermanentError({ code: status === 404 ? 'route.not_found' : 'request.bad_request', message: message || STATUS_CODES[status] || 'bad request', status });
  }
  return new TransientError({ code: 'internal', message: 'an unexpected error occurred; quote the correlation id when reporting it', status: 500, cause: err });
}

export function problemOf(err: HubError, instance: string, correlationId: string): Problem {
  const status = err.status >= 400 && err.status <= 599 ? err.status : 500;
  return {
    ...(err.extra ?? {}), // extension members never override the standard ones
    type: problemType(err.code),
    title: PROBLEM_TITLES[err.code] ?? STATUS_CODES[status] ?? 'Error',
    status,
    detail: err.message,
    code: err.code,
    instance,
    correlationId,
    ...(err.issues.length ? { issues: err.issues } : {}),
    ...(err.index !== undefined ? { index: err.index } : {}),
  };
}

/** Seconds for Retry-After: 429 and 503 always carry one. */
export function retryAfterSeconds(err: HubError): number | undefined {
  if (err.retryAfterMs !== undefined) return Math.max(1, Math.ceil(err.retryAfterMs / 1000));
  return err.status === 429 || err.status === 503 ? 1 : undefined;
}

/** Sends the problem for `err` on `reply`; the body bypasses the routes' response serializers. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const hub = toHubError(err);
  const problem = problemOf(hub, request.url, request.correlationId || String(request.id));
  const retryAfter = retryAfterSeconds(hub);
  if (retryAfter !== undefined) reply.header('Retry-After', String(retryAfter));
  return reply.code(problem.status).type(PROBLEM_MEDIA_TYPE).serializer(JSON.stringify).send(problem);
}

/**
 * A complete HTTP/1.1 response for errors Node reports before Fastify sees a request
 * (malformed request line, header overflow): written straight to the socket.
 */
export function rawProblemResponse(err: unknown, correlationId: string): string {
  const hub = toHubError(err);
  const status = hub.status >= 500 ? 400 : hub.status;
  const body = JSON.stringify(problemOf(hub.status >= 500 ? new ValidationError('request.bad_request', 'the request could not be parsed as HTTP') : hub, '', correlationId));
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\n` +
    `Content-Type: ${PROBLEM_MEDIA_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Correlation-Id: ${correlationId}\r\nConnection: close\r\n\r\n${body}`
  );
}
