/**
 * The canonical model: what every connector maps Odoo, WMS, carrier, TMS, billing and
 * supplier payloads into, and what the hub's workflows reason about. One TypeBox schema
 * per entity gives its TypeScript type, its runtime validator and its published JSON
 * Schema (scripts/gen-schemas.ts writes schemas/entities/<Name>.json).
 *
 * Identity: each entity has a canonical id field named after it (`shipmentId`,
 * `purchaseOrderId`...) and may carry `refs`: its ids in other systems. The schema
 * keywords `x-entity` and `x-entity-id` name the entity and its id field, so the refs of
 * any event can be extracted for the cross-reference registry (xref.ts).
 *
 * Lifecycle status is not a field of Order or Shipment: it is folded from events
 * (lifecycle.ts), so no payload can move it backwards by accident.
 */
import { Type } from '@sinclair/typebox';
import type { SchemaOptions, Static, TObject, TProperties } from '@sinclair/typebox';
import {
  Address,
  Attributes,
  CarrierService,
  Contact,
  CountryCode,
  CurrencyCode,
  Dimensions,
  DateOnly,
  Decimal,
  ExternalIdString,
  Geo,
  Id,
  Money,
  PartyAddress,
  PII,
  PositiveQuantity,
  Quantity,
  Refs,
  ScanLocation,
  StringEnum,
  Struct,
  TimeWindow,
  TimeZone,
  Timestamp,
  Totals,
  TransportMode,
  UomCode,
  Weight,
} from './primitives.ts';

/** The entities the cross-reference registry knows. */
export const ENTITY_NAMES = [
  'party',
  'item',
  'location',
  'order',
  'fulfilment-request',
  'shipment',
  'carrier-invoice',
  'customer-invoice',
  'supplier-invoice',
  'purchase-order',
  'supplier-ack',
  'asn',
  'receipt',
  'stock-movement',
  'vehicle',
  'exception',
  'timer',
] as const;
export type EntityName = (typeof ENTITY_NAMES)[number];
export const EntityNameSchema = StringEnum(ENTITY_NAMES, { description: 'canonical entity name' });

/**
 * Declares a closed object schema whose `refs` belong to `entity`, identified by the
 * property `idField` of the same object.
 */
export function entitySchema<T extends TProperties>(entity: EntityName, idField: keyof T & string, properties: T, options: SchemaOptions): TObject<T> {
  return Struct(properties, { ...options, 'x-entity': entity, 'x-entity-id': idField });
}

// ---------------------------------------------------------------------------------------
// master data

export const PARTY_ROLES = ['customer', 'supplier', 'carrier', 'warehouse_operator', 'company', 'contact'] as const;

export const partyProperties = {
  partyId: Id('canonical party id'),
  refs: Refs,
  roles: Type.Array(StringEnum(PARTY_ROLES), { minItems: 1, uniqueItems: true, description: 'what the party is to us' }),
  name: Type.String({ minLength: 1, maxLength: 200, description: 'legal or display name', ...PII }),
  isCompany: Type.Boolean(),
  parentPartyId: Type.Optional(Id('the company a contact or delivery address belongs to')),
  vatNumber: Type.Optional(Type.String({ minLength: 2, maxLength: 30, description: 'tax id, e.g. "BE0477472701"' })),
  address: Type.Optional(Address),
  contact: Type.Optional(Contact),
  languageCode: Type.Optional(Type.String({ pattern: '^[a-z]{2}(?:[-_][A-Z]{2})?$', description: 'preferred language, e.g. "fr_BE"' })),
  active: Type.Optional(Type.Boolean({ description: 'false once archived in the system of record' })),
};
export const Party = entitySchema('party', 'partyId', partyProperties, {
  title: 'Party',
  description: 'A customer, supplier, carrier, warehouse operator or contact (Odoo res.partner).',
});
export type Party = Static<typeof Party>;

export const ITEM_TRACKING = ['none', 'lot', 'serial'] as const;

export const Item = entitySchema(
  'item',
  'itemId',
  {
    itemId: Id('canonical item id'),
    refs: Refs,
    sku: Type.String({ minLength: 1, maxLength: 64, description: 'stock keeping unit, the code every system shares (Odoo default_code)' }),
    name: Type.String({ minLength: 1, maxLength: 300 }),
    uom: UomCode,
    barcode: Type.Optional(Type.String({ pattern: '^[0-9A-Za-z-]{4,48}$', description: 'GTIN/EAN/UPC or another scannable code' })),
    kind: Type.Optional(StringEnum(['stockable', 'consumable', 'service'] as const, { description: 'stockable items have quants; services never ship' })),
    tracking: Type.Optional(StringEnum(ITEM_TRACKING, { description: 'lot or serial tracking required at pick and receipt' })),
    weight: Type.Optional(Weight),
    dimensions: Type.Optional(Dimensions),
    hsCode: Type.Optional(Type.String({ pattern: '^[0-9]{6,10}$', description: 'customs tariff code' })),
    countryOfOrigin: Type.Optional(CountryCode),
    active: Type.Optional(Type.Boolean()),
    attributes: Attributes,
  },
  { title: 'Item', description: 'A product or service (Odoo product.product).' },
);
export type Item = Static<typeof Item>;

export const LOCATION_KINDS = ['warehouse', 'zone', 'bin', 'dock', 'store', 'customer_site', 'supplier_site', 'carrier_hub', 'virtual'] as const;

export const Location = entitySchema(
  'location',
  'locationId',
  {
    locationId: Id('canonical location id'),
    refs: Refs,
    kind: StringEnum(LOCATION_KINDS, { description: 'virtual: an accounting location such as inventory loss or transit' }),
    code: Type.String({ minLength: 1, maxLength: 64, description: 'short code, e.g. "WH" or "WH/Stock/A-01"' }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    parentLocationId: Type.Optional(Id('enclosing location')),
    warehouseId: Type.Optional(Id('warehouse this location belongs to')),
    operatorPartyId: Type.Optional(Id('3PL operating the location')),
    address: Type.Optional(Address),
    timeZone: Type.Optional(TimeZone),
  },
  { title: 'Location', description: 'A warehouse, a place in it, or a site (Odoo stock.location / stock.warehouse).' },
);
export type Location = Static<typeof Location>;

// ---------------------------------------------------------------------------------------
// orders and fulfilment

export const OrderLine = Struct(
  {
    lineId: Type.String({ minLength: 1, maxLength: 64, description: 'line id, unique within the order' }),
    itemId: Id('canonical item id'),
    sku: Type.String({ minLength: 1, maxLength: 64 }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    quantity: PositiveQuantity('ordered quantity'),
    uom: UomCode,
    unitPrice: Type.Optional(Money),
    requestedDate: Type.Optional(DateOnly('requested delivery date of this line')),
  },
  { title: 'OrderLine', description: 'One ordered item.' },
);

export const ORDER_KINDS = ['sale', 'return', 'transfer'] as const;

export const orderProperties = {
  orderId: Id('canonical order id'),
  refs: Refs,
  orderNumber: Type.String({ minLength: 1, maxLength: 64, description: 'human order number, e.g. Odoo "S00065"' }),
  kind: StringEnum(ORDER_KINDS),
  channel: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'sales channel, e.g. "web", "edi", "odoo"' })),
  customerId: Id('canonical party id of the customer'),
  customerReference: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "the customer's own reference (their PO number)" })),
  orderedAt: Timestamp('when the order was placed'),
  shipTo: PartyAddress,
  billTo: Type.Optional(PartyAddress),
  warehouseId: Type.Optional(Id('warehouse chosen to fulfil the order')),
  requestedShipDate: Type.Optional(DateOnly('ship no earlier than')),
  requestedDeliveryDate: Type.Optional(DateOnly('deliver by')),
  carrierHint: Type.Optional(CarrierService),
  incoterm: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$', description: 'Incoterms 2020 code, e.g. "DAP"' })),
  currency: Type.Optional(CurrencyCode),
  lines: Type.Array(OrderLine, { minItems: 1, maxItems: 10000 }),
  totals: Type.Optional(Totals),
  notes: Type.Optional(Type.String({ maxLength: 4000, ...PII })),
  attributes: Attributes,
};
export const Order = entitySchema('order', 'orderId', orderProperties, {
  title: 'Order',
  description: 'A sales, return or transfer order and its lines (Odoo sale.order).',
});
export type Order = Static<typeof Order>;

export const FulfilmentLine = Struct(
  {
    lineId: Type.String({ minLength: 1, maxLength: 64 }),
    orderLineId: Type.String({ minLength: 1, maxLength: 64 }),
    itemId: Id('canonical item id'),
    sku: Type.String({ minLength: 1, maxLength: 64 }),
    quantity: PositiveQuantity('quantity to ship'),
    uom: UomCode,
    lot: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'lot to pick, when imposed' })),
  },
  { title: 'FulfilmentLine', description: 'One line of a fulfilment request.' },
);

export const FULFILMENT_PRIORITIES = ['standard', 'expedited', 'urgent'] as const;

export const FulfilmentRequest = entitySchema(
  'fulfilment-request',
  'fulfilmentRequestId',
  {
    fulfilmentRequestId: Id('canonical fulfilment request id'),
    refs: Refs,
    orderId: Id('canonical order id'),
    orderNumber: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    warehouseId: Id('canonical location id of the warehouse asked to ship'),
    releasedAt: Timestamp('when the order was released to the warehouse'),
    shipBy: Type.Optional(Timestamp('latest dispatch time')),
    deliverBy: Type.Optional(Timestamp('promised delivery time')),
    priority: Type.Optional(StringEnum(FULFILMENT_PRIORITIES)),
    shipTo: PartyAddress,
    carrier: Type.Optional(CarrierService),
    lines: Type.Array(FulfilmentLine, { minItems: 1, maxItems: 10000 }),
    instructions: Type.Optional(Type.String({ maxLength: 2000, description: 'packing or delivery instructions' })),
  },
  {
    title: 'FulfilmentRequest',
    description: 'What a warehouse is asked to pick, pack and ship for an order (Odoo outgoing stock.picking; X12 940).',
  },
);
export type FulfilmentRequest = Static<typeof FulfilmentRequest>;

// ---------------------------------------------------------------------------------------
// shipments

export const PackageContent = Struct(
  {
    orderLineId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    itemId: Type.Optional(Id('canonical item id')),
    sku: Type.String({ minLength: 1, maxLength: 64 }),
    quantity: PositiveQuantity('packed quantity'),
    uom: UomCode,
    lot: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    serials: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 10000 })),
  },
  { title: 'PackageContent', description: 'What is in a package.' },
);

export const PACKAGING_TYPES = ['box', 'envelope', 'pak', 'tube', 'pallet', 'crate', 'drum', 'other'] as const;

export const Package = Struct(
  {
    packageId: Type.String({ minLength: 1, maxLength: 64, description: 'package id, unique within the shipment' }),
    trackingNumber: Type.Optional(ExternalIdString('carrier tracking number of this package')),
    sscc: Type.Optional(Type.String({ pattern: '^[0-9]{18}$', description: 'GS1 serial shipping container code (18 digits)' })),
    packaging: Type.Optional(StringEnum(PACKAGING_TYPES)),
    weight: Weight,
    dimensions: Type.Optional(Dimensions),
    contents: Type.Optional(Type.Array(PackageContent, { maxItems: 10000 })),
  },
  { title: 'Package', description: 'One physical piece of a shipment.' },
);

export const STOP_KINDS = ['pickup', 'delivery', 'cross_dock', 'waypoint'] as const;

export const Stop = Struct(
  {
    stopId: Type.String({ minLength: 1, maxLength: 64 }),
    sequence: Type.Integer({ minimum: 1, description: 'order of the stop on the route, from 1' }),
    kind: StringEnum(STOP_KINDS),
    locationId: Type.Optional(Id('canonical location id, when the stop is a known site')),
    address: PartyAddress,
    window: Type.Optional(TimeWindow),
    plannedArrivalAt: Type.Optional(Timestamp('planned arrival')),
    actualArrivalAt: Type.Optional(Timestamp('actual arrival')),
    actualDepartureAt: Type.Optional(Timestamp('actual departure')),
  },
  { title: 'Stop', description: 'A pickup or delivery stop of a route (X12 204 S5).' },
);

export const Leg = Struct(
  {
    legId: Type.String({ minLength: 1, maxLength: 64 }),
    sequence: Type.Integer({ minimum: 1 }),
    fromStopId: Type.String({ minLength: 1, maxLength: 64 }),
    toStopId: Type.String({ minLength: 1, maxLength: 64 }),
    mode: TransportMode,
    carrier: Type.Optional(CarrierService),
    vehicleId: Type.Optional(Id('canonical vehicle id')),
    trackingNumber: Type.Optional(ExternalIdString('tracking or PRO number of this leg')),
    plannedDepartureAt: Type.Optional(Timestamp('planned departure')),
    plannedArrivalAt: Type.Optional(Timestamp('planned arrival')),
  },
  { title: 'Leg', description: 'A movement between two stops, by one mode and carrier.' },
);

export const CHARGE_KINDS = ['base', 'fuel', 'accessorial', 'tax', 'discount', 'adjustment'] as const;

export const Charge = Struct(
  {
    kind: StringEnum(CHARGE_KINDS, { description: 'base freight, fuel surcharge, accessorial, tax, discount (negative) or adjustment (e.g. reweigh)' }),
    code: Type.String({
      pattern: '^[A-Z0-9_]{1,40}$',
      description: 'charge code, upper case: "BASE", "FUEL", "RESIDENTIAL", "LIFTGATE", "REWEIGH", "ADDRESS_CORRECTION"',
    }),
    description: Type.Optional(Type.String({ maxLength: 200 })),
    amount: Money,
    basis: Type.Optional(
      Struct(
        {
          quantity: Quantity('billed quantity'),
          unit: Type.String({ minLength: 1, maxLength: 12, description: 'what the rate applies to: "kg", "lb", "km", "pallet", "percent"' }),
          rate: Decimal('rate per unit'),
        },
        { description: 'how the amount was computed' },
      ),
    ),
    minimumApplied: Type.Optional(Type.Boolean({ description: 'true when a minimum charge replaced the computed amount' })),
  },
  { title: 'Charge', description: 'One freight charge: base, fuel or accessorial.' },
);
export type Charge = Static<typeof Charge>;

export const FreightQuote = Struct(
  {
    quoteId: Type.String({ minLength: 1, maxLength: 100, description: 'quote or rate id of the carrier or aggregator' }),
    carrier: CarrierService,
    charges: Type.Array(Charge, { minItems: 1, maxItems: 200 }),
    total: Money,
    billableWeight: Type.Optional(Weight),
    quotedAt: Timestamp('when the rate was quoted'),
    validUntil: Type.Optional(Timestamp('quote expiry')),
    transitDays: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { title: 'FreightQuote', description: 'The rate of record a carrier invoice is audited against.' },
);
export type FreightQuote = Static<typeof FreightQuote>;

export const SHIPMENT_DIRECTIONS = ['outbound', 'inbound', 'return', 'transfer'] as const;

export const shipmentProperties = {
  shipmentId: Id('canonical shipment id'),
  refs: Refs,
  orderId: Type.Optional(Id('canonical order id the shipment fulfils')),
  fulfilmentRequestId: Type.Optional(Id('canonical fulfilment request id')),
  direction: StringEnum(SHIPMENT_DIRECTIONS),
  mode: Type.Optional(TransportMode),
  carrier: Type.Optional(CarrierService),
  trackingNumber: Type.Optional(ExternalIdString('master tracking number, BOL or PRO number')),
  shipFrom: PartyAddress,
  shipTo: PartyAddress,
  packages: Type.Array(Package, { minItems: 1, maxItems: 1000 }),
  stops: Type.Optional(Type.Array(Stop, { minItems: 2, maxItems: 200 })),
  legs: Type.Optional(Type.Array(Leg, { minItems: 1, maxItems: 200 })),
  plannedPickupAt: Type.Optional(Timestamp('planned pickup')),
  promisedDeliveryAt: Type.Optional(Timestamp('delivery promised to the customer')),
  declaredValue: Type.Optional(Money),
  incoterm: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
  customerReference: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  attributes: Attributes,
};
export const Shipment = entitySchema('shipment', 'shipmentId', shipmentProperties, {
  title: 'Shipment',
  description: 'Goods moving together under one carrier booking: packages, and for freight its stops and legs.',
});
export type Shipment = Static<typeof Shipment>;

// ---------------------------------------------------------------------------------------
// exception classes (used by tracking events, shipment exceptions and the workbench)

export const EXCEPTION_SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export type ExceptionSeverity = (typeof EXCEPTION_SEVERITIES)[number];

export const OWNER_QUEUES = ['customer_service', 'warehouse', 'transport', 'finance', 'procurement', 'integration'] as const;
export type OwnerQueue = (typeof OWNER_QUEUES)[number];

/**
 * Exception classes with the queue that owns them, their usual severity and the action
 * suggested first. Workflows may raise with another severity or queue; this table is the
 * default, so the same problem lands in the same place whatever partner reported it.
 */
export const EXCEPTION_CLASSES = {
  delivery_failed: { ownerQueue: 'customer_service', severity: 'warning', action: 'contact_recipient', text: 'Contact the recipient and book a new delivery attempt.' },
  address_issue: { ownerQueue: 'customer_service', severity: 'error', action: 'correct_address', text: 'Correct the address with the customer and send the correction to the carrier.' },
  refused: { ownerQueue: 'customer_service', severity: 'error', action: 'contact_customer', text: 'Ask the customer why the delivery was refused; start a return if confirmed.' },
  damaged: { ownerQueue: 'transport', severity: 'error', action: 'file_claim', text: 'File a damage claim with the carrier and reship if the customer wants.' },
  lost: { ownerQueue: 'transport', severity: 'critical', action: 'file_claim', text: 'Open a trace with the carrier, file a claim and reship.' },
  delayed: { ownerQueue: 'transport', severity: 'warning', action: 'notify_customer', text: 'Tell the customer the new ETA.' },
  weather: { ownerQueue: 'transport', severity: 'info', action: 'notify_customer', text: 'Tell the customer the delivery is delayed by weather.' },
  customs_hold: { ownerQueue: 'transport', severity: 'error', action: 'provide_documents', text: 'Send the missing customs documents to the broker.' },
  return_to_sender: { ownerQueue: 'customer_service', severity: 'warning', action: 'plan_return_receipt', text: 'Expect the return at the warehouse and decide on refund or reshipment.' },
  missing_scan: { ownerQueue: 'transport', severity: 'warning', action: 'contact_carrier', text: 'Ask the carrier whether the parcel was collected.' },
  missing_ack: { ownerQueue: 'integration', severity: 'error', action: 'check_partner', text: 'Check the partner connection and resend the document.' },
  eta_breached: { ownerQueue: 'transport', severity: 'warning', action: 'notify_customer', text: 'Tell the customer the new ETA and escalate with the carrier.' },
  stock_shortage: { ownerQueue: 'warehouse', severity: 'error', action: 'backorder_or_substitute', text: 'Backorder the missing quantity or propose a substitute.' },
  quantity_discrepancy: { ownerQueue: 'warehouse', severity: 'warning', action: 'recount', text: 'Recount and confirm the quantity before the stock is corrected.' },
  price_discrepancy: { ownerQueue: 'procurement', severity: 'warning', action: 'review_price', text: 'Compare the billed price with the PO and approve or dispute.' },
  freight_variance: { ownerQueue: 'finance', severity: 'warning', action: 'review_variance', text: 'Approve the variance, re-bill the accessorial or dispute the carrier invoice.' },
  duplicate_invoice: { ownerQueue: 'finance', severity: 'error', action: 'reject_invoice', text: 'Reject the duplicate invoice.' },
  partner_rejected: { ownerQueue: 'integration', severity: 'error', action: 'fix_and_resend', text: 'Read the rejection reason, correct the data and resend.' },
  mapping_error: { ownerQueue: 'integration', severity: 'error', action: 'fix_mapping', text: 'Fix the partner mapping profile and replay the event.' },
  duplicate_reference: { ownerQueue: 'integration', severity: 'error', action: 'merge_references', text: 'Decide which record the external reference belongs to.' },
  other: { ownerQueue: 'integration', severity: 'error', action: 'investigate', text: 'Investigate.' },
} as const satisfies Record<string, { ownerQueue: OwnerQueue; severity: ExceptionSeverity; action: string; text: string }>;
export type ExceptionClass = keyof typeof EXCEPTION_CLASSES;
export const EXCEPTION_CLASS_NAMES = Object.keys(EXCEPTION_CLASSES) as [ExceptionClass, ...ExceptionClass[]];
export const ExceptionClassSchema = StringEnum(EXCEPTION_CLASS_NAMES, { description: 'what went wrong, in canonical terms' });

/** The default severity, owner queue and first suggested action of an exception class. */
export function exceptionDefaults(cls: ExceptionClass): { severity: ExceptionSeverity; ownerQueue: OwnerQueue; suggestedAction: { code: string; description: string } } {
  const d = EXCEPTION_CLASSES[cls];
  return { severity: d.severity, ownerQueue: d.ownerQueue, suggestedAction: { code: d.action, description: d.text } };
}

// ---------------------------------------------------------------------------------------
// tracking

/**
 * Canonical tracking statuses. Carrier codes (UPS activity types, FedEx scan codes, DHL
 * statusCodes, aggregator statuses, X12 214 AT7 codes) are mapped onto these by each
 * connector's table (see src/domain/tracking.ts); a code no table knows stays `unknown`
 * and is flagged, never guessed.
 */
export const TRACKING_STATUSES = [
  'pending',
  'info_received',
  'picked_up',
  'in_transit',
  'out_for_delivery',
  'delivered',
  'delivery_failed',
  'delayed',
  'exception',
  'on_hold',
  'available_for_pickup',
  'returned_to_sender',
  'cancelled',
  'unknown',
] as const;
export type TrackingStatus = (typeof TRACKING_STATUSES)[number];

export const TrackingEvent = entitySchema(
  'shipment',
  'shipmentId',
  {
    shipmentId: Id('canonical shipment id'),
    refs: Refs,
    orderId: Type.Optional(Id('canonical order id')),
    trackingNumber: Type.Optional(ExternalIdString('tracking number the scan was reported for')),
    packageId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'package the scan is about, when not the whole shipment' })),
    status: StringEnum(TRACKING_STATUSES, { description: 'canonical status the carrier status maps to' }),
    carrierStatusCode: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: "the carrier's own status or scan code" })),
    carrierStatusText: Type.Optional(Type.String({ maxLength: 500 })),
    occurredAt: Timestamp('when the scan happened, with the correct offset'),
    carrierLocalTime: Type.Optional(
      Type.String({
        pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\\.[0-9]{1,9})?)?$',
        description: 'the local wall-clock time the carrier reported, without offset, kept for audit',
      }),
    ),
    timeZone: Type.Optional(TimeZone),
    location: Type.Optional(ScanLocation),
    exceptionClass: Type.Optional(ExceptionClassSchema),
    estimatedDeliveryAt: Type.Optional(Timestamp("carrier's estimated delivery, when the scan carries one")),
  },
  { title: 'TrackingEvent', description: 'One carrier scan or status update, in canonical terms.' },
);
export type TrackingEvent = Static<typeof TrackingEvent>;

export const POD_DOCUMENT_KINDS = ['signature', 'photo', 'document'] as const;
export const DELIVERY_TYPES = ['handed_to_recipient', 'neighbour', 'safe_place', 'access_point', 'reception', 'dock'] as const;

export const ProofOfDelivery = entitySchema(
  'shipment',
  'shipmentId',
  {
    shipmentId: Id('canonical shipment id'),
    refs: Refs,
    orderId: Type.Optional(Id('canonical order id')),
    trackingNumber: Type.Optional(ExternalIdString('tracking number')),
    deliveredAt: Timestamp('when the goods were handed over'),
    receivedBy: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'name of the person who signed', ...PII })),
    deliveryType: Type.Optional(StringEnum(DELIVERY_TYPES)),
    location: Type.Optional(Geo),
    packagesDelivered: Type.Optional(Type.Integer({ minimum: 0 })),
    documents: Type.Optional(
      Type.Array(
        Struct({
          kind: StringEnum(POD_DOCUMENT_KINDS),
          uri: Type.String({ format: 'uri', description: 'where the document is stored' }),
          mediaType: Type.Optional(Type.String({ pattern: '^[a-z]+/[A-Za-z0-9.+-]+$', description: 'e.g. "image/png"' })),
        }),
        { maxItems: 20 },
      ),
    ),
    notes: Type.Optional(Type.String({ maxLength: 1000, description: 'driver notes', ...PII })),
  },
  { title: 'ProofOfDelivery', description: 'Evidence that a shipment was delivered: when, to whom, signature and photos.' },
);
export type ProofOfDelivery = Static<typeof ProofOfDelivery>;

export const VehiclePosition = entitySchema(
  'vehicle',
  'vehicleId',
  {
    vehicleId: Id('canonical vehicle id'),
    refs: Refs,
    recordedAt: Timestamp('when the device recorded the position'),
    position: Geo,
    headingDeg: Type.Optional(Type.Number({ minimum: 0, maximum: 360 })),
    speedKph: Type.Optional(Type.Number({ minimum: 0 })),
    accuracyM: Type.Optional(Type.Number({ minimum: 0 })),
    odometerKm: Type.Optional(Type.Number({ minimum: 0 })),
    ignitionOn: Type.Optional(Type.Boolean()),
    shipmentIds: Type.Optional(Type.Array(Id('canonical shipment id'), { maxItems: 500, description: 'shipments on board' })),
    nextStopId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { title: 'VehiclePosition', description: 'A telematics position of a vehicle.' },
);
export type VehiclePosition = Static<typeof VehiclePosition>;

export const ETA_SOURCES = ['carrier', 'telematics', 'tms', 'hub'] as const;

export const Eta = entitySchema(
  'shipment',
  'shipmentId',
  {
    shipmentId: Id('canonical shipment id'),
    refs: Refs,
    stopId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'stop the estimate is for; the final delivery when absent' })),
    estimatedArrivalAt: Timestamp('estimated arrival'),
    window: Type.Optional(TimeWindow),
    calculatedAt: Timestamp('when the estimate was made'),
    source: StringEnum(ETA_SOURCES),
    confidence: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    promisedAt: Type.Optional(Timestamp('the commitment the estimate is compared with')),
    delayMinutes: Type.Optional(Type.Integer({ description: 'estimated minus promised, in minutes (negative when early)' })),
    reason: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { title: 'Eta', description: 'An estimated time of arrival of a shipment at a stop.' },
);
export type Eta = Static<typeof Eta>;

// ---------------------------------------------------------------------------------------
// money documents

export const CarrierInvoiceLine = Struct(
  {
    lineId: Type.String({ minLength: 1, maxLength: 64 }),
    shipmentId: Type.Optional(Id('canonical shipment id, once matched')),
    trackingNumber: Type.Optional(ExternalIdString('tracking number billed')),
    proNumber: Type.Optional(ExternalIdString('PRO or BOL number billed')),
    serviceDate: Type.Optional(DateOnly('ship date')),
    service: Type.Optional(Type.String({ minLength: 1, maxLength: 60 })),
    billedWeight: Type.Optional(Weight),
    charges: Type.Array(Charge, { minItems: 1, maxItems: 200 }),
    total: Money,
  },
  { title: 'CarrierInvoiceLine', description: 'The charges billed for one shipment.' },
);

export const CarrierInvoice = entitySchema(
  'carrier-invoice',
  'invoiceId',
  {
    invoiceId: Id('canonical carrier invoice id'),
    refs: Refs,
    invoiceNumber: Type.String({ minLength: 1, maxLength: 64 }),
    carrier: CarrierService,
    invoiceDate: DateOnly('invoice date'),
    dueDate: Type.Optional(DateOnly('payment due')),
    currency: CurrencyCode,
    lines: Type.Array(CarrierInvoiceLine, { minItems: 1, maxItems: 100000 }),
    total: Money,
  },
  { title: 'CarrierInvoice', description: 'A freight bill from a carrier (X12 210, CSV), audited line by line against the quote.' },
);
export type CarrierInvoice = Static<typeof CarrierInvoice>;

export const invoiceLineProperties = {
  lineId: Type.String({ minLength: 1, maxLength: 64 }),
  description: Type.String({ minLength: 1, maxLength: 1000 }),
  itemId: Type.Optional(Id('canonical item id')),
  sku: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  quantity: Quantity('invoiced quantity'),
  uom: Type.Optional(UomCode),
  unitPrice: Money,
  amount: Money,
  taxRate: Type.Optional(Decimal('tax rate in percent')),
};

export const CustomerInvoiceLine = Struct(
  { ...invoiceLineProperties, orderLineId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) },
  { title: 'CustomerInvoiceLine', description: 'One line of a customer invoice; amount is untaxed.' },
);

export const customerInvoiceProperties = {
  invoiceId: Id('canonical customer invoice id'),
  refs: Refs,
  invoiceNumber: Type.String({ minLength: 1, maxLength: 64, description: 'e.g. Odoo "INV/2026/00016"' }),
  customerId: Id('canonical party id of the customer'),
  orderIds: Type.Array(Id('canonical order id'), { maxItems: 1000, description: 'orders the invoice bills' }),
  invoiceDate: DateOnly('invoice date'),
  dueDate: Type.Optional(DateOnly('payment due')),
  currency: CurrencyCode,
  lines: Type.Array(CustomerInvoiceLine, { minItems: 1, maxItems: 100000 }),
  totals: Totals,
  amountDue: Type.Optional(Money),
};
export const CustomerInvoice = entitySchema('customer-invoice', 'invoiceId', customerInvoiceProperties, {
  title: 'CustomerInvoice',
  description: 'An invoice to a customer (Odoo account.move out_invoice; X12 810 outbound).',
});
export type CustomerInvoice = Static<typeof CustomerInvoice>;

export const SupplierInvoiceLine = Struct(
  { ...invoiceLineProperties, poLineId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'purchase order line billed' })) },
  { title: 'SupplierInvoiceLine', description: 'One line of a supplier bill; amount is untaxed.' },
);

export const SupplierInvoice = entitySchema(
  'supplier-invoice',
  'invoiceId',
  {
    invoiceId: Id('canonical supplier invoice id'),
    refs: Refs,
    invoiceNumber: Type.String({ minLength: 1, maxLength: 64, description: "the supplier's invoice number" }),
    supplierId: Id('canonical party id of the supplier'),
    purchaseOrderId: Id('canonical purchase order id billed (one PO per bill, as in X12 810 BIG04)'),
    invoiceDate: DateOnly('invoice date'),
    dueDate: Type.Optional(DateOnly('payment due')),
    currency: CurrencyCode,
    lines: Type.Array(SupplierInvoiceLine, { minItems: 1, maxItems: 100000 }),
    totals: Totals,
  },
  { title: 'SupplierInvoice', description: 'A bill from a supplier (X12 810 inbound, CSV, portal), three-way matched against PO and receipts.' },
);
export type SupplierInvoice = Static<typeof SupplierInvoice>;

// ---------------------------------------------------------------------------------------
// procurement

export const PurchaseOrderLine = Struct(
  {
    lineId: Type.String({ minLength: 1, maxLength: 64 }),
    itemId: Id('canonical item id'),
    sku: Type.String({ minLength: 1, maxLength: 64 }),
    supplierSku: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "the supplier's product code" })),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    quantity: PositiveQuantity('ordered quantity'),
    uom: UomCode,
    unitPrice: Money,
    expectedDate: Type.Optional(DateOnly('expected receipt date of this line')),
  },
  { title: 'PurchaseOrderLine', description: 'One ordered item.' },
);

export const PurchaseOrder = entitySchema(
  'purchase-order',
  'purchaseOrderId',
  {
    purchaseOrderId: Id('canonical purchase order id'),
    refs: Refs,
    orderNumber: Type.String({ minLength: 1, maxLength: 64, description: 'e.g. Odoo "P00012"' }),
    supplierId: Id('canonical party id of the supplier'),
    orderedAt: Timestamp('when the PO was confirmed'),
    currency: CurrencyCode,
    shipToLocationId: Id('canonical location id of the receiving warehouse'),
    shipTo: Type.Optional(PartyAddress),
    expectedDate: Type.Optional(DateOnly('expected receipt date')),
    incoterm: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
    lines: Type.Array(PurchaseOrderLine, { minItems: 1, maxItems: 10000 }),
    totals: Type.Optional(Totals),
  },
  { title: 'PurchaseOrder', description: 'An order to a supplier (Odoo purchase.order; X12 850).' },
);
export type PurchaseOrder = Static<typeof PurchaseOrder>;

export const ACK_STATUSES = ['accepted', 'accepted_with_changes', 'rejected'] as const;
export const ACK_LINE_STATUSES = ['accepted', 'changed', 'backordered', 'rejected'] as const;

export const SupplierAck = entitySchema(
  'supplier-ack',
  'ackId',
  {
    ackId: Id('canonical acknowledgement id'),
    refs: Refs,
    purchaseOrderId: Id('canonical purchase order id'),
    status: StringEnum(ACK_STATUSES, { description: 'X12 855 BAK02: AC/AT accepted, AC with changed lines, RD/RJ rejected' }),
    acknowledgedAt: Timestamp('when the supplier acknowledged'),
    reason: Type.Optional(Type.String({ maxLength: 1000 })),
    lines: Type.Optional(
      Type.Array(
        Struct({
          poLineId: Type.String({ minLength: 1, maxLength: 64 }),
          status: StringEnum(ACK_LINE_STATUSES),
          quantity: Type.Optional(Quantity('confirmed quantity')),
          unitPrice: Type.Optional(Money),
          expectedDate: Type.Optional(DateOnly('confirmed ship or delivery date')),
        }),
        { maxItems: 10000 },
      ),
    ),
  },
  { title: 'SupplierAck', description: "A supplier's acknowledgement of a purchase order (X12 855, portal)." },
);
export type SupplierAck = Static<typeof SupplierAck>;

export const AsnLine = Struct(
  {
    poLineId: Type.String({ minLength: 1, maxLength: 64 }),
    itemId: Type.Optional(Id('canonical item id')),
    sku: Type.String({ minLength: 1, maxLength: 64 }),
    quantity: PositiveQuantity('shipped quantity'),
    uom: UomCode,
    lot: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    expiryDate: Type.Optional(DateOnly('lot expiry')),
    sscc: Type.Optional(Type.String({ pattern: '^[0-9]{18}$', description: 'SSCC of the pallet or case it is in' })),
  },
  { title: 'AsnLine', description: 'A shipped quantity of one PO line.' },
);

export const Asn = entitySchema(
  'asn',
  'asnId',
  {
    asnId: Id('canonical ASN id'),
    refs: Refs,
    asnNumber: Type.String({ minLength: 1, maxLength: 64, description: 'shipment identification (X12 856 BSN02)' }),
    supplierId: Id('canonical party id of the supplier'),
    purchaseOrderId: Id('canonical purchase order id (a multi-PO 856 is split into one ASN per PO)'),
    shippedAt: Timestamp('when the supplier shipped'),
    expectedArrivalAt: Type.Optional(Timestamp('expected arrival at the receiving location')),
    shipToLocationId: Id('canonical location id of the receiving warehouse'),
    carrier: Type.Optional(CarrierService),
    trackingNumber: Type.Optional(ExternalIdString('tracking, BOL or PRO number')),
    lines: Type.Array(AsnLine, { minItems: 1, maxItems: 10000 }),
  },
  { title: 'ASN', description: 'An advance ship notice from a supplier (X12 856, CSV, portal).' },
);
export type Asn = Static<typeof Asn>;

export const RECEIPT_KINDS = ['purchase', 'return', 'transfer', 'other'] as const;
export const GOODS_CONDITIONS = ['good', 'damaged', 'quarantine'] as const;

export const ReceiptLine = Struct(
  {
    lineId: Type.String({ minLength: 1, maxLength: 64 }),
    poLineId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    itemId: Type.Optional(Id('canonical item id')),
    sku: Type.String({ minLength: 1, maxLength: 64 }),
    quantityExpected: Type.Optional(Quantity('quantity announced (ASN or PO)')),
    quantityReceived: Quantity('quantity counted in'),
    uom: UomCode,
    condition: Type.Optional(StringEnum(GOODS_CONDITIONS)),
    lot: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    expiryDate: Type.Optional(DateOnly('lot expiry')),
    serials: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 10000 })),
  },
  { title: 'ReceiptLine', description: 'A received quantity of one item.' },
);

export const Receipt = entitySchema(
  'receipt',
  'receiptId',
  {
    receiptId: Id('canonical receipt id'),
    refs: Refs,
    receiptNumber: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'e.g. Odoo "WH/IN/00007"' })),
    kind: StringEnum(RECEIPT_KINDS),
    locationId: Id('canonical location id where the goods were received'),
    purchaseOrderId: Type.Optional(Id('canonical purchase order id')),
    asnId: Type.Optional(Id('canonical ASN id')),
    orderId: Type.Optional(Id('canonical order id, for a customer return')),
    shipmentId: Type.Optional(Id('canonical shipment id, for a return or transfer')),
    receivedAt: Timestamp('when receiving was completed'),
    lines: Type.Array(ReceiptLine, { minItems: 1, maxItems: 10000 }),
  },
  { title: 'Receipt', description: 'Goods received at a warehouse (Odoo incoming stock.picking; X12 944).' },
);
export type Receipt = Static<typeof Receipt>;

// ---------------------------------------------------------------------------------------
// stock

export const MOVEMENT_REASONS = ['receipt', 'shipment', 'transfer', 'adjustment', 'cycle_count', 'return', 'scrap'] as const;

export const StockMovement = entitySchema(
  'stock-movement',
  'movementId',
  {
    movementId: Id('canonical movement id'),
    refs: Refs,
    itemId: Id('canonical item id'),
    sku: Type.String({ minLength: 1, maxLength: 64 }),
    quantity: PositiveQuantity('moved quantity'),
    uom: UomCode,
    fromLocationId: Type.Optional(Id('where the stock left; absent for stock entering the books (supplier, found on count)')),
    toLocationId: Type.Optional(Id('where the stock went; absent for stock leaving the books (customer, loss, scrap)')),
    reason: StringEnum(MOVEMENT_REASONS),
    lot: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    serials: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 10000 })),
    occurredAt: Timestamp('when the movement happened in the warehouse'),
    document: Type.Optional(
      Struct({ entity: EntityNameSchema, id: Id('canonical id of the document') }, { description: 'the order, receipt or shipment behind the movement' }),
    ),
  },
  { title: 'StockMovement', description: 'A quantity of an item moved between locations (Odoo stock.move; X12 945/944/947).' },
);
export type StockMovement = Static<typeof StockMovement>;

export const STOCK_LEVEL_BASES = ['snapshot', 'cycle_count', 'computed'] as const;

export const StockLevel = entitySchema(
  'item',
  'itemId',
  {
    itemId: Id('canonical item id'),
    refs: Refs,
    sku: Type.String({ minLength: 1, maxLength: 64 }),
    locationId: Id('canonical location id'),
    lot: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    uom: UomCode,
    onHand: Type.Number({ description: 'physical quantity; may be negative in Odoo when stock went out before it came in' }),
    reserved: Type.Optional(Quantity('reserved for open orders')),
    available: Type.Optional(Type.Number({ description: 'on hand minus reserved' })),
    asOf: Timestamp('the instant the level is true for'),
    basis: StringEnum(STOCK_LEVEL_BASES, { description: 'snapshot from a system (X12 846, stock.quant), physical count, or computed by the hub' }),
  },
  { title: 'StockLevel', description: 'The quantity of an item at a location at an instant.' },
);
export type StockLevel = Static<typeof StockLevel>;

// ---------------------------------------------------------------------------------------
// exceptions (the workbench item)

export const SuggestedAction = Struct(
  {
    code: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$', description: 'machine-readable action, e.g. "contact_recipient"' }),
    description: Type.String({ minLength: 1, maxLength: 1000 }),
  },
  { title: 'SuggestedAction', description: 'What a person should do first.' },
);

export const Subject = Struct(
  { entity: EntityNameSchema, id: Id('canonical id of the subject') },
  { title: 'Subject', description: 'The entity something is about.' },
);

export const exceptionProperties = {
  exceptionId: Id('canonical exception id'),
  refs: Refs,
  class: ExceptionClassSchema,
  severity: StringEnum(EXCEPTION_SEVERITIES),
  ownerQueue: StringEnum(OWNER_QUEUES, { description: 'workbench queue that owns the exception' }),
  subject: Subject,
  raisedAt: Timestamp('when the exception was raised'),
  message: Type.String({ minLength: 1, maxLength: 2000 }),
  suggestedAction: Type.Optional(SuggestedAction),
  dueAt: Type.Optional(Timestamp('when it must be resolved by')),
  cause: Type.Optional(
    Struct(
      {
        source: Type.String({ minLength: 1, maxLength: 500, description: 'CloudEvents source of the event that caused it' }),
        id: Type.String({ minLength: 1, maxLength: 500, description: 'CloudEvents id of that event' }),
        type: Type.String({ minLength: 1, maxLength: 200 }),
      },
      { description: 'the event that caused it' },
    ),
  ),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'facts for the person handling it (no personal data)' })),
};
export const Exception = entitySchema('exception', 'exceptionId', exceptionProperties, {
  title: 'Exception',
  description: 'A problem a person must act on: class, severity, owner queue and suggested action (the workbench item).',
});
export type Exception = Static<typeof Exception>;

/** Every canonical entity, by its published name (schemas/entities/<Name>.json). */
export const ENTITIES = {
  Party,
  Item,
  Location,
  Order,
  FulfilmentRequest,
  Shipment,
  TrackingEvent,
  ProofOfDelivery,
  Charge,
  FreightQuote,
  CarrierInvoice,
  CustomerInvoice,
  SupplierInvoice,
  PurchaseOrder,
  SupplierAck,
  ASN: Asn,
  Receipt,
  StockMovement,
  StockLevel,
  VehiclePosition,
  Eta,
  Exception,
} as const;
export type EntitySchemaName = keyof typeof ENTITIES;
