/**
 * Publishes outbox messages to NATS JetStream: subject `<prefix>.<topic>`, the outbox
 * msg_id as JetStream's Nats-Msg-Id (so a re-publish after a crash is dropped by the
 * stream's duplicate window), headers carried as NATS headers.
 */
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { OutboxRow, Publisher } from '../outbox.ts';

export class JetStreamPublisher implements Publisher {
  readonly name = 'nats-jetstream';
  #nc: NatsConnection;
  #js: JetStreamClient;
  readonly prefix: string;

  private constructor(nc: NatsConnection, js: JetStreamClient, prefix: string) {
    this.#nc = nc;
    this.#js = js;
    this.prefix = prefix;
  }

  /** Connects and makes sure the stream exists (subjects `<prefix>.>`). */
  static async connect(url: string, stream: string, prefix: string): Promise<JetStreamPublisher> {
    const nc = await connect({ servers: url, name: 'odoo-logistics-hub', maxReconnectAttempts: -1 });
    const jsm = await jetstreamManager(nc);
    try {
      await jsm.streams.info(stream);
    } catch {
      await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`], duplicate_window: 2 * 60 * 1_000_000_000 });
    }
    return new JetStreamPublisher(nc, jetstream(nc), prefix);
  }

  async publish(m: OutboxRow): Promise<void> {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(m.headers ?? {})) h.set(k, String(v));
    if (m.key) h.set('hub-key', m.key);
    h.set('hub-tenant', m.tenantId);
    await this.#js.publish(`${this.prefix}.${m.topic}`, JSON.stringify(m.payload), { msgID: m.msgId, headers: h });
  }

  async close(): Promise<void> {
    await this.#nc.drain();
  }
}
