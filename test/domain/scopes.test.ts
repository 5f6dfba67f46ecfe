/** The authorization vocabulary: every event type belongs to a domain; scope lists parse strictly. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EVENT_TYPES, SCOPES, UNMAPPED_EVENT_TYPES, ValidationError, domainOfEntity, domainOfEventType, parseScopes } from '../../src/domain/index.ts';

test('every catalogue event type has a domain, so no type escapes the scope check', () => {
  assert.deepEqual(UNMAPPED_EVENT_TYPES, []);
  assert.equal(domainOfEventType('shipment.dispatched.v1'), 'tracking');
  assert.equal(domainOfEventType('purchase-order.released.v1'), 'procurement');
  assert.equal(domainOfEventType('hub.subscription.disabled.v1'), 'admin');
  assert.equal(domainOfEventType('unknown.thing.v1'), undefined);
  assert.ok(EVENT_TYPES.length > 40);
  assert.equal(domainOfEntity('order'), 'orders');
  assert.equal(domainOfEntity('procurement'), 'procurement');
  assert.equal(domainOfEntity('spaceship'), 'admin', 'an unknown entity needs the admin domain');
  assert.equal(domainOfEventType('carrier.scans.received.v1'), 'tracking');
});

test('scope lists: 17 scopes; unknown or empty lists are validation errors naming the culprit', () => {
  assert.equal(SCOPES.length, 17);
  assert.deepEqual(parseScopes(' tracking:read,warehouse:write,tracking:read '), ['warehouse:write', 'tracking:read']);
  assert.throws(() => parseScopes('tracking:read,tracking:delete'), (e: unknown) => e instanceof ValidationError && e.code === 'client.unknown_scope' && /tracking:delete/.test(e.message));
  assert.throws(() => parseScopes(''), (e: unknown) => e instanceof ValidationError && e.code === 'client.no_scope');
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constantFrom(...SCOPES), fc.string({ maxLength: 20 })), { maxLength: 8 }), (list) => {
      try {
        const parsed = parseScopes(list);
        assert.ok(parsed.every((s) => SCOPES.includes(s)) && parsed.length > 0 && new Set(parsed).size === parsed.length);
      } catch (e) {
        assert.ok(e instanceof ValidationError);
      }
    }),
  );
});
