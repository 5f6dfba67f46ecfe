/**
 * The UPS mappers against bodies in the exact wire format (test/fixtures/ups/) and, with
 * fast-check, against any body the Track API could send: every scan has an RFC 3339 UTC instant
 * and a canonical status; codes no table knows give 'unknown'; local times are never read as UTC.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EXCEPTION_CLASSES, TRACKING_STATUSES } from '../../../src/domain/model.ts';
import { HubError } from '../../../src/domain/errors.ts';
import {
  UPS_STATUS_TABLE,
  UPS_STATUS_TYPE_TABLE,
  mapTrackAlert,
  mapUpsTrackResponse,
  upsInstant,
  upsStatusOf,
  upsTime,
} from '../../../src/connectors/ups/mappers.ts';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../fixtures/ups/${name}`, import.meta.url), 'utf8'));
const UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('UPS status table', () => {
  it('maps every row to a canonical status and a known exception class', () => {
    for (const row of [...Object.values(UPS_STATUS_TABLE), ...Object.values(UPS_STATUS_TYPE_TABLE)]) {
      assert.ok((TRACKING_STATUSES as readonly string[]).includes(row.status), row.description);
      if (row.exceptionClass) assert.ok(row.exceptionClass in EXCEPTION_CLASSES, row.description);
    }
  });

  it('reads delivered as delivered and never falls back to the status type when a statusCode is there', () => {
    assert.equal(upsStatusOf('011', 'D').status, 'delivered');
    assert.equal(upsStatusOf('011', 'I').status, 'delivered');
    assert.equal(upsStatusOf('021', 'I').status, 'out_for_delivery');
    assert.equal(upsStatusOf('999', 'X').status, 'unknown');
    assert.equal(upsStatusOf(undefined, 'D').status, 'unknown', 'type D alone covers out for delivery too');
    assert.equal(upsStatusOf(undefined, 'M').status, 'info_received');
  });
});

describe('UPS time fields', () => {
  it('reads gmtTime with and without leading zeros and with colons', () => {
    assert.equal(upsTime('74700'), '07:47:00');
    assert.equal(upsTime('074700'), '07:47:00');
    assert.equal(upsTime('12:13:56'), '12:13:56');
    assert.equal(upsTime('0'), '00:00:00');
    assert.equal(upsTime('246000'), undefined);
  });

  it('applies offset, utc, zone and assumed in that order', () => {
    assert.deepEqual(upsInstant({ date: '20240423', time: '095004', gmtOffset: '-04:00' }, 'UTC'), { occurredAt: '2024-04-23T13:50:04.000Z', timeRule: 'offset', localTime: '2024-04-23T09:50:04' });
    assert.equal(upsInstant({ date: '20240423', time: '095004', gmtDate: '20240423', gmtTime: '135004' }, 'UTC')!.timeRule, 'utc');
    const zone = upsInstant({ date: '20240110', time: '090000', countryCode: 'US', region: 'NY' }, 'UTC')!;
    assert.deepEqual(zone, { occurredAt: '2024-01-10T14:00:00.000Z', timeRule: 'zone', localTime: '2024-01-10T09:00:00', timeZone: 'America/New_York' });
    const assumed = upsInstant({ date: '20240110', time: '090000', countryCode: 'US', region: 'TN' }, 'America/Chicago')!;
    assert.deepEqual(assumed, { occurredAt: '2024-01-10T15:00:00.000Z', timeRule: 'assumed', localTime: '2024-01-10T09:00:00', timeZone: 'America/Chicago' });
  });
});

describe('mapUpsTrackResponse on the wire fixtures', () => {
  it('maps a delivered single-package answer', () => {
    const r = mapUpsTrackResponse('1Z023E2X0214323462', fixture('track-delivered.json'), 'America/New_York');
    assert.equal(r.notFound, undefined);
    assert.equal(r.scans.length, 4);
    const [fs, ot, dp, mp] = r.scans;
    assert.deepEqual(fs, {
      carrier: 'ups',
      trackingNumber: '1Z023E2X0214323462',
      code: '011:FS',
      status: 'delivered',
      description: 'DELIVERED',
      occurredAt: '2024-04-23T13:50:04.000Z',
      timeRule: 'offset',
      localTime: '2024-04-23T09:50:04',
      location: { city: 'CHARLOTTE', region: 'NC', postalCode: '28209', countryCode: 'US', facility: '2820' },
      signedBy: 'JOHNSON',
    });
    assert.equal(ot!.status, 'out_for_delivery');
    assert.equal(ot!.signedBy, undefined);
    assert.equal(dp!.occurredAt, '2024-04-23T02:54:00.000Z', 'local 22:54 at -04:00 is the next day in UTC');
    assert.equal(mp!.status, 'info_received');
    assert.equal(mp!.pieceNumber, undefined);
  });

  it('sets pieceNumber on every scan of a multi-piece shipment', () => {
    const r = mapUpsTrackResponse('1ZA000000000000001', fixture('track-multipiece.json'), 'America/New_York');
    assert.equal(r.scans.length, 4);
    assert.deepEqual(
      r.scans.map((s) => [s.trackingNumber, s.pieceNumber, s.code]),
      [
        ['1ZA000000000000001', '1ZA000000000000001', '011:FS'],
        ['1ZA000000000000001', '1ZA000000000000001', '003:MP'],
        ['1ZA000000000000001', '1ZA000000000000002', '021:OT'],
        ['1ZA000000000000001', '1ZA000000000000002', '003:MP'],
      ],
    );
    assert.equal(r.scans[0]!.signedBy, 'SMITH');
  });

  it('reads activities without gmt fields by zone or assumed, and unknown codes as unknown', () => {
    const r = mapUpsTrackResponse('1Z999AA10123456784', fixture('track-no-gmt.json'), 'America/Chicago');
    const [dunlap, ny, yp, odd] = r.scans;
    assert.equal(dunlap!.timeRule, 'assumed', 'Tennessee spans two zones');
    assert.equal(dunlap!.occurredAt, '2023-11-30T22:43:40.000Z');
    assert.equal(dunlap!.signedBy, undefined, 'empty receivedBy is no signature');
    assert.equal(ny!.timeRule, 'zone');
    assert.equal(ny!.timeZone, 'America/New_York');
    assert.equal(ny!.occurredAt, '2023-11-29T12:13:56.000Z');
    assert.equal(yp!.timeRule, 'utc');
    assert.equal(yp!.code, 'I:YP');
    assert.equal(yp!.status, 'unknown', 'type I without statusCode is not guessed');
    assert.equal(odd!.code, '099:ZZ');
    assert.equal(odd!.status, 'unknown');
  });

  it('answers notFound for the TW0001 warning and for the documented 404 body', () => {
    assert.deepEqual(mapUpsTrackResponse('1Z5629230309413682', fixture('track-not-found.json'), 'UTC'), { trackingNumber: '1Z5629230309413682', scans: [], notFound: true });
    assert.deepEqual(mapUpsTrackResponse('1Z5629230309413682', fixture('error-404.json'), 'UTC'), { trackingNumber: '1Z5629230309413682', scans: [], notFound: true });
  });
});

describe('mapTrackAlert', () => {
  it('maps the documented delivery message', () => {
    assert.deepEqual(mapTrackAlert(fixture('alert-delivered.json')), [
      {
        carrier: 'ups',
        trackingNumber: '1Z204W4R0308071865',
        code: '011:FS',
        status: 'delivered',
        description: 'Delivered',
        occurredAt: '2024-04-23T13:50:04.000Z',
        timeRule: 'utc',
        localTime: '2024-04-23T09:50:04',
        location: { city: 'CHARLOTTE', region: 'NC', postalCode: '28209', countryCode: 'US' },
      },
    ]);
  });

  it('trims the tracking number and maps the manifest message', () => {
    const [s] = mapTrackAlert(fixture('alert-manifest.json'));
    assert.equal(s!.trackingNumber, '1ZABCXYZ0112346789');
    assert.equal(s!.status, 'info_received');
    assert.equal(s!.occurredAt, '2024-04-22T04:12:30.000Z');
  });

  it('refuses a message without tracking number or time', () => {
    assert.throws(() => mapTrackAlert({}), (e: unknown) => e instanceof HubError && e.code === 'ups.invalid_alert' && e.errorClass === 'permanent');
    assert.throws(() => mapTrackAlert({ trackingNumber: '1Z204W4R0308071865' }), (e: unknown) => e instanceof HubError && e.code === 'ups.invalid_alert');
  });
});

// ------------------------------------------------------------------------ properties

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const knownCodes = Object.keys(UPS_STATUS_TABLE);
const arbStatusCode = fc.oneof(fc.constantFrom(...knownCodes), fc.stringMatching(/^\d{3}$/), fc.constant(undefined));
const arbActivity = fc
  .record({
    y: fc.integer({ min: 2000, max: 2035 }),
    mo: fc.integer({ min: 1, max: 12 }),
    d: fc.integer({ min: 1, max: 28 }),
    h: fc.integer({ min: 0, max: 23 }),
    mi: fc.integer({ min: 0, max: 59 }),
    s: fc.integer({ min: 0, max: 59 }),
    offset: fc.option(fc.integer({ min: -12 * 4, max: 14 * 4 }).map((q) => q * 15), { nil: undefined }),
    gmt: fc.boolean(),
    compactGmt: fc.boolean(),
    statusCode: arbStatusCode,
    type: fc.option(fc.constantFrom('M', 'MV', 'P', 'I', 'X', 'U', 'D', 'RS', 'Q'), { nil: undefined }),
    code: fc.option(fc.stringMatching(/^[A-Z0-9]{2}$/), { nil: undefined }),
    country: fc.option(fc.constantFrom('US', 'CA', 'DE', 'ES', 'BR'), { nil: undefined }),
    region: fc.option(fc.constantFrom('NY', 'TX', 'CA', 'TN', 'ON', 'NS'), { nil: undefined }),
  })
  .map((r) => {
    const a: Record<string, unknown> = {
      location: { address: { countryCode: r.country, stateProvince: r.region } },
      status: { type: r.type, code: r.code, statusCode: r.statusCode, description: 'x' },
      date: `${r.y}${pad(r.mo)}${pad(r.d)}`,
      time: `${pad(r.h)}${pad(r.mi)}${pad(r.s)}`,
    };
    if (r.offset !== undefined) a.gmtOffset = `${r.offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(r.offset) / 60))}:${pad(Math.abs(r.offset) % 60)}`;
    if (r.gmt) {
      a.gmtDate = `${r.y}${pad(r.mo)}${pad(r.d)}`;
      a.gmtTime = r.compactGmt ? String(Number(`${pad(r.h)}${pad(r.mi)}${pad(r.s)}`)) : `${pad(r.h)}:${pad(r.mi)}:${pad(r.s)}`;
    }
    return { a, r };
  });

describe('mapUpsTrackResponse properties', () => {
  it('gives RFC 3339 UTC instants and canonical statuses for any answer', () => {
    fc.assert(
      fc.property(fc.array(fc.array(arbActivity, { maxLength: 6 }), { minLength: 1, maxLength: 3 }), (pkgs) => {
        const body = { trackResponse: { shipment: [{ inquiryNumber: '1ZPROP0000000001', package: pkgs.map((acts, i) => ({ trackingNumber: `1ZPROP000000000${i + 1}`, activity: acts.map((x) => x.a) })) }] } };
        const r = mapUpsTrackResponse('1ZPROP0000000001', body, 'America/New_York');
        assert.equal(r.scans.length, pkgs.flat().length);
        for (const s of r.scans) {
          assert.match(s.occurredAt, UTC);
          assert.ok((TRACKING_STATUSES as readonly string[]).includes(s.status));
          assert.ok(['offset', 'utc', 'zone', 'assumed'].includes(s.timeRule));
          assert.ok(s.localTime, 'the local time is kept');
          if (pkgs.length > 1) assert.ok(s.pieceNumber);
        }
        pkgs.flat().forEach(({ r: x }, i) => {
          const s = r.scans[i]!;
          if (x.statusCode !== undefined && !(x.statusCode in UPS_STATUS_TABLE)) assert.equal(s.status, 'unknown');
          if (x.statusCode === undefined && (x.type === undefined || !(x.type in UPS_STATUS_TYPE_TABLE))) assert.equal(s.status, 'unknown');
          const local = Date.UTC(x.y, x.mo - 1, x.d, x.h, x.mi, x.s);
          if (x.offset !== undefined) assert.equal(Date.parse(s.occurredAt), local - x.offset * 60_000);
          else if (!x.gmt) assert.ok(s.timeRule === 'zone' || s.timeRule === 'assumed', 'a local time alone is never read as UTC');
        });
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const r = mapUpsTrackResponse('1ZANY00000000001', v, 'UTC');
        for (const s of r.scans) assert.match(s.occurredAt, UTC);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same scans for duplicated and shuffled activities (as a set)', () => {
    fc.assert(
      fc.property(fc.array(arbActivity, { minLength: 1, maxLength: 8 }), fc.integer(), (acts, seed) => {
        const one = mapUpsTrackResponse('1ZSET00000000001', { trackResponse: { shipment: [{ inquiryNumber: '1ZSET00000000001', package: [{ trackingNumber: '1ZSET00000000001', activity: acts.map((x) => x.a) }] }] } }, 'UTC');
        const doubled = acts.flatMap((x) => [x.a, x.a]);
        let k = Math.abs(seed);
        for (let i = doubled.length - 1; i > 0; i--) {
          k = (k * 1103515245 + 12345) % 2147483648;
          const j = k % (i + 1);
          [doubled[i], doubled[j]] = [doubled[j]!, doubled[i]!];
        }
        const two = mapUpsTrackResponse('1ZSET00000000001', { trackResponse: { shipment: [{ inquiryNumber: '1ZSET00000000001', package: [{ trackingNumber: '1ZSET00000000001', activity: doubled }] }] } }, 'UTC');
        const key = (s: { code: string; occurredAt: string }) => `${s.code}@${s.occurredAt}`;
        assert.deepEqual(new Set(two.scans.map(key)), new Set(one.scans.map(key)));
      }),
      { numRuns: 200 },
    );
  });
});
