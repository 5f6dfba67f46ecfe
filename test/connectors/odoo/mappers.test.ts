/**
 * The Odoo mappers: records recorded from a genuine Odoo 18 (test/fixtures/odoo-18) map to
 * the expected canonical events; generated Odoo-shaped records, odd values included, always
 * map to valid event data or to a typed mapping error; the hub → Odoo values round-trip.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { validateEventData } from '../../../src/domain/catalogue.ts';
import type { Order, Party } from '../../../src/domain/model.ts';
import {
  CAPTURED_MODELS,
  ODOO_FIELDS,
  OdooMappingError,
  mapAccountMove,
  mapPartner,
  mapPicking,
  mapProduct,
  mapPurchaseOrder,
  mapQuant,
  mapRecord,
  mapSaleOrder,
  odooDatetime,
  partnerVals,
  pickingIdOf,
  pickingTrackingVals,
  saleOrderCreateVals,
  skuFromDisplayName,
  toOdooDatetime,
  uomCode,
  type CapturedModel,
  type MapResult,
  type OdooRecord,
  type RelatedRecords,
} from '../../../src/connectors/odoo/mappers.ts';
import { exchange } from '../../helpers/odoo-transcripts.ts';

/** The `result` of a recorded JSON-RPC answer. */
function recorded(file: string, title: string): OdooRecord[] {
  return JSON.parse(exchange(file, title).response.body).result as OdooRecord[];
}

const byId = (...recs: OdooRecord[]) => new Map(recs.map((r) => [r.id, r]));

/** Demo partner 10 as the Odoo 18 demo data has it (the transcripts read only its name). */
const DECO_ADDICT: OdooRecord = {
  id: 10, name: 'Deco Addict', display_name: 'Deco Addict', is_company: true, type: 'contact', parent_id: false,
  street: '77 Santa Barbara Rd', street2: false, city: 'Pleasant Hill', zip: '94523', state_id: [13, 'California (US)'], country_code: 'US',
  email: 'deco_addict@example.com', phone: '(603)-996-3829', mobile: false, vat: 'US12345677', lang: 'en_US', active: true,
  customer_rank: 1, supplier_rank: 0, ref: false, write_date: '2026-11-24 05:12:55',
};

function ok(r: MapResult) {
  if (!r.ok) assert.fail(`expected events, got ${r.error.code}: ${r.error.message}`);
  for (const e of r.events) assert.deepEqual(validateEventData(e.type, e.data), [], e.type);
  return r.events;
}

describe('mappers on recorded Odoo 18 records', () => {
  it('maps the validated delivery WH/OUT/00047 (05) to released and dispatched, once each', () => {
    const [picking] = recorded('05-outbound-sale-delivery.json', 'JSON-RPC: stock.picking read after validation');
    const [move] = recorded('05-outbound-sale-delivery.json', 'JSON-RPC: stock.move after validation');
    const events = ok(mapPicking({ ...picking!, partner_id: [10, 'Deco Addict'], location_id: [8, 'WH/Stock'], write_date: '2026-11-24 05:26:53' }, {
      'stock.move': byId(move!),
      'res.partner': byId(DECO_ADDICT),
    }));
    assert.deepEqual(events.map((e) => [e.type, e.dedupe]), [
      ['order.released.v1', { scope: 'once', key: 'order.released.v1' }],
      ['shipment.dispatched.v1', { scope: 'once', key: 'shipment.dispatched.v1' }],
    ]);
    const released = events[0]!.data as Record<string, unknown>;
    assert.equal(released.orderId, 'ord-S00061');
    assert.equal(released.fulfilmentRequestId, 'ful-62');
    assert.deepEqual(released.lines, [{ lineId: '92', orderLineId: '92', itemId: 'itm-13', sku: 'FURN_0097', quantity: 2, uom: 'EA' }]);
    assert.deepEqual(events[1]!.data, {
      shipmentId: 'shp-62',
      refs: [{ system: 'odoo:stock.picking', id: '62' }],
      orderId: 'ord-S00061',
      dispatchedAt: '2026-11-24T05:26:53Z',
      trackingNumber: 'TRACK-JSON-052651',
      fromLocationId: 'loc-8',
    });
  });

  it('gives nothing for a draft delivery and shipment.cancelled for a cancelled one', () => {
    const [picking] = recorded('05-outbound-sale-delivery.json', 'JSON-RPC: stock.picking read after validation');
    assert.deepEqual(ok(mapPicking({ ...picking!, state: 'draft' })), []);
    const cancelled = ok(mapPicking({ ...picking!, state: 'cancel', write_date: '2026-11-24 06:00:00' }));
    assert.deepEqual(cancelled.map((e) => e.type), ['shipment.cancelled.v1']);
    assert.equal((cancelled[0]!.data as { cancelledAt: string }).cancelledAt, '2026-11-24T06:00:00Z');
  });

  it('maps the recorded quant (11) to stock.level with the SKU of the product display name', () => {
    const [quant] = recorded('11-stock-quant-inventory.json', 'JSON-RPC: stock.quant read after applying');
    const [e] = ok(mapQuant({ ...quant!, product_uom_id: [1, 'Units'], lot_id: false, write_date: '2026-11-24 05:26:57' }));
    assert.deepEqual(e!.data, {
      itemId: 'itm-20',
      refs: [{ system: 'odoo:stock.quant', id: '4' }],
      sku: 'E-COM10',
      locationId: 'loc-8',
      uom: 'EA',
      onHand: 32,
      reserved: 0,
      available: 32,
      asOf: '2026-11-24T05:26:57Z',
      basis: 'snapshot',
    });
    assert.deepEqual(e!.dedupe, { scope: 'version' });
  });

  it('maps the recorded confirmed order S00055 (02) to order.created once and order.updated per version', () => {
    const [, , so] = recorded('02-read-queries.json', 'JSON-RPC: sale.order search_read (domain, fields, limit 3, order)');
    const line: OdooRecord = { id: 73, order_id: [54, 'S00055'], product_id: [13, '[FURN_0097] Customizable Desk (Steel, Black)'], name: 'Customizable Desk', product_uom_qty: 3.0, product_uom: [1, 'Units'], price_unit: 750.0, display_type: false };
    const events = ok(mapSaleOrder({ ...so!, partner_shipping_id: [10, 'Deco Addict'], partner_invoice_id: [10, 'Deco Addict'], amount_untaxed: 2250.0, amount_tax: 0.0, write_date: '2026-11-24 05:25:44' }, {
      'sale.order.line': byId(line),
      'res.partner': byId(DECO_ADDICT),
    }));
    assert.deepEqual(events.map((e) => e.type), ['order.created.v1', 'order.updated.v1']);
    const created = events[0]!.data as Order;
    assert.equal(created.orderId, 'ord-S00055');
    assert.deepEqual(created.refs, [{ system: 'odoo', id: '54' }, { system: 'odoo:name', id: 'S00055' }]);
    assert.equal(created.orderedAt, '2026-11-24T05:25:43Z');
    assert.equal(created.customerReference, 'TX-JSON-PARTIAL-052540');
    assert.deepEqual(created.lines[0]!.unitPrice, { amount: '750.00', currency: 'USD' });
    assert.deepEqual(created.totals?.total, { amount: '2250.00', currency: 'USD' });
    assert.equal(created.attributes?.['odoo.deliveryStatus'], 'partial');
    assert.equal(created.attributes?.['odoo.invoiceStatus'], 'to_invoice');
    assert.equal(created.shipTo.address.region, 'California (US)');
  });

  it('maps the posted invoice INV/2026/00018 (07) to invoice.posted with the order from invoice_origin', () => {
    const [inv] = recorded('07-invoicing.json', 'JSON-RPC: [A: customer with payment term] account.move read after action_post');
    const aml: OdooRecord = { id: 501, move_id: [39, 'INV/2026/00018'], product_id: [13, '[FURN_0097] Customizable Desk (Steel, Black)'], name: '[FURN_0097] Customizable Desk', quantity: 2.0, product_uom_id: [1, 'Units'], price_unit: 750.0, price_subtotal: 1500.0, display_type: 'product', sale_line_ids: [71], purchase_line_id: false, purchase_order_id: false };
    const events = ok(mapAccountMove({ ...inv!, currency_id: [1, 'USD'], invoice_line_ids: [501], amount_untaxed: 1500.0, amount_tax: 0.0, invoice_date_due: '2026-12-24', write_date: '2026-11-24 05:26:56' }, { 'account.move.line': byId(aml) }));
    assert.deepEqual(events.map((e) => e.type), ['invoice.posted.v1']);
    const d = events[0]!.data as Record<string, unknown>;
    assert.equal(d.invoiceId, 'inv-39');
    assert.equal(d.invoiceNumber, 'INV/2026/00018');
    assert.deepEqual(d.orderIds, ['ord-S00061']);
    assert.deepEqual(d.amountDue, { amount: '1500.00', currency: 'USD' });
    // draft → nothing; paid → invoice.paid once
    assert.deepEqual(ok(mapAccountMove({ ...inv!, state: 'draft' })), []);
    const paid = ok(mapAccountMove({ ...inv!, payment_state: 'paid', amount_residual: 0.0, currency_id: [1, 'USD'], invoice_line_ids: [501], amount_untaxed: 1500.0, amount_tax: 0.0, write_date: '2026-11-25 08:00:00' }, { 'account.move.line': byId(aml) }));
    assert.deepEqual(paid.map((e) => e.type), ['invoice.posted.v1', 'invoice.paid.v1']);
    assert.deepEqual((paid[1]!.data as { amount: unknown }).amount, { amount: '1500.00', currency: 'USD' });
  });

  it('maps the confirmed purchase P00022 (08) and its receipt once done', () => {
    const [po] = recorded('08-purchase-receipt.json', 'JSON-RPC: purchase.order read (confirmed)');
    const [receipt] = recorded('08-purchase-receipt.json', 'JSON-RPC: incoming stock.picking (receipt)');
    const [move] = recorded('08-purchase-receipt.json', 'JSON-RPC: stock.move of the receipt');
    const pol: OdooRecord = { id: 34, order_id: [22, 'P00022'], product_id: [18, '[E-COM08] Storage Box'], name: '[E-COM08] Storage Box', product_qty: 5.0, product_uom: [1, 'Units'], price_unit: 13.0, date_planned: '2026-11-27 05:26:55', display_type: false };
    const released = ok(mapPurchaseOrder({ ...po!, currency_id: [1, 'USD'], order_line: [34], date_order: '2026-11-24 05:26:55', picking_type_id: [1, 'YourCompany: Receipts'], amount_untaxed: 65.0, amount_tax: 0.0, write_date: '2026-11-24 05:26:55' }, {
      'purchase.order.line': byId(pol),
      'stock.picking.type': byId({ id: 1, default_location_dest_id: [8, 'WH/Stock'], warehouse_id: [1, 'YourCompany'] }),
    }));
    assert.deepEqual(released.map((e) => e.type), ['purchase-order.released.v1']);
    assert.equal((released[0]!.data as { shipToLocationId: string }).shipToLocationId, 'loc-8');
    assert.deepEqual((released[0]!.data as { lines: unknown[] }).lines[0], { lineId: '34', itemId: 'itm-18', sku: 'E-COM08', description: '[E-COM08] Storage Box', quantity: 5, uom: 'EA', unitPrice: { amount: '13.00', currency: 'USD' }, expectedDate: '2026-11-27' });
    // the receipt is still assigned in the transcript: nothing yet; done: receipt.recorded
    assert.deepEqual(ok(mapPicking(receipt!, { 'stock.move': byId(move!) })), []);
    const done = ok(mapPicking({ ...receipt!, state: 'done', purchase_id: [22, 'P00022'], date_done: '2026-11-27 09:00:00' }, { 'stock.move': byId({ ...move!, state: 'done', product_uom: [1, 'Units'] }) }));
    assert.deepEqual(done.map((e) => e.type), ['receipt.recorded.v1']);
    assert.deepEqual(done[0]!.data, {
      receiptId: 'rcp-70',
      refs: [{ system: 'odoo:stock.picking', id: '70' }],
      receiptNumber: 'WH/IN/00017',
      kind: 'purchase',
      locationId: 'loc-8',
      purchaseOrderId: 'po-22',
      receivedAt: '2026-11-27T09:00:00Z',
      lines: [{ lineId: '100', poLineId: '34', itemId: 'itm-18', sku: 'E-COM08', quantityExpected: 5, quantityReceived: 5, uom: 'EA' }],
    });
  });

  it('returns typed errors: a missing related record, a product without SKU', () => {
    const [picking] = recorded('05-outbound-sale-delivery.json', 'JSON-RPC: stock.picking read after validation');
    const r = mapPicking(picking!, {});
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.error instanceof OdooMappingError && r.error.code === 'odoo.mapping.missing_related');
    const p = mapProduct({ id: 5, name: 'Service', default_code: false, uom_id: [1, 'Units'], type: 'service' });
    assert.ok(!p.ok && p.error.kind === 'missing_field' && p.error.errorClass === 'permanent');
  });
});

describe('value readers', () => {
  it('converts Odoo datetimes, refusing impossible ones', () => {
    assert.equal(odooDatetime('2026-11-24 05:12:55'), '2026-11-24T05:12:55Z');
    assert.equal(odooDatetime(false), undefined);
    assert.equal(odooDatetime('2026-02-30 00:00:00'), undefined);
    assert.equal(odooDatetime('2026-11-24 24:00:00'), undefined);
    assert.equal(skuFromDisplayName([13, '[FURN_0097] Customizable Desk']), 'FURN_0097');
    assert.equal(skuFromDisplayName([13, 'Desk']), undefined);
    assert.equal(uomCode([1, 'Units']), 'EA');
    assert.equal(uomCode([9, 'Pallet (x40)']), 'PALLET_X40');
    assert.equal(uomCode(false), 'EA');
  });

  it('round-trips second-precision instants through the Odoo form', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (d) => {
        const iso = new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
        assert.equal(odooDatetime(toOdooDatetime(iso)), iso);
      }),
    );
  });
});

// ------------------------------------------------------------------ generators

const odd = fc.constantFrom<unknown>(false, '', null, 0, -1, '   ', '\u0000', [], [0, ''], 'not a date', 1e300, -0);
const str = (max = 40) => fc.oneof(fc.string({ maxLength: max }), fc.string({ unit: 'grapheme', maxLength: max }), fc.string({ unit: 'binary', maxLength: max }));
const maybe = <T>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 5, arbitrary: a as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: odd });
const id = fc.integer({ min: 1, max: 30 });
const m2o = (names: fc.Arbitrary<string> = str()) => fc.tuple(id, names).map(([i, n]) => [i, n] as [number, string]);
const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const dt = fc
  .record({ y: fc.integer({ min: 1, max: 9999 }), mo: fc.integer({ min: 1, max: 13 }), d: fc.integer({ min: 1, max: 31 }), h: fc.integer({ min: 0, max: 24 }), mi: fc.integer({ min: 0, max: 59 }), s: fc.integer({ min: 0, max: 60 }) })
  .map((t) => `${pad(t.y, 4)}-${pad(t.mo)}-${pad(t.d)} ${pad(t.h)}:${pad(t.mi)}:${pad(t.s)}`);
const float = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e20, max: 1e20 }), fc.integer({ min: -5, max: 1000 }));
const productName = fc.oneof(fc.tuple(str(10), str(20)).map(([c, n]) => `[${c}] ${n}`), str());
const currency = fc.oneof(m2o(fc.constantFrom('USD', 'EUR', 'usd', 'EURO')), fc.constant(false));
const uom = m2o(fc.constantFrom('Units', 'kg', 'Dozens', 'Pallet (x40)', '', '???'));
const ids = fc.array(id, { maxLength: 4 });

const fieldArb: Record<string, fc.Arbitrary<unknown>> = {
  name: str(), display_name: str(), street: str(), street2: str(), city: str(), zip: str(10), email: fc.oneof(fc.emailAddress(), str()),
  phone: fc.oneof(fc.constantFrom('(603)-996-3829', '+32 2 555 12 34'), str(20)), mobile: str(20), vat: str(35), ref: str(),
  lang: fc.constantFrom('en_US', 'fr_BE', 'xx', 'EN'), country_code: fc.constantFrom('US', 'BE', 'us', 'XYZ', ''), is_company: fc.boolean(), active: fc.boolean(),
  type: fc.constantFrom('contact', 'delivery', 'invoice', 'consu', 'service', 'combo', 'product'), customer_rank: fc.integer({ min: -1, max: 3 }), supplier_rank: fc.integer({ min: -1, max: 3 }),
  state_id: m2o(), parent_id: m2o(), partner_id: m2o(), partner_invoice_id: m2o(), partner_shipping_id: m2o(), default_code: str(70), barcode: str(50), is_storable: fc.boolean(),
  tracking: fc.constantFrom('none', 'lot', 'serial', 'x'), uom_id: uom, product_uom_id: uom, product_uom: uom, weight: float, weight_uom_name: fc.constantFrom('kg', 'lb'), hs_code: fc.constantFrom('9403.30', '940330', '12'),
  state: fc.constantFrom('draft', 'sent', 'sale', 'done', 'cancel', 'waiting', 'confirmed', 'assigned', 'purchase', 'to approve', 'posted'),
  delivery_status: fc.constantFrom('pending', 'started', 'partial', 'full', false), invoice_status: fc.constantFrom('no', 'to invoice', 'invoiced', 'upselling'),
  client_order_ref: str(120), date_order: dt, date_approve: dt, date_planned: dt, commitment_date: dt, scheduled_date: dt, date_deadline: dt, date_done: dt, create_date: dt, write_date: dt, date: dt,
  warehouse_id: m2o(), currency_id: currency, incoterm: m2o(fc.constantFrom('[EXW] EX WORKS', 'DAP', 'x')), incoterm_id: m2o(fc.constantFrom('[FCA] FREE CARRIER', 'y')),
  order_line: ids, move_ids: ids, invoice_line_ids: ids, amount_untaxed: float, amount_tax: float, amount_total: float, amount_residual: float,
  picking_type_code: fc.constantFrom('outgoing', 'incoming', 'internal', 'mrp_operation'), origin: str(), sale_id: m2o(fc.constantFrom('S00061', 'S 01/2', '', 'Ü')), purchase_id: m2o(),
  location_id: m2o(), location_dest_id: m2o(), carrier_id: m2o(fc.constantFrom('UPS Ground', '!!!', 'DHL Express')), carrier_tracking_ref: str(), backorder_id: m2o(), priority: fc.constantFrom('0', '1'),
  partner_ref: str(), picking_type_id: m2o(), receipt_status: fc.constantFrom('pending', 'full', false),
  move_type: fc.constantFrom('out_invoice', 'in_invoice', 'out_refund', 'entry'), payment_state: fc.constantFrom('not_paid', 'partial', 'paid', 'in_payment', 'reversed'),
  invoice_date: dt, invoice_date_due: dt, invoice_origin: fc.oneof(fc.constantFrom('S00061', 'S00061, S00062', ' , '), str()),
  product_id: m2o(productName), lot_id: m2o(), quantity: float, reserved_quantity: float, product_uom_qty: float, product_qty: float, price_unit: float, price_subtotal: float,
  display_type: fc.constantFrom(false, 'product', 'line_section', 'line_note', 'tax'), sale_line_id: m2o(), purchase_line_id: m2o(), purchase_order_id: m2o(), sale_line_ids: ids,
  default_location_dest_id: m2o(),
};

function recordArb(fields: readonly string[]): fc.Arbitrary<OdooRecord> {
  const shape: Record<string, fc.Arbitrary<unknown>> = { id };
  for (const f of fields) shape[f] = maybe(fieldArb[f] ?? str());
  return fc.record(shape, { requiredKeys: ['id'] }).map((r) => ({ ...r }) as OdooRecord);
}

const RELATED_SHAPES: Record<string, readonly string[]> = {
  'sale.order.line': ['product_id', 'name', 'product_uom_qty', 'product_uom', 'price_unit', 'display_type'],
  'purchase.order.line': ['product_id', 'name', 'product_qty', 'product_uom', 'price_unit', 'date_planned', 'display_type'],
  'stock.move': ['product_id', 'product_uom_qty', 'quantity', 'product_uom', 'state', 'sale_line_id', 'purchase_line_id', 'location_id', 'location_dest_id', 'date'],
  'account.move.line': ['product_id', 'name', 'quantity', 'product_uom_id', 'price_unit', 'price_subtotal', 'display_type', 'sale_line_ids', 'purchase_line_id', 'purchase_order_id'],
  'res.partner': ODOO_FIELDS['res.partner'],
  'product.product': ODOO_FIELDS['product.product'],
  'stock.picking.type': ['default_location_dest_id'],
};

const relatedArb: fc.Arbitrary<RelatedRecords> = fc
  .record(Object.fromEntries(Object.entries(RELATED_SHAPES).map(([m, fields]) => [m, fc.array(recordArb(fields), { maxLength: 6 })])))
  .map((byModel) => Object.fromEntries(Object.entries(byModel).map(([m, recs]) => [m, new Map((recs as OdooRecord[]).map((r) => [r.id, r]))])));

describe('mappers on generated Odoo-shaped records', () => {
  for (const model of CAPTURED_MODELS) {
    it(`${model}: valid event data or a typed mapping error, deterministic, input untouched`, () => {
      let mapped = 0;
      fc.assert(
        fc.property(recordArb(ODOO_FIELDS[model]), relatedArb, (rec, related) => {
          const before = structuredClone(rec);
          const r = mapRecord(model as CapturedModel, rec, related);
          assert.deepEqual(rec, before);
          if (r.ok) {
            mapped += r.events.length;
            for (const e of r.events) assert.deepEqual(validateEventData(e.type, e.data), [], `${e.type}: ${JSON.stringify(e.data)}`);
            assert.deepEqual(mapRecord(model as CapturedModel, rec, related), r);
          } else {
            assert.ok(r.error instanceof OdooMappingError);
            assert.ok(r.error.kind !== 'unexpected' && r.error.kind !== 'invalid_data', `${r.error.code}: ${r.error.message}`);
          }
        }),
        { numRuns: 400 },
      );
      assert.ok(mapped > 0 || model === 'account.move' || model === 'purchase.order', `${model}: no generated record mapped at all`);
    });
  }

  it('refuses things that are not records', () => {
    for (const v of [null, 1, 'x', [], {}, { id: 'a' }]) {
      const r = mapRecord('sale.order', v);
      assert.ok(!r.ok && r.error.kind === 'invalid_value');
    }
  });
});

// ------------------------------------------------------------------ hub → Odoo → hub

const safeText = (max: number) => fc.string({ minLength: 1, maxLength: max }).filter((s) => s.trim() === s && s !== '' && !s.includes('\u0000'));

describe('round trips', () => {
  it('party → res.partner vals → record → party', () => {
    const partyArb: fc.Arbitrary<Party> = fc.record({
      partyId: fc.integer({ min: 1, max: 1e6 }).map((n) => `pty-${n}`),
      roles: fc.constantFrom<Party['roles']>(['customer'], ['supplier'], ['customer', 'supplier']),
      name: safeText(200),
      isCompany: fc.boolean(),
      address: fc.record({ lines: fc.array(safeText(200), { minLength: 1, maxLength: 2 }), city: safeText(100), postalCode: safeText(20), countryCode: fc.constantFrom('US', 'BE', 'FR') }),
      contact: fc.record({ phone: fc.constantFrom('+3225551234', '(603)-996-3829'), email: fc.constantFrom('a@example.com', 'x.y@sub.example.org') }),
      vatNumber: safeText(30).filter((s) => s.length >= 2),
      languageCode: fc.constantFrom('en_US', 'fr_BE'),
      active: fc.boolean(),
    });
    fc.assert(
      fc.property(partyArb, (party) => {
        const vals = partnerVals(party);
        const odooId = Number(party.partyId.slice(4));
        const rec: OdooRecord = { id: odooId, ...vals, country_code: party.address!.countryCode, state_id: false, mobile: false, parent_id: false, write_date: '2026-11-24 05:12:55' };
        const [e] = ok(mapPartner(rec));
        const back = e!.data as Party;
        assert.equal(back.partyId, party.partyId);
        assert.deepEqual(
          { name: back.name, isCompany: back.isCompany, address: structuredClone(back.address), contact: { ...back.contact }, vat: back.vatNumber, lang: back.languageCode, active: back.active, roles: back.roles },
          { name: party.name, isCompany: party.isCompany, address: structuredClone(party.address), contact: { ...party.contact }, vat: party.vatNumber, lang: party.languageCode, active: party.active, roles: party.roles },
        );
      }),
    );
  });

  it('order → sale.order create vals (order_line commands) → records → order', () => {
    const lineArb = fc.record({
      productId: fc.integer({ min: 1, max: 500 }),
      sku: fc.stringMatching(/^[A-Z0-9_]{1,20}$/),
      quantity: fc.integer({ min: 1, max: 1000 }),
      cents: fc.integer({ min: 0, max: 10_000_000 }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(lineArb, { minLength: 1, maxLength: 5, selector: (l) => l.productId }), fc.stringMatching(/^[A-Z0-9-]{1,30}$/), fc.integer({ min: 0, max: 2e9 }), (lines, ref, secs) => {
        const orderedAt = new Date(secs * 1000).toISOString().replace('.000Z', 'Z');
        const order: Order = {
          orderId: 'ord-WEB-1',
          orderNumber: 'WEB-1',
          kind: 'sale',
          customerId: 'pty-10',
          customerReference: ref,
          orderedAt,
          shipTo: { partyId: 'pty-10', name: 'Deco Addict', address: { lines: ['77 Santa Barbara Rd'], city: 'Pleasant Hill', countryCode: 'US' } },
          currency: 'USD',
          lines: lines.map((l, i) => ({ lineId: String(i + 1), itemId: `itm-${l.productId}`, sku: l.sku, quantity: l.quantity, uom: 'EA', unitPrice: { amount: (l.cents / 100).toFixed(2), currency: 'USD' } })),
        };
        const r = saleOrderCreateVals(order, { partnerId: (p) => (p === 'pty-10' ? 10 : undefined), productId: (l) => Number(l.itemId.slice(4)) });
        assert.ok(r.ok);
        const cmds = r.vals.order_line as [number, number, Record<string, unknown>][];
        assert.ok(cmds.every((c) => c[0] === 0 && c[1] === 0));
        // what Odoo stores for those values
        const lineRecs = cmds.map((c, i) => ({
          id: 100 + i, order_id: [7, 'S00007'], product_id: [c[2].product_id as number, `[${lines[i]!.sku}] Product`], name: false,
          product_uom_qty: c[2].product_uom_qty, product_uom: [1, 'Units'], price_unit: c[2].price_unit, display_type: false,
        })) as OdooRecord[];
        const so: OdooRecord = {
          id: 7, name: 'S00007', state: 'sale', partner_id: [10, 'Deco Addict'], partner_shipping_id: [r.vals.partner_shipping_id as number, 'Deco Addict'],
          client_order_ref: r.vals.client_order_ref, date_order: r.vals.date_order, currency_id: [1, 'USD'], order_line: lineRecs.map((l) => l.id), write_date: r.vals.date_order,
        };
        const [created] = ok(mapSaleOrder(so, { 'sale.order.line': byId(...lineRecs), 'res.partner': byId(DECO_ADDICT) }));
        const back = created!.data as Order;
        assert.equal(back.customerReference, order.customerReference);
        assert.equal(back.orderedAt, order.orderedAt);
        assert.equal(back.customerId, order.customerId);
        assert.deepEqual(back.lines.map((l) => [l.itemId, l.sku, l.quantity, l.unitPrice]), order.lines.map((l) => [l.itemId, l.sku, l.quantity, l.unitPrice]));
      }),
    );
  });

  it('tracking number → picking carrier_tracking_ref → shipment.dispatched trackingNumber', () => {
    fc.assert(
      fc.property(safeText(200), fc.integer({ min: 1, max: 1e9 }), (tracking, pid) => {
        const r = pickingTrackingVals({ trackingNumber: tracking });
        assert.ok(r.ok);
        assert.equal(pickingIdOf({ shipmentId: `shp-${pid}` }), pid);
        const rec: OdooRecord = { id: pid, state: 'done', picking_type_code: 'outgoing', sale_id: false, move_ids: [], location_id: [8, 'WH/Stock'], date_done: '2026-11-24 05:26:53', carrier_id: false, ...r.vals };
        const [e] = ok(mapPicking(rec));
        assert.equal((e!.data as { trackingNumber?: string }).trackingNumber, tracking);
      }),
    );
    assert.equal(pickingTrackingVals({}).ok, false);
  });
});
