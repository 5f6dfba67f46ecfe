/**
 * Manifest of the EasyPost connector: identity, capabilities (the carrier port operations it
 * implements) and the schema of its configuration. The configuration names the stored secrets
 * (`secretName` for the API key, `webhookSecretName` for the webhook HMAC secret); it never
 * holds a secret itself.
 */
import { Type, type Static } from '@sinclair/typebox';
import { SERVICE_LEVELS } from '../carrier-port.ts';
import type { ConnectorManifest } from '../odoo/manifest.ts';

export const EasyPostConfigSchema = Type.Object(
  {
    baseUrl: Type.String({
      pattern: '^https?://',
      default: 'https://api.easypost.com',
      description: 'Base URL of the EasyPost API (without /v2); the simulator URL in tests.',
    }),
    secretName: Type.String({ minLength: 1, description: 'Name of the stored secret (hub_secrets) holding the EasyPost API key (test or production key).' }),
    webhookSecretName: Type.Optional(
      Type.String({ minLength: 1, description: 'Name of the stored secret holding the webhook_secret EasyPost signs Events with (X-Hmac-Signature).' }),
    ),
    timeoutMs: Type.Integer({ minimum: 100, maximum: 600000, default: 30000, description: 'Timeout of one HTTP request to EasyPost (rating several carriers can take seconds).' }),
    labelFormat: Type.Union([Type.Literal('PDF'), Type.Literal('ZPL')], {
      default: 'PDF',
      description: 'Label format asked for when a shipment is created; book converts the label when it is asked for the other one.',
    }),
    carrierAccounts: Type.Optional(
      Type.Array(Type.String({ pattern: '^ca_[0-9a-f]{32}$' }), {
        maxItems: 60,
        description: 'Carrier account ids (ca_...) to rate with; every account of the EasyPost user when unset (EasyPost rates at most 60).',
      }),
    ),
    serviceLevels: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z0-9]+:[A-Za-z0-9_]+$' }), Type.Union(SERVICE_LEVELS.map((l) => Type.Literal(l))), {
        description: 'Overrides of the service level table, keyed "<carrier>:<service>" (e.g. "UPS:Expedited": "three_day").',
      }),
    ),
  },
  { additionalProperties: false },
);

export type EasyPostConfig = Static<typeof EasyPostConfigSchema>;

export const easyPostManifest = {
  id: 'easypost',
  name: 'EasyPost',
  capabilities: ['carrier.rate', 'carrier.book', 'carrier.cancel', 'carrier.track', 'carrier.track.webhook', 'carrier.manifest', 'auth.api-key', 'errors.classified'],
  configSchema: EasyPostConfigSchema,
} as const satisfies ConnectorManifest;
