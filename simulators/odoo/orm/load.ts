/**
 * `load(fields, data)`: Odoo's importer, public on every model. `fields` names the columns
 * (`.id` is the database id of an existing record, `partner_id/.id` a many2one given by
 * database id, `partner_id` a many2one given by name); `data` holds rows of values (strings,
 * as a file gives them, or native values) converted by field type. A row with a `.id`
 * updates that record, a row without creates one. Problems are reported as messages
 * (`{rows, type, record, field, message, ...}`), never raised: any error-type message rolls
 * every row back and `ids` is `false`. Scalar fields only; x2many columns and external ids
 * are refused with an error message.
 */
import type { Context, OdooDatabase } from './database.ts';
import type { Row } from './domain.ts';
import { OdooException, pyRepr } from './errors.ts';
import type { FieldDef, ModelDef } from './registry.ts';

export interface LoadMessage {
  rows?: { from: number; to: number };
  type: 'error' | 'warning';
  record?: number;
  field?: string;
  message: string;
  moreinfo?: unknown;
  field_name?: string;
}

export interface LoadResult {
  ids: number[] | false;
  messages: LoadMessage[];
  nextrow: number;
}

/** A column of the import: a field, read either as a value, a database id or a name. */
interface Column {
  index: number;
  field: FieldDef;
  /** many2one: `.id` (database id) or `name` (name search). */
  by: 'value' | 'dbid' | 'name';
}

/** Raised by a converter: becomes a message of the row. */
class ImportIssue {
  readonly type: 'error' | 'warning';
  readonly message: string;
  readonly info: Record<string, unknown> | undefined;
  readonly value: unknown;
  constructor(type: 'error' | 'warning', message: string, info?: Record<string, unknown>, value?: unknown) {
    this.type = type;
    this.message = message;
    this.info = info;
    this.value = value;
  }
}

const TRUES = new Set(['1', 'true', 'yes']);
const FALSES = new Set(['0', 'false', 'no']);
const PY_INT = /^\s*[+-]?\d+(?:_\d+)*\s*$/;
const PY_FLOAT = /^\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)\s*$/i;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** `'x.id'` (legacy) and `'x:id'` spelled the current way, then split on `/`. */
function columnPath(name: string): string[] {
  return name.replace(/([^/])\.id/g, '$1/.id').replace(/([^/]):id/g, '$1/id').split('/');
}

function validDate(y: string, m: string, d: string): boolean {
  const dt = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  return dt.getUTCFullYear() === Number(y) && dt.getUTCMonth() === Number(m) - 1 && dt.getUTCDate() === Number(d);
}

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === true) return 'True';
  if (typeof v === 'number') return String(v);
  return String(v);
}

/** `%(field)s` in a converter's message becomes the field's label, as Odoo formats it. */
function convertValue(db: OdooDatabase, col: Column, raw: unknown): unknown {
  const f = col.field;
  const label = f.string;
  const s = text(raw);
  switch (f.type) {
    case 'char':
    case 'text':
    case 'html':
      return s;
    case 'integer':
      if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
      if (typeof raw === 'string' && PY_INT.test(raw)) return Number(raw.replace(/_/g, ''));
      throw new ImportIssue('error', `${pyRepr(s)} does not seem to be an integer for field '${label}'`);
    case 'float':
    case 'monetary':
      if (typeof raw === 'number') return raw;
      if (typeof raw === 'string' && PY_FLOAT.test(raw) && Number.isFinite(Number(raw.trim()))) return Number(raw.trim());
      throw new ImportIssue('error', `${pyRepr(s)} does not seem to be a number for field '${label}'`);
    case 'boolean': {
      if (raw === true) return true;
      const low = s.toLowerCase();
      if (TRUES.has(low)) return true;
      if (FALSES.has(low)) return false;
      throw new ImportIssue('warning', `Unknown value '${s}' for boolean field '${label}'`, { moreinfo: "Use '1' for yes and '0' for no" }, true);
    }
    case 'selection': {
      for (const [key, lab] of f.selection ?? []) if (s === key || s === lab) return key;
      throw new ImportIssue('error', `Value '${s}' not found in selection field '${label}'`, {
        moreinfo: (f.selection ?? []).map(([key, lab]) => lab || key),
      });
    }
    case 'date': {
      const m = DATE.exec(s);
      if (!m || !validDate(m[1]!, m[2]!, m[3]!)) {
        throw new ImportIssue('error', `'${s}' does not seem to be a valid date for field '${label}'`, { moreinfo: "Use the format '2012-12-31'" });
      }
      return s;
    }
    case 'datetime': {
      const m = DATETIME.exec(s);
      if (!m || !validDate(m[1]!, m[2]!, m[3]!) || Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) {
        throw new ImportIssue('error', `'${s}' does not seem to be a valid datetime for field '${label}'`, { moreinfo: "Use the format '2012-12-31 23:59:59'" });
      }
      return s;
    }
    case 'many2one': {
      const target = f.relation!;
      if (col.by === 'dbid') {
        if (!(typeof raw === 'number' ? Number.isInteger(raw) : PY_INT.test(s))) {
          throw new ImportIssue('error', `invalid literal for int() with base 10: ${pyRepr(s)}`);
        }
        const id = Number(s);
        if (!db.row(target, id)) throw new ImportIssue('error', `No matching record found for database id '${s}' in field '${label}'`, { moreinfo: [] });
        return id;
      }
      const hits = db.nameSearch(target, s, [], '=', null, {});
      if (!hits.length) throw new ImportIssue('error', `No matching record found for name '${s}' in field '${label}'`, { moreinfo: [] });
      if (hits.length > 1) {
        return new ImportIssue('warning', `Found multiple matches for value '${s}' in field '${label}' (${hits.length} matches)`, undefined, hits[0]![0]);
      }
      return hits[0]![0];
    }
    default:
      throw new ImportIssue('error', `Importing the ${f.type} field '${label}' is not supported`);
  }
}

/** Python's `<class 'ValueError'>` form of an exception class. */
function pyClassRepr(e: OdooException): string {
  return `<class '${e.pyClass}'>`;
}

const USER_ERRORS = new Set([
  'odoo.exceptions.UserError', 'odoo.exceptions.ValidationError', 'odoo.exceptions.MissingError',
  'odoo.exceptions.AccessError', 'odoo.exceptions.RedirectWarning',
]);

/** The importer on `model`: see the module comment. Runs inside the caller's transaction. */
export function loadRecords(db: OdooDatabase, model: string, fieldsArg: unknown, dataArg: unknown, ctx: Context): LoadResult {
  const m: ModelDef = db.modelDef(model);
  const fields = Array.isArray(fieldsArg) ? fieldsArg.map((x) => String(x)) : [];
  const data = Array.isArray(dataArg) ? dataArg.map((r) => (Array.isArray(r) ? r : [])) : [];
  const messages: LoadMessage[] = [];
  let idColumn = -1;
  const columns: Column[] = [];
  fields.forEach((name, index) => {
    const path = columnPath(name);
    if (path.length === 1 && path[0] === '.id') {
      idColumn = index;
      return;
    }
    const f = m.fields.get(path[0]!);
    if (!f) {
      messages.push({ type: 'error', field: name, message: `Invalid field ${pyRepr(name)} on model ${pyRepr(model)}` });
      return;
    }
    if (path.length === 1 && path[0] === 'id') {
      messages.push({ type: 'error', field: name, message: 'Importing external identifiers (the "id" column) is not supported; use ".id" for database ids' });
      return;
    }
    if (f.type === 'one2many' || f.type === 'many2many') {
      messages.push({ type: 'error', field: f.name, message: `Importing the ${f.type} field '${f.string}' is not supported`, field_name: f.string });
      return;
    }
    if (path.length === 1) {
      columns.push({ index, field: f, by: f.type === 'many2one' ? 'name' : 'value' });
      return;
    }
    if (path.length === 2 && f.type === 'many2one' && path[1] === '.id') {
      columns.push({ index, field: f, by: 'dbid' });
      return;
    }
    messages.push({ type: 'error', field: f.name, message: `Importing the column ${pyRepr(name)} is not supported`, field_name: f.string });
  });

  // Rows to write, after conversion (a row with an error is reported and not written).
  const rows: { index: number; dbid: number | false; vals: Row }[] = [];
  data.forEach((row, index) => {
    const base = { rows: { from: index, to: index } };
    let failed = false;
    let dbid: number | false = false;
    if (idColumn >= 0) {
      const raw = row[idColumn];
      if (raw !== undefined && raw !== null && raw !== false && raw !== '') {
        const s = text(raw);
        const n = typeof raw === 'number' ? raw : PY_INT.test(s) ? Number(s) : NaN;
        const known = Number.isInteger(n) && db.search(model, [['id', '=', n]], { context: ctx }).length === 1;
        if (known) dbid = n;
        else {
          messages.push({ ...base, type: 'error', record: index, field: '.id', message: `Unknown database identifier '${s}'` });
          failed = true;
        }
      }
    }
    const vals: Row = {};
    for (const col of columns) {
      const raw = row[col.index];
      // An empty cell (and any false value) clears the field.
      if (raw === undefined || raw === null || raw === false || raw === '' || raw === 0) {
        vals[col.field.name] = false;
        continue;
      }
      try {
        const v = convertValue(db, col, raw);
        if (v instanceof ImportIssue) {
          messages.push({ ...base, type: v.type, record: index, field: col.field.name, message: v.message, field_name: col.field.string });
          vals[col.field.name] = v.value;
        } else vals[col.field.name] = v;
      } catch (e) {
        if (!(e instanceof ImportIssue)) throw e;
        const msg: LoadMessage = { ...base, type: e.type, record: index, field: col.field.name, message: e.message };
        if (e.info) Object.assign(msg, e.info, { field_name: col.field.string });
        messages.push(msg);
        if (e.type === 'error') failed = true;
        else vals[col.field.name] = e.value;
      }
    }
    if (!failed) rows.push({ index, dbid, vals });
  });

  const ids: number[] = [];
  const result = db.savepoint(() => {
    if (!messages.some((x) => x.type === 'error')) {
      for (const r of rows) {
        const base = { rows: { from: r.index, to: r.index } };
        try {
          db.savepoint(() => {
            if (r.dbid !== false) {
              db.write(model, [r.dbid], r.vals, ctx);
              ids.push(r.dbid);
            } else ids.push(db.create(model, r.vals, ctx));
            return { value: undefined, rollback: false };
          });
        } catch (e) {
          if (!(e instanceof OdooException)) throw e;
          const message = USER_ERRORS.has(e.pyClass) ? e.message : `Unknown error during import: ${pyClassRepr(e)}: ${e.message}`;
          messages.push({ ...base, type: 'error', record: r.index, message });
        }
      }
    }
    const failed = messages.some((x) => x.type === 'error');
    return { value: failed ? false as const : ids, rollback: failed };
  });
  return { ids: result, messages, nextrow: 0 };
}
