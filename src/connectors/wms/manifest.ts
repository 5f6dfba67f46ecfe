/**
 * Manifest of the WMS connector: one generic connector for REST + webhook warehouse
 * systems, shaped for each WMS by a mapping profile (profiles/<id>.yaml or a file of the
 * operator's). The configuration names the stored secrets (API key, webhook secret); it
 * never holds them.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { ConnectorManifest } from '../odoo/manifest.ts';

export const WmsConfigSchema = Type.Object(
  {
    baseUrl: Type.String({ pattern: '^https?://', description: 'Base URL of the WMS API, e.g. https://api.wms.example.com; the profile paths are appended.' }),
    profile: Type.String({
      minLength: 1,
      default: 'simwms',
      description: 'Mapping profile: the id of a profile shipped with the hub (simwms) or the path of a YAML profile file.',
    }),
    secretName: Type.String({ minLength: 1, description: 'Name of the stored secret (hub_secrets) holding the WMS API key.' }),
    webhookSecretName: Type.String({ minLength: 1, description: 'Name of the stored secret holding the key the WMS signs its webhooks with.' }),
    timeoutMs: Type.Integer({ minimum: 100, maximum: 600000, default: 30000, description: 'Timeout of one HTTP request to the WMS.' }),
    constants: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
      default: {},
      description: "Overrides of the profile's constants (bound as $name in its expressions), e.g. warehouseId: loc-wh.",
    }),
  },
  { additionalProperties: false },
);

export type WmsConfig = Static<typeof WmsConfigSchema>;

export const wmsManifest = {
  id: 'wms',
  name: 'Warehouse management system (REST + webhooks, profile-driven)',
  capabilities: [
    'wms.release',
    'wms.cancel',
    'wms.update-ship-to',
    'wms.attach-labels',
    'wms.inventory',
    'webhooks.hmac-sha256-hex',
    'webhooks.standard',
    'mapping.jsonata-profile',
    'errors.classified',
  ],
  configSchema: WmsConfigSchema,
} as const satisfies ConnectorManifest;
