/**
 * The csv3pl file profile applied, without network or database: the 3PL's status files
 * (fixtures in its wire format) become the canonical events the catalogue accepts, with ids
 * derived from file name and row; a value the catalogue refuses is reported at its cell;
 * and (fast-check) whatever release the workflow sends, its order file parses back into one
 * row per line carrying the shipment id, SKU and quantity.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseCsv } from '../../../src/connectors/wms-sftp/csv.ts';
import { buildFile, FileMappingError, mapFile, mapStock } from '../../../src/connectors/wms-sftp/mappers.ts';
import { builtinFileProfilePath, loadFileProfile } from '../../../src/connectors/wms-sftp/profile.ts';

const profile = loadFileProfile(builtinFileProfilePath('csv3pl'));
const doc = (name: string) => parseCsv(readFileSync(new URL(`../../fixtures/wms-sftp/${name}`, import.meta.url)), name);
const NOW = new Date('2026-03-02T09:00:00Z');

test('acknowledgements: one event per row, accepted and rejected, ids from file name and line', async () => {
  const m = await mapFile(profile, doc('ACK_20260302090100_000001_shp-1001.csv'), { warehouseId: 'loc-nl' });
  assert.equal(m.kind, 'ack');
  assert.deepEqual(m.events.map((e) => e.id), ['wms:csv3pl:ACK_20260302090100_000001_shp-1001.csv:2:0', 'wms:csv3pl:ACK_20260302090100_000001_shp-1001.csv:3:0']);
  assert.deepEqual(m.events[0]!.data, {
    fulfilmentRequestId: 'shp-1001',
    refs: [{ system: 'wms:csv3pl', id: '3PL-000001' }],
    orderId: 'ord-1001',
    warehouseId: 'loc-nl',
    status: 'accepted',
    acknowledgedAt: '2026-03-02T09:01:00.000Z',
  });
  assert.equal((m.events[1]!.data as { status: string; reason: string }).status, 'rejected');
  assert.equal((m.events[1]!.data as { reason: string }).reason, 'unknown SKU "SKU-X"');
});

test('a pick file becomes one order.picked with the picked lines (short line counted as picked, zero line left out)', async () => {
  const m = await mapFile(profile, doc('PCK_20260302090600_000002_shp-1001.csv'));
  assert.equal(m.events.length, 1);
  assert.equal(m.events[0]!.type, 'order.picked.v1');
  assert.equal(m.events[0]!.id, 'wms:csv3pl:PCK_20260302090600_000002_shp-1001.csv:0');
  const d = m.events[0]!.data as { lines: unknown[]; pickedAt: string; fulfilmentRequestId: string; warehouseId: string };
  assert.deepEqual(d.lines, [
    { orderLineId: 'l1', sku: 'SKU-RED', quantity: 2, uom: 'EA' },
    { orderLineId: 'l2', sku: 'SKU-GREEN', quantity: 5, uom: 'EA' },
  ]);
  assert.equal(d.pickedAt, '2026-03-02T09:06:00.000Z');
  assert.equal(d.warehouseId, 'loc-3pl');
});

test('a pack list becomes shipment.packed with its carton, the consignee and the warehouse as ship-from', async () => {
  const m = await mapFile(profile, doc('PAK_20260302091100_000003_shp-1001.csv'));
  const d = m.events[0]!.data as Record<string, any>;
  assert.equal(m.events[0]!.type, 'shipment.packed.v1');
  assert.equal(d.shipmentId, 'shp-1001');
  assert.equal(d.shipTo.name, 'Ann de Vries, "Studio"');
  assert.deepEqual(d.shipTo.address.lines, ['1 Main St', 'Apt 2']);
  assert.equal(d.shipFrom.address.countryCode, 'NL');
  assert.deepEqual(d.packages, [
    {
      packageId: '3PL-000001-1',
      packaging: 'box',
      weight: { value: 3.15, unit: 'kg' },
      dimensions: { length: 40, width: 30, height: 20, unit: 'cm' },
      contents: [
        { orderLineId: 'l1', sku: 'SKU-RED', quantity: 2, uom: 'EA' },
        { orderLineId: 'l2', sku: 'SKU-GREEN', quantity: 5, uom: 'EA' },
      ],
    },
  ]);
});

test('ship confirmations and cancellation answers: dispatched; cancelled → event, refused → none', async () => {
  const shp = await mapFile(profile, doc('SHP_20260302092100_000004_shp-1001.csv'));
  assert.deepEqual(shp.events[0]!.data, {
    shipmentId: 'shp-1001',
    refs: [{ system: 'wms:csv3pl', id: '3PL-000001' }],
    orderId: 'ord-1001',
    dispatchedAt: '2026-03-02T09:21:00.000Z',
    carrier: { carrierCode: 'ups', service: 'ups_ground' },
    trackingNumber: '1Z999AA10123456784',
    fromLocationId: 'loc-3pl',
  });
  const cxl = await mapFile(profile, doc('CXL_20260302091500_000005_shp-1003.csv'));
  assert.deepEqual(cxl.events.map((e) => [e.type, (e.data as { shipmentId: string }).shipmentId, e.line]), [['shipment.cancelled.v1', 'shp-1003', 2]]);
});

test('a value the catalogue refuses is reported at its cell; a file of no kind at its start', async () => {
  await assert.rejects(mapFile(profile, doc('ACK_bad-status.csv')), (e: unknown) => {
    assert.ok(e instanceof FileMappingError);
    assert.equal(e.code, 'wms-sftp.mapping_failed');
    assert.deepEqual([e.file, e.line, e.column], ['ACK_bad-status.csv', 3, 30]);
    assert.match(e.message, /^ACK_bad-status\.csv:3:30: .*inbound\.ack\.map: the ack mapping yields events the catalogue refuses/);
    assert.ok(e.issues.some((i) => i.path === '/events/0/data/status'));
    return true;
  });
  const other = parseCsv('a\n1\n', 'README.csv');
  await assert.rejects(mapFile(profile, other), /README\.csv:1:1: the file name matches no kind of file of profile csv3pl/);
});

test('stock snapshots: available per SKU', async () => {
  assert.deepEqual(await mapStock(profile, doc('STK_20260302092100.csv')), { 'SKU-BLUE': 50, 'SKU-RED': 98 });
});

test('outbound files: names carry the shipment id, cells the canonical values in the 3PL format', async () => {
  const cancel = await buildFile(profile, 'cancel', { shipmentId: 'shp/1', orderId: 'ord-1', reason: 'customer changed mind', requestedAt: '2026-03-02T09:30:00Z' }, { now: NOW });
  assert.equal(cancel.name, 'CAN_shp_1.csv');
  assert.equal(cancel.content, 'order_ref,client_order,reason,requested_at\r\nshp/1,ord-1,customer changed mind,2026-03-02 09:30:00\r\n');
  const adr = await buildFile(profile, 'updateShipTo', { shipmentId: 'shp-1', orderId: 'ord-1', requestedAt: NOW.toISOString(), shipTo: { name: 'B', address: { lines: ['2 Side St'], city: 'Delft', countryCode: 'NL' } } }, { now: NOW, csv: { lineEnding: '\n' } });
  assert.equal(adr.name, 'ADR_shp-1_20260302090000.csv');
  assert.match(adr.content, /\nshp-1,ord-1,B,2 Side St,,Delft,,,NL,,,2026-03-02 09:00:00\n$/);
  await assert.rejects(buildFile(profile, 'cancel', { orderId: 'ord-1' }, { now: NOW }), /needs shipmentId/);
});

const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,20}$/);
const text = fc.string({ minLength: 1, maxLength: 30 }).filter((s) => s.trim() !== '');

test('property: a release file parses back to one row per line with the shipment id, SKU and quantity', async () => {
  await fc.assert(
    fc.asyncProperty(
      id,
      id,
      text,
      fc.array(text, { minLength: 1, maxLength: 4 }),
      fc.array(fc.record({ orderLineId: id, sku: id, quantity: fc.integer({ min: 1, max: 100000 }), uom: fc.constantFrom('EA', 'CS', 'KG') }), { minLength: 1, maxLength: 6 }),
      async (shipmentId, orderId, name, lines, orderLines) => {
        const release = { fulfilmentRequestId: 'fr-1', orderId, shipmentId, shipTo: { name, address: { lines, city: 'Utrecht', countryCode: 'NL' } }, lines: orderLines, warehouseId: 'loc-3pl' };
        const f = await buildFile(profile, 'release', release, { now: NOW });
        const back = parseCsv(f.content, f.name);
        assert.deepEqual(back.header, profile.outbound.release!.columns);
        assert.deepEqual(
          back.records.map((r) => [r.values.order_ref, r.values.client_order, r.values.ship_to_name, r.values.line_ref, r.values.sku, Number(r.values.quantity), r.values.line_no]),
          orderLines.map((l, i) => [shipmentId, orderId, name, l.orderLineId, l.sku, l.quantity, String(i + 1)]),
        );
        assert.equal(back.records[0]!.values.ship_to_address1, lines[0]);
        assert.equal(f.name, `ORD_${shipmentId.replace(/:/g, '_')}.csv`);
      },
    ),
    { numRuns: 150 },
  );
});
