/**
 * API clients: who may call the hub, for which tenant, with which scopes. A client holds
 * opaque bearer tokens (`olh_` + 256 random bits), stored only as SHA-256 hashes; the same
 * token is the client secret of the OAuth2 client-credentials grant. Rotating issues a new
 * token and keeps the previous one valid for an overlap; revoking ends every credential
 * at once. Every change is audited.
 */
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import { parseScopes, type Scope } from '../domain/scopes.ts';
import { withTx, type Queryable } from '../platform/db.ts';
import { appendAudit } from './audit.ts';

export const TOKEN_PREFIX = 'olh_';
const TOKEN_SHAPE = /^olh_[A-Za-z0-9_-]{43}$/;
const CLIENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const TENANT_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export interface CredentialInfo {
  id: number;
  hint: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface ClientInfo {
  id: string;
  tenantId: string;
  name: string;
  scopes: Scope[];
  ratePerSecond: number | null;
  burst: number | null;
  createdAt: Date;
  createdBy: string;
  revokedAt: Date | null;
  revokedBy: string | null;
  credentials: CredentialInfo[];
}

export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function looksLikeToken(s: string): boolean {
  return TOKEN_SHAPE.test(s);
}

const hintOf = (token: string) => token.slice(0, TOKEN_PREFIX.length + 6) + '…';

function rowToClient(r: Record<string, unknown>, creds: CredentialInfo[]): ClientInfo {
  return {
    id: r.id as string,
    tenantId: r.tenant_id as string,
    name: r.name as string,
    scopes: r.scopes as Scope[],
    ratePerSecond: (r.rate_per_second as number | null) ?? null,
    burst: (r.rate_burst as number | null) ?? null,
    createdAt: r.created_at as Date,
    createdBy: r.created_by as string,
    revokedAt: (r.revoked_at as Date | null) ?? null,
    revokedBy: (r.revoked_by as string | null) ?? null,
    credentials: creds,
  };
}

async function credentialsOf(db: Queryable, ids: string[]): Promise<Map<string, CredentialInfo[]>> {
  const out = new Map<string, CredentialInfo[]>(ids.map((id) => [id, []]));
  if (!ids.length) return out;
  const r = await db.query(`select * from hub_client_credentials where client_id = any($1::text[]) order by id desc`, [ids]);
  for (const c of r.rows) {
    out.get(c.client_id)!.push({ id: c.id, hint: c.hint, createdAt: c.created_at, expiresAt: c.expires_at ?? null, revokedAt: c.revoked_at ?? null, lastUsedAt: c.last_used_at ?? null });
  }
  return out;
}

function validateRate(ratePerSecond: number | undefined, burst: number | undefined): void {
  for (const [k, v] of [['ratePerSecond', ratePerSecond], ['burst', burst]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > 1_000_000)) throw new ValidationError('client.bad_rate', `${k} must be a whole number from 1 to 1000000`, [{ path: `/${k}`, message: 'out of range' }]);
  }
}

export interface CreateClient {
  tenantId: string;
  name: string;
  scopes: readonly string[];
  actor: string;
  ratePerSecond?: number;
  burst?: number;
}

/** Creates a client and its first token; the token is returned here and never again. */
export async function createClient(pool: pg.Pool, p: CreateClient): Promise<{ client: ClientInfo; token: string }> {
  if (!CLIENT_NAME.test(p.name)) {
    throw new ValidationError('client.bad_name', `client name ${JSON.stringify(p.name)}: letters, digits and . _ - only, at most 64, starting with a letter or digit`, [{ path: '/name', message: 'invalid' }]);
  }
  const scopes = parseScopes(p.scopes);
  validateRate(p.ratePerSecond, p.burst);
  const id = 'cl_' + randomBytes(9).toString('base64url');
  const token = newToken();
  return withTx(pool, async (tx) => {
    const t = await tx.query(`select 1 from hub_tenants where id = $1`, [p.tenantId]);
    if (!t.rowCount) throw new NotFoundError('tenant', p.tenantId);
    const ins = await tx.query(
      `insert into hub_clients (id, tenant_id, name, scopes, rate_per_second, rate_burst, created_by) values ($1, $2, $3, $4, $5, $6, $7)
       on conflict (tenant_id, name) do nothing returning *`,
      [id, p.tenantId, p.name, scopes, p.ratePerSecond ?? null, p.burst ?? null, p.actor],
    );
    if (!ins.rowCount) {
      throw new ValidationError('client.name_taken', `tenant ${p.tenantId} already has a client named ${p.name}`, [{ path: '/name', message: 'taken' }], { status: 409 });
    }
    await tx.query(`insert into hub_client_credentials (client_id, hash, hint) values ($1, $2, $3)`, [id, tokenHash(token), hintOf(token)]);
    await appendAudit(tx, { tenantId: p.tenantId, actor: p.actor, action: 'client.created', objectType: 'client', objectId: id, after: { name: p.name, scopes, ratePerSecond: p.ratePerSecond ?? null, burst: p.burst ?? null }, details: { name: p.name, scopes } });
    const creds = await credentialsOf(tx, [id]);
    return { client: rowToClient(ins.rows[0], creds.get(id)!), token };
  });
}

export async function listClients(db: Queryable, tenantId?: string, includeRevoked = true): Promise<ClientInfo[]> {
  const w: string[] = [];
  const params: unknown[] = [];
  if (tenantId) w.push(`tenant_id = $${params.push(tenantId)}`);
  if (!includeRevoked) w.push('revoked_at is null');
  const r = await db.query(`select * from hub_clients ${w.length ? 'where ' + w.join(' and ') : ''} order by tenant_id, name`, params);
  const creds = await credentialsOf(db, r.rows.map((x) => x.id));
  return r.rows.map((x) => rowToClient(x, creds.get(x.id)!));
}

/** A client by id or by name (within the tenant when given); undefined when there is none. */
export async function findClient(db: Queryable, idOrName: string, tenantId?: string): Promise<ClientInfo | undefined> {
  const r = await db.query(
    `select * from hub_clients where (id = $1 or name = $1) ${tenantId ? 'and tenant_id = $2' : ''} order by (id = $1) desc, tenant_id limit 2`,
    tenantId ? [idOrName, tenantId] : [idOrName],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  if (r.rows.length > 1 && row.id !== idOrName) {
    throw new ValidationError('client.ambiguous', `several tenants have a client named ${idOrName}: give its id or the tenant`, [{ path: '/client', message: 'ambiguous' }]);
  }
  const creds = await credentialsOf(db, [row.id]);
  return rowToClient(row, creds.get(row.id)!);
}

async function requireClient(db: Queryable, idOrName: string, tenantId?: string): Promise<ClientInfo> {
  const c = await findClient(db, idOrName, tenantId);
  if (!c) throw new NotFoundError('client', idOrName);
  return c;
}

/**
 * Issues a new token; the client's current tokens stay valid for `overlapSeconds`
 * (0: they end now). Returns the new token once.
 */
export async function rotateClientToken(pool: pg.Pool, p: { client: string; tenantId?: string; actor: string; overlapSeconds: number }): Promise<{ client: ClientInfo; token: string; previousValidUntil: Date | null }> {
  const token = newToken();
  return withTx(pool, async (tx) => {
    const c = await requireClient(tx, p.client, p.tenantId);
    if (c.revokedAt) throw new ValidationError('client.revoked', `client ${c.name} is revoked; create a new one`, [], { status: 409 });
    await tx.query(`select 1 from hub_clients where id = $1 for update`, [c.id]);
    const ended = await tx.query<{ until: Date }>(
      `update hub_client_credentials set expires_at = now() + $2 * interval '1 second'
        where client_id = $1 and revoked_at is null and (expires_at is null or expires_at > now() + $2 * interval '1 second')
        returning expires_at as until`,
      [c.id, p.overlapSeconds],
    );
    await tx.query(`insert into hub_client_credentials (client_id, hash, hint) values ($1, $2, $3)`, [c.id, tokenHash(token), hintOf(token)]);
    const until = ended.rows[0]?.until ?? null;
    await appendAudit(tx, { tenantId: c.tenantId, actor: p.actor, action: 'client.rotated', objectType: 'client', objectId: c.id, details: { name: c.name, previousValidUntil: until?.toISOString() ?? null } });
    return { client: (await findClient(tx, c.id))!, token, previousValidUntil: until };
  });
}

/** Revokes a client and all its credentials at once. */
export async function revokeClient(pool: pg.Pool, p: { client: string; tenantId?: string; actor: string }): Promise<ClientInfo> {
  return withTx(pool, async (tx) => {
    const c = await requireClient(tx, p.client, p.tenantId);
    if (c.revokedAt) return c;
    await tx.query(`update hub_clients set revoked_at = now(), revoked_by = $2 where id = $1`, [c.id, p.actor]);
    await tx.query(`update hub_client_credentials set revoked_at = now() where client_id = $1 and revoked_at is null`, [c.id]);
    await appendAudit(tx, { tenantId: c.tenantId, actor: p.actor, action: 'client.revoked', objectType: 'client', objectId: c.id, before: { revoked: false }, after: { revoked: true }, details: { name: c.name } });
    return (await findClient(tx, c.id))!;
  });
}

/** Changes a client's scopes or rate limit. */
export async function updateClient(pool: pg.Pool, p: { client: string; tenantId?: string; actor: string; scopes?: readonly string[]; ratePerSecond?: number | null; burst?: number | null }): Promise<ClientInfo> {
  const scopes = p.scopes ? parseScopes(p.scopes) : undefined;
  validateRate(p.ratePerSecond ?? undefined, p.burst ?? undefined);
  return withTx(pool, async (tx) => {
    const c = await requireClient(tx, p.client, p.tenantId);
    const next = {
      scopes: scopes ?? c.scopes,
      ratePerSecond: p.ratePerSecond === undefined ? c.ratePerSecond : p.ratePerSecond,
      burst: p.burst === undefined ? c.burst : p.burst,
    };
    await tx.query(`update hub_clients set scopes = $2, rate_per_second = $3, rate_burst = $4 where id = $1`, [c.id, next.scopes, next.ratePerSecond, next.burst]);
    await appendAudit(tx, {
      tenantId: c.tenantId, actor: p.actor, action: 'client.updated', objectType: 'client', objectId: c.id,
      before: { scopes: c.scopes, ratePerSecond: c.ratePerSecond, burst: c.burst }, after: next, details: { name: c.name, scopes: next.scopes },
    });
    return (await findClient(tx, c.id))!;
  });
}

/** The live client a token belongs to, or undefined (unknown, expired or revoked). */
export async function clientForToken(db: Queryable, token: string): Promise<{ client: ClientInfo; credentialId: number; expiresAt: Date | null } | undefined> {
  if (!looksLikeToken(token)) return undefined;
  const r = await db.query(
    `update hub_client_credentials cr set last_used_at = now()
       from hub_clients c
      where cr.hash = $1 and c.id = cr.client_id and cr.revoked_at is null and c.revoked_at is null
        and (cr.expires_at is null or cr.expires_at > now())
      returning c.*, cr.id as credential_id, cr.expires_at as credential_expires_at`,
    [tokenHash(token)],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  return { client: rowToClient(row, []), credentialId: row.credential_id, expiresAt: row.credential_expires_at ?? null };
}

/** A live client by id (for JWTs: the token is valid only while its client is). */
export async function liveClient(db: Queryable, id: string): Promise<ClientInfo | undefined> {
  const r = await db.query(`select * from hub_clients where id = $1 and revoked_at is null`, [id]);
  return r.rows[0] ? rowToClient(r.rows[0], []) : undefined;
}

export interface TenantInfo {
  id: string;
  name: string;
  odooCompanyId: number | null;
  createdAt: Date;
}

export async function addTenant(pool: pg.Pool, p: { id: string; name: string; odooCompanyId?: number; actor: string }): Promise<TenantInfo> {
  if (!TENANT_ID.test(p.id)) throw new ValidationError('tenant.bad_id', `tenant id ${JSON.stringify(p.id)}: lower-case letters, digits, _ and -, at most 63`, [{ path: '/id', message: 'invalid' }]);
  return withTx(pool, async (tx) => {
    const r = await tx.query(`insert into hub_tenants (id, name, odoo_company_id) values ($1, $2, $3) on conflict (id) do nothing returning *`, [p.id, p.name, p.odooCompanyId ?? null]);
    if (!r.rowCount) throw new ValidationError('tenant.exists', `tenant ${p.id} exists already`, [{ path: '/id', message: 'taken' }], { status: 409 });
    await appendAudit(tx, { tenantId: p.id, actor: p.actor, action: 'tenant.created', objectType: 'tenant', objectId: p.id, after: { name: p.name, odooCompanyId: p.odooCompanyId ?? null } });
    return { id: r.rows[0].id, name: r.rows[0].name, odooCompanyId: r.rows[0].odoo_company_id, createdAt: r.rows[0].created_at };
  });
}

export async function listTenants(db: Queryable): Promise<TenantInfo[]> {
  const r = await db.query(`select * from hub_tenants order by id`);
  return r.rows.map((t) => ({ id: t.id, name: t.name, odooCompanyId: t.odoo_company_id, createdAt: t.created_at }));
}
