/**
 * The UPS error table: every failure the brief names is classified with a stable `ups.*` code
 * and the right error class, Retry-After wins over the row's default, and every row is reachable.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { BusinessError, PermanentError, TransientError } from '../../../src/domain/errors.ts';
import { UPS_ERROR_CODES, UPS_ERROR_TABLE, classifyUpsFailure, httpFailure, parseRetryAfter, transportFailure, upsError, type UpsFailure } from '../../../src/connectors/ups/errors.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/ups/${name}`, import.meta.url), 'utf8');

const CASES: [string, UpsFailure, string, typeof TransientError | typeof PermanentError | typeof BusinessError][] = [
  ['connection refused', transportFailure('track', Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' } })), 'ups.unavailable', TransientError],
  ['timeout', transportFailure('track', Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 100), 'ups.timeout', TransientError],
  ['429', httpFailure('track', 429, fixture('error-429.json'), 5000), 'ups.rate_limited', TransientError],
  ['token 401', httpFailure('token', 401, '{"response":{"errors":[{"code":"10401","message":"ClientId is Invalid"}]}}'), 'ups.invalid_client', PermanentError],
  ['token 400', httpFailure('token', 400, '{"response":{"errors":[{"code":"10400","message":"Invalid/Missing grant_type"}]}}'), 'ups.token_request_invalid', PermanentError],
  ['track 401', httpFailure('track', 401, fixture('error-401.json')), 'ups.unauthorized', PermanentError],
  ['403', httpFailure('track', 403, '{"response":{"errors":[{"code":"250001","message":"Blocked Merchant"}]}}'), 'ups.blocked_merchant', PermanentError],
  ['151018', httpFailure('track', 400, '{"response":{"errors":[{"code":"151018","message":"Invalid tracking number"}]}}'), 'ups.invalid_tracking_number', BusinessError],
  ['client refusal', { source: 'client', endpoint: 'track', message: 'bad number' }, 'ups.invalid_tracking_number', BusinessError],
  ['bad alert', { source: 'protocol', endpoint: 'alert', message: 'no number' }, 'ups.invalid_alert', PermanentError],
  ['404 UPS body', httpFailure('track', 404, fixture('error-404.json')), 'ups.tracking_not_found', BusinessError],
  ['404 HTML', httpFailure('track', 404, '<html>Not Found</html>'), 'ups.not_found', PermanentError],
  ['400 other', httpFailure('track', 400, '{"response":{"errors":[{"code":"VSS002","message":"Missing transId."}]}}'), 'ups.bad_request', PermanentError],
  ['500', httpFailure('track', 500, '{"response":{"errors":[{"code":"500","message":"Internal server error"}]}}'), 'ups.server_error', TransientError],
  ['503 HTML', httpFailure('track', 503, '<html>Service Unavailable</html>'), 'ups.server_error', TransientError],
  ['malformed', { source: 'protocol', endpoint: 'track', status: 200, message: 'not JSON' }, 'ups.malformed_response', TransientError],
  ['3xx', httpFailure('track', 302, ''), 'ups.unexpected', PermanentError],
];

describe('UPS error table', () => {
  for (const [name, failure, code, cls] of CASES) {
    it(`${name} → ${code}`, () => {
      const e = upsError(failure);
      assert.equal(e.code, code);
      assert.ok(e instanceof cls, `${e.constructor.name} is not ${cls.name}`);
      if (e instanceof TransientError) assert.ok(e.retryAfterMs! > 0);
      else assert.equal(e.retryAfterMs, undefined);
    });
  }

  it('keeps Retry-After over the row default and UPS code in extra', () => {
    const e = upsError(httpFailure('track', 429, fixture('error-429.json'), 7000));
    assert.equal(e.retryAfterMs, 7000);
    assert.deepEqual(e.extra, { endpoint: 'track', httpStatus: 429, upsCode: '10429' });
    assert.match(e.message, /Too Many Requests/);
  });

  it('reaches every row and uses stable ups.* codes', () => {
    const reached = new Set(CASES.map(([, f]) => classifyUpsFailure(f).code));
    for (const code of UPS_ERROR_CODES) {
      assert.match(code, /^ups\.[a-z_]+$/);
      assert.ok(reached.has(code), `no case reaches ${code}`);
    }
    assert.ok(UPS_ERROR_TABLE.every((r) => r.description.length > 10));
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('3', 0), 3000);
    assert.equal(parseRetryAfter('Wed, 01 Jul 2026 12:00:10 GMT', Date.parse('2026-07-01T12:00:00Z')), 10_000);
    assert.equal(parseRetryAfter('soon', 0), undefined);
    assert.equal(parseRetryAfter(null, 0), undefined);
  });
});

describe('docs/connectors/ups.md', () => {
  it('lists every error code and every status code of the tables', async () => {
    const { UPS_STATUS_TABLE, UPS_STATUS_TYPE_TABLE } = await import('../../../src/connectors/ups/mappers.ts');
    const doc = readFileSync(new URL('../../../docs/connectors/ups.md', import.meta.url), 'utf8');
    for (const code of UPS_ERROR_CODES) assert.ok(doc.includes(`\`${code}\``), code);
    for (const code of [...Object.keys(UPS_STATUS_TABLE), ...Object.keys(UPS_STATUS_TYPE_TABLE)]) assert.ok(doc.includes(`| \`${code}\` |`), code);
  });
});
