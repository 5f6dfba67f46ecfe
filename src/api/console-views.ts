/**
 * The shapes the console's pages read (GET /v1/console/...): declared once, imported by the
 * server that builds them and by the browser code that shows them. Types only.
 */

export interface Overview {
  at: string;
  windowSeconds: number;
  eventsPerSecond: { total: number; byType: Array<{ type: string; rate: number }>; bySource: Array<{ source: string; rate: number }> };
  backlog: Array<{ queue: string; waiting: number; oldestSeconds: number | null }>;
  deadLetters: { open: number; replaying: number; byErrorClass: Array<{ errorClass: string; open: number }> };
  exceptions: { open: number; byClass: Array<{ class: string; open: number; critical: number }> };
}

export interface SearchHit {
  /** what to open: an order (workflow instance), a shipment, or any other business key */
  kind: 'order' | 'shipment' | 'purchase-order' | 'key';
  key: string;
  /** how the query matched: "tracking number of shipment SHP-1", "Odoo sale.order 42" ... */
  matchedBy: string;
  /** the order the hit belongs to, when known */
  order: string | null;
}

export interface ConsoleTimeline {
  key: string;
  order: string | null;
  shipments: Array<{ shipmentId: string; carrier: string | null; trackingNumber: string | null; status: string | null }>;
  workflow: { status: string; updatedAt: string } | null;
  traceIds: string[];
  correlationIds: string[];
  entries: TimelineItem[];
  partnerCalls: PartnerCall[];
  exceptions: Array<{ id: number; code: string; class: string; severity: string; status: string; message: string; createdAt: string }>;
  /** events of domains the viewer lacks the read scope for: left out */
  hiddenTypes: number;
  /** partner calls left out for want of orders:read */
  hiddenCalls: number;
}

export interface TimelineItem {
  seq: number;
  at: string;
  receivedAt: string;
  key: string;
  source: string;
  /** the system the event came from: odoo, wms, carrier:ups, hub (the workflow) ... */
  system: string;
  type: string;
  id: string;
  canonical: unknown;
  /** what the partner sent, as received, when the hub kept it (webhook deliveries) */
  raw: { contentType: string; body: string; receiptId: number; partner: string } | null;
  traceId: string | null;
  correlationId: string | null;
  status: 'done' | 'pending' | 'retrying' | 'dead';
  attempts: Array<{ attempt: number; outcome: string; errorCode: string | null; errorMessage: string | null; at: string }>;
}

export interface PartnerCall {
  id: number;
  partner: string;
  step: string;
  stepKey: string;
  status: string;
  attempts: number;
  createdAt: string;
  updatedAt: string;
  error: unknown;
  input: unknown;
  output: unknown;
}
