/**
 * The workflow engine against a real PostgreSQL: decisions applied once per event (a
 * duplicated delivery changes nothing), steps scheduled once per key, run outside the
 * transaction with their events fed back to the workflow, transient failures retried with
 * backoff, a failed step raising one exception record, a crashed step's lease taken over,
 * timers firing back into the workflow, recovery resolving the exception.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.ts';
import { silent, testWorker } from '../helpers/pipeline.ts';
import { ingest } from '../../src/pipeline/inbox.ts';
import { fireDueTimers } from '../../src/pipeline/timers.ts';
import { BusinessError, TransientError } from '../../src/domain/errors.ts';
import { StepRunner, workflowHandler, type Decision, type WorkflowDefinition } from '../../src/workflows/engine.ts';
import type { IncomingEvent, StoredEvent } from '../../src/pipeline/types.ts';

const { pool } = await freshDatabase();

interface Toy {
  orderId: string;
  acked: boolean;
  seen: string[];
}

/** How the toy's one external call behaves: a script of outcomes per call. */
const script: { calls: string[]; failures: (Error | undefined)[] } = { calls: [], failures: [] };

const toy: WorkflowDefinition<Toy> = {
  name: 'toy',
  eventTypes: ['order.created.v1', 'fulfilment.acknowledged.v1', 'order.cancelled.v1'],
  instanceOf: (e: StoredEvent) => (e.data as { orderId?: string }).orderId,
  starts: (e) => e.type === 'order.created.v1',
  decide(state, e, now): Decision<Toy> {
    const s: Toy = state ?? { orderId: (e.data as { orderId: string }).orderId, acked: false, seen: [] };
    const next = { ...s, seen: [...s.seen, e.type] };
    if (e.type === 'order.created.v1') {
      return {
        state: next,
        steps: [{ name: 'release', key: `release:${s.orderId}`, input: { orderId: s.orderId } }],
        timers: [{ name: 'ack', dueAt: new Date(now.getTime() + 15 * 60_000) }],
      };
    }
    if (e.type === 'fulfilment.acknowledged.v1') {
      return { state: { ...next, acked: true }, cancelTimers: ['ack'], resolve: [{ code: 'no_ack', resolution: 'the warehouse acknowledged late' }] };
    }
    if (e.type === 'hub.timer.fired.v1' && !s.acked) {
      return { state: next, exceptions: [{ exceptionClass: 'missing_ack', code: 'no_ack', message: 'no acknowledgement within 15 minutes', subject: { entity: 'order', id: s.orderId } }] };
    }
    if (e.type === 'order.cancelled.v1') return { state: next, status: 'cancelled' };
    return { state: next };
  },
  steps: {
    release: {
      name: 'release',
      maxAttempts: 3,
      async run(input, ctx) {
        script.calls.push(`${ctx.stepKey}#${ctx.attempt}`);
        const f = script.failures.shift();
        if (f) throw f;
        return {
          output: { released: true },
          emit: [{ type: 'fulfilment.acknowledged.v1', dedupe: 'ack', data: { fulfilmentRequestId: `fr-${String(input.orderId)}`, orderId: input.orderId, warehouseId: 'loc-wh1', status: 'accepted', acknowledgedAt: ctx.clock.now().toISOString() } }],
        };
      },
    },
  },
};

function created(orderId: string, id = `c-${orderId}`): IncomingEvent {
  const data = {
    orderId, orderNumber: orderId.toUpperCase(), kind: 'sale', orderedAt: '2026-03-01T00:00:00Z', customerId: 'pty-1', currency: 'EUR',
    shipTo: { name: 'A', address: { lines: ['1 Main St'], city: 'Ghent', postalCode: '9000', countryCode: 'BE' } },
    lines: [{ lineId: '1', sku: 'SKU-1', quantity: 1, uom: 'EA' }],
  };
  return { id, source: 'urn:test', type: 'order.created.v1', specversion: '1.0', data, extensions: {}, key: orderId, tenantId: 'default' };
}

const { worker, clock } = testWorker(pool, [workflowHandler([toy as WorkflowDefinition<unknown>])]);
const runner = new StepRunner({ pool, workflows: [toy as WorkflowDefinition<unknown>], clock, log: silent, baseBackoffMs: 1000 });

async function state(orderId: string) {
  return (await pool.query<{ state: Toy; status: string; version: number }>(`select state, status, version from hub_workflows where workflow = 'toy' and instance = $1`, [orderId])).rows[0];
}
async function steps(orderId: string) {
  return (await pool.query<{ step_key: string; status: string; attempts: number; run_at: Date; error: { code: string } | null }>(`select step_key, status, attempts, run_at, error from hub_workflow_steps where instance = $1 order by id`, [orderId])).rows;
}

before(async () => {
  await ingest(pool, [created('o-1')]);
});

describe('workflow engine', () => {
  it('starts an instance, schedules its step once even when the event is delivered twice', async () => {
    await worker.drain();
    await ingest(pool, [created('o-1', 'c-o-1-again')]); // the same order created again (a duplicate delivery under a new id)
    await worker.drain();
    const s = await state('o-1');
    assert.deepEqual(s!.state.seen, ['order.created.v1', 'order.created.v1']);
    assert.equal((await steps('o-1')).length, 1, 'one step for the one key');
  });

  it('runs the step outside the transaction and feeds its events back', async () => {
    const runs = await runner.runDue();
    assert.deepEqual(runs.map((r) => [r.stepKey, r.outcome]), [['release:o-1', 'done']]);
    await worker.drain();
    const s = await state('o-1');
    assert.equal(s!.state.acked, true);
    assert.deepEqual((await steps('o-1')).map((x) => x.status), ['done']);
    const timers = await pool.query(`select status from hub_timers where name = 'toy:o-1:ack'`);
    assert.equal(timers.rows[0]!.status, 'cancelled', 'the acknowledgement cancelled the timer');
  });

  it('retries a transient failure with backoff; a business failure fails the step and raises one exception', async () => {
    await ingest(pool, [created('o-2')]);
    await worker.drain();
    script.failures.push(new TransientError({ code: 'wms.unavailable', message: 'down' }));
    const [r1] = await runner.runDue();
    assert.equal(r1!.outcome, 'retry');
    const [st] = await steps('o-2');
    assert.equal(st!.status, 'pending');
    assert.ok(st!.run_at.getTime() >= clock.now().getTime() + 800, 'not before the backoff');
    assert.deepEqual(await runner.runDue(), [], 'not due yet');
    clock.advance(2000);
    script.failures.push(new BusinessError({ code: 'wms.rejected', message: 'unknown SKU SKU-1' }));
    const [r2] = await runner.runDue();
    assert.equal(r2!.outcome, 'failed');
    await worker.drain();
    const ex = await pool.query(`select code, status, message, details from hub_exceptions where key = 'o-2'`);
    assert.equal(ex.rowCount, 1);
    assert.equal(ex.rows[0]!.code, 'step_failed:release:o-2');
    assert.match(ex.rows[0]!.message, /release failed after 2 attempt\(s\): unknown SKU SKU-1/);
    const raised = await pool.query(`select data from hub_events where type = 'exception.raised.v1'`);
    assert.ok(raised.rows.some((r) => r.data.details.code === 'step_failed:release:o-2'), 'an exception.raised.v1 event for subscribers');
  });

  it('takes over a step whose process died mid-run (lease expired) and runs it again', async () => {
    await ingest(pool, [created('o-3')]);
    await worker.drain();
    // another runner claimed it and died: running with a lease in the past
    await pool.query(`update hub_workflow_steps set status = 'running', attempts = 1, lease_until = $1 where instance = 'o-3'`, [new Date(clock.now().getTime() - 1)]);
    const [r] = await runner.runDue();
    assert.equal(r!.outcome, 'done');
    assert.equal((await steps('o-3'))[0]!.attempts, 2);
  });

  it('a timer fires back into its instance; a late recovery resolves the exception', async () => {
    await ingest(pool, [created('o-4')]);
    await worker.drain();
    script.failures.push(new TransientError({ code: 'wms.unavailable', message: 'down' }));
    await runner.runDue(); // fails once, retried later
    clock.advance(16 * 60_000);
    assert.equal(await fireDueTimers(pool, clock.now()), 2, "o-4's timer, and o-2's (its release failed, nothing acknowledged)");
    await worker.drain();
    const open = await pool.query(`select code, status, details from hub_exceptions where key = 'o-4'`);
    assert.deepEqual(open.rows.map((r) => [r.code, r.status, r.details.class, r.details.ownerQueue]), [['no_ack', 'open', 'missing_ack', 'integration']]);
    await runner.runDue(); // the retry succeeds and acknowledges
    await worker.drain();
    const closed = await pool.query(`select status, resolution from hub_exceptions where key = 'o-4'`);
    assert.deepEqual(closed.rows.map((r) => [r.status, r.resolution]), [['resolved', 'the warehouse acknowledged late']]);
    const resolvedEv = await pool.query(`select data from hub_events where type = 'exception.resolved.v1'`);
    assert.equal(resolvedEv.rowCount, 1);
    assert.equal(resolvedEv.rows[0]!.data.outcome, 'auto_resolved');
    assert.deepEqual(script.calls.filter((c) => c.startsWith('release:o-4')), ['release:o-4#1', 'release:o-4#2']);
  });

  it('runs one step of an instance at a time: a second due step waits for the first to end', async () => {
    await ingest(pool, [created('o-5')]);
    await worker.drain();
    await pool.query(
      `insert into hub_workflow_steps (tenant_id, workflow, instance, step, step_key, input, run_at) values ('default', 'toy', 'o-5', 'release', 'release:o-5:second', '{"orderId":"o-5"}', $1)`,
      [clock.now()],
    );
    let inFlight = 0;
    let most = 0;
    const slow = toy.steps.release!.run;
    toy.steps.release!.run = async (input, ctx) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 50));
      inFlight--;
      return slow(input, ctx);
    };
    try {
      const first = await runner.runDue();
      assert.equal(first.length, 1, 'one of the two claimed');
      const second = await runner.runDue();
      assert.equal(second.length, 1, 'the other once the first ended');
      assert.equal(most, 1);
    } finally {
      toy.steps.release!.run = slow;
    }
  });
});
