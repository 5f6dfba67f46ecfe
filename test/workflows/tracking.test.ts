/**
 * Carrier tracking end to end against the DHL simulator over HTTP and a real PostgreSQL: a
 * booking registers the number, the poller asks the carrier, the pipeline folds the scans
 * into the shipment's tracking and emits shipment.tracking.v1 and, once, shipment.delivered.v1.
 * Duplicated and shuffled answers, an unchanged answer polled again, a failed first attempt
 * and scans pushed before the booking was known.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.ts';
import { silent, testWorker } from '../helpers/pipeline.ts';
import { DhlSimulator } from '../../simulators/carriers/dhl/server.ts';
import { createDhlCarrier } from '../../src/connectors/dhl/index.ts';
import { ingest } from '../../src/pipeline/inbox.ts';
import { trackingHandler } from '../../src/workflows/tracking/handler.ts';
import { TrackingPoller } from '../../src/workflows/tracking/poller.ts';
import type { IncomingEvent } from '../../src/pipeline/types.ts';

const { pool } = await freshDatabase();
const START = '2026-11-20T08:00:00Z';
const at = (h: number) => new Date(Date.parse(START) + h * 3_600_000);
let simNow = at(0);
let sim: DhlSimulator;
const { worker, clock } = testWorker(pool, [trackingHandler({ adapters: () => ['dhl'], firstPollMs: 0 })]);

before(async () => {
  sim = await DhlSimulator.start({ now: () => simNow, apiKeys: ['k'] });
});
after(() => sim.stop());

const carrier = () => createDhlCarrier({ baseUrl: sim.url, apiKey: 'k', defaultTimeZone: 'Europe/Berlin', language: 'en', timeoutMs: 5000, concurrency: 2 } as never);

function booked(tn: string, shipmentId: string, packages: string[] = []): IncomingEvent {
  const data = {
    shipmentId, orderId: `ord-${shipmentId}`, bookedAt: START, trackingNumber: tn, carrier: { carrierCode: 'dhl_express', service: 'EXPRESS WORLDWIDE' },
    refs: [{ system: 'carrier:dhl', id: `bk-${tn}` }], ...(packages.length ? { packages: packages.map((p, i) => ({ packageId: `P${i + 1}`, trackingNumber: p })) } : {}),
  };
  return { id: `booked-${tn}`, source: 'urn:hub:workflow:order-to-delivery', type: 'shipment.booked.v1', specversion: '1.0', data, extensions: {}, key: shipmentId, tenantId: 'default' };
}

async function timeline(shipmentId: string) {
  return (await pool.query<{ type: string; data: Record<string, unknown> }>(`select type, data from hub_events where key = $1 and type in ('shipment.tracking.v1', 'shipment.delivered.v1') order by occurred_at, seq`, [shipmentId])).rows;
}

describe('carrier tracking', () => {
  it('registers at booking, polls, folds and emits each scan once and the delivery once', async () => {
    sim.script({ trackingNumber: '1234567890', start: START, failedFirstAttempt: true, signedBy: 'PEETERS' });
    await ingest(pool, [booked('1234567890', 'shp-1')]);
    await worker.drain();
    const poller = new TrackingPoller({ pool, tenantId: 'default', carriers: [carrier()], clock, log: silent });
    simNow = at(19);
    clock.set(simNow);
    assert.deepEqual((await poller.pollDue()).map((r) => [r.carrier, r.numbers, r.events]), [['dhl', 1, 1]]);
    await worker.drain();
    let t = await timeline('shp-1');
    assert.deepEqual(t.map((e) => e.data.status), ['info_received', 'picked_up', 'in_transit', 'in_transit', 'in_transit', 'in_transit', 'out_for_delivery']);
    assert.ok(t.every((e) => e.data.orderId === 'ord-shp-1' && e.data.trackingNumber === '1234567890'));
    // polled again with nothing new: the same answer is a duplicate, no event
    clock.advance(31 * 60_000);
    assert.deepEqual((await poller.pollDue()).map((r) => r.events), [0]);
    // the failed attempt, then the delivery; the answer now duplicated and shuffled
    sim.setFaults({ duplicateEvents: true, shuffleEvents: true } as never);
    simNow = at(46);
    clock.set(simNow);
    await poller.pollDue();
    await worker.drain();
    t = await timeline('shp-1');
    const statuses = t.map((e) => `${e.type}:${String(e.data.status ?? '')}`);
    assert.deepEqual(statuses.slice(7), ['shipment.tracking.v1:delivery_failed', 'shipment.tracking.v1:out_for_delivery', 'shipment.tracking.v1:delivered', 'shipment.delivered.v1:']);
    const delivered = t.find((e) => e.type === 'shipment.delivered.v1')!;
    assert.equal(delivered.data.receivedBy, 'PEETERS');
    assert.equal(delivered.data.deliveredAt, at(45).toISOString());
    const row = await pool.query(`select status, closed from hub_tracking where tracking_number = '1234567890'`);
    assert.deepEqual(row.rows[0], { status: 'delivered', closed: true });
    clock.advance(3 * 3_600_000);
    assert.deepEqual((await poller.pollDue()).map((r) => r.numbers), [0], 'a delivered number is not polled any more');
    sim.setFaults({} as never);
  });

  it('scans pushed before the booking is known wait, and are emitted when it is', async () => {
    const scans = {
      carrier: 'dhl', trackingNumber: '9990001111', receivedVia: 'webhook', receivedAt: START,
      scans: [{ carrier: 'dhl', trackingNumber: '9990001111', code: 'transit:PU', status: 'picked_up', occurredAt: '2026-11-20T09:00:00Z', timeRule: 'offset' }],
    };
    await ingest(pool, [{ id: 'push-1', source: 'urn:test', type: 'carrier.scans.received.v1', specversion: '1.0', data: scans, extensions: {}, key: '9990001111', tenantId: 'default' }]);
    await worker.drain();
    assert.equal((await timeline('shp-2')).length, 0);
    await ingest(pool, [booked('9990001111', 'shp-2')]);
    await worker.drain();
    assert.deepEqual((await timeline('shp-2')).map((e) => e.data.status), ['picked_up']);
  });
});
