import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OdooDatabase, PyFloat } from '../../../simulators/odoo/orm/database.ts';
import { OdooException } from '../../../simulators/odoo/orm/errors.ts';
import { ADMIN_API_KEY } from '../../../simulators/odoo/orm/seed.ts';

const NOW = new Date('2026-11-24T05:26:57Z');
const fresh = (): OdooDatabase => new OdooDatabase({ name: 'logi', version: 18, now: () => NOW });
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

function raises(fn: () => unknown, pyClass: string, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof OdooException);
    assert.equal(e.pyClass, pyClass);
    assert.equal(e.message, message);
    assert.deepEqual(e.arguments, [message]);
    return true;
  });
}

test('authenticate: password, API key, wrong secret', () => {
  const db = fresh();
  assert.equal(db.authenticate('admin', 'admin'), 2);
  assert.equal(db.authenticate('admin', ADMIN_API_KEY), 2);
  assert.equal(db.authenticate('admin', 'wrong-password'), false);
  raises(() => db.checkCredentials(2, 'nope'), 'odoo.exceptions.AccessDenied', 'Access Denied');
});

test('errors worded as Odoo 18 words them', () => {
  const db = fresh();
  raises(() => db.call(2, 'no.such.model', 'search', [[]], {}), 'odoo.exceptions.UserError', "Object no.such.model doesn't exist");
  raises(() => db.call(2, 'sale.order', 'no_such_method', [[1]], {}), 'AttributeError', "The method 'sale.order.no_such_method' does not exist");
  raises(() => db.call(2, 'sale.order', '_create_invoices', [[1]], {}), 'odoo.exceptions.AccessError', "Private methods (such as 'sale.order._create_invoices') cannot be called remotely.");
  raises(() => db.call(2, 'sale.order', 'write', [[99999999], { note: 'x' }], {}), 'odoo.exceptions.MissingError', 'Record does not exist or has been deleted.\n(Record: sale.order(99999999,), User: 2)');
  raises(() => db.call(2, 'sale.order', 'search_read', [[]], { fields: ['name', 'no_such_field'], limit: 1 }), 'ValueError', "Invalid field 'no_such_field' on model 'sale.order'");
  raises(() => db.call(2, 'sale.order', 'search', [[['no_such_field', '=', 1]]], {}), 'ValueError', "Invalid field sale.order.no_such_field in leaf ('no_such_field', '=', 1)");
  raises(() => db.call(2, 'sale.order', 'write', [[1], { state: 'bogus' }], {}), 'ValueError', "Wrong value for sale.order.state: 'bogus'");
  raises(() => db.call(2, 'res.partner', 'search_read', [[['id', '=', 10]]], { fields: ['name'], context: { lang: 'fr_FR' } }), 'odoo.exceptions.UserError', 'Invalid language code: fr_FR');
  raises(() => db.call(2, 'sale.order', 'create', [{ client_order_ref: 'TX-NO-PARTNER' }], {}), 'odoo.exceptions.ValidationError',
    'The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n- Delete: another model requires the record being deleted. If possible, archive it instead.\n\nModel: Sales Order (sale.order)\nField: Customer (partner_id)\n');
});

test('a failed create rolls back but still consumes the id and name sequences', () => {
  const db = fresh();
  const before = db.call(2, 'ir.sequence', 'search_read', [[['code', '=', 'sale.order']]], { fields: ['number_next_actual'] }) as { number_next_actual: number }[];
  const n0 = before[0]!.number_next_actual;
  const count0 = db.call(2, 'sale.order', 'search_count', [[]], {});
  assert.throws(() => db.call(2, 'sale.order', 'create', [{ client_order_ref: 'x' }], {}));
  assert.throws(() => db.call(2, 'sale.order', 'create', [{ client_order_ref: 'y' }], {}));
  assert.equal(db.call(2, 'sale.order', 'search_count', [[]], {}), count0);
  const id = db.call(2, 'sale.order', 'create', [{ partner_id: 10 }], {}) as number;
  const [row] = db.call(2, 'sale.order', 'read', [[id], ['name']], {}) as { name: string }[];
  assert.equal(row!.name, `S${String(n0 + 2).padStart(5, '0')}`);
  const after = db.call(2, 'ir.sequence', 'search_read', [[['code', '=', 'sale.order']]], { fields: ['number_next_actual'] }) as { number_next_actual: number }[];
  assert.equal(after[0]!.number_next_actual, n0 + 3);
});

test('read: missing ids left out, id order kept, many2one pairs, load null', () => {
  const db = fresh();
  assert.deepEqual(db.call(2, 'sale.order', 'read', [[99999999]], { fields: ['name'] }), []);
  assert.deepEqual(db.call(2, 'sale.order', 'read', [[1, 99999999]], { fields: ['name'] }), [{ id: 1, name: 'S00001' }]);
  assert.deepEqual((db.call(2, 'sale.order', 'read', [[3, 1]], { fields: ['name'] }) as { id: number }[]).map((r) => r.id), [3, 1]);
  const [r] = db.call(2, 'sale.order', 'read', [[1]], { fields: ['partner_id', 'amount_total', 'client_order_ref', 'order_line'] }) as Record<string, unknown>[];
  assert.deepEqual(r!['partner_id'], [10, 'Deco Addict']);
  assert.ok(r!['amount_total'] instanceof PyFloat);
  assert.equal(r!['client_order_ref'], false);
  assert.deepEqual(r!['order_line'], [1]);
  const [bare] = db.call(2, 'sale.order', 'search_read', [[['id', '=', 1]]], { fields: ['partner_id'], load: null }) as Record<string, unknown>[];
  assert.equal(bare!['partner_id'], 10);
  const all = (db.call(2, 'res.partner', 'read', [[10]], {}) as Record<string, unknown>[])[0]!;
  assert.equal(all['phone'], '(603)-996-3829');
  assert.equal(all['display_name'], 'Deco Addict');
});

test('search: offset, limit, order, search_count', () => {
  const db = fresh();
  assert.deepEqual(db.call(2, 'sale.order', 'search', [[]], { offset: 5, limit: 5, order: 'id asc' }), [6, 7, 8, 9, 10]);
  assert.deepEqual(db.call(2, 'sale.order', 'search', [[], 5, 5, 'id asc'], {}), [6, 7, 8, 9, 10]);
  const byDate = db.call(2, 'sale.order', 'search', [[]], { limit: 2 }) as number[];
  assert.deepEqual(byDate, [20, 19]);
  assert.deepEqual(db.call(2, 'sale.order', 'search_read', [[['id', '=', -1]]], { fields: ['name'] }), []);
  assert.equal(db.call(2, 'stock.picking', 'search_count', [[['state', '=', 'done'], ['picking_type_code', '=', 'outgoing']]], {}), 2);
});

test('transcript 03: second-truncated write_date cursors', () => {
  const db = fresh();
  const page = (domain: unknown[], extra: Record<string, unknown> = {}): { id: number; write_date: string }[] =>
    db.call(2, 'stock.picking', 'search_read', [domain], { fields: ['name', 'write_date'], order: 'write_date asc, id asc', limit: 10, ...extra }) as { id: number; write_date: string }[];
  const first = page([['write_date', '>', '2026-11-24 04:26:57']]);
  assert.deepEqual(first.map((r) => r.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const last = first.at(-1)!.write_date;
  assert.match(last, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  // Naive cursor: the same page again.
  assert.deepEqual(page([['write_date', '>', last]]).map((r) => r.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(db.call(2, 'stock.picking', 'search_count', [[['write_date', '=', last]]], {}), 0);
  const seen = first.map((r) => r.id);
  assert.deepEqual(page([['write_date', '>=', last], ['id', 'not in', seen]]).map((r) => r.id), [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
  assert.deepEqual(page([['write_date', '>', '2026-11-24 04:26:57']], { offset: 10 }).map((r) => r.id), [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
  // A working cursor terminates.
  const all = new Set<number>();
  let cursor = '2026-11-24 04:26:57';
  let atCursor: number[] = [];
  for (let i = 0; i < 20; i++) {
    const rows = page([['write_date', '>=', cursor], ['id', 'not in', atCursor]]);
    if (!rows.length) break;
    for (const r of rows) {
      all.add(r.id);
      if (r.write_date !== cursor) { cursor = r.write_date; atCursor = []; }
      atCursor.push(r.id);
    }
  }
  assert.equal(all.size, db.call(2, 'stock.picking', 'search_count', [[]], {}));
});

test('one call shares one write_date; returned truncated to seconds', () => {
  const db = fresh();
  db.call(2, 'res.partner', 'write', [[10, 15], { comment: 'x' }], {});
  const a = db.row('res.partner', 10)!['write_date'] as string;
  assert.equal(a, db.row('res.partner', 15)!['write_date']);
  assert.match(a, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
  const [r] = db.call(2, 'res.partner', 'read', [[10], ['write_date']], {}) as { write_date: string }[];
  assert.equal(r!.write_date, a.slice(0, 19));
});

test('transcript 04: create dict/list, write, unlink', () => {
  const db = fresh();
  const one = db.call(2, 'res.partner', 'create', [{ name: 'single', ref: 'r1', email: 'single@example.com' }], {});
  assert.equal(one, 74);
  assert.deepEqual(db.call(2, 'res.partner', 'create', [[{ name: 'A', ref: 'r2' }, { name: 'B', ref: 'r3' }]], {}), [75, 76]);
  assert.equal(db.call(2, 'res.partner', 'write', [[75, 76], { phone: '+1 555 0100' }], {}), true);
  assert.equal(db.call(2, 'res.partner', 'unlink', [[76]], {}), true);
  assert.deepEqual(plain(db.call(2, 'res.partner', 'search_read', [[['id', 'in', [74, 75, 76]]]], { fields: ['name', 'ref', 'phone'], order: 'id desc' })),
    [{ id: 75, name: 'A', ref: 'r2', phone: '+1 555 0100' }, { id: 74, name: 'single', ref: 'r1', phone: false }]);
  assert.deepEqual(db.call(2, 'res.partner', 'read', [[76], ['name']], {}), []);
  assert.throws(() => db.call(2, 'res.partner', 'unlink', [[76]], {}), /Record does not exist/);
});

test('x2many commands', () => {
  const db = fresh();
  const so = db.call(2, 'sale.order', 'create', [{ partner_id: 10, order_line: [[0, 0, { product_id: 13, product_uom_qty: 2 }], [0, 0, { product_id: 20 }]] }], {}) as number;
  const lines = () => (db.call(2, 'sale.order', 'read', [[so], ['order_line', 'amount_total']], {}) as { order_line: number[]; amount_total: PyFloat }[])[0]!;
  const [l1, l2] = lines().order_line as [number, number];
  assert.equal(lines().amount_total.value, 1547);
  db.call(2, 'sale.order', 'write', [[so], { order_line: [[1, l1, { product_uom_qty: 3 }]] }], {});
  assert.equal(lines().amount_total.value, 2297);
  db.call(2, 'sale.order', 'write', [[so], { order_line: [[2, l2]] }], {});
  assert.deepEqual(lines().order_line, [l1]);
  db.call(2, 'sale.order', 'write', [[so], { order_line: [[5]] }], {});
  assert.deepEqual(lines().order_line, []);
  const w = db.call(2, 'stock.backorder.confirmation', 'create', [{ pick_ids: [[4, 5], [4, 6]] }], {}) as number;
  db.call(2, 'stock.backorder.confirmation', 'write', [[w], { pick_ids: [[3, 5]] }], {});
  assert.deepEqual((db.call(2, 'stock.backorder.confirmation', 'read', [[w], ['pick_ids']], {}) as { pick_ids: number[] }[])[0]!.pick_ids, [6]);
  db.call(2, 'stock.backorder.confirmation', 'write', [[w], { pick_ids: [[6, 0, [1, 2]]] }], {});
  assert.deepEqual((db.call(2, 'stock.backorder.confirmation', 'read', [[w], ['pick_ids']], {}) as { pick_ids: number[] }[])[0]!.pick_ids, [1, 2]);
});

test('purchase line price from supplierinfo (13.0 x 5 = 65.0)', () => {
  const db = fresh();
  const po = db.call(2, 'purchase.order', 'create', [{ partner_id: 9, order_line: [[0, 0, { product_id: 18, product_qty: 5 }]] }], {}) as number;
  const [r] = db.call(2, 'purchase.order', 'read', [[po], ['name', 'amount_total', 'state']], {}) as { name: string; amount_total: PyFloat; state: string }[];
  assert.equal(r!.amount_total.value, 65);
  assert.equal(r!.state, 'draft');
  assert.match(r!.name, /^P\d{5}$/);
});

test('fields_get leaves out attributes that do not apply', () => {
  const db = fresh();
  const r = db.call(2, 'sale.order', 'fields_get', [['state', 'partner_id', 'order_line']], { attributes: ['type', 'string', 'selection', 'relation', 'required', 'readonly'] }) as Record<string, Record<string, unknown>>;
  assert.deepEqual(r['partner_id'], { readonly: false, relation: 'res.partner', required: true, string: 'Customer', type: 'many2one' });
  assert.equal('relation' in r['state']!, false);
  assert.equal('selection' in r['order_line']!, false);
});

test('read_group sums and counts; name_search; registered methods', () => {
  const db = fresh();
  const groups = plain(db.call(2, 'sale.order', 'read_group', [[['partner_id', '=', 10]], ['amount_total:sum'], ['partner_id']], { lazy: false })) as Record<string, unknown>[];
  assert.equal(groups.length, 1);
  assert.deepEqual(groups[0]!['partner_id'], [10, 'Deco Addict']);
  assert.equal(groups[0]!['__count'], 5);
  assert.deepEqual(db.call(2, 'res.partner', 'name_search', ['deco'], {}), [[10, 'Deco Addict']]);
  db.registerMethod('sale.order', 'action_confirm', (d, _uid, ids) => {
    for (const id of ids) d.write('sale.order', [id], { state: 'sale' });
    return true;
  });
  assert.equal(db.call(2, 'sale.order', 'action_confirm', [[4]], {}), true);
  assert.equal((db.call(2, 'sale.order', 'read', [[4], ['state']], {}) as { state: string }[])[0]!.state, 'sale');
});

test('property: create/read round trip of res.partner values', () => {
  fc.assert(fc.property(
    fc.record({ name: fc.string({ minLength: 1, maxLength: 20 }), ref: fc.option(fc.string({ minLength: 1 }), { nil: false }), is_company: fc.boolean(), credit_limit: fc.double({ min: -1e6, max: 1e6, noNaN: true }) }),
    (vals) => {
      const db = new OdooDatabase({ name: 'x', version: 18, now: () => NOW });
      const id = db.call(2, 'res.partner', 'create', [vals], {}) as number;
      const [r] = db.call(2, 'res.partner', 'read', [[id], ['name', 'ref', 'is_company', 'credit_limit']], {}) as Record<string, unknown>[];
      assert.equal(r!['name'], vals.name);
      assert.equal(r!['ref'], vals.ref);
      assert.equal(r!['is_company'], vals.is_company);
      assert.equal((r!['credit_limit'] as PyFloat).value, vals.credit_limit);
    },
  ), { numRuns: 50 });
});
