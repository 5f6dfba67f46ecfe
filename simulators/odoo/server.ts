/**
 * The Odoo simulator's HTTP face: every endpoint a client of Odoo 17/18/19 uses, with the
 * envelopes, statuses, cookies and error shapes of a genuine server (the transcripts in
 * test/fixtures/odoo-18 are the specification), over the in-memory ORM in ./orm.
 *
 *   POST /xmlrpc/2/common | /xmlrpc/2/object | /xmlrpc/2/db    XML-RPC (integer faultCodes 1-4)
 *   POST /xmlrpc/common | /xmlrpc/object | /xmlrpc/db          legacy XML-RPC (string faultCodes)
 *   POST /jsonrpc                                              JSON-RPC {service, method, args}
 *   POST /web/session/authenticate, /web/session/get_session_info, /web/session/destroy
 *   POST /web/dataset/call_kw[/<model>/<method>]               JSON-RPC through a session cookie
 *   POST /web/version
 *   POST /json/2/<model>/<method>                              Odoo 19 only: bearer API key, named arguments
 *
 * Simulator administration (not Odoo's): /__sim/faults, /__sim/reset, /__sim/automations,
 * /__sim/stats. Every RPC call is counted per model and method, so benchmarks can report
 * how many calls a client made.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SimListener } from '../common/listener.ts';
import { Faults, proxyErrorPage, type CallInfo, type FaultSpec } from './faults.ts';
import { OdooDatabase, type CommittedChange } from './orm/database.ts';
import { OdooException } from './orm/errors.ts';
import {
  CannotMarshal,
  XmlSyntaxError,
  decodeMethodCall,
  encodeFault,
  encodeJsonRpcError,
  encodeJsonRpcResult,
  encodeMethodResponse,
  pyJsonDumps,
  pythonTraceback,
} from './wire.ts';

export type { OdooVersion } from './orm/versions.ts';
import type { OdooVersion } from './orm/versions.ts';

export interface OdooSimulatorOptions {
  port?: number;
  host?: string;
  version?: OdooVersion;
  /** the database name clients must use (default "logi", as in the transcripts) */
  db?: string;
  now?: () => Date;
  /** largest accepted request body */
  maxBodyBytes?: number;
}

interface Session {
  uid: number;
  login: string;
  db: string;
  /** a fresh login: the next answer re-sends the cookie (Odoo saves the session once more) */
  dirty: boolean;
}

export interface AutomationRule {
  id: number;
  model: string;
  /**
   * Trigger fields: a write fires only when the value of one of them changed (any change when
   * absent). A create always fires, as Odoo's "on create and edit" trigger does.
   */
  fields?: string[];
  /** Odoo's "apply on" filter: only records matching this domain (after the change) are sent */
  domain?: unknown[];
  /** fields sent in the payload besides id */
  payloadFields?: string[];
  url: string;
}

const VERSION_INFO: Record<OdooVersion, { server_version: string; server_version_info: (number | string)[]; server_serie: string; protocol_version: number }> = {
  17: { server_version: '17.0-20250701', server_version_info: [17, 0, 0, 'final', 0, ''], server_serie: '17.0', protocol_version: 1 },
  18: { server_version: '18.0-20250702', server_version_info: [18, 0, 0, 'final', 0, ''], server_serie: '18.0', protocol_version: 1 },
  19: { server_version: '19.0-20251001', server_version_info: [19, 0, 0, 'final', 0, ''], server_serie: '19.0', protocol_version: 1 },
};

/** The session_info a genuine Odoo 18 returned (simulators/odoo/data/session-info.json). */
const SESSION_INFO_TEMPLATE = JSON.parse(readFileSync(new URL('./data/session-info.json', import.meta.url), 'utf8')) as Record<string, unknown>;

const XML_TYPE = 'text/xml; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
const HTML_TYPE = 'text/html; charset=utf-8';
const BUSINESS = new Set(['odoo.exceptions.UserError', 'odoo.exceptions.ValidationError', 'odoo.exceptions.MissingError', 'odoo.exceptions.RedirectWarning']);

class HttpAnswer {
  status: number;
  type: string;
  body: string;
  headers: Record<string, string | string[]>;
  constructor(status: number, type: string, body: string, headers: Record<string, string | string[]> = {}) {
    this.status = status;
    this.type = type;
    this.body = body;
    this.headers = headers;
  }
}

/** An exception as Odoo would raise it, for the envelopes. */
interface Raised {
  /** as a traceback prints it: ValueError, odoo.exceptions.UserError */
  pyClass: string;
  /** as JSON-RPC's data.name gives it: builtins.ValueError, odoo.exceptions.UserError */
  name: string;
  message: string;
  arguments: unknown[];
}

const qualified = (pyClass: string) => (pyClass.includes('.') ? pyClass : `builtins.${pyClass}`);

function raisedOf(e: unknown): Raised {
  if (e instanceof OdooException) return { pyClass: e.pyClass, name: e.qualifiedName, message: e.message, arguments: e.arguments ?? [e.message] };
  if (e instanceof CannotMarshal) return { pyClass: 'TypeError', name: 'builtins.TypeError', message: e.message, arguments: [e.message] };
  if (e instanceof XmlSyntaxError) return { pyClass: 'xml.parsers.expat.ExpatError', name: 'xml.parsers.expat.ExpatError', message: e.message, arguments: [e.message] };
  const message = e instanceof Error ? e.message : String(e);
  return { pyClass: 'Exception', name: 'builtins.Exception', message, arguments: [message] };
}

const shortClass = (pyClass: string) => pyClass.split('.').at(-1)!;

function unknownDb(db: string): OdooException {
  const msg = `connection to server at "127.0.0.1", port 5432 failed: FATAL:  database "${db}" does not exist\n`;
  return new OdooException('psycopg2.OperationalError', msg);
}

function serializationFailure(): OdooException {
  return new OdooException('psycopg2.errors.SerializationFailure', 'could not serialize access due to concurrent update\n');
}

function accessDenied(): OdooException {
  return new OdooException('odoo.exceptions.AccessDenied', 'Access Denied');
}

/** What a JSON route handler decided: a result, an error, a ready answer (faults) or a dropped connection. */
interface JsonOutcome {
  result?: unknown;
  error?: Raised;
  code?: number;
  nullId?: boolean;
  headers?: Record<string, string | string[]>;
  answer?: HttpAnswer;
  dropped?: boolean;
}

const sessionExpired = (): Raised => ({ pyClass: 'odoo.http.SessionExpiredException', name: 'odoo.http.SessionExpiredException', message: 'Session expired', arguments: ['Session expired'] });

export class OdooSimulator {
  readonly version: OdooVersion;
  readonly dbName: string;
  readonly faults = new Faults();
  readonly calls = new Map<string, number>();
  readonly automations: AutomationRule[] = [];
  readonly deliveredHooks: { url: string; status: number | string; payload: unknown }[] = [];
  db: OdooDatabase;
  url = '';
  readonly #listener: SimListener;
  readonly #now: () => Date;
  readonly #maxBody: number;
  readonly #sessions = new Map<string, Session>();
  #nextRule = 1;

  private constructor(o: OdooSimulatorOptions) {
    this.version = o.version ?? 18;
    this.dbName = o.db ?? 'logi';
    this.#now = o.now ?? (() => new Date());
    this.#listener = new SimListener((req, res) => this.#handle(req, res), { ...(o.host ? { host: o.host } : {}), ...(o.port ? { port: o.port } : {}) });
    this.#maxBody = o.maxBodyBytes ?? 16 * 1024 * 1024;
    this.db = new OdooDatabase({ name: this.dbName, version: this.version, now: this.#now });
    this.db.onCommit((changes) => this.#automate(changes));
  }

  static async start(o: OdooSimulatorOptions = {}): Promise<OdooSimulator> {
    const sim = new OdooSimulator(o);
    sim.url = await sim.#listener.listen();
    return sim;
  }

  /** Total RPC calls answered (or attempted) since the start or the last reset of the counters. */
  get totalCalls(): number {
    let n = 0;
    for (const v of this.calls.values()) n += v;
    return n;
  }

  resetCounters(): void {
    this.calls.clear();
  }

  /** A fresh database with the demo data, no sessions, no faults, no automations. */
  reset(): void {
    this.db = new OdooDatabase({ name: this.dbName, version: this.version, now: this.#now });
    this.db.onCommit((changes) => this.#automate(changes));
    this.#sessions.clear();
    this.faults.clear();
    this.automations.length = 0;
    this.deliveredHooks.length = 0;
    this.resetCounters();
  }

  setFaults(spec: FaultSpec): void {
    this.faults.set(spec);
    if (spec.expireSessions) this.#sessions.clear();
    if (spec.down) void this.goDown(spec.down.forMs);
  }

  /** Closes the listener (connection refused) and reopens it on the same port after `forMs`. */
  goDown(forMs: number): Promise<void> {
    return this.#listener.goDown(forMs);
  }

  /** Listens again after goDown (at once, whatever was scheduled). */
  up(): Promise<void> {
    return this.#listener.up();
  }

  stop(): Promise<void> {
    return this.#listener.stop();
  }

  addAutomation(rule: Omit<AutomationRule, 'id'>): AutomationRule {
    const r = { ...rule, id: this.#nextRule++ };
    this.automations.push(r);
    return r;
  }

  // ------------------------------------------------------------------ plumbing

  #count(call: CallInfo): void {
    const k = `${call.model ?? '-'}.${call.method ?? '-'}`;
    this.calls.set(k, (this.calls.get(k) ?? 0) + 1);
  }

  async #readBody(req: IncomingMessage): Promise<Buffer | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > this.#maxBody) return undefined;
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    try {
      if (path.startsWith('/__sim/')) return this.#send(res, await this.#admin(req, path));
      const body = await this.#readBody(req);
      if (body === undefined) return this.#send(res, new HttpAnswer(413, HTML_TYPE, '<!doctype html>\n<html lang=en>\n<title>413 Request Entity Too Large</title>\n'));
      const answer = await this.#route(req, path, body, res);
      if (answer) this.#send(res, answer);
    } catch (e) {
      this.#send(res, new HttpAnswer(500, HTML_TYPE, `<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>${String((e as Error).message).replace(/[<&>]/g, '')}</p>\n`));
    }
  }

  #send(res: ServerResponse, a: HttpAnswer): void {
    if (res.destroyed) return;
    res.statusCode = a.status;
    res.setHeader('Content-Type', a.type);
    for (const [k, v] of Object.entries(a.headers)) res.setHeader(k, v);
    res.setHeader('Content-Length', Buffer.byteLength(a.body));
    res.end(a.body);
  }

  /**
   * Faults shared by every RPC route: latency, proxy errors, slow answers. Returns an
   * answer when the call ends here. `dropAfterCommit` is applied after the call ran.
   */
  async #before(call: CallInfo): Promise<HttpAnswer | undefined> {
    this.#count(call);
    if (this.faults.latencyMs) await sleep(this.faults.latencyMs);
    const proxy = this.faults.take('proxyError', call);
    if (proxy) return new HttpAnswer(proxy.status, 'text/html', proxyErrorPage(proxy.status));
    const slow = this.faults.take('slow', call);
    if (slow) await sleep(slow.ms);
    return undefined;
  }

  /** Runs an ORM call with the serialization-failure fault and the automations. */
  #execute(uid: number, model: string, method: string, args: unknown[], kwargs: Record<string, unknown>): unknown {
    if (this.faults.take('serializationFailures', { model, method })) throw serializationFailure();
    return this.db.call(uid, model, method, args, kwargs);
  }

  /** After a call committed: with dropAfterCommit the client gets no answer at all. */
  #dropped(res: ServerResponse, call: CallInfo): boolean {
    if (!this.faults.take('dropAfterCommit', call)) return false;
    res.socket?.destroy();
    return true;
  }

  async #route(req: IncomingMessage, path: string, body: Buffer, res: ServerResponse): Promise<HttpAnswer | undefined> {
    // Odoo 19 answers GET /web/version with plain JSON (what JSON-2 clients read before calling)
    if (req.method === 'GET' && path === '/web/version' && this.version >= 19) {
      const early = await this.#before({ model: 'web', method: 'version' });
      return early ?? new HttpAnswer(200, JSON_TYPE, pyJsonDumps(VERSION_INFO[this.version]));
    }
    if (req.method !== 'POST') {
      return new HttpAnswer(405, HTML_TYPE, '<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n');
    }
    const xml = /^\/xmlrpc\/(2\/)?(common|object|db)$/.exec(path);
    if (xml) return this.#xmlrpc(xml[2]!, !xml[1], body, res);
    if (path === '/jsonrpc') return this.#jsonRoute(req, body, res, (p) => this.#jsonrpcService(p));
    if (path === '/web/session/authenticate') return this.#jsonRoute(req, body, res, (p) => this.#webAuthenticate(p));
    if (path === '/web/version') {
      return this.#jsonRoute(req, body, res, async () => ({ result: VERSION_INFO[this.version] }));
    }
    if (path === '/web/session/get_session_info' || path === '/web/session/destroy' || path === '/web/dataset/call_kw' || path.startsWith('/web/dataset/call_kw/')) {
      return this.#jsonRoute(req, body, res, (p) => this.#webSession(req, path, p));
    }
    const j2 = /^\/json\/2\/([^/]+)\/([^/]+)$/.exec(path);
    if (j2 && this.version >= 19) return this.#json2(req, decodeURIComponent(j2[1]!), decodeURIComponent(j2[2]!), body, res);
    return new HttpAnswer(404, HTML_TYPE, '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n');
  }

  // ------------------------------------------------------------------ XML-RPC

  async #xmlrpc(service: string, legacy: boolean, body: Buffer, res: ServerResponse): Promise<HttpAnswer | undefined> {
    let call: { methodName: string; params: unknown[] };
    try {
      call = decodeMethodCall(body.toString('utf8'));
    } catch (e) {
      this.#count({ model: `xmlrpc.${service}`, method: 'malformed' });
      return this.#xmlFault(raisedOf(e), legacy);
    }
    const p = call.params;
    const info: CallInfo = service === 'object' ? { model: String(p[3] ?? ''), method: String(p[4] ?? '') } : { model: `xmlrpc.${service}`, method: call.methodName };
    const early = await this.#before(info);
    if (early) return early;
    let result: unknown;
    try {
      result = this.#dispatch(service, call.methodName, p);
    } catch (e) {
      if (this.#dropped(res, info)) return undefined;
      return this.#xmlFault(raisedOf(e), legacy);
    }
    if (this.#dropped(res, info)) return undefined;
    try {
      return new HttpAnswer(200, XML_TYPE, encodeMethodResponse(result));
    } catch (e) {
      // committed already, like Odoo: the answer cannot be marshalled
      return this.#xmlFault(raisedOf(e), legacy);
    }
  }

  #xmlFault(r: Raised, legacy: boolean): HttpAnswer {
    if (legacy) {
      if (r.pyClass === 'odoo.exceptions.AccessDenied') return new HttpAnswer(200, XML_TYPE, encodeFault('AccessDenied', 'Access Denied'));
      if (BUSINESS.has(r.pyClass)) return new HttpAnswer(200, XML_TYPE, encodeFault(`warning -- ${shortClass(r.pyClass)}\n\n${r.message}`, ''));
      return new HttpAnswer(200, XML_TYPE, encodeFault(pythonTraceback(r.pyClass, r.message), ''));
    }
    if (BUSINESS.has(r.pyClass)) return new HttpAnswer(200, XML_TYPE, encodeFault(2, r.message));
    if (r.pyClass === 'odoo.exceptions.AccessDenied') return new HttpAnswer(200, XML_TYPE, encodeFault(3, 'Access Denied'));
    if (r.pyClass === 'odoo.exceptions.AccessError') return new HttpAnswer(200, XML_TYPE, encodeFault(4, r.message));
    return new HttpAnswer(200, XML_TYPE, encodeFault(1, pythonTraceback(r.pyClass, r.message)));
  }

  /** The services behind /xmlrpc and /jsonrpc. */
  #dispatch(service: string, method: string, args: unknown[]): unknown {
    if (service === 'common') {
      if (method === 'version') return VERSION_INFO[this.version];
      if (method === 'authenticate' || method === 'login') {
        const [db, login, password] = args;
        this.#checkDb(db);
        return this.db.authenticate(String(login), String(password));
      }
      throw new OdooException('Exception', `Method not found: ${method}`);
    }
    if (service === 'db') {
      if (method === 'list') return [this.dbName];
      if (method === 'server_version') return VERSION_INFO[this.version].server_version;
      throw new OdooException('KeyError', `'${method}'`);
    }
    if (service === 'object') {
      if (method !== 'execute_kw' && method !== 'execute') throw new OdooException('NameError', `Method not available ${method}`);
      const [db, uid, password, model, orm, ...rest] = args;
      this.#checkDb(db);
      const who = this.db.authenticate(this.db.loginOf(Number(uid)) ?? '', String(password));
      if (who === false || who !== Number(uid)) throw accessDenied();
      const positional = method === 'execute_kw' ? ((rest[0] ?? []) as unknown[]) : rest;
      const kwargs = method === 'execute_kw' ? ((rest[1] ?? {}) as Record<string, unknown>) : {};
      if (!Array.isArray(positional)) throw new OdooException('TypeError', 'execute_kw() argument after * must be an iterable, not ' + typeof positional);
      return this.#execute(Number(uid), String(model), String(orm), positional, kwargs ?? {});
    }
    throw new OdooException('Exception', `No such service ${service}`);
  }

  #checkDb(db: unknown): void {
    if (db !== this.dbName) throw unknownDb(String(db));
  }

  // ------------------------------------------------------------------ JSON-RPC

  /**
   * A type='json' route: JSON content type (else 400 HTML), parseable body (else 400
   * "Invalid JSON data"), id echoed (null when absent), errors in the 200 envelope.
   */
  async #jsonRoute(
    req: IncomingMessage,
    body: Buffer,
    res: ServerResponse,
    fn: (params: Record<string, unknown>) => Promise<JsonOutcome>,
  ): Promise<HttpAnswer | undefined> {
    const ct = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (ct !== 'application/json' && ct !== 'application/json-rpc') {
      const path = (req.url ?? '').split('?')[0];
      return new HttpAnswer(400, HTML_TYPE, `<!doctype html>\n<html lang=en>\n<title>400 Bad Request</title>\n<h1>Bad Request</h1>\n<p>Request inferred type is compatible with [&#39;http&#39;] but &#39;${path}&#39; is type=&#39;json&#39;.</p>\n`);
    }
    let msg: { id?: unknown; params?: unknown };
    try {
      msg = JSON.parse(body.toString('utf8')) as typeof msg;
      if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new Error('not an object');
    } catch {
      return new HttpAnswer(400, HTML_TYPE, 'Invalid JSON data');
    }
    const id = (typeof msg.id === 'string' || typeof msg.id === 'number' ? msg.id : null) as string | number | null;
    const params = (typeof msg.params === 'object' && msg.params !== null ? msg.params : {}) as Record<string, unknown>;
    const out = await fn(params);
    if (out.answer) return out.answer;
    if (out.dropped) {
      res.socket?.destroy();
      return undefined;
    }
    if (out.error) {
      const r = out.error;
      const code = out.code ?? 200;
      const error = {
        code,
        message: code === 100 ? 'Odoo Session Expired' : 'Odoo Server Error',
        data: { name: r.name, debug: pythonTraceback(r.pyClass, r.message), message: r.message, arguments: r.arguments, context: {} },
      };
      return new HttpAnswer(200, JSON_TYPE, encodeJsonRpcError(out.nullId ? null : id, error), out.headers ?? {});
    }
    return new HttpAnswer(200, JSON_TYPE, encodeJsonRpcResult(id, out.result), out.headers ?? {});
  }

  /** /jsonrpc: {service, method, args}; the top-level method and jsonrpc members are ignored. */
  async #jsonrpcService(p: Record<string, unknown>): Promise<JsonOutcome> {
    const service = String(p.service ?? '');
    const method = String(p.method ?? '');
    const args = Array.isArray(p.args) ? (p.args as unknown[]) : [];
    const info: CallInfo = service === 'object' ? { model: String(args[3] ?? ''), method: String(args[4] ?? '') } : { model: `jsonrpc.${service}`, method };
    const early = await this.#before(info);
    if (early) return { answer: early };
    try {
      const result = this.#dispatch(service, method, args);
      return this.faults.take('dropAfterCommit', info) ? { dropped: true } : { result };
    } catch (e) {
      return this.faults.take('dropAfterCommit', info) ? { dropped: true } : { error: raisedOf(e) };
    }
  }

  #cookie(sid: string, maxAge = 604800): string {
    const expires = new Date(this.#now().getTime() + 365 * 86400_000).toUTCString();
    return `session_id=${sid}; Expires=${expires}; Max-Age=${maxAge}; HttpOnly; Path=/`;
  }

  #newSessionId(): string {
    return randomBytes(63).toString('base64url'); // 84 characters, as Odoo's
  }

  /** Odoo's session_info, from the one a genuine Odoo 18 returned, with this session's user and database. */
  #sessionInfo(s: Session): Record<string, unknown> {
    const info = structuredClone(SESSION_INFO_TEMPLATE);
    return {
      ...info,
      uid: s.uid,
      is_system: s.uid === 2,
      is_admin: s.uid === 2,
      user_context: { ...(info.user_context as object), uid: s.uid },
      db: s.db,
      server_version: VERSION_INFO[this.version].server_version,
      server_version_info: VERSION_INFO[this.version].server_version_info,
      username: s.login,
      'web.base.url': this.url,
    };
  }

  /** /web/session/authenticate: bad credentials are an AccessDenied error here (not false). */
  async #webAuthenticate(p: Record<string, unknown>): Promise<JsonOutcome> {
    const info: CallInfo = { model: 'web.session', method: 'authenticate' };
    const early = await this.#before(info);
    if (early) return { answer: early };
    try {
      this.#checkDb(p.db);
      const uid = this.db.authenticate(String(p.login ?? ''), String(p.password ?? ''));
      if (uid === false) throw accessDenied();
      const sid = this.#newSessionId();
      const session = { uid, login: String(p.login), db: this.dbName, dirty: true };
      this.#sessions.set(sid, session);
      return { result: this.#sessionInfo(session), headers: { 'Set-Cookie': this.#cookie(sid) } };
    } catch (e) {
      return { error: raisedOf(e) };
    }
  }

  /** The session routes: a missing, unknown or destroyed cookie is code 100 with id null. */
  async #webSession(req: IncomingMessage, path: string, p: Record<string, unknown>): Promise<JsonOutcome> {
    const sid = /(?:^|;\s*)session_id=([^;]+)/.exec(String(req.headers.cookie ?? ''))?.[1];
    const session = sid ? this.#sessions.get(sid) : undefined;
    const model = String(p.model ?? '');
    const method = String(p.method ?? '');
    const info: CallInfo = path.startsWith('/web/dataset') ? { model, method } : { model: 'web.session', method: path.split('/').at(-1)! };
    const early = await this.#before(info);
    if (early) return { answer: early };
    if (!sid || !session) return { error: sessionExpired(), code: 100, nullId: true };
    const refresh = { 'Set-Cookie': this.#cookie(sid) };
    if (path === '/web/session/get_session_info') return { result: this.#sessionInfo(session), headers: refresh };
    // the first call after a login re-sends the same cookie; later calls do not (as recorded)
    const resend = session.dirty ? refresh : undefined;
    session.dirty = false;
    if (path === '/web/session/destroy') {
      this.#sessions.delete(sid);
      return { result: undefined, headers: { 'Set-Cookie': [`cids=; Expires=${new Date(this.#now().getTime() + 365 * 86400_000).toUTCString()}; Max-Age=0; Path=/`, this.#cookie(this.#newSessionId())] } };
    }
    const args = Array.isArray(p.args) ? (p.args as unknown[]) : [];
    const kwargs = (typeof p.kwargs === 'object' && p.kwargs !== null ? p.kwargs : {}) as Record<string, unknown>;
    try {
      const result = this.#execute(session.uid, model, method, args, kwargs);
      return this.faults.take('dropAfterCommit', info) ? { dropped: true } : { result, ...(resend ? { headers: resend } : {}) };
    } catch (e) {
      return this.faults.take('dropAfterCommit', info) ? { dropped: true } : { error: raisedOf(e) };
    }
  }

  // ------------------------------------------------------------------ JSON-2 (Odoo 19)

  async #json2(req: IncomingMessage, model: string, method: string, body: Buffer, res: ServerResponse): Promise<HttpAnswer | undefined> {
    const errorAnswer = (status: number, r: Raised) =>
      new HttpAnswer(status, JSON_TYPE, pyJsonDumps({ name: r.name, message: r.message, arguments: r.arguments, context: {}, debug: pythonTraceback(r.pyClass, r.message) }));
    const info: CallInfo = { model, method };
    const early = await this.#before(info);
    if (early) return early;
    const auth = /^bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
    const uid = auth ? this.db.authenticateApiKey(auth[1]!) : false;
    if (uid === false) return errorAnswer(401, { pyClass: 'werkzeug.exceptions.Unauthorized', name: 'werkzeug.exceptions.Unauthorized', message: 'Invalid apikey', arguments: ['Invalid apikey', 401] });
    const dbHeader = req.headers['x-odoo-database'];
    if (dbHeader !== undefined && dbHeader !== this.dbName) return errorAnswer(404, { pyClass: 'werkzeug.exceptions.NotFound', name: 'werkzeug.exceptions.NotFound', message: 'Database not found', arguments: ['Database not found', 404] });
    let params: Record<string, unknown>;
    try {
      const parsed = JSON.parse(body.toString('utf8') || '{}') as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      params = parsed as Record<string, unknown>;
    } catch {
      return errorAnswer(400, { pyClass: 'werkzeug.exceptions.BadRequest', name: 'werkzeug.exceptions.BadRequest', message: 'Invalid JSON data', arguments: ['Invalid JSON data', 400] });
    }
    const { ids, context, ...named } = params;
    const { args, kwargs } = json2Arguments(method, ids, named);
    if (context !== undefined) kwargs.context = context;
    let result: unknown;
    try {
      result = this.#execute(uid, model, method, args, kwargs);
    } catch (e) {
      if (this.#dropped(res, info)) return undefined;
      const r = raisedOf(e);
      return errorAnswer(json2Status(r.pyClass), r);
    }
    if (this.#dropped(res, info)) return undefined;
    return new HttpAnswer(200, JSON_TYPE, pyJsonDumps(result === undefined ? null : result));
  }

  // ------------------------------------------------------------------ automations

  /**
   * Odoo's "send webhook notification" automation, run for every committed change however it
   * was made (an RPC write, or a business method such as button_validate moving a state):
   * unsigned POST, bare ids, 1 s timeout, never retried.
   */
  #automate(changes: CommittedChange[]): void {
    if (!this.automations.length) return;
    for (const rule of this.automations) {
      const ids = changes
        .filter((c) => c.model === rule.model && c.kind !== 'unlink')
        .filter((c) => c.kind === 'create' || !rule.fields || rule.fields.some((f) => c.fields.includes(f)))
        .map((c) => c.id);
      if (!ids.length) continue;
      const matching = rule.domain?.length
        ? (this.db.call(1, rule.model, 'search', [[['id', 'in', ids], ...rule.domain]], {}) as number[])
        : ids;
      if (!matching.length) continue;
      const rows = this.db.call(1, rule.model, 'read', [matching, ['id', ...(rule.payloadFields ?? [])]], { load: null }) as Record<string, unknown>[];
      for (const row of rows) {
        const payload = { _action: `Send Webhook Notification(#${rule.id})`, _id: row.id, _model: rule.model, ...row };
        void fetch(rule.url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: pyJsonDumps(payload), signal: AbortSignal.timeout(1000) })
          .then(async (r) => {
            await r.arrayBuffer().catch(() => undefined);
            this.deliveredHooks.push({ url: rule.url, status: r.status, payload });
          })
          .catch((e: Error) => this.deliveredHooks.push({ url: rule.url, status: e.name, payload }));
      }
    }
  }

  // ------------------------------------------------------------------ administration

  async #admin(req: IncomingMessage, path: string): Promise<HttpAnswer> {
    const json = (status: number, v: unknown) => new HttpAnswer(status, 'application/json', JSON.stringify(v));
    const body = req.method === 'POST' ? (await this.#readBody(req))?.toString('utf8') : undefined;
    let input: Record<string, unknown> = {};
    if (body) {
      try {
        input = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return json(400, { error: 'the body is not JSON' });
      }
    }
    if (path === '/__sim/faults') {
      if (req.method === 'DELETE') this.faults.clear();
      else if (req.method === 'POST') this.setFaults(input as FaultSpec);
      return json(200, this.faults.describe());
    }
    if (path === '/__sim/reset' && req.method === 'POST') {
      this.reset();
      return json(200, { reset: true });
    }
    if (path === '/__sim/automations') {
      if (req.method === 'POST') {
        if (typeof input.model !== 'string' || typeof input.url !== 'string') return json(400, { error: 'give model and url' });
        return json(201, this.addAutomation(input as Omit<AutomationRule, 'id'>));
      }
      return json(200, { rules: this.automations, delivered: this.deliveredHooks });
    }
    if (path === '/__sim/stats') return json(200, { total: this.totalCalls, calls: Object.fromEntries(this.calls) });
    return json(404, { error: `no admin resource ${path}` });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** JSON-2 named parameters as the ORM's positional and keyword arguments. */
export function json2Arguments(method: string, ids: unknown, named: Record<string, unknown>): { args: unknown[]; kwargs: Record<string, unknown> } {
  const kwargs = { ...named };
  const args: unknown[] = [];
  const hasIds = Array.isArray(ids);
  if (method === 'create') {
    if ('vals_list' in kwargs) args.push(kwargs.vals_list), delete kwargs.vals_list;
  } else if (method === 'write') {
    args.push(hasIds ? ids : []);
    if ('vals' in kwargs) args.push(kwargs.vals), delete kwargs.vals;
  } else if (hasIds) {
    args.push(ids);
  }
  return { args, kwargs };
}

/** HTTP status of a JSON-2 error by exception class. */
export function json2Status(pyClass: string): number {
  if (pyClass === 'odoo.exceptions.AccessDenied' || pyClass === 'werkzeug.exceptions.Unauthorized') return 401;
  if (pyClass === 'odoo.exceptions.AccessError') return 403;
  if (pyClass === 'odoo.exceptions.MissingError') return 404;
  if (BUSINESS.has(pyClass) || pyClass === 'TypeError' || pyClass === 'ValueError') return 422;
  if (pyClass.startsWith('psycopg2.errors.SerializationFailure')) return 503;
  return 500;
}

