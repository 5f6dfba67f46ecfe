/**
 * Properties of the simwms profile's mappings (fast-check): whatever a SimWMS webhook
 * carries, the mapping either yields events the catalogue accepts, with quantities
 * conserved (picked + short = ordered per line; packages and weights kept), or fails with
 * `wms.mapping_failed` and its issues, never with anything else; and outbound requests
 * keep every line and address part of the canonical input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { HubError } from '../../../src/domain/errors.ts';
import { validateEventData } from '../../../src/domain/catalogue.ts';
import { builtinProfilePath, loadProfile } from '../../../src/connectors/wms/profile.ts';
import { buildRequest, mapInbound } from '../../../src/connectors/wms/mappers.ts';
import { mapDelivery } from '../../../src/connectors/wms/webhook.ts';

const profile = loadProfile(builtinProfilePath('simwms'));
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../fixtures/wms/${name}`, import.meta.url), 'utf8'));

const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,20}$/);
const sku = fc.stringMatching(/^[A-Z0-9][A-Z0-9_-]{0,19}$/);
const uom = fc.constantFrom('EA', 'CS', 'PK', 'KG');
const time = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2035-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z'));
const refs = fc.record({ order_id: id, client_reference: id, shipment_reference: id });

const pickLines = fc.uniqueArray(fc.stringMatching(/^[A-Za-z0-9]{1,10}$/), { minLength: 1, maxLength: 8 }).chain((lineRefs) =>
  fc.tuple(
    ...lineRefs.map((ref, i) =>
      fc
        .record({ sku, uom, ordered: fc.integer({ min: 1, max: 1000 }) })
        .chain((l) => fc.integer({ min: 0, max: l.ordered }).map((picked) => ({ line_no: i + 1, line_ref: ref, sku: l.sku, uom: l.uom, ordered_qty: l.ordered, picked_qty: picked, short_qty: l.ordered - picked, short_reason: picked === l.ordered ? null : 'insufficient_stock' }))),
    ),
  ),
);

test('pick.confirmed: a valid order.picked with the picked quantity of every line picked, only when something was picked', async () => {
  await fc.assert(
    fc.asyncProperty(refs, id, time, pickLines, async (r, wave, at, lines) => {
      const body = { id: 'evt_1', type: 'pick.confirmed', created_at: at, data: { ...r, order_number: null, wave_id: wave, confirmed_at: at, lines } };
      const out = await mapInbound(profile, body);
      const picked = out.events.filter((e) => e.type === 'order.picked.v1');
      assert.equal(picked.length, lines.some((l) => l.picked_qty > 0) ? 1 : 0);
      assert.equal(out.events.length, picked.length, 'short lines are the hub\'s to decide: no backorder from the WMS');
      const qty = new Map<string, number>();
      for (const e of out.events) {
        assert.deepEqual(validateEventData(e.type, e.data), []);
        const d = e.data as { orderId: string; lines: { orderLineId: string; quantity: number }[] };
        assert.equal(d.orderId, r.client_reference);
        for (const l of d.lines) qty.set(l.orderLineId, (qty.get(l.orderLineId) ?? 0) + l.quantity);
      }
      for (const l of lines) assert.equal(qty.get(l.line_ref) ?? 0, l.picked_qty);
    }),
    { numRuns: 200 },
  );
});

const wireAddress = fc.record(
  {
    name: fc.stringMatching(/^[A-Za-z][A-Za-z .'-]{0,40}$/),
    address1: fc.stringMatching(/^[0-9A-Za-z][0-9A-Za-z .,-]{0,40}$/),
    address2: fc.stringMatching(/^[0-9A-Za-z][0-9A-Za-z .,-]{0,40}$/),
    city: fc.stringMatching(/^[A-Za-z][A-Za-z .-]{0,30}$/),
    state: fc.stringMatching(/^[A-Z]{2}$/),
    postal_code: fc.stringMatching(/^[0-9A-Z]{3,10}$/),
    country: fc.stringMatching(/^[A-Z]{2}$/),
    phone: fc.stringMatching(/^\+[0-9]{6,14}$/),
  },
  { requiredKeys: ['name', 'address1', 'city', 'country'] },
);

const wirePackage = fc.record({
  package_id: fc.stringMatching(/^[A-Za-z0-9-]{1,30}$/),
  weight_kg: fc.integer({ min: 1, max: 100_000 }).map((g) => g / 1000),
  length_cm: fc.integer({ min: 1, max: 300 }),
  width_cm: fc.integer({ min: 1, max: 300 }),
  height_cm: fc.integer({ min: 1, max: 300 }),
  contents: fc.array(fc.record({ line_ref: fc.stringMatching(/^[A-Za-z0-9]{1,10}$/), sku, quantity: fc.integer({ min: 1, max: 500 }), uom }), { maxLength: 4 }),
});

test('pack.completed: one shipment.packed.v1 keeping every package, weight, size and content', async () => {
  await fc.assert(
    fc.asyncProperty(refs, time, wireAddress, wireAddress, fc.array(wirePackage, { minLength: 1, maxLength: 6 }), async (r, at, from, to, packages) => {
      const body = { id: 'evt_2', type: 'pack.completed', created_at: at, data: { ...r, packed_at: at, ship_from: from, ship_to: to, packages } };
      const out = await mapInbound(profile, body);
      assert.equal(out.events.length, 1);
      const d = out.events[0]!.data as { shipmentId: string; shipTo: { address: { lines: string[]; countryCode: string } }; packages: { packageId: string; weight: { value: number }; dimensions: { length: number }; contents: { quantity: number }[] }[] };
      assert.equal(d.shipmentId, r.shipment_reference);
      assert.equal(d.shipTo.address.countryCode, to.country);
      assert.deepEqual(d.shipTo.address.lines, [to.address1, ...(to.address2 ? [to.address2] : [])]);
      assert.deepEqual(
        d.packages.map((p) => [p.packageId, p.weight.value, p.dimensions.length, p.contents.reduce((s, c) => s + c.quantity, 0)]),
        packages.map((p) => [p.package_id, p.weight_kg, p.length_cm, p.contents.reduce((s, c) => s + c.quantity, 0)]),
      );
    }),
    { numRuns: 150 },
  );
});

const anyBody = fc.oneof(
  fc.anything(),
  fc.record({
    id: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
    type: fc.oneof(fc.constantFrom('order.accepted', 'wave.released', 'pick.confirmed', 'pack.completed', 'order.shipped', 'order.cancelled', 'nope'), fc.anything()),
    data: fc.oneof(fc.anything(), fc.dictionary(fc.constantFrom('order_id', 'client_reference', 'shipment_reference', 'lines', 'packages', 'shipped_at', 'carrier'), fc.anything())),
  }),
);

test('any body whatsoever: mapped, or refused with wms.mapping_failed and its issues; never another failure; deterministic', async () => {
  await fc.assert(
    fc.asyncProperty(anyBody, async (body) => {
      let first: unknown;
      try {
        first = await mapInbound(profile, body);
      } catch (e) {
        assert.ok(e instanceof HubError, `a HubError, not ${e}`);
        assert.equal(e.code, 'wms.mapping_failed');
        assert.equal(e.errorClass, 'business');
        assert.ok(e.issues.length > 0);
        return;
      }
      assert.deepEqual(await mapInbound(profile, body), first);
    }),
    { numRuns: 300 },
  );
});

test('the fixtures map as documented; an unknown type and invalid data are precise wms.mapping_failed errors', async () => {
  const ack = await mapInbound(profile, fixture('webhook-order.accepted.json'));
  assert.deepEqual(ack.events.map((e) => e.type), ['fulfilment.acknowledged.v1']);
  assert.equal((await mapInbound(profile, fixture('webhook-wave.released.json'))).events.length, 0);
  assert.deepEqual((await mapInbound(profile, fixture('webhook-pick.confirmed.json'))).events.map((e) => e.type), ['order.picked.v1']);

  await assert.rejects(mapInbound(profile, fixture('webhook-unknown-type.json')), (e: HubError) => {
    assert.equal(e.code, 'wms.mapping_failed');
    assert.match(e.message, /the WMS event type "inventory\.adjusted" has no mapping in profile simwms/);
    assert.deepEqual(e.issues, [{ path: 'inbound.events."inventory.adjusted"', message: 'no mapping for this WMS event type' }]);
    return true;
  });
  await assert.rejects(mapInbound(profile, fixture('webhook-pick.confirmed-invalid.json')), (e: HubError) => {
    assert.equal(e.code, 'wms.mapping_failed');
    const paths = e.issues.map((i) => i.path);
    assert.ok(paths.includes('/events/0/data/orderId'), paths.join());
    assert.ok(paths.includes('/events/0/data/pickedAt'), paths.join());
    assert.match(e.message, /simwms\.yaml:\d+:\d+ inbound\.events\."pick\.confirmed"\.map/);
    return true;
  });
  await assert.rejects(mapDelivery(profile, Buffer.from('{"id": ')), (e: HubError) => e.code === 'wms.mapping_failed');
});

const addressLines = fc.array(fc.stringMatching(/^[0-9A-Za-z][0-9A-Za-z .-]{0,30}$/), { minLength: 1, maxLength: 4 });

test('release: every line and address part of the canonical input reaches the request', async () => {
  const base = fixture('release-input.json');
  await fc.assert(
    fc.asyncProperty(
      addressLines,
      fc.uniqueArray(fc.record({ orderLineId: fc.stringMatching(/^[0-9]{1,6}$/), sku, quantity: fc.integer({ min: 1, max: 10_000 }), uom }), { minLength: 1, maxLength: 20, selector: (l) => l.orderLineId }),
      async (lines, orderLines) => {
        const input = { ...base, shipTo: { ...base.shipTo, address: { ...base.shipTo.address, lines } }, lines: orderLines.map((l, i) => ({ lineId: String(i + 1), itemId: `itm-${i}`, ...l })) };
        const req = await buildRequest(profile, 'release', input);
        const body = req.body as { ship_to: { address1: string; address2?: string }; lines: { line_ref: string; sku: string; quantity: number }[] };
        assert.equal(body.ship_to.address1, lines[0]);
        assert.equal(body.ship_to.address2, lines.length > 1 ? lines.slice(1).join(', ') : undefined);
        assert.deepEqual(
          body.lines,
          orderLines.map((l) => ({ line_ref: l.orderLineId, sku: l.sku, quantity: l.quantity })),
        );
        assert.equal(req.headers['Idempotency-Key'], base.fulfilmentRequestId);
      },
    ),
    { numRuns: 100 },
  );
});
