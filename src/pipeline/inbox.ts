/**
 * The inbox: events are stored here, durably, before ingress acknowledges them.
 *
 * Per-key ordering relies on one rule: the key's row in hub_keys is locked (upsert)
 * before the key's events get their seq, so two transactions that write the same key
 * commit their seqs in order and a worker reading "seq > cursor" can never skip an
 * event that commits later with a smaller seq. Keys are locked in sorted order, so two
 * batches sharing keys cannot deadlock.
 */
import type pg from 'pg';
import type { IncomingEvent } from './types.ts';

export interface IngestOutcome {
  id: string;
  source: string;
  seq: number;
  duplicate: boolean;
}

export const WORK_CHANNEL = 'hub_work';

/**
 * Stores events (one transaction for the whole list). Returns one outcome per input
 * event in input order; duplicates (same source + id, earlier or within the list) are
 * reported with the seq of the stored copy.
 */
export async function ingest(db: pg.Pool | pg.PoolClient, events: IncomingEvent[]): Promise<IngestOutcome[]> {
  if (events.length === 0) return [];
  const ownTx = 'totalCount' in db; // a Pool: take a client and run our own transaction
  const c = ownTx ? await (db as pg.Pool).connect() : (db as pg.PoolClient);
  try {
    if (ownTx) await c.query('begin');
    const out = await ingestInTx(c, events);
    if (ownTx) await c.query('commit');
    return out;
  } catch (e) {
    if (ownTx) await c.query('rollback').catch(() => undefined);
    throw e;
  } finally {
    if (ownTx) (c as pg.PoolClient).release();
  }
}

async function ingestInTx(c: pg.PoolClient, events: IncomingEvent[]): Promise<IngestOutcome[]> {
  // De-duplicate within the request first (same source + id).
  const firstIndex = new Map<string, number>();
  const unique: IncomingEvent[] = [];
  for (const e of events) {
    const ident = e.tenantId + '\u0000' + e.source + '\u0000' + e.id;
    if (!firstIndex.has(ident)) {
      firstIndex.set(ident, unique.length);
      unique.push(e);
    }
  }
  // (tenant, key) pairs in one global order, so concurrent batches lock them without deadlock
  const pairs = [...new Set(unique.map((e) => e.tenantId + '\u0000' + e.key))].sort().map((p) => p.split('\u0000') as [string, string]);

  await c.query(
    `insert into hub_keys (tenant_id, key)
     select t, k from unnest($1::text[], $2::text[]) with ordinality as u(t, k, o) order by o
     on conflict (tenant_id, key) do update set pending = hub_keys.pending`,
    [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
  );

  const cols = {
    tenant: [] as string[], source: [] as string[], id: [] as string[], type: [] as string[], spec: [] as string[],
    subject: [] as (string | null)[], key: [] as string[], time: [] as (string | null)[], occurred: [] as (string | null)[], dct: [] as (string | null)[],
    ds: [] as (string | null)[], data: [] as (string | null)[], ext: [] as string[], corr: [] as (string | null)[],
  };
  for (const e of unique) {
    cols.tenant.push(e.tenantId);
    cols.source.push(e.source);
    cols.id.push(e.id);
    cols.type.push(e.type);
    cols.spec.push(e.specversion);
    cols.subject.push(e.subject ?? null);
    cols.key.push(e.key);
    cols.time.push(e.time ?? null);
    cols.occurred.push(e.occurredAt ?? e.time ?? null);
    cols.dct.push(e.datacontenttype ?? null);
    cols.ds.push(e.dataschema ?? null);
    cols.data.push(e.data === undefined ? null : JSON.stringify(e.data));
    cols.ext.push(JSON.stringify(e.extensions ?? {}));
    cols.corr.push(e.correlationId ?? null);
  }
  const inserted = await c.query<{ seq: number; tenant_id: string; source: string; id: string }>(
    `with ins as (
       insert into hub_events (tenant_id, source, id, type, specversion, subject, key, time, occurred_at, datacontenttype, dataschema, data, extensions, correlation_id)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $14::timestamptz[], $9::text[], $10::text[], $11::jsonb[], $12::jsonb[], $13::text[])
       on conflict (tenant_id, source, id) do nothing
       returning seq, tenant_id, source, id, key
     ), counted as (
       update hub_keys k set pending = k.pending + n.cnt, head_seq = coalesce(k.head_seq, n.first)
       from (select tenant_id, key, count(*)::int as cnt, min(seq) as first from ins group by tenant_id, key) n
       where k.tenant_id = n.tenant_id and k.key = n.key
     )
     select seq, tenant_id, source, id from ins`,
    [cols.tenant, cols.source, cols.id, cols.type, cols.spec, cols.subject, cols.key, cols.time, cols.dct, cols.ds, cols.data, cols.ext, cols.corr, cols.occurred],
  );
  const identOf = (r: { tenant_id: string; source: string; id: string }) => r.tenant_id + '\u0000' + r.source + '\u0000' + r.id;
  const seqOf = new Map<string, { seq: number; duplicate: boolean }>();
  for (const r of inserted.rows) seqOf.set(identOf(r), { seq: r.seq, duplicate: false });
  if (inserted.rowCount !== unique.length) {
    const missing = unique.filter((e) => !seqOf.has(e.tenantId + '\u0000' + e.source + '\u0000' + e.id));
    const existing = await c.query<{ seq: number; tenant_id: string; source: string; id: string }>(
      `select e.seq, e.tenant_id, e.source, e.id from hub_events e
         join unnest($1::text[], $2::text[], $3::text[]) as u(t, s, i) on e.tenant_id = u.t and e.source = u.s and e.id = u.i`,
      [missing.map((e) => e.tenantId), missing.map((e) => e.source), missing.map((e) => e.id)],
    );
    for (const r of existing.rows) seqOf.set(identOf(r), { seq: r.seq, duplicate: true });
  }
  if (inserted.rowCount) await c.query(`select pg_notify($1, '')`, [WORK_CHANNEL]);

  const seenInRequest = new Set<string>();
  return events.map((e) => {
    const ident = e.tenantId + '\u0000' + e.source + '\u0000' + e.id;
    const s = seqOf.get(ident);
    if (!s) throw new Error(`event ${e.source} ${e.id} was neither stored nor found`);
    const dupInRequest = seenInRequest.has(ident);
    seenInRequest.add(ident);
    return { id: e.id, source: e.source, seq: s.seq, duplicate: s.duplicate || dupInRequest };
  });
}
