/**
 * Event-type filters of subscriptions: which events an endpoint receives. A filter is a
 * list of patterns, each an exact catalogue type (`shipment.delivered.v1`), every type of
 * one entity (`shipment.*`) or everything (`*`). Patterns are checked against the
 * catalogue when a subscription is written, so a typo is an error instead of an endpoint
 * that silently receives nothing.
 *
 * Each pattern covers one or more authorization domains (src/domain/scopes.ts); reading
 * those domains is what a client needs to subscribe, and what a subscription's owner must
 * still hold for an event to be delivered.
 */
import { EVENT_TYPES, ValidationError, domainOfEventType, getEventType, type FieldIssue, type Scope, type ScopeDomain } from '../../domain/index.ts';

export const MAX_PATTERNS = 100;

/** The entities of the catalogue: the first segment of each type (order, shipment, hub...). */
export const EVENT_ENTITIES: readonly string[] = Object.freeze([...new Set(EVENT_TYPES.map((t) => t.type.split('.')[0]!))].sort());

/** Every domain some catalogue type belongs to: what `*` covers. */
const ALL_EVENT_DOMAINS: readonly ScopeDomain[] = Object.freeze(
  [...new Set(EVENT_TYPES.map((t) => domainOfEventType(t.type)).filter((d): d is ScopeDomain => d !== undefined))].sort(),
);

/** Whether a pattern is known: a catalogue type, `<entity>.*` for a catalogue entity, or `*`. */
export function isValidPattern(p: string): boolean {
  if (p === '*') return true;
  if (p.endsWith('.*')) return EVENT_ENTITIES.includes(p.slice(0, -2));
  return getEventType(p) !== undefined;
}

/**
 * The patterns as stored: validated, without duplicates, sorted. Throws a ValidationError
 * (code subscription.unknown_event_type) naming every unknown pattern.
 */
export function normalizePatterns(patterns: readonly string[]): string[] {
  if (patterns.length === 0) {
    throw new ValidationError('subscription.no_event_types', 'give at least one event type pattern (an event type, "<entity>.*" or "*")', [{ path: '/eventTypes', message: 'is empty' }]);
  }
  if (patterns.length > MAX_PATTERNS) {
    throw new ValidationError('subscription.too_many_event_types', `at most ${MAX_PATTERNS} event type patterns`, [{ path: '/eventTypes', message: `has ${patterns.length} items` }]);
  }
  const issues: FieldIssue[] = [];
  patterns.forEach((p, i) => {
    if (!isValidPattern(p)) {
      const hint = p.endsWith('*') && !p.endsWith('.*') && p !== '*' ? ' (a prefix pattern is "<entity>.*")' : '';
      issues.push({ path: `/eventTypes/${i}`, message: `${JSON.stringify(p)} is neither a catalogue event type, "<entity>.*" for one of ${EVENT_ENTITIES.join(', ')}, nor "*"${hint}` });
    }
  });
  if (issues.length) throw new ValidationError('subscription.unknown_event_type', `unknown event type pattern${issues.length > 1 ? 's' : ''}`, issues);
  return [...new Set(patterns)].sort();
}

/** Whether an event type matches one pattern. */
export function patternMatches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

export function matchesAny(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => patternMatches(p, type));
}

/** The domains a pattern covers: one for a type or an entity, every event domain for `*`. */
export function domainsOfPattern(pattern: string): ScopeDomain[] {
  if (pattern === '*') return [...ALL_EVENT_DOMAINS];
  return [domainOfEventType(pattern) ?? 'admin'];
}

/** The read scopes needed to subscribe to these patterns (sorted, unique). */
export function readScopesFor(patterns: readonly string[]): Scope[] {
  return [...new Set(patterns.flatMap(domainsOfPattern))].sort().map((d): Scope => `${d}:read`);
}
