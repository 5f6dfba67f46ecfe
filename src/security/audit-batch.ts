/**
 * Appending many audit entries at once, for the pipeline: a batch of events records its
 * state changes with one lock per tenant head and one insert. The worker calls it last
 * before committing, so a transaction holding a tenant's head lock never waits for any
 * other lock (no deadlock with batches locking lifecycles in another order) and holds
 * it only for the commit.
 */
import { canonicalJson, digestOf, entryHash, genesisHash, type AuditEntry, type AuditEntryInput } from './audit.ts';
import type { Queryable } from '../platform/db.ts';

export async function appendAuditMany(tx: Queryable, inputs: readonly AuditEntryInput[]): Promise<void> {
  if (!inputs.length) return;
  const tenants = [...new Set(inputs.map((i) => i.tenantId))].sort();
  for (const tenantId of tenants) {
    const mine = inputs.filter((i) => i.tenantId === tenantId);
    await tx.query(`insert into hub_audit_heads (tenant_id, last_seq, last_hash) values ($1, 0, $2) on conflict (tenant_id) do nothing`, [tenantId, genesisHash(tenantId)]);
    const head = await tx.query<{ last_hash: string }>(`select last_hash from hub_audit_heads where tenant_id = $1 for update`, [tenantId]);
    // numbers drawn once the head is locked, so they follow the chain
    const seqs = await tx.query<{ seq: number }>(`select nextval(pg_get_serial_sequence('hub_audit', 'seq')) as seq from generate_series(1, $1::int)`, [mine.length]);
    const numbers = seqs.rows.map((r) => Number(r.seq)).sort((a, b) => a - b);
    let prevHash = head.rows[0]!.last_hash;
    const rows: AuditEntry[] = [];
    mine.forEach((input, i) => {
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
      const hash = entryHash(prevHash, e);
      rows.push({ ...e, prevHash, hash });
      prevHash = hash;
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
  }
}
