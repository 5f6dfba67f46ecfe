/**
 * Canonical lifecycles as explicit state machines, folded from events.
 *
 * `fold(events)` is a pure function of the SET of events: the same events in any order,
 * delivered any number of times, give the same result. It
 * 1. keeps the events that imply a milestone of the machine (catalogue: lifecycleOf);
 * 2. de-duplicates: one event per CloudEvents identity (source + id); a redelivery with
 *    different content is flagged `duplicate`, the earliest variant wins; and one event
 *    per (source, milestone, instant): a partner that sends the same scan twice under
 *    two ids is flagged `duplicate`, the smallest id wins;
 * 3. orders by the event's own occurrence time (the data's time field, else the
 *    CloudEvents `time`), exact to the nanosecond, then by milestone order, source and id,
 *    so ties never depend on arrival order;
 * 4. applies allowed transitions and records, without applying:
 *    - `regression`: a later event that would move the status back along the main line
 *      (an in_transit scan timed after delivered);
 *    - `invalid_transition`: a move the table does not allow that is not backwards
 *      (invoiced straight after packed, cancelled after dispatch);
 *    - `after_terminal`: anything but a repeat after a terminal state (paid, cancelled,
 *      returned; matched and cancelled for procurement);
 *    - `no_time`: an event with no usable occurrence time cannot be ordered.
 *
 * Exception is a side state: it can interrupt any non-terminal state, and the next
 * milestone allowed from the interrupted state (or that state again: a second delivery
 * attempt) recovers from it. The first milestone ever seen is accepted as the starting
 * point, whatever it is: the hub can join a lifecycle half-way.
 *
 * `apply(snapshot, event)` is the incremental form and always equals re-folding: when the
 * new event sorts after everything folded so far it is stepped on the snapshot, otherwise
 * the whole set is folded again. Snapshots are plain JSON (hub_lifecycles.snapshot).
 */
import { dataTimeOf, lifecycleOf } from './catalogue.ts';
import { LIFECYCLE_KINDS, ORDER_STATES, PROCUREMENT_STATES } from './lifecycle-states.ts';
import type { LifecycleKind, OrderState, ProcurementState } from './lifecycle-states.ts';
import { formatInstant, instantFromDate, instantKey, parseInstant } from './time.ts';
import type { Instant } from './time.ts';

export { LIFECYCLE_KINDS, ORDER_STATES, PROCUREMENT_STATES };
export type { LifecycleKind, OrderState, ProcurementState };

// ---------------------------------------------------------------------------------------
// machines

export interface LifecycleMachine<S extends string = string> {
  readonly kind: LifecycleKind;
  /** every state; this order also breaks ties between events of the same instant */
  readonly states: readonly S[];
  /**
   * Position on the main line. A disallowed move to a lower rank is a regression; a
   * disallowed move to a state without rank or a higher rank is an invalid transition.
   */
  readonly rank: Readonly<Partial<Record<S, number>>>;
  readonly terminal: readonly S[];
  /** the side state that can interrupt any non-terminal state (exception) */
  readonly side: S | undefined;
  /** allowed moves besides repeats (S → S), entering the side state and recovering from it */
  readonly transitions: Readonly<Record<S, readonly S[]>>;
}

const SHIP_FORWARD = ['picked', 'packed', 'booked', 'dispatched', 'in_transit', 'out_for_delivery', 'delivered'] as const satisfies readonly OrderState[];

/**
 * Order to cash: created → released → picked → packed → booked → dispatched → in_transit
 * → out_for_delivery → delivered → invoiced → paid, with backordered and split before
 * picking, cancelled before dispatch, returned after dispatch, exception anywhere.
 * Forward skips are allowed up to delivered (warehouses skip pick confirmations, carriers
 * skip scans); invoicing and payment only follow delivery.
 */
export const ORDER_LIFECYCLE: LifecycleMachine<OrderState> = Object.freeze<LifecycleMachine<OrderState>>({
  kind: 'order',
  states: ORDER_STATES,
  rank: {
    created: 0,
    released: 1,
    backordered: 2,
    split: 2,
    picked: 3,
    packed: 4,
    booked: 5,
    dispatched: 6,
    in_transit: 7,
    out_for_delivery: 8,
    delivered: 9,
    invoiced: 10,
    paid: 11,
  },
  terminal: ['paid', 'cancelled', 'returned'],
  side: 'exception',
  transitions: {
    created: ['released', 'backordered', 'split', ...SHIP_FORWARD, 'cancelled'],
    released: ['backordered', 'split', ...SHIP_FORWARD, 'cancelled'],
    backordered: ['released', 'split', ...SHIP_FORWARD, 'cancelled'],
    split: ['released', 'backordered', ...SHIP_FORWARD, 'cancelled'],
    picked: ['backordered', 'split', 'packed', 'booked', 'dispatched', 'in_transit', 'out_for_delivery', 'delivered', 'cancelled'],
    packed: ['booked', 'dispatched', 'in_transit', 'out_for_delivery', 'delivered', 'cancelled'],
    booked: ['dispatched', 'in_transit', 'out_for_delivery', 'delivered', 'cancelled'],
    dispatched: ['in_transit', 'out_for_delivery', 'delivered', 'returned'],
    in_transit: ['out_for_delivery', 'delivered', 'returned'],
    out_for_delivery: ['delivered', 'returned'],
    delivered: ['invoiced', 'paid', 'returned'],
    invoiced: ['paid', 'returned'],
    exception: [],
    paid: [],
    cancelled: [],
    returned: [],
  },
});

/**
 * Procure to pay: released → acknowledged → asn_received → received → discrepancy? →
 * billed → matched. A rejected PO can be amended and released again; the bill may arrive
 * before the goods (billed → received); several receipts repeat `received`.
 */
export const PROCUREMENT_LIFECYCLE: LifecycleMachine<ProcurementState> = Object.freeze<LifecycleMachine<ProcurementState>>({
  kind: 'procurement',
  states: PROCUREMENT_STATES,
  rank: { released: 0, rejected: 1, acknowledged: 1, asn_received: 2, received: 3, discrepancy: 4, billed: 5, matched: 6 },
  terminal: ['matched', 'cancelled'],
  side: undefined,
  transitions: {
    released: ['acknowledged', 'rejected', 'asn_received', 'received', 'billed', 'cancelled'],
    rejected: ['released', 'acknowledged', 'cancelled'],
    acknowledged: ['rejected', 'asn_received', 'received', 'billed', 'cancelled'],
    asn_received: ['received', 'discrepancy', 'billed'],
    received: ['discrepancy', 'billed', 'matched'],
    discrepancy: ['received', 'billed', 'matched'],
    billed: ['received', 'discrepancy', 'matched'],
    matched: [],
    cancelled: [],
  },
});

export const LIFECYCLES: Readonly<Record<LifecycleKind, LifecycleMachine>> = Object.freeze({
  order: ORDER_LIFECYCLE as LifecycleMachine,
  procurement: PROCUREMENT_LIFECYCLE as LifecycleMachine,
});

export function isTerminal<S extends string>(machine: LifecycleMachine<S>, state: S): boolean {
  return machine.terminal.includes(state);
}

/** Whether `from → to` is allowed by the table (repeats and the side state included). */
export function isAllowedTransition<S extends string>(machine: LifecycleMachine<S>, from: S, to: S): boolean {
  if (from === to) return true;
  if (isTerminal(machine, from)) return false;
  if (to === machine.side) return true;
  return machine.transitions[from].includes(to);
}

// ---------------------------------------------------------------------------------------
// inputs and results

/** What fold needs of an event: a CloudEvent as ingress or the inbox holds it. */
export interface LifecycleEvent {
  source: string;
  id: string;
  type: string;
  /** CloudEvents `time`; used when the data states no occurrence time of its own */
  time?: string | Date | null | undefined;
  data?: unknown;
}

/** An event as the lifecycle reports it. `time` is its occurrence time in UTC. */
export interface EventRef {
  source: string;
  id: string;
  type: string;
  time: string | null;
}

export type FlagKind = 'duplicate' | 'regression' | 'invalid_transition' | 'after_terminal' | 'no_time';
export type InputOutcome = 'applied' | FlagKind;

export interface LifecycleFlag {
  kind: FlagKind;
  event: EventRef;
  /** the milestone the event implied */
  milestone: string;
  /** the state when the event was considered (null before the first milestone) */
  from: string | null;
  reason: string;
  /** for duplicates: the event that was kept */
  duplicateOf?: EventRef;
}

export interface AppliedStep {
  event: EventRef;
  from: string | null;
  /** equal to `from` for a repeat (a second in_transit scan) */
  to: string;
}

/** A distinct event folded into the snapshot, normalised; kept so that apply can re-fold. */
export interface LifecycleInput {
  source: string;
  id: string;
  type: string;
  milestone: string;
  /** UTC display form of the occurrence time */
  time: string | null;
  /** fixed-width UTC form, totally ordered */
  timeKey: string | null;
  outcome: InputOutcome;
}

export interface LifecycleSnapshot<S extends string = string> {
  kind: LifecycleKind;
  /** current state; null until a milestone was applied */
  state: S | null;
  /** occurrence time of the event that entered the current state */
  stateAt: string | null;
  /** while in the side state (exception): the state it interrupted */
  resumeState: S | null;
  /** accepted events in fold order, with the move each made */
  applied: AppliedStep[];
  /** events recorded but not applied, in fold order */
  flags: LifecycleFlag[];
  /** every distinct event considered, in fold order */
  inputs: LifecycleInput[];
}

export function emptyLifecycle<S extends string>(machine: LifecycleMachine<S>): LifecycleSnapshot<S> {
  return { kind: machine.kind, state: null, stateAt: null, resumeState: null, applied: [], flags: [], inputs: [] };
}

// ---------------------------------------------------------------------------------------
// normalisation and order

function occurrence(e: LifecycleEvent): Instant | undefined {
  const stated = dataTimeOf(e.type, e.data);
  if (stated !== undefined) {
    const i = parseInstant(stated);
    if (i) return i;
  }
  if (e.time instanceof Date) return instantFromDate(e.time);
  if (typeof e.time === 'string') return parseInstant(e.time);
  return undefined;
}

/** The event as a lifecycle input of `machine`, or undefined when it implies no milestone of it. */
export function toLifecycleInput(machine: LifecycleMachine, e: LifecycleEvent): LifecycleInput | undefined {
  const lc = lifecycleOf(e.type, e.data);
  if (!lc || lc.kind !== machine.kind || !machine.states.includes(lc.milestone)) return undefined;
  const at = occurrence(e);
  return {
    source: e.source,
    id: e.id,
    type: e.type,
    milestone: lc.milestone,
    time: at ? formatInstant(at) : null,
    timeKey: at ? instantKey(at) : null,
    outcome: 'applied',
  };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The fold order: timed before untimed, then instant, milestone order, source, id, type. */
function compareInputs(machine: LifecycleMachine, a: LifecycleInput, b: LifecycleInput): number {
  if (a.timeKey !== b.timeKey) {
    if (a.timeKey === null) return 1;
    if (b.timeKey === null) return -1;
    return cmp(a.timeKey, b.timeKey);
  }
  return (
    machine.states.indexOf(a.milestone) - machine.states.indexOf(b.milestone) || cmp(a.source, b.source) || cmp(a.id, b.id) || cmp(a.type, b.type)
  );
}

const identity = (i: LifecycleInput) => `${i.source}\u0000${i.id}`;
const variant = (i: LifecycleInput) => `${identity(i)}\u0000${i.type}\u0000${i.timeKey}\u0000${i.milestone}`;
const sameInstantGroup = (i: LifecycleInput) => `${i.timeKey}\u0000${i.milestone}\u0000${i.source}`;
const refOf = (i: LifecycleInput): EventRef => ({ source: i.source, id: i.id, type: i.type, time: i.time });

// ---------------------------------------------------------------------------------------
// the fold

interface Decision {
  outcome: InputOutcome;
  reason?: string;
}

function decide<S extends string>(m: LifecycleMachine<S>, s: LifecycleSnapshot<S>, i: LifecycleInput): Decision {
  const to = i.milestone as S;
  const cur = s.state;
  if (cur === null || to === cur) return { outcome: 'applied' };
  const when = i.time ?? 'an unknown time';
  if (isTerminal(m, cur)) {
    return { outcome: 'after_terminal', reason: `${cur} is terminal: ${to} at ${when} is recorded, not applied` };
  }
  if (to === m.side) return { outcome: 'applied' };
  const base = cur === m.side ? s.resumeState : cur;
  if (base === null || to === base || m.transitions[base].includes(to)) return { outcome: 'applied' };
  const since = s.stateAt ? ` (since ${s.stateAt})` : '';
  const current = cur === base ? cur : `${cur} (interrupting ${base})`;
  const rb = m.rank[base];
  const rt = m.rank[to];
  if (rb !== undefined && rt !== undefined && rt < rb) {
    return { outcome: 'regression', reason: `${to} at ${when} would move the status back from ${current}${since}: recorded, not applied` };
  }
  return { outcome: 'invalid_transition', reason: `${base} → ${to} is not an allowed transition (at ${when}, current ${current}${since})` };
}

/** Applies an accepted input to a snapshot (mutates it: callers own the copy). */
function accept<S extends string>(m: LifecycleMachine<S>, s: LifecycleSnapshot<S>, i: LifecycleInput): void {
  const to = i.milestone as S;
  const from = s.state;
  s.applied.push({ event: refOf(i), from, to });
  if (from === to) return;
  s.resumeState = to === m.side ? from : null;
  s.state = to;
  s.stateAt = i.time;
}

function record<S extends string>(s: LifecycleSnapshot<S>, i: LifecycleInput, d: Decision, duplicateOf?: LifecycleInput): void {
  const flag: LifecycleFlag = { kind: d.outcome as FlagKind, event: refOf(i), milestone: i.milestone, from: s.state, reason: d.reason ?? '' };
  if (duplicateOf) flag.duplicateOf = refOf(duplicateOf);
  s.flags.push(flag);
}

/** Folds already-normalised inputs (any order, any repetition). */
export function foldInputs<S extends string>(machine: LifecycleMachine<S>, inputs: Iterable<LifecycleInput>): LifecycleSnapshot<S> {
  // 1. one input per distinct variant (exact redeliveries collapse), in fold order; a
  //    milestone the machine does not know (a snapshot stored by an older version) is dropped
  const variants = new Map<string, LifecycleInput>();
  for (const i of inputs) {
    if (machine.states.includes(i.milestone as S) && !variants.has(variant(i))) variants.set(variant(i), { ...i, outcome: 'applied' });
  }
  const sorted = [...variants.values()].sort((a, b) => compareInputs(machine, a, b));

  // 2. the earliest variant of each identity is kept; later variants are duplicates
  const keptByIdentity = new Map<string, LifecycleInput>();
  for (const i of sorted) if (!keptByIdentity.has(identity(i))) keptByIdentity.set(identity(i), i);

  const s = emptyLifecycle(machine);
  const firstOfGroup = new Map<string, LifecycleInput>();
  for (const i of sorted) {
    stepInto(machine, s, i, keptByIdentity.get(identity(i))!, firstOfGroup);
  }
  return s;
}

/**
 * Decides one input in fold order and records the outcome in `s`. `kept` is the input
 * kept for the same identity (the input itself when it is not a redelivery variant).
 */
function stepInto<S extends string>(
  m: LifecycleMachine<S>,
  s: LifecycleSnapshot<S>,
  i: LifecycleInput,
  kept: LifecycleInput,
  firstOfGroup: Map<string, LifecycleInput>,
): void {
  let d: Decision;
  let dupOf: LifecycleInput | undefined;
  if (kept !== i) {
    dupOf = kept;
    d = {
      outcome: 'duplicate',
      reason: `same source and id as the event kept (${kept.type} ${kept.milestone} at ${kept.time ?? 'no time'}) but different content (${i.type} ${i.milestone} at ${i.time ?? 'no time'})`,
    };
  } else if (i.timeKey === null) {
    d = { outcome: 'no_time', reason: 'the event states no valid occurrence time (data time field or CloudEvents time), so it cannot be ordered' };
  } else {
    const first = firstOfGroup.get(sameInstantGroup(i));
    if (first) {
      dupOf = first;
      d = { outcome: 'duplicate', reason: `${i.milestone} at ${i.time} from the same source was already recorded under id ${JSON.stringify(first.id)}` };
    } else {
      firstOfGroup.set(sameInstantGroup(i), i);
      d = decide(m, s, i);
    }
  }
  const input: LifecycleInput = { ...i, outcome: d.outcome };
  s.inputs.push(input);
  if (d.outcome === 'applied') accept(m, s, input);
  else record(s, input, d, dupOf);
}

/** Folds a set of events into the lifecycle of `machine` (the order lifecycle by default). */
export function fold(events: Iterable<LifecycleEvent>): LifecycleSnapshot<OrderState>;
export function fold<S extends string>(events: Iterable<LifecycleEvent>, machine: LifecycleMachine<S>): LifecycleSnapshot<S>;
export function fold(events: Iterable<LifecycleEvent>, machine: LifecycleMachine = ORDER_LIFECYCLE): LifecycleSnapshot {
  const inputs: LifecycleInput[] = [];
  for (const e of events) {
    const i = toLifecycleInput(machine, e);
    if (i) inputs.push(i);
  }
  return foldInputs(machine, inputs);
}

/**
 * Adds one event to a snapshot; the result equals folding the snapshot's events plus this
 * one. Returns the same snapshot when the event changes nothing (no milestone of this
 * lifecycle, or an exact redelivery). The snapshot passed in is not modified.
 */
export function apply<S extends string>(snapshot: LifecycleSnapshot<S>, event: LifecycleEvent): LifecycleSnapshot<S> {
  const machine = LIFECYCLES[snapshot.kind] as unknown as LifecycleMachine<S>;
  const i = toLifecycleInput(machine, event);
  if (!i) return snapshot;
  const v = variant(i);
  if (snapshot.inputs.some((x) => variant(x) === v)) return snapshot;
  const last = snapshot.inputs.at(-1);
  const inOrder =
    i.timeKey !== null &&
    (last === undefined || (last.timeKey !== null && compareInputs(machine, last, i) < 0)) &&
    !snapshot.inputs.some((x) => identity(x) === identity(i));
  if (!inOrder) return foldInputs(machine, [...snapshot.inputs, i]);

  const next: LifecycleSnapshot<S> = { ...snapshot, applied: [...snapshot.applied], flags: [...snapshot.flags], inputs: [...snapshot.inputs] };
  // the first non-duplicate of the same (instant, milestone, source) group, if any
  const firstOfGroup = new Map<string, LifecycleInput>();
  for (let k = snapshot.inputs.length - 1; k >= 0 && snapshot.inputs[k]!.timeKey === i.timeKey; k--) {
    const x = snapshot.inputs[k]!;
    if (x.outcome !== 'duplicate' && sameInstantGroup(x) === sameInstantGroup(i)) firstOfGroup.set(sameInstantGroup(x), x);
  }
  stepInto(machine, next, i, i, firstOfGroup);
  return next;
}
