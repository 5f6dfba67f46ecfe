/**
 * Wire codec of the Odoo simulator against the recorded Odoo 18 transcripts: every XML-RPC
 * request decodes, every XML-RPC and JSON-RPC response re-encodes to identical bytes, plus
 * property-based round trips and a fuzz test of the XML decoder.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { TRANSCRIPTS_DIR } from "../../helpers/odoo-transcripts.ts";
import {
  CannotMarshal,
  PyFloat,
  PyJsonError,
  XmlRpcBinary,
  XmlRpcDateTime,
  XmlSyntaxError,
  decodeMethodCall,
  decodeMethodResponse,
  encodeDecodeFault,
  encodeFault,
  encodeJsonRpcError,
  encodeJsonRpcResult,
  encodeMethodResponse,
  encodeNoneFault,
  encodeSessionExpired,
  odooServerError,
  parsePyJson,
  pyFloatRepr,
  pyJsonDumps,
  pythonTraceback,
  sessionExpiredError,
} from "../../../simulators/odoo/wire.ts";

interface Exchange {
  title: string;
  request: { method: string; path: string; headers: Record<string, string>; body: string };
  response: { status: number; headers: Record<string, unknown>; body: string };
  note: string;
}

const DIR = TRANSCRIPTS_DIR;
const transcripts: { file: string; exchanges: Exchange[] }[] = readdirSync(DIR)
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map((file) => ({ file, exchanges: JSON.parse(readFileSync(join(DIR, file), "utf8")) as Exchange[] }));

const all = transcripts.flatMap(({ file, exchanges }) => exchanges.map((e, i) => ({ file, i, e })));
const isXml = (ct: unknown) => typeof ct === "string" && ct.startsWith("text/xml");
const isJson = (ct: unknown) => typeof ct === "string" && ct.startsWith("application/json");

test("transcripts are present", () => {
  assert.ok(transcripts.length >= 12);
  assert.ok(all.length > 100);
});

test("every XML-RPC request body in the transcripts decodes (the malformed one throws XmlSyntaxError)", () => {
  let decoded = 0;
  let malformed = 0;
  for (const { file, i, e } of all) {
    if (!e.request.path.startsWith("/xmlrpc")) continue;
    const where = `${file}#${i} ${e.title}`;
    if (e.response.body.includes("ExpatError")) {
      assert.throws(() => decodeMethodCall(e.request.body), (err: unknown) => {
        assert.ok(err instanceof XmlSyntaxError, where);
        assert.equal(err.exceptionClass, "xml.parsers.expat.ExpatError");
        assert.equal(err.message, "no element found: line 1, column 62");
        return true;
      });
      malformed++;
      continue;
    }
    const call = decodeMethodCall(e.request.body);
    assert.ok(call.methodName.length > 0, where);
    assert.ok(Array.isArray(call.params), where);
    decoded++;
  }
  assert.equal(malformed, 1);
  assert.ok(decoded > 50, `decoded ${decoded}`);
});

test("decoded requests carry the recorded values", () => {
  const find = (title: string) => all.find(({ e }) => e.title.includes(title))?.e;
  const compact = find("hand-written compact body");
  assert.ok(compact);
  assert.deepEqual(decodeMethodCall(compact.request.body), {
    methodName: "execute_kw",
    params: ["logi", 2, "admin", "res.partner", "search_count", [[]]],
  });
  const nil = find("containing <nil/>");
  assert.ok(nil);
  assert.deepEqual(decodeMethodCall(nil.request.body).params[6], { fields: ["name"], limit: 1, offset: null });
  const dt = find("dateTime.iso8601");
  assert.ok(dt);
  const domain = decodeMethodCall(dt.request.body).params[5] as unknown[][][];
  const leaf = domain[0]?.[0] as unknown[];
  assert.equal(leaf[1], ">");
  assert.ok(leaf[2] instanceof XmlRpcDateTime);
  assert.equal(leaf[2].text, "20200101T00:00:00");
  assert.equal(leaf[2].odooString, "2020-01-01 00:00:00");
  // A double in a request is a plain number.
  const inv = all.find(({ e }) => e.request.body.includes("<double>33.0</double>"));
  assert.ok(inv);
  assert.ok(JSON.stringify(decodeMethodCall(inv.e.request.body).params).includes("33"));
  // version() with no params.
  assert.deepEqual(decodeMethodCall(all[0]!.e.request.body), { methodName: "version", params: [] });
});

test("every XML-RPC response body re-encodes byte for byte", () => {
  let n = 0;
  for (const { file, i, e } of all) {
    if (!isXml(e.response.headers["Content-Type"])) continue;
    const where = `${file}#${i} ${e.title}`;
    const r = decodeMethodResponse(e.response.body);
    const again = r.kind === "fault" ? encodeFault(r.faultCode, r.faultString) : encodeMethodResponse(r.value);
    assert.equal(again, e.response.body, where);
    n++;
  }
  assert.ok(n > 50, `checked ${n}`);
});

test("every JSON-RPC response body re-encodes byte for byte", () => {
  let n = 0;
  for (const { file, i, e } of all) {
    if (!isJson(e.response.headers["Content-Type"])) continue;
    const where = `${file}#${i} ${e.title}`;
    assert.equal(pyJsonDumps(parsePyJson(e.response.body)), e.response.body, where);
    n++;
  }
  assert.ok(n > 50, `checked ${n}`);
});

test("JSON-RPC envelopes re-built with the envelope encoders match the transcripts", () => {
  let n = 0;
  for (const { file, i, e } of all) {
    if (!isJson(e.response.headers["Content-Type"])) continue;
    const where = `${file}#${i} ${e.title}`;
    const body = parsePyJson(e.response.body) as Record<string, unknown>;
    const id = body.id as number | null;
    const again = "error" in body
      ? encodeJsonRpcError(id, body.error as Parameters<typeof encodeJsonRpcError>[1])
      : encodeJsonRpcResult(id, "result" in body ? body.result : undefined);
    assert.equal(again, e.response.body, where);
    n++;
  }
  assert.ok(n > 50);
});

test("error builders produce the recorded shapes", () => {
  const expired = all.find(({ e }) => e.title.includes("invalid session cookie"));
  assert.ok(expired);
  assert.equal(encodeSessionExpired(), expired.e.response.body);
  assert.deepEqual(
    Object.keys(sessionExpiredError().data),
    ["name", "debug", "message", "arguments", "context"],
  );
  // JSON-RPC UserError: everything but the traceback content.
  const recorded = parsePyJson(all.find(({ e }) => e.title === "JSON-RPC: unknown model")!.e.response.body) as {
    error: { data: { debug: string } };
  };
  const built = odooServerError("odoo.exceptions.UserError", "Object no.such.model doesn't exist");
  built.data.debug = recorded.error.data.debug;
  assert.equal(encodeJsonRpcError(1, built), pyJsonDumps(recorded));
  assert.equal(odooServerError("ValueError", "x").data.name, "builtins.ValueError");
  // The None fault of transcripts 07/11 and the ExpatError fault of 12.
  const noneFault = all.find(({ file, e }) => file.startsWith("11") && e.response.body.includes("cannot marshal None"));
  assert.ok(noneFault);
  assert.equal(encodeNoneFault(), noneFault.e.response.body);
  const expat = all.find(({ e }) => e.response.body.includes("ExpatError"));
  assert.ok(expat);
  try {
    decodeMethodCall(expat.e.request.body);
    assert.fail("should throw");
  } catch (err) {
    assert.ok(err instanceof XmlSyntaxError);
    assert.equal(encodeDecodeFault(err), expat.e.response.body);
  }
});

test("pythonTraceback reads like Odoo's", () => {
  const tb = pythonTraceback("odoo.exceptions.UserError", "Only draft orders can be marked as sent directly.", "jsonrpc");
  assert.match(tb, /^Traceback \(most recent call last\):\n {2}File "\/usr\/lib\/python3\/dist-packages\/odoo\/http\.py", line \d+, in _transactioning\n {4}\S/);
  assert.ok(tb.endsWith("\nodoo.exceptions.UserError: Only draft orders can be marked as sent directly.\n"));
  assert.ok(pythonTraceback("builtins.ValueError", "bad").endsWith("\nValueError: bad\n"));
  const custom = pythonTraceback("KeyError", "'x'", [{ file: "odoo/models.py", line: 1, func: "f", code: "return a[b]" }]);
  assert.equal(
    custom,
    'Traceback (most recent call last):\n  File "/usr/lib/python3/dist-packages/odoo/models.py", line 1, in f\n    return a[b]\n           ^^^^\nKeyError: \'x\'\n',
  );
});

test("XML-RPC encoder details", () => {
  assert.equal(
    encodeMethodResponse(false),
    '<?xml version="1.0"?>\n<methodResponse>\n<params>\n<param>\n<value><boolean>0</boolean></value>\n</param>\n</params>\n\n</methodResponse>\n',
  );
  assert.ok(encodeMethodResponse({}).includes("<value><struct>\n</struct></value>\n"));
  assert.ok(encodeMethodResponse([]).includes("<value><array><data>\n</data></array></value>\n"));
  assert.ok(encodeMethodResponse(`a&b<c>d"e'f`).includes(`<string>a&amp;b&lt;c&gt;d"e'f</string>`));
  assert.ok(encodeMethodResponse("a\x00b\x1fc\td\ne").includes("<string>abc\td\ne</string>"));
  assert.ok(encodeMethodResponse(new PyFloat(65)).includes("<double>65.0</double>"));
  assert.ok(encodeMethodResponse(0.1).includes("<double>0.1</double>"));
  assert.ok(encodeMethodResponse(2 ** 31 - 1).includes("<int>2147483647</int>"));
  assert.ok(encodeMethodResponse(-(2 ** 31)).includes("<int>-2147483648</int>"));
  for (const big of [2 ** 31, -(2 ** 31) - 1, 10n ** 20n]) {
    assert.throws(() => encodeMethodResponse(big), (e: unknown) =>
      e instanceof CannotMarshal && e.message === "int exceeds XML-RPC limits" && e.exceptionClass === "OverflowError");
  }
  for (const none of [null, undefined, { a: [1, null] }]) {
    assert.throws(() => encodeMethodResponse(none), (e: unknown) =>
      e instanceof CannotMarshal && e.message === "cannot marshal None unless allow_none is enabled" && e.exceptionClass === "TypeError");
  }
  const loop: unknown[] = [];
  loop.push(loop);
  assert.throws(() => encodeMethodResponse(loop), CannotMarshal);
  assert.equal(encodeFault("AccessDenied", "Access Denied").includes("<value><string>AccessDenied</string></value>"), true);
  const ordered = encodeMethodResponse(new Map([["b", 1], ["1", 2]]));
  assert.ok(ordered.indexOf("<name>b</name>") < ordered.indexOf("<name>1</name>"));
  const bin = decodeMethodCall("<methodCall><methodName>m</methodName><params><param><value><base64>aGVsbG8=</base64></value></param></params></methodCall>");
  assert.ok(bin.params[0] instanceof XmlRpcBinary);
  assert.equal(Buffer.from(bin.params[0].data).toString(), "hello");
  assert.ok(encodeMethodResponse(bin.params[0]).includes("<value><base64>\naGVsbG8=\n</base64></value>\n"));
});

test("Python float repr", () => {
  const cases: [number, string][] = [
    [65, "65.0"], [0, "0.0"], [-0, "-0.0"], [0.1, "0.1"], [1 / 3, "0.3333333333333333"],
    [1e16, "1e+16"], [1e15, "1000000000000000.0"], [123456789012345680, "1.2345678901234568e+17"],
    [0.0001, "0.0001"], [0.00001, "1e-05"], [1.5e-7, "1.5e-07"], [1e300, "1e+300"], [5e-324, "5e-324"],
    [-2.5, "-2.5"], [NaN, "nan"], [Infinity, "inf"], [-Infinity, "-inf"], [1e22, "1e+22"], [12345.678, "12345.678"],
  ];
  for (const [x, s] of cases) assert.equal(pyFloatRepr(x), s, String(x));
  assert.equal(pyJsonDumps([new PyFloat(1), NaN, Infinity, 2]), "[1.0, NaN, Infinity, 2]");
});

test("pyJsonDumps details", () => {
  assert.equal(pyJsonDumps({ a: "é\u2028\"\\\n\x01", b: [true, false, null] }), '{"a": "é\u2028\\"\\\\\\n\\u0001", "b": [true, false, null]}');
  assert.equal(pyJsonDumps("é😀", { ensureAscii: true }), '"\\u00e9\\ud83d\\ude00"');
  assert.equal(pyJsonDumps("\ud800x"), '"\\ud800x"');
  assert.equal(pyJsonDumps({}), "{}");
  assert.equal(pyJsonDumps([]), "[]");
  assert.equal(pyJsonDumps(2 ** 60), "1152921504606846976");
  assert.equal(encodeJsonRpcResult(5, undefined), '{"jsonrpc": "2.0", "id": 5}');
  assert.equal(encodeJsonRpcResult(undefined, 1), '{"jsonrpc": "2.0", "id": null, "result": 1}');
  assert.equal(encodeJsonRpcResult(3, null), '{"jsonrpc": "2.0", "id": 3, "result": null}');
});

test("parsePyJson keeps Python semantics", () => {
  const v = parsePyJson('{"a": 1.0, "b": 1, "c": 1e5, "d": [NaN, -Infinity], "e": 12345678901234567890}') as Record<string, unknown>;
  assert.ok(v.a instanceof PyFloat && v.a.value === 1);
  assert.equal(v.b, 1);
  assert.ok(v.c instanceof PyFloat);
  assert.equal(v.e, 12345678901234567890n);
  const m = parsePyJson('{"b": 1, "2": 2, "1": 3}');
  assert.ok(m instanceof Map);
  assert.equal(pyJsonDumps(m), '{"b": 1, "2": 2, "1": 3}');
  assert.throws(() => parsePyJson('{"jsonrpc": "2.0", "method": "call", "params": {'), (e: unknown) =>
    e instanceof PyJsonError && /^Expecting property name enclosed in double quotes: line 1 column \d+ \(char \d+\)$/.test(e.message));
  assert.throws(() => parsePyJson(""), /Expecting value: line 1 column 1 \(char 0\)/);
  assert.throws(() => parsePyJson("[1,]"), PyJsonError);
  assert.throws(() => parsePyJson("[1] x"), /Extra data/);
  assert.throws(() => parsePyJson("[".repeat(5000)), PyJsonError);
});

test("expat-style errors", () => {
  const err = (xml: string) => {
    try {
      decodeMethodCall(xml);
    } catch (e) {
      assert.ok(e instanceof XmlSyntaxError, String(e));
      return `${e.exceptionClass}: ${e.message}`;
    }
    return "no error";
  };
  const E = "xml.parsers.expat.ExpatError: ";
  assert.equal(err(""), `${E}no element found: line 1, column 0`);
  assert.equal(err("<methodCall><methodName>x</methodName><params></param></methodCall>"), `${E}mismatched tag: line 1, column 48`);
  assert.equal(err("<a>\n<b>&foo;</b></a>"), `${E}undefined entity: line 2, column 3`);
  assert.equal(err("<a></a><b/>"), `${E}junk after document element: line 1, column 7`);
  assert.equal(err("hello"), `${E}syntax error: line 1, column 0`);
  assert.equal(err("<a>&#0;</a>"), `${E}reference to invalid character number: line 1, column 3`);
  assert.equal(err("<a x='1' x='2'></a>"), `${E}duplicate attribute: line 1, column 9`);
  assert.equal(err("<a"), `${E}unclosed token: line 1, column 0`);
  assert.equal(err("<a>\x01</a>"), `${E}not well-formed (invalid token): line 1, column 3`);
  assert.equal(err("<a>x & y</a>"), `${E}not well-formed (invalid token): line 1, column 6`);
  assert.equal(err(`<?xml version="1.0"?>\n<?xml version="1.0"?><a/>`), `${E}XML or text declaration not at start of entity: line 2, column 0`);
  // Python-level errors from the unmarshaller.
  const call = (v: string) => `<methodCall><methodName>m</methodName><params><param><value>${v}</value></param></params></methodCall>`;
  assert.equal(err(call("<int>x</int>")), "ValueError: invalid literal for int() with base 10: 'x'");
  assert.equal(err(call("<double>x</double>")), "ValueError: could not convert string to float: 'x'");
  assert.equal(err(call("<boolean>2</boolean>")), "TypeError: bad boolean value");
  assert.equal(err(call("<foo>1</foo>")), `xmlrpc.client.ResponseError: ResponseError("unknown tag 'foo'")`);
  assert.equal(err(call("<dateTime.iso8601>2020-01-01</dateTime.iso8601>")), "ValueError: time data '2020-01-01' does not match format '%Y%m%dT%H:%M:%S'");
  assert.equal(err("<methodCall><methodName>m</methodName><params><param><value><array><data></data></value></param></params></methodCall>"), `${E}mismatched tag: line 1, column 82`);
  assert.equal(err("<x/>"), "xmlrpc.client.ResponseError: ResponseError()");
  // Accepted variants.
  const ok = decodeMethodCall(
    `\ufeff<?xml version="1.0" encoding="UTF-8"?>\n<!-- c --><methodCall><methodName>m</methodName><params>` +
      `<param><value><i8> 42 </i8></value></param><param><value><string><![CDATA[<x>&]]> &amp;&lt;&#233;&#x41;</string></value></param>` +
      `<param><value><float>1e3</float></value></param><param><value></value></param><param><value><ex:nil xmlns:ex="x"/></value></param>` +
      `<param><value><struct><member><name>__proto__</name><value>p</value></member></struct></value></param></params></methodCall>`,
  );
  assert.equal(ok.methodName, "m");
  assert.deepEqual(ok.params.slice(0, 5), [42, "<x>& &<éA", 1000, "", null]);
  assert.equal(Object.keys(ok.params[5] as object)[0], "__proto__");
  assert.equal(Object.getPrototypeOf(ok.params[5]), Object.prototype);
});

// ---------------------------------------------------------------------------------------------
// Property-based round trips

const xmlChar = fc.string({ unit: "grapheme" }).map((s) => s.replace(/[\x00-\x08\x0B\x0C\x0E-\x1F\r\uFFFE\uFFFF]/g, ""));
const intArb = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const floatArb = fc.double({ noNaN: false }).map((x) => new PyFloat(x));
const key = fc.string().map((s) => s.replace(/[\x00-\x08\x0B\x0C\x0E-\x1F\r\uFFFE\uFFFF]/g, ""));

const { xmlValue } = fc.letrec((tie) => ({
  xmlValue: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.boolean(),
    intArb,
    floatArb,
    xmlChar,
    fc.array(tie("xmlValue"), { maxLength: 5 }),
    fc.dictionary(key, tie("xmlValue"), { maxKeys: 5 }),
  ),
}));

function normalizeFloats(v: unknown): unknown {
  if (v instanceof PyFloat) return { float: Object.is(v.value, -0) ? "-0" : String(v.value) };
  if (Array.isArray(v)) return v.map(normalizeFloats);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalizeFloats(x)]));
  }
  return v;
}

test("XML-RPC round trip: decodeMethodResponse(encodeMethodResponse(v)) == v", () => {
  fc.assert(
    fc.property(xmlValue, (v) => {
      const xml = encodeMethodResponse(v);
      const back = decodeMethodResponse(xml);
      assert.equal(back.kind, "result");
      if (back.kind === "result") {
        assert.deepEqual(normalizeFloats(back.value), normalizeFloats(v));
        assert.equal(encodeMethodResponse(back.value), xml);
      }
    }),
    { numRuns: 400 },
  );
});

test("XML-RPC fault round trip", () => {
  fc.assert(
    fc.property(fc.oneof(intArb, xmlChar), xmlChar, (code, text) => {
      const xml = encodeFault(code, text);
      const back = decodeMethodResponse(xml);
      assert.deepEqual(back, { kind: "fault", faultCode: code, faultString: text });
    }),
  );
});

const { jsonValue } = fc.letrec((tie) => ({
  jsonValue: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.double().map((x) => new PyFloat(x)),
    fc.string({ unit: "binary" }),
    fc.array(tie("jsonValue"), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: "binary" }), tie("jsonValue"), { maxKeys: 5 }),
  ),
}));

test("JSON round trip: pyJsonDumps(parsePyJson(pyJsonDumps(v))) is stable and equal", () => {
  fc.assert(
    fc.property(jsonValue, fc.boolean(), (v, ensureAscii) => {
      const text = pyJsonDumps(v, { ensureAscii });
      if (ensureAscii) assert.ok(/^[\x20-\x7e]*$/.test(text));
      const back = parsePyJson(text);
      assert.equal(pyJsonDumps(back, { ensureAscii }), text);
      // Where no float is involved, it is also standard JSON.
      if (!text.includes("NaN") && !text.includes("Infinity")) {
        assert.deepEqual(JSON.parse(text.replace(/(\d)\.0\b/g, "$1")) !== undefined, true);
      }
    }),
    { numRuns: 400 },
  );
});

test("fuzz: decodeMethodCall never hangs and only throws XmlSyntaxError", () => {
  const fragments = fc.constantFrom(
    "<methodCall>", "</methodCall>", "<methodName>", "</methodName>", "execute_kw", "<params>", "</params>",
    "<param>", "</param>", "<value>", "</value>", "<int>", "</int>", "<i4>", "</i4>", "<string>", "</string>",
    "<double>", "</double>", "<boolean>", "</boolean>", "<array>", "</array>", "<data>", "</data>", "<struct>",
    "</struct>", "<member>", "</member>", "<name>", "</name>", "<nil/>", "<base64>", "</base64>",
    "<dateTime.iso8601>", "</dateTime.iso8601>", "1", "0", "x", "1.5", "&amp;", "&lt;", "&", "&#", ";", "<!--",
    "-->", "<![CDATA[", "]]>", "<?xml version='1.0'?>", "<?", "?>", "<", ">", "/", "'", '"', "=", " ", "\n",
    "\x00", "é", "\ud800", "<a b='c'>", "</a>", "<!DOCTYPE x>", "aGk=",
  );
  const body = fc.oneof(fc.array(fragments, { maxLength: 60 }).map((a) => a.join("")), fc.string({ unit: "binary", maxLength: 200 }));
  fc.assert(
    fc.property(body, (xml) => {
      try {
        const r = decodeMethodCall(xml);
        assert.equal(typeof r.methodName, "string");
      } catch (e) {
        if (!(e instanceof XmlSyntaxError)) throw e;
      }
    }),
    { numRuns: 3000 },
  );
});

test("huge and deeply nested inputs are rejected or decoded in linear time", () => {
  const deep = `<methodCall><methodName>m</methodName><params><param>${"<value><array><data>".repeat(100000)}`;
  let t = Date.now();
  assert.throws(() => decodeMethodCall(deep), (e: unknown) => e instanceof XmlSyntaxError && e.message.startsWith("out of memory"));
  assert.ok(Date.now() - t < 2000);
  const many = `<methodCall><methodName>m</methodName><params><param><value><array><data>${"<value><int>1</int></value>".repeat(200000)}</data></array></value></param></params></methodCall>`;
  t = Date.now();
  const r = decodeMethodCall(many);
  assert.equal((r.params[0] as unknown[]).length, 200000);
  assert.ok(Date.now() - t < 3000);
  const attrs = `<methodCall ${Array.from({ length: 50000 }, (_, k) => `a${k}="v"`).join(" ")}`;
  t = Date.now();
  assert.throws(() => decodeMethodCall(attrs), XmlSyntaxError);
  assert.ok(Date.now() - t < 2000);
  const text = `<methodCall>${"a".repeat(100)}${"<x>b</x>".repeat(100000)}`;
  t = Date.now();
  assert.throws(() => decodeMethodCall(text), XmlSyntaxError);
  assert.ok(Date.now() - t < 2000);
  assert.throws(() => decodeMethodCall("<a/>", { maxLength: 2 }), XmlSyntaxError);
});
