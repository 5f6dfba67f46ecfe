/**
 * The steps of the order-to-delivery workflow: each a named, idempotent call to one external
 * system through its port, returning the canonical events the workflow continues from.
 *
 * | step            | system  | idempotent by                                    | compensation  |
 * |-----------------|---------|--------------------------------------------------|---------------|
 * | route           | WMSs    | reads only                                       |               |
 * | wms.release     | WMS     | the fulfilment request id                        | wms.cancel    |
 * | carrier.book    | carrier | the step key as the carrier's idempotency key;   | carrier.void  |
 * |                 |         | labels stored under the shipment (stored once)   |               |
 * | wms.labels      | WMS     | the fulfilment request id and tracking number    |               |
 * | odoo.validate   | Odoo    | validateDelivery re-reads a done transfer        |               |
 * | odoo.note       | Odoo    | a marker in the message, looked up before posting|               |
 * | odoo.invoice    | Odoo    | invoiceDeliveredQuantities invoices only what is |               |
 * |                 |         | delivered and not invoiced                       |               |
 * | wms.cancel      | WMS     | the fulfilment request id                        |               |
 * | wms.ship_to     | WMS     | the fulfilment request id and the address        |               |
 * | carrier.void    | carrier | cancel is idempotent at the carrier              |               |
 *
 * Carrier booking rate-shops over every carrier whose circuit is closed, books the best
 * quote, and on an error goes to the next eligible one, recording the switch; a carrier
 * that fails `circuitThreshold` times in a row is skipped for `circuitCoolDownMs`.
 */
import type pg from 'pg';
import { BusinessError, HubError, PermanentError, TransientError } from '../../domain/errors.ts';
import type { Address, PartyAddress } from '../../domain/primitives.ts';
import type { Booking, CarrierPort, LabelFormat, RateQuote } from '../../connectors/carrier-port.ts';
import type { WmsOrderRef, WmsPort } from '../../connectors/wms-port.ts';
import type { OdooGateway } from '../../connectors/odoo/gateway.ts';
import { invoiceDeliveredQuantities, validateDelivery } from '../../connectors/odoo/operations.ts';
import type { Clock } from '../../platform/clock.ts';
import { currentTelemetry, currentTenant } from '../../platform/tracing.ts';
import type { Emit, StepContext, StepDefinition, StepResult } from '../engine.ts';
import { routeOrder, type WarehouseSite } from './routing.ts';
import { chooseQuotes, carrierName, type ShoppingRules } from './rate-shopping.ts';

export interface WarehouseBinding extends WarehouseSite {
  wms: WmsPort;
  /** where parcels leave from (the rate request's origin) */
  address: Address;
}

/** What the workflow uses for one tenant. */
export interface TenantBindings {
  warehouses: readonly WarehouseBinding[];
  carriers: readonly CarrierPort[];
  /** the rate-shopping rules of an order (customer allow/deny lists, weight limits...) */
  shoppingRules(order: { orderId: string; customerId?: string }): ShoppingRules;
  labelFormat: LabelFormat;
  /** per carrier: consecutive failures and open circuits (one per tenant) */
  circuits: CarrierCircuits;
}

export interface O2DDeps {
  pool: pg.Pool;
  clock: Clock;
  /** the warehouses, carriers and rules of a tenant; undefined when the flow is not configured for it */
  tenant(tenantId: string): TenantBindings | undefined;
  /** the Odoo of a tenant */
  odoo(tenantId: string): OdooGateway | undefined;
}

// ------------------------------------------------------------------ carrier circuits

/**
 * Per carrier: consecutive failures, and until when it is skipped. Each change is reported as
 * hub_connector_breaker_open{connector=<carrier>,tenant} to the hub whose step made it (the
 * metrics and the tenant of the active context, platform/tracing.ts); an open circuit goes
 * back to 0 when its cool-down ends.
 */
export class CarrierCircuits {
  readonly #failures = new Map<string, number>();
  readonly #openUntil = new Map<string, number>();
  readonly #reported = new Set<string>();
  readonly #closeTimers = new Map<string, NodeJS.Timeout>();
  readonly #threshold: number;
  readonly #coolDownMs: number;
  readonly #clock: Clock;
  constructor(clock: Clock, threshold = 3, coolDownMs = 60_000) {
    this.#clock = clock;
    this.#threshold = threshold;
    this.#coolDownMs = coolDownMs;
  }
  isOpen(carrier: string): boolean {
    return (this.#openUntil.get(carrier) ?? 0) > this.#clock.now().getTime();
  }
  open(): string[] {
    return [...this.#openUntil.keys()].filter((c) => this.isOpen(c));
  }
  failed(carrier: string): void {
    const n = (this.#failures.get(carrier) ?? 0) + 1;
    this.#failures.set(carrier, n);
    if (n >= this.#threshold) {
      this.#openUntil.set(carrier, this.#clock.now().getTime() + this.#coolDownMs);
      this.#report(carrier, true);
    }
  }
  succeeded(carrier: string): void {
    this.#failures.delete(carrier);
    const wasOpen = this.#openUntil.delete(carrier);
    if (wasOpen || !this.#reported.has(carrier)) this.#report(carrier, false);
  }
  #report(carrier: string, open: boolean): void {
    const metrics = currentTelemetry()?.metrics;
    const tenant = currentTenant();
    if (!metrics || !tenant) return;
    this.#reported.add(carrier);
    const labels = { connector: carrier, tenant };
    metrics.connectorBreakerOpen.set(labels, open ? 1 : 0);
    clearTimeout(this.#closeTimers.get(carrier));
    this.#closeTimers.delete(carrier);
    if (open) {
      const t = setTimeout(() => {
        this.#closeTimers.delete(carrier);
        if (!this.isOpen(carrier)) metrics.connectorBreakerOpen.set(labels, 0);
      }, this.#coolDownMs + 10);
      this.#closeTimers.set(carrier, t.unref());
    }
  }
}

// ------------------------------------------------------------------ helpers

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function bindings(deps: O2DDeps, ctx: StepContext): TenantBindings {
  const t = deps.tenant(ctx.tenantId);
  if (!t) throw new PermanentError({ code: 'workflow.not_configured', message: `flows.orderToDelivery is not configured for tenant ${ctx.tenantId}` });
  return t;
}

function warehouse(t: TenantBindings, id: unknown): WarehouseBinding {
  const w = t.warehouses.find((x) => x.id === id);
  if (!w) throw new PermanentError({ code: 'workflow.unknown_warehouse', message: `no warehouse ${String(id)} is configured` });
  return w;
}

function gateway(deps: O2DDeps, ctx: StepContext): OdooGateway {
  const gw = deps.odoo(ctx.tenantId);
  if (!gw) throw new TransientError({ code: 'odoo.not_connected', message: `the Odoo connector of tenant ${ctx.tenantId} is not running`, retryAfterMs: 30_000 });
  return gw;
}

/** The Odoo id of the order: from the cross-reference registry (change capture recorded it), else asked of Odoo. */
async function saleOrderIdOf(gw: OdooGateway, orderNumber: unknown, known?: { pool: pg.Pool; tenantId: string; orderId: string }): Promise<number> {
  if (known) {
    const x = await known.pool.query<{ external_id: string }>(
      `select external_id from hub_xref where tenant_id = $1 and entity = 'order' and canonical_id = $2 and system = 'odoo' limit 1`,
      [known.tenantId, known.orderId],
    );
    const id = Number(x.rows[0]?.external_id);
    if (Number.isSafeInteger(id) && id > 0) return id;
  }
  const ids = (await gw.call('sale.order', 'search', [[['name', '=', String(orderNumber)]]], { limit: 1 })) as number[];
  if (!ids.length) throw new BusinessError({ code: 'odoo.order_not_found', message: `no sale order ${String(orderNumber)} in Odoo` });
  return ids[0]!;
}

function toKg(w: { value: number; unit: string }): number {
  return w.unit === 'kg' ? w.value : w.unit === 'g' ? w.value / 1000 : w.unit === 'lb' ? w.value * 0.45359237 : w.value * 0.028349523;
}
function toCm(v: number, unit: string): number {
  return unit === 'cm' ? v : unit === 'mm' ? v / 10 : unit === 'm' ? v * 100 : unit === 'in' ? v * 2.54 : v * 30.48;
}

async function storeLabel(pool: pg.Pool, tenantId: string, ref: string, format: LabelFormat, base64: string): Promise<string> {
  await pool.query(
    `insert into hub_documents (tenant_id, ref, kind, media_type, content) values ($1, $2, 'label', $3, $4) on conflict (tenant_id, ref) do nothing`,
    [tenantId, ref, format === 'PDF' ? 'application/pdf' : 'application/x-zpl', Buffer.from(base64, 'base64')],
  );
  return `urn:hub:document:${encodeURIComponent(ref)}`;
}

async function loadLabel(pool: pg.Pool, tenantId: string, ref: string): Promise<string> {
  const r = await pool.query<{ content: Buffer }>(`select content from hub_documents where tenant_id = $1 and ref = $2`, [tenantId, ref]);
  if (!r.rowCount) throw new PermanentError({ code: 'workflow.label_missing', message: `label ${ref} is not stored` });
  return r.rows[0]!.content.toString('base64');
}

/** The booking a carrier.book step recorded for a shipment. */
async function bookingOf(pool: pg.Pool, ctx: StepContext, shipmentId: string): Promise<(Omit<Booking, 'pieces'> & { pieces: { packageId: string; trackingNumber: string; labelRef: string; format: LabelFormat }[]; carrierId: string }) | undefined> {
  const r = await pool.query<{ output: { booking?: unknown } }>(
    `select output from hub_workflow_steps where tenant_id = $1 and workflow = $2 and instance = $3 and step_key = $4 and status = 'done'`,
    [ctx.tenantId, ctx.workflow, ctx.instance, `carrier.book:${shipmentId}`],
  );
  return r.rows[0]?.output?.booking as never;
}

/** The WMS order a wms.release step created for a fulfilment request. */
async function wmsRefOf(pool: pg.Pool, ctx: StepContext, input: Record<string, unknown>): Promise<WmsOrderRef> {
  const fr = String(input.fulfilmentRequestId);
  const r = await pool.query<{ output: { wmsOrderId?: string } }>(
    `select output from hub_workflow_steps where tenant_id = $1 and workflow = $2 and instance = $3 and step_key = $4 and status = 'done'`,
    [ctx.tenantId, ctx.workflow, ctx.instance, `wms.release:${fr}`],
  );
  const wmsOrderId = r.rows[0]?.output?.wmsOrderId;
  if (!wmsOrderId) throw new TransientError({ code: 'workflow.not_released', message: `${fr} has not been released to the WMS yet`, retryAfterMs: 5000 });
  return { fulfilmentRequestId: fr, shipmentId: String(input.shipmentId), orderId: ctx.instance, wmsOrderId };
}

// ------------------------------------------------------------------ the steps

export function orderToDeliverySteps(deps: O2DDeps): Record<string, StepDefinition> {
  const now = () => deps.clock.now().toISOString();
  /** Odoo shipping methods by carrier name (null: none of that name), asked once per process */
  const shippingMethods = new Map<string, number | null>();

  const route: StepDefinition = {
    name: 'route',
    async run(input, ctx): Promise<StepResult> {
      const t = bindings(deps, ctx);
      const req = input.request as { fulfilmentRequestId: string; orderId: string; shipTo: PartyAddress; lines: { lineId: string; sku: string; quantity: number }[] };
      const skus = [...new Set(req.lines.map((l) => l.sku))];
      const country = req.shipTo?.address?.countryCode;
      const stock: Record<string, Record<string, number>> = {};
      for (const w of t.warehouses) stock[w.id] = await w.wms.inventory(skus);
      const r = routeOrder(req.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, quantity: l.quantity })), country, t.warehouses, stock);
      const parts = r.parts.map((p, i) => ({
        fulfilmentRequestId: i === 0 ? req.fulfilmentRequestId : `${req.fulfilmentRequestId}-${i + 1}`,
        warehouseId: p.warehouseId,
        lines: p.lines.map((l) => ({ orderLineId: l.lineId, quantity: l.quantity })),
      }));
      return { output: { parts, reason: r.reason, stock, shortfall: r.shortfall } };
    },
  };

  const release: StepDefinition = {
    name: 'wms.release',
    compensation: 'wms.cancel',
    async run(input, ctx) {
      const w = warehouse(bindings(deps, ctx), input.warehouseId);
      const r = await w.wms.release(input.release as never);
      return { output: { wmsOrderId: r.wmsOrderId } };
    },
  };

  const book: StepDefinition = {
    name: 'carrier.book',
    compensation: 'carrier.void',
    failureClass: 'partner_rejected',
    async run(input, ctx) {
      const t = bindings(deps, ctx);
      const circuits = t.circuits;
      const w = warehouse(t, input.warehouseId);
      const shipTo = input.shipTo as PartyAddress;
      const packages = input.packages as { packageId: string; weight: { value: number; unit: string }; dimensions?: { length: number; width: number; height: number; unit: string } }[];
      if (!packages?.length) throw new PermanentError({ code: 'workflow.no_packages', message: 'the packed shipment has no packages' });
      const request = {
        shipmentId: String(input.shipmentId),
        from: w.address,
        to: shipTo.address,
        parcels: packages.map((p) => ({ packageId: p.packageId, weight: p.weight as never, ...(p.dimensions ? { dimensions: p.dimensions as never } : {}) })),
      };
      const quotes: RateQuote[] = [];
      const attempts: { carrier: string; error: string; retryAfterMs?: number }[] = [];
      for (const c of t.carriers) {
        if (!c.rate || !c.book || circuits.isOpen(c.id)) continue;
        try {
          quotes.push(...(await c.rate(request)));
          circuits.succeeded(c.id);
        } catch (e) {
          if (e instanceof HubError && e.errorClass === 'transient') circuits.failed(c.id);
          attempts.push({ carrier: c.id, error: e instanceof Error ? e.message : String(e), ...(e instanceof HubError && e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}) });
        }
      }
      // the customer, for its carrier allow/deny lists: from the order as Odoo last described it
      const customer = await deps.pool.query<{ customer: string | null }>(
        `select data->>'customerId' as customer from hub_events where tenant_id = $1 and key = $2 and type in ('order.created.v1', 'order.updated.v1') order by seq desc limit 1`,
        [ctx.tenantId, String(input.orderId)],
      );
      const customerId = customer.rows[0]?.customer ?? undefined;
      const rules = { ...t.shoppingRules({ orderId: String(input.orderId), ...(customerId ? { customerId } : {}) }), unavailable: circuits.open(), ...(str(input.deliverBy) ? { deliverBy: String(input.deliverBy).slice(0, 10) } : {}) };
      const parcels = packages.map((p) => ({
        weightKg: toKg(p.weight),
        ...(p.dimensions ? { lengthCm: toCm(p.dimensions.length, p.dimensions.unit), widthCm: toCm(p.dimensions.width, p.dimensions.unit), heightCm: toCm(p.dimensions.height, p.dimensions.unit) } : {}),
      }));
      const choice = chooseQuotes(quotes, parcels, rules);
      if (!choice.ranked.length) {
        const why = [...attempts.map((a) => `${a.carrier}: ${a.error}`), ...choice.rejected.map((r) => `${carrierName(r.quote)} ${r.quote.service}: ${r.reason}`)].join('; ');
        if (attempts.length && !quotes.length) {
          // as soon as the first carrier said it would answer again (a 429's Retry-After), else in 30 s
          const hints = attempts.map((a) => a.retryAfterMs).filter((x): x is number => x !== undefined);
          throw new TransientError({ code: 'carrier.no_rates', message: `no carrier answered with rates (${why})`, retryAfterMs: hints.length ? Math.min(...hints) : 30_000 });
        }
        throw new BusinessError({ code: 'carrier.no_eligible_quote', message: `no eligible carrier quote: ${why || 'no carrier quoted'}` });
      }
      let booking: Booking | undefined;
      let chosen: RateQuote | undefined;
      const switches: { from: string; reason: string }[] = [];
      for (const q of choice.ranked) {
        const port = t.carriers.find((c) => c.id === q.carrier)!;
        try {
          booking = await port.book!({ quote: q, request, labelFormat: t.labelFormat, idempotencyKey: `${ctx.tenantId}:${ctx.stepKey}:${carrierName(q)}:${q.service}` });
          circuits.succeeded(port.id);
          chosen = q;
          break;
        } catch (e) {
          if (e instanceof HubError && e.errorClass === 'transient') circuits.failed(port.id);
          switches.push({ from: `${carrierName(q)} ${q.service}`, reason: e instanceof Error ? e.message : String(e) });
        }
      }
      if (!booking || !chosen) {
        throw new TransientError({ code: 'carrier.booking_failed', message: `every eligible carrier failed: ${switches.map((s) => `${s.from}: ${s.reason}`).join('; ')}`, retryAfterMs: 60_000 });
      }
      const pieces = [];
      for (const p of booking.pieces) {
        const labelRef = `label:${String(input.shipmentId)}:${p.trackingNumber}`;
        const uri = await storeLabel(deps.pool, ctx.tenantId, labelRef, p.label.format, p.label.contentBase64);
        pieces.push({ packageId: p.packageId, trackingNumber: p.trackingNumber, labelRef, format: p.label.format, uri });
      }
      const carrierCode = carrierName(chosen).toLowerCase().replace(/[^a-z0-9_.-]+/g, '_').slice(0, 40);
      const emit: Emit[] = [{
        type: 'shipment.booked.v1',
        dedupe: booking.masterTrackingNumber,
        data: {
          shipmentId: input.shipmentId, orderId: input.orderId, bookedAt: now(),
          refs: [{ system: `carrier:${booking.carrier}`, id: booking.bookingRef }],
          carrier: { carrierCode, service: chosen.service.slice(0, 60) },
          trackingNumber: booking.masterTrackingNumber,
          packages: pieces.map((p) => ({ packageId: p.packageId, trackingNumber: p.trackingNumber })),
          quote: {
            quoteId: chosen.quoteRef.slice(0, 100), carrier: { carrierCode, service: chosen.service.slice(0, 60) },
            charges: [{ kind: 'base', code: 'BASE', amount: chosen.price }], total: chosen.price, quotedAt: now(),
            ...(chosen.billableWeight ? { billableWeight: chosen.billableWeight } : {}), ...(chosen.transitDays !== undefined ? { transitDays: chosen.transitDays } : {}),
          },
          labels: pieces.map((p) => ({ packageId: p.packageId, format: p.format === 'PDF' ? 'pdf' : 'zpl', uri: p.uri })),
        },
      }];
      return {
        output: {
          booking: { carrier: booking.carrier, carrierId: chosen.carrier, carrierAccount: booking.carrierAccount, service: booking.service, bookingRef: booking.bookingRef, masterTrackingNumber: booking.masterTrackingNumber, charged: booking.charged, pieces: pieces.map(({ uri: _u, ...p }) => p) },
          quoteOfRecord: chosen, fallbacks: switches, rejected: choice.rejected.map((r) => ({ carrier: carrierName(r.quote), service: r.quote.service, reason: r.reason })), late: choice.late,
        },
        emit,
      };
    },
  };

  const labels: StepDefinition = {
    name: 'wms.labels',
    async run(input, ctx) {
      const w = warehouse(bindings(deps, ctx), input.warehouseId);
      const b = await bookingOf(deps.pool, ctx, String(input.shipmentId));
      if (!b) throw new PermanentError({ code: 'workflow.no_booking', message: `no booking recorded for ${String(input.shipmentId)}` });
      const pieces = [];
      for (const p of b.pieces) {
        pieces.push({ packageId: p.packageId, trackingNumber: p.trackingNumber, label: { format: p.format, contentBase64: await loadLabel(deps.pool, ctx.tenantId, p.labelRef) }, labelUri: `urn:hub:document:${encodeURIComponent(p.labelRef)}` });
      }
      const ref = await wmsRefOf(deps.pool, ctx, input);
      const r = await w.wms.attachLabels(ref, { carrier: b.carrierAccount ?? b.carrier, service: b.service, masterTrackingNumber: b.masterTrackingNumber, pieces });
      if (!r.ok) throw new BusinessError({ code: 'wms.labels_refused', message: `${w.id} refused the labels: ${r.reason ?? 'no reason given'}` });
      return { output: { attached: pieces.length } };
    },
  };

  const validate: StepDefinition = {
    name: 'odoo.validate',
    maxAttempts: 20,
    async run(input, ctx) {
      const gw = gateway(deps, ctx);
      const lines = input.lines as { moveId: number; itemId?: string; sku: string; quantity: number }[];
      // the transfer still open for these products: the released one, or the backorder an earlier part left
      let pickingId = typeof input.pickingId === 'number' ? input.pickingId : undefined;
      const open = async (id: number) => ((await gw.read('stock.picking', [id], ['state']))[0]?.state as string | undefined) ?? 'missing';
      if (pickingId === undefined || (await open(pickingId)) === 'done') {
        const ids = (await gw.call('stock.picking', 'search', [[['origin', 'like', String(input.orderNumber)], ['picking_type_code', '=', 'outgoing'], ['state', 'not in', ['done', 'cancel']]]], { order: 'id asc' })) as number[];
        if (!ids.length && pickingId !== undefined) return { output: { pickingId, alreadyDone: true } };
        if (!ids.length) throw new BusinessError({ code: 'odoo.no_open_delivery', message: `no open delivery of ${String(input.orderNumber)} in Odoo` });
        pickingId = ids[0]!;
      }
      const moves = (await gw.call('stock.move', 'search_read', [[['picking_id', '=', pickingId]]], { fields: ['product_id', 'state'] })) as { id: number; product_id: [number, string] | false; state: string }[];
      const quantities: Record<number, number> = {};
      for (const l of lines) {
        const product = l.itemId ? Number(l.itemId.replace(/^itm-/, '')) : undefined;
        const m = moves.find((x) => x.id === l.moveId) ?? moves.find((x) => Array.isArray(x.product_id) && x.product_id[0] === product && !(x.id in quantities));
        if (m) quantities[m.id] = (quantities[m.id] ?? 0) + l.quantity;
      }
      const r = await validateDelivery(gw, pickingId, {
        quantities,
        remainder: input.remainder === 'cancel' ? 'cancel' : 'backorder',
        ...(str(input.trackingRef) ? { trackingRef: String(input.trackingRef) } : {}),
      });
      // the carrier as Odoo knows it (a delivery.carrier of that name), and the shipping weight
      const extra: Record<string, unknown> = {};
      if (typeof input.weightKg === 'number' && input.weightKg > 0) extra.shipping_weight = input.weightKg;
      if (str(input.carrierName)) {
        const key = `${ctx.tenantId}\u0000${String(input.carrierName).toLowerCase()}`;
        let id = shippingMethods.get(key);
        if (id === undefined) {
          const ids = (await gw.call('delivery.carrier', 'search', [[['name', 'ilike', String(input.carrierName)]]], { limit: 1 })) as number[];
          id = ids[0] ?? null;
          shippingMethods.set(key, id);
        }
        if (id !== null) extra.carrier_id = id;
      }
      if (Object.keys(extra).length) await gw.write('stock.picking', pickingId, extra);
      return { output: { pickingId, backorderId: r.backorderId, dateDone: r.dateDone } };
    },
  };

  const note: StepDefinition = {
    name: 'odoo.note',
    maxAttempts: 20,
    async run(input, ctx) {
      const gw = gateway(deps, ctx);
      const prev = await deps.pool.query<{ last: string | null }>(
        `select max((output->>'lastSeq')::bigint)::text as last from hub_workflow_steps where tenant_id = $1 and workflow = $2 and instance = $3 and step = 'odoo.note' and status = 'done' and output->>'shipmentId' = $4`,
        [ctx.tenantId, ctx.workflow, ctx.instance, String(input.shipmentId)],
      );
      const after = Number(prev.rows[0]?.last ?? 0);
      const scans = await deps.pool.query<{ seq: string; data: { status: string; carrierStatusText?: string; occurredAt: string; location?: { city?: string; countryCode?: string } } }>(
        `select seq, data from hub_events where tenant_id = $1 and type = 'shipment.tracking.v1' and key = $2 and seq > $3 order by occurred_at, seq`,
        [ctx.tenantId, String(input.shipmentId), after],
      );
      if (!scans.rowCount) return { output: { shipmentId: input.shipmentId, lastSeq: after, posted: 0 } };
      const marker = `[hub ${ctx.stepKey}]`;
      const lines = scans.rows.map((s) => `${s.data.occurredAt} ${s.data.status}${s.data.carrierStatusText ? ` (${s.data.carrierStatusText})` : ''}${s.data.location?.city ? `, ${s.data.location.city}` : ''}`);
      const body = `<p>Tracking ${String(input.shipmentId)}:</p><ul>${lines.map((l) => `<li>${l.replace(/[<>&]/g, '')}</li>`).join('')}</ul><p>${marker}</p>`;
      const targets: [string, number][] = [];
      if (typeof input.pickingId === 'number') targets.push(['stock.picking', input.pickingId]);
      if (str(input.orderNumber)) targets.push(['sale.order', await saleOrderIdOf(gw, input.orderNumber, { pool: deps.pool, tenantId: ctx.tenantId, orderId: ctx.instance })]);
      for (const [model, id] of targets) {
        // a message is looked for only when an earlier attempt of this step may have posted it
        const seen = ctx.attempt > 1 ? ((await gw.call('mail.message', 'search_count', [[['model', '=', model], ['res_id', '=', id], ['body', 'like', marker]]], {})) as number) : 0;
        if (seen === 0) await gw.call(model, 'message_post', [[id]], { body, message_type: 'comment', subtype_xmlid: 'mail.mt_note' });
      }
      return { output: { shipmentId: input.shipmentId, lastSeq: Number(scans.rows.at(-1)!.seq), posted: scans.rowCount } };
    },
  };

  const invoice: StepDefinition = {
    name: 'odoo.invoice',
    maxAttempts: 20,
    async run(input, ctx) {
      const gw = gateway(deps, ctx);
      const so = await saleOrderIdOf(gw, input.orderNumber, { pool: deps.pool, tenantId: ctx.tenantId, orderId: ctx.instance });
      const r = await invoiceDeliveredQuantities(gw, so);
      const invoiceId = r.posted.at(-1)?.id ?? r.invoiceIds.at(-1);
      if (invoiceId === undefined) throw new BusinessError({ code: 'odoo.nothing_invoiced', message: `Odoo created no invoice for ${String(input.orderNumber)}` });
      const inv: Record<string, unknown> = (await gw.read('account.move', [invoiceId], ['name', 'amount_total', 'currency_id']))[0] ?? {};
      const currency = Array.isArray(inv.currency_id) ? String(inv.currency_id[1]) : undefined;
      return {
        output: { saleOrderId: so, invoiceIds: r.invoiceIds },
        emit: [{
          type: 'order.invoiced.v1', dedupe: `${String(input.shipmentId)}:${invoiceId}`,
          data: {
            orderId: input.orderId, invoiceId: `inv-${invoiceId}`, invoicedAt: now(),
            refs: [{ system: 'odoo:account.move', id: String(invoiceId) }, { system: 'hub:shipment', id: String(input.shipmentId) }],
            ...(str(inv.name) && inv.name !== '/' ? { invoiceNumber: String(inv.name) } : {}),
            ...(typeof inv.amount_total === 'number' && currency && /^[A-Z]{3}$/.test(currency) ? { total: { amount: inv.amount_total.toFixed(2), currency } } : {}),
          },
        }],
      };
    },
  };

  const cancel: StepDefinition = {
    name: 'wms.cancel',
    failureClass: 'partner_rejected',
    async run(input, ctx) {
      const w = warehouse(bindings(deps, ctx), input.warehouseId);
      const r = await w.wms.cancel(await wmsRefOf(deps.pool, ctx, input), 'order cancelled');
      if (!r.ok) throw new BusinessError({ code: 'wms.cancel_refused', message: `${w.id} could not cancel ${String(input.fulfilmentRequestId)}: ${r.reason ?? 'no reason given'}` });
      return { emit: [{ type: 'shipment.cancelled.v1', dedupe: 'wms', data: { shipmentId: input.shipmentId, orderId: input.orderId, cancelledAt: now(), reason: 'order cancelled' } }] };
    },
  };

  const shipTo: StepDefinition = {
    name: 'wms.ship_to',
    failureClass: 'address_issue',
    async run(input, ctx) {
      const w = warehouse(bindings(deps, ctx), input.warehouseId);
      const r = await w.wms.updateShipTo(await wmsRefOf(deps.pool, ctx, input), input.shipTo as PartyAddress);
      if (!r.ok) throw new BusinessError({ code: 'wms.ship_to_refused', message: `${w.id} could not change the address of ${String(input.fulfilmentRequestId)}: ${r.reason ?? 'no reason given'}` });
      return { output: { updated: true } };
    },
  };

  const voidLabel: StepDefinition = {
    name: 'carrier.void',
    failureClass: 'partner_rejected',
    async run(input, ctx) {
      const b = await bookingOf(deps.pool, ctx, String(input.shipmentId));
      if (!b) return { output: { voided: false, reason: 'nothing was booked' } };
      const port = bindings(deps, ctx).carriers.find((c) => c.id === b.carrierId);
      if (!port?.cancel) throw new PermanentError({ code: 'carrier.cannot_void', message: `${b.carrierId} cannot void labels` });
      const r = await port.cancel(b.bookingRef);
      return {
        output: { voided: r.voided, carrierStatus: r.carrierStatus },
        emit: [{ type: 'shipment.cancelled.v1', dedupe: 'label', data: { shipmentId: input.shipmentId, orderId: input.orderId, cancelledAt: now(), reason: 'order cancelled', labelVoided: r.voided } }],
      };
    },
  };

  return Object.fromEntries([route, release, book, labels, validate, note, invoice, cancel, shipTo, voidLabel].map((s) => [s.name, s]));
}
