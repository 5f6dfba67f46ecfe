/**
 * Properties of the lifecycle fold, over random sets of events drawn from small pools
 * (few instants, two sources, few ids) so that ties, same-instant duplicates and
 * redeliveries with different content happen often.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
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
import type { LifecycleEvent, LifecycleMachine, LifecycleSnapshot, OrderState, ProcurementState } from '../../src/domain/index.ts';
import { orderEvent, poEvent } from './lifecycle-events.ts';

const RUNS = Number(process.env.FC_RUNS ?? 300);

/** One instant of a few, written in several equivalent ways. */
const instant = fc
  .tuple(fc.integer({ min: 0, max: 6 }), fc.constantFrom('Z', '+02:00', '-05:30', 'sub-ms'))
  .map(([minute, style]) => {
    const base = Date.UTC(2026, 0, 1, 12, minute);
    if (style === 'Z') return new Date(base).toISOString();
    if (style === 'sub-ms') return new Date(base).toISOString().replace('.000Z', '.000000500Z');
    const offsetMin = style === '+02:00' ? 120 : -330;
    const local = new Date(base + offsetMin * 60_000).toISOString().slice(0, 19);
    return `${local}${style}`;
  });

const meta = fc.record({
  source: fc.constantFrom('urn:wms', 'urn:ups'),
  id: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'),
  envelopeTime: fc.boolean(),
});

const orderEvents = fc.array(
  fc.tuple(fc.constantFrom(...ORDER_STATES), fc.option(instant, { freq: 12 }), meta).map(([m, t, o]) => orderEvent(m, t, o)),
  { maxLength: 14 },
);
const poEvents = fc.array(
  fc.tuple(fc.constantFrom(...PROCUREMENT_STATES), instant, meta).map(([m, t, o]) => poEvent(m, t, o)),
  { maxLength: 12 },
);

/** A reordering of `events` with some of them delivered more than once. */
function redelivered(events: LifecycleEvent[]) {
  return fc
    .tuple(
      fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
      fc.array(fc.nat(), { maxLength: 6 }),
      fc.array(fc.nat(), { minLength: events.length + 6, maxLength: events.length + 6 }),
    )
    .map(([shuffled, dupIdx, order]) => {
      const copies = events.length ? dupIdx.map((i) => structuredClone(events[i % events.length]!)) : [];
      const all = [...shuffled, ...copies];
      // interleave the copies at random places
      return all.map((e, i) => [order[i] ?? i, i, e] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]).map(([, , e]) => e);
    });
}

function replayIncrementally<S extends string>(machine: LifecycleMachine<S>, events: LifecycleEvent[]): LifecycleSnapshot<S> {
  let s = emptyLifecycle(machine);
  for (const e of events) s = apply(s, e);
  return s;
}

/** Every applied move is legal: allowed from the state (or the state an exception interrupted). */
function assertLegalPath<S extends string>(m: LifecycleMachine<S>, s: LifecycleSnapshot<S>): void {
  let state: S | null = null;
  let resume: S | null = null;
  for (const step of s.applied) {
    const to = step.to as S;
    assert.equal(step.from, state);
    if (state !== null && to !== state) {
      assert.ok(!m.terminal.includes(state), `left terminal ${state} for ${to}`);
      if (to !== m.side) {
        const base: S | null = state === m.side ? resume : state;
        if (base !== null) assert.ok(to === base || isAllowedTransition(m, base, to), `illegal ${base} → ${to}`);
      }
    }
    if (to !== state) {
      resume = to === m.side ? (state === m.side ? resume : state) : null;
      state = to;
    }
  }
  assert.equal(s.state, state);
  assert.equal(s.resumeState, resume);
}

for (const [machine, events] of [
  [ORDER_LIFECYCLE, orderEvents],
  [PROCUREMENT_LIFECYCLE, poEvents],
] as Array<[LifecycleMachine<OrderState> | LifecycleMachine<ProcurementState>, fc.Arbitrary<LifecycleEvent[]>]>) {
  describe(`${machine.kind} lifecycle properties`, () => {
    it('any order and any redelivery of the same events gives the same state, flags and history', () => {
      fc.assert(
        fc.property(
          events.chain((es) => fc.tuple(fc.constant(es), redelivered(es))),
          ([original, reordered]) => {
            assert.deepStrictEqual(fold(reordered, machine as LifecycleMachine), fold(original, machine as LifecycleMachine));
          },
        ),
        { numRuns: RUNS },
      );
    });

    it('incremental apply, in any order with redeliveries, equals fold', () => {
      fc.assert(
        fc.property(
          events.chain((es) => fc.tuple(fc.constant(es), redelivered(es))),
          ([original, reordered]) => {
            assert.deepStrictEqual(replayIncrementally(machine as LifecycleMachine, reordered), fold(original, machine as LifecycleMachine));
          },
        ),
        { numRuns: RUNS },
      );
    });

    it('only legal moves are applied: regressions never, terminal states never left', () => {
      fc.assert(
        fc.property(events, (es) => {
          const s = fold(es, machine as LifecycleMachine);
          assertLegalPath(machine as LifecycleMachine, s);
          const applied = new Set(s.applied.map((a) => `${a.event.source}|${a.event.id}|${a.event.type}|${a.event.time}|${a.to}`));
          for (const f of s.flags) assert.ok(!applied.has(`${f.event.source}|${f.event.id}|${f.event.type}|${f.event.time}|${f.milestone}`), `flagged ${f.kind} event was applied`);
          const firstTerminal = s.applied.findIndex((a) => machine.terminal.includes(a.to as never));
          if (firstTerminal >= 0) for (const a of s.applied.slice(firstTerminal)) assert.equal(a.to, s.applied[firstTerminal]!.to);
        }),
        { numRuns: RUNS },
      );
    });

    it('a regression is a disallowed move back along the main line; an invalid transition is not', () => {
      const rank = machine.rank as Record<string, number | undefined>;
      fc.assert(
        fc.property(events, (es) => {
          const s = fold(es, machine as LifecycleMachine);
          for (const f of s.flags) {
            // while in the side state the comparison is with the interrupted state, which the flag names in its reason
            if (f.from === null || f.from === machine.side) continue;
            const back = rank[f.milestone] !== undefined && rank[f.from] !== undefined && rank[f.milestone]! < rank[f.from]!;
            if (f.kind === 'regression') assert.ok(back, `${f.from} → ${f.milestone} flagged as regression`);
            if (f.kind === 'invalid_transition') assert.ok(!back, `${f.from} → ${f.milestone} flagged as invalid, not regression`);
          }
        }),
        { numRuns: RUNS },
      );
    });

    it('every distinct event is accounted for once, applied or flagged, in fold order', () => {
      fc.assert(
        fc.property(events, (es) => {
          const s = fold(es, machine as LifecycleMachine);
          assert.equal(s.applied.length + s.flags.length, s.inputs.length);
          const outcomes = s.inputs.map((i) => i.outcome);
          assert.deepEqual(
            outcomes.filter((o) => o !== 'applied'),
            s.flags.map((f) => f.kind),
          );
          const keys = s.inputs.map((i) => i.timeKey ?? '~');
          assert.deepEqual(keys, [...keys].sort());
        }),
        { numRuns: RUNS },
      );
    });
  });
}
