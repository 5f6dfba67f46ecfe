/**
 * Contract tests of the EasyPost adapter against the EasyPost simulator over real HTTP: rating
 * (one parcel, several parcels), booking with PDF and ZPL labels, a buy whose answer is lost,
 * refunds twice, tracking, SCAN forms, and the classification of 429 / connection refused /
 * 5xx / a failing carrier.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EasyPostSimulator } from '../../../simulators/carriers/easypost/server.ts';
import { createEasyPostCarrier } from '../../../src/connectors/easypost/index.ts';
import { HubError } from '../../../src/domain/errors.ts';
import type { CarrierPort, RateQuote, RateRequest } from '../../../src/connectors/carrier-port.ts';

let sim: EasyPostSimulator;
let carrier: Required<CarrierPort>;

const from = { lines: ['388 Townsend St', 'Apt 20'], city: 'San Francisco', region: 'CA', postalCode: '94107', countryCode: 'US' };
const to = { lines: ['179 N Harbor Dr'], city: 'Redondo Beach', region: 'CA', postalCode: '90277', countryCode: 'US' };

function single(id = 'SHP-1', overrides: Partial<RateRequest> = {}): RateRequest {
  return { shipmentId: id, from, to, parcels: [{ packageId: 'P1', weight: { value: 1.2, unit: 'kg' }, dimensions: { length: 30, width: 20, height: 15, unit: 'cm' } }], ...overrides };
}

function multi(id = 'SHP-M'): RateRequest {
  return {
    shipmentId: id,
    from,
    to,
    parcels: [
      { packageId: 'A', weight: { value: 2, unit: 'lb' } },
      { packageId: 'B', weight: { value: 40, unit: 'oz' }, dimensions: { length: 12, width: 10, height: 8, unit: 'in' } },
      { packageId: 'C', weight: { value: 500, unit: 'g' } },
    ],
  };
}

const pick = (qs: RateQuote[], account: string, service: string) => {
  const q = qs.find((x) => x.carrierAccount === account && x.service === service);
  assert.ok(q, `no ${account} ${service} quote among ${qs.map((x) => `${x.carrierAccount}/${x.service}`).join(', ')}`);
  return q;
};

async function rejects(p: Promise<unknown>, code: string, errorClass?: string): Promise<HubError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof HubError, `expected a HubError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (errorClass) assert.equal(e.errorClass, errorClass);
    return e;
  }
  assert.fail(`expected ${code}`);
}

before(async () => {
  sim = await EasyPostSimulator.start({ now: () => new Date('2026-11-24T15:00:00Z'), webhookBackoffMs: 10 });
  carrier = createEasyPostCarrier({ apiKey: sim.apiKey, baseUrl: sim.url, timeoutMs: 5000 }) as Required<CarrierPort>;
});

after(async () => {
  await sim.stop();
});

beforeEach(() => sim.reset());

describe('rate', () => {
  it('quotes one parcel with every domestic service, billable weight and delivery date', async () => {
    const qs = await carrier.rate(single());
    assert.equal(qs.length, 9);
    const q = pick(qs, 'USPS', 'Priority');
    // 1.2 kg = 42.4 oz = 2.65 lb; 30×20×15 cm = 11.8×7.9×5.9 in → 550/139 = 3.96 → 4 lb billable
    assert.deepEqual(q.billableWeight, { value: 4, unit: 'lb' });
    // zone: 9 vs 9 → 1; Priority 8.90 + 4 × 0.95
    assert.deepEqual(q.price, { amount: '12.70', currency: 'USD' });
    assert.equal(q.serviceLevel, 'two_day');
    assert.equal(q.carrier, 'easypost');
    assert.equal(q.transitDays, 2);
    assert.equal(q.estimatedDeliveryDate, '2026-11-26');
    assert.match(q.quoteRef, /^shipment:shp_[0-9a-f]{32}:rate_[0-9a-f]{32}$/);
    assert.equal(pick(qs, 'UPS', 'NextDayAir').serviceLevel, 'next_day');
    assert.equal(pick(qs, 'FedEx', 'FEDEX_GROUND').serviceLevel, 'ground');
  });

  it('quotes several parcels as one order, priced as the sum of the parcels', async () => {
    const qs = await carrier.rate(multi());
    const q = pick(qs, 'UPS', 'Ground');
    assert.match(q.quoteRef, /^order:order_[0-9a-f]{32}:UPS:Ground$/);
    // billable: 2 lb, max(2.5, 6.9)→7 lb, 17.7 oz→2 lb = 11 lb; UPS Ground 9.80 + 0.70/lb per parcel
    assert.deepEqual(q.billableWeight, { value: 11, unit: 'lb' });
    assert.deepEqual(q.price, { amount: sumCents([980 + 70 * 2, 980 + 70 * 7, 980 + 70 * 2]), currency: 'USD' });
  });

  it('refuses an address EasyPost cannot verify as a business error with the EasyPost code', async () => {
    const e = await rejects(carrier.rate(single('SHP-BAD', { to: { ...to, postalCode: '00000' } })), 'easypost.address_invalid', 'business');
    assert.equal(e.extra?.easypostCode, 'ADDRESS.VERIFY.FAILURE');
    assert.ok(e.issues.some((i) => i.path === 'zip'));
  });

  it('leaves out a failing carrier, so rate shopping falls back on the others', async () => {
    sim.setFaults({ failCarrier: 'UPS' });
    const qs = await carrier.rate(single());
    assert.ok(!qs.some((q) => q.carrierAccount === 'UPS'));
    assert.ok(qs.some((q) => q.carrierAccount === 'USPS') && qs.some((q) => q.carrierAccount === 'FedEx'));
  });
});

function sumCents(parts: number[]): string {
  const c = parts.reduce((a, b) => a + b, 0);
  return `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;
}

describe('book', () => {
  it('buys a PDF label: base64 bytes start with %PDF and carry the tracking number', async () => {
    const req = single();
    const q = pick(await carrier.rate(req), 'USPS', 'GroundAdvantage');
    const b = await carrier.book({ quote: q, request: req, labelFormat: 'PDF', idempotencyKey: 'k1' });
    assert.match(b.bookingRef, /^shp_/);
    assert.equal(b.carrierAccount, 'USPS');
    assert.equal(b.service, 'GroundAdvantage');
    assert.deepEqual(b.charged, q.price);
    assert.equal(b.pieces.length, 1);
    assert.equal(b.pieces[0]!.packageId, 'P1');
    assert.equal(b.pieces[0]!.trackingNumber, b.masterTrackingNumber);
    const pdf = Buffer.from(b.pieces[0]!.label.contentBase64, 'base64');
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    assert.ok(pdf.toString('latin1').includes(b.masterTrackingNumber));
  });

  it('buys a ZPL label (converted from the shipment default) for a multi-parcel order', async () => {
    const req = multi();
    const q = pick(await carrier.rate(req), 'FedEx', 'FEDEX_2_DAY');
    const b = await carrier.book({ quote: q, request: req, labelFormat: 'ZPL', idempotencyKey: 'k2' });
    assert.match(b.bookingRef, /^order_/);
    assert.deepEqual(b.pieces.map((p) => p.packageId), ['A', 'B', 'C']);
    assert.equal(new Set(b.pieces.map((p) => p.trackingNumber)).size, 3);
    assert.equal(b.masterTrackingNumber, b.pieces[0]!.trackingNumber);
    for (const p of b.pieces) {
      const zpl = Buffer.from(p.label.contentBase64, 'base64').toString('latin1');
      assert.ok(zpl.startsWith('^XA'), zpl.slice(0, 20));
      assert.ok(zpl.includes(p.trackingNumber));
    }
    assert.deepEqual(b.charged, q.price);
    assert.equal(sim.stats.labelsPurchased, 3);
  });

  it('a buy whose answer is lost, then the retry, buys one label', async () => {
    const req = single();
    const q = pick(await carrier.rate(req), 'UPS', 'Ground');
    sim.setFaults({ dropAfterCommit: { count: 1, path: '/buy' } });
    const first = await carrier.book({ quote: q, request: req, labelFormat: 'PDF', idempotencyKey: 'k3' });
    const again = await carrier.book({ quote: q, request: req, labelFormat: 'PDF', idempotencyKey: 'k3' });
    assert.equal(again.masterTrackingNumber, first.masterTrackingNumber);
    assert.equal(again.bookingRef, first.bookingRef);
    assert.equal(sim.stats.labelsPurchased, 1);
    assert.equal(sim.stats.requests['POST /v2/shipments/:id/buy'], 1);
  });

  it('a failing carrier refuses the buy as a business error (shop another carrier)', async () => {
    const req = single();
    const q = pick(await carrier.rate(req), 'UPS', '2ndDayAir');
    sim.setFaults({ failCarrier: 'UPS' });
    const e = await rejects(carrier.book({ quote: q, request: req, labelFormat: 'PDF', idempotencyKey: 'k5' }), 'easypost.postage_failure', 'business');
    assert.equal(e.extra?.easypostCode, 'SHIPMENT.POSTAGE.FAILURE');
    assert.equal(sim.stats.labelsPurchased, 0);
  });

  it('refuses a quote reference that is not EasyPost’s', async () => {
    const req = single();
    await rejects(carrier.book({ quote: { ...pick(await carrier.rate(req), 'UPS', 'Ground'), quoteRef: 'ups:123' }, request: req, labelFormat: 'PDF', idempotencyKey: 'x' }), 'easypost.invalid_quote', 'permanent');
  });
});

describe('cancel, track, manifest', () => {
  async function booked(service = 'Priority', id = 'SHP-T') {
    const req = single(id);
    const q = pick(await carrier.rate(req), 'USPS', service);
    return carrier.book({ quote: q, request: req, labelFormat: 'PDF', idempotencyKey: id });
  }

  it('refunds, and a second cancel is an idempotent success', async () => {
    const b = await booked();
    assert.deepEqual(await carrier.cancel(b.bookingRef), { voided: true, carrierStatus: 'submitted' });
    assert.deepEqual(await carrier.cancel(b.bookingRef), { voided: true, carrierStatus: 'submitted' });
    assert.equal(sim.stats.refunds, 1);
    await rejects(carrier.cancel('nope'), 'easypost.invalid_booking', 'permanent');
  });

  it('refuses to refund a parcel already in transit', async () => {
    const b = await booked();
    sim.advance(7 * 3600);
    await rejects(carrier.cancel(b.bookingRef), 'easypost.refund_unavailable', 'business');
  });

  it('tracks a booked parcel through to delivery with UTC scans and the status table', async () => {
    const b = await booked('Priority');
    let [r] = await carrier.track([b.masterTrackingNumber]);
    assert.equal(r!.scans.length, 1);
    assert.equal(r!.scans[0]!.status, 'info_received');
    assert.equal(r!.scans[0]!.code, 'pre_transit:label_created');
    assert.equal(r!.scans[0]!.occurredAt, '2026-11-24T15:00:00.000Z');
    sim.advance(2 * 86400);
    [r] = await carrier.track([b.masterTrackingNumber]);
    assert.deepEqual(r!.scans.map((s) => s.status), ['info_received', 'picked_up', 'in_transit', 'in_transit', 'out_for_delivery', 'delivered']);
    const last = r!.scans.at(-1)!;
    assert.equal(last.timeRule, 'offset');
    assert.equal(last.occurredAt, '2026-11-26T15:00:00.000Z');
    assert.equal(last.signedBy, 'J SMITH');
    assert.deepEqual(last.location, { city: 'REDONDO BEACH', region: 'CA', postalCode: '90277', countryCode: 'US' });
  });

  it('maps a scripted exception and reports a number nobody knows as not found', async () => {
    const b = await booked('GroundAdvantage', 'SHP-X');
    sim.script(b.masterTrackingNumber, [
      { afterSeconds: 3600, status: 'in_transit', status_detail: 'weather_delay', message: 'Delayed by weather' },
      { afterSeconds: 7200, status: 'return_to_sender', status_detail: 'return', message: 'Returned' },
      { afterSeconds: 10800, status: 'in_transit', status_detail: 'brand_new_detail' },
      { afterSeconds: 14400, status: 'teleported', status_detail: 'unknown' },
    ]);
    sim.advance(5 * 3600);
    const [r, unknown] = await carrier.track([b.masterTrackingNumber, '9999NOBODY']);
    const tail = r!.scans.slice(1).map((s) => [s.status, s.exceptionClass]);
    assert.deepEqual(tail, [
      ['delayed', 'weather'],
      ['returned_to_sender', 'return_to_sender'],
      ['in_transit', undefined],
      ['unknown', undefined],
    ]);
    assert.deepEqual(unknown, { trackingNumber: '9999NOBODY', scans: [], notFound: true });
  });

  it('creates a SCAN form once for several bookings and returns the same form again', async () => {
    const b1 = await booked('Priority', 'S1');
    const b2 = await booked('GroundAdvantage', 'S2');
    const m = await carrier.manifest([b1.bookingRef, b2.bookingRef], '2026-11-24');
    assert.match(m.manifestRef, /^sf_/);
    assert.deepEqual(m.bookingRefs, [b1.bookingRef, b2.bookingRef]);
    const pdf = Buffer.from(m.documentBase64!, 'base64');
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    assert.ok(pdf.toString('latin1').includes(b1.masterTrackingNumber));
    const again = await carrier.manifest([b1.bookingRef, b2.bookingRef], '2026-11-24');
    assert.equal(again.manifestRef, m.manifestRef);
    assert.equal(sim.stats.scanForms, 1);
  });
});

describe('failures are classified', () => {
  it('429 is transient with the Retry-After delay when EasyPost sends one', async () => {
    sim.setFaults({ rateLimit: { count: 1, retryAfterSeconds: 7 } });
    const e = await rejects(carrier.rate(single()), 'easypost.rate_limited', 'transient');
    assert.equal(e.retryAfterMs, 7000);
    assert.equal(e.extra?.easypostCode, 'RATE_LIMITED');
    sim.setFaults({ rateLimit: { count: 1 } });
    assert.equal((await rejects(carrier.rate(single()), 'easypost.rate_limited')).retryAfterMs, 2000);
    assert.ok((await carrier.rate(single())).length > 0);
  });

  it('connection refused is transient, and the next call after the outage succeeds', async () => {
    await sim.goDown(60_000);
    await rejects(carrier.rate(single()), 'easypost.unavailable', 'transient');
    await sim.up();
    assert.ok((await carrier.rate(single())).length > 0);
  });

  it('5xx (JSON or a load balancer page) is transient', async () => {
    sim.setFaults({ status5xx: { count: 1 } });
    await rejects(carrier.rate(single()), 'easypost.server_error', 'transient');
    sim.setFaults({ status5xx: { count: 1, status: 503 } });
    await rejects(carrier.track(['EZ1000000001']), 'easypost.server_error', 'transient');
  });

  it('a wrong API key is permanent', async () => {
    const wrong = createEasyPostCarrier({ apiKey: 'EZTK_wrong', baseUrl: sim.url }) as Required<CarrierPort>;
    const e = await rejects(wrong.rate(single()), 'easypost.unauthorized', 'permanent');
    assert.equal(e.extra?.easypostCode, 'APIKEY.INVALID');
  });
});
