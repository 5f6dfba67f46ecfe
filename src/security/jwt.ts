/**
 * OAuth2 access tokens: JWTs (RFC 9068 profile) signed with ES256 keys that rotate. The
 * newest key signs until `signs_until`; older keys stay in the JWKS until every token they
 * signed has expired (`published_until`). Private keys are sealed like any other secret.
 *
 * Verification accepts only ES256 with a known, published `kid`, checks `exp`/`nbf`/`iat`
 * against the hub's clock with a small leeway, and requires our issuer and audience.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import type pg from 'pg';
import { withTx } from '../platform/db.ts';
import type { Clock } from '../platform/clock.ts';
import { open, seal, type Keyring, type Sealed } from './keyring.ts';

export const JWT_ISSUER = 'odoo-logistics-hub';
export const JWT_AUDIENCE = 'odoo-logistics-hub/api';
const LEEWAY_S = 30;

export interface AccessClaims {
  iss: string;
  aud: string;
  sub: string;
  client_id: string;
  tenant: string;
  scope: string;
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
}

interface KeyRow {
  kid: string;
  publicJwk: JsonWebKey & { kid: string };
  publicKey: KeyObject;
  signsUntil: Date;
  publishedUntil: Date;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export class SigningKeys {
  readonly #pool: pg.Pool;
  readonly #keyring: Keyring;
  readonly #clock: Clock;
  readonly #rotationMs: number;
  readonly #ttlMs: number;
  #signer: { kid: string; key: KeyObject; signsUntil: Date } | undefined;
  readonly #verifiers = new Map<string, KeyRow>();

  constructor(o: { pool: pg.Pool; keyring: Keyring; clock: Clock; rotationHours: number; accessTokenTtlSeconds: number }) {
    this.#pool = o.pool;
    this.#keyring = o.keyring;
    this.#clock = o.clock;
    this.#rotationMs = o.rotationHours * 3600_000;
    this.#ttlMs = o.accessTokenTtlSeconds * 1000;
  }

  get ttlSeconds(): number {
    return Math.round(this.#ttlMs / 1000);
  }

  /** The key that signs now: the newest one still signing, created when there is none. */
  async #currentSigner(): Promise<{ kid: string; key: KeyObject }> {
    const now = this.#clock.now();
    if (this.#signer && this.#signer.signsUntil > now) return this.#signer;
    const row = await withTx(this.#pool, async (c) => {
      // one process creates the next key; the others wait and use it
      await c.query(`select pg_advisory_xact_lock(hashtextextended('hub_signing_keys', 0))`);
      const r = await c.query<{ kid: string; sealed: Sealed; signs_until: Date }>(`select kid, sealed, signs_until from hub_signing_keys where signs_until > $1 order by created_at desc limit 1`, [now]);
      if (r.rows[0]) return r.rows[0];
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = publicKey.export({ format: 'jwk' });
      const kid = createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url').slice(0, 16);
      const signsUntil = new Date(now.getTime() + this.#rotationMs);
      const publishedUntil = new Date(signsUntil.getTime() + this.#ttlMs + LEEWAY_S * 1000);
      const sealed = seal(this.#keyring, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, `signing-key:${kid}`);
      await c.query(`insert into hub_signing_keys (kid, alg, public_jwk, sealed, created_at, signs_until, published_until) values ($1, 'ES256', $2, $3, $4, $5, $6)`, [
        kid, JSON.stringify({ ...jwk, kid, alg: 'ES256', use: 'sig' }), JSON.stringify(sealed), now, signsUntil, publishedUntil,
      ]);
      return { kid, sealed, signs_until: signsUntil };
    });
    const key = createPrivateKey(open(this.#keyring, row.sealed, `signing-key:${row.kid}`).toString('utf8'));
    this.#signer = { kid: row.kid, key, signsUntil: row.signs_until };
    return this.#signer;
  }

  async issue(p: { clientId: string; tenantId: string; scopes: readonly string[]; jti: string }): Promise<{ token: string; claims: AccessClaims }> {
    const signer = await this.#currentSigner();
    const iat = Math.floor(this.#clock.now().getTime() / 1000);
    const claims: AccessClaims = {
      iss: JWT_ISSUER, aud: JWT_AUDIENCE, sub: p.clientId, client_id: p.clientId, tenant: p.tenantId, scope: p.scopes.join(' '),
      iat, nbf: iat, exp: iat + this.ttlSeconds, jti: p.jti,
    };
    const head = b64url(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: signer.kid }));
    const body = b64url(JSON.stringify(claims));
    const sig = sign('sha256', Buffer.from(`${head}.${body}`), { key: signer.key, dsaEncoding: 'ieee-p1363' });
    return { token: `${head}.${body}.${b64url(sig)}`, claims };
  }

  async #verifier(kid: string): Promise<KeyRow | undefined> {
    const now = this.#clock.now();
    const cached = this.#verifiers.get(kid);
    if (cached) return cached.publishedUntil > now ? cached : undefined;
    const r = await this.#pool.query(`select kid, public_jwk, signs_until, published_until from hub_signing_keys where kid = $1`, [kid]);
    const row = r.rows[0];
    if (!row) return undefined;
    const k: KeyRow = { kid, publicJwk: row.public_jwk, publicKey: createPublicKey({ key: row.public_jwk, format: 'jwk' }), signsUntil: row.signs_until, publishedUntil: row.published_until };
    this.#verifiers.set(kid, k);
    return k.publishedUntil > now ? k : undefined;
  }

  /** The claims of a valid token, or a reason it is not valid (never throws on bad input). */
  async verify(token: string): Promise<{ ok: true; claims: AccessClaims } | { ok: false; reason: string }> {
    const parts = token.split('.');
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return { ok: false, reason: 'not a compact JWT' };
    let header: { alg?: unknown; kid?: unknown; typ?: unknown };
    let claims: Partial<AccessClaims>;
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    } catch {
      return { ok: false, reason: 'the token is not valid JSON' };
    }
    if (typeof header !== 'object' || header === null || typeof claims !== 'object' || claims === null) return { ok: false, reason: 'malformed token' };
    if (header.alg !== 'ES256') return { ok: false, reason: `algorithm ${JSON.stringify(header.alg)} is not accepted` };
    if (typeof header.kid !== 'string') return { ok: false, reason: 'no key id' };
    const key = await this.#verifier(header.kid);
    if (!key) return { ok: false, reason: 'unknown or retired signing key' };
    const sig = Buffer.from(parts[2]!, 'base64url');
    if (sig.length !== 64 || !verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, sig)) return { ok: false, reason: 'bad signature' };
    const now = Math.floor(this.#clock.now().getTime() / 1000);
    if (claims.iss !== JWT_ISSUER || claims.aud !== JWT_AUDIENCE) return { ok: false, reason: 'wrong issuer or audience' };
    if (typeof claims.exp !== 'number' || claims.exp + LEEWAY_S <= now) return { ok: false, reason: 'expired' };
    if (typeof claims.nbf === 'number' && claims.nbf - LEEWAY_S > now) return { ok: false, reason: 'not valid yet' };
    if (typeof claims.sub !== 'string' || typeof claims.tenant !== 'string' || typeof claims.scope !== 'string') return { ok: false, reason: 'missing claims' };
    return { ok: true, claims: claims as AccessClaims };
  }

  /** The JSON Web Key Set: every key whose tokens may still be in use. */
  async jwks(): Promise<{ keys: (JsonWebKey & { kid: string })[] }> {
    await this.#currentSigner(); // so a fresh hub publishes the key it will sign with
    const r = await this.#pool.query(`select public_jwk from hub_signing_keys where published_until > $1 order by created_at desc`, [this.#clock.now()]);
    return { keys: r.rows.map((x) => x.public_jwk) };
  }
}
