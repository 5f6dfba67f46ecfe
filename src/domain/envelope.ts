/**
 * The CloudEvents 1.0 envelope (JSON event format, structured mode) of canonical events:
 * the core attributes, the extensions the hub understands, and `data` as JSON.
 * Published as schemas/cloudevent.json; each type's data schema is at its `dataschema`.
 */
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';

/** CloudEvents extension attributes the hub reads or writes. */
export const HUB_EXTENSIONS = {
  partitionkey: 'business key; overrides the key derived from the data (CloudEvents Partitioning extension)',
  tenant: 'tenant (company) the event belongs to; "default" when absent',
  correlationid: 'id shared by every event and log line of one business flow',
  traceparent: 'W3C trace context (CloudEvents Distributed Tracing extension)',
  tracestate: 'W3C trace context vendor state',
  hubreceipt: 'set by the hub on events mapped from a partner webhook: the id of the stored delivery (the receiptId the webhook answered), whose raw body the console shows beside the event',
  replayof: 'set by the hub on an event fed in again with corrected data from the exception workbench: the id of the original event',
} as const;

export const CloudEventEnvelope = Type.Object(
  {
    specversion: Type.Literal('1.0'),
    id: Type.String({ minLength: 1, maxLength: 256, description: 'unique per source; a redelivery keeps the same id' }),
    source: Type.String({ minLength: 1, maxLength: 1024, description: 'URI-reference of the producer, e.g. "urn:hub:connector:ups"' }),
    type: Type.String({ pattern: '^[a-z][a-z0-9-]*(?:\\.[a-z][a-z0-9-]*)+\\.v[1-9][0-9]*$', maxLength: 256, description: 'an event type of the catalogue' }),
    subject: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    time: Type.Optional(Type.String({ format: 'date-time', description: 'when the occurrence happened' })),
    datacontenttype: Type.Optional(Type.String({ pattern: '^application/(?:[A-Za-z0-9.+-]+\\+)?json(?:\\s*;.*)?$', description: 'application/json or a +json type' })),
    dataschema: Type.Optional(Type.String({ format: 'uri', description: 'the published schema of data' })),
    data: Type.Optional(Type.Unknown({ description: 'the event data, valid against the schema of its type' })),
    partitionkey: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: HUB_EXTENSIONS.partitionkey })),
    tenant: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: HUB_EXTENSIONS.tenant })),
    correlationid: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: HUB_EXTENSIONS.correlationid })),
    traceparent: Type.Optional(Type.String({ pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$', description: HUB_EXTENSIONS.traceparent })),
    tracestate: Type.Optional(Type.String({ maxLength: 512, description: HUB_EXTENSIONS.tracestate })),
    hubreceipt: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,18}$', description: HUB_EXTENSIONS.hubreceipt })),
    replayof: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: HUB_EXTENSIONS.replayof })),
  },
  {
    title: 'CloudEvent',
    description: 'A canonical event in the CloudEvents 1.0 JSON format. Other extension attributes are allowed: lower-case letters and digits, at most 20 characters.',
    // Extensions: any other attribute with a valid name and a scalar value. TypeBox checks
    // the value; propertyNames is enforced by JSON Schema validators of the published file.
    additionalProperties: Type.Union([Type.String(), Type.Integer(), Type.Boolean()]),
    propertyNames: { pattern: '^[a-z0-9]{1,20}$' },
  },
);
export type CloudEventEnvelope = Static<typeof CloudEventEnvelope>;
