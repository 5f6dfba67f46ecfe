import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENT_TYPES, conflictingXrefs, extractXrefs, xrefKey } from '../../src/domain/index.ts';
import type { XrefEntry } from '../../src/domain/index.ts';
import { EXAMPLE_EVENT_DATA } from '../../src/domain/examples.ts';

describe('extractXrefs', () => {
  it('extracts the refs of an order with its canonical id, sorted', () => {
    assert.deepEqual(extractXrefs('order.created.v1', EXAMPLE_EVENT_DATA['order.created.v1'], 'acme'), [
      { tenant: 'acme', entity: 'order', canonicalId: 'ord-S00065', system: 'odoo', externalId: '65' },
      { tenant: 'acme', entity: 'order', canonicalId: 'ord-S00065', system: 'odoo:name', externalId: 'S00065' },
    ]);
  });

  it('attributes refs to the entity the object is, not to the business key', () => {
    // asn.received.v1 is keyed by the purchase order, but its refs are the ASN's
    assert.deepEqual(extractXrefs('asn.received.v1', EXAMPLE_EVENT_DATA['asn.received.v1'], 't'), [
      { tenant: 't', entity: 'asn', canonicalId: 'asn-WC-88120', system: 'x12:woodcorner:856:st', externalId: '0522' },
    ]);
    // order.released.v1 is keyed by the order; its refs name the fulfilment request (picking, WMS order)
    assert.deepEqual(
      extractXrefs('order.released.v1', EXAMPLE_EVENT_DATA['order.released.v1'], 't').map((x) => [x.entity, x.canonicalId, x.system]),
      [
        ['fulfilment-request', 'ful-S00065-1', 'odoo:stock.picking'],
        ['fulfilment-request', 'ful-S00065-1', 'wms:reno'],
      ],
    );
  });

  it('registers a tracking number as a shipment ref', () => {
    assert.deepEqual(extractXrefs('shipment.booked.v1', EXAMPLE_EVENT_DATA['shipment.booked.v1'], 't'), [
      { tenant: 't', entity: 'shipment', canonicalId: 'shp-61', system: 'carrier:ups', externalId: '1Z999AA10123456784' },
    ]);
  });

  it('never throws on any example, and yields entries with valid fields', () => {
    for (const d of EVENT_TYPES) {
      for (const x of extractXrefs(d.type, (EXAMPLE_EVENT_DATA as Record<string, unknown>)[d.type], 't')) {
        assert.equal(x.tenant, 't');
        assert.ok(x.canonicalId && x.system && x.externalId, d.type);
      }
    }
  });

  it('de-duplicates and skips malformed refs and objects without a canonical id', () => {
    const data = {
      shipmentId: 'shp-1',
      dispatchedAt: '2026-01-01T00:00:00Z',
      refs: [
        { system: 'carrier:ups', id: '1Z' },
        { system: 'carrier:ups', id: '1Z' },
        { system: 'Carrier UPS', id: 'x' },
        { system: 'odoo', id: '' },
        { system: 'odoo' },
        null,
        'odoo:1',
      ],
    };
    assert.deepEqual(extractXrefs('shipment.dispatched.v1', data, 't'), [{ tenant: 't', entity: 'shipment', canonicalId: 'shp-1', system: 'carrier:ups', externalId: '1Z' }]);
    assert.deepEqual(extractXrefs('shipment.dispatched.v1', { refs: [{ system: 'odoo', id: '1' }] }, 't'), []);
    assert.deepEqual(extractXrefs('shipment.dispatched.v1', { shipmentId: 'bad id', refs: [{ system: 'odoo', id: '1' }] }, 't'), []);
    assert.deepEqual(extractXrefs('shipment.dispatched.v1', null, 't'), []);
    assert.deepEqual(extractXrefs('nope.v1', { refs: [{ system: 'odoo', id: '1' }] }, 't'), []);
  });
});

describe('conflictingXrefs', () => {
  it('finds one external id claimed by two canonical ids', () => {
    const a: XrefEntry = { tenant: 't', entity: 'shipment', canonicalId: 'shp-1', system: 'carrier:ups', externalId: '1Z' };
    const b: XrefEntry = { ...a, canonicalId: 'shp-2' };
    const other: XrefEntry = { ...a, tenant: 'u', canonicalId: 'shp-3' };
    assert.deepEqual(conflictingXrefs([a, b, a, other]), [{ key: { tenant: 't', entity: 'shipment', system: 'carrier:ups', externalId: '1Z' }, canonicalIds: ['shp-1', 'shp-2'] }]);
    assert.deepEqual(conflictingXrefs([a, other]), []);
    assert.equal(xrefKey(a), xrefKey(b));
    assert.notEqual(xrefKey(a), xrefKey(other));
  });
});
