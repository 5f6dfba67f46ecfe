/**
 * Odoo search domains evaluated in memory: prefix notation (`&`, `|`, `!`, implicit `&`),
 * the comparison operators of Odoo 18, dotted paths through relational fields, `False` for
 * unset values, and PostgreSQL's comparison of microsecond timestamps against second strings.
 */
import { invalidDomainField, valueError, pyTuple } from './errors.ts';
import type { FieldDef, ModelDef } from './registry.ts';

export type Row = Record<string, unknown>;

/** What domain evaluation needs from the database. */
export interface DomainSource {
  model(name: string): ModelDef;
  row(model: string, id: number): Row | undefined;
  /** Ids held by a relational field of a record (many2one → 0 or 1 id), in no particular order. */
  relatedIds(model: string, id: number, field: FieldDef): number[];
  displayName(model: string, id: number): string;
  /** All live ids of a model (for `child_of`/`parent_of` and name matches). */
  allIds(model: string): number[];
}

export type Leaf = [string, string, unknown];
export type DomainNode =
  | { kind: 'and' | 'or'; children: DomainNode[] }
  | { kind: 'not'; child: DomainNode }
  | { kind: 'leaf'; leaf: Leaf }
  | { kind: 'true' }
  | { kind: 'false' };

export const OPERATORS = new Set([
  '=', '!=', '<>', '>', '>=', '<', '<=', 'in', 'not in', 'like', 'ilike', 'not like', 'not ilike',
  '=like', '=ilike', 'child_of', 'parent_of', '=?', 'any', 'not any',
]);

const NEGATIVE = new Set(['!=', '<>', 'not in', 'not like', 'not ilike', 'not any']);

function isLeaf(x: unknown): x is unknown[] {
  return Array.isArray(x) && x.length === 3 && typeof x[0] === 'string';
}

/** Parse a domain list into a tree. Throws ValueError on malformed input. */
export function parseDomain(domain: unknown): DomainNode {
  if (domain === false || domain === null || domain === undefined) return { kind: 'true' };
  if (!Array.isArray(domain)) throw valueError(`Invalid domain: ${String(domain)}`);
  let pos = 0;
  const parseOne = (): DomainNode => {
    if (pos >= domain.length) throw valueError(`Domain ${JSON.stringify(domain)} is syntactically not correct.`);
    const item = domain[pos++];
    if (item === '&' || item === '|') {
      const a = parseOne();
      const b = parseOne();
      return { kind: item === '&' ? 'and' : 'or', children: [a, b] };
    }
    if (item === '!') return { kind: 'not', child: parseOne() };
    if (Array.isArray(item) && item.length === 3 && item[0] === 1 && item[1] === '=' && item[2] === 1) return { kind: 'true' };
    if (Array.isArray(item) && item.length === 3 && item[0] === 0 && item[1] === '=' && item[2] === 1) return { kind: 'false' };
    if (isLeaf(item)) {
      const op = String(item[1]).toLowerCase();
      if (!OPERATORS.has(op)) throw valueError(`Invalid leaf ${pyTuple(item)}`);
      return { kind: 'leaf', leaf: [item[0] as string, op, item[2]] };
    }
    throw valueError(`Invalid leaf ${Array.isArray(item) ? pyTuple(item) : String(item)}`);
  };
  const parts: DomainNode[] = [];
  while (pos < domain.length) parts.push(parseOne());
  if (parts.length === 0) return { kind: 'true' };
  if (parts.length === 1) return parts[0]!;
  return { kind: 'and', children: parts };
}

/** Check every leaf's path against the model (ValueError as Odoo words it). */
export function validateDomain(src: DomainSource, model: string, node: DomainNode): void {
  if (node.kind === 'and' || node.kind === 'or') node.children.forEach((c) => validateDomain(src, model, c));
  else if (node.kind === 'not') validateDomain(src, model, node.child);
  else if (node.kind === 'leaf') {
    const [path, op, value] = node.leaf;
    let m = src.model(model);
    const parts = path.split('.');
    for (let i = 0; i < parts.length; i++) {
      const f = m.fields.get(parts[i]!);
      if (!f) throw invalidDomainField(m.name, parts[i]!, [path, op, value]);
      if (i < parts.length - 1) {
        if (!f.relation) throw invalidDomainField(m.name, parts.slice(i).join('.'), [path, op, value]);
        m = src.model(f.relation);
      }
    }
  }
}

/** Timestamps compare as PostgreSQL does: text `YYYY-MM-DD HH:MM:SS[.ffffff]` padded to microseconds. */
export function padDatetime(v: string): string {
  const s = v.replace('T', ' ');
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return `${s} 00:00:00.000000`;
  const m = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,6}))?/.exec(s);
  if (!m) throw valueError(`time data '${v}' does not match format '%Y-%m-%d %H:%M:%S'`);
  const base = m[1]!.length === 16 ? `${m[1]}:00` : m[1]!;
  return `${base}.${(m[2] ?? '').padEnd(6, '0')}`;
}

function likeRegex(pattern: string, insensitive: boolean, wrap: boolean): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  if (wrap) re = `[\\s\\S]*${re}[\\s\\S]*`;
  return new RegExp(`^${re}$`, insensitive ? 'i' : '');
}

function isUnset(v: unknown): boolean {
  return v === false || v === null || v === undefined;
}

function scalarOf(v: unknown): unknown {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && 'value' in (v as object) ? (v as { value: unknown }).value : v;
}

function normalizeComparand(f: FieldDef, v: unknown): unknown {
  v = scalarOf(v);
  if (isUnset(v)) return false;
  if (v instanceof Date) v = v.toISOString().slice(0, 19).replace('T', ' ');
  if (f.type === 'datetime' && typeof v === 'string') return padDatetime(v);
  if (f.type === 'date' && typeof v === 'string') return v.slice(0, 10);
  if (f.type === 'boolean') return Boolean(v);
  return v;
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' || typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a === 'number' && typeof b === 'string' && b.trim() !== '' && !Number.isNaN(Number(b))) return a - Number(b);
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Does one stored scalar satisfy `op value`? (No relational traversal here.) */
function matchScalar(f: FieldDef, stored: unknown, op: string, value: unknown): boolean {
  const unset = isUnset(stored) || (f.type === 'boolean' && stored === false);
  const s = f.type === 'datetime' && typeof stored === 'string' ? padDatetime(stored) : stored;
  switch (op) {
    case '=':
    case '!=':
    case '<>': {
      const v = normalizeComparand(f, value);
      let eq: boolean;
      if (f.type === 'boolean') eq = Boolean(s) === Boolean(v);
      else if (v === false) eq = unset;
      else eq = !unset && compare(s, v) === 0;
      return op === '=' ? eq : !eq;
    }
    case '>': case '>=': case '<': case '<=': {
      const v = normalizeComparand(f, value);
      if (unset || v === false) return f.type === 'boolean' ? cmpOp(compare(Boolean(s), Boolean(v)), op) : false;
      return cmpOp(compare(s, v), op);
    }
    case 'in':
    case 'not in': {
      const list = (Array.isArray(value) ? value : [value]).map((x) => normalizeComparand(f, x));
      let hit: boolean;
      if (f.type === 'boolean') hit = list.some((x) => Boolean(x) === Boolean(s));
      else hit = unset ? list.includes(false) : list.some((x) => x !== false && compare(s, x) === 0);
      return op === 'in' ? hit : !hit;
    }
    case 'like': case 'ilike': case 'not like': case 'not ilike': case '=like': case '=ilike': {
      const v = scalarOf(value);
      const positive = !op.startsWith('not');
      if (isUnset(v) || v === '') {
        // Odoo: ('name', 'ilike', False) / '' matches everything for positive ops.
        return positive ? (op.startsWith('=') ? !unset && String(s) === '' : true) : unset ? false : false;
      }
      if (unset) return !positive;
      const re = likeRegex(String(v), op.includes('ilike'), !op.startsWith('='));
      const hit = re.test(String(s));
      return positive ? hit : !hit;
    }
    default:
      throw valueError(`Invalid operator ${op}`);
  }
}

function cmpOp(c: number, op: string): boolean {
  return op === '>' ? c > 0 : op === '>=' ? c >= 0 : op === '<' ? c < 0 : c <= 0;
}

/** Evaluate a parsed domain for one record. */
export function matches(src: DomainSource, model: string, id: number, node: DomainNode): boolean {
  switch (node.kind) {
    case 'true': return true;
    case 'false': return false;
    case 'and': return node.children.every((c) => matches(src, model, id, c));
    case 'or': return node.children.some((c) => matches(src, model, id, c));
    case 'not': return !matches(src, model, id, node.child);
    case 'leaf': return matchLeaf(src, model, id, node.leaf);
  }
}

function ancestors(src: DomainSource, model: string, id: number, parentField: string): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  let cur: number | undefined = id;
  while (cur !== undefined && !seen.has(cur)) {
    seen.add(cur);
    out.push(cur);
    const p: unknown = src.row(model, cur)?.[parentField];
    cur = typeof p === 'number' ? p : undefined;
  }
  return out;
}

function idList(v: unknown): number[] {
  const l = Array.isArray(v) ? v : [v];
  return l.map(scalarOf).filter((x): x is number => typeof x === 'number');
}

function matchLeaf(src: DomainSource, model: string, id: number, leaf: Leaf): boolean {
  const [path, op, value] = leaf;
  const m = src.model(model);
  const dot = path.indexOf('.');
  const fname = dot < 0 ? path : path.slice(0, dot);
  const f = m.fields.get(fname);
  if (!f) throw invalidDomainField(model, fname, leaf);
  const row = src.row(model, id);
  if (!row) return false;

  if (op === '=?') {
    if (isUnset(scalarOf(value))) return true;
    return matchLeaf(src, model, id, [path, '=', value]);
  }

  if (dot >= 0) {
    if (!f.relation) throw invalidDomainField(model, path, leaf);
    const rest = path.slice(dot + 1);
    const targets = src.relatedIds(model, id, f);
    if (NEGATIVE.has(op)) {
      const positive = op === 'not in' ? 'in' : op === 'not like' ? 'like' : op === 'not ilike' ? 'ilike' : '=';
      return !targets.some((t) => matchLeaf(src, f.relation!, t, [rest, positive, value]));
    }
    return targets.some((t) => matchLeaf(src, f.relation!, t, [rest, op, value]));
  }

  if (op === 'any' || op === 'not any') {
    if (!f.relation) throw valueError(`Invalid operator ${op} on non-relational field ${model}.${fname}`);
    const sub = parseDomain(value);
    const hit = src.relatedIds(model, id, f).some((t) => matches(src, f.relation!, t, sub));
    return op === 'any' ? hit : !hit;
  }

  if (op === 'child_of' || op === 'parent_of') {
    const target = f.type === 'many2one' || f.type === 'one2many' || f.type === 'many2many' ? f.relation! : model;
    const tdef = src.model(target);
    const parentField = tdef.parentField;
    const wanted = new Set(idList(value));
    const own = fname === 'id' ? [id] : src.relatedIds(model, id, f);
    if (!parentField) return own.some((x) => wanted.has(x));
    if (op === 'child_of') return own.some((x) => ancestors(src, target, x, parentField).some((a) => wanted.has(a)));
    const anc = new Set<number>();
    for (const w of wanted) for (const a of ancestors(src, target, w, parentField)) anc.add(a);
    return own.some((x) => anc.has(x));
  }

  if (f.type === 'many2one' || f.type === 'one2many' || f.type === 'many2many') {
    const ids = src.relatedIds(model, id, f);
    const v = scalarOf(value);
    const vals = Array.isArray(value) ? value.map(scalarOf) : [v];
    const byName = vals.some((x) => typeof x === 'string');
    if (byName || op.includes('like')) {
      // Match the related records' display names.
      const positive = !NEGATIVE.has(op);
      const posOp = op === '!=' || op === '<>' ? '=' : op === 'not in' ? 'in' : op.replace('not ', '');
      const nameField: FieldDef = { name: 'display_name', type: 'char', string: '', required: false, readonly: true, store: false };
      if (ids.length === 0) return matchScalar(nameField, false, op, value);
      const hit = ids.some((t) => matchScalar(nameField, src.displayName(f.relation!, t), posOp, value));
      return positive ? hit : !hit;
    }
    const intField: FieldDef = { name: 'id', type: 'integer', string: '', required: false, readonly: true, store: true };
    if (ids.length === 0) return matchScalar(intField, false, op, value);
    if (op === '!=' || op === '<>' || op === 'not in') {
      return !ids.some((t) => matchScalar(intField, t, op === 'not in' ? 'in' : '=', value));
    }
    return ids.some((t) => matchScalar(intField, t, op, value));
  }

  const stored = fname === 'id' ? id : row[fname];
  return matchScalar(f, stored, op, value);
}
