/**
 * Registers the cross-references an event carries (refs of every entity in its data) in
 * hub_xref. An external id already registered for another canonical id is not
 * overwritten: it is raised as a business exception (duplicate_reference) for a person
 * to decide, and the event is otherwise handled normally.
 */
import { conflictingXrefs, extractXrefs } from '../../domain/index.ts';
import type { Handler } from '../types.ts';

export const xrefHandler: Handler = {
  name: 'xref.register',
  matches: () => true,
  async handle(e, ctx) {
    const entries = extractXrefs(e.type, e.data, e.tenantId);
    if (entries.length === 0) return;
    for (const c of conflictingXrefs(entries)) {
      await ctx.raiseException({
        code: 'xref.duplicate_reference',
        message: `${c.key.system} id ${c.key.externalId} is given to several ${c.key.entity} ids in one event: ${c.canonicalIds.join(', ')}`,
        severity: 'warning',
        details: { ...c.key, canonicalIds: c.canonicalIds },
      });
    }
    const r = await ctx.tx.query<{ entity: string; system: string; external_id: string; canonical_id: string }>(
      `with input as (
         select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) as u(tenant_id, entity, canonical_id, system, external_id)
       ), ins as (
         insert into hub_xref (tenant_id, entity, canonical_id, system, external_id) select * from input
         on conflict (tenant_id, entity, system, external_id) do nothing returning 1
       )
       select i.entity, i.system, i.external_id, x.canonical_id from input i
       join hub_xref x on x.tenant_id = i.tenant_id and x.entity = i.entity and x.system = i.system and x.external_id = i.external_id
       where x.canonical_id <> i.canonical_id`,
      [entries.map((x) => x.tenant), entries.map((x) => x.entity), entries.map((x) => x.canonicalId), entries.map((x) => x.system), entries.map((x) => x.externalId)],
    );
    const claimed = new Map(entries.map((x) => [`${x.entity}|${x.system}|${x.externalId}`, x.canonicalId]));
    for (const row of r.rows) {
      const mine = claimed.get(`${row.entity}|${row.system}|${row.external_id}`);
      await ctx.raiseException({
        code: 'xref.duplicate_reference',
        message: `${row.system} id ${row.external_id} already belongs to ${row.entity} ${row.canonical_id}, not ${mine}`,
        severity: 'warning',
        details: { entity: row.entity, system: row.system, externalId: row.external_id, registered: row.canonical_id, claimed: mine },
      });
    }
  },
};
