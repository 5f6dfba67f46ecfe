import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { EXAMPLE_EVENT_DATA } from '../../src/domain/examples.ts';
import { EVENT_TYPES, PermanentError, ValidationError, redactEventData } from '../../src/domain/index.ts';
import { PII_FIELD_NAMES, piiFieldNames } from '../../src/domain/pii.ts';
import { Type } from '@sinclair/typebox';
import { createLogger, maskForLog, maskText } from '../../src/platform/logger.ts';

/** A logger writing into an array of parsed lines. */
function capture(level = 'trace') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const log = createLogger(level, {}, stream);
  return { log, lines, text: () => lines.join('\n'), parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** The personal values of an example: whatever the schema-driven redaction replaces. */
function personalValues(type: string, data: unknown): string[] {
  const MARK = '\u0000pii';
  const out: string[] = [];
  const diff = (a: unknown, b: unknown) => {
    if (b === MARK) {
      if (typeof a === 'string' || typeof a === 'number') out.push(String(a));
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) return a.forEach((x, i) => diff(x, b[i]));
    if (a && typeof a === 'object' && b && typeof b === 'object') for (const k of Object.keys(a)) diff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]);
  };
  diff(data, redactEventData(type, data, MARK));
  return out;
}

test('the x-pii property names are derived from the domain schemas', () => {
  for (const name of ['email', 'lines', 'name', 'notes', 'phone', 'receivedBy']) assert.ok(PII_FIELD_NAMES.includes(name), name);
  for (const name of ['city', 'postalCode', 'countryCode', 'sku', 'orderId', 'trackingNumber', 'description']) assert.ok(!PII_FIELD_NAMES.includes(name), name);
  assert.deepEqual([...PII_FIELD_NAMES], [...new Set(PII_FIELD_NAMES)].sort(), 'sorted, unique');
  const s = Type.Object({
    a: Type.String({ 'x-pii': true }),
    b: Type.Array(Type.String(), { 'x-pii': true }),
    c: Type.Array(Type.String({ 'x-pii': true })),
    d: Type.Union([Type.Null(), Type.String({ 'x-pii': true })]),
    nested: Type.Object({ e: Type.Optional(Type.String({ 'x-pii': true })), f: Type.String() }),
    list: Type.Array(Type.Object({ g: Type.String({ 'x-pii': true }) })),
    rec: Type.Record(Type.String(), Type.Object({ h: Type.String({ 'x-pii': true }) })),
    plain: Type.String(),
  });
  assert.deepEqual(piiFieldNames([s]), ['a', 'b', 'c', 'd', 'e', 'g', 'h']);
});

test('an order event logged as a whole: no personal value appears, the non-personal fields do', () => {
  const { log, text, parsed } = capture();
  const data = EXAMPLE_EVENT_DATA['order.created.v1'];
  const before = structuredClone(data);
  log.info({ event: { type: 'order.created.v1', id: 'e-1', data } }, 'event received');
  const out = text();
  const personal = personalValues('order.created.v1', data);
  assert.ok(personal.length >= 5, String(personal));
  for (const v of ['Deco Addict', '77 Santa Barbara Rd', 'Brandon Freeman', '+16039963829', 'brandon.freeman55@example.com']) assert.ok(personal.includes(v), v);
  for (const v of personal) assert.ok(!out.includes(v), `"${v}" is in the log: ${out}`);
  for (const v of ['ord-S00065', 'S00065', 'PO-DA-4471', 'Pleasant Hill', '94523', 'FURN_7800', 'Desk Combination', '1350.00', 'event received']) assert.ok(out.includes(v), `"${v}" is missing: ${out}`);
  const logged = parsed()[0]!.event as { data: { shipTo: { name: string; address: { lines: string[]; city: string }; contact: Record<string, string> }; lines: { sku: string; quantity: number }[] } };
  assert.equal(logged.data.shipTo.name, '[masked]');
  assert.deepEqual(logged.data.shipTo.address.lines, ['[masked]']);
  assert.equal(logged.data.shipTo.address.city, 'Pleasant Hill');
  assert.deepEqual(logged.data.shipTo.contact, { name: '[masked]', phone: '[masked]', email: '[masked]' });
  assert.deepEqual(logged.data.lines.map((l) => [l.sku, l.quantity]), [['FURN_7800', 3]], "an order's lines are not street lines: walked, not masked");
  assert.deepEqual(data, before, "the caller's object is unchanged");
});

test('every example event: no personal value reaches the log', () => {
  const { log, text } = capture();
  const all: string[] = [];
  for (const t of EVENT_TYPES) {
    const data = (EXAMPLE_EVENT_DATA as Record<string, unknown>)[t.type];
    all.push(...personalValues(t.type, data));
    log.debug({ type: t.type, data }, `handled ${t.type}`);
    log.debug({ payload: JSON.stringify(data) }, 'raw payload as a string');
  }
  const out = text();
  const leaked = [...new Set(all)].filter((v) => v.length > 2 && out.includes(v));
  // in the raw JSON string only e-mail addresses and phone numbers are recognisable
  const structured = out.split('\n').filter((l) => !l.includes('raw payload')).join('\n');
  assert.deepEqual([...new Set(all)].filter((v) => v.length > 2 && structured.includes(v)), [], 'structured data');
  assert.deepEqual(leaked.filter((v) => /@|^\+\d/.test(v)), [], 'e-mail addresses and phone numbers in free text');
});

test('secrets by name at any depth become [secret]; booleans and nulls stay', () => {
  const { log, parsed, text } = capture();
  const obj = {
    headers: { authorization: 'Bearer olh_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', cookie: 'sid=1', 'x-api-key': 'k-123456', accept: 'application/json' },
    config: { security: { masterKeyFile: '/etc/hub/master.key', tokenCacheSeconds: 5 }, partner: { apiKey: 'AKIA123456', client_secret: 'cs-123456', webhookSecret: 'ws-1234' } },
    oauth: { access_token: 'at-123456', refresh_token: 'rt-123456', password: 'hunter2', hasPassword: true, token: null },
    sealed: { v: 1, mk: 'mk_x', ct: 'AAAA' },
  };
  log.warn(obj, 'calling partner');
  const o = parsed()[0]! as typeof obj;
  assert.deepEqual(o.headers, { authorization: '[secret]', cookie: '[secret]', 'x-api-key': '[secret]', accept: 'application/json' });
  assert.deepEqual(o.config, { security: { masterKeyFile: '/etc/hub/master.key', tokenCacheSeconds: 5 }, partner: { apiKey: '[secret]', client_secret: '[secret]', webhookSecret: '[secret]' } });
  assert.deepEqual(o.oauth, { access_token: '[secret]', refresh_token: '[secret]', password: '[secret]', hasPassword: true, token: null });
  assert.equal(o.sealed as unknown, '[secret]');
  for (const v of ['olh_abc', 'sid=1', 'k-123456', 'AKIA', 'cs-1', 'ws-1', 'at-1', 'rt-1', 'hunter2']) assert.ok(!text().includes(v), v);
});

test('free text: e-mail addresses, phone numbers and credentials are masked in messages, nested strings and errors', () => {
  const { log, parsed, text } = capture();
  const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjXzEifQ.c2lnbmF0dXJl';
  log.info('customer jane.doe@example.org called from +32 2 555 12 34 about order S00065');
  log.info('retrying %s for %s', 'https://hub:p4ssw0rd@db.internal:5432/hub', 'ops@example.com');
  log.info({ note: `token ${jwt} and whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw rotated`, list: ['a@b.io', 'plain'] }, 'rotation');
  log.error(new ValidationError('order.bad_contact', 'contact e-mail bob@example.com is not deliverable', [{ path: '/shipTo/contact/email', message: 'bob@example.com bounced' }]));
  log.warn({ err: new PermanentError({ code: 'partner.refused', message: 'refused for +16039963829', cause: new Error('upstream said carol@example.net') }) });
  const out = text();
  for (const v of ['jane.doe', '555 12 34', 'p4ssw0rd', 'ops@example.com', jwt, 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'a@b.io', 'bob@example.com', '6039963829', 'carol@example.net']) {
    assert.ok(!out.includes(v), `"${v}" leaked: ${out}`);
  }
  const [m1, m2, m3, m4, m5] = parsed();
  assert.equal(m1!.msg, 'customer [masked] called from [masked] about order S00065');
  assert.equal(m2!.msg, 'retrying https://hub:[secret]@db.internal:5432/hub for [masked]');
  assert.equal(m3!.note, 'token [secret] and [secret] rotated');
  assert.deepEqual(m3!.list, ['[masked]', 'plain']);
  assert.equal(m4!.msg, 'contact e-mail [masked] is not deliverable');
  const err4 = m4!.err as { type: string; name: string; code: string; message: string; stack: string; issues: { path: string; message: string }[] };
  assert.equal(err4.type, 'ValidationError');
  assert.equal(err4.name, 'ValidationError', "an error's name is its class, not a person");
  assert.equal(err4.code, 'order.bad_contact');
  assert.match(err4.stack, /^ValidationError: contact e-mail \[masked\] is not deliverable\n\s+at /);
  assert.deepEqual(err4.issues, [{ path: '/shipTo/contact/email', message: '[masked] bounced' }]);
  assert.equal(m5!.msg, 'refused for [masked]');
  assert.equal((m5!.err as { type: string }).type, 'PermanentError');
  assert.match((m5!.err as { message: string }).message, /refused for \[masked\]: upstream said \[masked\]/);
});

test('timestamps, ids and amounts are not taken for phone numbers', () => {
  for (const s of ['2026-03-03T09:12:55+01:00', 'seq 1234567890', 'amount +1350.00', 'SHP-1042', 'rate +0.15 per kg', 'v1.2.3+build.7']) assert.equal(maskText(s), s);
  assert.equal(maskText('call +1 (603) 996-3829 now'), 'call [masked] now');
  assert.equal(maskText('fax +3225551234.'), 'fax [masked].');
});

test('child bindings are masked; the masking is bounded in depth, size and cycles', () => {
  const { log, parsed } = capture();
  log.child({ correlationId: 'c-1', customer: { name: 'Deco Addict', email: 'x@y.com' } }).info('bound');
  const o = parsed()[0]!;
  assert.equal(o.correlationId, 'c-1');
  assert.deepEqual(o.customer, { name: '[masked]', email: '[masked]' });

  const cyclic: Record<string, unknown> = { id: 1 };
  cyclic.self = cyclic;
  let deep: Record<string, unknown> = { leaf: 'x' };
  for (let i = 0; i < 30; i++) deep = { d: deep };
  const big = Array.from({ length: 5000 }, (_, i) => ({ i, email: `u${i}@example.com` }));
  const masked = maskForLog({ cyclic, deep, big, buf: Buffer.from('secret bytes'), fn: () => 1, when: new Date('2026-03-01T00:00:00Z') }) as Record<string, unknown>;
  assert.deepEqual(masked.cyclic, { id: 1, self: '[circular]' });
  assert.match(JSON.stringify(masked.deep), /"\[too deep\]"/);
  assert.equal((masked.big as unknown[]).length, 101);
  assert.equal((masked.big as unknown[])[100], '[4900 more items]');
  assert.equal(masked.buf, '[binary 12 bytes]');
  assert.equal(masked.fn, undefined);
  assert.deepEqual(masked.when, new Date('2026-03-01T00:00:00Z'));
  assert.equal(cyclic.self, cyclic, 'the input is not changed');
  const huge = maskForLog({ s: 'a'.repeat(100_000) }) as { s: string };
  assert.ok(huge.s.length < 40_000 && huge.s.endsWith('more characters]'));
});

test('a level below the threshold costs no masking and writes nothing', () => {
  const { log, lines } = capture('warn');
  let touched = false;
  const probe = {
    get email() {
      touched = true;
      return 'x@y.com';
    },
  };
  log.debug(probe, 'not written');
  assert.equal(lines.length, 0);
  assert.equal(touched, false);
});
