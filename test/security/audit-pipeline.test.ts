/**
 * State changes of business objects reach the audit trail through the real pipeline: each
 * lifecycle transition is one entry committed with its event, an event rolled back leaves
 * no entry, tenants have their own chains, and the chains verify.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.ts';
import { testWorker } from '../helpers/pipeline.ts';
import { ingest } from '../../src/pipeline/inbox.ts';
import { builtinHandlers } from '../../src/pipeline/handlers/index.ts';
import { keyOf } from '../../src/domain/index.ts';
import { EXAMPLE_EVENT_DATA } from '../../src/domain/examples.ts';
import { PermanentError } from '../../src/domain/errors.ts';
import { verifyAudit } from '../../src/security/audit.ts';
import type { Handler, IncomingEvent } from '../../src/pipeline/types.ts';

const db = await freshDatabase();
await db.pool.query(`insert into hub_tenants (id, name) values ('acme', 'ACME') on conflict do nothing`);

function ce(type: keyof typeof EXAMPLE_EVENT_DATA, id: string, patch: Record<string, unknown>, tenantId = 'default'): IncomingEvent {
  const data = { ...(EXAMPLE_EVENT_DATA[type] as Record<string, unknown>), ...patch };
  return { id, source: 'urn:carrier:ups', type, specversion: '1.0', data, extensions: {}, key: keyOf(type, data)!, tenantId, datacontenttype: 'application/json' };
}

test('each lifecycle transition is one audit entry, per tenant chain; duplicates add none; the chains verify', async () => {
  const { worker } = testWorker(db.pool, builtinHandlers());
  for (const tenant of ['default', 'acme']) {
    await ingest(db.pool, [
      ce('shipment.dispatched.v1', `d-${tenant}`, { shipmentId: 'shp-au-1', dispatchedAt: '2026-03-03T17:20:00-08:00' }, tenant),
      ce('shipment.delivered.v1', `v-${tenant}`, { shipmentId: 'shp-au-1', deliveredAt: '2026-03-06T10:41:00-08:00' }, tenant),
      ce('shipment.delivered.v1', `v2-${tenant}`, { shipmentId: 'shp-au-1', deliveredAt: '2026-03-06T10:41:00-08:00' }, tenant), // same milestone again
    ]);
  }
  await worker.drain();
  const rows = (await db.pool.query(`select tenant_id, actor, action, object_type, object_id, details from hub_audit where object_id = 'shp-au-1' order by seq`)).rows;
  for (const tenant of ['default', 'acme']) {
    const mine = rows.filter((r) => r.tenant_id === tenant);
    assert.deepEqual(
      mine.map((r) => [r.action, r.details.from, r.details.to]),
      [['order.state_changed', null, 'dispatched'], ['order.state_changed', 'dispatched', 'delivered']],
      `${tenant}: one entry per transition of the shipment, none for the repeated delivery`,
    );
    assert.ok(mine.every((r) => r.actor === 'event:urn:carrier:ups' && r.object_type === 'order'));
  }
  const v = await verifyAudit(db.pool);
  assert.equal(v.broken, undefined);
  assert.deepEqual(v.tenants.map((t) => t.tenantId).sort(), ['acme', 'default']);
});

test('an event whose handling fails after its lifecycle moved leaves no audit entry', async () => {
  const failing: Handler = { name: 'test.fail-after', matches: (t) => t === 'shipment.delivered.v1', async handle() { throw new PermanentError({ code: 'test.fail', message: 'fails after the fold' }); } };
  const { worker } = testWorker(db.pool, [...builtinHandlers(), failing]);
  const before = (await db.pool.query(`select count(*)::int n from hub_audit`)).rows[0].n;
  await ingest(db.pool, [ce('shipment.delivered.v1', 'v-fail', { shipmentId: 'shp-au-2', deliveredAt: '2026-03-06T10:41:00-08:00' })]);
  await worker.drain();
  assert.equal((await db.pool.query(`select count(*)::int n from hub_dead_letters d join hub_events e on e.seq = d.event_seq where e.id = 'v-fail'`)).rows[0].n, 1);
  assert.equal((await db.pool.query(`select count(*)::int n from hub_audit`)).rows[0].n, before, 'the rolled-back transition is not in the trail');
  assert.equal((await db.pool.query(`select count(*)::int n from hub_lifecycles where key = 'shp-au-2'`)).rows[0].n, 0);
  assert.equal((await verifyAudit(db.pool)).broken, undefined);
});
