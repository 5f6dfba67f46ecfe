/**
 * localTimeToUtc (src/domain/tracking.ts): a carrier's local wall-clock time read in an IANA
 * zone, across daylight-saving gaps (skipped hours) and overlaps (repeated hours), with a
 * property checked against an independent oracle built on Intl formatting.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isKnownZone, localTimeToUtc } from '../../src/domain/tracking.ts';

const RUNS = Number(process.env.FC_RUNS ?? 300);

describe('localTimeToUtc', () => {
  it('reads ordinary times with the offset in force', () => {
    assert.equal(localTimeToUtc('2026-01-15T09:30', 'America/New_York'), '2026-01-15T14:30:00.000Z'); // EST -5
    assert.equal(localTimeToUtc('2026-07-15T09:30:15', 'America/New_York'), '2026-07-15T13:30:15.000Z'); // EDT -4
    assert.equal(localTimeToUtc('2026-07-15T09:30:15.25', 'Europe/Berlin'), '2026-07-15T07:30:15.250Z'); // CEST +2
    assert.equal(localTimeToUtc('2026-01-15T00:15', 'Europe/Berlin'), '2026-01-14T23:15:00.000Z'); // CET +1, day before
    assert.equal(localTimeToUtc('2026-01-15T09:30', 'Australia/Sydney'), '2026-01-14T22:30:00.000Z'); // AEDT +11
    assert.equal(localTimeToUtc('2026-07-15T09:30', 'Australia/Sydney'), '2026-07-14T23:30:00.000Z'); // AEST +10
    assert.equal(localTimeToUtc('2026-12-31T23:59:59', 'UTC'), '2026-12-31T23:59:59.000Z');
  });

  it('reads Asia/Kolkata at +05:30 all year (no daylight saving)', () => {
    for (const local of ['2026-03-08T02:30', '2026-03-29T02:30', '2026-11-01T01:30', '2026-10-04T02:30']) {
      const utc = Date.parse(`${local}:00Z`) - 330 * 60_000;
      assert.equal(localTimeToUtc(local, 'Asia/Kolkata'), new Date(utc).toISOString(), local);
    }
    assert.equal(localTimeToUtc('2026-01-01T03:00', 'Asia/Kolkata'), '2025-12-31T21:30:00.000Z');
  });

  it('reads a skipped local time (spring forward) with the offset before the change', () => {
    // New York, 2026-03-08 02:00 EST → 03:00 EDT: 02:30 does not exist, read at -05:00
    assert.equal(localTimeToUtc('2026-03-08T02:30', 'America/New_York'), '2026-03-08T07:30:00.000Z');
    assert.equal(localTimeToUtc('2026-03-08T01:59', 'America/New_York'), '2026-03-08T06:59:00.000Z');
    assert.equal(localTimeToUtc('2026-03-08T03:00', 'America/New_York'), '2026-03-08T07:00:00.000Z');
    // Berlin, 2026-03-29 02:00 CET → 03:00 CEST: 02:30 read at +01:00
    assert.equal(localTimeToUtc('2026-03-29T02:30', 'Europe/Berlin'), '2026-03-29T01:30:00.000Z');
    assert.equal(localTimeToUtc('2026-03-29T03:00', 'Europe/Berlin'), '2026-03-29T01:00:00.000Z');
    // Sydney, 2026-10-04 02:00 AEST → 03:00 AEDT: 02:30 read at +10:00
    assert.equal(localTimeToUtc('2026-10-04T02:30', 'Australia/Sydney'), '2026-10-03T16:30:00.000Z');
    assert.equal(localTimeToUtc('2026-10-04T03:00', 'Australia/Sydney'), '2026-10-03T16:00:00.000Z');
  });

  it('reads a repeated local time (fall back) as its first occurrence', () => {
    // New York, 2026-11-01 02:00 EDT → 01:00 EST: 01:30 happens twice, first at -04:00
    assert.equal(localTimeToUtc('2026-11-01T01:30', 'America/New_York'), '2026-11-01T05:30:00.000Z');
    assert.equal(localTimeToUtc('2026-11-01T02:00', 'America/New_York'), '2026-11-01T07:00:00.000Z');
    // Berlin, 2026-10-25 03:00 CEST → 02:00 CET: 02:30 first at +02:00
    assert.equal(localTimeToUtc('2026-10-25T02:30', 'Europe/Berlin'), '2026-10-25T00:30:00.000Z');
    assert.equal(localTimeToUtc('2026-10-25T03:00', 'Europe/Berlin'), '2026-10-25T02:00:00.000Z');
    // Sydney, 2026-04-05 03:00 AEDT → 02:00 AEST: 02:30 first at +11:00
    assert.equal(localTimeToUtc('2026-04-05T02:30', 'Australia/Sydney'), '2026-04-04T15:30:00.000Z');
    assert.equal(localTimeToUtc('2026-04-05T03:00', 'Australia/Sydney'), '2026-04-04T17:00:00.000Z');
  });

  it('refuses malformed and non-existent dates', () => {
    for (const bad of [
      '2026-02-29T10:00', // not a leap year
      '2026-04-31T10:00',
      '2026-13-01T10:00',
      '2026-00-10T10:00',
      '2026-03-08T24:00',
      '2026-03-08 10:00',
      '2026-03-08T10:00Z', // an offset is not a local time
      '2026-03-08T10:00+01:00',
      '2026-03-08',
      '26-03-08T10:00',
      '2026-3-8T10:00',
      '',
    ]) {
      assert.equal(localTimeToUtc(bad, 'Europe/Berlin'), undefined, bad);
    }
    assert.equal(localTimeToUtc('2024-02-29T10:00', 'Europe/Berlin'), '2024-02-29T09:00:00.000Z');
  });

  it('refuses out-of-range clock fields', () => {
    for (const bad of ['2026-03-08T10:60', '2026-03-08T10:00:60', '2026-03-08T25:00']) {
      assert.equal(localTimeToUtc(bad, 'Europe/Berlin'), undefined, bad);
    }
  });

  it('refuses unknown zones', () => {
    for (const zone of ['Mars/Olympus_Mons', 'Europe/Berln', '', 'GMT+25']) {
      assert.equal(isKnownZone(zone), false, zone);
      assert.equal(localTimeToUtc('2026-03-08T10:00', zone), undefined, zone);
    }
  });
});

// ---------------------------------------------------------------------------------------
// property: formatting an instant as local time and reading it back

const ZONES = [
  'America/New_York',
  'Europe/Berlin',
  'Australia/Sydney',
  'Asia/Kolkata',
  'America/St_Johns', // -03:30 / -02:30
  'Australia/Lord_Howe', // a 30-minute daylight-saving shift
  'Pacific/Chatham', // +12:45 / +13:45
  'America/Sao_Paulo', // daylight saving until 2019
  'Europe/London',
  'Asia/Tehran',
  'America/Santiago',
  'UTC',
];

const formatters = new Map<string, Intl.DateTimeFormat>();
/** `ms` as local wall-clock time `YYYY-MM-DDTHH:MM:SS` in `zone`, by Intl (independent of the code under test). */
function wallTime(ms: number, zone: string): string {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
}

/** Every instant whose wall time in `zone` is `local`: tries every offset from -14:00 to +14:00 in 15-minute steps. */
function occurrences(local: string, zone: string): number[] {
  const wall = Date.parse(`${local}Z`);
  const out: number[] = [];
  for (let off = -14 * 60; off <= 14 * 60; off += 15) {
    const ms = wall - off * 60_000;
    if (wallTime(ms, zone) === local) out.push(ms);
  }
  return out.sort((a, b) => a - b);
}

describe('localTimeToUtc properties', () => {
  it('gives back the instant a local time was formatted from, or the first occurrence of a repeated hour', () => {
    const instant = fc.integer({ min: Date.UTC(1990, 0, 1) / 1000, max: Date.UTC(2037, 11, 31) / 1000 }).map((s) => s * 1000);
    fc.assert(
      fc.property(instant, fc.constantFrom(...ZONES), (ms, zone) => {
        const local = wallTime(ms, zone);
        const back = Date.parse(localTimeToUtc(local, zone)!);
        const all = occurrences(local, zone);
        assert.ok(all.includes(ms), `oracle misses ${new Date(ms).toISOString()} in ${zone}`);
        assert.equal(back, all[0], `${local} ${zone}: ${new Date(back).toISOString()} instead of ${new Date(all[0]!).toISOString()}`);
        if (all.length === 1) assert.equal(back, ms);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('hits the transitions themselves: every instant within an hour of a change', () => {
    // the two 2026 changes of each daylight-saving zone, minute by minute
    const changes: [string, number][] = [
      ['America/New_York', Date.UTC(2026, 2, 8, 7)],
      ['America/New_York', Date.UTC(2026, 10, 1, 6)],
      ['Europe/Berlin', Date.UTC(2026, 2, 29, 1)],
      ['Europe/Berlin', Date.UTC(2026, 9, 25, 1)],
      ['Australia/Sydney', Date.UTC(2026, 3, 4, 16)],
      ['Australia/Sydney', Date.UTC(2026, 9, 3, 16)],
      ['Australia/Lord_Howe', Date.UTC(2026, 3, 4, 15)],
    ];
    for (const [zone, change] of changes) {
      for (let ms = change - 3_600_000; ms <= change + 3_600_000; ms += 60_000) {
        const local = wallTime(ms, zone);
        assert.equal(Date.parse(localTimeToUtc(local, zone)!), occurrences(local, zone)[0], `${zone} ${local}`);
      }
    }
  });
});
