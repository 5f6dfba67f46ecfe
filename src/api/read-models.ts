/**
 * What the query endpoints show, read straight from the pipeline's tables: one event with
 * its processing history, one business key's timeline, dead letters as API objects.
 */
import type pg from 'pg';
import type { Static } from '@sinclair/typebox';
import { getDeadLetter, type DeadLetter as PipelineDeadLetter } from '../pipeline/replay.ts';
import { rowToEvent } from '../pipeline/types.ts';
import { redactEventData } from '../domain/index.ts';
import { conflict, notFound } from './errors.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { Attempt, BusinessException, DeadLetter, EventView, Lifecycle, TimelineEntry, Timeline } from './schemas.ts';

type EventStatus = Static<typeof EventView>['status'];

const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export const links = {
  event: (id: string, source: string) => `/v1/events/${encodeURIComponent(id)}?source=${encodeURIComponent(source)}`,
  timeline: (key: string) => `/v1/timeline/${encodeURIComponent(key)}`,
  deadLetter: (id: number) => `/v1/dead-letters/${id}`,
  replay: (id: number) => `/v1/replays/${id}`,
};

/**
 * The status shown for an event: its dead letter decides when it has one; otherwise the
 * key's cursor (handled up to it) and the last attempt (a retry is scheduled).
 */
export function statusOf(handled: boolean, deadLetterStatus: string | null | undefined, lastOutcome: string | null | undefined): EventStatus {
  if (deadLetterStatus === 'open') return 'dead';
  if (deadLetterStatus === 'replaying') return 'retrying';
  if (deadLetterStatus === 'replayed' || handled) return 'done';
  return lastOutcome === 'retry' ? 'retrying' : 'pending';
}

/** Who reads: their tenant bounds every query; without pii:read personal data is masked. */
export interface Viewer {
  tenantId: string;
  pii: boolean;
}

/** The event data as this viewer may see it. */
export function dataFor(viewer: Viewer | undefined, type: string, data: unknown): unknown {
  return viewer && !viewer.pii && data !== null && data !== undefined ? redactEventData(type, data) : data;
}

export function deadLetterView(d: PipelineDeadLetter, withPayload: boolean, viewer?: Viewer): Static<typeof DeadLetter> {
  return {
    id: d.id,
    tenant: d.tenantId,
    eventSeq: d.eventSeq,
    eventId: d.eventId,
    key: d.key,
    type: d.type,
    source: d.source,
    reason: d.reason,
    errorClass: d.errorClass,
    errorCode: d.errorCode,
    attempts: d.attempts,
    status: d.status as Static<typeof DeadLetter>['status'],
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
    replayCount: d.replayCount,
    ...(withPayload ? { payload: dataFor(viewer, d.type, d.payload ?? null) } : {}),
    links: { self: links.deadLetter(d.id), event: links.event(d.eventId, d.source) },
  };
}

function attemptView(r: Record<string, unknown>): Static<typeof Attempt> {
  return {
    attempt: r.attempt as number,
    outcome: r.outcome as Static<typeof Attempt>['outcome'],
    worker: r.worker as string,
    errorClass: (r.error_class as string | null) ?? null,
    errorCode: (r.error_code as string | null) ?? null,
    errorMessage: (r.error_message as string | null) ?? null,
    startedAt: iso(r.started_at as Date),
    finishedAt: iso(r.finished_at as Date),
  };
}

// ----------------------------------------------------------------------------- one event

export async function eventView(db: pg.Pool, viewer: Viewer, id: string, source: string | undefined): Promise<Static<typeof EventView>> {
  const found = await db.query(
    `select e.*, k.cursor as key_cursor from hub_events e left join hub_keys k on k.tenant_id = e.tenant_id and k.key = e.key
     where e.tenant_id = $1 and e.id = $2 ${source === undefined ? '' : 'and e.source = $3'} order by e.seq limit 11`,
    source === undefined ? [viewer.tenantId, id] : [viewer.tenantId, id, source],
  );
  if (found.rowCount === 0) throw notFound('event.not_found', `no event with id ${JSON.stringify(id)}${source === undefined ? '' : ` from source ${JSON.stringify(source)}`}`);
  if (found.rows.length > 1) {
    throw conflict(
      'event.ambiguous_id',
      `several sources sent an event with id ${JSON.stringify(id)}; name one with ?source=`,
      found.rows.map((r) => ({ path: '/querystring/source', message: `candidate: ${r.source as string}` })),
    );
  }
  const row = found.rows[0]!;
  const e = rowToEvent(row);
  const [attempts, dl] = await Promise.all([
    db.query(`select * from hub_attempts where event_seq = $1 order by id`, [e.seq]),
    db.query<{ id: number }>(`select id from hub_dead_letters where event_seq = $1`, [e.seq]),
  ]);
  const deadLetter = dl.rows[0] ? await getDeadLetter(db, dl.rows[0].id, viewer.tenantId) : undefined;
  const history = attempts.rows.map(attemptView);
  const handled = row.key_cursor !== null && (row.key_cursor as number) >= e.seq;
  return {
    event: {
      ...(e.extensions as Record<string, string | number | boolean>),
      specversion: '1.0',
      id: e.id,
      source: e.source,
      type: e.type,
      ...(e.subject !== null ? { subject: e.subject } : {}),
      ...(e.time ? { time: iso(e.time) } : {}),
      ...(e.datacontenttype !== null ? { datacontenttype: e.datacontenttype } : {}),
      ...(e.dataschema !== null ? { dataschema: e.dataschema } : {}),
      ...(e.data !== null ? { data: dataFor(viewer, e.type, e.data) } : {}),
    },
    seq: e.seq,
    key: e.key,
    tenant: e.tenantId,
    occurredAt: e.occurredAt ? iso(e.occurredAt) : null,
    receivedAt: iso(e.receivedAt),
    correlationId: e.correlationId,
    status: statusOf(handled, deadLetter?.status, history.at(-1)?.outcome),
    history,
    deadLetter: deadLetter ? deadLetterView(deadLetter, false) : null,
    links: { self: links.event(e.id, e.source), timeline: links.timeline(e.key) },
  };
}

// ----------------------------------------------------------------------------- timeline

interface TimelinePosition {
  /** occurrence time (UTC, microseconds) of the last entry shown */
  t: string;
  s: number;
}

const POSITION_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function readPosition(cursor: string): TimelinePosition {
  return decodeCursor(cursor, (v) =>
    typeof v.t === 'string' && POSITION_TIME.test(v.t) && !Number.isNaN(Date.parse(v.t)) && typeof v.s === 'number' && Number.isSafeInteger(v.s) && v.s > 0
      ? { t: v.t, s: v.s }
      : undefined,
  );
}

/**
 * One key's events in occurrence order: the event time, or the receipt time for events
 * without one, then the inbox sequence. Keyset pagination on that order.
 */
export async function timelineView(db: pg.Pool, viewer: Viewer, key: string, limit: number, cursor: string | undefined): Promise<Static<typeof Timeline>> {
  const after = cursor === undefined ? undefined : readPosition(cursor);
  const params: unknown[] = [key, limit + 1, viewer.tenantId];
  if (after) params.push(after.t, after.s);
  const [events, lifecycle, exceptions] = await Promise.all([
    db.query(
      `select e.seq, e.id, e.source, e.type, e.subject, e.occurred_at, e.received_at,
              to_char(coalesce(e.occurred_at, e.received_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as position,
              k.cursor >= e.seq as handled, d.id as dead_letter_id, d.status as dead_letter_status,
              a.outcome as last_outcome, a.error_class, a.error_code, a.error_message, coalesce(a.attempts, 0)::int as attempts
       from hub_events e
       join hub_keys k on k.tenant_id = e.tenant_id and k.key = e.key
       left join hub_dead_letters d on d.event_seq = e.seq
       left join lateral (
         select outcome, error_class, error_code, error_message, count(*) over () as attempts
         from hub_attempts where event_seq = e.seq order by id desc limit 1
       ) a on true
       where e.tenant_id = $3 and e.key = $1 ${after ? `and (coalesce(e.occurred_at, e.received_at), e.seq) > ($4::timestamptz, $5::bigint)` : ''}
       order by coalesce(e.occurred_at, e.received_at), e.seq
       limit $2`,
      params,
    ),
    db.query(`select kind, state, state_at, flags, updated_at from hub_lifecycles where tenant_id = $2 and key = $1 order by kind`, [key, viewer.tenantId]),
    db.query(`select * from hub_exceptions where tenant_id = $2 and key = $1 order by created_at, id limit 500`, [key, viewer.tenantId]),
  ]);
  if (!after && events.rowCount === 0 && lifecycle.rowCount === 0 && exceptions.rowCount === 0) {
    throw notFound('timeline.not_found', `nothing is known about the key ${JSON.stringify(key)}`);
  }
  const page = events.rows.slice(0, limit);
  const last = page.at(-1);
  const nextCursor = events.rows.length > limit && last ? encodeCursor({ t: last.position as string, s: last.seq as number }) : null;
  const self = links.timeline(key);
  return {
    key,
    lifecycles: lifecycle.rows.map(
      (lc): Static<typeof Lifecycle> => ({ kind: lc.kind, state: lc.state ?? null, stateAt: isoOrNull(lc.state_at), flags: lc.flags, updatedAt: iso(lc.updated_at) }),
    ),
    exceptions: exceptions.rows.map(
      (x): Static<typeof BusinessException> => ({
        id: x.id,
        eventSeq: x.event_seq ?? null,
        code: x.code,
        severity: x.severity,
        message: x.message,
        status: x.status,
        details: x.details,
        createdAt: iso(x.created_at),
        resolvedAt: isoOrNull(x.resolved_at),
      }),
    ),
    events: page.map(
      (r): Static<typeof TimelineEntry> => ({
        seq: r.seq,
        id: r.id,
        source: r.source,
        type: r.type,
        subject: r.subject ?? null,
        occurredAt: isoOrNull(r.occurred_at),
        receivedAt: iso(r.received_at),
        status: statusOf(r.handled === true, r.dead_letter_status, r.last_outcome),
        attempts: r.attempts,
        lastOutcome: r.last_outcome ?? null,
        lastError: r.error_code || r.error_class ? { errorClass: r.error_class ?? null, errorCode: r.error_code ?? null, errorMessage: r.error_message ?? null } : null,
        deadLetterId: r.dead_letter_id ?? null,
        links: { self: links.event(r.id, r.source) },
      }),
    ),
    nextCursor,
    links: { self, ...(nextCursor ? { next: `${self}?cursor=${nextCursor}&limit=${limit}` } : {}) },
  };
}

/** The domains of what is known about a key (its events' types, its lifecycles), to check read scopes. */
export async function typesOfKey(db: pg.Pool, tenantId: string, key: string): Promise<{ types: string[]; lifecycles: string[] }> {
  const [t, l] = await Promise.all([
    db.query<{ type: string }>(`select distinct type from hub_events where tenant_id = $1 and key = $2`, [tenantId, key]),
    db.query<{ kind: string }>(`select kind from hub_lifecycles where tenant_id = $1 and key = $2`, [tenantId, key]),
  ]);
  return { types: t.rows.map((r) => r.type), lifecycles: l.rows.map((r) => r.kind) };
}
