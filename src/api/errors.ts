/**
 * The HTTP layer's own error conditions, as HubErrors with stable codes. problem.ts turns
 * them (and every other error) into problem+json; nothing here builds a response.
 */
import { PermanentError, TransientError, ValidationError, type FieldIssue } from '../domain/errors.ts';

export function notFound(code: string, message: string): PermanentError {
  return new PermanentError({ code, message, status: 404 });
}

export function conflict(code: string, message: string, issues: FieldIssue[] = []): PermanentError {
  return new PermanentError({ code, message, status: 409, issues });
}

export function methodNotAllowed(method: string, path: string, allowed: string[]): PermanentError {
  return new PermanentError({ code: 'request.method_not_allowed', message: `${method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`, status: 405 });
}

export function unsupportedMediaType(message: string, issues: FieldIssue[] = [], index?: number): PermanentError {
  return new PermanentError({ code: 'request.unsupported_media_type', message, status: 415, issues, index });
}

export function invalidCursor(): ValidationError {
  return new ValidationError('request.invalid_cursor', 'the cursor was not issued by this API or is damaged; start again without a cursor', [
    { path: '/querystring/cursor', message: 'is not a valid cursor' },
  ]);
}

export function notReady(issues: FieldIssue[]): TransientError {
  return new TransientError({ code: 'hub.not_ready', message: 'the hub is not ready to serve traffic', status: 503, retryAfterMs: 1000, issues });
}

export function shuttingDown(): TransientError {
  return new TransientError({ code: 'hub.shutting_down', message: 'the hub is shutting down; send the request to another instance or retry shortly', status: 503, retryAfterMs: 1000 });
}
