/**
 * Webhook signatures.
 *
 * Standard Webhooks (https://www.standardwebhooks.com): headers `webhook-id`,
 * `webhook-timestamp` (Unix seconds) and `webhook-signature`, a space-separated list of
 * `v1,<base64 HMAC-SHA256>` over `<id>.<timestamp>.<body>`, keyed by the bytes of the
 * secret (`whsec_` + base64). Several signatures may be present (the sender signs with
 * every secret it holds during a rotation); one valid signature is enough.
 *
 * Partners that do not follow the standard: `hmac-sha256-hex`, the hex HMAC-SHA256 of the
 * raw body keyed by the UTF-8 bytes of the secret as stored (optionally `sha256=` in
 * front), in a header of the partner's choosing.
 *
 * The parsing helpers here are total: any header value gives an answer, never an exception.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const SECRET_PREFIX = 'whsec_';

/** Header names of the standard scheme (lower-case, as Node presents them). */
export const STANDARD_HEADERS = { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' } as const;

/** A usable webhook id: printable ASCII without spaces, at most 256 characters (it is part of a unique index). */
export const WEBHOOK_ID = /^[\x21-\x7e]{1,256}$/;

/** Most characters of a signature header considered (a sender holds a handful of secrets at most). */
const MAX_SIGNATURE_HEADER = 4096;

/** A new Standard Webhooks secret: whsec_ + base64 of 24 random bytes. */
export function generateWebhookSecret(bytes = 24): string {
  return SECRET_PREFIX + randomBytes(bytes).toString('base64');
}

/** The key bytes of a secret (`whsec_` + base64); undefined when it is not one. */
export function secretKey(secret: string): Buffer | undefined {
  if (!secret.startsWith(SECRET_PREFIX)) return undefined;
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined;
  const key = Buffer.from(b64, 'base64');
  return key.length >= 16 && key.length <= 64 ? key : undefined;
}

/** `v1,<base64>` for one secret. */
export function signStandard(secret: string, id: string, timestampSeconds: number, body: Buffer | string): string {
  const key = secretKey(secret);
  if (!key) throw new Error('not a Standard Webhooks secret (whsec_ + base64 of 16 to 64 bytes)');
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/** The three headers of a signed delivery (signed with every given secret). */
export function standardHeaders(secrets: readonly string[], id: string, timestampSeconds: number, body: Buffer | string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((s) => signStandard(s, id, timestampSeconds, body)).join(' '),
  };
}

export interface SignatureEntry {
  /** v1 (HMAC-SHA256), v1a (asymmetric, not accepted here), ... */
  version: string;
  signature: string;
}

/** The entries of a `webhook-signature` header: space-separated `<version>,<signature>`; malformed entries are skipped. */
export function parseSignatureHeader(header: string): SignatureEntry[] {
  const out: SignatureEntry[] = [];
  for (const part of header.slice(0, MAX_SIGNATURE_HEADER).split(/[ \t]+/)) {
    const comma = part.indexOf(',');
    if (comma <= 0 || comma === part.length - 1) continue;
    out.push({ version: part.slice(0, comma), signature: part.slice(comma + 1) });
  }
  return out;
}

/** Canonical base64 of a 32-byte MAC (44 characters ending in one `=`). */
const MAC_BASE64 = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/** True when any `v1,` signature in the header matches any of the secrets. Constant-time per comparison. */
export function verifyStandardSignature(secrets: readonly string[], id: string, timestamp: string, body: Buffer, signatureHeader: string): boolean {
  const given = parseSignatureHeader(signatureHeader)
    .filter((e) => e.version === 'v1' && MAC_BASE64.test(e.signature))
    .map((e) => Buffer.from(e.signature, 'base64'));
  if (!given.length) return false;
  let ok = false;
  for (const secret of secrets) {
    const key = secretKey(secret);
    if (!key) continue;
    const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
    for (const g of given) if (g.length === expected.length && timingSafeEqual(g, expected)) ok = true;
  }
  return ok;
}

/** Hex HMAC-SHA256 of the body, keyed by the UTF-8 bytes of the secret (the hmac-sha256-hex scheme). */
export function signHmacHex(secret: string, body: Buffer | string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex');
}

/**
 * True when the header (64 hex digits, either case, optionally `sha256=` or EasyPost's
 * `hmac-sha256-hex=` in front) is the HMAC of the body under any of the secrets, each taken in
 * Unicode NFKD form as EasyPost documents (no change for ASCII secrets). Constant-time per
 * comparison.
 */
export function verifyHmacHexSignature(secrets: readonly string[], body: Buffer, signatureHeader: string): boolean {
  const m = /^[ \t]*(?:sha256=|hmac-sha256-hex=)?([0-9A-Fa-f]{64})[ \t]*$/.exec(signatureHeader);
  if (!m) return false;
  const given = Buffer.from(m[1]!, 'hex');
  let ok = false;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    const expected = createHmac('sha256', Buffer.from(secret.normalize('NFKD'), 'utf8')).update(body).digest();
    if (timingSafeEqual(given, expected)) ok = true;
  }
  return ok;
}

/** The value of a request header; undefined when absent or blank. Node joins repeated headers with ", ". */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  const s = Array.isArray(v) ? v.join(', ') : v;
  return s === undefined || s.trim() === '' ? undefined : s;
}

export type TimestampParse = { ok: true; seconds: number } | { ok: false; reason: string };

/** A `webhook-timestamp`: Unix seconds as a plain decimal integer (no sign, fraction or exponent). */
export function parseWebhookTimestamp(value: string): TimestampParse {
  const v = value.trim();
  if (!/^[0-9]+$/.test(v)) return { ok: false, reason: 'must be Unix time in whole seconds (decimal digits only)' };
  if (v.length > 12) {
    return { ok: false, reason: v.length === 13 ? 'looks like milliseconds: send Unix time in seconds' : 'is out of range' };
  }
  return { ok: true, seconds: Number(v) };
}

export type TimestampCheck = { ok: true } | { ok: false; reason: 'too_old' | 'in_future'; skewSeconds: number };

/** Whether a timestamp is within `toleranceSeconds` of now, in both directions. */
export function checkTimestamp(seconds: number, now: Date, toleranceSeconds: number): TimestampCheck {
  const skew = seconds - Math.floor(now.getTime() / 1000);
  if (skew < -toleranceSeconds) return { ok: false, reason: 'too_old', skewSeconds: -skew };
  if (skew > toleranceSeconds) return { ok: false, reason: 'in_future', skewSeconds: skew };
  return { ok: true };
}

/** Whether a value can serve as a webhook id (stored, indexed, compared). */
export function isValidWebhookId(id: string): boolean {
  return WEBHOOK_ID.test(id);
}

/** SHA-256 of a body: the receipt's digest, and the delivery id of partners that send none. */
export function bodyDigest(body: Buffer): Buffer {
  return createHash('sha256').update(body).digest();
}
