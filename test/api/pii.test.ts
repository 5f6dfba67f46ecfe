/**
 * Personal data in API answers: a client without pii:read sees names, street lines, phone
 * numbers and e-mail addresses masked in events and dead-letter payloads; a client with
 * pii:read sees them. Non-personal fields are shown to both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ingest } from '../../src/pipeline/inbox.ts';
import { call, cloudEvent, startApi } from './harness.ts';

const api = await startApi();
const PERSONAL = ['Deco Addict', '77 Santa Barbara Rd', 'Brandon Freeman', '+16039963829', 'brandon.freeman55@example.com'];

const ce = cloudEvent('order.created.v1', { id: 'pii-1' });
const [stored] = await ingest(api.pool, [{ id: 'pii-1', source: ce.source as string, type: 'order.created.v1', specversion: '1.0', data: ce.data, extensions: {}, key: 'ord-S00065', tenantId: 'default' }]);
await api.pool.query(`insert into hub_dead_letters (event_seq, key, type, source, reason, error_class, error_code, attempts) values ($1, 'ord-S00065', 'order.created.v1', $2, 'test', 'permanent', 'x', 1)`, [stored!.seq, ce.source]);

test('without pii:read personal data is masked; with it, shown; other fields the same for both', async () => {
  const plain = await api.client(['orders:read', 'exceptions:read']);
  const trusted = await api.client(['orders:read', 'exceptions:read', 'pii:read']);
  for (const path of ['/v1/events/pii-1', '/v1/dead-letters?include=payload']) {
    const masked = JSON.stringify((await call(`${api.url}${path}`, { headers: { authorization: `Bearer ${plain}` } })).body);
    const full = JSON.stringify((await call(`${api.url}${path}`, { headers: { authorization: `Bearer ${trusted}` } })).body);
    for (const v of PERSONAL) {
      assert.ok(!masked.includes(v), `${path}: ${v} is masked without pii:read`);
      assert.ok(full.includes(v), `${path}: ${v} is shown with pii:read`);
    }
    for (const v of ['Pleasant Hill', 'FURN_7800', 'S00065']) assert.ok(masked.includes(v), `${path}: ${v} is not personal and stays`);
    assert.ok(masked.includes('***'));
  }
});
