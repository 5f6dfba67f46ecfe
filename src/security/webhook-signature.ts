/**
 * Webhook signatures.
 *
 * Standard Webhooks (https://www.standardwebhooks.com): headers `webhook-id`,
 * `webhook-timestamp` (Unix seconds) and `webhook-signature`, a space-separated list of
 * `v1,<base64 HMAC-SHA256>` over `<id>.<timestamp>.<body>`, keyed by the bytes of the
 * secret (`whsec_` + base64). Several signatures may be present (the sender signs with
 * every secret it holds during a rotation); one valid signature is enough.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

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

/** True when any `v1,` signature in the header matches any of the secrets. Constant-time per comparison. */
export function verifyStandardSignature(secrets: readonly string[], id: string, timestamp: string, body: Buffer, signatureHeader: string): boolean {
  const given = signatureHeader
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'));
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
