/**
 * Properties and tables of the EasyPost mappers: units, money, quote references, service
 * levels, the status table and datetimes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SERVICE_LEVELS } from '../../../src/connectors/carrier-port.ts';
import {
  STATUS_TABLE,
  billablePounds,
  decodeQuoteRef,
  encodeQuoteRef,
  mapStatus,
  normaliseAmount,
  parseEasyPostDateTime,
  rateToQuote,
  serviceLevelOf,
  sumAmounts,
  toEasyPostAddress,
  toEasyPostParcel,
  toOunces,
  trackerToScans,
  type QuoteRef,
} from '../../../src/connectors/easypost/mappers.ts';
import { EXCEPTION_CLASSES, TRACKING_STATUSES } from '../../../src/domain/model.ts';

const weight = fc.record({ value: fc.double({ min: 0.001, max: 2000, noNaN: true }), unit: fc.constantFrom('kg' as const, 'g' as const, 'lb' as const, 'oz' as const) });

describe('units', () => {
  it('never lets a parcel weigh less in ounces than it does (rounded up to 0.1 oz)', () => {
    const perOz = { oz: 1, lb: 16, kg: 35.27396195, g: 0.03527396195 };
    fc.assert(
      fc.property(weight, (w) => {
        const oz = toOunces(w);
        const exact = w.value * perOz[w.unit];
        assert.ok(oz >= exact - 1e-6 && oz - exact < 0.1 + 1e-6, `${oz} for ${exact}`);
        assert.equal(Math.round(oz * 10), oz * 10);
      }),
    );
  });

  it('bills the larger of actual and dimensional weight, in whole pounds, at least one', () => {
    fc.assert(
      fc.property(weight, fc.option(fc.tuple(fc.double({ min: 1, max: 200, noNaN: true }), fc.double({ min: 1, max: 200, noNaN: true }), fc.double({ min: 1, max: 200, noNaN: true }))), (w, d) => {
        const p = { packageId: 'p', weight: w, ...(d ? { dimensions: { length: d[0], width: d[1], height: d[2], unit: 'cm' as const } } : {}) };
        const lb = billablePounds(p);
        const parcel = toEasyPostParcel(p);
        assert.ok(Number.isInteger(lb) && lb >= 1);
        assert.ok(lb >= parcel.weight / 16 - 1e-9);
        if (parcel.length) assert.ok(lb >= (parcel.length * parcel.width! * parcel.height!) / 139 - 1e-9);
        assert.ok(lb - 1 < Math.max(1, parcel.weight / 16, parcel.length ? (parcel.length * parcel.width! * parcel.height!) / 139 : 0));
      }),
    );
  });

  it('maps an address line by line', () => {
    assert.deepEqual(toEasyPostAddress({ lines: ['1 Main St', 'Floor 2', 'Door B'], city: 'Reno', region: 'NV', postalCode: '89501', countryCode: 'US' }), {
      street1: '1 Main St',
      street2: 'Floor 2, Door B',
      city: 'Reno',
      state: 'NV',
      zip: '89501',
      country: 'US',
    });
  });
});

describe('money', () => {
  it('normalises EasyPost amounts to the hub decimal form and sums them exactly', () => {
    assert.equal(normaliseAmount('7.5'), '7.50');
    assert.equal(normaliseAmount('007.520000'), '7.52');
    assert.equal(normaliseAmount('12'), '12.00');
    assert.equal(normaliseAmount('1e3'), undefined);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 20 }), (cents) => {
        const s = sumAmounts(cents.map((c) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`));
        const total = cents.reduce((a, b) => a + b, 0);
        assert.equal(s, `${Math.floor(total / 100)}.${String(total % 100).padStart(2, '0')}`);
      }),
    );
  });
});

describe('quote references', () => {
  const hex = fc.stringMatching(/^[0-9a-f]{32}$/);
  const word = fc.stringMatching(/^[A-Za-z0-9_]{1,20}$/);
  const ref: fc.Arbitrary<QuoteRef> = fc.oneof(
    fc.record({ kind: fc.constant('shipment' as const), shipmentId: hex.map((h) => `shp_${h}`), rateId: hex.map((h) => `rate_${h}`) }),
    fc.record({ kind: fc.constant('order' as const), orderId: hex.map((h) => `order_${h}`), carrier: word, service: word }),
  );
  it('round-trip, and anything else decodes to undefined', () => {
    fc.assert(fc.property(ref, (r) => assert.deepEqual(decodeQuoteRef(encodeQuoteRef(r)), { ...r })));
    fc.assert(fc.property(fc.string(), (s) => {
      const d = decodeQuoteRef(s);
      if (d) assert.equal(encodeQuoteRef(d), s);
    }));
  });
});

describe('service levels and quotes', () => {
  it('always gives a canonical level; the table wins, then overrides, then transit days', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.option(fc.integer({ min: -1, max: 30 })), (c, s, d) => {
        assert.ok((SERVICE_LEVELS as readonly string[]).includes(serviceLevelOf(c, s, d)));
      }),
    );
    assert.equal(serviceLevelOf('USPS', 'Express', 5), 'next_day');
    assert.equal(serviceLevelOf('USPS', 'Express', 5, { 'USPS:Express': 'two_day' }), 'two_day');
    assert.equal(serviceLevelOf('Acme', 'Fast', 1), 'next_day');
    assert.equal(serviceLevelOf('Acme', 'Slow', 9), 'economy');
  });

  it('turns a Rate into a quote, refusing amounts that are not decimals', () => {
    const rate = { id: 'rate_1', carrier: 'UPS', service: 'Ground', rate: '9.8', currency: 'USD', delivery_days: 4, delivery_date: '2026-11-30T00:00:00Z' };
    assert.deepEqual(rateToQuote(rate, 'shipment:shp_1:rate_1', { value: 3, unit: 'lb' }), {
      carrier: 'easypost',
      carrierAccount: 'UPS',
      service: 'Ground',
      serviceLevel: 'ground',
      price: { amount: '9.80', currency: 'USD' },
      billableWeight: { value: 3, unit: 'lb' },
      quoteRef: 'shipment:shp_1:rate_1',
      estimatedDeliveryDate: '2026-11-30',
      transitDays: 4,
    });
    assert.equal(rateToQuote({ ...rate, rate: 'free' }, 'r', { value: 1, unit: 'lb' }), undefined);
  });
});

describe('tracking', () => {
  it('the status table only yields canonical statuses and exception classes', () => {
    for (const r of STATUS_TABLE) {
      assert.ok((TRACKING_STATUSES as readonly string[]).includes(r.canonical), r.canonical);
      if (r.exceptionClass) assert.ok(r.exceptionClass in EXCEPTION_CLASSES, r.exceptionClass);
    }
    for (const s of ['unknown', 'pre_transit', 'in_transit', 'out_for_delivery', 'delivered', 'available_for_pickup', 'return_to_sender', 'failure', 'cancelled', 'error']) {
      assert.ok(STATUS_TABLE.some((r) => r.status === s && r.detail === '*'), `no fallback row for ${s}`);
    }
    fc.assert(fc.property(fc.string(), fc.option(fc.string()), (s, d) => {
      const m = mapStatus(s, d);
      assert.ok((TRACKING_STATUSES as readonly string[]).includes(m.status));
    }));
    assert.deepEqual(mapStatus('failure', 'refused'), { status: 'delivery_failed', exceptionClass: 'refused' });
    assert.deepEqual(mapStatus('in_transit', 'never_seen_before'), { status: 'in_transit' });
    assert.deepEqual(mapStatus('beamed_up', 'x'), { status: 'unknown' });
  });

  it('datetimes: Z and offsets are exact, a bare time is UTC, garbage is refused', () => {
    assert.deepEqual(parseEasyPostDateTime('2026-11-24T11:43:06Z'), { occurredAt: '2026-11-24T11:43:06.000Z', timeRule: 'offset' });
    assert.deepEqual(parseEasyPostDateTime('2026-11-24T11:43:06+01:00'), { occurredAt: '2026-11-24T10:43:06.000Z', timeRule: 'offset', localTime: '2026-11-24T11:43:06' });
    assert.deepEqual(parseEasyPostDateTime('2026-11-24T11:43:06'), { occurredAt: '2026-11-24T11:43:06.000Z', timeRule: 'utc' });
    for (const bad of ['', '2026-02-30T00:00:00Z', 'yesterday', '2026-11-24 11:43:06Z']) assert.equal(parseEasyPostDateTime(bad), undefined, bad);
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }), (d) => {
        const s = d.toISOString().replace(/\.\d{3}Z$/, 'Z');
        assert.equal(parseEasyPostDateTime(s)!.occurredAt, new Date(s).toISOString());
      }),
    );
  });

  it('every tracking detail becomes one scan, in order', () => {
    const detail = fc.record({
      datetime: fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')),
      status: fc.constantFrom('pre_transit', 'in_transit', 'delivered', 'failure', 'weird'),
      status_detail: fc.option(fc.constantFrom('label_created', 'weather_delay', 'lost', 'x')),
      message: fc.option(fc.string()),
    });
    fc.assert(
      fc.property(fc.array(detail, { maxLength: 12 }), (details) => {
        const scans = trackerToScans({ object: 'Tracker', id: 'trk_1', tracking_code: 'T1', status: 'in_transit', tracking_details: details });
        assert.equal(scans.length, details.length);
        scans.forEach((s, i) => {
          assert.equal(s.occurredAt, new Date(details[i]!.datetime).toISOString());
          assert.ok(s.code.startsWith(details[i]!.status));
          assert.equal(s.trackingNumber, 'T1');
        });
      }),
    );
  });
});
