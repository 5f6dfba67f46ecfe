/**
 * The workflow engine: long-running processes (an order from release to invoice) as a pure
 * decide function over events, and named steps that call external systems.
 *
 * - A workflow instance is a row of hub_workflows holding its state. The pipeline handler
 *   (`workflowHandler`) routes each event to its instance, locks the row, asks the
 *   workflow's `decide(state, event)` (pure: no I/O, no clock of its own) what follows,
 *   and writes the result in the transaction that marks the event handled: the new state,
 *   steps to run, timers, events to emit, exceptions to raise or resolve. A replayed or
 *   duplicated event therefore cannot apply twice, and a crash leaves nothing half-done.
 * - A step is a row of hub_workflow_steps, named (`wms.release`) and keyed (`wms.release:shp-1`);
 *   the key is unique per instance, so asking twice schedules once, and it is the idempotency
 *   key the step sends to the partner. The `StepRunner` claims due steps with a lease, one
 *   step per instance at a time (the instance's step lease on its hub_workflows row: two parts
 *   of an order never write to the same Odoo delivery at once), runs them outside any transaction, and records the outcome with the events the
 *   step produced, which reach the workflow like any other event. Transient failures are
 *   retried with exponential backoff and jitter up to the step's attempts; then, or on a
 *   permanent or business failure, the step fails and an exception record says what went
 *   wrong, with the step's compensation named when it has one. A lease that runs out (the
 *   process died mid-step) makes the step due again: steps must be idempotent.
 */
import type pg from 'pg';
import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { dataschemaUrl, dataTimeOf, keyOf, validateEventData, type EventType } from '../domain/catalogue.ts';
import { HubError } from '../domain/errors.ts';
import { exceptionDefaults, type ExceptionClass } from '../domain/model.ts';
import type { Clock } from '../platform/clock.ts';
import { withTx } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { Metrics } from '../platform/metrics.ts';
import { ingest } from '../pipeline/inbox.ts';
import type { Handler, HandlerContext, IncomingEvent, StoredEvent } from '../pipeline/types.ts';
import { SpanKind, activeContext, contextWithTenant, extractTraceContext, inSpan, stampTraceContext, traceHeaders } from '../platform/tracing.ts';

export const WORKFLOW_TIMER_EVENT = 'hub.timer.fired.v1';
export const STEP_COMPLETED_EVENT = 'hub.step.completed.v1';

/**
 * Where a step row keeps the trace context of the event whose decision scheduled it: a
 * `_trace` member of its stored input ({ traceparent, tracestate }), taken out again before
 * the step runs. The step's span is then a child of that event's span, across the hours a step
 * may wait, without a column of its own.
 */
export const STEP_TRACE_KEY = '_trace';

function inputWithTrace(input: Record<string, unknown>): Record<string, unknown> {
  const h = traceHeaders(activeContext());
  return h.traceparent ? { ...input, [STEP_TRACE_KEY]: h } : input;
}

/** An event a decision or a step emits (validated against the catalogue before it is stored). */
export interface Emit {
  type: EventType;
  data: Record<string, unknown>;
  /** part of the deterministic event id: the same emit twice is one event */
  dedupe: string;
}

export interface StepRequest {
  /** the step's name, a key of the workflow's `steps` */
  name: string;
  /** unique within the instance; doubles as the partner idempotency key */
  key: string;
  input: Record<string, unknown>;
  /** not before (default now) */
  runAt?: Date;
}

export interface ExceptionRequest {
  exceptionClass: ExceptionClass;
  /** stable within the instance: raising the same code twice while open raises once */
  code: string;
  message: string;
  details?: Record<string, unknown>;
  subject: { entity: string; id: string };
}

export interface Decision<S> {
  state: S;
  status?: 'running' | 'completed' | 'cancelled';
  steps?: StepRequest[];
  /** step keys to cancel when still pending */
  cancelSteps?: string[];
  timers?: { name: string; dueAt: Date; payload?: Record<string, unknown> }[];
  cancelTimers?: string[];
  emit?: Emit[];
  exceptions?: ExceptionRequest[];
  /** exception codes of this instance to close (recovery) */
  resolve?: { code: string; resolution: string }[];
  /** ids partners will name this instance by (fulfilment request, shipment, tracking number) */
  refs?: string[];
}

export interface WorkflowDefinition<S> {
  name: string;
  /** event types the workflow listens to (timer events are routed by their payload) */
  eventTypes: readonly string[];
  /** the instance an event belongs to, when the event names it */
  instanceOf(event: StoredEvent): string | undefined;
  /** otherwise: ids in the event an instance registered (Decision.refs), looked up in that order */
  refsOf?(event: StoredEvent): string[];
  /** whether an event may start a new instance */
  starts(event: StoredEvent): boolean;
  decide(state: S | undefined, event: StoredEvent, now: Date): Decision<S>;
  steps: Record<string, StepDefinition>;
}

export interface StepContext {
  tenantId: string;
  workflow: string;
  instance: string;
  stepKey: string;
  attempt: number;
  clock: Clock;
  log: Logger;
}

export interface StepResult {
  /** events the step produced (the workflow continues from them) */
  emit?: Emit[];
  /** kept on the step row, for the trace */
  output?: Record<string, unknown>;
}

export interface StepDefinition {
  name: string;
  /** attempts before a transient failure becomes a failed step (default 8) */
  maxAttempts?: number;
  /** the exception class a failed step raises (default partner_rejected) */
  failureClass?: ExceptionClass;
  /** the step that undoes this one, for the record (the workflow schedules it when needed) */
  compensation?: string;
  run(input: Record<string, unknown>, ctx: StepContext): Promise<StepResult>;
}

// ------------------------------------------------------------------ events

/** A canonical event from a workflow or a step, with a deterministic id. */
export function workflowEvent(tenantId: string, workflow: string, instance: string, e: Emit, now: Date): IncomingEvent {
  const issues = validateEventData(e.type, e.data);
  if (issues.length) {
    throw new HubError({ code: 'workflow.invalid_event', errorClass: 'permanent', message: `${workflow} ${instance} produced an invalid ${e.type}: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}` });
  }
  return {
    id: `wf:${workflow}:${instance}:${e.type}:${e.dedupe}`.slice(0, 250),
    source: `urn:hub:workflow:${workflow}`,
    type: e.type,
    specversion: '1.0',
    subject: instance,
    time: now.toISOString(),
    occurredAt: dataTimeOf(e.type, e.data) ?? now.toISOString(),
    datacontenttype: 'application/json',
    dataschema: dataschemaUrl(e.type),
    data: e.data,
    extensions: { tenant: tenantId },
    key: keyOf(e.type, e.data) ?? instance,
    tenantId,
  };
}

async function raise(tx: pg.PoolClient, tenantId: string, workflow: string, instance: string, x: ExceptionRequest, now: Date, eventSeq: number | null): Promise<IncomingEvent | undefined> {
  const open = await tx.query(`select 1 from hub_exceptions where tenant_id = $1 and key = $2 and code = $3 and status = 'open'`, [tenantId, instance, x.code]);
  if (open.rowCount) return undefined;
  const d = exceptionDefaults(x.exceptionClass);
  const ins = await tx.query<{ id: string }>(
    `insert into hub_exceptions (tenant_id, key, event_seq, code, severity, message, details) values ($1, $2, $3, $4, $5, $6, $7) returning id`,
    [tenantId, instance, eventSeq, x.code, d.severity, x.message, JSON.stringify({ ...x.details, class: x.exceptionClass, ownerQueue: d.ownerQueue, suggestedAction: d.suggestedAction, workflow, subject: x.subject })],
  );
  const data = {
    exceptionId: `exc-${ins.rows[0]!.id}`,
    class: x.exceptionClass,
    severity: d.severity,
    ownerQueue: d.ownerQueue,
    subject: x.subject,
    raisedAt: now.toISOString(),
    message: x.message.slice(0, 2000),
    suggestedAction: d.suggestedAction,
    details: { code: x.code, workflow, ...(x.details ?? {}) },
  };
  return workflowEvent(tenantId, workflow, instance, { type: 'exception.raised.v1', data, dedupe: `exc-${ins.rows[0]!.id}` }, now);
}

async function resolve(tx: pg.PoolClient, tenantId: string, workflow: string, instance: string, r: { code: string; resolution: string }, now: Date): Promise<IncomingEvent[]> {
  const rows = await tx.query<{ id: string; details: { subject?: { entity: string; id: string } } }>(
    `update hub_exceptions set status = 'resolved', resolved_at = $4, resolved_by = $5, resolution = $6
     where tenant_id = $1 and key = $2 and code = $3 and status = 'open' returning id, details`,
    [tenantId, instance, r.code, now, `workflow:${workflow}`, r.resolution],
  );
  return rows.rows.map((x) =>
    workflowEvent(tenantId, workflow, instance, {
      type: 'exception.resolved.v1',
      data: { exceptionId: `exc-${x.id}`, subject: x.details.subject ?? { entity: 'order', id: instance }, resolvedAt: now.toISOString(), outcome: 'auto_resolved', resolution: r.resolution.slice(0, 2000), resolvedBy: `workflow:${workflow}` },
      dedupe: `exc-${x.id}-resolved`,
    }, now),
  );
}

// ------------------------------------------------------------------ the handler

/** The pipeline handler that runs every workflow's decisions (register once, with all workflows). */
export function workflowHandler(defs: readonly WorkflowDefinition<unknown>[]): Handler {
  const types = new Set(defs.flatMap((d) => [...d.eventTypes, WORKFLOW_TIMER_EVENT, STEP_COMPLETED_EVENT]));
  return {
    name: 'workflows',
    matches: (type) => types.has(type),
    async handle(ev: StoredEvent, ctx: HandlerContext): Promise<void> {
      for (const def of defs) {
        let instance: string | undefined;
        if (ev.type === WORKFLOW_TIMER_EVENT || ev.type === STEP_COMPLETED_EVENT) {
          const p = ev.data as { workflow?: string; instance?: string };
          if (p?.workflow !== def.name) continue;
          instance = p.instance;
        } else if (def.eventTypes.includes(ev.type)) {
          instance = def.instanceOf(ev);
          const refs = instance ? [] : (def.refsOf?.(ev) ?? []);
          if (refs.length) {
            const r = await ctx.tx.query<{ instance: string; ref: string }>(`select instance, ref from hub_workflow_refs where tenant_id = $1 and workflow = $2 and ref = any($3::text[])`, [ev.tenantId, def.name, refs]);
            instance = refs.map((x) => r.rows.find((row) => row.ref === x)?.instance).find((x) => x !== undefined);
          }
        }
        if (!instance) continue;
        await applyDecision(def, instance, ev, ctx);
      }
    },
  };
}

async function applyDecision(def: WorkflowDefinition<unknown>, instance: string, ev: StoredEvent, ctx: HandlerContext): Promise<void> {
  const tx = ctx.tx;
  const now = ctx.clock.now();
  const cur = await tx.query<{ state: unknown; status: string; version: number }>(
    `select state, status, version from hub_workflows where tenant_id = $1 and workflow = $2 and instance = $3 for update`,
    [ev.tenantId, def.name, instance],
  );
  const row = cur.rows[0];
  if (!row && !def.starts(ev)) return;
  const d = def.decide(row?.state, ev, now);
  const status = d.status ?? (row?.status as Decision<unknown>['status']) ?? 'running';
  await tx.query(
    `insert into hub_workflows (tenant_id, workflow, instance, state, status, version, updated_at) values ($1, $2, $3, $4, $5, 1, $6)
     on conflict (tenant_id, workflow, instance) do update set state = excluded.state, status = excluded.status, version = hub_workflows.version + 1, updated_at = excluded.updated_at`,
    [ev.tenantId, def.name, instance, JSON.stringify(d.state), status, now],
  );
  for (const s of d.steps ?? []) {
    if (!def.steps[s.name]) throw new Error(`${def.name} asked for an unknown step ${s.name}`);
    await tx.query(
      `insert into hub_workflow_steps (tenant_id, workflow, instance, step, step_key, input, run_at) values ($1, $2, $3, $4, $5, $6, $7)
       on conflict (tenant_id, workflow, instance, step_key) do nothing`,
      [ev.tenantId, def.name, instance, s.name, s.key, JSON.stringify(inputWithTrace(s.input)), s.runAt ?? now],
    );
  }
  if (d.cancelSteps?.length) {
    await tx.query(
      `update hub_workflow_steps set status = 'cancelled', updated_at = $5 where tenant_id = $1 and workflow = $2 and instance = $3 and step_key = any($4::text[]) and status = 'pending'`,
      [ev.tenantId, def.name, instance, d.cancelSteps, now],
    );
  }
  if (d.refs?.length) {
    await tx.query(
      `insert into hub_workflow_refs (tenant_id, workflow, ref, instance) select $1, $2, unnest($3::text[]), $4 on conflict do nothing`,
      [ev.tenantId, def.name, d.refs, instance],
    );
  }
  for (const t of d.timers ?? []) {
    await ctx.scheduleTimer({ key: ev.key, name: `${def.name}:${instance}:${t.name}`, dueAt: t.dueAt, eventType: WORKFLOW_TIMER_EVENT, payload: { ...t.payload, workflow: def.name, instance, name: t.name } });
  }
  for (const name of d.cancelTimers ?? []) {
    await tx.query(`update hub_timers set status = 'cancelled' where tenant_id = $1 and name = $2 and status = 'scheduled'`, [ev.tenantId, `${def.name}:${instance}:${name}`]);
  }
  const out: IncomingEvent[] = [];
  for (const e of d.emit ?? []) out.push(workflowEvent(ev.tenantId, def.name, instance, e, now));
  for (const x of d.exceptions ?? []) {
    const e = await raise(tx, ev.tenantId, def.name, instance, x, now, ev.seq);
    if (e) out.push(e);
  }
  for (const r of d.resolve ?? []) out.push(...(await resolve(tx, ev.tenantId, def.name, instance, r, now)));
  if (out.length) await ingest(tx, stampTraceContext(out));
}

// ------------------------------------------------------------------ the step runner

export interface StepRunnerOptions {
  pool: pg.Pool;
  workflows: readonly WorkflowDefinition<unknown>[];
  clock: Clock;
  log: Logger;
  /** steps run at once (default 8) */
  concurrency?: number;
  /** how long a claimed step is ours (default 5 min) */
  leaseMs?: number;
  /** backoff of the first retry (default 1 s), doubling to at most maxBackoffMs (default 10 min) */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** poll interval of `start` (default 250 ms) */
  intervalMs?: number;
  /** where steps are counted and timed */
  metrics?: Pick<Metrics, 'workflowSteps' | 'workflowStepDuration'>;
}

export interface StepRun {
  id: number;
  workflow: string;
  instance: string;
  step: string;
  stepKey: string;
  outcome: 'done' | 'retry' | 'failed';
  error?: { code: string; errorClass: string; message: string };
}

interface ClaimedStep {
  id: string;
  tenant_id: string;
  workflow: string;
  instance: string;
  step: string;
  step_key: string;
  input: Record<string, unknown>;
  attempts: number;
}

/** Claims and runs due steps. Emits 'step' with a StepRun after each. */
export class StepRunner extends EventEmitter {
  readonly #o: Required<Omit<StepRunnerOptions, 'workflows' | 'metrics'>> & { workflows: Map<string, WorkflowDefinition<unknown>>; metrics?: StepRunnerOptions['metrics'] };
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #busy: Promise<unknown> | undefined;

  constructor(o: StepRunnerOptions) {
    super();
    this.#o = {
      pool: o.pool, clock: o.clock, log: o.log,
      workflows: new Map(o.workflows.map((w) => [w.name, w])),
      concurrency: o.concurrency ?? 8, leaseMs: o.leaseMs ?? 300_000,
      baseBackoffMs: o.baseBackoffMs ?? 1000, maxBackoffMs: o.maxBackoffMs ?? 600_000, intervalMs: o.intervalMs ?? 250,
      ...(o.metrics ? { metrics: o.metrics } : {}),
    };
  }

  /**
   * Runs steps continuously: as soon as a slot frees, the runner claims again; when nothing is
   * due it looks again after `intervalMs`.
   */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#pump();
  }

  #inFlight = new Set<Promise<unknown>>();
  #claiming = false;

  #pump(): void {
    if (!this.#running || this.#claiming) return;
    const free = this.#o.concurrency - this.#inFlight.size;
    if (free <= 0) return;
    this.#claiming = true;
    this.#busy = this.#claim(free)
      .then((claimed) => {
        for (const s of claimed) {
          const p = this.#run(s)
            .catch((err) => this.#o.log.warn({ err }, 'step run failed'))
            .finally(() => this.#release(s).catch(() => undefined))
            .finally(() => {
              this.#inFlight.delete(p);
              this.#pump();
            });
          this.#inFlight.add(p);
        }
        return claimed.length;
      })
      .catch((err) => {
        this.#o.log.warn({ err }, 'claiming steps failed');
        return 0;
      })
      .then((n) => {
        this.#claiming = false;
        if (!this.#running) return;
        if (n > 0 && this.#inFlight.size < this.#o.concurrency) this.#pump();
        else if (n === 0) {
          clearTimeout(this.#timer);
          this.#timer = setTimeout(() => this.#pump(), this.#o.intervalMs);
        }
      });
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#busy;
    await Promise.all([...this.#inFlight]);
  }

  /**
   * Claims due steps (up to the concurrency, one per workflow instance: a runner first takes
   * the instance's step lease), runs them, returns what happened.
   */
  async runDue(): Promise<StepRun[]> {
    const claimed = await this.#claim(this.#o.concurrency);
    return Promise.all(claimed.map((s) => this.#run(s).finally(() => this.#release(s))));
  }

  /** Claims up to `limit` due steps, one per workflow instance, taking each instance's step lease. */
  async #claim(limit: number): Promise<ClaimedStep[]> {
    const now = this.#o.clock.now();
    const lease = new Date(now.getTime() + this.#o.leaseMs);
    const due = await this.#o.pool.query<{ id: string; tenant_id: string; workflow: string; instance: string }>(
      `select id, tenant_id, workflow, instance from hub_workflow_steps
       where (status = 'pending' and run_at <= $1) or (status = 'running' and lease_until < $1)
       order by run_at, id limit $2`,
      [now, limit * 4],
    );
    const claimed: ClaimedStep[] = [];
    const instances = new Set<string>();
    for (const c of due.rows) {
      if (claimed.length >= limit) break;
      const inst = `${c.tenant_id}\u0000${c.workflow}\u0000${c.instance}`;
      if (instances.has(inst)) continue;
      const r = await this.#o.pool.query<ClaimedStep>(
        `with lease as (
           update hub_workflows set step_lease_until = $3, step_lease_id = $1
           where tenant_id = $4 and workflow = $5 and instance = $6 and (step_lease_until is null or step_lease_until < $2 or step_lease_id = $1)
           returning 1)
         update hub_workflow_steps s set status = 'running', attempts = s.attempts + 1, lease_until = $3, updated_at = $2
         where s.id = $1 and ((s.status = 'pending' and s.run_at <= $2) or (s.status = 'running' and s.lease_until < $2)) and exists (select 1 from lease)
         returning s.id, s.tenant_id, s.workflow, s.instance, s.step, s.step_key, s.input, s.attempts`,
        [c.id, now, lease, c.tenant_id, c.workflow, c.instance],
      );
      if (r.rowCount) {
        claimed.push(r.rows[0]!);
        instances.add(inst);
      } else {
        await this.#release(c);
      }
    }
    return claimed;
  }

  /** Gives the instance's step lease back (when this step holds it). */
  async #release(s: { id: string; tenant_id: string; workflow: string; instance: string }): Promise<void> {
    await this.#o.pool.query(
      `update hub_workflows set step_lease_until = null, step_lease_id = null where tenant_id = $1 and workflow = $2 and instance = $3 and step_lease_id = $4`,
      [s.tenant_id, s.workflow, s.instance, s.id],
    );
  }

  async #run(s: ClaimedStep): Promise<StepRun> {
    const def = this.#o.workflows.get(s.workflow);
    const step = def?.steps[s.step];
    const base = { id: Number(s.id), workflow: s.workflow, instance: s.instance, step: s.step, stepKey: s.step_key };
    const log = this.#o.log.child({ workflow: s.workflow, instance: s.instance, step: s.step_key, attempt: s.attempts });
    let result: StepResult | undefined;
    let error: HubError | undefined;
    let events: IncomingEvent[] = [];
    const started = performance.now();
    // the span of the step: a child of the scheduling event's trace (STEP_TRACE_KEY), tenant in the context
    const { [STEP_TRACE_KEY]: carried, ...input } = s.input ?? {};
    const parent = contextWithTenant(extractTraceContext(carried && typeof carried === 'object' ? (carried as Record<string, unknown>) : undefined), s.tenant_id);
    const spanAttributes = { 'hub.workflow': s.workflow, 'hub.instance': s.instance, 'hub.step': s.step, 'hub.step_key': s.step_key, 'hub.attempt': s.attempts, 'hub.tenant': s.tenant_id };
    try {
      if (!step) throw new HubError({ code: 'workflow.unknown_step', errorClass: 'permanent', message: `no step ${s.step} in workflow ${s.workflow}` });
      ({ result, events } = await inSpan(undefined, `step ${s.step}`, { kind: SpanKind.INTERNAL, attributes: spanAttributes }, parent, async () => {
        const result = await step.run(input, { tenantId: s.tenant_id, workflow: s.workflow, instance: s.instance, stepKey: s.step_key, attempt: s.attempts, clock: this.#o.clock, log });
        // the step's result goes back to its workflow; an event the catalogue refuses fails the step (permanently)
        const now = this.#o.clock.now();
        const events = [
          ...(result?.emit ?? []).map((e) => workflowEvent(s.tenant_id, s.workflow, s.instance, e, now)),
          workflowEvent(s.tenant_id, s.workflow, s.instance, {
            type: STEP_COMPLETED_EVENT, dedupe: `step:${s.step_key}`,
            data: { workflow: s.workflow, instance: s.instance, step: s.step, stepKey: s.step_key, completedAt: now.toISOString(), output: result?.output ?? {} },
          }, now),
        ];
        // what the step produced continues its trace
        return { result, events: stampTraceContext(events) };
      }));
    } catch (e) {
      error = e instanceof HubError ? e : new HubError({ code: 'workflow.step_crashed', errorClass: 'transient', message: e instanceof Error ? e.message : String(e), cause: e });
    }
    const now = this.#o.clock.now();
    let run: StepRun;
    if (!error) {
      await withTx(this.#o.pool, async (c) => {
        const u = await c.query(`update hub_workflow_steps set status = 'done', output = $2, error = null, lease_until = null, updated_at = $3 where id = $1 and status = 'running'`, [s.id, JSON.stringify(result?.output ?? {}), now]);
        if (u.rowCount) await ingest(c, events);
      });
      run = { ...base, outcome: 'done' };
    } else {
      const max = step?.maxAttempts ?? 8;
      const err = { code: error.code, errorClass: error.errorClass, message: error.message };
      if (error.errorClass === 'transient' && s.attempts < max) {
        const backoff = Math.min(this.#o.maxBackoffMs, this.#o.baseBackoffMs * 2 ** (s.attempts - 1));
        const delay = Math.max(error.retryAfterMs ?? 0, Math.round(backoff * (0.8 + randomInt(0, 401) / 1000)));
        await this.#o.pool.query(`update hub_workflow_steps set status = 'pending', run_at = $2, error = $3, lease_until = null, updated_at = $4 where id = $1 and status = 'running'`, [s.id, new Date(now.getTime() + delay), JSON.stringify(err), now]);
        log.info({ err: error, retryInMs: delay }, 'step failed; retrying');
        run = { ...base, outcome: 'retry', error: err };
      } else {
        await withTx(this.#o.pool, async (c) => {
          const u = await c.query(`update hub_workflow_steps set status = 'failed', error = $2, lease_until = null, updated_at = $3 where id = $1 and status = 'running'`, [s.id, JSON.stringify(err), now]);
          if (!u.rowCount) return;
          const x = await raise(c, s.tenant_id, s.workflow, s.instance, {
            exceptionClass: step?.failureClass ?? 'partner_rejected',
            code: `step_failed:${s.step_key}`,
            message: `${s.step} failed after ${s.attempts} attempt(s): ${error.message}`,
            details: { step: s.step, stepKey: s.step_key, errorCode: error.code, errorClass: error.errorClass, ...(step?.compensation ? { compensation: step.compensation } : {}) },
            subject: { entity: 'order', id: s.instance },
          }, now, null);
          if (x) await ingest(c, [x]);
        });
        log.warn({ err: error }, 'step failed for good');
        run = { ...base, outcome: 'failed', error: err };
      }
    }
    this.#o.metrics?.workflowSteps.inc({ workflow: s.workflow, step: s.step, outcome: run.outcome });
    this.#o.metrics?.workflowStepDuration.observe({ workflow: s.workflow, step: s.step, outcome: run.outcome }, (performance.now() - started) / 1000);
    this.emit('step', run);
    return run;
  }
}
