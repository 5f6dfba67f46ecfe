/**
 * The SFTP warehouse connector's error table: every way an exchange with a 3PL's SFTP server
 * can fail, turned into a HubError with a stable `wms-sftp.*` code. A failure is first
 * reduced to facts (`SftpFailure`: connection, timeout, authentication, host key, an SFTP
 * status code); `SFTP_ERROR_TABLE` is searched in order and the first matching row decides
 * the code and the class. Docs and tests iterate the table. Files the 3PL sends that cannot
 * be read or mapped are not failures of the exchange: they are `wms-sftp.csv_invalid` and
 * `wms-sftp.mapping_failed` business errors, recorded as exceptions (see inbound.ts).
 */
import type { HubError } from '../../domain/errors.ts';
import { classifyFailure, errorFromRow, type ErrorRow } from '../error-table.ts';

/** SFTP status codes (draft-ietf-secsh-filexfer-02, the version OpenSSH speaks). */
export const SFTP_STATUS = { OK: 0, EOF: 1, NO_SUCH_FILE: 2, PERMISSION_DENIED: 3, FAILURE: 4, BAD_MESSAGE: 5, NO_CONNECTION: 6, CONNECTION_LOST: 7, OP_UNSUPPORTED: 8 } as const;

export interface SftpFailure {
  kind: 'connection' | 'timeout' | 'auth' | 'host_key' | 'sftp' | 'config';
  /** the SFTP status code of a refused request (kind sftp) */
  sftpCode?: number;
  /** socket error code (ECONNREFUSED, ECONNRESET...) */
  errno?: string;
  message: string;
  /** the operation and path, for messages: `rename /out/a.tmp` */
  op?: string;
}

export type SftpErrorRow = ErrorRow<SftpFailure>;

const sftpStatus =
  (...codes: number[]) =>
  (f: SftpFailure) =>
    f.kind === 'sftp' && f.sftpCode !== undefined && codes.includes(f.sftpCode);

/** Ordered: the first matching row wins. */
export const SFTP_ERROR_TABLE: readonly SftpErrorRow[] = [
  { code: 'wms-sftp.timeout', errorClass: 'transient', retryAfterMs: 5000, description: 'No answer within the configured timeout (connecting or one SFTP request).', match: (f) => f.kind === 'timeout' },
  {
    code: 'wms-sftp.host_key_mismatch',
    errorClass: 'permanent',
    description: "The server's host key is not the pinned one (hostKeySha256): possibly another machine; nothing is sent. Check the 3PL's fingerprint and fix the configuration.",
    match: (f) => f.kind === 'host_key',
  },
  { code: 'wms-sftp.auth_failed', errorClass: 'permanent', description: 'The server refused the user name with the stored password or private key; fix the stored secret.', match: (f) => f.kind === 'auth' },
  { code: 'wms-sftp.config_invalid', errorClass: 'permanent', description: 'The connection settings or the stored secret cannot be used (a private key that does not parse, say).', match: (f) => f.kind === 'config' },
  {
    code: 'wms-sftp.connection_failed',
    errorClass: 'transient',
    retryAfterMs: 5000,
    description: 'The connection was refused, reset or lost (server down, network); the next call connects again.',
    match: (f) => f.kind === 'connection' || sftpStatus(SFTP_STATUS.NO_CONNECTION, SFTP_STATUS.CONNECTION_LOST)(f),
  },
  { code: 'wms-sftp.not_found', errorClass: 'permanent', description: 'SFTP NO_SUCH_FILE: the file or directory does not exist (a directory setting is wrong, usually).', match: sftpStatus(SFTP_STATUS.NO_SUCH_FILE) },
  { code: 'wms-sftp.permission_denied', errorClass: 'permanent', description: 'SFTP PERMISSION_DENIED: the account may not read, write or rename there.', match: sftpStatus(SFTP_STATUS.PERMISSION_DENIED) },
  { code: 'wms-sftp.unsupported', errorClass: 'permanent', description: 'SFTP OP_UNSUPPORTED or BAD_MESSAGE: the server does not support the request.', match: sftpStatus(SFTP_STATUS.OP_UNSUPPORTED, SFTP_STATUS.BAD_MESSAGE) },
  {
    code: 'wms-sftp.failure',
    errorClass: 'transient',
    retryAfterMs: 10000,
    description: 'SFTP FAILURE: the server failed the request without saying why (disk full, a rename onto an existing file, a lock); retried.',
    match: sftpStatus(SFTP_STATUS.FAILURE),
  },
  { code: 'wms-sftp.error', errorClass: 'transient', retryAfterMs: 10000, description: 'Any other failure of the exchange; retried, then dead-lettered.', match: () => true },
];

/** The table row a failure falls under. */
export function classifySftpFailure(f: SftpFailure): SftpErrorRow {
  return classifyFailure(SFTP_ERROR_TABLE, f);
}

/** Carries the facts of a failure as the `cause` of the HubError built from it. */
export class SftpFailureCause extends Error {
  readonly failure: SftpFailure;
  constructor(failure: SftpFailure, cause?: unknown) {
    super(failure.message, cause === undefined ? undefined : { cause });
    this.name = 'SftpFailureCause';
    this.failure = failure;
  }
}

/** The HubError of a failure, by the table. */
export function sftpError(f: SftpFailure, cause?: unknown): HubError {
  const row = classifySftpFailure(f);
  const what = f.kind === 'sftp' ? `SFTP status ${f.sftpCode}` : f.kind;
  return errorFromRow(row, {
    message: `${f.op ? f.op + ': ' : ''}${what}: ${f.message}`,
    cause: new SftpFailureCause(f, cause),
    ...(f.sftpCode !== undefined ? { extra: { sftpCode: f.sftpCode } } : {}),
  });
}
