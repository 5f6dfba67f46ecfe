/**
 * The cross-reference registry (hub_xref): which canonical id an external id names, and
 * every system's id of one canonical thing. Entries are written by the xref handler
 * from the refs events carry; connectors look ids up here before they create anything.
 */
import type pg from 'pg';

export interface XrefRow {
  entity: string;
  canonicalId: string;
  system: string;
  externalId: string;
  createdAt: Date;
}

export type XrefQuery =
  | { tenantId: string; system: string; externalId: string; entity?: string }
  | { tenantId: string; canonicalId: string; entity?: string };

/** Resolves an external id to its canonical id(s), or lists a canonical id's ids in every system. */
export async function findXrefs(db: pg.Pool | pg.PoolClient, q: XrefQuery): Promise<XrefRow[]> {
  const params: unknown[] = [q.tenantId];
  const where = ['tenant_id = $1'];
  const add = (col: string, v: string) => {
    params.push(v);
    where.push(`${col} = $${params.length}`);
  };
  if ('canonicalId' in q) add('canonical_id', q.canonicalId);
  else {
    add('system', q.system);
    add('external_id', q.externalId);
  }
  if (q.entity) add('entity', q.entity);
  const r = await db.query(
    `select entity, canonical_id, system, external_id, created_at from hub_xref where ${where.join(' and ')} order by entity, canonical_id, system, external_id limit 1000`,
    params,
  );
  return r.rows.map((x) => ({ entity: x.entity, canonicalId: x.canonical_id, system: x.system, externalId: x.external_id, createdAt: x.created_at }));
}
