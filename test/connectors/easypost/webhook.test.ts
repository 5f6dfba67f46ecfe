/**
 * EasyPost webhook signatures (X-Hmac-Signature: hmac-sha256-hex=..., NFKD-normalised secret)
 * and the mapping of tracker Events to scans, from the fixtures in test/fixtures/easypost.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { easyPostWebhookMapper, mapEasyPostEvent, signEasyPostWebhook, verifyEasyPostSignature } from '../../../src/connectors/easypost/webhook.ts';
import { validateEventData } from '../../../src/domain/catalogue.ts';
import { ValidationError } from '../../../src/domain/errors.ts';
import { FakeClock } from '../../../src/platform/clock.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/easypost/${name}`, import.meta.url));
const body = fixture('tracker-updated-event.json');

describe('verifyEasyPostSignature', () => {
  const secret = 'sécret-Å';
  const header = 'hmac-sha256-hex=' + createHmac('sha256', Buffer.from(secret.normalize('NFKD'), 'utf8')).update(body).digest('hex');

  it('accepts the signature EasyPost computes (NFKD secret, hex HMAC of the raw body)', () => {
    assert.equal(signEasyPostWebhook(secret, body), header);
    assert.ok(verifyEasyPostSignature(body, header, [secret]));
    assert.ok(verifyEasyPostSignature(body, header.toUpperCase().replace('HMAC-SHA256-HEX=', 'hmac-sha256-hex='), [secret]));
    assert.ok(verifyEasyPostSignature(body, ` ${header} `, ['old', secret]), 'any configured secret (rotation)');
    // the composed form of the secret normalises to the same key
    assert.ok(verifyEasyPostSignature(body, header, [secret.normalize('NFC')]));
  });

  it('refuses a wrong secret, a tampered body and malformed headers', () => {
    assert.equal(verifyEasyPostSignature(body, header, ['other']), false);
    assert.equal(verifyEasyPostSignature(body, header, []), false);
    assert.equal(verifyEasyPostSignature(body, header, ['']), false);
    const tampered = Buffer.from(body.toString('utf8').replace('out_for_delivery', 'delivered'));
    assert.equal(verifyEasyPostSignature(tampered, header, [secret]), false);
    for (const h of [undefined, '', header.slice(16), 'sha256=' + header.slice(16), header.slice(0, -2), header + '00']) {
      assert.equal(verifyEasyPostSignature(body, h, [secret]), false, String(h));
    }
  });

  it('is total and only accepts the matching signature (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.string({ minLength: 1 }), fc.string(), (bytes, s, junk) => {
        const b = Buffer.from(bytes);
        assert.ok(verifyEasyPostSignature(b, signEasyPostWebhook(s, b), [s]));
        assert.equal(verifyEasyPostSignature(b, junk, [s]), junk.trim().toLowerCase() === signEasyPostWebhook(s, b));
      }),
    );
  });
});

describe('mapEasyPostEvent', () => {
  it('maps a tracker.updated Event to scans in UTC with the status table', () => {
    const m = mapEasyPostEvent(body)!;
    assert.equal(m.trackingNumber, '9400100000000000000000');
    assert.deepEqual(
      m.scans.map((s) => [s.code, s.status, s.exceptionClass, s.occurredAt, s.timeRule]),
      [
        ['pre_transit:label_created', 'info_received', undefined, '2026-11-20T14:00:02.000Z', 'offset'],
        ['in_transit:arrived_at_facility', 'in_transit', undefined, '2026-11-21T02:41:00.000Z', 'offset'],
        ['in_transit:weather_delay', 'delayed', 'weather', '2026-11-22T16:15:00.000Z', 'offset'],
        ['out_for_delivery:out_for_delivery', 'out_for_delivery', undefined, '2026-11-23T13:05:00.000Z', 'offset'],
      ],
    );
    assert.equal(m.scans[2]!.localTime, '2026-11-22T08:15:00');
    assert.equal(m.scans[0]!.location, undefined);
    assert.deepEqual(m.scans[1]!.location, { city: 'SAN FRANCISCO', region: 'CA', postalCode: '94107', countryCode: 'US' });
    assert.equal(m.scans[3]!.estimatedDeliveryAt, '2026-11-23T22:00:00.000Z');
    assert.equal(m.scans[3]!.description, 'Out for Delivery');
    assert.ok(m.scans.every((s) => s.carrier === 'easypost' && s.trackingNumber === m.trackingNumber));
  });

  it('accepts the parsed object, the text and the bytes alike', () => {
    assert.deepEqual(mapEasyPostEvent(JSON.parse(body.toString('utf8'))), mapEasyPostEvent(body));
    assert.deepEqual(mapEasyPostEvent(body.toString('utf8')), mapEasyPostEvent(body));
  });

  it('ignores Events that are not about trackers', () => {
    assert.equal(mapEasyPostEvent(fixture('batch-created-event.json')), undefined);
    assert.equal(mapEasyPostEvent({ object: 'Tracker' }), undefined);
    assert.equal(mapEasyPostEvent([1, 2]), undefined);
    assert.equal(mapEasyPostEvent(null), undefined);
  });

  it('refuses a tracker Event it cannot read, naming the field', () => {
    const e = JSON.parse(body.toString('utf8'));
    e.result.tracking_details[1].datetime = 'yesterday';
    assert.throws(() => mapEasyPostEvent(e), (err: unknown) => err instanceof ValidationError && err.code === 'easypost.webhook_malformed' && err.issues[0]!.path === '/result/tracking_details/1/datetime');
    assert.throws(() => mapEasyPostEvent({ object: 'Event', description: 'tracker.updated', result: {} }), ValidationError);
    assert.throws(() => mapEasyPostEvent('{not json'), ValidationError);
  });
});

describe('easyPostWebhookMapper', () => {
  const delivery = (b: Buffer) => ({ receiptId: 1, partner: 'easypost', tenantId: 'acme', webhookId: 'w1', contentType: 'application/json', body: b, correlationId: 'c1' });
  const mapper = easyPostWebhookMapper(new FakeClock('2026-11-23T13:05:09Z'));

  it('turns a tracker Event into one carrier.scans.received.v1 the catalogue accepts, id from the Event id', async () => {
    const [e, ...rest] = await mapper.map(delivery(body), { maxBatch: 100 });
    assert.equal(rest.length, 0);
    assert.equal(e!.id, 'easypost:evt_3a4b5c6d7e8f40a1b2c3d4e5f6a7b8c9');
    assert.equal(e!.type, 'carrier.scans.received.v1');
    assert.equal(e!.key, '9400100000000000000000');
    assert.equal(e!.tenantId, 'acme');
    assert.deepEqual(validateEventData('carrier.scans.received.v1', e!.data), []);
    const data = e!.data as { receivedVia: string; receivedAt: string; scans: unknown[] };
    assert.equal(data.receivedVia, 'webhook');
    assert.equal(data.receivedAt, '2026-11-23T13:05:09.000Z');
    assert.equal(data.scans.length, 4);
    // the same Event delivered again maps to the same id (stored once)
    const [again] = await mapper.map(delivery(Buffer.from(body)), { maxBatch: 100 });
    assert.equal(again!.id, e!.id);
  });

  it('maps other Events to nothing and refuses bodies that are not JSON', async () => {
    assert.deepEqual(await mapper.map(delivery(fixture('batch-created-event.json')), { maxBatch: 100 }), []);
    await assert.rejects(async () => mapper.map(delivery(Buffer.from('<xml/>')), { maxBatch: 100 }), ValidationError);
  });

  it('keeps every mapped Event within the catalogue schema, whatever the carrier sent (property)', () => {
    const event = JSON.parse(body.toString('utf8'));
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), fc.string({ maxLength: 300 }), fc.string({ minLength: 1, maxLength: 60 }), (message, city, detail) => {
        const e = structuredClone(event);
        e.result.tracking_details[1].message = message;
        e.result.tracking_details[1].tracking_location.city = city;
        e.result.tracking_details[1].status_detail = detail;
        e.result.signed_by = message;
        e.result.tracking_details[3].status = 'delivered';
        const [ev] = mapper.map(delivery(Buffer.from(JSON.stringify(e))), { maxBatch: 100 }) as ReturnType<typeof mapper.map> & unknown[];
        assert.deepEqual(validateEventData('carrier.scans.received.v1', (ev as { data: unknown }).data), []);
      }),
      { numRuns: 60 },
    );
  });
});
