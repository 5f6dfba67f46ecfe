/**
 * The DHL error table: every row is reachable, codes are stable `dhl.*` strings, and each
 * failure the brief names lands in the right class with the right retry delay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BusinessError, PermanentError, TransientError } from '../../../src/domain/errors.ts';
import { DHL_ERROR_CODES, DHL_ERROR_TABLE, classifyDhlFailure, dhlError, httpFailure, parseRetryAfter, transportFailure, type DhlFailure } from '../../../src/connectors/dhl/errors.ts';

const body = (name: string) => readFileSync(new URL(`../../fixtures/dhl/${name}`, import.meta.url), 'utf8');

const SAMPLES: [string, DhlFailure][] = [
  ['dhl.timeout', transportFailure(Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 100)],
  ['dhl.unavailable', transportFailure(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' } }), 100)],
  ['dhl.rate_limited', httpFailure(429, body('rate-limited.json'), 7000)],
  ['dhl.unauthorized', httpFailure(401, body('unauthorized.json'))],
  ['dhl.forbidden', httpFailure(403, '{"status":403,"title":"Forbidden","detail":"Access denied."}')],
  ['dhl.shipment_not_found', httpFailure(404, body('not-found.json'))],
  ['dhl.endpoint_not_found', httpFailure(404, '<html>Not Found</html>')],
  ['dhl.bad_request', httpFailure(400, '{"status":400,"title":"Bad Request","detail":"x"}')],
  ['dhl.server_error', httpFailure(503, '<html><h1>503 Service Unavailable</h1></html>')],
  ['dhl.malformed_body', { source: 'protocol', status: 200, message: 'not JSON' }],
  ['dhl.invalid_argument', { source: 'client', message: 'empty tracking number' }],
  ['dhl.unexpected_status', httpFailure(405, '')],
];

test('every row of the table is reached by a sample failure, and every code is dhl.*', () => {
  const reached = new Set(SAMPLES.map(([, f]) => classifyDhlFailure(f)));
  for (const row of DHL_ERROR_TABLE) {
    assert.match(row.code, /^dhl\.[a-z_]+$/);
    assert.ok(row.description.length > 10);
    assert.ok(reached.has(row), `row ${row.code} is reached`);
  }
  assert.equal(DHL_ERROR_CODES.length, new Set(DHL_ERROR_CODES).size);
});

test('each sample classifies to its code and class', () => {
  for (const [code, f] of SAMPLES) {
    const e = dhlError(f);
    assert.equal(e.code, code, f.message);
    const row = classifyDhlFailure(f);
    const cls = row.errorClass === 'transient' ? TransientError : row.errorClass === 'business' ? BusinessError : PermanentError;
    assert.ok(e instanceof cls, code);
    if (row.errorClass === 'transient') assert.ok((e.retryAfterMs ?? 0) > 0, `${code} carries a retry delay`);
    else assert.equal(e.retryAfterMs, undefined);
  }
});

test('429 keeps the Retry-After delay; DHL problem text becomes the message', () => {
  const e = dhlError(httpFailure(429, body('rate-limited.json'), 7000));
  assert.equal(e.retryAfterMs, 7000);
  assert.match(e.message, /Too many requests within defined time period/);
  assert.equal(dhlError(httpFailure(401, body('unauthorized.json'))).message, 'DHL answered HTTP 401: Unauthorized for given resource.');
});

test('Retry-After in seconds or as an HTTP date', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('5', now), 5000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30000);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter(null, now), undefined);
});
