/**
 * Who is calling, and what a route demands. Every route declares its `auth` in
 * `config` (see schemas.ts); the hook in auth.ts authenticates the request, checks the
 * demand, and leaves the principal on `request.principal` for the handler.
 */
import type { FastifyRequest } from 'fastify';
import { ForbiddenError } from '../domain/errors.ts';
import type { Scope } from '../domain/scopes.ts';

export type RouteAuth =
  /** anyone: liveness, readiness, metrics, OpenAPI, JWKS, the OAuth2 token endpoint */
  | { kind: 'public' }
  /** an API client holding this scope */
  | { kind: 'scope'; scope: Scope }
  /** an API client; the domain of the data involved (each event's type) decides: <domain>:read or :write, checked by the handler */
  | { kind: 'domain'; access: 'read' | 'write' }
  /** a partner: the webhook signature is the credential (routes/webhooks.ts verifies it) */
  | { kind: 'signature' };

export interface Principal {
  clientId: string;
  clientName: string;
  tenantId: string;
  scopes: ReadonlySet<Scope>;
  /** opaque bearer token, OAuth2 access token (JWT), or a console user's session cookie */
  via: 'token' | 'jwt' | 'session';
  /** who the audit trail names: client:<id> or user:<id> */
  actor: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** the authenticated API client (routes with auth kind scope or domain) */
    principal: Principal | undefined;
  }
}

/** The caller's principal; only for routes that require one (never undefined there). */
export function principalOf(request: FastifyRequest): Principal {
  const p = request.principal;
  if (!p) throw new Error(`route ${request.routeOptions.url} reached its handler without a principal`);
  return p;
}

export function hasScope(p: Principal, scope: Scope): boolean {
  return p.scopes.has(scope);
}

/** Throws 403 naming the missing scope. */
export function requireScope(p: Principal, scope: Scope): void {
  if (!p.scopes.has(scope)) throw new ForbiddenError('auth.missing_scope', `client ${p.clientName} lacks the scope ${scope}`, scope);
}

export function canSeePii(p: Principal | undefined): boolean {
  return p?.scopes.has('pii:read') ?? false;
}
