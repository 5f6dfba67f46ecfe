/**
 * SimWMS: a cloud warehouse management system on the wire, for the WMS connector's tests
 * and the demo. It keeps outbound orders moving over time the way a warehouse does:
 * accepted after a delay, released in waves every N seconds, picked (short when stock is
 * insufficient or when a short is scripted), packed into packages by weight, then waiting
 * for the hub's labels before it ships. Every step is reported by a signed webhook.
 *
 * API (header `X-Api-Key`, JSON bodies, errors as `{"error": {"code", "message", "details"?}}`):
 *   POST  /api/v1/outbound-orders                    create (Idempotency-Key honoured) → 201
 *   GET   /api/v1/outbound-orders/{id}               one order; GET /api/v1/outbound-orders?client_reference=
 *   POST  /api/v1/outbound-orders/{id}/cancel        409 order_not_cancellable once packed
 *   PATCH /api/v1/outbound-orders/{id}/ship-to       409 order_already_shipped once shipped
 *   POST  /api/v1/outbound-orders/{id}/labels        carrier + tracking number and label per package; 409 unless packed
 *   GET   /api/v1/inventory?sku=A&sku=B              stock per SKU
 *
 * Webhooks: POST to the configured URL, body `{"id", "type", "created_at", "data"}`, headers
 * X-SimWMS-Event-Id, X-SimWMS-Event-Type, X-SimWMS-Timestamp and X-SimWMS-Signature
 * (`sha256=` + hex HMAC-SHA256 of the body keyed by the secret). Non-2xx answers are
 * retried with exponential backoff (1 s, 2 s, 4 s ... capped at 5 min, 10 attempts).
 * W3C trace context: the `traceparent` (and `tracestate`) a create request carried is sent back
 * on every webhook about that order, so the sender's trace continues through the warehouse.
 * Types: order.accepted, wave.released, pick.confirmed, pack.completed, order.shipped, order.cancelled.
 *
 * Time: the simulator's clock (an injectable Clock plus what `advance` added) decides every
 * step, so tests move time with `advance(seconds)` or POST /__sim/advance; with
 * `auto: true` a real-time tick runs the due steps (demo mode).
 *
 * Administration (not part of the WMS): /__sim/stats, /__sim/reset, /__sim/faults,
 * /__sim/advance, /__sim/stock, /__sim/skus, /__sim/script, /__sim/config, /__sim/webhooks.
 */
import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SimListener } from '../common/listener.ts';
import type { Clock } from '../../src/platform/clock.ts';
import {
  DEFAULT_SKUS,
  DEFAULT_STOCK,
  WAREHOUSE,
  checkAddress,
  checkCreateOrder,
  packOrder,
  pickOrder,
  restock,
  toAddress,
  wireTime,
  type Issue,
  type OrderStatus,
  type ScriptedShort,
  type SkuInfo,
  type WmsOrder,
} from './model.ts';

export type { WmsOrder, SkuInfo } from './model.ts';

export interface WmsSimulatorOptions {
  port?: number;
  host?: string;
  /** the source of time; the system clock when absent */
  clock?: Clock;
  /** run due steps on a real-time tick (demo); tests leave it off and call advance() */
  auto?: boolean;
  apiKey?: string;
  webhookUrl?: string;
  webhookSecret?: string;
  /** seconds from creation to acceptance (default 5) */
  acceptDelaySeconds?: number;
  /** seconds between waves (default 60) */
  waveIntervalSeconds?: number;
  /** seconds from wave release to pick confirmation (default 30) */
  pickSeconds?: number;
  /** seconds from pick confirmation to packing (default 30) */
  packSeconds?: number;
  /** seconds from labels to shipping (default 10) */
  shipSeconds?: number;
  /** most delivery attempts of one webhook (default 10) */
  maxWebhookAttempts?: number;
}

/** Faults, set through setFaults or POST /__sim/faults; absent members leave the current setting. */
export interface WmsFaultSpec {
  /** delay before every API answer, real milliseconds */
  latencyMs?: number;
  /** the next `count` API requests answer `status` (default 503) */
  status5xx?: { count: number; status?: number };
  /** the next `count` API requests answer 429 with Retry-After */
  tooManyRequests?: { count: number; retryAfterSeconds?: number };
  /** the listener closes (connection refused) for this many real milliseconds */
  down?: number;
  /** every webhook is delivered twice (same event id) */
  duplicateWebhooks?: boolean;
  /** webhooks are held until `window` are waiting (or the oldest waited `holdSeconds` of simulator time, default 5), then sent newest first */
  reorderWebhooks?: boolean | { window: number; holdSeconds?: number };
  /** webhook deliveries fail for this many milliseconds of simulator time, then are retried */
  webhookOutage?: number;
}

/** The W3C trace context of a request, when it carries a well-formed one. */
function traceOf(req: IncomingMessage): { traceparent: string; tracestate?: string } | undefined {
  const tp = req.headers.traceparent;
  if (typeof tp !== 'string' || !/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/.test(tp)) return undefined;
  const ts = req.headers.tracestate;
  return { traceparent: tp, ...(typeof ts === 'string' && ts ? { tracestate: ts } : {}) };
}

interface Delivery {
  eventId: string;
  type: string;
  body: string;
  /** trace context of the request that created the order the event is about */
  trace?: { traceparent: string; tracestate?: string };
  attempts: number;
  nextAt: number;
  heldSince?: number;
}

export interface DeliveryRecord {
  eventId: string;
  type: string;
  attempt: number;
  status: number | null;
  error?: string;
  at: string;
}

type Due = { at: number; step: 'accept' | 'pick' | 'pack' | 'ship' };

class Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;

  constructor(status: number, body: unknown, headers: Record<string, string> = {}) {
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

const apiError = (status: number, code: string, message: string, extra: Record<string, unknown> = {}) => new Answer(status, { error: { code, message, ...extra } });
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const NOT_CANCELLABLE: readonly OrderStatus[] = ['packed', 'labelled', 'shipped'];

export class WmsSimulator {
  readonly #listener: SimListener;
  url = '';
  readonly apiKey: string;
  webhookUrl: string | undefined;
  webhookSecret: string;
  #tick: NodeJS.Timeout | undefined;
  readonly #clock: Clock;
  #offsetMs = 0;
  readonly #o: Required<Pick<WmsSimulatorOptions, 'acceptDelaySeconds' | 'waveIntervalSeconds' | 'pickSeconds' | 'packSeconds' | 'shipSeconds' | 'maxWebhookAttempts'>>;

  // warehouse state
  #skus = new Map<string, SkuInfo>();
  #stock = new Map<string, number>();
  #orders = new Map<string, WmsOrder>();
  /** the W3C trace context each order was created with, by order id */
  #traces = new Map<string, { traceparent: string; tracestate?: string }>();
  #due = new Map<string, Due>();
  #scripts = new Map<string, Map<string, ScriptedShort>>();
  #idempotency = new Map<string, { fingerprint: string; answer: Answer }>();
  #nextOrder = 1;
  #nextWave = 1;
  #nextEvent = 1;
  #nextWaveAt = 0;

  // webhooks
  #queue: Delivery[] = [];
  #held: Delivery[] = [];
  readonly log: DeliveryRecord[] = [];
  #webhookStats = { enqueued: 0, attempts: 0, delivered: 0, failed: 0, duplicated: 0, abandoned: 0 };

  // faults and counters
  #faults: { latencyMs: number; status5xx: { count: number; status: number }; tooMany: { count: number; retryAfterSeconds: number }; duplicate: boolean; reorderWindow: number; holdMs: number; outageUntil: number } = WmsSimulator.#noFaults();
  #requests = new Map<string, number>();
  #busy: Promise<void> = Promise.resolve();

  private constructor(o: WmsSimulatorOptions) {
    this.#listener = new SimListener((req, res) => this.#handle(req, res), { ...(o.host ? { host: o.host } : {}), ...(o.port ? { port: o.port } : {}) });
    this.#clock = o.clock ?? { now: () => new Date() };
    this.apiKey = o.apiKey ?? 'simwms-test-key';
    this.webhookUrl = o.webhookUrl;
    this.webhookSecret = o.webhookSecret ?? 'simwms-webhook-secret';
    this.#o = {
      acceptDelaySeconds: o.acceptDelaySeconds ?? 5,
      waveIntervalSeconds: o.waveIntervalSeconds ?? 60,
      pickSeconds: o.pickSeconds ?? 30,
      packSeconds: o.packSeconds ?? 30,
      shipSeconds: o.shipSeconds ?? 10,
      maxWebhookAttempts: o.maxWebhookAttempts ?? 10,
    };
    this.reset();
    if (o.auto) {
      this.#tick = setInterval(() => void this.#serial(() => this.#runDue()), 200);
      this.#tick.unref?.();
    }
  }

  static #noFaults() {
    return { latencyMs: 0, status5xx: { count: 0, status: 503 }, tooMany: { count: 0, retryAfterSeconds: 1 }, duplicate: false, reorderWindow: 0, holdMs: 5000, outageUntil: 0 };
  }

  /** Starts a simulator listening on host:port (port 0: any free port). */
  static async start(o: WmsSimulatorOptions = {}): Promise<WmsSimulator> {
    const sim = new WmsSimulator(o);
    sim.url = await sim.#listener.listen();
    return sim;
  }

  /** The simulator's current time. */
  now(): Date {
    return new Date(this.#clock.now().getTime() + this.#offsetMs);
  }

  /** Default SKU master and stock, no orders, no pending webhooks, no faults, counters zero; time back to the clock's. */
  reset(): void {
    this.#offsetMs = 0;
    this.#skus = new Map(DEFAULT_SKUS.map((s) => [s.sku, { ...s }]));
    this.#stock = new Map(DEFAULT_SKUS.map((s) => [s.sku, DEFAULT_STOCK]));
    this.#orders.clear();
    this.#traces.clear();
    this.#due.clear();
    this.#scripts.clear();
    this.#idempotency.clear();
    this.#nextOrder = this.#nextWave = this.#nextEvent = 1;
    this.#nextWaveAt = this.now().getTime() + this.#o.waveIntervalSeconds * 1000;
    this.#queue = [];
    this.#held = [];
    this.log.length = 0;
    this.#webhookStats = { enqueued: 0, attempts: 0, delivered: 0, failed: 0, duplicated: 0, abandoned: 0 };
    this.#faults = WmsSimulator.#noFaults();
    this.#requests.clear();
  }

  /** Where webhooks go, and the secret that signs them. */
  configure(c: { webhookUrl?: string; webhookSecret?: string }): void {
    if (c.webhookUrl !== undefined) this.webhookUrl = c.webhookUrl;
    if (c.webhookSecret !== undefined) this.webhookSecret = c.webhookSecret;
  }

  setFaults(f: WmsFaultSpec): void {
    const cur = this.#faults;
    if (f.latencyMs !== undefined) cur.latencyMs = f.latencyMs;
    if (f.status5xx) cur.status5xx = { count: f.status5xx.count, status: f.status5xx.status ?? 503 };
    if (f.tooManyRequests) cur.tooMany = { count: f.tooManyRequests.count, retryAfterSeconds: f.tooManyRequests.retryAfterSeconds ?? 1 };
    if (f.duplicateWebhooks !== undefined) cur.duplicate = f.duplicateWebhooks;
    if (f.reorderWebhooks !== undefined) {
      cur.reorderWindow = f.reorderWebhooks === false ? 0 : f.reorderWebhooks === true ? 3 : Math.max(2, f.reorderWebhooks.window);
      cur.holdMs = typeof f.reorderWebhooks === 'object' && f.reorderWebhooks.holdSeconds !== undefined ? f.reorderWebhooks.holdSeconds * 1000 : 5000;
      if (cur.reorderWindow === 0) this.#releaseHeld();
    }
    if (f.webhookOutage !== undefined) cur.outageUntil = this.now().getTime() + f.webhookOutage;
    if (f.down !== undefined && f.down > 0) void this.goDown(f.down);
  }

  clearFaults(): void {
    this.#faults = WmsSimulator.#noFaults();
    this.#releaseHeld();
  }

  /** Sets the stock of SKUs (units on hand). */
  setStock(items: Record<string, number>): void {
    for (const [sku, q] of Object.entries(items)) this.#stock.set(sku, q);
  }

  /** Adds or replaces SKUs in the master (weights decide packing). */
  setSkus(items: (Partial<SkuInfo> & { sku: string; weightKg: number })[]): void {
    for (const s of items) {
      this.#skus.set(s.sku, { sku: s.sku, weightKg: s.weightKg, description: s.description ?? s.sku, uom: s.uom ?? 'EA' });
      if (!this.#stock.has(s.sku)) this.#stock.set(s.sku, 0);
    }
  }

  /** Scripts short picks for the order with this client reference: per SKU, how many units come up short and why. */
  scriptShort(clientReference: string, shorts: Record<string, ScriptedShort>): void {
    this.#scripts.set(clientReference, new Map(Object.entries(shorts)));
  }

  order(id: string): WmsOrder | undefined {
    const o = this.#orders.get(id);
    return o && structuredClone(o);
  }

  orders(): WmsOrder[] {
    return [...this.#orders.values()].map((o) => structuredClone(o));
  }

  stats() {
    const byStatus: Record<string, number> = {};
    for (const o of this.#orders.values()) byStatus[o.status] = (byStatus[o.status] ?? 0) + 1;
    return {
      now: wireTime(this.now()),
      requests: Object.fromEntries(this.#requests),
      orders: { total: this.#orders.size, byStatus },
      webhooks: { ...this.#webhookStats, pending: this.#queue.length, held: this.#held.length },
      stock: Object.fromEntries(this.#stock),
    };
  }

  /** Webhooks not yet delivered (queued for an attempt or held for reordering). */
  get pendingWebhooks(): number {
    return this.#queue.length + this.#held.length;
  }

  /**
   * Moves the simulator's time forward, running every step that falls due on the way in
   * time order (acceptances, waves, picks, packing, shipping, webhook attempts and retries).
   * Resolves once the steps and the webhook attempts they caused are done.
   */
  advance(seconds: number): Promise<void> {
    if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError('seconds must be a non-negative number');
    return this.#serial(async () => {
      const target = this.now().getTime() + seconds * 1000;
      for (;;) {
        await this.#runDue();
        const next = this.#nextDueAt();
        if (next === undefined || next > target) break;
        this.#offsetMs += next - this.now().getTime();
      }
      const now = this.now().getTime();
      if (target > now) this.#offsetMs += target - now;
      await this.#runDue();
    });
  }

  /** Runs what is due now (acceptances, waves, picks...) and the webhook attempts due now. */
  runDue(): Promise<void> {
    return this.#serial(() => this.#runDue());
  }

  async stop(): Promise<void> {
    clearInterval(this.#tick);
    await this.#listener.stop();
  }

  /** Closes the listener (connection refused) and reopens it on the same port after `forMs` real milliseconds. */
  goDown(forMs: number): Promise<void> {
    return this.#listener.goDown(forMs);
  }

  /** Listens again after goDown, at once. */
  up(): Promise<void> {
    return this.#listener.up();
  }

  // ------------------------------------------------------------------ time and steps

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(fn);
    this.#busy = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** The next instant after now at which something falls due (what is due now has just run). */
  #nextDueAt(): number | undefined {
    const now = this.now().getTime();
    const times = [...this.#due.values()].map((d) => d.at);
    if (this.webhookUrl) times.push(...this.#queue.map((d) => d.nextAt));
    if (this.#held.length) times.push(Math.min(...this.#held.map((d) => d.heldSince!)) + this.#faults.holdMs);
    if ([...this.#orders.values()].some((o) => o.status === 'accepted')) times.push(this.#nextWaveAt);
    const later = times.filter((t) => t > now);
    return later.length ? Math.min(...later) : undefined;
  }

  async #runDue(): Promise<void> {
    const now = this.now().getTime();
    const due = [...this.#due.entries()].filter(([, d]) => d.at <= now).sort(([a, x], [b, y]) => x.at - y.at || a.localeCompare(b));
    for (const [id, d] of due) {
      this.#due.delete(id);
      this.#step(this.#orders.get(id)!, d.step);
    }
    while (this.#nextWaveAt <= now) {
      this.#wave(this.#nextWaveAt);
      this.#nextWaveAt += this.#o.waveIntervalSeconds * 1000;
    }
    if (this.#held.length && (this.#held.length >= this.#faults.reorderWindow || now - this.#held[0]!.heldSince! >= this.#faults.holdMs)) this.#releaseHeld();
    await this.#deliverDue();
  }

  #schedule(o: WmsOrder, step: Due['step'], seconds: number): void {
    this.#due.set(o.id, { at: this.now().getTime() + seconds * 1000, step });
  }

  #touch(o: WmsOrder, status: OrderStatus): string {
    const t = wireTime(this.now());
    o.status = status;
    o.updated_at = t;
    return t;
  }

  #refs(o: WmsOrder) {
    return { order_id: o.id, client_reference: o.client_reference, shipment_reference: o.shipment_reference, order_number: o.order_number };
  }

  #step(o: WmsOrder, step: Due['step']): void {
    if (step === 'accept' && o.status === 'received') {
      o.accepted_at = this.#touch(o, 'accepted');
      this.#emit('order.accepted', { ...this.#refs(o), status: 'accepted', accepted_at: o.accepted_at, warehouse_code: WAREHOUSE.code });
    } else if (step === 'pick' && o.status === 'released') {
      const any = pickOrder(o, this.#stock, this.#scripts.get(o.client_reference));
      o.picked_at = this.#touch(o, any ? 'picked' : 'unfulfilled');
      this.#emit('pick.confirmed', {
        ...this.#refs(o),
        wave_id: o.wave_id,
        confirmed_at: o.picked_at,
        lines: o.lines.map((l) => ({ line_no: l.line_no, line_ref: l.line_ref, sku: l.sku, uom: l.uom, ordered_qty: l.quantity, picked_qty: l.picked_qty, short_qty: l.short_qty, short_reason: l.short_reason })),
      });
      if (any) this.#schedule(o, 'pack', this.#o.packSeconds);
    } else if (step === 'pack' && o.status === 'picked') {
      o.packages = packOrder(o, this.#skus);
      o.packed_at = this.#touch(o, 'packed');
      this.#emit('pack.completed', {
        ...this.#refs(o),
        packed_at: o.packed_at,
        service_level: o.service_level,
        ship_from: WAREHOUSE.address,
        ship_to: o.ship_to,
        packages: o.packages.map((p) => ({ package_id: p.package_id, weight_kg: p.weight_kg, length_cm: p.length_cm, width_cm: p.width_cm, height_cm: p.height_cm, contents: p.contents })),
      });
    } else if (step === 'ship' && o.status === 'labelled') {
      o.shipped_at = this.#touch(o, 'shipped');
      this.#emit('order.shipped', {
        ...this.#refs(o),
        shipped_at: o.shipped_at,
        carrier: o.carrier,
        service_level: o.service_level,
        tracking_numbers: o.tracking_numbers,
        packages: o.packages.map((p) => ({ package_id: p.package_id, tracking_number: p.tracking_number })),
      });
    }
  }

  #wave(at: number): void {
    const accepted = [...this.#orders.values()].filter((o) => o.status === 'accepted').sort((a, b) => a.accepted_at!.localeCompare(b.accepted_at!) || a.id.localeCompare(b.id));
    if (!accepted.length) return;
    const waveId = `W-${String(this.#nextWave++).padStart(6, '0')}`;
    const releasedAt = wireTime(new Date(at));
    for (const o of accepted) {
      o.wave_id = waveId;
      this.#touch(o, 'released');
      this.#schedule(o, 'pick', this.#o.pickSeconds);
    }
    this.#emit('wave.released', { wave_id: waveId, released_at: releasedAt, orders: accepted.map((o) => ({ order_id: o.id, client_reference: o.client_reference })) });
  }

  // ------------------------------------------------------------------ webhooks

  #emit(type: string, data: Record<string, unknown>): void {
    const eventId = `evt_${String(this.#nextEvent++).padStart(8, '0')}`;
    const body = JSON.stringify({ id: eventId, type, created_at: wireTime(this.now()), data });
    const trace = typeof data.order_id === 'string' ? this.#traces.get(data.order_id) : undefined;
    const d: Delivery = { eventId, type, body, attempts: 0, nextAt: this.now().getTime(), ...(trace ? { trace } : {}) };
    this.#webhookStats.enqueued++;
    if (this.#faults.reorderWindow > 0) {
      d.heldSince = this.now().getTime();
      this.#held.push(d);
    } else this.#queue.push(d);
  }

  #releaseHeld(): void {
    const now = this.now().getTime();
    for (const d of this.#held.reverse()) {
      delete d.heldSince;
      d.nextAt = now;
      this.#queue.push(d);
    }
    this.#held = [];
  }

  async #deliverDue(): Promise<void> {
    const now = this.now().getTime();
    const due = this.#queue.filter((d) => d.nextAt <= now);
    for (const d of due) {
      if (!this.webhookUrl) continue;
      const ok = await this.#attempt(d);
      if (ok) {
        this.#queue.splice(this.#queue.indexOf(d), 1);
        if (this.#faults.duplicate) {
          this.#webhookStats.duplicated++;
          await this.#post(d);
        }
        continue;
      }
      if (d.attempts >= this.#o.maxWebhookAttempts) {
        this.#webhookStats.abandoned++;
        this.#queue.splice(this.#queue.indexOf(d), 1);
      } else d.nextAt = this.now().getTime() + Math.min(1000 * 2 ** (d.attempts - 1), 300_000);
    }
  }

  async #attempt(d: Delivery): Promise<boolean> {
    d.attempts++;
    this.#webhookStats.attempts++;
    if (this.now().getTime() < this.#faults.outageUntil) {
      this.#webhookStats.failed++;
      this.log.push({ eventId: d.eventId, type: d.type, attempt: d.attempts, status: null, error: 'webhook outage', at: wireTime(this.now()) });
      return false;
    }
    const r = await this.#post(d);
    this.log.push({ eventId: d.eventId, type: d.type, attempt: d.attempts, status: r.status, ...(r.error ? { error: r.error } : {}), at: wireTime(this.now()) });
    if (r.status !== null && r.status >= 200 && r.status < 300) {
      this.#webhookStats.delivered++;
      return true;
    }
    this.#webhookStats.failed++;
    return false;
  }

  async #post(d: Delivery): Promise<{ status: number | null; error?: string }> {
    try {
      const res = await fetch(this.webhookUrl!, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'SimWMS-Webhooks/1.0',
          'x-simwms-event-id': d.eventId,
          'x-simwms-event-type': d.type,
          'x-simwms-timestamp': String(Math.floor(this.now().getTime() / 1000)),
          'x-simwms-signature': 'sha256=' + createHmac('sha256', Buffer.from(this.webhookSecret, 'utf8')).update(d.body).digest('hex'),
          ...(d.trace ? { traceparent: d.trace.traceparent, ...(d.trace.tracestate ? { tracestate: d.trace.tracestate } : {}) } : {}),
        },
        body: d.body,
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      return { status: res.status };
    } catch (e) {
      return { status: null, error: (e as Error).message };
    }
  }

  // ------------------------------------------------------------------ HTTP

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://sim');
    let answer: Answer;
    try {
      const raw = await readBody(req);
      if (raw === undefined) answer = apiError(413, 'payload_too_large', 'the body is larger than 1 MiB');
      else if (u.pathname.startsWith('/__sim/')) answer = await this.#admin(req.method ?? 'GET', u, raw);
      else answer = await this.#api(req, u, raw);
    } catch (e) {
      answer = apiError(500, 'internal_error', (e as Error).message);
    }
    if (res.destroyed) return;
    const body = answer.status === 204 ? '' : JSON.stringify(answer.body);
    res.statusCode = answer.status;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    for (const [k, v] of Object.entries(answer.headers)) res.setHeader(k, v);
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(body);
  }

  async #api(req: IncomingMessage, u: URL, raw: Buffer): Promise<Answer> {
    const method = req.method ?? 'GET';
    const route = routeOf(method, u.pathname);
    this.#requests.set(route, (this.#requests.get(route) ?? 0) + 1);
    const f = this.#faults;
    if (f.latencyMs > 0) await new Promise((r) => setTimeout(r, f.latencyMs));
    if (f.status5xx.count > 0) {
      f.status5xx.count--;
      return apiError(f.status5xx.status, 'service_unavailable', 'the service is temporarily unavailable, try again later');
    }
    if (f.tooMany.count > 0) {
      f.tooMany.count--;
      return new Answer(429, { error: { code: 'rate_limited', message: 'too many requests' } }, { 'Retry-After': String(f.tooMany.retryAfterSeconds) });
    }
    const key = req.headers['x-api-key'];
    if (key !== this.apiKey) return apiError(401, 'unauthorized', key === undefined ? 'the X-Api-Key header is missing' : 'the API key is not valid');

    let body: unknown = undefined;
    if (raw.length) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch (e) {
        return apiError(400, 'invalid_json', `the body is not valid JSON: ${(e as Error).message}`);
      }
    }
    const p = u.pathname.replace(/\/+$/, '');
    let m: RegExpExecArray | null;
    if (p === '/api/v1/outbound-orders' && method === 'POST') return this.#create(body, req.headers['idempotency-key'], traceOf(req));
    if (p === '/api/v1/outbound-orders' && method === 'GET') {
      const ref = u.searchParams.get('client_reference');
      return new Answer(200, { data: [...this.#orders.values()].filter((o) => ref === null || o.client_reference === ref) });
    }
    if ((m = /^\/api\/v1\/outbound-orders\/([^/]+)(?:\/(cancel|ship-to|labels))?$/.exec(p))) {
      const o = this.#orders.get(decodeURIComponent(m[1]!));
      const action = m[2];
      const allowed = action === undefined ? 'GET' : action === 'ship-to' ? 'PATCH' : 'POST';
      if (method !== allowed) return new Answer(405, { error: { code: 'method_not_allowed', message: `use ${allowed}` } }, { Allow: allowed });
      if (!o) return apiError(404, 'not_found', `outbound order ${JSON.stringify(decodeURIComponent(m[1]!))} does not exist`);
      if (action === undefined) return new Answer(200, o);
      if (action === 'cancel') return this.#cancel(o, body);
      if (action === 'ship-to') return this.#shipTo(o, body);
      return this.#labels(o, body);
    }
    if (p === '/api/v1/inventory' && method === 'GET') return this.#inventory(u.searchParams.getAll('sku').flatMap((s) => s.split(',')).filter(Boolean));
    return apiError(404, 'not_found', `no route ${method} ${u.pathname}`);
  }

  #create(body: unknown, idemHeader: string | string[] | undefined, trace?: { traceparent: string; tracestate?: string }): Answer {
    const idem = typeof idemHeader === 'string' && idemHeader !== '' ? idemHeader : undefined;
    const fingerprint = JSON.stringify(body);
    if (idem) {
      const prior = this.#idempotency.get(idem);
      if (prior) {
        if (prior.fingerprint !== fingerprint) return apiError(422, 'idempotency_key_reused', `Idempotency-Key ${JSON.stringify(idem)} was used with a different body`);
        return new Answer(prior.answer.status, prior.answer.body, { ...prior.answer.headers, 'Idempotent-Replayed': 'true' });
      }
    }
    const issues: Issue[] = checkCreateOrder(body, this.#skus);
    if (issues.length) return apiError(422, 'validation_failed', `the order is not valid: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`, { details: issues });
    const b = body as Record<string, unknown>;
    const shipmentRef = typeof b.shipment_reference === 'string' ? b.shipment_reference : null;
    const existing = [...this.#orders.values()].find((o) => o.status !== 'cancelled' && o.client_reference === b.client_reference && o.shipment_reference === shipmentRef);
    if (existing) {
      return apiError(409, 'duplicate_order', `an open order with client_reference ${JSON.stringify(b.client_reference)} and this shipment_reference already exists: ${existing.id}`, { existing_order_id: existing.id });
    }
    const t = wireTime(this.now());
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
    const o: WmsOrder = {
      id: `SO-${String(this.#nextOrder++).padStart(6, '0')}`,
      status: 'received',
      client_reference: b.client_reference as string,
      shipment_reference: shipmentRef,
      order_number: str(b.order_number),
      service_level: str(b.service_level),
      carrier_hint: str(b.carrier_hint),
      priority: str(b.priority) ?? 'standard',
      ship_by: str(b.ship_by),
      instructions: str(b.instructions),
      ship_to: toAddress(b.ship_to as Record<string, unknown>),
      lines: (b.lines as Record<string, unknown>[]).map((l, i) => ({
        line_no: i + 1,
        line_ref: typeof l.line_ref === 'string' ? l.line_ref : String(i + 1),
        sku: l.sku as string,
        quantity: l.quantity as number,
        uom: this.#skus.get(l.sku as string)!.uom,
        picked_qty: 0,
        short_qty: 0,
        short_reason: null,
      })),
      wave_id: null,
      packages: [],
      carrier: null,
      tracking_numbers: [],
      created_at: t,
      updated_at: t,
      accepted_at: null,
      picked_at: null,
      packed_at: null,
      shipped_at: null,
      cancelled_at: null,
      cancel_reason: null,
    };
    this.#orders.set(o.id, o);
    if (trace) this.#traces.set(o.id, trace);
    this.#schedule(o, 'accept', this.#o.acceptDelaySeconds);
    const answer = new Answer(201, structuredClone(o), { Location: `/api/v1/outbound-orders/${o.id}` });
    if (idem) this.#idempotency.set(idem, { fingerprint, answer });
    return answer;
  }

  #cancel(o: WmsOrder, body: unknown): Answer {
    if (o.status === 'cancelled') return new Answer(200, o);
    if (NOT_CANCELLABLE.includes(o.status)) return apiError(409, 'order_not_cancellable', `order ${o.id} is ${o.status} and can no longer be cancelled`, { status: o.status });
    const reason = isObj(body) && typeof body.reason === 'string' ? body.reason : null;
    restock(o, this.#stock);
    this.#due.delete(o.id);
    o.cancelled_at = this.#touch(o, 'cancelled');
    o.cancel_reason = reason;
    this.#emit('order.cancelled', { ...this.#refs(o), cancelled_at: o.cancelled_at, reason, cancelled_by: 'client' });
    // deliver at once rather than at the next step of the clock
    setImmediate(() => void this.runDue());
    return new Answer(200, o);
  }

  #shipTo(o: WmsOrder, body: unknown): Answer {
    if (o.status === 'shipped') return apiError(409, 'order_already_shipped', `order ${o.id} has shipped; its ship-to address can no longer change`, { status: o.status });
    if (o.status === 'cancelled') return apiError(409, 'order_cancelled', `order ${o.id} is cancelled`, { status: o.status });
    const issues = checkAddress(body, 'ship_to');
    if (issues.length) return apiError(422, 'validation_failed', `the address is not valid: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`, { details: issues });
    o.ship_to = toAddress(body as Record<string, unknown>);
    o.updated_at = wireTime(this.now());
    return new Answer(200, o);
  }

  #labels(o: WmsOrder, body: unknown): Answer {
    if (o.status !== 'packed') return apiError(409, 'order_not_packed', `order ${o.id} is ${o.status}: labels are accepted once it is packed and before it ships`, { status: o.status });
    const issues: Issue[] = [];
    if (!isObj(body)) return apiError(422, 'validation_failed', 'the body must be a JSON object', { details: [{ field: '', message: 'must be an object' }] });
    if (typeof body.carrier !== 'string' || body.carrier === '') issues.push({ field: 'carrier', message: 'is required' });
    const given = Array.isArray(body.packages) ? (body.packages as unknown[]) : [];
    if (!Array.isArray(body.packages)) issues.push({ field: 'packages', message: 'must be an array' });
    const byId = new Map<string, Record<string, unknown>>();
    given.forEach((p, i) => {
      if (!isObj(p) || typeof p.package_id !== 'string') return void issues.push({ field: `packages[${i}].package_id`, message: 'is required' });
      if (!o.packages.some((x) => x.package_id === p.package_id)) issues.push({ field: `packages[${i}].package_id`, message: `order ${o.id} has no package ${p.package_id}` });
      if (typeof p.tracking_number !== 'string' || p.tracking_number === '') issues.push({ field: `packages[${i}].tracking_number`, message: 'is required' });
      byId.set(p.package_id, p);
    });
    for (const p of o.packages) if (!byId.has(p.package_id) && Array.isArray(body.packages)) issues.push({ field: 'packages', message: `package ${p.package_id} has no label` });
    if (issues.length) return apiError(422, 'validation_failed', `the labels are not valid: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`, { details: issues });
    for (const p of o.packages) {
      const g = byId.get(p.package_id)!;
      p.tracking_number = g.tracking_number as string;
      p.label_url = typeof g.label_url === 'string' ? g.label_url : null;
      p.label_format = typeof g.label_format === 'string' ? g.label_format : null;
    }
    o.carrier = body.carrier as string;
    if (typeof body.service_level === 'string') o.service_level = body.service_level;
    o.tracking_numbers = o.packages.map((p) => p.tracking_number!);
    this.#touch(o, 'labelled');
    this.#schedule(o, 'ship', this.#o.shipSeconds);
    return new Answer(200, o);
  }

  #inventory(skus: string[]): Answer {
    const allocated = new Map<string, number>();
    for (const o of this.#orders.values()) {
      if (!['received', 'accepted', 'released'].includes(o.status)) continue;
      for (const l of o.lines) allocated.set(l.sku, (allocated.get(l.sku) ?? 0) + l.quantity);
    }
    const list = skus.length ? skus : [...this.#skus.keys()].sort();
    const unknown = list.filter((s) => !this.#skus.has(s));
    if (unknown.length) return apiError(404, 'unknown_sku', `unknown SKU: ${unknown.join(', ')}`, { details: unknown.map((s) => ({ field: 'sku', message: `unknown SKU ${s}` })) });
    const t = wireTime(this.now());
    return new Answer(200, {
      warehouse_code: WAREHOUSE.code,
      items: list.map((sku) => {
        const onHand = this.#stock.get(sku) ?? 0;
        const alloc = allocated.get(sku) ?? 0;
        return { sku, description: this.#skus.get(sku)!.description, uom: this.#skus.get(sku)!.uom, on_hand: onHand, allocated: alloc, available: Math.max(0, onHand - alloc), updated_at: t };
      }),
    });
  }

  async #admin(method: string, u: URL, raw: Buffer): Promise<Answer> {
    let body: Record<string, unknown> = {};
    if (raw.length) {
      try {
        const v = JSON.parse(raw.toString('utf8'));
        if (!isObj(v)) return apiError(400, 'invalid_body', 'the body must be a JSON object');
        body = v;
      } catch (e) {
        return apiError(400, 'invalid_json', (e as Error).message);
      }
    }
    const path = u.pathname;
    if (path === '/__sim/stats' && method === 'GET') return new Answer(200, this.stats());
    if (path === '/__sim/webhooks' && method === 'GET') return new Answer(200, { deliveries: this.log });
    if (method !== 'POST' && !(path === '/__sim/faults' && method === 'DELETE')) return apiError(405, 'method_not_allowed', `use POST for ${path}`);
    switch (path) {
      case '/__sim/reset':
        await this.#serial(async () => this.reset());
        return new Answer(200, { ok: true });
      case '/__sim/faults':
        if (method === 'DELETE') this.clearFaults();
        else this.setFaults(body as WmsFaultSpec);
        return new Answer(200, { ok: true });
      case '/__sim/advance': {
        const s = body.seconds;
        if (typeof s !== 'number' || !Number.isFinite(s) || s < 0) return apiError(422, 'invalid_seconds', 'seconds must be a non-negative number');
        await this.advance(s);
        return new Answer(200, { now: wireTime(this.now()) });
      }
      case '/__sim/stock': {
        const items = body.items;
        if (!Array.isArray(items) || items.some((i) => !isObj(i) || typeof i.sku !== 'string' || typeof i.quantity !== 'number')) {
          return apiError(422, 'invalid_stock', 'items must be an array of {sku, quantity}');
        }
        this.setStock(Object.fromEntries(items.map((i) => [i.sku, i.quantity])));
        return new Answer(200, { stock: Object.fromEntries(this.#stock) });
      }
      case '/__sim/skus': {
        const items = body.items;
        if (!Array.isArray(items) || items.some((i) => !isObj(i) || typeof i.sku !== 'string' || typeof i.weightKg !== 'number' || i.weightKg <= 0)) {
          return apiError(422, 'invalid_skus', 'items must be an array of {sku, weightKg > 0, description?, uom?}');
        }
        this.setSkus(items);
        return new Answer(200, { skus: [...this.#skus.values()] });
      }
      case '/__sim/script': {
        const ref = body.client_reference;
        const shorts = body.shorts;
        if (typeof ref !== 'string' || !Array.isArray(shorts) || shorts.some((s) => !isObj(s) || typeof s.sku !== 'string' || typeof s.short_qty !== 'number')) {
          return apiError(422, 'invalid_script', 'expected {client_reference, shorts: [{sku, short_qty, reason?}]}');
        }
        this.scriptShort(ref, Object.fromEntries(shorts.map((s) => [s.sku, { shortQty: s.short_qty, reason: typeof s.reason === 'string' ? s.reason : 'damaged' }])));
        return new Answer(200, { ok: true });
      }
      case '/__sim/config':
        this.configure({
          ...(typeof body.webhookUrl === 'string' ? { webhookUrl: body.webhookUrl } : {}),
          ...(typeof body.webhookSecret === 'string' ? { webhookSecret: body.webhookSecret } : {}),
        });
        return new Answer(200, { webhookUrl: this.webhookUrl ?? null });
      default:
        return apiError(404, 'not_found', `no admin route ${path}`);
    }
  }
}

/** The route a request counts under in the stats (ids replaced by `{id}`). */
function routeOf(method: string, path: string): string {
  return `${method} ${path.replace(/^(\/api\/v1\/outbound-orders\/)[^/]+/, '$1{id}')}`;
}

async function readBody(req: IncomingMessage, max = 1 << 20): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > max) return undefined;
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
