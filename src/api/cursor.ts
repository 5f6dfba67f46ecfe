/** Opaque pagination cursors: base64url JSON, checked field by field when read back. */
import { invalidCursor } from './errors.ts';

export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/** Decodes a cursor; `check` returns the typed position or undefined when it is not one. */
export function decodeCursor<T>(cursor: string, check: (v: Record<string, unknown>) => T | undefined): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  const typed = typeof value === 'object' && value !== null && !Array.isArray(value) ? check(value as Record<string, unknown>) : undefined;
  if (typed === undefined) throw invalidCursor();
  return typed;
}

export const isPositiveSafeInteger = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
