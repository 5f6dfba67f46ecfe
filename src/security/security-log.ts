/**
 * The security log: refused requests and other security-relevant moments (bad webhook
 * signatures, replays, unknown credentials, missing scopes), one row each, without
 * request bodies or secrets. Readable per tenant at GET /v1/admin/security-log.
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

export async function logSecurityEvent(db: Queryable, e: SecurityEvent): Promise<void> {
  await db.query(
    `insert into hub_security_log (tenant_id, kind, code, partner, client_id, remote_ip, detail, correlation_id) values ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [e.tenantId ?? null, e.kind, e.code, e.partner ?? null, e.clientId ?? null, e.remoteIp ?? null, e.detail.slice(0, 2000), e.correlationId ?? null],
  );
}
