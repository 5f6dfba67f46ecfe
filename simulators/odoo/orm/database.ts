/**
 * The in-memory database behind the Odoo simulator: records of every model, the generic ORM
 * methods Odoo 18 exposes through `execute_kw` (`search`, `search_read`, `read`, `create`,
 * `write`, `unlink`, `fields_get`, `read_group`, ...), users and credentials, and an extension
 * point for business methods. Each `call` is one transaction: it shares one microsecond
 * `write_date` and is rolled back entirely when it raises (id and name sequences stay consumed,
 * as PostgreSQL sequences do). Deterministic given the clock.
 */
import { PyFloat } from '../pyfloat.ts';
import {
  OdooException, invalidField, invalidLanguage, mandatoryFieldError, missingError, privateMethod,
  unknownMethod, unknownModel, valueError, wrongSelectionValue, typeError, accessDenied,
} from './errors.ts';
import { matches, parseDomain, validateDomain, padDatetime } from './domain.ts';
import type { DomainSource, Row } from './domain.ts';
import { defaultRegistry } from './registry.ts';
import type { OdooVersion } from './versions.ts';
export type { OdooVersion } from './versions.ts';
import { seedDemoData } from './seed.ts';
import { registerFlows } from './flows.ts';
import { formatMicros } from './format.ts';
import { loadRecords } from './load.ts';
import type { FieldDef, ModelDef, Registry } from './registry.ts';

export { PyFloat };
export type { Row };

export type Context = Record<string, unknown>;
export type BusinessMethod = (db: OdooDatabase, uid: number, ids: number[], args: unknown[], kwargs: Record<string, unknown>) => unknown;
/** A non-stored field computed when read. */
export type ComputedField = (db: OdooDatabase, id: number, ctx: Context) => unknown;
/** Business logic run inside `create` (after the record exists) or `write` (after the values are stored). */
export type RecordHook = (db: OdooDatabase, ids: number[], vals: Row, ctx: Context) => void;

export interface SearchOptions {
  offset?: number;
  limit?: number | false | null;
  order?: string | false | null;
  context?: Context;
}

/** One record as a committed transaction left it: created, changed (with the fields whose value differs) or deleted. */
export interface CommittedChange {
  model: string;
  id: number;
  kind: 'create' | 'write' | 'unlink';
  /** fields whose stored value differs from before the transaction (all fields on create) */
  fields: string[];
}

export interface User {
  id: number;
  login: string;
  password: string;
  apiKeys: string[];
}

interface Tx {
  /** Stored form `YYYY-MM-DD HH:MM:SS.ffffff`. */
  now: string;
  undo: Map<string, Row | undefined>;
  uid: number;
  /** Open savepoints, innermost last: the rows as they were when each began. */
  savepoints: Map<string, Row | undefined>[];
}

const INSTALLED_LANGS = new Set(['en_US']);
const GENERIC_METHODS = new Set([
  'search', 'search_read', 'read', 'search_count', 'create', 'write', 'unlink', 'fields_get',
  'read_group', 'name_search', 'exists', 'default_get', 'check_access_rights', 'has_access', 'web_search_read',
  'load',
]);

export { formatMicros };

function asIds(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'number' ? x : Number(x)));
  if (v === false || v === null || v === undefined) return [];
  throw typeError(`unhashable type: '${typeof v}'`);
}

function num(v: unknown): number {
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  if (v === false || v === null || v === undefined) return 0;
  throw valueError(`could not convert string to float: ${JSON.stringify(v)}`);
}

export class OdooDatabase {
  readonly name: string;
  readonly version: OdooVersion;
  readonly now: () => Date;
  readonly registry: Registry;
  private readonly tables = new Map<string, Map<number, Row>>();
  private readonly idSeq = new Map<string, number>();
  private readonly methods = new Map<string, BusinessMethod>();
  private readonly computed = new Map<string, ComputedField>();
  private readonly createHooks = new Map<string, RecordHook>();
  private readonly writeHooks = new Map<string, RecordHook>();
  private readonly users = new Map<number, User>();
  private readonly commitListeners: ((changes: CommittedChange[]) => void)[] = [];
  private tx: Tx | null = null;
  private lastMicros = 0;
  private clockTicks = 0;

  /** A database holding the demo data (`seed: false` for an empty one). */
  constructor(o: { name: string; version: OdooVersion; now: () => Date; registry?: Registry; seed?: boolean }) {
    this.name = o.name;
    this.version = o.version;
    this.now = o.now;
    this.registry = o.registry ?? defaultRegistry(o.version);
    registerFlows(this);
    if (o.seed !== false) seedDemoData(this);
  }

  // ---------------------------------------------------------------- users

  addUser(u: User): void {
    this.users.set(u.id, { ...u, apiKeys: [...u.apiKeys] });
  }

  /** `common.authenticate`: the uid, or false for a wrong login or secret (password or API key). */
  authenticate(login: string, secret: string): number | false {
    for (const u of this.users.values()) {
      if (u.login === login && (u.password === secret || u.apiKeys.includes(secret))) return u.id;
    }
    return false;
  }

  /** The uid of an API key (bearer authentication), or false. */
  authenticateApiKey(key: string): number | false {
    for (const u of this.users.values()) if (u.apiKeys.includes(key)) return u.id;
    return false;
  }

  loginOf(uid: number): string | undefined {
    return this.users.get(uid)?.login;
  }

  /** The per-call check of `execute_kw`; throws AccessDenied. */
  checkCredentials(uid: number, secret: string): void {
    const u = this.users.get(uid);
    if (!u || (u.password !== secret && !u.apiKeys.includes(secret))) throw accessDenied();
  }

  // ---------------------------------------------------------------- extension points

  registerMethod(model: string, name: string, fn: BusinessMethod): void {
    this.methods.set(`${model}.${name}`, fn);
  }

  registerComputed(model: string, field: string, fn: ComputedField): void {
    this.computed.set(`${model}.${field}`, fn);
  }

  /** Run `fn` at the end of every `create` of `model` (one hook per model). */
  onCreate(model: string, fn: RecordHook): void {
    this.createHooks.set(model, fn);
  }

  /** Run `fn` at the end of every `write` of `model` (one hook per model). */
  onWrite(model: string, fn: RecordHook): void {
    this.writeHooks.set(model, fn);
  }

  /**
   * Called after every committed transaction with the records it changed, however they were
   * changed (RPC create/write or a business method's own writes). Nothing is reported for a
   * transaction that rolled back.
   */
  onCommit(fn: (changes: CommittedChange[]) => void): void {
    this.commitListeners.push(fn);
  }

  private committed(tx: Tx): void {
    if (!this.commitListeners.length || !tx.undo.size) return;
    const changes: CommittedChange[] = [];
    for (const [key, old] of tx.undo) {
      const sep = key.lastIndexOf('#');
      const model = key.slice(0, sep);
      const id = Number(key.slice(sep + 1));
      const cur = this.table(model).get(id);
      if (old === undefined && cur === undefined) continue;
      if (cur === undefined) changes.push({ model, id, kind: 'unlink', fields: [] });
      else if (old === undefined) changes.push({ model, id, kind: 'create', fields: Object.keys(cur) });
      else {
        const fields = Object.keys(cur).filter((k) => k !== 'write_date' && k !== 'write_uid' && JSON.stringify(cur[k]) !== JSON.stringify(old[k]));
        if (fields.length) changes.push({ model, id, kind: 'write', fields });
      }
    }
    if (changes.length) for (const fn of this.commitListeners) fn(changes);
  }

  hasModel(model: string): boolean {
    return this.registry.get(model) !== undefined;
  }

  modelDef(model: string): ModelDef {
    const m = this.registry.get(model);
    if (!m) throw unknownModel(model);
    return m;
  }

  // ---------------------------------------------------------------- transactions and clock

  /** The current transaction timestamp (stored form), or a fresh one outside a call. */
  txNow(): string {
    return this.tx?.now ?? this.tick();
  }

  /** Same timestamp, truncated as Odoo returns it: `YYYY-MM-DD HH:MM:SS`. */
  txNowSeconds(): string {
    return this.txNow().slice(0, 19);
  }

  private tick(): string {
    const ms = this.now().getTime();
    this.clockTicks++;
    let micros = ms * 1000 + ((this.clockTicks * 7919) % 1000);
    if (micros <= this.lastMicros) micros = this.lastMicros + 1;
    this.lastMicros = micros;
    return formatMicros(micros);
  }

  /** Run `fn` as one transaction (nested calls join the outer one). */
  transaction<T>(uid: number, fn: () => T): T {
    if (this.tx) return fn();
    this.tx = { now: this.tick(), undo: new Map(), uid, savepoints: [] };
    try {
      const r = fn();
      const tx = this.tx as Tx;
      this.tx = null;
      this.committed(tx);
      return r;
    } catch (e) {
      const tx = this.tx as Tx;
      this.tx = null;
      for (const [key, old] of tx.undo) {
        const sep = key.lastIndexOf('#');
        const table = this.table(key.slice(0, sep));
        const id = Number(key.slice(sep + 1));
        if (old === undefined) table.delete(id);
        else table.set(id, old);
      }
      throw e;
    }
  }

  /**
   * Run `fn` inside a savepoint of the current transaction: when it asks for a rollback (or
   * throws), the records it changed are put back as they were; the transaction goes on.
   */
  savepoint<T>(fn: () => { value: T; rollback: boolean }): T {
    const tx = this.tx;
    if (!tx) throw new Error('savepoint outside a transaction');
    const sp = new Map<string, Row | undefined>();
    tx.savepoints.push(sp);
    let ok = false;
    try {
      const r = fn();
      ok = !r.rollback;
      return r.value;
    } finally {
      tx.savepoints.pop();
      if (!ok) {
        for (const [key, old] of sp) {
          const sep = key.lastIndexOf('#');
          const table = this.table(key.slice(0, sep));
          const id = Number(key.slice(sep + 1));
          if (old === undefined) table.delete(id);
          else table.set(id, old);
        }
      } else {
        const outer = tx.savepoints.at(-1);
        if (outer) for (const [k, v] of sp) if (!outer.has(k)) outer.set(k, v);
      }
    }
  }

  private touch(model: string, id: number): void {
    if (!this.tx) return;
    const key = `${model}#${id}`;
    const sps = this.tx.savepoints;
    const known = this.tx.undo.has(key) && sps.every((sp) => sp.has(key));
    if (known) return;
    const cur = this.table(model).get(id);
    const snap = cur === undefined ? undefined : structuredClone(cur);
    if (!this.tx.undo.has(key)) this.tx.undo.set(key, snap);
    for (const sp of sps) if (!sp.has(key)) sp.set(key, snap === undefined ? undefined : structuredClone(snap));
  }

  private table(model: string): Map<number, Row> {
    let t = this.tables.get(model);
    if (!t) {
      t = new Map();
      this.tables.set(model, t);
    }
    return t;
  }

  /** Set the next id a model's sequence hands out (seeding). */
  setNextId(model: string, next: number): void {
    this.idSeq.set(model, next);
  }

  private nextId(model: string): number {
    const n = this.idSeq.get(model) ?? Math.max(0, ...this.table(model).keys()) + 1;
    this.idSeq.set(model, n + 1);
    return n;
  }

  /** `ir.sequence.next_by_code`: consumes a number even when the transaction later fails. */
  nextByCode(code: string): string | false {
    for (const [id, row] of this.table('ir.sequence')) {
      if (row['code'] === code) return this.nextBySequenceId(id);
    }
    return false;
  }

  nextBySequenceId(id: number): string {
    const row = this.table('ir.sequence').get(id);
    if (!row) throw missingError('ir.sequence', [id], 1);
    const n = Number(row['number_next'] ?? 1);
    row['number_next'] = n + Number(row['number_increment'] ?? 1);
    const prefix = String(row['prefix'] || '').replace('%(year)s', this.txNow().slice(0, 4));
    return `${prefix}${String(n).padStart(Number(row['padding'] ?? 0), '0')}`;
  }

  // ---------------------------------------------------------------- raw access for business code

  /** The stored row (not a copy: mutate only through `write`). */
  row(model: string, id: number): Row | undefined {
    return this.table(model).get(id);
  }

  ids(model: string): number[] {
    return [...this.table(model).keys()];
  }

  /** Insert a record as-is (seeding): no defaults, no checks, keeps the given timestamps. */
  insertRaw(model: string, row: Row & { id: number }): void {
    this.modelDef(model);
    const stored: Row = { ...row };
    for (const k of ['create_date', 'write_date']) {
      if (typeof stored[k] === 'string') stored[k] = padDatetime(stored[k] as string);
    }
    this.table(model).set(row.id, stored);
    const next = this.idSeq.get(model) ?? 1;
    if (row.id >= next) this.idSeq.set(model, row.id + 1);
  }

  // ---------------------------------------------------------------- dispatch

  /** `execute_kw(db, uid, secret, model, method, args, kwargs)` once credentials are checked. */
  call(uid: number, model: string, method: string, args: unknown[], kwargs: Record<string, unknown>): unknown {
    const ctx = (kwargs['context'] ?? {}) as Context;
    if (!this.registry.get(model)) throw unknownModel(model);
    if (method.startsWith('_')) throw privateMethod(model, method);
    const lang = ctx['lang'];
    if (typeof lang === 'string' && lang && !INSTALLED_LANGS.has(lang)) throw invalidLanguage(lang);
    const custom = this.methods.get(`${model}.${method}`);
    if (custom) {
      return this.transaction(uid, () => custom(this, uid, asIds(args[0]), args.slice(1), kwargs));
    }
    if (!GENERIC_METHODS.has(method)) throw unknownMethod(model, method);
    const a = (i: number, name: string, dflt?: unknown): unknown =>
      name in kwargs ? kwargs[name] : i < args.length ? args[i] : dflt;
    return this.transaction(uid, () => {
      switch (method) {
        case 'search': {
          const r = this.search(model, a(0, 'domain', []), {
            offset: a(1, 'offset', 0) as number, limit: a(2, 'limit', null) as number | null,
            order: a(3, 'order', null) as string | null, context: ctx,
          });
          return a(4, 'count', false) ? r.length : r;
        }
        case 'search_count': {
          const lim = a(1, 'limit', null) as number | null;
          return this.search(model, a(0, 'domain', []), { limit: lim, context: ctx }).length;
        }
        case 'search_read': {
          const ids = this.search(model, a(0, 'domain', []), {
            offset: a(2, 'offset', 0) as number, limit: a(3, 'limit', null) as number | null,
            order: a(4, 'order', null) as string | null, context: ctx,
          });
          return this.read(model, ids, a(1, 'fields', null) as string[] | null, { load: kwargs['load'] === undefined ? '_classic_read' : kwargs['load'], context: ctx });
        }
        case 'web_search_read': {
          const spec = (a(1, 'specification', {}) ?? {}) as Record<string, unknown>;
          const ids = this.search(model, a(0, 'domain', []), {
            offset: a(2, 'offset', 0) as number, limit: a(3, 'limit', null) as number | null,
            order: a(4, 'order', null) as string | null, context: ctx,
          });
          return { length: ids.length, records: this.read(model, ids, Object.keys(spec), { load: '_classic_read', context: ctx }) };
        }
        case 'read':
          return this.read(model, asIds(a(0, 'ids', [])), a(1, 'fields', null) as string[] | null, {
            load: a(2, 'load', '_classic_read'), context: ctx,
          });
        case 'create': {
          const v = a(0, 'vals_list', undefined) ?? kwargs['vals'];
          if (Array.isArray(v)) return v.map((x) => this.create(model, x as Row, ctx));
          if (v === null || typeof v !== 'object') throw typeError(`'${typeof v}' object is not iterable`);
          return this.create(model, v as Row, ctx);
        }
        case 'write':
          this.write(model, asIds(a(0, 'ids', [])), (a(1, 'vals', {}) ?? {}) as Row, ctx);
          return true;
        case 'unlink':
          this.unlink(model, asIds(a(0, 'ids', [])));
          return true;
        case 'exists': {
          const t = this.table(model);
          return asIds(a(0, 'ids', [])).filter((id) => t.has(id));
        }
        case 'fields_get':
          return this.fieldsGet(model, a(0, 'allfields', null) as string[] | null, a(1, 'attributes', null) as string[] | null);
        case 'read_group':
          return this.readGroup(model, a(0, 'domain', []), (a(1, 'fields', []) ?? []) as string[], a(2, 'groupby', []) as string | string[], {
            offset: a(3, 'offset', 0) as number, limit: a(4, 'limit', null) as number | null,
            orderby: a(5, 'orderby', null) as string | null, lazy: a(6, 'lazy', true) !== false, context: ctx,
          });
        case 'name_search':
          return this.nameSearch(model, String(a(0, 'name', '') || ''), a(1, 'args', null) ?? kwargs['domain'] ?? [], String(a(2, 'operator', 'ilike')), a(3, 'limit', 100) as number | null, ctx);
        case 'default_get':
          return this.defaultGet(model, (a(0, 'fields_list', []) ?? []) as string[], ctx);
        case 'check_access_rights':
        case 'has_access':
          return true;
        case 'load':
          return loadRecords(this, model, a(0, 'fields', []), a(1, 'data', []), ctx);
      }
      throw unknownMethod(model, method);
    });
  }

  // ---------------------------------------------------------------- search

  private domainSource(): DomainSource {
    return {
      model: (name) => this.modelDef(name),
      row: (model, id) => this.table(model).get(id),
      relatedIds: (model, id, f) => this.relatedIds(model, id, f),
      displayName: (model, id) => this.displayName(model, id),
      allIds: (model) => this.ids(model),
    };
  }

  /** Ids held by a relational field, in the target's `_order` for x2many. */
  relatedIds(model: string, id: number, f: FieldDef): number[] {
    const row = this.table(model).get(id);
    if (!row) return [];
    if (f.type === 'many2one') {
      const v = row[f.name];
      return typeof v === 'number' ? [v] : [];
    }
    if (f.type === 'many2many') return Array.isArray(row[f.name]) ? [...(row[f.name] as number[])] : [];
    if (f.type === 'one2many') {
      if (!f.inverse || !f.relation || !this.registry.get(f.relation)) return [];
      const out: number[] = [];
      for (const [cid, crow] of this.table(f.relation)) if (crow[f.inverse] === id) out.push(cid);
      return this.sortIds(f.relation, out, null);
    }
    return [];
  }

  /** Ids matching `domain`, sorted by `order` (or the model's `_order`), paged. */
  search(model: string, domain: unknown, opts: SearchOptions = {}): number[] {
    const m = this.modelDef(model);
    const tree = parseDomain(domain);
    const src = this.domainSource();
    validateDomain(src, model, tree);
    const activeTest = opts.context?.['active_test'] !== false && m.fields.has('active') && !mentions(domain, 'active');
    const out: number[] = [];
    for (const [id, row] of this.table(model)) {
      if (activeTest && row['active'] === false) continue;
      if (matches(src, model, id, tree)) out.push(id);
    }
    const sorted = this.sortIds(model, out, opts.order || null);
    const offset = Number(opts.offset ?? 0) || 0;
    const limit = opts.limit === null || opts.limit === undefined || opts.limit === false ? undefined : Number(opts.limit);
    return sorted.slice(offset, limit === undefined ? undefined : offset + limit);
  }

  private sortIds(model: string, ids: number[], order: string | null): number[] {
    const m = this.modelDef(model);
    const spec = parseOrder(m, order || m.order);
    const t = this.table(model);
    const keyOf = (id: number, field: string): unknown => {
      if (field === 'id') return id;
      const f = m.fields.get(field)!;
      const v = t.get(id)?.[field];
      if (f.type === 'many2one') return typeof v === 'number' && f.relation ? this.displayName(f.relation, v).toLowerCase() : null;
      if (v === false || v === undefined || v === null) return f.type === 'boolean' ? false : null;
      if (v instanceof PyFloat) return v.value;
      return v;
    };
    return [...ids].sort((x, y) => {
      for (const { field, desc, nullsFirst } of spec) {
        const a = keyOf(x, field);
        const b = keyOf(y, field);
        if (a === b) continue;
        if (a === null || b === null) {
          const c = a === null ? (nullsFirst ? -1 : 1) : nullsFirst ? 1 : -1;
          return c;
        }
        const c = typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
        if (c !== 0) return desc ? -c : c;
      }
      return 0;
    });
  }

  // ---------------------------------------------------------------- read

  displayName(model: string, id: number): string {
    const m = this.registry.get(model);
    const row = this.table(model).get(id);
    if (!m || !row) return `${model},${id}`;
    const str = (v: unknown): string => (typeof v === 'string' ? v : '');
    switch (model) {
      case 'product.product':
      case 'product.template': {
        const code = str(row['default_code']);
        return code ? `[${code}] ${str(row['name'])}` : str(row['name']);
      }
      case 'stock.picking.type': {
        const wh = row['warehouse_id'];
        return typeof wh === 'number' ? `${this.displayName('stock.warehouse', wh)}: ${str(row['name'])}` : str(row['name']);
      }
      case 'account.move':
        return str(row['name']) && row['name'] !== '/' ? str(row['name']) : row['move_type'] === 'out_invoice' ? `Draft Invoice (* ${id})` : `Draft Entry (* ${id})`;
      case 'res.partner':
        return str(row['complete_name']) || this.partnerCompleteName(row);
    }
    if (m.recName === 'id' || !m.fields.has(m.recName)) return `${model},${id}`;
    const v = row[m.recName];
    return typeof v === 'string' ? v : v === false || v === undefined ? '' : String(v);
  }

  private partnerCompleteName(row: Row): string {
    const name = typeof row['name'] === 'string' ? row['name'] : '';
    const parent = row['parent_id'];
    if (typeof parent === 'number' && row['type'] !== 'contact' || typeof parent === 'number' && name) {
      const pn = this.table('res.partner').get(parent as number);
      const pname = pn ? (typeof pn['complete_name'] === 'string' && pn['complete_name']) || String(pn['name'] ?? '') : '';
      if (!name) return pname;
      return pname ? `${pname}, ${name}` : name;
    }
    return name;
  }

  /** `read`: missing ids are left out; `load` other than `_classic_read` gives bare many2one ids. */
  read(model: string, ids: number[], fields: string[] | null, opts: { load?: unknown; context?: Context } = {}): Row[] {
    const m = this.modelDef(model);
    const names = fields && fields.length ? fields : [...m.fields.keys()];
    for (const n of names) if (!m.fields.has(n)) throw invalidField(model, n);
    const classic = opts.load === '_classic_read' || opts.load === undefined;
    const t = this.table(model);
    const out: Row[] = [];
    const ctx = opts.context ?? {};
    for (const id of ids) {
      if (!t.has(id)) continue;
      const r: Row = { id };
      for (const n of names) {
        if (n === 'id') continue;
        r[n] = this.readField(m, id, m.fields.get(n)!, classic, ctx);
      }
      out.push(r);
    }
    return out;
  }

  /** One field of one record in its RPC form. */
  readField(m: ModelDef, id: number, f: FieldDef, classic = true, ctx: Context = {}): unknown {
    const comp = this.computed.get(`${m.name}.${f.name}`);
    let v = comp ? comp(this, id, ctx) : this.table(m.name).get(id)?.[f.name];
    if (f.name === 'display_name') return this.displayName(m.name, id);
    if (f.name === 'complete_name' && m.name === 'res.partner' && !comp) return this.displayName(m.name, id);
    switch (f.type) {
      case 'float':
      case 'monetary':
        return new PyFloat(v === undefined || v === null || v === false ? 0 : num(v));
      case 'integer':
        return v === undefined || v === null || v === false ? 0 : num(v);
      case 'boolean':
        return Boolean(v);
      case 'many2one':
        if (typeof v !== 'number') return false;
        return classic ? [v, f.relation ? this.displayName(f.relation, v) : `${v}`] : v;
      case 'one2many':
      case 'many2many':
        if (comp) return Array.isArray(v) ? v : [];
        return this.relatedIds(m.name, id, f);
      case 'datetime':
        return typeof v === 'string' && v ? v.slice(0, 19) : false;
      case 'date':
        return typeof v === 'string' && v ? v.slice(0, 10) : false;
      default:
        if (v === undefined || v === null || v === '') return v === '' && f.type !== 'selection' ? '' : false;
        return v;
    }
  }

  // ---------------------------------------------------------------- create / write / unlink

  private convert(m: ModelDef, f: FieldDef, v: unknown): unknown {
    if (v instanceof PyFloat) v = v.value;
    if (v === null || v === undefined) v = false;
    switch (f.type) {
      case 'float':
      case 'monetary':
        return v === false ? 0 : num(v);
      case 'integer':
        return v === false ? 0 : Math.trunc(num(v));
      case 'boolean':
        return Boolean(v);
      case 'many2one': {
        if (v === false || v === 0) return false;
        if (Array.isArray(v)) v = v[0];
        const n = typeof v === 'number' ? v : Number(v);
        if (!Number.isInteger(n)) throw valueError(`Wrong value for ${m.name}.${f.name}: ${JSON.stringify(v)}`);
        return n;
      }
      case 'datetime':
        if (v === false || v === '') return false;
        if (v instanceof Date) return formatMicros(v.getTime() * 1000);
        return padDatetime(String(v));
      case 'date':
        if (v === false || v === '') return false;
        if (v instanceof Date) return v.toISOString().slice(0, 10);
        if (!/^\d{4}-\d{2}-\d{2}/.test(String(v))) throw valueError(`time data '${String(v)}' does not match format '%Y-%m-%d'`);
        return String(v).slice(0, 10);
      case 'selection':
        if (v === false) return false;
        if (f.selection && f.selection.length && !f.selection.some(([k]) => k === v)) throw wrongSelectionValue(m.name, f.name, v);
        return v;
      case 'char':
      case 'text':
      case 'html':
        return v === false ? false : typeof v === 'string' ? v : String(v);
      default:
        return v;
    }
  }

  /** Default values of a new record (generic rules, then the model's own). */
  private defaults(m: ModelDef, vals: Row, ctx: Context): Row {
    const d: Row = {};
    const has = (k: string): boolean => m.fields.has(k) && !(k in vals);
    if (has('active')) d['active'] = true;
    if (has('company_id') && m.fields.get('company_id')!.relation === 'res.company') d['company_id'] = 1;
    if (has('currency_id') && m.fields.get('currency_id')!.relation === 'res.currency') d['currency_id'] = 1;
    for (const [k, v] of Object.entries(ctx)) {
      if (k.startsWith('default_') && m.fields.has(k.slice(8)) && !(k.slice(8) in vals)) d[k.slice(8)] = v;
    }
    const now = this.txNow();
    const nowS = now.slice(0, 19);
    const product = (id: unknown): Row | undefined => (typeof id === 'number' ? this.table('product.product').get(id) : undefined);
    const pname = (id: unknown): string | false => (typeof id === 'number' ? this.displayName('product.product', id) : false);
    switch (m.name) {
      case 'sale.order': {
        if (!vals['name'] || vals['name'] === 'New') d['name'] = this.nextByCode('sale.order') || 'New';
        if (has('state')) d['state'] = 'draft';
        if (has('date_order')) d['date_order'] = nowS;
        if (has('picking_policy')) d['picking_policy'] = 'direct';
        if (has('invoice_status')) d['invoice_status'] = 'no';
        const p = vals['partner_id'];
        if (has('partner_invoice_id') && p) d['partner_invoice_id'] = p;
        if (has('partner_shipping_id') && p) d['partner_shipping_id'] = p;
        if (has('warehouse_id')) d['warehouse_id'] = 1;
        if (has('user_id')) d['user_id'] = this.tx?.uid ?? 2;
        if (has('payment_term_id') && typeof p === 'number') {
          const pt = this.table('res.partner').get(p)?.['property_payment_term_id'];
          if (typeof pt === 'number') d['payment_term_id'] = pt;
        }
        break;
      }
      case 'sale.order.line': {
        const pr = product(vals['product_id']);
        if (has('name')) d['name'] = pname(vals['product_id']) || '';
        if (has('product_uom_qty')) d['product_uom_qty'] = 1;
        if (has('price_unit')) d['price_unit'] = pr ? num(pr['list_price']) : 0;
        if (has('product_uom')) d['product_uom'] = pr?.['uom_id'] ?? 1;
        if (has('customer_lead')) d['customer_lead'] = 0;
        if (has('sequence')) d['sequence'] = 10;
        break;
      }
      case 'purchase.order': {
        if (!vals['name'] || vals['name'] === 'New') d['name'] = this.nextByCode('purchase.order') || 'New';
        if (has('state')) d['state'] = 'draft';
        if (has('date_order')) d['date_order'] = nowS;
        if (has('invoice_status')) d['invoice_status'] = 'no';
        if (has('picking_type_id')) d['picking_type_id'] = this.pickingTypeByCode('incoming') ?? false;
        if (has('priority')) d['priority'] = '0';
        if (has('user_id')) d['user_id'] = this.tx?.uid ?? 2;
        break;
      }
      case 'purchase.order.line': {
        const pr = product(vals['product_id']);
        if (has('name')) d['name'] = pname(vals['product_id']) || '';
        if (has('product_qty')) d['product_qty'] = 1;
        if (has('product_uom')) d['product_uom'] = pr?.['uom_po_id'] ?? pr?.['uom_id'] ?? 1;
        if (has('price_unit')) {
          const order = typeof vals['order_id'] === 'number' ? this.table('purchase.order').get(vals['order_id']) : undefined;
          d['price_unit'] = this.supplierPrice(vals['product_id'], order?.['partner_id']) ?? (pr ? num(pr['standard_price']) : 0);
        }
        if (has('sequence')) d['sequence'] = 10;
        break;
      }
      case 'stock.picking': {
        const typeId = vals['picking_type_id'] ?? d['picking_type_id'];
        const pt = typeof typeId === 'number' ? this.table('stock.picking.type').get(typeId) : undefined;
        if (pt) {
          if (!vals['name'] || vals['name'] === '/') {
            const seq = pt['sequence_id'];
            d['name'] = typeof seq === 'number' ? this.nextBySequenceId(seq) : '/';
          }
          if (has('location_id')) d['location_id'] = pt['default_location_src_id'] ?? false;
          if (has('location_dest_id')) d['location_dest_id'] = pt['default_location_dest_id'] ?? false;
        }
        if (has('state')) d['state'] = 'draft';
        if (has('move_type')) d['move_type'] = 'direct';
        if (has('priority')) d['priority'] = '0';
        if (has('scheduled_date')) d['scheduled_date'] = nowS;
        break;
      }
      case 'stock.move': {
        const pr = product(vals['product_id']);
        if (has('name')) d['name'] = pname(vals['product_id']) || '';
        if (has('state')) d['state'] = 'draft';
        if (has('date')) d['date'] = nowS;
        if (has('procure_method')) d['procure_method'] = 'make_to_stock';
        if (has('product_uom')) d['product_uom'] = pr?.['uom_id'] ?? 1;
        if (has('priority')) d['priority'] = '0';
        if (has('sequence')) d['sequence'] = 10;
        const pick = typeof vals['picking_id'] === 'number' ? this.table('stock.picking').get(vals['picking_id']) : undefined;
        if (pick) {
          if (has('location_id')) d['location_id'] = pick['location_id'];
          if (has('location_dest_id')) d['location_dest_id'] = pick['location_dest_id'];
          if (has('picking_type_id')) d['picking_type_id'] = pick['picking_type_id'];
        }
        break;
      }
      case 'stock.move.line':
        if (has('date')) d['date'] = nowS;
        if (has('state')) d['state'] = 'draft';
        break;
      case 'stock.quant':
        if (has('in_date')) d['in_date'] = nowS;
        if (has('reserved_quantity')) d['reserved_quantity'] = 0;
        break;
      case 'res.partner':
        if (has('type')) d['type'] = 'contact';
        if (has('company_type')) d['company_type'] = vals['is_company'] ? 'company' : 'person';
        if (has('autopost_bills')) d['autopost_bills'] = 'ask';
        break;
      case 'account.move':
        if (has('state')) d['state'] = 'draft';
        if (has('move_type')) d['move_type'] = 'entry';
        if (has('date')) d['date'] = nowS.slice(0, 10);
        if (has('auto_post')) d['auto_post'] = 'no';
        if (has('payment_state')) d['payment_state'] = 'not_paid';
        if (has('journal_id')) d['journal_id'] = 1;
        break;
      case 'account.move.line':
        if (has('display_type')) d['display_type'] = 'product';
        break;
      case 'sale.advance.payment.inv':
        if (has('advance_payment_method')) d['advance_payment_method'] = 'delivered';
        break;
      case 'account.payment.register':
        if (has('payment_date')) d['payment_date'] = nowS.slice(0, 10);
        break;
      case 'ir.sequence':
        if (has('padding')) d['padding'] = 0;
        if (has('number_next')) d['number_next'] = 1;
        if (has('number_increment')) d['number_increment'] = 1;
        break;
    }
    return d;
  }

  private pickingTypeByCode(code: string): number | undefined {
    return this.search('stock.picking.type', [['code', '=', code]], { limit: 1, order: 'id' })[0];
  }

  /** Vendor price of a product (first matching `product.supplierinfo`), if any. */
  supplierPrice(productId: unknown, partnerId: unknown): number | undefined {
    if (typeof productId !== 'number') return undefined;
    const tmpl = this.table('product.product').get(productId)?.['product_tmpl_id'];
    for (const id of this.sortIds('product.supplierinfo', this.ids('product.supplierinfo'), 'sequence, id')) {
      const s = this.table('product.supplierinfo').get(id)!;
      const forProduct = s['product_id'] === productId || (!s['product_id'] && s['product_tmpl_id'] === tmpl);
      if (forProduct && (partnerId === undefined || s['partner_id'] === partnerId)) return num(s['price']);
    }
    return undefined;
  }

  /** `create` of one record: defaults, conversion, x2many commands, NOT NULL check. */
  create(model: string, vals: Row, ctx: Context = {}): number {
    const m = this.modelDef(model);
    if (vals === null || typeof vals !== 'object' || Array.isArray(vals)) throw typeError(`'${typeof vals}' object is not a mapping`);
    for (const k of Object.keys(vals)) if (!m.fields.has(k)) throw invalidField(model, k);
    return this.transaction(this.tx?.uid ?? 1, () => {
      const id = this.nextId(model);
      const d = this.defaults(m, vals, ctx);
      const row: Row = { id };
      const x2m: [FieldDef, unknown][] = [];
      for (const [k, v] of Object.entries({ ...d, ...vals })) {
        if (k === 'id' || ['create_date', 'write_date', 'create_uid', 'write_uid', 'display_name'].includes(k)) continue;
        const f = m.fields.get(k);
        if (!f) continue;
        if (f.type === 'one2many' || f.type === 'many2many') x2m.push([f, v]);
        else row[k] = this.convert(m, f, v);
      }
      // NOT NULL: the first missing column in table order.
      const req = [...m.requiredOrder, ...[...m.fields.values()].filter((f) => f.required && f.store).map((f) => f.name)];
      for (const name of req) {
        const f = m.fields.get(name);
        if (!f || !f.required || !f.store || f.type === 'one2many' || f.type === 'many2many' || f.type === 'boolean') continue;
        const v = row[name];
        if (v === undefined || v === false || v === null || (f.type !== 'float' && f.type !== 'integer' && f.type !== 'monetary' && v === '')) {
          if ((f.type === 'float' || f.type === 'integer' || f.type === 'monetary') && v === undefined) {
            row[name] = 0;
            continue;
          }
          throw mandatoryFieldError(m.description, model, f.string, name);
        }
      }
      const now = this.txNow();
      const uid = this.tx?.uid ?? 1;
      Object.assign(row, { create_date: now, write_date: now, create_uid: uid, write_uid: uid });
      if (model === 'res.partner') row['complete_name'] = this.partnerCompleteName(row);
      this.touch(model, id);
      this.table(model).set(id, row);
      for (const [f, v] of x2m) this.applyX2many(m, id, f, v, ctx);
      this.afterChange(model, [id]);
      this.createHooks.get(model)?.(this, [id], vals, ctx);
      return id;
    });
  }

  /** `write`: MissingError when any id is gone; every written record gets the call's write_date. */
  write(model: string, ids: number[], vals: Row, ctx: Context = {}): void {
    const m = this.modelDef(model);
    for (const k of Object.keys(vals)) if (!m.fields.has(k)) throw invalidField(model, k);
    this.transaction(this.tx?.uid ?? 1, () => {
      const t = this.table(model);
      // values are converted (and a bad selection value refused) before the records are looked up, as Odoo does
      const converted: Row = {};
      const x2m: [FieldDef, unknown][] = [];
      for (const [k, v] of Object.entries(vals)) {
        if (['id', 'create_date', 'write_date', 'create_uid', 'write_uid', 'display_name'].includes(k)) continue;
        const f = m.fields.get(k)!;
        if (f.type === 'one2many' || f.type === 'many2many') x2m.push([f, v]);
        else converted[k] = this.convert(m, f, v);
      }
      const missing = ids.filter((id) => !t.has(id));
      if (missing.length) throw missingError(model, missing, this.tx?.uid ?? 1);
      for (const [k, c] of Object.entries(converted)) {
        const f = m.fields.get(k)!;
        if (f.required && f.store && (c === false || c === '') && f.type !== 'boolean') throw mandatoryFieldError(m.description, model, f.string, k);
      }
      const now = this.txNow();
      const uid = this.tx?.uid ?? 1;
      for (const id of ids) {
        this.touch(model, id);
        const row = t.get(id)!;
        Object.assign(row, converted, { write_date: now, write_uid: uid });
        for (const [f, v] of x2m) this.applyX2many(m, id, f, v, ctx);
      }
      if (model === 'res.partner' && ('name' in vals || 'parent_id' in vals)) {
        for (const id of ids) this.refreshPartnerNames(id);
      }
      this.afterChange(model, ids);
      this.writeHooks.get(model)?.(this, ids, vals, ctx);
    });
  }

  private refreshPartnerNames(id: number, seen = new Set<number>()): void {
    if (seen.has(id)) return;
    seen.add(id);
    const row = this.table('res.partner').get(id);
    if (!row) return;
    row['complete_name'] = this.partnerCompleteName(row);
    for (const [cid, c] of this.table('res.partner')) {
      if (c['parent_id'] === id) {
        this.touch('res.partner', cid);
        this.refreshPartnerNames(cid, seen);
      }
    }
  }

  /** `unlink`: MissingError for gone ids; one2many children with a required inverse go too. */
  unlink(model: string, ids: number[]): void {
    const m = this.modelDef(model);
    this.transaction(this.tx?.uid ?? 1, () => {
      const t = this.table(model);
      const missing = ids.filter((id) => !t.has(id));
      if (missing.length) throw missingError(model, missing, this.tx?.uid ?? 1);
      const parents = this.parentsOf(model, ids);
      for (const id of ids) {
        if (!t.has(id)) continue;
        for (const f of m.fields.values()) {
          if (f.type !== 'one2many' || !f.inverse || !f.relation || !this.registry.get(f.relation)) continue;
          const inv = this.modelDef(f.relation).fields.get(f.inverse);
          const children = this.relatedIds(model, id, f);
          if (inv?.required) this.unlink(f.relation, children.filter((c) => this.table(f.relation!).has(c)));
          else for (const c of children) this.setRaw(f.relation, c, { [f.inverse]: false });
        }
        this.touch(model, id);
        t.delete(id);
      }
      for (const [pm, pids] of parents) this.afterChange(pm, pids.filter((p) => this.table(pm).has(p)));
    });
  }

  /** Change stored values without conversion or checks (business code); bumps write_date. */
  setRaw(model: string, id: number, vals: Row): void {
    const row = this.table(model).get(id);
    if (!row) throw missingError(model, [id], this.tx?.uid ?? 1);
    this.touch(model, id);
    Object.assign(row, vals, { write_date: this.txNow() });
  }

  private applyX2many(m: ModelDef, id: number, f: FieldDef, value: unknown, ctx: Context): void {
    if (!f.relation) return;
    const target = f.relation;
    this.modelDef(target);
    const cmds: unknown[][] = [];
    if (Array.isArray(value) && value.every((x) => typeof x === 'number')) cmds.push([6, 0, value]);
    else if (Array.isArray(value)) for (const c of value) cmds.push(Array.isArray(c) ? c : [4, c]);
    else if (value === false || value === null) cmds.push([5]);
    const o2m = f.type === 'one2many';
    const inv = f.inverse;
    const getM2m = (): number[] => {
      const r = this.table(m.name).get(id)!;
      return Array.isArray(r[f.name]) ? [...(r[f.name] as number[])] : [];
    };
    const setM2m = (ids: number[]): void => {
      this.touch(m.name, id);
      this.table(m.name).get(id)![f.name] = [...new Set(ids)];
    };
    if (!o2m) {
      const r = this.table(m.name).get(id)!;
      if (!Array.isArray(r[f.name])) r[f.name] = [];
    }
    for (const c of cmds) {
      const code = Number(c[0]);
      const cid = typeof c[1] === 'number' ? c[1] : 0;
      switch (code) {
        case 0: {
          const vals = { ...((c[2] ?? {}) as Row) };
          if (o2m && inv) vals[inv] = id;
          const nid = this.create(target, vals, stripDefaults(ctx));
          if (!o2m) setM2m([...getM2m(), nid]);
          break;
        }
        case 1:
          this.write(target, [cid], (c[2] ?? {}) as Row, ctx);
          if (!o2m && !getM2m().includes(cid)) setM2m([...getM2m(), cid]);
          break;
        case 2:
          if (this.table(target).has(cid)) this.unlink(target, [cid]);
          if (!o2m) setM2m(getM2m().filter((x) => x !== cid));
          break;
        case 3:
          if (o2m && inv) this.detach(target, inv, [cid]);
          else setM2m(getM2m().filter((x) => x !== cid));
          break;
        case 4:
          if (o2m && inv) this.write(target, [cid], { [inv]: id }, ctx);
          else setM2m([...getM2m(), cid]);
          break;
        case 5:
          if (o2m && inv) this.detach(target, inv, this.relatedIds(m.name, id, f));
          else setM2m([]);
          break;
        case 6: {
          const ids = asIds(c[2]);
          if (o2m && inv) {
            const cur = this.relatedIds(m.name, id, f);
            this.detach(target, inv, cur.filter((x) => !ids.includes(x)));
            const add = ids.filter((x) => !cur.includes(x));
            if (add.length) this.write(target, add, { [inv]: id }, ctx);
          } else setM2m(ids);
          break;
        }
        default:
          throw valueError(`Invalid x2many command ${JSON.stringify(c)}`);
      }
    }
  }

  /** Removing a child from a one2many: deleted when its inverse is required, else unlinked. */
  private detach(model: string, inverse: string, ids: number[]): void {
    const inv = this.modelDef(model).fields.get(inverse);
    const live = ids.filter((x) => this.table(model).has(x));
    if (!live.length) return;
    if (inv?.required) this.unlink(model, live);
    else this.write(model, live, { [inverse]: false });
  }

  private parentsOf(model: string, ids: number[]): Map<string, number[]> {
    const out = new Map<string, number[]>();
    const link: Record<string, [string, string]> = {
      'sale.order.line': ['order_id', 'sale.order'],
      'purchase.order.line': ['order_id', 'purchase.order'],
    };
    const l = link[model];
    if (!l) return out;
    const pids = ids.map((id) => this.table(model).get(id)?.[l[0]]).filter((x): x is number => typeof x === 'number');
    out.set(l[1], [...new Set(pids)]);
    return out;
  }

  /** Stored computed fields the flows read: line subtotals, order totals, picking type code. */
  private afterChange(model: string, ids: number[]): void {
    const lineModels: Record<string, { qty: string; order: string }> = {
      'sale.order.line': { qty: 'product_uom_qty', order: 'sale.order' },
      'purchase.order.line': { qty: 'product_qty', order: 'purchase.order' },
    };
    const lm = lineModels[model];
    if (lm) {
      const orders = new Set<number>();
      for (const id of ids) {
        const r = this.table(model).get(id);
        if (!r) continue;
        const sub = num(r[lm.qty]) * num(r['price_unit']) * (1 - num(r['discount']) / 100);
        Object.assign(r, { price_subtotal: sub, price_total: sub });
        if (typeof r['order_id'] === 'number') orders.add(r['order_id']);
      }
      this.afterChange(lm.order, [...orders]);
      return;
    }
    if (model === 'sale.order' || model === 'purchase.order') {
      const lineModel = `${model}.line`;
      for (const id of ids) {
        const r = this.table(model).get(id);
        if (!r) continue;
        let total = 0;
        for (const lr of this.table(lineModel).values()) if (lr['order_id'] === id) total += num(lr['price_subtotal']);
        Object.assign(r, { amount_untaxed: total, amount_total: total, amount_tax: 0 });
      }
      return;
    }
    if (model === 'stock.picking') {
      for (const id of ids) {
        const r = this.table(model).get(id);
        if (!r) continue;
        const pt = typeof r['picking_type_id'] === 'number' ? this.table('stock.picking.type').get(r['picking_type_id']) : undefined;
        r['picking_type_code'] = pt?.['code'] ?? false;
      }
    }
  }

  // ---------------------------------------------------------------- metadata and grouping

  /** `fields_get`: attributes that do not apply to a field are left out. */
  fieldsGet(model: string, allfields: string[] | null, attributes: string[] | null): Record<string, Record<string, unknown>> {
    const m = this.modelDef(model);
    const out: Record<string, Record<string, unknown>> = {};
    const wanted = allfields && allfields.length ? new Set(allfields) : null;
    const attrs = attributes && attributes.length ? new Set(attributes) : null;
    for (const f of m.fields.values()) {
      if (wanted && !wanted.has(f.name)) continue;
      const full: Record<string, unknown> = {
        type: f.type, string: f.string, required: f.required, readonly: f.readonly, store: f.store,
        sortable: f.store, searchable: true, manual: false, depends: [], company_dependent: false,
        groupable: f.store && f.type !== 'text' && f.type !== 'html' && f.type !== 'binary',
        exportable: true, change_default: false, name: f.name,
      };
      if (f.relation) full['relation'] = f.relation;
      if (f.type === 'one2many' && f.inverse) full['relation_field'] = f.inverse;
      if (f.type === 'selection') full['selection'] = f.selection ?? [];
      if (f.type === 'many2one' || f.type === 'one2many' || f.type === 'many2many') {
        full['domain'] = [];
        full['context'] = {};
      }
      if (f.type === 'char') { full['size'] = undefined; full['trim'] = true; full['translate'] = false; }
      const r: Record<string, unknown> = {};
      for (const k of Object.keys(full).sort()) {
        if (full[k] === undefined) continue;
        if (attrs && !attrs.has(k)) continue;
        r[k] = full[k];
      }
      out[f.name] = r;
    }
    return out;
  }

  /** `read_group`: one or more groupby fields (lazy groups on the first), sums of numeric fields. */
  readGroup(
    model: string, domain: unknown, fields: string[], groupby: string | string[],
    o: { offset?: number; limit?: number | null; orderby?: string | null; lazy?: boolean; context?: Context } = {},
  ): Row[] {
    const m = this.modelDef(model);
    const gbs = (Array.isArray(groupby) ? groupby : [groupby]).filter(Boolean) as string[];
    const lazy = o.lazy !== false;
    const used = lazy ? gbs.slice(0, 1) : gbs;
    const gspecs = used.map((g) => {
      const [name, interval] = g.split(':') as [string, string | undefined];
      const f = m.fields.get(name);
      if (!f) throw invalidField(model, name);
      return { key: g, f, interval: interval ?? (f.type === 'date' || f.type === 'datetime' ? 'month' : undefined) };
    });
    const aggs: { out: string; field: FieldDef; fn: string }[] = [];
    for (const spec of fields) {
      const mm = /^(\w+)(?::(\w+))?(?:\((\w+)\))?$/.exec(spec);
      if (!mm) continue;
      let out = mm[1]!;
      let fname = mm[1]!;
      let fn = mm[2];
      if (mm[3]) { out = mm[1]!; fname = mm[3]; fn = mm[2]; }
      if (fname === '__count') continue;
      const f = m.fields.get(fname);
      if (!f) throw invalidField(model, fname);
      if (used.some((g) => g.split(':')[0] === fname)) continue;
      if (!fn) {
        if (!['integer', 'float', 'monetary'].includes(f.type) || fname === 'id' || fname === 'sequence') continue;
        fn = 'sum';
      }
      aggs.push({ out, field: f, fn });
    }
    const ids = this.search(model, domain, { context: o.context ?? {} });
    const groups = new Map<string, { values: unknown[]; ids: number[] }>();
    for (const id of ids) {
      const values = gspecs.map(({ f, interval }) => {
        const v = this.table(model).get(id)?.[f.name];
        if (f.type === 'date' || f.type === 'datetime') return typeof v === 'string' ? groupDate(v, interval ?? 'month') : false;
        if (f.type === 'many2many' || f.type === 'one2many') return false;
        return v === undefined || v === null ? false : v instanceof PyFloat ? v.value : v;
      });
      const key = JSON.stringify(values);
      let g = groups.get(key);
      if (!g) { g = { values, ids: [] }; groups.set(key, g); }
      g.ids.push(id);
    }
    const rows: Row[] = [];
    for (const g of groups.values()) {
      const r: Row = {};
      gspecs.forEach(({ key, f }, i) => {
        const v = g.values[i];
        r[key] = f.type === 'many2one' && typeof v === 'number' ? [v, this.displayName(f.relation!, v)] : f.type === 'float' || f.type === 'monetary' ? new PyFloat(Number(v) || 0) : v;
      });
      if (lazy && used.length) r[`${used[0]!.split(':')[0]}_count`] = g.ids.length;
      else r['__count'] = g.ids.length;
      for (const a of aggs) {
        const vals = g.ids.map((id) => num(this.table(model).get(id)?.[a.field.name] ?? 0));
        let v: number;
        switch (a.fn) {
          case 'min': v = vals.length ? Math.min(...vals) : 0; break;
          case 'max': v = vals.length ? Math.max(...vals) : 0; break;
          case 'avg': v = vals.length ? vals.reduce((s, x) => s + x, 0) / vals.length : 0; break;
          case 'count': v = vals.length; break;
          case 'count_distinct': v = new Set(vals).size; break;
          default: v = Math.round(vals.reduce((s, x) => s + x, 0) * 1e6) / 1e6;
        }
        r[a.out] = a.field.type === 'integer' || a.fn === 'count' || a.fn === 'count_distinct' ? v : new PyFloat(v);
      }
      const dom: unknown[] = gspecs.map(({ f }, i) => [f.name, '=', g.values[i]]);
      r['__domain'] = [...dom, ...(Array.isArray(domain) ? domain : [])];
      if (lazy && gbs.length > 1) r['__context'] = { group_by: gbs.slice(1) };
      rows.push(r);
    }
    const sortKey = (r: Row, k: string): string | number => {
      const v = r[k];
      if (Array.isArray(v)) return String(v[1]);
      if (v instanceof PyFloat) return v.value;
      if (v === false) return '';
      return typeof v === 'number' ? v : String(v);
    };
    const order = (o.orderby || used.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
    rows.sort((a, b) => {
      for (const spec of order) {
        const [k, dir] = spec.split(/\s+/) as [string, string | undefined];
        const x = sortKey(a, k);
        const y = sortKey(b, k);
        const c = x < y ? -1 : x > y ? 1 : 0;
        if (c) return dir?.toLowerCase() === 'desc' ? -c : c;
      }
      return 0;
    });
    const off = o.offset ?? 0;
    return rows.slice(off, o.limit ? off + o.limit : undefined);
  }

  /** `name_search`: `[[id, display_name], ...]`. */
  nameSearch(model: string, name: string, domain: unknown, operator: string, limit: number | null, ctx: Context): [number, string][] {
    const m = this.modelDef(model);
    const base = this.search(model, domain ?? [], { context: ctx });
    const hits = base.filter((id) => {
      if (!name) return true;
      const dn = this.displayName(model, id);
      if (matches(this.domainSourceWithName(dn), model, id, { kind: 'leaf', leaf: ['display_name', operator, name] })) return true;
      const code = m.name.startsWith('product.') ? this.table(model).get(id)?.['default_code'] : undefined;
      return typeof code === 'string' && code.toLowerCase().includes(name.toLowerCase());
    });
    return hits.slice(0, limit ?? undefined).map((id) => [id, this.displayName(model, id)]);
  }

  private domainSourceWithName(dn: string): DomainSource {
    const base = this.domainSource();
    return { ...base, row: (model, id) => ({ ...(this.table(model).get(id) ?? {}), display_name: dn }) };
  }

  defaultGet(model: string, fields: string[], ctx: Context): Row {
    const m = this.modelDef(model);
    const d = this.transaction(this.tx?.uid ?? 1, () => {
      const seqBefore = this.ids('ir.sequence').map((id) => [id, this.table('ir.sequence').get(id)!['number_next']] as const);
      const r = this.defaults(m, {}, ctx);
      for (const [id, n] of seqBefore) this.table('ir.sequence').get(id)!['number_next'] = n;
      return r;
    });
    const out: Row = {};
    for (const f of fields) {
      if (!m.fields.has(f)) continue;
      if (f in d) out[f] = this.readFieldValue(m.fields.get(f)!, d[f]);
    }
    return out;
  }

  private readFieldValue(f: FieldDef, v: unknown): unknown {
    if (f.type === 'float' || f.type === 'monetary') return new PyFloat(num(v));
    if (f.type === 'datetime' && typeof v === 'string') return v.slice(0, 19);
    return v;
  }
}

function stripDefaults(ctx: Context): Context {
  const out: Context = {};
  for (const [k, v] of Object.entries(ctx)) if (!k.startsWith('default_')) out[k] = v;
  return out;
}

function mentions(domain: unknown, field: string): boolean {
  if (!Array.isArray(domain)) return false;
  return domain.some((x) => Array.isArray(x) && typeof x[0] === 'string' && (x[0] === field || x[0].startsWith(`${field}.`)));
}

interface OrderTerm { field: string; desc: boolean; nullsFirst: boolean }

function parseOrder(m: ModelDef, order: string): OrderTerm[] {
  const terms: OrderTerm[] = [];
  for (const part of order.split(',')) {
    const words = part.trim().split(/\s+/).filter(Boolean);
    if (!words.length) continue;
    const field = words[0]!;
    const dir = (words[1] ?? 'asc').toLowerCase();
    if (!m.fields.has(field) || (dir !== 'asc' && dir !== 'desc')) {
      throw valueError(`Invalid "order" specified (${order}). A valid "order" specification is a comma-separated list of valid field names (optionally followed by asc/desc for the direction)`);
    }
    const desc = dir === 'desc';
    const nulls = words.slice(2).join(' ').toLowerCase();
    const nullsFirst = nulls === 'nulls first' ? true : nulls === 'nulls last' ? false : desc;
    terms.push({ field, desc, nullsFirst });
  }
  if (!terms.some((t) => t.field === 'id')) terms.push({ field: 'id', desc: false, nullsFirst: false });
  return terms;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
function groupDate(v: string, interval: string): string {
  const y = v.slice(0, 4);
  const mo = Number(v.slice(5, 7));
  switch (interval) {
    case 'day': return `${v.slice(8, 10)} ${MONTHS[mo - 1]!.slice(0, 3)} ${y}`;
    case 'year': return y;
    case 'quarter': return `Q${Math.ceil(mo / 3)} ${y}`;
    default: return `${MONTHS[mo - 1]} ${y}`;
  }
}

export { OdooException };
