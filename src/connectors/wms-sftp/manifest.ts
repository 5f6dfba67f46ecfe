/**
 * Manifest of the SFTP warehouse connector: a 3PL that exchanges CSV files on an SFTP server
 * instead of offering an API. The hub drops order, cancellation, address and label files in
 * the outbound directory and polls the inbound directory for the 3PL's status files; a file
 * profile (profiles/<id>.yaml or a file of the operator's) says how files are named and how
 * their rows map to and from canonical terms. The configuration names the stored secret
 * (password or private key); it never holds it.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { ConnectorManifest } from '../odoo/manifest.ts';

const Dir = (description: string, dflt: string) => Type.String({ pattern: '^/', minLength: 1, maxLength: 400, default: dflt, description });

/** `SHA256:` + unpadded base64 (what `ssh-keygen -lf` prints) or 64 hex digits. */
export const HOST_KEY_SHA256_PATTERN = '^(?:SHA256:[A-Za-z0-9+/]{43}=?|[0-9a-fA-F]{64})$';

export const WmsSftpConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, maxLength: 255, description: "Host name or IP address of the 3PL's SFTP server." }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 22, description: 'TCP port of the SFTP server.' }),
    username: Type.String({ minLength: 1, maxLength: 100, description: 'Account on the SFTP server.' }),
    secretName: Type.String({
      minLength: 1,
      description: 'Name of the stored secret (hub_secrets) holding the password, or a private key in OpenSSH or PEM form (recognised by its -----BEGIN line).',
    }),
    hostKeySha256: Type.String({
      pattern: HOST_KEY_SHA256_PATTERN,
      description: "SHA-256 fingerprint of the server's host key, as `ssh-keygen -lf` prints it (SHA256:...) or in hex. A server presenting another key is refused before anything is sent.",
    }),
    profile: Type.String({ minLength: 1, default: 'csv3pl', description: 'File profile: the id of a profile shipped with the hub (csv3pl) or the path of a YAML profile file.' }),
    warehouseId: Type.String({ minLength: 1, maxLength: 128, description: 'Canonical location id of the warehouse the 3PL runs (bound as $warehouseId in the profile).' }),
    tenantId: Type.String({ minLength: 1, maxLength: 64, default: 'default', description: "Tenant the 3PL's events belong to." }),
    remote: Type.Object(
      {
        outbound: Dir('Directory the hub writes its files to (the 3PL picks them up there).', '/to-3pl'),
        inbound: Dir('Directory the 3PL writes its status files to (the hub polls it).', '/from-3pl'),
        archive: Dir('Directory an inbound file is moved to once its events are stored.', '/from-3pl/archive'),
        error: Dir('Directory an inbound file that cannot be read or mapped is moved to (with an exception record).', '/from-3pl/error'),
        stock: Dir('Directory holding the 3PL\'s stock snapshot files (read by inventory queries).', '/stock'),
      },
      { additionalProperties: false, default: {}, description: 'Remote directories, absolute paths on the SFTP server.' },
    ),
    files: Type.Object(
      {
        tmpSuffix: Type.String({
          pattern: '^\\.[A-Za-z0-9_-]{1,16}$',
          default: '.tmp',
          description: 'Suffix of a file while it is being written; it is renamed to its final name once complete, so the 3PL never reads half a file. Inbound files with this suffix are left alone.',
        }),
        lineEnding: Type.Union([Type.Literal('CRLF'), Type.Literal('LF')], { default: 'CRLF', description: 'Line ending of the CSV files the hub writes (RFC 4180 says CRLF).' }),
        bom: Type.Boolean({ default: false, description: 'Write a UTF-8 byte order mark at the start of each file.' }),
        maxBytes: Type.Integer({ minimum: 1024, maximum: 1073741824, default: 52428800, description: 'Largest inbound file read; a larger one goes to the error directory.' }),
      },
      { additionalProperties: false, default: {}, description: 'How files are written and read.' },
    ),
    pollIntervalSeconds: Type.Integer({ minimum: 5, maximum: 86400, default: 60, description: 'Seconds between two polls of the inbound directory.' }),
    timeoutMs: Type.Integer({ minimum: 100, maximum: 600000, default: 30000, description: 'Timeout of connecting and of one SFTP request.' }),
    constants: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
      default: {},
      description: "Overrides of the profile's constants (bound as $name in its expressions), e.g. the warehouse's address.",
    }),
  },
  { additionalProperties: false },
);

export type WmsSftpConfig = Static<typeof WmsSftpConfigSchema>;

export const wmsSftpManifest = {
  id: 'wms-sftp',
  name: 'Warehouse (3PL) exchanging CSV files over SFTP, profile-driven',
  capabilities: [
    'wms.release',
    'wms.cancel',
    'wms.update-ship-to',
    'wms.attach-labels',
    'wms.inventory',
    'files.sftp',
    'files.csv-rfc4180',
    'files.atomic-put',
    'ssh.host-key-pinning',
    'mapping.jsonata-profile',
    'errors.classified',
  ],
  configSchema: WmsSftpConfigSchema,
} as const satisfies ConnectorManifest;
