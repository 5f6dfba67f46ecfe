/**
 * The FedEx mappers against fixtures in FedEx's wire format (test/fixtures/fedex) and against
 * generated answers (fast-check): statuses only from TRACKING_STATUSES, instants always RFC 3339
 * UTC, local times never stamped as UTC, unknown codes `unknown`, delivered stays delivered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { TRACKING_STATUSES, EXCEPTION_CLASS_NAMES } from '../../../src/domain/model.ts';
import { HubError } from '../../../src/domain/errors.ts';
import {
  FEDEX_STATUS_TABLE,
  fedexStatus,
  mapAssociatedResponse,
  mapTrackingNumbersResponse,
  readFedexTime,
} from '../../../src/connectors/fedex/mappers.ts';
import { zoneOfPlace } from '../../../src/domain/tracking.ts';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../fixtures/fedex/${name}`, import.meta.url), 'utf8'));
const OPTS = { assumedTimeZone: 'America/Chicago' };
const UTC_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

test('status table: every row is a canonical status and exception class', () => {
  for (const [code, row] of Object.entries(FEDEX_STATUS_TABLE)) {
    assert.ok((TRACKING_STATUSES as readonly string[]).includes(row.status), code);
    assert.notEqual(row.status, 'unknown', code);
    if (row.exceptionClass) assert.ok((EXCEPTION_CLASS_NAMES as readonly string[]).includes(row.exceptionClass), code);
    assert.match(code, /^[A-Z]{2}$/);
  }
  assert.equal(fedexStatus('DL')?.status, 'delivered');
  assert.equal(fedexStatus('OD')?.status, 'out_for_delivery');
  assert.equal(fedexStatus('toString'), undefined, 'no prototype keys');
});

test('delivered fixture: eventType decides (OD is out for delivery though FedEx derives IT), offsets kept exact', () => {
  const [p] = mapTrackingNumbersResponse(fixture('track-delivered.json'), OPTS);
  assert.ok(p);
  assert.equal(p.trackingNumber, '270872375308');
  assert.equal(p.notFound, false);
  assert.equal(p.hasAssociatedShipments, false);
  assert.deepEqual(
    p.scans.map((s) => [s.code, s.status]),
    [['DL:014', 'delivered'], ['AE', 'in_transit'], ['OD', 'out_for_delivery'], ['DP', 'in_transit'], ['IT', 'in_transit'], ['PU', 'picked_up'], ['OC', 'info_received']],
  );
  const dl = p.scans[0]!;
  assert.equal(dl.occurredAt, '2024-02-17T17:34:26.000Z');
  assert.equal(dl.localTime, '2024-02-17T12:34:26');
  assert.equal(dl.timeRule, 'offset');
  assert.equal(dl.signedBy, undefined, '"Signature not required" is not a signer');
  assert.equal(dl.podReference, undefined, 'no SPOD image');
  assert.deepEqual(dl.location, { city: 'Gaffney', region: 'SC', postalCode: '29341', countryCode: 'US' });
  assert.equal(dl.description, 'Delivered: Left at front door. Signature Service not requested.');
  const pu = p.scans.find((s) => s.code === 'PU')!;
  assert.equal(pu.occurredAt, '2024-02-13T20:41:00.000Z', 'Phoenix -07:00');
  assert.equal(pu.location?.facility, '0851');
  for (const s of p.scans) {
    assert.equal(s.carrier, 'fedex');
    assert.equal(s.trackingNumber, '270872375308');
    assert.equal(s.pieceNumber, undefined);
    assert.equal(s.estimatedDeliveryAt, undefined, 'no estimate once delivered');
  }
});

test('batch fixture: weather delay class, window estimate, NOTFOUND, an unknown code', () => {
  const ps = mapTrackingNumbersResponse(fixture('track-delayed-batch.json'), OPTS);
  assert.deepEqual(ps.map((p) => [p.trackingNumber, p.notFound]), [['776094337676', false], ['39936862321', true], ['612999887766', false]]);
  const dy = ps[0]!.scans[0]!;
  assert.equal(dy.code, 'DY:A12');
  assert.equal(dy.status, 'delayed');
  assert.equal(dy.exceptionClass, 'weather', 'delayDetail.type WEATHER');
  assert.equal(dy.estimatedDeliveryAt, '2024-12-04T01:00:00.000Z', 'window.ends 18:00-07:00');
  assert.equal(ps[0]!.scans[1]!.estimatedDeliveryAt, undefined, 'only on the latest scan');
  assert.deepEqual(ps[1]!.scans, []);
  const unknown = ps[2]!.scans[0]!;
  assert.equal(unknown.status, 'unknown');
  assert.equal(unknown.code, 'ZQ');
  assert.equal(unknown.occurredAt, '2024-12-02T10:00:00.000Z');
});

test('multi-piece fixtures: master scans and child scans carry their piece number', () => {
  const [m] = mapTrackingNumbersResponse(fixture('track-mps-master.json'), OPTS);
  assert.equal(m!.hasAssociatedShipments, true);
  assert.ok(m!.scans.every((s) => s.pieceNumber === '794600011111' && s.trackingNumber === '794600011111'));
  const dl = m!.scans.find((s) => s.status === 'delivered')!;
  assert.equal(dl.signedBy, 'J.SMITH');
  assert.equal(dl.podReference, '12027~794600011111~FDEG');
  const children = mapAssociatedResponse(fixture('associated-mps.json'), '794600011111', OPTS);
  assert.equal(children.length, 2);
  assert.ok(children.every((s) => s.pieceNumber === '794600022222' && s.trackingNumber === '794600011111'));
  assert.equal(children[0]!.status, 'out_for_delivery');
  assert.equal(children[0]!.estimatedDeliveryAt, '2026-03-09T20:00:00.000Z');
});

test('a per-number refusal other than NOTFOUND is the table\'s business error', () => {
  assert.throws(
    () => mapTrackingNumbersResponse(fixture('track-invalid-number.json'), OPTS),
    (e: unknown) => e instanceof HubError && e.code === 'fedex.invalid_tracking_number' && e.errorClass === 'business' && e.extra?.trackingNumber === '12',
  );
});

test('bodies that are not Track API answers are fedex.unexpected_response', () => {
  for (const body of [null, {}, { output: {} }, { output: { completeTrackResults: {} } }, { errors: [] }]) {
    assert.throws(() => mapTrackingNumbersResponse(body, OPTS), (e: unknown) => e instanceof HubError && e.code === 'fedex.unexpected_response', JSON.stringify(body));
  }
  const bad = structuredClone(fixture('track-delivered.json')) as { output: { completeTrackResults: { trackResults: { scanEvents: { date: string }[] }[] }[] } };
  bad.output.completeTrackResults[0]!.trackResults[0]!.scanEvents[0]!.date = '17/02/2024 12:34';
  assert.throws(() => mapTrackingNumbersResponse(bad, OPTS), /unreadable date/);
});

test('readFedexTime: offset, zone from the place, assumed zone; never UTC without saying so', () => {
  assert.deepEqual(readFedexTime('2018-02-02T12:01:00-07:00', undefined, 'America/Chicago'), { occurredAt: '2018-02-02T19:01:00.000Z', timeRule: 'offset', localTime: '2018-02-02T12:01:00' });
  assert.equal(readFedexTime('2024-08-12T15:18:10 -0500', undefined, 'UTC')?.occurredAt, '2024-08-12T20:18:10.000Z', 'the spaced compact offset of some examples');
  assert.equal(readFedexTime('2024-01-16T14:35:00Z', undefined, 'Asia/Tokyo')?.timeRule, 'offset');
  const z = readFedexTime('2021-10-01T08:00:00', { region: 'WA', countryCode: 'US' }, 'America/Chicago');
  assert.deepEqual(z, { occurredAt: '2021-10-01T15:00:00.000Z', timeRule: 'zone', localTime: '2021-10-01T08:00:00', timeZone: 'America/Los_Angeles' });
  const a = readFedexTime('2021-10-01T08:00:00', { region: 'TX', countryCode: 'US' }, 'America/Chicago');
  assert.deepEqual(a, { occurredAt: '2021-10-01T13:00:00.000Z', timeRule: 'assumed', localTime: '2021-10-01T08:00:00', timeZone: 'America/Chicago' });
  for (const bad of ['2025-10-21', '2024-02-30T10:00:00-05:00', '2024-02-10T25:00:00', 'x', 42, undefined, '2024-02-10T10:00:00+25:00']) {
    assert.equal(readFedexTime(bad, undefined, 'America/Chicago'), undefined, String(bad));
  }
  assert.equal(zoneOfPlace('US', 'TN'), undefined, 'a state spanning two zones');
  assert.equal(zoneOfPlace('de'), 'Europe/Berlin');
});

// ------------------------------------------------------------------ generated answers

const CODES = Object.keys(FEDEX_STATUS_TABLE);
const pad = (n: number) => String(n).padStart(2, '0');

const arbPlace = fc.record(
  {
    city: fc.constantFrom('SEATTLE', 'MEMPHIS', 'KOELN', ''),
    stateOrProvinceCode: fc.constantFrom('WA', 'TN', 'GA', 'TX', ''),
    postalCode: fc.constantFrom('98108', '38118', ''),
    countryCode: fc.constantFrom('US', 'DE', 'CA'),
    residential: fc.boolean(),
  },
  { requiredKeys: [] },
);

/** A wall time plus how FedEx might write it: with an offset, with Z, or without offset. */
const arbDate = fc
  .record({
    t: fc.integer({ min: Date.UTC(2015, 0, 1), max: Date.UTC(2035, 0, 1) }),
    offMin: fc.integer({ min: -12 * 4, max: 14 * 4 }).map((q) => q * 15),
    form: fc.constantFrom('offset', 'offset', 'offset', 'Z', 'none'),
  })
  .map(({ t, offMin, form }) => {
    const d = new Date(Math.floor(t / 1000) * 1000 + (form === 'offset' ? offMin : 0) * 60_000);
    const local = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
    const a = Math.abs(offMin);
    const off = `${offMin < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
    return { text: form === 'offset' ? local + off : form === 'Z' ? `${local}Z` : local, instant: form === 'none' ? undefined : Math.floor(t / 1000) * 1000 };
  });

const arbEvent = fc.record({
  date: arbDate,
  eventType: fc.oneof(fc.constantFrom(...CODES), fc.stringMatching(/^[A-Z0-9]{1,3}$/)),
  exceptionCode: fc.constantFrom('', '08', 'A12', '014'),
  scanLocation: arbPlace,
  delay: fc.option(fc.constantFrom('WEATHER', 'CLEARANCE', 'GENERAL'), { nil: undefined }),
});

const arbBody = fc.array(
  fc.record({ number: fc.stringMatching(/^[0-9]{12}$/), events: fc.array(arbEvent, { maxLength: 12 }), found: fc.boolean(), mps: fc.boolean() }),
  { minLength: 1, maxLength: 5 },
);

type GenPackage = { number: string; events: { date: { text: string }; eventType: string; exceptionCode: string; scanLocation: object; delay: string | undefined }[]; found: boolean; mps: boolean };

function render(packages: GenPackage[]): unknown {
  return {
    transactionId: 't',
    output: {
      completeTrackResults: packages.map((p) => ({
        trackingNumber: p.number,
        trackResults: [
          p.found
            ? {
                trackingNumberInfo: { trackingNumber: p.number, trackingNumberUniqueId: '', carrierCode: 'FDXG' },
                additionalTrackingInfo: { hasAssociatedShipments: p.mps },
                scanEvents: p.events.map((e) => ({
                  date: e.date.text,
                  eventType: e.eventType,
                  eventDescription: 'x',
                  exceptionCode: e.exceptionCode,
                  exceptionDescription: '',
                  scanLocation: e.scanLocation,
                  ...(e.delay ? { delayDetail: { type: e.delay } } : {}),
                })),
              }
            : { trackingNumberInfo: { trackingNumber: p.number }, error: { code: 'TRACKING.TRACKINGNUMBER.NOTFOUND', message: 'not found' } },
        ],
      })),
    },
  };
}

test('property: any valid answer gives RFC 3339 UTC instants and canonical statuses; unknown codes are unknown', () => {
  fc.assert(
    fc.property(arbBody, (packages) => {
      const mapped = mapTrackingNumbersResponse(render(packages), OPTS);
      assert.equal(mapped.length, packages.length);
      mapped.forEach((m, i) => {
        const src = packages[i]!;
        assert.equal(m.notFound, !src.found);
        assert.equal(m.scans.length, src.found ? src.events.length : 0);
        m.scans.forEach((s, j) => {
          const e = src.events[j]!;
          assert.match(s.occurredAt, UTC_RE);
          assert.ok((TRACKING_STATUSES as readonly string[]).includes(s.status));
          const row = FEDEX_STATUS_TABLE[e.eventType];
          assert.equal(s.status, Object.hasOwn(FEDEX_STATUS_TABLE, e.eventType) ? row!.status : 'unknown');
          assert.equal(s.code.split(':')[0], e.eventType);
          if (e.date.instant !== undefined) {
            assert.equal(Date.parse(s.occurredAt), e.date.instant, 'offset times are exact');
            assert.equal(s.timeRule, 'offset');
          } else {
            assert.ok(s.timeRule === 'zone' || s.timeRule === 'assumed', 'a time without offset is never read as UTC');
            assert.ok(s.timeZone);
          }
          assert.equal(s.pieceNumber, src.mps ? src.number : undefined);
          if (s.status === 'delivered') assert.equal(s.code.startsWith('DL'), true);
        });
      });
    }),
    { numRuns: 300 },
  );
});

test('property: duplicated and shuffled scan events give the same set of scans', () => {
  fc.assert(
    fc.property(arbBody, fc.integer(), (packages, seed) => {
      const key = (body: unknown) =>
        mapTrackingNumbersResponse(body, OPTS)
          .flatMap((m) => m.scans.map((s) => JSON.stringify([s.trackingNumber, s.pieceNumber, s.code, s.occurredAt, s.status, s.estimatedDeliveryAt ?? null])))
          .sort();
      const base = new Set(key(render(packages)));
      let r = seed;
      const rand = () => ((r = (r * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
      const noisy = packages.map((p) => {
        const evs = p.events.flatMap((e) => [e, e]);
        for (let i = evs.length - 1; i > 0; i--) {
          const j = Math.floor(rand() * (i + 1));
          [evs[i], evs[j]] = [evs[j]!, evs[i]!];
        }
        return { ...p, events: evs };
      });
      assert.deepEqual(new Set(key(render(noisy))), base);
    }),
    { numRuns: 200 },
  );
});
