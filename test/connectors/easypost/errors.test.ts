/**
 * The EasyPost error table: every row is reachable, classes and codes are stable, and the
 * documented error bodies (test/fixtures/easypost/error-*.json) classify as expected.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { httpFailure } from '../../../src/connectors/easypost/client.ts';
import { EASYPOST_ERROR_TABLE, classifyEasyPostFailure, easyPostError, parseRetryAfter, type EasyPostFailure } from '../../../src/connectors/easypost/errors.ts';
import { BusinessError, PermanentError, TransientError } from '../../../src/domain/errors.ts';

const body = (name: string) => readFileSync(new URL(`../../fixtures/easypost/${name}`, import.meta.url), 'utf8');

/** One failure that each row (and no earlier row) decides. */
const EXAMPLES: Record<string, EasyPostFailure> = {
  'easypost.timeout': { source: 'transport', errno: 'TimeoutError', message: 't' },
  'easypost.unavailable': { source: 'transport', errno: 'ECONNREFUSED', message: 'refused' },
  'easypost.rate_limited': { source: 'http', status: 429, code: 'RATE_LIMITED', message: 'slow down' },
  'easypost.carrier_no_response': { source: 'http', status: 422, code: 'SHIPMENT.POSTAGE.NO_RESPONSE', message: 'x' },
  'easypost.purchase_in_progress': { source: 'http', status: 422, code: 'SHIPMENT.PURCHASE.IN_PROGRESS', message: 'x' },
  'easypost.server_error': { source: 'http', status: 502, message: '<html>' },
  'easypost.malformed_response': { source: 'protocol', status: 200, message: 'not json' },
  'easypost.unauthorized': { source: 'http', status: 401, code: 'APIKEY.INVALID', message: 'x' },
  'easypost.payment_required': { source: 'http', status: 402, code: 'PAYMENT_REQUIRED', message: 'x' },
  'easypost.forbidden': { source: 'http', status: 403, code: 'MODE.UNAUTHORIZED', message: 'x' },
  'easypost.address_invalid': httpFailure(422, body('error-address-verify.json'), undefined),
  'easypost.postage_exists': httpFailure(422, body('error-postage-exists.json'), undefined),
  'easypost.postage_failure': { source: 'http', status: 422, code: 'SHIPMENT.POSTAGE.FAILURE', message: 'carrier said no' },
  'easypost.rate_unavailable': { source: 'http', status: 422, code: 'ORDER.RATE.UNAVAILABLE', message: 'x' },
  'easypost.label_format_unavailable': { source: 'http', status: 422, code: 'SHIPMENT.POSTAGE.FORMAT_UNAVAILABLE', message: 'x' },
  'easypost.refund_unavailable': httpFailure(422, body('error-refund-unavailable.json'), undefined),
  'easypost.scan_form_failed': { source: 'http', status: 422, code: 'SCAN_FORM.BATCH.MULTIPLE_CARRIERS', message: 'x' },
  'easypost.tracker_refused': { source: 'http', status: 422, code: 'TRACKER.NO_CARRIER_FOR_CODE', message: 'x' },
  'easypost.not_found': { source: 'http', status: 404, code: 'NOT_FOUND', message: 'x' },
  'easypost.invalid_request': { source: 'http', status: 422, code: 'PARAMETER.REQUIRED', message: 'x' },
  'easypost.unprocessable': { source: 'http', status: 422, code: 'CUSTOMS_INFO.PARAMETERS.INVALID', message: 'x' },
  'easypost.client_error': { source: 'http', status: 405, message: 'x' },
  'easypost.unexpected': { source: 'http', status: 302, message: 'x' },
};

describe('EASYPOST_ERROR_TABLE', () => {
  it('has an example for every row, and each example lands on its row', () => {
    for (const row of EASYPOST_ERROR_TABLE) {
      const f = EXAMPLES[row.code];
      assert.ok(f, `no example for ${row.code}`);
      assert.equal(classifyEasyPostFailure(f).code, row.code);
      assert.ok(row.code.startsWith('easypost.') && row.description.length > 10);
    }
  });

  it('builds the typed error class of each row, keeping the EasyPost code and field errors', () => {
    for (const [code, f] of Object.entries(EXAMPLES)) {
      const e = easyPostError(f);
      const row = EASYPOST_ERROR_TABLE.find((r) => r.code === code)!;
      const cls = { transient: TransientError, permanent: PermanentError, business: BusinessError }[row.errorClass];
      assert.ok(e instanceof cls, code);
      assert.equal(e.code, code);
      if (f.code) assert.equal(e.extra?.easypostCode, f.code);
      if (row.errorClass === 'transient') assert.ok(e.retryAfterMs !== undefined);
    }
    const addr = easyPostError(EXAMPLES['easypost.address_invalid']!);
    assert.deepEqual(addr.issues, [
      { path: 'address', message: 'Address not found' },
      { path: 'street1', message: 'House number is missing' },
    ]);
    assert.match(addr.message, /^ADDRESS\.VERIFY\.FAILURE: Address not found$/);
  });

  it('a Retry-After from EasyPost wins over the row default', () => {
    assert.equal(easyPostError({ source: 'http', status: 429, message: 'x', retryAfterMs: 9000 }).retryAfterMs, 9000);
    assert.equal(parseRetryAfter('12'), 12_000);
    assert.equal(parseRetryAfter('Tue, 24 Nov 2026 12:00:30 GMT', new Date('2026-11-24T12:00:00Z')), 30_000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(null), undefined);
  });

  it('reads error bodies that are not EasyPost JSON without throwing', () => {
    const f = httpFailure(503, '<html>503 Service Temporarily Unavailable</html>', undefined);
    assert.equal(f.code, undefined);
    assert.equal(classifyEasyPostFailure(f).code, 'easypost.server_error');
    const strings = httpFailure(422, JSON.stringify({ error: { code: 'X.Y', message: 'm', errors: ['plain string error'] } }), undefined);
    assert.deepEqual(strings.fieldErrors, [{ message: 'plain string error' }]);
  });
});
