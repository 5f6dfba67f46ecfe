/**
 * Property: whatever is posted to /v1/events (bodies, content types, ce-* headers), the
 * answer is never a 5xx, every error is problem+json, and nothing is stored unless the
 * answer is 202.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BATCH, STRUCTURED, cloudEvent, countEvents, startApi } from './harness.ts';

const api = await startApi({ ingress: { maxBatch: 4, bodyLimitBytes: 8 * 1024 } });
const TYPES = ['shipment.tracking.v1', 'order.created.v1', 'stock.moved.v1'];

const printable = fc.stringMatching(/^[ -~]{0,40}$/);
const tricky = fc.constantFrom('', '\u0000', '\ud800', 'a\udc00b', '1.0', '2026-02-30T00:00:00Z', '0000-01-01T00:00:00Z', '2026-01-01T00:00:00+23:59', 'x'.repeat(600), '__proto__', 'é');
const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), tricky, fc.string(), fc.integer(), fc.double(), fc.constant(null));
const attrName = fc.oneof(
  fc.constantFrom('id', 'source', 'type', 'specversion', 'time', 'subject', 'datacontenttype', 'dataschema', 'data', 'data_base64', 'partitionkey', 'tenant', 'correlationid', 'Upper', 'a_b', 'abcdefghijklmnopqrstuvwxyz'),
  fc.string({ maxLength: 8 }),
);

/** A valid event, then some attributes replaced, removed, or its data's fields replaced. */
const mutatedEvent = fc
  .record({
    type: fc.constantFrom(...TYPES),
    set: fc.dictionary(attrName, value, { maxKeys: 3 }),
    drop: fc.array(attrName, { maxLength: 2 }),
    dataSet: fc.dictionary(fc.string({ maxLength: 12 }), value, { maxKeys: 2 }),
    mutate: fc.boolean(),
  })
  .map(({ type, set, drop, dataSet, mutate }) => {
    const ev = cloudEvent(type);
    if (!mutate) return ev;
    Object.assign(ev.data as object, dataSet);
    for (const k of drop) delete ev[k];
    for (const [k, v] of Object.entries(set)) Object.defineProperty(ev, k, { value: v, enumerable: true, configurable: true, writable: true });
    return ev;
  });

const chaosBody = fc.oneof(
  mutatedEvent.map((e) => JSON.stringify(e)),
  fc.array(mutatedEvent, { maxLength: 6 }).map((a) => JSON.stringify(a)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string(),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.constant(''),
);

const chaosContentType = fc.oneof(
  fc.constantFrom(STRUCTURED, BATCH, 'application/json', 'application/vnd.acme+json', 'text/plain', `${STRUCTURED}; charset=latin1`, 'application/json; charset=utf-8', 'multipart/form-data', ';;', undefined),
  printable,
);

const headerValue = fc.oneof(printable, fc.constantFrom('1.0', 'shipment.tracking.v1', 'urn:x', '%00', '%ED%A0%80', '%zz', '%C3%A9'));
const chaosHeaders = fc.dictionary(
  fc.constantFrom('ce-id', 'ce-source', 'ce-type', 'ce-specversion', 'ce-time', 'ce-subject', 'ce-partitionkey', 'ce-tenant', 'ce-correlationid', 'ce-datacontenttype', 'ce-foo', 'ce-x_y', 'x-correlation-id', 'content-encoding'),
  headerValue,
  { maxKeys: 6 },
);

interface Request {
  payload: string | Buffer;
  headers: Record<string, string>;
}

const withType = (ct: string | undefined, headers: Record<string, string> = {}) => (ct === undefined ? headers : { ...headers, 'content-type': ct });

/** Mostly well-formed requests in each mode (with mutated events), plus chaos. */
const request: fc.Arbitrary<Request> = fc.oneof(
  mutatedEvent.map((e) => ({ payload: JSON.stringify(e), headers: { 'content-type': STRUCTURED } })),
  fc.array(mutatedEvent, { minLength: 0, maxLength: 5 }).map((a) => ({ payload: JSON.stringify(a), headers: { 'content-type': BATCH } })),
  fc.tuple(mutatedEvent, fc.dictionary(fc.constantFrom('ce-subject', 'ce-foo', 'ce-x_y', 'ce-time', 'ce-id'), headerValue, { maxKeys: 2 })).map(([e, extra]) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const [k, v] of Object.entries(e)) if (k !== 'data' && typeof v === 'string' && /^[ -~]*$/.test(v)) headers[`ce-${k.toLowerCase()}`] = v;
    return { payload: JSON.stringify(e.data ?? null), headers: { ...headers, ...extra } };
  }),
  fc.tuple(chaosBody, chaosContentType, chaosHeaders).map(([payload, ct, headers]) => ({ payload, headers: withType(ct, headers) })),
);

test('arbitrary requests to /v1/events: never a 5xx, errors are problems, nothing stored unless 202', async () => {
  let accepted = 0;
  await fc.assert(
    fc.asyncProperty(request, async ({ payload, headers }) => {
      const before = await countEvents(api.pool);
      const res = await api.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${api.token}`, ...headers }, payload });
      const after = await countEvents(api.pool);
      assert.ok(res.statusCode < 500, `${res.statusCode} ${res.body}`);
      if (res.statusCode === 202) {
        accepted++;
        assert.ok(after >= before);
      } else {
        assert.ok(res.statusCode >= 400, `${res.statusCode}`);
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
        assert.equal(after, before, `stored despite ${res.statusCode} ${res.body}`);
        const p = JSON.parse(res.body);
        assert.equal(p.status, res.statusCode);
        assert.equal(typeof p.code, 'string');
      }
    }),
    { numRuns: Number(process.env.HUB_PROPERTY_RUNS ?? 400) },
  );
  assert.ok(accepted > 0, 'some generated requests are valid');
  if (process.env.HUB_PROPERTY_RUNS) console.log(`accepted ${accepted}`);
});
