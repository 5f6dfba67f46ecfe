/**
 * The UPS simulator: the Track API v1 and its OAuth2 client-credentials token endpoint as UPS
 * documents them (UPS-API/api-documentation Tracking.yaml, OAuthClientCredentials.yaml,
 * UPSTrackAlert.yaml), over shipments registered through an admin API, plus Track Alert pushes.
 *
 *   POST /security/v1/oauth/token                 Basic client_id:client_secret, grant_type=client_credentials
 *   GET  /api/track/v1/details/{inquiryNumber}    Bearer token; transId and transactionSrc headers required
 *
 * On the wire, as UPS does:
 * - activities newest first; local `date` (YYYYMMDD) and `time` (HHMMSS) in the zone of the
 *   activity's place, with `gmtDate` (YYYYMMDD), `gmtTime` and `gmtOffset` (±HH:MM). The spec
 *   types gmtTime as a string whose example is '74700' (07:47:00 without its leading zero): the
 *   simulator sends it that way. The gmt fields are not required by the spec and are absent from
 *   some real answers; an event registered with `omitGmt` is sent without them.
 * - a number UPS has no information for (unknown, or no event visible yet) is answered 200 with
 *   `shipment[0].warnings: [{code: 'TW0001', message: 'Tracking Information Not Found'}]` and no
 *   package: what the live service does (UPS-API/api-documentation issues #102 and #166), although
 *   the spec lists a 404.
 * - an inquiry number outside 7..34 characters is refused 400 with error 151018 "Invalid tracking
 *   number" (the spec states the length rule; the code is from UPS's error list).
 * - errors are `{"response": {"errors": [{"code", "message"}]}}`. A wrong or expired token gets
 *   401 with code 250002 "Invalid Authentication Information." as the live service answers.
 *   Where UPS documents no code (429, 5xx, missing transId/transactionSrc on Track) the simulator
 *   uses the gateway's 10429, the HTTP status, and Track Alert's documented VSS002 / VSS004.
 *   UPS does not document Retry-After; the simulator sends one with its 429 (retryAfterSec).
 * - multi-piece: the lead number answers one shipment with a `package` per piece (`packageCount`);
 *   a piece number answers that package alone. An event without `piece` shows on every package.
 * - delivered packages carry `deliveryInformation` (receivedBy, location, signature and pod when
 *   asked with returnSignature / returnPOD) and `deliveryDate` / `deliveryTime` of type DEL.
 *
 * Simulator administration (not UPS's): /__sim/shipments, /__sim/script, /__sim/faults,
 * /__sim/subscriptions, /__sim/clock, /__sim/reset, /__sim/stats. Events whose `at` is after the
 * simulator's clock are not shown (nor pushed) yet.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SimListener } from '../../common/listener.ts';
import { renderingOf, zoneOfPlace, type UpsCodeRendering } from './catalogue.ts';

export interface UpsSimulatorOptions {
  port?: number;
  host?: string;
  /** the simulator's clock (events after it are hidden; tokens expire by it) */
  now?: () => Date;
  clientId?: string;
  clientSecret?: string;
  /** token lifetime in seconds (UPS issues 14399) */
  tokenTtlSec?: number;
  /** Retry-After sent with a 429, seconds */
  retryAfterSec?: number;
  /** how often visible events are checked for Track Alert pushes, ms */
  pushIntervalMs?: number;
}

export interface SimPlace {
  city?: string;
  region?: string;
  postalCode?: string;
  countryCode?: string;
}

export interface SimEventInput {
  /** a UPS activity code the catalogue knows (OR, DP, FS...) or `<statusCode>:<activityCode>` */
  code: string;
  /** RFC 3339 instant */
  at: string;
  piece?: string;
  location?: SimPlace;
  signedBy?: string;
  /** IANA zone the local time is printed in (default: the zone of the location) */
  timeZone?: string;
  /** send the activity without gmtDate / gmtTime / gmtOffset */
  omitGmt?: boolean;
}

export interface SimShipmentInput {
  trackingNumber: string;
  pieces?: string[];
  events: SimEventInput[];
}

export interface ScriptInput {
  trackingNumber: string;
  /** RFC 3339: when the label is created */
  start: string;
  /** number of pieces (numbers derived from the lead) or the piece numbers */
  pieces?: number | string[];
  failedFirstAttempt?: boolean;
  signedBy?: string;
  origin?: SimPlace;
  hub?: SimPlace;
  destination?: SimPlace;
}

export interface UpsFaults {
  /** the next `count` Track calls get 429 */
  rateLimit?: { count: number; retryAfterSec?: number };
  /** connection refused for `forMs` */
  down?: { forMs: number };
  /** the next `count` Track calls get `status` (default 503) */
  status5xx?: { count: number; status?: number };
  latencyMs?: number;
  duplicateEvents?: boolean;
  shuffleEvents?: boolean;
  /** every token issued so far becomes invalid (the next call gets 401) */
  expireTokens?: boolean;
}

interface SimEvent {
  rendering: UpsCodeRendering & { code: string };
  atMs: number;
  piece?: string;
  location?: SimPlace;
  signedBy?: string;
  timeZone: string;
  omitGmt: boolean;
}

interface SimShipment {
  trackingNumber: string;
  pieces: string[];
  events: SimEvent[];
}

interface Subscription {
  id: number;
  url: string;
  credential: string;
  trackingNumbers?: Set<string>;
  pushed: Set<string>;
}

export interface PushRecord {
  subscription: number;
  url: string;
  trackingNumber: string;
  code: string;
  status: number | string;
}

class BadRequest extends Error {}

const JSON_TYPE = 'application/json';

/** `{"response":{"errors":[...]}}`, the error body of every UPS API. */
export function upsErrorBody(code: string, message: string): { response: { errors: { code: string; message: string }[] } } {
  return { response: { errors: [{ code, message }] } };
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Wall-clock parts of `ms` in `zone`, and the zone's offset in minutes east of UTC. */
function wallClock(ms: number, zone: string): { y: number; mo: number; d: number; h: number; mi: number; s: number; offsetMin: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const w = { y: get('year'), mo: get('month'), d: get('day'), h: get('hour'), mi: get('minute'), s: get('second') };
  const asUtc = Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s);
  return { ...w, offsetMin: Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000) };
}

function isZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function place(p: unknown, where: string): SimPlace | undefined {
  if (p === undefined || p === null) return undefined;
  if (typeof p !== 'object') throw new BadRequest(`${where} must be an object`);
  const o = p as Record<string, unknown>;
  const out: SimPlace = {};
  for (const k of ['city', 'region', 'postalCode', 'countryCode'] as const) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== 'string') throw new BadRequest(`${where}.${k} must be a string`);
    out[k] = o[k] as string;
  }
  if (out.countryCode !== undefined && !/^[A-Z]{2}$/.test(out.countryCode)) throw new BadRequest(`${where}.countryCode must be ISO 3166-1 alpha-2`);
  return out;
}

/** Piece numbers derived from a lead number: the lead itself, then the lead with its last 3 characters counted up. */
function derivePieces(lead: string, n: number): string[] {
  const out = [lead];
  const stem = lead.slice(0, -3);
  const base = Number.parseInt(lead.slice(-3), 36) || 0;
  for (let i = 1; i < n; i++) out.push(stem + ((base + i) % 46656).toString(36).toUpperCase().padStart(3, '0'));
  return out;
}

export class UpsSimulator {
  url = '';
  readonly clientId: string;
  readonly clientSecret: string;
  readonly pushes: PushRecord[] = [];
  readonly #shipments = new Map<string, SimShipment>();
  /** piece number → lead number */
  readonly #pieceOf = new Map<string, string>();
  readonly #tokens = new Map<string, number>();
  readonly #subs: Subscription[] = [];
  #faults: UpsFaults = {};
  #calls = { token: 0, track: 0, rejected429: 0, rejected5xx: 0, rejected401: 0 };
  readonly #now: () => Date;
  #fixedNow: number | undefined;
  readonly #ttl: number;
  readonly #retryAfter: number;
  #pushTimer: NodeJS.Timeout | undefined;
  #pushing: Promise<void> | undefined;
  #nextSub = 1;

  readonly #listener: SimListener;

  private constructor(o: UpsSimulatorOptions) {
    this.#listener = new SimListener((req, res) => this.#handle(req, res), { ...(o.host ? { host: o.host } : {}), ...(o.port ? { port: o.port } : {}) });
    this.#now = o.now ?? (() => new Date());
    this.clientId = o.clientId ?? 'sim-client-id';
    this.clientSecret = o.clientSecret ?? 'sim-client-secret';
    this.#ttl = o.tokenTtlSec ?? 14399;
    this.#retryAfter = o.retryAfterSec ?? 1;
    this.#pushTimer = setInterval(() => void this.pushVisible(), o.pushIntervalMs ?? 25);
    this.#pushTimer.unref?.();
  }

  static async start(o: UpsSimulatorOptions = {}): Promise<UpsSimulator> {
    const sim = new UpsSimulator(o);
    sim.url = await sim.#listener.listen();
    return sim;
  }

  /** The simulator's current time (the `now` option, or the instant set through /__sim/clock). */
  now(): number {
    return this.#fixedNow ?? this.#now().getTime();
  }

  /** Fixes the clock at `t` (undefined: back to the `now` option). */
  setClock(t: string | number | Date | undefined): void {
    if (t === undefined) {
      this.#fixedNow = undefined;
      return;
    }
    const ms = new Date(t).getTime();
    if (Number.isNaN(ms)) throw new BadRequest('now must be an RFC 3339 instant');
    this.#fixedNow = ms;
  }

  // ------------------------------------------------------------------ administration

  /** Registers (or replaces) a shipment. Throws on bad input; nothing is stored then. */
  registerShipment(input: SimShipmentInput): void {
    if (!input || typeof input !== 'object') throw new BadRequest('body must be an object');
    const tn = input.trackingNumber;
    if (typeof tn !== 'string' || !/^[0-9A-Z]{7,34}$/.test(tn)) throw new BadRequest('trackingNumber must be 7 to 34 characters A-Z 0-9');
    const pieces = input.pieces ?? [];
    if (!Array.isArray(pieces) || pieces.some((p) => typeof p !== 'string' || !/^[0-9A-Z]{7,34}$/.test(p))) throw new BadRequest('pieces must be tracking numbers (7 to 34 characters A-Z 0-9)');
    if (new Set(pieces).size !== pieces.length) throw new BadRequest('pieces must be distinct');
    if (!Array.isArray(input.events)) throw new BadRequest('events must be an array');
    const events = input.events.map((e, i): SimEvent => {
      const where = `events[${i}]`;
      if (!e || typeof e !== 'object') throw new BadRequest(`${where} must be an object`);
      if (typeof e.code !== 'string') throw new BadRequest(`${where}.code must be a string`);
      const rendering = renderingOf(e.code);
      if (!rendering) throw new BadRequest(`${where}.code ${JSON.stringify(e.code)} is not a UPS activity code the simulator knows (or <statusCode>:<activityCode>)`);
      if (typeof e.at !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(e.at) || Number.isNaN(Date.parse(e.at))) {
        throw new BadRequest(`${where}.at must be an RFC 3339 instant with offset`);
      }
      if (e.piece !== undefined && !pieces.includes(e.piece)) throw new BadRequest(`${where}.piece ${JSON.stringify(e.piece)} is not one of pieces`);
      if (e.signedBy !== undefined && typeof e.signedBy !== 'string') throw new BadRequest(`${where}.signedBy must be a string`);
      const location = place(e.location, `${where}.location`);
      const timeZone = e.timeZone ?? zoneOfPlace(location?.countryCode, location?.region);
      if (!isZone(timeZone)) throw new BadRequest(`${where}.timeZone ${JSON.stringify(timeZone)} is not an IANA zone`);
      const ev: SimEvent = { rendering, atMs: Date.parse(e.at), timeZone, omitGmt: e.omitGmt === true };
      if (e.piece !== undefined) ev.piece = e.piece;
      if (location) ev.location = location;
      if (e.signedBy !== undefined) ev.signedBy = e.signedBy;
      return ev;
    });
    for (const p of pieces) {
      const owner = this.#pieceOf.get(p);
      if (owner && owner !== tn) throw new BadRequest(`piece ${p} already belongs to shipment ${owner}`);
    }
    const old = this.#shipments.get(tn);
    if (old) for (const p of old.pieces) this.#pieceOf.delete(p);
    this.#shipments.set(tn, { trackingNumber: tn, pieces: [...pieces], events });
    for (const p of pieces) this.#pieceOf.set(p, tn);
    void this.pushVisible();
  }

  /**
   * Registers a typical journey from `start`: label created, picked up, departed, arrived at the
   * destination hub, out for delivery, delivered (and before that, with `failedFirstAttempt`, a
   * first out-for-delivery ending in a failed attempt the day before). Returns what it registered.
   */
  script(s: ScriptInput): SimShipmentInput {
    if (!s || typeof s !== 'object') throw new BadRequest('body must be an object');
    const start = Date.parse(String(s.start));
    if (typeof s.start !== 'string' || Number.isNaN(start)) throw new BadRequest('start must be an RFC 3339 instant');
    if (typeof s.trackingNumber !== 'string' || !/^[0-9A-Z]{7,34}$/.test(s.trackingNumber)) throw new BadRequest('trackingNumber must be 7 to 34 characters A-Z 0-9');
    let pieces: string[] = [];
    if (typeof s.pieces === 'number') {
      if (!Number.isInteger(s.pieces) || s.pieces < 1 || s.pieces > 200) throw new BadRequest('pieces must be 1..200 or a list of numbers');
      if (s.pieces > 1) pieces = derivePieces(s.trackingNumber, s.pieces);
    } else if (Array.isArray(s.pieces)) pieces = s.pieces;
    const origin = place(s.origin, 'origin') ?? { city: 'ATLANTA', region: 'GA', postalCode: '30336', countryCode: 'US' };
    const hub = place(s.hub, 'hub') ?? { city: 'LOUISVILLE', region: 'KY', countryCode: 'US' };
    const dest = place(s.destination, 'destination') ?? { city: 'DENVER', region: 'CO', postalCode: '80202', countryCode: 'US' };
    const h = 3_600_000;
    const at = (ms: number) => new Date(start + ms).toISOString();
    const events: SimEventInput[] = [
      { code: 'MP', at: at(0), location: { countryCode: origin.countryCode ?? 'US' }, timeZone: zoneOfPlace(origin.countryCode, origin.region) },
      { code: 'PU', at: at(5 * h), location: origin },
      { code: 'DP', at: at(9 * h), location: origin },
      { code: 'AR', at: at(14 * h), location: hub },
      { code: 'DP', at: at(17 * h), location: hub },
      { code: 'AR', at: at(26 * h), location: dest },
    ];
    let day = 30 * h;
    if (s.failedFirstAttempt) {
      events.push({ code: 'OT', at: at(day), location: dest }, { code: '48', at: at(day + 6 * h), location: dest });
      day += 24 * h;
    }
    events.push({ code: 'OT', at: at(day), location: dest });
    const deliveredAt = day + 5 * h;
    const targets = pieces.length ? pieces : [undefined];
    targets.forEach((piece, i) => {
      const ev: SimEventInput = { code: 'FS', at: at(deliveredAt + i * 60_000), location: dest, signedBy: s.signedBy ?? 'SMITH' };
      if (piece) ev.piece = piece;
      events.push(ev);
    });
    const input: SimShipmentInput = { trackingNumber: s.trackingNumber, events };
    if (pieces.length) input.pieces = pieces;
    this.registerShipment(input);
    return input;
  }

  setFaults(f: UpsFaults): void {
    const next: UpsFaults = { ...this.#faults, ...f };
    this.#faults = next;
    if (f.expireTokens) {
      this.#tokens.clear();
      delete this.#faults.expireTokens;
    }
    if (f.down) {
      delete this.#faults.down;
      void this.goDown(f.down.forMs);
    }
  }

  clearFaults(): void {
    this.#faults = {};
  }

  get faults(): Readonly<UpsFaults> {
    return this.#faults;
  }

  /** Track Alert: push every event of the subscribed numbers (all when absent) as it becomes visible. */
  subscribe(url: string, credential = '', trackingNumbers?: string[]): number {
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new BadRequest('url must be an http(s) URL');
    const sub: Subscription = { id: this.#nextSub++, url, credential, pushed: new Set() };
    if (trackingNumbers) sub.trackingNumbers = new Set(trackingNumbers);
    this.#subs.push(sub);
    void this.pushVisible();
    return sub.id;
  }

  stats(): Record<string, unknown> {
    return { calls: { ...this.#calls, total: this.#calls.token + this.#calls.track }, shipments: this.#shipments.size, tokens: this.#tokens.size, pushes: this.pushes.length };
  }

  reset(): void {
    this.#shipments.clear();
    this.#pieceOf.clear();
    this.#tokens.clear();
    this.#subs.length = 0;
    this.pushes.length = 0;
    this.#faults = {};
    this.#fixedNow = undefined;
    this.#calls = { token: 0, track: 0, rejected429: 0, rejected5xx: 0, rejected401: 0 };
  }

  /** Closes the listener (connection refused) and reopens it on the same port after `forMs`. */
  goDown(forMs: number): Promise<void> {
    return this.#listener.goDown(forMs);
  }

  up(): Promise<void> {
    return this.#listener.up();
  }

  async stop(): Promise<void> {
    clearInterval(this.#pushTimer);
    await this.#pushing;
    await this.#listener.stop();
  }

  // ------------------------------------------------------------------ rendering

  #visible(sh: SimShipment, pkg: string): SimEvent[] {
    const now = this.now();
    const multi = sh.pieces.length > 0;
    return sh.events.filter((e) => e.atMs <= now && (!multi || e.piece === undefined || e.piece === pkg));
  }

  #activity(e: SimEvent): Record<string, unknown> {
    const w = wallClock(e.atMs, e.timeZone);
    const g = new Date(e.atMs);
    const loc = e.location ?? {};
    const address: Record<string, string> = {};
    if (loc.city) address.city = loc.city;
    if (loc.region) address.stateProvince = loc.region;
    if (loc.postalCode) address.postalCode = loc.postalCode;
    if (loc.countryCode) {
      address.country = loc.countryCode;
      address.countryCode = loc.countryCode;
    }
    const a: Record<string, unknown> = {
      location: { address, slic: '' },
      status: { type: e.rendering.type, description: e.rendering.description, simplifiedTextDescription: e.rendering.simplified, statusCode: e.rendering.statusCode, code: e.rendering.code },
      date: `${w.y}${pad(w.mo)}${pad(w.d)}`,
      time: `${pad(w.h)}${pad(w.mi)}${pad(w.s)}`,
    };
    if (!e.omitGmt) {
      const off = Math.abs(w.offsetMin);
      a.gmtDate = `${g.getUTCFullYear()}${pad(g.getUTCMonth() + 1)}${pad(g.getUTCDate())}`;
      a.gmtOffset = `${w.offsetMin < 0 ? '-' : '+'}${pad(Math.floor(off / 60))}:${pad(off % 60)}`;
      a.gmtTime = String(Number(`${pad(g.getUTCHours())}${pad(g.getUTCMinutes())}${pad(g.getUTCSeconds())}`));
    }
    return a;
  }

  #package(sh: SimShipment, pkg: string, q: URLSearchParams): Record<string, unknown> | undefined {
    const evs = this.#visible(sh, pkg).sort((a, b) => b.atMs - a.atMs);
    if (!evs.length) return undefined;
    let acts = evs.map((e) => this.#activity(e));
    if (this.#faults.duplicateEvents) acts = acts.flatMap((a) => [a, structuredClone(a)]);
    if (this.#faults.shuffleEvents) {
      for (let i = acts.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [acts[i], acts[j]] = [acts[j]!, acts[i]!];
      }
    }
    const latest = evs[0]!;
    const p: Record<string, unknown> = {
      trackingNumber: pkg,
      packageCount: Math.max(1, sh.pieces.length),
      currentStatus: {
        description: latest.rendering.simplified,
        code: latest.rendering.statusCode,
        type: latest.rendering.type,
        statusCode: latest.rendering.statusCode,
        simplifiedTextDescription: latest.rendering.simplified,
      },
      service: { code: '003', levelCode: '003', description: 'UPS Ground' },
      weight: { unitOfMeasurement: 'LBS', weight: '2.00' },
      activity: acts,
    };
    const delivered = evs.find((e) => e.rendering.statusCode === '011');
    if (delivered) {
      const w = wallClock(delivered.atMs, delivered.timeZone);
      p.deliveryDate = [{ type: 'DEL', date: `${w.y}${pad(w.mo)}${pad(w.d)}` }];
      p.deliveryTime = { type: 'DEL', endTime: `${pad(w.h)}${pad(w.mi)}${pad(w.s)}` };
      const info: Record<string, unknown> = { location: 'Front Door', receivedBy: delivered.signedBy ?? '' };
      if (q.get('returnSignature') === 'true') info.signature = { image: Buffer.from(`signature of ${delivered.signedBy ?? ''}`).toString('base64') };
      if (q.get('returnPOD') === 'true') info.pod = { content: Buffer.from(`<html><body>Proof of delivery ${pkg}</body></html>`).toString('base64') };
      p.deliveryInformation = info;
    }
    return p;
  }

  #trackAnswer(inquiry: string, q: URLSearchParams): Record<string, unknown> {
    const lead = this.#shipments.has(inquiry) ? inquiry : this.#pieceOf.get(inquiry);
    const sh = lead ? this.#shipments.get(lead) : undefined;
    const notFound = { trackResponse: { shipment: [{ inquiryNumber: inquiry, warnings: [{ code: 'TW0001', message: 'Tracking Information Not Found' }] }] } };
    if (!sh) return notFound;
    const pkgs = inquiry === sh.trackingNumber ? (sh.pieces.length ? sh.pieces : [sh.trackingNumber]) : [inquiry];
    const packages = pkgs.map((p) => this.#package(sh, p, q)).filter((p): p is Record<string, unknown> => p !== undefined);
    if (!packages.length) return notFound;
    return { trackResponse: { shipment: [{ inquiryNumber: inquiry, package: packages, userRelation: [] }] } };
  }

  // ------------------------------------------------------------------ Track Alert

  /** Pushes every newly visible event to the subscribers (Track Alert), oldest first. */
  async pushVisible(): Promise<void> {
    if (this.#pushing) return this.#pushing;
    const run = (async () => {
        const now = this.now();
        for (const sub of [...this.#subs]) {
          const due: { key: string; sh: SimShipment; pkg: string; e: SimEvent }[] = [];
          for (const sh of this.#shipments.values()) {
            const pkgs = sh.pieces.length ? sh.pieces : [sh.trackingNumber];
            for (const pkg of pkgs) {
              if (sub.trackingNumbers && !sub.trackingNumbers.has(pkg) && !sub.trackingNumbers.has(sh.trackingNumber)) continue;
              sh.events.forEach((e, i) => {
                const key = `${sh.trackingNumber}|${pkg}|${i}`;
                if (e.atMs <= now && !sub.pushed.has(key) && (!sh.pieces.length || e.piece === undefined || e.piece === pkg)) due.push({ key, sh, pkg, e });
              });
            }
          }
          due.sort((a, b) => a.e.atMs - b.e.atMs);
          for (const d of due) {
            sub.pushed.add(d.key);
            const rec: PushRecord = { subscription: sub.id, url: sub.url, trackingNumber: d.pkg, code: d.e.rendering.code, status: 0 };
            try {
              const res = await fetch(sub.url, {
                method: 'POST',
                headers: { 'content-type': 'application/json', credential: sub.credential, 'user-agent': 'UPSPubSubTrackingService' },
                body: JSON.stringify(trackAlertPayload(d.pkg, d.e)),
                signal: AbortSignal.timeout(5000),
              });
              await res.arrayBuffer();
              rec.status = res.status;
            } catch (err) {
              // Track Alert does not retry: an event the endpoint missed is lost, as UPS documents
              rec.status = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
            }
            this.pushes.push(rec);
          }
        }
    })();
    const tracked = run.catch(() => undefined).finally(() => {
      if (this.#pushing === tracked) this.#pushing = undefined;
    });
    this.#pushing = tracked;
    return tracked;
  }

  // ------------------------------------------------------------------ HTTP

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://sim');
    try {
      const body = await readBody(req);
      if (u.pathname.startsWith('/__sim/')) return send(res, ...(await this.#admin(req.method ?? 'GET', u.pathname, body)));
      if (u.pathname === '/security/v1/oauth/token') return send(res, ...(await this.#token(req, body)));
      const m = /^\/api\/track\/v1\/details\/([^/]*)$/.exec(u.pathname);
      if (m) return send(res, ...(await this.#track(req, decodeURIComponent(m[1]!), u.searchParams)));
      send(res, 404, { response: { errors: [{ code: '404', message: 'The requested resource was not found.' }] } });
    } catch (e) {
      if (e instanceof BadRequest) return send(res, 400, { error: e.message });
      send(res, 500, upsErrorBody('500', 'Internal Server Error'));
    }
  }

  async #token(req: IncomingMessage, body: string): Promise<[number, unknown, Record<string, string>?]> {
    this.#calls.token++;
    if (this.#faults.latencyMs) await sleep(this.#faults.latencyMs);
    if (req.method !== 'POST') return [405, { response: { errors: [{ code: '405', message: 'The requested method is not allowed for this resource.' }] } }];
    const auth = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const [id, ...rest] = auth ? Buffer.from(auth[1]!, 'base64').toString('utf8').split(':') : [];
    // UPS's OAuth answers: 10401 for an unknown client / wrong secret, 10400 for a bad request
    if (!auth) return [401, upsErrorBody('10401', 'ClientId is Invalid')];
    if (id !== this.clientId || rest.join(':') !== this.clientSecret) return [401, upsErrorBody('10401', 'ClientId is Invalid')];
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') return [400, upsErrorBody('10400', 'Invalid/Missing grant_type')];
    const token = randomBytes(24).toString('base64url');
    const issued = this.now();
    this.#tokens.set(token, issued + this.#ttl * 1000);
    return [200, { token_type: 'Bearer', issued_at: String(issued), client_id: this.clientId, access_token: token, scope: '', expires_in: String(this.#ttl), refresh_count: '0', status: 'approved' }];
  }

  async #track(req: IncomingMessage, inquiry: string, q: URLSearchParams): Promise<[number, unknown, Record<string, string>?]> {
    this.#calls.track++;
    if (this.#faults.latencyMs) await sleep(this.#faults.latencyMs);
    if (req.method !== 'GET') return [405, { response: { errors: [{ code: '405', message: 'The requested method is not allowed for this resource.' }] } }];
    const rl = this.#faults.rateLimit;
    if (rl && rl.count > 0) {
      rl.count--;
      if (rl.count === 0) delete this.#faults.rateLimit;
      this.#calls.rejected429++;
      return [429, upsErrorBody('10429', 'Too Many Requests'), { 'Retry-After': String(rl.retryAfterSec ?? this.#retryAfter) }];
    }
    const f5 = this.#faults.status5xx;
    if (f5 && f5.count > 0) {
      f5.count--;
      if (f5.count === 0) delete this.#faults.status5xx;
      this.#calls.rejected5xx++;
      const status = f5.status ?? 503;
      return [status, upsErrorBody(String(status), status === 503 ? 'Resource is not available' : 'Internal server error')];
    }
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const exp = bearer ? this.#tokens.get(bearer[1]!) : undefined;
    if (exp === undefined || exp <= this.now()) {
      this.#calls.rejected401++;
      return [401, upsErrorBody('250002', 'Invalid Authentication Information.')];
    }
    if (!req.headers.transid) return [400, upsErrorBody('VSS002', 'Missing transId.')];
    if (!req.headers.transactionsrc) return [400, upsErrorBody('VSS004', 'Missing transactionSrc.')];
    if (inquiry.length < 7 || inquiry.length > 34) return [400, upsErrorBody('151018', 'Invalid tracking number')];
    return [200, this.#trackAnswer(inquiry, q)];
  }

  async #admin(method: string, path: string, body: string): Promise<[number, unknown, Record<string, string>?]> {
    const json = (): Record<string, unknown> => {
      if (!body) return {};
      try {
        const v = JSON.parse(body) as unknown;
        if (!v || typeof v !== 'object' || Array.isArray(v)) throw new BadRequest('body must be a JSON object');
        return v as Record<string, unknown>;
      } catch (e) {
        if (e instanceof BadRequest) throw e;
        throw new BadRequest('body is not valid JSON');
      }
    };
    if (path === '/__sim/shipments' && method === 'POST') {
      this.registerShipment(json() as unknown as SimShipmentInput);
      return [201, { ok: true }];
    }
    if (path === '/__sim/script' && method === 'POST') return [201, this.script(json() as unknown as ScriptInput)];
    if (path === '/__sim/faults' && method === 'POST') {
      const f = json() as UpsFaults;
      validateFaults(f);
      this.setFaults(f);
      return [200, this.#faults];
    }
    if (path === '/__sim/faults' && method === 'DELETE') {
      this.clearFaults();
      return [200, {}];
    }
    if (path === '/__sim/subscriptions' && method === 'POST') {
      const b = json();
      if (b.trackingNumbers !== undefined && (!Array.isArray(b.trackingNumbers) || b.trackingNumbers.some((t) => typeof t !== 'string'))) throw new BadRequest('trackingNumbers must be a list of strings');
      if (b.credential !== undefined && typeof b.credential !== 'string') throw new BadRequest('credential must be a string');
      return [201, { id: this.subscribe(b.url as string, (b.credential as string | undefined) ?? '', b.trackingNumbers as string[] | undefined) }];
    }
    if (path === '/__sim/clock' && method === 'POST') {
      const b = json();
      this.setClock(b.now === null ? undefined : (b.now as string));
      void this.pushVisible();
      return [200, { now: new Date(this.now()).toISOString() }];
    }
    if (path === '/__sim/clock' && method === 'GET') return [200, { now: new Date(this.now()).toISOString() }];
    if (path === '/__sim/reset' && method === 'POST') {
      this.reset();
      return [200, {}];
    }
    if (path === '/__sim/stats' && method === 'GET') return [200, this.stats()];
    return [404, { error: `no admin route ${method} ${path}` }];
  }
}

function validateFaults(f: UpsFaults): void {
  const count = (v: unknown, k: string) => {
    if (v === undefined) return;
    if (!v || typeof v !== 'object' || !Number.isInteger((v as { count?: unknown }).count) || (v as { count: number }).count < 1) throw new BadRequest(`${k}.count must be a positive integer`);
  };
  count(f.rateLimit, 'rateLimit');
  count(f.status5xx, 'status5xx');
  if (f.status5xx?.status !== undefined && !(f.status5xx.status >= 500 && f.status5xx.status <= 599)) throw new BadRequest('status5xx.status must be 500..599');
  if (f.down !== undefined && !(typeof f.down?.forMs === 'number' && f.down.forMs >= 0)) throw new BadRequest('down.forMs must be a number of ms');
  if (f.latencyMs !== undefined && !(typeof f.latencyMs === 'number' && f.latencyMs >= 0)) throw new BadRequest('latencyMs must be a number of ms');
}

/** The Track Alert message for one event of one package (UPSTrackAlert.yaml, TrackingEventRequest). */
export function trackAlertPayload(pkg: string, e: SimEvent): Record<string, unknown> {
  const w = wallClock(e.atMs, e.timeZone);
  const g = new Date(e.atMs);
  const delivered = e.rendering.statusCode === '011';
  const localDate = `${w.y}${pad(w.mo)}${pad(w.d)}`;
  const localTime = `${pad(w.h)}${pad(w.mi)}${pad(w.s)}`;
  return {
    trackingNumber: pkg,
    localActivityDate: localDate,
    localActivityTime: localTime,
    activityLocation: {
      city: e.location?.city ?? '',
      stateProvince: e.location?.region ?? '',
      // blank until the delivery event, as documented
      postalCode: delivered ? (e.location?.postalCode ?? '') : '',
      country: e.location?.countryCode ?? '',
    },
    activityStatus: { type: e.rendering.type, code: e.rendering.code, description: e.rendering.simplified, descriptionCode: e.rendering.statusCode },
    scheduledDeliveryDate: '',
    actualDeliveryDate: delivered ? localDate : '',
    actualDeliveryTime: delivered ? localTime : '',
    gmtActivityDate: `${g.getUTCFullYear()}${pad(g.getUTCMonth() + 1)}${pad(g.getUTCDate())}`,
    gmtActivityTime: `${pad(g.getUTCHours())}${pad(g.getUTCMinutes())}${pad(g.getUTCSeconds())}`,
    deliveryStartTime: '',
    deliveryEndTime: '',
    deliveryTimeDescription: '',
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 4 * 1024 * 1024) throw new BadRequest('body too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', JSON_TYPE);
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

