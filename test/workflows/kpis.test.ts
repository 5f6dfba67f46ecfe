/**
 * Business KPIs and partner SLAs of the order flow (src/workflows/order-to-delivery/kpis.ts).
 *
 * - the percentile and bucketing helpers against naive references (fast-check) and against
 *   PostgreSQL's own percentile_cont;
 * - the report over rows written the way the flow writes them (workflow state, canonical events,
 *   step completions, exceptions), every figure computed by hand in the comments;
 * - the histograms observed by a running flow: one observation per milestone although events
 *   arrive twice (same id, and re-sent with a new id) and one attempt rolls back.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { freshDatabase } from '../helpers/db.ts';
import { silent, testWorker } from '../helpers/pipeline.ts';
import { ingest } from '../../src/pipeline/inbox.ts';
import type { Handler, IncomingEvent } from '../../src/pipeline/types.ts';
import { TransientError } from '../../src/domain/errors.ts';
import { createMetrics } from '../../src/platform/metrics.ts';
import { validateConfig } from '../../src/platform/config.ts';
import { OrderToDeliveryRuntime } from '../../src/workflows/order-to-delivery/runtime.ts';
import { bucketSecondsFor, kpiReport, percentile, summarize, type Sample } from '../../src/workflows/order-to-delivery/kpis.ts';

const db = await freshDatabase();
const H = 3_600_000;
const M = 60_000;

// ------------------------------------------------------------------ pure helpers

/** The textbook definition, written independently: the value at fractional rank (n − 1)·p of the sorted list. */
function naivePercentile(values: number[], p: number): number | null {
  if (!values.length) return null;
  const v = [...values].sort((a, b) => a - b);
  const rank = (v.length - 1) * p;
  const below = v[Math.floor(rank)]!;
  const above = v[Math.min(v.length - 1, Math.floor(rank) + 1)]!;
  return below + (above - below) * (rank - Math.floor(rank));
}

const close = (a: number | null, b: number | null, eps = 1e-6) => (a === null || b === null ? a === b : Math.abs(a - b) <= eps * Math.max(1, Math.abs(b)));

describe('percentile and buckets', () => {
  it('percentile is percentile_cont: against a sort-based reference', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e7, noNaN: true }), { maxLength: 200 }), fc.double({ min: 0, max: 1, noNaN: true }), (xs, p) => {
        const sorted = [...xs].sort((a, b) => a - b);
        assert.ok(close(percentile(sorted, p), naivePercentile(xs, p)));
      }),
      { numRuns: 500 },
    );
  });

  it("percentile agrees with PostgreSQL's percentile_cont", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 60 }), fc.constantFrom(0, 0.5, 0.9, 0.95, 0.99, 1), async (xs, p) => {
        const r = await db.pool.query<{ v: number }>(`select percentile_cont($2::float8) within group (order by x) as v from unnest($1::float8[]) x`, [xs, p]);
        assert.ok(close(percentile([...xs].sort((a, b) => a - b), p), Number(r.rows[0]!.v)));
      }),
      { numRuns: 40 },
    );
  });

  it('bucket size follows the window', () => {
    const w = (hours: number) => ({ from: new Date(0), to: new Date(hours * H) });
    assert.deepEqual([w(1), w(6), w(24), w(24 * 7), w(24 * 30), w(24 * 365)].map(bucketSecondsFor), [300, 900, 3600, 21_600, 86_400, 7 * 86_400 * 2]);
  });

  it('buckets: every sample in the window counted once, in the bucket that holds it; empty buckets count 0', () => {
    const arb = fc.record({
      from: fc.integer({ min: 0, max: 1e12 }),
      spanMs: fc.integer({ min: 1, max: 40 * 86_400_000 }),
      samples: fc.array(fc.record({ offset: fc.integer({ min: -5 * 86_400_000, max: 45 * 86_400_000 }), seconds: fc.integer({ min: 0, max: 1e6 }) }), { maxLength: 300 }),
    });
    fc.assert(
      fc.property(arb, ({ from, spanMs, samples }) => {
        const w = { from: new Date(from), to: new Date(from + spanMs) };
        const size = bucketSecondsFor(w) * 1000;
        const ss: Sample[] = samples.map((s) => ({ at: from + s.offset, seconds: s.seconds }));
        const r = summarize(ss, w, size / 1000);
        const inside = ss.filter((s) => s.at >= from && s.at < from + spanMs);
        assert.equal(r.count, inside.length);
        assert.ok(close(r.p90, naivePercentile(inside.map((s) => s.seconds), 0.9) === null ? null : Math.round(naivePercentile(inside.map((s) => s.seconds), 0.9)! * 1000) / 1000));
        assert.ok(r.points.length >= 1 && r.points.length <= 31, `${r.points.length} points`);
        const starts = r.points.map((p) => Date.parse(p.at));
        assert.ok(starts[0]! <= from && from < starts[0]! + size, 'the first bucket holds the start of the window');
        assert.ok(starts.at(-1)! <= from + spanMs - 1 && from + spanMs - 1 < starts.at(-1)! + size, 'the last bucket holds the end of the window');
        for (let i = 0; i < starts.length; i++) {
          assert.equal(starts[i]! % size, 0, 'buckets are aligned');
          if (i) assert.equal(starts[i]! - starts[i - 1]!, size, 'buckets are contiguous');
          const mine = inside.filter((s) => s.at >= starts[i]! && s.at < starts[i]! + size).map((s) => s.seconds);
          assert.equal(r.points[i]!.count, mine.length);
          const want = naivePercentile(mine, 0.5);
          assert.ok(close(r.points[i]!.p50, want === null ? null : Math.round(want * 1000) / 1000));
        }
      }),
      { numRuns: 300 },
    );
  });
});

// ------------------------------------------------------------------ the report

const ODOO = 'urn:hub:connector:odoo:';
const FLOW = 'urn:hub:workflow:order-to-delivery';
let n = 0;

function event(tenantId: string, source: string, type: string, key: string, at: number, data: Record<string, unknown>, id?: string): IncomingEvent {
  return {
    id: id ?? `e-${++n}`, source, type, specversion: '1.0', key, tenantId,
    time: new Date(at).toISOString(), occurredAt: new Date(at).toISOString(), datacontenttype: 'application/json', data, extensions: {},
  };
}

const stepDone = (tenantId: string, orderId: string, stepKey: string, at: number, output: Record<string, unknown> = {}) =>
  event(tenantId, FLOW, 'hub.step.completed.v1', orderId, at, { workflow: 'order-to-delivery', instance: orderId, step: stepKey.slice(0, stepKey.indexOf(':')), stepKey, completedAt: new Date(at).toISOString(), output }, `wf:${orderId}:${stepKey}`);

interface PartSpec {
  shp: string;
  wh: string;
  carrier?: string;
  status: string;
}

async function workflow(tenantId: string, orderId: string, parts: PartSpec[], deliverBy?: number): Promise<void> {
  const state = {
    orderId, phase: 'fulfilling', request: { orderId, ...(deliverBy ? { deliverBy: new Date(deliverBy).toISOString() } : {}) },
    parts: parts.map((p) => ({ fulfilmentRequestId: p.shp.replace('shp', 'ful'), shipmentId: p.shp, warehouseId: p.wh, lines: [], status: p.status, ...(p.carrier ? { carrier: { carrierCode: p.carrier } } : {}) })),
  };
  await db.pool.query(`insert into hub_workflows (tenant_id, workflow, instance, state, status) values ($1, 'order-to-delivery', $2, $3, 'running')`, [tenantId, orderId, JSON.stringify(state)]);
}

/** The milestones of one shipment, as the flow's events and step completions state them (times in ms). */
async function milestones(tenantId: string, orderId: string, shp: string, wh: string, m: { released?: number; wmsRelease?: number; ack?: number; dispatched?: number; validated?: number; odooDone?: number; delivered?: number; invoiced?: number }): Promise<void> {
  const ful = shp.replace('shp', 'ful');
  const es: IncomingEvent[] = [];
  if (m.released !== undefined) es.push(event(tenantId, ODOO + tenantId, 'order.released.v1', orderId, m.released, { orderId, fulfilmentRequestId: ful, releasedAt: new Date(m.released).toISOString() }, `rel-${orderId}`));
  if (m.wmsRelease !== undefined) es.push(stepDone(tenantId, orderId, `wms.release:${ful}`, m.wmsRelease));
  if (m.ack !== undefined) es.push(event(tenantId, `/wms/simwms/${wh}`, 'fulfilment.acknowledged.v1', orderId, m.ack, { orderId, fulfilmentRequestId: shp, status: 'accepted' }));
  if (m.dispatched !== undefined) es.push(event(tenantId, `/wms/simwms/${wh}`, 'shipment.dispatched.v1', shp, m.dispatched, { orderId, shipmentId: shp }));
  if (m.validated !== undefined) es.push(stepDone(tenantId, orderId, `odoo.validate:${shp}`, m.validated));
  if (m.odooDone !== undefined) es.push(event(tenantId, ODOO + tenantId, 'shipment.dispatched.v1', shp, m.odooDone, { orderId, shipmentId: shp }));
  if (m.delivered !== undefined) es.push(event(tenantId, 'urn:hub:tracking:easypost', 'shipment.delivered.v1', shp, m.delivered, { orderId, shipmentId: shp }));
  if (m.invoiced !== undefined) es.push(stepDone(tenantId, orderId, `odoo.invoice:${shp}`, m.invoiced));
  await ingest(db.pool, es);
}

async function exception(tenantId: string, cls: string | undefined, status: 'open' | 'resolved', at: number): Promise<void> {
  await db.pool.query(`insert into hub_exceptions (tenant_id, key, code, message, status, details, created_at) values ($1, 'k', $2, 'm', $3, $4, $5)`, [
    tenantId, `c-${++n}`, status, JSON.stringify(cls ? { class: cls } : {}), new Date(at),
  ]);
}

describe('the KPI report', () => {
  const T = Date.parse('2026-03-02T00:00:00Z');

  before(async () => {
    await db.pool.query(`insert into hub_tenants (id, name) values ('acme', 'Acme'), ('zeta', 'Zeta')`);
    // A: everything on time
    await workflow('acme', 'ord-A', [{ shp: 'shp-A', wh: 'loc-east', carrier: 'ups', status: 'delivered' }], T + 30 * H);
    await milestones('acme', 'ord-A', 'shp-A', 'loc-east', { released: T, wmsRelease: T + 10 * M, ack: T + 20 * M, dispatched: T + 2 * H, validated: T + 2 * H + 30 * M, delivered: T + 10 * H, invoiced: T + 11 * H });
    // B: late ack, Odoo's done state seen by change capture 2 h after the dispatch; promised by the quote's date
    await workflow('acme', 'ord-B', [{ shp: 'shp-B', wh: 'loc-east', carrier: 'ups', status: 'delivered' }]);
    await milestones('acme', 'ord-B', 'shp-B', 'loc-east', { released: T + H, wmsRelease: T + H, ack: T + H + 30 * M, dispatched: T + 5 * H, odooDone: T + 7 * H, delivered: T + 20 * H, invoiced: T + 23 * H });
    await db.pool.query(`insert into hub_workflow_steps (tenant_id, workflow, instance, step, step_key, status, output) values ('acme', 'order-to-delivery', 'ord-B', 'carrier.book', 'carrier.book:shp-B', 'done', $1)`, [
      JSON.stringify({ quoteOfRecord: { estimatedDeliveryDate: '2026-03-02' } }),
    ]);
    // C: delivered late, never invoiced
    await workflow('acme', 'ord-C', [{ shp: 'shp-C', wh: 'loc-west', carrier: 'fedex', status: 'delivered' }], T + 12 * H);
    await milestones('acme', 'ord-C', 'shp-C', 'loc-west', { released: T + 2 * H, wmsRelease: T + 2 * H, ack: T + 2 * H + 5 * M, dispatched: T + 8 * H, validated: T + 8 * H + 10 * M, delivered: T + 14 * H });
    // D: split; D1 shipped after the window, D2 never acknowledged
    await workflow('acme', 'ord-D', [{ shp: 'shp-D1', wh: 'loc-east', carrier: 'dhl', status: 'shipped' }, { shp: 'shp-D2', wh: 'loc-west', status: 'releasing' }], T + 20 * H);
    await milestones('acme', 'ord-D', 'shp-D1', 'loc-east', { released: T + 3 * H, wmsRelease: T + 3 * H, ack: T + 3 * H + 10 * M, dispatched: T + 28 * H });
    await milestones('acme', 'ord-D', 'shp-D2', 'loc-west', { wmsRelease: T + 3 * H });
    // E: released and shipped before the window, delivered in it, no promised date, never invoiced
    await workflow('acme', 'ord-E', [{ shp: 'shp-E', wh: 'loc-east', carrier: 'ups', status: 'delivered' }]);
    await milestones('acme', 'ord-E', 'shp-E', 'loc-east', { released: T - 5 * H, wmsRelease: T - 5 * H, ack: T - 5 * H + 10 * M, dispatched: T - H, delivered: T + H });
    // another tenant's shipment in the same window
    await workflow('zeta', 'ord-Z', [{ shp: 'shp-Z', wh: 'loc-east', carrier: 'ups', status: 'delivered' }]);
    await milestones('zeta', 'ord-Z', 'shp-Z', 'loc-east', { released: T, wmsRelease: T, ack: T + M, dispatched: T + H, delivered: T + 2 * H, invoiced: T + 3 * H });
    await exception('acme', 'missing_ack', 'open', T + 3 * H + 15 * M);
    await exception('acme', 'stock_shortage', 'resolved', T + 4 * H);
    await exception('acme', 'delivery_failed', 'open', T + 12 * H);
    await exception('acme', 'delivery_failed', 'resolved', T + 13 * H);
    await exception('acme', undefined, 'open', T + 14 * H);
    await exception('acme', 'delayed', 'open', T - 2 * H);
    await exception('zeta', 'lost', 'open', T + 5 * H);
  });

  it('percentiles, buckets, exceptions, on-time rates and SLA adherence over 24 hours', async () => {
    const r = await kpiReport(db.pool, 'acme', { from: new Date(T), to: new Date(T + 24 * H) }, {
      now: new Date(T + 40 * H),
      sla: { wmsAckMinutes: 15, shipConfirmationHours: 24, deliveryConfirmationMinutes: 60, invoiceHours: 24, partners: { 'loc-west': { wmsAckMinutes: 10 } } },
    });
    assert.deepEqual(r.window, { from: '2026-03-02T00:00:00.000Z', to: '2026-03-03T00:00:00.000Z', bucketSeconds: 3600 });
    const s = Object.fromEntries(r.series.map((x) => [x.name, x]));
    // order to dispatch: A 2 h, B 4 h, C 6 h (D1 and E end outside the window)
    assert.deepEqual([s.orderToDispatch!.count, s.orderToDispatch!.p50, s.orderToDispatch!.p90, s.orderToDispatch!.p95, s.orderToDispatch!.p99], [3, 14_400, 20_160, 20_880, 21_456]);
    assert.equal(s.orderToDispatch!.label, 'Order to dispatch');
    assert.equal(s.orderToDispatch!.points.length, 24);
    assert.deepEqual(
      s.orderToDispatch!.points.filter((p) => p.count).map((p) => [p.at, p.count, p.p50, p.p90]),
      [['2026-03-02T02:00:00.000Z', 1, 7200, 7200], ['2026-03-02T05:00:00.000Z', 1, 14_400, 14_400], ['2026-03-02T08:00:00.000Z', 1, 21_600, 21_600]],
    );
    assert.deepEqual(s.orderToDispatch!.points[0], { at: '2026-03-02T00:00:00.000Z', count: 0, p50: null, p90: null });
    // dispatch to delivery: E 2 h, C 6 h, A 8 h, B 15 h
    assert.deepEqual([s.dispatchToDelivery!.count, s.dispatchToDelivery!.p50, s.dispatchToDelivery!.p90, s.dispatchToDelivery!.p95, s.dispatchToDelivery!.p99], [4, 25_200, 46_440, 50_220, 53_244]);
    // Odoo's confirmation: C 10 min, A 30 min, B 2 h (Odoo's own done state)
    assert.deepEqual([s.deliveryConfirmationLag!.count, s.deliveryConfirmationLag!.p50, s.deliveryConfirmationLag!.p90, s.deliveryConfirmationLag!.p95, s.deliveryConfirmationLag!.p99], [3, 1800, 6120, 6660, 7092]);
    // proof of delivery to invoice: A 1 h, B 3 h
    assert.deepEqual([s.podToInvoice!.count, s.podToInvoice!.p50, s.podToInvoice!.p90, s.podToInvoice!.p95, s.podToInvoice!.p99], [2, 7200, 10_080, 10_440, 10_728]);

    assert.deepEqual(r.exceptionsByClass, [
      { class: 'delivery_failed', open: 1, total: 2 },
      { class: 'missing_ack', open: 1, total: 1 },
      { class: 'other', open: 1, total: 1 },
      { class: 'stock_shortage', open: 0, total: 1 },
    ]);
    // ups: A on time (promised by the order), B on time (by the quote's date), E without a promise; fedex: C late
    assert.deepEqual(r.carrierOnTime, [
      { carrier: 'fedex', delivered: 1, onTime: 0, late: 1, rate: 0 },
      { carrier: 'ups', delivered: 3, onTime: 2, late: 0, rate: 1 },
    ]);
    assert.deepEqual(r.sla, [
      // D1 not delivered by its promise (T + 20 h), judged at T + 40 h
      { partner: 'dhl', kind: 'on_time', target: 'delivered by the promised date', measured: 1, breaches: 1, adherence: 0 },
      { partner: 'fedex', kind: 'on_time', target: 'delivered by the promised date', measured: 1, breaches: 1, adherence: 0 },
      // A 1 h 50, B 4 h, D1 25 h (breach)
      { partner: 'loc-east', kind: 'ship_confirmation', target: 'ship confirmation within 24 h of the release', measured: 3, breaches: 1, adherence: 0.667 },
      // A 10 min, B 30 min (breach), D1 10 min
      { partner: 'loc-east', kind: 'wms_ack', target: 'acknowledged within 15 min of the release', measured: 3, breaches: 1, adherence: 0.667 },
      // C 6 h, D2 37 h overdue
      { partner: 'loc-west', kind: 'ship_confirmation', target: 'ship confirmation within 24 h of the release', measured: 2, breaches: 1, adherence: 0.5 },
      // C 5 min within its own 10, D2 never
      { partner: 'loc-west', kind: 'wms_ack', target: 'acknowledged within 10 min of the release', measured: 2, breaches: 1, adherence: 0.5 },
      // A 30 min, B 2 h (breach), C 10 min (D1 and E start outside the window)
      { partner: 'odoo', kind: 'delivery_confirmation', target: 'Odoo delivery validated within 60 min of the dispatch', measured: 3, breaches: 1, adherence: 0.667 },
      // A 1 h, B 3 h, C and E never invoiced and overdue
      { partner: 'odoo', kind: 'invoice', target: 'invoice posted within 24 h of the proof of delivery', measured: 4, breaches: 2, adherence: 0.5 },
      { partner: 'ups', kind: 'on_time', target: 'delivered by the promised date', measured: 2, breaches: 0, adherence: 1 },
    ]);
  });

  it('a window of one hour has 5-minute buckets; SLA items not yet due are not measured', async () => {
    const r = await kpiReport(db.pool, 'acme', { from: new Date(T + 2 * H), to: new Date(T + 3 * H) }, { now: new Date(T + 3 * H) });
    assert.equal(r.window.bucketSeconds, 300);
    const s = r.series.find((x) => x.name === 'orderToDispatch')!;
    assert.equal(s.points.length, 12);
    assert.deepEqual(s.points.filter((p) => p.count).map((p) => [p.at, p.p50]), [['2026-03-02T02:00:00.000Z', 7200]]);
    assert.deepEqual(r.carrierOnTime, []);
    // D2, released to loc-west at T + 3 h, judged 5 minutes later: neither its acknowledgement nor its shipment is due yet
    const d2 = await kpiReport(db.pool, 'acme', { from: new Date(T + 3 * H), to: new Date(T + 4 * H) }, { now: new Date(T + 3 * H + 5 * M) });
    assert.deepEqual(d2.sla.filter((x) => x.partner === 'loc-west').map((x) => [x.kind, x.measured, x.breaches, x.adherence]), [['ship_confirmation', 0, 0, null], ['wms_ack', 0, 0, null]]);
  });

  it('a tenant without orders has empty series with zero points', async () => {
    const r = await kpiReport(db.pool, 'nobody', { from: new Date(T), to: new Date(T + 7 * 24 * H) });
    assert.equal(r.window.bucketSeconds, 21_600);
    for (const s of r.series) {
      assert.deepEqual([s.count, s.p50, s.p99, s.points.length], [0, null, null, 28]);
      assert.ok(s.points.every((p) => p.count === 0));
    }
    assert.deepEqual([r.exceptionsByClass, r.carrierOnTime, r.sla], [[], [], []]);
  });
});

// ------------------------------------------------------------------ observed by the running flow

describe('KPI histograms of a running flow', () => {
  it('one observation per milestone: duplicates, re-sent events and a rolled-back attempt observe nothing more', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const config = validateConfig({
      databaseUrl: 'postgresql://unused/x',
      flows: {
        orderToDelivery: {
          default: {
            warehouses: [{ id: 'loc-east', address: { lines: ['1 Dock Rd'], city: 'Reno', countryCode: 'US' }, wms: { baseUrl: 'http://127.0.0.1:9', profile: 'simwms', secretName: 'k', webhookSecretName: 'w' } }],
          },
        },
      },
    });
    const runtime = new OrderToDeliveryRuntime({ pool: db.pool, keyring: undefined as never, config, clock: { now: () => new Date() }, log: silent, metrics, odoo: () => undefined });
    // a handler after the flow's that fails the first attempt of the ship confirmation: its transaction rolls back
    let failures = 0;
    const flaky: Handler = {
      name: 'test.flaky',
      matches: (t) => t === 'shipment.dispatched.v1',
      async handle(e, ctx) {
        if (e.id === 'disp-1' && ctx.attempt === 1) {
          failures++;
          throw new TransientError({ code: 'test.flaky', message: 'the first attempt fails' });
        }
      },
    };
    const { worker, clock } = testWorker(db.pool, [...runtime.handlers(), flaky]);
    const T = clock.now().getTime();
    const at = (ms: number) => new Date(T + ms).toISOString();
    const wms = '/wms/simwms/loc-east';
    const kpis = runtime.kpis!;
    const step = async (events: IncomingEvent[]) => {
      await ingest(db.pool, events);
      await worker.drain();
      await kpis.flush();
    };
    const count = async (name: string, labels: Record<string, string> = {}) => {
      const v = (await metrics.registry.getSingleMetric(name)!.get()).values;
      const hit = (suffix: string) => v.find((x) => (x as { metricName?: string }).metricName === name + suffix && Object.entries(labels).every(([k, l]) => x.labels[k] === l))?.value ?? 0;
      return name.endsWith('_seconds') ? [hit('_count'), hit('_sum')] : v.filter((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l)).reduce((a, x) => a + x.value, 0);
    };

    await step([event('default', `${ODOO}default`, 'order.released.v1', 'ord-1', T, {
      orderId: 'ord-1', orderNumber: 'S1', fulfilmentRequestId: 'ful-1', releasedAt: at(0), deliverBy: at(72 * H),
      refs: [{ system: 'odoo:stock.picking', id: '7' }], lines: [{ lineId: '91', orderLineId: '21', sku: 'DESK', uom: 'EA', quantity: 1 }],
      shipTo: { name: 'Deco Addict', address: { lines: ['77 Santa Barbara Rd'], city: 'Pleasant Hill', postalCode: '94523', countryCode: 'US' } },
    }, 'rel-1')]);
    await step([stepDone('default', 'ord-1', 'route:ful-1', T + M, { parts: [{ fulfilmentRequestId: 'ful-1', warehouseId: 'loc-east', lines: [{ orderLineId: '91', quantity: 1 }] }] })]);
    const wf = await db.pool.query(`select state from hub_workflows where tenant_id = 'default' and instance = 'ord-1'`);
    assert.equal(wf.rows[0].state.parts[0].shipmentId, 'shp-7');
    await step([stepDone('default', 'ord-1', 'wms.release:ful-1', T + 10 * M)]);
    // acknowledged 30 min after the release: the warehouse breached its 15 minutes
    const ack = event('default', wms, 'fulfilment.acknowledged.v1', 'ord-1', T + 40 * M, { orderId: 'ord-1', fulfilmentRequestId: 'shp-7', status: 'accepted', acknowledgedAt: at(40 * M) }, 'ack-1');
    await step([ack, ack]);
    await step([event('default', FLOW, 'shipment.booked.v1', 'shp-7', T + H, { shipmentId: 'shp-7', orderId: 'ord-1', bookedAt: at(H), carrier: { carrierCode: 'ups', service: 'Ground' }, trackingNumber: '1Z7', packages: [{ packageId: 'P1', trackingNumber: '1Z7' }] }, 'booked-1')]);

    // the ship confirmation, its first attempt rolled back
    const dispatched = (id: string) => event('default', wms, 'shipment.dispatched.v1', 'shp-7', T + 2 * H, { orderId: 'ord-1', shipmentId: 'shp-7', dispatchedAt: at(2 * H), trackingNumber: '1Z7' }, id);
    await step([dispatched('disp-1')]);
    assert.equal(failures, 1);
    assert.deepEqual(await count('hub_kpi_order_to_dispatch_seconds'), [0, 0], 'nothing observed from a rolled-back attempt');
    assert.equal(kpis.pending, 1, 'the milestone waits for its commit');
    clock.advance(10 * M);
    await step([]);
    assert.deepEqual(await count('hub_kpi_order_to_dispatch_seconds', { tenant: 'default', warehouse: 'loc-east' }), [1, 7200]);
    // sent again under the same id (the inbox keeps one) and re-sent under a new one (a second event, no new milestone)
    await step([dispatched('disp-1'), dispatched('disp-1-resent')]);
    assert.deepEqual(await count('hub_kpi_order_to_dispatch_seconds'), [1, 7200]);

    await step([stepDone('default', 'ord-1', 'odoo.validate:shp-7', T + 2 * H + 20 * M, { pickingId: 7 })]);
    const delivered = (id: string) => event('default', 'urn:hub:tracking:easypost', 'shipment.delivered.v1', 'shp-7', T + 26 * H, { orderId: 'ord-1', shipmentId: 'shp-7', deliveredAt: at(26 * H), trackingNumber: '1Z7', packagesDelivered: 1 }, id);
    await step([delivered('pod-1')]);
    await step([delivered('pod-1'), delivered('pod-2')]);
    const invoiced = (id: string) => event('default', FLOW, 'order.invoiced.v1', 'ord-1', T + 27 * H, { orderId: 'ord-1', invoiceId: 'inv-1', invoicedAt: at(27 * H), refs: [{ system: 'hub:shipment', id: 'shp-7' }] }, id);
    await step([stepDone('default', 'ord-1', 'odoo.invoice:shp-7', T + 27 * H, { invoiceIds: [1] }), invoiced('inv-ev-1')]);
    await step([invoiced('inv-ev-1'), invoiced('inv-ev-2')]);

    assert.deepEqual(await count('hub_kpi_order_to_dispatch_seconds'), [1, 7200]);
    assert.deepEqual(await count('hub_kpi_dispatch_to_delivery_seconds', { tenant: 'default', carrier: 'ups' }), [1, 24 * 3600]);
    assert.deepEqual(await count('hub_kpi_delivery_confirmation_lag_seconds', { tenant: 'default' }), [1, 1200]);
    assert.deepEqual(await count('hub_kpi_pod_to_invoice_seconds', { tenant: 'default' }), [1, 3600]);
    assert.equal(await count('hub_kpi_deliveries_total'), 1);
    assert.equal(await count('hub_kpi_deliveries_total', { tenant: 'default', carrier: 'ups', on_time: 'true' }), 1);
    assert.equal(await count('hub_sla_breaches_total'), 1);
    assert.equal(await count('hub_sla_breaches_total', { tenant: 'default', partner: 'loc-east', kind: 'wms_ack' }), 1);
    assert.equal(kpis.pending, 0);
    const wf2 = await db.pool.query(`select status from hub_workflows where tenant_id = 'default' and instance = 'ord-1'`);
    assert.equal(wf2.rows[0].status, 'completed', 'the flow went all the way');

    // the report reads the same figures from the tables
    const r = await kpiReport(db.pool, 'default', { from: new Date(T), to: new Date(T + 7 * 24 * H) }, { now: new Date(T + 30 * H) });
    assert.deepEqual(r.series.map((x) => [x.name, x.count, x.p50]), [['orderToDispatch', 1, 7200], ['dispatchToDelivery', 1, 86_400], ['deliveryConfirmationLag', 1, 1200], ['podToInvoice', 1, 3600]]);
    assert.deepEqual(r.carrierOnTime, [{ carrier: 'ups', delivered: 1, onTime: 1, late: 0, rate: 1 }]);
    assert.deepEqual(r.sla.map((x) => [x.partner, x.kind, x.measured, x.breaches]), [
      ['loc-east', 'ship_confirmation', 1, 0], ['loc-east', 'wms_ack', 1, 1], ['odoo', 'delivery_confirmation', 1, 0], ['odoo', 'invoice', 1, 0], ['ups', 'on_time', 1, 0],
    ]);
    await runtime.stop();
  });
});
