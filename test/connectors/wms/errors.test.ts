/**
 * The WMS error table: every row is reachable by the failure it describes, codes are
 * stable `wms.*` strings, each class is what the retry policy expects, and the WMS's own
 * message and code are kept.
 */
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { BusinessError, PermanentError, TransientError } from '../../../src/domain/errors.ts';
import { WMS_ERROR_TABLE, classifyWmsFailure, errorDetails, wmsError, type WmsFailure } from '../../../src/connectors/wms/errors.ts';

/** A failure each row is meant for. */
const SAMPLES: Record<string, WmsFailure> = {
  'wms.timeout': { kind: 'timeout', message: 'no answer within 100 ms' },
  'wms.connection_failed': { kind: 'connection', errno: 'ECONNREFUSED', message: 'connect ECONNREFUSED' },
  'wms.rate_limited': { kind: 'http', status: 429, message: 'too many requests', retryAfterMs: 7000 },
  'wms.unavailable': { kind: 'http', status: 503, message: 'unavailable' },
  'wms.unauthorized': { kind: 'http', status: 401, message: 'the API key is not valid' },
  'wms.forbidden': { kind: 'http', status: 403, message: 'forbidden' },
  'wms.not_found': { kind: 'http', status: 404, message: 'no such order' },
  'wms.conflict': { kind: 'http', status: 409, wmsCode: 'order_not_cancellable', message: 'order SO-1 is packed' },
  'wms.rejected': { kind: 'http', status: 422, message: 'unknown SKU' },
  'wms.bad_request': { kind: 'http', status: 400, message: 'invalid JSON' },
  'wms.invalid_response': { kind: 'protocol', status: 200, message: 'not JSON' },
  'wms.http_error': { kind: 'http', status: 302, message: 'moved' },
};

test('every row of the table is reached by its sample, and every code has a sample', () => {
  assert.deepEqual(Object.keys(SAMPLES).sort(), WMS_ERROR_TABLE.map((r) => r.code).sort());
  for (const row of WMS_ERROR_TABLE) {
    assert.match(row.code, /^wms\.[a-z_]+$/);
    assert.ok(row.description.length > 10);
    assert.equal(classifyWmsFailure(SAMPLES[row.code]!).code, row.code);
  }
});

test('the HubError class follows the row; Retry-After wins over the default delay; the WMS code is kept', () => {
  for (const row of WMS_ERROR_TABLE) {
    const e = wmsError({ ...SAMPLES[row.code]!, request: 'release POST /api/v1/outbound-orders' });
    const cls = { transient: TransientError, permanent: PermanentError, business: BusinessError }[row.errorClass];
    assert.ok(e instanceof cls, row.code);
    assert.equal(e.code, row.code);
    assert.match(e.message, /^release POST \/api\/v1\/outbound-orders: WMS /);
    if (row.errorClass === 'transient') assert.ok((e.retryAfterMs ?? 0) > 0);
  }
  assert.equal(wmsError(SAMPLES['wms.rate_limited']!).retryAfterMs, 7000);
  const conflict = wmsError(SAMPLES['wms.conflict']!);
  assert.equal(conflict.extra?.wmsCode, 'order_not_cancellable');
  assert.match(conflict.message, /HTTP 409 order_not_cancellable: order SO-1 is packed/);
});

test("the WMS's message is read from the usual error shapes", () => {
  assert.deepEqual(errorDetails({ error: { code: 'x', message: 'nested' } }, ''), { wmsCode: 'x', message: 'nested' });
  assert.deepEqual(errorDetails({ code: 42, message: 'flat' }, ''), { wmsCode: '42', message: 'flat' });
  assert.deepEqual(errorDetails({ title: 'Conflict', detail: 'problem+json detail' }, ''), { message: 'problem+json detail' });
  assert.deepEqual(errorDetails({ errors: [{ code: 'E1', message: 'first' }] }, ''), { wmsCode: 'E1', message: 'first' });
  assert.deepEqual(errorDetails(undefined, '<html>Bad gateway</html>'), { message: '<html>Bad gateway</html>' });
  assert.deepEqual(errorDetails(undefined, ''), { message: 'no message' });
});

test('docs/connectors/wms.md lists every row of the table, in order, with its class', () => {
  const doc = readFileSync(new URL('../../../docs/connectors/wms.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `(wms\.[a-z_]+)` \| (transient|permanent|business) \|/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(
    rows,
    WMS_ERROR_TABLE.map((r) => [r.code, r.errorClass]),
  );
});
