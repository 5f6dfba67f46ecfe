/** The API alone (buildServer) on a fresh database, listening on a real port. */
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { buildServer } from '../../src/api/server.ts';
import type { ApiContext } from '../../src/api/context.ts';
import { BacklogMonitor } from '../../src/pipeline/backlog.ts';
import { validateConfig, type HubConfig } from '../../src/platform/config.ts';
import { createMetrics, type Metrics } from '../../src/platform/metrics.ts';
import type { Logger } from '../../src/platform/logger.ts';
import { EXAMPLE_EVENT_DATA } from '../../src/domain/examples.ts';
import { freshDatabase } from '../helpers/db.ts';
import { silent } from '../helpers/pipeline.ts';
import { createClient } from '../../src/security/clients.ts';
import { SCOPES } from '../../src/domain/scopes.ts';
import { Keyring } from '../../src/security/keyring.ts';
import { systemClock, type Clock } from '../../src/platform/clock.ts';

/** A fixed test master key (never used outside tests). */
export const TEST_KEYRING = new Keyring([Buffer.alloc(32, 7)], 'test');

export interface Api {
  url: string;
  app: FastifyInstance;
  pool: pg.Pool;
  metrics: Metrics;
  backlog: BacklogMonitor;
  config: HubConfig;
  /** a token of a client with every scope in tenant default; sent by call() unless the request sets authorization */
  token: string;
  /** a token of a new client with these scopes (in this tenant, created when missing) */
  client(scopes: string[], tenantId?: string): Promise<string>;
}

/** The default bearer token per API origin (call() adds it when a request has no authorization header). */
const DEFAULT_TOKENS = new Map<string, string>();
let clients = 0;

/** A new client in the tenant (created when missing) and its token. */
export async function tokenFor(pool: pg.Pool, scopes: string[], tenantId = 'default'): Promise<string> {
  await pool.query(`insert into hub_tenants (id, name) values ($1, $1) on conflict (id) do nothing`, [tenantId]);
  const { token } = await createClient(pool, { tenantId, name: `test-client-${++clients}-${process.pid}`, scopes, actor: 'test' });
  return token;
}

export interface ApiOptions {
  pool?: pg.Pool;
  ingress?: Partial<HubConfig['ingress']>;
  /** further configuration (security, webhooks, subscriptions...) */
  config?: Record<string, unknown>;
  clock?: Clock;
  readiness?: ApiContext['readiness'];
  log?: Logger;
  /** what receives Odoo hints (the hub passes its running connectors) */
  odooHint?: ApiContext['odooHint'];
}

export async function startApi(o: ApiOptions = {}): Promise<Api> {
  const pool = o.pool ?? (await freshDatabase()).pool;
  const config = validateConfig({ ...(o.config ?? {}), ingress: { ...((o.config?.ingress as object) ?? {}), ...(o.ingress ?? {}) } });
  const metrics = createMetrics({ defaultMetrics: false });
  const backlog = new BacklogMonitor(pool, config.ingress.backlogLimit, 250, metrics);
  await backlog.sample();
  const app = await buildServer({
    pool,
    config,
    log: o.log ?? silent,
    metrics,
    backlog,
    instanceId: 'api-test',
    keyring: TEST_KEYRING,
    clock: o.clock ?? systemClock,
    ...(o.odooHint ? { odooHint: o.odooHint } : {}),
    readiness: o.readiness ?? (async () => ({ ready: true, checks: { database: { ok: true } } })),
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  after(() => app.close());
  // a database that is away gets a well-formed token nobody issued: the hub must answer 503, not 401
  const token = await tokenFor(pool, [...SCOPES]).catch(() => `olh_${'u'.repeat(43)}`);
  DEFAULT_TOKENS.set(new URL(url).origin, token);
  return { url, app, pool, metrics, backlog, config, token, client: (scopes, tenantId) => tokenFor(pool, scopes, tenantId) };
}

export interface Answer {
  status: number;
  headers: Headers;
  contentType: string;
  body: any;
}

export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const headers = new Headers(init.headers);
  const fallback = DEFAULT_TOKENS.get(new URL(url).origin);
  if (!headers.has('authorization') && fallback) headers.set('authorization', `Bearer ${fallback}`);
  if (headers.get('authorization') === '') headers.delete('authorization'); // '' means: send none
  const r = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(15_000) });
  const text = await r.text();
  const contentType = r.headers.get('content-type') ?? '';
  return { status: r.status, headers: r.headers, contentType, body: /json/.test(contentType) && text ? JSON.parse(text) : text };
}

export const STRUCTURED = 'application/cloudevents+json';
export const BATCH = 'application/cloudevents-batch+json';

/** POSTs to /v1/events; `contentType` null sends none. */
export function post(api: Api, body: unknown, contentType: string | null = STRUCTURED, headers: Record<string, string> = {}): Promise<Answer> {
  const raw = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  const bytes = typeof raw === 'string' ? new TextEncoder().encode(raw) : raw;
  return call(`${api.url}/v1/events`, { method: 'POST', headers: { ...(contentType ? { 'content-type': contentType } : {}), ...headers }, body: bytes });
}

export function exampleData(type: string): Record<string, unknown> {
  const d = (EXAMPLE_EVENT_DATA as Record<string, unknown>)[type];
  assert.ok(d, `no example data for ${type}`);
  return structuredClone(d) as Record<string, unknown>;
}

/** A valid structured CloudEvent of `type` with the example data; `data` fields and attributes overridable. */
export function cloudEvent(type: string, attrs: Record<string, unknown> = {}, data: Record<string, unknown> = {}): Record<string, unknown> {
  return { specversion: '1.0', id: randomUUID(), source: 'urn:test:api', type, datacontenttype: 'application/json', data: { ...exampleData(type), ...data }, ...attrs };
}

export async function countEvents(pool: pg.Pool): Promise<number> {
  const r = await pool.query<{ n: number }>('select count(*)::int as n from hub_events');
  return r.rows[0]!.n;
}

export function assertProblem(a: Answer, status: number, code: string): void {
  assert.equal(a.status, status, `status (body: ${JSON.stringify(a.body)})`);
  assert.match(a.contentType, /^application\/problem\+json/);
  assert.equal(a.body.code, code, JSON.stringify(a.body));
  assert.equal(a.body.status, status);
  assert.equal(a.body.type, `https://odoo-logistics-hub.dev/problems/${code}`);
  assert.equal(typeof a.body.title, 'string');
  assert.equal(typeof a.body.detail, 'string');
  assert.equal(typeof a.body.instance, 'string');
  assert.equal(a.body.correlationId, a.headers.get('x-correlation-id'));
}
