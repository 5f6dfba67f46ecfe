/**
 * Manifest of the Odoo connector: identity, what it can do, and the schema of its
 * configuration. The configuration names the stored secret (`secretName`, a row of
 * hub_secrets holding the password or API key); it never holds the secret itself.
 */
import { Type, type Static } from '@sinclair/typebox';

export const OdooConfigSchema = Type.Object(
  {
    url: Type.String({ pattern: '^https?://', description: 'Base URL of the Odoo server, e.g. https://erp.example.com.' }),
    db: Type.String({ minLength: 1, description: 'Odoo database name (sent as X-Odoo-Database over JSON-2).' }),
    login: Type.String({ minLength: 1, description: 'Login of the integration user.' }),
    secretName: Type.String({
      minLength: 1,
      description: 'Name of the stored secret (hub_secrets) holding the password or API key; JSON-2 requires an API key.',
    }),
    protocol: Type.Union([Type.Literal('auto'), Type.Literal('json2'), Type.Literal('jsonrpc'), Type.Literal('web'), Type.Literal('xmlrpc')], {
      default: 'auto',
      description:
        'Transport: auto reads the server version (19+ with an API key → json2, else jsonrpc). xmlrpc cannot tell UserError, ValidationError and MissingError apart.',
    }),
    timeoutMs: Type.Integer({ minimum: 100, maximum: 600000, default: 30000, description: 'Timeout of one HTTP request to Odoo.' }),
    concurrency: Type.Integer({ minimum: 1, maximum: 64, default: 4, description: 'Calls to Odoo in flight at once.' }),
    hintTokenSecret: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Name of the stored secret holding the token Odoo's webhook automations put in their URL (POST /v1/connectors/odoo/{tenant}/hints?token=...); hints are refused while unset.",
      }),
    ),
    captureIntervalMs: Type.Integer({ minimum: 1000, maximum: 3600000, default: 30000, description: 'How often the change capture polls each model for records changed since its cursor.' }),
    ratePerSecond: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Upper bound on calls per second; unlimited when unset.' })),
  },
  { additionalProperties: false },
);

export type OdooConfig = Static<typeof OdooConfigSchema>;

export interface ConnectorManifest {
  id: string;
  name: string;
  capabilities: readonly string[];
  configSchema: ReturnType<typeof Type.Object>;
}

export const odooManifest = {
  id: 'odoo',
  name: 'Odoo',
  capabilities: [
    'protocol.xmlrpc',
    'protocol.jsonrpc',
    'protocol.web-session',
    'protocol.json2',
    'protocol.auto-detect',
    'auth.password',
    'auth.api-key',
    'session.relogin',
    'errors.classified',
  ],
  configSchema: OdooConfigSchema,
} as const satisfies ConnectorManifest;
