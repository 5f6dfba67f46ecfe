/**
 * Structured JSON logs (pino). Every log line inside a request or a handler carries the
 * correlation id of the work it belongs to, through `child({ correlationId })`.
 *
 * Personal data and secrets never reach a log line, whatever is logged:
 * - values under the property names the canonical model marks `x-pii` (name, phone,
 *   email, street lines, notes...), at any depth, become "[masked]";
 * - values under secret-looking names (authorization, cookie, password, token, secret,
 *   apiKey, client_secret, access_token...) become "[secret]";
 * - in every string (messages, error messages and stacks, nested values): e-mail
 *   addresses and international phone numbers become "[masked]"; bearer and basic
 *   credentials, hub tokens (olh_), webhook secrets (whsec_), JWTs and passwords in
 *   URLs become "[secret]".
 * Logged objects are copied, never changed; depth and size are bounded.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';
import { PII_FIELD_NAMES } from '../domain/pii.ts';

export type { Logger };

export const PII_MASK = '[masked]';
export const SECRET_MASK = '[secret]';

const norm = (key: string) => key.toLowerCase().replace(/[-_\s]/g, '');

/** Personal data under names the model does not use but logged shapes do. */
const PII_ALIASES = ['firstName', 'lastName', 'fullName', 'contactName', 'street', 'streetLines', 'addressLines', 'phoneNumber', 'mobile', 'emailAddress'];
const PII_KEYS: ReadonlySet<string> = new Set([...PII_FIELD_NAMES, ...PII_ALIASES].map(norm));

const SECRET_KEYS: ReadonlySet<string> = new Set(
  ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'password', 'passwd', 'passphrase', 'secret', 'secrets', 'token', 'tokens', 'apiKey', 'x-api-key', 'privateKey', 'masterKey', 'sealed'].map(norm),
);
const SECRET_SUFFIXES = ['secret', 'password', 'token', 'apikey'];

export function isSecretKey(key: string): boolean {
  const k = norm(key);
  return SECRET_KEYS.has(k) || SECRET_SUFFIXES.some((s) => k.endsWith(s));
}

export function isPiiKey(key: string): boolean {
  return PII_KEYS.has(norm(key));
}

const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/\s@"]*:)[^@\s/"]*@/gi;
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/g;
const HUB_SECRET = /\b(?:olh|whsec)_[A-Za-z0-9+/=_-]{8,}/g;
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const PHONE = /(?<![\w+])\+\d[\d ().-]{5,20}\d(?!\w)/g;
/** E.164 numbers have at most 15 digits; fewer than 8 is an amount or a version more likely than a phone. */
const maskPhone = (m: string) => {
  const digits = m.replace(/\D/g, '').length;
  return digits >= 8 && digits <= 15 ? PII_MASK : m;
};
const MAX_STRING = 32 * 1024;

/** A string with e-mail addresses, phone numbers and credentials masked. */
export function maskText(s: string): string {
  let t = s.length > MAX_STRING ? s.slice(0, MAX_STRING) + `…[${s.length - MAX_STRING} more characters]` : s;
  if (t.includes('://')) t = t.replace(URL_PASSWORD, `$1${SECRET_MASK}@`);
  if (t.includes('Bearer') || t.includes('Basic')) t = t.replace(AUTH_SCHEME, `$1 ${SECRET_MASK}`);
  if (t.includes('_')) t = t.replace(HUB_SECRET, SECRET_MASK);
  if (t.includes('eyJ')) t = t.replace(JWT, SECRET_MASK);
  if (t.includes('@')) t = t.replace(EMAIL, PII_MASK);
  if (t.includes('+')) t = t.replace(PHONE, maskPhone);
  return t;
}

const MAX_DEPTH = 10;
const MAX_ITEMS = 100;
const MAX_NODES = 5000;

const isPlainValue = (v: unknown) => v === null || (typeof v !== 'object' && typeof v !== 'function');
const NONE: ReadonlySet<string> = new Set();
const ERROR_KEYS: ReadonlySet<string> = new Set(['type', 'name', 'code']);
/** Marks an error already serialised and masked, so the `err` serializer leaves it alone. */
const MASKED = Symbol('masked');

/** A request or response object of node:http (or a framework wrapping one). */
const isHttpMessage = (o: object) => 'socket' in o && ('headers' in o || 'statusCode' in o);
function httpSummary(o: object): Record<string, unknown> {
  const m = o as { method?: unknown; url?: unknown; statusCode?: unknown; headers?: Record<string, unknown>; socket?: { remoteAddress?: unknown } | null };
  return m.method !== undefined
    ? { method: m.method, url: m.url, host: m.headers?.host, remoteAddress: m.socket?.remoteAddress }
    : { statusCode: m.statusCode };
}

/**
 * A masked copy of anything logged. Errors become pino's serialised form (type, message,
 * stack, own properties) so their text is masked too.
 */
export function maskForLog(value: unknown): unknown {
  let nodes = 0;
  const ancestors = new Set<object>();
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return maskText(v);
    if (isPlainValue(v)) return v;
    if (typeof v === 'function') return undefined;
    if (++nodes > MAX_NODES) return '[truncated]';
    const o = v as object;
    if (o instanceof Date) return o;
    if (ArrayBuffer.isView(o)) return `[binary ${o.byteLength} bytes]`;
    if (ancestors.has(o)) return '[circular]';
    if (depth >= MAX_DEPTH) return '[too deep]';
    ancestors.add(o);
    try {
      if (o instanceof Error) return maskError(o, depth);
      if (isHttpMessage(o)) return walk(httpSummary(o), depth);
      if (Array.isArray(o)) {
        const items = o.slice(0, MAX_ITEMS).map((x) => walk(x, depth + 1));
        if (o.length > MAX_ITEMS) items.push(`[${o.length - MAX_ITEMS} more items]`);
        return items;
      }
      if (o instanceof Map) return walk(Object.fromEntries(o), depth);
      if (o instanceof Set) return walk([...o], depth);
      if (typeof (o as { toJSON?: unknown }).toJSON === 'function') return walk((o as { toJSON(): unknown }).toJSON(), depth);
      return walkObject(o as unknown as Record<string, unknown>, depth);
    } finally {
      ancestors.delete(o);
    }
  };
  const walkObject = (o: Record<string, unknown>, depth: number, keep: ReadonlySet<string> = NONE): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) {
      if (keep.has(k)) out[k] = walk(x, depth + 1);
      else if (isSecretKey(k)) out[k] = x === null || x === undefined || typeof x === 'boolean' ? x : SECRET_MASK;
      else if (isPiiKey(k)) out[k] = maskPii(x, depth + 1);
      else out[k] = walk(x, depth + 1);
    }
    return out;
  };
  /** pino's form of an error (type, message, stack, causes, own properties); its `name` is the class, not a person. */
  const maskError = (e: Error, depth: number): Record<string, unknown> => {
    const out = walkObject(pino.stdSerializers.err(e) as unknown as Record<string, unknown>, depth, ERROR_KEYS);
    Object.defineProperty(out, MASKED, { value: true });
    return out;
  };
  /** Under a personal-data name: plain values are masked; objects (an order's `lines`) are walked. */
  const maskPii = (x: unknown, depth: number): unknown => {
    if (x === null || x === undefined || typeof x === 'boolean') return x;
    if (isPlainValue(x)) return PII_MASK;
    if (Array.isArray(x)) return x.slice(0, MAX_ITEMS).map((i) => (isPlainValue(i) && i !== null ? PII_MASK : walk(i, depth + 1)));
    return walk(x, depth);
  };
  return walk(value, 0);
}

const maskObject = (o: object) => maskForLog(o) as Record<string, unknown>;

type LogArgs = [unknown, ...unknown[]];
type LogMethodHook = NonNullable<NonNullable<LoggerOptions['hooks']>['logMethod']>;

/**
 * Masks the message and its interpolation values before pino formats them. A message
 * pino would take from an error (`log.error(err)`, `log.warn({ err })`) is made explicit,
 * so it is masked too.
 */
function maskArgs(args: LogArgs): unknown[] {
  const [first, ...rest] = args;
  const text = (x: unknown) => (typeof x === 'string' ? maskText(x) : x);
  if (first instanceof Error) return rest.length ? [{ err: first }, ...rest.map(text)] : [{ err: first }, maskText(first.message)];
  if (typeof first === 'object' && first !== null && rest.length === 0) {
    const err = (first as { err?: unknown }).err;
    if ((first as { msg?: unknown }).msg === undefined && err instanceof Error) return [first, maskText(err.message)];
  }
  return args.map(text);
}

/** An `err` already masked by the log formatter is kept; any other error is masked here. */
function errSerializer(e: unknown): unknown {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[MASKED] ? e : maskForLog(e);
}

export function createLogger(level: string = 'info', opts: LoggerOptions = {}, destination?: NodeJS.WritableStream): Logger {
  const { formatters, hooks, serializers, ...rest } = opts;
  const theirs = hooks?.logMethod;
  const logMethod: LogMethodHook = function (this: Logger, args, method, lvl) {
    const masked = maskArgs(args as LogArgs) as Parameters<LogMethodHook>[0];
    if (theirs) theirs.call(this, masked, method, lvl);
    else method.apply(this, masked);
  };
  const logger = pino(
    {
      level,
      base: { service: 'odoo-logistics-hub', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      ...rest,
      serializers: { ...serializers, err: errSerializer },
      formatters: {
        level: formatters?.level ?? ((label) => ({ level: label })),
        bindings: (b) => maskObject(formatters?.bindings ? formatters.bindings(b) : b),
        log: (o) => maskObject(formatters?.log ? formatters.log(o) : o),
      },
      hooks: { ...hooks, logMethod },
    },
    destination as pino.DestinationStream | undefined,
  );
  // pino applies formatters.bindings to the root's bindings only: a child's are masked here
  // (children inherit this method, so grandchildren too)
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, maskObject(bindings), options);
  } as Logger['child'];
  return logger;
}
