/**
 * Inbound WMS webhooks: checking a delivery's signature with the profile's settings, and
 * mapping its body through the profile into canonical events (`wmsWebhookMapper`, the
 * WebhookMapper the hub registers for partners configured with `mapper: wms:<profile>`).
 * Each event gets a CloudEvents id derived from the WMS event id, so a duplicate delivery
 * maps to the same ids and is stored once. A body that is not JSON, an unknown WMS event
 * type or a mapping the catalogue refuses is a BusinessError `wms.mapping_failed` with
 * the issues, never a crash.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { BusinessError } from '../../domain/errors.ts';
import { eventFromStructured } from '../../api/cloudevents.ts';
import { assignTenant, type WebhookMapper } from '../../pipeline/webhook-mappers.ts';
import { headerValue, verifyHmacHexSignature, verifyStandardSignature, STANDARD_HEADERS } from '../../security/webhook-signature.ts';
import type { IncomingEvent } from '../../pipeline/types.ts';
import { mapInbound, type InboundResult } from './mappers.ts';
import type { Profile } from './profile.ts';

/** True when the delivery carries a valid signature under one of the secrets, by the profile's scheme. */
export function verifyWmsSignature(profile: Profile, headers: IncomingHttpHeaders, body: Buffer, secrets: readonly string[]): boolean {
  const sig = profile.inbound.signature;
  if (sig.scheme === 'hmac-sha256-hex') {
    const h = headerValue(headers, sig.header);
    return h !== undefined && verifyHmacHexSignature(secrets, body, h);
  }
  const id = headerValue(headers, STANDARD_HEADERS.id);
  const ts = headerValue(headers, STANDARD_HEADERS.timestamp);
  const s = headerValue(headers, STANDARD_HEADERS.signature);
  return id !== undefined && ts !== undefined && s !== undefined && verifyStandardSignature(secrets, id, ts, body, s);
}

/** The partner settings (webhooks.partners.<name>) that match the profile's signature scheme. */
export function partnerSettings(profile: Profile): { scheme: 'standard' | 'hmac-sha256-hex'; signatureHeader: string; idHeader?: string; timestampHeader?: string; mapper: string } {
  const s = profile.inbound.signature;
  return {
    scheme: s.scheme,
    signatureHeader: s.header.toLowerCase(),
    ...(s.idHeader ? { idHeader: s.idHeader.toLowerCase() } : {}),
    ...(s.timestampHeader ? { timestampHeader: s.timestampHeader.toLowerCase() } : {}),
    mapper: `wms:${profile.id}`,
  };
}

/** Parses a delivery body as JSON; not JSON is wms.mapping_failed. */
export function parseDeliveryBody(body: Buffer | string): unknown {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BusinessError({ code: 'wms.mapping_failed', message: `the delivery body is not JSON: ${(e as Error).message}`, issues: [{ path: '', message: 'must be a JSON document' }] });
  }
}

/** A delivery body → the profile's mapping result (WMS type and id, canonical events). */
export async function mapDelivery(profile: Profile, body: Buffer | string, overrides: Record<string, string | number | boolean> = {}): Promise<InboundResult> {
  return mapInbound(profile, parseDeliveryBody(body), overrides);
}

/** The CloudEvents id of the i-th event mapped from a WMS event. */
export function eventIdOf(profile: Profile, dedupeKey: string, index: number): string {
  return `${profile.id}:${dedupeKey}:${index}`;
}

/**
 * The WebhookMapper of a profile, named `wms:<profile id>`: JSON bodies through the
 * profile into IncomingEvents of the partner's tenant, with the profile's source.
 */
export function wmsWebhookMapper(profile: Profile, overrides: Record<string, string | number | boolean> = {}): WebhookMapper {
  return {
    name: `wms:${profile.id}`,
    mediaTypes: ['application/json'],
    async map(d): Promise<IncomingEvent[]> {
      const r = await mapDelivery(profile, d.body, overrides);
      const events = r.events.map((e, i) =>
        eventFromStructured({ specversion: '1.0', id: eventIdOf(profile, r.dedupeKey, i), source: profile.source, type: e.type, data: e.data }, { correlationId: d.correlationId }),
      );
      return assignTenant(events, d.tenantId);
    },
  };
}
