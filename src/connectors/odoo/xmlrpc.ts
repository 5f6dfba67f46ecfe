/**
 * Client-side XML-RPC codec for the Odoo connector.
 *
 * Encoding follows Python's `xmlrpc.client.dumps` byte for byte (the format Odoo's own
 * clients send): `<?xml version='1.0'?>`, one element per line, integers as `<int>`,
 * non-integral numbers as `<double>`, `&`, `<`, `>` escaped in strings and member names,
 * `null` as `<nil/>` only when allowed. Decoding accepts everything Python's unmarshaller
 * accepts that Odoo can send or a proxy can produce: typed and untyped values, `<i4>`,
 * `<i8>`, `<double>`, `<boolean>`, `<nil/>`, `<dateTime.iso8601>`, `<base64>`, integer or
 * string fault codes.
 *
 * The parser is a single forward scan (no regular expressions over the input, no
 * backtracking), refuses DOCTYPE declarations (no entity expansion), and enforces a size
 * and a nesting limit, so a hostile or broken answer costs linear time and bounded stack.
 */

/** A value that can cross XML-RPC. Structs are plain objects; `null` is `<nil/>`. */
export type XmlRpcValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Date
  | Uint8Array
  | XmlRpcDouble
  | XmlRpcValue[]
  | { [key: string]: XmlRpcValue };

/**
 * Forces a number to be sent as `<double>` (JavaScript cannot tell `5.0` from `5`; an
 * integral number is otherwise sent as `<int>`, like a Python int). Decoding returns
 * plain numbers unless `wrapDoubles` is set.
 */
export class XmlRpcDouble {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

/** The input cannot be encoded (None not allowed, integer out of range, cycle, bad key). */
export class XmlRpcEncodeError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'XmlRpcEncodeError';
  }
}

/** The document is not a well-formed XML-RPC message (or exceeds the limits). */
export class XmlRpcParseError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} (at offset ${offset})`);
    this.name = 'XmlRpcParseError';
    this.offset = offset;
  }
}

export interface EncodeOptions {
  /** Encode `null`/`undefined` as `<nil/>` (Python's allow_none). Default false: throw. */
  allowNone?: boolean;
  /** Maximum nesting of arrays and structs. Default 100. */
  maxDepth?: number;
}

export interface DecodeOptions {
  /** Refuse documents longer than this many characters. Default 64 MiB. */
  maxLength?: number;
  /** Refuse element nesting deeper than this. Default 256 (about 120 levels of values). */
  maxDepth?: number;
  /** Return `<double>` values as XmlRpcDouble instead of numbers (exact round trips). */
  wrapDoubles?: boolean;
}

export type MethodResponse =
  | { kind: 'result'; value: XmlRpcValue }
  | { kind: 'fault'; faultCode: number | string; faultString: string; fault: XmlRpcValue };

export interface MethodCall {
  methodName: string;
  params: XmlRpcValue[];
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

// ---------------------------------------------------------------- encoding

/** Escapes text content the way Python's xmlrpc.client.escape does (&, <, >). */
export function escapeXml(s: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (c === 38) rep = '&amp;';
    else if (c === 60) rep = '&lt;';
    else if (c === 62) rep = '&gt;';
    else if ((c < 0x20 && c !== 9 && c !== 10 && c !== 13) || c === 0xfffe || c === 0xffff) {
      // XML 1.0 cannot carry these characters at all: Python would send them and the
      // server's parser would fail; refuse here with a clear message instead.
      throw new XmlRpcEncodeError(`string contains U+${c.toString(16).padStart(4, '0')}, which XML 1.0 cannot represent`);
    }
    if (rep !== undefined) {
      out += s.slice(last, i) + rep;
      last = i + 1;
    }
  }
  return last === 0 ? s : out + s.slice(last);
}

/** Python's repr() of a float: shortest round-trip digits, scientific below 1e-4 and from 1e16. */
export function floatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  const sign = n < 0 || Object.is(n, -0) ? '-' : '';
  if (n === 0) return `${sign}0.0`;
  const [mant, expText] = Math.abs(n).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const exp = Number(expText);
  const decpt = exp + 1;
  if (decpt > 16 || decpt < -3) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function encodeValue(v: unknown, out: string[], o: Required<EncodeOptions>, depth: number, stack: Set<object>): void {
  if (v === null || v === undefined) {
    if (!o.allowNone) throw new XmlRpcEncodeError('cannot marshal None unless allow_none is enabled');
    out.push('<value><nil/></value>');
    return;
  }
  switch (typeof v) {
    case 'string':
      out.push('<value><string>', escapeXml(v), '</string></value>\n');
      return;
    case 'boolean':
      out.push('<value><boolean>', v ? '1' : '0', '</boolean></value>\n');
      return;
    case 'number':
      if (Number.isInteger(v) && !Object.is(v, -0)) {
        if (v < INT32_MIN || v > INT32_MAX) throw new XmlRpcEncodeError(`int exceeds XML-RPC limits: ${v} (wrap it in XmlRpcDouble to send a double)`);
        out.push('<value><int>', String(v), '</int></value>\n');
      } else {
        out.push('<value><double>', floatRepr(v), '</double></value>\n');
      }
      return;
    case 'bigint':
      if (v < BigInt(INT32_MIN) || v > BigInt(INT32_MAX)) throw new XmlRpcEncodeError(`int exceeds XML-RPC limits: ${v}`);
      out.push('<value><int>', v.toString(), '</int></value>\n');
      return;
    case 'object':
      break;
    default:
      throw new XmlRpcEncodeError(`cannot marshal ${typeof v} objects`);
  }
  const obj = v as object;
  if (obj instanceof XmlRpcDouble) {
    out.push('<value><double>', floatRepr(obj.value), '</double></value>\n');
    return;
  }
  if (obj instanceof Date) {
    if (Number.isNaN(obj.getTime())) throw new XmlRpcEncodeError('cannot marshal an invalid Date');
    const s = `${pad(obj.getUTCFullYear(), 4)}${pad(obj.getUTCMonth() + 1)}${pad(obj.getUTCDate())}T${pad(obj.getUTCHours())}:${pad(obj.getUTCMinutes())}:${pad(obj.getUTCSeconds())}`;
    out.push('<value><dateTime.iso8601>', s, '</dateTime.iso8601></value>\n');
    return;
  }
  if (obj instanceof Uint8Array) {
    out.push('<value><base64>\n', Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength).toString('base64'), '\n</base64></value>\n');
    return;
  }
  if (depth >= o.maxDepth) throw new XmlRpcEncodeError(`value nested deeper than ${o.maxDepth}`);
  if (stack.has(obj)) throw new XmlRpcEncodeError('cannot marshal recursive structures');
  stack.add(obj);
  if (Array.isArray(obj)) {
    out.push('<value><array><data>\n');
    for (const item of obj) encodeValue(item, out, o, depth + 1, stack);
    out.push('</data></array></value>\n');
  } else {
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) throw new XmlRpcEncodeError(`cannot marshal ${proto?.constructor?.name ?? 'this'} objects`);
    out.push('<value><struct>\n');
    for (const [k, item] of Object.entries(obj)) {
      if (item === undefined) continue;
      out.push('<member>\n<name>', escapeXml(k), '</name>\n');
      encodeValue(item, out, o, depth + 1, stack);
      out.push('</member>\n');
    }
    out.push('</struct></value>\n');
  }
  stack.delete(obj);
}

function withDefaults(o: EncodeOptions): Required<EncodeOptions> {
  return { allowNone: o.allowNone ?? false, maxDepth: o.maxDepth ?? 100 };
}

/** Encodes one value (the `<value>…</value>` element and its line end). */
export function encodeValueXml(v: unknown, options: EncodeOptions = {}): string {
  const out: string[] = [];
  encodeValue(v, out, withDefaults(options), 0, new Set());
  return out.join('');
}

/** `xmlrpc.client.dumps(params, methodname=…)` for the values above. */
export function encodeMethodCall(methodName: string, params: readonly unknown[], options: EncodeOptions = {}): string {
  const o = withDefaults(options);
  const out: string[] = ["<?xml version='1.0'?>\n<methodCall>\n<methodName>", escapeXml(methodName), '</methodName>\n<params>\n'];
  for (const p of params) {
    out.push('<param>\n');
    encodeValue(p, out, o, 0, new Set());
    out.push('</param>\n');
  }
  out.push('</params>\n</methodCall>\n');
  return out.join('');
}

/** `xmlrpc.client.dumps((value,), methodresponse=True)` (used by tests and fixtures). */
export function encodeMethodResponse(value: unknown, options: EncodeOptions = {}): string {
  const out: string[] = ["<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n"];
  encodeValue(value, out, withDefaults(options), 0, new Set());
  out.push('</param>\n</params>\n</methodResponse>\n');
  return out.join('');
}

/** A fault response in Python's format. */
export function encodeFault(faultCode: number | string, faultString: string): string {
  const out: string[] = ["<?xml version='1.0'?>\n<methodResponse>\n<fault>\n"];
  encodeValue({ faultCode, faultString }, out, withDefaults({}), 0, new Set());
  out.push('</fault>\n</methodResponse>\n');
  return out.join('');
}

// ---------------------------------------------------------------- decoding

type Token =
  | { t: 'open'; name: string; empty: boolean; at: number }
  | { t: 'close'; name: string; at: number }
  | { t: 'text'; text: string; at: number }
  | { t: 'eof'; at: number };

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(raw: string, at: number): string {
  if (raw.indexOf('&') < 0) return raw;
  let out = '';
  let i = 0;
  for (;;) {
    const amp = raw.indexOf('&', i);
    if (amp < 0) return out + raw.slice(i);
    const semi = raw.indexOf(';', amp);
    if (semi < 0 || semi - amp > 12) throw new XmlRpcParseError('unterminated entity reference', at + amp);
    out += raw.slice(i, amp);
    const name = raw.slice(amp + 1, semi);
    if (name.startsWith('#')) {
      const hex = name[1] === 'x' || name[1] === 'X';
      const digits = name.slice(hex ? 2 : 1);
      if (!(hex ? /^[0-9a-fA-F]{1,6}$/ : /^[0-9]{1,7}$/).test(digits)) throw new XmlRpcParseError(`bad character reference &${name};`, at + amp);
      const cp = parseInt(digits, hex ? 16 : 10);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0) throw new XmlRpcParseError(`bad character reference &${name};`, at + amp);
      out += String.fromCodePoint(cp);
    } else {
      const rep = NAMED_ENTITIES[name];
      if (rep === undefined) throw new XmlRpcParseError(`undefined entity &${name};`, at + amp);
      out += rep;
    }
    i = semi + 1;
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** Forward-only XML tokenizer for the subset XML-RPC uses. */
class Lexer {
  private readonly s: string;
  private i = 0;
  private peeked: Token | undefined;
  constructor(s: string) {
    this.s = s;
  }

  peek(): Token {
    if (!this.peeked) this.peeked = this.read();
    return this.peeked;
  }

  next(): Token {
    const t = this.peek();
    this.peeked = undefined;
    return t;
  }

  private read(): Token {
    const s = this.s;
    for (;;) {
      const at = this.i;
      if (at >= s.length) return { t: 'eof', at };
      if (s.charCodeAt(at) !== 60 /* < */) {
        const lt = s.indexOf('<', at);
        const end = lt < 0 ? s.length : lt;
        this.i = end;
        return { t: 'text', text: decodeEntities(s.slice(at, end), at), at };
      }
      const c1 = s[at + 1];
      if (c1 === '?') {
        const end = s.indexOf('?>', at + 2);
        if (end < 0) throw new XmlRpcParseError('unterminated processing instruction', at);
        this.i = end + 2;
        continue;
      }
      if (c1 === '!') {
        if (s.startsWith('<!--', at)) {
          const end = s.indexOf('-->', at + 4);
          if (end < 0) throw new XmlRpcParseError('unterminated comment', at);
          this.i = end + 3;
          continue;
        }
        if (s.startsWith('<![CDATA[', at)) {
          const end = s.indexOf(']]>', at + 9);
          if (end < 0) throw new XmlRpcParseError('unterminated CDATA section', at);
          this.i = end + 3;
          return { t: 'text', text: s.slice(at + 9, end), at };
        }
        throw new XmlRpcParseError('DOCTYPE and other declarations are not accepted', at);
      }
      const gt = s.indexOf('>', at + 1);
      if (gt < 0) throw new XmlRpcParseError('unterminated tag', at);
      this.i = gt + 1;
      if (c1 === '/') {
        const name = s.slice(at + 2, gt).trimEnd();
        if (!name) throw new XmlRpcParseError('empty closing tag', at);
        return { t: 'close', name, at };
      }
      let body = s.slice(at + 1, gt);
      const empty = body.endsWith('/');
      if (empty) body = body.slice(0, -1);
      let n = 0;
      while (n < body.length && !isSpace(body.charCodeAt(n))) n++;
      const name = body.slice(0, n);
      if (!name) throw new XmlRpcParseError('empty tag name', at);
      return { t: 'open', name, empty, at };
    }
  }
}

/** Strips an XML namespace prefix (Apache's `ex:nil`, `ex:i8`). */
function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

const INT_RE = /^[+-]?[0-9]+$/;
const FLOAT_RE = /^[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)$/i;

function setMember(obj: Record<string, XmlRpcValue>, key: string, value: XmlRpcValue): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

class Parser {
  private readonly lx: Lexer;
  private readonly maxDepth: number;
  private readonly wrapDoubles: boolean;
  private depth = 0;

  constructor(text: string, o: DecodeOptions) {
    const maxLength = o.maxLength ?? 64 * 1024 * 1024;
    if (text.length > maxLength) throw new XmlRpcParseError(`document longer than ${maxLength} characters`, maxLength);
    this.lx = new Lexer(text);
    this.maxDepth = o.maxDepth ?? 256;
    this.wrapDoubles = o.wrapDoubles ?? false;
  }

  /** Skips whitespace-only text; anything else where an element is expected is an error. */
  private skipSpace(): void {
    for (;;) {
      const t = this.lx.peek();
      if (t.t !== 'text') return;
      if (t.text.trim() !== '') throw new XmlRpcParseError(`unexpected text ${JSON.stringify(t.text.slice(0, 40))}`, t.at);
      this.lx.next();
    }
  }

  open(expected?: string): { name: string; empty: boolean } {
    this.skipSpace();
    const t = this.lx.next();
    if (t.t !== 'open') throw new XmlRpcParseError(t.t === 'eof' ? 'unexpected end of document' : `expected <${expected ?? 'element'}>`, t.at);
    const name = localName(t.name);
    if (expected !== undefined && name !== expected) throw new XmlRpcParseError(`expected <${expected}>, found <${t.name}>`, t.at);
    if (!t.empty) {
      this.depth++;
      if (this.depth > this.maxDepth) throw new XmlRpcParseError(`nesting deeper than ${this.maxDepth}`, t.at);
    }
    return { name, empty: t.empty };
  }

  close(name: string): void {
    this.skipSpace();
    const t = this.lx.next();
    if (t.t !== 'close' || localName(t.name) !== name) throw new XmlRpcParseError(t.t === 'eof' ? 'unexpected end of document' : `expected </${name}>`, t.at);
    this.depth--;
  }

  /** Reads the text of a leaf element up to its closing tag. */
  leafText(name: string): string {
    let text = '';
    for (;;) {
      const t = this.lx.next();
      if (t.t === 'text') text += t.text;
      else if (t.t === 'close' && localName(t.name) === name) {
        this.depth--;
        return text;
      } else throw new XmlRpcParseError(t.t === 'eof' ? 'unexpected end of document' : `unexpected markup inside <${name}>`, t.at);
    }
  }

  isNext(kind: 'open' | 'close', name: string): boolean {
    this.skipSpace();
    const t = this.lx.peek();
    return t.t === kind && localName(t.name) === name;
  }

  /** Parses one `<value>` element. */
  value(): XmlRpcValue {
    const v = this.open('value');
    if (v.empty) return '';
    // Untyped value: text directly inside <value> is a string.
    let text = '';
    for (;;) {
      const t = this.lx.peek();
      if (t.t === 'text') {
        text += t.text;
        this.lx.next();
        continue;
      }
      if (t.t === 'close') {
        if (localName(t.name) !== 'value') throw new XmlRpcParseError(`expected </value>`, t.at);
        this.lx.next();
        this.depth--;
        return text;
      }
      break;
    }
    if (text.trim() !== '') throw new XmlRpcParseError('text mixed with a typed value', this.lx.peek().at);
    const at = this.lx.peek().at;
    const el = this.open();
    const result = this.typed(el.name, el.empty, at);
    this.close('value');
    return result;
  }

  private typed(name: string, empty: boolean, at: number): XmlRpcValue {
    switch (name) {
      case 'nil':
        if (!empty) this.leafText(name);
        return null;
      case 'string':
        return empty ? '' : this.leafText(name);
      case 'int':
      case 'i4':
      case 'i8':
      case 'i1':
      case 'i2':
      case 'biginteger': {
        const raw = (empty ? '' : this.leafText(name)).trim();
        if (!INT_RE.test(raw)) throw new XmlRpcParseError(`bad integer ${JSON.stringify(raw.slice(0, 40))}`, at);
        const n = Number(raw);
        return Number.isSafeInteger(n) ? n : BigInt(raw);
      }
      case 'boolean': {
        const raw = (empty ? '' : this.leafText(name)).trim();
        if (raw === '1') return true;
        if (raw === '0') return false;
        throw new XmlRpcParseError(`bad boolean value ${JSON.stringify(raw.slice(0, 40))}`, at);
      }
      case 'double':
      case 'float': {
        const raw = (empty ? '' : this.leafText(name)).trim();
        if (!FLOAT_RE.test(raw)) throw new XmlRpcParseError(`bad double ${JSON.stringify(raw.slice(0, 40))}`, at);
        const lower = raw.toLowerCase().replace(/^\+/, '');
        const n = lower.endsWith('nan') ? NaN : lower.endsWith('inf') || lower.endsWith('infinity') ? (lower.startsWith('-') ? -Infinity : Infinity) : Number(raw);
        return this.wrapDoubles ? new XmlRpcDouble(n) : n;
      }
      case 'dateTime.iso8601': {
        const raw = (empty ? '' : this.leafText(name)).trim();
        const m = /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2}):?(\d{2})$/.exec(raw);
        if (!m) throw new XmlRpcParseError(`bad dateTime.iso8601 ${JSON.stringify(raw.slice(0, 40))}`, at);
        const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
        if (d.getUTCMonth() !== +m[2]! - 1 || d.getUTCDate() !== +m[3]!) throw new XmlRpcParseError(`bad dateTime.iso8601 ${raw}`, at);
        return d;
      }
      case 'base64': {
        const raw = (empty ? '' : this.leafText(name)).replace(/\s+/g, '');
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(raw)) throw new XmlRpcParseError('bad base64 data', at);
        return new Uint8Array(Buffer.from(raw, 'base64'));
      }
      case 'array': {
        if (empty) return [];
        const out: XmlRpcValue[] = [];
        const data = this.open('data');
        if (!data.empty) {
          while (!this.isNext('close', 'data')) out.push(this.value());
          this.close('data');
        }
        this.close('array');
        return out;
      }
      case 'struct': {
        const out: Record<string, XmlRpcValue> = {};
        if (empty) return out;
        while (this.isNext('open', 'member')) {
          this.open('member');
          const n = this.open('name');
          const key = n.empty ? '' : this.leafText('name');
          setMember(out, key, this.value());
          this.close('member');
        }
        this.close('struct');
        return out;
      }
      default:
        throw new XmlRpcParseError(`unknown type <${name}>`, at);
    }
  }

  end(): void {
    this.skipSpace();
    const t = this.lx.next();
    if (t.t !== 'eof') throw new XmlRpcParseError('content after the document element', t.at);
  }
}

/** Decodes a `methodResponse`: a result or a fault (integer or string faultCode). */
export function decodeMethodResponse(xml: string, options: DecodeOptions = {}): MethodResponse {
  const p = new Parser(xml, options);
  p.open('methodResponse');
  let res: MethodResponse;
  if (p.isNext('open', 'fault')) {
    p.open('fault');
    const fault = p.value();
    p.close('fault');
    if (fault === null || typeof fault !== 'object' || Array.isArray(fault) || fault instanceof Date || fault instanceof Uint8Array || fault instanceof XmlRpcDouble) {
      throw new XmlRpcParseError('fault value is not a struct', 0);
    }
    const code = fault.faultCode;
    const str = fault.faultString;
    if (typeof code !== 'number' && typeof code !== 'string') throw new XmlRpcParseError('fault without an integer or string faultCode', 0);
    if (typeof str !== 'string') throw new XmlRpcParseError('fault without a faultString', 0);
    res = { kind: 'fault', faultCode: code, faultString: str, fault };
  } else {
    const params = p.open('params');
    if (params.empty) throw new XmlRpcParseError('response without a value', 0);
    p.open('param');
    const value = p.value();
    p.close('param');
    p.close('params');
    res = { kind: 'result', value };
  }
  p.close('methodResponse');
  p.end();
  return res;
}

/** Decodes a `methodCall` (tests and recorded fixtures use it to compare requests). */
export function decodeMethodCall(xml: string, options: DecodeOptions = {}): MethodCall {
  const p = new Parser(xml, options);
  p.open('methodCall');
  const n = p.open('methodName');
  const methodName = n.empty ? '' : p.leafText('methodName');
  const params: XmlRpcValue[] = [];
  if (p.isNext('open', 'params')) {
    const ps = p.open('params');
    if (!ps.empty) {
      while (p.isNext('open', 'param')) {
        p.open('param');
        params.push(p.value());
        p.close('param');
      }
      p.close('params');
    }
  }
  p.close('methodCall');
  p.end();
  return { methodName, params };
}
