/**
 * The SFTP warehouse's client counts and traces each operation of its port once, like the
 * HTTP connectors (connectors/http.ts): calls by operation and outcome, errors by class, the
 * latency histogram, and the console's connector-health row, against the CSV-3PL simulator.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { SftpClient } from '../../../src/connectors/wms-sftp/client.ts';
import { connectorHealth } from '../../../src/platform/connector-health.ts';
import { createMetrics } from '../../../src/platform/metrics.ts';
import { disabledTracing } from '../../../src/platform/tracing.ts';
import { DIRS, Sftp3plSimulator } from '../../../simulators/sftp3pl/server.ts';

const sim = await Sftp3plSimulator.start();
const metrics = createMetrics({ defaultMetrics: false });
const client = new SftpClient({ host: sim.host, port: sim.port, username: sim.username, secret: sim.password, hostKeySha256: sim.hostKeySha256, timeoutMs: 5000, telemetry: { tracing: disabledTracing, metrics } });
after(async () => {
  await client.close();
  await sim.stop();
});

const value = async (name: string, labels: Record<string, string>) =>
  ((await metrics.registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0);

test('each port operation is one call; a missing file is an answer (false) for exists and a counted error for get', async () => {
  assert.equal(await client.putAtomic(`${DIRS.toWarehouse}/ORD-1.csv`, 'a,b\n1,2\n', '.part'), 'written');
  assert.equal(await client.putAtomic(`${DIRS.toWarehouse}/ORD-1.csv`, 'a,b\n1,2\n', '.part'), 'exists');
  assert.equal(await client.exists(`${DIRS.toWarehouse}/nope.csv`), false);
  assert.ok((await client.list(DIRS.toWarehouse)).some((e) => e.name === 'ORD-1.csv'));
  await assert.rejects(client.get(`${DIRS.toWarehouse}/nope.csv`), (e: Error & { errorClass?: string }) => e.errorClass !== undefined);
  // putAtomic's own exists/put/rename are one "put" each, not four calls
  assert.equal(await value('hub_connector_calls_total', { connector: 'wms-sftp', operation: 'put', outcome: 'ok' }), 2);
  assert.equal(await value('hub_connector_calls_total', { connector: 'wms-sftp', operation: 'exists', outcome: 'ok' }), 1, 'a missing file answers false: not an error');
  assert.equal(await value('hub_connector_calls_total', { connector: 'wms-sftp', operation: 'list', outcome: 'ok' }), 1);
  const failed = (await metrics.registry.getSingleMetric('hub_connector_calls_total')!.get()).values.filter((v) => v.labels.operation === 'get' && v.labels.outcome !== 'ok');
  assert.equal(failed.length, 1);
  const cls = String(failed[0]!.labels.outcome);
  assert.equal(await value('hub_connector_errors_total', { connector: 'wms-sftp', class: cls }), 1);
  const health = (await connectorHealth(metrics)).find((h) => h.connector === 'wms-sftp')!;
  assert.equal(health.calls, 5);
  assert.equal(health.errors, 1);
  assert.ok(health.p50Ms !== null && health.p50Ms > 0);
});

test('the server going away is a transient error of the operation, counted as such', async () => {
  const down = new SftpClient({ host: '127.0.0.1', port: 9, username: 'x', secret: 'y', hostKeySha256: sim.hostKeySha256, timeoutMs: 2000, telemetry: { tracing: disabledTracing, metrics } });
  await assert.rejects(down.list('/'), (e: Error & { errorClass?: string }) => e.errorClass === 'transient');
  await down.close();
  assert.equal(await value('hub_connector_calls_total', { connector: 'wms-sftp', operation: 'list', outcome: 'transient' }), 1);
});
