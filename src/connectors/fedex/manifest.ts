/**
 * Manifest of the FedEx connector (Track API v1): identity, what it can do, and the schema of
 * its configuration. The configuration names the stored secret holding the OAuth client
 * secret (`secretName`); it never holds the secret itself.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { ConnectorManifest } from '../odoo/manifest.ts';

export const FedexConfigSchema = Type.Object(
  {
    baseUrl: Type.String({
      pattern: '^https?://',
      default: 'https://apis.fedex.com',
      description: 'Base URL of the FedEx APIs: https://apis.fedex.com (production) or https://apis-sandbox.fedex.com (sandbox).',
    }),
    clientId: Type.String({ minLength: 1, description: 'API key (OAuth client_id) of the FedEx Developer Portal project.' }),
    secretName: Type.String({ minLength: 1, description: 'Name of the stored secret (hub_secrets) holding the secret key (OAuth client_secret).' }),
    timeoutMs: Type.Integer({ minimum: 100, maximum: 120000, default: 15000, description: 'Timeout of one HTTP request to FedEx, token requests included.' }),
    batchSize: Type.Integer({ minimum: 1, maximum: 30, default: 30, description: 'Tracking numbers per trackingnumbers request (FedEx accepts at most 30).' }),
    locale: Type.String({ pattern: '^[a-z]{2}_[A-Z]{2}$', default: 'en_US', description: 'X-locale header: the language of event descriptions.' }),
    assumedTimeZone: Type.String({
      minLength: 1,
      default: 'America/Chicago',
      description:
        'IANA zone in which a FedEx time WITHOUT offset is read when the place does not tell its zone (such times are flagged timeRule "assumed"). Scan times carry an offset and never need it.',
    }),
    tokenRefreshMarginSeconds: Type.Integer({
      minimum: 0,
      maximum: 600,
      default: 60,
      description: 'A cached access token is renewed this many seconds before FedEx says it expires.',
    }),
    trackPieces: Type.Boolean({
      default: true,
      description: 'For a multi-piece shipment (hasAssociatedShipments), also read the child pieces through /track/v1/associatedshipments.',
    }),
  },
  { additionalProperties: false },
);

export type FedexConfig = Static<typeof FedexConfigSchema>;

export const fedexManifest = {
  id: 'fedex',
  name: 'FedEx (Track API v1)',
  capabilities: ['carrier.track', 'auth.oauth2-client-credentials', 'track.batch-30', 'track.multi-piece', 'errors.classified'],
  configSchema: FedexConfigSchema,
} as const satisfies ConnectorManifest;
