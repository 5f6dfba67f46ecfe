/**
 * The FedEx error table: every row is reachable, every failure FedEx documents lands on the
 * intended row and class, the documented error bodies (test/fixtures/fedex/error-*.json) are
 * read, and Retry-After wins over a row's default delay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BusinessError, PermanentError, TransientError } from '../../../src/domain/errors.ts';
import {
  FEDEX_ERROR_CODES,
  FEDEX_ERROR_TABLE,
  classifyFedexFailure,
  fedexError,
  httpFailure,
  parseRetryAfter,
  transportFailure,
  type FedexFailure,
} from '../../../src/connectors/fedex/errors.ts';

const body = (name: string) => readFileSync(new URL(`../../fixtures/fedex/${name}`, import.meta.url), 'utf8');

const CASES: [string, FedexFailure, string, 'transient' | 'permanent' | 'business'][] = [
  ['timeout', transportFailure(Object.assign(new Error('t'), { name: 'TimeoutError' }), 'trackingnumbers', 100), 'fedex.timeout', 'transient'],
  ['refused', transportFailure(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' } }), 'trackingnumbers', 100), 'fedex.unavailable', 'transient'],
  ['429', httpFailure(429, '{"errors":[{"code":"TOO.MANY.REQUESTS.ERROR","message":"slow down"}]}', 'trackingnumbers', 3000), 'fedex.rate_limited', 'transient'],
  ['token 401', httpFailure(401, body('error-401.json'), 'token'), 'fedex.invalid_credentials', 'permanent'],
  ['api 401', httpFailure(401, body('error-401.json'), 'trackingnumbers'), 'fedex.unauthorized', 'permanent'],
  ['403', httpFailure(403, body('error-403.json'), 'trackingnumbers'), 'fedex.forbidden', 'permanent'],
  ['404', httpFailure(404, body('error-404.json'), 'trackingnumbers'), 'fedex.not_found', 'permanent'],
  ['500', httpFailure(500, body('error-500.json'), 'trackingnumbers'), 'fedex.unavailable', 'transient'],
  ['503', httpFailure(503, body('error-503.json'), 'associatedshipments'), 'fedex.unavailable', 'transient'],
  ['502 html', httpFailure(502, '<html><body>Bad Gateway</body></html>', 'trackingnumbers'), 'fedex.unavailable', 'transient'],
  ['400 empty', httpFailure(400, body('error-400.json'), 'trackingnumbers'), 'fedex.invalid_tracking_number', 'business'],
  ['400 other', httpFailure(400, '{"errors":[{"code":"INVALID.INPUT.EXCEPTION","message":"Invalid field value in the input"}]}', 'trackingnumbers'), 'fedex.bad_request', 'permanent'],
  ['number invalid', { source: 'number', fedexCode: 'TRACKING.TRACKINGNUMBER.INVALID', trackingNumber: '12', message: 'x' }, 'fedex.invalid_tracking_number', 'business'],
  ['number other', { source: 'number', fedexCode: 'TRACKING.DATA.UNAVAILABLE', trackingNumber: '12', message: 'x' }, 'fedex.tracking_refused', 'business'],
  ['not json', { source: 'body', notJson: true, status: 200, message: 'x' }, 'fedex.malformed_body', 'transient'],
  ['bad input', { source: 'client', message: 'x' }, 'fedex.invalid_request', 'permanent'],
  ['wrong json', { source: 'body', message: 'x' }, 'fedex.unexpected_response', 'permanent'],
];

test('documented failures land on their rows', () => {
  for (const [name, f, code, cls] of CASES) {
    const row = classifyFedexFailure(f);
    assert.equal(row.code, code, name);
    assert.equal(row.errorClass, cls, name);
    const e = fedexError(f);
    assert.ok(cls === 'transient' ? e instanceof TransientError : cls === 'business' ? e instanceof BusinessError : e instanceof PermanentError, name);
    if (cls === 'transient') assert.ok((e.retryAfterMs ?? 0) > 0, name);
    else assert.equal(e.retryAfterMs, undefined, name);
  }
});

test('every row of the table is reached by some failure, and codes are fedex.*', () => {
  const reached = new Set(CASES.map(([, f]) => FEDEX_ERROR_TABLE.indexOf(classifyFedexFailure(f))));
  FEDEX_ERROR_TABLE.forEach((row, i) => {
    assert.match(row.code, /^fedex\.[a-z_]+$/);
    assert.ok(row.description.length > 10);
    assert.ok(reached.has(i), `row ${i} ${row.code} is never reached`);
  });
  assert.equal(new Set(FEDEX_ERROR_CODES).size, FEDEX_ERROR_CODES.length);
});

test('FedEx error bodies are read: code and message reach the HubError', () => {
  const e = fedexError(httpFailure(503, body('error-503.json'), 'trackingnumbers'));
  assert.equal(e.extra?.fedexCode, 'SERVICE.UNAVAILABLE.ERROR');
  assert.equal(e.extra?.httpStatus, 503);
  assert.match(e.message, /^HTTP 503 SERVICE\.UNAVAILABLE\.ERROR: The service is currently unavailable/);
});

test('Retry-After: seconds or HTTP date, and it wins over the default delay', () => {
  assert.equal(parseRetryAfter('7', 0), 7000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4000), 6000);
  assert.equal(parseRetryAfter('soon', 0), undefined);
  assert.equal(fedexError(httpFailure(429, '{}', 'trackingnumbers', 7000)).retryAfterMs, 7000);
  assert.equal(fedexError(httpFailure(429, '{}', 'trackingnumbers')).retryAfterMs, 10_000);
});
