import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BusinessError, HubError, PermanentError, TransientError } from '../../../src/domain/errors.ts';
import {
  ODOO_ERROR_CODES,
  ODOO_ERROR_TABLE,
  OdooFailureCause,
  httpFailure,
  jsonrpcErrorFailure,
  odooError,
  parseRetryAfter,
  transportFailure,
  xmlrpcFaultFailure,
} from '../../../src/connectors/odoo/errors.ts';
import { decodeMethodResponse } from '../../../src/connectors/odoo/xmlrpc.ts';
import { transcript, type Exchange } from '../../helpers/odoo-transcripts.ts';

/** The HubError for a recorded error answer, built the way the client builds it. */
function classifyRecorded(x: Exchange): HubError {
  const { status, body } = x.response;
  const protocol = x.request.path.startsWith('/xmlrpc') ? 'xmlrpc' : x.request.path.startsWith('/web') ? 'web' : 'jsonrpc';
  if (status !== 200) return odooError(httpFailure(status, body, protocol));
  if (protocol === 'xmlrpc') {
    const r = decodeMethodResponse(body);
    assert.equal(r.kind, 'fault', x.title);
    if (r.kind !== 'fault') throw new Error('not a fault');
    return odooError(xmlrpcFaultFailure(r.faultCode, r.faultString));
  }
  const msg = JSON.parse(body) as { error: Record<string, unknown> };
  assert.ok(msg.error, x.title);
  return odooError(jsonrpcErrorFailure(msg.error, protocol));
}

/** [file, title fragment, code, class, Odoo's message (trimmed)] */
const RECORDED: [string, string, string, string, string][] = [
  ['09-errors.json', 'XML-RPC: unknown model', 'odoo.unknown_model', 'permanent', "Object no.such.model doesn't exist"],
  ['09-errors.json', 'XML-RPC: write on missing record', 'odoo.business_error', 'business', 'Record does not exist or has been deleted.\n(Record: sale.order(99999999,), User: 2)'],
  ['09-errors.json', 'XML-RPC: private method', 'odoo.access_error', 'permanent', "Private methods (such as 'sale.order._create_invoices') cannot be called remotely."],
  ['09-errors.json', 'XML-RPC: sale.order create without partner_id', 'odoo.business_error', 'business', 'The operation cannot be completed:'],
  ['09-errors.json', 'XML-RPC: execute_kw with a wrong password', 'odoo.access_denied', 'permanent', 'Access Denied'],
  ['09-errors.json', 'XML-RPC: business rule: action_quotation_sent', 'odoo.business_error', 'business', 'Only draft orders can be marked as sent directly.'],
  ['09-errors.json', 'XML-RPC: business rule: action_cancel', 'odoo.business_error', 'business', "You cannot cancel a stock move that has been set to 'Done'."],
  ['09-errors.json', 'XML-RPC: method that does not exist', 'odoo.unknown_method', 'permanent', "The method 'sale.order.no_such_method' does not exist"],
  ['09-errors.json', 'XML-RPC: search_read with a field name', 'odoo.invalid_field', 'permanent', "Invalid field 'no_such_field' on model 'sale.order'"],
  ['09-errors.json', 'XML-RPC: search with an invalid domain field', 'odoo.invalid_field', 'permanent', "Invalid field sale.order.no_such_field in leaf ('no_such_field', '=', 1)"],
  ['09-errors.json', 'XML-RPC: write an invalid selection value', 'odoo.invalid_value', 'permanent', "Wrong value for sale.order.state: 'bogus'"],
  ['09-errors.json', 'XML-RPC: execute_kw against an unknown database', 'odoo.unknown_database', 'permanent', 'connection to server at "127.0.0.1", port 5432 failed: FATAL:  database "no_such_db" does not exist'],
  ['09-errors.json', 'JSON-RPC: unknown model', 'odoo.unknown_model', 'permanent', "Object no.such.model doesn't exist"],
  ['09-errors.json', 'JSON-RPC: write on missing record', 'odoo.missing_record', 'business', 'Record does not exist or has been deleted.\n(Record: sale.order(99999999,), User: 2)'],
  ['09-errors.json', 'JSON-RPC: private method', 'odoo.access_error', 'permanent', "Private methods (such as 'sale.order._create_invoices') cannot be called remotely."],
  ['09-errors.json', 'JSON-RPC: sale.order create without partner_id', 'odoo.validation_error', 'business', 'The operation cannot be completed:'],
  ['09-errors.json', 'JSON-RPC: execute_kw with a wrong password', 'odoo.access_denied', 'permanent', 'Access Denied'],
  ['09-errors.json', 'JSON-RPC: business rule: action_quotation_sent', 'odoo.user_error', 'business', 'Only draft orders can be marked as sent directly.'],
  ['09-errors.json', 'JSON-RPC: business rule: action_cancel', 'odoo.user_error', 'business', "You cannot cancel a stock move that has been set to 'Done'."],
  ['09-errors.json', 'JSON-RPC: method that does not exist', 'odoo.unknown_method', 'permanent', "The method 'sale.order.no_such_method' does not exist"],
  ['09-errors.json', 'JSON-RPC: search_read with a field name', 'odoo.invalid_field', 'permanent', "Invalid field 'no_such_field' on model 'sale.order'"],
  ['09-errors.json', 'JSON-RPC: search with an invalid domain field', 'odoo.invalid_field', 'permanent', "Invalid field sale.order.no_such_field in leaf ('no_such_field', '=', 1)"],
  ['09-errors.json', 'JSON-RPC: write an invalid selection value', 'odoo.invalid_value', 'permanent', "Wrong value for sale.order.state: 'bogus'"],
  ['09-errors.json', 'JSON-RPC: execute_kw against an unknown database', 'odoo.unknown_database', 'permanent', 'connection to server at "127.0.0.1", port 5432 failed: FATAL:  database "no_such_db" does not exist'],
  ['01-version-authenticate.json', 'XML-RPC common.authenticate unknown database', 'odoo.unknown_database', 'permanent', 'connection to server at'],
  ['01-version-authenticate.json', 'JSON-RPC common.authenticate unknown database', 'odoo.unknown_database', 'permanent', 'connection to server at'],
  ['10-web-session-json.json', 'authenticate with a wrong password', 'odoo.access_denied', 'permanent', 'Access Denied'],
  ['10-web-session-json.json', 'call_kw with an invalid session cookie', 'odoo.session_expired', 'transient', 'Session expired'],
  ['10-web-session-json.json', 'call_kw with no cookie at all', 'odoo.session_expired', 'transient', 'Session expired'],
  ['10-web-session-json.json', 'get_session_info with an invalid cookie', 'odoo.session_expired', 'transient', 'Session expired'],
  ['10-web-session-json.json', "destroyed session's cookie", 'odoo.session_expired', 'transient', 'Session expired'],
  ['10-web-session-json.json', 'error shape (MissingError on write)', 'odoo.missing_record', 'business', 'Record does not exist or has been deleted.'],
  ['07-invoicing.json', 'XML-RPC: [B: customer without payment term] sale.advance.payment.inv create_invoices', 'odoo.cannot_marshal_none', 'permanent', 'cannot marshal None unless allow_none is enabled'],
  ['11-stock-quant-inventory.json', 'XML-RPC: stock.quant action_apply_inventory', 'odoo.cannot_marshal_none', 'permanent', 'cannot marshal None unless allow_none is enabled'],
  ['12-wire-format-edge-cases.json', 'legacy /xmlrpc/object (no /2/) with a wrong password', 'odoo.access_denied', 'permanent', 'Access Denied'],
  ['12-wire-format-edge-cases.json', 'legacy /xmlrpc/object with an unknown model', 'odoo.unknown_model', 'permanent', "Object no.such.model doesn't exist"],
  ['12-wire-format-edge-cases.json', 'common.no_such_method', 'odoo.unknown_method', 'permanent', 'Method not found: no_such_method'],
  ['12-wire-format-edge-cases.json', 'malformed XML body', 'odoo.server_error', 'permanent', 'no element found: line 1, column 62'],
  ['12-wire-format-edge-cases.json', 'Content-Type text/plain', 'odoo.bad_request', 'permanent', 'HTTP 400: 400 Bad Request Bad Request Request inferred type'],
  ['12-wire-format-edge-cases.json', 'malformed JSON body', 'odoo.bad_request', 'permanent', 'HTTP 400: Invalid JSON data'],
  ['12-wire-format-edge-cases.json', 'lang: fr_FR', 'odoo.user_error', 'business', 'Invalid language code: fr_FR'],
];

const CLASSES = { transient: TransientError, permanent: PermanentError, business: BusinessError } as const;

for (const [file, part, code, errorClass, message] of RECORDED) {
  test(`${file}: ${part} → ${code} (${errorClass})`, () => {
    const matches = transcript(file).filter((x) => x.title.includes(part));
    assert.equal(matches.length, 1, 'exactly one recorded exchange');
    const err = classifyRecorded(matches[0]!);
    assert.equal(err.code, code);
    assert.equal(err.errorClass, errorClass);
    assert.ok(err instanceof CLASSES[errorClass as keyof typeof CLASSES]);
    assert.ok(err.message.startsWith(message), `message ${JSON.stringify(err.message)}`);
    assert.ok(err.cause instanceof OdooFailureCause);
    assert.equal(err.retryable, errorClass === 'transient');
    if (errorClass === 'transient') assert.equal(typeof err.retryAfterMs, 'number');
    else assert.equal(err.retryAfterMs, undefined);
  });
}

test('every recorded error answer of 09 is classified by a specific row, never the catch-all', () => {
  for (const x of transcript('09-errors.json')) {
    const isError = x.response.body.includes('<fault>') || x.response.body.includes('"error"');
    if (!isError) continue;
    assert.notEqual(classifyRecorded(x).code, 'odoo.server_error', x.title);
  }
});

test('XML-RPC and JSON-RPC keep the same Odoo message for the same failure', () => {
  const xs = transcript('09-errors.json');
  for (const x of xs.filter((e) => e.title.startsWith('XML-RPC'))) {
    const twin = xs.find((e) => e.title === x.title.replace('XML-RPC', 'JSON-RPC'));
    if (!twin || !x.response.body.includes('<fault>')) continue;
    assert.equal(classifyRecorded(x).message.trim(), classifyRecorded(twin).message.trim(), x.title);
  }
});

test('transport failures: refused, reset, DNS, timeout', () => {
  const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
  const e1 = odooError(transportFailure(refused, 'jsonrpc'), refused);
  assert.deepEqual([e1.code, e1.errorClass, e1.retryAfterMs], ['odoo.unavailable', 'transient', 1000]);
  const reset = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
  assert.equal(odooError(transportFailure(reset)).code, 'odoo.unavailable');
  const dns = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('getaddrinfo ENOTFOUND odoo'), { code: 'ENOTFOUND' }) });
  assert.equal(odooError(transportFailure(dns)).code, 'odoo.unavailable');
  const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
  const e2 = odooError(transportFailure(timeout, 'xmlrpc', 500));
  assert.deepEqual([e2.code, e2.errorClass, e2.message], ['odoo.timeout', 'transient', 'Odoo did not answer within 500 ms']);
});

test('proxy answers: 502/503/504 HTML transient (Retry-After honoured), 429 rate limited', () => {
  for (const status of [500, 502, 503, 504]) {
    const e = odooError(httpFailure(status, '<html><body><h1>502 Bad Gateway</h1></body></html>', 'jsonrpc'));
    assert.deepEqual([e.code, e.errorClass], ['odoo.unavailable', 'transient']);
  }
  assert.equal(odooError(httpFailure(503, 'down', 'xmlrpc', parseRetryAfter('7'))).retryAfterMs, 7000);
  assert.equal(odooError(httpFailure(429, '', 'json2', 2000)).code, 'odoo.rate_limited');
  assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
});

test('serialization failures and database outages inside Odoo are transient', () => {
  const ser = odooError(jsonrpcErrorFailure({ code: 200, data: { name: 'psycopg2.errors.SerializationFailure', message: 'could not serialize access due to concurrent update' } }, 'jsonrpc'));
  assert.deepEqual([ser.code, ser.errorClass], ['odoo.serialization_failure', 'transient']);
  const tb = 'Traceback (most recent call last):\n  File "x.py", line 1, in f\n    g()\npsycopg2.errors.SerializationFailure: could not serialize access due to concurrent update\n';
  assert.equal(odooError(xmlrpcFaultFailure(1, tb)).code, 'odoo.serialization_failure');
  const pg = odooError(jsonrpcErrorFailure({ code: 200, data: { name: 'psycopg2.OperationalError', message: 'connection to server at "db" failed: Connection refused' } }, 'jsonrpc'));
  assert.deepEqual([pg.code, pg.errorClass], ['odoo.unavailable', 'transient']);
});

test('JSON-2 error objects classify by name, then by status', async () => {
  const { json2ErrorFailure } = await import('../../../src/connectors/odoo/errors.ts');
  const cases: [number, unknown, string][] = [
    [401, { name: 'werkzeug.exceptions.Unauthorized', message: 'Invalid apikey' }, 'odoo.access_denied'],
    [403, { name: 'odoo.exceptions.AccessError', message: 'no' }, 'odoo.access_error'],
    [422, { name: 'odoo.exceptions.UserError', message: 'Only draft orders can be marked as sent directly.' }, 'odoo.user_error'],
    [422, { name: 'odoo.exceptions.ValidationError', message: 'bad' }, 'odoo.validation_error'],
    [404, { name: 'odoo.exceptions.MissingError', message: 'Record does not exist or has been deleted.' }, 'odoo.missing_record'],
    [404, { name: 'werkzeug.exceptions.NotFound', message: 'Not Found' }, 'odoo.not_found'],
    [422, { name: 'some.Other', message: 'x' }, 'odoo.business_error'],
    [500, { name: 'builtins.KeyError', message: 'x' }, 'odoo.server_error'],
  ];
  for (const [status, body, code] of cases) assert.equal(odooError(json2ErrorFailure(status, body)).code, code, JSON.stringify(body));
});

test('the table: stable codes, one class per code, descriptions for docs, catch-all last', () => {
  const classOf = new Map<string, string>();
  for (const row of ODOO_ERROR_TABLE) {
    assert.match(row.code, /^odoo\.[a-z_]+$/);
    assert.ok(row.description.length > 10);
    const prev = classOf.get(row.code);
    assert.ok(prev === undefined || prev === row.errorClass, `${row.code} has one class`);
    classOf.set(row.code, row.errorClass);
    if (row.errorClass === 'transient') assert.equal(typeof row.retryAfterMs, 'number', row.code);
  }
  for (const code of ['odoo.unavailable', 'odoo.timeout', 'odoo.session_expired', 'odoo.serialization_failure', 'odoo.access_denied', 'odoo.access_error', 'odoo.unknown_model', 'odoo.unknown_method', 'odoo.invalid_field', 'odoo.user_error', 'odoo.validation_error', 'odoo.missing_record', 'odoo.business_error', 'odoo.cannot_marshal_none', 'odoo.no_result', 'odoo.unknown_database', 'odoo.protocol']) {
    assert.ok(ODOO_ERROR_CODES.includes(code), code);
  }
  assert.equal(ODOO_ERROR_TABLE.at(-1)!.match({ source: 'odoo', message: 'anything' }), true);
});
