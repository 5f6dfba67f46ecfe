/**
 * Streams every handled canonical event to other consumers through the outbox: the
 * message is written in the pipeline's transaction and published by the relay (NATS
 * JetStream subject `<prefix>.<type>`), with the CloudEvent identity as the message id.
 */
import type { Handler } from '../types.ts';

export const streamHandler: Handler = {
  name: 'stream.canonical-events',
  matches: () => true,
  async handle(e, ctx) {
    await ctx.outbox({
      topic: e.type,
      key: e.key,
      msgId: `${e.source}|${e.id}`,
      tenantId: e.tenantId,
      payload: {
        specversion: '1.0',
        id: e.id,
        source: e.source,
        type: e.type,
        ...(e.subject ? { subject: e.subject } : {}),
        ...(e.time ? { time: e.time.toISOString() } : {}),
        datacontenttype: e.datacontenttype ?? 'application/json',
        partitionkey: e.key,
        ...(e.correlationId ? { correlationid: e.correlationId } : {}),
        data: e.data,
      },
      headers: { 'ce-type': e.type, 'ce-source': e.source, 'ce-id': e.id },
    });
  },
};
