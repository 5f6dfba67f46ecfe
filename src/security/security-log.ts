/**
 * The security log: refused requests and other security-relevant moments (bad webhook
 * signatures, replays, unknown credentials, missing scopes), one row each, without
 * request bodies or secrets. Readable per tenant at GET /v1/admin/security-log.
 *
 * Most values come from the request (a partner name from the URL, an address from
 * X-Forwarded-For), so every text is cut to a bound and cleaned of what PostgreSQL text
 * cannot hold (NUL, unpaired surrogates) and of control characters before it is written.
 */
import type { Queryable } from '../platform/db.ts';

export interface SecurityEvent {
  /** webhook, auth, oauth... */
  kind: string;
  code: string;
  tenantId?: string | undefined;
  partner?: string | undefined;
  clientId?: string | undefined;
  remoteIp?: string | undefined;
  detail: string;
  correlationId?: string | undefined;
}

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A value as it may be stored: bounded, without control characters or unpaired surrogates. */
export function cleanText(value: string, max: number): string {
  const cut = value.length > max ? value.slice(0, max) : value;
  return cut.replace(LONE_SURROGATE, '\uFFFD').replace(CONTROL, '?');
}

const clean = (v: string | undefined, max: number): string | null => (v === undefined ? null : cleanText(v, max));

export async function logSecurityEvent(db: Queryable, e: SecurityEvent): Promise<void> {
  await db.query(
    `insert into hub_security_log (tenant_id, kind, code, partner, client_id, remote_ip, detail, correlation_id) values ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      clean(e.tenantId, 64),
      cleanText(e.kind, 32),
      cleanText(e.code, 100),
      clean(e.partner, 128),
      clean(e.clientId, 128),
      clean(e.remoteIp, 64),
      cleanText(e.detail, 2000),
      clean(e.correlationId, 128),
    ],
  );
}
