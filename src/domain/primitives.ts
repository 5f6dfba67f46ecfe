/**
 * Value objects shared by the canonical entities: identifiers, cross-references, money,
 * quantities, addresses. Every schema here is a TypeBox schema, so one definition gives
 * the TypeScript type (Static), the runtime validator and the published JSON Schema.
 *
 * Conventions:
 * - money is a decimal string plus an ISO 4217 code, never a float;
 * - quantities, weights and dimensions are JSON numbers with an explicit unit;
 * - timestamps are RFC 3339 with an offset (format date-time), dates are full-date;
 * - personal data is marked with the schema keyword `x-pii: true` so logs and the
 *   console can mask it (see redactPii);
 * - objects refuse unknown properties: a typo in a mapping profile is an error with a
 *   path, not a silently dropped field.
 */
import { Type } from '@sinclair/typebox';
import type { SchemaOptions, Static, TLiteral, TObject, TProperties, TUnion } from '@sinclair/typebox';

type Literals<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> };

/** A closed set of strings. Published as `enum` (see scripts/gen-schemas.ts). */
export function StringEnum<const T extends readonly [string, ...string[]]>(values: T, options: SchemaOptions = {}): TUnion<Literals<T>> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TUnion<Literals<T>>;
}

/** A closed object: unknown properties are refused. */
export function Struct<T extends TProperties>(properties: T, options: SchemaOptions = {}): TObject<T> {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

/** Marks a string as personal data. */
export const PII = { 'x-pii': true } as const;

// ---------------------------------------------------------------------------------------
// identifiers and cross-references

export const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';

/** A canonical id: assigned by the hub, unique per tenant within its entity. */
export const Id = (description = 'canonical id') =>
  Type.String({ pattern: ID_PATTERN, description: `${description} (letters, digits and . _ : -, at most 128 characters)` });

/** A free identifier of another system: an Odoo name, a WMS order number, a tracking number. */
export const ExternalIdString = (description: string) => Type.String({ minLength: 1, maxLength: 200, description });

export const SYSTEM_PATTERN = '^[a-z][a-z0-9_-]*(?:[.:][a-z0-9_-]+)*$';

export const ExternalRef = Struct(
  {
    system: Type.String({
      pattern: SYSTEM_PATTERN,
      maxLength: 100,
      description:
        'the system (and namespace within it) that issued the id, lower case: "odoo" (record id of the main Odoo model), "odoo:stock.picking", "wms:acme3pl", "carrier:ups" (tracking number), "x12:acme:isa" (EDI control number)',
    }),
    id: ExternalIdString('the id in that system'),
  },
  { title: 'ExternalRef', description: 'An id of the same thing in another system.' },
);
export type ExternalRef = Static<typeof ExternalRef>;

/** Every entity may carry the ids other systems use for it; the hub registers them (xref). */
export const Refs = Type.Optional(
  Type.Array(ExternalRef, { maxItems: 50, description: 'ids of this entity in other systems; registered in the cross-reference registry' }),
);

// ---------------------------------------------------------------------------------------
// time

export const Timestamp = (description: string) => Type.String({ format: 'date-time', description });
export const DateOnly = (description: string) => Type.String({ format: 'date', description });

export const TimeWindow = Struct(
  { from: Timestamp('start of the window'), to: Timestamp('end of the window') },
  { title: 'TimeWindow', description: 'A time window, e.g. a delivery slot.' },
);

/** IANA time zone, e.g. Europe/Brussels. */
export const TimeZone = Type.String({
  pattern: '^(?:UTC|[A-Za-z_]+(?:/[A-Za-z0-9_+-]+)+)$',
  maxLength: 64,
  description: 'IANA time zone name, e.g. "Europe/Brussels"',
});

// ---------------------------------------------------------------------------------------
// money

export const DECIMAL_PATTERN = '^-?(?:0|[1-9][0-9]{0,17})(?:\\.[0-9]{1,6})?$';

export const Decimal = (description: string) =>
  Type.String({ pattern: DECIMAL_PATTERN, description: `${description}: a decimal number as a string, e.g. "1234.50" (never a float)` });

export const CurrencyCode = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 currency code, e.g. "EUR"' });

export const Money = Struct(
  { amount: Decimal('amount'), currency: CurrencyCode },
  { title: 'Money', description: 'An amount of money: decimal string and ISO 4217 currency.' },
);
export type Money = Static<typeof Money>;

export const Totals = Struct(
  { untaxed: Money, tax: Money, total: Money },
  { title: 'Totals', description: 'Document totals.' },
);

// ---------------------------------------------------------------------------------------
// quantities and physical measures

export const UomCode = Type.String({
  pattern: '^[A-Z0-9_]{1,12}$',
  description: 'unit of measure code, upper case (X12 / UN/ECE style: "EA", "CS", "PK", "KG", "LB", "M")',
});

export const Quantity = (description: string) => Type.Number({ minimum: 0, description });
export const PositiveQuantity = (description: string) => Type.Number({ exclusiveMinimum: 0, description });

export const WEIGHT_UNITS = ['kg', 'g', 'lb', 'oz'] as const;
export const Weight = Struct(
  { value: Type.Number({ exclusiveMinimum: 0, description: 'weight' }), unit: StringEnum(WEIGHT_UNITS, { description: 'weight unit' }) },
  { title: 'Weight', description: 'A weight with its unit.' },
);
export type Weight = Static<typeof Weight>;

export const LENGTH_UNITS = ['mm', 'cm', 'm', 'in', 'ft'] as const;
export const Dimensions = Struct(
  {
    length: Type.Number({ exclusiveMinimum: 0 }),
    width: Type.Number({ exclusiveMinimum: 0 }),
    height: Type.Number({ exclusiveMinimum: 0 }),
    unit: StringEnum(LENGTH_UNITS, { description: 'length unit' }),
  },
  { title: 'Dimensions', description: 'Outer dimensions of a package or item.' },
);

export const Geo = Struct(
  {
    lat: Type.Number({ minimum: -90, maximum: 90, description: 'latitude, WGS 84 degrees' }),
    lon: Type.Number({ minimum: -180, maximum: 180, description: 'longitude, WGS 84 degrees' }),
  },
  { title: 'Geo', description: 'A WGS 84 position.' },
);

// ---------------------------------------------------------------------------------------
// places and people

export const CountryCode = Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2 country code, e.g. "BE"' });

export const Address = Struct(
  {
    lines: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
      minItems: 1,
      maxItems: 4,
      description: 'street lines, first line first',
      ...PII,
    }),
    city: Type.String({ minLength: 1, maxLength: 100 }),
    region: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'state, province or county (code where one exists, e.g. "CA")' })),
    postalCode: Type.Optional(Type.String({ minLength: 1, maxLength: 20 })),
    countryCode: CountryCode,
    geo: Type.Optional(Geo),
  },
  { title: 'Address', description: 'A postal address.' },
);
export type Address = Static<typeof Address>;

export const Contact = Struct(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'contact person', ...PII })),
    phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9 ()./-]{3,32}$', description: 'phone number, E.164 preferred ("+3225551234")', ...PII })),
    email: Type.Optional(Type.String({ format: 'email', ...PII })),
  },
  { title: 'Contact', description: 'How to reach a person.' },
);

/** A name, an address and a contact, as printed on a label or a delivery note. */
export const PartyAddress = Struct(
  {
    partyId: Type.Optional(Id('canonical id of the party, when it is known')),
    name: Type.String({ minLength: 1, maxLength: 200, description: 'person or company name', ...PII }),
    address: Address,
    contact: Type.Optional(Contact),
  },
  { title: 'PartyAddress', description: 'A named address with an optional contact (ship-to, ship-from, bill-to, stop).' },
);
export type PartyAddress = Static<typeof PartyAddress>;

/** A place reported in a tracking scan: coarse, never a street address. */
export const ScanLocation = Struct(
  {
    city: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    region: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    postalCode: Type.Optional(Type.String({ minLength: 1, maxLength: 20 })),
    countryCode: Type.Optional(CountryCode),
    facility: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'carrier facility or hub name' })),
    geo: Type.Optional(Geo),
  },
  { title: 'ScanLocation', description: 'Where a carrier scan happened.' },
);

// ---------------------------------------------------------------------------------------
// carriers

export const CarrierService = Struct(
  {
    carrierCode: Type.String({
      pattern: '^[A-Za-z0-9_.-]{1,40}$',
      description: 'carrier code: SCAC for freight ("ODFL"), aggregator code for parcel ("ups", "dhl_express")',
    }),
    carrierPartyId: Type.Optional(Id('canonical party id of the carrier')),
    service: Type.Optional(Type.String({ minLength: 1, maxLength: 60, description: 'service level code, e.g. "ups_ground", "EXPRESS_WORLDWIDE"' })),
    accountNumber: Type.Optional(Type.String({ minLength: 1, maxLength: 60, description: 'shipper account with the carrier' })),
  },
  { title: 'CarrierService', description: 'A carrier and one of its services.' },
);
export type CarrierService = Static<typeof CarrierService>;

export const TRANSPORT_MODES = ['parcel', 'courier', 'ltl', 'ftl', 'air', 'ocean', 'rail', 'own_fleet'] as const;
export const TransportMode = StringEnum(TRANSPORT_MODES, { description: 'mode of transport' });

/** Free-form partner-specific values that have no canonical field yet (scalars only). */
export const Attributes = Type.Optional(
  Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$' }), Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean()]), {
    description: 'partner-specific values without a canonical field (scalars only)',
    additionalProperties: false,
  }),
);
