import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ORDER_LIFECYCLE,
  ORDER_STATES,
  PROCUREMENT_LIFECYCLE,
  PROCUREMENT_STATES,
  apply,
  emptyLifecycle,
  fold,
  isAllowedTransition,
} from '../../src/domain/index.ts';
import type { LifecycleEvent, LifecycleSnapshot, OrderState, ProcurementState } from '../../src/domain/index.ts';
import { at, orderEvent, poEvent } from './lifecycle-events.ts';

const kinds = (s: LifecycleSnapshot) => s.flags.map((f) => f.kind);
const path = (s: LifecycleSnapshot) => s.applied.map((a) => a.to);

/** The outcome of `from` then `to` one minute later, as fold decides it. */
function outcomeOf(from: OrderState, to: OrderState): string {
  const s = fold([orderEvent(from, at(0)), orderEvent(to, at(1))]);
  return s.flags[0]?.kind ?? 'applied';
}

describe('order lifecycle: transitions', () => {
  it('folds the happy path created → paid', () => {
    const happy: OrderState[] = ['created', 'released', 'picked', 'packed', 'booked', 'dispatched', 'in_transit', 'out_for_delivery', 'delivered', 'invoiced', 'paid'];
    const s = fold(happy.map((m, i) => orderEvent(m, at(i))));
    assert.equal(s.state, 'paid');
    assert.equal(s.stateAt, '2026-01-01T00:10:00.000Z');
    assert.deepEqual(path(s), happy);
    assert.deepEqual(s.flags, []);
    assert.equal(s.applied[0]!.from, null);
  });

  it('accepts every move in the table and nothing else, for every pair of states', () => {
    for (const from of ORDER_STATES) {
      for (const to of ORDER_STATES) {
        const got = outcomeOf(from, to);
        // an exception seen first interrupted nothing known, so anything may follow it
        if (from === 'exception' || isAllowedTransition(ORDER_LIFECYCLE, from, to)) {
          assert.equal(got, 'applied', `${from} → ${to}`);
        } else if (ORDER_LIFECYCLE.terminal.includes(from)) {
          assert.equal(got, 'after_terminal', `${from} → ${to}`);
        } else {
          assert.ok(got === 'regression' || got === 'invalid_transition', `${from} → ${to}: ${got}`);
        }
      }
    }
  });

  const table: Array<[OrderState, OrderState, string]> = [
    ['created', 'released', 'applied'],
    ['created', 'delivered', 'applied'], // scans can be skipped
    ['released', 'backordered', 'applied'],
    ['backordered', 'released', 'applied'], // stock arrived, released again
    ['released', 'split', 'applied'],
    ['picked', 'backordered', 'applied'], // short pick
    ['packed', 'cancelled', 'applied'],
    ['booked', 'cancelled', 'applied'], // label voided
    ['dispatched', 'cancelled', 'invalid_transition'], // too late to cancel: return it
    ['booked', 'returned', 'invalid_transition'], // nothing left to return
    ['in_transit', 'returned', 'applied'],
    ['packed', 'invoiced', 'invalid_transition'], // invoicing follows delivery
    ['delivered', 'paid', 'applied'], // the invoice event may be missed
    ['delivered', 'in_transit', 'regression'],
    ['out_for_delivery', 'in_transit', 'regression'],
    ['packed', 'picked', 'regression'],
    ['invoiced', 'delivered', 'regression'],
    ['in_transit', 'in_transit', 'applied'], // a second scan
    ['paid', 'returned', 'after_terminal'],
    ['cancelled', 'released', 'after_terminal'],
    ['returned', 'delivered', 'after_terminal'],
    ['paid', 'exception', 'after_terminal'],
    ['delivered', 'exception', 'applied'], // damage reported after delivery
  ];
  for (const [from, to, expected] of table) {
    it(`${from} → ${to}: ${expected}`, () => assert.equal(outcomeOf(from, to), expected));
  }

  it('flags a regression with its reason and does not apply it', () => {
    const s = fold([orderEvent('delivered', at(10), { id: 'pod' }), orderEvent('in_transit', at(20), { id: 'late-scan' })]);
    assert.equal(s.state, 'delivered');
    assert.equal(s.stateAt, at(10));
    assert.equal(s.flags.length, 1);
    const f = s.flags[0]!;
    assert.equal(f.kind, 'regression');
    assert.equal(f.event.id, 'late-scan');
    assert.equal(f.milestone, 'in_transit');
    assert.equal(f.from, 'delivered');
    assert.match(f.reason, /in_transit at 2026-01-01T00:20:00.000Z would move the status back from delivered \(since 2026-01-01T00:10:00.000Z\)/);
  });

  it('applies a late-arriving event by its own time: an earlier scan fills in history, no flag', () => {
    // the in_transit scan arrives after delivered but happened before it
    const s = fold([orderEvent('delivered', at(10)), orderEvent('in_transit', at(5))]);
    assert.equal(s.state, 'delivered');
    assert.deepEqual(path(s), ['in_transit', 'delivered']);
    assert.deepEqual(s.flags, []);
  });

  it('names the allowed table in an invalid transition', () => {
    const s = fold([orderEvent('packed', at(0)), orderEvent('invoiced', at(1))]);
    assert.equal(s.state, 'packed');
    assert.equal(s.flags[0]!.kind, 'invalid_transition');
    assert.match(s.flags[0]!.reason, /packed → invoiced is not an allowed transition/);
  });

  it('honours terminal states: after paid, cancelled or returned nothing moves', () => {
    for (const terminal of ['paid', 'cancelled', 'returned'] as const) {
      const s = fold([orderEvent(terminal, at(0)), ...ORDER_STATES.filter((x) => x !== terminal).map((m, i) => orderEvent(m, at(i + 1)))]);
      assert.equal(s.state, terminal);
      assert.ok(kinds(s).every((k) => k === 'after_terminal'));
      assert.equal(s.flags.length, ORDER_STATES.length - 1);
    }
  });

  it('accepts a repeat of a terminal state without moving (a second cancellation)', () => {
    const s = fold([orderEvent('cancelled', at(0)), orderEvent('cancelled', at(5))]);
    assert.equal(s.state, 'cancelled');
    assert.equal(s.stateAt, at(0));
    assert.deepEqual(s.flags, []);
    assert.deepEqual(s.applied.map((a) => [a.from, a.to]), [[null, 'cancelled'], ['cancelled', 'cancelled']]);
  });

  it('starts wherever the first milestone is (joining half-way)', () => {
    const s = fold([orderEvent('dispatched', at(0)), orderEvent('delivered', at(1))]);
    assert.equal(s.state, 'delivered');
    assert.deepEqual(s.applied.map((a) => a.from), [null, 'dispatched']);
  });
});

describe('order lifecycle: exception side state', () => {
  it('interrupts and recovers with a forward milestone', () => {
    const s = fold([orderEvent('in_transit', at(0)), orderEvent('exception', at(1)), orderEvent('delivered', at(2))]);
    assert.equal(s.state, 'delivered');
    assert.deepEqual(path(s), ['in_transit', 'exception', 'delivered']);
    assert.equal(s.resumeState, null);
  });

  it('remembers the interrupted state while in exception', () => {
    const s = fold([orderEvent('out_for_delivery', at(0)), orderEvent('exception', at(1))]);
    assert.equal(s.state, 'exception');
    assert.equal(s.resumeState, 'out_for_delivery');
  });

  it('recovers with the same milestone again (a second delivery attempt)', () => {
    const s = fold([orderEvent('out_for_delivery', at(0)), orderEvent('exception', at(1)), orderEvent('out_for_delivery', at(60)), orderEvent('delivered', at(70))]);
    assert.deepEqual(path(s), ['out_for_delivery', 'exception', 'out_for_delivery', 'delivered']);
    assert.deepEqual(s.flags, []);
  });

  it('flags a backwards milestone while in exception and stays in exception', () => {
    const s = fold([orderEvent('out_for_delivery', at(0)), orderEvent('exception', at(1)), orderEvent('in_transit', at(2))]);
    assert.equal(s.state, 'exception');
    assert.equal(s.resumeState, 'out_for_delivery');
    assert.equal(s.flags[0]!.kind, 'regression');
    assert.match(s.flags[0]!.reason, /exception \(interrupting out_for_delivery\)/);
  });

  it('keeps the first interrupted state across repeated exceptions', () => {
    const s = fold([orderEvent('in_transit', at(0)), orderEvent('exception', at(1)), orderEvent('exception', at(2)), orderEvent('returned', at(3))]);
    assert.equal(s.state, 'returned');
    assert.deepEqual(path(s), ['in_transit', 'exception', 'exception', 'returned']);
  });

  it('can start in exception and then go anywhere', () => {
    const s = fold([orderEvent('exception', at(0)), orderEvent('packed', at(1))]);
    assert.equal(s.state, 'packed');
  });

  it('maps tracking statuses: a failed delivery is an exception, available_for_pickup is out for delivery', () => {
    const scan = (status: string, minute: number): LifecycleEvent => ({
      source: 'urn:ups',
      id: `scan-${minute}`,
      type: 'shipment.tracking.v1',
      data: { shipmentId: 'shp-1', status, occurredAt: at(minute) },
    });
    const s = fold([scan('in_transit', 0), scan('delivery_failed', 1), scan('available_for_pickup', 2), scan('unknown', 3), scan('delivered', 4)]);
    assert.deepEqual(path(s), ['in_transit', 'exception', 'out_for_delivery', 'delivered']);
    assert.equal(s.inputs.length, 4, 'unknown implies no milestone and is not an input');
  });
});

describe('order lifecycle: de-duplication and ordering', () => {
  it('collapses exact redeliveries silently (same source and id, same content)', () => {
    const e = orderEvent('created', at(0), { id: 'x' });
    assert.deepEqual(fold([e, e, { ...e }]), fold([e]));
  });

  it('flags a redelivery with different content and keeps the earliest variant', () => {
    const a = orderEvent('in_transit', at(5), { id: 'x' });
    const b = orderEvent('out_for_delivery', at(3), { id: 'x' });
    const s = fold([a, b]);
    assert.equal(s.state, 'out_for_delivery');
    assert.equal(s.flags.length, 1);
    assert.equal(s.flags[0]!.kind, 'duplicate');
    assert.equal(s.flags[0]!.duplicateOf?.time, at(3));
    assert.match(s.flags[0]!.reason, /same source and id/);
    assert.deepEqual(fold([b, a]), s);
  });

  it('flags the same milestone at the same instant from the same source under another id', () => {
    const s = fold([orderEvent('delivered', at(5), { id: 'b' }), orderEvent('delivered', '2026-01-01T01:05:00+01:00', { id: 'a' })]);
    assert.equal(s.applied.length, 1);
    assert.equal(s.applied[0]!.event.id, 'a', 'the smallest id is kept');
    assert.equal(s.flags[0]!.kind, 'duplicate');
    assert.equal(s.flags[0]!.event.id, 'b');
    assert.equal(s.flags[0]!.duplicateOf?.id, 'a');
  });

  it('does not merge the same milestone at the same instant from two sources', () => {
    const s = fold([orderEvent('delivered', at(5), { source: 'urn:ups' }), orderEvent('delivered', at(5), { source: 'urn:tms' })]);
    assert.deepEqual(s.flags, []);
    assert.equal(s.applied.length, 2);
  });

  it('orders by occurrence time across offsets and sub-millisecond digits', () => {
    const s = fold([
      orderEvent('delivered', '2026-01-01T10:00:00.000000200Z'),
      orderEvent('out_for_delivery', '2026-01-01T10:00:00.000000100Z'),
      orderEvent('in_transit', '2026-01-01T05:59:59-04:00'), // 09:59:59Z
    ]);
    assert.deepEqual(path(s), ['in_transit', 'out_for_delivery', 'delivered']);
    assert.deepEqual(s.flags, []);
    assert.equal(s.stateAt, '2026-01-01T10:00:00.0000002Z');
  });

  it('breaks ties at one instant by milestone order, not arrival order', () => {
    const e = [orderEvent('packed', at(0)), orderEvent('picked', at(0)), orderEvent('created', at(0))];
    const s = fold(e);
    assert.deepEqual(path(s), ['created', 'picked', 'packed']);
    assert.deepEqual(fold([...e].reverse()), s);
  });

  it('uses the CloudEvents time when the data states none', () => {
    const s = fold([orderEvent('delivered', at(10), { envelopeTime: true }), orderEvent('in_transit', at(5))]);
    assert.deepEqual(path(s), ['in_transit', 'delivered']);
  });

  it('prefers the time the data states over the CloudEvents time', () => {
    const e = orderEvent('delivered', at(10));
    const s = fold([{ ...e, time: at(999) }]);
    assert.equal(s.stateAt, at(10));
  });

  it('flags an event without a usable time and applies nothing for it', () => {
    const s = fold([orderEvent('created', at(0)), orderEvent('delivered', null), orderEvent('released', 'not a time', { envelopeTime: true })]);
    assert.equal(s.state, 'created');
    assert.deepEqual(kinds(s), ['no_time', 'no_time']);
  });

  it('accepts Date objects as CloudEvents time (as the inbox stores them)', () => {
    const e = orderEvent('created', null);
    const s = fold([{ ...e, time: new Date(at(3)) }]);
    assert.equal(s.stateAt, at(3));
  });

  it('ignores events that imply no milestone of this lifecycle', () => {
    const eta: LifecycleEvent = { source: 's', id: '1', type: 'shipment.eta.v1', data: { shipmentId: 'shp-1', calculatedAt: at(0) } };
    const unknown: LifecycleEvent = { source: 's', id: '2', type: 'nope.v1', data: {} };
    const po = poEvent('released', at(0));
    assert.deepEqual(fold([eta, unknown, po]), emptyLifecycle(ORDER_LIFECYCLE));
  });

  it('accounts for every distinct event exactly once (applied or flagged)', () => {
    const events = [orderEvent('created', at(0)), orderEvent('delivered', at(1)), orderEvent('created', at(2)), orderEvent('paid', at(3)), orderEvent('returned', at(4))];
    const s = fold(events);
    assert.equal(s.applied.length + s.flags.length, s.inputs.length);
    assert.equal(s.inputs.length, events.length);
  });
});

describe('incremental apply', () => {
  it('steps an in-order event without re-folding and equals fold', () => {
    const a = orderEvent('created', at(0));
    const b = orderEvent('released', at(1));
    const s1 = apply(emptyLifecycle(ORDER_LIFECYCLE), a);
    const s2 = apply(s1, b);
    assert.deepEqual(s2, fold([a, b]));
    assert.equal(s1.state, 'created', 'the snapshot passed in is not modified');
  });

  it('re-folds when an older event arrives and equals fold', () => {
    const events = [orderEvent('delivered', at(9)), orderEvent('in_transit', at(5)), orderEvent('created', at(0))];
    let s = emptyLifecycle(ORDER_LIFECYCLE);
    for (const e of events) s = apply(s, e);
    assert.deepEqual(s, fold(events));
  });

  it('returns the same snapshot for an exact redelivery or an unrelated event', () => {
    const a = orderEvent('created', at(0));
    const s = apply(emptyLifecycle(ORDER_LIFECYCLE), a);
    assert.equal(apply(s, a), s);
    assert.equal(apply(s, { source: 's', id: 'x', type: 'stock.moved.v1', data: {} }), s);
  });

  it('survives a JSON round trip (the snapshot is stored as jsonb)', () => {
    const a = orderEvent('created', at(0));
    const b = orderEvent('released', at(1));
    const stored = JSON.parse(JSON.stringify(apply(emptyLifecycle(ORDER_LIFECYCLE), a))) as LifecycleSnapshot<OrderState>;
    assert.deepEqual(apply(stored, b), fold([a, b]));
  });
});

describe('procurement lifecycle', () => {
  it('folds released → acknowledged → asn_received → received → discrepancy → billed → matched', () => {
    const happy: ProcurementState[] = ['released', 'acknowledged', 'asn_received', 'received', 'discrepancy', 'billed', 'matched'];
    const s = fold(
      happy.map((m, i) => poEvent(m, at(i))),
      PROCUREMENT_LIFECYCLE,
    );
    assert.equal(s.state, 'matched');
    assert.deepEqual(path(s), happy);
    assert.deepEqual(s.flags, []);
  });

  const outcome = (from: ProcurementState, to: ProcurementState) => fold([poEvent(from, at(0)), poEvent(to, at(1))], PROCUREMENT_LIFECYCLE).flags[0]?.kind ?? 'applied';

  it('accepts every move in the table and nothing else', () => {
    for (const from of PROCUREMENT_STATES) {
      for (const to of PROCUREMENT_STATES) {
        const got = outcome(from, to);
        if (isAllowedTransition(PROCUREMENT_LIFECYCLE, from, to)) assert.equal(got, 'applied', `${from} → ${to}`);
        else assert.notEqual(got, 'applied', `${from} → ${to}`);
      }
    }
  });

  const table: Array<[ProcurementState, ProcurementState, string]> = [
    ['released', 'rejected', 'applied'],
    ['rejected', 'released', 'applied'], // amended and sent again
    ['acknowledged', 'billed', 'applied'], // the bill before the goods
    ['billed', 'received', 'applied'],
    ['received', 'received', 'applied'], // a second partial receipt
    ['received', 'acknowledged', 'regression'],
    ['asn_received', 'cancelled', 'invalid_transition'], // goods already shipped
    ['released', 'discrepancy', 'invalid_transition'],
    ['matched', 'billed', 'after_terminal'],
    ['cancelled', 'released', 'after_terminal'],
  ];
  for (const [from, to, expected] of table) {
    it(`${from} → ${to}: ${expected}`, () => assert.equal(outcome(from, to), expected));
  }

  it('ignores a receipt without a purchase order (a customer return)', () => {
    const e = poEvent('received', at(0));
    delete (e.data as Record<string, unknown>).purchaseOrderId;
    assert.deepEqual(fold([e], PROCUREMENT_LIFECYCLE), emptyLifecycle(PROCUREMENT_LIFECYCLE));
  });
});
