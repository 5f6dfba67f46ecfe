/**
 * Durable timers. A timer is a row (key, name, due_at); when it falls due it becomes an
 * ordinary event in the inbox (type chosen when it was scheduled, key = the timer's
 * key), so a timer firing is handled, retried and dead-lettered like any event, and in
 * order with the key's other events. Firing is idempotent: the event id is derived from
 * the timer row and its due time, and the row is claimed with SKIP LOCKED.
 */
import type pg from 'pg';
import { ingest } from './inbox.ts';
import type { TimerRequest } from './types.ts';

export const TIMER_SOURCE = 'urn:hub:timers';

/** Fires timers due at `now`; returns how many fired. */
export async function fireDueTimers(pool: pg.Pool, now: Date, limit = 500): Promise<number> {
  const c = await pool.connect();
  try {
    await c.query('begin');
    const due = await c.query<{ id: number; tenant_id: string; key: string; name: string; due_at: Date; event_type: string; payload: Record<string, unknown> }>(
      `select id, tenant_id, key, name, due_at, event_type, payload from hub_timers
       where status = 'scheduled' and due_at <= $1 order by due_at limit $2 for update skip locked`,
      [now, limit],
    );
    if (due.rowCount === 0) {
      await c.query('commit');
      return 0;
    }
    await ingest(
      c,
      due.rows.map((t) => ({
        id: `timer-${t.id}-${t.due_at.getTime()}`,
        source: TIMER_SOURCE,
        type: t.event_type,
        specversion: '1.0',
        subject: t.name,
        time: t.due_at.toISOString(),
        datacontenttype: 'application/json',
        data: { ...t.payload, timer: t.name, key: t.key, dueAt: t.due_at.toISOString() },
        extensions: {},
        key: t.key,
        tenantId: t.tenant_id,
      })),
    );
    await c.query(`update hub_timers set status = 'fired', fired_at = $2 where id = any($1::bigint[])`, [due.rows.map((t) => t.id), now]);
    await c.query('commit');
    return due.rowCount ?? 0;
  } catch (e) {
    await c.query('rollback').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

/** Schedules (or moves) a timer outside a handler, e.g. from a workflow start. */
export async function scheduleTimer(db: pg.Pool | pg.PoolClient, t: TimerRequest): Promise<void> {
  await db.query(
    `insert into hub_timers (tenant_id, key, name, due_at, event_type, payload) values ($1, $2, $3, $4, $5, $6)
     on conflict (tenant_id, key, name) do update set due_at = excluded.due_at, event_type = excluded.event_type, payload = excluded.payload, status = 'scheduled', fired_at = null`,
    [t.tenantId ?? 'default', t.key, t.name, t.dueAt, t.eventType, JSON.stringify(t.payload ?? {})],
  );
}

export async function cancelTimer(db: pg.Pool | pg.PoolClient, key: string, name: string, tenantId = 'default'): Promise<boolean> {
  const r = await db.query(`update hub_timers set status = 'cancelled' where tenant_id = $3 and key = $1 and name = $2 and status = 'scheduled'`, [key, name, tenantId]);
  return r.rowCount === 1;
}
