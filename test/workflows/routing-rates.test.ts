/**
 * Routing over warehouses and rate shopping, as pure functions: examples for each rule and
 * fast-check properties of their invariants.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { routeOrder, type RouteLine, type WarehouseSite } from '../../src/workflows/order-to-delivery/routing.ts';
import { billableKg, chooseQuotes } from '../../src/workflows/order-to-delivery/rate-shopping.ts';
import { SERVICE_LEVELS, type RateQuote } from '../../src/connectors/carrier-port.ts';

const sites: WarehouseSite[] = [
  { id: 'loc-east', priority: 1, countries: ['US'] },
  { id: 'loc-west', priority: 2, countries: ['US', 'CA'] },
  { id: 'loc-eu', priority: 1, countries: ['BE', 'NL', 'DE'] },
];
const line = (lineId: string, sku: string, quantity: number): RouteLine => ({ lineId, sku, quantity });

describe('routing', () => {
  it('one warehouse holding everything ships everything; the region decides before stock elsewhere', () => {
    const r = routeOrder([line('1', 'A', 2), line('2', 'B', 1)], 'US', sites, { 'loc-east': { A: 5, B: 5 }, 'loc-west': { A: 9, B: 9 }, 'loc-eu': { A: 99, B: 99 } });
    assert.deepEqual(r.parts, [{ warehouseId: 'loc-east', lines: [line('1', 'A', 2), line('2', 'B', 1)] }]);
    assert.deepEqual(r.shortfall, []);
    const ca = routeOrder([line('1', 'A', 2)], 'CA', sites, { 'loc-east': { A: 5 }, 'loc-west': { A: 5 } });
    assert.equal(ca.parts[0]!.warehouseId, 'loc-west', 'only west serves Canada');
  });

  it('splits when no single warehouse holds it all, whole lines first', () => {
    const r = routeOrder([line('1', 'A', 2), line('2', 'B', 3)], 'US', sites, { 'loc-east': { A: 2, B: 0 }, 'loc-west': { A: 0, B: 3 } });
    assert.deepEqual(r.parts, [{ warehouseId: 'loc-west', lines: [line('2', 'B', 3)] }, { warehouseId: 'loc-east', lines: [line('1', 'A', 2)] }].sort((a, b) => (a.warehouseId < b.warehouseId ? -1 : 1)));
    assert.match(r.reason, /split over/);
  });

  it('spreads a line no warehouse holds whole, and sends what nobody has to the first warehouse', () => {
    const r = routeOrder([line('1', 'A', 10)], 'US', sites, { 'loc-east': { A: 4 }, 'loc-west': { A: 3 } });
    const q = Object.fromEntries(r.parts.map((p) => [p.warehouseId, p.lines[0]!.quantity]));
    assert.deepEqual(q, { 'loc-east': 7, 'loc-west': 3 });
    assert.deepEqual(r.shortfall, [line('1', 'A', 3)]);
  });

  it('properties: quantities add up, no warehouse twice, no zero parts, stock respected but for the shortfall', () => {
    const sku = fc.constantFrom('A', 'B', 'C', 'D');
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ sku, quantity: fc.integer({ min: 1, max: 20 }) }), { minLength: 1, maxLength: 4, selector: (l) => l.sku }),
        fc.array(fc.record({ priority: fc.integer({ min: 1, max: 3 }), countries: fc.option(fc.subarray(['US', 'CA', 'BE']), { nil: undefined }), stock: fc.dictionary(sku, fc.integer({ min: 0, max: 25 })) }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('US', 'CA', 'BE', 'JP'),
        (ls, ws, country) => {
          const lines = ls.map((l, i) => line(String(i + 1), l.sku, l.quantity));
          const whs = ws.map((w, i) => ({ id: `loc-${i}`, priority: w.priority, ...(w.countries ? { countries: w.countries } : {}) }));
          const stock = Object.fromEntries(ws.map((w, i) => [`loc-${i}`, w.stock]));
          const r = routeOrder(lines, country, whs, stock);
          for (const l of lines) {
            const total = r.parts.flatMap((p) => p.lines).filter((x) => x.lineId === l.lineId).reduce((n, x) => n + x.quantity, 0);
            assert.equal(Math.round(total * 1e6) / 1e6, l.quantity);
          }
          assert.equal(new Set(r.parts.map((p) => p.warehouseId)).size, r.parts.length);
          for (const p of r.parts) for (const x of p.lines) assert.ok(x.quantity > 0);
          const short = new Map(r.shortfall.map((s) => [s.sku, s.quantity]));
          for (const p of r.parts) {
            for (const x of p.lines) {
              const over = x.quantity - (stock[p.warehouseId]?.[x.sku] ?? 0);
              if (over > 0) assert.ok((short.get(x.sku) ?? 0) >= over - 1e-9, `${p.warehouseId} ships ${x.quantity} ${x.sku} beyond its stock only as shortfall`);
            }
          }
          const catchAll = whs.every((w) => !w.countries?.length);
          const oneHoldsAll = whs.some((w) => lines.every((l) => (stock[w.id]?.[l.sku] ?? 0) >= l.quantity));
          if (catchAll && oneHoldsAll) assert.equal(r.parts.length, 1, 'one warehouse holding everything: no split');
        },
      ),
    );
  });
});

const quote = (carrierAccount: string, service: string, amount: string, level: RateQuote['serviceLevel'], date?: string): RateQuote => ({
  carrier: 'easypost', carrierAccount, service, serviceLevel: level, price: { amount, currency: 'USD' }, quoteRef: `${carrierAccount}-${service}`,
  ...(date ? { estimatedDeliveryDate: date } : {}),
});
const quotes = [
  quote('USPS', 'GroundAdvantage', '8.10', 'ground', '2026-11-30'),
  quote('UPS', 'Ground', '9.40', 'ground', '2026-11-28'),
  quote('FedEx', 'FEDEX_2_DAY', '21.00', 'two_day', '2026-11-26'),
  quote('UPS', 'NextDayAir', '38.00', 'next_day', '2026-11-25'),
];

describe('rate shopping', () => {
  it('the cheapest eligible quote first, the others as fallbacks', () => {
    const c = chooseQuotes(quotes, [{ weightKg: 2 }]);
    assert.deepEqual(c.ranked.map((q) => q.quoteRef), ['USPS-GroundAdvantage', 'UPS-Ground', 'FedEx-FEDEX_2_DAY', 'UPS-NextDayAir']);
  });

  it('service level, promised date, allow/deny lists, open circuits and weight limits exclude, with a reason', () => {
    const c = chooseQuotes(quotes, [{ weightKg: 2 }], { serviceLevel: 'two_day', deliverBy: '2026-11-26', deny: ['UPS'] });
    assert.deepEqual(c.ranked.map((q) => q.quoteRef), ['FedEx-FEDEX_2_DAY']);
    assert.deepEqual(c.rejected.map((r) => r.reason).sort(), [
      'UPS is on the customer\'s deny list', 'UPS is on the customer\'s deny list', 'ground is slower than the two_day the order asks for',
    ].sort());
    const open = chooseQuotes(quotes, [{ weightKg: 2 }], { unavailable: ['USPS'], allow: ['USPS', 'UPS'] });
    assert.deepEqual(open.ranked.map((q) => q.quoteRef), ['UPS-Ground', 'UPS-NextDayAir']);
    const heavy = chooseQuotes(quotes, [{ weightKg: 5, lengthCm: 60, widthCm: 60, heightCm: 60 }], { maxParcelKg: { USPS: 31 } });
    assert.equal(billableKg({ weightKg: 5, lengthCm: 60, widthCm: 60, heightCm: 60 }), 43.2, 'dimensional weight beats the actual one');
    assert.ok(heavy.rejected.some((r) => /43.2 kg is over USPS's 31 kg/.test(r.reason)));
  });

  it('when nothing meets the date, the fastest first and the choice says it is late', () => {
    const c = chooseQuotes(quotes, [{ weightKg: 1 }], { deliverBy: '2026-11-20' });
    assert.equal(c.late, true);
    assert.equal(c.ranked[0]!.quoteRef, 'UPS-NextDayAir');
  });

  it('properties: a total order (same choice whatever the input order); nothing eligible is lost', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({
          acct: fc.constantFrom('USPS', 'UPS', 'FedEx', 'DHL'), svc: fc.constantFrom('S1', 'S2', 'S3'), cents: fc.integer({ min: 100, max: 9999 }),
          level: fc.constantFrom(...SERVICE_LEVELS), day: fc.integer({ min: 21, max: 30 }),
        }), { minLength: 1, maxLength: 10, selector: (q) => `${q.acct}/${q.svc}` }),
        fc.option(fc.constantFrom(...SERVICE_LEVELS), { nil: undefined }),
        (qs, level) => {
          const list = qs.map((q) => quote(q.acct, q.svc, (q.cents / 100).toFixed(2), q.level, `2026-11-${q.day}`));
          const a = chooseQuotes(list, [{ weightKg: 1 }], level ? { serviceLevel: level } : {});
          const b = chooseQuotes([...list].reverse(), [{ weightKg: 1 }], level ? { serviceLevel: level } : {});
          assert.deepEqual(a.ranked.map((q) => q.quoteRef), b.ranked.map((q) => q.quoteRef));
          assert.equal(a.ranked.length + a.rejected.length, list.length);
          for (let i = 1; i < a.ranked.length; i++) assert.ok(Number(a.ranked[i - 1]!.price.amount) <= Number(a.ranked[i]!.price.amount));
        },
      ),
    );
  });
});
