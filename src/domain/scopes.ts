/**
 * Authorization vocabulary: the domains a client may be granted, the scopes built from
 * them, and which domain each event type belongs to. Pure: the HTTP layer enforces it.
 *
 * A scope is `<domain>:read` or `<domain>:write` (write does not imply read), plus
 * `pii:read`, which lets a client see personal data unmasked.
 */
import { EVENT_TYPES } from './catalogue.ts';
import { ValidationError } from './errors.ts';

export const SCOPE_DOMAINS = ['orders', 'warehouse', 'tracking', 'fleet', 'billing', 'procurement', 'exceptions', 'admin'] as const;
export type ScopeDomain = (typeof SCOPE_DOMAINS)[number];
export type Scope = `${ScopeDomain}:${'read' | 'write'}` | 'pii:read';

/** Every scope, in a stable order. */
export const SCOPES: readonly Scope[] = Object.freeze([...SCOPE_DOMAINS.flatMap((d) => [`${d}:read`, `${d}:write`] as Scope[]), 'pii:read']);

export function isScope(s: string): s is Scope {
  return (SCOPES as readonly string[]).includes(s);
}

/** The domain of an event type, by the entity its name starts with. */
const DOMAIN_BY_ENTITY: Readonly<Record<string, ScopeDomain>> = {
  party: 'orders',
  order: 'orders',
  item: 'warehouse',
  location: 'warehouse',
  fulfilment: 'warehouse',
  stock: 'warehouse',
  receipt: 'warehouse',
  shipment: 'tracking',
  vehicle: 'fleet',
  carrier: 'tracking',
  'carrier-invoice': 'billing',
  invoice: 'billing',
  'purchase-order': 'procurement',
  asn: 'procurement',
  'supplier-invoice': 'procurement',
  exception: 'exceptions',
  hub: 'admin',
};

/** The domain an event type belongs to; undefined for a type outside the catalogue's entities. */
export function domainOfEventType(type: string): ScopeDomain | undefined {
  return DOMAIN_BY_ENTITY[type.split('.')[0]!];
}

/** The domain of an entity (xref entries) or a lifecycle kind; admin for anything else. */
export function domainOfEntity(entity: string): ScopeDomain {
  if (entity === 'procurement') return 'procurement';
  return DOMAIN_BY_ENTITY[entity] ?? 'admin';
}

/** Every catalogue type has a domain (checked by a test so a new entity cannot slip through). */
export const UNMAPPED_EVENT_TYPES: readonly string[] = EVENT_TYPES.filter((t) => domainOfEventType(t.type) === undefined).map((t) => t.type);

/** Parses a comma-separated scope list; throws on an unknown scope. */
export function parseScopes(list: string | readonly string[]): Scope[] {
  const parts = (typeof list === 'string' ? list.split(',') : [...list]).map((s) => s.trim()).filter(Boolean);
  const bad = parts.filter((s) => !isScope(s));
  if (bad.length) {
    throw new ValidationError('client.unknown_scope', `unknown scope${bad.length > 1 ? 's' : ''} ${bad.join(', ')} (known: ${SCOPES.join(', ')})`, bad.map((s) => ({ path: '/scopes', message: `unknown scope ${s}` })));
  }
  if (!parts.length) throw new ValidationError('client.no_scope', 'give at least one scope', [{ path: '/scopes', message: 'empty' }]);
  return [...new Set(parts as Scope[])].sort((a, b) => SCOPES.indexOf(a) - SCOPES.indexOf(b));
}
