/**
 * The DHL mappers against fixtures in the Unified wire format (test/fixtures/dhl) and, with
 * fast-check, against any body of that shape: valid UTC instants, statuses from the
 * canonical list, unknown codes as 'unknown', local times never stamped as UTC.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { EXCEPTION_CLASSES, TRACKING_STATUSES } from '../../../src/domain/model.ts';
import { SINGLE_ZONE_COUNTRIES } from '../../../src/domain/tracking.ts';
import { DHL_STATUS_TABLE, dhlScanTime, dhlStatusOf, mapDhlLookup, mapDhlShipment } from '../../../src/connectors/dhl/mappers.ts';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../fixtures/dhl/${name}`, import.meta.url), 'utf8'));
const UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const GROUPS = ['pre-transit', 'transit', 'delivered', 'failure', 'unknown'];

test('the status table uses canonical statuses and exception classes only', () => {
  for (const [code, row] of Object.entries(DHL_STATUS_TABLE)) {
    assert.ok((TRACKING_STATUSES as readonly string[]).includes(row.status), code);
    if (row.exceptionClass) assert.ok(row.exceptionClass in EXCEPTION_CLASSES, code);
    const group = code.split(':')[0]!;
    assert.ok(GROUPS.includes(group), `${code} belongs to a documented Unified group`);
  }
  assert.equal(DHL_STATUS_TABLE['delivered:OK']!.status, 'delivered');
  assert.equal(DHL_STATUS_TABLE['transit:WC']!.status, 'out_for_delivery');
});

test('express journey: codes, statuses, zone rule per country, proof of delivery on the delivered scan', () => {
  const [r] = [mapDhlLookup({ trackingNumber: '1234567890', found: true, body: fixture('express-delivered.json') }, 'Europe/Berlin')];
  assert.equal(r!.notFound, undefined);
  const scans = r!.scans;
  assert.deepEqual(
    scans.map((s) => [s.code, s.status, s.occurredAt, s.timeRule, s.timeZone, s.localTime]),
    [
      ['delivered:OK', 'delivered', '2026-03-03T10:42:00.000Z', 'zone', 'Europe/London', '2026-03-03T10:42:00'],
      ['transit:WC', 'out_for_delivery', '2026-03-03T07:15:00.000Z', 'zone', 'Europe/London', '2026-03-03T07:15:00'],
      ['transit:DF', 'in_transit', '2026-03-02T22:05:00.000Z', 'zone', 'Europe/Berlin', '2026-03-02T23:05:00'],
      ['transit:PU', 'picked_up', '2026-03-02T17:30:00.000Z', 'zone', 'Europe/Berlin', '2026-03-02T18:30:00'],
      ['pre-transit', 'info_received', '2026-03-02T08:00:00.000Z', 'zone', 'Europe/Berlin', '2026-03-02T09:00:00'],
    ],
  );
  const delivered = scans[0]!;
  assert.equal(delivered.signedBy, 'SMITH');
  assert.equal(delivered.podReference, 'https://webpod.dhl.com/webPOD/DHLePODRequest?awb=1234567890');
  assert.deepEqual(delivered.location, { city: 'London', postalCode: 'EC1A 1BB', countryCode: 'GB' });
  assert.equal(delivered.carrier, 'dhl');
  assert.equal(delivered.trackingNumber, '1234567890');
  assert.equal(scans[1]!.signedBy, undefined, 'only delivered scans carry the proof');
});

test('multi-piece: piece scans carry pieceNumber, a scan of every piece stays shipment-level', () => {
  const r = mapDhlLookup({ trackingNumber: '5550001111', found: true, body: fixture('multi-piece.json') }, 'Europe/Berlin');
  assert.deepEqual(
    r.scans.map((s) => [s.code, s.pieceNumber, s.occurredAt]),
    [
      ['transit:AR', 'JD014600005550001112', '2026-07-14T14:20:00.000Z'],
      ['transit:AR', 'JD014600005550001111', '2026-07-14T14:05:00.000Z'],
      ['transit:DF', undefined, '2026-07-14T00:10:00.000Z'],
    ],
  );
});

test('offset, utc-with-Z, assumed zone (repeated hour), unknown detail and unknown group', () => {
  const r = mapDhlLookup({ trackingNumber: '7777777770', found: true, body: fixture('offset-and-assumed.json') }, 'America/Chicago');
  const [nh, cd, zz, odd] = r.scans;
  assert.deepEqual([nh!.code, nh!.status, nh!.exceptionClass, nh!.timeRule, nh!.timeZone, nh!.occurredAt], [
    'failure:NH', 'delivery_failed', 'delivery_failed', 'assumed', 'America/Chicago', '2026-11-01T06:30:00.000Z',
  ]);
  assert.deepEqual([cd!.code, cd!.status, cd!.exceptionClass, cd!.timeRule, cd!.occurredAt, cd!.localTime, cd!.timeZone], [
    'transit:CD', 'on_hold', 'customs_hold', 'offset', '2026-10-31T18:53:47.000Z', '2026-10-31T18:53:47', undefined,
  ]);
  assert.deepEqual([zz!.code, zz!.status, zz!.timeRule, zz!.occurredAt], ['transit:ZZ', 'in_transit', 'offset', '2026-10-30T13:00:00.000Z']);
  assert.deepEqual([odd!.code, odd!.status, odd!.timeRule, odd!.occurredAt], ['returned', 'unknown', 'zone', '2026-10-29T23:00:00.000Z']);
  // the same body with another default zone moves only the assumed scan
  const berlin = mapDhlLookup({ trackingNumber: '7777777770', found: true, body: fixture('offset-and-assumed.json') }, 'Europe/Berlin');
  assert.equal(berlin.scans[0]!.occurredAt, '2026-11-01T00:30:00.000Z');
  assert.deepEqual(berlin.scans.slice(1), r.scans.slice(1));
});

test('404 and an empty list are notFound, not errors', () => {
  assert.deepEqual(mapDhlLookup({ trackingNumber: 'X123', found: false, body: fixture('not-found.json') }, 'UTC'), { trackingNumber: 'X123', scans: [], notFound: true });
  assert.deepEqual(mapDhlLookup({ trackingNumber: 'X123', found: true, body: { shipments: [] } }, 'UTC'), { trackingNumber: 'X123', scans: [], notFound: true });
});

test('a shipment with a status and no events gives one scan from the status', () => {
  const scans = mapDhlShipment({ id: 'A1', status: { timestamp: '2026-01-05T12:00:00', statusCode: 'delivered', location: { address: { countryCode: 'FR' } } } }, 'A1', 'UTC');
  assert.equal(scans.length, 1);
  assert.equal(scans[0]!.occurredAt, '2026-01-05T11:00:00.000Z');
});

test('timestamps: never read as UTC without an offset; malformed values give no time', () => {
  assert.equal(dhlScanTime('2026-06-01T12:00:00', 'DE', 'UTC')!.occurredAt, '2026-06-01T10:00:00.000Z');
  assert.equal(dhlScanTime('2026-06-01T12:00:00', undefined, 'Asia/Tokyo')!.occurredAt, '2026-06-01T03:00:00.000Z');
  assert.equal(dhlScanTime('2026-06-01T12:00:00+0200', 'US', 'UTC')!.occurredAt, '2026-06-01T10:00:00.000Z');
  assert.equal(dhlScanTime('2026-06-01T12:00:00.5-05:30', undefined, 'UTC')!.occurredAt, '2026-06-01T17:30:00.500Z');
  assert.equal(dhlScanTime('2026-06-01', 'DE', 'UTC')!.localTime, '2026-06-01T00:00');
  for (const bad of ['', 'yesterday', '2026-02-30T10:00:00', '2026-06-01T25:00:00', 42, null, '2026-06-01T10:00:00+25:00']) {
    assert.equal(dhlScanTime(bad, 'DE', 'UTC'), undefined, String(bad));
  }
});

// ------------------------------------------------------------------ properties

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const localTimeArb = fc
  .record({ y: fc.integer({ min: 2000, max: 2099 }), mo: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 28 }), h: fc.integer({ min: 0, max: 23 }), mi: fc.integer({ min: 0, max: 59 }), s: fc.integer({ min: 0, max: 59 }) })
  .map((t) => `${t.y}-${pad(t.mo)}-${pad(t.d)}T${pad(t.h)}:${pad(t.mi)}:${pad(t.s)}`);
const offsetArb = fc.oneof(fc.constant(''), fc.constant('Z'), fc.record({ sign: fc.constantFrom('+', '-'), h: fc.integer({ min: 0, max: 14 }), m: fc.constantFrom(0, 30, 45) }).map((o) => `${o.sign}${pad(o.h)}:${pad(o.m)}`));
const countryArb = fc.oneof(fc.constantFrom(...Object.keys(SINGLE_ZONE_COUNTRIES)), fc.constantFrom('US', 'CA', 'AU', 'BR', 'RU'), fc.constant(undefined));
const knownCodeArb = fc.constantFrom(...Object.keys(DHL_STATUS_TABLE));
const eventArb = fc.record(
  {
    timestamp: fc.tuple(localTimeArb, offsetArb).map(([l, o]) => l + o),
    statusCode: fc.oneof(fc.constantFrom(...GROUPS), fc.string()),
    statusDetailed: fc.option(fc.oneof(fc.constantFrom('PU', 'OK', 'WC', 'NH', 'RT'), fc.string()), { nil: undefined }),
    description: fc.option(fc.string(), { nil: undefined }),
    location: fc.option(countryArb.map((cc) => ({ address: cc ? { countryCode: cc, addressLocality: 'X' } : { addressLocality: 'X' } })), { nil: undefined }),
    pieceIds: fc.option(fc.array(fc.constantFrom('P1', 'P2', 'P3'), { maxLength: 3 }), { nil: undefined }),
  },
  { requiredKeys: ['timestamp'] },
);
const bodyArb = fc.record({
  shipments: fc.array(
    fc.record({ id: fc.constantFrom('T1', 'T2'), details: fc.record({ pieceIds: fc.constant(['P1', 'P2', 'P3']), totalNumberOfPieces: fc.constant(3) }), events: fc.array(eventArb, { maxLength: 8 }) }),
    { maxLength: 3 },
  ),
});

test('property: any valid body gives RFC 3339 UTC instants and canonical statuses', () => {
  fc.assert(
    fc.property(bodyArb, fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Sydney'), (body, zone) => {
      const r = mapDhlLookup({ trackingNumber: 'T1', found: true, body }, zone);
      for (const s of r.scans) {
        assert.match(s.occurredAt, UTC);
        assert.equal(new Date(s.occurredAt).toISOString(), s.occurredAt);
        assert.ok((TRACKING_STATUSES as readonly string[]).includes(s.status));
        assert.ok(['offset', 'zone', 'assumed'].includes(s.timeRule));
        if (s.timeRule !== 'offset') assert.ok(s.timeZone, 'zone and assumed scans name their zone');
        assert.equal(s.carrier, 'dhl');
      }
    }),
    { numRuns: 300 },
  );
});

test('property: codes outside the table give unknown, never a guess', () => {
  fc.assert(
    fc.property(fc.string().filter((c) => !GROUPS.includes(c) && !(c in DHL_STATUS_TABLE) && !GROUPS.some((g) => c.startsWith(`${g}:`))), (code) => {
      assert.equal(dhlStatusOf(code).status, 'unknown');
      const [scan] = mapDhlShipment({ id: 'T', events: [{ timestamp: '2026-01-01T10:00:00Z', statusCode: code }] }, 'T', 'UTC');
      if (scan) assert.equal(scan.status, 'unknown');
    }),
  );
  fc.assert(fc.property(knownCodeArb, (code) => assert.equal(dhlStatusOf(code), DHL_STATUS_TABLE[code])));
});

test('property: a local time without offset in a single-zone country reads back as that local time', () => {
  fc.assert(
    fc.property(localTimeArb, fc.constantFrom('JP', 'CN', 'IN', 'SG', 'AE', 'ZA'), (local, cc) => {
      const t = dhlScanTime(local, cc, 'UTC')!;
      assert.equal(t.timeRule, 'zone');
      const wall = new Intl.DateTimeFormat('sv-SE', { timeZone: t.timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
        .format(new Date(t.occurredAt))
        .replace(' ', 'T');
      assert.equal(wall, local);
      if (cc !== 'ZA') assert.notEqual(t.occurredAt.slice(0, 19), local, 'not stamped as UTC');
    }),
  );
});

test('property: duplicating or shuffling events gives the same multiset of scans', () => {
  fc.assert(
    fc.property(fc.array(eventArb, { minLength: 1, maxLength: 8 }), fc.integer(), (events, seed) => {
      const key = (s: object) => JSON.stringify(s);
      const base = mapDhlShipment({ id: 'T1', events }, 'T1', 'UTC').map(key).sort();
      const shuffled = [...events].sort((a, b) => ((JSON.stringify(a).length * 31 + seed) % 7) - ((JSON.stringify(b).length * 31 + seed) % 7));
      const again = mapDhlShipment({ id: 'T1', events: [...shuffled, ...shuffled] }, 'T1', 'UTC').map(key).sort();
      assert.deepEqual([...new Set(again)], [...new Set(base)]);
      assert.equal(again.length, base.length * 2);
    }),
  );
});

test('property: junk bodies never throw', () => {
  fc.assert(
    fc.property(fc.anything(), (junk) => {
      mapDhlLookup({ trackingNumber: 'T', found: true, body: junk }, 'UTC');
      mapDhlLookup({ trackingNumber: 'T', found: true, body: { shipments: [junk, { events: [junk] }] } }, 'UTC');
    }),
  );
});
