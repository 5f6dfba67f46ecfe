/**
 * The shared connector HTTP wrapper (src/connectors/http.ts) against a real partner: the WMS
 * connector talking to SimWMS with faults switched on. Every exchange is counted by outcome
 * (ok, or the class the WMS error table gave it), failures by class, latency observed, and the
 * console's health snapshot (connector-health.ts) reads the same figures back. A client built
 * without telemetry finds the hub's metrics in the active context (withTelemetry).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { WmsSimulator } from '../../simulators/wms/server.ts';
import { HubError } from '../../src/domain/errors.ts';
import { builtinProfilePath, loadProfile, WmsClient, WmsConnector } from '../../src/connectors/wms/index.ts';
import type { OperationInputs } from '../../src/connectors/wms/mappers.ts';
import { createMetrics, type Metrics } from '../../src/platform/metrics.ts';
import { disabledTracing, withTelemetry } from '../../src/platform/tracing.ts';
import { connectorHealth, quantileFromBuckets } from '../../src/platform/connector-health.ts';

const profile = loadProfile(builtinProfilePath('simwms'));
const sim = await WmsSimulator.start({ webhookSecret: 'wms-hook-secret' });
after(() => sim.stop());
const release = (): OperationInputs['release'] => JSON.parse(readFileSync(new URL('../fixtures/wms/release-input.json', import.meta.url), 'utf8'));

async function rejection(p: Promise<unknown>): Promise<HubError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof HubError, `a HubError, got ${e}`);
    return e;
  }
  assert.fail('expected a rejection');
}

async function counts(metrics: Metrics) {
  const calls = Object.fromEntries((await metrics.connectorCalls.get()).values.map((v) => [`${v.labels.connector} ${v.labels.operation} ${v.labels.outcome}`, v.value]));
  const errors = Object.fromEntries((await metrics.connectorErrors.get()).values.map((v) => [`${v.labels.connector} ${v.labels.class}`, v.value]));
  return { calls, errors };
}

test('calls are counted by operation and outcome, failures by the error class of the connector table', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const telemetry = { tracing: disabledTracing, metrics };
  const wms = new WmsConnector({ profile, transport: new WmsClient({ baseUrl: sim.url, apiKey: sim.apiKey, auth: profile.auth, timeoutMs: 5000, telemetry }) });
  sim.setStock({ FURN_8888: 5 });

  await wms.getInventory({});
  await wms.release(release());
  sim.setFaults({ status5xx: { count: 1 } });
  assert.equal((await rejection(wms.getInventory({}))).errorClass, 'transient');
  sim.setFaults({ tooManyRequests: { count: 1, retryAfterSeconds: 3 } });
  assert.equal((await rejection(wms.getInventory({}))).code, 'wms.rate_limited');
  const unknownSku = { ...release(), lines: [{ ...release().lines[0]!, sku: 'NOPE-1' }] };
  assert.equal((await rejection(wms.release(unknownSku))).errorClass, 'business');
  const wrongKey = new WmsConnector({ profile, transport: new WmsClient({ baseUrl: sim.url, apiKey: 'wrong', auth: profile.auth, telemetry }) });
  assert.equal((await rejection(wrongKey.getInventory({}))).errorClass, 'permanent');
  await sim.goDown(60_000);
  try {
    // no answer at all: the transport failure is classified by the same table
    assert.equal((await rejection(wms.getInventory({}))).code, 'wms.connection_failed');
  } finally {
    await sim.up();
  }

  const { calls, errors } = await counts(metrics);
  assert.deepEqual(calls, {
    'wms getInventory ok': 1,
    'wms release ok': 1,
    'wms getInventory transient': 3,
    'wms release business': 1,
    'wms getInventory permanent': 1,
  });
  assert.deepEqual(errors, { 'wms transient': 3, 'wms business': 1, 'wms permanent': 1 });
  const duration = await metrics.connectorCallDuration.get();
  const count = duration.values.filter((v) => v.metricName === 'hub_connector_call_duration_seconds_count').reduce((n, v) => n + v.value, 0);
  assert.equal(count, 7, 'every exchange is timed');

  const [health] = await connectorHealth(metrics);
  assert.equal(health!.connector, 'wms');
  assert.equal(health!.tenant, undefined);
  assert.equal(health!.calls, 7);
  assert.equal(health!.errors, 5);
  assert.deepEqual(health!.errorsByClass, { transient: 3, permanent: 1, business: 1 });
  assert.equal(health!.errorRate, 5 / 7);
  assert.ok(health!.p50Ms !== null && health!.p95Ms !== null && health!.p50Ms <= health!.p95Ms);
  assert.equal(health!.breakerOpen, false);
});

test('a client built without telemetry counts into the hub whose context the call runs in', async () => {
  const mine = createMetrics({ defaultMetrics: false });
  const other = createMetrics({ defaultMetrics: false });
  const wms = new WmsConnector({ profile, transport: new WmsClient({ baseUrl: sim.url, apiKey: sim.apiKey, auth: profile.auth }) });
  await withTelemetry({ tracing: disabledTracing, metrics: mine }, () => wms.getInventory({}));
  await wms.getInventory({}); // outside any hub: counted nowhere
  assert.deepEqual((await counts(mine)).calls, { 'wms getInventory ok': 1 });
  assert.deepEqual((await counts(other)).calls, {});
});

test('breakers and rate limiters are reported per tenant; percentiles come from the buckets', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  metrics.connectorBreakerOpen.set({ connector: 'odoo', tenant: 'acme' }, 1);
  metrics.connectorBreakerOpen.set({ connector: 'odoo', tenant: 'globex' }, 0);
  metrics.rateLimitSamplers.add((set) => set({ connector: 'odoo', tenant: 'acme' }, 3.456));
  metrics.connectorCalls.inc({ connector: 'odoo', operation: 'sale.order.read', outcome: 'ok' }, 4);
  const rows = await connectorHealth(metrics);
  assert.deepEqual(rows.map((r) => [r.connector, r.tenant, r.calls, r.breakerOpen, r.rateLimitTokens]), [
    ['odoo', 'acme', 4, true, 3.45],
    ['odoo', 'globex', 4, false, undefined],
  ]);
  // 10 observations: 5 at or below 0.1 s, 5 between 0.1 and 0.5 s
  assert.equal(quantileFromBuckets([[0.1, 5], [0.5, 10], [Infinity, 10]], 0.5), 0.1);
  assert.ok(Math.abs(quantileFromBuckets([[0.1, 5], [0.5, 10], [Infinity, 10]], 0.75)! - 0.3) < 1e-9);
  assert.equal(quantileFromBuckets([[0.1, 0], [Infinity, 0]], 0.5), null);
});
