/**
 * Dead letters and replay. A replay request marks the selected open dead letters
 * 'replaying'; workers pick them up (SKIP LOCKED), run the handlers again in one
 * transaction each and mark them 'replayed', or put them back to 'open' with the new
 * reason. Progress is read from the request's dead letters.
 */
import type pg from 'pg';
import { appendAudit } from '../security/audit.ts';
import { ValidationError } from '../domain/errors.ts';

export interface DeadLetterFilter {
  ids?: number[];
  type?: string;
  key?: string;
  source?: string;
  errorCode?: string;
  errorClass?: string;
  /** created at or after */
  from?: Date;
  /** created before */
  to?: Date;
  tenantId?: string;
}

export interface DeadLetter {
  id: number;
  tenantId: string;
  eventSeq: number;
  eventId: string;
  key: string;
  type: string;
  source: string;
  reason: string;
  errorClass: string;
  errorCode: string;
  attempts: number;
  status: string;
  createdAt: Date;
  updatedAt: Date;
  replayCount: number;
  payload?: unknown;
}

function where(f: DeadLetterFilter, status: string | undefined, params: unknown[]): string {
  const w: string[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    w.push(sql.replace('?', `$${params.length}`));
  };
  if (status) add('d.status = ?', status);
  if (f.ids?.length) add('d.id = any(?::bigint[])', f.ids);
  if (f.type) add('d.type = ?', f.type);
  if (f.key) add('d.key = ?', f.key);
  if (f.source) add('d.source = ?', f.source);
  if (f.errorCode) add('d.error_code = ?', f.errorCode);
  if (f.errorClass) add('d.error_class = ?', f.errorClass);
  if (f.from) add('d.created_at >= ?', f.from);
  if (f.to) add('d.created_at < ?', f.to);
  if (f.tenantId) add('d.tenant_id = ?', f.tenantId);
  return w.length ? 'where ' + w.join(' and ') : '';
}

function toDeadLetter(r: Record<string, unknown>, withPayload: boolean): DeadLetter {
  return {
    id: r.id as number,
    tenantId: r.tenant_id as string,
    eventSeq: r.event_seq as number,
    eventId: r.event_id as string,
    key: r.key as string,
    type: r.type as string,
    source: r.source as string,
    reason: r.reason as string,
    errorClass: r.error_class as string,
    errorCode: r.error_code as string,
    attempts: r.attempts as number,
    status: r.status as string,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
    replayCount: r.replay_count as number,
    ...(withPayload ? { payload: r.data } : {}),
  };
}

export async function listDeadLetters(
  db: pg.Pool,
  f: DeadLetterFilter & { status?: string; limit?: number; afterId?: number; withPayload?: boolean } = {},
): Promise<DeadLetter[]> {
  const params: unknown[] = [];
  let w = where(f, f.status, params);
  if (f.afterId) {
    params.push(f.afterId);
    w += `${w ? ' and' : 'where'} d.id > $${params.length}`;
  }
  params.push(Math.min(f.limit ?? 100, 1000));
  const r = await db.query(
    `select d.*, e.id as event_id${f.withPayload ? ', e.data' : ''} from hub_dead_letters d join hub_events e on e.seq = d.event_seq ${w} order by d.id limit $${params.length}`,
    params,
  );
  return r.rows.map((x) => toDeadLetter(x, !!f.withPayload));
}

/** One dead letter; with a tenant, only that tenant's. */
export async function getDeadLetter(db: pg.Pool, id: number, tenantId?: string): Promise<DeadLetter | undefined> {
  const r = await db.query(
    `select d.*, e.id as event_id, e.data from hub_dead_letters d join hub_events e on e.seq = d.event_seq where d.id = $1 ${tenantId ? 'and d.tenant_id = $2' : ''}`,
    tenantId ? [id, tenantId] : [id],
  );
  return r.rows[0] ? toDeadLetter(r.rows[0], true) : undefined;
}

/** Marks the open dead letters matching the filter for replay; returns the request. */
export async function requestReplay(db: pg.Pool, f: DeadLetterFilter, requestedBy: string): Promise<{ replayId: number; total: number }> {
  // the tenant bounds a replay; it does not select anything by itself
  const hasFilter = Object.entries(f).some(([k, v]) => k !== 'tenantId' && v !== undefined && !(Array.isArray(v) && v.length === 0));
  if (!hasFilter) throw new ValidationError('replay.filter_required', 'a replay needs a filter: ids, a type, key, source, error code or class, or a time range (from/to)');
  if (f.from && f.to && f.from >= f.to) throw new ValidationError('replay.bad_range', '"from" must be before "to"', [{ path: 'from', message: 'not before "to"' }]);
  const c = await db.connect();
  try {
    await c.query('begin');
    const req = await c.query<{ id: number }>(`insert into hub_replays (requested_by, filter, total, tenant_id) values ($1, $2, 0, $3) returning id`, [
      requestedBy, JSON.stringify(f), f.tenantId ?? 'default',
    ]);
    const replayId = req.rows[0]!.id;
    const params: unknown[] = [];
    const w = where(f, 'open', params);
    params.push(replayId);
    const u = await c.query(
      `update hub_dead_letters d set status = 'replaying', replay_id = $${params.length}, updated_at = now()
       from (select d.id from hub_dead_letters d ${w} for update skip locked) s where d.id = s.id
       returning d.tenant_id`,
      params,
    );
    const total = u.rowCount ?? 0;
    // one audit entry per tenant whose dead letters it touches (an operator's replay may span tenants)
    const perTenant = new Map<string, number>();
    for (const row of u.rows) perTenant.set(row.tenant_id, (perTenant.get(row.tenant_id) ?? 0) + 1);
    if (!perTenant.size) perTenant.set(f.tenantId ?? 'default', 0);
    for (const [tenantId, n] of [...perTenant].sort()) {
      await appendAudit(c, { tenantId, actor: requestedBy, action: 'replay.requested', objectType: 'replay', objectId: String(replayId), details: { selected: n, filter: JSON.parse(JSON.stringify(f)) } });
    }
    await c.query(`update hub_replays set total = $2 where id = $1`, [replayId, total]);
    await c.query(`select pg_notify('hub_work', '')`);
    await c.query('commit');
    return { replayId, total };
  } catch (e) {
    await c.query('rollback').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

export interface ReplayProgress {
  replayId: number;
  total: number;
  replaying: number;
  replayed: number;
  failed: number;
  done: boolean;
}

export async function replayProgress(db: pg.Pool, replayId: number, tenantId?: string): Promise<ReplayProgress | undefined> {
  const r = await db.query(
    `select r.total,
       count(*) filter (where d.status = 'replaying')::int as replaying,
       count(*) filter (where d.status = 'replayed')::int as replayed,
       count(*) filter (where d.status = 'open')::int as failed
     from hub_replays r left join hub_dead_letters d on d.replay_id = r.id where r.id = $1 ${tenantId ? 'and r.tenant_id = $2' : ''} group by r.total`,
    tenantId ? [replayId, tenantId] : [replayId],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  return { replayId, total: row.total, replaying: row.replaying, replayed: row.replayed, failed: row.failed, done: row.replaying === 0 };
}
