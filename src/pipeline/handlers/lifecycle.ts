/**
 * Folds lifecycle milestones into hub_lifecycles: one row per (subject, kind), updated
 * with the domain's incremental `apply` in the pipeline's transaction. The row is locked
 * (FOR UPDATE) because events of different pipeline keys may concern one subject.
 * Regressions and other flags are recorded in the snapshot, never applied; a state
 * change is announced through the outbox when streaming is on.
 *
 * Subjects: every subject path of the event type's lifecycle binding present in the data.
 * A shipment event of an order moves the order's lifecycle (PRODUCT.md: the order goes
 * through packed ... delivered) and the shipment's own one, so a shipment's status is
 * right on its own even when an order ships in several parts.
 */
import { LIFECYCLES, apply, emptyLifecycle, getEventType, lifecycleOf, valueAt, type LifecycleFlag, type LifecycleKind, type LifecycleSnapshot } from '../../domain/index.ts';
import type { Handler, HandlerContext, StoredEvent } from '../types.ts';

const flagId = (f: LifecycleFlag) => `${f.kind}|${f.event.source}|${f.event.id}`;

export function lifecycleHandler(o: { announce: boolean }): Handler {
  return {
    name: 'lifecycle.fold',
    matches: (type) => getEventType(type)?.lifecycle !== undefined,
    async handle(e, ctx) {
      const lc = lifecycleOf(e.type, e.data);
      if (!lc) return;
      const paths = getEventType(e.type)!.lifecycle!.subjectPaths;
      const subjects = [...new Set(paths.map((p) => valueAt(e.data, p)).filter((v): v is string => typeof v === 'string' && v !== ''))];
      for (const subject of subjects) await foldInto(subject, lc.kind, e, ctx, o.announce);
    },
  };
}

async function foldInto(subject: string, kind: LifecycleKind, e: StoredEvent, ctx: HandlerContext, announce: boolean): Promise<void> {
  await ctx.tx.query(
    `insert into hub_lifecycles (key, kind, tenant_id, snapshot) values ($1, $2, $3, $4) on conflict (tenant_id, key, kind) do nothing`,
    [subject, kind, e.tenantId, JSON.stringify(emptyLifecycle(LIFECYCLES[kind]))],
  );
  const cur = await ctx.tx.query<{ snapshot: LifecycleSnapshot }>(`select snapshot from hub_lifecycles where tenant_id = $3 and key = $1 and kind = $2 for update`, [subject, kind, e.tenantId]);
  const before = cur.rows[0]!.snapshot;
  const after = apply(before, { source: e.source, id: e.id, type: e.type, time: e.occurredAt, data: e.data });
  if (after === before) return;
  await ctx.tx.query(
    `update hub_lifecycles set state = $3, state_at = $4, flags = $5, snapshot = $6, updated_at = now() where tenant_id = $7 and key = $1 and kind = $2`,
    [subject, kind, after.state, after.stateAt, JSON.stringify(after.flags), JSON.stringify(after), e.tenantId],
  );
  if (after.state !== before.state) {
    ctx.audit({
      actor: `event:${e.source}`,
      action: `${kind}.state_changed`,
      objectType: kind,
      objectId: subject,
      before,
      after,
      details: { from: before.state, to: after.state, event: { source: e.source, id: e.id, type: e.type } },
    });
  }
  const known = new Set(before.flags.map(flagId));
  for (const f of after.flags) {
    // a second report of a milestone already reached (a carrier's scan and its delivery notice) is expected: info, not a warning
    if (!known.has(flagId(f))) ctx.log[f.kind === 'duplicate' ? 'info' : 'warn']({ subject, flag: f.kind, milestone: f.milestone, from: f.from, reason: f.reason }, 'lifecycle event recorded but not applied');
  }
  if (announce && after.state !== before.state) {
    await ctx.outbox({
      topic: `lifecycle.${kind}.changed`,
      key: subject,
      msgId: `lifecycle|${kind}|${subject}|${e.source}|${e.id}`,
      payload: { kind, subject, from: before.state, to: after.state, at: after.stateAt, cause: { source: e.source, id: e.id, type: e.type } },
    });
  }
}
