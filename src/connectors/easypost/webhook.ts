/**
 * EasyPost webhooks: the signature check and the mapping of a tracker Event to scans.
 *
 * Signature (EasyPost's client libraries, `validate_webhook`): the header `X-Hmac-Signature`
 * is `hmac-sha256-hex=` followed by the hex HMAC-SHA256 of the raw request body, keyed by the
 * UTF-8 bytes of the webhook secret after Unicode NFKD normalisation. Verified on the exact
 * bytes received (never a re-serialised body), in constant time, against every configured
 * secret (several during a rotation).
 *
 * Events: `{ "object": "Event", "description": "tracker.created" | "tracker.updated", "result":
 * <Tracker>, ... }`. Other events (batch.*, payment.*, refund.*...) are not tracking and map to
 * undefined.
 *
 * `easyPostWebhookMapper()` is the WebhookMapper the hub registers (name `easypost`): one
 * `carrier.scans.received.v1` event per tracker Event, with the CloudEvents id
 * `easypost:<Event id>` so a repeated delivery of the same Event is stored once.
 */
import { createHmac } from 'node:crypto';
import { verifyHmacHexSignature } from '../../security/webhook-signature.ts';
import { eventFromStructured } from '../../api/cloudevents.ts';
import { dataschemaUrl } from '../../domain/catalogue.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { CarrierScan } from '../../domain/tracking.ts';
import { assignTenant, type WebhookMapper } from '../../pipeline/webhook-mappers.ts';
import type { IncomingEvent } from '../../pipeline/types.ts';
import { systemClock, type Clock } from '../../platform/clock.ts';
import { MalformedTrackerError, isTracker, trackerToScans } from './mappers.ts';

export const SIGNATURE_HEADER = 'x-hmac-signature';
const PREFIX = 'hmac-sha256-hex=';

/** The X-Hmac-Signature value EasyPost sends for `body` under `secret`. */
export function signEasyPostWebhook(secret: string, body: Buffer | string): string {
  return PREFIX + createHmac('sha256', Buffer.from(secret.normalize('NFKD'), 'utf8')).update(body).digest('hex');
}

/**
 * True when `header` is `hmac-sha256-hex=<64 hex digits>` (prefix and hex in either case,
 * surrounding blanks ignored) and equals the HMAC of `rawBody` under one of `secrets`.
 * Total: any input gives an answer, never an exception.
 */
export function verifyEasyPostSignature(rawBody: Buffer, header: string | undefined, secrets: string[]): boolean {
  // EasyPost always sends the prefix; the hub's hex scheme accepts it among others
  if (typeof header !== 'string' || !/^[ 	]*hmac-sha256-hex=/i.test(header)) return false;
  return verifyHmacHexSignature(secrets.filter((x) => typeof x === 'string'), rawBody, header.replace(/hmac-sha256-hex=/i, 'hmac-sha256-hex='));
}

export interface EasyPostTrackingUpdate {
  trackingNumber: string;
  scans: CarrierScan[];
}

/**
 * The scans of a tracker Event (the body parsed, or the raw bytes / text of it). Undefined for
 * an Event that is not about a Tracker. A tracker Event the mapper cannot read throws a
 * ValidationError (`easypost.webhook_malformed`) naming the field, so the delivery is kept as
 * unmapped rather than dropped.
 */
export function mapEasyPostEvent(body: unknown): EasyPostTrackingUpdate | undefined {
  let v = body;
  if (Buffer.isBuffer(v)) v = v.toString('utf8');
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      throw new ValidationError('easypost.webhook_malformed', 'the webhook body is not JSON');
    }
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const e = v as Record<string, unknown>;
  if (e.object !== 'Event' || typeof e.description !== 'string' || !e.description.startsWith('tracker.')) return undefined;
  if (!isTracker(e.result)) {
    throw new ValidationError('easypost.webhook_malformed', `${e.description} Event without a readable Tracker in result`, [{ path: '/result', message: 'must be a Tracker with tracking_code and status' }]);
  }
  try {
    return { trackingNumber: e.result.tracking_code, scans: trackerToScans(e.result) };
  } catch (err) {
    if (err instanceof MalformedTrackerError) {
      throw new ValidationError('easypost.webhook_malformed', err.message, [{ path: `/result${err.path}`, message: err.message }]);
    }
    throw err;
  }
}

/**
 * The WebhookMapper for EasyPost partners (`mapper: easypost`): a tracker Event becomes one
 * `carrier.scans.received.v1` (receivedVia `webhook`, receivedAt from `clock`), keyed by the
 * tracking number, id `easypost:<Event id>`; any other Event maps to no event.
 */
export function easyPostWebhookMapper(clock: Clock = systemClock): WebhookMapper {
  return {
    name: 'easypost',
    mediaTypes: ['application/json'],
    map(d): IncomingEvent[] {
      let parsed: unknown;
      try {
        parsed = JSON.parse(d.body.toString('utf8'));
      } catch {
        throw new ValidationError('easypost.webhook_malformed', 'the webhook body is not JSON');
      }
      const update = mapEasyPostEvent(parsed);
      if (!update) return [];
      const e = parsed as Record<string, unknown>;
      const eventId = typeof e.id === 'string' && /^[\x21-\x7e]{1,200}$/.test(e.id) ? e.id : undefined;
      if (!eventId) throw new ValidationError('easypost.webhook_malformed', 'the Event has no usable id', [{ path: '/id', message: 'must be a printable string' }]);
      const at = clock.now().toISOString();
      const data = { carrier: 'easypost', trackingNumber: update.trackingNumber, receivedVia: 'webhook', receivedAt: at, scans: update.scans };
      const event = eventFromStructured(
        {
          specversion: '1.0',
          id: `easypost:${eventId}`,
          source: 'urn:hub:tracking:easypost',
          type: 'carrier.scans.received.v1',
          subject: update.trackingNumber,
          time: at,
          datacontenttype: 'application/json',
          dataschema: dataschemaUrl('carrier.scans.received.v1'),
          data,
        },
        { correlationId: d.correlationId },
      );
      return assignTenant([event], d.tenantId);
    },
  };
}
