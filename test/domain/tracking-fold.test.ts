/**
 * The tracking fold (src/domain/tracking-fold.ts): one test per rule of docs/tracking.md, then
 * properties over random scan sets drawn from small pools (few instants written in several
 * ways, few codes, two pieces plus the master) so that duplicates, ties and regressions are
 * frequent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TRACKING_STATUSES, ValidationError } from '../../src/domain/index.ts';
import type { TrackingStatus } from '../../src/domain/index.ts';
import { TRACKING_RANK, emptyTracking, foldScans, isRegression, scanId } from '../../src/domain/tracking-fold.ts';
import type { TrackingState } from '../../src/domain/tracking-fold.ts';
import type { CarrierScan } from '../../src/domain/tracking.ts';

const RUNS = Number(process.env.FC_RUNS ?? 300);
const MASTER = '1Z999AA10123456784';

/** A scan of the master number at minute `minute` of 2026-03-02 12:00 UTC. */
function scan(status: TrackingStatus, minute: number, extra: Partial<CarrierScan> = {}): CarrierScan {
  return {
    carrier: 'ups',
    trackingNumber: MASTER,
    code: `${status.toUpperCase()}`,
    status,
    occurredAt: new Date(Date.UTC(2026, 2, 2, 12, minute)).toISOString(),
    timeRule: 'offset',
    ...extra,
  };
}

const at = (minute: number) => new Date(Date.UTC(2026, 2, 2, 12, minute)).toISOString();

/** Folds `scans` into a fresh state of the given pieces, in one call. */
function foldAll(scans: CarrierScan[], pieces: string[] = []) {
  return foldScans(emptyTracking('ups', MASTER, pieces), scans);
}

describe('scan identity', () => {
  it('is carrier, piece-or-master number, code and instant, not the payload', () => {
    const a = scan('in_transit', 1, { description: 'Arrived at facility', location: { city: 'Louisville', countryCode: 'US' } });
    const b = { ...a, description: 'ARRIVED AT FACILITY', location: { city: 'LOUISVILLE' }, timeRule: 'zone' as const, localTime: '2026-03-02T07:01' };
    assert.equal(scanId(a), scanId(b));
    // the same instant spelled differently
    assert.equal(scanId(a), scanId({ ...a, occurredAt: '2026-03-02T07:01:00-05:00' }));
    assert.equal(scanId(a), scanId({ ...a, occurredAt: '2026-03-02T12:01:00.000000000Z' }));
    // the master number named as the piece, and spacing or case of the number
    assert.equal(scanId(a), scanId({ ...a, pieceNumber: MASTER }));
    assert.equal(scanId(a), scanId({ ...a, trackingNumber: '1z 999 aa1 01 2345 6784' }));
    // each part of the identity matters
    for (const other of [{ carrier: 'fedex' }, { pieceNumber: 'P2' }, { code: 'AR' }, { occurredAt: at(2) }, { occurredAt: '2026-03-02T12:01:00.000001Z' }]) {
      assert.notEqual(scanId(a), scanId({ ...a, ...other }), JSON.stringify(other));
    }
  });

  it('cannot be forged by a separator inside a part', () => {
    const a = scan('in_transit', 1, { code: 'A|B', pieceNumber: 'P1' });
    const b = scan('in_transit', 1, { code: 'B', pieceNumber: 'P1|A' });
    assert.notEqual(scanId(a), scanId(b));
  });

  it('refuses a scan without a valid instant', () => {
    assert.throws(() => scanId(scan('in_transit', 1, { occurredAt: '2026-02-30T10:00:00Z' })), ValidationError);
  });
});

describe('emptyTracking', () => {
  it('starts pending with every piece pending; pieces are normalised, de-duplicated and sorted', () => {
    const s = emptyTracking('ups', ' 1z999aa10123456784 ', ['P2', 'p1', 'P2']);
    assert.equal(s.trackingNumber, MASTER);
    assert.deepEqual(s.pieces, ['P1', 'P2']);
    assert.equal(s.status, 'pending');
    assert.deepEqual(s.perPiece, { P1: { status: 'pending' }, P2: { status: 'pending' } });
    assert.deepEqual(emptyTracking('ups', MASTER).perPiece, { [MASTER]: { status: 'pending' } });
  });

  it('refuses an empty carrier, tracking number or piece', () => {
    assert.throws(() => emptyTracking('', MASTER), (e: unknown) => e instanceof ValidationError && e.code === 'tracking.invalid_shipment');
    assert.throws(() => emptyTracking('ups', '  '), ValidationError);
    assert.throws(() => emptyTracking('ups', MASTER, ['P1', '']), (e: unknown) => e instanceof ValidationError && e.issues[0]!.path === '/pieces/1');
  });
});

describe('rule 1: duplicates', () => {
  it('treats a re-sent scan with another description or location as a duplicate and keeps the first', () => {
    const first = scan('in_transit', 1, { description: 'Arrived', location: { city: 'Louisville' } });
    const again = { ...first, description: 'Arrived at UPS facility', location: { city: 'LOUISVILLE', region: 'KY' }, occurredAt: '2026-03-02T07:01:00-05:00' };
    const r = foldAll([first, again]);
    assert.equal(r.state.timeline.length, 1);
    assert.equal(r.state.timeline[0]!.description, 'Arrived');
    assert.deepEqual(r.state.timeline[0]!.location, { city: 'Louisville' });
    assert.deepEqual(r.duplicates, [again]);
    assert.equal(r.added.length, 1);
    // and across calls: the scan kept earlier wins
    const r2 = foldScans(r.state, [again]);
    assert.deepEqual(r2.duplicates, [again]);
    assert.deepEqual(r2.added, []);
    assert.deepEqual(r2.state, r.state);
    assert.equal(r2.statusChanged, false);
  });

  it('keeps scans that differ in code, piece or instant', () => {
    const r = foldAll([scan('in_transit', 1), scan('in_transit', 1, { code: 'DP' }), scan('in_transit', 2), scan('in_transit', 1, { pieceNumber: 'P1' })], ['P1']);
    assert.equal(r.state.timeline.length, 4);
    assert.deepEqual(r.duplicates, []);
  });
});

describe('rule 2: status per piece by progress rank', () => {
  it('ranks every status but unknown', () => {
    assert.deepEqual(Object.keys(TRACKING_RANK).sort(), TRACKING_STATUSES.filter((s) => s !== 'unknown').sort());
    assert.ok(isRegression('out_for_delivery', 'in_transit'));
    assert.ok(isRegression('delivered', 'returned_to_sender'));
    assert.ok(!isRegression('exception', 'in_transit'));
    assert.ok(!isRegression('delivery_failed', 'out_for_delivery'));
    assert.ok(!isRegression('in_transit', 'unknown'));
    assert.ok(!isRegression('unknown', 'pending'));
  });

  it('applies scans in instant order, whatever the arrival order', () => {
    const r = foldAll([scan('out_for_delivery', 5), scan('info_received', 1), scan('in_transit', 3), scan('picked_up', 2)]);
    assert.equal(r.state.status, 'out_for_delivery');
    assert.equal(r.state.statusAt, at(5));
    assert.deepEqual(r.state.timeline.map((f) => f.status), ['info_received', 'picked_up', 'in_transit', 'out_for_delivery']);
    assert.ok(r.state.timeline.every((f) => f.ignored === undefined));
  });

  it('flags a lower rank as a regression and does not apply it', () => {
    const r = foldAll([scan('out_for_delivery', 1), scan('in_transit', 2)]);
    assert.equal(r.state.status, 'out_for_delivery');
    assert.equal(r.state.statusAt, at(1));
    assert.equal(r.state.timeline[1]!.ignored, 'regression');
    assert.deepEqual(r.regressions.map((f) => f.status), ['in_transit']);
  });

  it('applies an equal rank: recovery from an exception, a new attempt after a failed delivery', () => {
    assert.equal(foldAll([scan('exception', 1), scan('in_transit', 2)]).state.status, 'in_transit');
    assert.equal(foldAll([scan('in_transit', 1), scan('on_hold', 2), scan('delayed', 3)]).state.status, 'delayed');
    const r = foldAll([scan('out_for_delivery', 1), scan('delivery_failed', 2), scan('out_for_delivery', 3)]);
    assert.equal(r.state.status, 'out_for_delivery');
    assert.equal(r.state.statusAt, at(3));
    assert.deepEqual(r.regressions, []);
  });

  it('ignores everything after delivered or cancelled as after_terminal', () => {
    const r = foldAll([scan('delivered', 1), scan('in_transit', 2), scan('returned_to_sender', 3), scan('delivered', 4, { code: 'DL2' })]);
    assert.equal(r.state.status, 'delivered');
    assert.deepEqual(r.state.timeline.map((f) => f.ignored), [undefined, 'after_terminal', 'after_terminal', 'after_terminal']);
    assert.deepEqual(r.regressions, []);
    const c = foldAll([scan('cancelled', 1), scan('info_received', 2), scan('picked_up', 3)]);
    assert.equal(c.state.status, 'cancelled');
    assert.deepEqual(c.state.timeline.map((f) => f.ignored), [undefined, 'after_terminal', 'after_terminal']);
  });

  it('lets delivered override an earlier cancellation (a voided label used anyway)', () => {
    const r = foldAll([scan('cancelled', 1), scan('delivered', 3, { signedBy: 'DOE' }), scan('in_transit', 2)]);
    assert.equal(r.state.status, 'delivered');
    assert.deepEqual(r.state.timeline.map((f) => [f.status, f.ignored]), [['cancelled', undefined], ['in_transit', 'after_terminal'], ['delivered', undefined]]);
    assert.deepEqual(r.state.delivered, { at: at(3), signedBy: 'DOE' });
  });

  it('keeps unknown codes in the timeline without applying them', () => {
    const r = foldAll([scan('in_transit', 1), scan('unknown', 2, { code: 'XX', estimatedDeliveryAt: '2026-03-09T00:00:00Z' })]);
    assert.equal(r.state.status, 'in_transit');
    assert.equal(r.state.statusAt, at(1));
    assert.equal(r.state.estimatedDeliveryAt, undefined);
    assert.equal(r.state.timeline[1]!.ignored, 'unknown_code');
    assert.deepEqual(r.unknownCodes.map((f) => f.code), ['XX']);
  });

  it('breaks ties of one instant by scan id', () => {
    // same instant: 'UPS|…|A…' (in_transit) sorts before 'UPS|…|Z…' (out_for_delivery) by id
    const a = scan('out_for_delivery', 1, { code: 'Z1' });
    const b = scan('in_transit', 1, { code: 'A1' });
    for (const order of [[a, b], [b, a]]) {
      const r = foldAll(order);
      assert.equal(r.state.status, 'out_for_delivery');
      assert.deepEqual(r.state.timeline.map((f) => f.code), ['A1', 'Z1']);
    }
  });

  it('re-classifies earlier scans when a late scan sorts before them', () => {
    const first = foldAll([scan('in_transit', 5)]);
    assert.equal(first.state.status, 'in_transit');
    const late = foldScans(first.state, [scan('out_for_delivery', 2)]);
    assert.equal(late.state.status, 'out_for_delivery');
    assert.deepEqual(late.regressions.map((f) => [f.status, f.at]), [['in_transit', at(5)]]);
    // a later call does not report it again
    assert.deepEqual(foldScans(late.state, [scan('delivered', 9)]).regressions, []);
  });
});

describe('rule 3: master-level scans and pieces', () => {
  it('applies a scan of the master number to every piece', () => {
    const r = foldAll([scan('picked_up', 1), scan('in_transit', 2, { pieceNumber: 'P1' })], ['P1', 'P2']);
    assert.deepEqual(r.state.perPiece, { P1: { status: 'in_transit', at: at(2) }, P2: { status: 'picked_up', at: at(1) } });
    assert.equal(r.state.status, 'picked_up');
  });

  it('flags a master scan only when no piece took it', () => {
    const r = foldAll([scan('out_for_delivery', 1, { pieceNumber: 'P1' }), scan('in_transit', 2)], ['P1', 'P2']);
    assert.equal(r.state.timeline[1]!.ignored, undefined); // applied to P2
    const all = foldAll([scan('delivered', 1, { pieceNumber: 'P1' }), scan('out_for_delivery', 1, { pieceNumber: 'P2' }), scan('in_transit', 2)], ['P1', 'P2']);
    assert.equal(all.state.timeline.at(-1)!.ignored, 'regression');
    const term = foldAll([scan('delivered', 1), scan('in_transit', 2)], ['P1', 'P2']);
    assert.equal(term.state.timeline.at(-1)!.ignored, 'after_terminal');
  });

  it('treats the master number as the only piece of a single-piece shipment', () => {
    const r = foldAll([scan('in_transit', 1), scan('delivered', 2, { pieceNumber: MASTER })]);
    assert.deepEqual(r.state.pieces, []);
    assert.deepEqual(r.state.perPiece, { [MASTER]: { status: 'delivered', at: at(2) } });
    assert.equal(r.state.status, 'delivered');
  });

  it('treats the master number as one piece when it is listed among the pieces', () => {
    const r = foldAll([scan('delivered', 1), scan('in_transit', 1, { pieceNumber: 'P2' })], [MASTER, 'P2']);
    assert.equal(r.state.perPiece[MASTER]!.status, 'delivered');
    assert.equal(r.state.perPiece.P2!.status, 'in_transit');
    assert.equal(r.state.status, 'in_transit');
  });

  it('adds a piece a scan reveals; the master number stays a piece of a shipment thought single-piece', () => {
    const r = foldAll([scan('delivered', 1), scan('in_transit', 2, { pieceNumber: 'P9' })]);
    assert.deepEqual(r.state.pieces, [MASTER, 'P9'].sort());
    assert.equal(r.state.perPiece[MASTER]!.status, 'delivered');
    assert.equal(r.state.status, 'in_transit');
    assert.equal(r.state.delivered, undefined);
    const m = foldAll([scan('in_transit', 2, { pieceNumber: 'P3' })], ['P1', 'P2']);
    assert.deepEqual(m.state.pieces, ['P1', 'P2', 'P3']);
    // an unknown code reveals nothing
    assert.deepEqual(foldAll([scan('unknown', 2, { pieceNumber: 'P3' })], ['P1', 'P2']).state.pieces, ['P1', 'P2']);
  });
});

describe('rule 4: shipment status', () => {
  it('is delivered only when every piece is, at the latest delivery, with its proof', () => {
    const p1 = scan('delivered', 3, { pieceNumber: 'P1', signedBy: 'SMITH', podReference: 'POD-1' });
    const p2 = scan('delivered', 7, { pieceNumber: 'P2', signedBy: 'JONES', podReference: 'POD-2' });
    const partly = foldAll([scan('out_for_delivery', 1), p1], ['P1', 'P2']);
    assert.equal(partly.state.status, 'out_for_delivery');
    assert.equal(partly.state.delivered, undefined);
    const done = foldScans(partly.state, [p2]);
    assert.equal(done.state.status, 'delivered');
    assert.equal(done.state.statusAt, at(7));
    assert.deepEqual(done.state.delivered, { at: at(7), signedBy: 'JONES', podReference: 'POD-2' });
    assert.ok(done.statusChanged);
    assert.equal(done.previousStatus, 'out_for_delivery');
  });

  it('takes the most severe problem of any piece', () => {
    const pieces = ['P1', 'P2', 'P3'];
    const with_ = (s1: TrackingStatus, s2: TrackingStatus) => foldAll([scan('in_transit', 1), scan(s1, 2, { pieceNumber: 'P1' }), scan(s2, 3, { pieceNumber: 'P2' })], pieces).state.status;
    assert.equal(with_('delayed', 'on_hold'), 'on_hold');
    assert.equal(with_('out_for_delivery', 'delivery_failed'), 'delivery_failed');
    assert.equal(with_('delivery_failed', 'returned_to_sender'), 'returned_to_sender');
    assert.equal(with_('delivered', 'delivery_failed'), 'delivery_failed');
    const exc = foldAll([scan('in_transit', 1), scan('exception', 2, { pieceNumber: 'P1', exceptionClass: 'damaged' }), scan('on_hold', 3, { pieceNumber: 'P2' })], pieces);
    assert.equal(exc.state.status, 'exception');
    assert.equal(exc.state.statusAt, at(2));
    assert.equal(foldAll([scan('in_transit', 1), scan('delayed', 2, { pieceNumber: 'P3' })], pieces).state.status, 'delayed');
  });

  it('otherwise is the least advanced piece', () => {
    const r = foldAll([scan('picked_up', 1), scan('out_for_delivery', 2, { pieceNumber: 'P1' }), scan('in_transit', 3, { pieceNumber: 'P2' }), scan('in_transit', 4, { pieceNumber: 'P3' })], ['P1', 'P2', 'P3']);
    assert.equal(r.state.status, 'in_transit');
    assert.equal(r.state.statusAt, at(4));
    assert.equal(foldAll([scan('delivered', 1, { pieceNumber: 'P1' })], ['P1', 'P2']).state.status, 'pending');
    // a cancelled piece next to a delivered one: not delivered
    assert.equal(foldAll([scan('delivered', 1, { pieceNumber: 'P1' }), scan('cancelled', 1, { pieceNumber: 'P2' })], ['P1', 'P2']).state.status, 'cancelled');
  });
});

describe('rule 5: what a call reports', () => {
  it('lists the new scans in timeline order and compares the status before and after', () => {
    const s0 = foldAll([scan('in_transit', 2)]).state;
    const r = foldScans(s0, [scan('out_for_delivery', 9), scan('in_transit', 2, { description: 'again' }), scan('picked_up', 1), scan('unknown', 5, { code: 'X' })]);
    assert.deepEqual(r.added.map((f) => f.status), ['picked_up', 'unknown', 'out_for_delivery']);
    assert.equal(r.duplicates.length, 1);
    assert.equal(r.previousStatus, 'in_transit');
    assert.ok(r.statusChanged);
    assert.equal(r.state.status, 'out_for_delivery');
    const same = foldScans(r.state, [scan('out_for_delivery', 10, { code: 'OT2' })]);
    assert.equal(same.statusChanged, false);
    assert.equal(same.state.statusAt, at(10));
  });

  it('takes the ETA from the latest scan carrying one', () => {
    const r = foldAll([
      scan('in_transit', 4, { estimatedDeliveryAt: '2026-03-05T18:00:00-05:00' }),
      scan('picked_up', 1, { estimatedDeliveryAt: '2026-03-04T23:00:00Z' }),
      scan('in_transit', 6),
    ]);
    assert.equal(r.state.estimatedDeliveryAt, '2026-03-05T23:00:00.000Z');
    // a delay reported after out-for-delivery is a regression, but its new ETA counts
    const d = foldScans(r.state, [scan('out_for_delivery', 7), scan('delayed', 8, { estimatedDeliveryAt: '2026-03-06T23:00:00Z' })]);
    assert.equal(d.state.status, 'out_for_delivery');
    assert.equal(d.state.estimatedDeliveryAt, '2026-03-06T23:00:00.000Z');
  });

  it('does not modify the state it is given', () => {
    const s0 = foldAll([scan('in_transit', 5)]).state;
    const copy = structuredClone(s0);
    foldScans(s0, [scan('out_for_delivery', 2)]);
    assert.deepEqual(s0, copy);
  });
});

describe('bad input', () => {
  it('refuses scans of another shipment or malformed scans, naming each field, and folds nothing', () => {
    const s0 = emptyTracking('ups', MASTER);
    const cases: [Partial<CarrierScan>, string][] = [
      [{ carrier: 'fedex' }, '/1/carrier'],
      [{ trackingNumber: '1Z000' }, '/1/trackingNumber'],
      [{ status: 'lost' as TrackingStatus }, '/1/status'],
      [{ occurredAt: '2026-03-02T12:00:00' }, '/1/occurredAt'],
      [{ code: '' }, '/1/code'],
      [{ estimatedDeliveryAt: 'tomorrow' }, '/1/estimatedDeliveryAt'],
      [{ exceptionClass: 'gone' as never }, '/1/exceptionClass'],
      [{ pieceNumber: ' ' }, '/1/pieceNumber'],
      [{ timeRule: 'local' as never }, '/1/timeRule'],
    ];
    for (const [bad, path] of cases) {
      assert.throws(
        () => foldScans(s0, [scan('in_transit', 1), scan('in_transit', 2, bad)]),
        (e: unknown) => e instanceof ValidationError && e.code === 'tracking.invalid_scan' && e.index === 1 && e.issues.some((i) => i.path === path),
        path,
      );
    }
  });
});

// ---------------------------------------------------------------------------------------
// properties

/** An adapter's table: code → canonical status. */
const CODES: Record<string, TrackingStatus> = {
  MP: 'info_received', OR: 'picked_up', AR: 'in_transit', DP: 'in_transit', OT: 'out_for_delivery', DL: 'delivered',
  DE: 'delivery_failed', DY: 'delayed', EX: 'exception', HL: 'on_hold', PU: 'available_for_pickup', RS: 'returned_to_sender',
  CA: 'cancelled', PN: 'pending', ZZ: 'unknown',
};

/** One instant of a few, in one of several spellings. */
const spelledInstant = (minute: number, style: number): string => {
  const ms = Date.UTC(2026, 2, 2, 12, minute);
  if (style === 0) return new Date(ms).toISOString();
  if (style === 1) return new Date(ms).toISOString().replace('.000Z', 'Z');
  if (style === 2) return `${new Date(ms - 5 * 3_600_000).toISOString().slice(0, 19)}-05:00`;
  return new Date(ms).toISOString().replace('.000Z', '.000000000Z');
};

interface Shape {
  pieces: string[];
  /** piece numbers scans may name (undefined = the master number) */
  pieceChoices: (string | undefined)[];
}
const shapes: Shape[] = [
  { pieces: [], pieceChoices: [undefined, MASTER] },
  { pieces: ['P1', 'P2'], pieceChoices: [undefined, 'P1', 'P2'] },
  { pieces: [MASTER, 'P2'], pieceChoices: [undefined, 'P2'] },
];

const scanArb = (shape: Shape, codes = Object.keys(CODES)) =>
  fc
    .record({
      piece: fc.constantFrom(...shape.pieceChoices),
      code: fc.constantFrom(...codes),
      minute: fc.integer({ min: 0, max: 8 }),
      style: fc.integer({ min: 0, max: 3 }),
      description: fc.option(fc.constantFrom('Arrived', 'Departed', 'Scan'), { nil: undefined }),
      city: fc.option(fc.constantFrom('Louisville', 'Köln'), { nil: undefined }),
      eta: fc.option(fc.integer({ min: 3, max: 9 }), { nil: undefined }),
      signedBy: fc.option(fc.constantFrom('SMITH', 'JONES'), { nil: undefined }),
    })
    .map((r): CarrierScan => {
      const s: CarrierScan = { carrier: 'ups', trackingNumber: MASTER, code: r.code, status: CODES[r.code]!, occurredAt: spelledInstant(r.minute, r.style), timeRule: 'offset' };
      if (r.piece !== undefined) s.pieceNumber = r.piece;
      if (r.description !== undefined) s.description = r.description;
      if (r.city !== undefined) s.location = { city: r.city };
      if (r.eta !== undefined) s.estimatedDeliveryAt = `2026-03-0${r.eta}T18:00:00Z`;
      if (r.signedBy !== undefined && s.status === 'delivered') s.signedBy = r.signedBy;
      return s;
    });

/** A shipment shape and a set of scans with distinct identities. */
const scenario = fc.constantFrom(...shapes).chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    scans: fc.uniqueArray(scanArb(shape), { maxLength: 16, selector: (s) => scanId(s) }),
  }),
);

/** The scans reordered, some sent again: exact copies with the instant spelled differently. */
const resent = (scans: CarrierScan[], vary: boolean) =>
  fc
    .tuple(fc.shuffledSubarray(scans, { minLength: scans.length, maxLength: scans.length }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 3 }), fc.nat()), { maxLength: 8 }))
    .chain(([shuffled, dups]) => {
      const copies = scans.length
        ? dups.map(([i, style, v]) => {
            const s = structuredClone(scans[i % scans.length]!);
            const minute = (Date.parse(s.occurredAt) - Date.UTC(2026, 2, 2, 12)) / 60_000;
            s.occurredAt = spelledInstant(minute, style);
            if (vary) {
              s.description = `re-sent ${v}`;
              s.location = { city: `City ${v % 3}` };
            }
            return s;
          })
        : [];
      return fc.shuffledSubarray([...shuffled, ...copies], { minLength: shuffled.length + copies.length, maxLength: shuffled.length + copies.length });
    });

/** What a re-send with another description or location may not change. */
const statusView = (s: TrackingState) => ({
  status: s.status,
  statusAt: s.statusAt,
  pieces: s.pieces,
  perPiece: s.perPiece,
  delivered: s.delivered,
  eta: s.estimatedDeliveryAt,
  timeline: s.timeline.map((f) => [f.id, f.status, f.at, f.ignored]),
});

describe('tracking fold properties', () => {
  it('depends only on the set of distinct scans: arrival order and exact re-sends change nothing', () => {
    fc.assert(
      fc.property(scenario.chain((sc) => fc.tuple(fc.constant(sc), resent(sc.scans, false))), ([{ shape, scans }, arrived]) => {
        const reference = foldAll(scans, shape.pieces);
        const r = foldAll(arrived, shape.pieces);
        assert.deepEqual(r.state, reference.state);
        assert.equal(r.added.length, scans.length);
        assert.equal(r.duplicates.length, arrived.length - scans.length);
      }),
      { numRuns: RUNS },
    );
  });

  it('re-sends with another description or location never change the status, flags or timeline order', () => {
    fc.assert(
      fc.property(scenario.chain((sc) => fc.tuple(fc.constant(sc), resent(sc.scans, true))), ([{ shape, scans }, arrived]) => {
        assert.deepEqual(statusView(foldAll(arrived, shape.pieces).state), statusView(foldAll(scans, shape.pieces).state));
      }),
      { numRuns: RUNS },
    );
  });

  it('folding in two calls equals folding in one call', () => {
    fc.assert(
      fc.property(
        scenario.chain((sc) => fc.tuple(fc.constant(sc), resent(sc.scans, true), fc.nat())),
        ([{ shape }, arrived, cut]) => {
          const k = arrived.length ? cut % (arrived.length + 1) : 0;
          const one = foldAll(arrived, shape.pieces);
          const first = foldAll(arrived.slice(0, k), shape.pieces);
          const second = foldScans(first.state, arrived.slice(k));
          assert.deepEqual(second.state, one.state);
          // the two calls together added what the one call added
          assert.deepEqual([...first.added.map((f) => f.id), ...second.added.map((f) => f.id)].sort(), one.added.map((f) => f.id).sort());
          // the state survives a round trip through JSON (it is stored as such)
          assert.deepEqual(foldScans(JSON.parse(JSON.stringify(first.state)) as TrackingState, arrived.slice(k)).state, one.state);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('never leaves delivered once reached, scan batch after scan batch', () => {
    fc.assert(
      fc.property(
        scenario.chain((sc) => fc.tuple(fc.constant(sc), resent(sc.scans, true), fc.array(fc.nat(), { maxLength: 5 }))),
        ([{ shape }, arrived, cuts]) => {
          const bounds = [...new Set([0, ...cuts.map((c) => c % (arrived.length + 1)), arrived.length])].sort((a, b) => a - b);
          let state = emptyTracking('ups', MASTER, shape.pieces);
          let reached = false;
          for (let i = 1; i < bounds.length; i++) {
            state = foldScans(state, arrived.slice(bounds[i - 1], bounds[i])).state;
            if (reached) assert.equal(state.status, 'delivered');
            reached ||= state.status === 'delivered';
            for (const p of Object.values(state.perPiece)) if (p.status === 'delivered') assert.ok(state.timeline.some((f) => f.status === 'delivered' && f.at === p.at));
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a shipment is delivered iff every piece has a delivered scan', () => {
    fc.assert(
      fc.property(scenario, ({ shape, scans }) => {
        const { state } = foldAll(scans, shape.pieces);
        const pieces = shape.pieces.length ? shape.pieces : [MASTER];
        const masterIsPiece = pieces.includes(MASTER);
        const hasDelivery = (p: string) => scans.some((s) => s.status === 'delivered' && ((s.pieceNumber ?? MASTER) === p || (!masterIsPiece && (s.pieceNumber ?? MASTER) === MASTER)));
        for (const p of pieces) assert.equal(state.perPiece[p]!.status === 'delivered', hasDelivery(p), p);
        const all = pieces.every(hasDelivery);
        assert.equal(state.status === 'delivered', all);
        assert.equal(state.delivered !== undefined, all);
        if (all) assert.equal(state.delivered!.at, state.statusAt);
      }),
      { numRuns: RUNS },
    );
  });

  it('unknown codes never change the status, the pieces, the ETA or the proof of delivery', () => {
    const withUnknown = fc.constantFrom(...shapes).chain((shape) =>
      fc.record({ shape: fc.constant(shape), known: fc.uniqueArray(scanArb(shape, Object.keys(CODES).filter((c) => c !== 'ZZ')), { maxLength: 12, selector: scanId }), unknown: fc.array(scanArb(shape, ['ZZ']), { maxLength: 5 }) }),
    );
    fc.assert(
      fc.property(withUnknown, ({ shape, known, unknown }) => {
        const before = foldAll(known, shape.pieces).state;
        const r = foldScans(before, unknown);
        const { timeline: _a, ...restAfter } = r.state;
        const { timeline: _b, ...restBefore } = before;
        assert.deepEqual(restAfter, restBefore);
        assert.equal(r.statusChanged, false);
        assert.ok(r.state.timeline.filter((f) => f.status === 'unknown').every((f) => f.ignored === 'unknown_code'));
        assert.deepEqual(r.unknownCodes, r.added);
      }),
      { numRuns: RUNS },
    );
  });

  it('keeps the timeline sorted by (instant, id) with every flag justified', () => {
    fc.assert(
      fc.property(scenario, ({ shape, scans }) => {
        const { state } = foldAll(scans, shape.pieces);
        const key = (f: { at: string; id: string }) => `${f.at}\u0000${f.id}`;
        for (let i = 1; i < state.timeline.length; i++) assert.ok(key(state.timeline[i - 1]!) < key(state.timeline[i]!));
        for (const f of state.timeline) {
          if (f.status === 'unknown') assert.equal(f.ignored, 'unknown_code');
          else assert.notEqual(f.ignored, 'unknown_code');
        }
      }),
      { numRuns: RUNS },
    );
  });
});
