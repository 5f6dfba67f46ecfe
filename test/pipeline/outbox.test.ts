/**
 * Transactional outbox to a real NATS JetStream (127.0.0.1:4222): messages written in
 * the handler's transaction are published once the transaction commits, in order, and a
 * re-publish of the same message (crash between publish and mark) is dropped by
 * JetStream's duplicate window. A rolled-back transaction publishes nothing.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { freshDatabase } from '../helpers/db.ts';
import { ev, silent, testWorker } from '../helpers/pipeline.ts';
import { ingest } from '../../src/pipeline/inbox.ts';
import { OutboxRelay } from '../../src/pipeline/outbox.ts';
import { JetStreamPublisher } from '../../src/pipeline/publishers/jetstream.ts';
import { streamHandler } from '../../src/pipeline/handlers/stream.ts';
import { TransientError } from '../../src/domain/errors.ts';

const NATS = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const db = await freshDatabase();
const stream = `HUBTEST_${randomBytes(4).toString('hex').toUpperCase()}`;
const prefix = `hubtest.${stream.toLowerCase()}`;

let natsUp = true;
try {
  const nc = await connect({ servers: NATS, timeout: 2000 });
  await nc.close();
} catch {
  natsUp = false;
}

test('events streamed through the outbox reach JetStream once, in order', { skip: natsUp ? false : `NATS not reachable at ${NATS}` }, async () => {
  const publisher = await JetStreamPublisher.connect(NATS, stream, prefix);
  const nc = await connect({ servers: NATS });
  const jsm = await jetstreamManager(nc);
  after(async () => {
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
    await publisher.close();
  });

  let failOnce = true;
  const flaky = {
    name: 'test.flaky',
    matches: (t: string) => t.startsWith('test.'),
    async handle(e: { id: string }) {
      if (e.id === 'ob-2' && failOnce) {
        failOnce = false;
        throw new TransientError({ code: 'test.flaky', message: 'first attempt fails after the outbox write' });
      }
    },
  };
  // stream handler first: its outbox write is rolled back with the failed attempt
  const { worker, clock } = testWorker(db.pool, [streamHandler, flaky]);
  await ingest(db.pool, [ev('ob', 1), ev('ob', 2), ev('ob', 3)]);
  await worker.drain();
  clock.advance(5000);
  await worker.drain();

  const rows = await db.pool.query(`select msg_id from hub_outbox order by id`);
  assert.deepEqual(rows.rows.map((r) => r.msg_id), ['urn:test|ob-1', 'urn:test|ob-2', 'urn:test|ob-3'], 'one outbox row per event, none from the rolled-back attempt');

  const relay = new OutboxRelay({ pool: db.pool, publisher, log: silent });
  assert.equal(await relay.publishBatch(), 3);
  assert.equal(await relay.publishBatch(), 0, 'nothing left to publish');
  // a crash between publish and mark: the same message is published again
  await db.pool.query(`update hub_outbox set published_at = null where msg_id = 'urn:test|ob-3'`);
  assert.equal(await relay.publishBatch(), 1);

  const info = await jsm.streams.info(stream);
  assert.equal(info.state.messages, 3, 'JetStream dropped the re-published duplicate');
  const first = await jsm.streams.getMessage(stream, { seq: 1 });
  assert.equal(first!.subject, `${prefix}.test.step.v1`);
  assert.equal(first!.json<{ id: string }>().id, 'ob-1');
  assert.equal(first!.header.get('Nats-Msg-Id'), 'urn:test|ob-1');
  const third = await jsm.streams.getMessage(stream, { seq: 3 });
  assert.equal(third!.json<{ id: string }>().id, 'ob-3');
});
