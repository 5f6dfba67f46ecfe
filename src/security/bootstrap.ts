/**
 * First start of a hub: with no API client at all nobody could call it, so one admin
 * client is created and its token written to `<dataDir>/bootstrap-admin.token` (mode
 * 0600), never to a log. Later starts find clients and do nothing.
 *
 * Every start also records the effective configuration's digest in the audit trail when
 * it differs from the last one recorded (action config.changed).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type pg from 'pg';
import { SCOPES } from '../domain/scopes.ts';
import type { HubConfig } from '../platform/config.ts';
import { redactUrl, withTx } from '../platform/db.ts';
import { appendAudit, canonicalJson, digestOf } from './audit.ts';
import { createClient } from './clients.ts';
import { createUser } from './users.ts';

export const BOOTSTRAP_CLIENT = 'bootstrap-admin';

/** Creates the bootstrap client when there is no client yet; returns the token file, or undefined. */
export async function ensureBootstrapClient(pool: pg.Pool, dataDir: string): Promise<string | undefined> {
  const any = await pool.query(`select 1 from hub_clients limit 1`);
  if (any.rowCount) return undefined;
  let token: string;
  try {
    ({ token } = await createClient(pool, { tenantId: 'default', name: BOOTSTRAP_CLIENT, scopes: [...SCOPES], actor: 'system:bootstrap' }));
  } catch (e) {
    if ((e as { code?: string }).code === 'client.name_taken') return undefined; // another process was first
    throw e;
  }
  return writePrivateFile(dataDir, 'bootstrap-admin.token', token);
}

export const BOOTSTRAP_USER = 'admin';

/**
 * First start: with no console user nobody could sign in to /console, so a user `admin` with
 * every scope is created, its random password written to `<dataDir>/bootstrap-admin.password`
 * (mode 0600), never to a log. Later starts find users and do nothing.
 */
export async function ensureBootstrapUser(pool: pg.Pool, dataDir: string): Promise<string | undefined> {
  const any = await pool.query(`select 1 from hub_users limit 1`);
  if (any.rowCount) return undefined;
  const password = randomBytes(18).toString('base64url');
  try {
    await createUser(pool, { tenantId: 'default', username: BOOTSTRAP_USER, displayName: 'Administrator', password, scopes: [...SCOPES], actor: 'system:bootstrap' });
  } catch (e) {
    if ((e as { code?: string }).code === 'user.name_taken') return undefined;
    throw e;
  }
  return writePrivateFile(dataDir, 'bootstrap-admin.password', password);
}

/** Writes a credential for the operator to `<dataDir>/<name>`, readable by the owner only; returns its path. */
function writePrivateFile(dataDir: string, name: string, value: string): string {
  mkdirSync(resolve(dataDir), { recursive: true });
  const file = resolve(join(dataDir, name));
  writeFileSync(file, value + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** The configuration as audited: everything but where it came from (no secrets live in it). */
export function configDigestInput(config: HubConfig): unknown {
  const { source: _source, ...rest } = config as HubConfig & { source?: unknown };
  // the database password is not configuration to compare, and not even its digest is kept
  return JSON.parse(canonicalJson({ ...rest, ...(rest.databaseUrl ? { databaseUrl: redactUrl(rest.databaseUrl) } : {}) }));
}

/** Appends config.changed when the effective configuration differs from the last recorded. */
export async function recordConfiguration(pool: pg.Pool, config: HubConfig, instanceId: string): Promise<boolean> {
  const after = configDigestInput(config);
  const digest = digestOf(after);
  return withTx(pool, async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(hashtextextended('hub_config_audit', 0))`);
    const last = await tx.query<{ after_digest: string }>(
      `select after_digest from hub_audit where tenant_id = 'default' and action = 'config.changed' order by seq desc limit 1`,
    );
    const previous = last.rows[0]?.after_digest ?? null;
    if (previous === digest) return false;
    await appendAudit(tx, {
      tenantId: 'default', actor: `system:${instanceId}`, action: 'config.changed', objectType: 'config', objectId: 'hub', after,
      details: { previousDigest: previous },
    });
    return true;
  });
}
