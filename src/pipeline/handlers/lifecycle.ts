/**
 * Folds lifecycle milestones into hub_lifecycles: one row per (subject, kind), updated
 * with the domain's incremental `apply` in the pipeline's transaction. The row is locked
 * (FOR UPDATE) because events of different pipeline keys may concern one subject.
 * Regressions and other flags are recorded in the snapshot, never applied; a state
 * change is announced through the outbox when streaming is on.
 */
import { LIFECYCLES, apply, emptyLifecycle, getEventType, lifecycleOf, type LifecycleFlag, type LifecycleSnapshot } from '../../domain/index.ts';
import type { Handler } from '../types.ts';

const flagId = (f: LifecycleFlag) => `${f.kind}|${f.event.source}|${f.event.id}`;

export function lifecycleHandler(o: { announce: boolean }): Handler {
  return {
    name: 'lifecycle.fold',
    matches: (type) => getEventType(type)?.lifecycle !== undefined,
    async handle(e, ctx) {
      const lc = lifecycleOf(e.type, e.data);
      if (!lc) return;
      const machine = LIFECYCLES[lc.kind];
      await ctx.tx.query(
        `insert into hub_lifecycles (key, kind, tenant_id, snapshot) values ($1, $2, $3, $4) on conflict (key, kind) do nothing`,
        [lc.subject, lc.kind, e.tenantId, JSON.stringify(emptyLifecycle(machine))],
      );
      const cur = await ctx.tx.query<{ snapshot: LifecycleSnapshot }>(`select snapshot from hub_lifecycles where key = $1 and kind = $2 for update`, [lc.subject, lc.kind]);
      const before = cur.rows[0]!.snapshot;
      const after = apply(before, { source: e.source, id: e.id, type: e.type, time: e.occurredAt, data: e.data });
      if (after === before) return;
      await ctx.tx.query(
        `update hub_lifecycles set state = $3, state_at = $4, flags = $5, snapshot = $6, updated_at = now() where key = $1 and kind = $2`,
        [lc.subject, lc.kind, after.state, after.stateAt, JSON.stringify(after.flags), JSON.stringify(after)],
      );
      const known = new Set(before.flags.map(flagId));
      for (const f of after.flags) {
        if (!known.has(flagId(f))) ctx.log.warn({ subject: lc.subject, flag: f.kind, milestone: f.milestone, from: f.from, reason: f.reason }, 'lifecycle event recorded but not applied');
      }
      if (o.announce && after.state !== before.state) {
        await ctx.outbox({
          topic: `lifecycle.${lc.kind}.changed`,
          key: lc.subject,
          msgId: `lifecycle|${lc.kind}|${lc.subject}|${e.source}|${e.id}`,
          payload: { kind: lc.kind, subject: lc.subject, from: before.state, to: after.state, at: after.stateAt, cause: { source: e.source, id: e.id, type: e.type } },
        });
      }
    },
  };
}
