/**
 * `load(fields, data)` of the Odoo simulator: updates by `.id`, creates without it, string
 * conversion per field type, per-row error messages with all-or-nothing semantics, and the
 * answer's shape over JSON-RPC and XML-RPC.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OdooDatabase } from '../../../simulators/odoo/orm/database.ts';
import { OdooSimulator } from '../../../simulators/odoo/server.ts';

const NOW = new Date('2026-11-24T05:26:57Z');
const fresh = (): OdooDatabase => new OdooDatabase({ name: 'logi', version: 18, now: () => NOW });

interface LoadResult {
  ids: number[] | false;
  messages: Record<string, unknown>[];
  nextrow: number;
}

const load = (db: OdooDatabase, model: string, fields: string[], data: unknown[][], ctx: Record<string, unknown> = {}): LoadResult =>
  db.call(2, model, 'load', [fields, data], { context: ctx }) as LoadResult;

const readOne = (db: OdooDatabase, model: string, id: number, fields: string[]): Record<string, unknown> =>
  (db.call(2, model, 'read', [[id], fields], {}) as Record<string, unknown>[])[0]!;

function newPickings(db: OdooDatabase, n: number): number[] {
  return db.call(2, 'stock.picking', 'create', [Array.from({ length: n }, (_, i) => ({ partner_id: 10, picking_type_id: 2, origin: `L-${i}` }))], {}) as number[];
}

test('rows with a .id update their record, each with its own values, in one call', () => {
  const db = fresh();
  const ids = newPickings(db, 3);
  const r = load(db, 'stock.picking', ['.id', 'carrier_tracking_ref', 'origin'], ids.map((id, k) => [String(id), `TR-${k}`, `O-${k}`]));
  assert.deepEqual(r, { ids, messages: [], nextrow: 0 });
  ids.forEach((id, k) => assert.deepEqual(readOne(db, 'stock.picking', id, ['carrier_tracking_ref', 'origin']), { id, carrier_tracking_ref: `TR-${k}`, origin: `O-${k}` }));
});

test('rows without a .id create records (defaults apply); mixed rows keep their order', () => {
  const db = fresh();
  const [existing] = newPickings(db, 1);
  const r = load(db, 'res.partner', ['.id', 'name', 'city'], [['', 'Load New A', 'Lyon'], [String(10), 'Deco Addict', 'Paris'], [false, 'Load New B', '']]);
  assert.equal(r.messages.length, 0);
  assert.ok(Array.isArray(r.ids) && r.ids.length === 3);
  const [a, ten, b] = r.ids as number[];
  assert.equal(ten, 10);
  assert.ok(a! > 10 && b! > a!);
  assert.deepEqual(readOne(db, 'res.partner', a!, ['name', 'city', 'active']), { id: a, name: 'Load New A', city: 'Lyon', active: true });
  assert.equal(readOne(db, 'res.partner', 10, ['city']).city, 'Paris');
  assert.equal(readOne(db, 'res.partner', b!, ['city']).city, false, 'an empty cell is False');
  assert.ok(existing);
});

test('string values are converted by field type; many2one by database id or by name', () => {
  const db = fresh();
  const [p] = newPickings(db, 1);
  const r = load(db, 'stock.picking', ['.id', 'partner_id/.id', 'scheduled_date', 'priority'], [[String(p), '15', '2026-12-01 08:30:00', '1']]);
  assert.deepEqual(r.messages, []);
  const row = readOne(db, 'stock.picking', p!, ['partner_id', 'scheduled_date', 'priority']);
  assert.deepEqual(row.partner_id, [15, 'Azure Interior']);
  assert.equal(row.scheduled_date, '2026-12-01 08:30:00');
  assert.equal(row.priority, '1');
  // the legacy `partner_id.id` spelling and the name form
  assert.deepEqual(load(db, 'stock.picking', ['.id', 'partner_id.id'], [[p, 10]]).messages, []);
  assert.equal((readOne(db, 'stock.picking', p!, ['partner_id']).partner_id as unknown[])[0], 10);
  assert.deepEqual(load(db, 'stock.picking', ['.id', 'partner_id'], [[p, 'Azure Interior']]).messages, []);
  assert.equal((readOne(db, 'stock.picking', p!, ['partner_id']).partner_id as unknown[])[0], 15);

  const [q] = db.call(2, 'stock.quant', 'search', [[['product_id', '=', 20]]], {}) as number[];
  assert.deepEqual(load(db, 'stock.quant', ['.id', 'inventory_quantity'], [[String(q), '12.5']]).messages, []);
  assert.equal(Number(readOne(db, 'stock.quant', q!, ['inventory_quantity']).inventory_quantity), 12.5);

  const r2 = load(db, 'res.partner', ['.id', 'is_company', 'color'], [['10', 'false', '3'], ['15', 'yes', '']]);
  assert.deepEqual(r2.messages, []);
  assert.deepEqual(readOne(db, 'res.partner', 10, ['is_company', 'color']), { id: 10, is_company: false, color: 3 });
  assert.equal(readOne(db, 'res.partner', 15, ['is_company']).is_company, true);
});

test('a bad selection value: an error message with the row index, and nothing is written', () => {
  const db = fresh();
  const ids = newPickings(db, 3);
  const before = ids.map((id) => readOne(db, 'stock.picking', id, ['carrier_tracking_ref', 'write_date']));
  const r = load(db, 'stock.picking', ['.id', 'carrier_tracking_ref', 'priority'], [[ids[0], 'A', '0'], [ids[1], 'B', 'urgent'], [ids[2], 'C', '1']]);
  assert.equal(r.ids, false);
  assert.equal(r.nextrow, 0);
  assert.deepEqual(r.messages, [{
    rows: { from: 1, to: 1 }, type: 'error', record: 1, field: 'priority',
    message: "Value 'urgent' not found in selection field 'Priority'", moreinfo: ['Normal', 'Urgent'], field_name: 'Priority',
  }]);
  assert.deepEqual(ids.map((id) => readOne(db, 'stock.picking', id, ['carrier_tracking_ref', 'write_date'])), before);
});

test('unknown fields, unknown ids, bad numbers and dates, x2many columns: error messages, rollback', () => {
  const db = fresh();
  const ids = newPickings(db, 2);
  const partners = (db.call(2, 'res.partner', 'search_count', [[]], {}) as number);
  const unknown = load(db, 'res.partner', ['name', 'no_such_field'], [['X', '1']]);
  assert.equal(unknown.ids, false);
  assert.deepEqual(unknown.messages, [{ type: 'error', field: 'no_such_field', message: "Invalid field 'no_such_field' on model 'res.partner'" }]);

  const r = load(db, 'res.partner', ['.id', 'name', 'color'], [['', 'Created then undone', '1'], ['99999', 'Ghost', '1'], ['10', 'Deco', 'red']]);
  assert.equal(r.ids, false);
  assert.deepEqual(r.messages.map((m) => [m.record, m.field, m.message]), [
    [1, '.id', "Unknown database identifier '99999'"],
    [2, 'color', "'red' does not seem to be an integer for field 'Color Index'"],
  ]);
  assert.equal(db.call(2, 'res.partner', 'search_count', [[]], {}), partners, 'the created row is rolled back');

  const d = load(db, 'stock.picking', ['.id', 'scheduled_date'], [[ids[0], '01/12/2026']]);
  assert.match(String(d.messages[0]!.message), /does not seem to be a valid datetime for field 'Scheduled Date'/);
  const x2m = load(db, 'stock.picking', ['.id', 'move_ids'], [[ids[0], '1']]);
  assert.equal(x2m.ids, false);
  assert.match(String(x2m.messages[0]!.message), /not supported/);
});

test('an ORM error in one row (a mandatory field cleared) rolls back the rows written before it', () => {
  const db = fresh();
  const ids = newPickings(db, 2);
  const r = load(db, 'stock.picking', ['.id', 'origin', 'picking_type_id/.id'], [[ids[0], 'FIRST', '2'], [ids[1], 'SECOND', '']]);
  assert.equal(r.ids, false);
  assert.equal(r.messages.length, 1);
  assert.equal(r.messages[0]!.record, 1);
  assert.match(String(r.messages[0]!.message), /mandatory field is not set/);
  assert.equal(readOne(db, 'stock.picking', ids[0]!, ['origin']).origin, 'L-0');
});

test('property: a load of random values lands exactly as per-record writes would', () => {
  fc.assert(fc.property(
    fc.array(fc.record({ ref: fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s.trim() === s), qty: fc.integer({ min: 0, max: 1000 }) }), { minLength: 1, maxLength: 8 }),
    (vals) => {
      const db = fresh();
      const ids = newPickings(db, vals.length);
      const r = load(db, 'stock.picking', ['.id', 'carrier_tracking_ref', 'origin'], ids.map((id, k) => [id, vals[k]!.ref, String(vals[k]!.qty)]));
      assert.deepEqual(r.ids, ids);
      ids.forEach((id, k) => assert.deepEqual(readOne(db, 'stock.picking', id, ['carrier_tracking_ref', 'origin']), { id, carrier_tracking_ref: vals[k]!.ref, origin: String(vals[k]!.qty) }));
    },
  ), { numRuns: 30 });
});

// ------------------------------------------------------------------ over the wire

const sim = await OdooSimulator.start({ version: 18 });
after(() => sim.stop());

const execArgs = (model: string, method: string, args: unknown[]) => ['logi', 2, 'admin', model, method, args, {}];

async function jsonrpc(args: unknown[]): Promise<Record<string, unknown>> {
  const r = await fetch(`${sim.url}/jsonrpc`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'call', params: { service: 'object', method: 'execute_kw', args }, id: 7 }),
  });
  return (await r.json()) as Record<string, unknown>;
}

function xmlValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? `<value><int>${v}</int></value>` : `<value><double>${v}</double></value>`;
  if (typeof v === 'boolean') return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
  if (typeof v === 'string') return `<value><string>${v.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</string></value>`;
  if (Array.isArray(v)) return `<value><array><data>${v.map(xmlValue).join('')}</data></array></value>`;
  const members = Object.entries(v as Record<string, unknown>).map(([k, x]) => `<member><name>${k}</name>${xmlValue(x)}</member>`).join('');
  return `<value><struct>${members}</struct></value>`;
}

async function xmlrpc(args: unknown[]): Promise<string> {
  const body = `<?xml version="1.0"?><methodCall><methodName>execute_kw</methodName><params>${args.map((a) => `<param>${xmlValue(a)}</param>`).join('')}</params></methodCall>`;
  const r = await fetch(`${sim.url}/xmlrpc/2/object`, { method: 'POST', headers: { 'Content-Type': 'text/xml' }, body });
  return r.text();
}

test('over JSON-RPC: {ids, messages, nextrow}; ids false with the messages on error', async () => {
  sim.reset();
  const ok = await jsonrpc(execArgs('res.partner', 'load', [['.id', 'city'], [['10', 'Nice'], ['15', 'Metz']]]));
  assert.deepEqual(ok.result, { ids: [10, 15], messages: [], nextrow: 0 });
  const bad = await jsonrpc(execArgs('stock.picking', 'load', [['.id', 'priority'], [['1', 'x']]]));
  const res = bad.result as LoadResult;
  assert.equal(res.ids, false);
  assert.equal(res.messages[0]!.record, 0);
  assert.equal(res.messages[0]!.type, 'error');
});

test('over XML-RPC: the same answer as a struct, never a <nil/>', async () => {
  sim.reset();
  const ok = await xmlrpc(execArgs('res.partner', 'load', [['.id', 'city'], [['10', 'Nice'], ['15', 'Metz']]]));
  assert.doesNotMatch(ok, /<nil\/>|<fault>/);
  assert.match(ok, /<name>ids<\/name>\s*<value><array><data>\s*<value><int>10<\/int><\/value>\s*<value><int>15<\/int><\/value>/);
  assert.match(ok, /<name>nextrow<\/name>\s*<value><int>0<\/int><\/value>/);
  const bad = await xmlrpc(execArgs('stock.picking', 'load', [['.id', 'priority', 'no_such'], [['1', 'x', '1'], ['99999', '0', '']]]));
  assert.doesNotMatch(bad, /<nil\/>|<fault>/);
  assert.match(bad, /<name>ids<\/name>\s*<value><boolean>0<\/boolean><\/value>/);
  assert.match(bad, /Unknown database identifier/);
});
