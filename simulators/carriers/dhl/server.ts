/**
 * A DHL Shipment Tracking – Unified API on the wire, for contract tests and local runs.
 *
 *   GET /track/shipments?trackingNumber=…[&service=…&language=…&offset=…&limit=…]
 *       header `DHL-API-Key: <key>` (the Unified API has no OAuth2: a subscription key per app)
 *       200 application/json `{ shipments: [ { id, service, origin, destination, status,
 *           details: { proofOfDelivery, totalNumberOfPieces, pieceIds, ... }, events: [...] } ] }`
 *       401 / 404 / 429 / 5xx application/problem+json `{ status, title, detail }`
 *
 * Event timestamps are the local wall-clock time of the scanning facility without offset
 * (`2024-03-05T14:12:00`), as the Unified API sends them for Express and Parcel; events come
 * newest first. A shipment appears only once it has an event at or before the simulator's
 * clock (a fresh label takes a while to reach DHL tracking: until then, 404).
 *
 * Simulator administration (not DHL's), JSON in and out:
 *   POST /__sim/shipments   register (or replace) a shipment with its events (DHL codes)
 *   POST /__sim/script      register a typical journey from a start time
 *   POST /__sim/faults      rateLimit, down, status5xx, latencyMs, duplicateEvents, shuffleEvents
 *   DELETE /__sim/faults    clear the faults
 *   POST /__sim/keys        replace the accepted API keys `{ keys: [...] }`
 *   POST /__sim/clock       set the clock `{ now: "<RFC 3339>" }` (or `{ now: null }`: real time)
 *   POST /__sim/reset       no shipments, no faults, counters at zero
 *   GET  /__sim/stats       calls counted by route and status
 *
 * Where DHL's documentation is silent the choices are marked in comments.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SimListener } from '../../common/listener.ts';
import { facilityZone, renderingOf, wallTime } from './catalogue.ts';
import { seededRandom as mulberry32 } from '../../common/random.ts';

export interface DhlSimLocation {
  city?: string;
  region?: string;
  postalCode?: string;
  countryCode?: string;
}

export interface DhlSimEvent {
  /** a DHL code: a Unified group ('pre-transit'), an Express checkpoint ('PU'), or 'group:DETAIL' */
  code: string;
  /** RFC 3339 instant */
  at: string;
  /** the piece this scan is about (multi-piece shipments) */
  piece?: string;
  location?: DhlSimLocation;
  signedBy?: string;
}

export interface DhlSimShipment {
  trackingNumber: string;
  pieces?: string[];
  /** the Unified `service` the shipment belongs to (default express) */
  service?: string;
  origin?: DhlSimLocation;
  destination?: DhlSimLocation;
  events: DhlSimEvent[];
}

export interface DhlScriptRequest {
  trackingNumber: string;
  /** RFC 3339: when the label is created; the journey follows at fixed steps */
  start: string;
  /** number of pieces (default 1) */
  pieces?: number;
  failedFirstAttempt?: boolean;
  origin?: DhlSimLocation;
  destination?: DhlSimLocation;
  signedBy?: string;
}

export interface DhlFaultSpec {
  /** the next `count` tracking calls get 429 with Retry-After */
  rateLimit?: { count: number; retryAfterSeconds?: number };
  /** connection refused for `forMs` */
  down?: { forMs: number };
  /** the next `count` tracking calls get a 5xx (default 500) */
  status5xx?: { count: number; status?: number };
  latencyMs?: number;
  duplicateEvents?: boolean;
  shuffleEvents?: boolean;
}

export interface DhlSimulatorOptions {
  port?: number;
  host?: string;
  /** the simulator's clock: events after it are not shown yet */
  now?: () => Date;
  /** accepted values of the DHL-API-Key header (default ['demo-key']) */
  apiKeys?: string[];
  /** zone of places the catalogue cannot place (default Europe/Berlin) */
  defaultZone?: string;
  /** seed of the shuffleEvents order */
  seed?: number;
}

/** The Unified `service` values (OpenAPI `Service` enum). */
export const DHL_SERVICES = [
  'dgf', 'dsc', 'ecommerce', 'ecommerce-apac', 'ecommerce-europe', 'ecommerce-ppl', 'ecommerce-iberia', 'express', 'freight',
  'parcel-de', 'parcel-nl', 'parcel-pl', 'parcel-uk', 'post-de', 'post-international', 'sameday', 'svb',
] as const;

const JSON_TYPE = 'application/json';
const PROBLEM_TYPE = 'application/problem+json';
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/i;
const TRACKING = /^[A-Za-z0-9-]{4,40}$/;

class Answer {
  status: number;
  type: string;
  body: string;
  headers: Record<string, string>;
  /** run once the answer is sent (an admin `down` must not cut its own answer) */
  after: (() => void) | undefined;
  constructor(status: number, type: string, body: unknown, headers: Record<string, string> = {}) {
    this.status = status;
    this.type = type;
    this.body = typeof body === 'string' ? body : JSON.stringify(body);
    this.headers = headers;
  }
}

const problem = (status: number, title: string, detail: string, headers: Record<string, string> = {}) =>
  new Answer(status, PROBLEM_TYPE, { status, title, detail }, headers);

interface StoredShipment extends DhlSimShipment {
  pieces: string[];
  service: string;
}

class AdminError extends Error {
  readonly issues: string[];
  constructor(issues: string[]) {
    super(issues.join('; '));
    this.issues = issues;
  }
}


const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class DhlSimulator {
  url = '';
  readonly shipments = new Map<string, StoredShipment>();
  /** calls by `route status`, e.g. `track 200`, `track 429` */
  readonly calls = new Map<string, number>();
  #faults: Omit<DhlFaultSpec, 'down'> = {};
  #keys: Set<string>;
  #clock: () => Date;
  readonly #realClock: () => Date;
  readonly #defaultZone: string;
  #random: () => number;
  readonly #listener: SimListener;

  private constructor(o: DhlSimulatorOptions) {
    this.#listener = new SimListener((req, res) => this.#handle(req, res), { ...(o.host ? { host: o.host } : {}), ...(o.port ? { port: o.port } : {}) });
    this.#realClock = o.now ?? (() => new Date());
    this.#clock = this.#realClock;
    this.#keys = new Set(o.apiKeys ?? ['demo-key']);
    this.#defaultZone = o.defaultZone ?? 'Europe/Berlin';
    this.#random = mulberry32(o.seed ?? 42);
  }

  /** Starts listening (port 0: any free port) and resolves once `url` is set. */
  static async start(o: DhlSimulatorOptions = {}): Promise<DhlSimulator> {
    const sim = new DhlSimulator(o);
    sim.url = await sim.#listener.listen();
    return sim;
  }

  /** Tracking calls answered (every status) since the start or the last reset. */
  get trackCalls(): number {
    let n = 0;
    for (const [k, v] of this.calls) if (k.startsWith('track ')) n += v;
    return n;
  }

  /** Sets faults; counted ones replace the previous ones of the same kind. */
  setFaults(spec: DhlFaultSpec): void {
    const issues = validateFaults(spec);
    if (issues.length) throw new AdminError(issues);
    if (spec.rateLimit) this.#faults.rateLimit = { ...spec.rateLimit };
    if (spec.status5xx) this.#faults.status5xx = { ...spec.status5xx };
    if (spec.latencyMs !== undefined) this.#faults.latencyMs = spec.latencyMs;
    if (spec.duplicateEvents !== undefined) this.#faults.duplicateEvents = spec.duplicateEvents;
    if (spec.shuffleEvents !== undefined) this.#faults.shuffleEvents = spec.shuffleEvents;
    if (spec.down) void this.goDown(spec.down.forMs);
  }

  clearFaults(): void {
    this.#faults = {};
  }

  get faults(): Readonly<Omit<DhlFaultSpec, 'down'>> {
    return this.#faults;
  }

  /** Replaces the accepted API keys (a key rotated at DHL's portal). */
  setApiKeys(keys: string[]): void {
    this.#keys = new Set(keys);
  }

  /** Sets the clock to a fixed instant, or back to the one given at start. */
  setNow(now: Date | string | undefined): void {
    if (now === undefined) this.#clock = this.#realClock;
    else {
      const t = new Date(now);
      this.#clock = () => t;
    }
  }

  /** Registers (or replaces) a shipment; throws with the list of problems on bad input. */
  register(input: unknown): DhlSimShipment {
    const s = validateShipment(input);
    this.shipments.set(s.trackingNumber, s);
    return s;
  }

  /**
   * Registers a typical Express journey: label (pre-transit) → PU → PL/DF at origin → AF/AR
   * at destination → WC → OK, one step every few hours from `start`; with a failed first
   * attempt (NH) and a second WC the next day; with N pieces, arrival scanned per piece.
   */
  script(input: unknown): DhlSimShipment {
    const r = validateScript(input);
    const t0 = Date.parse(r.start);
    const h = (hours: number) => new Date(t0 + hours * 3_600_000).toISOString();
    const origin = r.origin ?? { city: 'Leipzig', postalCode: '04435', countryCode: 'DE' };
    const dest = r.destination ?? { city: 'London', postalCode: 'EC1A 1BB', countryCode: 'GB' };
    const pieces = Array.from({ length: r.pieces ?? 1 }, (_, i) => `JD0146${r.trackingNumber.replace(/\D/g, '').slice(-10).padStart(10, '0')}${String(i + 1).padStart(4, '0')}`);
    const events: DhlSimEvent[] = [
      { code: 'pre-transit', at: h(0), location: origin },
      { code: 'PU', at: h(2), location: origin },
      { code: 'PL', at: h(4), location: origin },
      { code: 'DF', at: h(5), location: origin },
      { code: 'AF', at: h(14), location: dest },
    ];
    if (pieces.length > 1) pieces.forEach((p, i) => events.push({ code: 'AR', at: h(16 + i / 60), location: dest, piece: p }));
    else events.push({ code: 'AR', at: h(16), location: dest });
    if (r.failedFirstAttempt) {
      events.push({ code: 'WC', at: h(18), location: dest }, { code: 'NH', at: h(21), location: dest }, { code: 'WC', at: h(42), location: dest });
      events.push({ code: 'OK', at: h(45), location: dest, signedBy: r.signedBy ?? 'SMITH' });
    } else {
      events.push({ code: 'WC', at: h(18), location: dest }, { code: 'OK', at: h(21), location: dest, signedBy: r.signedBy ?? 'SMITH' });
    }
    return this.register({ trackingNumber: r.trackingNumber, pieces: pieces.length > 1 ? pieces : [], origin, destination: dest, events });
  }

  /** No shipments, no faults, counters at zero, the start clock and keys kept. */
  reset(): void {
    this.shipments.clear();
    this.clearFaults();
    this.calls.clear();
  }

  /** Closes the listener (connection refused) and reopens it on the same port after `forMs`. */
  goDown(forMs: number): Promise<void> {
    return this.#listener.goDown(forMs);
  }

  /** Listens again after goDown, at once. */
  up(): Promise<void> {
    return this.#listener.up();
  }

  get isUp(): boolean {
    return this.#listener.isUp;
  }

  stop(): Promise<void> {
    return this.#listener.stop();
  }

  // ------------------------------------------------------------------ plumbing

  #count(route: string, status: number): void {
    const k = `${route} ${status}`;
    this.calls.set(k, (this.calls.get(k) ?? 0) + 1);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    let a: Answer;
    try {
      if (url.pathname.startsWith('/__sim/')) a = await this.#admin(req, url.pathname);
      else {
        for await (const _ of req) void _;
        a = await this.#api(req, url);
      }
    } catch (e) {
      a = problem(500, 'Internal Server Error', e instanceof Error ? e.message : String(e));
    }
    if (res.destroyed) return;
    if (a.after) res.once('finish', a.after);
    res.statusCode = a.status;
    res.setHeader('Content-Type', a.type);
    for (const [k, v] of Object.entries(a.headers)) res.setHeader(k, v);
    res.setHeader('Content-Length', Buffer.byteLength(a.body));
    res.end(a.body);
  }

  async #api(req: IncomingMessage, url: URL): Promise<Answer> {
    if (url.pathname !== '/track/shipments') {
      // the gateway's answer to an unknown path (documentation silent; a problem document like the others)
      const a = problem(404, 'Not Found', 'The requested resource does not exist.');
      this.#count('other', 404);
      return a;
    }
    const a = await this.#track(req, url);
    this.#count('track', a.status);
    return a;
  }

  async #track(req: IncomingMessage, url: URL): Promise<Answer> {
    if (this.#faults.latencyMs) await sleep(this.#faults.latencyMs);
    if (req.method !== 'GET') return problem(405, 'Method Not Allowed', `Method ${req.method} is not allowed for this resource.`);
    const key = req.headers['dhl-api-key'];
    if (typeof key !== 'string' || !this.#keys.has(key)) return problem(401, 'Unauthorized', 'Unauthorized for given resource.');
    const rl = this.#faults.rateLimit;
    if (rl && rl.count > 0) {
      rl.count -= 1;
      if (rl.count <= 0) this.#faults.rateLimit = undefined;
      // DHL's gateway answers 429; the Retry-After header is not documented by DHL and is sent here
      // as gateways commonly do, so that clients honouring it can be tested.
      return problem(429, 'Too Many Requests', 'Too many requests within defined time period.', { 'Retry-After': String(rl.retryAfterSeconds ?? 5) });
    }
    const f5 = this.#faults.status5xx;
    if (f5 && f5.count > 0) {
      f5.count -= 1;
      if (f5.count <= 0) this.#faults.status5xx = undefined;
      const status = f5.status ?? 500;
      return problem(status, status === 503 ? 'Service Unavailable' : status === 502 ? 'Bad Gateway' : status === 504 ? 'Gateway Timeout' : 'Internal Server Error', 'The service is temporarily unable to process the request.');
    }
    const tn = url.searchParams.get('trackingNumber');
    if (!tn) return problem(400, 'Bad Request', "Required request parameter 'trackingNumber' is not present.");
    const service = url.searchParams.get('service');
    if (service !== null && !(DHL_SERVICES as readonly string[]).includes(service)) {
      return problem(400, 'Bad Request', `Unsupported value '${service}' of parameter 'service'.`);
    }
    const limit = Number(url.searchParams.get('limit') ?? 5);
    const offset = Number(url.searchParams.get('offset') ?? 0);
    if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0) {
      return problem(400, 'Bad Request', 'Parameters offset and limit must be non-negative integers, limit at least 1.');
    }
    const now = this.#clock().getTime();
    const found: unknown[] = [];
    for (const s of this.shipments.values()) {
      if (s.trackingNumber !== tn && !s.pieces.includes(tn)) continue;
      if (service !== null && s.service !== service) continue;
      const rendered = this.#render(s, now);
      if (rendered) found.push(rendered);
    }
    const page = found.slice(offset, offset + limit);
    if (page.length === 0) return problem(404, 'No result found', 'No shipment with given tracking number found.');
    return new Answer(200, JSON_TYPE, { shipments: page }, { 'Content-Language': 'en' });
  }

  /** A shipment as the Unified API renders it at instant `now`, or undefined when nothing is visible yet. */
  #render(s: StoredShipment, now: number): Record<string, unknown> | undefined {
    const visible = s.events
      .map((e, i) => ({ e, i, t: Date.parse(e.at) }))
      .filter((x) => x.t <= now)
      .sort((a, b) => b.t - a.t || b.i - a.i);
    if (visible.length === 0) return undefined;
    const eventOf = (e: DhlSimEvent, withPieces: boolean): Record<string, unknown> => {
      const r = renderingOf(e.code)!;
      const zone = facilityZone(e.location, this.#defaultZone);
      const out: Record<string, unknown> = { timestamp: wallTime(Date.parse(e.at), zone) };
      if (e.location) out.location = { address: addressOf(e.location) };
      out.statusCode = r.statusCode;
      out.status = r.title;
      if (r.statusDetailed) out.statusDetailed = r.statusDetailed;
      let description = r.description.replace('{city}', e.location?.city ?? '');
      if (e.signedBy && r.statusCode === 'delivered') description += ` - Signed for by: ${e.signedBy}`;
      out.description = description;
      if (withPieces && s.pieces.length > 0) out.pieceIds = e.piece ? [e.piece] : [...s.pieces];
      return out;
    };
    let events = visible.map((x) => eventOf(x.e, true));
    if (this.#faults.duplicateEvents) events = events.flatMap((e) => [e, structuredClone(e)]);
    if (this.#faults.shuffleEvents) {
      for (let i = events.length - 1; i > 0; i--) {
        const j = Math.floor(this.#random() * (i + 1));
        [events[i], events[j]] = [events[j]!, events[i]!];
      }
    }
    const latest = visible[0]!.e;
    const details: Record<string, unknown> = { product: { productName: 'EXPRESS WORLDWIDE' } };
    const delivered = visible.find((x) => renderingOf(x.e.code)!.statusCode === 'delivered');
    if (delivered) {
      const zone = facilityZone(delivered.e.location, this.#defaultZone);
      const pod: Record<string, unknown> = {
        timestamp: wallTime(delivered.t, zone),
        documentUrl: `https://webpod.dhl.com/webPOD/DHLePODRequest?awb=${encodeURIComponent(s.trackingNumber)}`,
      };
      if (delivered.e.signedBy) pod.signed = { '@type': 'Person', name: delivered.e.signedBy };
      details.proofOfDelivery = pod;
      details.proofOfDeliverySignedAvailable = delivered.e.signedBy !== undefined;
    }
    details.totalNumberOfPieces = Math.max(1, s.pieces.length);
    if (s.pieces.length > 0) details.pieceIds = [...s.pieces];
    const out: Record<string, unknown> = { id: s.trackingNumber, service: s.service };
    if (s.origin) out.origin = { address: addressOf(s.origin) };
    if (s.destination) out.destination = { address: addressOf(s.destination) };
    out.status = eventOf(latest, false);
    out.details = details;
    out.events = events;
    return out;
  }

  async #admin(req: IncomingMessage, path: string): Promise<Answer> {
    const json = (status: number, v: unknown) => new Answer(status, JSON_TYPE, v);
    let input: unknown = {};
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      if (text) {
        try {
          input = JSON.parse(text);
        } catch {
          return json(400, { error: 'the body is not JSON' });
        }
      }
    }
    try {
      if (path === '/__sim/shipments' && req.method === 'POST') return json(201, this.register(input));
      if (path === '/__sim/script' && req.method === 'POST') return json(201, this.script(input));
      if (path === '/__sim/faults' && req.method === 'POST') {
        const { down, ...rest } = (isObj(input) ? input : { invalid: input }) as DhlFaultSpec & Record<string, unknown>;
        const issues = validateFaults(input);
        if (issues.length) throw new AdminError(issues);
        this.setFaults(rest);
        const a = json(200, { ...this.#faults, down: down ?? null });
        if (down) a.after = () => void this.goDown(down.forMs);
        return a;
      }
      if (path === '/__sim/faults' && req.method === 'DELETE') {
        this.clearFaults();
        return json(200, this.#faults);
      }
      if (path === '/__sim/keys' && req.method === 'POST') {
        const keys = (input as { keys?: unknown }).keys;
        if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string' && k.length > 0)) throw new AdminError(['keys: a list of non-empty strings']);
        this.setApiKeys(keys as string[]);
        return json(200, { keys: keys.length });
      }
      if (path === '/__sim/clock' && req.method === 'POST') {
        const now = (input as { now?: unknown }).now;
        if (now === null) this.setNow(undefined);
        else if (typeof now === 'string' && RFC3339.test(now)) this.setNow(now);
        else throw new AdminError(['now: an RFC 3339 instant or null']);
        return json(200, { now: this.#clock().toISOString() });
      }
      if (path === '/__sim/reset' && req.method === 'POST') {
        this.reset();
        return json(200, { reset: true });
      }
      if (path === '/__sim/stats' && req.method === 'GET') {
        return json(200, { trackCalls: this.trackCalls, calls: Object.fromEntries(this.calls), shipments: this.shipments.size, now: this.#clock().toISOString() });
      }
    } catch (e) {
      if (e instanceof AdminError) return json(400, { error: 'invalid request', issues: e.issues });
      throw e;
    }
    return json(404, { error: `no admin route ${req.method} ${path}` });
  }
}

function addressOf(l: DhlSimLocation): Record<string, string> {
  const a: Record<string, string> = {};
  if (l.city !== undefined) a.addressLocality = l.city;
  if (l.region !== undefined) a.addressRegion = l.region;
  if (l.postalCode !== undefined) a.postalCode = l.postalCode;
  if (l.countryCode !== undefined) a.countryCode = l.countryCode;
  return a;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function validateLocation(v: unknown, path: string, issues: string[]): DhlSimLocation | undefined {
  if (v === undefined) return undefined;
  if (!isObj(v)) {
    issues.push(`${path}: an object {city, region, postalCode, countryCode}`);
    return undefined;
  }
  const out: DhlSimLocation = {};
  for (const k of ['city', 'region', 'postalCode', 'countryCode'] as const) {
    if (v[k] === undefined) continue;
    if (typeof v[k] !== 'string') issues.push(`${path}.${k}: a string`);
    else out[k] = v[k] as string;
  }
  for (const k of Object.keys(v)) if (!['city', 'region', 'postalCode', 'countryCode'].includes(k)) issues.push(`${path}.${k}: unknown field`);
  if (out.countryCode !== undefined && !/^[A-Z]{2}$/.test(out.countryCode)) issues.push(`${path}.countryCode: ISO 3166-1 alpha-2, upper case`);
  return out;
}

function validateShipment(input: unknown): StoredShipment {
  const issues: string[] = [];
  if (!isObj(input)) throw new AdminError(['body: an object {trackingNumber, pieces?, events}']);
  const tn = input.trackingNumber;
  if (typeof tn !== 'string' || !TRACKING.test(tn)) issues.push('trackingNumber: 4 to 40 letters, digits or dashes');
  const pieces: string[] = [];
  if (input.pieces !== undefined) {
    if (!Array.isArray(input.pieces) || !input.pieces.every((p) => typeof p === 'string' && TRACKING.test(p))) issues.push('pieces: a list of piece ids (4 to 40 letters, digits or dashes)');
    else pieces.push(...(input.pieces as string[]));
    if (new Set(pieces).size !== pieces.length) issues.push('pieces: duplicate piece ids');
  }
  const service = input.service ?? 'express';
  if (typeof service !== 'string' || !(DHL_SERVICES as readonly string[]).includes(service)) issues.push(`service: one of ${DHL_SERVICES.join(', ')}`);
  const origin = validateLocation(input.origin, 'origin', issues);
  const destination = validateLocation(input.destination, 'destination', issues);
  const events: DhlSimEvent[] = [];
  if (!Array.isArray(input.events)) issues.push('events: a list');
  else {
    input.events.forEach((e: unknown, i: number) => {
      const p = `events[${i}]`;
      if (!isObj(e)) return void issues.push(`${p}: an object {code, at, piece?, location?, signedBy?}`);
      const ev: DhlSimEvent = { code: String(e.code), at: String(e.at) };
      if (typeof e.code !== 'string' || !renderingOf(e.code)) issues.push(`${p}.code: a DHL code (a Unified group, an Express checkpoint code, or group:DETAIL), got ${JSON.stringify(e.code)}`);
      if (typeof e.at !== 'string' || !RFC3339.test(e.at) || Number.isNaN(Date.parse(e.at))) issues.push(`${p}.at: an RFC 3339 instant with offset`);
      if (e.piece !== undefined) {
        if (typeof e.piece !== 'string' || !pieces.includes(e.piece)) issues.push(`${p}.piece: one of the shipment's pieces`);
        else ev.piece = e.piece;
      }
      const loc = validateLocation(e.location, `${p}.location`, issues);
      if (loc) ev.location = loc;
      if (e.signedBy !== undefined) {
        if (typeof e.signedBy !== 'string' || !e.signedBy) issues.push(`${p}.signedBy: a non-empty string`);
        else ev.signedBy = e.signedBy;
      }
      for (const k of Object.keys(e)) if (!['code', 'at', 'piece', 'location', 'signedBy'].includes(k)) issues.push(`${p}.${k}: unknown field`);
      events.push(ev);
    });
  }
  if (issues.length) throw new AdminError(issues);
  const s: StoredShipment = { trackingNumber: tn as string, pieces, service: service as string, events };
  if (origin) s.origin = origin;
  if (destination) s.destination = destination;
  return s;
}

function validateScript(input: unknown): DhlScriptRequest {
  const issues: string[] = [];
  if (!isObj(input)) throw new AdminError(['body: an object {trackingNumber, start, pieces?, failedFirstAttempt?}']);
  if (typeof input.trackingNumber !== 'string' || !TRACKING.test(input.trackingNumber)) issues.push('trackingNumber: 4 to 40 letters, digits or dashes');
  if (typeof input.start !== 'string' || !RFC3339.test(input.start) || Number.isNaN(Date.parse(input.start))) issues.push('start: an RFC 3339 instant with offset');
  if (input.pieces !== undefined && (!Number.isInteger(input.pieces) || (input.pieces as number) < 1 || (input.pieces as number) > 99)) issues.push('pieces: an integer from 1 to 99');
  if (input.failedFirstAttempt !== undefined && typeof input.failedFirstAttempt !== 'boolean') issues.push('failedFirstAttempt: a boolean');
  if (input.signedBy !== undefined && (typeof input.signedBy !== 'string' || !input.signedBy)) issues.push('signedBy: a non-empty string');
  const origin = validateLocation(input.origin, 'origin', issues);
  const destination = validateLocation(input.destination, 'destination', issues);
  if (issues.length) throw new AdminError(issues);
  const r: DhlScriptRequest = { trackingNumber: input.trackingNumber as string, start: input.start as string };
  if (input.pieces !== undefined) r.pieces = input.pieces as number;
  if (input.failedFirstAttempt !== undefined) r.failedFirstAttempt = input.failedFirstAttempt as boolean;
  if (input.signedBy !== undefined) r.signedBy = input.signedBy as string;
  if (origin) r.origin = origin;
  if (destination) r.destination = destination;
  return r;
}

function validateFaults(spec: unknown): string[] {
  const issues: string[] = [];
  if (!isObj(spec)) return ['body: an object of faults'];
  const known = ['rateLimit', 'down', 'status5xx', 'latencyMs', 'duplicateEvents', 'shuffleEvents'];
  for (const k of Object.keys(spec)) if (!known.includes(k)) issues.push(`${k}: unknown fault (known: ${known.join(', ')})`);
  const count = (v: unknown, p: string) => {
    if (!isObj(v) || !Number.isInteger(v.count) || (v.count as number) < 1) issues.push(`${p}.count: a positive integer`);
  };
  if (spec.rateLimit !== undefined) {
    count(spec.rateLimit, 'rateLimit');
    const ra = (spec.rateLimit as Record<string, unknown>).retryAfterSeconds;
    if (ra !== undefined && (!Number.isInteger(ra) || (ra as number) < 0)) issues.push('rateLimit.retryAfterSeconds: a non-negative integer');
  }
  if (spec.status5xx !== undefined) {
    count(spec.status5xx, 'status5xx');
    const st = (spec.status5xx as Record<string, unknown>).status;
    if (st !== undefined && (!Number.isInteger(st) || (st as number) < 500 || (st as number) > 599)) issues.push('status5xx.status: 500 to 599');
  }
  if (spec.down !== undefined && (!isObj(spec.down) || !Number.isInteger(spec.down.forMs) || (spec.down.forMs as number) < 1)) issues.push('down.forMs: a positive integer');
  if (spec.latencyMs !== undefined && (!Number.isInteger(spec.latencyMs) || (spec.latencyMs as number) < 0)) issues.push('latencyMs: a non-negative integer');
  for (const k of ['duplicateEvents', 'shuffleEvents']) if (spec[k] !== undefined && typeof spec[k] !== 'boolean') issues.push(`${k}: a boolean`);
  return issues;
}
