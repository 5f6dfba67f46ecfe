/**
 * CSV as RFC 4180 describes it, for the files a 3PL exchanges over SFTP: a header row, then
 * one record per line; fields separated by a delimiter (comma by default); a field that
 * contains the delimiter, a quote or a line break is enclosed in double quotes, a quote
 * inside it doubled. Records end with CRLF (the RFC) or LF (what many systems write); a
 * UTF-8 byte order mark at the start is skipped; a blank line is skipped.
 *
 * The parser keeps where every record and cell starts, so a problem found later (a mapping
 * the catalogue refuses) can still be reported as `file:line:column`. Every syntax problem
 * is a CsvError naming the file, the line and the column. Pure: no I/O.
 */
import { BusinessError } from '../../domain/errors.ts';

/** A CSV file that cannot be read: where, and why. Code `wms-sftp.csv_invalid` (business: the partner's data). */
export class CsvError extends BusinessError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  constructor(file: string, line: number, column: number, reason: string) {
    super({
      code: 'wms-sftp.csv_invalid',
      message: `${file}:${line}:${column}: ${reason}`,
      issues: [{ path: `${file}:${line}:${column}`, message: reason }],
      extra: { file, line, column },
    });
    this.file = file;
    this.line = line;
    this.column = column;
  }
}

export interface CsvRecord {
  /** line (1-based) where the record starts */
  line: number;
  /** the cells by header name */
  values: Record<string, string>;
  /** the cells in order */
  cells: string[];
  /** where each cell starts: line and column (1-based) */
  positions: { line: number; column: number }[];
}

export interface CsvDocument {
  file: string;
  header: string[];
  /** data records, header excluded */
  records: CsvRecord[];
}

export interface CsvOptions {
  /** one character; default ',' */
  delimiter?: string;
}

function checkDelimiter(d: string): void {
  if (d.length !== 1 || d === '"' || d === '\r' || d === '\n') throw new RangeError(`the CSV delimiter must be one character other than a quote or a line break (got ${JSON.stringify(d)})`);
}

/** Text of a file: UTF-8; a byte sequence that is not UTF-8 is a CsvError at its place. */
export function decodeUtf8(data: Buffer | string, file: string): string {
  if (typeof data === 'string') return data;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    const text = new TextDecoder('utf-8').decode(data);
    const at = text.indexOf('\uFFFD');
    const before = text.slice(0, Math.max(0, at));
    const line = before.split(/\r\n|\r|\n/).length;
    const column = before.length - Math.max(before.lastIndexOf('\n'), before.lastIndexOf('\r'));
    throw new CsvError(file, line, column, 'the file is not valid UTF-8');
  }
}

interface RawRecord {
  line: number;
  cells: string[];
  positions: { line: number; column: number }[];
  /** position just after the last cell, for "too few fields" */
  end: { line: number; column: number };
  blank: boolean;
  /** offset of the record's first character */
  at: number;
}

/** Splits text into raw records (no header logic). */
function tokenize(text: string, file: string, delimiter: string): RawRecord[] {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let lineStart = i === 1 ? 1 : 0; // the BOM is not a column
  const col = (at: number) => at - lineStart + 1;
  const out: RawRecord[] = [];
  const n = text.length;
  while (i < n) {
    const rec: RawRecord = { line, cells: [], positions: [], end: { line, column: col(i) }, blank: false, at: i };
    let atLineEnd = false;
    while (!atLineEnd) {
      const start = { line, column: col(i) };
      let value = '';
      if (text[i] === '"') {
        const open = start;
        i++;
        for (;;) {
          if (i >= n) throw new CsvError(file, open.line, open.column, 'the quoted field that starts here is never closed (a quote is missing)');
          const ch = text[i]!;
          if (ch === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (ch === '\r' || ch === '\n') {
            value += ch === '\r' && text[i + 1] === '\n' ? '\r\n' : ch;
            i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
            line++;
            lineStart = i;
            continue;
          }
          value += ch;
          i++;
        }
        if (i < n && text[i] !== delimiter && text[i] !== '\r' && text[i] !== '\n') {
          throw new CsvError(file, line, col(i), `unexpected ${JSON.stringify(text[i])} after the closing quote of a field (expected ${JSON.stringify(delimiter)} or the end of the line)`);
        }
      } else {
        const from = i;
        while (i < n && text[i] !== delimiter && text[i] !== '\r' && text[i] !== '\n') {
          if (text[i] === '"') throw new CsvError(file, line, col(i), 'a quote inside a field that does not start with a quote (enclose the field in quotes and double the quote)');
          i++;
        }
        value = text.slice(from, i);
      }
      rec.cells.push(value);
      rec.positions.push(start);
      rec.end = { line, column: col(i) };
      if (i < n && text[i] === delimiter) {
        i++;
        continue;
      }
      // end of line or of text
      if (i < n) {
        i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1;
        line++;
        lineStart = i;
      }
      atLineEnd = true;
    }
    // an empty line (not a quoted empty field) is no record
    rec.blank = rec.cells.length === 1 && rec.cells[0] === '' && text[rec.at] !== '"';
    out.push(rec);
  }
  return out;
}

/**
 * Parses a CSV file with a header row. Cells are strings; each record is checked to have as
 * many fields as the header. A problem throws a CsvError with the file, line and column.
 */
export function parseCsv(data: Buffer | string, file: string, o: CsvOptions = {}): CsvDocument {
  const delimiter = o.delimiter ?? ',';
  checkDelimiter(delimiter);
  const text = decodeUtf8(data, file);
  const raw = tokenize(text, file, delimiter);
  const rows = raw.filter((r) => !r.blank);
  const head = rows[0];
  if (!head) throw new CsvError(file, 1, 1, 'the file is empty: a header row is expected');
  const header = head.cells;
  const seen = new Map<string, number>();
  header.forEach((h, k) => {
    const p = head.positions[k]!;
    if (h.trim() === '') throw new CsvError(file, p.line, p.column, `the header's column ${k + 1} has no name`);
    if (seen.has(h)) throw new CsvError(file, p.line, p.column, `the header names ${JSON.stringify(h)} twice (columns ${seen.get(h)! + 1} and ${k + 1})`);
    seen.set(h, k);
  });
  const records: CsvRecord[] = rows.slice(1).map((r) => {
    if (r.cells.length > header.length) {
      const p = r.positions[header.length]!;
      throw new CsvError(file, p.line, p.column, `the record has ${r.cells.length} fields; the header has ${header.length}`);
    }
    if (r.cells.length < header.length) {
      throw new CsvError(file, r.end.line, r.end.column, `the record has ${r.cells.length} ${r.cells.length === 1 ? 'field' : 'fields'}; the header has ${header.length} (${header.slice(r.cells.length).join(', ')} missing)`);
    }
    const values: Record<string, string> = {};
    // defined, not assigned: a column named __proto__ stays a column
    header.forEach((h, k) => Object.defineProperty(values, h, { value: r.cells[k]!, enumerable: true, writable: true, configurable: true }));
    return { line: r.line, values, cells: r.cells, positions: r.positions };
  });
  return { file, header, records };
}

export interface CsvWriteOptions extends CsvOptions {
  /** default CRLF, as RFC 4180 says */
  lineEnding?: '\r\n' | '\n';
  /** write a UTF-8 byte order mark first (some spreadsheet-bound systems expect one); default false */
  bom?: boolean;
}

/** One cell's text: strings as they are, numbers and booleans printed, null and undefined empty. */
function cellText(v: unknown, where: () => string): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError(`${where()}: ${v} cannot be written to a CSV cell`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  throw new TypeError(`${where()}: a ${Array.isArray(v) ? 'list' : typeof v} cannot be written to a CSV cell (only text, numbers and booleans)`);
}

function quote(s: string, delimiter: string, alone: boolean): string {
  const needs = s.includes(delimiter) || s.includes('"') || s.includes('\r') || s.includes('\n') || s.startsWith('\uFEFF') || (alone && s === '');
  return needs ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Writes a header row and the rows (objects by column name, or arrays in header order).
 * A value that is not text, a number or a boolean is a TypeError naming the row and column;
 * a member that is not a column is a RangeError (nothing is written silently wrong).
 */
export function writeCsv(header: readonly string[], rows: readonly (Record<string, unknown> | readonly unknown[])[], o: CsvWriteOptions = {}): string {
  const delimiter = o.delimiter ?? ',';
  checkDelimiter(delimiter);
  const eol = o.lineEnding ?? '\r\n';
  if (header.length === 0) throw new RangeError('a CSV file needs at least one column');
  const alone = header.length === 1;
  const lines = [header.map((h) => quote(h, delimiter, alone)).join(delimiter)];
  const columns = new Set(header);
  rows.forEach((row, r) => {
    let cells: unknown[];
    if (Array.isArray(row)) {
      if (row.length !== header.length) throw new RangeError(`row ${r + 1} has ${row.length} values; the header has ${header.length}`);
      cells = row;
    } else {
      const rec = row as Record<string, unknown>;
      const extra = Object.keys(rec).filter((k) => !columns.has(k));
      if (extra.length) throw new RangeError(`row ${r + 1} has members that are not columns: ${extra.join(', ')}`);
      cells = header.map((h) => rec[h]);
    }
    lines.push(cells.map((v, k) => quote(cellText(v, () => `row ${r + 1}, column ${header[k]}`), delimiter, alone)).join(delimiter));
  });
  return (o.bom ? '\uFEFF' : '') + lines.join(eol) + eol;
}
