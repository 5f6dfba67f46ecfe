/**
 * What a person can do to a business exception from the workbench, each in one
 * transaction with its audit entry and a note on the exception:
 *
 * - assign: give it to someone (or take it back);
 * - comment: say something about it;
 * - apply the suggested action: what the hub can do by itself it does (re-run the failed
 *   partner step, replay the dead-lettered event); a human task (call the recipient, file a
 *   claim) is recorded as done by the user. Either way the exception is resolved with what
 *   was done; if the re-run fails again the engine raises a new exception.
 * - edit and replay: correct the failed step's input (for example an address the carrier
 *   refused) and run it again, or correct the data of the event behind the exception and
 *   feed it in again as a new event (a replay of the original, linked by `replayof`);
 * - resolve (src/api/routes/admin.ts) also leaves a note.
 */
import type pg from 'pg';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import { validateEventData } from '../domain/catalogue.ts';
import { withTx, type Queryable } from '../platform/db.ts';
import { appendAudit } from '../security/audit.ts';
import { ingest } from '../pipeline/inbox.ts';
import type { IncomingEvent } from '../pipeline/types.ts';

export type NoteKind = 'comment' | 'assigned' | 'action' | 'replayed' | 'resolved';

export interface ExceptionNote {
  id: number;
  at: string;
  actor: string;
  /** the actor as people know it: the user's name, or the client's */
  actorName: string;
  kind: NoteKind;
  text: string;
  details: unknown;
}

interface Actor {
  tenantId: string;
  /** client:<id> or user:<id> */
  actor: string;
}

async function lockOpen(tx: Queryable, a: Actor, id: number, mustBeOpen: boolean): Promise<Record<string, unknown>> {
  const r = await tx.query(`select * from hub_exceptions where id = $1 and tenant_id = $2 for update`, [id, a.tenantId]);
  const x = r.rows[0];
  if (!x) throw new NotFoundError('exception.not_found', `no exception ${id} in this tenant`);
  if (mustBeOpen && x.status !== 'open') {
    throw new ValidationError('exception.already_resolved', `exception ${id} was resolved at ${(x.resolved_at as Date).toISOString()} by ${x.resolved_by ?? 'unknown'}`, [], { status: 409 });
  }
  return x;
}

export async function addNote(tx: Queryable, a: Actor, exceptionId: number, kind: NoteKind, text: string, details: Record<string, unknown> = {}): Promise<void> {
  await tx.query(`insert into hub_exception_notes (tenant_id, exception_id, actor, kind, text, details) values ($1, $2, $3, $4, $5, $6)`, [a.tenantId, exceptionId, a.actor, kind, text.slice(0, 4000), JSON.stringify(details)]);
  await tx.query(`update hub_exceptions set updated_at = now() where id = $1`, [exceptionId]);
}

export async function notesOf(db: Queryable, tenantId: string, exceptionId: number): Promise<ExceptionNote[]> {
  const r = await db.query(
    `select n.id, n.at, n.actor, n.kind, n.text, n.details, coalesce(u.username, c.name, n.actor) as actor_name
       from hub_exception_notes n
       left join hub_users u on n.actor = 'user:' || u.id
       left join hub_clients c on n.actor = 'client:' || c.id
      where n.tenant_id = $1 and n.exception_id = $2 order by n.id`,
    [tenantId, exceptionId],
  );
  return r.rows.map((n) => ({ id: Number(n.id), at: (n.at as Date).toISOString(), actor: n.actor, actorName: n.actor_name, kind: n.kind, text: n.text, details: n.details }));
}

export async function assignException(pool: pg.Pool, a: Actor, id: number, assignee: string | null): Promise<Record<string, unknown>> {
  return withTx(pool, async (tx) => {
    const x = await lockOpen(tx, a, id, true);
    const u = await tx.query(`update hub_exceptions set assignee = $2, updated_at = now() where id = $1 returning *`, [id, assignee]);
    await addNote(tx, a, id, 'assigned', assignee ? `assigned to ${assignee}` : 'unassigned', { from: x.assignee ?? null, to: assignee });
    await appendAudit(tx, { tenantId: a.tenantId, actor: a.actor, action: 'exception.assigned', objectType: 'exception', objectId: String(id), before: { assignee: x.assignee ?? null }, after: { assignee } });
    return u.rows[0];
  });
}

export async function commentOnException(pool: pg.Pool, a: Actor, id: number, text: string): Promise<ExceptionNote[]> {
  return withTx(pool, async (tx) => {
    await lockOpen(tx, a, id, false);
    await addNote(tx, a, id, 'comment', text);
    await appendAudit(tx, { tenantId: a.tenantId, actor: a.actor, action: 'exception.commented', objectType: 'exception', objectId: String(id), details: { length: text.length } });
    return notesOf(tx, a.tenantId, id);
  });
}

/** What applying the suggested action would do for this exception (shown before the button is pressed). */
export async function actionPlan(db: Queryable, tenantId: string, x: Record<string, unknown>): Promise<{ kind: 'rerun_step' | 'replay_event' | 'record'; description: string; editable: 'step_input' | 'event_data' | null }> {
  const details = (x.details ?? {}) as { stepKey?: string; step?: string; suggestedAction?: { code: string; description: string } };
  const suggestion = details.suggestedAction?.description ?? 'Investigate.';
  if (details.stepKey) {
    const s = await db.query(`select status, step from hub_workflow_steps where tenant_id = $1 and instance = $2 and step_key = $3`, [tenantId, x.key, details.stepKey]);
    if (s.rows[0]?.status === 'failed') return { kind: 'rerun_step', description: `Run ${s.rows[0].step} again (${suggestion})`, editable: 'step_input' };
  }
  if (x.event_seq !== null && x.event_seq !== undefined) {
    const d = await db.query(`select status from hub_dead_letters where event_seq = $1 and tenant_id = $2`, [x.event_seq, tenantId]);
    if (d.rows[0]?.status === 'open') return { kind: 'replay_event', description: `Replay the dead-lettered event (${suggestion})`, editable: 'event_data' };
    return { kind: 'record', description: suggestion, editable: 'event_data' };
  }
  return { kind: 'record', description: suggestion, editable: null };
}

async function resolveIn(tx: Queryable, a: Actor, id: number, resolution: string): Promise<Record<string, unknown>> {
  const u = await tx.query(`update hub_exceptions set status = 'resolved', resolved_at = now(), resolved_by = $2, resolution = $3, updated_at = now() where id = $1 returning *`, [id, a.actor, resolution.slice(0, 2000)]);
  await addNote(tx, a, id, 'resolved', resolution);
  return u.rows[0]!;
}

async function rerunStep(tx: Queryable, tenantId: string, instance: string, stepKey: string, input?: Record<string, unknown>): Promise<{ step: string; before: unknown; after: unknown }> {
  const s = await tx.query(`select id, step, input, status from hub_workflow_steps where tenant_id = $1 and instance = $2 and step_key = $3 for update`, [tenantId, instance, stepKey]);
  const row = s.rows[0];
  if (!row) throw new NotFoundError('exception.step_not_found', `the step ${stepKey} of ${instance} is gone`);
  if (row.status !== 'failed') throw new ValidationError('exception.step_not_failed', `the step ${row.step} is ${row.status}, not failed: nothing to run again`, [], { status: 409 });
  const next = input ? { ...(row.input as Record<string, unknown>), ...input } : row.input;
  await tx.query(`update hub_workflow_steps set status = 'pending', attempts = 0, run_at = now(), error = null, input = $2, lease_until = null, updated_at = now() where id = $1`, [row.id, JSON.stringify(next)]);
  return { step: row.step as string, before: row.input, after: next };
}

/** Applies the suggested action; the exception is resolved with what was done. */
export async function applySuggestedAction(pool: pg.Pool, a: Actor, id: number, note?: string): Promise<{ exception: Record<string, unknown>; did: string; replayId?: number }> {
  return withTx(pool, async (tx) => {
    const x = await lockOpen(tx, a, id, true);
    const plan = await actionPlan(tx, a.tenantId, x);
    const details = x.details as { stepKey?: string; suggestedAction?: { code: string } };
    let did: string;
    let replayId: number | undefined;
    if (plan.kind === 'rerun_step') {
      const r = await rerunStep(tx, a.tenantId, x.key as string, details.stepKey!);
      did = `ran ${r.step} again`;
    } else if (plan.kind === 'replay_event') {
      const dl = await tx.query(`select id from hub_dead_letters where event_seq = $1 and tenant_id = $2 and status = 'open' for update`, [x.event_seq, a.tenantId]);
      const rep = await tx.query(`insert into hub_replays (tenant_id, requested_by, filter, total) values ($1, $2, $3, 1) returning id`, [a.tenantId, a.actor, JSON.stringify({ ids: [dl.rows[0].id], tenantId: a.tenantId })]);
      replayId = Number(rep.rows[0].id);
      await tx.query(`update hub_dead_letters set status = 'replaying', replay_id = $2, updated_at = now() where id = $1`, [dl.rows[0].id, replayId]);
      await tx.query(`select pg_notify('hub_work', '')`);
      did = `replayed the dead-lettered event (dead letter ${dl.rows[0].id})`;
    } else {
      did = `${details.suggestedAction?.code ?? 'investigate'} done by ${a.actor}`;
    }
    const resolution = note ? `${did}: ${note}` : did;
    await addNote(tx, a, id, 'action', did, { plan: plan.kind, action: details.suggestedAction?.code ?? null, ...(replayId ? { replayId } : {}) });
    const exception = await resolveIn(tx, a, id, resolution);
    await appendAudit(tx, {
      tenantId: a.tenantId, actor: a.actor, action: 'exception.action_applied', objectType: 'exception', objectId: String(id),
      before: { status: 'open' }, after: { status: 'resolved', resolution }, details: { plan: plan.kind, action: details.suggestedAction?.code ?? null },
    });
    return { exception, did, ...(replayId ? { replayId } : {}) };
  });
}

/**
 * Edit and replay: the failed step runs again with the corrected input fields, or the
 * event behind the exception comes in again with corrected data (validated against its
 * type's schema first: an invalid correction changes nothing and says what is wrong).
 */
export async function editAndReplay(pool: pg.Pool, a: Actor, id: number, edit: { input?: Record<string, unknown>; data?: unknown }, note?: string): Promise<{ exception: Record<string, unknown>; did: string; eventId?: string }> {
  return withTx(pool, async (tx) => {
    const x = await lockOpen(tx, a, id, true);
    const details = x.details as { stepKey?: string };
    let did: string;
    let eventId: string | undefined;
    let before: unknown;
    let after: unknown;
    if (edit.input !== undefined) {
      if (!details.stepKey) throw new ValidationError('exception.not_a_step', `exception ${id} is not about a partner step: edit the event data instead`, [{ path: '/input', message: 'not applicable' }]);
      const r = await rerunStep(tx, a.tenantId, x.key as string, details.stepKey, edit.input);
      ({ before, after } = r);
      did = `ran ${r.step} again with corrected ${Object.keys(edit.input).join(', ') || 'input'}`;
    } else if (edit.data !== undefined) {
      if (x.event_seq === null || x.event_seq === undefined) throw new ValidationError('exception.no_event', `exception ${id} has no event behind it to replay`, [{ path: '/data', message: 'not applicable' }]);
      const ev = (await tx.query(`select * from hub_events where seq = $1 and tenant_id = $2`, [x.event_seq, a.tenantId])).rows[0];
      if (!ev) throw new NotFoundError('exception.event_gone', `the event behind exception ${id} is no longer kept`);
      const issues = validateEventData(ev.type, edit.data);
      if (issues.length) throw new ValidationError('exception.invalid_edit', `the corrected data is not a valid ${ev.type}: ${issues.slice(0, 5).map((i) => `${i.path || '/'} ${i.message}`).join('; ')}`, issues);
      const n = Number((await tx.query(`select count(*) as n from hub_exception_notes where exception_id = $1 and kind = 'replayed'`, [id])).rows[0].n) + 1;
      eventId = `${String(ev.id).slice(0, 200)}~edit-${id}-${n}`;
      const replay: IncomingEvent = {
        id: eventId,
        source: ev.source,
        type: ev.type,
        specversion: '1.0',
        ...(ev.subject ? { subject: ev.subject } : {}),
        time: new Date().toISOString(),
        ...(ev.occurred_at ? { occurredAt: (ev.occurred_at as Date).toISOString() } : {}),
        datacontenttype: 'application/json',
        ...(ev.dataschema ? { dataschema: ev.dataschema } : {}),
        data: edit.data,
        extensions: { ...(ev.extensions as Record<string, string>), replayof: String(ev.id) },
        key: ev.key,
        tenantId: a.tenantId,
        ...(ev.correlation_id ? { correlationId: ev.correlation_id } : {}),
      } as IncomingEvent;
      await ingest(tx as pg.PoolClient, [replay]);
      // the original's dead letter counts as replayed: its corrected copy took its place
      await tx.query(`update hub_dead_letters set status = 'replayed', replay_count = replay_count + 1, updated_at = now() where event_seq = $1 and tenant_id = $2 and status = 'open'`, [x.event_seq, a.tenantId]);
      before = ev.data;
      after = edit.data;
      did = `replayed ${ev.type} with corrected data as event ${eventId}`;
    } else {
      throw new ValidationError('exception.nothing_to_replay', 'give the corrected step input (input) or the corrected event data (data)', [{ path: '/', message: 'input or data required' }]);
    }
    await addNote(tx, a, id, 'replayed', did, { ...(eventId ? { eventId } : {}) });
    const exception = await resolveIn(tx, a, id, note ? `${did}: ${note}` : did);
    await appendAudit(tx, { tenantId: a.tenantId, actor: a.actor, action: 'exception.replayed', objectType: 'exception', objectId: String(id), before, after, details: { did } });
    return { exception, did, ...(eventId ? { eventId } : {}) };
  });
}
