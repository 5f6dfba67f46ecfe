/**
 * The Odoo client of a tenant: its configuration (`connectors.odoo.<tenant>`) with the
 * password or API key opened from the secrets store. The newest active version of the
 * secret is used; during a rotation the previous one stays valid in Odoo until revoked there.
 */
import { ConfigError, NotFoundError } from '../../domain/errors.ts';
import type { HubConfig } from '../../platform/config.ts';
import type { Queryable } from '../../platform/db.ts';
import type { Keyring } from '../../security/keyring.ts';
import { activeSecretValues } from '../../security/secrets.ts';
import { createOdooClient, type OdooClient } from './client.ts';
import type { OdooConfig } from './manifest.ts';

export function odooConfigFor(config: HubConfig, tenantId: string): OdooConfig {
  const c = config.connectors.odoo[tenantId];
  if (!c) throw new ConfigError(`connectors.odoo.${tenantId}`, `tenant ${tenantId} has no Odoo configured`);
  return c;
}

export async function odooClientFor(deps: { db: Queryable; keyring: Keyring; config: HubConfig }, tenantId: string): Promise<OdooClient> {
  const c = odooConfigFor(deps.config, tenantId);
  const [secret] = await activeSecretValues(deps.db, deps.keyring, tenantId, c.secretName);
  if (!secret) throw new NotFoundError('secret', `${tenantId}/${c.secretName} (the Odoo password or API key of connectors.odoo.${tenantId}; store it with \`logistics-hub secrets set ${c.secretName} --tenant ${tenantId}\`)`);
  return createOdooClient({ url: c.url, db: c.db, login: c.login, secret, protocol: c.protocol, timeoutMs: c.timeoutMs });
}
