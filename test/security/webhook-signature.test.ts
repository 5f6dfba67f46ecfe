/**
 * Webhook signatures: the Standard Webhooks scheme against the reference implementation
 * (the `standardwebhooks` npm package) in both directions, secret rotation, the hex HMAC
 * scheme, and the header parsing helpers, which must give an answer for any input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import {
  bodyDigest,
  checkTimestamp,
  generateWebhookSecret,
  headerValue,
  isValidWebhookId,
  parseSignatureHeader,
  parseWebhookTimestamp,
  secretKey,
  signHmacHex,
  signStandard,
  standardHeaders,
  verifyHmacHexSignature,
  verifyStandardSignature,
} from '../../src/security/webhook-signature.ts';

const nowSeconds = () => Math.floor(Date.now() / 1000);
const webhookId = fc.stringMatching(/^[\x21-\x7e]{1,64}$/);
/** what the reference library signs faithfully: text (it signs a Buffer as its UTF-8 decoding) */
const textBody = fc.string({ unit: 'grapheme', maxLength: 300 });

test('the published Standard Webhooks test vector', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const ts = 1614265330;
  const body = '{"test": 2432232314}';
  const expected = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
  assert.equal(signStandard(secret, id, ts, body), expected);
  assert.equal(new Webhook(secret).sign(id, new Date(ts * 1000), body), expected, 'the reference agrees');
  assert.ok(verifyStandardSignature([secret], id, String(ts), Buffer.from(body), expected));
});

test('compatibility: the hub\'s signatures verify with the reference library', () => {
  fc.assert(
    fc.property(webhookId, textBody, fc.integer({ min: -200, max: 200 }), (id, body, skew) => {
      const secret = generateWebhookSecret();
      const headers = standardHeaders([secret], id, nowSeconds() + skew, Buffer.from(body, 'utf8'));
      // throws WebhookVerificationError when the signature does not match
      new Webhook(secret).verify(body, headers, { jsonParse: false });
      new Webhook(secret).verify(Buffer.from(body, 'utf8'), headers, { jsonParse: false });
    }),
    { numRuns: 300 },
  );
});

test('compatibility: the reference library\'s signatures verify in the hub', () => {
  fc.assert(
    fc.property(webhookId, textBody, fc.integer({ min: 0, max: 2 ** 31 }), (id, body, ts) => {
      const secret = generateWebhookSecret(32);
      const signature = new Webhook(secret).sign(id, new Date(ts * 1000), body);
      assert.ok(verifyStandardSignature([secret], id, String(ts), Buffer.from(body, 'utf8'), signature));
      assert.equal(verifyStandardSignature([generateWebhookSecret(32)], id, String(ts), Buffer.from(body, 'utf8'), signature), false, 'another secret does not verify');
    }),
    { numRuns: 300 },
  );
});

test('rotation: a delivery signed with the old, the new or both secrets verifies while both are current', () => {
  const [oldS, newS, other] = [generateWebhookSecret(), generateWebhookSecret(), generateWebhookSecret()];
  const body = Buffer.from('{"a":1}');
  const ts = nowSeconds();
  const current = [newS, oldS];
  for (const signers of [[oldS], [newS], [oldS, newS], [other, newS]]) {
    const h = standardHeaders(signers, 'msg_1', ts, body);
    assert.ok(verifyStandardSignature(current, 'msg_1', String(ts), body, h['webhook-signature']!), `signed by ${signers.length} secret(s)`);
  }
  assert.equal(verifyStandardSignature(current, 'msg_1', String(ts), body, standardHeaders([other], 'msg_1', ts, body)['webhook-signature']!), false);
  assert.equal(verifyStandardSignature([newS], 'msg_1', String(ts), body, standardHeaders([oldS], 'msg_1', ts, body)['webhook-signature']!), false, 'once the old secret expired');
  // the reference verifies a multi-signature header from the hub with either secret
  const both = standardHeaders([oldS, newS], 'msg_1', ts, body);
  new Webhook(oldS).verify(body, both, { jsonParse: false });
  new Webhook(newS).verify(body, both, { jsonParse: false });
});

test('a body changed by one byte, another id or another timestamp does not verify', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (bytes, at, flip) => {
      const secret = generateWebhookSecret();
      const body = Buffer.from(bytes);
      const ts = 1_700_000_000;
      const sig = signStandard(secret, 'msg_x', ts, body);
      assert.ok(verifyStandardSignature([secret], 'msg_x', String(ts), body, sig));
      const changed = Buffer.from(body);
      const i = at % changed.length;
      changed[i] = changed[i]! ^ flip;
      assert.equal(verifyStandardSignature([secret], 'msg_x', String(ts), changed, sig), false);
      assert.equal(verifyStandardSignature([secret], 'msg_y', String(ts), body, sig), false);
      assert.equal(verifyStandardSignature([secret], 'msg_x', String(ts + 1), body, sig), false);
      const hex = signHmacHex('plain-secret', body);
      assert.ok(verifyHmacHexSignature(['plain-secret'], body, hex));
      assert.equal(verifyHmacHexSignature(['plain-secret'], changed, hex), false);
    }),
    { numRuns: 200 },
  );
});

test('signature headers: only canonical v1 signatures count; any header value is answered, never thrown', () => {
  const secret = generateWebhookSecret();
  const body = Buffer.from('{}');
  const good = signStandard(secret, 'id', 1, body);
  const mac = good.slice(3);
  assert.ok(verifyStandardSignature([secret], 'id', '1', body, `v1a,${mac} ${good}`));
  assert.ok(verifyStandardSignature([secret], 'id', '1', body, `  ${good}\t`));
  assert.equal(verifyStandardSignature([secret], 'id', '1', body, `v2,${mac}`), false, 'unknown version');
  assert.equal(verifyStandardSignature([secret], 'id', '1', body, `v1,${mac}!!`), false, 'trailing garbage is not ignored');
  assert.equal(verifyStandardSignature([secret], 'id', '1', body, `v1,${mac.replace('=', '')}`), false, 'unpadded');
  assert.equal(verifyStandardSignature([secret], 'id', '1', body, mac), false, 'no version');
  assert.equal(verifyStandardSignature(['not-a-whsec', ''], 'id', '1', body, good), false, 'unusable secrets are skipped');
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 300, unit: 'binary' }), (header, noise) => {
      assert.equal(typeof verifyStandardSignature([secret], 'id', '1', body, header), 'boolean');
      assert.equal(typeof verifyHmacHexSignature(['s', secret], body, header + noise), 'boolean');
      for (const e of parseSignatureHeader(header + noise)) {
        assert.ok(e.version.length > 0 && e.signature.length > 0 && !/[ \t]/.test(e.version + e.signature));
      }
    }),
    { numRuns: 500 },
  );
});

test('hmac-sha256-hex: hex in either case, optional sha256= prefix, any of several secrets', () => {
  const body = Buffer.from('{"shipment":"S1"}');
  const hex = createHmac('sha256', 'partner-secret').update(body).digest('hex');
  assert.equal(signHmacHex('partner-secret', body), hex);
  for (const header of [hex, hex.toUpperCase(), `sha256=${hex}`, ` ${hex} `]) assert.ok(verifyHmacHexSignature(['old', 'partner-secret'], body, header), header);
  for (const header of [hex.slice(1), `${hex}0`, `sha1=${hex}`, `${hex},${hex}`, '', 'zz'.repeat(32)]) assert.equal(verifyHmacHexSignature(['partner-secret'], body, header), false, header);
  assert.equal(verifyHmacHexSignature([''], body, signHmacHex('', body)), false, 'an empty secret never verifies');
});

test('timestamps: whole Unix seconds only; the tolerance holds in both directions, inclusive', () => {
  assert.deepEqual(parseWebhookTimestamp('1700000000'), { ok: true, seconds: 1700000000 });
  assert.deepEqual(parseWebhookTimestamp(' 42 '), { ok: true, seconds: 42 });
  for (const bad of ['', ' ', '-1', '+1', '1.5', '1e9', '0x10', '１２３', '1700000000000', '9'.repeat(40), 'NaN']) {
    assert.equal(parseWebhookTimestamp(bad).ok, false, bad);
  }
  assert.match((parseWebhookTimestamp('1700000000000') as { reason: string }).reason, /milliseconds/);
  fc.assert(
    fc.property(fc.string({ maxLength: 30, unit: 'binary' }), (s) => {
      const r = parseWebhookTimestamp(s);
      if (r.ok) assert.ok(Number.isSafeInteger(r.seconds) && r.seconds >= 0 && /^\s*[0-9]{1,12}\s*$/.test(s));
    }),
  );
  const now = new Date('2026-03-01T12:00:00.900Z');
  const base = Math.floor(now.getTime() / 1000);
  assert.deepEqual(checkTimestamp(base - 300, now, 300), { ok: true });
  assert.deepEqual(checkTimestamp(base + 300, now, 300), { ok: true });
  assert.deepEqual(checkTimestamp(base - 301, now, 300), { ok: false, reason: 'too_old', skewSeconds: 301 });
  assert.deepEqual(checkTimestamp(base + 301, now, 300), { ok: false, reason: 'in_future', skewSeconds: 301 });
});

test('header helpers: values, blanks and repeated headers; webhook ids; secrets; body digest', () => {
  assert.equal(headerValue({ 'webhook-id': 'a' }, 'Webhook-Id'), 'a');
  assert.equal(headerValue({ 'webhook-id': '  ' }, 'webhook-id'), undefined);
  assert.equal(headerValue({}, 'webhook-id'), undefined);
  assert.equal(headerValue({ 'set-cookie': ['a', 'b'] }, 'set-cookie'), 'a, b');
  assert.ok(isValidWebhookId('msg_2Lh9KxYz'));
  for (const bad of ['', 'a b', 'x'.repeat(257), 'é', 'a\u0000b', 'tab\there']) assert.equal(isValidWebhookId(bad), false, JSON.stringify(bad));
  assert.equal(secretKey('whsec_' + Buffer.alloc(8).toString('base64')), undefined, 'too short');
  assert.equal(secretKey('whsec_***'), undefined);
  assert.equal(secretKey(generateWebhookSecret())?.length, 24);
  assert.equal(bodyDigest(Buffer.from('abc')).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
