/**
 * Applying a file profile (pure apart from JSONata evaluation, no I/O): a canonical input →
 * the name and CSV content of an outbound file; the parsed rows of an inbound file → the
 * canonical events it reports, each with a deterministic id (system, file name, row line,
 * index), checked against the catalogue; a stock snapshot → available quantity per SKU.
 *
 * Every failure names its place. Bad canonical input is `wms-sftp.invalid_input`
 * (permanent). A file whose rows the profile cannot map, or maps to events the catalogue
 * refuses, is a FileMappingError `wms-sftp.mapping_failed` (business: the 3PL's data) with
 * the file, the line and the column of the cell at fault: the cell holding the refused
 * value when one does, else the row's first cell.
 */
import { BusinessError, ValidationError, type FieldIssue } from '../../domain/errors.ts';
import { getEventType, validateEventData } from '../../domain/catalogue.ts';
import { writeCsv, type CsvDocument, type CsvRecord, type CsvWriteOptions } from './csv.ts';
import type { CompiledExpression, CompiledInboundKind, FileOperation, FileProfile } from './profile.ts';

export type Overrides = Record<string, string | number | boolean>;

/** A problem with an inbound file's content, at a place in the file. */
export class FileMappingError extends BusinessError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  constructor(o: { file: string; line: number; column: number; message: string; issues?: FieldIssue[]; cause?: unknown }) {
    super({
      code: 'wms-sftp.mapping_failed',
      message: `${o.file}:${o.line}:${o.column}: ${o.message}`,
      issues: o.issues ?? [{ path: `${o.file}:${o.line}:${o.column}`, message: o.message }],
      extra: { file: o.file, line: o.line, column: o.column },
      ...(o.cause !== undefined ? { cause: o.cause } : {}),
    });
    this.file = o.file;
    this.line = o.line;
    this.column = o.column;
  }
}

/** `file:line:col path` of an expression, for messages. */
export function where(e: CompiledExpression): string {
  return `${e.at.file}:${e.at.line}:${e.at.column} ${e.at.path}`;
}

const clean = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

/** The variables every expression sees: the profile's constants, the overrides, $system, $profile, then `extra`. */
export function bindingsOf(profile: FileProfile, overrides: Overrides = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...profile.constants, ...overrides, system: typeof overrides.system === 'string' ? overrides.system : profile.system, profile: profile.id, ...extra };
}

/** Evaluates an expression; a JSONata error is returned as text (the caller knows the place). */
async function run(e: CompiledExpression, input: unknown, bindings: Record<string, unknown>): Promise<{ ok: true; value: unknown } | { ok: false; message: string }> {
  try {
    return { ok: true, value: clean(await e.expression.evaluate(input, bindings)) };
  } catch (err) {
    const x = err as { message?: string; position?: number; code?: string };
    const pos = typeof x.position === 'number' ? ` at position ${x.position} of the expression` : '';
    return { ok: false, message: `${where(e)}: the expression failed${pos}: ${x.message ?? String(err)}${x.code ? ` [${x.code}]` : ''}` };
  }
}

/** yyyyMMddHHmmss in UTC. */
export function compactTimestamp(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** A value fit for a file name: characters other than letters, digits, . _ - become _. */
export function nameSafe(v: string): string {
  return v.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** The file name of an operation for an input: the template's placeholders filled in. */
export function fileNameOf(profile: FileProfile, operation: FileOperation, input: Record<string, unknown>, now: Date): string {
  const op = profile.outbound[operation];
  if (!op) throw new BusinessError({ code: 'wms-sftp.operation_unsupported', message: `the file profile ${profile.id} (${profile.file}) defines no outbound.${operation}` });
  const values: Record<string, unknown> = { ...input, timestamp: compactTimestamp(now) };
  const missing = op.nameFields.filter((f) => typeof values[f] !== 'string' || values[f] === '');
  if (missing.length) {
    throw new ValidationError('wms-sftp.invalid_input', `the file name ${op.file} of ${operation} needs ${missing.join(', ')} in the input`, missing.map((f) => ({ path: `/${f}`, message: 'is required by the file name template' })));
  }
  return op.file.replace(/\{([^}]*)\}/g, (_, f: string) => nameSafe(values[f] as string));
}

export interface OutboundFile {
  operation: FileOperation;
  name: string;
  content: string;
  rows: Record<string, unknown>[];
}

/**
 * The file an operation writes for a canonical input: its name and CSV content. The rows
 * must be objects whose members are columns of the operation (at least one row); anything
 * else is wms-sftp.mapping_failed naming the expression.
 */
export async function buildFile(
  profile: FileProfile,
  operation: FileOperation,
  input: Record<string, unknown>,
  o: { now: Date; overrides?: Overrides; csv?: CsvWriteOptions },
): Promise<OutboundFile> {
  const name = fileNameOf(profile, operation, input, o.now);
  const op = profile.outbound[operation]!;
  const r = await run(op.rows, input, bindingsOf(profile, o.overrides, { now: o.now.toISOString() }));
  const fail = (message: string) => new BusinessError({ code: 'wms-sftp.mapping_failed', message, issues: [{ path: op.rows.at.path, message }] });
  if (!r.ok) throw fail(r.message);
  const list = r.value === undefined ? [] : Array.isArray(r.value) ? r.value : [r.value];
  if (list.length === 0) throw fail(`${where(op.rows)}: yields no row for ${operation}`);
  const rows = list.map((row, i) => {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) throw fail(`${where(op.rows)}: row ${i + 1} is not an object of columns`);
    return row as Record<string, unknown>;
  });
  let content: string;
  try {
    content = writeCsv(op.columns, rows, { delimiter: profile.delimiter, ...o.csv });
  } catch (e) {
    throw fail(`${where(op.rows)}: ${(e as Error).message} (columns: ${op.columns.join(', ')})`);
  }
  return { operation, name, content, rows };
}

/** The kind of an inbound file by its name (the first pattern that matches), if any. */
export function kindOf(profile: FileProfile, fileName: string): CompiledInboundKind | undefined {
  return profile.inbound.find((k) => k.pattern.test(fileName));
}

export interface MappedEvent {
  /** CloudEvents id: the same for the same file name and row on every poll */
  id: string;
  type: string;
  data: unknown;
  /** the line of the row it comes from (each: row), else of the first data row */
  line: number;
}

export interface MappedFile {
  kind: string;
  events: MappedEvent[];
}

/** The value at a JSON pointer in `data`, if any. */
function valueAt(data: unknown, pointer: string): unknown {
  let v: unknown = data;
  for (const seg of pointer.split('/').slice(1)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[seg.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return v;
}

/** Where a refused value came from: the first cell of `records` whose text is the value. */
function cellOf(records: readonly CsvRecord[], value: unknown): { line: number; column: number } | undefined {
  if (value === undefined || value === null || typeof value === 'object') return undefined;
  const text = String(value);
  if (text === '') return undefined;
  for (const r of records) {
    const k = r.cells.indexOf(text);
    if (k >= 0) return r.positions[k];
  }
  return undefined;
}

/**
 * The canonical events of an inbound file: the profile's kind for its name, its expression
 * per row or per file, the results checked against the catalogue. Throws FileMappingError
 * at the place of the first problem (with every issue listed).
 */
export async function mapFile(profile: FileProfile, doc: CsvDocument, overrides: Overrides = {}): Promise<MappedFile> {
  const file = doc.file;
  const kind = kindOf(profile, file);
  if (!kind) {
    throw new FileMappingError({ file, line: 1, column: 1, message: `the file name matches no kind of file of profile ${profile.id} (kinds: ${profile.inbound.map((k) => `${k.name} ${k.pattern.source}`).join('; ')})` });
  }
  const system = typeof overrides.system === 'string' ? overrides.system : profile.system;
  const rowsJson = doc.records.map((r) => r.values);
  const firstLine = doc.records[0]?.line ?? 1;
  const units: { input: unknown; line: number; records: CsvRecord[]; idBase: string }[] =
    kind.each === 'row'
      ? doc.records.map((r) => ({ input: r.values, line: r.line, records: [r], idBase: `${system}:${file}:${r.line}` }))
      : [{ input: rowsJson, line: firstLine, records: doc.records, idBase: `${system}:${file}` }];
  const events: MappedEvent[] = [];
  for (const u of units) {
    const r = await run(kind.map, u.input, bindingsOf(profile, overrides, { file, line: u.line, rows: rowsJson }));
    if (!r.ok) throw new FileMappingError({ file, line: u.line, column: 1, message: r.message });
    const list = r.value === undefined ? [] : Array.isArray(r.value) ? r.value : [r.value];
    const issues: FieldIssue[] = [];
    let place: { line: number; column: number } | undefined;
    list.forEach((ev, i) => {
      const at = `/events/${i}`;
      if (ev === null || typeof ev !== 'object' || Array.isArray(ev)) return void issues.push({ path: at, message: 'must be an object {type, data}' });
      const { type, data } = ev as Record<string, unknown>;
      const extra = Object.keys(ev).filter((k) => k !== 'type' && k !== 'data');
      if (extra.length) issues.push({ path: at, message: `has members other than type and data: ${extra.join(', ')}` });
      if (typeof type !== 'string' || !getEventType(type)) return void issues.push({ path: `${at}/type`, message: `${JSON.stringify(type)} is not an event type of the catalogue` });
      for (const iss of validateEventData(type, data)) {
        issues.push({ path: `${at}/data${iss.path}`, message: `${type}: ${iss.message}` });
        place ??= cellOf(u.records, valueAt(data, iss.path));
      }
      events.push({ id: `${u.idBase}:${i}`, type, data, line: u.line });
    });
    if (issues.length) {
      const p = place ?? u.records[0]?.positions[0] ?? { line: u.line, column: 1 };
      throw new FileMappingError({
        file,
        line: p.line,
        column: p.column,
        message: `${where(kind.map)}: the ${kind.name} mapping yields events the catalogue refuses (${issues.length} ${issues.length === 1 ? 'issue' : 'issues'}, first: ${issues[0]!.path} ${issues[0]!.message})`,
        issues,
      });
    }
  }
  return { kind: kind.name, events };
}

/** Available quantity per SKU from a stock snapshot, by the profile's inventory expression. */
export async function mapStock(profile: FileProfile, doc: CsvDocument, overrides: Overrides = {}): Promise<Record<string, number>> {
  const inv = profile.inventory;
  if (!inv) throw new BusinessError({ code: 'wms-sftp.operation_unsupported', message: `the file profile ${profile.id} (${profile.file}) does not describe stock files (inventory)` });
  const r = await run(inv.map, doc.records.map((x) => x.values), bindingsOf(profile, overrides, { file: doc.file }));
  if (!r.ok) throw new FileMappingError({ file: doc.file, line: doc.records[0]?.line ?? 1, column: 1, message: r.message });
  const list = r.value === undefined ? [] : Array.isArray(r.value) ? r.value : [r.value];
  const out: Record<string, number> = {};
  list.forEach((item, i) => {
    const { sku, available } = (item ?? {}) as { sku?: unknown; available?: unknown };
    const n = typeof available === 'string' ? Number(available) : available;
    if (typeof sku !== 'string' || sku === '' || typeof n !== 'number' || !Number.isFinite(n)) {
      const rec = doc.records[i];
      throw new FileMappingError({ file: doc.file, line: rec?.line ?? 1, column: 1, message: `${where(inv.map)}: item ${i + 1} is not {sku, available} with a number (${JSON.stringify(item)})` });
    }
    out[sku] = (out[sku] ?? 0) + n;
  });
  return out;
}
