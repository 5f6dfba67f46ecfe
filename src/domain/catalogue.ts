/**
 * The event catalogue: every CloudEvents type the hub accepts and emits, with the schema
 * of its `data`, the path of its business key, the time it happened and the lifecycle
 * milestone it implies.
 *
 * Naming: `<entity>.<what happened>.v<major>`, lower case, past tense
 * (`shipment.dispatched.v1`). A breaking change to the data creates a new major version
 * type; the old one stays in the catalogue with `deprecated: {since, replacedBy}` until
 * no partner sends it. The published schema of each type is at `dataschema`.
 *
 * Business key: the pipeline orders events per key (one shipment's events in order,
 * different shipments in parallel). Keys are canonical ids, unique per tenant.
 */
import { Type } from '@sinclair/typebox';
import type { Static, TSchema } from '@sinclair/typebox';
import { ValidationError } from './errors.ts';
import type { FieldIssue } from './errors.ts';
import type { LifecycleKind, OrderState, ProcurementState } from './lifecycle-states.ts';
import {
  Asn,
  CarrierInvoice,
  Eta,
  Exception,
  ExceptionClassSchema,
  FreightQuote,
  FulfilmentRequest,
  Item,
  Location,
  Order,
  PackageContent,
  Party,
  ProofOfDelivery,
  PurchaseOrder,
  Receipt,
  StockLevel,
  StockMovement,
  Subject,
  SupplierAck,
  TrackingEvent,
  VehiclePosition,
  customerInvoiceProperties,
  entitySchema,
  shipmentProperties,
  SupplierInvoice,
  TRACKING_STATUSES,
} from './model.ts';
import type { EntityName, TrackingStatus } from './model.ts';
import { CarrierService, Id, Money, PII, PositiveQuantity, Quantity, Refs, ScanLocation, StringEnum, Struct, TimeZone, Timestamp, UomCode } from './primitives.ts';
import { piiPaths, redactWithSchema } from './schema-walk.ts';
import { validate } from './validation.ts';

export const SCHEMA_BASE_URL = 'https://odoo-logistics-hub.dev/schemas';
/** Version of the catalogue as a whole (the AsyncAPI document's info.version). */
export const CATALOGUE_VERSION = '1.0.0';
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)+\.v[1-9][0-9]*$/;

export const dataschemaUrl = (type: string) => `${SCHEMA_BASE_URL}/events/${type}.json`;

// ---------------------------------------------------------------------------------------
// lifecycle bindings

type StateOf<K extends LifecycleKind> = K extends 'order' ? OrderState : ProcurementState;

/**
 * How an event type moves a lifecycle: which machine, which subject (the first of
 * `subjectPaths` present in the data: a shipment of an order belongs to the order's
 * lifecycle, a shipment without an order has its own), and which milestone, fixed or
 * read from a field of the data (a tracking event's canonical status).
 */
export type LifecycleBinding = {
  [K in LifecycleKind]: {
    kind: K;
    subjectPaths: readonly [string, ...string[]];
  } & ({ milestone: StateOf<K> } | { milestoneFrom: { path: string; map: Readonly<Record<string, StateOf<K> | null>> } });
}[LifecycleKind];

/**
 * Canonical tracking status → order lifecycle milestone. `available_for_pickup` counts as
 * out for delivery (the last step before the recipient collects); failed attempts, holds
 * and returns in progress are exceptions; a delay is not a step of its own (the shipment
 * stays where it is; the delay is raised as an exception by the workflow); `pending`,
 * `unknown` move nothing.
 */
export const TRACKING_MILESTONES: Readonly<Record<TrackingStatus, OrderState | null>> = {
  pending: null,
  info_received: 'booked',
  picked_up: 'dispatched',
  in_transit: 'in_transit',
  out_for_delivery: 'out_for_delivery',
  delivered: 'delivered',
  delivery_failed: 'exception',
  delayed: null,
  exception: 'exception',
  on_hold: 'exception',
  available_for_pickup: 'out_for_delivery',
  returned_to_sender: 'exception',
  cancelled: 'cancelled',
  unknown: null,
};

const ORDER_SUBJECT = ['orderId'] as const;
const SHIPMENT_SUBJECT = ['orderId', 'shipmentId'] as const;
const PO_SUBJECT = ['purchaseOrderId'] as const;
const orderMilestone = (milestone: OrderState, subjectPaths: readonly [string, ...string[]] = ORDER_SUBJECT): LifecycleBinding => ({ kind: 'order', subjectPaths, milestone });
const shipmentMilestone = (milestone: OrderState): LifecycleBinding => ({ kind: 'order', subjectPaths: SHIPMENT_SUBJECT, milestone });
const poMilestone = (milestone: ProcurementState): LifecycleBinding => ({ kind: 'procurement', subjectPaths: PO_SUBJECT, milestone });

// ---------------------------------------------------------------------------------------
// data schemas that are events rather than entities

const orderId = Id('canonical order id');
const shipmentId = Id('canonical shipment id');
const purchaseOrderId = Id('canonical purchase order id');
const optionalOrderId = Type.Optional(Id('canonical order id the shipment belongs to'));

const FulfilmentAcknowledged = entitySchema(
  'fulfilment-request',
  'fulfilmentRequestId',
  {
    fulfilmentRequestId: Id('canonical fulfilment request id'),
    refs: Refs,
    orderId,
    warehouseId: Id('canonical location id of the warehouse'),
    status: StringEnum(['accepted', 'rejected'] as const),
    acknowledgedAt: Timestamp('when the warehouse accepted or rejected the request'),
    reason: Type.Optional(Type.String({ maxLength: 1000, description: 'why it was rejected' })),
  },
  { title: 'FulfilmentAcknowledged', description: 'A warehouse accepted or rejected a fulfilment request.' },
);

const OrderPicked = entitySchema(
  'fulfilment-request',
  'fulfilmentRequestId',
  {
    orderId,
    fulfilmentRequestId: Id('canonical fulfilment request id'),
    refs: Refs,
    warehouseId: Type.Optional(Id('canonical location id of the warehouse')),
    pickedAt: Timestamp('when picking was completed'),
    lines: Type.Array(PackageContent, { minItems: 1, maxItems: 10000 }),
  },
  { title: 'OrderPicked', description: 'The warehouse finished picking a fulfilment request.' },
);

const OrderSplit = entitySchema(
  'order',
  'orderId',
  {
    orderId,
    refs: Refs,
    splitAt: Timestamp('when the order was split'),
    reason: Type.Optional(Type.String({ maxLength: 1000 })),
    parts: Type.Array(
      Struct({
        fulfilmentRequestId: Type.Optional(Id('canonical fulfilment request id of the part')),
        warehouseId: Type.Optional(Id('warehouse shipping the part')),
        lines: Type.Array(Struct({ orderLineId: Type.String({ minLength: 1, maxLength: 64 }), quantity: PositiveQuantity('quantity in this part') }), {
          minItems: 1,
          maxItems: 10000,
        }),
      }),
      { minItems: 2, maxItems: 100 },
    ),
  },
  { title: 'OrderSplit', description: 'The order is fulfilled in several parts (warehouses or shipments).' },
);

const OrderBackordered = entitySchema(
  'order',
  'orderId',
  {
    orderId,
    refs: Refs,
    backorderedAt: Timestamp('when the shortage was confirmed'),
    fulfilmentRequestId: Type.Optional(Id('canonical fulfilment request id that came up short')),
    lines: Type.Array(
      Struct({
        orderLineId: Type.String({ minLength: 1, maxLength: 64 }),
        sku: Type.String({ minLength: 1, maxLength: 64 }),
        quantity: PositiveQuantity('quantity backordered'),
        uom: UomCode,
        expectedDate: Type.Optional(Type.String({ format: 'date', description: 'when stock is expected' })),
      }),
      { minItems: 1, maxItems: 10000 },
    ),
  },
  { title: 'OrderBackordered', description: 'Some or all of the order waits for stock (Odoo backorder).' },
);

const OrderCancelled = entitySchema(
  'order',
  'orderId',
  {
    orderId,
    refs: Refs,
    cancelledAt: Timestamp('when the order was cancelled'),
    reason: Type.Optional(Type.String({ maxLength: 1000 })),
    cancelledBy: Type.Optional(StringEnum(['customer', 'merchant', 'warehouse', 'system'] as const)),
  },
  { title: 'OrderCancelled', description: 'The order was cancelled before it left the warehouse.' },
);

const OrderInvoiced = entitySchema(
  'order',
  'orderId',
  {
    orderId,
    refs: Refs,
    invoiceId: Id('canonical customer invoice id'),
    invoiceNumber: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    invoicedAt: Timestamp('when the invoice was posted'),
    total: Type.Optional(Money),
  },
  { title: 'OrderInvoiced', description: 'The order was invoiced.' },
);

const OrderPaid = entitySchema(
  'order',
  'orderId',
  {
    orderId,
    refs: Refs,
    invoiceId: Type.Optional(Id('canonical customer invoice id')),
    paidAt: Timestamp('when payment was recorded'),
    amount: Money,
    paymentReference: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { title: 'OrderPaid', description: 'The order was paid in full.' },
);

const ShipmentPacked = entitySchema(
  'shipment',
  'shipmentId',
  { ...shipmentProperties, packedAt: Timestamp('when packing was completed') },
  { title: 'ShipmentPacked', description: 'A shipment was packed: its packages, weights and dimensions are known.' },
);

export const LABEL_FORMATS = ['pdf', 'zpl', 'epl', 'png'] as const;

const ShipmentBooked = entitySchema(
  'shipment',
  'shipmentId',
  {
    shipmentId,
    refs: Refs,
    orderId: optionalOrderId,
    bookedAt: Timestamp('when the carrier accepted the booking'),
    carrier: CarrierService,
    trackingNumber: Type.String({ minLength: 1, maxLength: 200, description: 'master tracking number, BOL or PRO number' }),
    packages: Type.Optional(
      Type.Array(Struct({ packageId: Type.String({ minLength: 1, maxLength: 64 }), trackingNumber: Type.String({ minLength: 1, maxLength: 200 }) }), {
        maxItems: 1000,
        description: 'tracking number per package, for multi-piece shipments',
      }),
    ),
    quote: Type.Optional(FreightQuote),
    labels: Type.Optional(
      Type.Array(
        Struct({
          packageId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          format: StringEnum(LABEL_FORMATS),
          uri: Type.String({ format: 'uri', description: 'where the label is stored (labels are not carried in events)' }),
        }),
        { maxItems: 1000 },
      ),
    ),
    plannedPickupAt: Type.Optional(Timestamp('planned carrier pickup')),
  },
  { title: 'ShipmentBooked', description: 'A carrier booking was made: tracking number, label and the quote of record.' },
);

const ShipmentDispatched = entitySchema(
  'shipment',
  'shipmentId',
  {
    shipmentId,
    refs: Refs,
    orderId: optionalOrderId,
    dispatchedAt: Timestamp('when the goods left the warehouse'),
    carrier: Type.Optional(CarrierService),
    trackingNumber: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    fromLocationId: Type.Optional(Id('canonical location id it left from')),
    vehicleId: Type.Optional(Id('canonical vehicle id, for own fleet')),
  },
  { title: 'ShipmentDispatched', description: 'The shipment left the warehouse (Odoo delivery validated; X12 945).' },
);

const ShipmentException = entitySchema(
  'shipment',
  'shipmentId',
  {
    shipmentId,
    refs: Refs,
    orderId: optionalOrderId,
    occurredAt: Timestamp('when the problem happened'),
    class: ExceptionClassSchema,
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    carrierStatusCode: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    location: Type.Optional(ScanLocation),
    nextAttemptAt: Type.Optional(Timestamp('when the carrier will try again')),
  },
  { title: 'ShipmentException', description: 'A carrier or warehouse reported a problem with the shipment.' },
);

const ShipmentCancelled = entitySchema(
  'shipment',
  'shipmentId',
  {
    shipmentId,
    refs: Refs,
    orderId: optionalOrderId,
    cancelledAt: Timestamp('when the shipment was cancelled'),
    reason: Type.Optional(Type.String({ maxLength: 1000 })),
    labelVoided: Type.Optional(Type.Boolean({ description: 'true once the carrier confirmed the label is void (not billed)' })),
  },
  { title: 'ShipmentCancelled', description: 'The shipment was cancelled before dispatch.' },
);

const ShipmentReturned = entitySchema(
  'shipment',
  'shipmentId',
  {
    shipmentId,
    refs: Refs,
    orderId: optionalOrderId,
    returnedAt: Timestamp('when the goods were back at the shipper'),
    reason: Type.Optional(Type.String({ maxLength: 1000 })),
    receiptId: Type.Optional(Id('canonical receipt id of the returned goods')),
  },
  { title: 'ShipmentReturned', description: 'The shipment came back to the shipper (refused, undeliverable or returned by the customer).' },
);

const InvoicePosted = entitySchema(
  'customer-invoice',
  'invoiceId',
  { ...customerInvoiceProperties, postedAt: Timestamp('when the invoice was posted') },
  { title: 'InvoicePosted', description: 'A customer invoice was posted.' },
);

const InvoicePaid = entitySchema(
  'customer-invoice',
  'invoiceId',
  {
    invoiceId: Id('canonical customer invoice id'),
    refs: Refs,
    orderIds: Type.Optional(Type.Array(Id('canonical order id'), { maxItems: 1000 })),
    paidAt: Timestamp('when the payment was recorded'),
    amount: Money,
    paymentReference: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    fullyPaid: Type.Boolean({ description: 'false for a partial payment' }),
  },
  { title: 'InvoicePaid', description: 'A payment was recorded against a customer invoice.' },
);

const InvoiceDisputed = entitySchema(
  'customer-invoice',
  'invoiceId',
  {
    invoiceId: Id('canonical customer invoice id'),
    refs: Refs,
    disputedAt: Timestamp('when the dispute was opened'),
    reason: Type.String({ minLength: 1, maxLength: 2000 }),
    amountDisputed: Type.Optional(Money),
  },
  { title: 'InvoiceDisputed', description: 'A customer disputed an invoice.' },
);

const SupplierInvoiceReceived = entitySchema(
  'supplier-invoice',
  'invoiceId',
  { ...SupplierInvoice.properties, receivedAt: Timestamp('when the bill was received') },
  { title: 'SupplierInvoiceReceived', description: 'A supplier bill was received.' },
);

const PurchaseOrderCancelled = entitySchema(
  'purchase-order',
  'purchaseOrderId',
  { purchaseOrderId, refs: Refs, cancelledAt: Timestamp('when the PO was cancelled'), reason: Type.Optional(Type.String({ maxLength: 1000 })) },
  { title: 'PurchaseOrderCancelled', description: 'A purchase order was cancelled.' },
);

export const DISCREPANCY_KINDS = ['short', 'over', 'damaged', 'unexpected_item', 'not_received', 'price'] as const;

const PurchaseOrderDiscrepancy = entitySchema(
  'purchase-order',
  'purchaseOrderId',
  {
    purchaseOrderId,
    refs: Refs,
    detectedAt: Timestamp('when the discrepancy was found'),
    asnId: Type.Optional(Id('canonical ASN id')),
    receiptId: Type.Optional(Id('canonical receipt id')),
    invoiceId: Type.Optional(Id('canonical supplier invoice id')),
    lines: Type.Array(
      Struct({
        poLineId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        sku: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        kind: StringEnum(DISCREPANCY_KINDS),
        quantityExpected: Type.Optional(Quantity('quantity ordered or announced')),
        quantityActual: Type.Optional(Quantity('quantity received or billed')),
        priceExpected: Type.Optional(Money),
        priceActual: Type.Optional(Money),
      }),
      { minItems: 1, maxItems: 10000 },
    ),
  },
  { title: 'PurchaseOrderDiscrepancy', description: 'What was announced, received or billed differs from the purchase order.' },
);

const PurchaseOrderMatched = entitySchema(
  'purchase-order',
  'purchaseOrderId',
  {
    purchaseOrderId,
    refs: Refs,
    invoiceId: Id('canonical supplier invoice id'),
    matchedAt: Timestamp('when the three-way match passed'),
    result: StringEnum(['matched', 'within_tolerance', 'approved_override'] as const),
    variance: Type.Optional(Money),
  },
  { title: 'PurchaseOrderMatched', description: 'PO, receipts and bill agree (three-way match); the bill can be paid.' },
);

const ExceptionResolved = entitySchema(
  'exception',
  'exceptionId',
  {
    exceptionId: Id('canonical exception id'),
    refs: Refs,
    subject: Subject,
    resolvedAt: Timestamp('when it was resolved'),
    outcome: StringEnum(['fixed', 'dismissed', 'auto_resolved'] as const),
    resolution: Type.String({ minLength: 1, maxLength: 2000, description: 'what was done' }),
    resolvedBy: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'user or process' })),
  },
  { title: 'ExceptionResolved', description: 'An exception was resolved on the workbench or by a later event.' },
);

const TimerFired = Struct(
  {
    key: Type.String({ minLength: 1, maxLength: 512, description: 'business key the timer was scheduled for' }),
    name: Type.String({ pattern: '^[a-z][a-z0-9_.-]{0,99}$', description: 'timer name, e.g. "sla.warehouse_ack"' }),
    dueAt: Timestamp('when the timer was due'),
    firedAt: Timestamp('when it fired'),
    payload: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'what the scheduler attached' })),
  },
  { title: 'TimerFired', description: 'A durable timer fired (an SLA deadline passed).' },
);

const CarrierScan = Struct(
  {
    carrier: Type.String({ pattern: '^[a-z0-9_.-]{1,40}$', description: 'the carrier adapter that read the scan: ups, fedex, dhl, easypost...' }),
    trackingNumber: Type.String({ minLength: 1, maxLength: 200, description: "the shipment's master tracking number" }),
    pieceNumber: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'the piece the scan is about, in a multi-piece shipment' })),
    code: Type.String({ minLength: 1, maxLength: 80, description: "the carrier's own event or status code, verbatim" }),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    status: StringEnum(TRACKING_STATUSES, { description: "canonical status from the adapter's table; unknown when the table does not know the code" }),
    exceptionClass: Type.Optional(ExceptionClassSchema),
    occurredAt: Timestamp('the scan instant, UTC, by the time rule'),
    timeRule: StringEnum(['offset', 'zone', 'utc', 'assumed'] as const, { description: 'how the instant was obtained (src/domain/tracking.ts)' }),
    localTime: Type.Optional(Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\\.[0-9]{1,9})?)?$', description: 'the local time as the carrier sent it' })),
    timeZone: Type.Optional(TimeZone),
    location: Type.Optional(ScanLocation),
    estimatedDeliveryAt: Type.Optional(Timestamp("the carrier's estimated delivery")),
    signedBy: Type.Optional(Type.String({ minLength: 1, maxLength: 200, ...PII })),
    podReference: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { title: 'CarrierScan', description: 'One scan as a carrier adapter read it, before the hub folds it into the shipment.' },
);

const CarrierScansReceived = Struct(
  {
    carrier: Type.String({ pattern: '^[a-z0-9_.-]{1,40}$' }),
    trackingNumber: Type.String({ minLength: 1, maxLength: 200 }),
    receivedVia: StringEnum(['poll', 'webhook'] as const),
    receivedAt: Timestamp('when the hub received them'),
    scans: Type.Array(CarrierScan, { maxItems: 1000 }),
    notFound: Type.Optional(Type.Boolean({ description: 'the carrier does not know the number (yet)' })),
  },
  { title: 'CarrierScansReceived', description: 'Scans a carrier reported for one tracking number, by polling or webhook.' },
);

const StepCompleted = Struct(
  {
    workflow: Type.String({ pattern: '^[a-z][a-z0-9-]{0,62}$', description: 'the workflow, e.g. "order-to-delivery"' }),
    instance: Type.String({ minLength: 1, maxLength: 200, description: 'the workflow instance (for order-to-delivery: the canonical order id)' }),
    step: Type.String({ pattern: '^[a-z][a-z0-9_.-]{0,62}$', description: 'the step, e.g. "wms.release"' }),
    stepKey: Type.String({ minLength: 1, maxLength: 300, description: 'the step key: unique within the instance, the idempotency key sent to the partner' }),
    completedAt: Timestamp('when the step completed'),
    output: Type.Record(Type.String(), Type.Unknown(), { description: 'what the step returned (ids the partner assigned, the routing decided...)' }),
  },
  { title: 'StepCompleted', description: 'A workflow step (a call to a partner) completed; its result goes back to the workflow.' },
);

const SubscriptionDisabled = Struct(
  {
    subscriptionId: Id('id of the outbound subscription'),
    url: Type.String({ format: 'uri', maxLength: 2048, description: 'the endpoint, without its query string (which may carry a credential)' }),
    reason: Type.String({ minLength: 1, maxLength: 2000, description: 'why it was disabled, with the last error' }),
    disabledAt: Timestamp('when it was disabled'),
    failingSince: Timestamp('since when every delivery to it failed'),
    ownerClientId: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'the API client that owns the subscription' })),
  },
  {
    title: 'SubscriptionDisabled',
    description: 'An outbound subscription was disabled after its deliveries failed for too long; it receives nothing until it is enabled again, which can replay what it missed.',
  },
);

// ---------------------------------------------------------------------------------------
// the catalogue

interface EventSpec {
  description: string;
  schema: TSchema;
  /** dotted path in `data` of the business key */
  keyPath: string;
  /** the entity the key identifies, when it is always the same */
  keyEntity?: EntityName;
  /** dotted path in `data` of when it happened; the CloudEvents `time` when absent */
  timePath?: string;
  lifecycle?: LifecycleBinding;
  deprecated?: { since: string; replacedBy: string };
}

const SPECS = {
  'party.upserted.v1': {
    description: 'A party (customer, supplier, carrier, contact) was created or changed in its system of record.',
    schema: Party,
    keyPath: 'partyId',
    keyEntity: 'party',
  },
  'item.upserted.v1': {
    description: 'A product was created or changed: SKU, unit of measure, barcode, weight.',
    schema: Item,
    keyPath: 'itemId',
    keyEntity: 'item',
  },
  'location.upserted.v1': {
    description: 'A warehouse, bin or site was created or changed.',
    schema: Location,
    keyPath: 'locationId',
    keyEntity: 'location',
  },
  'order.created.v1': {
    description: 'An order was confirmed (Odoo sale.order action_confirm, channel order intake).',
    schema: Order,
    keyPath: 'orderId',
    keyEntity: 'order',
    timePath: 'orderedAt',
    lifecycle: orderMilestone('created'),
  },
  'order.updated.v1': {
    description: 'An order changed after confirmation (address correction, line change): the full new version. Moves no milestone.',
    schema: Order,
    keyPath: 'orderId',
    keyEntity: 'order',
  },
  'order.released.v1': {
    description: 'An order was released to a warehouse: the fulfilment request it was sent.',
    schema: FulfilmentRequest,
    keyPath: 'orderId',
    keyEntity: 'order',
    timePath: 'releasedAt',
    lifecycle: orderMilestone('released'),
  },
  'fulfilment.acknowledged.v1': {
    description: 'The warehouse accepted or rejected a fulfilment request (stops the "no warehouse ack" timer).',
    schema: FulfilmentAcknowledged,
    keyPath: 'orderId',
    keyEntity: 'order',
    timePath: 'acknowledgedAt',
  },
  'order.picked.v1': {
    description: 'The warehouse finished picking the order.',
    schema: OrderPicked,
    keyPath: 'orderId',
    keyEntity: 'order',
    timePath: 'pickedAt',
    lifecycle: orderMilestone('picked'),
  },
  'order.split.v1': {
    description: 'The order is fulfilled in several parts.',
    schema: OrderSplit,
    keyPath: 'orderId',
    keyEntity: 'order',
    timePath: 'splitAt',
    lifecycle: orderMilestone('split'),
  },
  'order.backordered.v1': {
    description: 'Some or all of the order waits for stock.',
    schema: OrderBackordered,
    keyPath: 'orderId',
    keyEntity: 'order',
    timePath: 'backorderedAt',
    lifecycle: orderMilestone('backordered'),
  },
  'order.cancelled.v1': {
    description: 'The order was cancelled.',
    schema: OrderCancelled,
    keyPath: 'orderId',
    keyEntity: 'order',
    timePath: 'cancelledAt',
    lifecycle: orderMilestone('cancelled'),
  },
  'order.invoiced.v1': {
    description: 'The order was invoiced (by policy, after proof of delivery).',
    schema: OrderInvoiced,
    keyPath: 'orderId',
    keyEntity: 'order',
    timePath: 'invoicedAt',
    lifecycle: orderMilestone('invoiced'),
  },
  'order.paid.v1': {
    description: 'The order was paid in full.',
    schema: OrderPaid,
    keyPath: 'orderId',
    keyEntity: 'order',
    timePath: 'paidAt',
    lifecycle: orderMilestone('paid'),
  },
  'shipment.packed.v1': {
    description: 'A shipment was packed: packages with weights and dimensions.',
    schema: ShipmentPacked,
    keyPath: 'shipmentId',
    keyEntity: 'shipment',
    timePath: 'packedAt',
    lifecycle: shipmentMilestone('packed'),
  },
  'shipment.booked.v1': {
    description: 'A carrier booking was made: tracking number, labels, quote of record.',
    schema: ShipmentBooked,
    keyPath: 'shipmentId',
    keyEntity: 'shipment',
    timePath: 'bookedAt',
    lifecycle: shipmentMilestone('booked'),
  },
  'shipment.dispatched.v1': {
    description: 'The shipment left the warehouse (Odoo delivery validated, X12 945 ship confirmation, carrier pickup scan).',
    schema: ShipmentDispatched,
    keyPath: 'shipmentId',
    keyEntity: 'shipment',
    timePath: 'dispatchedAt',
    lifecycle: shipmentMilestone('dispatched'),
  },
  'shipment.tracking.v1': {
    description: 'A carrier scan in canonical terms; its status implies the milestone (see TRACKING_MILESTONES).',
    schema: TrackingEvent,
    keyPath: 'shipmentId',
    keyEntity: 'shipment',
    timePath: 'occurredAt',
    lifecycle: { kind: 'order', subjectPaths: SHIPMENT_SUBJECT, milestoneFrom: { path: 'status', map: TRACKING_MILESTONES } },
  },
  'shipment.eta.v1': {
    description: 'A new estimated time of arrival for a shipment or one of its stops.',
    schema: Eta,
    keyPath: 'shipmentId',
    keyEntity: 'shipment',
    timePath: 'calculatedAt',
  },
  'shipment.exception.v1': {
    description: 'A carrier or warehouse reported a problem (failed delivery, damage, hold); a later forward milestone recovers from it.',
    schema: ShipmentException,
    keyPath: 'shipmentId',
    keyEntity: 'shipment',
    timePath: 'occurredAt',
    lifecycle: shipmentMilestone('exception'),
  },
  'shipment.delivered.v1': {
    description: 'The shipment was delivered, with its proof of delivery.',
    schema: ProofOfDelivery,
    keyPath: 'shipmentId',
    keyEntity: 'shipment',
    timePath: 'deliveredAt',
    lifecycle: shipmentMilestone('delivered'),
  },
  'shipment.cancelled.v1': {
    description: 'The shipment was cancelled before dispatch (label voided).',
    schema: ShipmentCancelled,
    keyPath: 'shipmentId',
    keyEntity: 'shipment',
    timePath: 'cancelledAt',
    lifecycle: shipmentMilestone('cancelled'),
  },
  'shipment.returned.v1': {
    description: 'The shipment came back to the shipper.',
    schema: ShipmentReturned,
    keyPath: 'shipmentId',
    keyEntity: 'shipment',
    timePath: 'returnedAt',
    lifecycle: shipmentMilestone('returned'),
  },
  'vehicle.position.v1': {
    description: 'A telematics position of a vehicle.',
    schema: VehiclePosition,
    keyPath: 'vehicleId',
    keyEntity: 'vehicle',
    timePath: 'recordedAt',
  },
  'carrier-invoice.received.v1': {
    description: 'A carrier invoice arrived (X12 210, CSV); freight audit matches it to the quotes of record.',
    schema: CarrierInvoice,
    keyPath: 'invoiceId',
    keyEntity: 'carrier-invoice',
  },
  'invoice.posted.v1': {
    description: 'A customer invoice was posted (Odoo account.move action_post, billing engine).',
    schema: InvoicePosted,
    keyPath: 'invoiceId',
    keyEntity: 'customer-invoice',
    timePath: 'postedAt',
  },
  'invoice.paid.v1': {
    description: 'A payment was recorded against a customer invoice.',
    schema: InvoicePaid,
    keyPath: 'invoiceId',
    keyEntity: 'customer-invoice',
    timePath: 'paidAt',
  },
  'invoice.disputed.v1': {
    description: 'A customer disputed an invoice.',
    schema: InvoiceDisputed,
    keyPath: 'invoiceId',
    keyEntity: 'customer-invoice',
    timePath: 'disputedAt',
  },
  'purchase-order.released.v1': {
    description: 'A purchase order was confirmed and sent to the supplier (X12 850).',
    schema: PurchaseOrder,
    keyPath: 'purchaseOrderId',
    keyEntity: 'purchase-order',
    timePath: 'orderedAt',
    lifecycle: poMilestone('released'),
  },
  'purchase-order.acknowledged.v1': {
    description: 'The supplier acknowledged the purchase order (X12 855): accepted, changed or rejected.',
    schema: SupplierAck,
    keyPath: 'purchaseOrderId',
    keyEntity: 'purchase-order',
    timePath: 'acknowledgedAt',
    lifecycle: {
      kind: 'procurement',
      subjectPaths: PO_SUBJECT,
      milestoneFrom: { path: 'status', map: { accepted: 'acknowledged', accepted_with_changes: 'acknowledged', rejected: 'rejected' } },
    },
  },
  'purchase-order.cancelled.v1': {
    description: 'A purchase order was cancelled.',
    schema: PurchaseOrderCancelled,
    keyPath: 'purchaseOrderId',
    keyEntity: 'purchase-order',
    timePath: 'cancelledAt',
    lifecycle: poMilestone('cancelled'),
  },
  'asn.received.v1': {
    description: 'A supplier announced a shipment against a purchase order (X12 856).',
    schema: Asn,
    keyPath: 'purchaseOrderId',
    keyEntity: 'purchase-order',
    timePath: 'shippedAt',
    lifecycle: poMilestone('asn_received'),
  },
  'receipt.recorded.v1': {
    description: 'Goods were received at a warehouse (X12 944, Odoo incoming picking); against a PO it is the received milestone.',
    schema: Receipt,
    keyPath: 'receiptId',
    keyEntity: 'receipt',
    timePath: 'receivedAt',
    lifecycle: poMilestone('received'),
  },
  'purchase-order.discrepancy.v1': {
    description: 'What was announced, received or billed differs from the purchase order.',
    schema: PurchaseOrderDiscrepancy,
    keyPath: 'purchaseOrderId',
    keyEntity: 'purchase-order',
    timePath: 'detectedAt',
    lifecycle: poMilestone('discrepancy'),
  },
  'supplier-invoice.received.v1': {
    description: 'A supplier bill arrived (X12 810, CSV, portal).',
    schema: SupplierInvoiceReceived,
    keyPath: 'purchaseOrderId',
    keyEntity: 'purchase-order',
    timePath: 'receivedAt',
    lifecycle: poMilestone('billed'),
  },
  'purchase-order.matched.v1': {
    description: 'PO, receipts and bill agree: the bill is approved for payment.',
    schema: PurchaseOrderMatched,
    keyPath: 'purchaseOrderId',
    keyEntity: 'purchase-order',
    timePath: 'matchedAt',
    lifecycle: poMilestone('matched'),
  },
  'stock.moved.v1': {
    description: 'Stock moved: a warehouse scan, receipt, shipment, adjustment, count, return or transfer.',
    schema: StockMovement,
    keyPath: 'itemId',
    keyEntity: 'item',
    timePath: 'occurredAt',
  },
  'stock.level.v1': {
    description: 'The quantity of an item at a location at an instant (snapshot, count or computed).',
    schema: StockLevel,
    keyPath: 'itemId',
    keyEntity: 'item',
    timePath: 'asOf',
  },
  'exception.raised.v1': {
    description: 'An exception was raised for a person to act on (workbench item); keyed by its subject so it is ordered with its events.',
    schema: Exception,
    keyPath: 'subject.id',
    timePath: 'raisedAt',
  },
  'exception.resolved.v1': {
    description: 'An exception was resolved.',
    schema: ExceptionResolved,
    keyPath: 'subject.id',
    timePath: 'resolvedAt',
  },
  'carrier.scans.received.v1': {
    description: "Scans a carrier reported for one tracking number (polled or pushed), as its adapter normalised them; the hub folds them into the shipment's tracking and emits shipment.tracking.v1 for what is new.",
    schema: CarrierScansReceived,
    keyPath: 'trackingNumber',
    timePath: 'receivedAt',
  },
  'hub.subscription.disabled.v1': {
    description: 'An outbound subscription was disabled because every delivery to its endpoint failed for subscriptions.disableAfterHours; tells its owner.',
    schema: SubscriptionDisabled,
    keyPath: 'subscriptionId',
    timePath: 'disabledAt',
  },
  'hub.step.completed.v1': {
    description: "A workflow step (a call to a partner system) completed, with its result; the workflow's next decision starts from it.",
    schema: StepCompleted,
    keyPath: 'instance',
    timePath: 'completedAt',
  },
  'hub.timer.fired.v1': {
    description: 'A durable timer of the hub fired (SLA deadline: no warehouse ack, no carrier scan, ETA breached).',
    schema: TimerFired,
    keyPath: 'key',
    timePath: 'firedAt',
  },
} as const satisfies Record<string, EventSpec>;

export type EventType = keyof typeof SPECS;
/** The TypeScript type of the data of an event type. */
export type EventData<T extends EventType> = Static<(typeof SPECS)[T]['schema']>;

export interface EventTypeDefinition {
  /** full CloudEvents type, e.g. "shipment.dispatched.v1" */
  readonly type: EventType;
  /** the type without its version, e.g. "shipment.dispatched" */
  readonly name: string;
  readonly version: number;
  readonly description: string;
  /** TypeBox schema of `data` (also a JSON Schema) */
  readonly schema: TSchema;
  /** dotted path in `data` of the business key */
  readonly keyPath: string;
  readonly keyEntity: EntityName | undefined;
  /** dotted path in `data` of the occurrence time; the CloudEvents `time` when undefined */
  readonly timePath: string | undefined;
  readonly lifecycle: LifecycleBinding | undefined;
  readonly deprecated: { readonly since: string; readonly replacedBy: string } | undefined;
  /** URL of the published JSON Schema of `data` (the CloudEvents `dataschema`) */
  readonly dataschema: string;
}

function define(type: EventType, spec: EventSpec): EventTypeDefinition {
  const m = /^(.*)\.v([0-9]+)$/.exec(type)!;
  return Object.freeze({
    type,
    name: m[1]!,
    version: Number(m[2]),
    description: spec.description,
    schema: spec.schema,
    keyPath: spec.keyPath,
    keyEntity: spec.keyEntity,
    timePath: spec.timePath,
    lifecycle: spec.lifecycle,
    deprecated: spec.deprecated,
    dataschema: dataschemaUrl(type),
  });
}

const BY_TYPE: ReadonlyMap<string, EventTypeDefinition> = new Map(
  (Object.keys(SPECS) as EventType[]).sort().map((t) => [t, define(t, SPECS[t] as EventSpec)]),
);

/** Every event type, sorted by type. */
export const EVENT_TYPES: readonly EventTypeDefinition[] = Object.freeze([...BY_TYPE.values()]);

/** The definition of a type; undefined for a type that is not in the catalogue. */
export function getEventType(type: string): EventTypeDefinition | undefined {
  return BY_TYPE.get(type);
}

export function isEventType(type: string): type is EventType {
  return BY_TYPE.has(type);
}

/** The value at a dotted path (`subject.id`), or undefined. */
export function valueAt(data: unknown, dottedPath: string): unknown {
  let v: unknown = data;
  for (const part of dottedPath.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/**
 * Validates `data` against the schema of `type`. Issue paths are JSON pointers into
 * `data` ("" is data itself). For a type not in the catalogue the single issue says so;
 * call getEventType first to tell the two cases apart (unknown type vs invalid data).
 */
export function validateEventData(type: string, data: unknown): FieldIssue[] {
  const def = BY_TYPE.get(type);
  if (!def) return [{ path: '', message: `cannot be validated: the event type ${JSON.stringify(type)} is not in the catalogue` }];
  return validate(def.schema, data);
}

/** Throws a ValidationError (code event.unknown_type or event.invalid_data) unless `data` is valid for `type`. */
export function assertEventData<T extends EventType>(type: T, data: unknown): asserts data is EventData<T>;
export function assertEventData(type: string, data: unknown): void;
export function assertEventData(type: string, data: unknown): void {
  if (!BY_TYPE.has(type)) {
    throw new ValidationError('event.unknown_type', `the event type ${JSON.stringify(type)} is not in the catalogue`, [{ path: '/type', message: 'is not a known event type' }]);
  }
  const issues = validateEventData(type, data);
  if (issues.length) throw new ValidationError('event.invalid_data', `the data does not match the schema of ${type}`, issues);
}

/** The business key of an event: the non-empty string at the type's key path, else undefined. */
export function keyOf(type: string, data: unknown): string | undefined {
  const def = BY_TYPE.get(type);
  if (!def) return undefined;
  const v = valueAt(data, def.keyPath);
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * The occurrence time the data states (at the type's time path), as written; undefined
 * when the type has none or the data lacks it. Callers fall back to the CloudEvents time.
 */
export function dataTimeOf(type: string, data: unknown): string | undefined {
  const path = BY_TYPE.get(type)?.timePath;
  if (!path) return undefined;
  const v = valueAt(data, path);
  return typeof v === 'string' ? v : undefined;
}

/** Which lifecycle an event moves, for which subject, to which milestone; undefined when none. */
export function lifecycleOf(type: string, data: unknown): { kind: LifecycleKind; subject: string; milestone: string } | undefined {
  const binding = BY_TYPE.get(type)?.lifecycle;
  if (!binding) return undefined;
  let subject: string | undefined;
  for (const p of binding.subjectPaths) {
    const v = valueAt(data, p);
    if (typeof v === 'string' && v !== '') {
      subject = v;
      break;
    }
  }
  if (subject === undefined) return undefined;
  let milestone: string | null | undefined;
  if ('milestone' in binding) milestone = binding.milestone;
  else {
    const v = valueAt(data, binding.milestoneFrom.path);
    milestone = typeof v === 'string' && Object.hasOwn(binding.milestoneFrom.map, v) ? (binding.milestoneFrom.map as Record<string, string | null>)[v] : undefined;
  }
  return milestone ? { kind: binding.kind, subject, milestone } : undefined;
}

/** JSON pointers of the personal-data fields of a type's data (`*` = any array index). */
export function piiPathsOf(type: string): string[] {
  const def = BY_TYPE.get(type);
  return def ? piiPaths(def.schema) : [];
}

/**
 * A copy of `data` with personal data masked, for logs and roles that may not see it.
 * For a type not in the catalogue nothing is known about the data, so all of it is
 * withheld (replaced by `mask`).
 */
export function redactEventData(type: string, data: unknown, mask = '***'): unknown {
  const def = BY_TYPE.get(type);
  return def ? redactWithSchema(def.schema, data, mask) : mask;
}
