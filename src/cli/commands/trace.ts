/**
 * `logistics-hub trace <key-or-event-id>`: everything the hub knows about one business
 * key: its events in occurrence order with their processing outcomes and attempts, dead
 * letters, exceptions, timers, folded lifecycle and cross references.
 */
import { Command } from 'commander';
import type pg from 'pg';
import { act, examples, optionsOf } from '../command.ts';
import { loadCliConfig, withDatabase } from '../context.ts';
import { CliError } from '../errors.ts';
import { c, fields, fmtTime, json, table } from '../output.ts';
import { deadLetterTable } from './dlq.ts';
import { listDeadLetters } from '../../pipeline/replay.ts';

export interface TraceAttempt {
  attempt: number;
  outcome: string;
  worker: string;
  errorClass: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  startedAt: Date;
  finishedAt: Date;
}

export interface TraceEvent {
  seq: number;
  /** the event's key: the traced key, or one of its workflow's shipments */
  key: string;
  id: string;
  source: string;
  type: string;
  occurredAt: Date | null;
  receivedAt: Date;
  correlationId: string | null;
  /** last outcome, or pending / waiting to retry when not handled yet */
  outcome: string;
  attempts: TraceAttempt[];
  data: unknown;
}

/** Finds the key: the argument itself, else the key of the event with that id (or seq). */
async function resolveKey(pool: pg.Pool, arg: string, tenantId: string): Promise<{ key: string; via?: string; others: string[] } | undefined> {
  const asKey = await pool.query(
    `select 1 from hub_events where key = $1 and tenant_id = $2
     union all select 1 from hub_keys where key = $1 and tenant_id = $2
     union all select 1 from hub_lifecycles where key = $1 and tenant_id = $2
     union all select 1 from hub_exceptions where key = $1 and tenant_id = $2
     union all select 1 from hub_timers where key = $1 and tenant_id = $2
     union all select 1 from hub_workflows where instance = $1 and tenant_id = $2 limit 1`,
    [arg, tenantId],
  );
  if (asKey.rowCount) return { key: arg, others: [] };
  const seq = /^\d+$/.test(arg) && Number(arg) <= Number.MAX_SAFE_INTEGER ? Number(arg) : null;
  const byEvent = await pool.query<{ key: string; id: string; source: string }>(
    `select key, id, source from hub_events where (id = $1 or seq = $2) and tenant_id = $3 order by seq`,
    [arg, seq, tenantId],
  );
  if (!byEvent.rowCount) return undefined;
  const keys = [...new Set(byEvent.rows.map((r) => r.key))];
  const first = byEvent.rows[0]!;
  return { key: first.key, via: `event ${first.id} from ${first.source}`, others: keys.slice(1) };
}

export async function collectTrace(pool: pg.Pool, key: string, tenantId = 'default') {
  // a workflow instance (an order on its way): its state, its steps, and the keys of its shipments, whose events join the order's
  const workflows = (await pool.query(`select workflow, status, state, updated_at from hub_workflows where instance = $1 and tenant_id = $2 order by workflow`, [key, tenantId])).rows;
  const steps = workflows.length
    ? (await pool.query(`select workflow, step, step_key, status, attempts, run_at, error, updated_at from hub_workflow_steps where instance = $1 and tenant_id = $2 order by id`, [key, tenantId])).rows
    : [];
  const related = [...new Set(workflows.flatMap((w) => (Array.isArray(w.state?.parts) ? (w.state.parts as { shipmentId?: string }[]).map((p) => p.shipmentId).filter((x): x is string => !!x) : [])))];
  const events = await pool.query(
    `select seq, id, source, type, key, occurred_at, received_at, correlation_id, data, tenant_id from hub_events where key = any($1::text[]) and tenant_id = $2 order by coalesce(occurred_at, received_at), seq`,
    [[key, ...related], tenantId],
  );
  const seqs = events.rows.map((r) => r.seq as number);
  const attempts = seqs.length
    ? (await pool.query(`select * from hub_attempts where event_seq = any($1::bigint[]) order by id`, [seqs])).rows
    : [];
  const work = (await pool.query(`select tenant_id, pending, cursor, attempts, run_at, locked_by, lease_until, last_error from hub_keys where key = $1 and tenant_id = $2`, [key, tenantId])).rows[0];
  const lifecycles = (await pool.query(`select kind, state, state_at, flags, snapshot, updated_at, tenant_id from hub_lifecycles where key = $1 and tenant_id = $2 order by kind`, [key, tenantId])).rows;
  const deadLetters = await listDeadLetters(pool, { key, tenantId, limit: 1000 });
  const exceptions = (await pool.query(`select id, code, severity, message, status, details, created_at, resolved_at, event_seq from hub_exceptions where key = $1 and tenant_id = $2 order by id`, [key, tenantId])).rows;
  const timers = (await pool.query(`select name, due_at, status, event_type, fired_at from hub_timers where key = $1 and tenant_id = $2 order by due_at`, [key, tenantId])).rows;
  // cross references: rows naming the key as a canonical or external id, and their siblings
  const ids = [key, ...(key.includes(':') ? [key.slice(key.indexOf(':') + 1)] : [])];
  const xref = (
    await pool.query(
      `with hit as (select distinct tenant_id, entity, canonical_id from hub_xref where tenant_id = $2 and (canonical_id = any($1::text[]) or external_id = any($1::text[])))
       select x.entity, x.canonical_id, x.system, x.external_id, x.created_at from hub_xref x join hit using (tenant_id, entity, canonical_id)
       order by x.entity, x.canonical_id, x.system, x.external_id`,
      [ids, tenantId],
    )
  ).rows;

  const byEvent = new Map<number, TraceAttempt[]>();
  for (const a of attempts) {
    const list = byEvent.get(a.event_seq) ?? [];
    list.push({
      attempt: a.attempt,
      outcome: a.outcome,
      worker: a.worker,
      errorClass: a.error_class,
      errorCode: a.error_code,
      errorMessage: a.error_message,
      startedAt: a.started_at,
      finishedAt: a.finished_at,
    });
    byEvent.set(a.event_seq, list);
  }
  const dlBySeq = new Map(deadLetters.map((d) => [d.eventSeq, d]));
  const traceEvents: TraceEvent[] = events.rows.map((r) => {
    const list = byEvent.get(r.seq) ?? [];
    const last = list.at(-1);
    let outcome = last?.outcome ?? 'pending';
    const dl = dlBySeq.get(r.seq);
    if (dl?.status === 'replaying') outcome = 'replay queued';
    else if (last?.outcome === 'retry') outcome = 'waiting to retry';
    return {
      seq: r.seq,
      key: r.key,
      id: r.id,
      source: r.source,
      type: r.type,
      occurredAt: r.occurred_at,
      receivedAt: r.received_at,
      correlationId: r.correlation_id,
      outcome,
      attempts: list,
      data: r.data,
    };
  });
  return {
    key,
    tenantId: (work?.tenant_id ?? lifecycles[0]?.tenant_id ?? events.rows[0]?.tenant_id ?? 'default') as string,
    lifecycles: lifecycles.map((l) => ({ kind: l.kind, state: l.state, stateAt: l.state_at, flags: l.flags, snapshot: l.snapshot, updatedAt: l.updated_at })),
    work: work
      ? { pending: work.pending, cursor: work.cursor, failedAttempts: work.attempts, runAt: work.run_at, lockedBy: work.locked_by, leaseUntil: work.lease_until, lastError: work.last_error }
      : null,
    events: traceEvents,
    deadLetters,
    exceptions: exceptions.map((x) => ({
      id: x.id, eventSeq: x.event_seq, code: x.code, severity: x.severity, message: x.message, status: x.status, details: x.details, createdAt: x.created_at, resolvedAt: x.resolved_at,
    })),
    timers: timers.map((t) => ({ name: t.name, dueAt: t.due_at, status: t.status, eventType: t.event_type, firedAt: t.fired_at })),
    workflows: workflows.map((w) => ({ workflow: w.workflow, status: w.status, state: w.state, updatedAt: w.updated_at })),
    steps: steps.map((x) => ({ workflow: x.workflow, step: x.step, stepKey: x.step_key, status: x.status, attempts: x.attempts, runAt: x.run_at, error: x.error, updatedAt: x.updated_at })),
    relatedKeys: related,
    xref: xref.map((x) => ({ entity: x.entity, canonicalId: x.canonical_id, system: x.system, externalId: x.external_id, createdAt: x.created_at })),
  };
}

export type Trace = Awaited<ReturnType<typeof collectTrace>>;

const outcomeColour = (o: string) =>
  o === 'done' || o === 'replayed' ? c.green(o) : o === 'dead' || o === 'replay_failed' ? c.red(o) : o === 'pending' ? o : c.yellow(o);

export function renderTrace(t: Trace, via?: string): string {
  const out: string[] = [];
  out.push(c.bold(`key ${t.key}`) + c.dim(` (tenant ${t.tenantId}${via ? `; found by ${via}` : ''})`));
  const lifecycleLine = (lc: Trace['lifecycles'][number]) => {
    const flags = Array.isArray(lc.flags) && lc.flags.length
      ? ` flags: ${(lc.flags as { kind: string; event?: { id?: string } }[]).map((f) => `${f.kind}${f.event?.id ? ` (${f.event.id})` : ''}`).join(', ')}`
      : '';
    return `${lc.kind} ${c.bold(String(lc.state))} since ${fmtTime(lc.stateAt)}${flags}`;
  };
  const w = t.work;
  out.push(
    fields([
      ['lifecycle', t.lifecycles.length ? t.lifecycles.map(lifecycleLine).join('; ') : 'none (no lifecycle folded for this key)'],
      [
        'work',
        w
          ? `${w.pending} pending${w.lastError ? `, last error: ${w.lastError}` : ''}${w.failedAttempts ? `, ${w.failedAttempts} failed attempts, next at ${fmtTime(w.runAt)}` : ''}${w.lockedBy ? `, leased by ${w.lockedBy}` : ''}`
          : 'none',
      ],
    ]),
  );
  for (const wf of t.workflows) {
    const parts = Array.isArray((wf.state as { parts?: unknown })?.parts) ? ((wf.state as { parts: Record<string, unknown>[] }).parts) : [];
    out.push('', c.bold(`workflow ${wf.workflow}: ${wf.status}`) + c.dim(` (phase ${String((wf.state as { phase?: string })?.phase ?? '?')}, updated ${fmtTime(wf.updatedAt)})`));
    if (parts.length) {
      out.push(
        table(parts, [
          { header: 'SHIPMENT', value: (p) => String(p.shipmentId ?? '') },
          { header: 'WAREHOUSE', value: (p) => String(p.warehouseId ?? '') },
          { header: 'STATUS', value: (p) => String(p.status ?? '') },
          { header: 'CARRIER', value: (p) => String((p.carrier as { carrierCode?: string; service?: string } | undefined)?.carrierCode ?? '') },
          { header: 'TRACKING', value: (p) => String(p.trackingNumber ?? '') },
          { header: 'SCAN', value: (p) => String(p.trackingStatus ?? '') },
        ]),
      );
    }
    const mine = t.steps.filter((x) => x.workflow === wf.workflow);
    if (mine.length) {
      out.push(
        table(mine, [
          { header: 'STEP', value: (x) => x.stepKey, max: 50 },
          { header: 'STATUS', value: (x) => (x.status === 'done' ? c.green(x.status) : x.status === 'failed' ? c.red(x.status) : c.yellow(x.status)) },
          { header: 'TRIES', value: (x) => x.attempts, align: 'right' },
          { header: 'UPDATED', value: (x) => fmtTime(x.updatedAt) },
          { header: 'LAST ERROR', value: (x) => (x.error ? `${(x.error as { code?: string }).code ?? ''}: ${(x.error as { message?: string }).message ?? ''}` : ''), max: 60 },
        ]),
      );
    }
  }
  out.push('', c.bold(`events (${t.events.length}, in occurrence order${t.relatedKeys.length ? `, with those of ${t.relatedKeys.join(', ')}` : ''})`));
  out.push(
    t.events.length
      ? table(t.events, [
          { header: 'SEQ', value: (e) => e.seq, align: 'right' },
          { header: 'OCCURRED', value: (e) => fmtTime(e.occurredAt ?? e.receivedAt) },
          ...(t.relatedKeys.length ? [{ header: 'KEY', value: (e: TraceEvent) => e.key, max: 24 }] : []),
          { header: 'TYPE', value: (e) => e.type, max: 40 },
          { header: 'EVENT ID', value: (e) => e.id, max: 36 },
          { header: 'SOURCE', value: (e) => e.source, max: 30 },
          { header: 'OUTCOME', value: (e) => outcomeColour(e.outcome) },
          { header: 'TRIES', value: (e) => e.attempts.length, align: 'right' },
          { header: 'LAST ERROR', value: (e) => { const a = [...e.attempts].reverse().find((x) => x.errorCode); return a ? `${a.errorCode}: ${a.errorMessage ?? ''}` : ''; }, max: 60 },
        ])
      : '(none)',
  );
  const failedAttempts = t.events.flatMap((e) => e.attempts.filter((a) => a.outcome !== 'done').map((a) => ({ e, a })));
  if (failedAttempts.length) {
    out.push('', c.bold('attempts that did not simply succeed'));
    out.push(
      table(failedAttempts, [
        { header: 'SEQ', value: (x) => x.e.seq, align: 'right' },
        { header: '#', value: (x) => x.a.attempt, align: 'right' },
        { header: 'FINISHED', value: (x) => fmtTime(x.a.finishedAt) },
        { header: 'OUTCOME', value: (x) => outcomeColour(x.a.outcome) },
        { header: 'CLASS', value: (x) => x.a.errorClass },
        { header: 'CODE', value: (x) => x.a.errorCode, max: 32 },
        { header: 'MESSAGE', value: (x) => x.a.errorMessage, max: 60 },
      ]),
    );
  }
  out.push('', c.bold(`dead letters (${t.deadLetters.length})`), t.deadLetters.length ? deadLetterTable(t.deadLetters) : '(none)');
  out.push(
    '',
    c.bold(`exceptions (${t.exceptions.length})`),
    t.exceptions.length
      ? table(t.exceptions, [
          { header: 'ID', value: (x) => x.id, align: 'right' },
          { header: 'CREATED', value: (x) => fmtTime(x.createdAt) },
          { header: 'STATUS', value: (x) => x.status },
          { header: 'SEVERITY', value: (x) => x.severity },
          { header: 'CODE', value: (x) => x.code, max: 32 },
          { header: 'SEQ', value: (x) => x.eventSeq, align: 'right' },
          { header: 'MESSAGE', value: (x) => x.message, max: 70 },
        ])
      : '(none)',
  );
  if (t.timers.length)
    out.push(
      '',
      c.bold(`timers (${t.timers.length})`),
      table(t.timers, [
        { header: 'NAME', value: (x) => x.name },
        { header: 'DUE', value: (x) => fmtTime(x.dueAt) },
        { header: 'STATUS', value: (x) => x.status },
        { header: 'EVENT TYPE', value: (x) => x.eventType },
      ]),
    );
  out.push(
    '',
    c.bold(`cross references (${t.xref.length})`),
    t.xref.length
      ? table(t.xref, [
          { header: 'ENTITY', value: (x) => x.entity },
          { header: 'CANONICAL ID', value: (x) => x.canonicalId },
          { header: 'SYSTEM', value: (x) => x.system },
          { header: 'EXTERNAL ID', value: (x) => x.externalId },
        ])
      : '(none)',
  );
  return out.join('\n');
}

export function traceCommand(): Command {
  const cmd = new Command('trace')
    .description('everything about one business key: events and their outcomes, attempts, dead letters, exceptions, lifecycle, cross references')
    .argument('<key-or-event-id>', 'a business key (e.g. SHP-1042), or an event id (CloudEvents id or inbox seq) whose key to trace')
    .option('--tenant <id>', 'the tenant (Odoo company) whose key it is', 'default')
    .option('--json', 'print JSON for scripts (event payloads included)')
    .action(
      act(async (arg: string, _o: unknown, self: Command) => {
        const o = optionsOf<{ json?: boolean; tenant: string }>(self);
        const { config } = loadCliConfig(o);
        return withDatabase(config, async (db) => {
          const found = await resolveKey(db.pool, arg, o.tenant);
          if (!found)
            throw new CliError(`nothing is known about "${arg}": no event, lifecycle or exception has this key, and no event has this id`, {
              fix: 'check the spelling (keys are case-sensitive); `logistics-hub dlq list --json` shows keys of failed events',
            });
          const t = await collectTrace(db.pool, found.key, o.tenant);
          if (o.json) {
            process.stdout.write(json({ query: arg, ...(found.via ? { foundBy: found.via } : {}), ...t }) + '\n');
            return 0;
          }
          process.stdout.write(renderTrace(t, found.via) + '\n');
          if (found.others.length) process.stdout.write(c.dim(`\nevents with id "${arg}" also exist under: ${found.others.join(', ')}`) + '\n');
          return 0;
        });
      }),
    );
  return examples(cmd, [
    ['logistics-hub trace SHP-1042', 'a shipment key'],
    ['logistics-hub trace 7f3c9a2e-0d1b-4c61-a9e8-5b2f0c4d1e77', 'the key of this event'],
    ['logistics-hub trace SO-2231 --json | jq ".events[] | {type, outcome}"'],
  ]);
}
