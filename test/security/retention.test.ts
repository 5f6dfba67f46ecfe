import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { freshDatabase } from '../helpers/db.ts';
import { EXAMPLE_EVENT_DATA } from '../../src/domain/examples.ts';
import { HubError, redactEventData } from '../../src/domain/index.ts';
import { FakeClock } from '../../src/platform/clock.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { verifyAudit } from '../../src/security/audit.ts';
import { ANONYMISED, RetentionJob, lastRetentionRun, runRetention } from '../../src/security/retention.ts';

const db = await freshDatabase({ poolSize: 8 });
await db.pool.query(`insert into hub_tenants (id, name) values ('acme', 'Acme') on conflict do nothing`);

const DAY = 86_400_000;
const clock = new FakeClock('2026-06-01T00:00:00Z');
const old = new Date(clock.now().getTime() - 120 * DAY); // well past 90 days
const recent = new Date(clock.now().getTime() - 10 * DAY);

const lines: string[] = [];
const log = createLogger('info', {}, new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }));
const job = new RetentionJob({ pool: db.pool, config: { piiDays: 90, intervalMinutes: 60 }, clock, log });

let n = 0;
async function event(tenantId: string, type: string, data: unknown, receivedAt: Date): Promise<number> {
  const r = await db.pool.query(`insert into hub_events (tenant_id, source, id, type, key, received_at, data) values ($1, 'urn:test', $2, $3, $4, $5, $6) returning seq`, [
    tenantId, `e-${++n}`, type, `K-${n}`, receivedAt, data === null ? null : JSON.stringify(data),
  ]);
  return r.rows[0].seq;
}
async function receipt(tenantId: string, body: string, receivedAt: Date): Promise<number> {
  const r = await db.pool.query(
    `insert into hub_webhook_receipts (tenant_id, partner, webhook_id, received_at, content_type, body_sha256, body) values ($1, 'shopify', $2, $3, 'application/json', sha256($4::bytea), $4::bytea) returning id`,
    [tenantId, `wh-${++n}`, receivedAt, Buffer.from(body)],
  );
  return r.rows[0].id;
}
const row = async (seq: number) => (await db.pool.query(`select data, anonymised_at from hub_events where seq = $1`, [seq])).rows[0] as { data: unknown; anonymised_at: Date | null };
const retentionAudit = async () =>
  (await db.pool.query(`select tenant_id, actor, at, details from hub_audit where action = 'retention.ran' order by seq`)).rows as { tenant_id: string; actor: string; at: Date; details: Record<string, unknown> }[];

const order = EXAMPLE_EVENT_DATA['order.created.v1'];
const delivered = EXAMPLE_EVENT_DATA['shipment.delivered.v1'];
const party = EXAMPLE_EVENT_DATA['party.upserted.v1'];
const PERSONAL = ['Deco Addict', '77 Santa Barbara Rd', 'Brandon Freeman', '+16039963829', 'brandon.freeman55@example.com', 'deco.addict82@example.com'];

const seqs = {
  oldOrder: await event('default', 'order.created.v1', order, old),
  oldDelivered: await event('acme', 'shipment.delivered.v1', delivered, old),
  oldParty: await event('acme', 'party.upserted.v1', party, old),
  oldUnknown: await event('default', 'legacy.customer.v1', { customer: 'Brandon Freeman', total: 12 }, old),
  oldNoData: await event('default', 'order.paid.v1', null, old),
  recentOrder: await event('default', 'order.created.v1', order, recent),
};
const receipts = {
  old: await receipt('acme', JSON.stringify({ customer: { email: 'brandon.freeman55@example.com' } }), old),
  recent: await receipt('acme', '{"recent":true}', recent),
};

test('old events are anonymised: no personal value left, non-personal fields intact, anonymised_at set; recent ones untouched', async () => {
  const outcome = await job.runOnce();
  assert.equal(outcome.ran, true);
  const result = outcome.ran ? outcome.result : undefined;
  assert.deepEqual(result, {
    cutoff: new Date('2026-03-03T00:00:00Z'),
    dryRun: false,
    byTenant: { default: { events: 3, webhookBodies: 0 }, acme: { events: 2, webhookBodies: 1 } },
    events: 5,
    webhookBodies: 1,
  });

  const o = await row(seqs.oldOrder);
  const text = JSON.stringify(o.data);
  for (const v of PERSONAL) assert.ok(!text.includes(v), `"${v}" left in ${text}`);
  assert.deepEqual(o.data, redactEventData('order.created.v1', order, ANONYMISED));
  const d = o.data as typeof order;
  assert.equal(d.orderId, 'ord-S00065');
  assert.equal(d.shipTo.name, ANONYMISED);
  assert.deepEqual(d.shipTo.address.lines, [ANONYMISED]);
  assert.equal(d.shipTo.address.city, 'Pleasant Hill');
  assert.equal(d.shipTo.contact!.email, ANONYMISED);
  assert.deepEqual(d.lines, order.lines);
  assert.deepEqual(d.totals, order.totals);
  assert.deepEqual(o.anonymised_at, clock.now());

  const dl = (await row(seqs.oldDelivered)).data as typeof delivered;
  assert.equal(delivered.receivedBy, 'B. FREEMAN');
  assert.equal(dl.receivedBy, ANONYMISED);
  assert.deepEqual([dl.shipmentId, dl.trackingNumber, dl.deliveredAt], [delivered.shipmentId, delivered.trackingNumber, delivered.deliveredAt]);
  const p = (await row(seqs.oldParty)).data as typeof party;
  assert.equal(p.name, ANONYMISED);
  assert.equal(p.vatNumber, party.vatNumber);
  assert.deepEqual(p.roles, party.roles);

  assert.equal((await row(seqs.oldUnknown)).data, ANONYMISED, 'an unknown type has no schema: its whole payload is withheld');
  const nodata = await row(seqs.oldNoData);
  assert.equal(nodata.data, null);
  assert.deepEqual(nodata.anonymised_at, clock.now());

  const r = await row(seqs.recentOrder);
  assert.deepEqual(r.data, order);
  assert.equal(r.anonymised_at, null);

  const rc = (await db.pool.query(`select id, body, body_sha256 = sha256(convert_to($2, 'utf8')) as digest_kept from hub_webhook_receipts where id = any($1::bigint[]) order by id`, [
    [receipts.old, receipts.recent], JSON.stringify({ customer: { email: 'brandon.freeman55@example.com' } }),
  ])).rows;
  assert.equal(rc[0].body, null);
  assert.equal(rc[0].digest_kept, true);
  assert.equal(rc[1].body.toString(), '{"recent":true}');

  assert.deepEqual(await retentionAudit(), [
    { tenant_id: 'acme', actor: 'system:retention', at: clock.now(), details: { piiDays: 90, cutoff: '2026-03-03T00:00:00.000Z', events: 2, webhookBodies: 1 } },
    { tenant_id: 'default', actor: 'system:retention', at: clock.now(), details: { piiDays: 90, cutoff: '2026-03-03T00:00:00.000Z', events: 3, webhookBodies: 0 } },
  ]);
  assert.equal((await verifyAudit(db.pool)).broken, undefined);
  const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'retention job ran: personal data anonymised');
  assert.deepEqual([logged?.events, logged?.webhookBodies, logged?.cutoff], [5, 1, '2026-03-03T00:00:00.000Z']);
});

test('a second run changes nothing and records that it ran, in the default tenant', async () => {
  const before = (await db.pool.query(`select seq, data, anonymised_at from hub_events order by seq`)).rows;
  assert.deepEqual(await job.runOnce(), { ran: false, reason: 'not_due' }, 'the audit trail shows a run just now');
  clock.advance(61 * 60_000);
  const outcome = await job.runOnce();
  assert.ok(outcome.ran);
  assert.deepEqual([outcome.result.events, outcome.result.webhookBodies, outcome.result.byTenant], [0, 0, {}]);
  assert.deepEqual((await db.pool.query(`select seq, data, anonymised_at from hub_events order by seq`)).rows, before);
  const last = (await retentionAudit()).at(-1)!;
  assert.deepEqual([last.tenant_id, last.details.events, last.details.webhookBodies], ['default', 0, 0]);
  assert.deepEqual(await lastRetentionRun(db.pool), clock.now());
  assert.equal((await verifyAudit(db.pool)).broken, undefined);
});

test('the recent events fall due as time passes', async () => {
  clock.advance(81 * DAY); // received 10 days before the start: now 91 days old
  const outcome = await job.runOnce();
  assert.ok(outcome.ran);
  assert.deepEqual(outcome.result.byTenant, { default: { events: 1, webhookBodies: 0 }, acme: { events: 0, webhookBodies: 1 } });
  assert.deepEqual((await row(seqs.recentOrder)).anonymised_at, clock.now());
});

test('dry run: counts what is due, changes nothing, records nothing', async () => {
  const s1 = await event('acme', 'order.created.v1', order, new Date(clock.now().getTime() - 100 * DAY));
  const s2 = await event('acme', 'order.created.v1', order, new Date(clock.now().getTime() - 2 * DAY));
  const audits = (await retentionAudit()).length;
  const dry = await runRetention(db.pool, { piiDays: 90, now: clock.now(), actor: 'cli:ops', dryRun: true });
  assert.deepEqual([dry.dryRun, dry.events, dry.webhookBodies, dry.byTenant], [true, 1, 0, { acme: { events: 1, webhookBodies: 0 } }]);
  assert.deepEqual((await row(s1)).data, order);
  assert.equal((await retentionAudit()).length, audits);
  // a shorter retention makes the newer one due too
  const short = await runRetention(db.pool, { piiDays: 1, now: clock.now(), actor: 'cli:ops', dryRun: true });
  assert.equal(short.events, 2);
  assert.ok(s2 > s1);
  await assert.rejects(runRetention(db.pool, { piiDays: 0, now: clock.now(), actor: 'cli:ops' }), (e: unknown) => e instanceof HubError && e.code === 'retention.bad_days');
});

test('in batches, also with two runs at once: every due event is anonymised exactly once', async () => {
  const due = new Date(clock.now().getTime() - 200 * DAY);
  for (let i = 0; i < 45; i++) await event(i % 2 ? 'acme' : 'default', 'party.upserted.v1', party, due);
  const pending = Number((await db.pool.query(`select count(*) from hub_events where anonymised_at is null and received_at < $1`, [new Date(clock.now().getTime() - 90 * DAY)])).rows[0].count);
  const [a, b] = await Promise.all([
    runRetention(db.pool, { piiDays: 90, now: clock.now(), actor: 'cli:a', batchSize: 4 }),
    runRetention(db.pool, { piiDays: 90, now: clock.now(), actor: 'cli:b', batchSize: 7 }),
  ]);
  assert.equal(a.events + b.events, pending);
  assert.equal(Number((await db.pool.query(`select count(*) from hub_events where anonymised_at is null and received_at < $1`, [new Date(clock.now().getTime() - 90 * DAY)])).rows[0].count), 0);
  const leftovers = (await db.pool.query(`select count(*)::int as n from hub_events where data::text like '%Deco Addict%' and anonymised_at is not null`)).rows[0].n;
  assert.equal(leftovers, 0);
  assert.equal((await verifyAudit(db.pool)).broken, undefined);
});

test('only one process runs the job at a time', async () => {
  const holder = await db.pool.connect();
  try {
    await holder.query(`select pg_advisory_lock(hashtextextended('odoo-logistics-hub retention', 0))`);
    assert.deepEqual(await job.runOnce({ force: true }), { ran: false, reason: 'locked' });
  } finally {
    await holder.query(`select pg_advisory_unlock_all()`);
    holder.release();
  }
  assert.equal((await job.runOnce({ force: true })).ran, true);
});

test('start runs the job on its schedule; stop ends it', async () => {
  const clock2 = new FakeClock(clock.now().getTime() + 2 * 3600_000);
  const scheduled = new RetentionJob({ pool: db.pool, config: { piiDays: 90, intervalMinutes: 60 }, clock: clock2, log, firstRunDelayMs: 0, actor: 'system:retention-test' });
  scheduled.start();
  try {
    for (let i = 0; i < 500; i++) {
      const r = await db.pool.query(`select 1 from hub_audit where actor = 'system:retention-test'`);
      if (r.rowCount) break;
      await new Promise((res) => setImmediate(res));
    }
    assert.equal((await db.pool.query(`select count(*)::int as n from hub_audit where actor = 'system:retention-test'`)).rows[0].n, 1);
  } finally {
    await scheduled.stop();
  }
  assert.equal(scheduled.lastError, undefined);
});
