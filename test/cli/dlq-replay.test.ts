import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.ts';
import { createEffects, ev, recordingHandler, testWorker } from '../helpers/pipeline.ts';
import { ingest } from '../../src/pipeline/inbox.ts';
import { PermanentError } from '../../src/domain/errors.ts';
import { cli, show } from './helpers.ts';

// Dead letters made by the real pipeline: ingest, then a worker whose handler fails permanently.
const db = await freshDatabase({ poolSize: 4 });
await createEffects(db.pool);
await ingest(db.pool, [
  ev('SHP-1', 1),
  ev('SHP-1', 2, { type: 'test.tracking.v1', data: { key: 'SHP-1', n: 2, carrier: 'UPS', note: 'label' } }),
  ev('SHP-2', 1),
  ev('SHP-3', 1, { type: 'test.tracking.v1' }),
  ev('SHP-4', 1),
]);
const broken = new Set(['SHP-1-2', 'SHP-2-1', 'SHP-3-1', 'SHP-4-1']);
const { worker } = testWorker(db.pool, [
  recordingHandler({
    fail: ({ id }) =>
      !broken.has(id) ? undefined : id === 'SHP-2-1' ? new PermanentError({ code: 'odoo.access_denied', message: 'no write access to stock.picking' }) : new PermanentError({ code: 'mapping.missing_field', message: 'no sku in line 1' }),
  }),
]);
await worker.drain();
const ids = Object.fromEntries((await db.pool.query(`select id, key from hub_dead_letters order by id`)).rows.map((r) => [r.key, r.id as number]));
const env = { DATABASE_URL: db.url };

test('dlq list shows the open dead letters, filtered', async () => {
  const [all, byType, byCode, byKey, byClass, since, until, asJson] = await Promise.all([
    cli(['dlq', 'list'], { env }),
    cli(['dlq', 'list', '--type', 'test.tracking.v1'], { env }),
    cli(['dlq', 'list', '--code', 'odoo.access_denied'], { env }),
    cli(['dlq', 'list', '--key', 'SHP-4'], { env }),
    cli(['dlq', 'list', '--class', 'transient'], { env }),
    cli(['dlq', 'list', '--since', '1h', '--limit', '2'], { env }),
    cli(['dlq', 'list', '--until', '1h'], { env }),
    cli(['dlq', 'list', '--json', '--source', 'urn:test'], { env }),
  ]);
  assert.equal(all.code, 0, show(all));
  const lines = all.stdout.trim().split('\n');
  assert.match(lines[0]!, /^ID\s+CREATED\s+STATUS\s+TYPE\s+KEY\s+CODE\s+CLASS\s+ATT\s+REASON$/);
  assert.equal(lines.length, 6, all.stdout);
  assert.match(all.stdout, new RegExp(`^\\s*${ids['SHP-2']}\\s+\\S+ \\S+\\s+open\\s+test\\.step\\.v1\\s+SHP-2\\s+odoo\\.access_denied\\s+permanent\\s+1\\s+permanent error: no write access to stock\\.picking$`, 'm'));
  assert.equal(lines.at(-1), '4 dead letters');

  assert.deepEqual(byType.stdout.match(/SHP-\d/g)!.sort(), ['SHP-1', 'SHP-3']);
  assert.deepEqual(byCode.stdout.match(/SHP-\d/g), ['SHP-2']);
  assert.deepEqual(byKey.stdout.match(/SHP-\d/g), ['SHP-4']);
  assert.equal(byClass.stdout, 'no open dead letters match\n');
  assert.match(since.stdout, /2 dead letters \(the limit: there may be more/);
  assert.equal(until.stdout, 'no open dead letters match\n');

  const rows = JSON.parse(asJson.stdout) as { id: number; key: string; eventId: string; errorCode: string; status: string }[];
  assert.deepEqual(rows.map((r) => r.eventId).sort(), ['SHP-1-2', 'SHP-2-1', 'SHP-3-1', 'SHP-4-1']);
  assert.deepEqual(rows.map((r) => r.id), [...rows.map((r) => r.id)].sort((a, b) => a - b), 'oldest first');
  assert.equal(rows.find((r) => r.key === 'SHP-1')!.errorCode, 'mapping.missing_field');
});

test('dlq show prints the reason, the history and the payload', async () => {
  const [r, missing] = await Promise.all([cli(['dlq', 'show', String(ids['SHP-1'])], { env }), cli(['dlq', 'show', '999999'], { env })]);
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, new RegExp(`^dead letter ${ids['SHP-1']}\n`));
  assert.match(r.stdout, /^reason: +permanent error: no sku in line 1$/m);
  assert.match(r.stdout, /^error: +mapping\.missing_field \(permanent\)$/m);
  assert.match(r.stdout, /^event: +SHP-1-2 \(seq \d+\)$/m);
  assert.match(r.stdout, /^1 +\S+ \S+ +dead +mapping\.missing_field +test-worker +no sku in line 1$/m);
  assert.ok(r.stdout.includes('payload\n{\n  "n": 2,\n  "key": "SHP-1",\n  "note": "label",\n  "carrier": "UPS"\n}'), r.stdout);
  assert.match(r.stdout, new RegExp(`replay it with: logistics-hub replay ${ids['SHP-1']}`));

  assert.equal(missing.code, 1, show(missing));
  assert.equal(missing.stderr, 'error: dead letter 999999 does not exist\n  fix: list them with `logistics-hub dlq list --status all`\n');
});

test('replay: without a worker it says so after --timeout; --in-process replays, including what was queued before', async () => {
  const queued = await cli(['replay', String(ids['SHP-1']), '--no-wait'], { env });
  assert.equal(queued.code, 0, show(queued));
  assert.match(queued.stdout, /^replay \d+: 1 dead letter queued\nnot waiting: a running hub replays them/);

  const nobody = await cli(['replay', '--key', 'SHP-2', '--timeout', '0.6'], { env });
  assert.equal(nobody.code, 1, show(nobody));
  assert.match(nobody.stdout, /^replay \d+: 1 dead letter queued\n/);
  assert.match(nobody.stderr, /^error: no hub process is handling replays: start one with `logistics-hub start`; replay \d+: replayed 0, failed 0, 1 still queued\n {2}fix: or run this command with --in-process/);

  const listed = await cli(['dlq', 'list', '--status', 'replaying', '--json'], { env });
  assert.deepEqual((JSON.parse(listed.stdout) as { key: string }[]).map((d) => d.key).sort(), ['SHP-1', 'SHP-2']);

  // SHP-1 and SHP-2 were queued earlier and no worker took them: replaying them by id in-process follows them.
  const one = await cli(['replay', String(ids['SHP-1']), String(ids['SHP-2']), '--in-process', '--json'], { env });
  assert.equal(one.code, 0, show(one));
  const res = JSON.parse(one.stdout);
  assert.deepEqual(res, { replayId: res.replayId, queued: 0, followedFromEarlierRequests: 2, skipped: [], replayed: 2, failed: 0, done: true });

  // a filter: SHP-1 is replayed already, SHP-3 and SHP-4 are queued and replayed here
  const r = await cli(['replay', '--code', 'mapping.missing_field', '--in-process'], { env });
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, /^replay \d+: 2 dead letters queued\n/);
  assert.match(r.stdout, /replay \d+: 2\/2 done \(replayed 2, failed 0\)\n/);
  assert.match(r.stdout, /\nreplayed 2, failed 0\n$/);

  const gone = await cli(['replay', '999998', String(ids['SHP-3']), '--in-process'], { env });
  assert.equal(gone.code, 1, show(gone));
  assert.match(gone.stderr, new RegExp(`not replayed: 999998 \\(does not exist\\), ${ids['SHP-3']} \\(replayed\\)`));
  assert.match(gone.stdout, /nothing to replay/);

  const after = await cli(['dlq', 'list', '--status', 'replayed', '--json'], { env });
  assert.deepEqual((JSON.parse(after.stdout) as { key: string; replayCount: number }[]).map((d) => `${d.key}:${d.replayCount}`).sort(), ['SHP-1:1', 'SHP-2:1', 'SHP-3:1', 'SHP-4:1']);
  const open = await cli(['dlq', 'list'], { env });
  assert.equal(open.stdout, 'no open dead letters match\n');
});
