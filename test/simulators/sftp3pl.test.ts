/**
 * The CSV-3PL simulator as a partner meets it: SFTP semantics over a real ssh2 connection
 * (atomic rename that never replaces, missing files, large transfers), the warehouse over
 * simulated time (acknowledgement, short picks, nothing in stock, unknown SKU, duplicate
 * order files, unreadable files, files still being written, cancellation after shipping,
 * stock snapshots), the administration endpoint, and main.ts printing READY.
 */
import { after, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FakeClock } from '../../src/platform/clock.ts';
import { SftpClient } from '../../src/connectors/wms-sftp/client.ts';
import { parseCsv, writeCsv } from '../../src/connectors/wms-sftp/csv.ts';
import { HubError } from '../../src/domain/errors.ts';
import { DIRS, Sftp3plSimulator } from '../../simulators/sftp3pl/server.ts';

const clock = new FakeClock('2026-03-04T08:00:00Z');
const sim = await Sftp3plSimulator.start({ clock, stock: { A: 10, B: 1, Z: 0 }, acceptDelaySeconds: 30, pickSeconds: 60, packSeconds: 60, shipSeconds: 60 });
const client = new SftpClient({ host: sim.host, port: sim.port, username: sim.username, secret: sim.password, hostKeySha256: sim.hostKeySha256, timeoutMs: 5000 });
after(async () => {
  await client.close();
  await sim.stop();
});
beforeEach(() => sim.reset());

const ORDER_COLUMNS = ['order_ref', 'client_order', 'ship_to_name', 'ship_to_address1', 'ship_to_city', 'ship_to_country', 'service_level', 'line_no', 'line_ref', 'sku', 'quantity', 'uom'];
const orderFile = (ref: string, lines: [string, number][]) =>
  writeCsv(ORDER_COLUMNS, lines.map(([sku, q], i) => ({ order_ref: ref, client_order: `c-${ref}`, ship_to_name: 'N', ship_to_address1: 'S 1', ship_to_city: 'C', ship_to_country: 'NL', line_no: i + 1, line_ref: `l${i + 1}`, sku, quantity: q, uom: 'EA' })));

function rowsOf(kind: string): Record<string, string>[] {
  return sim
    .listFiles(DIRS.fromWarehouse)
    .filter((n) => n.startsWith(`${kind}_`))
    .flatMap((n) => parseCsv(sim.readFile(`${DIRS.fromWarehouse}/${n}`)!, n).records.map((r) => r.values));
}

test('SFTP semantics: rename never replaces, missing files, large files, directories listed', async () => {
  assert.equal(await client.putAtomic('/to-3pl/x.txt', 'one', '.tmp'), 'written');
  assert.equal(await client.putAtomic('/to-3pl/x.txt', 'two', '.tmp'), 'exists');
  assert.equal(sim.readFile('/to-3pl/x.txt')!.toString(), 'one');
  sim.putFile('/to-3pl/y.txt', 'y');
  await assert.rejects(client.rename('/to-3pl/y.txt', '/to-3pl/x.txt'), (e: unknown) => e instanceof HubError && e.code === 'wms-sftp.failure');
  await assert.rejects(client.get('/to-3pl/none.csv'), (e: unknown) => e instanceof HubError && e.code === 'wms-sftp.not_found');
  assert.equal(await client.exists('/to-3pl/none.csv'), false);
  const root = await client.list('/from-3pl');
  assert.deepEqual(root.filter((e) => e.isDirectory).map((e) => e.name).sort(), ['archive', 'error']);
  const big = Buffer.alloc(200_000, 'x');
  await client.putAtomic('/to-3pl/big.bin', big, '.tmp');
  assert.ok((await client.get('/to-3pl/big.bin')).equals(big));
  await client.remove('/to-3pl/big.bin');
  assert.equal(await client.exists('/to-3pl/big.bin'), false);
});

test('the warehouse over time: acknowledged, picked short, packed, waiting for labels, shipped', () => {
  sim.putFile('/to-3pl/ORD_s1.csv', orderFile('s1', [['A', 3], ['B', 4]]));
  sim.putFile('/to-3pl/ORD_s2.csv.tmp', 'order_ref,clie');
  sim.advance(29);
  assert.deepEqual(sim.stats().pickedUp, ['ORD_s1.csv'], 'a file still named .tmp is left alone');
  assert.deepEqual(rowsOf('ACK'), []);
  sim.advance(1);
  assert.deepEqual(rowsOf('ACK').map((r) => [r.order_ref, r.status, r.event_time]), [['s1', 'ACCEPTED', '2026-03-04 08:00:30']]);
  sim.advance(60);
  assert.deepEqual(rowsOf('PCK').map((r) => [r.line_ref, r.ordered_qty, r.picked_qty]), [['l1', '3', '3'], ['l2', '4', '1']]);
  assert.deepEqual(sim.stock, { A: 7, B: 0, Z: 0 });
  const stk = sim.listFiles(DIRS.stock);
  assert.equal(stk.length, 1, 'one snapshot, the latest');
  assert.deepEqual(parseCsv(sim.readFile(`${DIRS.stock}/${stk[0]}`)!, stk[0]!).records.map((r) => [r.values.sku, r.values.available]), [['A', '7'], ['B', '0'], ['Z', '0']]);
  sim.advance(60);
  assert.deepEqual(rowsOf('PAK').map((r) => [r.package_id, r.sku, r.quantity, r.weight_kg]), [['3PL-000001-1', 'A', '3', '1.8'], ['3PL-000001-1', 'B', '1', '1.8']]);
  sim.advance(3600);
  assert.equal(sim.orders.get('s1')!.state, 'packed', 'no shipping without labels');
  sim.putFile('/to-3pl/LBL_s1.csv', writeCsv(['order_ref', 'carrier', 'service_level', 'master_tracking', 'package_id', 'tracking_number', 'label_format', 'label_url'], [{ order_ref: 's1', carrier: 'dhl', service_level: 'express', master_tracking: 'JD1', package_id: 'p1', tracking_number: 'JD1', label_format: 'PDF', label_url: 'https://l/1' }]));
  sim.advance(60);
  assert.deepEqual(rowsOf('SHP').map((r) => [r.carrier, r.tracking_number, r.shipped_at]), [['dhl', 'JD1', '2026-03-04 09:03:30']]);
  sim.putFile('/to-3pl/CAN_s1.csv', writeCsv(['order_ref', 'client_order', 'reason', 'requested_at'], [{ order_ref: 's1', client_order: 'c-s1', reason: 'late', requested_at: '' }]));
  sim.advance(0);
  assert.deepEqual(rowsOf('CXL').map((r) => [r.status, r.reason]), [['REFUSED', 'order already shipped']]);
  assert.deepEqual(sim.listFiles(DIRS.processed), ['CAN_s1.csv', 'LBL_s1.csv', 'ORD_s1.csv']);
});

test('refusals: an unknown SKU is rejected, nothing in stock cancels, a duplicate order file is ignored, an unreadable file is set aside', () => {
  sim.putFile('/to-3pl/ORD_u.csv', orderFile('u', [['NOPE', 1]]));
  sim.putFile('/to-3pl/ORD_z.csv', orderFile('z', [['Z', 2]]));
  sim.putFile('/to-3pl/ORD_bad.csv', 'order_ref,sku\r\n"unclosed\r\n');
  sim.advance(0);
  sim.putFile('/to-3pl/ORD_z.csv', orderFile('z', [['A', 1]]));
  sim.advance(200);
  assert.deepEqual(rowsOf('ACK').map((r) => [r.order_ref, r.status, r.reason]), [['u', 'REJECTED', 'unknown SKU NOPE'], ['z', 'ACCEPTED', '']]);
  assert.deepEqual(rowsOf('CXL').map((r) => [r.order_ref, r.status, r.reason]), [['z', 'CANCELLED', 'nothing in stock']]);
  assert.deepEqual(sim.stats().duplicates, ['ORD_z.csv']);
  assert.deepEqual(sim.stats().unreadable, ['ORD_bad.csv']);
  assert.deepEqual(sim.listFiles(DIRS.rejected), ['ORD_bad.csv']);
  assert.equal(sim.listFiles(DIRS.processed).filter((n) => n.startsWith('ORD_z.csv')).length, 2);
});

test('the administration endpoint: stats, files, advance, stock, faults, reset', async () => {
  const call = async (method: string, path: string, body?: string) => {
    const r = await fetch(`${sim.adminUrl}${path}`, { method, ...(body !== undefined ? { body } : {}) });
    return { status: r.status, text: await r.text() };
  };
  assert.equal((await call('PUT', `/__sim/files?path=${encodeURIComponent('/to-3pl/ORD_h.csv')}`, orderFile('h', [['A', 1]]))).status, 201);
  assert.equal((await call('POST', '/__sim/advance', JSON.stringify({ seconds: 30 }))).status, 200);
  const listing = JSON.parse((await call('GET', '/__sim/files?dir=/from-3pl')).text) as { files: string[] };
  assert.equal(listing.files.length, 1);
  assert.match((await call('GET', `/__sim/files?path=/from-3pl/${listing.files[0]}`)).text, /^order_ref,client_order,wms_order_id,status,reason,event_time\r\nh,c-h,3PL-000001,ACCEPTED,/);
  assert.deepEqual(JSON.parse((await call('POST', '/__sim/stock', JSON.stringify({ A: 99 }))).text).stock.A, 99);
  const stats = JSON.parse((await call('GET', '/__sim/stats')).text);
  assert.deepEqual(stats.orders, [{ ref: 'h', state: 'accepted', wmsOrderId: '3PL-000001' }]);
  assert.equal((await call('POST', '/__sim/faults', JSON.stringify({ down: true }))).status, 200);
  const down = new SftpClient({ host: sim.host, port: sim.port, username: sim.username, secret: sim.password, hostKeySha256: sim.hostKeySha256, timeoutMs: 5000 });
  await assert.rejects(down.list('/'), (e: unknown) => e instanceof HubError && e.code === 'wms-sftp.connection_failed' && e.errorClass === 'transient');
  await call('POST', '/__sim/faults', JSON.stringify({ down: false }));
  assert.ok((await down.list('/')).length >= 3);
  await down.close();
  await call('POST', '/__sim/reset');
  assert.deepEqual(JSON.parse((await call('GET', '/__sim/stats')).text).orders, []);
  assert.equal((await call('GET', '/__sim/nothing')).status, 404);
});

test('main.ts prints READY with the URL and the host key to pin', async () => {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../../simulators/sftp3pl/main.ts', import.meta.url))], { env: { ...process.env, PORT: '0', SFTP_TICK_SECONDS: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  child.kill('SIGTERM');
  assert.match(line, /^READY sftp:\/\/127\.0\.0\.1:\d+ \(CSV-3PL over SFTP; user hub; host key SHA256:[A-Za-z0-9+/]{43};/);
});
