/**
 * One trace through a partner and back: the demo landscape (Odoo, SimWMS, the EasyPost-style
 * aggregator, all over HTTP) with tracing on, exporting OTLP/HTTP JSON to a receiver of the test.
 * The hub releases an order to the warehouse with the traceparent of its client span; SimWMS
 * sends that trace context back on its webhooks about the order; the hub reads it, so the
 * warehouse's acknowledgement is a child of the hub's own release call, and the event it became
 * keeps the trace id (what the console shows as the order's trace).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freshDatabase } from '../helpers/db.ts';
import { startLandscape, type Landscape } from '../../src/demo/landscape.ts';

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
}

const spans: Span[] = [];
let receiver: Server;
let l: Landscape;
const db = await freshDatabase();

before(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans?: { scopeSpans?: { spans?: Span[] }[] }[] };
      for (const rs of doc.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push(s);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`;
  l = await startLandscape({ databaseUrl: db.url, captureIntervalMs: 1000, config: { observability: { tracing: { enabled: true, endpoint } } } });
});
after(async () => {
  await l?.stop();
  receiver?.close();
});

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows as T[];

test('the warehouse sends the trace context of the release back on its webhooks; the hub continues that trace', async () => {
  const so = l.odoo.db.call(2, 'sale.order', 'create', [{ partner_id: 10, client_order_ref: 'TRACE-1', order_line: [[0, 0, { product_id: 13, product_uom_qty: 1 }]] }], {}) as number;
  l.odoo.db.call(2, 'sale.order', 'action_confirm', [[so]], {});
  const name = (l.odoo.db.call(2, 'sale.order', 'read', [[so], ['name']], {}) as { name: string }[])[0]!.name;
  const orderId = `ord-${name}`;
  const deadline = Date.now() + 30_000;
  let ack: { traceparent?: string } | undefined;
  while (!ack) {
    assert.ok(Date.now() < deadline, 'the warehouse acknowledged the order');
    await l.east.advance(2);
    ack = (await q<{ traceparent?: string }>(`select extensions->>'traceparent' as traceparent from hub_events where type = 'fulfilment.acknowledged.v1' and key = $1`, [orderId]))[0];
    if (!ack) await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(ack.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/, 'the acknowledgement carries a trace context');
  const traceId = ack.traceparent!.split('-')[1]!;
  // the spans of the acknowledgement's handling are exported once it is handled: wait for them
  const until = Date.now() + 15_000;
  let inTrace: Span[] = [];
  while (!inTrace.some((s) => s.name === 'pipeline fulfilment.acknowledged.v1')) {
    assert.ok(Date.now() < until, `the acknowledgement is handled in the same trace: ${inTrace.map((s) => s.name).join(', ')}`);
    await l.hub.tracing.forceFlush();
    inTrace = spans.filter((s) => s.traceId === traceId);
    await new Promise((r) => setTimeout(r, 100));
  }
  // the hub's call that created the warehouse order, and the webhook request that came back as its child
  const release = inTrace.find((s) => s.name === 'wms release' && s.kind === 3);
  assert.ok(release, `the WMS release call in the trace: ${inTrace.map((s) => s.name).join(', ')}`);
  const webhook = inTrace.find((s) => s.kind === 2 && /webhooks/.test(s.name) && s.parentSpanId === release!.spanId);
  assert.ok(webhook, `the webhook request is a child of the release call: ${inTrace.map((s) => `${s.name}<-${s.parentSpanId}`).join(', ')}`);
  // the console's timeline of the order names the trace
  const { consoleTimeline } = await import('../../src/api/console-read-models.ts');
  const { SCOPES } = await import('../../src/domain/scopes.ts');
  const t = await consoleTimeline(db.pool, { tenantId: 'default', pii: true, scopes: new Set(SCOPES) }, orderId);
  assert.ok(t!.traceIds.includes(traceId));
});
