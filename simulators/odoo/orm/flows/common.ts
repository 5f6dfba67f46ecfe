/**
 * Helpers shared by the business flows of the simulated Odoo: value coercion, context access,
 * the MissingError check every button method starts with, and the act_window dicts Odoo 18
 * returns from its wizards (view ids as recorded from the reference server).
 */
import type { Context, OdooDatabase } from '../database.ts';
import type { Row } from '../domain.ts';
import { missingError } from '../errors.ts';

/** A stored value as a number (plain numbers, PyFloat-like objects, false/undefined as 0). */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'value' in v && typeof (v as { value: unknown }).value === 'number') return (v as { value: number }).value;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return 0;
}

/** A many2one value as an id, or undefined. */
export function ref(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (Array.isArray(v) && typeof v[0] === 'number') return v[0];
  return undefined;
}

/** Rounding to Odoo's default product precision (0.01 UoM rounding, compared at 1e-6). */
export function qty(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

export function ctxOf(kwargs: Record<string, unknown>): Context {
  const c = kwargs['context'];
  return c && typeof c === 'object' && !Array.isArray(c) ? { ...(c as Context) } : {};
}

/** Ids in a context key (`active_ids`, `button_validate_picking_ids`...). */
export function ctxIds(ctx: Context, key: string): number[] {
  const v = ctx[key];
  if (typeof v === 'number') return [v];
  return Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : [];
}

/** Button methods on a missing id raise MissingError, as Odoo's `ensure`/browse access does. */
export function requireIds(db: OdooDatabase, uid: number, model: string, ids: number[]): void {
  const missing = ids.filter((id) => !db.row(model, id));
  if (missing.length) throw missingError(model, missing, uid);
}

/** The stored row of an existing record. */
export function row(db: OdooDatabase, model: string, id: number): Row {
  const r = db.row(model, id);
  if (!r) throw missingError(model, [id], 1);
  return r;
}

/** Ids of `model` whose stored `field` equals `value`, in id order. */
export function idsWhere(db: OdooDatabase, model: string, pred: (r: Row) => boolean): number[] {
  return db.ids(model).filter((id) => pred(db.row(model, id)!)).sort((a, b) => a - b);
}

/** `YYYY-MM-DD HH:MM:SS` plus `days`, from a stored timestamp. */
export function addDays(ts: string, days: number): string {
  const d = new Date(`${ts.slice(0, 19).replace(' ', 'T')}Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

/** The form-view wizard action of stock (backorder confirmation, SMS confirmation). */
export function wizardAction(name: string, resModel: string, viewId: number, resId: number | undefined, context: Context): Row {
  const a: Row = { name, type: 'ir.actions.act_window', view_mode: 'form', res_model: resModel, views: [[viewId, 'form']], view_id: viewId, target: 'new' };
  if (resId !== undefined) a['res_id'] = resId;
  a['context'] = context;
  return a;
}

export const BACKORDER_VIEW_ID = 893;
export const SMS_VIEW_ID = 1167;
