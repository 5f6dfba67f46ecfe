/**
 * The string formats the canonical schemas use, registered with TypeBox's FormatRegistry
 * (which knows none by default). Only standard JSON Schema format names are used, so the
 * published schemas validate the same way with any conforming validator (for example
 * ajv with ajv-formats).
 */
import { FormatRegistry } from '@sinclair/typebox';
import { isDateTime, isFullDate } from './time.ts';

const EMAIL = /^[^\s@"<>()[\]\\,;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/;

export const FORMATS: Readonly<Record<string, (value: string) => boolean>> = {
  /** RFC 3339 date-time with an explicit offset, e.g. 2026-03-04T10:15:00+01:00 */
  'date-time': isDateTime,
  /** RFC 3339 full-date, e.g. 2026-03-04 */
  date: isFullDate,
  /** a pragmatic mailbox check: local@domain.tld, at most 254 characters */
  email: (v) => v.length <= 254 && EMAIL.test(v),
  /** an absolute URI (scheme required) */
  uri: (v) => v.length <= 2048 && URI.test(v),
};

/** Human wording of each format, used in validation messages. */
export const FORMAT_HINTS: Readonly<Record<string, string>> = {
  'date-time': 'an RFC 3339 date-time with offset, e.g. "2026-03-04T10:15:00Z"',
  date: 'a calendar date YYYY-MM-DD, e.g. "2026-03-04"',
  email: 'an e-mail address',
  uri: 'an absolute URI, e.g. "https://example.com/pod/123.pdf"',
};

/**
 * Registers (or re-registers) the formats. Idempotent; called before the first compile.
 * The registry is process-wide: ours replace any laxer definition registered earlier,
 * so canonical validation does not depend on import order.
 */
export function registerFormats(): void {
  for (const [name, check] of Object.entries(FORMATS)) FormatRegistry.Set(name, check);
}
