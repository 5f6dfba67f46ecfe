/**
 * The Odoo connector's protocol client: the only code of the connector that touches the
 * network. One interface (`OdooClient`) over four transports:
 *
 * - `xmlrpc`: `/xmlrpc/2/common` authenticate → uid, `/xmlrpc/2/object` execute_kw.
 * - `jsonrpc`: `/jsonrpc` with service/method/args (same calls, JSON envelope).
 * - `web`: `/web/session/authenticate` (session cookie), `/web/dataset/call_kw`; on a
 *   session expiry (code 100) it logs in again once and repeats the call once.
 * - `json2` (Odoo 19+): `/json/2/<model>/<method>`, bearer API key, `X-Odoo-Database`,
 *   named parameters (positional arguments of the common ORM methods are converted).
 * - `auto`: reads `common.version`; 19+ with an API key → json2, otherwise jsonrpc.
 *
 * Every failure (socket, timeout, HTTP, Odoo error, unreadable answer) leaves as a HubError
 * built by errors.ts. A method that returns None resolves `NO_RESULT` (JSON-RPC leaves out
 * `result`, JSON-2 answers `null`); over XML-RPC the same situation is the
 * `odoo.cannot_marshal_none` error, because Odoo cannot send None there.
 */
import { HubError } from '../../domain/errors.ts';
import {
  httpFailure,
  json2ErrorFailure,
  jsonrpcErrorFailure,
  odooError,
  parseRetryAfter,
  transportFailure,
  xmlrpcFaultFailure,
  type OdooFailure,
  type OdooProtocol,
} from './errors.ts';
import { decodeMethodResponse, encodeMethodCall, XmlRpcEncodeError, XmlRpcParseError } from './xmlrpc.ts';
import type { HubTelemetry } from '../../platform/tracing.ts';
import { partnerFetch } from '../http.ts';

/** What a call resolves to when the Odoo method returned None. */
export const NO_RESULT: unique symbol = Symbol('odoo.no_result');
export type NoResult = typeof NO_RESULT;

export interface VersionInfo {
  /** e.g. "18.0-20250702" */
  serverVersion: string;
  /** e.g. [18, 0, 0, "final", 0, ""] */
  serverVersionInfo: (string | number)[];
  /** e.g. "18.0" */
  serverSerie: string;
  /** server_version_info[0] */
  major: number;
  protocolVersion?: number;
}

export interface OdooClient {
  /** The server's version (`common.version`; `/web/version` over JSON-2). Cached. */
  version(): Promise<VersionInfo>;
  /** Asks the server for its version now, bypassing the cache: a cheap liveness probe. */
  ping?(): Promise<VersionInfo>;
  /** `model.method(*args, **kwargs)`. Resolves NO_RESULT when the method returned None. */
  call(model: string, method: string, args?: unknown[], kwargs?: Record<string, unknown>): Promise<unknown>;
  /** Ends the web session, if any. Further calls fail (`odoo.invalid_argument`, permanent). */
  close(): Promise<void>;
  /** The transport in use (after `auto` detection: resolves once known). */
  protocol(): Promise<Exclude<OdooProtocolChoice, 'auto'>>;
}

export type OdooProtocolChoice = 'xmlrpc' | 'jsonrpc' | 'web' | 'json2' | 'auto';

export interface OdooClientConfig {
  /** Base URL, e.g. http://odoo:8069 (a path prefix is kept). */
  url: string;
  db: string;
  login: string;
  /** Password or API key. */
  secret: string;
  protocol?: OdooProtocolChoice;
  /** Per request. Default 30000. */
  timeoutMs?: number;
  /**
   * Whether `secret` is an API key (needed for JSON-2). Default: inferred, an Odoo API key
   * being 40 hexadecimal characters.
   */
  secretKind?: 'password' | 'api_key';
  fetch?: typeof fetch;
  /** Sent as User-Agent. */
  userAgent?: string;
  /** tracer and metrics; default: the hub's of the work in progress */
  telemetry?: HubTelemetry;
}

/** Throws `odoo.no_result` when a call returned None; otherwise returns the value. */
export function expectResult<T = unknown>(value: unknown, what = 'the call'): T {
  if (value === NO_RESULT) throw odooError({ source: 'client', errno: 'no_result', message: `${what} returned None (no result)` });
  return value as T;
}

export function looksLikeApiKey(secret: string): boolean {
  return /^[0-9a-f]{40}$/i.test(secret);
}

// ------------------------------------------------------------------ HTTP

interface HttpAnswer {
  status: number;
  contentType: string;
  body: string;
  headers: Headers;
}

class Http {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly userAgent: string;
  private readonly telemetry: HubTelemetry | undefined;

  constructor(config: OdooClientConfig) {
    this.base = config.url.replace(/\/+$/, '');
    this.timeoutMs = config.timeoutMs ?? 30000;
    this.fetchImpl = config.fetch ?? globalThis.fetch;
    this.userAgent = config.userAgent ?? 'odoo-logistics-hub';
    this.telemetry = config.telemetry;
  }

  /**
   * One HTTP exchange; `interpret` reads the answer and throws the error table's HubError for
   * a failure, so the exchange is counted and traced with that error's class. `operation` names
   * the call (`sale.order.write`, `common.authenticate`) for the metrics.
   */
  request<T>(
    protocol: OdooProtocol,
    operation: string,
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    headers: Record<string, string>,
    interpret: (a: HttpAnswer) => T,
  ): Promise<T> {
    const op = { connector: 'odoo', operation, fetch: this.fetchImpl, transportError: (err: unknown) => odooError(transportFailure(err, protocol, this.timeoutMs), err) };
    const init: RequestInit = { method, headers: { 'User-Agent': this.userAgent, ...headers }, body: body ?? null, signal: AbortSignal.timeout(this.timeoutMs), redirect: 'manual' };
    return partnerFetch(this.telemetry, op, this.base + path, init, async (res) =>
      interpret({ status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text(), headers: res.headers }),
    );
  }
}

/** The operation label of a JSON-RPC or XML-RPC exchange: `model.method` for ORM calls, else `service.method` or the path. */
function operationOf(path: string, params: unknown): string {
  const p = (params ?? {}) as Record<string, unknown>;
  if (Array.isArray(params) && path.endsWith('/object')) return `${String(params[3])}.${String(params[4])}`;
  if (typeof p.service === 'string' && typeof p.method === 'string') {
    const args = Array.isArray(p.args) ? p.args : [];
    return p.service === 'object' ? `${String(args[3])}.${String(args[4])}` : `${p.service}.${p.method}`;
  }
  if (typeof p.model === 'string' && typeof p.method === 'string') return `${p.model}.${p.method}`;
  return path;
}

function protocolError(protocol: OdooProtocol, message: string, answer: HttpAnswer | undefined, cause?: unknown): HubError {
  const f: OdooFailure = { source: 'protocol', protocol, message };
  if (answer) {
    f.status = answer.status;
    f.debug = answer.body.slice(0, 2000);
  }
  return odooError(f, cause);
}

/** Non-2xx answers that are not Odoo messages. */
function checkHttp(protocol: OdooProtocol, a: HttpAnswer): void {
  if (a.status >= 200 && a.status < 300) return;
  throw odooError(httpFailure(a.status, a.body, protocol, parseRetryAfter(a.headers.get('retry-after'))));
}

function clientError(message: string, cause?: unknown): HubError {
  return odooError({ source: 'client', message }, cause);
}

function toVersionInfo(raw: unknown): VersionInfo {
  const r = (raw ?? {}) as Record<string, unknown>;
  const info = (Array.isArray(r.server_version_info) ? r.server_version_info : Array.isArray(r.version_info) ? r.version_info : []) as (string | number)[];
  const serverVersion = String(r.server_version ?? r.version ?? info.slice(0, 2).join('.'));
  const major = typeof info[0] === 'number' ? info[0] : parseInt(serverVersion, 10);
  const v: VersionInfo = { serverVersion, serverVersionInfo: info, serverSerie: String(r.server_serie ?? `${info[0]}.${info[1]}`), major: Number.isFinite(major) ? major : 0 };
  if (typeof r.protocol_version === 'number') v.protocolVersion = r.protocol_version;
  return v;
}

// ------------------------------------------------------------------ transports

interface Transport {
  readonly protocol: Exclude<OdooProtocolChoice, 'auto'>;
  version(): Promise<VersionInfo>;
  call(model: string, method: string, args: unknown[], kwargs: Record<string, unknown>): Promise<unknown>;
  close(): Promise<void>;
}

/** Shares one in-flight login between concurrent calls; forgets it when it fails. */
class Once<T> {
  private p: Promise<T> | undefined;
  private readonly fn: () => Promise<T>;
  constructor(fn: () => Promise<T>) {
    this.fn = fn;
  }
  get(): Promise<T> {
    if (!this.p) {
      this.p = this.fn();
      this.p.catch(() => {
        this.p = undefined;
      });
    }
    return this.p;
  }
  reset(): void {
    this.p = undefined;
  }
  /** The promise if the work has started. */
  peek(): Promise<T> | undefined {
    return this.p;
  }
}

const accessDenied = (protocol: OdooProtocol) => odooError({ source: 'odoo', protocol, exception: 'AccessDenied', message: 'Access Denied' });

class XmlRpcTransport implements Transport {
  readonly protocol = 'xmlrpc' as const;
  private readonly http: Http;
  private readonly config: OdooClientConfig;
  private readonly uid: Once<number>;

  constructor(http: Http, config: OdooClientConfig) {
    this.http = http;
    this.config = config;
    this.uid = new Once(async () => {
      const uid = await this.rpc('/xmlrpc/2/common', 'authenticate', [config.db, config.login, config.secret, {}]);
      if (typeof uid !== 'number' || uid <= 0) throw accessDenied('xmlrpc');
      return uid;
    });
  }

  async rpc(path: string, methodName: string, params: unknown[]): Promise<unknown> {
    let body: string;
    try {
      body = encodeMethodCall(methodName, params, { allowNone: true });
    } catch (err) {
      throw clientError(err instanceof XmlRpcEncodeError ? `cannot encode the call over XML-RPC: ${err.message}` : String(err), err);
    }
    const operation = path.endsWith('/object') ? operationOf(path, params) : `common.${methodName}`;
    return this.http.request('xmlrpc', operation, 'POST', path, body, { 'Content-Type': 'text/xml' }, (a) => {
      checkHttp('xmlrpc', a);
      let res;
      try {
        res = decodeMethodResponse(a.body);
      } catch (err) {
        throw protocolError('xmlrpc', `unreadable XML-RPC answer: ${err instanceof XmlRpcParseError ? err.message : String(err)}`, a, err);
      }
      if (res.kind === 'fault') throw odooError(xmlrpcFaultFailure(res.faultCode, res.faultString));
      return res.value;
    });
  }

  async version(): Promise<VersionInfo> {
    return toVersionInfo(await this.rpc('/xmlrpc/2/common', 'version', []));
  }

  async call(model: string, method: string, args: unknown[], kwargs: Record<string, unknown>): Promise<unknown> {
    const uid = await this.uid.get();
    return this.rpc('/xmlrpc/2/object', 'execute_kw', [this.config.db, uid, this.config.secret, model, method, args, kwargs]);
  }

  async close(): Promise<void> {}
}

/** A JSON-RPC 2.0 exchange as Odoo speaks it (`/jsonrpc` and the `/web/...` routes). */
async function jsonRpc(
  http: Http,
  protocol: OdooProtocol,
  path: string,
  params: unknown,
  id: number,
  headers: Record<string, string> = {},
): Promise<{ value: unknown; answer: HttpAnswer }> {
  let body: string;
  try {
    body = JSON.stringify({ jsonrpc: '2.0', method: 'call', params, id });
  } catch (err) {
    throw clientError(`cannot encode the call as JSON: ${(err as Error).message}`, err);
  }
  return http.request(protocol, operationOf(path, params), 'POST', path, body, { 'Content-Type': 'application/json', ...headers }, (a) => {
    checkHttp(protocol, a);
    let msg: unknown;
    try {
      msg = JSON.parse(a.body);
    } catch (err) {
      throw protocolError(protocol, `unreadable JSON-RPC answer (${a.contentType || 'no content type'})`, a, err);
    }
    if (!msg || typeof msg !== 'object' || Array.isArray(msg)) throw protocolError(protocol, 'JSON-RPC answer is not an object', a);
    const m = msg as Record<string, unknown>;
    if (m.error !== undefined && m.error !== null) {
      if (typeof m.error !== 'object') throw protocolError(protocol, 'JSON-RPC error member is not an object', a);
      throw odooError(jsonrpcErrorFailure(m.error as Record<string, unknown>, protocol));
    }
    return { value: 'result' in m ? m.result : NO_RESULT, answer: a };
  });
}

class JsonRpcTransport implements Transport {
  readonly protocol = 'jsonrpc' as const;
  private readonly http: Http;
  private readonly config: OdooClientConfig;
  private readonly uid: Once<number>;
  private nextId = 1;

  constructor(http: Http, config: OdooClientConfig) {
    this.http = http;
    this.config = config;
    this.uid = new Once(async () => {
      const uid = await this.service('common', 'authenticate', [config.db, config.login, config.secret, {}]);
      if (typeof uid !== 'number' || uid <= 0) throw accessDenied('jsonrpc');
      return uid;
    });
  }

  async service(service: string, method: string, args: unknown[]): Promise<unknown> {
    return (await jsonRpc(this.http, 'jsonrpc', '/jsonrpc', { service, method, args }, this.nextId++)).value;
  }

  async version(): Promise<VersionInfo> {
    return toVersionInfo(await this.service('common', 'version', []));
  }

  async call(model: string, method: string, args: unknown[], kwargs: Record<string, unknown>): Promise<unknown> {
    const uid = await this.uid.get();
    return this.service('object', 'execute_kw', [this.config.db, uid, this.config.secret, model, method, args, kwargs]);
  }

  async close(): Promise<void> {}
}

class WebSessionTransport implements Transport {
  readonly protocol = 'web' as const;
  private readonly http: Http;
  private readonly config: OdooClientConfig;
  private readonly session: Once<string>;
  private cookie: string | undefined;
  private nextId = 1;

  constructor(http: Http, config: OdooClientConfig) {
    this.http = http;
    this.config = config;
    this.session = new Once(async () => {
      const { value, answer } = await jsonRpc(http, 'web', '/web/session/authenticate', { db: config.db, login: config.login, password: config.secret }, this.nextId++);
      const uid = (value as { uid?: unknown } | null)?.uid;
      if (typeof uid !== 'number' || uid <= 0) throw accessDenied('web');
      const sid = sessionCookie(answer.headers);
      if (!sid) throw protocolError('web', '/web/session/authenticate answered without a session_id cookie', answer);
      this.cookie = sid;
      return sid;
    });
  }

  private async post(path: string, params: unknown): Promise<unknown> {
    const sid = await this.session.get();
    const { value, answer } = await jsonRpc(this.http, 'web', path, params, this.nextId++, { Cookie: `session_id=${sid}` });
    const refreshed = sessionCookie(answer.headers);
    if (refreshed) this.cookie = refreshed;
    return value;
  }

  async version(): Promise<VersionInfo> {
    return toVersionInfo((await jsonRpc(this.http, 'web', '/jsonrpc', { service: 'common', method: 'version', args: [] }, this.nextId++)).value);
  }

  async call(model: string, method: string, args: unknown[], kwargs: Record<string, unknown>): Promise<unknown> {
    const path = `/web/dataset/call_kw/${model}/${method}`;
    const params = { model, method, args, kwargs };
    try {
      return await this.post(path, params);
    } catch (err) {
      if (!(err instanceof HubError) || err.code !== 'odoo.session_expired') throw err;
      // Expired or invalidated session: log in again once, repeat the call once.
      this.session.reset();
      this.cookie = undefined;
      return this.post(path, params);
    }
  }

  async close(): Promise<void> {
    if (!this.cookie) return;
    const sid = this.cookie;
    this.cookie = undefined;
    this.session.reset();
    try {
      await jsonRpc(this.http, 'web', '/web/session/destroy', {}, this.nextId++, { Cookie: `session_id=${sid}` });
    } catch {
      // Logging out is best effort: the session expires by itself.
    }
  }
}

function sessionCookie(headers: Headers): string | undefined {
  const all = typeof headers.getSetCookie === 'function' ? headers.getSetCookie() : [headers.get('set-cookie') ?? ''];
  for (const c of all) {
    const m = /^\s*session_id=([^;]*)/.exec(c);
    if (m && m[1]) return m[1];
  }
  return undefined;
}

/**
 * Positional parameter names of the common ORM methods (after `ids` for record methods),
 * as JSON-2 wants them named. Record methods take `ids` from args[0].
 */
const JSON2_SIGNATURES: Record<string, { ids: boolean; params: string[] }> = {
  search: { ids: false, params: ['domain', 'offset', 'limit', 'order'] },
  search_read: { ids: false, params: ['domain', 'fields', 'offset', 'limit', 'order'] },
  search_count: { ids: false, params: ['domain', 'limit'] },
  search_fetch: { ids: false, params: ['domain', 'field_names', 'offset', 'limit', 'order'] },
  name_search: { ids: false, params: ['name', 'domain', 'operator', 'limit'] },
  read_group: { ids: false, params: ['domain', 'fields', 'groupby', 'offset', 'limit', 'orderby', 'lazy'] },
  fields_get: { ids: false, params: ['allfields', 'attributes'] },
  default_get: { ids: false, params: ['fields_list'] },
  create: { ids: false, params: ['vals_list'] },
  name_create: { ids: false, params: ['name'] },
  read: { ids: true, params: ['fields', 'load'] },
  write: { ids: true, params: ['vals'] },
  unlink: { ids: true, params: [] },
  copy: { ids: true, params: ['default'] },
  exists: { ids: true, params: [] },
};

function isIdList(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => Number.isInteger(x));
}

/** Converts an execute_kw style call into the JSON-2 named body. */
export function json2Body(model: string, method: string, args: unknown[], kwargs: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const sig = JSON2_SIGNATURES[method];
  let rest = args;
  if (sig ? sig.ids : rest.length > 0 && (isIdList(rest[0]) || Number.isInteger(rest[0]))) {
    if (rest.length > 0) {
      const ids = rest[0];
      body.ids = Number.isInteger(ids) ? [ids] : ids;
      rest = rest.slice(1);
    }
  }
  const names = sig?.params ?? [];
  if (rest.length > names.length) {
    throw clientError(`JSON-2 needs named parameters: ${model}.${method} got ${rest.length} positional argument(s) it cannot name; pass them in kwargs`);
  }
  rest.forEach((v, i) => {
    body[names[i]!] = v;
  });
  for (const [k, v] of Object.entries(kwargs)) {
    if (k in body) throw clientError(`${model}.${method}: parameter "${k}" given both positionally and by name`);
    body[k] = v;
  }
  return body;
}

class Json2Transport implements Transport {
  readonly protocol = 'json2' as const;
  private readonly http: Http;
  private readonly config: OdooClientConfig;

  constructor(http: Http, config: OdooClientConfig) {
    this.http = http;
    this.config = config;
  }

  async version(): Promise<VersionInfo> {
    return this.http.request('json2', 'web.version', 'GET', '/web/version', undefined, {}, (a) => {
      checkHttp('json2', a);
      try {
        return toVersionInfo(JSON.parse(a.body));
      } catch (err) {
        throw protocolError('json2', 'unreadable /web/version answer', a, err);
      }
    });
  }

  async call(model: string, method: string, args: unknown[], kwargs: Record<string, unknown>): Promise<unknown> {
    const named = json2Body(model, method, args, kwargs);
    let body: string;
    try {
      body = JSON.stringify(named);
    } catch (err) {
      throw clientError(`cannot encode the call as JSON: ${(err as Error).message}`, err);
    }
    const headers = { 'Content-Type': 'application/json; charset=utf-8', Authorization: `bearer ${this.config.secret}`, 'X-Odoo-Database': this.config.db };
    return this.http.request('json2', `${model}.${method}`, 'POST', `/json/2/${encodeURIComponent(model)}/${encodeURIComponent(method)}`, body, headers, (a) => {
      let parsed: unknown;
      let parseError: unknown;
      try {
        parsed = JSON.parse(a.body);
      } catch (err) {
        parseError = err;
      }
      if (a.status >= 200 && a.status < 300) {
        if (parseError !== undefined) throw protocolError('json2', `unreadable JSON-2 answer (${a.contentType || 'no content type'})`, a, parseError);
        return parsed === null ? NO_RESULT : parsed;
      }
      if (parseError === undefined && parsed && typeof parsed === 'object' && typeof (parsed as { name?: unknown }).name === 'string') {
        throw odooError(json2ErrorFailure(a.status, parsed, parseRetryAfter(a.headers.get('retry-after'))));
      }
      throw odooError(httpFailure(a.status, a.body, 'json2', parseRetryAfter(a.headers.get('retry-after'))));
    });
  }

  async close(): Promise<void> {}
}

// ------------------------------------------------------------------ the client

/** Creates a client; nothing is sent until the first call. */
export function createOdooClient(config: OdooClientConfig): OdooClient {
  const http = new Http(config);
  const choice = config.protocol ?? 'auto';
  const isApiKey = config.secretKind ? config.secretKind === 'api_key' : looksLikeApiKey(config.secret);
  let closed = false;
  let cachedVersion: Promise<VersionInfo> | undefined;

  const make = (p: Exclude<OdooProtocolChoice, 'auto'>): Transport => {
    switch (p) {
      case 'xmlrpc':
        return new XmlRpcTransport(http, config);
      case 'jsonrpc':
        return new JsonRpcTransport(http, config);
      case 'web':
        return new WebSessionTransport(http, config);
      case 'json2':
        return new Json2Transport(http, config);
    }
  };

  // For auto, the version is read over /jsonrpc (present up to Odoo 21).
  const probe = choice === 'auto' ? new JsonRpcTransport(http, config) : undefined;
  const transport = new Once<Transport>(async () => {
    if (choice !== 'auto') return make(choice);
    const v = await version();
    return make(v.major >= 19 && isApiKey ? 'json2' : 'jsonrpc');
  });

  function version(): Promise<VersionInfo> {
    if (!cachedVersion) {
      const p = probe ? probe.version() : transport.get().then((t) => t.version());
      cachedVersion = p;
      p.catch(() => {
        if (cachedVersion === p) cachedVersion = undefined;
      });
    }
    return cachedVersion;
  }

  const ensureOpen = () => {
    if (closed) throw odooError({ source: 'client', message: 'the Odoo client is closed' });
  };

  return {
    async version() {
      ensureOpen();
      return version();
    },
    async ping() {
      ensureOpen();
      return probe ? probe.version() : (await transport.get()).version();
    },
    async call(model, method, args = [], kwargs = {}) {
      ensureOpen();
      const t = await transport.get();
      return t.call(model, method, args, kwargs);
    },
    async protocol() {
      return (await transport.get()).protocol;
    },
    async close() {
      if (closed) return;
      closed = true;
      const started = transport.peek();
      if (!started) return;
      try {
        await (await started).close();
      } catch {
        // Nothing to close when the transport never came up.
      }
    },
  };
}
