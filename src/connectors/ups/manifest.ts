/**
 * Manifest of the UPS connector (Track API v1, OAuth2 client credentials, Track Alert):
 * identity, capabilities and the schema of its configuration. The configuration holds the
 * OAuth client id and names the stored secret holding the client secret (`secretName`), never
 * the secret itself.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { ConnectorManifest } from '../odoo/manifest.ts';

export const UpsConfigSchema = Type.Object(
  {
    baseUrl: Type.String({
      pattern: '^https?://',
      default: 'https://onlinetools.ups.com',
      description:
        'Base URL of the UPS APIs: https://onlinetools.ups.com (production) or https://wwwcie.ups.com (customer integration). Tokens: POST {baseUrl}/security/v1/oauth/token; tracking: GET {baseUrl}/api/track/v1/details/{inquiryNumber}.',
    }),
    clientId: Type.String({ minLength: 1, description: 'OAuth client id of the UPS app (the app must have the Tracking product).' }),
    secretName: Type.String({ minLength: 1, description: 'Name of the stored secret (hub_secrets) holding the OAuth client secret of the UPS app.' }),
    merchantId: Type.Optional(Type.String({ pattern: '^[0-9A-Z]{6}$', description: 'UPS account number sent as x-merchant-id when a token is requested; optional for tracking.' })),
    transactionSrc: Type.String({
      minLength: 1,
      maxLength: 512,
      default: 'odoo-logistics-hub',
      description: 'Value of the transactionSrc header UPS requires on every Track call (identifies the calling application).',
    }),
    locale: Type.String({ pattern: '^[a-z]{2}_[A-Z]{2}$', default: 'en_US', description: 'Language of the descriptions UPS returns (locale query parameter).' }),
    defaultTimeZone: Type.String({
      minLength: 1,
      default: 'America/New_York',
      description:
        'IANA zone in which an activity time is read when UPS sends it without gmtOffset / gmt fields and the place does not fix a zone (multi-zone state or unknown country); such scans are flagged timeRule "assumed".',
    }),
    timeoutMs: Type.Integer({ minimum: 100, maximum: 120000, default: 15000, description: 'Timeout of one HTTP request to UPS (token or tracking).' }),
    concurrency: Type.Integer({
      minimum: 1,
      maximum: 32,
      default: 4,
      description: 'Tracking requests in flight at once. The Track API takes one inquiry number per request (its documented maximum), so a batch of N numbers is N requests.',
    }),
  },
  { additionalProperties: false },
);

export type UpsConfig = Static<typeof UpsConfigSchema>;

export const upsManifest = {
  id: 'ups',
  name: 'UPS (Track API v1)',
  capabilities: ['carrier.track', 'carrier.track.webhook', 'auth.oauth2-client-credentials', 'errors.classified'],
  configSchema: UpsConfigSchema,
} as const satisfies ConnectorManifest;
