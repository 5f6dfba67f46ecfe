/**
 * The SFTP warehouse connector's error table: every row is reachable by the failure it
 * describes, codes are stable `wms-sftp.*` strings, the HubError's class is the row's, and
 * the facts travel as the cause.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BusinessError, PermanentError, TransientError } from '../../../src/domain/errors.ts';
import { SFTP_ERROR_TABLE, SFTP_STATUS, SftpFailureCause, classifySftpFailure, sftpError, type SftpFailure } from '../../../src/connectors/wms-sftp/errors.ts';

/** A failure each row is meant for. */
const SAMPLES: Record<string, SftpFailure> = {
  'wms-sftp.timeout': { kind: 'timeout', message: 'no answer within 100 ms' },
  'wms-sftp.host_key_mismatch': { kind: 'host_key', message: 'the host key SHA256:abc is not the pinned SHA256:def' },
  'wms-sftp.auth_failed': { kind: 'auth', message: 'All configured authentication methods failed' },
  'wms-sftp.config_invalid': { kind: 'config', message: 'Cannot parse privateKey' },
  'wms-sftp.connection_failed': { kind: 'connection', errno: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:22' },
  'wms-sftp.not_found': { kind: 'sftp', sftpCode: SFTP_STATUS.NO_SUCH_FILE, message: 'No such file' },
  'wms-sftp.permission_denied': { kind: 'sftp', sftpCode: SFTP_STATUS.PERMISSION_DENIED, message: 'Permission denied' },
  'wms-sftp.unsupported': { kind: 'sftp', sftpCode: SFTP_STATUS.OP_UNSUPPORTED, message: 'Operation unsupported' },
  'wms-sftp.failure': { kind: 'sftp', sftpCode: SFTP_STATUS.FAILURE, message: 'Failure' },
  'wms-sftp.error': { kind: 'sftp', sftpCode: 99, message: 'something else' },
};

test('every row of the table is reached by its sample, and every code has a sample', () => {
  assert.deepEqual(Object.keys(SAMPLES).sort(), SFTP_ERROR_TABLE.map((r) => r.code).sort());
  for (const row of SFTP_ERROR_TABLE) {
    assert.match(row.code, /^wms-sftp\.[a-z_]+$/);
    assert.ok(row.description.length > 10);
    assert.equal(classifySftpFailure(SAMPLES[row.code]!).code, row.code);
  }
  assert.equal(classifySftpFailure({ kind: 'sftp', sftpCode: SFTP_STATUS.CONNECTION_LOST, message: 'lost' }).code, 'wms-sftp.connection_failed');
});

test('the HubError follows the row: class, retry delay for transient rows, facts as the cause', () => {
  for (const row of SFTP_ERROR_TABLE) {
    const e = sftpError({ ...SAMPLES[row.code]!, op: 'rename /to-3pl/a.csv.tmp → /to-3pl/a.csv' });
    const cls = { transient: TransientError, permanent: PermanentError, business: BusinessError }[row.errorClass];
    assert.ok(e instanceof cls, `${row.code} is ${row.errorClass}`);
    assert.equal(e.code, row.code);
    assert.match(e.message, /^rename \/to-3pl\/a\.csv\.tmp → \/to-3pl\/a\.csv: /);
    if (row.errorClass === 'transient') assert.equal(e.retryAfterMs, row.retryAfterMs);
    assert.ok(e.cause instanceof SftpFailureCause);
    assert.equal((e.cause as SftpFailureCause).failure.kind, SAMPLES[row.code]!.kind);
  }
  assert.equal(sftpError(SAMPLES['wms-sftp.failure']!).extra?.sftpCode, SFTP_STATUS.FAILURE);
  // the exchange failing is never the partner's business decision
  assert.ok(SFTP_ERROR_TABLE.every((r) => r.errorClass !== 'business'));
});

test('docs/connectors/wms-sftp.md lists every row of the table, in order, with its class', () => {
  const doc = readFileSync(new URL('../../../docs/connectors/wms-sftp.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `(wms-sftp\.[a-z_]+)` \| (transient|permanent|business) \|/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(
    rows,
    SFTP_ERROR_TABLE.map((r) => [r.code, r.errorClass]),
  );
});
