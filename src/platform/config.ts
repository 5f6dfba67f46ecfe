/**
 * Configuration: one TypeBox schema is the source of truth for validation, defaults,
 * the generated reference in docs/configuration.md and (later) the console's forms.
 * Sources, later wins: defaults < YAML file (HUB_CONFIG or ./hub.yaml) < environment.
 */
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../domain/errors.ts';
import { OdooConfigSchema } from '../connectors/odoo/manifest.ts';
import { OrderToDeliveryConfigSchema } from '../workflows/order-to-delivery/config.ts';
import { KpiConfigSchema } from '../workflows/order-to-delivery/kpis.ts';

const Int = (o: { default: number; minimum?: number; maximum?: number; description: string }) => Type.Integer(o);

export const ConfigSchema = Type.Object(
  {
    port: Int({ default: 8080, minimum: 0, maximum: 65535, description: 'HTTP port of the hub (env PORT).' }),
    host: Type.String({ default: '127.0.0.1', description: 'Address the HTTP server binds to (env HUB_HOST).' }),
    databaseUrl: Type.Optional(
      Type.String({ pattern: '^postgres(ql)?://', description: 'External PostgreSQL; when unset an embedded PostgreSQL is started under dataDir (env DATABASE_URL).' }),
    ),
    dataDir: Type.String({ default: '.hub-data', description: 'Directory for the embedded PostgreSQL and other local state (env HUB_DATA_DIR).' }),
    logLevel: Type.Union([Type.Literal('trace'), Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error'), Type.Literal('silent')], {
      default: 'info',
      description: 'Log level (env LOG_LEVEL).',
    }),
    instanceId: Type.Optional(Type.String({ minLength: 1, description: 'Name of this hub process in leases and history (env HUB_INSTANCE_ID); default host-pid.' })),
    database: Type.Object(
      {
        poolSize: Int({ default: 10, minimum: 2, maximum: 200, description: 'Connections per hub process.' }),
        connectTimeoutMs: Int({ default: 5000, minimum: 100, description: 'Connection timeout.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    ingress: Type.Object(
      {
        bodyLimitBytes: Int({ default: 1048576, minimum: 1024, description: 'Largest accepted request body.' }),
        maxBatch: Int({ default: 1000, minimum: 1, description: 'Most events in one batch request.' }),
        backlogLimit: Int({ default: 200000, minimum: 1, description: 'Unhandled events past which ingress answers 429 (env HUB_BACKLOG_LIMIT).' }),
        retryAfterSeconds: Int({ default: 2, minimum: 1, description: 'Retry-After given with 429.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    pipeline: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Run workers in this process (env HUB_WORKERS=0 disables).' }),
        concurrency: Int({ default: 4, minimum: 1, maximum: 64, description: 'Batches (one transaction each) in flight per process; each holds a database connection.' }),
        keysPerClaim: Int({ default: 16, minimum: 1, maximum: 1000, description: 'Keys leased and handled together in one batch.' }),
        batchSize: Int({ default: 50, minimum: 1, maximum: 1000, description: 'Events of one key handled per batch.' }),
        leaseMs: Int({ default: 30000, minimum: 500, description: 'How long a key stays leased without a heartbeat.' }),
        pollMs: Int({ default: 1000, minimum: 10, description: 'Idle poll interval (LISTEN/NOTIFY wakes workers sooner).' }),
        retry: Type.Object(
          {
            baseMs: Int({ default: 1000, minimum: 1, description: 'First backoff for transient errors.' }),
            maxMs: Int({ default: 300000, minimum: 1, description: 'Backoff cap.' }),
            maxAttempts: Int({ default: 10, minimum: 1, description: 'Attempts before a transient failure becomes a dead letter.' }),
          },
          { default: {}, additionalProperties: false },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    nats: Type.Object(
      {
        url: Type.Optional(Type.String({ description: 'NATS server for streaming canonical events (env NATS_URL); off when unset.' })),
        stream: Type.String({ default: 'HUB_EVENTS', description: 'JetStream stream name.' }),
        subjectPrefix: Type.String({ default: 'hub.events', description: 'Subject prefix; the event type follows.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    security: Type.Object(
      {
        masterKeyFile: Type.Optional(
          Type.String({
            minLength: 1,
            description:
              'File holding the 32-byte master key (base64) that wraps the data keys of stored secrets (env HUB_MASTER_KEY_FILE). HUB_MASTER_KEY (base64) takes precedence; when neither is set one is generated under dataDir/master.key. Older keys for rotation: HUB_MASTER_KEY_PREVIOUS (comma-separated base64).',
          }),
        ),
        tokenCacheSeconds: Int({ default: 5, minimum: 0, maximum: 300, description: 'How long a verified bearer token is cached per process; a revocation on another process takes effect within this time.' }),
        credentialOverlapSeconds: Int({ default: 86400, minimum: 0, description: 'After a rotation, the previous client token or secret version stays valid this long.' }),
        accessTokenTtlSeconds: Int({ default: 900, minimum: 60, maximum: 86400, description: 'Lifetime of OAuth2 access tokens (JWT) from POST /oauth/token.' }),
        signingKeyRotationHours: Int({ default: 24, minimum: 1, description: 'A new JWT signing key is created this often; the previous stays in the JWKS until its tokens have expired.' }),
        trustProxy: Type.Boolean({ default: false, description: 'Take the client address from X-Forwarded-For (only behind a reverse proxy you control); used by partner IP allow-lists and the security log.' }),
        rateLimit: Type.Object(
          {
            perSecond: Int({ default: 50, minimum: 1, description: 'Default sustained requests per second per API client (token bucket refill); a client may have its own.' }),
            burst: Int({ default: 100, minimum: 1, description: 'Default bucket size: requests a client may make at once.' }),
          },
          { default: {}, additionalProperties: false },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    console: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Serve the operations console at /console (sign-in with the hub\'s users: logistics-hub users add).' }),
        sessionIdleSeconds: Int({ default: 1800, minimum: 60, maximum: 86400, description: 'A console session unused this long ends.' }),
        sessionAbsoluteSeconds: Int({ default: 43200, minimum: 300, maximum: 604800, description: 'A console session ends this long after sign-in, used or not.' }),
        secureCookie: Type.Union([Type.Literal('auto'), Type.Boolean()], {
          default: 'auto',
          description: 'Mark the session cookie Secure: auto does so unless the request came over plain HTTP to a loopback address (a local demo); true always, as behind a TLS-terminating proxy.',
        }),
        liveIntervalMs: Int({ default: 2000, minimum: 250, maximum: 60000, description: 'How often the live overview pushes a new snapshot (server-sent events).' }),
      },
      { default: {}, additionalProperties: false },
    ),
    webhooks: Type.Object(
      {
        toleranceSeconds: Int({ default: 300, minimum: 1, description: 'Inbound webhook timestamps further than this from now (past or future) are rejected.' }),
        maxBodyBytes: Int({ default: 1048576, minimum: 64, description: 'Largest inbound webhook body.' }),
        partners: Type.Record(
          Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }),
          Type.Object(
            {
              tenant: Type.String({ default: 'default', description: 'Tenant the partner\'s webhooks belong to.' }),
              scheme: Type.Union([Type.Literal('standard'), Type.Literal('hmac-sha256-hex')], {
                default: 'standard',
                description: 'standard: Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature); hmac-sha256-hex: hex HMAC-SHA256 of the body in signatureHeader.',
              }),
              secret: Type.String({ minLength: 1, description: 'Name of the stored secret (logistics-hub secrets set) holding the signing secret(s).' }),
              signatureHeader: Type.String({ default: 'x-hmac-signature', description: 'hmac-sha256-hex: header carrying the signature.' }),
              idHeader: Type.Optional(Type.String({ description: 'hmac-sha256-hex: header carrying a unique delivery id (default: the SHA-256 of the body).' })),
              timestampHeader: Type.Optional(Type.String({ description: 'hmac-sha256-hex: header carrying a Unix timestamp to check against the tolerance (none when unset).' })),
              allowIps: Type.Array(Type.String(), { default: [], description: 'Source addresses or CIDR ranges allowed to call; empty allows any.' }),
              toleranceSeconds: Type.Optional(Type.Integer({ minimum: 1, description: 'Overrides webhooks.toleranceSeconds.' })),
              maxBodyBytes: Type.Optional(Type.Integer({ minimum: 64, description: 'Overrides webhooks.maxBodyBytes.' })),
              mapper: Type.String({ default: 'cloudevents', description: 'How the body becomes canonical events (cloudevents: a CloudEvent or a batch of them).' }),
            },
            { additionalProperties: false },
          ),
          { default: {}, description: 'Partners that call POST /v1/webhooks/{partner}, by name.' },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    subscriptions: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Deliver to outbound subscriptions from this process.' }),
        timeoutMs: Int({ default: 15000, minimum: 100, description: 'Timeout of one delivery attempt.' }),
        concurrency: Int({ default: 4, minimum: 1, maximum: 64, description: 'Deliveries in flight per process.' }),
        pollMs: Int({ default: 1000, minimum: 10, description: 'How often due deliveries are looked for.' }),
        disableAfterHours: Int({ default: 120, minimum: 1, description: 'An endpoint whose deliveries have all failed for this long is disabled and its owner notified.' }),
        allowHttp: Type.Boolean({ default: false, description: 'Allow endpoints over plain http:// (otherwise https:// only).' }),
        allowPrivateAddresses: Type.Boolean({
          default: false,
          description: 'Allow endpoints that resolve to loopback, private or link-local addresses (otherwise refused, so a subscription cannot reach into the hub\'s own network).',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    connectors: Type.Object(
      {
        odoo: Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }), OdooConfigSchema, {
          default: {},
          description: 'The Odoo of each tenant (one Odoo database per tenant), by tenant id; the password or API key is a stored secret named by secretName.',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    flows: Type.Object(
      {
        orderToDelivery: Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }), OrderToDeliveryConfigSchema, {
          default: {},
          description: 'Order to delivery to invoice, per tenant: warehouses (with their WMS), carriers, rate-shopping rules and policies. Needs connectors.odoo.<tenant>.',
        }),
        stepConcurrency: Int({ default: 8, minimum: 1, maximum: 64, description: 'Workflow steps (calls to partners) run at once by this process.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    kpis: KpiConfigSchema,
    retention: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Run the personal-data retention job in this process.' }),
        piiDays: Int({ default: 90, minimum: 1, description: 'Personal data in stored payloads is anonymised after this many days (env HUB_PII_DAYS).' }),
        intervalMinutes: Int({ default: 60, minimum: 1, description: 'How often the retention job runs.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    observability: Type.Object(
      {
        tracing: Type.Object(
          {
            enabled: Type.Boolean({
              default: false,
              description: 'Record OpenTelemetry spans (ingress, pipeline, workflow steps, connector calls, subscription deliveries) and export them over OTLP/HTTP. Off: no spans and no exporter, but W3C traceparent headers received are still kept on the events and passed on to partners.',
            }),
            endpoint: Type.String({ default: 'http://127.0.0.1:4318/v1/traces', pattern: '^https?://', description: 'OTLP/HTTP traces URL of the collector (JSON encoding).' }),
            serviceName: Type.String({ default: 'odoo-logistics-hub', minLength: 1, description: 'service.name of the exported spans.' }),
            sampleRatio: Type.Number({ default: 1, minimum: 0, maximum: 1, description: 'Share of new traces recorded (0 to 1); a trace that arrives with a traceparent follows its sampled flag.' }),
            headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'HTTP headers sent with every export (a collector API key...).' })),
          },
          { default: {}, additionalProperties: false },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type HubConfig = Static<typeof ConfigSchema>;

/** Environment variables and the configuration key each one sets. */
export const ENV_KEYS: Record<string, { key: string; type: 'string' | 'integer' | 'boolean' }> = {
  PORT: { key: 'port', type: 'integer' },
  HUB_HOST: { key: 'host', type: 'string' },
  DATABASE_URL: { key: 'databaseUrl', type: 'string' },
  HUB_DATA_DIR: { key: 'dataDir', type: 'string' },
  LOG_LEVEL: { key: 'logLevel', type: 'string' },
  HUB_INSTANCE_ID: { key: 'instanceId', type: 'string' },
  HUB_BACKLOG_LIMIT: { key: 'ingress.backlogLimit', type: 'integer' },
  HUB_WORKERS: { key: 'pipeline.enabled', type: 'boolean' },
  HUB_CONCURRENCY: { key: 'pipeline.concurrency', type: 'integer' },
  NATS_URL: { key: 'nats.url', type: 'string' },
  HUB_MASTER_KEY_FILE: { key: 'security.masterKeyFile', type: 'string' },
  HUB_PII_DAYS: { key: 'retention.piiDays', type: 'integer' },
};

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (typeof cur[p] !== 'object' || cur[p] === null) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts.at(-1)!] = value;
}

function envValue(name: string, raw: string, type: 'string' | 'integer' | 'boolean', key: string): unknown {
  if (type === 'integer') {
    if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(key, `environment variable ${name}=${JSON.stringify(raw)} is not a whole number`);
    return Number(raw);
  }
  if (type === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new ConfigError(key, `environment variable ${name}=${JSON.stringify(raw)} is not true/false`);
  }
  return raw;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** explicit YAML file; otherwise HUB_CONFIG, otherwise ./hub.yaml if present */
  file?: string;
  /** values set by code (CLI flags), applied last */
  overrides?: Record<string, unknown>;
}

export function loadConfig(opts: LoadOptions = {}): HubConfig & { source: { file?: string } } {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.HUB_CONFIG ?? (existsSync('hub.yaml') ? 'hub.yaml' : undefined);
  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError('HUB_CONFIG', `cannot read configuration file ${resolve(file)}: ${(e as Error).message}`);
    }
    try {
      const parsed = parseYaml(text) as unknown;
      if (parsed !== null && parsed !== undefined) {
        if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the top level must be a mapping of keys to values');
        raw = parsed as Record<string, unknown>;
      }
    } catch (e) {
      throw new ConfigError('HUB_CONFIG', `${file} is not valid YAML: ${(e as Error).message}`);
    }
  }
  for (const [name, spec] of Object.entries(ENV_KEYS)) {
    const v = env[name];
    if (v !== undefined && v !== '') setPath(raw, spec.key, envValue(name, v, spec.type, spec.key));
  }
  for (const [k, v] of Object.entries(opts.overrides ?? {})) if (v !== undefined) setPath(raw, k, v);
  return { ...validateConfig(raw), source: file ? { file } : {} };
}

/** Applies defaults and validates; the first problem is reported with its key. */
/**
 * Value.Default, also inside the entries of records (webhooks.partners.<name>,
 * connectors.odoo.<tenant>), which TypeBox leaves alone.
 */
function withDefaults(schema: TSchema, value: unknown): unknown {
  const v = Value.Default(schema, value);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  const o = v as Record<string, unknown>;
  const s = schema as { properties?: Record<string, TSchema>; patternProperties?: Record<string, TSchema> };
  for (const [k, sub] of Object.entries(s.properties ?? {})) if (k in o) o[k] = withDefaults(sub, o[k]);
  const entry = Object.values(s.patternProperties ?? {})[0];
  if (entry) for (const k of Object.keys(o)) o[k] = withDefaults(entry, o[k]);
  return o;
}

export function validateConfig(raw: unknown): HubConfig {
  const defaulted = withDefaults(ConfigSchema, structuredClone(raw ?? {}));
  const errors = [...Value.Errors(ConfigSchema, defaulted)];
  if (errors.length > 0) {
    const e = errors[0]!;
    const key = e.path.replace(/^\//, '').replaceAll('/', '.') || '(root)';
    const unknown = e.message.toLowerCase().includes('unexpected property');
    throw new ConfigError(key, unknown ? 'is not a known configuration key' : `${e.message} (got ${JSON.stringify(e.value)})`);
  }
  return defaulted as HubConfig;
}

/** Documentation rows generated from the schema: key, type, default, description. */
export function describeConfig(schema: TSchema = ConfigSchema, prefix = ''): { key: string; type: string; default: unknown; description: string }[] {
  const rows: { key: string; type: string; default: unknown; description: string }[] = [];
  const props = (schema as { properties?: Record<string, TSchema> }).properties ?? {};
  for (const [name, s] of Object.entries(props)) {
    const key = prefix + name;
    if ((s as { type?: string }).type === 'object' && (s as { properties?: unknown }).properties) rows.push(...describeConfig(s, key + '.'));
    else
      rows.push({
        key,
        type: (s as { type?: string }).type ?? ((s as { anyOf?: { const?: unknown }[] }).anyOf ?? []).map((x) => JSON.stringify(x.const)).join(' | '),
        default: (s as { default?: unknown }).default,
        description: (s as { description?: string }).description ?? '',
      });
  }
  return rows;
}
