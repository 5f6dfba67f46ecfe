/**
 * Contracts of the pipeline: what a stored event looks like, what a handler receives,
 * and what it may do inside the transaction that marks its event handled.
 */
import type { PoolClient } from 'pg';
import type { Clock } from '../platform/clock.ts';
import type { Logger } from '../platform/logger.ts';
import type { AuditEntryInput } from '../security/audit.ts';

/** A CloudEvent as accepted by ingress, before it is stored. */
export interface IncomingEvent {
  id: string;
  source: string;
  type: string;
  specversion: string;
  subject?: string | undefined;
  /** the CloudEvents `time` attribute (RFC 3339) */
  time?: string | undefined;
  /** when it happened: the data's own time field when its type has one, else `time`; orders timelines */
  occurredAt?: string | undefined;
  datacontenttype?: string | undefined;
  dataschema?: string | undefined;
  data?: unknown;
  /** CloudEvents extension attributes (partitionkey, traceparent, tenant...) */
  extensions: Record<string, string | number | boolean>;
  /** business key: partitionkey extension, else derived from the event type's key field */
  key: string;
  tenantId: string;
  correlationId?: string | undefined;
}

/** An event as stored in the inbox (hub_events). */
export interface StoredEvent {
  seq: number;
  tenantId: string;
  id: string;
  source: string;
  type: string;
  specversion: string;
  subject: string | null;
  key: string;
  time: Date | null;
  occurredAt: Date | null;
  receivedAt: Date;
  datacontenttype: string | null;
  dataschema: string | null;
  data: unknown;
  extensions: Record<string, unknown>;
  correlationId: string | null;
}

export interface OutboxMessage {
  topic: string;
  key?: string;
  /** consumers de-duplicate on it; the same msgId is written once */
  msgId: string;
  payload: unknown;
  headers?: Record<string, string>;
  tenantId?: string;
}

export interface TimerRequest {
  key: string;
  name: string;
  dueAt: Date;
  /** type of the event emitted when the timer fires */
  eventType: string;
  payload?: Record<string, unknown>;
  tenantId?: string;
}

export interface HandlerContext {
  /** the transaction that also marks the event handled: commit together or not at all */
  tx: PoolClient;
  clock: Clock;
  log: Logger;
  /** 1 for the first attempt */
  attempt: number;
  /** true when the event is replayed from the dead letters */
  replay: boolean;
  worker: string;
  outbox(msg: OutboxMessage): Promise<void>;
  scheduleTimer(t: TimerRequest): Promise<void>;
  cancelTimer(key: string, name: string): Promise<void>;
  raiseException(e: { code: string; message: string; severity?: string; details?: Record<string, unknown> }): Promise<void>;
  /** records a state change in the audit trail, committed with the event (tenant: the event's) */
  audit(e: Omit<AuditEntryInput, 'tenantId'> & { tenantId?: string }): void;
}

export interface Handler {
  /** stable name, shown in processing history */
  name: string;
  /** which event types it handles */
  matches(type: string): boolean;
  handle(event: StoredEvent, ctx: HandlerContext): Promise<void>;
}

export function rowToEvent(r: Record<string, unknown>): StoredEvent {
  return {
    seq: r.seq as number,
    tenantId: r.tenant_id as string,
    id: r.id as string,
    source: r.source as string,
    type: r.type as string,
    specversion: r.specversion as string,
    subject: (r.subject as string | null) ?? null,
    key: r.key as string,
    time: (r.time as Date | null) ?? null,
    occurredAt: (r.occurred_at as Date | null) ?? null,
    receivedAt: r.received_at as Date,
    datacontenttype: (r.datacontenttype as string | null) ?? null,
    dataschema: (r.dataschema as string | null) ?? null,
    data: r.data,
    extensions: (r.extensions as Record<string, unknown>) ?? {},
    correlationId: (r.correlation_id as string | null) ?? null,
  };
}
