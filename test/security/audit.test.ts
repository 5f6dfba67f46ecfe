import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { freshDatabase } from '../helpers/db.ts';
import { withTx } from '../../src/platform/db.ts';
import { appendAudit, audit, canonicalJson, digestOf, entryHash, genesisHash, verifyAudit, type AuditEntryInput } from '../../src/security/audit.ts';

const db = await freshDatabase({ poolSize: 12 });

const entry = (tenantId: string, i: number, extra: Partial<AuditEntryInput> = {}): AuditEntryInput => ({
  tenantId,
  actor: `client:c${i % 3}`,
  action: i % 2 ? 'order.state_changed' : 'client.created',
  objectType: 'order',
  objectId: `ORD-${i}`,
  before: i % 2 ? { state: 'released' } : undefined,
  after: { state: 'picked', i },
  details: { i, tags: ['a', 'b'], nested: { z: 1, a: [true, null] } },
  ...extra,
});

/** Appends n entries to a tenant, drawing one spare sequence number after each (gaps to forge into). */
async function chain(tenantId: string, n: number): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) {
    seqs.push((await audit(db.pool, entry(tenantId, i))).seq);
    await db.pool.query(`select nextval(pg_get_serial_sequence('hub_audit', 'seq'))`);
  }
  return seqs;
}

const broken = async (tenantId: string) => (await verifyAudit(db.pool, { tenantId })).broken;

test('canonical JSON: key order does not matter, undefined members are left out, dates are ISO strings', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, undefined, 'x'], c: null }, u: undefined }), '{"a":{"c":null,"d":[1,null,"x"]},"b":1}');
  assert.equal(canonicalJson(new Date('2026-03-01T12:00:00Z')), '"2026-03-01T12:00:00.000Z"');
  assert.equal(canonicalJson({ at: new Date('2026-03-01T12:00:00Z') }), '{"at":"2026-03-01T12:00:00.000Z"}');
  assert.equal(digestOf({ a: 1, b: 2 }), digestOf({ b: 2, a: 1 }));
  assert.equal(digestOf(undefined), null);
  assert.match(digestOf(null)!, /^sha256:[0-9a-f]{64}$/);
});

test('a chain of many entries from concurrent appenders across tenants verifies, also while it grows', async () => {
  const tenants = ['default', 'acme', 'globex'];
  let appending = true;
  const appenders = Array.from({ length: 20 }, async (_, w) => {
    for (let i = 0; i < 10; i++) {
      const tenantId = tenants[(w + i) % 3]!;
      if (i % 4 === 3) {
        // a change that rolls back takes its audit entry with it
        await withTx(db.pool, async (c) => {
          await appendAudit(c, entry(tenantId, 1000 + i));
          throw new Error('rolled back');
        }).catch(() => undefined);
      }
      await withTx(db.pool, (c) => appendAudit(c, entry(tenantId, w * 100 + i)));
    }
  });
  const verifier = (async () => {
    let runs = 0;
    while (appending) {
      const v = await verifyAudit(db.pool);
      assert.equal(v.broken, undefined, `verified while appending: ${JSON.stringify(v.broken)}`);
      runs++;
    }
    return runs;
  })();
  await Promise.all(appenders);
  appending = false;
  assert.ok((await verifier) >= 1);
  const v = await verifyAudit(db.pool, { pageSize: 7 });
  assert.equal(v.broken, undefined, JSON.stringify(v.broken));
  assert.deepEqual(v.tenants.map((t) => t.tenantId), ['acme', 'default', 'globex']);
  assert.equal(v.tenants.reduce((n, t) => n + t.entries, 0), 200);
  const heads = (await db.pool.query(`select tenant_id, last_seq from hub_audit_heads order by tenant_id`)).rows;
  assert.deepEqual(heads.map((h) => h.last_seq), v.tenants.map((t) => t.lastSeq));
  // every entry links to the one before it in its tenant, in sequence order
  const rows = (await db.pool.query(`select tenant_id, seq, prev_hash, hash from hub_audit where tenant_id = 'acme' order by seq`)).rows;
  rows.forEach((r, i) => assert.equal(r.prev_hash, i === 0 ? genesisHash('acme') : rows[i - 1]!.hash));
  const one = await verifyAudit(db.pool, { tenantId: 'globex' });
  assert.deepEqual(one.tenants.map((t) => t.tenantId), ['globex']);
});

test('what an entry stores: digests of before and after, details in clear, the previous hash', async () => {
  const e = await audit(db.pool, { tenantId: 'store', actor: 'cli:ops', action: 'exception.resolved', objectType: 'exception', objectId: '42', before: { status: 'open' }, after: { status: 'resolved' }, details: { resolution: 'reshipped' }, at: new Date('2026-03-01T10:00:00.123Z') });
  const row = (await db.pool.query(`select * from hub_audit where seq = $1`, [e.seq])).rows[0];
  assert.equal(row.before_digest, digestOf({ status: 'open' }));
  assert.equal(row.after_digest, digestOf({ status: 'resolved' }));
  assert.deepEqual(row.details, { resolution: 'reshipped' });
  assert.equal(row.at.toISOString(), '2026-03-01T10:00:00.123Z');
  assert.equal(row.prev_hash, genesisHash('store'));
  assert.equal(row.hash, entryHash(genesisHash('store'), { ...e }));
  assert.equal(JSON.stringify(row).includes('"open"'), false, 'the before value itself is not stored');
});

test('a tampered details or action is reported at that entry', async () => {
  const seqs = await chain('t-details', 5);
  assert.equal(await broken('t-details'), undefined);
  await db.pool.query(`update hub_audit set details = jsonb_set(details, '{i}', '99') where seq = $1`, [seqs[2]]);
  assert.deepEqual(await broken('t-details'), { tenantId: 't-details', seq: seqs[2], reason: `entry ${seqs[2]} was altered: its content does not match its hash` });

  const s2 = await chain('t-action', 4);
  await db.pool.query(`update hub_audit set action = 'client.revoked' where seq = $1`, [s2[1]]);
  await db.pool.query(`update hub_audit set actor = 'someone-else' where seq = $1`, [s2[3]]);
  assert.deepEqual(await broken('t-action'), { tenantId: 't-action', seq: s2[1], reason: `entry ${s2[1]} was altered: its content does not match its hash` });
});

test('an entry altered with its hash recomputed is caught by the next entry, or by the head when it is the last', async () => {
  const seqs = await chain('t-rehash', 4);
  const rehash = async (seq: number) => {
    const r = (await db.pool.query(`select * from hub_audit where seq = $1`, [seq])).rows[0];
    const e = { seq, tenantId: r.tenant_id, at: r.at, actor: r.actor, action: 'secret.deleted', objectType: r.object_type, objectId: r.object_id, beforeDigest: r.before_digest, afterDigest: r.after_digest, details: r.details };
    await db.pool.query(`update hub_audit set action = $2, hash = $3 where seq = $1`, [seq, e.action, entryHash(r.prev_hash, e)]);
  };
  await rehash(seqs[1]!);
  const b = await broken('t-rehash');
  assert.equal(b?.seq, seqs[2]);
  assert.match(b!.reason, new RegExp(`^entry ${seqs[2]} does not follow entry ${seqs[1]}: its previous-hash is not that entry's hash \\(an entry between them was removed, or entry ${seqs[1]} was altered and its hash recomputed\\)$`));

  const last = await chain('t-rehash-last', 3);
  await rehash(last[2]!);
  assert.deepEqual(await broken('t-rehash-last'), { tenantId: 't-rehash-last', seq: last[2], reason: `entry ${last[2]} is not the entry the head recorded: it was altered and its hash recomputed` });
});

test('a deleted middle entry is reported at the entry after it', async () => {
  const seqs = await chain('t-middle', 5);
  await db.pool.query(`delete from hub_audit where seq = $1`, [seqs[2]]);
  const b = await broken('t-middle');
  assert.equal(b?.seq, seqs[3]);
  assert.match(b!.reason, new RegExp(`^entry ${seqs[3]} does not follow entry ${seqs[1]}: .*an entry between them was removed`));

  const first = await chain('t-first', 3);
  await db.pool.query(`delete from hub_audit where seq = $1`, [first[0]]);
  const f = await broken('t-first');
  assert.equal(f?.seq, first[1]);
  assert.match(f!.reason, new RegExp(`^entry ${first[1]} does not follow entry \\(start\\)`));
});

test('deleted last entries are reported against the head', async () => {
  const seqs = await chain('t-last', 4);
  await db.pool.query(`delete from hub_audit where seq = $1`, [seqs[3]]);
  assert.deepEqual(await broken('t-last'), {
    tenantId: 't-last',
    seq: seqs[3],
    reason: `the chain ends at entry ${seqs[2]} but the head records entry ${seqs[3]} as the last: entries after ${seqs[2]} up to ${seqs[3]} were removed from the end`,
  });
  const all = await chain('t-all', 2);
  await db.pool.query(`delete from hub_audit where tenant_id = 't-all'`);
  assert.match((await broken('t-all'))!.reason, new RegExp(`^the chain ends at entry \\(none\\) but the head records entry ${all[1]}`));
  await chain('t-nohead', 2);
  await db.pool.query(`delete from hub_audit_heads where tenant_id = 't-nohead'`);
  assert.match((await broken('t-nohead'))!.reason, /no head record/);
});

test('a forged entry is reported: inserted with a well-formed hash, with a made-up hash, or appended past the head', async () => {
  const seqs = await chain('t-forged', 4);
  const prev = (await db.pool.query(`select hash from hub_audit where seq = $1`, [seqs[1]])).rows[0].hash as string;
  const forgedSeq = seqs[1]! + 1; // the spare number drawn after it
  const forged = { seq: forgedSeq, tenantId: 't-forged', at: new Date(), actor: 'cli:mallory', action: 'client.created', objectType: 'client', objectId: 'backdoor', beforeDigest: null, afterDigest: null, details: {} };
  const insert = (e: typeof forged, prevHash: string, hash: string) =>
    db.pool.query(
      `insert into hub_audit (seq, tenant_id, at, actor, action, object_type, object_id, before_digest, after_digest, details, prev_hash, hash)
       overriding system value values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [e.seq, e.tenantId, e.at, e.actor, e.action, e.objectType, e.objectId, e.beforeDigest, e.afterDigest, JSON.stringify(e.details), prevHash, hash],
    );
  await insert(forged, prev, entryHash(prev, forged));
  const b = await broken('t-forged');
  assert.equal(b?.seq, forgedSeq);
  assert.equal(b!.reason, `entry ${forgedSeq} was inserted: entry ${seqs[2]} follows entry ${seqs[1]} directly, so the entries from ${forgedSeq} to ${forgedSeq} do not belong to the chain`);

  const s2 = await chain('t-forged-naive', 3);
  await insert({ ...forged, tenantId: 't-forged-naive', seq: s2[0]! + 1 }, 'f'.repeat(64), '0'.repeat(64));
  const n = await broken('t-forged-naive');
  assert.equal(n?.seq, s2[0]! + 1);
  assert.match(n!.reason, /does not follow entry/);

  const s3 = await chain('t-forged-end', 3);
  const lastHash = (await db.pool.query(`select hash from hub_audit where seq = $1`, [s3[2]])).rows[0].hash as string;
  const tail = { ...forged, tenantId: 't-forged-end', seq: s3[2]! + 1 };
  await insert(tail, lastHash, entryHash(lastHash, tail));
  assert.deepEqual(await broken('t-forged-end'), {
    tenantId: 't-forged-end',
    seq: s3[2]! + 1,
    reason: `entry ${s3[2]! + 1} lies past the end of the chain (the head records entry ${s3[2]} as the last): it was added outside the audit trail`,
  });
});

test('the whole trail reports the first broken tenant, in tenant order', async () => {
  const v = await verifyAudit(db.pool);
  assert.equal(v.broken?.tenantId, 't-action');
  assert.ok(v.tenants.every((t) => t.tenantId < 't-action'));
});

test('property: any sequence of entries verifies; altering, deleting a middle or the last entry is named precisely', async () => {
  let run = 0;
  const text = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\u0000'));
  const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, text, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(text, tie('value'), { maxKeys: 3 })),
  })).value;
  const input = fc.record({
    actor: fc.constantFrom('cli:ops', 'client:c1', 'system:retention', 'event:urn:odoo'),
    action: fc.constantFrom('client.created', 'secret.rotated', 'order.state_changed', 'replay.requested'),
    objectType: fc.constantFrom('order', 'client', 'secret'),
    objectId: text,
    before: fc.option(json, { nil: undefined }),
    after: fc.option(json, { nil: undefined }),
    details: fc.dictionary(text, json, { maxKeys: 4 }),
    at: fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.nat(1), input), { minLength: 2, maxLength: 12 }), fc.constantFrom('details', 'delete-middle', 'delete-last'), fc.nat(), async (items, mutation, pick) => {
      run++;
      const tenants = [`p${run}-a`, `p${run}-b`];
      const seqs: Record<string, number[]> = { [tenants[0]!]: [], [tenants[1]!]: [] };
      for (const [t, i] of items) {
        const tenantId = tenants[t]!;
        seqs[tenantId]!.push((await audit(db.pool, { tenantId, ...i })).seq);
      }
      for (const t of tenants) assert.equal(await broken(t), undefined);
      const target = tenants.find((t) => seqs[t]!.length >= 2) ?? tenants.find((t) => seqs[t]!.length >= 1)!;
      const list = seqs[target]!;
      if (mutation === 'details' || list.length < 2) {
        const at = list[pick % list.length]!;
        await db.pool.query(`update hub_audit set details = details || '{"tampered": true}' where seq = $1`, [at]);
        const b = await broken(target);
        assert.equal(b?.seq, at);
        assert.match(b!.reason, /was altered/);
      } else if (mutation === 'delete-middle') {
        const i = pick % (list.length - 1);
        await db.pool.query(`delete from hub_audit where seq = $1`, [list[i]]);
        const b = await broken(target);
        assert.equal(b?.seq, list[i + 1]);
        assert.match(b!.reason, /does not follow/);
      } else {
        await db.pool.query(`delete from hub_audit where seq = $1`, [list.at(-1)]);
        const b = await broken(target);
        assert.equal(b?.seq, list.at(-1));
        assert.match(b!.reason, /removed from the end/);
      }
      const other = tenants.find((t) => t !== target)!;
      assert.equal(await broken(other), undefined, 'the other tenant is untouched');
    }),
    { numRuns: 40 },
  );
});
