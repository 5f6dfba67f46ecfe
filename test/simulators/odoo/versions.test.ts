/**
 * Odoo 17, 18 and 19 as a client meets them: the product type of 17 (`product` = storable, no
 * `is_storable`), the partner without `mobile` and the purchase order without the `done` state
 * in 19, the lock methods of each, and the same delivery flow working on all three.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OdooDatabase, OdooException, type OdooVersion } from '../../../simulators/odoo/orm/database.ts';

type Rec = Record<string, unknown>;

function fresh(version: OdooVersion): OdooDatabase {
  return new OdooDatabase({ name: 'logi', version, now: () => new Date('2026-11-24T05:26:53Z') });
}

function fieldsGet(db: OdooDatabase, model: string): Record<string, { type: string; selection?: [string, string][] }> {
  return db.call(2, model, 'fields_get', [], { attributes: ['type', 'selection'] }) as Record<string, { type: string; selection?: [string, string][] }>;
}

function invalidField(fn: () => unknown, model: string, field: string): void {
  assert.throws(fn, (e: unknown) => e instanceof OdooException && e.qualifiedName === 'builtins.ValueError' && e.message === `Invalid field '${field}' on model '${model}'`);
}

test('product type: 17 has consu/service/product and detailed_type, 18 and 19 consu/service/combo and is_storable', () => {
  const f17 = fieldsGet(fresh(17), 'product.product');
  assert.deepEqual(f17['type']!.selection!.map(([v]) => v), ['consu', 'service', 'product']);
  assert.equal(f17['detailed_type']!.type, 'selection');
  assert.equal(f17['is_storable'], undefined);
  for (const v of [18, 19] as const) {
    const f = fieldsGet(fresh(v), 'product.product');
    assert.deepEqual(f['type']!.selection!.map(([x]) => x), ['consu', 'service', 'combo'], `Odoo ${v}`);
    assert.equal(f['is_storable']!.type, 'boolean');
    assert.equal(f['detailed_type'], undefined);
  }
  const db17 = fresh(17);
  invalidField(() => db17.call(2, 'product.product', 'read', [[13], ['is_storable']], {}), 'product.product', 'is_storable');
  assert.deepEqual(db17.call(2, 'product.product', 'read', [[13, 51], ['type']], {}), [{ id: 13, type: 'product' }, { id: 51, type: 'service' }]);
  const db18 = fresh(18);
  assert.deepEqual(db18.call(2, 'product.product', 'search', [[['type', '=', 'product']]], {}), [], "18 knows no 'product' type: the old domain finds nothing");
  assert.deepEqual(db18.call(2, 'product.product', 'read', [[13], ['type', 'is_storable']], {}), [{ id: 13, type: 'consu', is_storable: true }]);
});

test('19: res.partner has no mobile; purchase.order has no done state but a locked boolean', () => {
  const db19 = fresh(19);
  invalidField(() => db19.call(2, 'res.partner', 'read', [[10], ['name', 'mobile']], {}), 'res.partner', 'mobile');
  assert.throws(() => db19.call(2, 'res.partner', 'search', [[['mobile', '!=', false]]], {}), (e: unknown) => e instanceof OdooException && e.message === "Invalid field res.partner.mobile in leaf ('mobile', '!=', False)");
  assert.equal(fieldsGet(db19, 'res.partner')['mobile'], undefined);
  assert.equal(fieldsGet(fresh(18), 'res.partner')['mobile']!.type, 'char');
  const states19 = fieldsGet(db19, 'purchase.order')['state']!.selection!.map(([v]) => v);
  assert.ok(!states19.includes('done'));
  assert.ok(fieldsGet(fresh(18), 'purchase.order')['state']!.selection!.some(([v]) => v === 'done'));
  assert.equal(fieldsGet(db19, 'purchase.order')['locked']!.type, 'boolean');
  assert.equal(fieldsGet(fresh(18), 'purchase.order')['locked'], undefined);
});

test('locking a purchase order: button_done sets state done up to 18, button_lock sets locked in 19; both return None', () => {
  const po = (db: OdooDatabase) => {
    const id = db.call(2, 'purchase.order', 'create', [{ partner_id: 9, order_line: [[0, 0, { product_id: 18, product_qty: 2 }]] }], {}) as number;
    db.call(2, 'purchase.order', 'button_confirm', [[id]], {});
    return id;
  };
  for (const v of [17, 18] as const) {
    const db = fresh(v);
    const id = po(db);
    assert.equal(db.call(2, 'purchase.order', 'button_done', [[id]], {}), undefined);
    assert.deepEqual(db.call(2, 'purchase.order', 'read', [[id], ['state']], {}), [{ id, state: 'done' }], `Odoo ${v}`);
    assert.equal(db.call(2, 'purchase.order', 'button_unlock', [[id]], {}), undefined);
    assert.deepEqual(db.call(2, 'purchase.order', 'read', [[id], ['state']], {}), [{ id, state: 'purchase' }]);
  }
  const db = fresh(19);
  const id = po(db);
  assert.throws(() => db.call(2, 'purchase.order', 'button_done', [[id]], {}), (e: unknown) => e instanceof OdooException && e.qualifiedName === 'builtins.AttributeError');
  assert.equal(db.call(2, 'purchase.order', 'button_lock', [[id]], {}), undefined);
  assert.deepEqual(db.call(2, 'purchase.order', 'read', [[id], ['state', 'locked']], {}), [{ id, state: 'purchase', locked: true }]);
});

test('the delivery and receipt flows run the same on 17, 18 and 19 (17 storable products are type product)', () => {
  for (const v of [17, 18, 19] as const) {
    const db = fresh(v);
    const so = db.call(2, 'sale.order', 'create', [{ partner_id: 10, order_line: [[0, 0, { product_id: 13, product_uom_qty: 2 }]] }], {}) as number;
    db.call(2, 'sale.order', 'action_confirm', [[so]], {});
    const [picking] = (db.call(2, 'sale.order', 'read', [[so], ['picking_ids']], {}) as Rec[])[0]!['picking_ids'] as number[];
    assert.ok(picking, `Odoo ${v}: the order of a storable product has a delivery`);
    assert.equal(db.call(2, 'stock.picking', 'button_validate', [[picking]], { context: { skip_sms: true } }), true);
    assert.deepEqual(db.call(2, 'sale.order', 'read', [[so], ['delivery_status']], {}), [{ id: so, delivery_status: 'full' }], `Odoo ${v}`);
    const po = db.call(2, 'purchase.order', 'create', [{ partner_id: 9, order_line: [[0, 0, { product_id: 18, product_qty: 2 }]] }], {}) as number;
    db.call(2, 'purchase.order', 'button_confirm', [[po]], {});
    const [receipt] = (db.call(2, 'purchase.order', 'read', [[po], ['picking_ids']], {}) as Rec[])[0]!['picking_ids'] as number[];
    assert.ok(receipt, `Odoo ${v}: a receipt`);
  }
});
