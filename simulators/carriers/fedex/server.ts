/**
 * The FedEx simulator: the OAuth token endpoint and the Track API v1 as a client meets them on
 * the wire, over shipments registered through an admin API, with fault injection.
 *
 *   POST /oauth/token                     client credentials (form-encoded) → bearer token that expires
 *   POST /track/v1/trackingnumbers        up to 30 tracking numbers per request
 *   POST /track/v1/associatedshipments    the child pieces of a multi-piece (STANDARD_MPS) shipment
 *
 * Wire format as FedEx documents it and live responses show it: `output.completeTrackResults[]`
 * with one `trackResults[]` entry per package; `scanEvents[]` newest first, each `date` an ISO
 * 8601 local time with the UTC offset of the scan place (`2024-02-17T12:34:26-05:00`);
 * `dateAndTimes[].dateTime` local with offset; `estimatedDeliveryTimeWindow.window` with `begins`
 * local WITHOUT offset and `ends` local with offset (the documented example's shape); an unknown
 * number answered 200 with a per-number `error` TRACKING.TRACKINGNUMBER.NOTFOUND; errors as
 * `{transactionId, errors: [{code, message}]}` with the documented codes (NOT.AUTHORIZED.ERROR,
 * FORBIDDEN.ERROR, NOT.FOUND.ERROR, INTERNAL.SERVER.ERROR, SERVICE.UNAVAILABLE.ERROR).
 * Where the documentation is silent (the 429 body, the token endpoint's error body, the code for
 * more than 30 numbers) the choice is marked where it is made.
 *
 * Simulator administration (not FedEx's): /__sim/shipments, /__sim/script, /__sim/faults,
 * /__sim/clock, /__sim/tokens/expire, /__sim/reset, /__sim/stats. Events whose time is after the
 * simulator's clock are not shown yet: a test moves time forward through the `now` option or
 * POST /__sim/clock.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SimListener } from '../../common/listener.ts';
import { EVENT_DESCRIPTIONS, derivedStatus, localParts, locationTypeOf, withOffset, zoneOfPlace } from './codes.ts';

export interface SimLocation {
  city?: string;
  region?: string;
  postalCode?: string;
  countryCode?: string;
  /** IANA zone of the place; needed only when region/country do not tell it (a state spanning zones) */
  timeZone?: string;
  /** FedEx location id of the facility (scanEvents[].locationId) */
  locationId?: string;
}

export interface SimEvent {
  /** a FedEx Track API event code (scanEvents[].eventType) */
  code: string;
  /** epoch ms of the scan */
  at: number;
  /** the piece tracking number the scan belongs to; the master's own scans have none */
  piece?: string;
  location?: SimLocation;
  signedBy?: string;
  exceptionCode?: string;
  exceptionDescription?: string;
  /** delayDetail.type: WEATHER, OPERATIONAL, LOCAL, GENERAL, CLEARANCE */
  delayType?: string;
}

export interface SimShipment {
  trackingNumber: string;
  /** tracking numbers of the other packages of a multi-piece shipment (the master is package 1) */
  pieces: string[];
  events: SimEvent[];
  /** the estimated delivery window, epoch ms */
  estimatedDelivery?: { begins: number; ends: number };
  /** the recipient's place (recipientInformation; the zone of the estimated window) */
  destination?: SimLocation;
}

export interface FedexFaults {
  /** the next `count` tracking calls get 429; Retry-After sent when retryAfterSeconds is given */
  rateLimit?: { count: number; retryAfterSeconds?: number };
  /** the listener closes (connection refused) for `forMs`, then reopens on the same port */
  down?: { forMs: number };
  /** the next `count` tracking calls get 500 (or 503) with FedEx's error body */
  status5xx?: { count: number; status?: 500 | 503 };
  /** added to every call */
  latencyMs?: number;
  /** every scan event listed twice */
  duplicateEvents?: boolean;
  /** scan events in random order */
  shuffleEvents?: boolean;
}

export interface FedexSimulatorOptions {
  port?: number;
  host?: string;
  now?: () => Date;
  clientId?: string;
  clientSecret?: string;
  /** lifetime of an access token (FedEx: 3599 s, an hour) */
  tokenTtlSeconds?: number;
  /** source of randomness for shuffleEvents */
  random?: () => number;
}

class Answer {
  status: number;
  body: unknown;
  headers: Record<string, string>;

  constructor(status: number, body: unknown, headers: Record<string, string> = {}) {
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/** Thrown by admin input checks: a 400 naming what is wrong. */
class BadInput extends Error {}

const MAX_NUMBERS = 30;
const NUMBER_RE = /^[0-9A-Za-z]{6,40}$/;
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function fedexError(status: number, code: string, message: string, customerTransactionId?: string, headers: Record<string, string> = {}): Answer {
  const body: Record<string, unknown> = { transactionId: randomUUID() };
  if (customerTransactionId) body.customerTransactionId = customerTransactionId;
  body.errors = [{ code, message }];
  return new Answer(status, body, headers);
}

const NOT_FOUND_MESSAGE = 'Tracking number cannot be found. Please correct the tracking number and try again.';

/** A FedEx (token endpoint + Track API v1) on 127.0.0.1, with an admin API and fault injection. */
export class FedexSimulator {
  readonly #listener: SimListener;
  readonly shipments = new Map<string, SimShipment>();
  readonly calls = new Map<string, number>();
  faults: Omit<FedexFaults, 'down'> = {};
  url = '';
  readonly clientId: string;
  readonly clientSecret: string;
  #now: () => Date;
  #clockOverride: number | undefined;
  readonly #ttl: number;
  readonly #random: () => number;
  readonly #tokens = new Map<string, number>();
  #seq = 0;

  private constructor(o: FedexSimulatorOptions) {
    this.#listener = new SimListener((req, res) => this.#handle(req, res), { ...(o.host ? { host: o.host } : {}), ...(o.port ? { port: o.port } : {}) });
    this.#now = o.now ?? (() => new Date());
    this.clientId = o.clientId ?? 'sim-client-id';
    this.clientSecret = o.clientSecret ?? 'sim-client-secret';
    this.#ttl = o.tokenTtlSeconds ?? 3599;
    this.#random = o.random ?? Math.random;
  }

  /** Starts a simulator listening on `host:port` (port 0: any free port). */
  static async start(o: FedexSimulatorOptions = {}): Promise<FedexSimulator> {
    const sim = new FedexSimulator(o);
    sim.url = await sim.#listener.listen();
    return sim;
  }

  /** The simulator's current time (the `now` option, unless POST /__sim/clock set one). */
  now(): number {
    return this.#clockOverride ?? this.#now().getTime();
  }

  /** Sets the simulator's clock (undefined: back to the `now` option). */
  setClock(t: Date | string | number | undefined): void {
    this.#clockOverride = t === undefined ? undefined : new Date(t).getTime();
  }

  get totalCalls(): number {
    let n = 0;
    for (const v of this.calls.values()) n += v;
    return n;
  }

  /** No shipments, no tokens, no faults, counters at zero, clock back to the `now` option. */
  reset(): void {
    this.shipments.clear();
    this.#tokens.clear();
    this.calls.clear();
    this.faults = {};
    this.#clockOverride = undefined;
  }

  setFaults(spec: FedexFaults): void {
    const { down, ...rest } = spec;
    this.faults = { ...this.faults, ...rest };
    if (down) void this.goDown(down.forMs);
  }

  clearFaults(): void {
    this.faults = {};
  }

  /** Every issued token stops working (the next API call gets the documented 401). */
  expireTokens(): void {
    this.#tokens.clear();
  }

  /** Registers (or replaces) a shipment from the admin API's JSON shape; throws BadInput. */
  register(input: unknown): SimShipment {
    const s = parseShipment(input);
    for (const p of s.pieces) {
      const owner = this.#ownerOf(p);
      if (owner && owner.trackingNumber !== s.trackingNumber) throw new BadInput(`piece ${p} already belongs to shipment ${owner.trackingNumber}`);
    }
    this.shipments.set(s.trackingNumber, s);
    return s;
  }

  /**
   * Registers a typical journey from `start`: label created → picked up → hub → on the way →
   * destination facility → out for delivery → (failed attempt, next day out again) → delivered,
   * every event for every piece.
   */
  script(input: unknown): SimShipment {
    if (!input || typeof input !== 'object') throw new BadInput('give a JSON object');
    const o = input as Record<string, unknown>;
    if (typeof o.start !== 'string' || !INSTANT_RE.test(o.start) || Number.isNaN(Date.parse(o.start))) throw new BadInput('start must be an RFC 3339 instant');
    const n = o.pieces === undefined ? 1 : o.pieces;
    if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 99) throw new BadInput('pieces must be an integer from 1 to 99');
    const master = o.trackingNumber === undefined ? this.#newNumber() : o.trackingNumber;
    if (typeof master !== 'string' || !NUMBER_RE.test(master)) throw new BadInput('trackingNumber must be 6 to 40 letters or digits');
    const pieces = Array.from({ length: (n as number) - 1 }, () => this.#newNumber());
    const origin = (o.origin as SimLocation | undefined) ?? { city: 'ATLANTA', region: 'GA', postalCode: '30336', countryCode: 'US', locationId: 'ATLR' };
    const hub = { city: 'MEMPHIS', region: 'TN', postalCode: '38118', countryCode: 'US', timeZone: 'America/Chicago', locationId: 'MEMH' };
    const dest = (o.destination as SimLocation | undefined) ?? { city: 'SEATTLE', region: 'WA', postalCode: '98108', countryCode: 'US', locationId: 'BFIA' };
    const signedBy = typeof o.signedBy === 'string' ? o.signedBy : 'J.SMITH';
    const t0 = Date.parse(o.start);
    const h = (hours: number) => new Date(t0 + hours * 3_600_000).toISOString();
    const steps: Record<string, unknown>[] = [
      { code: 'OC', at: h(0), location: { postalCode: origin.postalCode, countryCode: origin.countryCode, region: origin.region, timeZone: origin.timeZone } },
      { code: 'PU', at: h(6), location: origin },
      { code: 'AR', at: h(10), location: hub },
      { code: 'DP', at: h(14), location: hub },
      { code: 'IT', at: h(26), location: { city: 'BOISE', region: 'ID', postalCode: '83716', countryCode: 'US', timeZone: 'America/Boise' } },
      { code: 'AR', at: h(40), location: dest },
      { code: 'OD', at: h(44), location: dest },
    ];
    let deliveredAt = 50;
    if (o.failedFirstAttempt === true) {
      steps.push({ code: 'DE', at: h(50), location: dest, exceptionCode: '08', exceptionDescription: 'Customer not available or business closed' });
      steps.push({ code: 'OD', at: h(68), location: dest });
      deliveredAt = 73;
    }
    steps.push({ code: 'DL', at: h(deliveredAt), location: dest, signedBy });
    const events = [undefined, ...pieces].flatMap((piece) => steps.map((s) => (piece ? { ...s, piece } : { ...s })));
    return this.register({ trackingNumber: master, pieces, events, destination: dest, estimatedDelivery: { begins: h(44), ends: h(56) } });
  }

  /** Closes the listener (connection refused) and reopens it on the same port after `forMs`. */
  goDown(forMs: number): Promise<void> {
    return this.#listener.goDown(forMs);
  }

  /** Listens again after goDown (at once, whatever was scheduled). */
  up(): Promise<void> {
    return this.#listener.up();
  }

  /** Whether the listener is open. */
  get isUp(): boolean {
    return this.#listener.isUp;
  }

  async stop(): Promise<void> {
    await this.#listener.stop();
  }

  // ------------------------------------------------------------------ plumbing

  #newNumber(): string {
    this.#seq += 1;
    return String(794_600_000_000 + this.#seq * 7919 + this.shipments.size);
  }

  #ownerOf(number: string): SimShipment | undefined {
    const direct = this.shipments.get(number);
    if (direct) return direct;
    for (const s of this.shipments.values()) if (s.pieces.includes(number)) return s;
    return undefined;
  }

  #count(key: string): void {
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
  }

  async #readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    let answer: Answer;
    try {
      const body = await this.#readBody(req);
      if (path.startsWith('/__sim/')) answer = this.#admin(req, path, body);
      else {
        if (this.faults.latencyMs) await sleep(this.faults.latencyMs);
        answer = this.#api(req, path, body);
      }
    } catch (e) {
      answer = fedexError(500, 'INTERNAL.SERVER.ERROR', `We encountered an unexpected error and are working to resolve the issue. (${(e as Error).message})`);
    }
    if (res.destroyed) return;
    const text = JSON.stringify(answer.body);
    res.statusCode = answer.status;
    res.setHeader('Content-Type', 'application/json');
    for (const [k, v] of Object.entries(answer.headers)) res.setHeader(k, v);
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(text);
  }

  #api(req: IncomingMessage, path: string, body: string): Answer {
    const ctid = typeof req.headers['x-customer-transaction-id'] === 'string' ? req.headers['x-customer-transaction-id'] : undefined;
    if (path === '/oauth/token' && req.method === 'POST') return this.#token(body);
    const endpoint = path === '/track/v1/trackingnumbers' ? 'trackingnumbers' : path === '/track/v1/associatedshipments' ? 'associatedshipments' : undefined;
    if (!endpoint || req.method !== 'POST') {
      this.#count('not_found');
      return fedexError(404, 'NOT.FOUND.ERROR', 'The resource you requested is no longer available. Please modify your request and try again.', ctid);
    }
    this.#count(endpoint);
    // faults hit the tracking endpoints only, so that a counted fault is not spent on the token call
    const rl = this.faults.rateLimit;
    if (rl && rl.count > 0) {
      rl.count -= 1;
      if (rl.count <= 0) delete this.faults.rateLimit;
      // FedEx documents the 429 throttle but shows no body: this one follows its error shape
      return fedexError(429, 'TOO.MANY.REQUESTS.ERROR', 'We have received too many requests in a short duration. Please wait a while to try again.', ctid, rl.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(rl.retryAfterSeconds) });
    }
    const f5 = this.faults.status5xx;
    if (f5 && f5.count > 0) {
      f5.count -= 1;
      if (f5.count <= 0) delete this.faults.status5xx;
      return f5.status === 503
        ? fedexError(503, 'SERVICE.UNAVAILABLE.ERROR', 'The service is currently unavailable and we are working to resolve the issue. We apologize for any inconvenience. Please check back at a later time.', ctid)
        : fedexError(500, 'INTERNAL.SERVER.ERROR', 'We encountered an unexpected error and are working to resolve the issue. We apologize for any inconvenience. Please check back at a later time.', ctid);
    }
    const auth = this.#authorize(req.headers.authorization, ctid);
    if (auth) return auth;
    let input: Record<string, unknown>;
    try {
      const parsed = JSON.parse(body) as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      input = parsed as Record<string, unknown>;
    } catch {
      return fedexError(400, 'INVALID.INPUT.EXCEPTION', 'Invalid field value in the input', ctid);
    }
    return endpoint === 'trackingnumbers' ? this.#trackingNumbers(input, ctid) : this.#associated(input, ctid);
  }

  #token(body: string): Answer {
    this.#count('token');
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') {
      return fedexError(400, 'BAD.REQUEST.ERROR', 'Missing or duplicate parameters. Please modify your request and try again.');
    }
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) {
      // the token endpoint's error body is not in the Track API's OpenAPI: chosen after its 401 shape
      return fedexError(401, 'NOT.AUTHORIZED.ERROR', 'The given client credentials were not valid. Please modify your request and try again.');
    }
    const token = `sim.${randomUUID()}`;
    this.#tokens.set(token, this.now() + this.#ttl * 1000);
    return new Answer(200, { access_token: token, token_type: 'bearer', expires_in: this.#ttl, scope: 'CXS' });
  }

  #authorize(header: string | undefined, ctid: string | undefined): Answer | undefined {
    const m = /^Bearer (\S+)$/i.exec(header ?? '');
    const expires = m ? this.#tokens.get(m[1]!) : undefined;
    if (expires !== undefined && expires > this.now()) return undefined;
    if (expires !== undefined) this.#tokens.delete(m![1]!);
    return fedexError(401, 'NOT.AUTHORIZED.ERROR', expires !== undefined || m ? 'Access token expired. Please modify your request and try again.' : 'Authorization header is missing. Please modify your request and try again.', ctid);
  }

  #trackingNumbers(input: Record<string, unknown>, ctid: string | undefined): Answer {
    const info = input.trackingInfo;
    if (!Array.isArray(info) || info.length === 0) return fedexError(400, 'TRACKING.TRACKINGNUMBER.EMPTY', 'Please provide tracking number.', ctid);
    // the documented maximum is 30; the code for going over it is not documented and chosen here
    if (info.length > MAX_NUMBERS) return fedexError(400, 'TRACKING.TRACKINGINFO.LIMITEXCEEDED', `A maximum of ${MAX_NUMBERS} tracking numbers can be tracked per request.`, ctid);
    const numbers: string[] = [];
    for (const i of info) {
      const tn = (i as { trackingNumberInfo?: { trackingNumber?: unknown } } | null)?.trackingNumberInfo?.trackingNumber;
      if (typeof tn !== 'string' || tn.trim() === '') return fedexError(400, 'TRACKING.TRACKINGNUMBER.EMPTY', 'Please provide tracking number.', ctid);
      numbers.push(tn.trim());
    }
    const results = numbers.map((tn) => {
      const rendered = this.#renderPackage(tn);
      return { trackingNumber: tn, trackResults: [rendered ?? notFoundResult(tn)] };
    });
    const out: Record<string, unknown> = { transactionId: randomUUID() };
    if (ctid) out.customerTransactionId = ctid;
    out.output = { completeTrackResults: results };
    return new Answer(200, out);
  }

  #associated(input: Record<string, unknown>, ctid: string | undefined): Answer {
    if (input.associatedType !== 'STANDARD_MPS') {
      return fedexError(400, 'TRACKING.REFERENCETYPE.INVALID', 'Please provide a valid reference/associated type', ctid);
    }
    const tn = (input.masterTrackingNumberInfo as { trackingNumberInfo?: { trackingNumber?: unknown } } | undefined)?.trackingNumberInfo?.trackingNumber;
    if (typeof tn !== 'string' || tn.trim() === '') return fedexError(400, 'TRACKING.TRACKINGNUMBER.EMPTY', 'Please provide tracking number.', ctid);
    const s = this.shipments.get(tn.trim());
    const visible = s ? s.events.some((e) => e.at <= this.now()) : false;
    const results = !s || !visible
      ? [{ trackingNumber: tn, trackResults: [notFoundResult(tn)] }]
      : s.pieces.flatMap((p) => {
          const r = this.#renderPackage(p);
          return r ? [{ trackingNumber: p, trackResults: [r] }] : [];
        });
    const out: Record<string, unknown> = { transactionId: randomUUID() };
    if (ctid) out.customerTransactionId = ctid;
    out.output = { completeTrackResults: results };
    return new Answer(200, out);
  }

  /** One package's trackResult as FedEx renders it, or undefined when FedEx does not know it (yet). */
  #renderPackage(number: string): Record<string, unknown> | undefined {
    const s = this.#ownerOf(number);
    if (!s) return undefined;
    const isMaster = s.trackingNumber === number;
    const now = this.now();
    const own = s.events
      .filter((e) => (isMaster ? e.piece === undefined || e.piece === number : e.piece === number) && e.at <= now)
      .sort((a, b) => b.at - a.at);
    if (own.length === 0) return undefined;
    const latest = own[0]!;
    const first = own[own.length - 1]!;
    const delivered = own.find((e) => e.code === 'DL');
    const pickup = [...own].reverse().find((e) => e.code === 'PU' || e.code === 'PX');
    const attempts = own.filter((e) => e.code === 'DE').length;
    const destination = s.destination ?? own.find((e) => e.code === 'DL' || e.code === 'OD' || e.code === 'DE')?.location;
    const zoneOf = (e: SimEvent) => eventZone(e.location) ?? eventZone(first.location) ?? 'America/Chicago';

    let scans = own.map((e) => renderScan(e, zoneOf(e)));
    if (this.faults.duplicateEvents) scans = scans.flatMap((x) => [x, structuredClone(x)]);
    if (this.faults.shuffleEvents) {
      for (let i = scans.length - 1; i > 0; i--) {
        const j = Math.floor(this.#random() * (i + 1));
        [scans[i], scans[j]] = [scans[j]!, scans[i]!];
      }
    }

    const [dcode, dtext] = derivedStatus(latest.code);
    const latestStatus: Record<string, unknown> = {
      code: latest.code,
      derivedCode: dcode,
      statusByLocale: dtext,
      description: latest.exceptionDescription && latest.code !== 'DL' ? latest.exceptionDescription : (EVENT_DESCRIPTIONS[latest.code] ?? latest.code),
      scanLocation: address(latest.location),
    };
    if (latest.exceptionCode && latest.code !== 'DL') {
      latestStatus.ancillaryDetails = [{ reason: latest.exceptionCode, reasonDescription: latest.exceptionDescription ?? '', action: '', actionDescription: '' }];
    }
    if (latest.delayType) latestStatus.delayDetail = { type: latest.delayType, status: 'DELAYED' };

    const dates: { type: string; dateTime: string }[] = [];
    if (delivered) dates.push({ type: 'ACTUAL_DELIVERY', dateTime: withOffset(delivered.at, zoneOf(delivered)) });
    if (pickup) {
      const z = zoneOf(pickup);
      const p = localParts(pickup.at, z);
      dates.push({ type: 'ACTUAL_PICKUP', dateTime: withOffset(pickup.at, z) });
      dates.push({ type: 'SHIP', dateTime: `${p.local.slice(0, 10)}T00:00:00${p.offset}` });
      dates.push({ type: 'ACTUAL_TENDER', dateTime: withOffset(pickup.at, z) });
    }

    const destZone = eventZone(destination) ?? zoneOf(latest);
    const est = s.estimatedDelivery;
    const estimatedWindow = !delivered && est
      ? { window: { begins: localParts(est.begins, destZone).local, ends: withOffset(est.ends, destZone) } }
      : { window: {} };
    const standardWindow = est ? { window: { ends: `${localParts(est.ends, destZone).local.slice(0, 10)}T00:00:00${localParts(est.ends, destZone).offset}` } } : { window: {} };

    const deliveryDetails: Record<string, unknown> = { deliveryAttempts: String(attempts) };
    if (delivered) {
      deliveryDetails.actualDeliveryAddress = address(delivered.location);
      deliveryDetails.receivedByName = delivered.signedBy ?? 'Signature not required';
      if (delivered.signedBy) deliveryDetails.signedByName = delivered.signedBy;
      deliveryDetails.deliveryOptionEligibilityDetails = [{ option: 'DISPUTE_DELIVERY', eligibility: 'POSSIBLY_ELIGIBLE' }];
    }

    return {
      trackingNumberInfo: { trackingNumber: number, trackingNumberUniqueId: `12027~${number}~FDEG`, carrierCode: 'FDXG' },
      additionalTrackingInfo: { nickname: '', packageIdentifiers: [], hasAssociatedShipments: isMaster && s.pieces.length > 0 },
      shipperInformation: { contact: {}, address: address(first.location) },
      recipientInformation: { contact: {}, address: address(destination) },
      latestStatusDetail: latestStatus,
      dateAndTimes: dates,
      availableImages: delivered?.signedBy ? [{ type: 'SIGNATURE_PROOF_OF_DELIVERY' }] : [],
      packageDetails: {
        packagingDescription: { type: 'YOUR_PACKAGING', description: 'Package' },
        physicalPackagingType: 'PACKAGE',
        sequenceNumber: String(isMaster ? 1 : s.pieces.indexOf(number) + 2),
        count: String(s.pieces.length + 1),
        weightAndDimensions: { weight: [{ value: '1.0', unit: 'LB' }, { value: '0.45', unit: 'KG' }] },
        packageContent: [],
      },
      shipmentDetails: { possessionStatus: pickup !== undefined },
      scanEvents: scans,
      availableNotifications: ['ON_DELIVERY'],
      deliveryDetails,
      originLocation: { locationContactAndAddress: { address: address(first.location) } },
      lastUpdatedDestinationAddress: address(destination),
      serviceDetail: { type: 'FEDEX_GROUND', description: 'FedEx Ground', shortDescription: 'FG' },
      standardTransitTimeWindow: standardWindow,
      estimatedDeliveryTimeWindow: estimatedWindow,
      goodsClassificationCode: '',
      returnDetail: {},
    };
  }

  #admin(req: IncomingMessage, path: string, body: string): Answer {
    let input: unknown = {};
    if (req.method === 'POST' && body.trim() !== '') {
      try {
        input = JSON.parse(body);
      } catch {
        return new Answer(400, { error: 'the body is not JSON' });
      }
    }
    try {
      if (path === '/__sim/shipments' && req.method === 'POST') return new Answer(201, describe(this.register(input)));
      if (path === '/__sim/shipments' && req.method === 'GET') return new Answer(200, { shipments: [...this.shipments.values()].map(describe) });
      if (path === '/__sim/script' && req.method === 'POST') return new Answer(201, describe(this.script(input)));
      if (path === '/__sim/faults') {
        if (req.method === 'DELETE') this.clearFaults();
        else if (req.method === 'POST') this.setFaults(parseFaults(input));
        return new Answer(200, { faults: this.faults });
      }
      if (path === '/__sim/clock' && req.method === 'POST') {
        const now = (input as { now?: unknown }).now;
        if (now !== null && (typeof now !== 'string' || Number.isNaN(Date.parse(now)))) throw new BadInput('now must be an RFC 3339 instant, or null to follow the real clock');
        this.setClock(now === null ? undefined : now);
        return new Answer(200, { now: new Date(this.now()).toISOString() });
      }
      if (path === '/__sim/tokens/expire' && req.method === 'POST') {
        this.expireTokens();
        return new Answer(200, { expired: true });
      }
      if (path === '/__sim/reset' && req.method === 'POST') {
        this.reset();
        return new Answer(200, { reset: true });
      }
      if (path === '/__sim/stats' && req.method === 'GET') return new Answer(200, { total: this.totalCalls, calls: Object.fromEntries(this.calls) });
    } catch (e) {
      if (e instanceof BadInput) return new Answer(400, { error: e.message });
      throw e;
    }
    return new Answer(404, { error: `no admin route ${req.method} ${path}` });
  }
}

function notFoundResult(tn: string): Record<string, unknown> {
  return {
    trackingNumberInfo: { trackingNumber: tn, trackingNumberUniqueId: '', carrierCode: '' },
    error: { code: 'TRACKING.TRACKINGNUMBER.NOTFOUND', message: NOT_FOUND_MESSAGE },
  };
}

function eventZone(l: SimLocation | undefined): string | undefined {
  return l?.timeZone ?? zoneOfPlace(l?.region, l?.countryCode);
}

function address(l: SimLocation | undefined): Record<string, unknown> {
  const a: Record<string, unknown> = {};
  if (l?.city) a.city = l.city;
  if (l?.region) a.stateOrProvinceCode = l.region;
  if (l?.postalCode) a.postalCode = l.postalCode;
  if (l?.countryCode) a.countryCode = l.countryCode;
  a.residential = false;
  return a;
}

function renderScan(e: SimEvent, zone: string): Record<string, unknown> {
  const [dcode, dtext] = derivedStatus(e.code);
  const scan: Record<string, unknown> = {
    date: withOffset(e.at, zone),
    eventType: e.code,
    eventDescription: EVENT_DESCRIPTIONS[e.code] ?? e.code,
    exceptionCode: e.exceptionCode ?? '',
    exceptionDescription: e.exceptionDescription ?? '',
    scanLocation: { streetLines: [''], ...address(e.location) },
  };
  if (e.location?.locationId) scan.locationId = e.location.locationId;
  scan.locationType = locationTypeOf(e.code);
  scan.derivedStatusCode = dcode;
  scan.derivedStatus = dtext;
  if (e.delayType) scan.delayDetail = { type: e.delayType };
  return scan;
}

function describe(s: SimShipment): Record<string, unknown> {
  return {
    trackingNumber: s.trackingNumber,
    pieces: s.pieces,
    events: s.events.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
    destination: s.destination,
    estimatedDelivery: s.estimatedDelivery ? { begins: new Date(s.estimatedDelivery.begins).toISOString(), ends: new Date(s.estimatedDelivery.ends).toISOString() } : undefined,
  };
}

function optString(o: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new BadInput(`${where}.${key} must be a string`);
  return v;
}

function parseLocation(v: unknown, where: string): SimLocation | undefined {
  if (v === undefined) return undefined;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new BadInput(`${where} must be an object`);
  const o = v as Record<string, unknown>;
  const l: SimLocation = {};
  for (const k of ['city', 'region', 'postalCode', 'countryCode', 'timeZone', 'locationId'] as const) {
    const s = optString(o, k, where);
    if (s !== undefined) l[k] = s;
  }
  if (l.timeZone) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: l.timeZone });
    } catch {
      throw new BadInput(`${where}.timeZone ${JSON.stringify(l.timeZone)} is not an IANA zone`);
    }
  }
  return l;
}

function parseInstant(v: unknown, where: string): number {
  if (typeof v !== 'string' || !INSTANT_RE.test(v) || Number.isNaN(Date.parse(v))) throw new BadInput(`${where} must be an RFC 3339 instant with Z or an offset`);
  return Date.parse(v);
}

/** The admin API's shipment JSON → SimShipment, or BadInput naming the first problem. */
function parseShipment(input: unknown): SimShipment {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new BadInput('give a JSON object');
  const o = input as Record<string, unknown>;
  if (typeof o.trackingNumber !== 'string' || !NUMBER_RE.test(o.trackingNumber)) throw new BadInput('trackingNumber must be 6 to 40 letters or digits');
  const pieces = o.pieces === undefined ? [] : o.pieces;
  if (!Array.isArray(pieces) || !pieces.every((p) => typeof p === 'string' && NUMBER_RE.test(p))) throw new BadInput('pieces must be an array of tracking numbers');
  const others = (pieces as string[]).filter((p) => p !== o.trackingNumber);
  if (new Set(others).size !== others.length) throw new BadInput('pieces must not repeat a number');
  if (!Array.isArray(o.events)) throw new BadInput('events must be an array');
  const events = o.events.map((raw, i): SimEvent => {
    const where = `events[${i}]`;
    if (!raw || typeof raw !== 'object') throw new BadInput(`${where} must be an object`);
    const e = raw as Record<string, unknown>;
    if (typeof e.code !== 'string' || !(e.code in EVENT_DESCRIPTIONS)) {
      throw new BadInput(`${where}.code ${JSON.stringify(e.code)} is not a FedEx event code (${Object.keys(EVENT_DESCRIPTIONS).join(', ')})`);
    }
    const ev: SimEvent = { code: e.code, at: parseInstant(e.at, `${where}.at`) };
    const piece = optString(e, 'piece', where);
    if (piece !== undefined && piece !== o.trackingNumber) {
      if (!others.includes(piece)) throw new BadInput(`${where}.piece ${piece} is not one of the shipment's pieces`);
      ev.piece = piece;
    }
    const loc = parseLocation(e.location, `${where}.location`);
    if (loc) ev.location = loc;
    for (const k of ['signedBy', 'exceptionCode', 'exceptionDescription', 'delayType'] as const) {
      const s = optString(e, k, where);
      if (s !== undefined) ev[k] = s;
    }
    return ev;
  });
  // every scan is rendered with its local offset: a zone must be known for it or for the first scan
  const firstZone = eventZone([...events].sort((a, b) => a.at - b.at)[0]?.location);
  events.forEach((e, i) => {
    if (!eventZone(e.location) && !firstZone) throw new BadInput(`events[${i}]: cannot tell the time zone of its location; give location.region and countryCode of a one-zone state or country, or location.timeZone`);
  });
  const s: SimShipment = { trackingNumber: o.trackingNumber, pieces: others, events };
  const destination = parseLocation(o.destination, 'destination');
  if (destination) s.destination = destination;
  if (o.estimatedDelivery !== undefined) {
    const w = o.estimatedDelivery as Record<string, unknown> | null;
    if (!w || typeof w !== 'object') throw new BadInput('estimatedDelivery must be {begins, ends}');
    s.estimatedDelivery = { begins: parseInstant(w.begins, 'estimatedDelivery.begins'), ends: parseInstant(w.ends, 'estimatedDelivery.ends') };
  }
  return s;
}

function parseFaults(input: unknown): FedexFaults {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new BadInput('give a JSON object of faults');
  const o = input as Record<string, unknown>;
  const known = ['rateLimit', 'down', 'status5xx', 'latencyMs', 'duplicateEvents', 'shuffleEvents'];
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new BadInput(`unknown fault ${k} (known: ${known.join(', ')})`);
  const count = (v: unknown, name: string) => {
    const c = (v as { count?: unknown } | undefined)?.count;
    if (!Number.isInteger(c) || (c as number) < 1) throw new BadInput(`${name}.count must be a positive integer`);
    return c as number;
  };
  const f: FedexFaults = {};
  if (o.rateLimit !== undefined) {
    const ra = (o.rateLimit as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if (ra !== undefined && (!Number.isInteger(ra) || (ra as number) < 0)) throw new BadInput('rateLimit.retryAfterSeconds must be a whole number of seconds');
    f.rateLimit = { count: count(o.rateLimit, 'rateLimit'), ...(ra === undefined ? {} : { retryAfterSeconds: ra as number }) };
  }
  if (o.status5xx !== undefined) {
    const st = (o.status5xx as { status?: unknown }).status;
    if (st !== undefined && st !== 500 && st !== 503) throw new BadInput('status5xx.status must be 500 or 503');
    f.status5xx = { count: count(o.status5xx, 'status5xx'), ...(st === undefined ? {} : { status: st as 500 | 503 }) };
  }
  if (o.down !== undefined) {
    const ms = (o.down as { forMs?: unknown }).forMs;
    if (!Number.isInteger(ms) || (ms as number) < 1) throw new BadInput('down.forMs must be a positive integer');
    f.down = { forMs: ms as number };
  }
  if (o.latencyMs !== undefined) {
    if (!Number.isInteger(o.latencyMs) || (o.latencyMs as number) < 0) throw new BadInput('latencyMs must be a whole number');
    f.latencyMs = o.latencyMs as number;
  }
  for (const k of ['duplicateEvents', 'shuffleEvents'] as const) {
    if (o[k] !== undefined) {
      if (typeof o[k] !== 'boolean') throw new BadInput(`${k} must be true or false`);
      f[k] = o[k] as boolean;
    }
  }
  return f;
}
