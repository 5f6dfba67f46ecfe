import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatInstant, instantKey, isDateTime, isFullDate, parseInstant } from '../../src/domain/index.ts';

describe('RFC 3339 parsing', () => {
  it('accepts date-times with an offset and refuses the rest', () => {
    for (const ok of ['2026-03-04T10:15:00Z', '2026-03-04T10:15:00.1+01:00', '2026-03-04T10:15:00.123456789-05:30', '2024-02-29T00:00:00Z', '0001-01-01T00:00:00Z']) {
      assert.ok(isDateTime(ok), ok);
    }
    for (const bad of [
      '2026-03-04T10:15:00', // no offset
      '2026-03-04 10:15:00Z',
      '2026-03-04t10:15:00z',
      '2026-02-29T00:00:00Z', // not a leap year
      '2100-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-03-04T24:00:00Z',
      '2026-03-04T10:60:00Z',
      '2026-12-31T23:59:60Z', // leap second
      '2026-03-04T10:15:00+24:00',
      '2026-03-04T10:15:00.1234567890Z',
      '26-03-04T10:15:00Z',
      '',
    ]) {
      assert.ok(!isDateTime(bad), bad);
    }
  });

  it('accepts calendar dates only when they exist', () => {
    assert.ok(isFullDate('2000-02-29'));
    assert.ok(!isFullDate('1900-02-29'));
    assert.ok(!isFullDate('2026-00-10'));
    assert.ok(!isFullDate('2026-3-4'));
  });

  it('normalises one instant written in several ways to one key and one display form', () => {
    const forms = ['2026-03-04T10:15:00Z', '2026-03-04T11:15:00+01:00', '2026-03-04T04:45:00.000-05:30', '2026-03-04T10:15:00.000000000Z'];
    const keys = forms.map((f) => instantKey(parseInstant(f)!));
    assert.deepEqual(new Set(keys), new Set(['2026-03-04T10:15:00.000000000Z']));
    assert.deepEqual(new Set(forms.map((f) => formatInstant(parseInstant(f)!))), new Set(['2026-03-04T10:15:00.000Z']));
    assert.equal(formatInstant(parseInstant('2026-03-04T10:15:00.0000005Z')!), '2026-03-04T10:15:00.0000005Z');
  });

  it('crosses day, month and year boundaries with offsets', () => {
    assert.equal(instantKey(parseInstant('2026-01-01T00:30:00+01:00')!), '2025-12-31T23:30:00.000000000Z');
    assert.equal(instantKey(parseInstant('2024-02-28T23:00:00-02:00')!), '2024-02-29T01:00:00.000000000Z');
  });

  it('agrees with Date for every millisecond instant, and its keys sort like the instants (property)', () => {
    const ms = fc.integer({ min: Date.UTC(1, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) });
    fc.assert(
      fc.property(ms, ms, fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }), (a, b, offsetMin) => {
        const iso = new Date(a).toISOString();
        const i = parseInstant(iso)!;
        assert.equal(i.epochMs, a);
        assert.equal(formatInstant(i), iso);
        // the same instant written with an offset
        const local = new Date(a + offsetMin * 60_000).toISOString().slice(0, 23);
        const sign = offsetMin < 0 ? '-' : '+';
        const abs = Math.abs(offsetMin);
        const withOffset = `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        if (/^\d{4}-/.test(local)) assert.equal(parseInstant(withOffset)?.epochMs, a, withOffset);
        const ka = instantKey({ epochMs: a, subMsNanos: 0 });
        const kb = instantKey({ epochMs: b, subMsNanos: 0 });
        assert.equal(Math.sign(a - b), ka < kb ? -1 : ka > kb ? 1 : 0);
      }),
      { numRuns: 500 },
    );
  });
});
