import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { OdooSimulator } from '../../../simulators/odoo/server.ts';
import { createOdooClient, NO_RESULT, type OdooClient, type OdooClientConfig } from '../../../src/connectors/odoo/client.ts';
import { OdooGateway, type BreakerEvent, type OdooGatewayOptions, type RetryEvent } from '../../../src/connectors/odoo/gateway.ts';
import { backoffDelay, TokenBucket } from '../../../src/connectors/odoo/gateway-limits.ts';
import { FakeClock } from '../../../src/platform/clock.ts';
import { HubError } from '../../../src/domain/errors.ts';

let sim: OdooSimulator;
const gateways: OdooGateway[] = [];

before(async () => {
  sim = await OdooSimulator.start({ version: 18 });
});
after(async () => {
  for (const g of gateways) g.close();
  await sim.stop();
});
beforeEach(async () => {
  await sim.up();
  sim.reset();
});

function client(o: Partial<OdooClientConfig> = {}): OdooClient {
  return createOdooClient({ url: sim.url, db: 'logi', login: 'admin', secret: 'admin', protocol: 'jsonrpc', timeoutMs: 5000, ...o });
}

function gateway(o: OdooGatewayOptions = {}, c: OdooClient = client()): OdooGateway {
  const g = new OdooGateway(c, { ratePerSecond: Infinity, ...o });
  gateways.push(g);
  return g;
}

const calls = (key: string) => sim.calls.get(key) ?? 0;

/** Delivery orders to write on, created directly (not through the gateway), counters reset after. */
async function pickings(n: number): Promise<number[]> {
  const ids = (await client().call('stock.picking', 'create', [Array.from({ length: n }, (_, i) => ({ partner_id: 10, picking_type_id: 2, origin: `T-${i}` }))])) as number[];
  sim.resetCounters();
  return ids;
}

async function tracking(ids: number[]): Promise<Map<number, unknown>> {
  const rows = (await client().call('stock.picking', 'read', [ids, ['carrier_tracking_ref']])) as { id: number; carrier_tracking_ref: unknown }[];
  return new Map(rows.map((r) => [r.id, r.carrier_tracking_ref]));
}

test('reads: concurrent requests become one read of the union; each caller gets its rows and fields', async () => {
  const g = gateway();
  const [a, b, c, d] = await Promise.all([
    g.read('res.partner', [10], ['name']),
    g.read('res.partner', [9, 10], ['email']),
    g.read('res.partner', [15, 99999], ['name', 'city']),
    g.read('res.partner', [11]),
  ]);
  assert.equal(calls('res.partner.read'), 1);
  assert.deepEqual(a, [{ id: 10, name: 'Deco Addict' }]);
  assert.deepEqual(b, [{ id: 9, email: 'wood.corner26@example.com' }, { id: 10, email: 'deco_addict@example.com' }]);
  assert.deepEqual(c, [{ id: 15, name: 'Azure Interior', city: 'Fremont' }]);
  assert.equal(d.length, 1);
  assert.equal(d[0]!.name, 'Gemini Furniture');
  assert.ok('email' in d[0]! && 'city' in d[0]!, 'a read without fields gets every field');
});

test('reads: requests arriving while the limit is reached wait and are merged', async () => {
  sim.setFaults({ latencyMs: 40 });
  const g = gateway({ concurrency: 1 });
  const first = g.read('res.partner', [10], ['name']);
  await new Promise((r) => setTimeout(r, 15)); // the first read is in flight
  const rest = await Promise.all([9, 11, 12, 14, 15].map((id) => g.read('res.partner', [id], ['name'])));
  await first;
  assert.equal(calls('res.partner.read'), 2);
  assert.deepEqual(rest.map((r) => r[0]!.id), [9, 11, 12, 14, 15]);
});

test('writes: successive writes to a record merge (last value wins per field); identical values are grouped', async () => {
  const ids = await pickings(10);
  const g = gateway({ bulk: 'write' });
  const done: Promise<void>[] = [];
  for (const [k, id] of ids.slice(0, 5).entries()) {
    for (let step = 1; step <= 3; step++) done.push(g.write('stock.picking', id, { carrier_tracking_ref: `TR-${k}-${step}` }));
    done.push(g.write('stock.picking', id, { origin: `O-${k}` }));
  }
  for (const id of ids.slice(5)) done.push(g.write('stock.picking', id, { carrier_tracking_ref: 'SAME' }));
  await Promise.all(done);
  assert.equal(calls('stock.picking.write'), 5 + 1, 'one write per distinct record state, one for the five identical ones');
  const t = await tracking(ids);
  ids.slice(0, 5).forEach((id, k) => assert.equal(t.get(id), `TR-${k}-3`));
  for (const id of ids.slice(5)) assert.equal(t.get(id), 'SAME');
  const rows = (await client().call('stock.picking', 'read', [ids.slice(0, 5), ['origin']])) as { origin: string }[];
  assert.deepEqual(rows.map((r) => r.origin), ['O-0', 'O-1', 'O-2', 'O-3', 'O-4']);
  assert.equal(g.stats.mergedWrites, 15);
});

test('writes: writes queued behind an in-flight write of the record are merged into one more write', async () => {
  const [id] = await pickings(1);
  sim.setFaults({ latencyMs: 50 });
  const g = gateway();
  const first = g.write('stock.picking', id!, { carrier_tracking_ref: 'A' });
  await new Promise((r) => setTimeout(r, 20));
  await Promise.all([first, ...['B', 'C', 'D'].map((v) => g.write('stock.picking', id!, { carrier_tracking_ref: v }))]);
  assert.equal(calls('stock.picking.write'), 2);
  assert.equal((await tracking([id!])).get(id!), 'D');
});

test('writes: a group refused as a whole is retried record by record; only the culprit fails', async () => {
  const ids = await pickings(3);
  const g = gateway();
  const results = await Promise.allSettled([...ids, 999999].map((id) => g.write('stock.picking', id, { carrier_tracking_ref: 'G' })));
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
  const err = (results[3] as PromiseRejectedResult).reason as HubError;
  assert.equal(err.code, 'odoo.missing_record');
  for (const v of (await tracking(ids)).values()) assert.equal(v, 'G');
});

test('creates: the natural key is looked up first; concurrent creates are batched and deduplicated', async () => {
  const g = gateway();
  const first = await g.create('res.partner', { name: 'Key One' }, { naturalKey: { field: 'ref', value: 'EXT-1' } });
  sim.resetCounters();
  const again = await g.create('res.partner', { name: 'Key One (again)' }, { naturalKey: { field: 'ref', value: 'EXT-1' } });
  assert.equal(again, first);
  assert.equal(calls('res.partner.create'), 0);

  sim.resetCounters();
  const many = await Promise.all([
    ...Array.from({ length: 10 }, (_, i) => g.create('res.partner', { name: `Batch ${i}` }, { naturalKey: { field: 'ref', value: `B-${i}` } })),
    g.create('res.partner', { name: 'Batch 0 twice' }, { naturalKey: { field: 'ref', value: 'B-0' } }),
  ]);
  assert.equal(calls('res.partner.create'), 1, 'one create([vals, ...])');
  assert.equal(calls('res.partner.search_read'), 1, 'one look-up for the ten keys');
  assert.equal(new Set(many).size, 10);
  assert.equal(many[10], many[0]);
  const refs = (await client().call('res.partner', 'search_read', [[['ref', '=like', 'B-%']], ['ref']])) as unknown[];
  assert.equal(refs.length, 10);
});

test('creates: the registry is asked first', async () => {
  const g = gateway();
  const id = await g.create('res.partner', { name: 'Known' }, { xref: async () => 44 });
  assert.equal(id, 44);
  assert.equal(calls('res.partner.create'), 0);
});

test('creates: an answer lost after Odoo committed does not produce a duplicate', async () => {
  const g = gateway({ backoff: { baseMs: 20 } });
  sim.setFaults({ dropAfterCommit: { count: 1, match: { method: 'create' } } });
  const id = await g.create('res.partner', { name: 'Lost Answer' }, { naturalKey: { field: 'ref', value: 'LOST-1' } });
  const found = (await client().call('res.partner', 'search', [[['ref', '=', 'LOST-1']]])) as number[];
  assert.deepEqual(found, [id]);
  assert.equal(calls('res.partner.create'), 1);

  // Without a natural key the outcome cannot be known: the create is not repeated.
  sim.setFaults({ dropAfterCommit: { count: 1, match: { method: 'create' } } });
  await assert.rejects(g.create('res.partner', { name: 'No Key' }), (e: HubError) => e.code === 'odoo.unavailable');
  assert.equal(((await client().call('res.partner', 'search', [[['name', '=', 'No Key']]])) as number[]).length, 1);
});

test('serialization failures are retried with backoff until the write lands', async () => {
  const [id] = await pickings(1);
  const g = gateway({ backoff: { baseMs: 10 } });
  const retries: RetryEvent[] = [];
  g.on('retry', (e) => retries.push(e));
  sim.setFaults({ serializationFailures: { count: 2, match: { method: 'write' } } });
  await g.write('stock.picking', id!, { carrier_tracking_ref: 'SER' });
  assert.equal(calls('stock.picking.write'), 3);
  assert.deepEqual(retries.map((r) => r.code), ['odoo.serialization_failure', 'odoo.serialization_failure']);
  assert.ok(retries.every((r) => r.delayMs >= 5 && r.delayMs <= 20), 'backoff from a 10 ms base');
  assert.equal((await tracking([id!])).get(id!), 'SER');
});

test('a write whose answer timed out is read back: already applied means done, not written twice', async () => {
  const [id] = await pickings(1);
  const g = gateway({ backoff: { baseMs: 10 } }, client({ timeoutMs: 300 }));
  sim.setFaults({ slow: { count: 1, ms: 700, match: { method: 'write' } } });
  await g.write('stock.picking', id!, { carrier_tracking_ref: 'SLOW' });
  assert.equal(calls('stock.picking.write'), 1);
  assert.equal(calls('stock.picking.read'), 1);
  assert.equal((await tracking([id!])).get(id!), 'SLOW');
});

test('session expiry mid-stream (web session): the client logs in again, nothing is lost', async () => {
  const ids = await pickings(20);
  const g = gateway({ backoff: { baseMs: 10 } }, client({ protocol: 'web' }));
  await Promise.all(ids.slice(0, 10).map((id) => g.write('stock.picking', id, { carrier_tracking_ref: `W1-${id}` })));
  sim.setFaults({ expireSessions: true });
  await Promise.all(ids.map((id) => g.write('stock.picking', id, { carrier_tracking_ref: `W2-${id}` })));
  sim.setFaults({ expireSessions: true });
  await Promise.all(ids.slice(10).map((id) => g.write('stock.picking', id, { carrier_tracking_ref: `W3-${id}` })));
  const t = await tracking(ids);
  for (const id of ids) assert.equal(t.get(id), ids.indexOf(id) < 10 ? `W2-${id}` : `W3-${id}`);
  // one login, then after each expiry at most one per call in flight (the client re-logs in per call)
  const logins = calls('web.session.authenticate');
  assert.ok(logins >= 3 && logins <= 1 + 2 * 4, `${logins} logins`);
});

test('never more calls in flight than the limit', async () => {
  const ids = await pickings(40);
  let inFlight = 0;
  let peak = 0;
  const counting: typeof fetch = async (input, init) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    try {
      return await fetch(input, init);
    } finally {
      inFlight--;
    }
  };
  sim.setFaults({ latencyMs: 20 });
  const g = gateway({ concurrency: 4, bulk: 'write' }, client({ fetch: counting }));
  await Promise.all(ids.map((id) => g.write('stock.picking', id, { carrier_tracking_ref: `C-${id}` })));
  assert.equal(calls('stock.picking.write'), 40);
  assert.equal(peak, 4);
  assert.equal(g.stats.maxInFlight, 4);
});

test('the breaker opens while Odoo is down, sends nothing, and resumes without loss', async () => {
  const ids = await pickings(30);
  const g = gateway({ backoff: { baseMs: 20, maxMs: 100 }, breaker: { threshold: 3, coolDownMs: 200, maxCoolDownMs: 400 } });
  const events: BreakerEvent[] = [];
  g.on('breaker', (e) => events.push(e));
  await sim.goDown(1500);
  const opened = once(g, 'breaker');
  const done = Promise.all(ids.map((id) => g.write('stock.picking', id, { carrier_tracking_ref: `B-${id}` })));
  await opened;
  assert.equal(g.breakerState, 'open');
  const sentWhenOpen = g.stats.sent - (g.stats.calls['common.version'] ?? 0);
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(g.stats.sent - (g.stats.calls['common.version'] ?? 0), sentWhenOpen, 'only probes while open');
  assert.ok(g.backlog >= 30);
  await done;
  const states = events.map((e) => e.state);
  assert.equal(states[0], 'open');
  assert.ok(states.includes('half-open'));
  assert.equal(states.at(-1), 'closed');
  const t = await tracking(ids);
  for (const id of ids) assert.equal(t.get(id), `B-${id}`);
  assert.equal(g.breakerState, 'closed');
});

test('methods returning None count as done after the verifying re-read (XML-RPC and JSON-RPC)', async () => {
  for (const protocol of ['xmlrpc', 'jsonrpc'] as const) {
    sim.reset();
    const c = client({ protocol });
    const [q] = (await c.call('stock.quant', 'search', [[['product_id', '=', 20]]])) as number[];
    await c.call('stock.quant', 'write', [[q], { inventory_quantity: 40 }]);
    const g = gateway({}, c);
    const verify = async () => {
      const [row] = await g.read('stock.quant', [q!], ['quantity']);
      return row!.quantity === 40;
    };
    assert.equal(await g.callMethod('stock.quant', 'action_apply_inventory', [q!], {}, { returnsNone: true, verify }), NO_RESULT, protocol);
  }
});

test('backoff grows exponentially with jitter; the breaker cool-down doubles (fake clock)', async () => {
  const clock = new FakeClock();
  const slept: number[] = [];
  const sleep = async (ms: number) => {
    slept.push(ms);
    clock.advance(ms);
    await new Promise((r) => setImmediate(r));
  };
  const g = gateway({ clock, sleep, random: () => 0.5, backoff: { baseMs: 1000, maxMs: 8000 }, breaker: { threshold: 4, coolDownMs: 1000, maxCoolDownMs: 4000 } });
  const retries: number[] = [];
  const breaker: BreakerEvent[] = [];
  g.on('retry', (e) => retries.push(e.delayMs));
  g.on('breaker', (e) => {
    breaker.push(e);
    if (breaker.filter((b) => b.state === 'half-open').length === 4) void sim.up();
  });
  await sim.goDown(60_000);
  const rows = await g.read('res.partner', [10], ['name']);
  assert.deepEqual(rows, [{ id: 10, name: 'Deco Addict' }]);
  // 1000·2^(n-1), jitter at 0.5 → 3/4 of it.
  assert.deepEqual(retries.slice(0, 3), [750, 1500, 3000]);
  assert.deepEqual(breaker.filter((b) => b.state === 'open').map((b) => b.coolDownMs), [1000, 2000, 4000, 4000]);
  assert.equal(breaker.at(-1)!.state, 'closed');
  assert.equal(backoffDelay(10, { baseMs: 100, maxMs: 5000 }, () => 0), 2500);
  assert.equal(backoffDelay(10, { baseMs: 100, maxMs: 5000 }, () => 0.999999), 5000);
});

test('the token bucket spaces calls at the configured rate (fake clock)', async () => {
  const clock = new FakeClock();
  const start = clock.now().getTime();
  const bucket = new TokenBucket({ ratePerSecond: 10, burst: 2, clock, sleep: async (ms) => void clock.advance(ms) });
  for (let i = 0; i < 12; i++) await bucket.take();
  assert.equal(clock.now().getTime() - start, 1000, '2 at once, then 10 at 100 ms intervals');
});

// ------------------------------------------------------------------ bulk updates through load

/** A fetch that keeps the JSON-RPC `execute_kw` arguments of every `load` it sends. */
function recordingLoads(into: unknown[][]): typeof fetch {
  return async (input, init) => {
    const body = typeof init?.body === 'string' ? init.body : '';
    if (body.includes('"load"')) {
      const args = (JSON.parse(body) as { params: { args: unknown[] } }).params.args;
      into.push(args.slice(5, 6)[0] as unknown[]);
    }
    return fetch(input, init);
  };
}

test('load: different values for N records go out as one load call; identical values keep their write', async () => {
  const ids = await pickings(30);
  const g = gateway();
  const done: Promise<void>[] = [];
  for (const [k, id] of ids.slice(0, 25).entries()) {
    done.push(g.write('stock.picking', id, { carrier_tracking_ref: `L-${k}-a` }));
    done.push(g.write('stock.picking', id, { carrier_tracking_ref: `L-${k}`, origin: `O-${k}` }));
  }
  for (const id of ids.slice(25)) done.push(g.write('stock.picking', id, { carrier_tracking_ref: 'SAME', origin: 'SAME' }));
  await Promise.all(done);
  assert.equal(calls('stock.picking.load'), 1, 'one load for the 25 records with their own values');
  assert.equal(calls('stock.picking.write'), 1, 'one write for the five identical ones');
  assert.equal(calls('stock.picking.fields_get'), 1, 'the field types, asked once');
  assert.deepEqual(g.stats.batches.load, 1);
  const rows = (await client().call('stock.picking', 'read', [ids, ['carrier_tracking_ref', 'origin']])) as { id: number; carrier_tracking_ref: string; origin: string }[];
  const byId = new Map(rows.map((r) => [r.id, r]));
  ids.slice(0, 25).forEach((id, k) => assert.deepEqual([byId.get(id)!.carrier_tracking_ref, byId.get(id)!.origin], [`L-${k}`, `O-${k}`]));
  for (const id of ids.slice(25)) assert.deepEqual([byId.get(id)!.carrier_tracking_ref, byId.get(id)!.origin], ['SAME', 'SAME']);

  // maxBatch bounds the rows of one load.
  sim.resetCounters();
  const g2 = gateway({ maxBatch: 10 });
  await Promise.all(ids.map((id) => g2.write('stock.picking', id, { carrier_tracking_ref: `M-${id}` })));
  assert.equal(calls('stock.picking.load'), 3);
  assert.equal(calls('stock.picking.write'), 0);
  for (const [id, v] of await tracking(ids)) assert.equal(v, `M-${id}`);
});

test('load: integers, floats, many2one ids, selections, datetimes and a cleared field land as a write would put them', async () => {
  const ids = await pickings(3);
  const g = gateway();
  const when = ['2026-12-01 08:00:00', '2026-12-02 09:30:00', '2026-12-03 10:45:00'];
  await Promise.all(ids.map((id, k) => g.write('stock.picking', id, { partner_id: [10, 15, 44][k], scheduled_date: when[k], priority: k === 1 ? '1' : '0', origin: k === 2 ? false : `R-${k}` })));
  assert.equal(calls('stock.picking.load'), 1);
  const rows = (await client().call('stock.picking', 'read', [ids, ['partner_id', 'scheduled_date', 'priority', 'origin']], { load: null })) as Record<string, unknown>[];
  assert.deepEqual(rows.map((r) => [r.partner_id, r.scheduled_date, r.priority, r.origin]), [
    [10, when[0], '0', 'R-0'], [15, when[1], '1', 'R-1'], [44, when[2], '0', false],
  ]);
  sim.resetCounters();
  const [q1, q2] = (await client().call('stock.quant', 'search', [[]], { limit: 2 })) as number[];
  await Promise.all([g.write('stock.quant', q1!, { inventory_quantity: 7.25 }), g.write('stock.quant', q2!, { inventory_quantity: 3 })]);
  assert.equal(calls('stock.quant.load'), 1);
  const qs = (await client().call('stock.quant', 'read', [[q1, q2], ['inventory_quantity']])) as { inventory_quantity: number }[];
  assert.deepEqual(qs.map((q) => q.inventory_quantity), [7.25, 3]);
});

test('load: a bad row makes Odoo refuse the load; the others land, the culprit fails alone with the business error', async () => {
  const ids = await pickings(6);
  const g = gateway();
  const results = await Promise.allSettled([...ids, 999999].map((id, k) => g.write('stock.picking', id, { carrier_tracking_ref: `E-${k}` })));
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
  assert.equal(((results[6] as PromiseRejectedResult).reason as HubError).code, 'odoo.missing_record');
  const t = await tracking(ids);
  ids.forEach((id, k) => assert.equal(t.get(id), `E-${k}`));
  assert.equal(calls('stock.picking.load'), 2, 'the refused load, then the clean rows again');
  assert.equal(calls('stock.picking.write'), 1, 'the culprit alone');

  // A bad selection value: the same isolation, the write's ValueError reaches the caller.
  sim.resetCounters();
  const bad = await Promise.allSettled(ids.map((id, k) => g.write('stock.picking', id, { carrier_tracking_ref: `S-${k}`, priority: k === 2 ? 'urgent' : '1' })));
  assert.deepEqual(bad.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
  assert.match(String(((bad[2] as PromiseRejectedResult).reason as HubError).message), /Wrong value for stock.picking.priority: 'urgent'/);
  const after = await tracking(ids);
  ids.forEach((id, k) => assert.equal(after.get(id), k === 2 ? 'E-2' : `S-${k}`));
});

test('load: an answer lost after Odoo committed is read back; only records not at their values are sent again', async () => {
  const ids = await pickings(5);
  const loads: unknown[][] = [];
  const g = gateway({ backoff: { baseMs: 400 }, random: () => 0.99 }, client({ fetch: recordingLoads(loads) }));
  sim.setFaults({ dropAfterCommit: { count: 1, match: { method: 'load' } } });
  const done = Promise.all(ids.map((id, k) => g.write('stock.picking', id, { carrier_tracking_ref: `D-${k}` })));
  // While the gateway backs off, someone else changes one record back.
  while (calls('stock.picking.load') < 1) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 20));
  await client().call('stock.picking', 'write', [[ids[3]], { carrier_tracking_ref: 'OTHER' }]);
  await done;
  assert.equal(calls('stock.picking.load'), 2);
  assert.equal(calls('stock.picking.read'), 1);
  assert.equal(g.stats.rewrites, 1);
  assert.equal((loads[1]![1] as unknown[]).length, 1, 'the second load carries the one record not at its value');
  assert.deepEqual((loads[1]![1] as unknown[][])[0], [String(ids[3]), 'D-3']);
  const t = await tracking(ids);
  ids.forEach((id, k) => assert.equal(t.get(id), `D-${k}`));

  // Everything already there: the read-back settles it, nothing is sent again.
  sim.resetCounters();
  sim.setFaults({ dropAfterCommit: { count: 1, match: { method: 'load' } } });
  await Promise.all(ids.map((id, k) => g.write('stock.picking', id, { carrier_tracking_ref: `F-${k}` })));
  assert.equal(calls('stock.picking.load'), 1);
  assert.equal(calls('stock.picking.read'), 1);
  for (const [id, v] of await tracking(ids)) assert.equal(v, `F-${ids.indexOf(id)}`);
});

test("load: bulk 'write' keeps one write per distinct values; x2many values never go through load", async () => {
  const ids = await pickings(4);
  const g = gateway({ bulk: 'write' });
  await Promise.all(ids.map((id, k) => g.write('stock.picking', id, { carrier_tracking_ref: `W-${k}` })));
  assert.equal(calls('stock.picking.load'), 0);
  assert.equal(calls('stock.picking.write'), 4);
  sim.resetCounters();
  const g2 = gateway();
  await Promise.all(ids.map((id, k) => g2.write('stock.picking', id, { carrier_tracking_ref: `X-${k}`, move_ids: [] })));
  assert.equal(calls('stock.picking.load'), 0);
  assert.equal(calls('stock.picking.write'), 4);
});
