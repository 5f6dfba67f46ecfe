/**
 * The hub's own users: the people who sign in to the operations console. A user belongs to
 * one tenant and holds scopes from the same vocabulary as API clients (src/domain/scopes.ts);
 * the scopes decide what the console shows and what its buttons may do.
 *
 * Passwords are kept only as scrypt hashes (`scrypt$<log2 N>$<r>$<p>$<salt>$<hash>`, salt
 * and hash base64url). Five wrong passwords in a row lock the user for a quarter of an hour;
 * an unknown user name costs the same hash as a known one, so timing does not tell them apart.
 *
 * A session is a random cookie value kept only as its SHA-256, with its own CSRF token
 * (the synchronizer token the console sends back in X-CSRF-Token on every change), an idle
 * timeout and an absolute lifetime. Disabling a user or changing the password ends the
 * user's sessions. Every change is audited.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type pg from 'pg';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import { parseScopes, type Scope } from '../domain/scopes.ts';
import { withTx, type Queryable } from '../platform/db.ts';
import { appendAudit } from './audit.ts';

const USERNAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;
export const MIN_PASSWORD_LENGTH = 12;
const LOCK_AFTER_FAILURES = 5;
const LOCK_MS = 15 * 60_000;
const SCRYPT = { log2N: 15, r: 8, p: 1, keyLength: 32 } as const;

function scrypt(password: string, salt: Buffer, o: { log2N: number; r: number; p: number; keyLength: number }): Promise<Buffer> {
  const opts: ScryptOptions = { N: 2 ** o.log2N, r: o.r, p: o.p, maxmem: 256 * 2 ** o.log2N * o.r };
  return new Promise((resolve, reject) => scryptCb(password.normalize('NFC'), salt, o.keyLength, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT);
  return ['scrypt', SCRYPT.log2N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Whether the password matches the stored hash (constant time over the hash). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [log2N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (!(log2N >= 10 && log2N <= 20 && r >= 1 && r <= 32 && p >= 1 && p <= 16) || expected.length < 16) return false;
  const key = await scrypt(password, Buffer.from(parts[4]!, 'base64url'), { log2N, r, p, keyLength: expected.length });
  return timingSafeEqual(key, expected);
}

/** Says what is wrong with a password, or nothing. */
export function passwordProblem(password: string, username: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `a password needs at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > 1024) return 'a password has at most 1024 characters';
  if (password.toLowerCase().includes(username.toLowerCase())) return 'the password must not contain the user name';
  return undefined;
}

export interface UserInfo {
  id: string;
  tenantId: string;
  username: string;
  displayName: string;
  scopes: Scope[];
  createdAt: Date;
  createdBy: string;
  disabledAt: Date | null;
  lastLoginAt: Date | null;
  lockedUntil: Date | null;
}

function rowToUser(r: Record<string, unknown>): UserInfo {
  return {
    id: r.id as string,
    tenantId: r.tenant_id as string,
    username: r.username as string,
    displayName: r.display_name as string,
    scopes: r.scopes as Scope[],
    createdAt: r.created_at as Date,
    createdBy: r.created_by as string,
    disabledAt: (r.disabled_at as Date | null) ?? null,
    lastLoginAt: (r.last_login_at as Date | null) ?? null,
    lockedUntil: (r.locked_until as Date | null) ?? null,
  };
}

const userView = (u: UserInfo) => ({ username: u.username, displayName: u.displayName, scopes: u.scopes, disabled: u.disabledAt !== null });

export interface CreateUser {
  tenantId: string;
  username: string;
  displayName?: string;
  password: string;
  scopes: readonly string[];
  actor: string;
}

export async function createUser(pool: pg.Pool, p: CreateUser): Promise<UserInfo> {
  const username = p.username.trim().toLowerCase();
  if (!USERNAME.test(username)) {
    throw new ValidationError('user.invalid_name', `a user name is 1-64 characters of a-z, 0-9, . _ @ - and starts with a letter or digit; got ${JSON.stringify(p.username)}`, [{ path: '/username', message: 'invalid' }]);
  }
  const problem = passwordProblem(p.password, username);
  if (problem) throw new ValidationError('user.weak_password', problem, [{ path: '/password', message: problem }]);
  const scopes = parseScopes(p.scopes);
  const hash = await hashPassword(p.password);
  const id = `usr_${randomBytes(9).toString('base64url')}`;
  return withTx(pool, async (tx) => {
    const tenant = await tx.query(`select 1 from hub_tenants where id = $1`, [p.tenantId]);
    if (!tenant.rowCount) throw new NotFoundError('tenant.not_found', `there is no tenant ${p.tenantId}`);
    const r = await tx.query(
      `insert into hub_users (id, tenant_id, username, display_name, password_hash, scopes, created_by)
       values ($1, $2, $3, $4, $5, $6, $7) on conflict (tenant_id, username) do nothing returning *`,
      [id, p.tenantId, username, (p.displayName ?? username).slice(0, 200), hash, scopes, p.actor],
    );
    if (!r.rowCount) throw new ValidationError('user.name_taken', `tenant ${p.tenantId} already has a user ${username}`, [{ path: '/username', message: 'taken' }], { status: 409 });
    const user = rowToUser(r.rows[0]);
    await appendAudit(tx, { tenantId: p.tenantId, actor: p.actor, action: 'user.created', objectType: 'user', objectId: id, after: userView(user) });
    return user;
  });
}

export async function listUsers(db: Queryable, tenantId?: string): Promise<UserInfo[]> {
  const r = await db.query(`select * from hub_users where ($1::text is null or tenant_id = $1) order by tenant_id, username`, [tenantId ?? null]);
  return r.rows.map(rowToUser);
}

export async function findUser(db: Queryable, tenantId: string, username: string): Promise<UserInfo | undefined> {
  const r = await db.query(`select * from hub_users where tenant_id = $1 and (username = lower($2) or id = $2)`, [tenantId, username.trim()]);
  return r.rows[0] ? rowToUser(r.rows[0]) : undefined;
}

async function requireUser(tx: Queryable, tenantId: string, username: string): Promise<Record<string, unknown>> {
  const r = await tx.query(`select * from hub_users where tenant_id = $1 and (username = $2 or id = $3) for update`, [tenantId, username.trim().toLowerCase(), username.trim()]);
  if (!r.rows[0]) throw new NotFoundError('user.not_found', `tenant ${tenantId} has no user ${username}`);
  return r.rows[0];
}

export async function setPassword(pool: pg.Pool, p: { tenantId: string; username: string; password: string; actor: string }): Promise<void> {
  const hash = await (async () => {
    const problem = passwordProblem(p.password, p.username);
    if (problem) throw new ValidationError('user.weak_password', problem, [{ path: '/password', message: problem }]);
    return hashPassword(p.password);
  })();
  await withTx(pool, async (tx) => {
    const row = await requireUser(tx, p.tenantId, p.username);
    await tx.query(`update hub_users set password_hash = $2, password_changed_at = now(), failed_logins = 0, locked_until = null where id = $1`, [row.id, hash]);
    await tx.query(`update hub_sessions set revoked_at = now() where user_id = $1 and revoked_at is null`, [row.id]);
    await appendAudit(tx, { tenantId: p.tenantId, actor: p.actor, action: 'user.password_changed', objectType: 'user', objectId: row.id as string, details: { sessionsEnded: true } });
  });
}

export async function updateUser(pool: pg.Pool, p: { tenantId: string; username: string; actor: string; scopes?: readonly string[]; disabled?: boolean }): Promise<UserInfo> {
  return withTx(pool, async (tx) => {
    const row = await requireUser(tx, p.tenantId, p.username);
    const before = rowToUser(row);
    const scopes = p.scopes ? parseScopes(p.scopes) : before.scopes;
    const disabling = p.disabled === true && !before.disabledAt;
    const r = await tx.query(
      `update hub_users set scopes = $2,
         disabled_at = case when $3::boolean is null then disabled_at when $3 then coalesce(disabled_at, now()) else null end,
         disabled_by = case when $3::boolean is null then disabled_by when $3 then $4 else null end
       where id = $1 returning *`,
      [row.id, scopes, p.disabled ?? null, p.actor],
    );
    // fewer scopes or a disabled user: the open sessions end now rather than at their timeout
    if (disabling || scopes.length < before.scopes.length || before.scopes.some((s) => !scopes.includes(s))) {
      await tx.query(`update hub_sessions set revoked_at = now() where user_id = $1 and revoked_at is null`, [row.id]);
    }
    const after = rowToUser(r.rows[0]);
    await appendAudit(tx, { tenantId: p.tenantId, actor: p.actor, action: 'user.updated', objectType: 'user', objectId: after.id, before: userView(before), after: userView(after) });
    return after;
  });
}

// ----------------------------------------------------------------------------- sign-in

/** A hash to spend time on when the user does not exist. */
let decoy: Promise<string> | undefined;

export type LoginResult =
  | { ok: true; user: UserInfo }
  | { ok: false; reason: 'invalid' | 'locked' | 'disabled'; lockedUntil?: Date };

/** Checks a user name and password; counts failures and locks after too many. */
export async function checkLogin(pool: pg.Pool, tenantId: string, username: string, password: string, now: Date): Promise<LoginResult> {
  const r = await pool.query(`select * from hub_users where tenant_id = $1 and username = $2`, [tenantId, username.trim().toLowerCase()]);
  const row = r.rows[0];
  if (!row) {
    await verifyPassword(password, await (decoy ??= hashPassword(randomBytes(16).toString('hex'))));
    return { ok: false, reason: 'invalid' };
  }
  const ok = await verifyPassword(password, row.password_hash as string);
  if (row.disabled_at) return { ok: false, reason: 'disabled' };
  if (row.locked_until && (row.locked_until as Date) > now) return { ok: false, reason: 'locked', lockedUntil: row.locked_until as Date };
  if (!ok) {
    const u = await pool.query<{ failed_logins: number; locked_until: Date | null }>(
      `update hub_users set failed_logins = failed_logins + 1,
         locked_until = case when failed_logins + 1 >= $2 then $3::timestamptz else locked_until end
       where id = $1 returning failed_logins, locked_until`,
      [row.id, LOCK_AFTER_FAILURES, new Date(now.getTime() + LOCK_MS)],
    );
    const locked = u.rows[0]?.locked_until;
    return locked && locked > now ? { ok: false, reason: 'locked', lockedUntil: locked } : { ok: false, reason: 'invalid' };
  }
  const u = await pool.query(`update hub_users set failed_logins = 0, locked_until = null, last_login_at = $2 where id = $1 returning *`, [row.id, now]);
  return { ok: true, user: rowToUser(u.rows[0]) };
}

export const SESSION_COOKIE = 'olh_session';
const SESSION_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export function sessionHash(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export interface SessionInfo {
  user: UserInfo;
  csrfToken: string;
  createdAt: Date;
  expiresAt: Date;
}

export async function createSession(pool: pg.Pool, p: { user: UserInfo; now: Date; absoluteSeconds: number; remoteIp?: string; userAgent?: string }): Promise<{ cookie: string; session: SessionInfo }> {
  const cookie = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  const expiresAt = new Date(p.now.getTime() + p.absoluteSeconds * 1000);
  await withTx(pool, async (tx) => {
    await tx.query(
      `insert into hub_sessions (id_hash, user_id, tenant_id, csrf_token, created_at, last_seen_at, expires_at, remote_ip, user_agent) values ($1, $2, $3, $4, $5, $5, $6, $7, $8)`,
      [sessionHash(cookie), p.user.id, p.user.tenantId, csrfToken, p.now, expiresAt, p.remoteIp ?? null, p.userAgent?.slice(0, 300) ?? null],
    );
    await appendAudit(tx, { tenantId: p.user.tenantId, actor: `user:${p.user.id}`, action: 'user.signed_in', objectType: 'user', objectId: p.user.id, details: { remoteIp: p.remoteIp ?? null } });
  });
  return { cookie, session: { user: p.user, csrfToken, createdAt: p.now, expiresAt } };
}

/**
 * The live session of a cookie value: not revoked, not past its lifetime, used within the
 * idle timeout, its user enabled. Touches last_seen_at at most once a minute.
 */
export async function sessionFor(db: Queryable, cookie: string, now: Date, idleSeconds: number): Promise<SessionInfo | undefined> {
  if (!SESSION_SHAPE.test(cookie)) return undefined;
  const r = await db.query(
    `select s.csrf_token, s.created_at as s_created_at, s.expires_at, s.last_seen_at, u.*
       from hub_sessions s join hub_users u on u.id = s.user_id
      where s.id_hash = $1 and s.revoked_at is null and s.expires_at > $2 and s.last_seen_at > $3 and u.disabled_at is null`,
    [sessionHash(cookie), now, new Date(now.getTime() - idleSeconds * 1000)],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  if (now.getTime() - (row.last_seen_at as Date).getTime() > 60_000) {
    await db.query(`update hub_sessions set last_seen_at = $2 where id_hash = $1`, [sessionHash(cookie), now]);
  }
  return { user: rowToUser(row), csrfToken: row.csrf_token as string, createdAt: row.s_created_at as Date, expiresAt: row.expires_at as Date };
}

export async function endSession(pool: pg.Pool, cookie: string): Promise<boolean> {
  if (!SESSION_SHAPE.test(cookie)) return false;
  const r = await pool.query(`update hub_sessions set revoked_at = now() where id_hash = $1 and revoked_at is null returning user_id, tenant_id`, [sessionHash(cookie)]);
  const row = r.rows[0];
  if (row) await withTx(pool, (tx) => appendAudit(tx, { tenantId: row.tenant_id, actor: `user:${row.user_id}`, action: 'user.signed_out', objectType: 'user', objectId: row.user_id }));
  return !!row;
}

/** Deletes sessions that ended more than a day ago (called by retention). */
export async function pruneSessions(db: Queryable, now: Date): Promise<number> {
  const r = await db.query(`delete from hub_sessions where expires_at < $1 or revoked_at < $1`, [new Date(now.getTime() - 86_400_000)]);
  return r.rowCount ?? 0;
}
