import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { ConfigError, HubError } from '../../src/domain/errors.ts';
import { Keyring, generateMasterKey, loadKeyring, masterKeyId, open, rewrap, seal, type Sealed } from '../../src/security/keyring.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'hub-keyring-'));
const keyOf = () => Buffer.from(generateMasterKey(), 'base64');
const ring = (...keys: Buffer[]) => new Keyring(keys, 'test');

const hubError = (code: string) => (e: unknown) => e instanceof HubError && e.code === code;
const configError = (key: string, message: RegExp) => (e: unknown) => e instanceof ConfigError && e.key === key && message.test(e.message);

test('seal then open gives the value back; every seal uses a fresh data key and iv', () => {
  const k = ring(keyOf());
  const a = seal(k, 'partner api key', 'secret:default/ups/1');
  const b = seal(k, 'partner api key', 'secret:default/ups/1');
  assert.equal(open(k, a, 'secret:default/ups/1').toString('utf8'), 'partner api key');
  assert.equal(a.v, 1);
  assert.equal(a.mk, k.current.id);
  assert.notEqual(a.ct, b.ct);
  assert.notEqual(a.wk, b.wk);
  assert.notEqual(a.iv, b.iv);
  assert.ok(!JSON.stringify(a).includes('partner api key'));
  assert.equal(open(k, seal(k, Buffer.from([0, 1, 2, 255]), 'c'), 'c').toString('hex'), '000102ff');
});

test('AAD binding: a sealed value moved to another record does not open there', () => {
  const k = ring(keyOf());
  const s = seal(k, 'odoo password', 'secret:default/odoo/1');
  assert.throws(() => open(k, s, 'secret:default/odoo/2'), hubError('secret.tampered'));
  assert.throws(() => open(k, s, 'secret:acme/odoo/1'), hubError('secret.tampered'));
  assert.throws(() => open(k, s, 'secret:default/odoo/1'.toUpperCase()), hubError('secret.tampered'));
});

test('a tampered ciphertext, tag, iv or wrapped key fails with secret.tampered', () => {
  const k = ring(keyOf());
  const s = seal(k, 'carrier secret', 'ctx');
  const flip = (b64: string, at = 0) => {
    const b = Buffer.from(b64, 'base64');
    b[at] = b[at]! ^ 1;
    return b.toString('base64');
  };
  const cases: [string, Sealed][] = [
    ['ciphertext', { ...s, ct: flip(s.ct) }],
    ['last ciphertext byte', { ...s, ct: flip(s.ct, Buffer.from(s.ct, 'base64').length - 1) }],
    ['tag', { ...s, tag: flip(s.tag) }],
    ['truncated tag', { ...s, tag: Buffer.from(s.tag, 'base64').subarray(0, 4).toString('base64') }],
    ['iv', { ...s, iv: flip(s.iv) }],
    ['wrapped key', { ...s, wk: flip(s.wk, 20) }],
    ['truncated wrapped key', { ...s, wk: Buffer.from(s.wk, 'base64').subarray(0, 40).toString('base64') }],
    ['version', { ...s, v: 2 as unknown as 1 }],
    ['missing field', { ...s, ct: undefined as unknown as string }],
  ];
  for (const [what, bad] of cases) assert.throws(() => open(k, bad, 'ctx'), hubError('secret.tampered'), what);
  // the message never carries key material or the value
  try {
    open(k, { ...s, ct: flip(s.ct) }, 'ctx');
  } catch (e) {
    assert.match((e as Error).message, /does not decrypt: altered, or sealed for another record/);
  }
});

test('a value sealed under a key that is not configured names the key and the fix', () => {
  const old = ring(keyOf());
  const s = seal(old, 'v', 'ctx');
  const k = ring(keyOf());
  assert.throws(
    () => open(k, s, 'ctx'),
    (e: unknown) => hubError('secret.master_key_missing')(e) && (e as Error).message.includes(old.current.id) && /HUB_MASTER_KEY_PREVIOUS.*secrets rewrap/.test((e as Error).message),
  );
});

test('rewrap moves the data key under the current master key; the ciphertext stays', () => {
  const a = keyOf();
  const b = keyOf();
  const s = seal(ring(a), 'value', 'ctx');
  const both = ring(b, a);
  const r = rewrap(both, s)!;
  assert.equal(r.mk, masterKeyId(b));
  assert.equal(r.ct, s.ct);
  assert.equal(r.iv, s.iv);
  assert.equal(r.tag, s.tag);
  assert.equal(open(ring(b), r, 'ctx').toString(), 'value');
  assert.equal(rewrap(both, r), undefined, 'already under the current key');
});

test('the keyring never prints or serialises key material', () => {
  const key = keyOf();
  const k = ring(key);
  const b64 = key.toString('base64');
  for (const text of [JSON.stringify(k), inspect(k), inspect({ nested: { k } }), String(k)]) {
    assert.ok(!text.includes(b64), text);
    assert.ok(!text.includes(key.toString('hex')), text);
  }
  assert.deepEqual(JSON.parse(JSON.stringify(k)), { current: k.current.id, keys: [k.current.id], origin: 'test' });
  assert.match(k.current.id, /^mk_[A-Za-z0-9_-]{12}$/);
});

test('no key configured: <dataDir>/master.key is generated with mode 0600 and reused', { skip: process.platform === 'win32' }, () => {
  const d = join(dir(), 'data');
  const k1 = loadKeyring({ dataDir: d, security: {} }, {});
  const file = join(d, 'master.key');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.match(readFileSync(file, 'utf8'), /^[A-Za-z0-9+/]{43}=\n$/);
  assert.equal(k1.origin, file);
  const k2 = loadKeyring({ dataDir: d, security: {} }, {});
  assert.equal(k2.current.id, k1.current.id);
  assert.equal(open(k2, seal(k1, 'x', 'c'), 'c').toString(), 'x');
});

test('a key file with several keys: the first is current, the others open older values; comments and blank lines are skipped', () => {
  const [a, b, c] = [keyOf(), keyOf(), keyOf()];
  const file = join(dir(), 'keys');
  writeFileSync(file, `# rotated 2026-03-01\n${b.toString('base64')}\r\n\n${a.toString('base64url')}\n  ${c.toString('base64')}  \n`);
  const k = loadKeyring({ dataDir: dir(), security: { masterKeyFile: file } }, {});
  assert.equal(k.current.id, masterKeyId(b));
  assert.deepEqual(k.ids, [b, a, c].map(masterKeyId));
  assert.equal(open(k, seal(ring(a), 'old', 'ctx'), 'ctx').toString(), 'old');
  assert.equal(statSync(file).mode & 0o777, 0o600, 'the mode is tightened');
});

test('HUB_MASTER_KEY wins over the file; HUB_MASTER_KEY_PREVIOUS adds older keys', () => {
  const [cur, p1, p2] = [keyOf(), keyOf(), keyOf()];
  const d = dir();
  const k = loadKeyring(
    { dataDir: d, security: { masterKeyFile: join(d, 'does-not-matter') } },
    { HUB_MASTER_KEY: cur.toString('base64'), HUB_MASTER_KEY_PREVIOUS: `${p1.toString('base64')}, ${p2.toString('base64')}` },
  );
  assert.equal(k.origin, 'HUB_MASTER_KEY');
  assert.deepEqual(k.ids, [cur, p1, p2].map(masterKeyId));
  // previous keys also extend a key file
  const file = join(d, 'k');
  writeFileSync(file, cur.toString('base64') + '\n');
  const f = loadKeyring({ dataDir: d, security: { masterKeyFile: file } }, { HUB_MASTER_KEY_PREVIOUS: p1.toString('base64') });
  assert.deepEqual(f.ids, [cur, p1].map(masterKeyId));
  assert.equal(open(f, seal(ring(p1), 'v', 'c'), 'c').toString(), 'v');
});

test('a bad key is a ConfigError naming its source', () => {
  const d = dir();
  const short = Buffer.alloc(16).toString('base64');
  assert.throws(() => loadKeyring({ dataDir: d, security: {} }, { HUB_MASTER_KEY: short }), configError('HUB_MASTER_KEY', /not a master key: a master key is 32 bytes/));
  assert.throws(() => loadKeyring({ dataDir: d, security: {} }, { HUB_MASTER_KEY: 'not base64!' }), configError('HUB_MASTER_KEY', /32 bytes/));
  assert.throws(
    () => loadKeyring({ dataDir: d, security: {} }, { HUB_MASTER_KEY: generateMasterKey(), HUB_MASTER_KEY_PREVIOUS: `${generateMasterKey()},${short}` }),
    configError('HUB_MASTER_KEY_PREVIOUS', /item 2: not a master key/),
  );
  const file = join(d, 'bad.key');
  writeFileSync(file, `# current\n${generateMasterKey()}\n${short}\n`);
  assert.throws(() => loadKeyring({ dataDir: d, security: { masterKeyFile: file } }, {}), configError('security.masterKeyFile', new RegExp(`${file} line 3: not a master key`)));
  const empty = join(d, 'empty.key');
  writeFileSync(empty, '# nothing yet\n\n');
  assert.throws(() => loadKeyring({ dataDir: d, security: { masterKeyFile: empty } }, {}), configError('security.masterKeyFile', /holds no master key/));
  assert.throws(() => loadKeyring({ dataDir: d, security: { masterKeyFile: join(d, 'missing.key') } }, {}), configError('security.masterKeyFile', /missing\.key does not exist/));
  mkdirSync(join(d, 'a-directory'));
  assert.throws(() => loadKeyring({ dataDir: d, security: { masterKeyFile: join(d, 'a-directory') } }, {}), configError('security.masterKeyFile', /cannot read/));
});

test('property: any value sealed under any context opens under that context only', () => {
  const k = ring(keyOf(), keyOf());
  fc.assert(
    fc.property(fc.oneof(fc.string({ minLength: 0, maxLength: 300 }), fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a))), fc.string({ maxLength: 80 }), fc.string({ maxLength: 80 }), (value, ctx, other) => {
      const s = seal(k, value, ctx);
      const plain = open(k, s, ctx);
      assert.deepEqual(plain, typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
      const roundTrip = JSON.parse(JSON.stringify(s)) as Sealed;
      assert.deepEqual(open(k, roundTrip, ctx), plain, 'survives storage as JSON');
      if (other !== ctx) assert.throws(() => open(k, s, other), hubError('secret.tampered'));
    }),
    { numRuns: 200 },
  );
});
