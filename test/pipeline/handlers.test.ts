/**
 * The built-in handlers through the real pipeline: lifecycle milestones arriving out of
 * order and twice fold by occurrence time; a late scan after delivery is flagged, not
 * applied; cross references are registered, and a conflicting one is raised.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.ts';
import { testWorker } from '../helpers/pipeline.ts';
import { ingest } from '../../src/pipeline/inbox.ts';
import { builtinHandlers } from '../../src/pipeline/handlers/index.ts';
import { keyOf } from '../../src/domain/index.ts';
import { EXAMPLE_EVENT_DATA } from '../../src/domain/examples.ts';
import type { IncomingEvent } from '../../src/pipeline/types.ts';

const db = await freshDatabase();

function ce(type: keyof typeof EXAMPLE_EVENT_DATA, id: string, patch: Record<string, unknown> = {}, source = 'urn:carrier:ups'): IncomingEvent {
  const data = { ...(EXAMPLE_EVENT_DATA[type] as Record<string, unknown>), ...patch };
  return { id, source, type, specversion: '1.0', data, extensions: {}, key: keyOf(type, data)!, tenantId: 'default', datacontenttype: 'application/json' };
}

test('milestones fold by occurrence time whatever the arrival order; a late regression is flagged', async () => {
  const { worker } = testWorker(db.pool, builtinHandlers());
  const s = { shipmentId: 'shp-lc-1' };
  // arrival order: delivered, dispatched, in_transit (twice), then a scan timed after delivery
  await ingest(db.pool, [ce('shipment.delivered.v1', 'e-del', { ...s, deliveredAt: '2026-03-06T10:41:00-08:00' })]);
  await worker.drain();
  await ingest(db.pool, [
    ce('shipment.dispatched.v1', 'e-dsp', { ...s, dispatchedAt: '2026-03-03T17:20:00-08:00' }),
    ce('shipment.tracking.v1', 'e-it', { ...s, status: 'in_transit', occurredAt: '2026-03-04T03:10:00-08:00' }),
    ce('shipment.tracking.v1', 'e-it', { ...s, status: 'in_transit', occurredAt: '2026-03-04T03:10:00-08:00' }),
  ]);
  await worker.drain();
  let row = (await db.pool.query(`select state, state_at, flags from hub_lifecycles where key = 'shp-lc-1'`)).rows[0];
  assert.equal(row.state, 'delivered');
  assert.equal(row.state_at.toISOString(), '2026-03-06T18:41:00.000Z', 'the delivery instant in UTC, from a local time with offset');
  assert.deepEqual(row.flags, [], 'older events arriving late are not regressions: they fold before the delivery');

  await ingest(db.pool, [ce('shipment.tracking.v1', 'e-late', { ...s, status: 'in_transit', occurredAt: '2026-03-07T08:00:00Z' })]);
  await worker.drain();
  row = (await db.pool.query(`select state, flags from hub_lifecycles where key = 'shp-lc-1'`)).rows[0];
  assert.equal(row.state, 'delivered', 'a delivered shipment never falls back to in transit');
  assert.deepEqual(row.flags.map((f: { kind: string; event: { id: string } }) => `${f.kind}:${f.event.id}`), ['regression:e-late']);
  const order = (await db.pool.query(`select kind, state from hub_lifecycles where key = 'ord-S00065'`)).rows;
  assert.deepEqual(order, [{ kind: 'order', state: 'delivered' }], 'the shipment also moved its order');
});

test('cross references are registered; an id claimed by another canonical id is raised', async () => {
  const { worker } = testWorker(db.pool, builtinHandlers());
  const withRefs = Object.entries(EXAMPLE_EVENT_DATA).find(([, d]) => JSON.stringify(d).includes('"refs"'))!;
  const [type] = withRefs;
  await ingest(db.pool, [ce(type as keyof typeof EXAMPLE_EVENT_DATA, 'x-1', {}, 'urn:odoo')]);
  await worker.drain();
  const reg = await db.pool.query(`select entity, canonical_id, system, external_id from hub_xref order by 1, 3, 4`);
  assert.ok(reg.rowCount! > 0, `refs of ${type} registered`);
  const first = reg.rows[0];
  // another event gives the same external id to a different canonical id
  const { rows } = await db.pool.query(`select count(*)::int n from hub_exceptions where code = 'xref.duplicate_reference'`);
  assert.equal(rows[0].n, 0);
  await db.pool.query(`update hub_xref set canonical_id = 'someone-else' where entity = $1 and system = $2 and external_id = $3`, [first.entity, first.system, first.external_id]);
  await ingest(db.pool, [ce(type as keyof typeof EXAMPLE_EVENT_DATA, 'x-2', {}, 'urn:odoo')]);
  await worker.drain();
  const x = await db.pool.query(`select code, message from hub_exceptions where code = 'xref.duplicate_reference'`);
  assert.equal(x.rowCount, 1);
  assert.match(x.rows[0].message, /already belongs to .* someone-else/);
});
