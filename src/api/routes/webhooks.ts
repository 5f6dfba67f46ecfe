/**
 * POST /v1/webhooks/{partner}: deliveries from logistics partners, authenticated by their
 * signature instead of a bearer token (docs/webhooks.md is the partner's guide).
 *
 * Checks, in this order, each refusal a problem+json with a stable code, one row in the
 * security log and a warn line, and nothing else stored:
 *   404 webhook.unknown_partner, 403 webhook.ip_not_allowed, 413 webhook.body_too_large
 *   (the partner's own limit: Content-Length before the body is read, the bytes after),
 *   415 webhook.unsupported_media_type, 400 webhook.missing_headers (naming them),
 *   400 webhook.bad_id, 400 webhook.bad_timestamp, 401 webhook.timestamp_too_old or
 *   webhook.timestamp_in_future, 503 webhook.secret_missing (no usable secret stored),
 *   401 webhook.signature_invalid, then for an id already received 409 webhook.id_reused
 *   (another body), 409 webhook.replayed (same body and signed timestamp) or 200
 *   duplicate (a sender's retry: same body, new timestamp; not processed again).
 *
 * An accepted delivery is stored raw (webhook-receipts.ts) and committed before anything
 * else, then mapped to canonical events; a delivery that cannot be mapped is kept and
 * raises a business exception, and the partner still gets 202: its delivery is ours.
 *
 * The body is kept as the exact bytes received (the signature covers them): this plugin
 * replaces the JSON parsers with one that reads a Buffer, bounded by the largest limit of
 * any partner; each partner's own limit is checked here.
 */
import { BlockList, isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ConfigError, HubError, PermanentError, TransientError, type FieldIssue } from '../../domain/errors.ts';
import type { HubConfig } from '../../platform/config.ts';
import { SECRET_NAME, activeSecretValues } from '../../security/secrets.ts';
import { logSecurityEvent } from '../../security/security-log.ts';
import {
  STANDARD_HEADERS,
  bodyDigest,
  checkTimestamp,
  headerValue,
  isValidWebhookId,
  parseWebhookTimestamp,
  secretKey,
  verifyHmacHexSignature,
  verifyStandardSignature,
} from '../../security/webhook-signature.ts';
import { getWebhookMapper, webhookMapperNames, type WebhookMapper } from '../../pipeline/webhook-mappers.ts';
import { classifyRepeat, mapReceipt, storeReceipt, type MapOutcome, type Receipt } from '../../pipeline/webhook-receipts.ts';
import { isUtf8, parseContentType } from '../body.ts';
import { BATCH_MEDIA_TYPE, STRUCTURED_MEDIA_TYPE } from '../cloudevents.ts';
import type { ApiContext } from '../context.ts';
import { sendProblem, toHubError } from '../problem.ts';
import { CloudEvent, DateTime, problems, route } from '../schemas.ts';

// ----------------------------------------------------------------------------- schemas

export const WebhookAccepted = Type.Object(
  {
    status: Type.Literal('accepted'),
    receiptId: Type.Integer({ description: 'the stored delivery; quote it when asking about this delivery' }),
    events: Type.Integer({ minimum: 0, description: 'canonical events the body held (0 when it was not mapped)' }),
    mapped: Type.Boolean({ description: 'false: the delivery is stored but could not be mapped (yet); an exception was raised or mapping is retried' }),
  },
  { title: 'WebhookAccepted', description: 'the delivery is stored durably (before this answer); `mapped` says whether it became canonical events' },
);

export const WebhookDuplicate = Type.Object(
  {
    status: Type.Literal('duplicate'),
    receiptId: Type.Integer({ description: 'the delivery first received under this webhook id' }),
    receivedAt: DateTime('when it was first received'),
  },
  { title: 'WebhookDuplicate', description: 'a retry of a delivery already received (same webhook id and body, newly signed): not processed again' },
);

const PARTNER_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export const WEBHOOK_ROUTES = {
  receiveWebhook: route({
    method: 'POST',
    url: '/v1/webhooks/:partner',
    config: { auth: { kind: 'signature' } },
    schema: {
      operationId: 'receiveWebhook',
      summary: 'Receive a signed webhook delivery from a partner',
      description:
        'Standard Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp` (Unix seconds, within webhooks.toleranceSeconds of now, ' +
        'both directions) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, several space-separated during a secret rotation). ' +
        'Partners configured with the hmac-sha256-hex scheme sign the body alone (hex HMAC-SHA256 in their signature header) and may be restricted to source addresses. ' +
        'The raw body is stored before the answer, then mapped to canonical events by the partner\'s mapper (cloudevents: one CloudEvent or a batch). ' +
        'A webhook id already received answers 200 duplicate for a retry (same body, new timestamp), 409 for a replay (same timestamp) or a reused id (other body).',
      tags: ['webhooks'],
      params: Type.Object({ partner: Type.String({ pattern: PARTNER_NAME.source, description: 'the partner\'s name in webhooks.partners' }) }),
      headers: Type.Object({
        'webhook-id': Type.Optional(Type.String({ maxLength: 256, description: 'standard scheme: unique id of the delivery (printable ASCII, at most 256 characters), the same on every retry' })),
        'webhook-timestamp': Type.Optional(Type.String({ pattern: '^[0-9]{1,12}$', description: 'standard scheme: Unix time in seconds when the delivery was signed' })),
        'webhook-signature': Type.Optional(Type.String({ description: 'standard scheme: space-separated `v1,<base64>` signatures' })),
        'x-hmac-signature': Type.Optional(Type.String({ description: 'hmac-sha256-hex scheme: hex HMAC-SHA256 of the body (the header name is configurable per partner)' })),
      }),
      body: {
        content: {
          'application/json': { schema: Type.Unknown({ description: 'cloudevents mapper: one CloudEvent (an object) or a batch (an array)' }) },
          [STRUCTURED_MEDIA_TYPE]: { schema: CloudEvent },
          [BATCH_MEDIA_TYPE]: { schema: Type.Array(CloudEvent, { minItems: 1, description: 'at most ingress.maxBatch events' }) },
        },
      },
      response: {
        200: WebhookDuplicate,
        202: WebhookAccepted,
        ...problems({
          400: 'webhook.missing_headers (names them), webhook.bad_id, webhook.bad_timestamp',
          401: 'webhook.timestamp_too_old, webhook.timestamp_in_future, webhook.signature_invalid',
          403: 'webhook.ip_not_allowed',
          404: 'webhook.unknown_partner',
          409: 'webhook.replayed (same id, body and timestamp), webhook.id_reused (same id, other body)',
          413: 'webhook.body_too_large',
          415: 'webhook.unsupported_media_type',
          503: 'webhook.secret_missing: no usable signing secret is configured for the partner',
        }),
      },
    },
  }),
} as const;


// ----------------------------------------------------------------------------- partners

/** A partner's configuration, checked and compiled once. */
export interface PartnerPolicy {
  name: string;
  tenantId: string;
  scheme: 'standard' | 'hmac-sha256-hex';
  /** name of the stored secret */
  secret: string;
  signatureHeader: string;
  idHeader: string | undefined;
  timestampHeader: string | undefined;
  /** source addresses allowed; undefined allows any */
  allow: BlockList | undefined;
  toleranceSeconds: number;
  maxBodyBytes: number;
  mapper: WebhookMapper;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

function allowList(entries: readonly string[], key: string): BlockList | undefined {
  if (!entries.length) return undefined;
  const list = new BlockList();
  entries.forEach((entry, i) => {
    const [address = '', prefix, extra] = entry.trim().split('/');
    const family = isIP(address);
    const where = `${key}[${i}]`;
    if (!family || extra !== undefined) throw new ConfigError(where, `${JSON.stringify(entry)} is not an IPv4 or IPv6 address or CIDR range`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) {
      list.addAddress(address, type);
      return;
    }
    const bits = /^[0-9]{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    if (!(bits >= 0 && bits <= (family === 4 ? 32 : 128))) throw new ConfigError(where, `${JSON.stringify(entry)}: the prefix length must be 0 to ${family === 4 ? 32 : 128}`);
    list.addSubnet(address, bits, type);
  });
  return list;
}

/** Whether a client address is on the list; IPv4 clients seen as IPv4-mapped IPv6 (::ffff:a.b.c.d) match IPv4 entries. */
export function addressAllowed(list: BlockList, address: string): boolean {
  const family = isIP(address);
  if (!family) return false;
  if (list.check(address, family === 4 ? 'ipv4' : 'ipv6')) return true;
  const mapped = /^::ffff:([0-9.]+)$/i.exec(address)?.[1];
  return mapped !== undefined && isIP(mapped) === 4 && list.check(mapped, 'ipv4');
}

function headerName(value: string | undefined, key: string): string | undefined {
  if (value === undefined) return undefined;
  const name = value.trim().toLowerCase();
  if (!HEADER_NAME.test(name)) throw new ConfigError(key, `${JSON.stringify(value)} is not a header name`);
  return name;
}

/** The partners of the configuration, checked: a mistake fails at start, naming the key. */
export function compilePartners(webhooks: HubConfig['webhooks']): Map<string, PartnerPolicy> {
  const out = new Map<string, PartnerPolicy>();
  for (const [name, p] of Object.entries(webhooks.partners)) {
    const key = `webhooks.partners.${name}`;
    const mapper = getWebhookMapper(p.mapper);
    if (!mapper) throw new ConfigError(`${key}.mapper`, `no webhook mapper is named ${JSON.stringify(p.mapper)} (known: ${webhookMapperNames().join(', ')})`);
    if (!SECRET_NAME.test(p.secret)) throw new ConfigError(`${key}.secret`, `${JSON.stringify(p.secret)} is not a secret name`);
    out.set(name, {
      name,
      tenantId: p.tenant,
      scheme: p.scheme,
      secret: p.secret,
      signatureHeader: headerName(p.signatureHeader, `${key}.signatureHeader`)!,
      idHeader: headerName(p.idHeader, `${key}.idHeader`),
      timestampHeader: headerName(p.timestampHeader, `${key}.timestampHeader`),
      allow: allowList(p.allowIps, `${key}.allowIps`),
      toleranceSeconds: p.toleranceSeconds ?? webhooks.toleranceSeconds,
      maxBodyBytes: p.maxBodyBytes ?? webhooks.maxBodyBytes,
      mapper,
    });
  }
  return out;
}

// ----------------------------------------------------------------------------- checks

function refuse(code: string, status: number, message: string, issues: FieldIssue[] = []): HubError {
  if (status >= 500) return new TransientError({ code, message, status, issues, retryAfterMs: 60_000 });
  return new PermanentError({ code, message, status, issues });
}

/** Fastify's own refusals of the body, under this route's codes. */
function asWebhookError(err: unknown): HubError {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return refuse('webhook.body_too_large', 413, 'the body is larger than any partner may send');
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return refuse('webhook.unsupported_media_type', 415, 'the Content-Type header is malformed', [{ path: 'content-type', message: 'is not a valid media type' }]);
  }
  return toHubError(err);
}

/** The Content-Type the partner's mapper reads (normalised), else 415. */
function acceptedContentType(request: FastifyRequest, p: PartnerPolicy): string {
  const raw = request.headers['content-type'];
  const ct = parseContentType(raw);
  const accepted = p.mapper.mediaTypes.join(', ');
  if (!ct) {
    throw refuse('webhook.unsupported_media_type', 415, `send the body as one of ${accepted}`, [{ path: 'content-type', message: raw ? 'is not a valid media type' : 'is required' }]);
  }
  if (!p.mapper.mediaTypes.includes(ct.mediaType)) {
    throw refuse('webhook.unsupported_media_type', 415, `${ct.mediaType} is not accepted from ${p.name}; send one of ${accepted}`, [{ path: 'content-type', message: 'is not supported' }]);
  }
  if (!isUtf8(ct)) throw refuse('webhook.unsupported_media_type', 415, 'the body must be UTF-8', [{ path: 'content-type', message: 'charset must be utf-8' }]);
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw refuse('webhook.unsupported_media_type', 415, 'compressed bodies are not accepted', [{ path: 'content-encoding', message: 'must be absent or identity' }]);
  }
  return ct.charset ? `${ct.mediaType}; charset=${ct.charset}` : ct.mediaType;
}

interface SignedDelivery {
  webhookId: string;
  /** the signed timestamp as sent, and in seconds; absent when the scheme has none */
  timestamp: { text: string; seconds: number } | undefined;
  signature: string;
}

/** The delivery's id, timestamp and signature from the headers of the partner's scheme; 400 when missing or malformed. */
function signedDelivery(request: FastifyRequest, p: PartnerPolicy, body: Buffer): SignedDelivery {
  const h = request.headers;
  const names =
    p.scheme === 'standard'
      ? { id: STANDARD_HEADERS.id, timestamp: STANDARD_HEADERS.timestamp, signature: STANDARD_HEADERS.signature }
      : { id: p.idHeader, timestamp: p.timestampHeader, signature: p.signatureHeader };
  const id = names.id === undefined ? bodyDigest(body).toString('hex') : headerValue(h, names.id);
  const timestamp = names.timestamp === undefined ? undefined : headerValue(h, names.timestamp);
  const signature = headerValue(h, names.signature);
  const missing = [
    ...(id === undefined ? [names.id!] : []),
    ...(names.timestamp !== undefined && timestamp === undefined ? [names.timestamp] : []),
    ...(signature === undefined ? [names.signature] : []),
  ];
  if (missing.length) {
    throw refuse('webhook.missing_headers', 400, `missing ${missing.join(', ')}`, missing.map((name) => ({ path: name, message: 'is required' })));
  }
  if (!isValidWebhookId(id!)) {
    throw refuse('webhook.bad_id', 400, 'the webhook id must be 1 to 256 printable ASCII characters without spaces', [{ path: names.id!, message: 'is not a usable id' }]);
  }
  let ts: SignedDelivery['timestamp'];
  if (timestamp !== undefined) {
    const parsed = parseWebhookTimestamp(timestamp);
    if (!parsed.ok) throw refuse('webhook.bad_timestamp', 400, `the timestamp ${parsed.reason}`, [{ path: names.timestamp!, message: parsed.reason }]);
    ts = { text: timestamp.trim(), seconds: parsed.seconds };
  }
  return { webhookId: id!, timestamp: ts, signature: signature! };
}

// ----------------------------------------------------------------------------- plugin

export async function webhookRoutes(app: FastifyInstance, { ctx }: { ctx: ApiContext }): Promise<void> {
  const partners = compilePartners(ctx.config.webhooks);
  const largest = Math.max(ctx.config.webhooks.maxBodyBytes, ...[...partners.values()].map((p) => p.maxBodyBytes));
  /** the partner of each request past the first check */
  const partnerOf = new WeakMap<FastifyRequest, PartnerPolicy>();
  const claimedPartner = (request: FastifyRequest) => String((request.params as { partner?: unknown } | undefined)?.partner ?? '');

  const securityLog = async (request: FastifyRequest, code: string, detail: string) => {
    const p = partnerOf.get(request);
    try {
      await logSecurityEvent(ctx.pool, {
        kind: 'webhook',
        code,
        tenantId: p?.tenantId,
        partner: p?.name ?? claimedPartner(request),
        remoteIp: request.ip,
        detail,
        correlationId: request.correlationId || String(request.id),
      });
    } catch (err) {
      request.log.error({ err, errorCode: code }, 'the security log entry could not be written');
    }
  };

  // the exact bytes: the signature covers them, and they are what is stored
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: largest }, (_request, body, done) => done(null, body));

  app.setErrorHandler(async (err, request, reply) => {
    const hub = asWebhookError(err);
    if (hub.status >= 500 && !hub.code.startsWith('webhook.')) {
      if (hub.code === 'internal') request.log.error({ err, errorCode: hub.code }, 'request failed');
      else request.log.warn({ errorCode: hub.code, statusCode: hub.status }, 'request refused');
    } else {
      request.log.warn({ partner: partnerOf.get(request)?.name ?? claimedPartner(request), errorCode: hub.code, statusCode: hub.status, remoteIp: request.ip }, 'webhook rejected');
      await securityLog(request, hub.code, hub.message);
    }
    return sendProblem(request, reply, hub);
  });

  app.route({
    ...WEBHOOK_ROUTES.receiveWebhook,
    // every check is made here, in a fixed order with precise codes
    validatorCompiler: () => () => true,
    onRequest: async (request) => {
      const name = claimedPartner(request);
      const p = partners.get(name);
      if (!p) throw refuse('webhook.unknown_partner', 404, `no partner is configured as ${JSON.stringify(name.slice(0, 64))}`);
      partnerOf.set(request, p);
      if (p.allow && !addressAllowed(p.allow, request.ip)) throw refuse('webhook.ip_not_allowed', 403, `deliveries for ${p.name} are not accepted from ${request.ip}`);
      const length = Number(request.headers['content-length']);
      if (length > p.maxBodyBytes) throw refuse('webhook.body_too_large', 413, `the body is ${length} bytes; ${p.name} may send at most ${p.maxBodyBytes}`);
    },
    handler: async (request, reply) => {
      const p = partnerOf.get(request)!;
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      if (body.length > p.maxBodyBytes) throw refuse('webhook.body_too_large', 413, `the body is ${body.length} bytes; ${p.name} may send at most ${p.maxBodyBytes}`);
      const contentType = acceptedContentType(request, p);
      const d = signedDelivery(request, p, body);

      if (d.timestamp) {
        const t = checkTimestamp(d.timestamp.seconds, ctx.clock.now(), p.toleranceSeconds);
        if (!t.ok) {
          const [code, when] = t.reason === 'too_old' ? ['webhook.timestamp_too_old', 'old'] : ['webhook.timestamp_in_future', 'in the future'];
          throw refuse(code, 401, `the timestamp is ${t.skewSeconds} s ${when}; at most ${p.toleranceSeconds} s is accepted (sign each attempt anew, keep the clock in sync)`);
        }
      }

      let secrets: string[];
      try {
        secrets = await activeSecretValues(ctx.pool, ctx.keyring, p.tenantId, p.secret);
      } catch (err) {
        if (!(err instanceof HubError)) throw err; // the database: 503 dependency.unavailable
        request.log.error({ err, partner: p.name, secretName: p.secret }, 'the partner\'s signing secret cannot be opened');
        throw refuse('webhook.secret_missing', 503, `no usable signing secret is configured for ${p.name}`);
      }
      const usable = p.scheme === 'standard' ? secrets.filter((s) => secretKey(s) !== undefined) : secrets;
      if (!usable.length) {
        request.log.error({ partner: p.name, secretName: p.secret, tenant: p.tenantId, versions: secrets.length }, secrets.length ? 'the partner\'s signing secret is not a whsec_ secret' : 'the partner\'s signing secret is not stored');
        throw refuse('webhook.secret_missing', 503, `no usable signing secret is configured for ${p.name}`);
      }
      const valid =
        p.scheme === 'standard'
          ? verifyStandardSignature(usable, d.webhookId, d.timestamp!.text, body, d.signature)
          : verifyHmacHexSignature(usable, body, d.signature);
      if (!valid) throw refuse('webhook.signature_invalid', 401, 'no signature matches the body with any current secret of the partner');

      const signedAt = d.timestamp ? new Date(d.timestamp.seconds * 1000) : null;
      const store = await storeReceipt(ctx.pool, { tenantId: p.tenantId, partner: p.name, webhookId: d.webhookId, signedAt, contentType, body });
      if (!store.stored) {
        const existing: Receipt = store.existing;
        const repeat = classifyRepeat(existing, body, signedAt);
        if (repeat === 'id_reused') throw refuse('webhook.id_reused', 409, `the webhook id ${d.webhookId} was already used for another body (receipt ${existing.id}); use a new id for a new delivery`);
        if (repeat === 'replayed') throw refuse('webhook.replayed', 409, `this delivery (same id, timestamp and body) was already received at ${existing.receivedAt.toISOString()} (receipt ${existing.id})`);
        request.log.info({ partner: p.name, webhookId: d.webhookId, receiptId: existing.id }, 'webhook duplicate: not processed again');
        await securityLog(request, 'webhook.duplicate', `webhook id ${d.webhookId} already received at ${existing.receivedAt.toISOString()} (receipt ${existing.id}); answered as a duplicate`);
        reply.code(200);
        return { status: 'duplicate' as const, receiptId: existing.id, receivedAt: existing.receivedAt.toISOString() };
      }

      const receipt = store.receipt;
      let outcome: MapOutcome;
      try {
        outcome = await mapReceipt(
          { pool: ctx.pool, log: ctx.log.child({ correlationId: request.correlationId }), config: ctx.config, ingest: ctx.ingest },
          { receiptId: receipt.id, partner: p.name, tenantId: p.tenantId, webhookId: d.webhookId, contentType, body, correlationId: request.correlationId || String(request.id) },
          p.mapper.name,
        );
      } catch (err) {
        // stored and committed: the partner's part is done, the periodic mapping takes over
        request.log.error({ err, receiptId: receipt.id }, 'webhook stored, its mapping could not be recorded');
        outcome = { status: 'stored', error: (err as Error)?.message ?? String(err) };
      }
      reply.code(202);
      return { status: 'accepted' as const, receiptId: receipt.id, events: outcome.status === 'mapped' ? outcome.events : 0, mapped: outcome.status === 'mapped' };
    },
  });
}
