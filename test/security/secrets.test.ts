import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.ts';
import { HubError } from '../../src/domain/errors.ts';
import { Keyring, generateMasterKey, masterKeyId, seal } from '../../src/security/keyring.ts';
import { activeSecretValues, deleteSecret, listSecrets, putSecret, requireSecret, rewrapAll } from '../../src/security/secrets.ts';
import { verifyAudit } from '../../src/security/audit.ts';

const db = await freshDatabase({ poolSize: 6 });
await db.pool.query(`insert into hub_tenants (id, name) values ('acme', 'Acme') on conflict do nothing`);

const newKey = () => Buffer.from(generateMasterKey(), 'base64');
const keyA = newKey();
const keyring = new Keyring([keyA], 'test');
const actor = 'cli:tester';

const hubError = (code: string) => (e: unknown) => e instanceof HubError && e.code === code;
const auditOf = async (tenantId: string, objectId: string) =>
  (await db.pool.query(`select action, actor, object_type, details, before_digest, after_digest from hub_audit where tenant_id = $1 and object_id = $2 order by seq`, [tenantId, objectId])).rows;

test('versions and overlap: after a rotation both values are active until the old one expires, then only the new one', async () => {
  const v1 = await putSecret(db.pool, keyring, { tenantId: 'default', name: 'ups.api-key', value: 'first-value', kind: 'api_key', actor, overlapSeconds: 0 });
  assert.deepEqual(v1, { name: 'ups.api-key', version: 1, supersededUntil: null });
  assert.deepEqual(await activeSecretValues(db.pool, keyring, 'default', 'ups.api-key'), ['first-value']);

  const v2 = await putSecret(db.pool, keyring, { tenantId: 'default', name: 'ups.api-key', value: 'second-value', actor, overlapSeconds: 3600 });
  assert.equal(v2.version, 2);
  assert.ok(v2.supersededUntil instanceof Date && v2.supersededUntil.getTime() > Date.now() + 3500_000, String(v2.supersededUntil));
  assert.deepEqual(await activeSecretValues(db.pool, keyring, 'default', 'ups.api-key'), ['second-value', 'first-value'], 'newest first, both during the overlap');

  // the overlap ends: move expires_at into the past instead of waiting for it
  await db.pool.query(`update hub_secrets set expires_at = now() - interval '1 second' where tenant_id = 'default' and name = 'ups.api-key' and version = 1`);
  assert.deepEqual(await activeSecretValues(db.pool, keyring, 'default', 'ups.api-key'), ['second-value']);

  // a rotation with no overlap ends the previous version at once; the kind is kept
  const v3 = await putSecret(db.pool, keyring, { tenantId: 'default', name: 'ups.api-key', value: 'third-value', actor, overlapSeconds: 0 });
  assert.equal(v3.version, 3);
  assert.deepEqual(await requireSecret(db.pool, keyring, 'default', 'ups.api-key'), ['third-value']);
  const [info] = await listSecrets(db.pool, 'default');
  assert.equal(info!.kind, 'api_key');
  assert.deepEqual(info!.versions.map((v) => v.version), [3, 2, 1]);
  assert.equal(info!.versions[0]!.expiresAt, null);
  assert.ok(info!.versions[1]!.expiresAt! <= new Date(Date.now() + 1000));

  // a rotation never lengthens the validity of an older version
  const before = (await db.pool.query(`select version, expires_at from hub_secrets where name = 'ups.api-key' order by version`)).rows;
  await putSecret(db.pool, keyring, { tenantId: 'default', name: 'ups.api-key', value: 'fourth-value', actor, overlapSeconds: 86400 });
  const afterRows = (await db.pool.query(`select version, expires_at from hub_secrets where name = 'ups.api-key' order by version`)).rows;
  assert.deepEqual(afterRows.slice(0, 2), before.slice(0, 2));
  assert.deepEqual(await activeSecretValues(db.pool, keyring, 'default', 'ups.api-key'), ['fourth-value', 'third-value']);
});

test('secrets are per tenant: the same name in two tenants holds two values', async () => {
  await putSecret(db.pool, keyring, { tenantId: 'default', name: 'odoo', value: 'default-password', actor, overlapSeconds: 0 });
  await putSecret(db.pool, keyring, { tenantId: 'acme', name: 'odoo', value: 'acme-password', actor, overlapSeconds: 0 });
  assert.deepEqual(await activeSecretValues(db.pool, keyring, 'default', 'odoo'), ['default-password']);
  assert.deepEqual(await activeSecretValues(db.pool, keyring, 'acme', 'odoo'), ['acme-password']);
  assert.deepEqual(await activeSecretValues(db.pool, keyring, 'other', 'odoo'), []);
  await assert.rejects(requireSecret(db.pool, keyring, 'other', 'odoo'), (e: unknown) => hubError('not_found')(e) && /other\/odoo/.test((e as Error).message));
  // a sealed value copied onto another tenant's row does not open there
  await db.pool.query(`update hub_secrets set sealed = (select sealed from hub_secrets where tenant_id = 'default' and name = 'odoo') where tenant_id = 'acme' and name = 'odoo'`);
  await assert.rejects(activeSecretValues(db.pool, keyring, 'acme', 'odoo'), hubError('secret.tampered'));
});

test('the list and the audit trail never contain a value', async () => {
  const value = 'whsec_c2VjcmV0LXZhbHVlLW5ldmVyLXByaW50ZWQ=';
  await putSecret(db.pool, keyring, { tenantId: 'acme', name: 'shopify.webhook', value, kind: 'webhook', actor, overlapSeconds: 0 });
  await putSecret(db.pool, keyring, { tenantId: 'acme', name: 'shopify.webhook', value: value + 'x', actor, overlapSeconds: 60 });
  const all = await listSecrets(db.pool);
  const text = JSON.stringify(all);
  assert.ok(!text.includes('whsec_'), text);
  assert.ok(!text.includes('password'), text);
  const w = all.find((s) => s.tenantId === 'acme' && s.name === 'shopify.webhook')!;
  assert.deepEqual(Object.keys(w).sort(), ['kind', 'name', 'tenantId', 'versions']);
  assert.deepEqual(Object.keys(w.versions[0]!).sort(), ['createdAt', 'createdBy', 'expiresAt', 'kind', 'masterKey', 'version']);
  assert.equal(w.versions[0]!.masterKey, masterKeyId(keyA));
  assert.equal(w.versions[0]!.createdBy, actor);
  assert.deepEqual(
    (await listSecrets(db.pool, 'acme')).map((s) => s.name),
    ['odoo', 'shopify.webhook'],
  );
  const audit = JSON.stringify((await db.pool.query(`select * from hub_audit`)).rows);
  assert.ok(!audit.includes('whsec_') && !audit.includes('-value') && !audit.includes('password'), 'no value in the audit trail');
  const raw = JSON.stringify((await db.pool.query(`select sealed from hub_secrets`)).rows);
  assert.ok(!raw.includes('whsec_') && !raw.includes('password'), 'not in clear at rest');
});

test('audit entries: created, rotated (with the end of the overlap), deleted', async () => {
  await putSecret(db.pool, keyring, { tenantId: 'acme', name: 'dhl', value: 'a', kind: 'api_key', actor, overlapSeconds: 0 });
  const rotated = await putSecret(db.pool, keyring, { tenantId: 'acme', name: 'dhl', value: 'b', actor, overlapSeconds: 120 });
  assert.equal(await deleteSecret(db.pool, 'acme', 'dhl', 'client:admin-1'), 2);
  assert.deepEqual(await activeSecretValues(db.pool, keyring, 'acme', 'dhl'), []);
  const rows = await auditOf('acme', 'dhl');
  assert.deepEqual(rows.map((r) => [r.action, r.actor, r.object_type]), [
    ['secret.created', actor, 'secret'],
    ['secret.rotated', actor, 'secret'],
    ['secret.deleted', 'client:admin-1', 'secret'],
  ]);
  assert.deepEqual(rows[0]!.details, { kind: 'api_key', version: 1 });
  assert.deepEqual(rows[1]!.details, { kind: 'api_key', version: 2, previousValidUntil: rotated.supersededUntil!.toISOString() });
  assert.match(rows[1]!.before_digest, /^sha256:[0-9a-f]{64}$/);
  assert.match(rows[1]!.after_digest, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(rows[2]!.details, { versions: 2 });
  await assert.rejects(deleteSecret(db.pool, 'acme', 'dhl', actor), hubError('not_found'));
  assert.equal((await auditOf('acme', 'dhl')).length, 3, 'a failed delete records nothing');
});

test('bad input is refused with a precise code, and nothing is stored', async () => {
  const put = (o: Partial<Parameters<typeof putSecret>[2]>) => putSecret(db.pool, keyring, { tenantId: 'default', name: 'n', value: 'v', actor, overlapSeconds: 0, ...o });
  await assert.rejects(put({ name: '../etc' }), hubError('secret.bad_name'));
  await assert.rejects(put({ name: '' }), hubError('secret.bad_name'));
  await assert.rejects(put({ value: '' }), hubError('secret.empty'));
  await assert.rejects(put({ value: 'x'.repeat(65537) }), hubError('secret.too_large'));
  await assert.rejects(put({ kind: 'has space' }), hubError('secret.bad_kind'));
  await assert.rejects(put({ overlapSeconds: -1 }), hubError('secret.bad_overlap'));
  await assert.rejects(put({ overlapSeconds: Number.NaN }), hubError('secret.bad_overlap'));
  assert.equal((await db.pool.query(`select 1 from hub_secrets where name in ('n', '../etc')`)).rowCount, 0);
});

test('concurrent versions of one name are numbered without gaps or duplicates', async () => {
  await Promise.all(Array.from({ length: 8 }, (_, i) => putSecret(db.pool, keyring, { tenantId: 'default', name: 'race', value: `v${i}`, actor, overlapSeconds: 600 })));
  const versions = (await db.pool.query(`select version from hub_secrets where name = 'race' order by version`)).rows.map((r) => r.version);
  assert.deepEqual(versions, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal((await activeSecretValues(db.pool, keyring, 'default', 'race')).length, 8);
});

test('master key rotation: sealed under A, rotate to B with A as previous, rewrapAll, then B alone opens everything', async () => {
  const keyB = newKey();
  // a signing key sealed under A too (the other sealed column rewrapAll visits)
  await db.pool.query(
    `insert into hub_signing_keys (kid, alg, public_jwk, sealed, signs_until, published_until) values ('k1', 'ES256', '{}', $1, now(), now())`,
    [JSON.stringify(seal(keyring, 'private key', 'signing-key:k1'))],
  );
  const underA = Number((await db.pool.query(`select count(*) from hub_secrets where sealed->>'mk' = $1`, [masterKeyId(keyA)])).rows[0].count);
  assert.ok(underA >= 10, String(underA));

  const rotated = new Keyring([keyB, keyA], 'rotated');
  // before the re-wrap, the rotated keyring still opens values under A
  assert.deepEqual(await activeSecretValues(db.pool, rotated, 'default', 'odoo'), ['default-password']);
  // and a new version is sealed under B
  await putSecret(db.pool, rotated, { tenantId: 'default', name: 'odoo', value: 'new-password', actor, overlapSeconds: 3600 });

  const r = await rewrapAll(db.pool, rotated, 'cli:ops', 3);
  assert.deepEqual(r, { rewrapped: underA + 1, byTable: { hub_secrets: underA, hub_signing_keys: 1 } });
  const left = await db.pool.query(`select count(*)::int as n from hub_secrets where sealed->>'mk' <> $1`, [masterKeyId(keyB)]);
  assert.equal(left.rows[0].n, 0);

  const onlyB = new Keyring([keyB], 'b only');
  assert.deepEqual(await activeSecretValues(db.pool, onlyB, 'default', 'odoo'), ['new-password', 'default-password']);
  assert.deepEqual(await activeSecretValues(db.pool, onlyB, 'default', 'ups.api-key'), ['fourth-value', 'third-value']);
  const again = await rewrapAll(db.pool, onlyB, 'cli:ops');
  assert.deepEqual(again, { rewrapped: 0, byTable: { hub_secrets: 0, hub_signing_keys: 0 } }, 'idempotent');

  const entries = (await db.pool.query(`select actor, object_id, details from hub_audit where action = 'master_key.rewrapped' order by seq`)).rows;
  assert.deepEqual(entries, [
    { actor: 'cli:ops', object_id: masterKeyId(keyB), details: { rewrapped: underA + 1, byTable: { hub_secrets: underA, hub_signing_keys: 1 } } },
    { actor: 'cli:ops', object_id: masterKeyId(keyB), details: { rewrapped: 0, byTable: { hub_secrets: 0, hub_signing_keys: 0 } } },
  ]);
  // a keyring without A cannot re-wrap what is still under A, and says which key is missing
  await putSecret(db.pool, keyring, { tenantId: 'default', name: 'late', value: 'sealed under A', actor, overlapSeconds: 0 });
  await assert.rejects(rewrapAll(db.pool, onlyB, 'cli:ops'), (e: unknown) => hubError('secret.master_key_missing')(e) && (e as Error).message.includes(masterKeyId(keyA)));
});

test('every secret operation left an intact audit chain', async () => {
  const v = await verifyAudit(db.pool);
  assert.equal(v.broken, undefined, JSON.stringify(v.broken));
  assert.deepEqual(v.tenants.map((t) => t.tenantId), ['acme', 'default']);
});
