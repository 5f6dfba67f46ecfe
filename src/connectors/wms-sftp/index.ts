/**
 * The SFTP warehouse connector put together: from its configuration (manifest.ts) and the
 * stored secret, the file profile, the SFTP client, the warehouse port (outbound files) and
 * the inbound poller (status files into the inbox) of one 3PL.
 */
import type pg from 'pg';
import type { Clock } from '../../platform/clock.ts';
import type { Logger } from '../../platform/logger.ts';
import { SftpClient, type SftpTransport } from './client.ts';
import { InboundPoller } from './inbound.ts';
import type { WmsSftpConfig } from './manifest.ts';
import { SftpWmsPort } from './port.ts';
import { resolveFileProfile, type FileProfile } from './profile.ts';

export { wmsSftpManifest, WmsSftpConfigSchema, type WmsSftpConfig } from './manifest.ts';
export { SftpClient, hostKeyFingerprint, type SftpTransport, type SftpEntry } from './client.ts';
export { parseCsv, writeCsv, CsvError, type CsvDocument, type CsvRecord } from './csv.ts';
export { loadFileProfile, parseFileProfile, resolveFileProfile, builtinFileProfilePath, FileProfileError, FILE_OPERATIONS, type FileProfile, type FileOperation } from './profile.ts';
export { buildFile, mapFile, mapStock, FileMappingError } from './mappers.ts';
export { SftpWmsPort } from './port.ts';
export { InboundPoller, FILE_REJECTED, type FileOutcome } from './inbound.ts';
export { SFTP_ERROR_TABLE, classifySftpFailure, sftpError } from './errors.ts';

export interface SftpWms {
  profile: FileProfile;
  transport: SftpTransport;
  port: SftpWmsPort;
  poller: InboundPoller;
  /** starts polling every pollIntervalSeconds */
  start(): void;
  /** stops polling and closes the connection */
  stop(): Promise<void>;
}

/**
 * Builds the connector of one 3PL. `config` has its defaults applied (the config loader does
 * that); `secret` is the stored secret's value: a password or a private key.
 */
export function createSftpWms(config: WmsSftpConfig, secret: string, deps: { pool: pg.Pool; clock: Clock; log?: Logger; transport?: SftpTransport }): SftpWms {
  const profile = resolveFileProfile(config.profile);
  const transport =
    deps.transport ??
    new SftpClient({ host: config.host, port: config.port, username: config.username, secret, hostKeySha256: config.hostKeySha256, timeoutMs: config.timeoutMs });
  const csv = { lineEnding: config.files.lineEnding === 'LF' ? ('\n' as const) : ('\r\n' as const), bom: config.files.bom };
  const port = new SftpWmsPort({
    warehouseId: config.warehouseId,
    profile,
    transport,
    clock: deps.clock,
    remote: { outbound: config.remote.outbound, stock: config.remote.stock },
    tmpSuffix: config.files.tmpSuffix,
    csv,
    constants: config.constants,
  });
  const poller = new InboundPoller({
    profile,
    transport,
    pool: deps.pool,
    clock: deps.clock,
    ...(deps.log ? { log: deps.log } : {}),
    remote: { inbound: config.remote.inbound, archive: config.remote.archive, error: config.remote.error },
    warehouseId: config.warehouseId,
    tenantId: config.tenantId,
    tmpSuffix: config.files.tmpSuffix,
    maxBytes: config.files.maxBytes,
    constants: config.constants,
  });
  return {
    profile,
    transport,
    port,
    poller,
    start: () => poller.start(config.pollIntervalSeconds * 1000),
    async stop() {
      await poller.stop();
      await transport.close();
    },
  };
}
