/**
 * Configuration of the order-to-delivery flow of one tenant (`flows.orderToDelivery.<tenant>`):
 * its warehouses (each with its WMS connector), its carriers (each adapter's own configuration),
 * the rate-shopping rules and the policies. Credentials are stored secrets named here, never
 * the secrets themselves.
 */
import { Type, type Static } from '@sinclair/typebox';
import { WmsConfigSchema } from '../../connectors/wms/manifest.ts';
import { WmsSftpConfigSchema } from '../../connectors/wms-sftp/manifest.ts';
import { EasyPostConfigSchema } from '../../connectors/easypost/manifest.ts';
import { UpsConfigSchema } from '../../connectors/ups/manifest.ts';
import { FedexConfigSchema } from '../../connectors/fedex/manifest.ts';
import { DhlConfigSchema } from '../../connectors/dhl/manifest.ts';

const Country = Type.String({ pattern: '^[A-Z]{2}$' });

const WarehouseConfig = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$', description: 'Canonical location id of the warehouse (the WMS profile constant warehouseId is set to it).' }),
    priority: Type.Integer({ minimum: 0, default: 1, description: 'Among warehouses that can ship an order, the lowest number ships first.' }),
    countries: Type.Array(Country, { default: [], description: 'ISO countries the warehouse serves; empty: any.' }),
    address: Type.Object(
      {
        lines: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 4 }),
        city: Type.String({ minLength: 1, maxLength: 100 }),
        region: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        postalCode: Type.Optional(Type.String({ minLength: 1, maxLength: 20 })),
        countryCode: Country,
      },
      { additionalProperties: false, description: 'Where parcels leave from (the origin of rate requests).' },
    ),
    wms: Type.Optional(WmsConfigSchema),
    sftp: Type.Optional(
      Type.Omit(WmsSftpConfigSchema, ['warehouseId', 'tenantId'], {
        additionalProperties: false,
        description: 'A 3PL that exchanges CSV files over SFTP instead of a WMS API (give wms or sftp, not both).',
      }),
    ),
  },
  { additionalProperties: false },
);

export const OrderToDeliveryConfigSchema = Type.Object(
  {
    warehouses: Type.Array(WarehouseConfig, { minItems: 1, description: 'The warehouses orders are routed to.' }),
    carriers: Type.Object(
      {
        easypost: Type.Optional(EasyPostConfigSchema),
        ups: Type.Optional(UpsConfigSchema),
        fedex: Type.Optional(FedexConfigSchema),
        dhl: Type.Optional(DhlConfigSchema),
      },
      { default: {}, additionalProperties: false, description: 'Carrier adapters: those that rate and book (EasyPost) are shopped; every one that tracks polls its numbers.' },
    ),
    carrierAdapters: Type.Record(Type.String(), Type.String(), {
      default: { ups: 'ups', fedex: 'fedex', dhl: 'dhl', dhl_express: 'dhl' },
      description: 'Carrier code of a shipment booked outside the hub (e.g. by Odoo) → the adapter that tracks it.',
    }),
    labelFormat: Type.Union([Type.Literal('PDF'), Type.Literal('ZPL')], { default: 'PDF', description: 'Label format asked of carriers and sent to the WMS.' }),
    maxParcelKg: Type.Record(Type.String(), Type.Number({ exclusiveMinimum: 0 }), { default: {}, description: 'Per carrier: the heaviest billable parcel it takes, kg.' }),
    customers: Type.Record(
      Type.String(),
      Type.Object({ allow: Type.Optional(Type.Array(Type.String())), deny: Type.Optional(Type.Array(Type.String())) }, { additionalProperties: false }),
      { default: {}, description: 'Per canonical customer id: carriers allowed (only these) or denied.' },
    ),
    ackTimeoutMinutes: Type.Integer({ minimum: 1, default: 15, description: 'A WMS that has not acknowledged a release after this long raises missing_ack.' }),
    firstScanHours: Type.Integer({ minimum: 1, default: 24, description: 'No carrier scan this long after the label raises missing_scan.' }),
    noteWindowSeconds: Type.Integer({ minimum: 1, default: 300, description: 'Tracking milestones are written to Odoo as one message per shipment and window.' }),
    invoicePolicy: Type.Union([Type.Literal('on_delivery'), Type.Literal('manual')], { default: 'on_delivery', description: 'on_delivery: create and post the Odoo invoice for the delivered quantities when a shipment is delivered.' }),
    shortPickPolicy: Type.Union([Type.Literal('backorder'), Type.Literal('cancel')], { default: 'backorder', description: 'What Odoo does with quantities the warehouse could not pick: a backorder, or cancelled.' }),
    trackingPollMinutes: Type.Integer({ minimum: 1, default: 30, description: 'How often an open tracking number is polled (every 5 minutes once out for delivery).' }),
  },
  { additionalProperties: false },
);

export type OrderToDeliveryConfig = Static<typeof OrderToDeliveryConfigSchema>;
