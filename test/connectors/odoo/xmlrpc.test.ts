import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeMethodCall,
  decodeMethodResponse,
  encodeFault,
  encodeMethodCall,
  encodeMethodResponse,
  XmlRpcDouble,
  XmlRpcEncodeError,
  XmlRpcParseError,
  type XmlRpcValue,
} from '../../../src/connectors/odoo/xmlrpc.ts';
import { allTranscripts, exchange } from '../../helpers/odoo-transcripts.ts';

const xmlExchanges = allTranscripts().filter(({ x }) => x.request.path.startsWith('/xmlrpc'));

test('every recorded XML-RPC response decodes', () => {
  let n = 0;
  for (const { file, index, x } of xmlExchanges) {
    const r = decodeMethodResponse(x.response.body);
    assert.ok(r.kind === 'result' || r.kind === 'fault', `${file}#${index}`);
    n++;
  }
  assert.ok(n >= 100, `decoded ${n} responses`);
});

test('every XML-RPC request Python built re-encodes byte for byte', () => {
  let n = 0;
  for (const { file, index, x } of xmlExchanges) {
    if (!x.request.body.startsWith("<?xml version='1.0'?>")) continue; // hand-written bodies of 12
    const call = decodeMethodCall(x.request.body, { wrapDoubles: true });
    assert.equal(encodeMethodCall(call.methodName, call.params, { allowNone: true }), x.request.body, `${file}#${index} ${x.title}`);
    n++;
  }
  assert.ok(n >= 90, `compared ${n} requests`);
});

test('hand-written requests: untyped strings, <i4>, <nil/>, <dateTime.iso8601>', () => {
  const compact = decodeMethodCall(exchange('12-wire-format-edge-cases.json', 'compact body').request.body);
  assert.deepEqual(compact, { methodName: 'execute_kw', params: ['logi', 2, 'admin', 'res.partner', 'search_count', [[]]] });
  const nil = decodeMethodCall(exchange('12-wire-format-edge-cases.json', '<nil/>').request.body);
  assert.ok(JSON.stringify(nil.params).includes('null'));
  const dt = decodeMethodCall(exchange('12-wire-format-edge-cases.json', 'dateTime.iso8601').request.body);
  assert.deepEqual((dt.params[5] as XmlRpcValue[][][])[0]![0], ['write_date', '>', new Date(Date.UTC(2020, 0, 1))]);
});

test('recorded values: version struct, doubles, booleans, faults with integer and string codes', () => {
  const v = decodeMethodResponse(exchange('01-version-authenticate.json', 'XML-RPC common.version()').response.body);
  assert.deepEqual(v, {
    kind: 'result',
    value: { server_version: '18.0-20250702', server_version_info: [18, 0, 0, 'final', 0, ''], server_serie: '18.0', protocol_version: 1 },
  });
  const wrong = decodeMethodResponse(exchange('01-version-authenticate.json', 'XML-RPC common.authenticate wrong password').response.body);
  assert.deepEqual(wrong, { kind: 'result', value: false });
  const quant = decodeMethodResponse(exchange('11-stock-quant-inventory.json', 'XML-RPC: stock.quant search_read').response.body);
  assert.equal(quant.kind, 'result');
  assert.equal(((quant as { value: Record<string, unknown>[] }).value[0]!).quantity, 30);
  const f = decodeMethodResponse(exchange('09-errors.json', 'XML-RPC: private method').response.body);
  assert.equal(f.kind, 'fault');
  assert.equal(f.kind === 'fault' && f.faultCode, 4);
  const legacy = decodeMethodResponse(exchange('12-wire-format-edge-cases.json', 'legacy /xmlrpc/object with an unknown model').response.body);
  assert.deepEqual(legacy.kind === 'fault' && [legacy.faultCode, legacy.faultString], ["warning -- UserError\n\nObject no.such.model doesn't exist", '']);
});

test('encoding follows xmlrpc.client: ints, doubles, escaping, None', () => {
  assert.equal(
    encodeMethodCall('m', [1, 2.5, new XmlRpcDouble(3), true, 'a<b&c>d', [], {}]),
    "<?xml version='1.0'?>\n<methodCall>\n<methodName>m</methodName>\n<params>\n" +
      '<param>\n<value><int>1</int></value>\n</param>\n' +
      '<param>\n<value><double>2.5</double></value>\n</param>\n' +
      '<param>\n<value><double>3.0</double></value>\n</param>\n' +
      '<param>\n<value><boolean>1</boolean></value>\n</param>\n' +
      '<param>\n<value><string>a&lt;b&amp;c&gt;d</string></value>\n</param>\n' +
      '<param>\n<value><array><data>\n</data></array></value>\n</param>\n' +
      '<param>\n<value><struct>\n</struct></value>\n</param>\n' +
      '</params>\n</methodCall>\n',
  );
  assert.throws(() => encodeMethodCall('m', [null]), XmlRpcEncodeError);
  assert.throws(() => encodeMethodCall('m', [{ a: [undefined] }]), /cannot marshal None/);
  assert.match(encodeMethodCall('m', [null], { allowNone: true }), /<value><nil\/><\/value><\/param>/);
  assert.throws(() => encodeMethodCall('m', [2 ** 31]), /int exceeds XML-RPC limits/);
  assert.throws(() => encodeMethodCall('m', ['\u0001']), XmlRpcEncodeError);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => encodeMethodCall('m', [cyclic]), /recursive/);
});

test('decoder accepts untyped values, <nil/>, ex: prefixes, CDATA, entities; rejects bad scalars', () => {
  const r = (v: string) => decodeMethodResponse(`<?xml version="1.0"?><methodResponse><params><param><value>${v}</value></param></params></methodResponse>`);
  assert.deepEqual(r('plain &amp; &#65;&#x42;'), { kind: 'result', value: 'plain & AB' });
  assert.deepEqual(r(''), { kind: 'result', value: '' });
  assert.deepEqual(r('<nil/>'), { kind: 'result', value: null });
  assert.deepEqual(r('<ex:nil/>'), { kind: 'result', value: null });
  assert.deepEqual(r('<i8>9007199254740993</i8>'), { kind: 'result', value: 9007199254740993n });
  assert.deepEqual(r('<double>-1.5e3</double>'), { kind: 'result', value: -1500 });
  assert.deepEqual(r('<string><![CDATA[<x>]]></string>'), { kind: 'result', value: '<x>' });
  assert.deepEqual(r('<dateTime.iso8601>2026-11-24T05:12:55</dateTime.iso8601>'), { kind: 'result', value: new Date('2026-11-24T05:12:55Z') });
  assert.deepEqual(r('<base64>aGk=</base64>'), { kind: 'result', value: new Uint8Array([104, 105]) });
  assert.deepEqual(r('<struct><member><name>__proto__</name><value>x</value></member></struct>').kind, 'result');
  for (const bad of ['<boolean>2</boolean>', '<int>1.5</int>', '<double>abc</double>', '<unknown>1</unknown>', 'x<int>1</int>', '<dateTime.iso8601>20261324T00:00:00</dateTime.iso8601>']) {
    assert.throws(() => r(bad), XmlRpcParseError, bad);
  }
});

test('decoder guards: malformed, DOCTYPE, trailing content, length and depth limits', () => {
  const malformed = exchange('12-wire-format-edge-cases.json', 'malformed XML body').request.body;
  assert.throws(() => decodeMethodCall(malformed), XmlRpcParseError);
  assert.throws(() => decodeMethodResponse('<!DOCTYPE x [<!ENTITY a "aaaa">]><methodResponse/>'), /DOCTYPE/);
  assert.throws(() => decodeMethodResponse('<methodResponse><params><param><value>1</value></param></params></methodResponse><x/>'), /after the document/);
  assert.throws(() => decodeMethodResponse('<html><body>Bad Gateway</body></html>'), /expected <methodResponse>/);
  assert.throws(() => decodeMethodResponse('x'.repeat(101), { maxLength: 100 }), /longer than/);
  const deep = 100000;
  const bomb = '<methodResponse><params><param>' + '<value><array><data>'.repeat(deep) + '</data></array></value>'.repeat(deep) + '</param></params></methodResponse>';
  const t0 = performance.now();
  assert.throws(() => decodeMethodResponse(bomb), /nesting deeper than 256/);
  assert.ok(performance.now() - t0 < 1000);
  // Large but flat input decodes in linear time.
  const many = encodeMethodResponse(Array.from({ length: 200000 }, (_, i) => i));
  const t1 = performance.now();
  const big = decodeMethodResponse(many);
  assert.equal(big.kind === 'result' && (big.value as number[]).length, 200000);
  assert.ok(performance.now() - t1 < 3000);
});

const xmlString = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(s) && !s.includes('\r'));
const leaf: fc.Arbitrary<XmlRpcValue> = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.double({ noNaN: true }).map((d) => new XmlRpcDouble(d)),
  fc.boolean(),
  xmlString,
  fc.constant(null),
  fc.integer({ min: -2208988800, max: 4102444800 }).map((s) => new Date(s * 1000)),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(xmlString, tie('v'), { maxKeys: 4, noNullPrototype: true })),
})).v as fc.Arbitrary<XmlRpcValue>;

test('encode then decode round trips (property)', () => {
  fc.assert(
    fc.property(fc.array(value, { maxLength: 4 }), (params) => {
      const back = decodeMethodCall(encodeMethodCall('execute_kw', params, { allowNone: true }), { wrapDoubles: true });
      assert.deepEqual(back, { methodName: 'execute_kw', params });
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(value, (v) => {
      assert.deepEqual(decodeMethodResponse(encodeMethodResponse(v, { allowNone: true }), { wrapDoubles: true }), { kind: 'result', value: v });
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.oneof(fc.integer(), xmlString), xmlString, (code, msg) => {
      const f = decodeMethodResponse(encodeFault(code, msg));
      assert.equal(f.kind === 'fault' && f.faultCode, code);
      assert.equal(f.kind === 'fault' && f.faultString, msg);
    }),
  );
});
