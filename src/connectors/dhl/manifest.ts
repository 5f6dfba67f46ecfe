/**
 * Manifest of the DHL connector (Shipment Tracking – Unified API): identity, capabilities and
 * the schema of its configuration. The Unified API authenticates with an API key in the
 * `DHL-API-Key` header (no OAuth2); the configuration names the stored secret holding that key
 * (`secretName`), never the key itself.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { ConnectorManifest } from '../odoo/manifest.ts';

export const DhlConfigSchema = Type.Object(
  {
    baseUrl: Type.String({
      pattern: '^https?://',
      default: 'https://api-eu.dhl.com',
      description: 'Base URL of the DHL API gateway; tracking is GET {baseUrl}/track/shipments.',
    }),
    secretName: Type.String({ minLength: 1, description: 'Name of the stored secret (hub_secrets) holding the DHL-API-Key of the app subscribed to Shipment Tracking – Unified.' }),
    service: Type.Optional(
      Type.String({
        minLength: 1,
        description: "Unified `service` hint (express, parcel-de, ecommerce, freight...): resolves the number within that DHL business only. Unset: DHL searches every service.",
      }),
    ),
    language: Type.String({ pattern: '^[a-z]{2}$', default: 'en', description: 'ISO 639-1 language asked for descriptions (a preference; DHL answers in what the service has).' }),
    requesterCountryCode: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2 country of the consumer of the answer (optimises the lookup).' })),
    defaultTimeZone: Type.String({
      minLength: 1,
      default: 'Europe/Berlin',
      description:
        'IANA zone in which local timestamps without offset are read when the scan location does not give one (multi-zone or unknown country); such scans are flagged timeRule "assumed".',
    }),
    timeoutMs: Type.Integer({ minimum: 100, maximum: 120000, default: 15000, description: 'Timeout of one HTTP request to DHL.' }),
    concurrency: Type.Integer({
      minimum: 1,
      maximum: 16,
      default: 1,
      description: 'Tracking requests in flight at once. DHL takes one tracking number per request; the default plan allows about one call every 5 seconds.',
    }),
  },
  { additionalProperties: false },
);

export type DhlConfig = Static<typeof DhlConfigSchema>;

export const dhlManifest = {
  id: 'dhl',
  name: 'DHL (Shipment Tracking – Unified)',
  capabilities: ['carrier.track', 'auth.api-key', 'errors.classified'],
  configSchema: DhlConfigSchema,
} as const satisfies ConnectorManifest;
