/**
 * How a stored partner webhook becomes canonical events. Each partner names a mapper in
 * its configuration (webhooks.partners.<name>.mapper). A mapper reads the raw body as it
 * was received and returns the events, or throws a HubError whose code and issues say why
 * the delivery cannot be mapped; the receipt is then kept as `unmapped` and a business
 * exception is raised (a partner's bad data is data, not a crash).
 *
 * Built in: `cloudevents`, a body that is one CloudEvent or a batch of them, read and
 * validated exactly as POST /v1/events reads them. The events belong to the partner's
 * tenant and keep the CloudEvents `source` the partner sent.
 */
import { ValidationError } from '../domain/errors.ts';
import { decodeJsonBody, isUtf8, parseContentType } from '../api/body.ts';
import { BATCH_MEDIA_TYPE, STRUCTURED_MEDIA_TYPE, eventFromStructured, eventsFromBatch } from '../api/cloudevents.ts';
import type { IncomingEvent } from './types.ts';

/** A stored delivery as a mapper sees it. */
export interface WebhookDelivery {
  receiptId: number;
  partner: string;
  /** the partner's tenant: every event belongs to it */
  tenantId: string;
  webhookId: string;
  /** Content-Type as received (normalised: media type and charset) */
  contentType: string;
  body: Buffer;
  /** correlation id for events that carry none */
  correlationId: string;
}

export interface MapperLimits {
  /** most events in one delivery (ingress.maxBatch) */
  maxBatch: number;
}

export interface WebhookMapper {
  name: string;
  /** media types (lower-case, without parameters) it reads; a delivery of another type is refused with 415 before it is stored */
  mediaTypes: readonly string[];
  map(delivery: WebhookDelivery, limits: MapperLimits): IncomingEvent[] | Promise<IncomingEvent[]>;
}

/** The events of a delivery belong to the partner's tenant; an event naming another tenant is refused. */
export function assignTenant(events: IncomingEvent[], tenantId: string): IncomingEvent[] {
  events.forEach((e, index) => {
    const named = e.extensions.tenant;
    if (named !== undefined && named !== tenantId) {
      throw new ValidationError('webhook.wrong_tenant', `event ${index} names tenant ${JSON.stringify(named)}, but the partner delivers for tenant ${tenantId}`, [
        { path: `/${index}/tenant`, message: `must be absent or ${tenantId}` },
      ]);
    }
    e.tenantId = tenantId;
  });
  return events;
}

const CLOUDEVENTS_MEDIA_TYPES = ['application/json', STRUCTURED_MEDIA_TYPE, BATCH_MEDIA_TYPE] as const;

export const cloudEventsMapper: WebhookMapper = {
  name: 'cloudevents',
  mediaTypes: CLOUDEVENTS_MEDIA_TYPES,
  map(d, limits) {
    const ct = parseContentType(d.contentType);
    if (!ct || !(CLOUDEVENTS_MEDIA_TYPES as readonly string[]).includes(ct.mediaType) || !isUtf8(ct)) {
      throw new ValidationError('webhook.unsupported_media_type', `the cloudevents mapper reads ${CLOUDEVENTS_MEDIA_TYPES.join(', ')} in UTF-8, not ${d.contentType}`);
    }
    const value = decodeJsonBody(d.body, false);
    const defaults = { correlationId: d.correlationId };
    // plain JSON: an array is a batch, anything else one structured event
    const batch = ct.mediaType === BATCH_MEDIA_TYPE || (ct.mediaType === 'application/json' && Array.isArray(value));
    const events = batch ? eventsFromBatch(value, defaults, limits.maxBatch) : [eventFromStructured(value, defaults)];
    return assignTenant(events, d.tenantId);
  },
};

const registry = new Map<string, WebhookMapper>([[cloudEventsMapper.name, cloudEventsMapper]]);

/** Adds (or replaces) a mapper; partners refer to it by name. */
export function registerWebhookMapper(m: WebhookMapper): void {
  registry.set(m.name, m);
}

export function getWebhookMapper(name: string): WebhookMapper | undefined {
  return registry.get(name);
}

export function webhookMapperNames(): string[] {
  return [...registry.keys()].sort();
}
