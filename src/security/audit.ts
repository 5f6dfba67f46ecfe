/**
 * The audit trail: an append-only log of every state change of a business object and
 * every administrative action, hash-chained per tenant. Each entry's hash covers the
 * previous entry's hash and the entry's own canonical fields, so altering, removing or
 * inserting an entry breaks the chain at that point; the head row (hub_audit_heads)
 * catches entries removed from the end.
 *
 * Appending locks the tenant's head row until the surrounding transaction commits, so
 * entries chain in commit order and an entry exists exactly when its change does.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { withTx, type Queryable } from '../platform/db.ts';

export interface AuditEntryInput {
  tenantId: string;
  /** who: client:<id>, cli:<os user>, event:<source>, system:<job> */
  actor: string;
  /** what, dotted: client.created, secret.rotated, order.state_changed, retention.ran... */
  action: string;
  objectType: string;
  objectId: string;
  /** the object before and after; only their digests are stored */
  before?: unknown;
  after?: unknown;
  /** small, non-personal facts worth keeping in clear (counts, scopes, ids) */
  details?: Record<string, unknown>;
  at?: Date;
}

export interface AuditEntry {
  seq: number;
  tenantId: string;
  at: Date;
  actor: string;
  action: string;
  objectType: string;
  objectId: string;
  beforeDigest: string | null;
  afterDigest: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/**
 * JSON with object keys sorted at every level: the same value always gives the same text.
 * Values with toJSON (Date) are replaced by its result, as JSON.stringify does.
 */
export function canonicalJson(v: unknown): string {
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') v = (v as { toJSON(): unknown }).toJSON();
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return '[' + v.map((x) => canonicalJson(x === undefined ? null : x)).join(',') + ']';
  const o = v as Record<string, unknown>;
  return '{' + Object.keys(o).filter((k) => o[k] !== undefined && typeof o[k] !== 'function' && typeof o[k] !== 'symbol').sort().map((k) => JSON.stringify(k) + ':' + canonicalJson(o[k])).join(',') + '}';
}

export function digestOf(v: unknown): string | null {
  return v === undefined ? null : 'sha256:' + createHash('sha256').update(canonicalJson(v)).digest('hex');
}

export function genesisHash(tenantId: string): string {
  return createHash('sha256').update(`odoo-logistics-hub audit genesis\0${tenantId}`).digest('hex');
}

export function entryHash(prevHash: string, e: Omit<AuditEntry, 'hash' | 'prevHash'>): string {
  const body = canonicalJson([e.seq, e.tenantId, e.at.toISOString(), e.actor, e.action, e.objectType, e.objectId, e.beforeDigest, e.afterDigest, e.details]);
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

/** Appends one entry. Call inside the transaction that makes the change it records. */
export async function appendAudit(tx: Queryable, input: AuditEntryInput): Promise<AuditEntry> {
  return (await appendAuditMany(tx, [input]))[0]!;
}

/**
 * Appends entries in their order, one head lock and one insert per tenant. The pipeline
 * calls it last before COMMIT with a whole batch's entries: a transaction holding a
 * tenant's head lock then never waits for another lock (no deadlock with batches that
 * lock lifecycles in another order) and holds it only for the commit.
 */
export async function appendAuditMany(tx: Queryable, inputs: readonly AuditEntryInput[]): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for (const tenantId of [...new Set(inputs.map((i) => i.tenantId))].sort()) {
    const mine = inputs.filter((i) => i.tenantId === tenantId);
    await tx.query(`insert into hub_audit_heads (tenant_id, last_seq, last_hash) values ($1, 0, $2) on conflict (tenant_id) do nothing`, [tenantId, genesisHash(tenantId)]);
    const head = await tx.query<{ last_hash: string }>(`select last_hash from hub_audit_heads where tenant_id = $1 for update`, [tenantId]);
    // numbers are drawn only once the head is locked, so number order is chain order
    const next = await tx.query<{ seq: number }>(`select nextval(pg_get_serial_sequence('hub_audit', 'seq')) as seq from generate_series(1, $1::int)`, [mine.length]);
    const numbers = next.rows.map((r) => Number(r.seq)).sort((a, b) => a - b);
    let prevHash = head.rows[0]!.last_hash;
    const rows: AuditEntry[] = mine.map((input, i) => {
      const e: Omit<AuditEntry, 'hash' | 'prevHash'> = {
        seq: numbers[i]!,
        tenantId,
        at: new Date((input.at ?? new Date()).getTime()),
        actor: input.actor,
        action: input.action,
        objectType: input.objectType,
        objectId: input.objectId,
        beforeDigest: digestOf(input.before),
        afterDigest: digestOf(input.after),
        details: JSON.parse(canonicalJson(input.details ?? {})) as Record<string, unknown>,
      };
      const entry = { ...e, prevHash, hash: entryHash(prevHash, e) };
      prevHash = entry.hash;
      return entry;
    });
    await tx.query(
      `insert into hub_audit (seq, tenant_id, at, actor, action, object_type, object_id, before_digest, after_digest, details, prev_hash, hash)
       overriding system value
       select * from unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::jsonb[], $11::text[], $12::text[])`,
      [
        rows.map((r) => r.seq), rows.map((r) => r.tenantId), rows.map((r) => r.at), rows.map((r) => r.actor), rows.map((r) => r.action), rows.map((r) => r.objectType),
        rows.map((r) => r.objectId), rows.map((r) => r.beforeDigest), rows.map((r) => r.afterDigest), rows.map((r) => JSON.stringify(r.details)), rows.map((r) => r.prevHash), rows.map((r) => r.hash),
      ],
    );
    await tx.query(`update hub_audit_heads set last_seq = $2, last_hash = $3 where tenant_id = $1`, [tenantId, rows.at(-1)!.seq, rows.at(-1)!.hash]);
    out.push(...rows);
  }
  // in the order given, whatever the tenants
  return inputs.map((i) => out.splice(out.findIndex((e) => e.tenantId === i.tenantId), 1)[0]!);
}

/** Appends in a transaction of its own (admin actions that change nothing else in the database). */
export async function audit(pool: pg.Pool, input: AuditEntryInput): Promise<AuditEntry> {
  return withTx(pool, (c) => appendAudit(c, input));
}

export function rowToAudit(r: Record<string, unknown>): AuditEntry {
  return {
    seq: Number(r.seq),
    tenantId: r.tenant_id as string,
    at: r.at as Date,
    actor: r.actor as string,
    action: r.action as string,
    objectType: r.object_type as string,
    objectId: r.object_id as string,
    beforeDigest: (r.before_digest as string | null) ?? null,
    afterDigest: (r.after_digest as string | null) ?? null,
    details: (r.details as Record<string, unknown>) ?? {},
    prevHash: r.prev_hash as string,
    hash: r.hash as string,
  };
}

export interface ChainBreak {
  tenantId: string;
  /** the first entry that does not verify (entries cut from the end: the last one the head records) */
  seq: number;
  reason: string;
}

export interface VerifyResult {
  tenants: { tenantId: string; entries: number; lastSeq: number }[];
  broken: ChainBreak | undefined;
}

interface Head {
  lastSeq: number;
  lastHash: string;
}

async function readHead(db: Queryable, tenantId: string): Promise<Head | undefined> {
  const r = await db.query<{ last_seq: number; last_hash: string }>(`select last_seq, last_hash from hub_audit_heads where tenant_id = $1`, [tenantId]);
  return r.rows[0] ? { lastSeq: Number(r.rows[0].last_seq), lastHash: r.rows[0].last_hash } : undefined;
}

/** How many verified hashes are remembered to recognise an inserted entry. */
const RECENT = 1024;

/**
 * Recomputes every tenant's chain (or one tenant's) and names the first broken link.
 *
 * Safe while the hub appends: each tenant's head is read first and the chain is checked
 * up to the entry it records; entries found past it are checked too once a fresh head
 * covers them, and are reported when none does (added outside the audit trail).
 */
export async function verifyAudit(db: Queryable, opts: { tenantId?: string; pageSize?: number; onProgress?: (checked: number) => void } = {}): Promise<VerifyResult> {
  const pageSize = opts.pageSize ?? 5000;
  const tenants = opts.tenantId
    ? [opts.tenantId]
    : (await db.query<{ tenant_id: string }>(`select tenant_id from hub_audit_heads union select distinct tenant_id from hub_audit order by 1`)).rows.map((r) => r.tenant_id);
  const out: VerifyResult = { tenants: [], broken: undefined };
  let checked = 0;
  for (const tenantId of tenants) {
    const broken = (seq: number, reason: string): VerifyResult => {
      out.broken = { tenantId, seq, reason };
      return out;
    };
    let head = await readHead(db, tenantId);
    let prevHash = genesisHash(tenantId);
    let lastSeq = 0;
    let entries = 0;
    // the last verified entries, to tell an inserted entry from a removed one
    const recentSeqs: number[] = [];
    const recentIndex = new Map<string, number>([[prevHash, 0]]);
    const remember = (seq: number, hash: string) => {
      recentSeqs.push(seq);
      recentIndex.set(hash, seq);
      if (recentSeqs.length > RECENT) {
        recentSeqs.shift();
        recentIndex.delete(recentIndex.keys().next().value!);
      }
    };
    for (;;) {
      const page = await db.query(
        `select * from hub_audit where tenant_id = $1 and seq > $2 ${head ? 'and seq <= $4' : ''} order by seq limit $3`,
        head ? [tenantId, lastSeq, pageSize, head.lastSeq] : [tenantId, lastSeq, pageSize],
      );
      for (const r of page.rows) {
        const e = rowToAudit(r);
        if (e.prevHash !== prevHash) {
          const after = recentIndex.get(e.prevHash);
          if (after !== undefined && after < lastSeq) {
            const first = recentSeqs.find((s) => s > after) ?? lastSeq;
            return broken(first, `entry ${first} was inserted: entry ${e.seq} follows entry ${after || '(start)'} directly, so the entries from ${first} to ${lastSeq} do not belong to the chain`);
          }
          return broken(
            e.seq,
            `entry ${e.seq} does not follow entry ${lastSeq || '(start)'}: its previous-hash is not that entry's hash (an entry between them was removed, or entry ${lastSeq || '(start)'} was altered and its hash recomputed)`,
          );
        }
        if (entryHash(prevHash, e) !== e.hash) return broken(e.seq, `entry ${e.seq} was altered: its content does not match its hash`);
        prevHash = e.hash;
        lastSeq = e.seq;
        entries++;
        remember(e.seq, e.hash);
      }
      checked += page.rows.length;
      opts.onProgress?.(checked);
      if (page.rows.length === pageSize) continue;
      if (!head) break;
      const past = await db.query<{ seq: number }>(`select seq from hub_audit where tenant_id = $1 and seq > $2 order by seq limit 1`, [tenantId, head.lastSeq]);
      if (!past.rows.length) break;
      const fresh = await readHead(db, tenantId);
      if (!fresh || fresh.lastSeq <= head.lastSeq) {
        return broken(Number(past.rows[0]!.seq), `entry ${past.rows[0]!.seq} lies past the end of the chain (the head records entry ${head.lastSeq} as the last): it was added outside the audit trail`);
      }
      // appended while verifying: the chain goes on up to the new head
      head = fresh;
    }
    if (head) {
      if (head.lastSeq !== lastSeq) {
        return broken(
          head.lastSeq,
          `the chain ends at entry ${lastSeq || '(none)'} but the head records entry ${head.lastSeq} as the last: entries after ${lastSeq || 'the start'} up to ${head.lastSeq} were removed from the end`,
        );
      }
      if (head.lastHash !== prevHash) return broken(lastSeq, `entry ${lastSeq} is not the entry the head recorded: it was altered and its hash recomputed`);
    } else if (entries > 0) {
      return broken(lastSeq, 'the chain has no head record (it was removed)');
    }
    out.tenants.push({ tenantId, entries, lastSeq });
  }
  return out;
}
