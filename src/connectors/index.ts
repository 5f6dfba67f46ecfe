/**
 * The registry of connectors: every connector's manifest, listed explicitly (no discovery
 * by file name), so the set of external systems the hub can talk to is visible in one place.
 */
import type { ConnectorManifest } from './odoo/manifest.ts';
import { odooManifest } from './odoo/manifest.ts';
import { dhlManifest } from './dhl/manifest.ts';
import { easyPostManifest } from './easypost/manifest.ts';
import { fedexManifest } from './fedex/manifest.ts';
import { upsManifest } from './ups/manifest.ts';
import { wmsManifest } from './wms/manifest.ts';
import { wmsSftpManifest } from './wms-sftp/manifest.ts';

export type { ConnectorManifest } from './odoo/manifest.ts';

export const CONNECTORS: readonly ConnectorManifest[] = [odooManifest, wmsManifest, wmsSftpManifest, easyPostManifest, upsManifest, fedexManifest, dhlManifest];

export function connectorManifest(id: string): ConnectorManifest | undefined {
  return CONNECTORS.find((c) => c.id === id);
}
