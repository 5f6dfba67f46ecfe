/**
 * Walks a value alongside its schema, so rules written as schema keywords (`x-pii`,
 * `x-entity`) can be applied to data: masking personal data, extracting references.
 * Understands the subset of JSON Schema the canonical model uses: properties, items,
 * patternProperties (records) and anyOf (every variant is visited).
 */
import type { TSchema } from '@sinclair/typebox';

type Json = Record<string, unknown>;

export interface WalkVisit {
  schema: Json;
  value: unknown;
  /** JSON pointer of the value */
  pointer: string;
}

const escape = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1');
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Calls `visit` for every value reached through the schema; a `false` return stops descending. */
export function walk(schema: TSchema, value: unknown, visit: (v: WalkVisit) => boolean | void, pointer = ''): void {
  const s = schema as Json;
  if (visit({ schema: s, value, pointer }) === false) return;
  if (Array.isArray(s.anyOf)) {
    for (const variant of s.anyOf as TSchema[]) walk(variant, value, visit, pointer);
    return;
  }
  if (Array.isArray(value) && isObject(s.items)) {
    value.forEach((item, i) => walk(s.items as TSchema, item, visit, `${pointer}/${i}`));
    return;
  }
  if (!isObject(value)) return;
  const props = isObject(s.properties) ? (s.properties as Record<string, TSchema>) : {};
  const patterns = isObject(s.patternProperties) ? Object.values(s.patternProperties as Record<string, TSchema>) : [];
  for (const [k, v] of Object.entries(value)) {
    const sub = Object.hasOwn(props, k) ? props[k] : patterns[0];
    if (sub) walk(sub, v, visit, `${pointer}/${escape(k)}`);
  }
}

/**
 * JSON pointers of the personal-data fields of a schema, with `*` for any array index,
 * e.g. `/shipTo/name`, `/packages/*\/contents` (sorted, unique).
 */
export function piiPaths(schema: TSchema): string[] {
  const out = new Set<string>();
  const visit = (s: Json, pointer: string, depth: number): void => {
    if (depth > 32) return;
    if (s['x-pii'] === true) {
      out.add(pointer);
      return;
    }
    if (Array.isArray(s.anyOf)) for (const v of s.anyOf as Json[]) visit(v, pointer, depth + 1);
    if (isObject(s.items)) visit(s.items as Json, `${pointer}/*`, depth + 1);
    if (isObject(s.properties)) for (const [k, v] of Object.entries(s.properties as Record<string, Json>)) visit(v, `${pointer}/${escape(k)}`, depth + 1);
  };
  visit(schema as Json, '', 0);
  return [...out].sort();
}

/**
 * A copy of `value` with every personal-data field (schema keyword `x-pii`) replaced by
 * `mask` (arrays of personal data, such as street lines, become one mask per item).
 * Values the schema does not describe are copied unchanged.
 */
export function redactWithSchema(schema: TSchema, value: unknown, mask = '***'): unknown {
  const masked = new Set<string>();
  walk(schema, value, ({ schema: s, pointer }) => {
    if (s['x-pii'] === true) {
      masked.add(pointer);
      return false;
    }
    return true;
  });
  const copy = (v: unknown, pointer: string): unknown => {
    if (masked.has(pointer)) return Array.isArray(v) ? v.map(() => mask) : v === undefined || v === null ? v : mask;
    if (Array.isArray(v)) return v.map((x, i) => copy(x, `${pointer}/${i}`));
    if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x, `${pointer}/${escape(k)}`)]));
    return v;
  };
  return copy(value, '');
}
