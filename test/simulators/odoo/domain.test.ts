import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OdooDatabase } from '../../../simulators/odoo/orm/database.ts';
import { padDatetime, parseDomain } from '../../../simulators/odoo/orm/domain.ts';

const NOW = new Date('2026-11-24T05:26:57Z');
const fresh = (): OdooDatabase => new OdooDatabase({ name: 'logi', version: 18, now: () => NOW });
const ids = (db: OdooDatabase, model: string, domain: unknown[], ctx: Record<string, unknown> = {}): number[] =>
  (db.call(2, model, 'search', [domain], { order: 'id', context: ctx }) as number[]);

test('parse: implicit &, prefix operators, arity errors', () => {
  assert.deepEqual(parseDomain([]), { kind: 'true' });
  assert.equal(parseDomain([['a', '=', 1], ['b', '=', 2]]).kind, 'and');
  assert.equal(parseDomain(['|', ['a', '=', 1], ['b', '=', 2]]).kind, 'or');
  assert.equal(parseDomain(['!', ['a', '=', 1]]).kind, 'not');
  assert.throws(() => parseDomain(['|', ['a', '=', 1]]), /syntactically/);
  assert.throws(() => parseDomain([['a', 'bogus', 1]]), /Invalid leaf/);
});

test('operators on scalar fields and False semantics', () => {
  const db = fresh();
  assert.deepEqual(ids(db, 'res.partner', [['phone', '=', false]]), [44]);
  assert.ok(ids(db, 'res.partner', [['phone', '!=', false]]).includes(10));
  assert.deepEqual(ids(db, 'res.partner', [['name', 'ilike', 'deco']]), [10]);
  assert.deepEqual(ids(db, 'res.partner', [['name', 'like', 'deco']]), []);
  assert.deepEqual(ids(db, 'res.partner', [['name', '=like', 'Deco%']]), [10]);
  assert.deepEqual(ids(db, 'res.partner', [['name', '=ilike', 'deco addict']]), [10]);
  assert.ok(!ids(db, 'res.partner', [['name', 'not ilike', 'deco']]).includes(10));
  assert.deepEqual(ids(db, 'res.partner', [['id', 'in', [10, 15, 999]]]), [10, 15]);
  assert.ok(ids(db, 'res.partner', [['ref', '!=', 'x']]).includes(10), '!= includes unset values');
  assert.deepEqual(ids(db, 'sale.order', [['amount_total', '>', 2000]]).length > 0, true);
  assert.deepEqual(ids(db, 'res.partner', [['id', '=?', false]]).length, ids(db, 'res.partner', []).length);
  assert.deepEqual(ids(db, 'res.partner', [['id', '=?', 10]]), [10]);
});

test('active_test hides archived records unless the domain mentions active', () => {
  const db = fresh();
  assert.ok(!ids(db, 'res.partner', []).includes(2));
  assert.deepEqual(ids(db, 'res.partner', [['active', '=', false]]), [2]);
  assert.ok(ids(db, 'res.partner', [], { active_test: false }).includes(2));
});

test('dotted paths and relational operators', () => {
  const db = fresh();
  const deco = ids(db, 'sale.order', [['partner_id', '=', 10]]);
  assert.deepEqual(ids(db, 'sale.order', [['partner_id.name', '=', 'Deco Addict']]), deco);
  assert.deepEqual(ids(db, 'sale.order', [['partner_id', 'ilike', 'deco']]), deco);
  const withDesk = ids(db, 'sale.order', [['order_line.product_id', '=', 13]]);
  assert.ok(withDesk.length > 0);
  assert.deepEqual(ids(db, 'sale.order', [['order_line.product_id.default_code', '=', 'FURN_0097']]), withDesk);
  const notDesk = ids(db, 'sale.order', [['order_line.product_id', '!=', 13]]);
  assert.equal(notDesk.length + withDesk.length, ids(db, 'sale.order', []).length);
  assert.deepEqual(ids(db, 'stock.picking', [['backorder_id', '!=', false]]), []);
  assert.deepEqual(ids(db, 'stock.location', [['id', 'child_of', 7]]), [7, 8]);
  assert.deepEqual(ids(db, 'stock.location', [['id', 'parent_of', 8]]), [1, 7, 8]);
  assert.deepEqual(ids(db, 'stock.quant', [['location_id', 'child_of', 7], ['product_id', '=', 20]]), [4]);
  assert.throws(() => ids(db, 'sale.order', [['partner_id.no_such', '=', 1]]), /Invalid field res.partner.no_such in leaf \('partner_id.no_such', '=', 1\)/);
});

test('datetimes: microseconds stored, second strings compared as PostgreSQL does', () => {
  assert.equal(padDatetime('2026-11-24 05:12:55'), '2026-11-24 05:12:55.000000');
  assert.equal(padDatetime('2026-11-24'), '2026-11-24 00:00:00.000000');
  const db = fresh();
  const stamp = (db.call(2, 'stock.picking', 'read', [[1], ['write_date']], {}) as { write_date: string }[])[0]!.write_date;
  assert.equal(ids(db, 'stock.picking', [['write_date', '>', stamp], ['id', '=', 1]]).length, 1);
  assert.equal(ids(db, 'stock.picking', [['write_date', '=', stamp]]).length, 0);
  assert.equal(ids(db, 'stock.picking', [['write_date', '<', stamp]]).length, 0);
  assert.equal(ids(db, 'stock.picking', [['write_date', '>=', stamp.slice(0, 10)]]).length, 20);
});

// Properties over random records and random leaves.
const LEAF = fc.oneof(
  fc.tuple(fc.constant('name'), fc.constantFrom('=', '!=', 'ilike', 'not ilike', 'like', '=like', '>', '<='), fc.constantFrom('a', 'b', 'ab', 'A%', '', false)),
  fc.tuple(fc.constant('credit_limit'), fc.constantFrom('=', '!=', '>', '>=', '<', '<='), fc.integer({ min: -3, max: 3 })),
  fc.tuple(fc.constant('ref'), fc.constantFrom('=', '!=', 'in', 'not in'), fc.constantFrom<unknown>(false, 'x', ['x', false], ['y'])),
  fc.tuple(fc.constant('is_company'), fc.constantFrom('=', '!='), fc.boolean()),
  fc.tuple(fc.constant('parent_id'), fc.constantFrom('=', '!=', 'in', 'not in'), fc.constantFrom<unknown>(false, 1, [1, false])),
).map((l) => l as unknown[]);

const RECORDS = fc.array(fc.record({
  name: fc.constantFrom('a', 'b', 'ab', 'A', 'ba'),
  credit_limit: fc.integer({ min: -3, max: 3 }),
  ref: fc.constantFrom<string | false>(false, 'x', 'y'),
  is_company: fc.boolean(),
  parent_id: fc.constantFrom<number | false>(false, 1),
}), { minLength: 1, maxLength: 8 });

function world(records: Record<string, unknown>[]): { db: OdooDatabase; all: number[]; q: (d: unknown[]) => number[] } {
  const db = new OdooDatabase({ name: 'p', version: 18, now: () => NOW, seed: false });
  db.insertRaw('res.partner', { id: 1, name: 'root', active: true });
  const all = [1, ...records.map((r) => db.create('res.partner', r))];
  const q = (d: unknown[]): number[] => db.search('res.partner', d, { order: 'id' });
  return { db, all, q };
}

test('property: ! complements, | unions, & intersections', () => {
  fc.assert(fc.property(RECORDS, LEAF, LEAF, (records, a, b) => {
    const { all, q } = world(records);
    const A = new Set(q([a]));
    const B = new Set(q([b]));
    assert.deepEqual(q(['!', a]), all.filter((id) => !A.has(id)));
    assert.deepEqual(q(['|', a, b]), all.filter((id) => A.has(id) || B.has(id)));
    assert.deepEqual(q(['&', a, b]), all.filter((id) => A.has(id) && B.has(id)));
    assert.deepEqual(q([a, b]), q(['&', a, b]));
    assert.deepEqual(q(['!', '|', a, b]), q(['&', '!', a, '!', b]));
  }), { numRuns: 200 });
});

test('property: negative operators are complements of positive ones', () => {
  const pairs: [string, string][] = [['=', '!='], ['in', 'not in'], ['ilike', 'not ilike'], ['like', 'not like']];
  fc.assert(fc.property(RECORDS, fc.constantFrom(...pairs), fc.constantFrom('a', 'b', 'x'), fc.constantFrom('name', 'ref'), (records, [pos, neg], v, field) => {
    const { all, q } = world(records);
    const value = pos.includes('in') && !pos.includes('like') ? [v] : v;
    const P = new Set(q([[field, pos, value]]));
    assert.deepEqual(q([[field, neg, value]]), all.filter((id) => !P.has(id)));
  }), { numRuns: 200 });
});

test('property: search with offset/limit pages the full ordered result', () => {
  fc.assert(fc.property(RECORDS, fc.nat(10), fc.integer({ min: 1, max: 5 }), (records, offset, limit) => {
    const { db, q } = world(records);
    const full = db.search('res.partner', [], { order: 'name desc, id' });
    assert.deepEqual(db.search('res.partner', [], { order: 'name desc, id', offset, limit }), full.slice(offset, offset + limit));
    assert.equal(q([]).length, full.length);
  }), { numRuns: 100 });
});
