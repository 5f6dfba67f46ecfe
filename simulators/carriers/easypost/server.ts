/**
 * An EasyPost API v2 simulator on the wire: the endpoints the hub's EasyPost adapter uses, with
 * EasyPost's paths, HTTP Basic authentication (the API key as user name, no password), object
 * shapes (`object`, prefixed ids, nested Address / Parcel / Rate / PostageLabel / Tracker), money
 * as decimal strings, UTC timestamps (`2026-11-24T11:43:06Z`) and the error body
 * `{ "error": { "code", "message", "errors": [...] } }`.
 *
 *   POST /v2/shipments                  create with rates (one parcel)
 *   GET  /v2/shipments/:id              by id or by reference
 *   POST /v2/shipments/:id/buy          { rate: { id } } → postage_label, tracking_code, tracker
 *   GET  /v2/shipments/:id/label        ?file_format=PDF|ZPL|PNG: converts the label
 *   POST /v2/shipments/:id/refund       refund_status "submitted"
 *   POST /v2/orders, GET /v2/orders/:id, POST /v2/orders/:id/buy { carrier, service }
 *   POST /v2/scan_forms                 { shipments: [{ id }] }; GET /v2/scan_forms/:id
 *   POST /v2/trackers                   { tracker: { tracking_code, carrier } }; GET /v2/trackers/:id
 *   GET  /files/...                     label and SCAN form files (public, like EasyPost's file URLs)
 *
 * Simulator administration (not EasyPost's), JSON bodies:
 *   POST /__sim/faults    { rateLimit: { count, retryAfterSeconds? }, down: { forMs }, status5xx: { count, status? },
 *                           latencyMs, failCarrier: "UPS" | null, failPurchases: "UPS" | null (quotes, then the buy fails),
 *                           webhookChaos: boolean, dropAfterCommit: { count, path? } }
 *   POST /__sim/advance   { seconds }   moves the simulator clock (trackers progress, webhooks fire)
 *   POST /__sim/script    { tracking_code, plan: [{ afterSeconds?, status, status_detail, message?, city?, state?, zip?, country? }] }
 *   POST /__sim/webhooks  { url, secret }   every tracker change is POSTed there as an Event
 *   POST /__sim/reset, GET /__sim/stats
 *
 * Trackers move with the simulator clock (`now` option plus `advance`): pre_transit →
 * in_transit → out_for_delivery → delivered over the service's transit days. Webhook Events
 * are signed `X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256 of the body>` keyed by the
 * NFKD-normalised secret (as EasyPost's client libraries verify it), retried on non-2xx with
 * exponential backoff.
 */
import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SimListener } from '../../common/listener.ts';
import {
  CARRIER_ACCOUNTS,
  addBusinessDays,
  billablePounds,
  carrierAccount,
  centsToDecimal,
  priceCents,
  zoneOf,
  type SimCarrierAccount,
  type SimService,
} from './catalog.ts';
import { renderLabelPdf, renderLabelPng, renderLabelZpl, renderScanFormPdf, type LabelContent } from './labels.ts';

export interface EasyPostSimulatorOptions {
  port?: number;
  host?: string;
  /** the simulator clock before any `advance` (default: the wall clock) */
  now?: () => Date;
  /** API keys accepted as the Basic user name (default ["EZTK_sim_test_key"]) */
  apiKeys?: string[];
  /** first webhook retry delay; doubles each attempt (default 1000 ms) */
  webhookBackoffMs?: number;
  /** attempts per webhook delivery before giving up (default 6) */
  webhookMaxAttempts?: number;
  /** calls `tick` on this interval (real-time use from main.ts); off by default */
  autoTickMs?: number;
}

export interface FaultSpec {
  /** the next `count` API calls answer 429; a Retry-After header only when retryAfterSeconds is given */
  rateLimit?: { count: number; retryAfterSeconds?: number };
  /** the listener closes (connection refused) for forMs, then reopens on the same port */
  down?: { forMs: number };
  /** the next `count` API calls answer a 5xx (500 with EasyPost's error body, or 502/503 HTML from the load balancer) */
  status5xx?: { count: number; status?: 500 | 502 | 503 };
  /** added before every API answer */
  latencyMs?: number;
  /** this carrier's rates fail (Shipment.messages rate_error) and its purchases fail (SHIPMENT.POSTAGE.FAILURE); null clears */
  failCarrier?: string | null;
  /** this carrier still quotes, but buying its labels fails (SHIPMENT.POSTAGE.FAILURE): its label service is down; null clears */
  failPurchases?: string | null;
  /** webhooks of one clock step are sent twice each and in reverse order */
  webhookChaos?: boolean;
  /** the next `count` API calls (whose path contains `path`, when given) are executed, then the connection is destroyed before the answer */
  dropAfterCommit?: { count: number; path?: string };
}

type Json = Record<string, unknown>;

interface PlanStep {
  atMs: number;
  status: string;
  statusDetail: string;
  message: string;
  location: { city: string | null; state: string | null; zip: string | null; country: string | null };
}

interface TrackerState {
  id: string;
  code: string;
  carrier: string;
  service: string | null;
  createdMs: number;
  shipmentId: string | null;
  weightOz: number | null;
  steps: PlanStep[];
  /** how many steps were visible at the last tick (webhooks fire for the new ones) */
  seen: number;
  estDeliveryMs: number | null;
  signedBy: string | null;
}

interface WebhookHook {
  id: string;
  url: string;
  secret: string;
}

interface FileEntry {
  type: string;
  body: Buffer;
}

class ApiError extends Error {
  status: number;
  code: string;
  errors: unknown[];
  constructor(status: number, code: string, message: string, errors: unknown[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.errors = errors;
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';
const HOUR = 3_600_000;

/** EasyPost's timestamp format: UTC, seconds, `Z`. */
export function epTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** HMAC-SHA256 hex of the body under the NFKD-normalised secret, as EasyPost signs webhooks. */
export function easyPostSignature(secret: string, body: Buffer | string): string {
  return 'hmac-sha256-hex=' + createHmac('sha256', Buffer.from(secret.normalize('NFKD'), 'utf8')).update(body).digest('hex');
}

const TEST_TRACKING_CODES: Record<string, string> = {
  EZ1000000001: 'pre_transit',
  EZ2000000002: 'in_transit',
  EZ3000000003: 'out_for_delivery',
  EZ4000000004: 'delivered',
  EZ5000000005: 'return_to_sender',
  EZ6000000006: 'failure',
  EZ7000000007: 'unknown',
};

export class EasyPostSimulator {
  url = '';
  readonly stats = {
    requests: {} as Record<string, number>,
    labelsPurchased: 0,
    refunds: 0,
    scanForms: 0,
    trackersCreated: 0,
    webhookEvents: 0,
    webhookAttempts: 0,
    webhookDelivered: 0,
    webhookFailedAttempts: 0,
  };

  readonly #listener: SimListener;
  #autoTick: NodeJS.Timeout | undefined;
  #baseNow: () => Date;
  #offsetMs = 0;
  #apiKeys: Set<string>;
  #backoffMs: number;
  #maxAttempts: number;
  #seq = 0;
  #stopped = false;
  #timers = new Set<NodeJS.Timeout>();

  #shipments = new Map<string, Json>();
  #labels = new Map<string, LabelContent>();
  #orders = new Map<string, Json>();
  #trackers = new Map<string, TrackerState>();
  #trackerByCode = new Map<string, string>();
  #pendingScripts = new Map<string, Json[]>();
  #scanForms = new Map<string, Json>();
  #files = new Map<string, FileEntry>();
  #webhooks: WebhookHook[] = [];
  #inflight = 0;

  #faults = {
    rateLimit: undefined as { count: number; retryAfterSeconds?: number } | undefined,
    status5xx: undefined as { count: number; status: 500 | 502 | 503 } | undefined,
    latencyMs: 0,
    failCarrier: null as string | null,
    failPurchases: null as string | null,
    webhookChaos: false,
    dropAfterCommit: undefined as { count: number; path?: string } | undefined,
  };

  private constructor(o: EasyPostSimulatorOptions) {
    this.#listener = new SimListener((req, res) => this.#handle(req, res), { ...(o.host ? { host: o.host } : {}), ...(o.port ? { port: o.port } : {}) });
    this.#baseNow = o.now ?? (() => new Date());
    this.#apiKeys = new Set(o.apiKeys ?? ['EZTK_sim_test_key']);
    this.#backoffMs = o.webhookBackoffMs ?? 1000;
    this.#maxAttempts = o.webhookMaxAttempts ?? 6;
    if (o.autoTickMs) {
      this.#autoTick = setInterval(() => this.tick(), o.autoTickMs);
      this.#autoTick.unref();
    }
  }

  static async start(o: EasyPostSimulatorOptions = {}): Promise<EasyPostSimulator> {
    const sim = new EasyPostSimulator(o);
    sim.url = await sim.#listener.listen();
    return sim;
  }

  /** The first accepted API key (for tests). */
  get apiKey(): string {
    return [...this.#apiKeys][0]!;
  }

  /** The simulator clock. */
  now(): Date {
    return new Date(this.#baseNow().getTime() + this.#offsetMs);
  }

  /** Moves the simulator clock forward; trackers progress and their webhooks fire. */
  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) throw new Error('advance: seconds must be a non-negative number');
    this.#offsetMs += seconds * 1000;
    this.tick();
  }

  setFaults(spec: FaultSpec): void {
    const f = this.#faults;
    if (spec.rateLimit) f.rateLimit = { ...spec.rateLimit };
    if (spec.status5xx) f.status5xx = { count: spec.status5xx.count, status: spec.status5xx.status ?? 500 };
    if (spec.latencyMs !== undefined) f.latencyMs = Math.max(0, spec.latencyMs);
    if (spec.failCarrier !== undefined) f.failCarrier = spec.failCarrier;
    if (spec.failPurchases !== undefined) f.failPurchases = spec.failPurchases;
    if (spec.webhookChaos !== undefined) f.webhookChaos = spec.webhookChaos;
    if (spec.dropAfterCommit) f.dropAfterCommit = { ...spec.dropAfterCommit };
    if (spec.down) void this.goDown(spec.down.forMs);
  }

  clearFaults(): void {
    this.#faults.rateLimit = this.#faults.status5xx = this.#faults.dropAfterCommit = undefined;
    this.#faults.latencyMs = 0;
    this.#faults.failCarrier = null;
    this.#faults.failPurchases = null;
    this.#faults.webhookChaos = false;
  }

  /** Registers a webhook endpoint; every tracker change is POSTed to it. */
  addWebhook(url: string, secret: string): { id: string; url: string } {
    const hook = { id: this.#id('hook'), url, secret };
    this.#webhooks.push(hook);
    return { id: hook.id, url };
  }

  /** Webhook deliveries (with their retries) still under way. */
  get webhooksInFlight(): number {
    return this.#inflight;
  }

  /**
   * Replaces the not-yet-visible steps of a tracker with `plan` (times relative to now, one hour
   * apart when `afterSeconds` is absent). For a tracking code not bought yet, the plan is kept and
   * applied (relative to the tracker's creation) when its tracker appears.
   */
  script(trackingCode: string, plan: Json[]): void {
    if (!Array.isArray(plan) || plan.length === 0) throw new ApiError(422, 'SIM.PLAN.INVALID', 'plan must be a non-empty array');
    for (const [i, s] of plan.entries()) {
      if (typeof s?.status !== 'string') throw new ApiError(422, 'SIM.PLAN.INVALID', `plan[${i}].status must be a string`);
    }
    const id = this.#trackerByCode.get(trackingCode);
    if (!id) {
      this.#pendingScripts.set(trackingCode, plan);
      return;
    }
    const t = this.#trackers.get(id)!;
    const nowMs = this.now().getTime();
    const visible = t.steps.filter((s) => s.atMs <= nowMs);
    t.steps = [...visible, ...this.#planSteps(plan, nowMs, t.steps.at(-1)?.location)];
    this.tick();
  }

  /** Everything back to empty: objects, webhooks, faults, clock offset, counters. */
  reset(): void {
    this.#shipments.clear();
    this.#labels.clear();
    this.#orders.clear();
    this.#trackers.clear();
    this.#trackerByCode.clear();
    this.#pendingScripts.clear();
    this.#scanForms.clear();
    this.#files.clear();
    this.#webhooks = [];
    this.#offsetMs = 0;
    this.clearFaults();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const k of Object.keys(this.stats) as (keyof typeof this.stats)[]) {
      if (k === 'requests') this.stats.requests = {};
      else this.stats[k] = 0;
    }
  }

  /** Closes the listener (connection refused) and reopens it on the same port after `forMs`. */
  goDown(forMs: number): Promise<void> {
    return this.#listener.goDown(forMs);
  }

  /** Listens again after goDown (at once, whatever was scheduled). */
  async up(): Promise<void> {
    if (!this.#stopped) await this.#listener.up();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#autoTick);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await this.#listener.stop();
  }

  // ------------------------------------------------------------------ plumbing

  #id(prefix: string): string {
    this.#seq += 1;
    return `${prefix}_${this.#seq.toString(16).padStart(32, '0')}`;
  }

  #send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  #sendError(res: ServerResponse, e: ApiError, headers: Record<string, string> = {}): void {
    this.#send(res, e.status, { error: { code: e.code, message: e.message, errors: e.errors } }, headers);
  }

  async #readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > 4 * 1024 * 1024) throw new ApiError(413, 'REQUEST.TOO_LARGE', 'The request body is too large.');
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks);
  }

  #parseJson(body: Buffer): Json {
    if (body.length === 0) return {};
    let v: unknown;
    try {
      v = JSON.parse(body.toString('utf8'));
    } catch {
      throw new ApiError(400, 'BAD_REQUEST', 'The request could not be understood by the server due to malformed syntax.');
    }
    const o = obj(v);
    if (!o) throw new ApiError(400, 'BAD_REQUEST', 'The request body must be a JSON object.');
    return o;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://sim');
    const method = req.method ?? 'GET';
    try {
      const raw = await this.#readBody(req);
      if (u.pathname.startsWith('/__sim/')) return this.#admin(method, u, raw, res);
      if (u.pathname.startsWith('/files/')) return this.#file(u.pathname, res);
      await this.#api(method, u, raw, req, res);
    } catch (e) {
      if (e instanceof ApiError) return this.#sendError(res, e);
      const message = e instanceof Error ? e.message : String(e);
      this.#sendError(res, new ApiError(500, 'INTERNAL_SERVER_ERROR', `We're sorry, something went wrong. (${message})`));
    }
  }

  #file(path: string, res: ServerResponse): void {
    const f = this.#files.get(path);
    if (!f) {
      res.writeHead(404, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>');
      return;
    }
    res.writeHead(200, { 'content-type': f.type, 'content-length': f.body.length });
    res.end(f.body);
  }

  #admin(method: string, u: URL, raw: Buffer, res: ServerResponse): void {
    const body = method === 'POST' ? this.#parseJson(raw) : {};
    switch (`${method} ${u.pathname}`) {
      case 'POST /__sim/faults': {
        const { down, ...rest } = body as FaultSpec;
        this.setFaults(rest);
        // answer first, then go down: the admin call itself is not cut off
        if (down) res.on('finish', () => void this.goDown(down.forMs));
        return this.#send(res, 200, { faults: this.#describeFaults(), ...(down ? { down } : {}) });
      }
      case 'POST /__sim/reset':
        this.reset();
        return this.#send(res, 200, { reset: true });
      case 'POST /__sim/advance': {
        const s = num(body.seconds);
        if (s === undefined || s < 0) throw new ApiError(422, 'SIM.ADVANCE.INVALID', 'seconds must be a non-negative number');
        this.advance(s);
        return this.#send(res, 200, { now: epTime(this.now().getTime()) });
      }
      case 'POST /__sim/script': {
        const code = str(body.tracking_code);
        if (!code) throw new ApiError(422, 'SIM.PLAN.INVALID', 'tracking_code is required');
        this.script(code, body.plan as Json[]);
        return this.#send(res, 200, { scripted: code });
      }
      case 'POST /__sim/webhooks': {
        const url = str(body.url);
        const secret = str(body.secret);
        if (!url || !/^https?:\/\//.test(url) || secret === undefined) throw new ApiError(422, 'WEBHOOK.INVALID', 'url (http or https) and secret are required');
        return this.#send(res, 201, this.addWebhook(url, secret));
      }
      case 'GET /__sim/stats':
        return this.#send(res, 200, { ...this.stats, now: epTime(this.now().getTime()), faults: this.#describeFaults(), webhooksInFlight: this.#inflight });
      default:
        throw new ApiError(404, 'NOT_FOUND', `no simulator route ${method} ${u.pathname}`);
    }
  }

  #describeFaults(): Json {
    const f = this.#faults;
    return { rateLimit: f.rateLimit ?? null, status5xx: f.status5xx ?? null, latencyMs: f.latencyMs, failCarrier: f.failCarrier, failPurchases: f.failPurchases, webhookChaos: f.webhookChaos, dropAfterCommit: f.dropAfterCommit ?? null };
  }

  async #api(method: string, u: URL, raw: Buffer, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const route = `${method} ${u.pathname.replace(/\/(shp|order|trk|sf|rate)_[0-9a-f]+/g, '/:id')}`;
    this.stats.requests[route] = (this.stats.requests[route] ?? 0) + 1;
    const f = this.#faults;
    if (f.latencyMs > 0) await new Promise((r) => setTimeout(r, f.latencyMs));
    if (f.rateLimit && f.rateLimit.count > 0) {
      f.rateLimit.count -= 1;
      const headers: Record<string, string> = f.rateLimit.retryAfterSeconds !== undefined ? { 'retry-after': String(f.rateLimit.retryAfterSeconds) } : {};
      if (f.rateLimit.count <= 0) f.rateLimit = undefined;
      return this.#sendError(res, new ApiError(429, 'RATE_LIMITED', 'You have exceeded the rate limit. Please reduce your request rate and retry with backoff.'), headers);
    }
    if (f.status5xx && f.status5xx.count > 0) {
      const status = f.status5xx.status;
      f.status5xx.count -= 1;
      if (f.status5xx.count <= 0) f.status5xx = undefined;
      if (status === 500) return this.#sendError(res, new ApiError(500, 'INTERNAL_SERVER_ERROR', "We're sorry, something went wrong. If the problem persists please contact support."));
      res.writeHead(status, { 'content-type': 'text/html' });
      res.end(`<html><head><title>${status}</title></head><body><center><h1>${status} ${status === 502 ? 'Bad Gateway' : 'Service Temporarily Unavailable'}</h1></center></body></html>`);
      return;
    }
    this.#authenticate(req);
    this.tick();
    const body = method === 'POST' || method === 'PUT' || method === 'PATCH' ? this.#parseJson(raw) : {};
    const { status, result } = this.#route(method, u, body);
    const drop = f.dropAfterCommit;
    if (drop && drop.count > 0 && (drop.path === undefined || u.pathname.includes(drop.path))) {
      drop.count -= 1;
      if (drop.count <= 0) f.dropAfterCommit = undefined;
      req.socket.destroy();
      return;
    }
    this.#send(res, status, result);
  }

  #authenticate(req: IncomingMessage): void {
    const h = req.headers.authorization ?? '';
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(h);
    let user = '';
    if (m) {
      const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
      user = decoded.includes(':') ? decoded.slice(0, decoded.indexOf(':')) : decoded;
    } else {
      const b = /^Bearer\s+(\S+)$/i.exec(h);
      if (b) user = b[1]!;
    }
    if (!user) throw new ApiError(401, 'APIKEY.REQUIRED', 'Missing or invalid API key.');
    if (!this.#apiKeys.has(user)) throw new ApiError(401, 'APIKEY.INVALID', 'The API key provided is invalid.');
  }

  #route(method: string, u: URL, body: Json): { status: number; result: unknown } {
    const p = u.pathname.replace(/\/+$/, '');
    let m: RegExpExecArray | null;
    if (method === 'POST' && p === '/v2/shipments') return { status: 201, result: this.#createShipment(obj(body.shipment) ?? body, null) };
    if ((m = /^\/v2\/shipments\/([^/]+)$/.exec(p)) && method === 'GET') return { status: 200, result: this.#shipment(m[1]!) };
    if ((m = /^\/v2\/shipments\/([^/]+)\/buy$/.exec(p)) && method === 'POST') return { status: 200, result: this.#buyShipment(this.#shipment(m[1]!), body) };
    if ((m = /^\/v2\/shipments\/([^/]+)\/label$/.exec(p)) && method === 'GET') return { status: 200, result: this.#convertLabel(this.#shipment(m[1]!), u.searchParams.get('file_format')) };
    if ((m = /^\/v2\/shipments\/([^/]+)\/refund$/.exec(p)) && method === 'POST') return { status: 200, result: this.#refund(this.#shipment(m[1]!)) };
    if (method === 'POST' && p === '/v2/orders') return { status: 201, result: this.#createOrder(obj(body.order) ?? body) };
    if ((m = /^\/v2\/orders\/([^/]+)$/.exec(p)) && method === 'GET') return { status: 200, result: this.#order(m[1]!) };
    if ((m = /^\/v2\/orders\/([^/]+)\/buy$/.exec(p)) && method === 'POST') return { status: 200, result: this.#buyOrder(this.#order(m[1]!), body) };
    if (method === 'POST' && p === '/v2/scan_forms') return { status: 201, result: this.#createScanForm(obj(body.scan_form) ?? body) };
    if ((m = /^\/v2\/scan_forms\/([^/]+)$/.exec(p)) && method === 'GET') {
      const sf = this.#scanForms.get(m[1]!);
      if (!sf) throw this.#notFound();
      return { status: 200, result: sf };
    }
    if (method === 'POST' && p === '/v2/trackers') return { status: 201, result: this.#createTracker(obj(body.tracker) ?? body) };
    if ((m = /^\/v2\/trackers\/([^/]+)$/.exec(p)) && method === 'GET') {
      const t = this.#trackers.get(m[1]!);
      if (!t) throw this.#notFound();
      return { status: 200, result: this.#trackerJson(t, this.now().getTime()) };
    }
    throw this.#notFound();
  }

  #notFound(): ApiError {
    return new ApiError(404, 'NOT_FOUND', 'The requested resource could not be found.');
  }

  // ------------------------------------------------------------------ addresses and parcels

  #address(v: unknown, field: string): Json {
    const a = obj(v);
    if (!a) throw new ApiError(422, 'SHIPMENT.INVALID_PARAMS', `${field} is required`, [{ field, message: 'is required' }]);
    const zip = str(a.zip) ?? '';
    const country = (str(a.country) ?? 'US').toUpperCase();
    const missing = ['street1', 'city'].filter((k) => !str(a[k]));
    if (country === 'US' && !zip) missing.push('zip');
    if (missing.length) {
      throw new ApiError(
        422,
        'ADDRESS.VERIFY.FAILURE',
        'Address not found',
        missing.map((k) => ({ field: k, message: `${k} is required`, suggestion: null })),
      );
    }
    if (zip === '00000') {
      throw new ApiError(422, 'ADDRESS.VERIFY.FAILURE', 'Address not found', [
        { field: 'address', message: 'Address not found', suggestion: null },
        { field: 'zip', message: 'Invalid zip code', suggestion: null },
      ]);
    }
    const t = epTime(this.now().getTime());
    return {
      id: this.#id('adr'),
      object: 'Address',
      created_at: t,
      updated_at: t,
      name: str(a.name) ?? null,
      company: str(a.company) ?? null,
      street1: str(a.street1)!,
      street2: str(a.street2) ?? null,
      city: str(a.city)!,
      state: str(a.state) ?? null,
      zip,
      country,
      phone: str(a.phone) ?? null,
      email: str(a.email) ?? null,
      mode: 'test',
      carrier_facility: null,
      residential: null,
      federal_tax_id: null,
      state_tax_id: null,
      verifications: {},
    };
  }

  #parcel(v: unknown): Json {
    const p = obj(v);
    const weight = num(p?.weight);
    if (!p || weight === undefined || weight <= 0) {
      throw new ApiError(422, 'PARCEL.PARAMETERS.INVALID', 'Parcel weight is required and must be greater than zero.', [{ field: 'weight', message: 'must be greater than 0' }]);
    }
    const dims = ['length', 'width', 'height'].map((k) => num(p[k]));
    if (dims.some((d) => d !== undefined && d <= 0) || (dims.some((d) => d !== undefined) && dims.some((d) => d === undefined))) {
      throw new ApiError(422, 'PARCEL.PARAMETERS.INVALID', 'Length, width and height must all be given and greater than zero.');
    }
    const t = epTime(this.now().getTime());
    return {
      id: this.#id('prcl'),
      object: 'Parcel',
      created_at: t,
      updated_at: t,
      length: dims[0] ?? null,
      width: dims[1] ?? null,
      height: dims[2] ?? null,
      predefined_package: null,
      weight,
      mode: 'test',
    };
  }

  // ------------------------------------------------------------------ shipments

  #lanes(from: Json, to: Json, restrict: string[] | undefined): { account: SimCarrierAccount; services: SimService[] }[] {
    const domestic = from.country === 'US' && to.country === 'US';
    return CARRIER_ACCOUNTS.filter((a) => !restrict || restrict.includes(a.id) || restrict.includes(a.carrier))
      .map((account) => ({ account, services: account.services.filter((s) => s.domestic === domestic) }))
      .filter((l) => l.services.length > 0);
  }

  #createShipment(s: Json, orderId: string | null, shared?: { to: Json; from: Json }): Json {
    const to = shared?.to ?? this.#address(s.to_address, 'to_address');
    const from = shared?.from ?? this.#address(s.from_address, 'from_address');
    const parcel = this.#parcel(s.parcel);
    const nowMs = this.now().getTime();
    const t = epTime(nowMs);
    const id = this.#id('shp');
    const options = { currency: 'USD', ...(obj(s.options) ?? {}) } as Json;
    const restrict = Array.isArray(s.carrier_accounts)
      ? (s.carrier_accounts as unknown[]).map((c) => str(c) ?? str(obj(c)?.id)).filter((c): c is string => !!c)
      : undefined;
    const shipDate = (str(options.label_date) ?? t).slice(0, 10);
    const domestic = from.country === 'US' && to.country === 'US';
    const zone = zoneOf(String(from.zip), String(to.zip), domestic);
    const pounds = billablePounds({ weight: parcel.weight as number, length: parcel.length as number, width: parcel.width as number, height: parcel.height as number });
    const rates: Json[] = [];
    const messages: Json[] = [];
    for (const { account, services } of this.#lanes(from, to, restrict)) {
      if (this.#faults.failCarrier && this.#faults.failCarrier.toLowerCase() === account.carrier.toLowerCase()) {
        messages.push({ carrier: account.carrier, carrier_account_id: account.id, type: 'rate_error', message: `${account.readable}: Service temporarily unavailable. Please try again later.` });
        continue;
      }
      for (const svc of services) {
        const cents = priceCents(svc, pounds, zone);
        const deliveryDate = addBusinessDays(shipDate, svc.days);
        rates.push({
          id: this.#id('rate'),
          object: 'Rate',
          created_at: t,
          updated_at: t,
          mode: 'test',
          service: svc.service,
          carrier: account.carrier,
          rate: centsToDecimal(cents),
          currency: 'USD',
          retail_rate: centsToDecimal(Math.round(cents * 1.18)),
          retail_currency: 'USD',
          list_rate: centsToDecimal(Math.round(cents * 1.1)),
          list_currency: 'USD',
          billing_type: 'easypost',
          delivery_days: svc.days,
          delivery_date: `${deliveryDate}T00:00:00Z`,
          delivery_date_guaranteed: false,
          est_delivery_days: svc.days,
          shipment_id: id,
          carrier_account_id: account.id,
        });
      }
    }
    const shipment: Json = {
      id,
      object: 'Shipment',
      mode: 'test',
      reference: str(s.reference) ?? null,
      status: 'unknown',
      created_at: t,
      updated_at: t,
      is_return: false,
      to_address: to,
      from_address: from,
      return_address: from,
      buyer_address: to,
      parcel,
      customs_info: null,
      insurance: null,
      options,
      rates,
      selected_rate: null,
      postage_label: null,
      tracking_code: null,
      tracker: null,
      refund_status: null,
      scan_form: null,
      batch_id: null,
      batch_status: null,
      batch_message: null,
      order_id: orderId,
      usps_zone: zone,
      messages,
      fees: [],
      forms: [],
    };
    this.#shipments.set(id, shipment);
    return shipment;
  }

  #shipment(idOrRef: string): Json {
    const s = this.#shipments.get(idOrRef) ?? [...this.#shipments.values()].reverse().find((x) => x.reference === idOrRef);
    if (!s) throw this.#notFound();
    const tr = s.tracker ? this.#trackers.get(String(obj(s.tracker)?.id)) : undefined;
    if (tr) s.tracker = this.#trackerJson(tr, this.now().getTime());
    return s;
  }

  #failIfCarrierDown(carrier: string): void {
    const down = [this.#faults.failCarrier, this.#faults.failPurchases].filter((x): x is string => !!x).map((x) => x.toLowerCase());
    if (down.includes(carrier.toLowerCase())) {
      throw new ApiError(422, 'SHIPMENT.POSTAGE.FAILURE', `${carrier}: The carrier's label service is temporarily unavailable. Please try again later.`);
    }
  }

  #buyShipment(s: Json, body: Json): Json {
    if (s.postage_label) throw new ApiError(422, 'SHIPMENT.POSTAGE.EXISTS', 'Postage already exists for this shipment.');
    const rateId = str(obj(body.rate)?.id) ?? str(body.rate);
    if (!rateId) throw new ApiError(422, 'SHIPMENT.MISSING_RATE', 'A rate is required to purchase postage.', [{ field: 'rate', message: 'is required' }]);
    const rate = (s.rates as Json[]).find((r) => r.id === rateId);
    if (!rate) throw new ApiError(422, 'SHIPMENT.INVALID_PARAMS', `Rate ${rateId} does not belong to this shipment.`, [{ field: 'rate', message: 'not found on this shipment' }]);
    this.#failIfCarrierDown(String(rate.carrier));
    const format = (str(body.label_format) ?? str(obj(s.options)?.label_format) ?? 'PNG').toUpperCase();
    if (!['PNG', 'PDF', 'ZPL'].includes(format)) throw new ApiError(422, 'SHIPMENT.POSTAGE.INVALID_FORMAT', `Label format ${format} is not supported.`);
    this.#purchase(s, rate, format);
    return s;
  }

  #purchase(s: Json, rate: Json, format: string): void {
    const account = carrierAccount(String(rate.carrier))!;
    const nowMs = this.now().getTime();
    const t = epTime(nowMs);
    this.#seq += 1;
    const digits = String(this.#seq * 7919 + 100_000).padStart(account.trackingDigits, '0').slice(-account.trackingDigits);
    const code = `${account.trackingPrefix}${digits}`;
    const plId = this.#id('pl');
    const from = s.from_address as Json;
    const to = s.to_address as Json;
    const addrLines = (a: Json) => [a.name, a.company, a.street1, a.street2, `${a.city ?? ''} ${a.state ?? ''} ${a.zip ?? ''}`.trim(), a.country].filter((x): x is string => typeof x === 'string' && x !== '');
    this.#labels.set(plId, { carrier: account.carrier, service: String(rate.service), trackingCode: code, from: addrLines(from), to: addrLines(to), labelDate: t.slice(0, 10), weightOz: Number((s.parcel as Json).weight) });
    const label: Json = {
      object: 'PostageLabel',
      id: plId,
      created_at: t,
      updated_at: t,
      date_advance: 0,
      integrated_form: 'none',
      label_date: t,
      label_resolution: 300,
      label_size: '4x6',
      label_type: 'default',
      label_file_type: null,
      label_url: null,
      label_pdf_url: null,
      label_zpl_url: null,
      label_epl2_url: null,
      label_file: null,
    };
    s.postage_label = label;
    this.#addLabelFormat(s, 'PNG');
    if (format !== 'PNG') this.#addLabelFormat(s, format, true);
    s.selected_rate = rate;
    s.tracking_code = code;
    s.status = 'unknown';
    s.updated_at = t;
    s.fees = [
      { object: 'Fee', type: 'LabelFee', amount: '0.00000', charged: true, refunded: false },
      { object: 'Fee', type: 'PostageFee', amount: `${rate.rate}000`, charged: true, refunded: false },
    ];
    const svc = account.services.find((x) => x.service === rate.service);
    const tracker = this.#newTracker(code, account.carrier, String(rate.service), s.id as string, Number((s.parcel as Json).weight), from, to, svc?.days ?? 3);
    s.tracker = this.#trackerJson(tracker, nowMs);
    this.stats.labelsPurchased += 1;
    this.tick();
  }

  /** Renders the label in `format`, stores the file and sets its URL on the postage label. */
  #addLabelFormat(s: Json, format: string, primary = false): void {
    const label = s.postage_label as Json;
    const content = this.#labels.get(String(label.id))!;
    const ext = format.toLowerCase();
    const path = `/files/postage_label/${t2(label.created_at)}/${label.id}.${ext}`;
    const [type, body] =
      format === 'PDF' ? ['application/pdf', renderLabelPdf(content)] : format === 'ZPL' ? ['application/zpl', renderLabelZpl(content)] : ['image/png', renderLabelPng(content)];
    this.#files.set(path, { type, body });
    const url = `${this.url}${path}`;
    if (format === 'PNG') {
      label.label_url = url;
      label.label_file_type = 'image/png';
    } else if (format === 'PDF') label.label_pdf_url = url;
    else label.label_zpl_url = url;
    if (primary) {
      label.label_url = url;
      label.label_file_type = type;
    }
    label.updated_at = epTime(this.now().getTime());
  }

  #convertLabel(s: Json, fileFormat: string | null): Json {
    if (!s.postage_label) throw new ApiError(422, 'SHIPMENT.POSTAGE.REQUIRED', 'This shipment has no postage label yet; buy it first.');
    const format = (fileFormat ?? '').toUpperCase();
    if (!['PNG', 'PDF', 'ZPL'].includes(format)) throw new ApiError(422, 'SHIPMENT.POSTAGE.FORMAT_UNAVAILABLE', `Label format ${fileFormat ?? '(none)'} is not available; use PNG, PDF or ZPL.`);
    this.#addLabelFormat(s, format);
    return s;
  }

  #refund(s: Json): Json {
    if (!s.postage_label) throw new ApiError(422, 'SHIPMENT.REFUND.UNAVAILABLE', 'Unable to request refund. This shipment has no postage.');
    if (s.refund_status) throw new ApiError(422, 'SHIPMENT.REFUND.UNAVAILABLE', `Unable to request refund. A refund has already been ${s.refund_status === 'submitted' ? 'submitted' : s.refund_status} for this shipment.`);
    const tr = this.#trackers.get(String(obj(s.tracker)?.id));
    const nowMs = this.now().getTime();
    if (tr) {
      const visible = tr.steps.filter((x) => x.atMs <= nowMs);
      if (visible.some((x) => x.status !== 'pre_transit')) throw new ApiError(422, 'SHIPMENT.REFUND.UNAVAILABLE', 'Unable to request refund. The parcel has been shipped.');
      tr.steps = visible; // a voided label never moves again
    }
    s.refund_status = 'submitted';
    s.updated_at = epTime(nowMs);
    this.stats.refunds += 1;
    return s;
  }

  // ------------------------------------------------------------------ orders

  #createOrder(o: Json): Json {
    const to = this.#address(o.to_address, 'to_address');
    const from = this.#address(o.from_address, 'from_address');
    const list = o.shipments;
    if (!Array.isArray(list) || list.length === 0) throw new ApiError(422, 'ORDER.SHIPMENTS.REQUIRED', 'An order needs at least one shipment.', [{ field: 'shipments', message: 'is required' }]);
    const id = this.#id('order');
    const shipments = list.map((x, i) => {
      const sx = obj(x);
      if (!sx) throw new ApiError(422, 'ORDER.INVALID', `shipments[${i}] must be an object`);
      return this.#createShipment({ ...sx, options: { ...(obj(o.options) ?? {}), ...(obj(sx.options) ?? {}) }, carrier_accounts: o.carrier_accounts }, id, { to, from });
    });
    const t = epTime(this.now().getTime());
    // order rates: a carrier/service every shipment can use, priced as the sum of the shipments' rates
    const first = shipments[0]!.rates as Json[];
    const rates: Json[] = [];
    for (const r of first) {
      const per = shipments.map((s) => (s.rates as Json[]).find((x) => x.carrier === r.carrier && x.service === r.service));
      if (per.some((x) => !x)) continue;
      const cents = per.reduce((sum, x) => sum + Math.round(Number(x!.rate) * 100), 0);
      rates.push({ ...r, id: this.#id('rate'), rate: centsToDecimal(cents), retail_rate: null, list_rate: null, shipment_id: shipments[0]!.id });
    }
    const order: Json = {
      id,
      object: 'Order',
      mode: 'test',
      reference: str(o.reference) ?? null,
      created_at: t,
      updated_at: t,
      to_address: to,
      from_address: from,
      return_address: from,
      buyer_address: to,
      customs_info: null,
      is_return: false,
      options: obj(o.options) ?? {},
      messages: shipments.flatMap((s) => s.messages as Json[]),
      rates,
      shipments,
    };
    this.#orders.set(id, order);
    return order;
  }

  #order(idOrRef: string): Json {
    const o = this.#orders.get(idOrRef) ?? [...this.#orders.values()].reverse().find((x) => x.reference === idOrRef);
    if (!o) throw this.#notFound();
    o.shipments = (o.shipments as Json[]).map((s) => this.#shipment(String(s.id)));
    return o;
  }

  #buyOrder(o: Json, body: Json): Json {
    const carrier = str(body.carrier);
    const service = str(body.service);
    if (!carrier) throw new ApiError(422, 'ORDER.CARRIER.REQUIRED', 'carrier is required', [{ field: 'carrier', message: 'is required' }]);
    if (!service) throw new ApiError(422, 'ORDER.SERVICE.REQUIRED', 'service is required', [{ field: 'service', message: 'is required' }]);
    const shipments = o.shipments as Json[];
    if (shipments.some((s) => s.postage_label)) throw new ApiError(422, 'SHIPMENT.POSTAGE.EXISTS', 'Postage already exists for this order.');
    const picks = shipments.map((s) => (s.rates as Json[]).find((r) => String(r.carrier).toLowerCase() === carrier.toLowerCase() && r.service === service));
    if (picks.some((r) => !r)) throw new ApiError(422, 'ORDER.RATE.UNAVAILABLE', `No ${carrier} ${service} rate is available for every shipment of this order.`);
    this.#failIfCarrierDown(carrier);
    const format = (str(body.label_format) ?? str(obj(o.options)?.label_format) ?? 'PNG').toUpperCase();
    shipments.forEach((s, i) => this.#purchase(s, picks[i]!, ['PNG', 'PDF', 'ZPL'].includes(format) ? format : 'PNG'));
    o.updated_at = epTime(this.now().getTime());
    return o;
  }

  // ------------------------------------------------------------------ scan forms

  #createScanForm(b: Json): Json {
    const list = b.shipments;
    if (!Array.isArray(list) || list.length === 0) throw new ApiError(422, 'SCAN_FORM.SHIPMENTS.REQUIRED', 'At least one shipment is required.', [{ field: 'shipments', message: 'is required' }]);
    const shipments = list.map((x) => {
      const id = str(obj(x)?.id) ?? str(x);
      const s = id ? this.#shipments.get(id) : undefined;
      if (!s) throw new ApiError(422, 'SCAN_FORM.SHIPMENTS.INVALID', `Shipment ${id ?? '(no id)'} was not found.`);
      return s;
    });
    for (const s of shipments) {
      if (!s.postage_label || s.refund_status) throw new ApiError(422, 'SCAN_FORM.BATCH.NOT_PURCHASED', `Shipment ${s.id} has no valid postage.`);
      if (s.scan_form) throw new ApiError(422, 'SCAN_FORM.SHIPMENTS.INVALID', `Shipment ${s.id} already belongs to scan form ${obj(s.scan_form)?.id}.`);
    }
    const carriers = new Set(shipments.map((s) => obj(s.selected_rate)?.carrier));
    if (carriers.size > 1) throw new ApiError(422, 'SCAN_FORM.BATCH.MULTIPLE_CARRIERS', 'All shipments of a scan form must use the same carrier.');
    const nowMs = this.now().getTime();
    const t = epTime(nowMs);
    const id = this.#id('sf');
    const from = shipments[0]!.from_address as Json;
    const codes = shipments.map((s) => String(s.tracking_code));
    const path = `/files/scan_form/${t.slice(0, 10).replace(/-/g, '')}/${id}.pdf`;
    this.#files.set(path, { type: 'application/pdf', body: renderScanFormPdf(id, t.slice(0, 10), [String(from.street1), `${from.city} ${from.state ?? ''} ${from.zip}`], codes) });
    const sf: Json = {
      id,
      object: 'ScanForm',
      mode: 'test',
      status: 'created',
      message: null,
      address: from,
      tracking_codes: codes,
      form_url: `${this.url}${path}`,
      form_file_type: null,
      batch_id: this.#id('batch'),
      confirmation: null,
      created_at: t,
      updated_at: t,
    };
    for (const s of shipments) s.scan_form = sf;
    this.#scanForms.set(id, sf);
    this.stats.scanForms += 1;
    return sf;
  }

  // ------------------------------------------------------------------ trackers

  #planSteps(plan: Json[], fromMs: number, lastLocation?: PlanStep['location']): PlanStep[] {
    return plan.map((p, i) => ({
      atMs: fromMs + (num(p.afterSeconds) ?? (i + 1) * 3600) * 1000,
      status: String(p.status),
      statusDetail: str(p.status_detail) ?? 'unknown',
      message: str(p.message) ?? `${String(p.status).replace(/_/g, ' ')} (${str(p.status_detail) ?? 'unknown'})`,
      location: {
        city: str(p.city) ?? lastLocation?.city ?? null,
        state: str(p.state) ?? lastLocation?.state ?? null,
        zip: str(p.zip) ?? lastLocation?.zip ?? null,
        country: str(p.country) ?? lastLocation?.country ?? null,
      },
    })).sort((a, b) => a.atMs - b.atMs);
  }

  #defaultPlan(startMs: number, from: Json | null, to: Json | null, days: number): PlanStep[] {
    const loc = (a: Json | null) => ({ city: a ? String(a.city).toUpperCase() : null, state: (a?.state as string) ?? null, zip: (a?.zip as string) ?? null, country: (a?.country as string) ?? null });
    const total = Math.max(1, days) * 24 * HOUR;
    const raw: [number, string, string, string, Json | null][] = [
      [0, 'pre_transit', 'label_created', 'Shipping Label Created, awaiting item', from],
      [6 * HOUR, 'in_transit', 'received_at_origin_facility', 'Accepted at origin facility', from],
      [12 * HOUR, 'in_transit', 'departed_origin_facility', 'Departed origin facility', from],
      [total - 12 * HOUR, 'in_transit', 'arrived_at_destination', 'Arrived at destination facility', to],
      [total - 6 * HOUR, 'out_for_delivery', 'out_for_delivery', 'Out for delivery', to],
      [total, 'delivered', 'arrived_at_destination', 'Delivered, front door', to],
    ];
    let last = -Infinity;
    return raw.map(([at, status, statusDetail, message, where]) => {
      const atMs = Math.max(at, last + HOUR);
      last = atMs;
      return { atMs: startMs + atMs, status, statusDetail, message, location: loc(where) };
    });
  }

  #newTracker(code: string, carrier: string, service: string | null, shipmentId: string | null, weightOz: number | null, from: Json | null, to: Json | null, days: number): TrackerState {
    const existing = this.#trackerByCode.get(code);
    if (existing) return this.#trackers.get(existing)!;
    const nowMs = this.now().getTime();
    let steps = this.#defaultPlan(nowMs, from, to, days);
    const test = TEST_TRACKING_CODES[code];
    if (test) {
      const upTo = steps.findIndex((s) => s.status === test);
      steps =
        test === 'unknown'
          ? []
          : upTo >= 0
            ? steps.slice(0, upTo + 1)
            : [...steps.slice(0, 3), { ...steps[3]!, status: test, statusDetail: test === 'failure' ? 'delivery_exception' : 'return', message: test === 'failure' ? 'Delivery attempt failed' : 'Returned to sender' }];
      steps = steps.map((s) => ({ ...s, atMs: nowMs - (steps.length - steps.indexOf(s)) * HOUR }));
    }
    const scripted = this.#pendingScripts.get(code);
    if (scripted) {
      this.#pendingScripts.delete(code);
      steps = [steps[0]!, ...this.#planSteps(scripted, nowMs, steps[0]!.location)];
    }
    const delivered = steps.find((s) => s.status === 'delivered');
    const t: TrackerState = {
      id: this.#id('trk'),
      code,
      carrier,
      service,
      createdMs: nowMs,
      shipmentId,
      weightOz,
      steps,
      seen: 0,
      estDeliveryMs: delivered?.atMs ?? (steps.length ? nowMs + days * 24 * HOUR : null),
      signedBy: delivered ? 'J SMITH' : null,
    };
    this.#trackers.set(t.id, t);
    this.#trackerByCode.set(code, t.id);
    this.stats.trackersCreated += 1;
    return t;
  }

  #createTracker(b: Json): Json {
    const code = str(b.tracking_code)?.trim();
    if (!code) throw new ApiError(422, 'TRACKER.INVALID_PARAMS', 'tracking_code is required', [{ field: 'tracking_code', message: 'is required' }]);
    const carrier = str(b.carrier);
    const existing = this.#trackerByCode.get(code);
    if (existing) return this.#trackerJson(this.#trackers.get(existing)!, this.now().getTime());
    if (carrier && !carrierAccount(carrier)) throw new ApiError(422, 'TRACKER.UNSUPPORTED_CARRIER', `Carrier ${carrier} is not supported for tracking.`);
    const known = TEST_TRACKING_CODES[code] !== undefined;
    const scripted = this.#pendingScripts.has(code);
    const t = this.#newTracker(code, carrier ?? (known ? 'USPS' : this.#guessCarrier(code)), null, null, null, null, null, 3);
    if (!known && !scripted && t.steps.length && !this.#isOurs(code)) {
      // a number no carrier knows (yet): status unknown, no details, no progress
      t.steps = [];
      t.estDeliveryMs = null;
      t.signedBy = null;
    }
    this.tick();
    return this.#trackerJson(t, this.now().getTime());
  }

  #isOurs(code: string): boolean {
    for (const s of this.#shipments.values()) if (s.tracking_code === code) return true;
    return false;
  }

  #guessCarrier(code: string): string {
    if (/^1Z/i.test(code)) return 'UPS';
    if (/^9[0-9]{21}$/.test(code)) return 'USPS';
    if (/^[0-9]{12}$/.test(code)) return 'FedEx';
    if (/^[0-9]{10}$/.test(code)) return 'DHLExpress';
    return 'USPS';
  }

  #trackerJson(t: TrackerState, atMs: number, visibleCount?: number): Json {
    const visible = visibleCount === undefined ? t.steps.filter((s) => s.atMs <= atMs) : t.steps.slice(0, visibleCount);
    const last = visible.at(-1);
    const delivered = last?.status === 'delivered';
    return {
      id: t.id,
      object: 'Tracker',
      mode: 'test',
      tracking_code: t.code,
      status: last?.status ?? 'unknown',
      status_detail: last?.statusDetail ?? 'unknown',
      created_at: epTime(t.createdMs),
      updated_at: epTime(last ? Math.max(last.atMs, t.createdMs) : t.createdMs),
      signed_by: delivered ? t.signedBy : null,
      weight: t.weightOz,
      est_delivery_date: t.estDeliveryMs !== null && last ? epTime(t.estDeliveryMs) : null,
      shipment_id: t.shipmentId,
      carrier: t.carrier,
      tracking_details: visible.map((s) => ({
        object: 'TrackingDetail',
        message: s.message,
        description: null,
        status: s.status,
        status_detail: s.statusDetail,
        datetime: epTime(s.atMs),
        source: t.carrier,
        carrier_code: null,
        tracking_location: { object: 'TrackingLocation', city: s.location.city, state: s.location.state, country: s.location.country, zip: s.location.zip },
      })),
      carrier_detail: {
        object: 'CarrierDetail',
        service: t.service,
        container_type: null,
        est_delivery_date_local: null,
        est_delivery_time_local: null,
        origin_location: null,
        destination_location: null,
        guaranteed_delivery_date: null,
        alternate_identifier: null,
        initial_delivery_attempt: null,
      },
      finalized: delivered || last?.status === 'return_to_sender',
      is_return: false,
      public_url: `${this.url}/track/${t.code}`,
      fees: [],
    };
  }

  /**
   * Brings every tracker up to the simulator clock and emits a webhook Event for each newly
   * visible step (`tracker.created` for a tracker's first, `tracker.updated` after).
   */
  tick(): void {
    const nowMs = this.now().getTime();
    const events: Json[] = [];
    for (const t of this.#trackers.values()) {
      const visible = t.steps.filter((s) => s.atMs <= nowMs).length;
      if (visible === t.seen) continue;
      for (let n = t.seen + 1; n <= visible; n++) {
        const prev = n >= 2 ? t.steps[n - 2]!.status : null;
        events.push(this.#event(n === 1 ? 'tracker.created' : 'tracker.updated', this.#trackerJson(t, nowMs, n), prev));
      }
      t.seen = visible;
    }
    if (events.length && this.#webhooks.length) this.#dispatch(events);
  }

  #event(description: string, tracker: Json, previousStatus: string | null): Json {
    const t = epTime(this.now().getTime());
    return {
      object: 'Event',
      id: this.#id('evt'),
      mode: 'test',
      description,
      previous_attributes: previousStatus === null ? {} : { status: previousStatus },
      result: tracker,
      status: 'pending',
      pending_urls: this.#webhooks.map((h) => h.url),
      completed_urls: [],
      user_id: 'user_00000000000000000000000000000001',
      created_at: t,
      updated_at: t,
    };
  }

  #dispatch(events: Json[]): void {
    this.stats.webhookEvents += events.length;
    const chaos = this.#faults.webhookChaos;
    const order = chaos ? [...events].reverse().flatMap((e) => [e, e]) : events;
    for (const hook of this.#webhooks) {
      this.#inflight += 1;
      void (async () => {
        try {
          for (const e of order) await this.#deliver(hook, e);
        } finally {
          this.#inflight -= 1;
        }
      })();
    }
  }

  async #deliver(hook: WebhookHook, event: Json): Promise<void> {
    const body = JSON.stringify(event);
    for (let attempt = 1; attempt <= this.#maxAttempts && !this.#stopped; attempt++) {
      this.stats.webhookAttempts += 1;
      try {
        const r = await fetch(hook.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'EasyPost WebHook Agent 1.0', 'x-hmac-signature': easyPostSignature(hook.secret, body) },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        await r.arrayBuffer().catch(() => undefined);
        if (r.status >= 200 && r.status < 300) {
          this.stats.webhookDelivered += 1;
          return;
        }
      } catch {
        // connection refused, timeout: retried like a non-2xx
      }
      this.stats.webhookFailedAttempts += 1;
      if (attempt < this.#maxAttempts) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.#timers.delete(timer);
            resolve();
          }, this.#backoffMs * 2 ** (attempt - 1));
          this.#timers.add(timer);
        });
      }
    }
  }
}

/** YYYYMMDD of an EasyPost timestamp, for file paths. */
function t2(v: unknown): string {
  return String(v).slice(0, 10).replace(/-/g, '');
}
