/**
 * OpenTelemetry traces end to end: a hub on a real PostgreSQL with tracing on, exporting over
 * OTLP/HTTP (JSON) to an HTTP server of the test standing in for a collector, the order flow
 * configured against a SimWMS (reached through a recording HTTP relay of the test, so the
 * request headers the simulator got can be read), and a subscription endpoint of the test.
 *
 * One order.released.v1 posted with a caller's traceparent must yield one trace: the ingress
 * span (child of the caller's span), the pipeline span of the event, the span of the `route`
 * step it scheduled, the WMS connector's client span, and the subscription delivery; the WMS
 * and the subscriber receive a traceparent of that trace. With tracing off (the default)
 * nothing is exported, yet the caller's traceparent is stored with the event and passed on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freshDatabase } from '../helpers/db.ts';
import { startHub, type Hub } from '../../src/hub.ts';
import { validateConfig } from '../../src/platform/config.ts';
import { putSecret } from '../../src/security/secrets.ts';
import { WmsSimulator } from '../../simulators/wms/server.ts';
import { EXAMPLE_EVENT_DATA } from '../../src/domain/examples.ts';
import { SCOPES } from '../../src/domain/scopes.ts';
import { tokenFor } from '../api/harness.ts';
import type { StepRun } from '../../src/workflows/engine.ts';
import { generateWebhookSecret, standardHeaders } from '../../src/security/webhook-signature.ts';

const PARTNER_SECRET = generateWebhookSecret();

interface Served {
  url: string;
  close(): Promise<void>;
}

async function serve(handle: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void | Promise<void>): Promise<Served> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      Promise.resolve(handle(req, Buffer.concat(chunks), res)).catch((e: unknown) => {
        res.writeHead(500).end(String(e));
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

/** An OTLP/HTTP receiver: every export request counted, the spans of JSON bodies kept. */
async function otlpReceiver() {
  const spans: OtlpSpan[] = [];
  const requests: { path: string; contentType: string }[] = [];
  const served = await serve((req, body, res) => {
    requests.push({ path: req.url ?? '', contentType: String(req.headers['content-type']) });
    const doc = JSON.parse(body.toString('utf8')) as { resourceSpans?: { resource?: { attributes?: unknown[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[] };
    for (const rs of doc.resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          const attributes: Record<string, unknown> = {};
          for (const a of (s.attributes as { key: string; value: Record<string, unknown> }[]) ?? []) attributes[a.key] = Object.values(a.value)[0];
          spans.push({ traceId: String(s.traceId), spanId: String(s.spanId), ...(s.parentSpanId ? { parentSpanId: String(s.parentSpanId) } : {}), name: String(s.name), kind: Number(s.kind), attributes });
        }
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  return { ...served, spans, requests };
}

interface Setup {
  hub: Hub;
  token: string;
  otlp: Awaited<ReturnType<typeof otlpReceiver>>;
  /** what the WMS simulator received (through the relay) */
  wmsSeen: { path: string; traceparent?: string }[];
  /** what the subscription endpoint received */
  hookSeen: { traceparent?: string; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

async function setup(tracing: Record<string, unknown>): Promise<Setup> {
  const db = await freshDatabase();
  const otlp = await otlpReceiver();
  const sim = await WmsSimulator.start({ apiKey: 'wms-key', webhookSecret: 'wms-hook-secret', auto: false });
  sim.setSkus([{ sku: 'FURN_7800', weightKg: 12.5 }]);
  sim.setStock({ FURN_7800: 50 });
  const wmsSeen: Setup['wmsSeen'] = [];
  const relay = await serve(async (req, body, res) => {
    wmsSeen.push({ path: req.url ?? '', ...(typeof req.headers.traceparent === 'string' ? { traceparent: req.headers.traceparent } : {}) });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
    const r = await fetch(sim.url + (req.url ?? '/'), { method: req.method ?? 'GET', headers, ...(body.length ? { body } : {}) });
    const out = Buffer.from(await r.arrayBuffer());
    res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' }).end(out);
  });
  const hookSeen: Setup['hookSeen'] = [];
  const hook = await serve((req, body, res) => {
    hookSeen.push({ ...(typeof req.headers.traceparent === 'string' ? { traceparent: req.headers.traceparent } : {}), body: JSON.parse(body.toString('utf8')) as Record<string, unknown> });
    res.writeHead(204).end();
  });
  const config = validateConfig({
    databaseUrl: db.url,
    dataDir: mkdtempSync(join(tmpdir(), 'hub-tracing-')),
    port: 0,
    logLevel: 'silent',
    subscriptions: { allowHttp: true, allowPrivateAddresses: true, pollMs: 50 },
    webhooks: { partners: { acme: { tenant: 'default', scheme: 'standard', secret: 'acme-webhook', mapper: 'cloudevents' } } },
    observability: { tracing: { endpoint: `${otlp.url}/v1/traces`, ...tracing } },
    flows: {
      orderToDelivery: {
        default: {
          warehouses: [
            {
              id: 'loc-east', priority: 1, countries: ['US'],
              address: { lines: ['4750 Longley Lane'], city: 'Reno', region: 'NV', postalCode: '89502', countryCode: 'US' },
              wms: { baseUrl: relay.url, profile: 'simwms', secretName: 'wms-api-key', webhookSecretName: 'wms-webhook' },
            },
          ],
        },
      },
    },
  });
  const hub = await startHub(config, {
    prepare: async ({ pool, keyring }) => {
      await pool.query(`insert into hub_tenants (id, name) values ('default', 'Default') on conflict do nothing`);
      await putSecret(pool, keyring, { tenantId: 'default', name: 'wms-api-key', value: 'wms-key', actor: 'test', overlapSeconds: 0 });
      await putSecret(pool, keyring, { tenantId: 'default', name: 'wms-webhook', value: 'wms-hook-secret', actor: 'test', overlapSeconds: 0 });
      await putSecret(pool, keyring, { tenantId: 'default', name: 'acme-webhook', value: PARTNER_SECRET, actor: 'test', overlapSeconds: 0 });
    },
  });
  const token = await tokenFor(db.pool, [...SCOPES]);
  const sub = await fetch(`${hub.url}/v1/subscriptions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${hook.url}/hook`, eventTypes: ['order.released.v1'] }),
  });
  assert.equal(sub.status, 201, await sub.text());
  return {
    hub, token, otlp, wmsSeen, hookSeen,
    async close() {
      await hub.stop();
      await Promise.all([otlp.close(), relay.close(), hook.close(), sim.stop()]);
    },
  };
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Posts an Odoo-sourced order release (the event that starts the order flow) with a traceparent header. */
async function postRelease(s: Setup, traceparent: string, orderNumber: string): Promise<void> {
  const data = { ...(EXAMPLE_EVENT_DATA['order.released.v1'] as Record<string, unknown>), orderId: `ord-${orderNumber}`, orderNumber, fulfilmentRequestId: `ful-${orderNumber}-1`, warehouseId: 'loc-east' };
  const res = await fetch(`${s.hub.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/cloudevents+json', traceparent },
    body: JSON.stringify({ specversion: '1.0', id: `rel-${orderNumber}`, source: 'urn:hub:connector:odoo:default', type: 'order.released.v1', data }),
  });
  assert.equal(res.status, 202, await res.text());
}

/** Resolves with the first step run of `step` the runner reports. */
function stepRun(hub: Hub, step: string): Promise<StepRun> {
  return new Promise((resolve) => {
    const on = (r: StepRun) => {
      if (r.step !== step) return;
      hub.flows.runner.off('step', on);
      resolve(r);
    };
    hub.flows.runner.on('step', on);
  });
}

/** Resolves once `pred` holds, checked whenever the deliverer may have posted (the hook records synchronously). */
async function until(pred: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('one trace from the caller through ingress, the pipeline, a workflow step and the WMS call to the subscriber', async () => {
  const s = await setup({ enabled: true, serviceName: 'hub-under-test' });
  try {
    assert.equal(s.hub.tracing.enabled, true);
    const traceId = hex(16);
    const callerSpan = hex(8);
    const routed = stepRun(s.hub, 'route');
    await postRelease(s, `00-${traceId}-${callerSpan}-01`, 'S90001');
    const run = await routed;
    assert.equal(run.outcome, 'done', JSON.stringify(run.error));
    await until(() => s.hookSeen.length > 0, 'the subscription delivery');
    await s.hub.tracing.forceFlush();

    const inTrace = s.otlp.spans.filter((x) => x.traceId === traceId);
    const one = (pred: (x: OtlpSpan) => boolean, what: string) => {
      const found = inTrace.filter(pred);
      assert.ok(found.length >= 1, `no ${what} span in the trace; spans: ${JSON.stringify(inTrace.map((x) => x.name))}`);
      return found[0]!;
    };
    const ingress = one((x) => x.name === 'POST /v1/events', 'ingress');
    assert.equal(ingress.kind, 2, 'a server span');
    assert.equal(ingress.parentSpanId, callerSpan, "the ingress span is a child of the caller's span");
    const pipeline = one((x) => x.name === 'pipeline order.released.v1', 'pipeline');
    assert.equal(pipeline.parentSpanId, ingress.spanId, 'the event is handled in the trace it was posted in');
    const step = one((x) => x.name === 'step route', 'workflow step');
    assert.equal(step.parentSpanId, pipeline.spanId, 'the step is a child of the event that scheduled it');
    const call = one((x) => x.attributes['hub.connector'] === 'wms' && x.parentSpanId === step.spanId, 'WMS connector call');
    assert.equal(call.kind, 3, 'a client span');
    assert.ok(typeof call.attributes['http.response.status_code'] === 'number');
    const delivery = one((x) => x.name === 'deliver order.released.v1', 'subscription delivery');
    assert.equal(delivery.parentSpanId, ingress.spanId, 'the delivery continues the trace context stored with the event');

    // the partner and the subscriber joined the trace
    const wmsCall = s.wmsSeen.find((w) => w.traceparent?.includes(call.spanId));
    assert.ok(wmsCall, `the WMS got the connector span's traceparent: ${JSON.stringify(s.wmsSeen)}`);
    assert.equal(wmsCall.traceparent, `00-${traceId}-${call.spanId}-01`);
    assert.equal(s.hookSeen[0]!.traceparent, `00-${traceId}-${delivery.spanId}-01`);
    // the stored event keeps the ingress span's context (and the body sent to subscribers carries it)
    const ev = await s.hub.db.pool.query<{ tp: string }>(`select extensions->>'traceparent' as tp from hub_events where id = 'rel-S90001'`);
    assert.equal(ev.rows[0]!.tp, `00-${traceId}-${ingress.spanId}-01`);
    assert.equal(s.hookSeen[0]!.body.traceparent, ev.rows[0]!.tp);
    // every export was OTLP JSON to the configured path
    assert.ok(s.otlp.requests.every((r) => r.path === '/v1/traces' && r.contentType.startsWith('application/json')));
    assert.ok(s.otlp.spans.every((x) => x.traceId.length === 32));

    // a partner webhook: the events it held keep the trace of the request (its own traceparent wins)
    const webhookTrace = hex(16);
    const own = `00-${hex(16)}-${hex(8)}-01`;
    const body = JSON.stringify([
      { specversion: '1.0', id: 'acme-1', source: 'urn:acme:tms', type: 'order.released.v1', data: { ...(EXAMPLE_EVENT_DATA['order.released.v1'] as object), orderId: 'ord-W1' } },
      { specversion: '1.0', id: 'acme-2', source: 'urn:acme:tms', type: 'order.released.v1', traceparent: own, data: { ...(EXAMPLE_EVENT_DATA['order.released.v1'] as object), orderId: 'ord-W2' } },
    ]);
    const wh = await fetch(`${s.hub.url}/v1/webhooks/acme`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${webhookTrace}-${hex(8)}-01`, ...standardHeaders([PARTNER_SECRET], 'msg_trace_1', Math.floor(Date.now() / 1000), body) },
      body,
    });
    assert.equal(wh.status, 202, await wh.text());
    const stored = await s.hub.db.pool.query<{ id: string; tp: string }>(`select id, extensions->>'traceparent' as tp from hub_events where source = 'urn:acme:tms' order by id`);
    assert.match(stored.rows[0]!.tp, new RegExp(`^00-${webhookTrace}-[0-9a-f]{16}-01$`));
    assert.equal(stored.rows[1]!.tp, own);
  } finally {
    await s.close();
  }
});

test('tracing is off by default: nothing is exported, the caller trace context still travels with the event', async () => {
  const s = await setup({});
  try {
    assert.equal(s.hub.tracing.enabled, false);
    const traceId = hex(16);
    const callerSpan = hex(8);
    const traceparent = `00-${traceId}-${callerSpan}-01`;
    const routed = stepRun(s.hub, 'route');
    await postRelease(s, traceparent, 'S90002');
    assert.equal((await routed).outcome, 'done');
    await until(() => s.hookSeen.length > 0, 'the subscription delivery');
    await s.hub.tracing.forceFlush();
    // requests to the API that carried no traceparent got none either; nothing reached the collector
    assert.deepEqual(s.otlp.requests, []);
    const ev = await s.hub.db.pool.query<{ tp: string }>(`select extensions->>'traceparent' as tp from hub_events where id = 'rel-S90002'`);
    assert.equal(ev.rows[0]!.tp, traceparent, 'stored as received');
    assert.ok(s.wmsSeen.some((w) => w.traceparent === traceparent), `the WMS got the caller's traceparent: ${JSON.stringify(s.wmsSeen)}`);
    assert.equal(s.hookSeen[0]!.traceparent, traceparent);
  } finally {
    await s.close();
  }
});
