/**
 * Change capture against the Odoo simulator and a real PostgreSQL inbox: the crowded
 * write_date second (README item 5), resuming from the persisted cursor, idempotent
 * re-polls, webhook hints that read instead of trusting, tenant separation and the
 * scheduled loop.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OdooSimulator } from '../../../simulators/odoo/server.ts';
import { createOdooClient, type OdooClient } from '../../../src/connectors/odoo/client.ts';
import { ChangeCapture, advanceCursor, cursorDomain, loadCursor, type Scheduler } from '../../../src/connectors/odoo/capture.ts';
import { validateEventData } from '../../../src/domain/catalogue.ts';
import { freshDatabase } from '../../helpers/db.ts';

const { pool } = await freshDatabase();
await pool.query(`insert into hub_tenants (id, name) values ('acme', 'Acme'), ('globex', 'Globex')`);
let sim: OdooSimulator;
let simB: OdooSimulator;
let client: OdooClient;
let clientB: OdooClient;
let simNow = new Date('2026-11-24T06:00:00.100Z');

const clientOf = (s: OdooSimulator) => createOdooClient({ url: s.url, db: 'logi', login: 'admin', secret: 'admin', protocol: 'jsonrpc' });

before(async () => {
  sim = await OdooSimulator.start({ version: 18, now: () => simNow });
  simB = await OdooSimulator.start({ version: 18, now: () => simNow });
  client = clientOf(sim);
  clientB = clientOf(simB);
});

after(async () => {
  await client.close();
  await clientB.close();
  await sim.stop();
  await simB.stop();
});

async function events(tenant: string, where = 'true', params: unknown[] = []) {
  const r = await pool.query<{ id: string; type: string; subject: string; data: Record<string, unknown>; key: string }>(
    `select id, type, subject, data, key from hub_events where tenant_id = $1 and ${where} order by seq`,
    [tenant, ...params],
  );
  return r.rows;
}

/** Creates `n` partners in one Odoo transaction: they share one write_date (to the microsecond). */
function partnersInOneTransaction(s: OdooSimulator, n: number, tag: string): number[] {
  const vals = Array.from({ length: n }, (_, i) => ({ name: `${tag} ${i}`, street: `${i} Main St`, city: 'Reno', country_id: false, customer_rank: 1 }));
  return s.db.call(2, 'res.partner', 'create', [vals], {}) as number[];
}

describe('cursor arithmetic', () => {
  it('keeps the ids of the last second and never moves backwards', () => {
    const c0 = { at: '2026-11-24 05:12:55', idsAtAt: [1, 2] };
    assert.deepEqual(advanceCursor(c0, [{ id: 3, write_date: '2026-11-24 05:12:55' }]), { at: '2026-11-24 05:12:55', idsAtAt: [1, 2, 3] });
    assert.deepEqual(advanceCursor(c0, [{ id: 3, write_date: '2026-11-24 05:12:55' }, { id: 9, write_date: '2026-11-24 05:12:56' }]), { at: '2026-11-24 05:12:56', idsAtAt: [9] });
    assert.deepEqual(advanceCursor(c0, [{ id: 7, write_date: '2026-11-24 05:00:00' }]), c0);
    assert.deepEqual(cursorDomain(c0), [['write_date', '>=', '2026-11-24 05:12:55'], '|', ['write_date', '>=', '2026-11-24 05:12:56'], ['id', 'not in', [1, 2]]]);
    assert.deepEqual(cursorDomain({ at: '2026-12-31 23:59:59', idsAtAt: [] }), [['write_date', '>=', '2026-12-31 23:59:59']]);
    assert.equal((cursorDomain({ at: '2026-12-31 23:59:59', idsAtAt: [4] })[2] as unknown[])[2], '2027-01-01 00:00:00');
  });
});

describe('ChangeCapture', () => {
  it('emits every one of 25 records sharing one write_date second exactly once, with pages of 10', async () => {
    const ids = partnersInOneTransaction(sim, 25, 'Crowded');
    const cap = new ChangeCapture({ pool, tenantId: 'acme', client, models: ['res.partner'], pageSize: 10 });
    const [report] = await cap.pollOnce();
    assert.equal(report!.duplicates, 0);
    const rows = await events('acme', `type = 'party.upserted.v1'`);
    const subjects = rows.map((r) => r.subject);
    assert.equal(new Set(subjects).size, subjects.length, 'no record emitted twice');
    for (const id of ids) assert.equal(subjects.filter((s) => s === `res.partner/${id}`).length, 1, `partner ${id}`);
    assert.equal(report!.records, subjects.length);
    for (const r of rows) assert.deepEqual(validateEventData(r.type, r.data), []);
    // the next poll finds nothing
    const [again] = await cap.pollOnce();
    assert.equal(again!.records, 0);
    assert.deepEqual(again!.cursor, report!.cursor);
  });

  it('two hub processes polling one tenant\'s model at once: one polls, the other skips the round', async () => {
    simNow = new Date('2026-11-24T06:02:00.000Z');
    const ids = partnersInOneTransaction(sim, 8, 'Racing');
    // another process holds the poll lock of this tenant and model
    const other = await pool.connect();
    await other.query(`select pg_advisory_lock(hashtextextended('odoo-capture:acme:res.partner', 0))`);
    const cap = new ChangeCapture({ pool, tenantId: 'acme', client, models: ['res.partner'] });
    const [skipped] = await cap.pollOnce();
    assert.equal(skipped!.skipped, 'locked');
    assert.equal(skipped!.records, 0);
    await other.query(`select pg_advisory_unlock(hashtextextended('odoo-capture:acme:res.partner', 0))`);
    other.release();
    // two pollers racing: together they emit each record once, neither fails
    const a = new ChangeCapture({ pool, tenantId: 'acme', client, models: ['res.partner'] });
    const b = new ChangeCapture({ pool, tenantId: 'acme', client, models: ['res.partner'] });
    const [ra, rb] = (await Promise.all([a.pollOnce(), b.pollOnce()])).map((r) => r[0]!);
    assert.equal(ra!.emitted + rb!.emitted, ids.length);
    for (const id of ids) assert.equal((await events('acme', 'subject = $2', [`res.partner/${id}`])).length, 1);
  });

  it('resumes from the persisted cursor in a new instance; a re-read from zero emits nothing new', async () => {
    simNow = new Date('2026-11-24T06:05:00.000Z');
    const ids = partnersInOneTransaction(sim, 12, 'Resume');
    const first = new ChangeCapture({ pool, tenantId: 'acme', client, models: ['res.partner'], pageSize: 5, maxPagesPerPoll: 1 });
    const [r1] = await first.pollOnce();
    assert.equal(r1!.records, 5);
    const stored = await loadCursor(pool, 'acme', 'res.partner');
    assert.deepEqual(stored, r1!.cursor);
    // a restart: a new instance continues where the stored cursor is
    const second = new ChangeCapture({ pool, tenantId: 'acme', client, models: ['res.partner'], pageSize: 5 });
    const [r2] = await second.pollOnce();
    assert.equal(r2!.records, 7);
    assert.equal(r2!.duplicates, 0);
    for (const id of ids) assert.equal((await events('acme', 'subject = $2', [`res.partner/${id}`])).length, 1);
    // forget the cursor: everything is read again, and the deterministic ids make it all duplicates
    await pool.query(`delete from hub_odoo_cursors where tenant_id = 'acme' and model = 'res.partner'`);
    const before = (await events('acme')).length;
    const [r3] = await second.pollOnce();
    assert.ok(r3!.records > 0);
    assert.equal(r3!.emitted, 0);
    assert.equal((await events('acme')).length, before);
  });

  it('emits a new version after a write, once', async () => {
    simNow = new Date('2026-11-24T06:10:00.000Z');
    const [id] = partnersInOneTransaction(sim, 1, 'Version');
    const cap = new ChangeCapture({ pool, tenantId: 'acme', client, models: ['res.partner'] });
    await cap.pollOnce();
    simNow = new Date('2026-11-24T06:10:07.000Z');
    sim.db.call(2, 'res.partner', 'write', [[id], { name: 'Version renamed' }], {});
    const [r] = await cap.pollOnce();
    assert.equal(r!.records, 1);
    assert.equal(r!.emitted, 1);
    const rows = await events('acme', 'subject = $2', [`res.partner/${id}`]);
    assert.deepEqual(rows.map((x) => x.id.replace(/:[\w-]{12}$/, '')), [`odoo:res.partner:${id}:2026-11-24T06:10:00Z`, `odoo:res.partner:${id}:2026-11-24T06:10:07Z`]);
    assert.equal(rows[1]!.data.name, 'Version renamed');
  });

  it('a second write within the same second, after a poll passed the record, is still emitted; re-reading stops once settled', async () => {
    simNow = new Date('2026-11-24T06:12:00.100Z');
    const [id] = partnersInOneTransaction(sim, 1, 'Same second');
    const cap = new ChangeCapture({ pool, tenantId: 'acme', client, models: ['res.partner'] });
    await cap.pollOnce();
    // the same second, 600 ms later: write_date on the wire is the same truncated value
    simNow = new Date('2026-11-24T06:12:00.700Z');
    sim.db.call(2, 'res.partner', 'write', [[id], { name: 'Same second, renamed' }], {});
    const [r] = await cap.pollOnce();
    assert.equal(r!.records, 0, 'the page query has passed the record');
    assert.equal(r!.emitted, 1, 're-reading the last second found the new data');
    const rows = await events('acme', 'subject = $2', [`res.partner/${id}`]);
    assert.equal(rows.length, 2);
    assert.equal(rows[1]!.data.name, 'Same second, renamed');
    // nothing changed since: two more polls re-read and find nothing, then the second counts as settled
    sim.resetCounters();
    const [a] = await cap.pollOnce();
    const [b] = await cap.pollOnce();
    const [c] = await cap.pollOnce();
    assert.deepEqual([a!.rechecked, a!.emitted, b!.rechecked, b!.emitted, c!.rechecked], [1, 0, 1, 0, undefined]);
    assert.equal(sim.calls.get('res.partner.read'), 2, 'two re-reads, then only the page query');
  });

  it('maps pickings: done deliveries of one transaction give shipment.dispatched once each', async () => {
    simNow = new Date('2026-11-24T06:20:00.000Z');
    const vals = Array.from({ length: 12 }, (_, i) => ({ picking_type_id: 2, partner_id: 10, state: 'done', date_done: '2026-11-24 06:19:00', carrier_tracking_ref: `TRK-${i}` }));
    const ids = sim.db.call(2, 'stock.picking', 'create', [vals], {}) as number[];
    const cap = new ChangeCapture({ pool, tenantId: 'acme', client, models: ['stock.picking'], pageSize: 7, startAt: '2026-11-24 06:00:00' });
    await cap.pollOnce();
    await cap.pollOnce();
    const rows = await events('acme', `type = 'shipment.dispatched.v1'`);
    for (const [i, id] of ids.entries()) {
      const mine = rows.filter((r) => r.subject === `stock.picking/${id}`);
      assert.equal(mine.length, 1);
      assert.equal(mine[0]!.id, `odoo:stock.picking:${id}:shipment.dispatched.v1`);
      assert.equal(mine[0]!.data.trackingNumber, `TRK-${i}`);
      assert.equal(mine[0]!.key, `shp-${id}`);
    }
  });

  it('hints read the record again and never trust the payload; the cursor stays', async () => {
    simNow = new Date('2026-11-24T06:30:00.000Z');
    const [id] = partnersInOneTransaction(sim, 1, 'Hinted');
    const cap = new ChangeCapture({ pool, tenantId: 'acme', client, models: ['res.partner'] });
    await cap.pollOnce();
    const cursor = await loadCursor(pool, 'acme', 'res.partner');
    simNow = new Date('2026-11-24T06:31:00.000Z');
    sim.db.call(2, 'res.partner', 'write', [[id], { name: 'Real Name' }], {});
    const payload = { _action: 'Send Webhook Notification(#1)', _id: id, _model: 'res.partner', id, name: 'Forged Name', city: 'Nowhere' };
    const calls = sim.calls.get('res.partner.read') ?? 0;
    const r = await cap.hintPayload(payload);
    assert.ok(r);
    assert.equal(r.emitted, 1);
    assert.equal(sim.calls.get('res.partner.read'), calls + 1, 'one targeted read');
    const rows = await events('acme', 'subject = $2', [`res.partner/${id}`]);
    assert.equal(rows.at(-1)!.data.name, 'Real Name');
    assert.ok(rows.every((x) => x.data.name !== 'Forged Name' && JSON.stringify(x.data).indexOf('Nowhere') < 0));
    assert.deepEqual(await loadCursor(pool, 'acme', 'res.partner'), cursor, 'a hint does not move the cursor');
    // the poller then passes over the same version: already stored
    const [p] = await cap.pollOnce();
    assert.equal(p!.records, 1);
    assert.equal(p!.emitted, 0);
    assert.equal(p!.duplicates, 1);
    // payloads naming no captured model or no id are ignored
    assert.equal(cap.hintPayload({ _model: 'sale.order.line', _id: 1 }), undefined);
    assert.equal(cap.hintPayload({ _model: 'res.partner' }), undefined);
    assert.equal(cap.hintPayload('x'), undefined);
  });

  it('keeps tenants apart: own cursors, own events', async () => {
    simNow = new Date('2026-11-24T06:40:00.000Z');
    partnersInOneTransaction(simB, 3, 'Globex only');
    const a = new ChangeCapture({ pool, tenantId: 'acme', client, models: ['res.partner'] });
    const b = new ChangeCapture({ pool, tenantId: 'globex', client: clientB, models: ['res.partner'] });
    const acmeCursor = await loadCursor(pool, 'acme', 'res.partner');
    const acmeCount = (await events('acme')).length;
    const [rb] = await b.pollOnce();
    assert.ok(rb!.emitted > 3, 'globex starts from the beginning of its own Odoo');
    assert.deepEqual(await loadCursor(pool, 'acme', 'res.partner'), acmeCursor);
    assert.equal((await events('acme')).length, acmeCount);
    const globex = await events('globex', `type = 'party.upserted.v1'`);
    assert.equal(globex.filter((r) => String(r.data.name).startsWith('Globex only')).length, 3);
    assert.equal((await events('acme', `data->>'name' like 'Globex only%'`)).length, 0);
    const [ra] = await a.pollOnce();
    assert.equal(ra!.records, 0);
  });

  it('runs on a schedule until stopped', async () => {
    const pending: { fn: () => void; ms: number }[] = [];
    const scheduler: Scheduler = {
      setTimeout: (fn, ms) => {
        const t = { fn, ms };
        pending.push(t);
        return t;
      },
      clearTimeout: (h) => {
        const i = pending.indexOf(h as { fn: () => void; ms: number });
        if (i >= 0) pending.splice(i, 1);
      },
    };
    const cap = new ChangeCapture({ pool, tenantId: 'acme', client, models: ['res.partner'], intervalMs: 5000, scheduler });
    cap.start();
    assert.deepEqual(pending.map((p) => p.ms), [0]);
    simNow = new Date('2026-11-24T06:50:00.000Z');
    const [id] = partnersInOneTransaction(sim, 1, 'Scheduled');
    pending.shift()!.fn();
    for (let i = 0; i < 100 && pending.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(pending.map((p) => p.ms), [5000], 'the next poll is scheduled after the interval');
    assert.equal((await events('acme', 'subject = $2', [`res.partner/${id}`])).length, 1);
    await cap.stop();
    assert.equal(pending.length, 0);
  });
});
