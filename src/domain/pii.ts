/**
 * The property names under which the canonical model holds personal data: every
 * property whose schema carries `x-pii: true` (directly, through its array items or
 * through a variant), collected from the entity schemas and the event catalogue. Logs
 * mask values under these names wherever they appear, also in shapes no schema
 * describes (a partner's payload, an error's details).
 */
import { KindGuard, type TSchema } from '@sinclair/typebox';
import { EVENT_TYPES } from './catalogue.ts';
import * as model from './model.ts';
import * as primitives from './primitives.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether a property's schema marks its value (or the items of its array value) as personal data. */
function carriesPii(s: Json, depth = 0): boolean {
  if (depth > 8) return false;
  if (s['x-pii'] === true) return true;
  if (isObject(s.items) && s.type === 'array' && (s.items as Json)['x-pii'] === true) return true;
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const) if (Array.isArray(s[k]) && (s[k] as Json[]).some((v) => isObject(v) && carriesPii(v, depth + 1))) return true;
  return false;
}

/** Names of the properties marked `x-pii`, at any depth of the given schemas (sorted, unique). */
export function piiFieldNames(schemas: Iterable<TSchema>): string[] {
  const out = new Set<string>();
  const seen = new Set<object>();
  const visit = (s: unknown, depth: number): void => {
    if (!isObject(s) || seen.has(s) || depth > 64) return;
    seen.add(s);
    if (isObject(s.properties)) {
      for (const [name, sub] of Object.entries(s.properties)) {
        if (isObject(sub) && carriesPii(sub)) out.add(name);
        visit(sub, depth + 1);
      }
    }
    for (const k of ['items', 'additionalProperties', 'not'] as const) visit(s[k], depth + 1);
    for (const k of ['anyOf', 'oneOf', 'allOf', 'prefixItems'] as const) if (Array.isArray(s[k])) for (const v of s[k] as unknown[]) visit(v, depth + 1);
    for (const k of ['patternProperties', '$defs', 'definitions'] as const) if (isObject(s[k])) for (const v of Object.values(s[k])) visit(v, depth + 1);
  };
  for (const s of schemas) visit(s, 0);
  return [...out].sort();
}

/** Every schema the domain defines: the exported entity and value schemas, and each event type's data. */
function domainSchemas(): TSchema[] {
  const exported = ([...Object.values(model), ...Object.values(primitives)] as unknown[]).filter((v): v is TSchema => KindGuard.IsSchema(v));
  return [...exported, ...EVENT_TYPES.map((t) => t.schema)];
}

/** Property names holding personal data in the canonical model: name, phone, email, lines... */
export const PII_FIELD_NAMES: readonly string[] = Object.freeze(piiFieldNames(domainSchemas()));
