/**
 * Authentication, authorization and rate limiting of the API, in one onRequest hook that
 * runs before anything else reads the request:
 *
 * 1. The route's `config.auth` says what it demands (principal.ts). Public and
 *    signature-authenticated routes pass through.
 * 2. `Authorization: Bearer <credential>`: an opaque client token (olh_...) or an OAuth2
 *    access token (JWT). Without that header, the console's session cookie (olh_session) of
 *    a signed-in user; a request that changes anything must then carry the session's CSRF
 *    token in X-CSRF-Token, and an Origin header, when sent, must be the hub's own
 *    (403 auth.csrf). Verified tokens are cached per process for
 *    security.tokenCacheSeconds; revocation through this process clears the cache at once.
 *    No credential: 401 auth.missing_credential; a bad one: 401 auth.invalid_credential,
 *    both with WWW-Authenticate.
 * 3. The client's token bucket: over the rate, 429 rate_limited with Retry-After; every
 *    answer carries RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers).
 * 4. Scope routes: the scope, else 403 auth.missing_scope naming it. Domain routes check
 *    the domain scopes of the data in the handler.
 *
 * Refusals are written to the security log (rate-limited refusals are counted, not logged).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { ForbiddenError, UnauthenticatedError, RateLimitedError } from '../domain/errors.ts';
import { isScope, type Scope } from '../domain/scopes.ts';
import type { Clock } from '../platform/clock.ts';
import type { Logger } from '../platform/logger.ts';
import { clientForToken, liveClient, looksLikeToken, tokenHash } from '../security/clients.ts';
import type { SigningKeys } from '../security/jwt.ts';
import { SESSION_COOKIE, sessionFor, type SessionInfo } from '../security/users.ts';
import { requireScope, type Principal, type RouteAuth } from './principal.ts';

// ----------------------------------------------------------------------------- rate limits

interface Bucket {
  tokens: number;
  at: number;
  rate: number;
  burst: number;
}

/** Token buckets per client, in this process. */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Takes one token; returns what is left and, when none was left, how long to wait. */
  take(id: string, rate: number, burst: number): { allowed: boolean; remaining: number; retryAfterMs: number; fullInMs: number } {
    const now = this.#now();
    let b = this.#buckets.get(id);
    if (!b || b.rate !== rate || b.burst !== burst) {
      b = { tokens: burst, at: now, rate, burst };
      this.#buckets.set(id, b);
      if (this.#buckets.size > 100_000) this.#prune(now);
    }
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    const allowed = b.tokens >= 1;
    if (allowed) b.tokens -= 1;
    return {
      allowed,
      remaining: Math.floor(b.tokens),
      retryAfterMs: allowed ? 0 : Math.ceil(((1 - b.tokens) / rate) * 1000),
      fullInMs: Math.ceil(((burst - b.tokens) / rate) * 1000),
    };
  }

  /** Whether a token is available, without taking it (guards that count failures only). */
  peek(id: string, rate: number, burst: number): { allowed: boolean; retryAfterMs: number } {
    const b = this.#buckets.get(id);
    if (!b) return { allowed: true, retryAfterMs: 0 };
    const tokens = Math.min(burst, b.tokens + ((this.#now() - b.at) / 1000) * rate);
    return { allowed: tokens >= 1, retryAfterMs: tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / rate) * 1000) };
  }

  #prune(now: number): void {
    for (const [k, b] of this.#buckets) if (b.tokens + ((now - b.at) / 1000) * b.rate >= b.burst) this.#buckets.delete(k);
  }
}

// ----------------------------------------------------------------------------- authentication

export interface AuthOptions {
  pool: pg.Pool;
  clock: Clock;
  log: Logger;
  signingKeys: SigningKeys;
  tokenCacheSeconds: number;
  rateLimit: { perSecond: number; burst: number };
  /** console sessions: an unused one ends after this long */
  sessionIdleSeconds?: number;
  securityLog?: (e: { kind: string; code: string; tenantId?: string; clientId?: string; remoteIp?: string; detail: string; correlationId?: string }) => Promise<void>;
}

interface Cached {
  principal: Principal;
  rate: number;
  burst: number;
  until: number;
}

const WWW_AUTHENTICATE = 'Bearer realm="odoo-logistics-hub"';

export class Authenticator {
  readonly #o: AuthOptions;
  readonly #cache = new Map<string, Cached>();
  readonly limiter: RateLimiter;

  constructor(o: AuthOptions) {
    this.#o = o;
    this.limiter = new RateLimiter();
  }

  /** Forgets every cached credential (after a revocation or rotation through this process). */
  invalidate(): void {
    this.#cache.clear();
  }

  #principalOf(c: { id: string; name: string; tenantId: string; scopes: readonly string[] }, via: Principal['via'], scopes?: readonly string[]): Principal {
    const granted = new Set(c.scopes.filter(isScope));
    const effective = scopes ? scopes.filter((s): s is Scope => isScope(s) && granted.has(s)) : [...granted];
    return { clientId: c.id, clientName: c.name, tenantId: c.tenantId, scopes: new Set(effective), via, actor: `client:${c.id}` };
  }

  /** The session of the request's console cookie, or undefined. */
  async session(request: FastifyRequest): Promise<SessionInfo | undefined> {
    const value = cookieValue(request.headers.cookie, SESSION_COOKIE);
    if (!value) return undefined;
    return sessionFor(this.#o.pool, value, this.#o.clock.now(), this.#o.sessionIdleSeconds ?? 1800);
  }

  /** The principal of a console session, after its CSRF check; throws 401 / 403. */
  async #sessionPrincipal(request: FastifyRequest): Promise<{ principal: Principal; rate: number; burst: number }> {
    const s = await this.session(request);
    if (!s) throw new UnauthenticatedError('auth.session_expired', 'the console session has ended (signed out, expired or unknown): sign in again');
    if (!SAFE_METHODS.has(request.method)) {
      const sent = request.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !safeEqual(sent, s.csrfToken)) throw new ForbiddenError('auth.csrf', 'a change from the console must carry the session\'s X-CSRF-Token header');
      const origin = request.headers.origin;
      if (origin !== undefined && origin !== 'null' && !sameOrigin(origin, request.headers.host)) throw new ForbiddenError('auth.csrf', `a change from the console must come from the hub's own origin, not ${origin}`);
    }
    const u = s.user;
    return {
      principal: { clientId: u.id, clientName: u.username, tenantId: u.tenantId, scopes: new Set(u.scopes.filter(isScope)), via: 'session', actor: `user:${u.id}` },
      rate: this.#o.rateLimit.perSecond,
      burst: this.#o.rateLimit.burst,
    };
  }

  /** The principal of an Authorization header; throws 401 when there is none or it is not valid. */
  async authenticate(header: string | undefined): Promise<{ principal: Principal; rate: number; burst: number }> {
    if (header === undefined || header.trim() === '') throw new UnauthenticatedError('auth.missing_credential', 'this endpoint needs a credential: Authorization: Bearer <token>');
    const m = /^Bearer[ ]+([\x21-\x7e]{1,4096})[ ]*$/i.exec(header);
    if (!m) throw new UnauthenticatedError('auth.invalid_credential', 'the Authorization header must be "Bearer <token>"');
    const credential = m[1]!;
    const cacheKey = tokenHash(credential).toString('base64');
    const now = Date.now();
    const hit = this.#cache.get(cacheKey);
    if (hit && hit.until > now) return hit;
    if (hit) this.#cache.delete(cacheKey);
    const { perSecond, burst } = this.#o.rateLimit;
    let entry: Cached;
    if (looksLikeToken(credential)) {
      const found = await clientForToken(this.#o.pool, credential);
      if (!found) throw new UnauthenticatedError('auth.invalid_credential', 'the token is unknown, expired or revoked');
      const ttl = this.#o.tokenCacheSeconds * 1000;
      const until = Math.min(now + ttl, found.expiresAt ? found.expiresAt.getTime() : Infinity);
      entry = { principal: this.#principalOf(found.client, 'token'), rate: found.client.ratePerSecond ?? perSecond, burst: found.client.burst ?? burst, until };
    } else {
      const v = await this.#o.signingKeys.verify(credential);
      if (!v.ok) throw new UnauthenticatedError('auth.invalid_credential', `the access token is not valid: ${v.reason}`);
      const client = await liveClient(this.#o.pool, v.claims.sub);
      if (!client || client.tenantId !== v.claims.tenant) throw new UnauthenticatedError('auth.invalid_credential', 'the access token\'s client is revoked');
      const until = Math.min(now + this.#o.tokenCacheSeconds * 1000, v.claims.exp * 1000);
      entry = { principal: this.#principalOf(client, 'jwt', v.claims.scope.split(' ')), rate: client.ratePerSecond ?? perSecond, burst: client.burst ?? burst, until };
    }
    if (this.#o.tokenCacheSeconds > 0) {
      if (this.#cache.size > 10_000) this.#cache.clear();
      this.#cache.set(cacheKey, entry);
    }
    return entry;
  }

  /** The onRequest hook enforcing each route's `config.auth`. */
  hook() {
    return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const auth = (request.routeOptions.config as { auth?: RouteAuth } | undefined)?.auth;
      if (!auth || auth.kind === 'public' || auth.kind === 'signature') return;
      let found: { principal: Principal; rate: number; burst: number };
      try {
        const header = request.headers.authorization;
        found = (header === undefined || header === '') && cookieValue(request.headers.cookie, SESSION_COOKIE) ? await this.#sessionPrincipal(request) : await this.authenticate(header);
      } catch (e) {
        if (e instanceof ForbiddenError) await this.#securityLog(request, e.code, e.message);
        if (e instanceof UnauthenticatedError) {
          reply.header('WWW-Authenticate', e.code === 'auth.missing_credential' ? WWW_AUTHENTICATE : `${WWW_AUTHENTICATE}, error="invalid_token"`);
          await this.#securityLog(request, e.code, e.message);
        }
        throw e;
      }
      const p = found.principal;
      request.principal = p;
      const r = this.limiter.take(p.clientId, found.rate, found.burst);
      reply.header('RateLimit-Policy', `"client";q=${found.burst};w=${Math.max(1, Math.ceil(found.burst / found.rate))}`);
      reply.header('RateLimit', `"client";r=${r.remaining};t=${Math.ceil((r.allowed ? r.fullInMs : r.retryAfterMs) / 1000)}`);
      if (!r.allowed) throw new RateLimitedError(`client ${p.clientName} is over its rate of ${found.rate} requests per second (burst ${found.burst})`, r.retryAfterMs);
      if (auth.kind === 'scope') {
        try {
          requireScope(p, auth.scope);
        } catch (e) {
          await this.#securityLog(request, 'auth.missing_scope', `client ${p.clientName} (${p.clientId}) lacks ${auth.scope} for ${request.method} ${request.routeOptions.url}`);
          throw e;
        }
      }
    };
  }

  async #securityLog(request: FastifyRequest, code: string, detail: string): Promise<void> {
    if (!this.#o.securityLog) return;
    await this.#o
      .securityLog({
        kind: 'auth',
        code,
        detail: `${request.method} ${request.url.split('?')[0]}: ${detail}`,
        remoteIp: request.ip,
        correlationId: request.correlationId,
        ...(request.principal ? { clientId: request.principal.clientId, tenantId: request.principal.tenantId } : {}),
      })
      .catch((err) => this.#o.log.warn({ err }, 'could not write the security log'));
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** One cookie's value from a Cookie header (RFC 6265 syntax), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether an Origin header names the host the request was sent to (its Host header). */
export function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** Registers the hook on the app; routes registered after inherit it. */
export function installAuth(app: FastifyInstance, auth: Authenticator): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', auth.hook());
}
