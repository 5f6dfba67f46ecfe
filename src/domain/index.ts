/**
 * # Glossary
 *
 * Terms as the hub uses them, in code, logs, the console and the docs.
 *
 * - **Event**: a CloudEvents 1.0 message saying that something happened (`shipment.dispatched.v1`). Identified by `source` + `id`; immutable; its `data` follows the schema of its type in the catalogue.
 * - **Event type**: `<entity>.<what happened>.v<major>`, e.g. `order.released.v1`. A breaking change makes a new major version; the old type is marked deprecated with `since` and `replacedBy`.
 * - **Catalogue**: the list of event types with their data schema, business key path, time path, lifecycle binding and deprecation (`src/domain/catalogue.ts`). The JSON Schemas and the AsyncAPI document in `schemas/` are generated from it.
 * - **Canonical model**: the hub's own vocabulary (Party, Item, Order, Shipment, Charge...) that every partner format is mapped into and out of.
 * - **Canonical id**: the hub's id of an entity (`shp-61`), unique per tenant within its entity. Other systems' ids are references, never canonical ids.
 * - **Reference (ref)**: an id of the same thing in another system, `{system, id}`: `{system: "odoo", id: "65"}`, `{system: "carrier:ups", id: "1Z999AA10123456784"}`, `{system: "x12:acme:856:st", id: "0522"}`.
 * - **Cross-reference registry (xref)**: the table mapping each canonical id to every system's ids; an external id names at most one canonical thing per tenant and entity.
 * - **Business key (key)**: the canonical id an event is about for ordering (`data.shipmentId` for shipment events). The pipeline handles one key's events in order and different keys in parallel; the `partitionkey` extension overrides it.
 * - **Occurrence time**: when the thing happened, as the data states it (`dispatchedAt`, a scan's `occurredAt`) or else the CloudEvents `time`; not when the hub received it.
 * - **Lifecycle**: the canonical status of an order (order to cash) or a purchase order (procure to pay), as an explicit state machine folded from events.
 * - **Milestone**: the lifecycle state an event implies (a `picked_up` scan implies `dispatched`).
 * - **Fold**: computing a lifecycle from the set of its events, ordered by occurrence time; the same set gives the same result in any arrival order.
 * - **Transition**: a move between two states that the machine's table allows.
 * - **Terminal state**: a state nothing moves out of (paid, cancelled, returned; matched, cancelled).
 * - **Side state**: exception: it can interrupt any non-terminal state, and the next milestone allowed from the interrupted state recovers from it.
 * - **Regression**: an event timed after the current state whose milestone lies before it on the main line (an in_transit scan after delivered). Recorded and flagged, never applied.
 * - **Duplicate**: an event seen before: the same source and id, or the same milestone at the same instant from the same source under another id. Recorded and flagged, never applied twice.
 * - **Flag**: a recorded event that was not applied, with its reason: duplicate, regression, invalid_transition, after_terminal, no_time.
 * - **Exception**: a problem a person must act on, with a class, a severity, an owner queue and a suggested action; the unit of work of the exception workbench. Not a crash: errors of code or transport are retried and dead-lettered instead.
 * - **Owner queue**: the workbench queue that owns an exception (customer_service, warehouse, transport, finance, procurement, integration).
 * - **Error class**: what the pipeline does with a failure: transient (retry with backoff), permanent (dead letter at once), business (raise an exception).
 * - **Inbox**: the table where an event is stored before it is acknowledged; de-duplicates by source and id.
 * - **Outbox**: the table where outgoing messages are written in the same transaction as the change they announce, and published afterwards (at least once).
 * - **Dead letter**: an event whose handling failed permanently or ran out of retries, kept with its reason and payload until it is replayed.
 * - **Replay**: handling dead-lettered events again (one, by filter, or by time range) after the cause was fixed.
 * - **Timer**: a durable deadline on a key (no warehouse ack in N minutes); when it fires the hub emits `hub.timer.fired.v1`.
 * - **Tenant**: one company (Odoo company) whose data is isolated from the others'; every key, xref and exception belongs to one.
 * - **Personal data (PII)**: fields marked `x-pii: true` in the schemas (names, street lines, phones, e-mails); masked in logs and for roles that may not see them.
 * - **Connector**: the code and configuration that speak one external system's protocol; the only code that touches that system's network.
 * - **Mapping profile**: a partner's versioned transformation between its format and the canonical model.
 */
// The public API of the domain: the canonical model, the event catalogue, the lifecycles
// and the pure part of the cross-reference registry. Pure: no I/O, no clock, no process.
// (The glossary above is also src/domain/GLOSSARY.md; a test keeps the two identical.)

export * from './errors.ts';
export * from './primitives.ts';
export * from './model.ts';
export * from './scopes.ts';
export {
  CATALOGUE_VERSION,
  DISCREPANCY_KINDS,
  EVENT_TYPES,
  EVENT_TYPE_PATTERN,
  LABEL_FORMATS,
  SCHEMA_BASE_URL,
  TRACKING_MILESTONES,
  assertEventData,
  dataTimeOf,
  dataschemaUrl,
  getEventType,
  isEventType,
  keyOf,
  lifecycleOf,
  piiPathsOf,
  redactEventData,
  validateEventData,
  valueAt,
} from './catalogue.ts';
export type { EventData, EventType, EventTypeDefinition, LifecycleBinding } from './catalogue.ts';
export { CloudEventEnvelope, HUB_EXTENSIONS } from './envelope.ts';
export {
  LIFECYCLES,
  LIFECYCLE_KINDS,
  ORDER_LIFECYCLE,
  ORDER_STATES,
  PROCUREMENT_LIFECYCLE,
  PROCUREMENT_STATES,
  apply,
  emptyLifecycle,
  fold,
  foldInputs,
  isAllowedTransition,
  isTerminal,
  toLifecycleInput,
} from './lifecycle.ts';
export type {
  AppliedStep,
  EventRef,
  FlagKind,
  InputOutcome,
  LifecycleEvent,
  LifecycleFlag,
  LifecycleInput,
  LifecycleKind,
  LifecycleMachine,
  LifecycleSnapshot,
  OrderState,
  ProcurementState,
} from './lifecycle.ts';
export { conflictingXrefs, extractXrefs, xrefKey } from './xref.ts';
export type { XrefEntry } from './xref.ts';
export { checkerOf, validate, MAX_ISSUES } from './validation.ts';
export { FORMATS, registerFormats } from './formats.ts';
export { formatInstant, instantKey, isDateTime, isFullDate, parseInstant } from './time.ts';
export type { Instant } from './time.ts';
export { piiPaths, redactWithSchema } from './schema-walk.ts';
export { localTimeToUtc, zoneOffsetMinutes, isKnownZone } from './tracking.ts';
export type { CarrierScan, ScanPlace, TimeRule } from './tracking.ts';
export { emptyTracking, foldScans, scanId, isRegression, TRACKING_RANK } from './tracking-fold.ts';
export type { FoldedScan, FoldResult, TrackingState } from './tracking-fold.ts';
