/**
 * Odoo down for 60 s while 5,000 tracking updates (25 per delivery order, 200 orders) are
 * queued behind the gateway: afterwards every order carries its last value, no write reached
 * Odoo twice (every send beyond one per formed batch is justified by a read that showed the
 * values missing), and the queue caught up within seconds of Odoo's return.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OdooSimulator } from '../../simulators/odoo/server.ts';
import { createOdooClient } from '../../src/connectors/odoo/client.ts';
import { OdooGateway, type BreakerEvent } from '../../src/connectors/odoo/gateway.ts';

const RECORDS = 200;
const UPDATES = 5000;
const DOWN_MS = 60_000;

test('Odoo down for 60 s with 5,000 updates queued: none lost, none applied twice, caught up', { timeout: 120_000 }, async () => {
  const sim = await OdooSimulator.start({ version: 18 });
  const client = createOdooClient({ url: sim.url, db: 'logi', login: 'admin', secret: 'admin', protocol: 'jsonrpc', timeoutMs: 5000 });
  // writes, not bulk loads: this test counts the writes Odoo received to prove none was applied twice
  const gw = new OdooGateway(client, { bulk: 'write', breaker: { threshold: 5, coolDownMs: 500, maxCoolDownMs: 2000 } });
  try {
    const ids = (await client.call('stock.picking', 'create', [Array.from({ length: RECORDS }, (_, i) => ({ partner_id: 10, picking_type_id: 2, origin: `OUT-${i}` }))])) as number[];
    sim.resetCounters();
    sim.setFaults({ latencyMs: 2 });
    const events: BreakerEvent[] = [];
    gw.on('breaker', (e) => events.push(e));

    const last = new Map<number, string>();
    const done: Promise<void>[] = [];
    const update = (n: number) => {
      const id = ids[n % RECORDS]!;
      const value = `TRK-${id}-${Math.floor(n / RECORDS)}`;
      last.set(id, value);
      done.push(gw.write('stock.picking', id, { carrier_tracking_ref: value }));
    };

    // A fifth of the stream flows while Odoo is up, then Odoo goes away mid-stream.
    for (let n = 0; n < 1000; n++) {
      update(n);
      if (n % 100 === 99) await new Promise((r) => setTimeout(r, 5));
    }
    const downAt = Date.now();
    void sim.goDown(DOWN_MS);
    // The remaining 4,000 arrive during the outage, over its first ten seconds.
    for (let n = 1000; n < UPDATES; n++) {
      update(n);
      if (n % 400 === 399) await new Promise((r) => setTimeout(r, 1000));
    }
    assert.ok(events.some((e) => e.state === 'open'), 'the breaker opened');
    assert.ok(gw.backlog > 0);
    const writesBeforeUp = sim.calls.get('stock.picking.write') ?? 0;

    await Promise.all(done);
    const caughtUpAt = Date.now();
    const upAfter = caughtUpAt - downAt;
    assert.ok(upAfter >= DOWN_MS, 'nothing completed before Odoo came back');
    assert.ok(upAfter < DOWN_MS + 10_000, `caught up ${upAfter - DOWN_MS} ms after Odoo came back`);
    assert.equal(gw.breakerState, 'closed');

    // Every order has its last value.
    const rows = (await client.call('stock.picking', 'read', [ids, ['carrier_tracking_ref']])) as { id: number; carrier_tracking_ref: string }[];
    assert.equal(rows.length, RECORDS);
    for (const r of rows) assert.equal(r.carrier_tracking_ref, last.get(r.id), `picking ${r.id}`);

    // None applied twice: Odoo saw each formed write once, plus only the re-sends a read proved necessary.
    const st = gw.stats;
    const received = sim.calls.get('stock.picking.write') ?? 0;
    assert.ok(received >= st.batches.write, `${received} writes received, ${st.batches.write} formed`);
    assert.ok(received <= st.batches.write + st.rewrites, `${received} writes received, ${st.batches.write} formed, ${st.rewrites} re-sent`);
    // Coalescing: the 4,000 updates queued during the outage went out as one write per order, plus,
    // for the (at most 4) orders whose write was in flight when Odoo went away, that write and the
    // merged updates queued behind it.
    assert.ok(received - writesBeforeUp <= RECORDS + 2 * 4 + st.rewrites, `${received - writesBeforeUp} writes after the outage`);
    assert.ok(received < UPDATES / 2);
    assert.equal(st.requested.write, UPDATES);
    console.log(JSON.stringify({ received, formed: st.batches.write, rewrites: st.rewrites, merged: st.mergedWrites, writesBeforeUp, catchUpMs: upAfter - DOWN_MS, breakerOpens: st.breakerOpens, retries: st.retries }));
  } finally {
    gw.close();
    await client.close();
    await sim.stop();
  }
});
