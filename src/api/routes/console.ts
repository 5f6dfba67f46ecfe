/**
 * The operations console's API (/v1/console/...) and the console itself (/console).
 *
 * Sign-in: POST /v1/console/session with a hub user's name and password sets the session
 * cookie (HttpOnly, SameSite=Strict, Secure unless plain HTTP to loopback) and answers the
 * CSRF token the console sends back in X-CSRF-Token on every change. Every other console
 * endpoint is an ordinary API route: the same scopes, the same authorization matrix, and
 * reachable with an API client's token as well as with a session.
 */
import { readFile } from 'node:fs/promises';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ForbiddenError, UnauthenticatedError, RateLimitedError, ValidationError } from '../../domain/errors.ts';
import { EXCEPTION_CLASS_NAMES } from '../../domain/model.ts';
import { domainOfEntity, type Scope } from '../../domain/scopes.ts';
import { checkLogin, createSession, endSession, SESSION_COOKIE, type SessionInfo } from '../../security/users.ts';
import { logSecurityEvent } from '../../security/security-log.ts';
import { actionPlan, applySuggestedAction, assignException, commentOnException, editAndReplay, notesOf } from '../../workflows/exception-actions.ts';
import { kpiReport } from '../../workflows/order-to-delivery/kpis.ts';
import { connectorHealth } from '../../platform/connector-health.ts';
import { cookieValue, sameOrigin, type Authenticator } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { canSeePii, principalOf, type Principal } from '../principal.ts';
import { DateTime, Nullable, problems, route, StringEnum } from '../schemas.ts';
import { consoleTimeline, exceptionGroups, exceptionItem, listExceptionItems, overview, search, withoutTrace, type ExceptionFilter } from '../console-read-models.ts';

const SessionView = Type.Object(
  {
    user: Type.Object({ id: Type.String(), username: Type.String(), displayName: Type.String(), tenant: Type.String(), scopes: Type.Array(Type.String()) }),
    csrfToken: Type.String({ description: 'send back in X-CSRF-Token with every request that changes something' }),
    expiresAt: DateTime(),
  },
  { title: 'ConsoleSession' },
);

const ExceptionFilterQuery = {
  status: Type.Optional(StringEnum(['open', 'resolved'] as const)),
  class: Type.Optional(StringEnum(EXCEPTION_CLASS_NAMES)),
  code: Type.Optional(Type.String({ maxLength: 200 })),
  severity: Type.Optional(StringEnum(['info', 'warning', 'error', 'critical'] as const)),
  partner: Type.Optional(Type.String({ maxLength: 100, description: 'a partner, warehouse or carrier named in the exception, or the partner of its failed step' })),
  warehouse: Type.Optional(Type.String({ maxLength: 100 })),
  carrier: Type.Optional(Type.String({ maxLength: 100 })),
  assignee: Type.Optional(Type.String({ maxLength: 200, description: 'who it is assigned to; "-" for nobody' })),
  minAgeHours: Type.Optional(Type.Number({ minimum: 0, maximum: 100000, description: 'at least this old' })),
  maxAgeHours: Type.Optional(Type.Number({ minimum: 0, maximum: 100000, description: 'at most this old' })),
  key: Type.Optional(Type.String({ maxLength: 1024 })),
};
type FilterQuery = { status?: 'open' | 'resolved'; class?: string; code?: string; severity?: string; partner?: string; warehouse?: string; carrier?: string; assignee?: string; minAgeHours?: number; maxAgeHours?: number; key?: string };

const Json = Type.Unknown();
const IdParam = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });
const ExceptionItemView = Type.Object(
  {
    id: Type.Integer(), key: Type.String(), eventSeq: Nullable(Type.Integer()), code: Type.String(), class: Type.String(), severity: Type.String(), message: Type.String(),
    status: Type.String(), assignee: Nullable(Type.String()), details: Json, createdAt: DateTime(), updatedAt: DateTime(), resolvedAt: Nullable(DateTime()),
    resolvedBy: Nullable(Type.String()), resolution: Nullable(Type.String()),
  },
  { title: 'WorkbenchException' },
);
const Note = Type.Object({ id: Type.Integer(), at: DateTime(), actor: Type.String(), actorName: Type.String(), kind: Type.String(), text: Type.String(), details: Json }, { title: 'ExceptionNote' });
const ActionOutcome = Type.Object({ exception: ExceptionItemView, did: Type.String(), replayId: Type.Optional(Type.Integer()), eventId: Type.Optional(Type.String()) }, { title: 'ExceptionActionOutcome' });

const ops = { auth: { kind: 'scope', scope: 'exceptions:read' } } as const;
const opsWrite = { auth: { kind: 'scope', scope: 'exceptions:write' } } as const;

export const CONSOLE_ROUTES = {
  consoleSignIn: route({
    method: 'POST',
    url: '/v1/console/session',
    config: { auth: { kind: 'public' } },
    schema: {
      operationId: 'consoleSignIn',
      summary: 'Sign in to the console with a hub user\'s name and password; sets the session cookie',
      tags: ['console'],
      body: Type.Object(
        { username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 1024 }), tenant: Type.Optional(Type.String({ minLength: 1, maxLength: 63, default: 'default' })) },
        { additionalProperties: false, title: 'ConsoleSignIn' },
      ),
      response: { 200: SessionView, ...problems({ 401: 'wrong user name or password, or a disabled user', 403: 'posted from another origin', 429: 'too many failed sign-ins' }) },
    },
  }),
  consoleSession: route({
    method: 'GET',
    url: '/v1/console/session',
    config: { auth: { kind: 'public' } },
    schema: {
      operationId: 'consoleSession',
      summary: 'The signed-in user of the session cookie, and the CSRF token',
      tags: ['console'],
      response: { 200: SessionView, ...problems({ 401: 'no live session' }) },
    },
  }),
  consoleSignOut: route({
    method: 'DELETE',
    url: '/v1/console/session',
    config: { auth: { kind: 'public' } },
    schema: {
      operationId: 'consoleSignOut',
      summary: 'End the session (needs the X-CSRF-Token of the session)',
      tags: ['console'],
      response: { 204: Type.Null(), ...problems({ 403: 'missing or wrong CSRF token' }) },
    },
  }),
  consoleOverview: route({
    method: 'GET',
    url: '/v1/console/overview',
    config: ops,
    schema: {
      operationId: 'consoleOverview',
      summary: 'Events per second by type and source, backlog per queue, dead letters, open exceptions by class',
      tags: ['console'],
      querystring: Type.Object({ windowSeconds: Type.Integer({ minimum: 5, maximum: 3600, default: 60 }) }, { additionalProperties: false }),
      response: { 200: Json, ...problems({}) },
    },
  }),
  consoleLive: route({
    method: 'GET',
    url: '/v1/console/live',
    config: ops,
    schema: {
      operationId: 'consoleLive',
      summary: 'The overview as server-sent events (event: overview), pushed every console.liveIntervalMs',
      tags: ['console'],
      querystring: Type.Object({ once: Type.Boolean({ default: false, description: 'send one snapshot and end the stream' }) }, { additionalProperties: false }),
      response: { 200: Type.String({ description: 'text/event-stream' }), ...problems({}) },
    },
  }),
  consoleSearch: route({
    method: 'GET',
    url: '/v1/console/search',
    config: { auth: { kind: 'scope', scope: 'tracking:read' } },
    schema: {
      operationId: 'consoleSearch',
      summary: 'Find orders and shipments by any business key: order number, Odoo reference, tracking number, PO number, partner reference',
      tags: ['console'],
      querystring: Type.Object({ q: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          items: Type.Array(Type.Object({ kind: Type.String(), key: Type.String(), matchedBy: Type.String(), order: Nullable(Type.String()) })),
          hidden: Type.Integer({ description: 'hits left out for want of a read scope' }),
        }),
        ...problems({}),
      },
    },
  }),
  consoleTimeline: route({
    method: 'GET',
    url: '/v1/console/timeline/:key',
    config: { auth: { kind: 'scope', scope: 'tracking:read' } },
    schema: {
      operationId: 'consoleTimeline',
      summary: 'One order\'s or shipment\'s events from every system, raw payloads, partner calls, retries and trace ids',
      tags: ['console'],
      params: Type.Object({ key: Type.String({ minLength: 1, maxLength: 1024 }) }),
      response: { 200: Json, ...problems({ 404: 'nothing is known about the key' }) },
    },
  }),
  consoleExceptionGroups: route({
    method: 'GET',
    url: '/v1/console/exception-groups',
    config: ops,
    schema: {
      operationId: 'consoleExceptionGroups',
      summary: 'Exceptions grouped by class and cause, filtered',
      tags: ['console'],
      querystring: Type.Object(ExceptionFilterQuery, { additionalProperties: false }),
      response: { 200: Type.Object({ groups: Type.Array(Json) }), ...problems({}) },
    },
  }),
  consoleExceptions: route({
    method: 'GET',
    url: '/v1/console/exceptions',
    config: ops,
    schema: {
      operationId: 'consoleExceptions',
      summary: 'Exceptions, newest first, filtered by class, cause, partner, warehouse, carrier, severity, assignee, age',
      tags: ['console'],
      querystring: Type.Object({ ...ExceptionFilterQuery, limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }), before: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(ExceptionItemView), total: Type.Integer(), nextBefore: Nullable(Type.Integer()) }), ...problems({}) },
    },
  }),
  consoleException: route({
    method: 'GET',
    url: '/v1/console/exceptions/:id',
    config: ops,
    schema: {
      operationId: 'consoleException',
      summary: 'One exception with its notes, what its suggested action would do, and what can be edited and replayed',
      tags: ['console'],
      params: IdParam,
      response: {
        200: Type.Object({
          exception: ExceptionItemView,
          notes: Type.Array(Note),
          plan: Type.Object({ kind: Type.String(), description: Type.String(), editable: Nullable(Type.String()) }),
          editable: Json,
        }),
        ...problems({ 404: 'no such exception in the tenant' }),
      },
    },
  }),
  consoleAssignException: route({
    method: 'POST',
    url: '/v1/console/exceptions/:id/assign',
    config: opsWrite,
    schema: {
      operationId: 'consoleAssignException',
      summary: 'Assign an open exception to someone (null: nobody)',
      tags: ['console'],
      params: IdParam,
      body: Type.Object({ assignee: Nullable(Type.String({ minLength: 1, maxLength: 200 })) }, { additionalProperties: false, title: 'AssignException' }),
      response: { 200: ExceptionItemView, ...problems({ 404: 'no such exception', 409: 'already resolved' }) },
    },
  }),
  consoleCommentException: route({
    method: 'POST',
    url: '/v1/console/exceptions/:id/comments',
    config: opsWrite,
    schema: {
      operationId: 'consoleCommentException',
      summary: 'Add a comment to an exception',
      tags: ['console'],
      params: IdParam,
      body: Type.Object({ text: Type.String({ minLength: 1, maxLength: 4000 }) }, { additionalProperties: false, title: 'CommentException' }),
      response: { 200: Type.Object({ notes: Type.Array(Note) }), ...problems({ 404: 'no such exception' }) },
    },
  }),
  consoleApplyAction: route({
    method: 'POST',
    url: '/v1/console/exceptions/:id/apply',
    config: opsWrite,
    schema: {
      operationId: 'consoleApplyAction',
      summary: 'Apply the suggested action (re-run the failed step, replay the dead letter, or record the human task as done) and resolve',
      tags: ['console'],
      params: IdParam,
      body: Type.Object({ note: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false, title: 'ApplyAction' }),
      response: { 200: ActionOutcome, ...problems({ 404: 'no such exception', 409: 'already resolved, or the step is no longer failed' }) },
    },
  }),
  consoleReplayException: route({
    method: 'POST',
    url: '/v1/console/exceptions/:id/replay',
    config: opsWrite,
    schema: {
      operationId: 'consoleReplayException',
      summary: 'Edit and replay: run the failed step again with corrected input, or feed the event in again with corrected data',
      tags: ['console'],
      params: IdParam,
      body: Type.Object(
        { input: Type.Optional(Type.Record(Type.String(), Type.Unknown())), data: Type.Optional(Type.Unknown()), note: Type.Optional(Type.String({ maxLength: 2000 })) },
        { additionalProperties: false, title: 'ReplayException' },
      ),
      response: { 200: ActionOutcome, ...problems({ 400: 'the correction is not valid (nothing was changed)', 404: 'no such exception', 409: 'already resolved' }) },
    },
  }),
  consoleConnectors: route({
    method: 'GET',
    url: '/v1/console/connectors',
    config: ops,
    schema: {
      operationId: 'consoleConnectors',
      summary: 'Per connector: circuit state, latency, error rate, rate-limit use, change-capture lag; partner SLA adherence',
      tags: ['console'],
      response: { 200: Json, ...problems({}) },
    },
  }),
  consoleKpis: route({
    method: 'GET',
    url: '/v1/console/kpis',
    config: { auth: { kind: 'scope', scope: 'orders:read' } },
    schema: {
      operationId: 'consoleKpis',
      summary: 'Order-to-dispatch, dispatch-to-delivery, delivery-confirmation and POD-to-invoice percentiles, exceptions by class, carrier on-time rate',
      tags: ['console'],
      querystring: Type.Object(
        { window: StringEnum(['1h', '24h', '7d', '30d'] as const, { default: '24h' }), to: Type.Optional(DateTime('end of the window (default: now)')) },
        { additionalProperties: false },
      ),
      response: { 200: Json, ...problems({}) },
    },
  }),
} as const;

const WINDOWS = { '1h': 3600, '24h': 86400, '7d': 7 * 86400, '30d': 30 * 86400 } as const;

function filterOf(q: FilterQuery): ExceptionFilter {
  return {
    status: q.status, class: q.class, code: q.code, severity: q.severity, partner: q.partner, warehouse: q.warehouse, carrier: q.carrier, assignee: q.assignee, key: q.key,
    ...(q.minAgeHours !== undefined ? { minAgeSeconds: q.minAgeHours * 3600 } : {}),
    ...(q.maxAgeHours !== undefined ? { maxAgeSeconds: q.maxAgeHours * 3600 } : {}),
  };
}

// ----------------------------------------------------------------------------- static files

const CONSOLE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../console');
const MEDIA: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ts': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};
/** The console's pages load nothing from elsewhere and run no inline script. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * Node's own type stripping (the same the hub runs on), without its one-time "experimental"
 * warning on the hub's stderr: the console's modules are erasable TypeScript, checked by tsc.
 */
function stripTypes(source: string): string {
  const emit = process.emitWarning;
  process.emitWarning = (() => undefined) as typeof process.emitWarning;
  try {
    return stripTypeScriptTypes(source, { mode: 'strip' });
  } finally {
    process.emitWarning = emit;
  }
}

/** Reads a console file; TypeScript modules are served with their types stripped (cached). */
async function consoleFile(path: string, cache: Map<string, { body: string | Buffer; type: string }>): Promise<{ body: string | Buffer; type: string } | undefined> {
  const hit = cache.get(path);
  if (hit) return hit;
  const full = normalize(join(CONSOLE_DIR, path));
  if (!full.startsWith(CONSOLE_DIR + sep)) return undefined;
  const type = MEDIA[extname(full)];
  if (!type) return undefined;
  let body: string | Buffer;
  try {
    body = await readFile(full);
  } catch {
    return undefined;
  }
  if (extname(full) === '.ts') body = stripTypes(body.toString('utf8'));
  const entry = { body, type };
  cache.set(path, entry);
  return entry;
}

// ----------------------------------------------------------------------------- routes

export async function consoleRoutes(app: FastifyInstance, opts: { ctx: ApiContext; auth: Authenticator }): Promise<void> {
  const { ctx, auth } = opts;
  const pool = ctx.pool;
  const cfg = ctx.config.console;
  const now = () => ctx.clock.now();
  // open live streams end when the server closes (they would hold it open)
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of streams) end();
    streams.clear();
  });
  // the tenant's SLA targets and invoicing policy decide what the report counts as due
  const kpiOptions = (tenantId: string) => {
    const flow = (ctx.config.flows?.orderToDelivery as Record<string, { invoicePolicy?: string }> | undefined)?.[tenantId];
    return { sla: ctx.config.kpis.sla, invoiceOnDelivery: flow?.invoicePolicy !== 'manual' };
  };
  const viewerOf = (p: Principal) => ({ tenantId: p.tenantId, pii: canSeePii(p), scopes: p.scopes });

  const sessionView = (s: SessionInfo) => ({
    user: { id: s.user.id, username: s.user.username, displayName: s.user.displayName, tenant: s.user.tenantId, scopes: s.user.scopes },
    csrfToken: s.csrfToken,
    expiresAt: s.expiresAt.toISOString(),
  });
  const secure = (request: FastifyRequest) => {
    if (cfg.secureCookie !== 'auto') return cfg.secureCookie;
    const loopback = /^(127\.|::1$|::ffff:127\.)/.test(request.socket.remoteAddress ?? '');
    return request.protocol === 'https' || !loopback;
  };
  const setCookie = (request: FastifyRequest, reply: FastifyReply, value: string, maxAge: number) => {
    reply.header('Set-Cookie', `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure(request) ? '; Secure' : ''}`);
  };

  app.route<{ Body: { username: string; password: string; tenant?: string } }>({
    ...CONSOLE_ROUTES.consoleSignIn,
    handler: async (request, reply) => {
      const { username, password } = request.body;
      const tenant = request.body.tenant ?? 'default';
      // a sign-in posted from another site (login CSRF: the victim would work in the attacker's account)
      const origin = request.headers.origin;
      if (origin !== undefined && origin !== 'null' && !sameOrigin(origin, request.headers.host)) throw new ForbiddenError('auth.csrf', `a console sign-in must come from the hub's own origin, not ${origin}`);
      // failed sign-ins are throttled per address and per user name (the user's lockout is in users.ts)
      const guards = [`signin:ip:${request.ip}`, `signin:user:${tenant}:${username.toLowerCase().slice(0, 64)}`];
      for (const g of guards) {
        const peek = auth.limiter.peek(g, 0.2, 10);
        if (!peek.allowed) throw new RateLimitedError('too many failed sign-ins; wait before trying again', peek.retryAfterMs);
      }
      const r = await checkLogin(pool, tenant, username, password, now());
      if (!r.ok) {
        for (const g of guards) auth.limiter.take(g, 0.2, 10);
        await logSecurityEvent(pool, { kind: 'auth', code: `console.signin_${r.reason}`, tenantId: tenant, remoteIp: request.ip, detail: `console sign-in refused for ${username.slice(0, 64)}: ${r.reason}`, correlationId: request.correlationId }).catch(() => undefined);
        if (r.reason === 'locked') throw new UnauthenticatedError('auth.user_locked', `too many wrong passwords: the user is locked until ${r.lockedUntil!.toISOString()}`);
        throw new UnauthenticatedError('auth.invalid_login', 'wrong user name or password');
      }
      const { cookie, session } = await createSession(pool, { user: r.user, now: now(), absoluteSeconds: cfg.sessionAbsoluteSeconds, remoteIp: request.ip, userAgent: request.headers['user-agent'] });
      setCookie(request, reply, cookie, cfg.sessionAbsoluteSeconds);
      reply.header('Cache-Control', 'no-store');
      return sessionView(session);
    },
  });

  app.route({
    ...CONSOLE_ROUTES.consoleSession,
    handler: async (request, reply) => {
      const s = await auth.session(request);
      if (!s) throw new UnauthenticatedError('auth.session_expired', 'no live console session: sign in');
      reply.header('Cache-Control', 'no-store');
      return sessionView(s);
    },
  });

  app.route({
    ...CONSOLE_ROUTES.consoleSignOut,
    handler: async (request, reply) => {
      const value = cookieValue(request.headers.cookie, SESSION_COOKIE);
      const s = await auth.session(request);
      if (s && value) {
        if (request.headers['x-csrf-token'] !== s.csrfToken) throw new ForbiddenError('auth.csrf', 'signing out needs the session\'s X-CSRF-Token header');
        await endSession(pool, value);
      }
      setCookie(request, reply, '', 0);
      return reply.code(204).send();
    },
  });

  app.route<{ Querystring: { windowSeconds: number } }>({
    ...CONSOLE_ROUTES.consoleOverview,
    handler: async (request) => overview(pool, principalOf(request).tenantId, now(), request.query.windowSeconds),
  });

  app.route<{ Querystring: { once: boolean } }>({
    ...CONSOLE_ROUTES.consoleLive,
    handler: async (request, reply) => {
      const tenantId = principalOf(request).tenantId;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        Connection: 'keep-alive',
        'X-Content-Type-Options': 'nosniff',
        'X-Accel-Buffering': 'no',
        'X-Correlation-Id': request.correlationId,
      });
      let closed = false;
      let timer: NodeJS.Timeout | undefined;
      const stop = () => {
        closed = true;
        if (timer) clearTimeout(timer);
      };
      const end = () => {
        stop();
        res.end();
      };
      streams.add(end);
      request.raw.on('close', () => {
        stop();
        streams.delete(end);
      });
      let id = 0;
      const push = async () => {
        if (closed) return;
        try {
          const o = await overview(pool, tenantId, now());
          if (closed) return;
          res.write(`id: ${++id}\nevent: overview\nretry: ${cfg.liveIntervalMs}\ndata: ${JSON.stringify(o)}\n\n`);
        } catch (err) {
          request.log.warn({ err }, 'live overview failed; the stream goes on');
          res.write(`event: error\ndata: ${JSON.stringify({ code: 'console.overview_failed' })}\n\n`);
        }
        if (request.query.once) {
          end();
          streams.delete(end);
          return;
        }
        if (!closed) timer = setTimeout(push, cfg.liveIntervalMs);
      };
      await push();
    },
  });

  app.route<{ Querystring: { q: string } }>({
    ...CONSOLE_ROUTES.consoleSearch,
    handler: async (request) => {
      const p = principalOf(request);
      const hits = await search(pool, p.tenantId, request.query.q);
      // shipments and bare keys come with tracking:read; orders and purchase orders need their own domain's read scope
      const scopeOf = (kind: string): Scope => (kind === 'order' ? 'orders:read' : kind === 'purchase-order' ? `${domainOfEntity('purchase-order')}:read` : 'tracking:read');
      const items = hits.filter((h) => p.scopes.has(scopeOf(h.kind)));
      return { items, hidden: hits.length - items.length };
    },
  });

  app.route<{ Params: { key: string } }>({
    ...CONSOLE_ROUTES.consoleTimeline,
    handler: async (request) => {
      const p = principalOf(request);
      const t = await consoleTimeline(pool, viewerOf(p), request.params.key);
      if (!t) throw notFound('timeline.not_found', `nothing is known about the key ${JSON.stringify(request.params.key)}`);
      return t;
    },
  });

  app.route<{ Querystring: FilterQuery }>({
    ...CONSOLE_ROUTES.consoleExceptionGroups,
    handler: async (request) => ({ groups: await exceptionGroups(pool, principalOf(request).tenantId, filterOf(request.query), now()) }),
  });

  app.route<{ Querystring: FilterQuery & { limit: number; before?: number } }>({
    ...CONSOLE_ROUTES.consoleExceptions,
    handler: async (request) => listExceptionItems(pool, viewerOf(principalOf(request)), filterOf(request.query), now(), request.query.limit, request.query.before),
  });

  const loadException = async (p: Principal, id: number) => {
    const r = await pool.query(`select * from hub_exceptions where id = $1 and tenant_id = $2`, [id, p.tenantId]);
    if (!r.rows[0]) throw notFound('exception.not_found', `no exception ${id} in this tenant`);
    return r.rows[0];
  };

  app.route<{ Params: { id: number } }>({
    ...CONSOLE_ROUTES.consoleException,
    handler: async (request) => {
      const p = principalOf(request);
      const x = await loadException(p, request.params.id);
      const plan = await actionPlan(pool, p.tenantId, x);
      let editable: unknown = null;
      // what edit-and-replay starts from; personal data only for pii:read (a masked value must not be sent back as a correction)
      if (plan.editable === 'step_input' && canSeePii(p)) {
        const s = await pool.query(`select input from hub_workflow_steps where tenant_id = $1 and instance = $2 and step_key = $3`, [p.tenantId, x.key, (x.details as { stepKey?: string }).stepKey]);
        editable = withoutTrace(s.rows[0]?.input ?? null);
      } else if (plan.editable === 'event_data' && canSeePii(p)) {
        const e = await pool.query(`select type, data from hub_events where seq = $1 and tenant_id = $2`, [x.event_seq, p.tenantId]);
        editable = e.rows[0] ? { type: e.rows[0].type, data: e.rows[0].data } : null;
      }
      return { exception: exceptionItem(x, canSeePii(p)), notes: await notesOf(pool, p.tenantId, x.id), plan: { ...plan, editable: canSeePii(p) ? plan.editable : null }, editable };
    },
  });

  const actor = (p: Principal) => ({ tenantId: p.tenantId, actor: p.actor });

  app.route<{ Params: { id: number }; Body: { assignee: string | null } }>({
    ...CONSOLE_ROUTES.consoleAssignException,
    handler: async (request) => {
      const p = principalOf(request);
      return exceptionItem(await assignException(pool, actor(p), request.params.id, request.body.assignee), canSeePii(p));
    },
  });

  app.route<{ Params: { id: number }; Body: { text: string } }>({
    ...CONSOLE_ROUTES.consoleCommentException,
    handler: async (request) => ({ notes: await commentOnException(pool, actor(principalOf(request)), request.params.id, request.body.text) }),
  });

  app.route<{ Params: { id: number }; Body: { note?: string } }>({
    ...CONSOLE_ROUTES.consoleApplyAction,
    handler: async (request) => {
      const p = principalOf(request);
      const r = await applySuggestedAction(pool, actor(p), request.params.id, request.body.note);
      return { ...r, exception: exceptionItem(r.exception, canSeePii(p)) };
    },
  });

  app.route<{ Params: { id: number }; Body: { input?: Record<string, unknown>; data?: unknown; note?: string } }>({
    ...CONSOLE_ROUTES.consoleReplayException,
    handler: async (request) => {
      const p = principalOf(request);
      if ((request.body.input === undefined) === (request.body.data === undefined)) {
        throw new ValidationError('exception.nothing_to_replay', 'give either the corrected step input (input) or the corrected event data (data)', [{ path: '/', message: 'exactly one of input, data' }]);
      }
      const r = await editAndReplay(pool, actor(p), request.params.id, request.body, request.body.note);
      return { ...r, exception: exceptionItem(r.exception, true) };
    },
  });

  app.route({
    ...CONSOLE_ROUTES.consoleConnectors,
    handler: async (request) => {
      const p = principalOf(request);
      const t = now();
      const [health, polls, cursors, report] = await Promise.all([
        connectorHealth(ctx.metrics),
        ctx.metrics.captureLastPoll.get(),
        pool.query<{ model: string; updated_at: Date }>(`select model, updated_at from hub_odoo_cursors where tenant_id = $1 order by model`, [p.tenantId]),
        kpiReport(pool, p.tenantId, { from: new Date(t.getTime() - 86_400_000), to: t }, { ...kpiOptions(p.tenantId), now: t }),
      ]);
      // change-capture lag: time since the last completed poll of each model (this process's capture)
      const lastPoll = new Map(polls.values.filter((v) => v.labels.tenant === p.tenantId).map((v) => [String(v.labels.model), v.value]));
      const models = [...new Set([...lastPoll.keys(), ...cursors.rows.map((c) => c.model)])].sort();
      return {
        at: t.toISOString(),
        connectors: health.filter((h) => !h.tenant || h.tenant === p.tenantId),
        capture: models.map((model) => {
          const polled = lastPoll.get(model);
          const cursor = cursors.rows.find((c) => c.model === model);
          return {
            model,
            lastPolledAt: polled ? new Date(polled * 1000).toISOString() : null,
            lagSeconds: polled ? Math.max(0, Math.round(t.getTime() / 1000 - polled)) : null,
            lastChangeAt: cursor ? cursor.updated_at.toISOString() : null,
          };
        }),
        sla: report.sla,
      };
    },
  });

  app.route<{ Querystring: { window: keyof typeof WINDOWS; to?: string } }>({
    ...CONSOLE_ROUTES.consoleKpis,
    handler: async (request) => {
      const to = request.query.to ? new Date(request.query.to) : now();
      const tenantId = principalOf(request).tenantId;
      return kpiReport(pool, tenantId, { from: new Date(to.getTime() - WINDOWS[request.query.window] * 1000), to }, { ...kpiOptions(tenantId), now: now() });
    },
  });

  // ------------------------------------------------------------------ the console itself
  if (!cfg.enabled) return;
  const cache = new Map<string, { body: string | Buffer; type: string }>();
  const sendFile = async (reply: FastifyReply, path: string) => {
    const f = await consoleFile(path, cache);
    if (!f) throw notFound('console.not_found', `the console has no file ${path}`);
    reply.header('Content-Security-Policy', CSP).header('X-Frame-Options', 'DENY').header('Referrer-Policy', 'no-referrer').header('Cache-Control', 'no-cache');
    return reply.type(f.type).send(f.body);
  };
  app.get('/console', async (_request, reply) => sendFile(reply, 'index.html'));
  app.get('/console/*', async (request, reply) => {
    const rest = (request.params as { '*': string })['*'];
    // client-side routes (#/...) all load the same page; only files with an extension are assets
    return sendFile(reply, rest === '' || !extname(rest) ? 'index.html' : rest);
  });
}
