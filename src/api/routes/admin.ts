/**
 * Administration and the OAuth2 endpoints: API clients (create, list, rotate, revoke,
 * change scopes), stored secrets (set, list, delete: values go in, never out), the audit
 * trail and its verification, business exceptions (list, resolve), the tenant's security
 * log, POST /oauth/token (client credentials) and the JWKS.
 *
 * Everything is scoped to the caller's tenant; a client may grant only scopes it holds.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ForbiddenError, PermanentError, RateLimitedError, ValidationError } from '../../domain/errors.ts';
import { SCOPES, isScope, type Scope } from '../../domain/scopes.ts';
import { rowToAudit, verifyAudit, appendAudit } from '../../security/audit.ts';
import { addNote } from '../../workflows/exception-actions.ts';
import { clientForToken, createClient, findClient, listClients, revokeClient, rotateClientToken, updateClient, type ClientInfo } from '../../security/clients.ts';
import { deleteSecret, listSecrets, putSecret } from '../../security/secrets.ts';
import type { SigningKeys } from '../../security/jwt.ts';
import type { Authenticator } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { decodeCursor, encodeCursor, isPositiveSafeInteger } from '../cursor.ts';
import { notFound } from '../errors.ts';
import { principalOf } from '../principal.ts';
import { withTx, type Queryable } from '../../platform/db.ts';
import { DateTime, Nullable, Pagination, StringEnum, problems, route } from '../schemas.ts';

const ScopeList = Type.Array(StringEnum(SCOPES), { minItems: 1, uniqueItems: true, description: 'scopes: <domain>:read|write, pii:read' });
const ClientIdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100, description: 'client id (cl_...) or name' }) });

export const Client = Type.Object(
  {
    id: Type.String(),
    tenant: Type.String(),
    name: Type.String(),
    scopes: Type.Array(Type.String()),
    rateLimit: Type.Object({ perSecond: Nullable(Type.Integer()), burst: Nullable(Type.Integer()) }, { description: 'null: the hub defaults (security.rateLimit)' }),
    createdAt: DateTime(),
    createdBy: Type.String(),
    revokedAt: Nullable(DateTime()),
    credentials: Type.Array(
      Type.Object({ id: Type.Integer(), hint: Type.String({ description: 'first characters of the token' }), createdAt: DateTime(), expiresAt: Nullable(DateTime()), revokedAt: Nullable(DateTime()), lastUsedAt: Nullable(DateTime()) }),
    ),
  },
  { title: 'Client', description: 'an API client; its tokens are never shown again after they are issued' },
);

const ClientWithToken = Type.Object(
  { client: Client, token: Type.String({ description: 'shown once: the bearer token, also the OAuth2 client secret' }), previousValidUntil: Type.Optional(Nullable(DateTime())) },
  { title: 'ClientWithToken' },
);

const SecretInfo = Type.Object(
  {
    name: Type.String(),
    kind: Type.String(),
    versions: Type.Array(Type.Object({ version: Type.Integer(), createdAt: DateTime(), createdBy: Type.String(), expiresAt: Nullable(DateTime()), masterKey: Type.String() })),
  },
  { title: 'SecretInfo', description: 'a stored secret without its value' },
);

const AuditEntry = Type.Object(
  {
    seq: Type.Integer(), at: DateTime(), actor: Type.String(), action: Type.String(), objectType: Type.String(), objectId: Type.String(),
    beforeDigest: Nullable(Type.String()), afterDigest: Nullable(Type.String()), details: Type.Unknown(), prevHash: Type.String(), hash: Type.String(),
  },
  { title: 'AuditEntry' },
);

const ExceptionView = Type.Object(
  {
    id: Type.Integer(), key: Type.String(), eventSeq: Nullable(Type.Integer()), code: Type.String(), severity: Type.String(), message: Type.String(), status: Type.String(),
    details: Type.Unknown(), createdAt: DateTime(), resolvedAt: Nullable(DateTime()), resolvedBy: Nullable(Type.String()), resolution: Nullable(Type.String()),
  },
  { title: 'ExceptionView', description: 'a business exception for a person to act on' },
);

const TokenResponse = Type.Object(
  { access_token: Type.String(), token_type: Type.Literal('Bearer'), expires_in: Type.Integer(), scope: Type.String() },
  { title: 'TokenResponse', description: 'RFC 6749 section 5.1' },
);

const SecurityLogEntry = Type.Object(
  { id: Type.Integer(), at: DateTime(), kind: Type.String(), code: Type.String(), partner: Nullable(Type.String()), clientId: Nullable(Type.String()), remoteIp: Nullable(Type.String()), detail: Type.String() },
  { title: 'SecurityLogEntry' },
);

const page = <T extends import('@sinclair/typebox').TSchema>(item: T, title: string) =>
  Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) }, { title });

export const ADMIN_ROUTES = {
  oauthToken: route({
    method: 'POST',
    url: '/oauth/token',
    config: { auth: { kind: 'public' } },
    schema: {
      operationId: 'oauthToken',
      summary: 'OAuth2 client credentials grant: a short-lived access token (JWT, ES256)',
      description:
        'application/x-www-form-urlencoded (or JSON) with grant_type=client_credentials; the client authenticates with HTTP Basic (client id : token) or client_id and client_secret in the body. ' +
        'An optional `scope` narrows the token to a subset of the client\'s scopes. Errors are problem+json carrying the RFC 6749 `error` member too.',
      tags: ['auth'],
      body: {
        content: {
          'application/x-www-form-urlencoded': {
            schema: Type.Object({
              grant_type: Type.Literal('client_credentials'),
              scope: Type.Optional(Type.String()),
              client_id: Type.Optional(Type.String()),
              client_secret: Type.Optional(Type.String()),
            }),
          },
        },
      },
      response: { 200: TokenResponse, ...problems({ 400: 'invalid_request, unsupported_grant_type, invalid_scope', 401: 'invalid_client', 429: 'too many attempts' }) },
    },
  }),
  jwks: route({
    method: 'GET',
    url: '/.well-known/jwks.json',
    config: { auth: { kind: 'public' } },
    schema: {
      operationId: 'jwks',
      summary: 'Public keys that verify the hub\'s access tokens (JWKS, RFC 7517)',
      tags: ['auth'],
      response: { 200: Type.Object({ keys: Type.Array(Type.Object({}, { additionalProperties: true })) }, { title: 'Jwks' }), ...problems({}) },
    },
  }),
  listClients: route({
    method: 'GET',
    url: '/v1/admin/clients',
    config: { auth: { kind: 'scope', scope: 'admin:read' } },
    schema: { operationId: 'listClients', summary: 'The tenant\'s API clients', tags: ['admin'], response: { 200: Type.Object({ items: Type.Array(Client) }, { title: 'ClientList' }), ...problems({}) } },
  }),
  createClient: route({
    method: 'POST',
    url: '/v1/admin/clients',
    config: { auth: { kind: 'scope', scope: 'admin:write' } },
    schema: {
      operationId: 'createClient',
      summary: 'Create an API client in the caller\'s tenant; answers its token once',
      tags: ['admin'],
      body: Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 64 }),
          scopes: ScopeList,
          rateLimit: Type.Optional(Type.Object({ perSecond: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000000 })), burst: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000000 })) }, { additionalProperties: false })),
        },
        { additionalProperties: false, title: 'CreateClient' },
      ),
      response: { 201: ClientWithToken, ...problems({ 403: 'granting a scope the caller does not hold', 409: 'the name is taken' }) },
    },
  }),
  getClient: route({
    method: 'GET',
    url: '/v1/admin/clients/:id',
    config: { auth: { kind: 'scope', scope: 'admin:read' } },
    schema: { operationId: 'getClient', summary: 'One API client', tags: ['admin'], params: ClientIdParam, response: { 200: Client, ...problems({ 404: 'no such client in the tenant' }) } },
  }),
  updateClient: route({
    method: 'PATCH',
    url: '/v1/admin/clients/:id',
    config: { auth: { kind: 'scope', scope: 'admin:write' } },
    schema: {
      operationId: 'updateClient',
      summary: 'Change a client\'s scopes or rate limit',
      tags: ['admin'],
      params: ClientIdParam,
      body: Type.Object(
        {
          scopes: Type.Optional(ScopeList),
          rateLimit: Type.Optional(Type.Object({ perSecond: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 1000000 }))), burst: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 1000000 }))) }, { additionalProperties: false })),
        },
        { additionalProperties: false, title: 'UpdateClient' },
      ),
      response: { 200: Client, ...problems({ 403: 'granting a scope the caller does not hold', 404: 'no such client in the tenant' }) },
    },
  }),
  rotateClient: route({
    method: 'POST',
    url: '/v1/admin/clients/:id/rotate',
    config: { auth: { kind: 'scope', scope: 'admin:write' } },
    schema: {
      operationId: 'rotateClient',
      summary: 'Issue a new token; the previous ones stay valid for the overlap',
      tags: ['admin'],
      params: ClientIdParam,
      body: Type.Optional(Type.Object({ overlapSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 31536000, description: 'default security.credentialOverlapSeconds' })) }, { additionalProperties: false })),
      response: { 200: ClientWithToken, ...problems({ 404: 'no such client in the tenant', 409: 'the client is revoked' }) },
    },
  }),
  revokeClient: route({
    method: 'POST',
    url: '/v1/admin/clients/:id/revoke',
    config: { auth: { kind: 'scope', scope: 'admin:write' } },
    schema: { operationId: 'revokeClient', summary: 'Revoke a client and all its credentials at once', tags: ['admin'], params: ClientIdParam, response: { 200: Client, ...problems({ 404: 'no such client in the tenant' }) } },
  }),
  listSecrets: route({
    method: 'GET',
    url: '/v1/admin/secrets',
    config: { auth: { kind: 'scope', scope: 'admin:read' } },
    schema: { operationId: 'listSecrets', summary: 'The tenant\'s stored secrets, without values', tags: ['admin'], response: { 200: Type.Object({ items: Type.Array(SecretInfo) }, { title: 'SecretList' }), ...problems({}) } },
  }),
  putSecret: route({
    method: 'PUT',
    url: '/v1/admin/secrets/:name',
    config: { auth: { kind: 'scope', scope: 'admin:write' } },
    schema: {
      operationId: 'putSecret',
      summary: 'Store a secret, or a new version of it (the previous stays valid for the overlap); the value is never returned',
      tags: ['admin'],
      params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) }),
      body: Type.Object(
        { value: Type.String({ minLength: 1, maxLength: 65536 }), kind: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })), overlapSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 31536000 })) },
        { additionalProperties: false, title: 'PutSecret' },
      ),
      response: { 200: SecretInfo, ...problems({ 400: 'bad name or value' }) },
    },
  }),
  deleteSecret: route({
    method: 'DELETE',
    url: '/v1/admin/secrets/:name',
    config: { auth: { kind: 'scope', scope: 'admin:write' } },
    schema: {
      operationId: 'deleteSecret',
      summary: 'Delete every version of a secret',
      tags: ['admin'],
      params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) }),
      response: { 204: Type.Null({ description: 'deleted' }), ...problems({ 404: 'no such secret' }) },
    },
  }),
  listAudit: route({
    method: 'GET',
    url: '/v1/audit',
    config: { auth: { kind: 'scope', scope: 'admin:read' } },
    schema: {
      operationId: 'listAudit',
      summary: 'The tenant\'s audit trail, newest first',
      tags: ['admin'],
      querystring: Type.Object(
        { action: Type.Optional(Type.String({ maxLength: 200 })), objectType: Type.Optional(Type.String({ maxLength: 100 })), objectId: Type.Optional(Type.String({ maxLength: 1024 })), ...Pagination },
        { additionalProperties: false },
      ),
      response: { 200: page(AuditEntry, 'AuditPage'), ...problems({}) },
    },
  }),
  verifyAudit: route({
    method: 'GET',
    url: '/v1/audit/verify',
    config: { auth: { kind: 'scope', scope: 'admin:read' } },
    schema: {
      operationId: 'verifyAudit',
      summary: 'Recompute the tenant\'s hash chain; names the first broken link',
      tags: ['admin'],
      response: {
        200: Type.Object({ intact: Type.Boolean(), entries: Type.Integer(), broken: Nullable(Type.Object({ seq: Type.Integer(), reason: Type.String() })) }, { title: 'AuditVerification' }),
        ...problems({}),
      },
    },
  }),
  listExceptions: route({
    method: 'GET',
    url: '/v1/exceptions',
    config: { auth: { kind: 'scope', scope: 'exceptions:read' } },
    schema: {
      operationId: 'listExceptions',
      summary: 'Business exceptions, newest first',
      tags: ['exceptions'],
      querystring: Type.Object({ status: Type.Optional(StringEnum(['open', 'resolved'] as const)), code: Type.Optional(Type.String({ maxLength: 200 })), key: Type.Optional(Type.String({ maxLength: 1024 })), ...Pagination }, { additionalProperties: false }),
      response: { 200: page(ExceptionView, 'ExceptionPage'), ...problems({}) },
    },
  }),
  resolveException: route({
    method: 'POST',
    url: '/v1/exceptions/:id/resolve',
    config: { auth: { kind: 'scope', scope: 'exceptions:write' } },
    schema: {
      operationId: 'resolveException',
      summary: 'Mark an exception resolved, with what was done',
      tags: ['exceptions'],
      params: Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) }),
      body: Type.Object({ resolution: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false, title: 'ResolveException' }),
      response: { 200: ExceptionView, ...problems({ 404: 'no such exception in the tenant', 409: 'already resolved' }) },
    },
  }),
  securityLog: route({
    method: 'GET',
    url: '/v1/admin/security-log',
    config: { auth: { kind: 'scope', scope: 'admin:read' } },
    schema: {
      operationId: 'securityLog',
      summary: 'Refused requests and other security events of the tenant, newest first',
      tags: ['admin'],
      querystring: Type.Object({ kind: Type.Optional(Type.String({ maxLength: 50 })), code: Type.Optional(Type.String({ maxLength: 200 })), ...Pagination }, { additionalProperties: false }),
      response: { 200: page(SecurityLogEntry, 'SecurityLogPage'), ...problems({}) },
    },
  }),
} as const;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function clientView(c: ClientInfo): Static<typeof Client> {
  return {
    id: c.id,
    tenant: c.tenantId,
    name: c.name,
    scopes: c.scopes,
    rateLimit: { perSecond: c.ratePerSecond, burst: c.burst },
    createdAt: c.createdAt.toISOString(),
    createdBy: c.createdBy,
    revokedAt: iso(c.revokedAt),
    credentials: c.credentials.map((x) => ({ id: x.id, hint: x.hint, createdAt: x.createdAt.toISOString(), expiresAt: iso(x.expiresAt), revokedAt: iso(x.revokedAt), lastUsedAt: iso(x.lastUsedAt) })),
  };
}

/** A client may grant only what it holds itself. */
function assertCanGrant(held: ReadonlySet<Scope>, wanted: readonly string[]): void {
  const missing = wanted.filter((s) => !held.has(s as Scope));
  if (missing.length) throw new ForbiddenError('auth.scope_escalation', `a client may grant only scopes it holds; missing ${missing.join(', ')}`, missing[0]);
}

/** RFC 6749 errors: problem+json carrying the `error` and `error_description` members OAuth2 clients read. */
function oauthError(error: string, description: string, status = 400): PermanentError {
  return new PermanentError({ code: `oauth.${error}`, message: description, status, extra: { error, error_description: description } });
}

function parseForm(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    if (k in out) throw oauthError('invalid_request', `parameter ${k} given more than once`);
    out[k] = v;
  }
  return out;
}


/**
 * A tenant's rows of `table`, newest first by the numeric `order` column, filtered by equality on
 * the given columns (undefined: no filter), keyset-paginated with an opaque cursor.
 */
async function tenantPage(
  db: Queryable,
  o: { table: string; order: string; tenantId: string; equals: Record<string, string | undefined>; limit: number; cursor: string | undefined },
): Promise<{ rows: Record<string, unknown>[]; nextCursor: string | null }> {
  const before = o.cursor === undefined ? undefined : decodeCursor(o.cursor, (v) => (isPositiveSafeInteger(v.b) ? v.b : undefined));
  const params: unknown[] = [o.tenantId];
  const w = ['tenant_id = $1'];
  for (const [column, value] of Object.entries(o.equals)) if (value) w.push(`${column} = $${params.push(value)}`);
  if (before) w.push(`${o.order} < $${params.push(before)}`);
  const r = await db.query(`select * from ${o.table} where ${w.join(' and ')} order by ${o.order} desc limit $${params.push(o.limit + 1)}`, params);
  const rows = r.rows.slice(0, o.limit);
  return { rows, nextCursor: r.rows.length > o.limit ? encodeCursor({ b: rows.at(-1)![o.order] }) : null };
}

export async function adminRoutes(app: FastifyInstance, opts: { ctx: ApiContext; auth: Authenticator; signingKeys: SigningKeys }): Promise<void> {
  const { ctx, auth, signingKeys } = opts;
  const pool = ctx.pool;

  // ------------------------------------------------------------------ OAuth2
  await app.register(async (oauth) => {
    oauth.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 8192 }, (_req, body, done) => {
      try {
        done(null, parseForm(body as string));
      } catch (e) {
        done(e as Error, undefined);
      }
    });
    oauth.route<{ Body: Record<string, unknown> }>({
      ...ADMIN_ROUTES.oauthToken,
      // RFC 6749 errors are answered by the handler (invalid_request etc.), not by schema validation
      validatorCompiler: () => () => true,
      handler: async (request, reply) => {
        reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
        const body = request.body && typeof request.body === 'object' && !Array.isArray(request.body) ? (request.body as Record<string, unknown>) : undefined;
        if (!body) throw oauthError('invalid_request', 'send grant_type=client_credentials as application/x-www-form-urlencoded');
        const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
        if (str('grant_type') !== 'client_credentials') {
          throw oauthError('unsupported_grant_type', `grant_type must be client_credentials (got ${JSON.stringify(body.grant_type ?? null)})`);
        }
        let clientId = str('client_id');
        let secret = str('client_secret');
        const basic = /^Basic ([A-Za-z0-9+/=]{1,2048})$/i.exec(request.headers.authorization ?? '');
        if (basic) {
          const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
          const i = decoded.indexOf(':');
          if (i < 0) throw oauthError('invalid_client', 'HTTP Basic credentials must be client_id:client_secret', 401);
          try {
            clientId = decodeURIComponent(decoded.slice(0, i).replace(/\+/g, ' '));
            secret = decodeURIComponent(decoded.slice(i + 1).replace(/\+/g, ' '));
          } catch {
            throw oauthError('invalid_client', 'HTTP Basic credentials are not URL-encoded properly', 401);
          }
        }
        if (!clientId || !secret) throw oauthError('invalid_client', 'client authentication is required (HTTP Basic, or client_id and client_secret)', 401);
        // brute-force guard: failed attempts per claimed client id and per address (10 at once, then 1 a second)
        const guards = [`oauth:id:${clientId.slice(0, 100)}`, `oauth:ip:${request.ip}`];
        for (const k of guards) {
          const r = auth.limiter.peek(k, 1, 10);
          if (!r.allowed) throw new RateLimitedError('too many failed token requests; slow down', r.retryAfterMs);
        }
        const found = await clientForToken(pool, secret);
        if (!found || found.client.id !== clientId) {
          for (const k of guards) auth.limiter.take(k, 1, 10);
          request.log.info({ clientId: clientId.slice(0, 100) }, 'token request refused');
          throw oauthError('invalid_client', 'unknown client or wrong secret', 401);
        }
        const requested = str('scope')?.split(' ').filter(Boolean);
        let scopes: string[] = found.client.scopes;
        if (requested?.length) {
          const bad = requested.filter((s) => !isScope(s) || !found.client.scopes.includes(s as Scope));
          if (bad.length) throw oauthError('invalid_scope', `not granted to this client: ${bad.join(', ')}`);
          scopes = requested;
        }
        const { token, claims } = await signingKeys.issue({ clientId: found.client.id, tenantId: found.client.tenantId, scopes, jti: randomUUID() });
        return { access_token: token, token_type: 'Bearer' as const, expires_in: claims.exp - claims.iat, scope: claims.scope };
      },
    });
  });

  app.route({ ...ADMIN_ROUTES.jwks, handler: async (_request, reply) => {
    reply.header('Cache-Control', 'public, max-age=300');
    return signingKeys.jwks();
  } });

  // ------------------------------------------------------------------ clients
  const clientOf = async (tenantId: string, id: string) => {
    const c = await findClient(pool, id, tenantId);
    if (!c) throw notFound('client.not_found', `no client ${JSON.stringify(id)} in this tenant`);
    return c;
  };

  app.route({ ...ADMIN_ROUTES.listClients, handler: async (request) => ({ items: (await listClients(pool, principalOf(request).tenantId)).map(clientView) }) });

  app.route<{ Body: { name: string; scopes: string[]; rateLimit?: { perSecond?: number; burst?: number } } }>({
    ...ADMIN_ROUTES.createClient,
    handler: async (request, reply) => {
      const p = principalOf(request);
      assertCanGrant(p.scopes, request.body.scopes);
      const { client, token } = await createClient(pool, {
        tenantId: p.tenantId, name: request.body.name, scopes: request.body.scopes, actor: p.actor,
        ...(request.body.rateLimit?.perSecond ? { ratePerSecond: request.body.rateLimit.perSecond } : {}),
        ...(request.body.rateLimit?.burst ? { burst: request.body.rateLimit.burst } : {}),
      });
      request.log.info({ client: client.id, scopes: client.scopes }, 'client created');
      reply.code(201).header('Cache-Control', 'no-store');
      return { client: clientView(client), token };
    },
  });

  app.route<{ Params: { id: string } }>({ ...ADMIN_ROUTES.getClient, handler: async (request) => clientView(await clientOf(principalOf(request).tenantId, request.params.id)) });

  app.route<{ Params: { id: string }; Body: { scopes?: string[]; rateLimit?: { perSecond?: number | null; burst?: number | null } } }>({
    ...ADMIN_ROUTES.updateClient,
    handler: async (request) => {
      const p = principalOf(request);
      const c = await clientOf(p.tenantId, request.params.id);
      if (request.body.scopes) assertCanGrant(p.scopes, request.body.scopes);
      const updated = await updateClient(pool, {
        client: c.id, tenantId: p.tenantId, actor: p.actor,
        ...(request.body.scopes ? { scopes: request.body.scopes } : {}),
        ...(request.body.rateLimit && 'perSecond' in request.body.rateLimit ? { ratePerSecond: request.body.rateLimit.perSecond ?? null } : {}),
        ...(request.body.rateLimit && 'burst' in request.body.rateLimit ? { burst: request.body.rateLimit.burst ?? null } : {}),
      });
      auth.invalidate();
      return clientView(updated);
    },
  });

  app.route<{ Params: { id: string }; Body: { overlapSeconds?: number } | undefined }>({
    ...ADMIN_ROUTES.rotateClient,
    handler: async (request, reply) => {
      const p = principalOf(request);
      const c = await clientOf(p.tenantId, request.params.id);
      const r = await rotateClientToken(pool, { client: c.id, tenantId: p.tenantId, actor: p.actor, overlapSeconds: request.body?.overlapSeconds ?? ctx.config.security.credentialOverlapSeconds });
      auth.invalidate();
      reply.header('Cache-Control', 'no-store');
      return { client: clientView(r.client), token: r.token, previousValidUntil: iso(r.previousValidUntil) };
    },
  });

  app.route<{ Params: { id: string } }>({
    ...ADMIN_ROUTES.revokeClient,
    handler: async (request) => {
      const p = principalOf(request);
      const c = await clientOf(p.tenantId, request.params.id);
      const r = await revokeClient(pool, { client: c.id, tenantId: p.tenantId, actor: p.actor });
      auth.invalidate();
      request.log.info({ client: c.id }, 'client revoked');
      return clientView(r);
    },
  });

  // ------------------------------------------------------------------ secrets
  const secretView = (s: Awaited<ReturnType<typeof listSecrets>>[number]) => ({
    name: s.name,
    kind: s.kind,
    versions: s.versions.map((v) => ({ version: v.version, createdAt: v.createdAt.toISOString(), createdBy: v.createdBy, expiresAt: iso(v.expiresAt), masterKey: v.masterKey })),
  });

  app.route({ ...ADMIN_ROUTES.listSecrets, handler: async (request) => ({ items: (await listSecrets(pool, principalOf(request).tenantId)).map(secretView) }) });

  app.route<{ Params: { name: string }; Body: { value: string; kind?: string; overlapSeconds?: number } }>({
    ...ADMIN_ROUTES.putSecret,
    handler: async (request) => {
      const p = principalOf(request);
      await putSecret(pool, ctx.keyring, {
        tenantId: p.tenantId, name: request.params.name, value: request.body.value, actor: p.actor,
        overlapSeconds: request.body.overlapSeconds ?? ctx.config.security.credentialOverlapSeconds, ...(request.body.kind ? { kind: request.body.kind } : {}),
      });
      const s = (await listSecrets(pool, p.tenantId)).find((x) => x.name === request.params.name)!;
      return secretView(s);
    },
  });

  app.route<{ Params: { name: string } }>({
    ...ADMIN_ROUTES.deleteSecret,
    handler: async (request, reply) => {
      const p = principalOf(request);
      await deleteSecret(pool, p.tenantId, request.params.name, p.actor);
      return reply.code(204).send();
    },
  });

  // ------------------------------------------------------------------ audit
  app.route<{ Querystring: { action?: string; objectType?: string; objectId?: string; limit: number; cursor?: string } }>({
    ...ADMIN_ROUTES.listAudit,
    handler: async (request) => {
      const q = request.query;
      const page = await tenantPage(pool, { table: 'hub_audit', order: 'seq', tenantId: principalOf(request).tenantId, equals: { action: q.action, object_type: q.objectType, object_id: q.objectId }, limit: q.limit, cursor: q.cursor });
      return {
        items: page.rows.map(rowToAudit).map((e) => ({ seq: e.seq, at: e.at.toISOString(), actor: e.actor, action: e.action, objectType: e.objectType, objectId: e.objectId, beforeDigest: e.beforeDigest, afterDigest: e.afterDigest, details: e.details, prevHash: e.prevHash, hash: e.hash })),
        nextCursor: page.nextCursor,
      };
    },
  });

  app.route({
    ...ADMIN_ROUTES.verifyAudit,
    handler: async (request) => {
      const r = await verifyAudit(pool, { tenantId: principalOf(request).tenantId });
      return { intact: !r.broken, entries: r.tenants[0]?.entries ?? 0, broken: r.broken ? { seq: r.broken.seq, reason: r.broken.reason } : null };
    },
  });

  // ------------------------------------------------------------------ exceptions
  const exceptionView = (x: Record<string, unknown>) => ({
    id: x.id as number, key: x.key as string, eventSeq: (x.event_seq as number | null) ?? null, code: x.code as string, severity: x.severity as string, message: x.message as string,
    status: x.status as string, details: x.details, createdAt: (x.created_at as Date).toISOString(), resolvedAt: iso((x.resolved_at as Date | null) ?? null),
    resolvedBy: (x.resolved_by as string | null) ?? null, resolution: (x.resolution as string | null) ?? null,
  });

  app.route<{ Querystring: { status?: string; code?: string; key?: string; limit: number; cursor?: string } }>({
    ...ADMIN_ROUTES.listExceptions,
    handler: async (request) => {
      const q = request.query;
      const page = await tenantPage(pool, { table: 'hub_exceptions', order: 'id', tenantId: principalOf(request).tenantId, equals: { status: q.status, code: q.code, key: q.key }, limit: q.limit, cursor: q.cursor });
      return { items: page.rows.map(exceptionView), nextCursor: page.nextCursor };
    },
  });

  app.route<{ Params: { id: number }; Body: { resolution: string } }>({
    ...ADMIN_ROUTES.resolveException,
    handler: async (request) => {
      const p = principalOf(request);
      return withTx(pool, async (c) => {
        const cur = await c.query(`select * from hub_exceptions where id = $1 and tenant_id = $2 for update`, [request.params.id, p.tenantId]);
        const x = cur.rows[0];
        if (!x) throw notFound('exception.not_found', `no exception ${request.params.id} in this tenant`);
        if (x.status === 'resolved') throw new ValidationError('exception.already_resolved', `exception ${x.id} was resolved at ${(x.resolved_at as Date).toISOString()} by ${x.resolved_by ?? 'unknown'}`, [], { status: 409 });
        const u = await c.query(`update hub_exceptions set status = 'resolved', resolved_at = now(), resolved_by = $2, resolution = $3, updated_at = now() where id = $1 returning *`, [x.id, p.actor, request.body.resolution]);
        await addNote(c, { tenantId: p.tenantId, actor: p.actor }, x.id, 'resolved', request.body.resolution);
        await appendAudit(c, {
          tenantId: p.tenantId, actor: p.actor, action: 'exception.resolved', objectType: 'exception', objectId: String(x.id),
          before: { status: x.status }, after: { status: 'resolved', resolution: request.body.resolution }, details: { code: x.code, key: x.key },
        });
        return exceptionView(u.rows[0]);
      });
    },
  });

  // ------------------------------------------------------------------ security log
  app.route<{ Querystring: { kind?: string; code?: string; limit: number; cursor?: string } }>({
    ...ADMIN_ROUTES.securityLog,
    handler: async (request) => {
      const q = request.query;
      const page = await tenantPage(pool, { table: 'hub_security_log', order: 'id', tenantId: principalOf(request).tenantId, equals: { kind: q.kind, code: q.code }, limit: q.limit, cursor: q.cursor });
      return {
        items: page.rows.map((x) => ({ id: x.id, at: (x.at as Date).toISOString(), kind: x.kind, code: x.code, partner: x.partner ?? null, clientId: x.client_id ?? null, remoteIp: x.remote_ip ?? null, detail: x.detail })),
        nextCursor: page.nextCursor,
      };
    },
  });
}
