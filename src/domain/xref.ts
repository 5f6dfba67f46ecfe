/**
 * The pure part of the cross-reference registry: each canonical id and its id in every
 * other system (Odoo record id, WMS order number, tracking number, EDI control numbers).
 *
 * An entry is unique by (tenant, entity, system, externalId): one external id names one
 * canonical thing. A canonical id may have any number of external ids, several per
 * system when they are namespaced differently (`odoo` for the sale.order id,
 * `odoo:stock.picking` for the delivery).
 *
 * References travel in events: every entity may carry `refs: [{system, id}]`, and the
 * schema keywords `x-entity` / `x-entity-id` say which entity and which canonical id the
 * refs of an object belong to. extractXrefs reads them so the pipeline can register
 * them in the same transaction that stores the event.
 */
import { getEventType } from './catalogue.ts';
import { ENTITY_NAMES } from './model.ts';
import type { EntityName } from './model.ts';
import { ID_PATTERN, SYSTEM_PATTERN } from './primitives.ts';
import { walk } from './schema-walk.ts';

export interface XrefEntry {
  tenant: string;
  entity: EntityName;
  canonicalId: string;
  system: string;
  externalId: string;
}

const SYSTEM = new RegExp(SYSTEM_PATTERN);
const CANONICAL_ID = new RegExp(ID_PATTERN);

/** The uniqueness key of an entry: one external id names one canonical thing. */
export const xrefKey = (e: Pick<XrefEntry, 'tenant' | 'entity' | 'system' | 'externalId'>) => `${e.tenant}\u0000${e.entity}\u0000${e.system}\u0000${e.externalId}`;

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function compareEntries(a: XrefEntry, b: XrefEntry): number {
  return cmp(a.entity, b.entity) || cmp(a.canonicalId, b.canonicalId) || cmp(a.system, b.system) || cmp(a.externalId, b.externalId);
}

/**
 * The cross-references an event carries, for `tenant`: one entry per ref of every entity
 * object in its data (the top level and nested ones), de-duplicated and sorted. Objects
 * whose canonical id is missing or malformed, and refs that are not {system, id} with a
 * valid system name, are skipped: validation reports them, extraction never throws.
 * An unknown type yields nothing.
 */
export function extractXrefs(type: string, data: unknown, tenant: string): XrefEntry[] {
  const def = getEventType(type);
  if (!def) return [];
  const found = new Map<string, XrefEntry>();
  walk(def.schema, data, ({ schema, value }) => {
    const entity = schema['x-entity'];
    const idField = schema['x-entity-id'];
    if (typeof entity !== 'string' || typeof idField !== 'string') return;
    if (!(ENTITY_NAMES as readonly string[]).includes(entity) || typeof value !== 'object' || value === null || Array.isArray(value)) return;
    const obj = value as Record<string, unknown>;
    const canonicalId = obj[idField];
    if (typeof canonicalId !== 'string' || !CANONICAL_ID.test(canonicalId) || !Array.isArray(obj.refs)) return;
    for (const ref of obj.refs as unknown[]) {
      if (typeof ref !== 'object' || ref === null) continue;
      const { system, id } = ref as { system?: unknown; id?: unknown };
      if (typeof system !== 'string' || !SYSTEM.test(system) || typeof id !== 'string' || id === '') continue;
      const entry: XrefEntry = { tenant, entity: entity as EntityName, canonicalId, system, externalId: id };
      found.set(`${xrefKey(entry)}\u0000${canonicalId}`, entry);
    }
  });
  return [...found.values()].sort(compareEntries);
}

/**
 * External ids claimed by two different canonical ids among `entries` (for example an
 * event that gives one tracking number to two shipments). The registry's uniqueness
 * would reject the second; callers raise a duplicate_reference exception instead.
 */
export function conflictingXrefs(entries: readonly XrefEntry[]): Array<{ key: Omit<XrefEntry, 'canonicalId'>; canonicalIds: string[] }> {
  const byKey = new Map<string, { entry: XrefEntry; ids: Set<string> }>();
  for (const e of entries) {
    const k = xrefKey(e);
    const cur = byKey.get(k);
    if (cur) cur.ids.add(e.canonicalId);
    else byKey.set(k, { entry: e, ids: new Set([e.canonicalId]) });
  }
  return [...byKey.values()]
    .filter((x) => x.ids.size > 1)
    .map(({ entry, ids }) => ({
      key: { tenant: entry.tenant, entity: entry.entity, system: entry.system, externalId: entry.externalId },
      canonicalIds: [...ids].sort(),
    }));
}
