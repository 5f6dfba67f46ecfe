/**
 * The demo's scenario generator: keeps creating and confirming sale orders in the Odoo
 * simulator at a steady rate, with a seeded mix of the situations the hub exists for
 * (orders split over both warehouses, short picks, a failed delivery attempt, a carrier
 * failing for a while, an order cancelled or its address corrected after release). The
 * exceptions are arranged through the simulators' own administration APIs over HTTP
 * (`/__sim/script`, `/__sim/faults`), and the Odoo side through the simulator's database
 * object, as a user working in Odoo would. `logistics-hub demo` runs it; tests drive it
 * with `createOrder()` and no timers.
 */
import type { OdooSimulator } from '../../simulators/odoo/server.ts';
import { systemClock, type Clock } from '../platform/clock.ts';
import { seededRandom } from '../../simulators/common/random.ts';
export { seededRandom };

/** The situations the generator creates. */
export const SCENARIOS = ['plain', 'split', 'short-pick', 'failed-attempt', 'carrier-outage', 'cancel', 'address'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** How each scenario reads in the demo's output. */
export const SCENARIO_LABELS: Record<ScenarioName, string> = {
  plain: 'plain',
  split: 'split',
  'short-pick': 'short pick',
  'failed-attempt': 'failed delivery attempt',
  'carrier-outage': 'carrier outage',
  cancel: 'cancelled after release',
  address: 'address corrected after release',
};

/** Relative frequencies after the first round (plain orders are most). */
export const DEFAULT_MIX: Record<ScenarioName, number> = {
  plain: 45,
  split: 15,
  'short-pick': 10,
  'failed-attempt': 10,
  'carrier-outage': 5,
  cancel: 7,
  address: 8,
};

/** The first orders go through every scenario once, in this order, before the seeded mix. */
const FIRST_ROUND: readonly ScenarioName[] = ['plain', 'split', 'short-pick', 'failed-attempt', 'address', 'carrier-outage', 'cancel'];

type Warehouse = 'east' | 'west';

/** The Odoo demo products and the warehouse that stocks each (as the demo landscape sets it up). */
const PRODUCTS = {
  desk: { id: 13, sku: 'FURN_0097', warehouse: 'east' },
  bin: { id: 20, sku: 'E-COM10', warehouse: 'east' },
  combination: { id: 27, sku: 'FURN_7800', warehouse: 'west' },
  box: { id: 18, sku: 'E-COM08', warehouse: 'west' },
} as const satisfies Record<string, { id: number; sku: string; warehouse: Warehouse }>;
type Product = (typeof PRODUCTS)[keyof typeof PRODUCTS];
const ALL_PRODUCTS: readonly Product[] = Object.values(PRODUCTS);

/** Customers of the Odoo demo data with a US address. */
const CUSTOMERS = [10, 11, 14, 15];
const US = 233;

/** Delivery addresses an order may be corrected to. */
const NEW_ADDRESSES = [
  { street: '900 Harbor Way', city: 'Richmond', zip: '94804' },
  { street: '2150 Shattuck Ave', city: 'Berkeley', zip: '94704' },
  { street: '1 Market St', city: 'San Francisco', zip: '94105' },
  { street: '455 Lakeside Dr', city: 'Oakland', zip: '94612' },
];

interface TransitPlan {
  /** said once the plan is in place, after "parcel <tracking number>" */
  note?: string;
  steps: { afterSeconds: number; status: string; detail: string; message: string; atDestination?: boolean }[];
}

/** A parcel's way to the door in about 20 real seconds, once the warehouse has shipped it (5 s after its labels). */
const EXPRESS: TransitPlan = {
  steps: [
    { afterSeconds: 8, status: 'in_transit', detail: 'received_at_origin_facility', message: 'Accepted at origin facility' },
    { afterSeconds: 12, status: 'in_transit', detail: 'arrived_at_destination', message: 'Arrived at destination facility', atDestination: true },
    { afterSeconds: 16, status: 'out_for_delivery', detail: 'out_for_delivery', message: 'Out for delivery', atDestination: true },
    { afterSeconds: 20, status: 'delivered', detail: 'arrived_at_destination', message: 'Delivered, front door', atDestination: true },
  ],
};

/** The receiver is out on the first attempt; the parcel is delivered on the second. */
const FAILED_FIRST_ATTEMPT: TransitPlan = {
  note: 'will miss the receiver on the first attempt and be delivered on the second',
  steps: [
    { afterSeconds: 8, status: 'in_transit', detail: 'received_at_origin_facility', message: 'Accepted at origin facility' },
    { afterSeconds: 12, status: 'out_for_delivery', detail: 'out_for_delivery', message: 'Out for delivery', atDestination: true },
    { afterSeconds: 16, status: 'failure', detail: 'receiver_unavailable', message: 'Receiver not available', atDestination: true },
    { afterSeconds: 30, status: 'out_for_delivery', detail: 'out_for_delivery', message: 'Out for delivery', atDestination: true },
    { afterSeconds: 36, status: 'delivered', detail: 'arrived_at_destination', message: 'Delivered, front door', atDestination: true },
  ],
};

/** The carrier the outage scenario fails: the cheapest on the demo lanes, so bookings must fall back. */
const FAILING_CARRIER = 'USPS';
/** Stock below which the generator tops a warehouse up again, and the level it tops up to. */
const RESTOCK_BELOW = 100;
const RESTOCK_TO = 500;

export interface WarehouseTarget {
  /** base URL of a SimWMS */
  url: string;
  /** its API key (X-Api-Key), to look orders up */
  apiKey: string;
}

/** The simulators the generator works with. */
export interface ScenarioTargets {
  /** the Odoo simulator; orders are created through its database object */
  odoo: Pick<OdooSimulator, 'db'>;
  east: WarehouseTarget;
  west: WarehouseTarget;
  /** the EasyPost-style aggregator (its /__sim administration) */
  easypost: { url: string };
}

export interface ScenarioOptions {
  /** orders created per minute by start() (default 6) */
  ordersPerMinute?: number;
  /** seed of the scenario mix and the order contents (default 1) */
  seed?: number;
  /** go through every scenario once before the seeded mix (default true) */
  firstRound?: boolean;
  /** relative frequencies of the scenarios after the first round */
  mix?: Partial<Record<ScenarioName, number>>;
  /**
   * Parcels in transit: `express` (default) scripts every parcel, once its tracking number is
   * known, to be in transit, out for delivery and delivered within about 20 s; `carrier` leaves
   * the aggregator's own plan (the service's transit days, on the aggregator's clock).
   */
  transit?: 'express' | 'carrier';
  /** how much faster the aggregator's clock runs than the wall clock (default 1); scripted plans are scaled by it */
  carrierTimeScale?: number;
  /** how long the carrier outage lasts, real seconds (default 40) */
  carrierOutageSeconds?: number;
  /** how often a follow-up looks at the warehouse, real milliseconds (default 500) */
  pollMs?: number;
  /** how long a follow-up waits for the warehouse before giving up, real milliseconds (default 120 000) */
  followUpTimeoutMs?: number;
  /** time stamps of created orders (default the system clock) */
  clock?: Clock;
  /** each order, once created and confirmed */
  onOrder?: (order: CreatedOrder) => void;
  /** what the generator arranged along the way (a short scripted, a carrier failing, an order cancelled...) */
  onNote?: (text: string, order?: CreatedOrder) => void;
  /** a step that failed; the generator carries on */
  onError?: (error: Error, order?: CreatedOrder) => void;
}

export interface CreatedOrder {
  scenario: ScenarioName;
  /** the Odoo sale order's name, e.g. S00031 */
  name: string;
  /** the canonical order id the hub keys it by, `ord-<name>` */
  orderId: string;
  /** the sale.order record id */
  saleOrderId: number;
  /** products and quantities ordered */
  lines: { sku: string; quantity: number }[];
  createdAt: Date;
}

/** The line the demo prints for an order: `S00031 split → trace ord-S00031`. */
export function describeOrder(o: CreatedOrder): string {
  return `${o.name} ${SCENARIO_LABELS[o.scenario]} → trace ${o.orderId}`;
}


class Stopped extends Error {
  constructor() {
    super('the scenario generator was stopped');
  }
}

/**
 * Creates sale orders in the Odoo simulator at a steady rate, each under a scenario chosen by
 * a seeded draw, and arranges the scenario's exception. start() creates the first order at
 * once; stop() ends the timers and the follow-ups in flight and clears a carrier outage.
 */
export class ScenarioGenerator {
  readonly #t: ScenarioTargets;
  readonly #o: Required<Pick<ScenarioOptions, 'ordersPerMinute' | 'seed' | 'firstRound' | 'transit' | 'carrierTimeScale' | 'carrierOutageSeconds' | 'pollMs' | 'followUpTimeoutMs'>>;
  readonly #mix: [ScenarioName, number][];
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #orders: CreatedOrder[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  readonly #sleepers = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;
  #outageTimer: NodeJS.Timeout | undefined;
  #outageUntil = 0;
  #count = 0;
  #running = false;
  #stopped = false;

  readonly #callbacks: Pick<ScenarioOptions, 'onOrder' | 'onNote' | 'onError'>;

  constructor(targets: ScenarioTargets, o: ScenarioOptions = {}) {
    const ordersPerMinute = o.ordersPerMinute ?? 6;
    if (!Number.isFinite(ordersPerMinute) || ordersPerMinute <= 0 || ordersPerMinute > 600) throw new RangeError(`ordersPerMinute must be more than 0 and at most 600, not ${ordersPerMinute}`);
    const seed = o.seed ?? 1;
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, not ${seed}`);
    const carrierTimeScale = o.carrierTimeScale ?? 1;
    if (!Number.isFinite(carrierTimeScale) || carrierTimeScale < 1) throw new RangeError(`carrierTimeScale must be at least 1, not ${carrierTimeScale}`);
    if (o.transit !== undefined && o.transit !== 'express' && o.transit !== 'carrier') throw new RangeError(`transit must be express or carrier, not ${String(o.transit)}`);
    this.#t = targets;
    this.#o = {
      ordersPerMinute,
      seed,
      firstRound: o.firstRound ?? true,
      transit: o.transit ?? 'express',
      carrierTimeScale,
      carrierOutageSeconds: o.carrierOutageSeconds ?? 40,
      pollMs: o.pollMs ?? 500,
      followUpTimeoutMs: o.followUpTimeoutMs ?? 120_000,
    };
    const mix = { ...DEFAULT_MIX, ...o.mix };
    for (const [k, w] of Object.entries(mix)) if (!(SCENARIOS as readonly string[]).includes(k) || !(w >= 0)) throw new RangeError(`mix: ${k} must be a scenario with a weight of 0 or more`);
    this.#mix = SCENARIOS.map((s) => [s, mix[s]] as [ScenarioName, number]).filter(([, w]) => w > 0);
    if (!this.#mix.length) throw new RangeError('mix: at least one scenario needs a weight above 0');
    this.#clock = o.clock ?? systemClock;
    this.#random = seededRandom(seed);
    this.#callbacks = { onOrder: o.onOrder, onNote: o.onNote, onError: o.onError };
  }

  /** The orders created so far, oldest first. */
  get orders(): readonly CreatedOrder[] {
    return this.#orders;
  }

  /** Creates the first order now, then one every 60 / ordersPerMinute seconds until stop(). */
  async start(): Promise<CreatedOrder | undefined> {
    if (this.#running || this.#stopped) throw new Error(this.#stopped ? 'the scenario generator was stopped; create a new one' : 'the scenario generator is already running');
    this.#running = true;
    const interval = 60_000 / this.#o.ordersPerMinute;
    const startedAt = Date.now();
    let n = 0;
    const next = () => {
      if (this.#stopped) return;
      n++;
      this.#timer = setTimeout(() => {
        void this.#createLogged().finally(next);
      }, Math.max(0, startedAt + n * interval - Date.now()));
    };
    const first = await this.#createLogged();
    next();
    return first;
  }

  /** Stops creating orders, ends the follow-ups in flight and clears a carrier outage it caused. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    for (const wake of this.#sleepers) wake();
    await Promise.allSettled([...this.#inFlight]);
    if (this.#outageTimer) {
      clearTimeout(this.#outageTimer);
      this.#outageTimer = undefined;
      await this.#post(this.#t.easypost.url, '/__sim/faults', { failCarrier: null }).catch(() => undefined);
    }
  }

  /** The scenario of the next order: the first round in order, then a seeded weighted draw. */
  nextScenario(): ScenarioName {
    const i = this.#count++;
    if (this.#o.firstRound && i < FIRST_ROUND.length) return FIRST_ROUND[i]!;
    const total = this.#mix.reduce((s, [, w]) => s + w, 0);
    let r = this.#random() * total;
    for (const [s, w] of this.#mix) if ((r -= w) < 0) return s;
    return this.#mix.at(-1)![0];
  }

  /**
   * Creates and confirms one sale order under `scenario` (the next one of the mix when absent)
   * and arranges its exception; follow-ups that wait for the warehouse run in the background
   * (see settled()). Resolves once the order is confirmed in Odoo.
   */
  async createOrder(scenario: ScenarioName = this.nextScenario()): Promise<CreatedOrder> {
    if (this.#stopped) throw new Stopped();
    const customer = this.#pick(CUSTOMERS);
    let products: [Product, number][];
    switch (scenario) {
      case 'split':
        products = [[PRODUCTS.desk, 1], [PRODUCTS.combination, 1]];
        break;
      case 'short-pick':
        products = [[PRODUCTS.bin, 3]];
        break;
      case 'failed-attempt':
      case 'cancel':
      case 'address':
        products = [[PRODUCTS.bin, 1]];
        break;
      case 'carrier-outage':
        products = [[PRODUCTS.desk, 1]];
        break;
      default:
        products = [[this.#pick(ALL_PRODUCTS), 1 + Math.floor(this.#random() * 2)]];
    }
    const db = this.#t.odoo.db;
    const saleOrderId = db.call(2, 'sale.order', 'create', [{ partner_id: customer, client_order_ref: `DEMO-${scenario}`, order_line: products.map(([p, q]) => [0, 0, { product_id: p.id, product_uom_qty: q }]) }], {}) as number;
    const [row] = db.call(2, 'sale.order', 'read', [[saleOrderId], ['name']], {}) as { name: string }[];
    const name = row!.name;
    const order: CreatedOrder = { scenario, name, orderId: `ord-${name}`, saleOrderId, lines: products.map(([p, q]) => ({ sku: p.sku, quantity: q })), createdAt: this.#clock.now() };

    // what must be in place before the hub sees the order
    if (scenario === 'short-pick') {
      await this.#post(this.#wms('east').url, '/__sim/script', { client_reference: order.orderId, shorts: [{ sku: PRODUCTS.bin.sku, short_qty: 1, reason: 'damaged' }] });
      this.#note(`${order.orderId}: the east warehouse will find 1 of the 3 ${PRODUCTS.bin.sku} damaged`, order);
    }
    if (scenario === 'carrier-outage') await this.#carrierOutage(order);

    db.call(2, 'sale.order', 'action_confirm', [[saleOrderId]], {});
    this.#orders.push(order);
    this.#callbacks.onOrder?.(order);

    if (scenario === 'failed-attempt') this.#followUp(order, () => this.#trackParcels(order, FAILED_FIRST_ATTEMPT));
    else if (scenario !== 'cancel' && this.#o.transit === 'express') this.#followUp(order, () => this.#trackParcels(order, EXPRESS));
    if (scenario === 'cancel') this.#followUp(order, () => this.#cancelAfterRelease(order));
    if (scenario === 'address') {
      const to = this.#pick(NEW_ADDRESSES); // drawn now, so the seed alone decides what follows
      this.#followUp(order, () => this.#correctAddress(order, to));
    }
    if (this.#orders.length % 20 === 0) this.#followUp(undefined, () => this.#restock());
    return order;
  }

  /** Resolves when the follow-ups in flight (waiting for a release, a tracking number...) are done. */
  async settled(): Promise<void> {
    while (this.#inFlight.size) await Promise.allSettled([...this.#inFlight]);
  }

  // ------------------------------------------------------------------ scenarios

  async #carrierOutage(order: CreatedOrder): Promise<void> {
    const seconds = this.#o.carrierOutageSeconds;
    await this.#post(this.#t.easypost.url, '/__sim/faults', { failCarrier: FAILING_CARRIER });
    const extended = this.#outageTimer !== undefined;
    clearTimeout(this.#outageTimer);
    this.#outageUntil = Date.now() + seconds * 1000;
    this.#note(`carrier ${FAILING_CARRIER} ${extended ? 'still' : 'starts'} failing for ${seconds} s: bookings fall back to the next carrier`, order);
    this.#outageTimer = setTimeout(() => {
      this.#outageTimer = undefined;
      if (this.#stopped) return;
      this.#followUp(undefined, async () => {
        await this.#post(this.#t.easypost.url, '/__sim/faults', { failCarrier: null });
        this.#note(`carrier ${FAILING_CARRIER} is back`);
      });
    }, Math.max(0, this.#outageUntil - Date.now()));
  }

  /**
   * Once the carrier's tracking numbers of the order's parcels are known (the warehouse has its
   * labels), scripts each parcel's way to the door with `plan`.
   */
  async #trackParcels(order: CreatedOrder, plan: TransitPlan): Promise<void> {
    const warehouses = [...new Set(order.lines.map((l) => ALL_PRODUCTS.find((p) => p.sku === l.sku)!.warehouse))];
    await Promise.all(warehouses.map(async (w) => {
      const wmsOrder = await this.#waitForWmsOrder(order, w, (o) => o.tracking_numbers.length > 0, 'tracking number');
      const dest = this.#deliveryAddress(order);
      for (const tracking of wmsOrder.tracking_numbers) {
        await this.#post(this.#t.easypost.url, '/__sim/script', {
          tracking_code: tracking,
          plan: plan.steps.map((s) => ({
            status: s.status,
            status_detail: s.detail,
            message: s.message,
            // simulated seconds from now: the aggregator's clock may run faster than the wall clock
            afterSeconds: Math.round(s.afterSeconds * this.#o.carrierTimeScale),
            ...(s.atDestination ? { ...dest, country: 'US' } : {}),
          })),
        });
        if (plan.note) this.#note(`${order.orderId}: parcel ${tracking} ${plan.note}`, order);
      }
    }));
  }

  /** City and ZIP of the order's delivery address as it is now (it may have been corrected since). */
  #deliveryAddress(order: CreatedOrder): { city?: string; zip?: string } {
    const db = this.#t.odoo.db;
    const [so] = db.call(2, 'sale.order', 'read', [[order.saleOrderId], ['partner_shipping_id']], {}) as { partner_shipping_id: [number, string] | false }[];
    if (!so?.partner_shipping_id) return {};
    const [p] = db.call(2, 'res.partner', 'read', [[so.partner_shipping_id[0]], ['city', 'zip']], {}) as { city: string | false; zip: string | false }[];
    return { ...(p?.city ? { city: p.city } : {}), ...(p?.zip ? { zip: p.zip } : {}) };
  }

  /** Once the warehouse has the order, cancels the sale order in Odoo. */
  async #cancelAfterRelease(order: CreatedOrder): Promise<void> {
    await this.#waitForWmsOrder(order, 'east', () => true, 'the release');
    this.#t.odoo.db.call(2, 'sale.order', 'action_cancel', [[order.saleOrderId]], {});
    this.#note(`${order.orderId}: cancelled in Odoo after the warehouse received it`, order);
  }

  /** Once the warehouse has the order, gives it a new delivery address in Odoo. */
  async #correctAddress(order: CreatedOrder, a: (typeof NEW_ADDRESSES)[number]): Promise<void> {
    await this.#waitForWmsOrder(order, 'east', () => true, 'the release');
    const db = this.#t.odoo.db;
    const [so] = db.call(2, 'sale.order', 'read', [[order.saleOrderId], ['partner_id']], {}) as { partner_id: [number, string] }[];
    const partnerId = db.call(2, 'res.partner', 'create', [{ name: `${so!.partner_id[1]}, ${a.city}`, parent_id: so!.partner_id[0], type: 'delivery', street: a.street, city: a.city, zip: a.zip, country_id: US }], {}) as number;
    db.call(2, 'sale.order', 'write', [[order.saleOrderId], { partner_shipping_id: partnerId }], {});
    this.#note(`${order.orderId}: delivery address corrected in Odoo to ${a.street}, ${a.city}`, order);
  }

  /** Tops the warehouses' stock up so a long demo never runs dry. */
  async #restock(): Promise<void> {
    for (const w of ['east', 'west'] as const) {
      const stats = (await this.#get(this.#wms(w).url, '/__sim/stats', {})) as { stock?: Record<string, number> };
      const low = ALL_PRODUCTS.filter((p) => p.warehouse === w && (stats.stock?.[p.sku] ?? 0) < RESTOCK_BELOW);
      if (low.length) await this.#post(this.#wms(w).url, '/__sim/stock', { items: low.map((p) => ({ sku: p.sku, quantity: RESTOCK_TO })) });
    }
  }

  // ------------------------------------------------------------------ plumbing

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)]!;
  }

  #wms(w: Warehouse): WarehouseTarget {
    return w === 'east' ? this.#t.east : this.#t.west;
  }

  #note(text: string, order?: CreatedOrder): void {
    this.#callbacks.onNote?.(text, order);
  }

  async #createLogged(): Promise<CreatedOrder | undefined> {
    try {
      return await this.createOrder();
    } catch (e) {
      if (!(e instanceof Stopped)) this.#callbacks.onError?.(e as Error);
      return undefined;
    }
  }

  /** Runs a follow-up in the background; its failure is reported, never thrown. */
  #followUp(order: CreatedOrder | undefined, fn: () => Promise<void>): void {
    const p: Promise<void> = fn()
      .catch((e: unknown) => {
        if (!(e instanceof Stopped)) this.#callbacks.onError?.(e as Error, order);
      })
      .finally(() => this.#inFlight.delete(p));
    this.#inFlight.add(p);
  }

  /** Polls the warehouse for the order (its client reference is the canonical order id) until `ready` holds. */
  async #waitForWmsOrder(order: CreatedOrder, w: Warehouse, ready: (o: { status: string; tracking_numbers: string[] }) => boolean, what: string): Promise<{ id: string; status: string; tracking_numbers: string[] }> {
    const deadline = Date.now() + this.#o.followUpTimeoutMs;
    for (;;) {
      if (this.#stopped) throw new Stopped();
      const found = (await this.#get(this.#wms(w).url, `/api/v1/outbound-orders?client_reference=${encodeURIComponent(order.orderId)}`, { 'x-api-key': this.#wms(w).apiKey })) as {
        data: { id: string; status: string; tracking_numbers: string[] }[];
      };
      const o = found.data.find((x) => x.status !== 'cancelled' && ready(x));
      if (o) return o;
      if (Date.now() > deadline) throw new Error(`${order.orderId}: the ${w} warehouse showed no ${what} within ${this.#o.followUpTimeoutMs / 1000} s`);
      await this.#sleep(this.#o.pollMs);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(t);
        this.#sleepers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      this.#sleepers.add(wake);
    });
  }

  async #get(base: string, path: string, headers: Record<string, string>): Promise<unknown> {
    return this.#request('GET', base, path, headers);
  }

  async #post(base: string, path: string, body: unknown): Promise<unknown> {
    return this.#request('POST', base, path, { 'content-type': 'application/json' }, JSON.stringify(body));
  }

  async #request(method: string, base: string, path: string, headers: Record<string, string>, body?: string): Promise<unknown> {
    const res = await fetch(new URL(path, base), { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${new URL(path, base).pathname} answered ${res.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : undefined;
  }
}
