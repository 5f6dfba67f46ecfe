/**
 * Named secrets (partner API keys, webhook signing secrets, Odoo credentials), stored
 * sealed (keyring.ts) in hub_secrets, one row per version. Setting a secret again adds a
 * version; older versions stay valid for an overlap so a partner can switch over, then
 * expire. Values are returned only to the code that uses them (`activeSecretValues`),
 * never by a list, an API response or a log line.
 */
import type pg from 'pg';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import { withTx, type Queryable } from '../platform/db.ts';
import { appendAudit } from './audit.ts';
import { open, rewrap, seal, type Keyring, type Sealed } from './keyring.ts';

export const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const SECRET_KIND = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export interface SecretVersionInfo {
  version: number;
  kind: string;
  createdAt: Date;
  createdBy: string;
  expiresAt: Date | null;
  /** the master key that wraps its data key */
  masterKey: string;
}

export interface SecretInfo {
  tenantId: string;
  name: string;
  kind: string;
  /** newest first */
  versions: SecretVersionInfo[];
}

const context = (tenantId: string, name: string, version: number) => `secret:${tenantId}/${name}/${version}`;

/** A pool gets a transaction of its own; a client is the caller's, already in a transaction. */
function inTx<T>(db: pg.Pool | pg.PoolClient, fn: (c: Queryable) => Promise<T>): Promise<T> {
  return 'totalCount' in db && typeof db.totalCount === 'number' ? withTx(db as pg.Pool, fn) : fn(db);
}

export interface PutSecret {
  tenantId: string;
  name: string;
  value: string;
  kind?: string;
  actor: string;
  /** how long the versions it supersedes stay valid; 0 ends them now */
  overlapSeconds: number;
}

/** Stores a new version of a secret (the first version creates it); audited. */
export async function putSecret(db: pg.Pool | pg.PoolClient, keyring: Keyring, p: PutSecret): Promise<{ name: string; version: number; supersededUntil: Date | null }> {
  if (!SECRET_NAME.test(p.name)) {
    throw new ValidationError('secret.bad_name', `secret name ${JSON.stringify(p.name)}: letters, digits and . _ : - only, at most 128, starting with a letter or digit`, [{ path: '/name', message: 'invalid' }]);
  }
  if (p.value.length === 0) throw new ValidationError('secret.empty', 'the secret value is empty', [{ path: '/value', message: 'empty' }]);
  if (Buffer.byteLength(p.value) > 65536) throw new ValidationError('secret.too_large', 'a secret value is at most 64 KiB', [{ path: '/value', message: 'too large' }]);
  if (p.kind !== undefined && !SECRET_KIND.test(p.kind)) {
    throw new ValidationError('secret.bad_kind', `secret kind ${JSON.stringify(p.kind)}: letters, digits and . _ : - only, at most 64, starting with a letter or digit`, [{ path: '/kind', message: 'invalid' }]);
  }
  if (!Number.isFinite(p.overlapSeconds) || p.overlapSeconds < 0) {
    throw new ValidationError('secret.bad_overlap', `the overlap of the previous version must be 0 or more seconds (got ${p.overlapSeconds})`, [{ path: '/overlapSeconds', message: 'invalid' }]);
  }
  return inTx(db, async (tx) => {
    // serialise versions of one name
    await tx.query(`select pg_advisory_xact_lock(hashtextextended('hub_secrets:' || $1 || '/' || $2, 0))`, [p.tenantId, p.name]);
    const cur = await tx.query<{ version: number; kind: string }>(`select version, kind from hub_secrets where tenant_id = $1 and name = $2 order by version desc limit 1`, [p.tenantId, p.name]);
    const version = (cur.rows[0]?.version ?? 0) + 1;
    const kind = p.kind ?? cur.rows[0]?.kind ?? 'opaque';
    const superseded = await tx.query<{ until: Date }>(
      `update hub_secrets set expires_at = now() + $3 * interval '1 second'
        where tenant_id = $1 and name = $2 and (expires_at is null or expires_at > now() + $3 * interval '1 second')
        returning expires_at as until`,
      [p.tenantId, p.name, p.overlapSeconds],
    );
    await tx.query(`insert into hub_secrets (tenant_id, name, version, kind, sealed, created_by) values ($1, $2, $3, $4, $5, $6)`, [
      p.tenantId, p.name, version, kind, JSON.stringify(seal(keyring, p.value, context(p.tenantId, p.name, version))), p.actor,
    ]);
    await appendAudit(tx, {
      tenantId: p.tenantId,
      actor: p.actor,
      action: version === 1 ? 'secret.created' : 'secret.rotated',
      objectType: 'secret',
      objectId: p.name,
      before: cur.rows[0] ? { version: version - 1 } : undefined,
      after: { version },
      details: { version, kind, ...(version > 1 ? { previousValidUntil: superseded.rows[0]?.until.toISOString() ?? null } : {}) },
    });
    return { name: p.name, version, supersededUntil: superseded.rows[0]?.until ?? null };
  });
}

/** The values currently valid (newest first): several during a rotation overlap. */
export async function activeSecretValues(db: Queryable, keyring: Keyring, tenantId: string, name: string): Promise<string[]> {
  const r = await db.query<{ version: number; sealed: Sealed }>(
    `select version, sealed from hub_secrets where tenant_id = $1 and name = $2 and (expires_at is null or expires_at > now()) order by version desc`,
    [tenantId, name],
  );
  return r.rows.map((row) => open(keyring, row.sealed, context(tenantId, name, row.version)).toString('utf8'));
}

/** Like activeSecretValues, but a missing secret is an error naming it. */
export async function requireSecret(db: Queryable, keyring: Keyring, tenantId: string, name: string): Promise<string[]> {
  const v = await activeSecretValues(db, keyring, tenantId, name);
  if (!v.length) throw new NotFoundError('secret', `${tenantId}/${name}`);
  return v;
}

export async function listSecrets(db: Queryable, tenantId?: string): Promise<SecretInfo[]> {
  const r = await db.query(
    `select tenant_id, name, version, kind, created_at, created_by, expires_at, sealed->>'mk' as mk from hub_secrets
      ${tenantId ? 'where tenant_id = $1' : ''} order by tenant_id, name, version desc`,
    tenantId ? [tenantId] : [],
  );
  const out = new Map<string, SecretInfo>();
  for (const row of r.rows) {
    const k = `${row.tenant_id}/${row.name}`;
    if (!out.has(k)) out.set(k, { tenantId: row.tenant_id, name: row.name, kind: row.kind, versions: [] });
    out.get(k)!.versions.push({ version: row.version, kind: row.kind, createdAt: row.created_at, createdBy: row.created_by, expiresAt: row.expires_at, masterKey: row.mk });
  }
  return [...out.values()];
}

/** Deletes every version of a secret; audited. */
export async function deleteSecret(db: pg.Pool | pg.PoolClient, tenantId: string, name: string, actor: string): Promise<number> {
  return inTx(db, async (tx) => {
    const r = await tx.query(`delete from hub_secrets where tenant_id = $1 and name = $2`, [tenantId, name]);
    if (!r.rowCount) throw new NotFoundError('secret', `${tenantId}/${name}`);
    await appendAudit(tx, { tenantId, actor, action: 'secret.deleted', objectType: 'secret', objectId: name, details: { versions: r.rowCount } });
    return r.rowCount;
  });
}

/**
 * Re-wraps every data key still under an older master key with the current one (after
 * the master key was rotated). Idempotent; each batch commits on its own, so it can be
 * interrupted and run again. `tables` lists the sealed columns to visit.
 */
export async function rewrapAll(pool: pg.Pool, keyring: Keyring, actor: string, batch = 200): Promise<{ rewrapped: number; byTable: Record<string, number> }> {
  const byTable: Record<string, number> = {};
  const targets: { table: string; key: string }[] = [
    { table: 'hub_secrets', key: 'id' },
    { table: 'hub_signing_keys', key: 'kid' },
  ];
  for (const { table, key } of targets) {
    byTable[table] = 0;
    for (;;) {
      const n = await inTx(pool, async (tx) => {
        const rows = await tx.query<{ k: string; sealed: Sealed }>(`select ${key} as k, sealed from ${table} where sealed->>'mk' <> $1 order by ${key} limit $2 for update skip locked`, [keyring.current.id, batch]);
        for (const r of rows.rows) {
          const s = rewrap(keyring, r.sealed);
          if (s) await tx.query(`update ${table} set sealed = $2 where ${key} = $1`, [r.k, JSON.stringify(s)]);
        }
        return rows.rows.length;
      });
      byTable[table] += n;
      if (n < batch) break;
    }
  }
  const rewrapped = Object.values(byTable).reduce((a, b) => a + b, 0);
  await inTx(pool, (tx) =>
    appendAudit(tx, { tenantId: 'default', actor, action: 'master_key.rewrapped', objectType: 'master_key', objectId: keyring.current.id, details: { rewrapped, byTable } }),
  );
  return { rewrapped, byTable };
}
