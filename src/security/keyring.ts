/**
 * Envelope encryption of secrets at rest. Each value is encrypted with its own random
 * 256-bit data key (AES-256-GCM, bound to its row by additional authenticated data);
 * the data key is wrapped (AES-256-GCM) by the master key. Rotating the master key
 * re-wraps the data keys only: the encrypted values never change.
 *
 * Master keys come from HUB_MASTER_KEY (base64 of 32 bytes), else the key file
 * (security.masterKeyFile), else `<dataDir>/master.key`, generated on first use with
 * mode 0600. A key file may hold several keys, one per line: the first is current, the
 * others are older keys still able to unwrap. HUB_MASTER_KEY_PREVIOUS (comma-separated)
 * adds older keys too. Rotation: make the new key current, keep the old one as an older
 * key, re-wrap (`logistics-hub secrets rewrap`), then drop the old key.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError, PermanentError } from '../domain/errors.ts';

/** The stored form of an encrypted value (hub_secrets.sealed, hub_signing_keys.sealed). */
export interface Sealed {
  v: 1;
  /** id of the master key that wrapped the data key */
  mk: string;
  /** wrapped data key: iv(12) || ciphertext(32) || tag(16), base64 */
  wk: string;
  iv: string;
  tag: string;
  ct: string;
}

export interface MasterKey {
  id: string;
  key: Buffer;
}

export class Keyring {
  readonly current: MasterKey;
  readonly #byId: Map<string, MasterKey>;
  /** where the current key came from (env, a file path): for messages, never the key */
  readonly origin: string;

  constructor(keys: Buffer[], origin: string) {
    if (!keys.length) throw new ConfigError('security.masterKeyFile', `${origin}: holds no master key`);
    const list = keys.map((key) => ({ id: masterKeyId(key), key }));
    this.current = list[0]!;
    this.#byId = new Map(list.map((k) => [k.id, k]));
    this.origin = origin;
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  get ids(): string[] {
    return [...this.#byId.keys()];
  }

  key(id: string): MasterKey {
    const k = this.#byId.get(id);
    if (!k) {
      throw new PermanentError({
        code: 'secret.master_key_missing',
        message: `the value was sealed under master key ${id}, which is not configured (current ${this.current.id}); add it to HUB_MASTER_KEY_PREVIOUS or the key file, then run \`logistics-hub secrets rewrap\``,
      });
    }
    return k;
  }

  /** Never serialise key material. */
  toJSON(): unknown {
    return { current: this.current.id, keys: this.ids, origin: this.origin };
  }

  /** Nor print it (console.log, assertion messages). */
  [inspect.custom](): unknown {
    return this.toJSON();
  }
}

/** A short, stable, non-secret identifier of a master key. */
export function masterKeyId(key: Buffer): string {
  return 'mk_' + createHash('sha256').update('odoo-logistics-hub master key id\0').update(key).digest('base64url').slice(0, 12);
}

/** `source` is the configuration key or variable a ConfigError names; `where` says which of its keys. */
function decodeKey(text: string, source: string, where = ''): Buffer {
  const t = text.trim();
  const b = /^[A-Za-z0-9+/_-]+={0,2}$/.test(t) ? Buffer.from(t, t.includes('-') || t.includes('_') ? 'base64url' : 'base64') : Buffer.alloc(0);
  if (b.length !== 32) throw new ConfigError(source, `${where}not a master key: a master key is 32 bytes in base64 (44 characters), e.g. from \`logistics-hub secrets generate-master-key\` or \`openssl rand -base64 32\``);
  return b;
}

export function generateMasterKey(): string {
  return randomBytes(32).toString('base64');
}

/**
 * Creates `file` holding a new key, mode 0600, atomically: a concurrent reader sees no
 * file or the whole key, and of two processes creating it at once one key wins.
 */
function createKeyFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, generateMasterKey() + '\n', { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new ConfigError('security.masterKeyFile', `cannot create ${file}: ${(e as Error).message}`);
  } finally {
    unlinkSync(tmp);
  }
}

/** Loads the master keys; generates `<dataDir>/master.key` when nothing is configured. */
export function loadKeyring(cfg: { dataDir: string; security: { masterKeyFile?: string | undefined } }, env: NodeJS.ProcessEnv = process.env): Keyring {
  const previous = (env.HUB_MASTER_KEY_PREVIOUS ?? '')
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((s, i) => decodeKey(s, 'HUB_MASTER_KEY_PREVIOUS', `item ${i + 1}: `));
  if (env.HUB_MASTER_KEY) return new Keyring([decodeKey(env.HUB_MASTER_KEY, 'HUB_MASTER_KEY'), ...previous], 'HUB_MASTER_KEY');
  const file = resolve(cfg.security.masterKeyFile ?? join(cfg.dataDir, 'master.key'));
  if (!existsSync(file)) {
    if (cfg.security.masterKeyFile) throw new ConfigError('security.masterKeyFile', `${file} does not exist`);
    createKeyFile(file);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('security.masterKeyFile', `cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    chmodSync(file, 0o600);
  } catch {
    // read-only mounts (a Kubernetes secret) keep their own mode
  }
  const keys: Buffer[] = [];
  text.split('\n').forEach((raw, i) => {
    const l = raw.trim();
    if (l && !l.startsWith('#')) keys.push(decodeKey(l, 'security.masterKeyFile', `${file} line ${i + 1}: `));
  });
  if (!keys.length) throw new ConfigError('security.masterKeyFile', `${file} holds no master key (one base64 key per line, the current one first)`);
  return new Keyring([...keys, ...previous], file);
}

/** GCM tags are always checked at full length: a truncated tag would weaken the authentication. */
const TAG_LENGTH = 16;

function gcmEncrypt(key: Buffer, plain: Buffer, aad: string): { iv: Buffer; ct: Buffer; tag: Buffer } {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
  c.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return { iv, ct, tag: c.getAuthTag() };
}

function gcmDecrypt(key: Buffer, iv: Buffer, ct: Buffer, tag: Buffer, aad: string, what: string): Buffer {
  try {
    if (iv.length !== 12 || tag.length !== TAG_LENGTH) throw new Error('bad iv or tag length');
    const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(tag);
    return Buffer.concat([d.update(ct), d.final()]);
  } catch (cause) {
    throw new PermanentError({ code: 'secret.tampered', message: `${what} does not decrypt: altered, or sealed for another record`, cause });
  }
}

const WRAP_AAD = 'odoo-logistics-hub data key';

function wrap(master: MasterKey, dataKey: Buffer): string {
  const w = gcmEncrypt(master.key, dataKey, WRAP_AAD);
  return Buffer.concat([w.iv, w.ct, w.tag]).toString('base64');
}

function unwrap(master: MasterKey, wk: string): Buffer {
  const b = Buffer.from(wk, 'base64');
  if (b.length !== 12 + 32 + TAG_LENGTH) throw new PermanentError({ code: 'secret.tampered', message: 'the data key does not decrypt: its wrapped form has the wrong length' });
  return gcmDecrypt(master.key, b.subarray(0, 12), b.subarray(12, b.length - 16), b.subarray(b.length - 16), WRAP_AAD, 'the data key');
}

/**
 * Encrypts `plain` under a new data key. `context` (e.g. "secret:default/odoo/3") is
 * authenticated: a sealed value copied onto another record does not open there.
 */
export function seal(keyring: Keyring, plain: string | Buffer, context: string): Sealed {
  const dataKey = randomBytes(32);
  try {
    const e = gcmEncrypt(dataKey, typeof plain === 'string' ? Buffer.from(plain, 'utf8') : plain, context);
    return { v: 1, mk: keyring.current.id, wk: wrap(keyring.current, dataKey), iv: e.iv.toString('base64'), tag: e.tag.toString('base64'), ct: e.ct.toString('base64') };
  } finally {
    dataKey.fill(0);
  }
}

/** A value read from the database must have the sealed shape before anything is decrypted. */
function checkShape(s: Sealed): void {
  const ok = typeof s === 'object' && s !== null && s.v === 1 && (['mk', 'wk', 'iv', 'tag', 'ct'] as const).every((k) => typeof s[k] === 'string');
  if (!ok) throw new PermanentError({ code: 'secret.tampered', message: 'the sealed value is not in the expected form {v: 1, mk, wk, iv, tag, ct}' });
}

export function open(keyring: Keyring, s: Sealed, context: string): Buffer {
  checkShape(s);
  const dataKey = unwrap(keyring.key(s.mk), s.wk);
  try {
    return gcmDecrypt(dataKey, Buffer.from(s.iv, 'base64'), Buffer.from(s.ct, 'base64'), Buffer.from(s.tag, 'base64'), context, `the sealed value of ${context}`);
  } finally {
    dataKey.fill(0);
  }
}

/** The same value, its data key wrapped by the current master key (undefined: already is). */
export function rewrap(keyring: Keyring, s: Sealed): Sealed | undefined {
  checkShape(s);
  if (s.mk === keyring.current.id) return undefined;
  const dataKey = unwrap(keyring.key(s.mk), s.wk);
  try {
    return { ...s, mk: keyring.current.id, wk: wrap(keyring.current, dataKey) };
  } finally {
    dataKey.fill(0);
  }
}
