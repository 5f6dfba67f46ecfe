/**
 * The SFTP warehouse connector against the CSV-3PL simulator, all real: the ssh2 server
 * in-process on 127.0.0.1, the connector's ssh2 client, the csv3pl profile, and PostgreSQL
 * for the inbox. Covers: atomic, idempotent order files; cancellation before and after
 * packing; labels leading to shipping; the 3PL's files becoming canonical events exactly
 * once (also when a poll stops between storing and archiving); a bad file going to the
 * error directory with one exception naming file, line and column; host key pinning;
 * authentication; the server going down and coming back.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { HubError, PermanentError, TransientError } from '../../../src/domain/errors.ts';
import { FakeClock } from '../../../src/platform/clock.ts';
import { SftpClient, type SftpTransport } from '../../../src/connectors/wms-sftp/client.ts';
import { parseCsv } from '../../../src/connectors/wms-sftp/csv.ts';
import { createSftpWms, type SftpWms } from '../../../src/connectors/wms-sftp/index.ts';
import { FILE_REJECTED, InboundPoller } from '../../../src/connectors/wms-sftp/inbound.ts';
import { WmsSftpConfigSchema, type WmsSftpConfig } from '../../../src/connectors/wms-sftp/manifest.ts';
import { resolveFileProfile } from '../../../src/connectors/wms-sftp/profile.ts';
import type { WmsRelease } from '../../../src/connectors/wms-port.ts';
import { Value } from '@sinclair/typebox/value';
import { createServer, type AddressInfo } from 'node:net';
import { Sftp3plSimulator, DIRS } from '../../../simulators/sftp3pl/server.ts';
import { freshDatabase, type TestDb } from '../../helpers/db.ts';

const db: TestDb = await freshDatabase();

const open: { stop(): Promise<void> }[] = [];
after(async () => {
  for (const o of open.reverse()) await o.stop().catch(() => undefined);
});

async function setup(o: { password?: string; hostKeySha256?: string; transport?: (t: SftpTransport) => SftpTransport } = {}): Promise<{ sim: Sftp3plSimulator; hub: SftpWms; clock: FakeClock }> {
  const clock = new FakeClock('2026-03-02T09:00:00Z');
  const sim = await Sftp3plSimulator.start({ clock });
  open.push(sim);
  const config = Value.Default(WmsSftpConfigSchema, {
    host: sim.host,
    port: sim.port,
    username: sim.username,
    secretName: 'csv3pl-sftp',
    hostKeySha256: o.hostKeySha256 ?? sim.hostKeySha256,
    warehouseId: 'loc-3pl',
    timeoutMs: 5000,
  }) as WmsSftpConfig;
  assert.deepEqual([...Value.Errors(WmsSftpConfigSchema, config)], []);
  const client = new SftpClient({ host: sim.host, port: sim.port, username: sim.username, secret: o.password ?? sim.password, hostKeySha256: config.hostKeySha256, timeoutMs: 5000 });
  const hub = createSftpWms(config, o.password ?? sim.password, { pool: db.pool, clock, transport: o.transport ? o.transport(client) : client });
  open.push(hub);
  return { sim, hub, clock };
}

function release(n: number, lines: WmsRelease['lines'] = [{ orderLineId: 'l1', sku: 'SKU-RED', quantity: 2, uom: 'EA' }]): WmsRelease {
  return {
    fulfilmentRequestId: `fr-${n}`,
    orderId: `ord-${n}`,
    orderNumber: `SO${n}`,
    shipmentId: `shp-${n}`,
    shipTo: { name: `Customer ${n}, "the" buyer`, address: { lines: ['1 Main St', 'Apt 2'], city: 'Utrecht', postalCode: '3511 AB', countryCode: 'NL' }, contact: { email: 'a@example.com' } },
    lines,
  };
}

const ref = (n: number) => ({ fulfilmentRequestId: `fr-${n}`, orderId: `ord-${n}`, shipmentId: `shp-${n}`, wmsOrderId: `shp-${n}` });
const labels = (n: number) => ({
  carrier: 'ups',
  service: 'ups_ground',
  masterTrackingNumber: `1Z${n}`,
  pieces: [{ packageId: `p${n}`, trackingNumber: `1Z${n}`, label: { format: 'PDF' } as never, labelUri: `https://labels.example/${n}.pdf` }],
});

async function eventsOf(shipmentId: string): Promise<{ id: string; type: string; data: Record<string, any> }[]> {
  const r = await db.pool.query(
    `select id, type, data from hub_events where source = '/wms/csv3pl' and (data->>'shipmentId' = $1 or data->>'fulfilmentRequestId' = $1) order by seq`,
    [shipmentId],
  );
  return r.rows;
}

async function rejects(p: Promise<unknown>, code: string, cls: typeof TransientError | typeof PermanentError): Promise<HubError> {
  let caught: unknown;
  await p.catch((e: unknown) => (caught = e));
  assert.ok(caught instanceof cls, `expected ${cls.name} ${code}, got ${String(caught)}`);
  assert.equal((caught as HubError).code, code);
  return caught as HubError;
}

test('release writes one order file atomically; the same release again writes nothing', async () => {
  const { sim, hub } = await setup();
  assert.deepEqual(await hub.port.release(release(1)), { wmsOrderId: 'shp-1' });
  assert.deepEqual(hub.port.lastFile, { path: '/to-3pl/ORD_shp-1.csv', written: true });
  await hub.port.release(release(1));
  assert.deepEqual(hub.port.lastFile, { path: '/to-3pl/ORD_shp-1.csv', written: false });
  assert.deepEqual(sim.listFiles(DIRS.toWarehouse), ['ORD_shp-1.csv']);
  const stats = sim.stats();
  assert.deepEqual(stats.renamedIn, ['ORD_shp-1.csv'], 'the file arrived by rename');
  assert.deepEqual(stats.writtenInPlace, [], 'never written under its final name');
  const doc = parseCsv(sim.readFile('/to-3pl/ORD_shp-1.csv')!, 'ORD_shp-1.csv');
  assert.equal(doc.records[0]!.values.ship_to_name, 'Customer 1, "the" buyer');
  assert.equal(doc.records[0]!.values.ship_to_email, 'a@example.com');
  sim.advance(0);
  assert.deepEqual(sim.stats().pickedUp, ['ORD_shp-1.csv']);
  assert.ok(!sim.stats().pickedUp.some((n) => n.endsWith('.tmp')));
  assert.equal(sim.orders.get('shp-1')?.state, 'received');
  assert.deepEqual(
    sim.orders.get('shp-1')!.lines.map((l) => [l.lineRef, l.sku, l.quantity]),
    [['l1', 'SKU-RED', 2]],
  );
});

test("the 3PL's files become canonical events exactly once, also when a poll stops between storing and archiving", async () => {
  let failArchive = 1;
  const { sim, hub } = await setup({
    transport: (t) => ({
      list: (dir) => t.list(dir),
      get: (path) => t.get(path),
      exists: (path) => t.exists(path),
      putAtomic: (path, data, tmp) => t.putAtomic(path, data, tmp),
      remove: (path) => t.remove(path),
      close: () => t.close(),
      rename: async (from, to) => {
        if (to.startsWith(DIRS.archive) && failArchive-- > 0) throw new TransientError({ code: 'wms-sftp.connection_failed', message: 'connection lost (simulated crash)' });
        return t.rename(from, to);
      },
    }),
  });
  await hub.port.release(release(2, [
    { orderLineId: 'l1', sku: 'SKU-RED', quantity: 3, uom: 'EA' },
    { orderLineId: 'l2', sku: 'SKU-GREEN', quantity: 9, uom: 'EA' },
  ]));
  sim.advance(60 + 300 + 300); // acknowledged, picked (short on green), packed
  await hub.port.attachLabels(ref(2), labels(2));
  sim.advance(600);
  assert.deepEqual(sim.listFiles(DIRS.fromWarehouse).map((n) => n.slice(0, 3)), ['ACK', 'PAK', 'PCK', 'SHP']);

  await assert.rejects(hub.poller.pollOnce(), /simulated crash/);
  const afterCrash = await eventsOf('shp-2');
  assert.deepEqual(afterCrash.map((e) => e.type), ['fulfilment.acknowledged.v1'], 'the first file was stored before the stop');
  assert.equal(sim.listFiles(DIRS.fromWarehouse).length, 4, 'and left in place');

  const outcomes = await hub.poller.pollOnce();
  assert.deepEqual(outcomes.map((o) => [o.name.slice(0, 3), o.outcome, o.events, o.stored]), [
    ['ACK', 'archived', 1, 0],
    ['PCK', 'archived', 1, 1],
    ['PAK', 'archived', 1, 1],
    ['SHP', 'archived', 1, 1],
  ]);
  assert.deepEqual(await hub.poller.pollOnce(), []);
  const events = await eventsOf('shp-2');
  assert.deepEqual(events.map((e) => e.type), ['fulfilment.acknowledged.v1', 'order.picked.v1', 'shipment.packed.v1', 'shipment.dispatched.v1']);
  assert.equal(new Set(events.map((e) => e.id)).size, 4);
  assert.deepEqual(events[1]!.data.lines, [
    { orderLineId: 'l1', sku: 'SKU-RED', quantity: 3, uom: 'EA' },
    { orderLineId: 'l2', sku: 'SKU-GREEN', quantity: 5, uom: 'EA' },
  ]);
  assert.deepEqual(events[0]!.data.refs, [{ system: 'wms:csv3pl', id: sim.orders.get('shp-2')!.wmsOrderId }]);
  assert.equal(events[3]!.data.trackingNumber, '1Z2');
  assert.deepEqual(sim.listFiles(DIRS.fromWarehouse), []);
  assert.equal(sim.listFiles(DIRS.archive).length, 4);
  assert.deepEqual(await hub.port.inventory(['SKU-RED', 'SKU-GREEN', 'SKU-UNKNOWN']), { 'SKU-RED': 97, 'SKU-GREEN': 0, 'SKU-UNKNOWN': 0 });
});

test('cancel before packing is honoured; after packing it is refused and the order ships', async () => {
  const { sim, hub } = await setup();
  await hub.port.release(release(3));
  await hub.port.release(release(4));
  sim.advance(60 + 300 + 30); // both picked
  assert.deepEqual(await hub.port.cancel(ref(3), 'customer changed mind'), { ok: true });
  assert.equal(hub.port.lastFile?.path, '/to-3pl/CAN_shp-3.csv');
  sim.advance(270); // shp-3 cancelled, then shp-4 packed
  assert.equal(sim.orders.get('shp-3')?.state, 'cancelled');
  assert.equal(sim.orders.get('shp-4')?.state, 'packed');
  assert.deepEqual(await hub.port.cancel(ref(4)), { ok: true });
  sim.advance(0);
  assert.equal(sim.orders.get('shp-4')?.state, 'packed');
  await hub.port.attachLabels(ref(4), labels(4));
  sim.advance(600);
  assert.equal(sim.orders.get('shp-4')?.state, 'shipped');
  assert.equal(sim.stock['SKU-RED'], 98, 'the cancelled order put its picked stock back');

  await hub.poller.pollOnce();
  const three = await eventsOf('shp-3');
  assert.deepEqual(three.map((e) => e.type), ['fulfilment.acknowledged.v1', 'order.picked.v1', 'shipment.cancelled.v1']);
  assert.equal(three[2]!.data.reason, 'customer changed mind');
  const four = await eventsOf('shp-4');
  assert.deepEqual(four.map((e) => e.type), ['fulfilment.acknowledged.v1', 'order.picked.v1', 'shipment.packed.v1', 'shipment.dispatched.v1']);
  // the refusal was reported as a file and archived, without an event
  const cxl = sim.listFiles(DIRS.archive).filter((n) => n.startsWith('CXL_'));
  assert.equal(cxl.length, 2);
  assert.ok(cxl.some((n) => parseCsv(sim.readFile(`${DIRS.archive}/${n}`)!, n).records[0]!.values.status === 'REFUSED'));
});

test('an address correction reaches the pack list; a label file is written once', async () => {
  const { sim, hub, clock } = await setup();
  await hub.port.release(release(5));
  sim.advance(60);
  clock.advance(60_000);
  const shipTo = { name: 'New Name', address: { lines: ['9 Canal St'], city: 'Delft', postalCode: '2611', countryCode: 'NL' } };
  assert.deepEqual(await hub.port.updateShipTo(ref(5), shipTo), { ok: true });
  assert.match(hub.port.lastFile!.path, /^\/to-3pl\/ADR_shp-5_20260302090100\.csv$/);
  sim.advance(600);
  await hub.port.attachLabels(ref(5), labels(5));
  await hub.port.attachLabels(ref(5), labels(5));
  assert.equal(hub.port.lastFile?.written, false);
  sim.advance(600);
  await hub.poller.pollOnce();
  const packed = (await eventsOf('shp-5')).find((e) => e.type === 'shipment.packed.v1')!;
  assert.equal(packed.data.shipTo.name, 'New Name');
  assert.deepEqual(packed.data.shipTo.address.lines, ['9 Canal St']);
  assert.deepEqual(sim.stats().pickedUp.filter((n) => n.startsWith('LBL_')), ['LBL_shp-5.csv']);
});

test('a bad file goes to error/ with one exception naming file, line and column; none of its events is stored', async () => {
  const { sim, hub } = await setup();
  sim.putFile(`${DIRS.fromWarehouse}/ACK_20260302090000_000001_shp-9.csv`, 'order_ref,client_order,wms_order_id,status,reason,event_time\r\nshp-9,ord-9,3PL-9,ACCEPTED,,2026-03-02 09:00:00\r\nshp-9b,ord-9b,3PL-9b,ACCEPTED,"oops,2026-03-02 09:00:00\r\n');
  sim.putFile(`${DIRS.fromWarehouse}/ACK_20260302090000_000002_shp-8.csv`, 'order_ref,client_order,wms_order_id,status,reason,event_time\r\nshp-8,ord-8,3PL-8,MAYBE,,2026-03-02 09:00:00\r\n');
  sim.putFile(`${DIRS.fromWarehouse}/ACK_20260302090000_000003_shp-7.csv.tmp`, 'half a fi');
  const outcomes = await hub.poller.pollOnce();
  assert.deepEqual(outcomes.map((o) => [o.name, o.outcome, o.error?.line, o.error?.column, o.error?.code]), [
    ['ACK_20260302090000_000001_shp-9.csv', 'rejected', 3, 31, 'wms-sftp.csv_invalid'],
    ['ACK_20260302090000_000002_shp-8.csv', 'rejected', 2, 19, 'wms-sftp.mapping_failed'],
  ]);
  assert.deepEqual(sim.listFiles(DIRS.error), ['ACK_20260302090000_000001_shp-9.csv', 'ACK_20260302090000_000002_shp-8.csv']);
  assert.deepEqual(sim.listFiles(DIRS.fromWarehouse), ['ACK_20260302090000_000003_shp-7.csv.tmp'], 'a file still being written is left alone');
  assert.deepEqual(await eventsOf('shp-9'), [], 'the good row of the bad file is not stored either');
  const x = await db.pool.query(`select key, code, message, details from hub_exceptions where code = $1 order by id`, [FILE_REJECTED]);
  assert.equal(x.rows.length, 2);
  assert.equal(x.rows[0].key, 'wms-sftp:loc-3pl:ACK_20260302090000_000001_shp-9.csv');
  assert.match(x.rows[0].message, /^\/from-3pl\/ACK_20260302090000_000001_shp-9\.csv:3:31: the quoted field that starts here is never closed/);
  assert.deepEqual([x.rows[0].details.file, x.rows[0].details.line, x.rows[0].details.column], ['ACK_20260302090000_000001_shp-9.csv', 3, 31]);
  assert.match(x.rows[1].message, /:2:19: .*catalogue refuses/);
  assert.deepEqual(await hub.poller.pollOnce(), []);

  // the same name again (the 3PL re-sends): rejected again, still one open exception for it, the earlier copy kept
  sim.putFile(`${DIRS.fromWarehouse}/ACK_20260302090000_000002_shp-8.csv`, 'order_ref,client_order\r\n"x\r\n');
  const again = await hub.poller.pollOnce();
  assert.match(again[0]!.movedTo, /^\/from-3pl\/error\/ACK_20260302090000_000002_shp-8\.csv\.\d{14}$/);
  const count = await db.pool.query(`select count(*)::int as n from hub_exceptions where key = $1`, ['wms-sftp:loc-3pl:ACK_20260302090000_000002_shp-8.csv']);
  assert.equal(count.rows[0].n, 1);
});

test('a server presenting another host key is refused before anything is sent; a wrong password is refused', async () => {
  const other = await Sftp3plSimulator.start();
  open.push(other);
  const { sim, hub } = await setup({ hostKeySha256: other.hostKeySha256 });
  const e = await rejects(hub.port.release(release(6)), 'wms-sftp.host_key_mismatch', PermanentError);
  assert.match(e.message, new RegExp(`host key ${sim.hostKeySha256.replace(/[+/]/g, '\\$&')} is not the pinned`));
  assert.deepEqual(sim.stats().renamedIn, []);
  const hex = Buffer.from(sim.hostKeySha256.slice(7), 'base64').toString('hex');
  const byHex = new SftpClient({ host: sim.host, port: sim.port, username: sim.username, secret: sim.password, hostKeySha256: hex, timeoutMs: 5000 });
  open.push({ stop: () => byHex.close() });
  assert.ok((await byHex.list('/')).some((x) => x.name === 'to-3pl' && x.isDirectory), 'the hex notation of the right key is accepted');

  const { hub: wrong } = await setup({ password: 'not-the-password' });
  await rejects(wrong.poller.pollOnce(), 'wms-sftp.auth_failed', PermanentError);
});

test('the server down: TransientError; once it is back the same connector recovers', async () => {
  const { sim, hub } = await setup();
  await hub.port.release(release(7));
  await sim.setFaults({ down: true });
  await rejects(hub.port.release(release(8)), 'wms-sftp.connection_failed', TransientError);
  await rejects(hub.poller.pollOnce(), 'wms-sftp.connection_failed', TransientError);
  await sim.setFaults({ down: false });
  await hub.port.release(release(8));
  assert.deepEqual(sim.listFiles(DIRS.toWarehouse), ['ORD_shp-7.csv', 'ORD_shp-8.csv']);
  sim.advance(60);
  const out = await hub.poller.pollOnce();
  assert.deepEqual(out.map((o) => o.outcome), ['archived', 'archived']);
  assert.ok(sim.stats().connections >= 2);
});

test('a missing directory is a permanent not_found, not a retry loop', async () => {
  const { sim } = await setup();
  const profile = resolveFileProfile('csv3pl');
  const client = new SftpClient({ host: sim.host, port: sim.port, username: sim.username, secret: sim.password, hostKeySha256: sim.hostKeySha256, timeoutMs: 5000 });
  open.push({ stop: () => client.close() });
  const poller = new InboundPoller({ profile, transport: client, pool: db.pool, clock: new FakeClock(), remote: { inbound: '/nope', archive: '/nope/a', error: '/nope/e' }, warehouseId: 'loc-3pl' });
  await rejects(poller.pollOnce(), 'wms-sftp.not_found', PermanentError);
});

test('a server that accepts but never answers: wms-sftp.timeout after timeoutMs (transient)', async () => {
  const sockets = new Set<import('node:net').Socket>();
  const silent = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  open.push({
    stop: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => silent.close(() => r()));
    },
  });
  const { port } = silent.address() as AddressInfo;
  const client = new SftpClient({ host: '127.0.0.1', port, username: 'hub', secret: 'x', hostKeySha256: 'SHA256:' + 'A'.repeat(43), timeoutMs: 300 });
  const started = Date.now();
  await rejects(client.list('/'), 'wms-sftp.timeout', TransientError);
  assert.ok(Date.now() - started >= 250);
});
