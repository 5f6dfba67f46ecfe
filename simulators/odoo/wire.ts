/**
 * Wire formats of the Odoo 18 simulator: XML-RPC and JSON-RPC codecs, pure and without I/O.
 *
 * Everything here reproduces what a genuine Odoo 18 puts on the wire and accepts
 * (see test/fixtures/odoo-18, recorded from a genuine Odoo 18):
 *
 * - XML-RPC requests are decoded with the same lenient stack machine as Python's
 *   `xmlrpc.client.loads(data, use_datetime=True)` on top of a small, strict, linear-time XML
 *   tokenizer with expat's error messages (`mismatched tag: line 1, column 40`).
 *   Decoded values: `<int>`/`<i4>`/... → `number` (`bigint` beyond 2^53), `<boolean>` → boolean,
 *   `<string>`/untyped `<value>` → string, `<nil/>` → null, `<array>` → array, `<struct>` → plain
 *   object (insertion order), `<dateTime.iso8601>` → `XmlRpcDateTime`, `<base64>` → `XmlRpcBinary`.
 *   `<double>` → plain `number` in requests (the ORM does not need to tell 33.0 from 33) and
 *   `PyFloat` in responses (`decodeMethodResponse`), so that re-encoding is byte-exact.
 *   Every decoding failure is an `XmlSyntaxError` whose `exceptionClass` names the Python
 *   exception Odoo would have raised (`xml.parsers.expat.ExpatError` for malformed XML).
 * - XML-RPC responses are written like Odoo's `OdooMarshaller` + `dumps()`: one element per line,
 *   a blank line before `</methodResponse>`, only `&`, `<`, `>` escaped, control characters other
 *   than tab/LF/CR dropped from strings, Python `repr` for doubles.
 * - JSON bodies are Python `json.dumps(..., ensure_ascii=False)` output (Odoo's
 *   `make_json_response`): `", "`/`": "` separators, non-ASCII left as is, floats as Python reprs.
 * - Values produced by the ORM: `PyFloat` for float/monetary values, JS integers for ints,
 *   non-integer JS numbers are treated as floats, `Map` may be used where a dict's key order
 *   cannot be kept by a plain object (integer-like keys).
 */

// ---------------------------------------------------------------------------------------------
// Python value wrappers

import { PyFloat } from "./pyfloat.ts";

/**
 * A Python float (shared with the ORM, which wraps float/monetary values in it): rendered
 * `65.0` / `<double>65.0</double>` like Python's `repr`.
 */
export { PyFloat };

/**
 * A decoded `<dateTime.iso8601>` (`20200101T00:00:00`). Odoo unmarshals it into a `datetime`,
 * which works in a domain as the UTC string `2020-01-01 00:00:00` (transcript 12): use
 * `odooString` there. Odoo itself never sends one; encoding it writes that string.
 */
export class XmlRpcDateTime {
  text: string;
  constructor(text: string) {
    this.text = text;
  }
  /** `YYYY-MM-DD HH:MM:SS`, the form Odoo stores and returns datetimes in. */
  get odooString(): string {
    const t = this.text;
    return `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)} ${t.slice(9)}`;
  }
}

/** A decoded `<base64>` value (Python's `xmlrpc.client.Binary`). */
export class XmlRpcBinary {
  data: Uint8Array;
  constructor(data: Uint8Array) {
    this.data = data;
  }
  get base64(): string {
    return Buffer.from(this.data).toString("base64");
  }
}

/** Python `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(x.toExponential());
  if (m === null) throw new Error(`unexpected float form ${x}`);
  const sign = m[1] ?? "";
  const digits = (m[2] ?? "") + (m[3] ?? "");
  const exp = Number(m[4]);
  if (exp < -4 || exp >= 16) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${mant}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp >= digits.length - 1) return `${sign}${digits}${"0".repeat(exp - digits.length + 1)}.0`;
  if (exp >= 0) return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
}

/** Python `repr(str)` (used in exception messages). */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + quote;
}

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * Anything `xmlrpc.client.loads` would raise on a request body. `exceptionClass` is the Python
 * class as a traceback prints it (`xml.parsers.expat.ExpatError`, `ValueError`, `TypeError`,
 * `xmlrpc.client.ResponseError`, ...); `message` is the text after `Class: `.
 */
export class XmlSyntaxError extends Error {
  exceptionClass: string;
  constructor(message: string, exceptionClass = "xml.parsers.expat.ExpatError") {
    super(message);
    this.name = "XmlSyntaxError";
    this.exceptionClass = exceptionClass;
  }
  /** The last line of the Python traceback. */
  get pythonLine(): string {
    return this.message === "" ? this.exceptionClass : `${this.exceptionClass}: ${this.message}`;
  }
}

/** A value the XML-RPC marshaller (or json.dumps) refuses, with Python's exact message. */
export class CannotMarshal extends Error {
  exceptionClass: string;
  constructor(message: string, exceptionClass = "TypeError") {
    super(message);
    this.name = "CannotMarshal";
    this.exceptionClass = exceptionClass;
  }
}

/** Malformed JSON (Python `json.JSONDecodeError` message). */
export class PyJsonError extends SyntaxError {
  constructor(message: string) {
    super(message);
    this.name = "PyJsonError";
  }
}

// ---------------------------------------------------------------------------------------------
// XML tokenizer (expat-compatible well-formedness and messages)

export interface DecodeOptions {
  /** Largest accepted body, in UTF-16 code units (default 64 MiB). */
  maxLength?: number;
  /** Deepest accepted element nesting (default 512). */
  maxDepth?: number;
}

interface XmlHandler {
  start(tag: string): void;
  data(text: string): void;
  end(tag: string): void;
}

const NAME_RE = /[A-Za-z_:\u00C0-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD][A-Za-z0-9_:.\-\u00B7\u00C0-\u02FF\u0300-\u037D\u037F-\u1FFF\u200C\u200D\u203F\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]*/y;
const INVALID_CHAR_RE = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const XML_DECL_RE = /^<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])[A-Za-z0-9_.:-]+\1(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["'])[A-Za-z][A-Za-z0-9._-]*\2)?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(["'])(?:yes|no)\3)?[ \t\r\n]*\?>/;
const PREDEFINED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}

function lineCol(s: string, pos: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < pos; i++) {
    const c = s.charCodeAt(i);
    if (c === 10) {
      line++;
      lineStart = i + 1;
    } else if (c === 13) {
      line++;
      if (s.charCodeAt(i + 1) === 10 && i + 1 < pos) i++;
      lineStart = i + 1;
    }
  }
  let col = 0;
  for (let i = lineStart; i < pos; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < pos) i++;
    col++;
  }
  return `line ${line}, column ${col}`;
}

function tokenize(s: string, h: XmlHandler, maxDepth: number): void {
  const n = s.length;
  const invalid = INVALID_CHAR_RE.exec(s);
  const badAt = invalid === null ? -1 : invalid.index;
  const fail = (what: string, pos: number): never => {
    if (badAt >= 0 && badAt < pos) {
      what = "not well-formed (invalid token)";
      pos = badAt;
    }
    throw new XmlSyntaxError(`${what}: ${lineCol(s, pos)}`);
  };
  // Cached forward searches keep the scan linear: positions only ever move forward.
  const found: Record<string, number> = {};
  const next = (needle: string, from: number): number => {
    const at = found[needle];
    if (at !== undefined && (at >= from || at === n)) return at === n ? -1 : at;
    const k = s.indexOf(needle, from);
    found[needle] = k === -1 ? n : k;
    return k;
  };
  const emitAt = (pos: number): void => {
    if (badAt >= 0 && badAt < pos) fail("not well-formed (invalid token)", badAt);
  };
  const open: string[] = [];
  let rootDone = false;
  let rootSeen = false;
  let i = 0;
  if (s.charCodeAt(0) === 0xfeff) i = 1;
  if (s.startsWith("<?xml", i) && (isSpace(s[i + 5]) || s[i + 5] === "?")) {
    const end = s.indexOf("?>", i + 5);
    if (end === -1) fail("unclosed token", i);
    const m = XML_DECL_RE.exec(s.slice(i, end + 2));
    if (m === null) fail("XML declaration not well-formed", i + 5);
    else i += m[0].length;
  }

  /** Decode character and entity references in [from, to); `to` excludes the delimiter. */
  const decodeRefs = (from: number, to: number, attr: boolean): string => {
    let out = "";
    let last = from;
    let amp = next("&", from);
    while (amp !== -1 && amp < to) {
      out += s.slice(last, amp);
      let semi: number;
      if (s[amp + 1] === "#") {
        const m = /#(?:[0-9]+|x[0-9A-Fa-f]+)/y;
        m.lastIndex = amp + 1;
        const r = m.exec(s);
        const after = r === null ? amp + 2 + (s[amp + 2] === "x" ? 1 : 0) : amp + 1 + r[0].length;
        if (r === null || after >= to || s[after] !== ";") fail("not well-formed (invalid token)", Math.min(after, to));
        semi = after;
      } else {
        NAME_RE.lastIndex = amp + 1;
        const r = NAME_RE.exec(s);
        const after = r === null ? amp + 1 : amp + 1 + r[0].length;
        if (r === null || after >= to || s[after] !== ";") fail("not well-formed (invalid token)", Math.min(after, to));
        semi = after;
      }
      const ref = s.slice(amp + 1, semi);
      if (ref.startsWith("#")) {
        const m = /^#(?:([0-9]+)|x([0-9A-Fa-f]+))$/.exec(ref);
        const code = m![1] !== undefined ? Number(m![1]) : parseInt(m![2] ?? "", 16);
        const ok =
          code === 9 || code === 10 || code === 13 ||
          (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) ||
          (code >= 0x10000 && code <= 0x10ffff);
        if (!ok) fail("reference to invalid character number", amp);
        out += String.fromCodePoint(code);
      } else {
        const v = PREDEFINED[ref];
        if (v === undefined) fail("undefined entity", amp);
        out += v;
      }
      last = semi + 1;
      amp = next("&", last);
    }
    out += s.slice(last, to);
    if (attr) return out.replace(/\r\n?|[\n\t]/g, " ");
    return out.replace(/\r\n?/g, "\n");
  };

  while (i < n) {
    const lt = next("<", i);
    const textEnd = lt === -1 ? n : lt;
    if (textEnd > i) {
      if (open.length === 0) {
        let j = i;
        while (j < textEnd && isSpace(s[j])) j++;
        if (j < textEnd) {
          NAME_RE.lastIndex = j;
          const isName = NAME_RE.test(s);
          fail(rootDone ? "junk after document element" : isName ? "syntax error" : "not well-formed (invalid token)", j);
        }
      } else {
        const cdataEnd = next("]]>", i);
        if (cdataEnd !== -1 && cdataEnd < textEnd) fail("not well-formed (invalid token)", cdataEnd + 2);
        const text = decodeRefs(i, textEnd, false);
        emitAt(textEnd);
        h.data(text);
      }
      i = textEnd;
      if (i >= n) break;
    }
    // s[i] === "<"
    const c = s[i + 1];
    if (c === "/") {
      NAME_RE.lastIndex = i + 2;
      const m = NAME_RE.exec(s);
      if (m === null) fail(i + 2 >= n ? "unclosed token" : "not well-formed (invalid token)", i + 2 >= n ? i : i + 2);
      let j = i + 2 + m![0].length;
      while (j < n && isSpace(s[j])) j++;
      if (j >= n) fail("unclosed token", i);
      if (s[j] !== ">") fail("not well-formed (invalid token)", j);
      if (open.length === 0) fail(rootDone ? "junk after document element" : "not well-formed (invalid token)", rootDone ? i : i + 1);
      if (open[open.length - 1] !== m![0]) fail("mismatched tag", i + 2);
      open.pop();
      emitAt(j);
      h.end(m![0]);
      if (open.length === 0) rootDone = true;
      i = j + 1;
    } else if (c === "!") {
      if (s.startsWith("<!--", i)) {
        const end = s.indexOf("--", i + 4);
        if (end === -1) fail("unclosed token", i);
        if (s[end + 2] !== ">") fail(end + 2 >= n ? "unclosed token" : "not well-formed (invalid token)", end + 2 >= n ? i : end + 2);
        i = end + 3;
      } else if (s.startsWith("<![CDATA[", i)) {
        if (open.length === 0) fail(rootDone ? "junk after document element" : "syntax error", i);
        const end = s.indexOf("]]>", i + 9);
        if (end === -1) fail("unclosed CDATA section", n);
        emitAt(end);
        h.data(s.slice(i + 9, end).replace(/\r\n?/g, "\n"));
        i = end + 3;
      } else if (s.startsWith("<!DOCTYPE", i) && !rootSeen) {
        // A document type declaration is skipped; entities it declares are not supported.
        let j = i + 9;
        let inSubset = false;
        let quote = "";
        for (; j < n; j++) {
          const d = s[j];
          if (quote !== "") {
            if (d === quote) quote = "";
          } else if (d === '"' || d === "'") quote = d;
          else if (d === "[") inSubset = true;
          else if (d === "]") inSubset = false;
          else if (d === ">" && !inSubset) break;
        }
        if (j >= n) fail("unclosed token", i);
        i = j + 1;
      } else {
        fail(i + 2 >= n ? "unclosed token" : rootDone ? "junk after document element" : "not well-formed (invalid token)", i + 2 >= n || rootDone ? i : i + 2);
      }
    } else if (c === "?") {
      const end = s.indexOf("?>", i + 2);
      if (end === -1) fail("unclosed token", i);
      NAME_RE.lastIndex = i + 2;
      const m = NAME_RE.exec(s);
      if (m === null) fail("not well-formed (invalid token)", i + 2);
      const after = i + 2 + m![0].length;
      if (after !== end && !isSpace(s[after])) fail("not well-formed (invalid token)", after);
      if (m![0].toLowerCase() === "xml") fail("XML or text declaration not at start of entity", i);
      i = end + 2;
    } else {
      if (rootDone) fail("junk after document element", i);
      NAME_RE.lastIndex = i + 1;
      const m = NAME_RE.exec(s);
      if (m === null) fail(i + 1 >= n ? "unclosed token" : "not well-formed (invalid token)", i + 1 >= n ? i : i + 1);
      const tag = m![0];
      let j = i + 1 + tag.length;
      const seen = new Set<string>();
      let selfClosing = false;
      for (;;) {
        const ws = j;
        while (j < n && isSpace(s[j])) j++;
        if (j >= n) fail("unclosed token", i);
        if (s[j] === ">") {
          j++;
          break;
        }
        if (s[j] === "/") {
          if (j + 1 >= n) fail("unclosed token", i);
          if (s[j + 1] !== ">") fail("not well-formed (invalid token)", j);
          selfClosing = true;
          j += 2;
          break;
        }
        if (j === ws) fail("not well-formed (invalid token)", j);
        NAME_RE.lastIndex = j;
        const a = NAME_RE.exec(s);
        if (a === null) fail("not well-formed (invalid token)", j);
        const attrAt = j;
        j += a![0].length;
        while (j < n && isSpace(s[j])) j++;
        if (j >= n) fail("unclosed token", i);
        if (s[j] !== "=") fail("not well-formed (invalid token)", j);
        j++;
        while (j < n && isSpace(s[j])) j++;
        if (j >= n) fail("unclosed token", i);
        const q = s[j];
        if (q !== '"' && q !== "'") fail("not well-formed (invalid token)", j);
        const close = s.indexOf(q!, j + 1);
        if (close === -1) fail("unclosed token", i);
        const ltIn = next("<", j + 1);
        if (ltIn !== -1 && ltIn < close) fail("not well-formed (invalid token)", ltIn);
        decodeRefs(j + 1, close, true);
        if (seen.has(a![0])) fail("duplicate attribute", attrAt);
        seen.add(a![0]);
        j = close + 1;
      }
      if (open.length >= maxDepth) fail("out of memory", i);
      rootSeen = true;
      emitAt(j);
      h.start(tag);
      if (selfClosing) {
        h.end(tag);
        if (open.length === 0) rootDone = true;
      } else {
        open.push(tag);
      }
      i = j;
    }
  }
  if (badAt >= 0) fail("not well-formed (invalid token)", badAt);
  if (!rootDone) fail("no element found", n);
}

// ---------------------------------------------------------------------------------------------
// XML-RPC unmarshalling (Python xmlrpc.client.Unmarshaller semantics)

const PY_WS = /^[\s\u001c-\u001f\u0085]+|[\s\u001c-\u001f\u0085]+$/g;

function pyInt(data: string): number | bigint {
  const t = data.replace(PY_WS, "");
  if (!/^[+-]?[0-9](?:_?[0-9])*$/.test(t)) {
    throw new XmlSyntaxError(`invalid literal for int() with base 10: ${pyStrRepr(data)}`, "ValueError");
  }
  const clean = t.replace(/_/g, "");
  const v = Number(clean);
  return Number.isSafeInteger(v) ? (Object.is(v, -0) ? 0 : v) : BigInt(clean);
}

function pyFloatParse(data: string): number {
  const t = data.replace(PY_WS, "").toLowerCase();
  const m = /^([+-]?)(?:(inf|infinity|nan)|((?:[0-9](?:_?[0-9])*)?(?:\.(?:[0-9](?:_?[0-9])*)?)?(?:e[+-]?[0-9](?:_?[0-9])*)?))$/.exec(t);
  if (m !== null && (m[2] !== undefined || /[0-9]/.test((m[3] ?? "").split("e")[0] ?? ""))) {
    const sign = m[1] === "-" ? -1 : 1;
    if (m[2] !== undefined) return m[2] === "nan" ? NaN : sign * Infinity;
    return sign * Number((m[3] ?? "").replace(/_/g, ""));
  }
  throw new XmlSyntaxError(`could not convert string to float: ${pyStrRepr(data)}`, "ValueError");
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function pyDateTime(data: string): XmlRpcDateTime {
  const m = /^([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})$/.exec(data);
  const bad = () =>
    new XmlSyntaxError(`time data ${pyStrRepr(data)} does not match format '%Y%m%dT%H:%M:%S'`, "ValueError");
  if (m === null) throw bad();
  const [y, mo, d, hh, mi, ss] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 || ss > 61) throw bad();
  if (y < 1) throw new XmlSyntaxError(`year 0 is out of range`, "ValueError");
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const dim = mo === 2 && leap ? 29 : (DAYS[mo - 1] ?? 31);
  if (d > dim) throw new XmlSyntaxError("day is out of range for month", "ValueError");
  if (ss > 59) throw new XmlSyntaxError("second must be in 0..59", "ValueError");
  return new XmlRpcDateTime(data);
}

function pyBase64(data: string): XmlRpcBinary {
  if (/[^\x00-\x7f]/.test(data)) {
    throw new XmlSyntaxError("'ascii' codec can't encode characters", "UnicodeEncodeError");
  }
  const clean = data.replace(/[^A-Za-z0-9+/=]/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) {
    throw new XmlSyntaxError("Incorrect padding", "binascii.Error");
  }
  return new XmlRpcBinary(new Uint8Array(Buffer.from(clean, "base64")));
}

function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

function pyTypeName(v: unknown): string {
  if (Array.isArray(v)) return "list";
  if (v instanceof XmlRpcBinary) return "Binary";
  if (v instanceof XmlRpcDateTime) return "datetime";
  return "dict";
}

const DISPATCH = new Set([
  "boolean", "int", "i1", "i2", "i4", "i8", "biginteger", "double", "float", "bigdecimal",
  "string", "name", "array", "struct", "base64", "dateTime.iso8601", "value", "params", "fault",
  "methodName", "nil",
]);

interface Unmarshalled {
  type: "params" | "fault" | "methodName";
  values: unknown[];
  methodName: string | null;
}

function unmarshal(xml: string, floats: "number" | "pyfloat", options: DecodeOptions): Unmarshalled {
  const maxLength = options.maxLength ?? 64 * 1024 * 1024;
  if (xml.length > maxLength) throw new XmlSyntaxError(`out of memory: ${lineCol(xml, 0)}`);
  const stack: unknown[] = [];
  const marks: number[] = [];
  let type: Unmarshalled["type"] | null = null;
  let methodName: string | null = null;
  let isValue = false;
  let data: string[] = [];
  const append = (v: unknown): void => {
    stack.push(v);
    isValue = false;
  };
  const handler: XmlHandler = {
    start(rawTag) {
      const colon = rawTag.lastIndexOf(":");
      const tag = colon === -1 ? rawTag : rawTag.slice(colon + 1);
      if (tag === "array" || tag === "struct") marks.push(stack.length);
      data = [];
      if (isValue && !DISPATCH.has(tag)) {
        throw new XmlSyntaxError(`ResponseError(${pyStrRepr(`unknown tag ${pyStrRepr(tag)}`)})`, "xmlrpc.client.ResponseError");
      }
      isValue = tag === "value";
    },
    data(text) {
      data.push(text);
    },
    end(rawTag) {
      let tag = rawTag;
      if (!DISPATCH.has(tag)) {
        const colon = tag.lastIndexOf(":");
        if (colon === -1) return;
        tag = tag.slice(colon + 1);
        if (!DISPATCH.has(tag)) return;
      }
      const text = data.join("");
      switch (tag) {
        case "boolean":
          if (text === "0") append(false);
          else if (text === "1") append(true);
          else throw new XmlSyntaxError("bad boolean value", "TypeError");
          return;
        case "int": case "i1": case "i2": case "i4": case "i8": case "biginteger":
          append(pyInt(text));
          return;
        case "double": case "float": case "bigdecimal": {
          const v = pyFloatParse(text);
          append(floats === "pyfloat" ? new PyFloat(v) : v);
          return;
        }
        case "string": case "name":
          append(text);
          return;
        case "array": {
          const mark = marks.pop() ?? 0;
          const items = stack.splice(mark);
          stack.push(items);
          isValue = false;
          return;
        }
        case "struct": {
          const mark = marks.pop() ?? 0;
          const items = stack.splice(mark);
          const obj: Record<string, unknown> = {};
          for (let k = 0; k < items.length; k += 2) {
            if (k + 1 >= items.length) throw new XmlSyntaxError("list index out of range", "IndexError");
            const key = items[k];
            let name: string;
            if (typeof key === "string") name = key;
            else if (key !== null && typeof key === "object" && !(key instanceof PyFloat) && !(key instanceof XmlRpcDateTime)) {
              throw new XmlSyntaxError(`unhashable type: '${pyTypeName(key)}'`, "TypeError");
            } else name = key instanceof XmlRpcDateTime ? key.odooString : String(key);
            setKey(obj, name, items[k + 1]);
          }
          stack.push(obj);
          isValue = false;
          return;
        }
        case "base64":
          append(pyBase64(text));
          return;
        case "dateTime.iso8601":
          append(pyDateTime(text));
          return;
        case "value":
          if (isValue) append(text);
          return;
        case "params":
          type = "params";
          return;
        case "fault":
          type = "fault";
          return;
        case "methodName":
          methodName = text;
          type = "methodName";
          return;
        case "nil":
          append(null);
          return;
      }
    },
  };
  tokenize(xml, handler, options.maxDepth ?? 512);
  if (type === null || marks.length > 0) throw new XmlSyntaxError("ResponseError()", "xmlrpc.client.ResponseError");
  return { type, values: stack, methodName };
}

function faultOf(values: unknown[]): { faultCode: number | string; faultString: string } {
  const f = values[0];
  if (f === null || typeof f !== "object" || Array.isArray(f) || !("faultCode" in f) || !("faultString" in f)) {
    throw new XmlSyntaxError("Fault.__init__() missing required arguments: 'faultCode' and 'faultString'", "TypeError");
  }
  const rec = f as { faultCode: unknown; faultString: unknown };
  return {
    faultCode: typeof rec.faultCode === "number" ? rec.faultCode : String(rec.faultCode),
    faultString: String(rec.faultString),
  };
}

/**
 * Decode an XML-RPC request body exactly as Odoo 18 does. Doubles come back as plain numbers.
 * A body without `<methodName>` decodes with `methodName` `""`.
 * @throws XmlSyntaxError for anything `xmlrpc.client.loads` would raise.
 */
export function decodeMethodCall(xml: string, options: DecodeOptions = {}): { methodName: string; params: unknown[] } {
  const u = unmarshal(xml, "number", options);
  if (u.type === "fault") {
    const f = faultOf(u.values);
    throw new XmlSyntaxError(`<Fault ${f.faultCode}: ${pyStrRepr(f.faultString)}>`, "xmlrpc.client.Fault");
  }
  return { methodName: u.methodName ?? "", params: u.values };
}

export type DecodedResponse =
  | { kind: "result"; value: unknown; params: unknown[] }
  | { kind: "fault"; faultCode: number | string; faultString: string; value?: undefined };

/**
 * Decode an XML-RPC response body (what a client sees). Doubles come back as `PyFloat`, so
 * `encodeMethodResponse(value)` / `encodeFault(...)` reproduce Odoo's bytes.
 */
export function decodeMethodResponse(xml: string, options: DecodeOptions = {}): DecodedResponse {
  const u = unmarshal(xml, "pyfloat", options);
  if (u.type === "fault") return { kind: "fault", ...faultOf(u.values) };
  return { kind: "result", value: u.values[0], params: u.values };
}

// ---------------------------------------------------------------------------------------------
// XML-RPC marshalling (Odoo's OdooMarshaller + rpc.dumps)

const XML_MAXINT = 2 ** 31 - 1;
const XML_MININT = -(2 ** 31);
const NONE_MESSAGE = "cannot marshal None unless allow_none is enabled";

function xmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function stripControl(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x08\x0B\x0C\x0E-\x1F]/g, "");
}

function xmlInt(v: number | bigint, out: string[]): void {
  if (v > XML_MAXINT || v < XML_MININT) throw new CannotMarshal("int exceeds XML-RPC limits", "OverflowError");
  out.push(`<value><int>${typeof v === "bigint" ? v.toString() : String(v === 0 ? 0 : v)}</int></value>\n`);
}

function xmlString(s: string, out: string[]): void {
  out.push(`<value><string>${xmlEscape(stripControl(s))}</string></value>\n`);
}

function dumpXml(value: unknown, out: string[], seen: Set<object>): void {
  if (value === null || value === undefined) throw new CannotMarshal(NONE_MESSAGE);
  switch (typeof value) {
    case "boolean":
      out.push(`<value><boolean>${value ? "1" : "0"}</boolean></value>\n`);
      return;
    case "number":
      if (Number.isInteger(value)) xmlInt(value, out);
      else out.push(`<value><double>${pyFloatRepr(value)}</double></value>\n`);
      return;
    case "bigint":
      xmlInt(value, out);
      return;
    case "string":
      xmlString(value, out);
      return;
    case "object":
      break;
    default:
      throw new CannotMarshal(`cannot marshal <class '${typeof value}'> objects`);
  }
  if (value instanceof PyFloat) {
    out.push(`<value><double>${pyFloatRepr(value.value)}</double></value>\n`);
    return;
  }
  if (value instanceof XmlRpcDateTime) {
    xmlString(value.odooString, out);
    return;
  }
  if (value instanceof XmlRpcBinary) {
    out.push(`<value><base64>\n${base64Lines(value.data)}</base64></value>\n`);
    return;
  }
  if (value instanceof Uint8Array) {
    xmlString(Buffer.from(value).toString("utf8"), out);
    return;
  }
  if (value instanceof Date) {
    xmlString(odooDateTimeString(value), out);
    return;
  }
  const isArray = Array.isArray(value);
  if (seen.has(value)) {
    throw new CannotMarshal(isArray ? "cannot marshal recursive sequences" : "cannot marshal recursive dictionaries");
  }
  seen.add(value);
  if (isArray) {
    out.push("<value><array><data>\n");
    for (const v of value) dumpXml(v, out, seen);
    out.push("</data></array></value>\n");
  } else {
    out.push("<value><struct>\n");
    for (const [k, v] of entriesOf(value)) {
      if (typeof k !== "string") throw new CannotMarshal("dictionary key must be string");
      out.push(`<member>\n<name>${xmlEscape(k)}</name>\n`);
      dumpXml(v, out, seen);
      out.push("</member>\n");
    }
    out.push("</struct></value>\n");
  }
  seen.delete(value);
}

function entriesOf(value: object): Iterable<[unknown, unknown]> {
  if (value instanceof Map) return value.entries();
  return Object.entries(value);
}

function base64Lines(data: Uint8Array): string {
  const b64 = Buffer.from(data).toString("base64");
  let out = "";
  for (let i = 0; i < b64.length; i += 76) out += `${b64.slice(i, i + 76)}\n`;
  return out;
}

/** `YYYY-MM-DD HH:MM:SS` in UTC (Odoo's `Datetime.to_string`). */
export function odooDateTimeString(d: Date): string {
  return d.toISOString().slice(0, 19).replace("T", " ");
}

function wrapResponse(body: string): string {
  return `<?xml version="1.0"?>\n<methodResponse>\n${body}\n</methodResponse>\n`;
}

/**
 * The XML-RPC response body Odoo sends for a method result.
 * @throws CannotMarshal for None anywhere in the value (TypeError), ints outside 32 bits
 *   (OverflowError), recursive or unsupported values.
 */
export function encodeMethodResponse(value: unknown): string {
  const out: string[] = ["<params>\n<param>\n"];
  dumpXml(value, out, new Set());
  out.push("</param>\n</params>\n");
  return wrapResponse(out.join(""));
}

/** The XML-RPC fault body; faultCode is an int on /xmlrpc/2, a string on the legacy /xmlrpc. */
export function encodeFault(faultCode: number | string, faultString: string): string {
  const out: string[] = ["<fault>\n"];
  dumpXml({ faultCode, faultString }, out, new Set());
  out.push("</fault>\n");
  return wrapResponse(out.join(""));
}

// ---------------------------------------------------------------------------------------------
// JSON (Python json.dumps / json.loads)

export interface PyJsonOptions {
  /** Escape non-ASCII as \uXXXX. Odoo sends UTF-8 as is (`ensure_ascii=False`): default false. */
  ensureAscii?: boolean;
}

function jsonString(s: string, ensureAscii: boolean): string {
  let out = '"';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | null = null;
    if (c === 0x22) rep = '\\"';
    else if (c === 0x5c) rep = "\\\\";
    else if (c < 0x20) {
      rep = c === 10 ? "\\n" : c === 13 ? "\\r" : c === 9 ? "\\t" : c === 8 ? "\\b" : c === 12 ? "\\f"
        : `\\u${c.toString(16).padStart(4, "0")}`;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const pair = c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      if (ensureAscii) {
        rep = `\\u${c.toString(16)}`;
        if (pair) {
          rep += `\\u${s.charCodeAt(i + 1).toString(16)}`;
        }
      } else if (!pair) rep = `\\u${c.toString(16)}`;
      if (pair) {
        if (rep === null) {
          i++;
          continue;
        }
        out += s.slice(last, i) + rep;
        i++;
        last = i + 1;
        continue;
      }
    } else if (c > 0x7e && ensureAscii) rep = `\\u${c.toString(16).padStart(4, "0")}`;
    if (rep !== null) {
      out += s.slice(last, i) + rep;
      last = i + 1;
    }
  }
  return out + s.slice(last) + '"';
}

function jsonFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  return pyFloatRepr(x);
}

function jsonKey(k: unknown): string {
  if (typeof k === "string") return k;
  if (typeof k === "number") return Number.isInteger(k) ? String(k) : jsonFloat(k);
  if (typeof k === "bigint") return k.toString();
  if (typeof k === "boolean") return k ? "true" : "false";
  if (k === null || k === undefined) return "null";
  if (k instanceof PyFloat) return jsonFloat(k.value);
  throw new CannotMarshal(`keys must be str, int, float, bool or None, not ${pyTypeName(k)}`);
}

function dumpJson(value: unknown, ensureAscii: boolean, seen: Set<object>): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      return Number.isInteger(value) ? BigInt(value).toString() : jsonFloat(value);
    case "bigint":
      return value.toString();
    case "string":
      return jsonString(value, ensureAscii);
    case "object":
      break;
    default:
      throw new CannotMarshal(`Object of type ${typeof value} is not JSON serializable`);
  }
  if (value instanceof PyFloat) return jsonFloat(value.value);
  if (value instanceof XmlRpcDateTime) return jsonString(value.odooString, ensureAscii);
  if (value instanceof XmlRpcBinary) return jsonString(value.base64, ensureAscii);
  if (value instanceof Uint8Array) return jsonString(Buffer.from(value).toString("utf8"), ensureAscii);
  if (value instanceof Date) return jsonString(odooDateTimeString(value), ensureAscii);
  if (seen.has(value)) throw new CannotMarshal("Circular reference detected", "ValueError");
  seen.add(value);
  let out: string;
  if (Array.isArray(value)) {
    out = `[${value.map((v) => dumpJson(v, ensureAscii, seen)).join(", ")}]`;
  } else {
    const parts: string[] = [];
    for (const [k, v] of entriesOf(value)) {
      parts.push(`${jsonString(jsonKey(k), ensureAscii)}: ${dumpJson(v, ensureAscii, seen)}`);
    }
    out = `{${parts.join(", ")}}`;
  }
  seen.delete(value);
  return out;
}

/** Python `json.dumps(value, ensure_ascii=False)` as Odoo sends it. `undefined` is `null`. */
export function pyJsonDumps(value: unknown, options: PyJsonOptions = {}): string {
  return dumpJson(value, options.ensureAscii ?? false, new Set());
}

export interface ParsePyJsonOptions {
  /** `pyfloat` (default): `1.0`, `1e5` become PyFloat; `number`: plain numbers. */
  floats?: "pyfloat" | "number";
  /** Deepest accepted nesting (default 1000, like Python's recursion limit). */
  maxDepth?: number;
}

/**
 * Python `json.loads`: numbers with a fraction or exponent become `PyFloat` (so `pyJsonDumps`
 * reproduces `1.0`), integers `number` (`bigint` beyond 2^53), `NaN`/`Infinity` accepted.
 * Objects are plain objects, or a `Map` when their key order cannot be kept by a plain object
 * (integer-like keys not in ascending order before the others).
 * @throws PyJsonError with Python's message (`Expecting value: line 1 column 1 (char 0)`).
 */
export function parsePyJson(text: string, options: ParsePyJsonOptions = {}): unknown {
  const floats = options.floats ?? "pyfloat";
  const maxDepth = options.maxDepth ?? 1000;
  const n = text.length;
  let i = 0;
  const err = (msg: string, pos: number): never => {
    let line = 1;
    let lineStart = 0;
    for (let k = 0; k < pos; k++) {
      if (text.charCodeAt(k) === 10) {
        line++;
        lineStart = k + 1;
      }
    }
    throw new PyJsonError(`${msg}: line ${line} column ${pos - lineStart + 1} (char ${pos})`);
  };
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const NUM = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
  const parseString = (): string => {
    const start = i;
    let j = i + 1;
    for (;;) {
      if (j >= n) err("Unterminated string starting at", start);
      const c = text.charCodeAt(j);
      if (c === 0x22) break;
      if (c === 0x5c) j += 2;
      else if (c < 0x20) err("Invalid control character at", j);
      else j++;
    }
    i = j + 1;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return err("Invalid \\escape", start);
    }
  };
  const value = (depth: number): unknown => {
    if (depth > maxDepth) err("maximum recursion depth exceeded", i);
    ws();
    if (i >= n) err("Expecting value", i);
    const c = text[i];
    if (c === '"') return parseString();
    if (c === "{") {
      i++;
      const entries: [string, unknown][] = [];
      ws();
      if (text[i] === "}") {
        i++;
        return {};
      }
      for (;;) {
        ws();
        if (text[i] !== '"') err("Expecting property name enclosed in double quotes", i);
        const key = parseString();
        ws();
        if (text[i] !== ":") err("Expecting ':' delimiter", i);
        i++;
        entries.push([key, value(depth + 1)]);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          break;
        }
        err("Expecting ',' delimiter", i);
      }
      return buildObject(entries);
    }
    if (c === "[") {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return arr;
        }
        err("Expecting ',' delimiter", i);
      }
    }
    if (text.startsWith("true", i)) {
      i += 4;
      return true;
    }
    if (text.startsWith("false", i)) {
      i += 5;
      return false;
    }
    if (text.startsWith("null", i)) {
      i += 4;
      return null;
    }
    if (text.startsWith("NaN", i)) {
      i += 3;
      return floats === "pyfloat" ? new PyFloat(NaN) : NaN;
    }
    if (text.startsWith("Infinity", i)) {
      i += 8;
      return floats === "pyfloat" ? new PyFloat(Infinity) : Infinity;
    }
    if (text.startsWith("-Infinity", i)) {
      i += 9;
      return floats === "pyfloat" ? new PyFloat(-Infinity) : -Infinity;
    }
    NUM.lastIndex = i;
    const m = NUM.exec(text);
    if (m === null) return err("Expecting value", i);
    i += m[0].length;
    if (m[1] !== undefined || m[2] !== undefined) {
      const v = Number(m[0]);
      return floats === "pyfloat" ? new PyFloat(v) : v;
    }
    const v = Number(m[0]);
    return Number.isSafeInteger(v) ? (Object.is(v, -0) ? 0 : v) : BigInt(m[0]);
  };
  const result = value(0);
  ws();
  if (i < n) err("Extra data", i);
  return result;
}

function buildObject(entries: [string, unknown][]): Record<string, unknown> | Map<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (const [k, v] of entries) setKey(obj, k, v);
  const keys = Object.keys(obj);
  const firstSeen: string[] = [];
  const seenKeys = new Set<string>();
  for (const [k] of entries) {
    if (!seenKeys.has(k)) {
      seenKeys.add(k);
      firstSeen.push(k);
    }
  }
  if (keys.every((k, idx) => k === firstSeen[idx])) return obj;
  const map = new Map<string, unknown>();
  for (const [k, v] of entries) map.set(k, v);
  return map;
}

// ---------------------------------------------------------------------------------------------
// JSON-RPC envelopes

export type JsonRpcId = string | number | PyFloat | null;

export interface OdooErrorData {
  name: string;
  debug: string;
  message: string;
  arguments: unknown[];
  context: Record<string, unknown>;
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data: OdooErrorData;
}

/** `{"jsonrpc": "2.0", "id": id, "result": result}`; `undefined` (Python None) omits `result`. */
export function encodeJsonRpcResult(id: JsonRpcId | undefined, result: unknown): string {
  const body: Record<string, unknown> = { jsonrpc: "2.0", id: id ?? null };
  if (result !== undefined) body.result = result;
  return pyJsonDumps(body);
}

/** `{"jsonrpc": "2.0", "id": id, "error": error}`. */
export function encodeJsonRpcError(id: JsonRpcId | undefined, error: JsonRpcErrorObject): string {
  return pyJsonDumps({ jsonrpc: "2.0", id: id ?? null, error });
}

/**
 * JSON name of a Python exception class: builtins are qualified (`builtins.ValueError`),
 * others kept (`odoo.exceptions.UserError`).
 */
export function jsonExceptionName(exceptionClass: string): string {
  return exceptionClass.includes(".") ? exceptionClass : `builtins.${exceptionClass}`;
}

/**
 * The `error` member of a JSON-RPC application error (HTTP 200, code 200):
 * `{code: 200, message: "Odoo Server Error", data: {name, debug, message, arguments, context}}`.
 * `debug` defaults to a traceback of the `/jsonrpc` execute_kw path.
 */
export function odooServerError(
  exceptionClass: string,
  message: string,
  options: { debug?: string; arguments?: unknown[]; context?: Record<string, unknown>; frames?: TracebackFrames } = {},
): JsonRpcErrorObject {
  return {
    code: 200,
    message: "Odoo Server Error",
    data: {
      name: jsonExceptionName(exceptionClass),
      debug: options.debug ?? pythonTraceback(exceptionClass, message, options.frames ?? "jsonrpc"),
      message,
      arguments: options.arguments ?? [message],
      context: options.context ?? {},
    },
  };
}

/** The code 100 session-expiry error object (transcript 10). */
export function sessionExpiredError(): JsonRpcErrorObject {
  const message = "Session expired";
  return {
    code: 100,
    message: "Odoo Session Expired",
    data: {
      name: "odoo.http.SessionExpiredException",
      debug: pythonTraceback("odoo.http.SessionExpiredException", message, "session"),
      message,
      arguments: [message],
      context: {},
    },
  };
}

/** The whole session-expiry body: Odoo answers it with `"id": null` whatever the request id. */
export function encodeSessionExpired(): string {
  return encodeJsonRpcError(null, sessionExpiredError());
}

// ---------------------------------------------------------------------------------------------
// Python tracebacks

export interface TracebackFrame {
  /** Path under the Odoo package (`odoo/http.py`) or absolute (`/usr/lib/python3.11/...`). */
  file: string;
  line: number;
  func: string;
  code: string;
  /** Substring of `code` to underline with `^`; by default the right-hand side of `return`/`=`. */
  highlight?: string | false;
}

export type TracebackPreset = "xmlrpc" | "jsonrpc" | "web" | "session" | "common" | "marshal" | "expat";
export type TracebackFrames = TracebackPreset | TracebackFrame[];

const ODOO_ROOT = "/usr/lib/python3/dist-packages/";

const F = (file: string, line: number, func: string, code: string, highlight?: string | false): TracebackFrame =>
  highlight === undefined ? { file, line, func, code } : { file, line, func, code, highlight };

const XMLRPC_HEAD: TracebackFrame[] = [
  F("odoo/addons/base/controllers/rpc.py", 165, "xmlrpc_2", "response = self._xmlrpc(service)"),
];
const DISPATCH_OBJECT: TracebackFrame[] = [
  F("odoo/http.py", 412, "dispatch_rpc", "return dispatch(method, params)"),
  F("odoo/service/model.py", 58, "dispatch", "res = execute_kw(db, uid, *params[3:])"),
  F("odoo/service/model.py", 81, "execute_kw", "return execute(db, uid, obj, method, *args, **kw or {})"),
  F("odoo/service/model.py", 87, "execute", "res = execute_cr(cr, uid, obj, method, *args, **kw)"),
  F("odoo/service/model.py", 72, "execute_cr", "result = retrying(partial(odoo.api.call_kw, recs, method, args, kw), env)"),
  F("odoo/service/model.py", 156, "retrying", "result = func()"),
  F("odoo/api.py", 533, "call_kw", "result = getattr(recs, name)(*args, **kwargs)"),
];
const HTTP_HEAD: TracebackFrame[] = [
  F("odoo/http.py", 2122, "_transactioning", "return service_model.retrying(func, env=self.env)"),
  F("odoo/service/model.py", 156, "retrying", "result = func()"),
];
const HTTP_DISPATCH: TracebackFrame[] = [
  ...HTTP_HEAD,
  F("odoo/http.py", 2089, "_serve_ir_http", "response = self.dispatcher.dispatch(rule.endpoint, args)"),
  F("odoo/http.py", 2337, "dispatch", "result = self.request.registry['ir.http']._dispatch(endpoint)"),
  F("odoo/addons/base/models/ir_http.py", 333, "_dispatch", "result = endpoint(**request.params)"),
  F("odoo/http.py", 754, "route_wrapper", "result = endpoint(self, *args, **params_ok)"),
];

const PRESETS: Record<TracebackPreset, TracebackFrame[]> = {
  xmlrpc: [
    ...XMLRPC_HEAD,
    F("odoo/addons/base/controllers/rpc.py", 139, "_xmlrpc", "result = dispatch_rpc(service, method, params)"),
    ...DISPATCH_OBJECT,
  ],
  jsonrpc: [
    ...HTTP_DISPATCH,
    F("odoo/addons/base/controllers/rpc.py", 178, "jsonrpc", "return dispatch_rpc(service, method, args)"),
    ...DISPATCH_OBJECT,
  ],
  web: [
    ...HTTP_DISPATCH,
    F("odoo/addons/web/controllers/dataset.py", 36, "call_kw", "return call_kw(request.env[model], method, args, kwargs)"),
    F("odoo/api.py", 533, "call_kw", "result = getattr(recs, name)(*args, **kwargs)"),
  ],
  session: [
    ...HTTP_HEAD,
    F("odoo/http.py", 2087, "_serve_ir_http", "self.registry['ir.http']._authenticate(rule.endpoint)"),
    F("odoo/addons/base/models/ir_http.py", 263, "_authenticate", "cls._authenticate_explicit(auth)"),
    F("odoo/addons/base/models/ir_http.py", 272, "_authenticate_explicit", "getattr(cls, f'_auth_method_{auth}')()"),
    F("odoo/addons/base/models/ir_http.py", 248, "_auth_method_user", 'raise http.SessionExpiredException("Session expired")'),
  ],
  common: [
    ...XMLRPC_HEAD,
    F("odoo/addons/base/controllers/rpc.py", 139, "_xmlrpc", "result = dispatch_rpc(service, method, params)"),
    F("odoo/http.py", 412, "dispatch_rpc", "return dispatch(method, params)"),
    F("odoo/service/common.py", 60, "dispatch", 'raise Exception("Method not found: %s" % method)'),
  ],
  marshal: [
    ...XMLRPC_HEAD,
    F("odoo/addons/base/controllers/rpc.py", 140, "_xmlrpc", "return dumps((result,))"),
    F("odoo/addons/base/controllers/rpc.py", 114, "dumps", "response = OdooMarshaller(allow_none=False).dumps(params)"),
    F("/usr/lib/python3.11/xmlrpc/client.py", 514, "dumps", "dump(v, write)"),
    F("/usr/lib/python3.11/xmlrpc/client.py", 536, "__dump", "f(self, value, write)"),
    F("/usr/lib/python3.11/xmlrpc/client.py", 540, "dump_nil", 'raise TypeError("cannot marshal None unless allow_none is enabled")'),
  ],
  expat: [
    ...XMLRPC_HEAD,
    F("odoo/addons/base/controllers/rpc.py", 138, "_xmlrpc", "params, method = xmlrpc.client.loads(data, use_datetime=True)"),
    F("/usr/lib/python3.11/xmlrpc/client.py", 1030, "loads", "p.close()"),
    F("/usr/lib/python3.11/xmlrpc/client.py", 460, "close", 'parser.Parse(b"", True) # end of data', "parser.Parse(b\"\", True)"),
  ],
};

function caretLine(code: string, highlight: string | false | undefined): string | null {
  let target: string | undefined;
  if (highlight === false) return null;
  if (typeof highlight === "string") target = highlight;
  else {
    const m = /^(?:return |[\w.[\]', ]+ = )(.+)$/.exec(code);
    target = m?.[1];
  }
  if (target === undefined || target === code) return null;
  const at = code.indexOf(target);
  if (at < 0) return null;
  return `${" ".repeat(4 + at)}${"^".repeat(target.length)}`;
}

/**
 * A Python 3.11 traceback as Odoo puts it in faultCode 1 faultStrings and JSON `debug` members:
 * `Traceback (most recent call last):`, two lines per frame (plus a caret line), then
 * `<Class>: <message>` and a final newline. `builtins.` is dropped from the class as Python does.
 * `frames` is a preset of the recorded call paths or explicit frames (relative paths are placed
 * under the packaged Odoo location).
 */
export function pythonTraceback(exceptionClass: string, message: string, frames: TracebackFrames = "xmlrpc"): string {
  const list = typeof frames === "string" ? PRESETS[frames] : frames;
  const cls = exceptionClass.startsWith("builtins.") ? exceptionClass.slice(9) : exceptionClass;
  const lines = ["Traceback (most recent call last):"];
  for (const f of list) {
    const path = f.file.startsWith("/") ? f.file : ODOO_ROOT + f.file;
    lines.push(`  File "${path}", line ${f.line}, in ${f.func}`);
    lines.push(`    ${f.code}`);
    const caret = caretLine(f.code, f.highlight);
    if (caret !== null) lines.push(caret);
  }
  lines.push(message === "" ? cls : `${cls}: ${message}`);
  return `${lines.join("\n")}\n`;
}

/** The faultCode 1 body Odoo sends when a result contains None (transcripts 07 and 11). */
export function encodeNoneFault(): string {
  return encodeFault(1, pythonTraceback("TypeError", NONE_MESSAGE, "marshal"));
}

/** The faultCode 1 body for an undecodable request (`XmlSyntaxError` from `decodeMethodCall`). */
export function encodeDecodeFault(error: XmlSyntaxError): string {
  const frames = error.exceptionClass === "xml.parsers.expat.ExpatError"
    ? "expat"
    : PRESETS.expat.slice(0, 2);
  return encodeFault(1, pythonTraceback(error.exceptionClass, error.message, frames));
}
