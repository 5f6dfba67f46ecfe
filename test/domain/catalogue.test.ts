import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  EVENT_TYPES,
  EVENT_TYPE_PATTERN,
  EXCEPTION_CLASS_NAMES,
  LIFECYCLES,
  MAX_ISSUES,
  ValidationError,
  assertEventData,
  dataTimeOf,
  exceptionDefaults,
  getEventType,
  isEventType,
  keyOf,
  lifecycleOf,
  piiPathsOf,
  redactEventData,
  validateEventData,
  valueAt,
} from '../../src/domain/index.ts';
import type { EventTypeDefinition } from '../../src/domain/index.ts';
import { EXAMPLE_EVENT_DATA, exampleCloudEvent } from '../../src/domain/examples.ts';

const example = (type: string) => structuredClone((EXAMPLE_EVENT_DATA as Record<string, unknown>)[type]) as Record<string, any>;

/** The schema reached by a dotted path through object properties. */
function schemaAt(def: EventTypeDefinition, dotted: string): Record<string, unknown> | undefined {
  let s = def.schema as Record<string, any>;
  for (const p of dotted.split('.')) {
    s = s.properties?.[p];
    if (!s) return undefined;
  }
  return s;
}

describe('catalogue', () => {
  it('has well-formed, unique, sorted types with matching name and version', () => {
    const types = EVENT_TYPES.map((d) => d.type);
    assert.deepEqual(types, [...new Set(types)].sort());
    for (const d of EVENT_TYPES) {
      assert.match(d.type, EVENT_TYPE_PATTERN);
      assert.equal(`${d.name}.v${d.version}`, d.type);
      assert.equal(d.dataschema, `https://odoo-logistics-hub.dev/schemas/events/${d.type}.json`);
      assert.ok(d.description.length > 10, d.type);
      if (d.deprecated) assert.ok(getEventType(d.deprecated.replacedBy), `${d.type} is replaced by an unknown type`);
    }
  });

  it('covers the required business events', () => {
    for (const t of [
      'order.created.v1',
      'order.released.v1',
      'shipment.packed.v1',
      'shipment.booked.v1',
      'shipment.dispatched.v1',
      'shipment.tracking.v1',
      'shipment.delivered.v1',
      'shipment.exception.v1',
      'shipment.cancelled.v1',
      'order.invoiced.v1',
      'order.paid.v1',
      'stock.moved.v1',
      'stock.level.v1',
      'purchase-order.released.v1',
      'receipt.recorded.v1',
      'invoice.posted.v1',
      'exception.raised.v1',
      'hub.timer.fired.v1',
    ]) {
      assert.ok(isEventType(t), t);
    }
  });

  it('declares key and time paths that exist in the schema as required strings', () => {
    for (const d of EVENT_TYPES) {
      const key = schemaAt(d, d.keyPath);
      assert.equal(key?.type, 'string', `${d.type}: key path ${d.keyPath}`);
      let parent = d.schema as Record<string, any>;
      for (const p of d.keyPath.split('.')) {
        assert.ok((parent.required as string[] | undefined)?.includes(p), `${d.type}: ${p} of the key path must be required`);
        parent = parent.properties[p];
      }
      if (d.timePath) {
        const t = schemaAt(d, d.timePath);
        assert.equal(t?.format, 'date-time', `${d.type}: time path ${d.timePath}`);
        assert.ok(((d.schema as any).required as string[]).includes(d.timePath), `${d.type}: time path must be required`);
      }
    }
  });

  it('binds lifecycles to states of their machine and to subject paths that exist', () => {
    for (const d of EVENT_TYPES) {
      const b = d.lifecycle;
      if (!b) continue;
      const states = LIFECYCLES[b.kind].states as readonly string[];
      for (const p of b.subjectPaths) assert.equal(schemaAt(d, p)?.type, 'string', `${d.type}: subject path ${p}`);
      if ('milestone' in b) assert.ok(states.includes(b.milestone), `${d.type}: ${b.milestone}`);
      else {
        const source = schemaAt(d, b.milestoneFrom.path) as { anyOf?: Array<{ const: string }> };
        const values = source.anyOf!.map((v) => v.const).sort();
        assert.deepEqual(Object.keys(b.milestoneFrom.map).sort(), values, `${d.type}: the map covers every value of ${b.milestoneFrom.path}`);
        for (const m of Object.values(b.milestoneFrom.map)) if (m !== null) assert.ok(states.includes(m), `${d.type}: ${m}`);
      }
    }
  });

  it('tells an unknown type apart from invalid data', () => {
    assert.equal(getEventType('shipment.teleported.v1'), undefined);
    assert.equal(isEventType('shipment.teleported.v1'), false);
    assert.equal(keyOf('shipment.teleported.v1', { shipmentId: 'x' }), undefined);
    assert.deepEqual(validateEventData('shipment.teleported.v1', {}), [
      { path: '', message: 'cannot be validated: the event type "shipment.teleported.v1" is not in the catalogue' },
    ]);
    assert.throws(() => assertEventData('shipment.teleported.v1', {}), (e: unknown) => e instanceof ValidationError && e.code === 'event.unknown_type');
    assert.throws(() => assertEventData('shipment.dispatched.v1', {}), (e: unknown) => e instanceof ValidationError && e.code === 'event.invalid_data' && e.issues.length === 2);
  });
});

describe('examples and keys', () => {
  for (const d of EVENT_TYPES) {
    it(`${d.type}: the example validates and yields its key, time and milestone`, () => {
      const data = example(d.type);
      assert.deepEqual(validateEventData(d.type, data), []);
      const key = keyOf(d.type, data);
      assert.equal(typeof key, 'string');
      assert.equal(key, valueAt(data, d.keyPath));
      if (d.timePath) assert.equal(dataTimeOf(d.type, data), valueAt(data, d.timePath));
      if (d.lifecycle && 'milestone' in d.lifecycle) assert.equal(lifecycleOf(d.type, data)?.milestone, d.lifecycle.milestone);
      assert.equal(exampleCloudEvent(d.type).data, EXAMPLE_EVENT_DATA[d.type]);
    });
  }

  it('keyOf returns undefined for a missing, empty or non-string key', () => {
    assert.equal(keyOf('shipment.dispatched.v1', {}), undefined);
    assert.equal(keyOf('shipment.dispatched.v1', { shipmentId: '' }), undefined);
    assert.equal(keyOf('shipment.dispatched.v1', { shipmentId: 42 }), undefined);
    assert.equal(keyOf('shipment.dispatched.v1', null), undefined);
    assert.equal(keyOf('shipment.dispatched.v1', 'shp-1'), undefined);
    assert.equal(keyOf('exception.raised.v1', { subject: { entity: 'shipment', id: 'shp-9' } }), 'shp-9');
    assert.equal(keyOf('exception.raised.v1', { subject: 'shp-9' }), undefined);
  });

  it('keyOf reads only own properties (no prototype lookups)', () => {
    assert.equal(keyOf('hub.timer.fired.v1', Object.create({ key: 'inherited' })), undefined);
    assert.equal(keyOf('exception.raised.v1', { subject: { entity: 'shipment', id: 'x', constructor: 1 } }), 'x');
  });

  it('keyOf finds the key of any data whose key field is a string (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...EVENT_TYPES), fc.string({ minLength: 1 }), (d, key) => {
        const data: Record<string, unknown> = {};
        const parts = d.keyPath.split('.');
        let o = data;
        for (const p of parts.slice(0, -1)) o = o[p] = {} as Record<string, unknown>;
        o[parts.at(-1)!] = key;
        assert.equal(keyOf(d.type, data), key);
      }),
    );
  });

  it('lifecycleOf picks the order as subject of a shipment event, else the shipment', () => {
    assert.deepEqual(lifecycleOf('shipment.dispatched.v1', { shipmentId: 's', orderId: 'o' }), { kind: 'order', subject: 'o', milestone: 'dispatched' });
    assert.deepEqual(lifecycleOf('shipment.dispatched.v1', { shipmentId: 's' }), { kind: 'order', subject: 's', milestone: 'dispatched' });
    assert.deepEqual(lifecycleOf('shipment.tracking.v1', { shipmentId: 's', status: 'picked_up' }), { kind: 'order', subject: 's', milestone: 'dispatched' });
    assert.equal(lifecycleOf('shipment.tracking.v1', { shipmentId: 's', status: 'unknown' }), undefined);
    assert.equal(lifecycleOf('shipment.tracking.v1', { shipmentId: 's', status: 'toString' }), undefined);
    assert.deepEqual(lifecycleOf('purchase-order.acknowledged.v1', { purchaseOrderId: 'p', status: 'rejected' }), { kind: 'procurement', subject: 'p', milestone: 'rejected' });
    assert.equal(lifecycleOf('receipt.recorded.v1', { receiptId: 'r' }), undefined, 'a receipt without PO has no procurement lifecycle');
    assert.equal(lifecycleOf('shipment.eta.v1', { shipmentId: 's' }), undefined);
  });
});

describe('validateEventData: precise issues', () => {
  const cases: Array<[string, string, (d: Record<string, any>) => void, Array<{ path: string; message: RegExp }>]> = [
    ['missing required property', 'shipment.dispatched.v1', (d) => delete d.dispatchedAt, [{ path: '/dispatchedAt', message: /^is required$/ }]],
    ['unknown property', 'order.created.v1', (d) => (d.shipToo = d.shipTo), [{ path: '/shipToo', message: /not a known property/ }]],
    ['wrong type deep in an array', 'order.created.v1', (d) => (d.lines[0].quantity = '3'), [{ path: '/lines/0/quantity', message: /must be a number, got "3"/ }]],
    ['non-positive quantity', 'order.created.v1', (d) => (d.lines[0].quantity = 0), [{ path: '/lines/0/quantity', message: /must be greater than 0, got 0/ }]],
    ['float money', 'order.created.v1', (d) => (d.totals.total.amount = 1350), [{ path: '/totals/total/amount', message: /must be a string, got 1350/ }]],
    ['decimal comma', 'order.paid.v1', (d) => (d.amount.amount = '1350,00'), [{ path: '/amount/amount', message: /"1350,00" is not valid: expected .*decimal number as a string/ }]],
    ['lower-case currency', 'order.paid.v1', (d) => (d.amount.currency = 'usd'), [{ path: '/amount/currency', message: /ISO 4217/ }]],
    ['enum value', 'shipment.tracking.v1', (d) => (d.status = 'lost_in_space'), [{ path: '/status', message: /must be one of "pending", "info_received", .*; got "lost_in_space"/ }]],
    ['weight unit', 'shipment.packed.v1', (d) => (d.packages[0].weight.unit = 'stone'), [{ path: '/packages/0/weight/unit', message: /must be one of "kg", "g", "lb", "oz"; got "stone"/ }]],
    ['timestamp without offset', 'shipment.delivered.v1', (d) => (d.deliveredAt = '2026-03-06T10:41:00'), [{ path: '/deliveredAt', message: /RFC 3339 date-time with offset/ }]],
    ['impossible date', 'shipment.delivered.v1', (d) => (d.deliveredAt = '2026-02-29T10:41:00Z'), [{ path: '/deliveredAt', message: /"2026-02-29T10:41:00Z" is not valid/ }]],
    ['bad calendar date', 'invoice.posted.v1', (d) => (d.invoiceDate = '2026-13-01'), [{ path: '/invoiceDate', message: /calendar date YYYY-MM-DD/ }]],
    ['bad e-mail', 'party.upserted.v1', (d) => (d.contact.email = 'not-an-email'), [{ path: '/contact/email', message: /e-mail address/ }]],
    ['empty street lines', 'party.upserted.v1', (d) => (d.address.lines = []), [{ path: '/address/lines', message: /must have at least 1 item, got 0/ }]],
    ['key in a nested object', 'exception.raised.v1', (d) => (d.subject.id = 'has spaces'), [{ path: '/subject/id', message: /"has spaces" is not valid: expected canonical id of the subject/ }]],
    ['no lines', 'purchase-order.released.v1', (d) => (d.lines = []), [{ path: '/lines', message: /must have at least 1 item/ }]],
    ['record key name', 'item.upserted.v1', (d) => (d.attributes = { 'bad key': 1 }), [{ path: '/attributes/bad key', message: /not an allowed name here/ }]],
    ['record value', 'item.upserted.v1', (d) => (d.attributes = { colour: ['red'] }), [{ path: '/attributes/colour', message: /must be a string, a number or true or false, got an array/ }]],
    ['duplicate roles', 'party.upserted.v1', (d) => (d.roles = ['customer', 'customer']), [{ path: '/roles', message: /same value twice/ }]],
    ['ref system name', 'order.created.v1', (d) => (d.refs[0].system = 'Odoo'), [{ path: '/refs/0/system', message: /"Odoo" is not valid: expected the system/ }]],
    ['data is not an object', 'order.created.v1', () => undefined, []],
  ];
  for (const [title, type, mutate, expected] of cases) {
    if (expected.length === 0) continue;
    it(title, () => {
      const d = example(type);
      mutate(d);
      const issues = validateEventData(type, d);
      assert.deepEqual(
        issues.map((i) => i.path),
        expected.map((e) => e.path),
        JSON.stringify(issues),
      );
      expected.forEach((e, n) => assert.match(issues[n]!.message, e.message));
    });
  }

  it('reports a non-object at the root with an empty pointer', () => {
    assert.deepEqual(validateEventData('order.created.v1', null), [{ path: '', message: 'must be an object, got null' }]);
    assert.deepEqual(validateEventData('order.created.v1', [1]), [{ path: '', message: 'must be an object, got an array' }]);
  });

  it('reports each problem once and every problem of one value', () => {
    const d = example('shipment.booked.v1');
    delete d.carrier;
    d.trackingNumber = '';
    d.extra = true;
    const issues = validateEventData('shipment.booked.v1', d);
    assert.deepEqual(issues.map((i) => i.path).sort(), ['/carrier', '/extra', '/trackingNumber']);
  });

  it('escapes property names in pointers (RFC 6901)', () => {
    const d = example('order.created.v1');
    d['a/b~c'] = 1;
    assert.deepEqual(validateEventData('order.created.v1', d).map((i) => i.path), ['/a~1b~0c']);
  });

  it(`caps the issues at ${MAX_ISSUES}`, () => {
    const d = example('order.created.v1');
    d.lines = Array.from({ length: 200 }, () => ({ lineId: '' }));
    assert.equal(validateEventData('order.created.v1', d).length, MAX_ISSUES);
  });
});

describe('personal data', () => {
  it('lists the PII paths of an event type', () => {
    assert.deepEqual(piiPathsOf('party.upserted.v1'), ['/address/lines', '/contact/email', '/contact/name', '/contact/phone', '/name']);
    assert.deepEqual(piiPathsOf('stock.moved.v1'), []);
    assert.deepEqual(piiPathsOf('nope.v1'), []);
  });

  it('masks every PII field of every example and nothing else', () => {
    for (const d of EVENT_TYPES) {
      const data = example(d.type);
      const redacted = redactEventData(d.type, data) as Record<string, unknown>;
      const text = JSON.stringify(redacted);
      for (const secret of ['Brandon Freeman', '77 Santa Barbara Rd', '+16039963829', 'brandon.freeman55@example.com', 'B. FREEMAN', '4750 Longley Lane']) {
        assert.ok(!text.includes(secret), `${d.type} leaks ${secret}`);
      }
      assert.equal(keyOf(d.type, redacted), keyOf(d.type, data), `${d.type}: the key survives redaction`);
    }
    const shipment = redactEventData('shipment.packed.v1', example('shipment.packed.v1')) as any;
    assert.deepEqual(shipment.shipTo.address.lines, ['***']);
    assert.equal(shipment.shipTo.address.city, 'Pleasant Hill');
    assert.equal(shipment.shipTo.name, '***');
  });

  it('withholds the data of an unknown type entirely', () => {
    assert.equal(redactEventData('nope.v1', { name: 'Jane' }), '***');
  });
});

describe('exception classes', () => {
  it('give every class a default queue, severity and a suggested action that validates', () => {
    for (const cls of EXCEPTION_CLASS_NAMES) {
      const d = exceptionDefaults(cls);
      const data = { ...example('exception.raised.v1'), class: cls, severity: d.severity, ownerQueue: d.ownerQueue, suggestedAction: d.suggestedAction };
      assert.deepEqual(validateEventData('exception.raised.v1', data), [], cls);
    }
    assert.deepEqual(exceptionDefaults('freight_variance').ownerQueue, 'finance');
  });
});
