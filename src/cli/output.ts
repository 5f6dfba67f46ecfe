/**
 * Output helpers of the command line: colours (only on a terminal and when NO_COLOR is
 * unset), status marks, plain-text tables, times and durations.
 */
import { InvalidArgumentError } from 'commander';

let colourOverride: boolean | undefined;

/** `--no-color` turns colours off whatever the terminal says. */
export function setColour(on: boolean | undefined): void {
  colourOverride = on;
}

export function colourEnabled(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (colourOverride === false) return false;
  const noColor = process.env.NO_COLOR;
  if (noColor !== undefined && noColor !== '') return false;
  return !!stream.isTTY;
}

const wrap = (open: number, close: number) => (s: string, stream?: NodeJS.WriteStream) =>
  colourEnabled(stream) ? `\u001b[${open}m${s}\u001b[${close}m` : s;

export const c = {
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  cyan: wrap(36, 39),
  dim: wrap(2, 22),
  bold: wrap(1, 22),
};

export const mark = {
  ok: (stream?: NodeJS.WriteStream) => c.green('✓', stream),
  fail: (stream?: NodeJS.WriteStream) => c.red('✗', stream),
  warn: (stream?: NodeJS.WriteStream) => c.yellow('!', stream),
  skip: (stream?: NodeJS.WriteStream) => c.dim('-', stream),
};

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const visible = (s: string) => s.replace(ANSI, '').length;

export function truncate(s: string, max: number): string {
  if (max <= 1) return s.slice(0, Math.max(0, max));
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | null | undefined;
  align?: 'left' | 'right';
  /** longest the column may get; longer values are cut with … */
  max?: number;
}

/** A plain-text table: a header, then one line per row, columns separated by two spaces. */
export function table<T>(rows: T[], columns: Column<T>[], stream: NodeJS.WriteStream = process.stdout): string {
  const cells = rows.map((r) =>
    columns.map((col) => {
      const v = col.value(r);
      const s = v === null || v === undefined || v === '' ? '-' : String(v).replace(/\s*\n\s*/g, ' ');
      return col.max ? truncate(s, col.max) : s;
    }),
  );
  const widths = columns.map((col, i) => Math.max(col.header.length, ...cells.map((row) => visible(row[i]!))));
  const pad = (s: string, i: number) => {
    const fill = ' '.repeat(Math.max(0, widths[i]! - visible(s)));
    return columns[i]!.align === 'right' ? fill + s : s + fill;
  };
  const line = (row: string[]) => row.map(pad).join('  ').trimEnd();
  const header = line(columns.map((col) => col.header));
  return [c.bold(header, stream), ...cells.map(line)].join('\n');
}

/** Key/value lines, keys aligned. */
export function fields(pairs: [string, string | number | null | undefined][], stream: NodeJS.WriteStream = process.stdout): string {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${c.dim((k + ':').padEnd(w + 1), stream)} ${v === null || v === undefined || v === '' ? '-' : v}`).join('\n');
}

/** 2026-03-01 12:00:03Z (UTC, seconds) */
export function fmtTime(d: Date | string | null | undefined): string {
  if (!d) return '-';
  const date = d instanceof Date ? d : new Date(d);
  if (Number.isNaN(date.getTime())) return String(d);
  return date.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A point in time from the command line: an ISO 8601 date or date-time, or a relative
 * time before now like 30m, 2h, 3d, 1w.
 */
export function parseTime(value: string, now: Date = new Date()): Date {
  const rel = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(value.trim());
  if (rel) return new Date(now.getTime() - Number(rel[1]) * UNITS[rel[2]!.toLowerCase()]!);
  if (/^\d{4}-\d{2}-\d{2}/.test(value.trim())) {
    const d = new Date(value.trim());
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new InvalidArgumentError('expected an ISO 8601 time (2026-03-01 or 2026-03-01T12:00:00Z) or a time before now like 30m, 2h, 3d, 1w.');
}

export function parsePositiveInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new InvalidArgumentError('expected a whole number of 1 or more.');
  return Number(value);
}

export function parsePort(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535.');
  return Number(value);
}

export function parseSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0)) throw new InvalidArgumentError('expected a number of seconds greater than 0.');
  return n;
}

/** JSON for machines: Dates as ISO strings, two-space indentation. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

export function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}
