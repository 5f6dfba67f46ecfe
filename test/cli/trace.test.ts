import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.ts';
import { createEffects, ev, recordingHandler, testWorker } from '../helpers/pipeline.ts';
import { ingest } from '../../src/pipeline/inbox.ts';
import { fold } from '../../src/domain/index.ts';
import { BusinessError, PermanentError, TransientError } from '../../src/domain/errors.ts';
import { cli, show } from './helpers.ts';

const db = await freshDatabase({ poolSize: 4 });
await createEffects(db.pool);
// Stored out of occurrence order: the scan of 00:00:01 arrives last.
await ingest(db.pool, [ev('SHP-9', 3), ev('SHP-9', 2, { type: 'test.tracking.v1', id: 'evt-dead' }), ev('SHP-9', 4), ev('SHP-9', 1), ev('OTHER', 1)]);
const { worker, clock } = testWorker(db.pool, [
  recordingHandler({
    fail: ({ id, attempt }) =>
      id === 'evt-dead' ? new PermanentError({ code: 'mapping.missing_field', message: 'no sku' })
      : id === 'SHP-9-4' ? new BusinessError({ code: 'odoo.user_error', message: 'quantity exceeds order' })
      : id === 'SHP-9-3' && attempt === 1 ? new TransientError({ code: 'odoo.timeout', message: 'timed out' })
      : undefined,
  }),
]);
await worker.drain();
clock.advance(5000);
await worker.drain();
// a folded lifecycle, as the lifecycle handler stores it: delivered, then a scan timed after delivery
const lc = fold([
  { source: 'urn:carrier', id: 'scan-1', type: 'shipment.tracking.v1', data: { shipmentId: 'SHP-9', status: 'in_transit', occurredAt: '2026-01-01T00:00:02Z' } },
  { source: 'urn:carrier', id: 'scan-2', type: 'shipment.tracking.v1', data: { shipmentId: 'SHP-9', status: 'delivered', occurredAt: '2026-01-01T00:00:04Z' } },
  { source: 'urn:carrier', id: 'scan-3', type: 'shipment.tracking.v1', data: { shipmentId: 'SHP-9', status: 'in_transit', occurredAt: '2026-01-01T00:00:05Z' } },
]);
await db.pool.query(`insert into hub_lifecycles (key, kind, state, state_at, flags, snapshot) values ('SHP-9', $1, $2, $3, $4, $5)`, [lc.kind, lc.state, lc.stateAt, JSON.stringify(lc.flags), JSON.stringify(lc)]);
await db.pool.query(`insert into hub_xref (entity, canonical_id, system, external_id) values ('shipment', 'SHP-9', 'odoo', 'stock.picking/42'), ('shipment', 'SHP-9', 'carrier', '1Z999AA10123456784'), ('shipment', 'OTHER', 'odoo', 'stock.picking/43')`);
await db.pool.query(`insert into hub_timers (key, name, due_at, event_type) values ('SHP-9', 'no-carrier-scan', '2026-01-02T00:00:00Z', 'test.sla.v1')`);
const env = { DATABASE_URL: db.url };

test('trace shows a key end to end: events in occurrence order with outcomes, attempts, dead letters, exceptions, lifecycle, xref', async () => {
  const r = await cli(['trace', 'SHP-9'], { env });
  assert.equal(r.code, 0, show(r));
  const out = r.stdout;
  assert.match(out, /^key SHP-9 \(tenant default\)\n/);
  assert.match(out, /^lifecycle: order delivered since 2026-01-01 00:00:04Z flags: regression \(scan-3\)$/m);
  assert.match(out, /^work: +0 pending/m);
  const events = out.slice(out.indexOf('events (4, in occurrence order)'), out.indexOf('attempts that did not simply succeed'));
  assert.deepEqual(events.match(/SHP-9-\d|evt-dead/g), ['SHP-9-1', 'evt-dead', 'SHP-9-3', 'SHP-9-4']);
  assert.match(events, /evt-dead +urn:test +dead +1 +mapping\.missing_field: no sku/);
  assert.match(events, /SHP-9-3 +urn:test +done +2 +odoo\.timeout: timed out/);
  assert.match(events, /SHP-9-4 +urn:test +exception +1 +odoo\.user_error: quantity exceeds order/);
  assert.match(out, /^ +\d+ +1 +\S+ \S+ +retry +transient +odoo\.timeout +timed out$/m);
  assert.match(out, /dead letters \(1\)\nID .*\n +\d+ .* open +test\.tracking\.v1 +SHP-9 +mapping\.missing_field +permanent +1 +permanent error: no sku/);
  assert.match(out, /exceptions \(1\)\nID .*\n +\d+ .* open +error +odoo\.user_error +\d+ +quantity exceeds order/);
  assert.match(out, /timers \(1\)\nNAME .*\nno-carrier-scan +2026-01-02 00:00:00Z +scheduled +test\.sla\.v1/);
  assert.match(out, /cross references \(2\)\nENTITY .*\nshipment +SHP-9 +carrier +1Z999AA10123456784\nshipment +SHP-9 +odoo +stock\.picking\/42/);
  assert.doesNotMatch(out, /OTHER|stock\.picking\/43/);
});

test('trace of an event id traces its key; --json for machines; unknown is exit 1', async () => {
  const [byEvent, asJson, unknown] = await Promise.all([
    cli(['trace', 'evt-dead'], { env }),
    cli(['trace', 'SHP-9', '--json'], { env }),
    cli(['trace', 'SHP-404'], { env }),
  ]);
  assert.equal(byEvent.code, 0, show(byEvent));
  assert.match(byEvent.stdout, /^key SHP-9 \(tenant default; found by event evt-dead from urn:test\)\n/);
  assert.match(byEvent.stdout, /events \(4, in occurrence order\)/);

  assert.equal(asJson.code, 0, show(asJson));
  const t = JSON.parse(asJson.stdout);
  assert.equal(t.key, 'SHP-9');
  assert.deepEqual(t.events.map((e: { id: string; outcome: string; attempts: unknown[] }) => `${e.id}:${e.outcome}:${e.attempts.length}`), ['SHP-9-1:done:1', 'evt-dead:dead:1', 'SHP-9-3:done:2', 'SHP-9-4:exception:1']);
  assert.deepEqual(t.events[1].data, { key: 'SHP-9', n: 2 });
  assert.deepEqual(t.lifecycles.map((l: { kind: string; state: string }) => `${l.kind}:${l.state}`), ['order:delivered']);
  assert.equal(t.deadLetters.length, 1);
  assert.equal(t.exceptions[0].code, 'odoo.user_error');
  assert.equal(t.xref.length, 2);
  assert.equal(t.work.pending, 0);

  assert.equal(unknown.code, 1, show(unknown));
  assert.match(unknown.stderr, /^error: nothing is known about "SHP-404": no event, lifecycle or exception has this key, and no event has this id\n {2}fix: /);
});
