/**
 * The console's API as the console uses it: sign-in with a hub user (session cookie +
 * CSRF token), what a session may and may not do, and the read models and workbench
 * actions behind the pages, against a real PostgreSQL and a real HTTP server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { FakeClock } from '../../src/platform/clock.ts';
import { ingest } from '../../src/pipeline/inbox.ts';
import { createUser, setPassword, updateUser } from '../../src/security/users.ts';
import { assertProblem, call, cloudEvent, exampleData, post, startApi, type Answer } from './harness.ts';

const clock = new FakeClock(new Date());
const api = await startApi({ clock });
const pool = api.pool;
const PASSWORD = 'correct horse battery';

await createUser(pool, { tenantId: 'default', username: 'maria', displayName: 'Maria Ops', password: PASSWORD, scopes: ['exceptions:read', 'exceptions:write', 'orders:read', 'tracking:read', 'pii:read'], actor: 'test' });
await createUser(pool, { tenantId: 'default', username: 'viewer', password: PASSWORD, scopes: ['exceptions:read', 'orders:read', 'tracking:read'], actor: 'test' });

interface Session {
  cookie: string;
  csrf: string;
  body: Answer['body'];
}

/** Signs in like the browser does; returns the cookie the hub set and the CSRF token. */
async function signIn(username: string, password = PASSWORD): Promise<Session> {
  const r = await call(`${api.url}/v1/console/session`, { method: 'POST', headers: { authorization: '', 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const set = r.headers.get('set-cookie') ?? '';
  const m = /^olh_session=([^;]+)/.exec(set);
  assert.ok(m, `a session cookie is set: ${set}`);
  return { cookie: `olh_session=${m[1]}`, csrf: r.body.csrfToken, body: r.body };
}

/** A request with the session cookie and no bearer token (and the CSRF token unless told otherwise). */
function asUser(s: Session, path: string, init: { method?: string; body?: unknown; csrf?: string | null; origin?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { authorization: '', cookie: s.cookie };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.csrf !== null && (init.method ?? 'GET') !== 'GET') headers['x-csrf-token'] = init.csrf ?? s.csrf;
  if (init.origin) headers.origin = init.origin;
  return call(`${api.url}${path}`, { method: init.method ?? 'GET', headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
}

test('sign-in sets an HttpOnly, SameSite=Strict session cookie and answers the user and a CSRF token', async () => {
  const r = await call(`${api.url}/v1/console/session`, { method: 'POST', headers: { authorization: '', 'content-type': 'application/json' }, body: JSON.stringify({ username: 'Maria', password: PASSWORD }) });
  assert.equal(r.status, 200);
  const cookie = r.headers.get('set-cookie')!;
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.match(cookie, /Path=\//);
  assert.doesNotMatch(cookie, /Secure/, 'plain HTTP to loopback (the local demo): a Secure cookie would never come back');
  assert.equal(r.body.user.username, 'maria', 'user names are case-insensitive');
  assert.equal(r.body.user.displayName, 'Maria Ops');
  assert.ok(r.body.csrfToken.length >= 40);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const stored = await pool.query(`select id_hash from hub_sessions s join hub_users u on u.id = s.user_id where u.username = 'maria'`);
  assert.ok(stored.rows.every((x) => x.id_hash.length === 32), 'only the SHA-256 of the cookie value is stored');
  const audit = await pool.query(`select 1 from hub_audit where action = 'user.signed_in'`);
  assert.ok(audit.rowCount! >= 1);
});

test('a wrong password or an unknown user gets the same 401 problem; the refusal is in the security log', async () => {
  for (const body of [{ username: 'maria', password: 'not the password' }, { username: 'nobody', password: 'whatever it is' }]) {
    const r = await call(`${api.url}/v1/console/session`, { method: 'POST', headers: { authorization: '', 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assertProblem(r, 401, 'auth.invalid_login');
    assert.equal(r.body.detail, 'wrong user name or password');
    assert.equal(r.headers.get('set-cookie'), null);
  }
  const log = await pool.query(`select code from hub_security_log where code like 'console.signin_%'`);
  assert.ok(log.rowCount! >= 2);
});

test('five wrong passwords lock the user for a quarter of an hour, even with the right one', async () => {
  await createUser(pool, { tenantId: 'default', username: 'locky', password: PASSWORD, scopes: ['orders:read'], actor: 'test' });
  const attempt = (password: string) => call(`${api.url}/v1/console/session`, { method: 'POST', headers: { authorization: '', 'content-type': 'application/json' }, body: JSON.stringify({ username: 'locky', password }) });
  let last: Answer | undefined;
  for (let i = 0; i < 5; i++) last = await attempt(`wrong password ${i}`);
  assertProblem(last!, 401, 'auth.user_locked');
  assertProblem(await attempt(PASSWORD), 401, 'auth.user_locked');
  clock.advance(16 * 60_000);
  assert.equal((await attempt(PASSWORD)).status, 200, 'after the lock the right password works again');
});

test('a session reads what its scopes allow; without the CSRF token or from another origin it changes nothing', async () => {
  const s = await signIn('maria');
  const me = await asUser(s, '/v1/console/session');
  assert.equal(me.status, 200);
  assert.equal(me.body.csrfToken, s.csrf);
  assert.equal((await asUser(s, '/v1/console/overview')).status, 200);
  const { rows } = await pool.query(`insert into hub_exceptions (key, code, message, details) values ('SO-CSRF', 'test.csrf', 'look', '{"class":"other"}') returning id`);
  const id = rows[0].id;
  assertProblem(await asUser(s, `/v1/console/exceptions/${id}/comments`, { method: 'POST', body: { text: 'hi' }, csrf: null }), 403, 'auth.csrf');
  assertProblem(await asUser(s, `/v1/console/exceptions/${id}/comments`, { method: 'POST', body: { text: 'hi' }, csrf: 'x'.repeat(43) }), 403, 'auth.csrf');
  assertProblem(await asUser(s, `/v1/console/exceptions/${id}/comments`, { method: 'POST', body: { text: 'hi' }, origin: 'https://evil.example' }), 403, 'auth.csrf');
  const notes = await pool.query(`select 1 from hub_exception_notes where exception_id = $1`, [id]);
  assert.equal(notes.rowCount, 0, 'nothing was written by the refused requests');
  const ok = await asUser(s, `/v1/console/exceptions/${id}/comments`, { method: 'POST', body: { text: 'looking into it' }, origin: api.url });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body.notes.map((n: { kind: string; text: string; actor: string }) => [n.kind, n.text, n.actor.startsWith('user:usr_')]), [['comment', 'looking into it', true]]);
  // scopes still decide: the viewer may read exceptions but not change them, and not read admin data
  const v = await signIn('viewer');
  assertProblem(await asUser(v, `/v1/console/exceptions/${id}/comments`, { method: 'POST', body: { text: 'x' } }), 403, 'auth.missing_scope');
  assertProblem(await asUser(v, '/v1/admin/clients'), 403, 'auth.missing_scope');
  // a session cannot own a subscription (they belong to API clients)
  assertProblem(await asUser(s, '/v1/subscriptions', { method: 'POST', body: { url: 'https://hooks.example.com/x', eventTypes: ['shipment.*'] } }), 403, 'subscription.needs_client');
});

test('sign-out, an idle timeout, a disabled user and a new password all end the session', async () => {
  const a = await signIn('maria');
  assertProblem(await asUser(a, '/v1/console/session', { method: 'DELETE', csrf: null }), 403, 'auth.csrf');
  const out = await asUser(a, '/v1/console/session', { method: 'DELETE' });
  assert.equal(out.status, 204);
  assert.match(out.headers.get('set-cookie')!, /Max-Age=0/);
  assertProblem(await asUser(a, '/v1/console/overview'), 401, 'auth.session_expired');

  const b = await signIn('maria');
  clock.advance((api.config.console.sessionIdleSeconds + 5) * 1000);
  assertProblem(await asUser(b, '/v1/console/overview'), 401, 'auth.session_expired');

  const c = await signIn('viewer');
  await updateUser(pool, { tenantId: 'default', username: 'viewer', disabled: true, actor: 'test' });
  assertProblem(await asUser(c, '/v1/console/overview'), 401, 'auth.session_expired');
  const refused = await call(`${api.url}/v1/console/session`, { method: 'POST', headers: { authorization: '', 'content-type': 'application/json' }, body: JSON.stringify({ username: 'viewer', password: PASSWORD }) });
  assertProblem(refused, 401, 'auth.invalid_login');
  await updateUser(pool, { tenantId: 'default', username: 'viewer', disabled: false, actor: 'test' });

  const d = await signIn('maria');
  await setPassword(pool, { tenantId: 'default', username: 'maria', password: PASSWORD, actor: 'test' });
  assertProblem(await asUser(d, '/v1/console/overview'), 401, 'auth.session_expired');
});

test('a sign-in posted from another origin is refused (login CSRF); from the hub\'s own it works', async () => {
  const post = (origin: string) => call(`${api.url}/v1/console/session`, { method: 'POST', headers: { authorization: '', 'content-type': 'application/json', origin }, body: JSON.stringify({ username: 'maria', password: PASSWORD }) });
  const r = await post('https://evil.example');
  assertProblem(r, 403, 'auth.csrf');
  assert.equal(r.headers.get('set-cookie'), null);
  assert.equal((await post(api.url)).status, 200);
});

test('bad sign-in input is a 400 problem naming the field', async () => {
  const r = await call(`${api.url}/v1/console/session`, { method: 'POST', headers: { authorization: '', 'content-type': 'application/json' }, body: JSON.stringify({ username: 'maria' }) });
  assert.equal(r.status, 400);
  assert.match(JSON.stringify(r.body), /password/);
});

// ----------------------------------------------------------------------------- read models

const orderId = `SO-C${Date.now() % 100000}`;
const shipmentId = `SHP-${orderId}`;
const tracking = `1ZCONSOLE${Date.now() % 100000}`;

async function seedOrder(): Promise<void> {
  const created = exampleData('order.created.v1') as Record<string, unknown>;
  const order = { ...created, orderId, orderNumber: `S${orderId.slice(4)}`, customerReference: `PO-CUST-${orderId}` };
  await ingest(pool, [
    { id: randomUUID(), source: 'urn:odoo:test', type: 'order.created.v1', specversion: '1.0', data: order, extensions: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }, key: orderId, tenantId: 'default', occurredAt: new Date(Date.now() - 60_000).toISOString() },
  ]);
  await pool.query(`insert into hub_workflows (tenant_id, workflow, instance, state) values ('default', 'order-to-delivery', $1, $2)`, [orderId, JSON.stringify({ parts: [{ shipmentId, warehouseId: 'loc-east', carrier: { carrierCode: 'ups', service: 'ups_ground' }, trackingNumber: tracking }] })]);
  await pool.query(`insert into hub_workflow_refs (tenant_id, workflow, ref, instance) values ('default', 'order-to-delivery', $1, $2), ('default', 'order-to-delivery', $3, $2)`, [shipmentId, orderId, tracking]);
  await pool.query(`insert into hub_tracking (tenant_id, carrier, tracking_number, shipment_id, order_id, status, state) values ('default', 'ups', $1, $2, $3, 'in_transit', '{}')`, [tracking, shipmentId, orderId]);
  await pool.query(
    `insert into hub_workflow_steps (tenant_id, workflow, instance, step, step_key, status, attempts, input, error)
     values ('default', 'order-to-delivery', $1, 'carrier.book', $2, 'failed', 3, $3, '{"code":"carrier.address_invalid","errorClass":"business","message":"street not found"}')`,
    [orderId, `book:${shipmentId}`, JSON.stringify({ shipmentId, shipTo: { name: 'Jane Customer', street: '1 Wrong St', city: 'Brussels' } })],
  );
}
await seedOrder();

test('search finds the order by tracking number, order number, customer reference and partner reference', async () => {
  const s = await signIn('maria');
  const find = async (q: string) => (await asUser(s, `/v1/console/search?q=${encodeURIComponent(q)}`)).body;
  assert.deepEqual((await find(tracking)).items.map((h: { kind: string; key: string; order: string }) => [h.kind, h.key, h.order]), [['shipment', shipmentId, orderId]]);
  assert.equal((await find(`s${orderId.slice(4)}`)).items[0].key, orderId, 'order numbers match case-insensitively');
  assert.equal((await find(`PO-CUST-${orderId}`)).items[0].matchedBy, 'customer reference');
  assert.equal((await find(shipmentId)).items[0].order, orderId);
  assert.deepEqual((await find('no-such-thing')).items, []);
  assert.equal((await asUser(s, '/v1/console/search?q=')).status, 400);
});

test('the timeline shows the order and its shipment, the partner calls with retries, the trace id; personal data masked without pii:read', async () => {
  const s = await signIn('maria');
  const t = (await asUser(s, `/v1/console/timeline/${encodeURIComponent(shipmentId)}`)).body;
  assert.equal(t.order, orderId);
  assert.deepEqual(t.shipments.map((x: { trackingNumber: string }) => x.trackingNumber), [tracking]);
  assert.deepEqual(t.traceIds, ['4bf92f3577b34da6a3ce929d0e0e4736']);
  assert.equal(t.entries[0].type, 'order.created.v1');
  assert.equal(t.entries[0].system, 'odoo');
  assert.equal(t.partnerCalls[0].step, 'carrier.book');
  assert.equal(t.partnerCalls[0].attempts, 3);
  assert.equal(t.partnerCalls[0].input.shipTo.name, 'Jane Customer', 'pii:read sees names');
  const v = await signIn('viewer');
  const masked = (await asUser(v, `/v1/console/timeline/${encodeURIComponent(orderId)}`)).body;
  assert.equal(masked.partnerCalls[0].input.shipTo, '***');
  assert.doesNotMatch(JSON.stringify(masked), /Jane Customer/);
  assertProblem(await asUser(s, '/v1/console/timeline/nothing-known'), 404, 'timeline.not_found');
  // a carrier desk with tracking:read only sees the shipment's events, not the order's, its partner calls or exceptions
  await createUser(pool, { tenantId: 'default', username: 'desk', password: PASSWORD, scopes: ['tracking:read'], actor: 'test' });
  await pool.query(`insert into hub_exceptions (key, code, message, details) values ($1, 'test.visible', 'seen by some', '{"class":"other"}')`, [orderId]);
  const d = await signIn('desk');
  const narrow = (await asUser(d, `/v1/console/timeline/${encodeURIComponent(tracking)}`)).body;
  assert.ok(narrow.entries.every((e: { type: string }) => !e.type.startsWith('order.')));
  assert.ok(narrow.hiddenTypes >= 1);
  assert.deepEqual(narrow.partnerCalls, []);
  assert.equal(narrow.hiddenCalls, 1);
  assert.deepEqual(narrow.exceptions, []);
  assert.ok((await asUser(s, `/v1/console/timeline/${encodeURIComponent(orderId)}`)).body.exceptions.length >= 1);
});

// ----------------------------------------------------------------------------- workbench

async function stepException(): Promise<number> {
  await pool.query(`update hub_workflow_steps set status = 'failed' where instance = $1`, [orderId]);
  const r = await pool.query(
    `insert into hub_exceptions (tenant_id, key, code, severity, message, details) values ('default', $1, $2, 'error', 'carrier.book failed after 3 attempt(s): street not found', $3) returning id`,
    [orderId, `step_failed:book:${shipmentId}`, JSON.stringify({ class: 'partner_rejected', step: 'carrier.book', stepKey: `book:${shipmentId}`, carrier: 'ups', suggestedAction: { code: 'fix_and_resend', description: 'Read the rejection reason, correct the data and resend.' } })],
  );
  return Number(r.rows[0].id);
}

test('the workbench groups and filters; assign, apply the suggested action and resolve are each audited and noted', async () => {
  const s = await signIn('maria');
  const id = await stepException();
  const groups = (await asUser(s, '/v1/console/exception-groups?class=partner_rejected')).body.groups;
  assert.equal(groups[0].class, 'partner_rejected');
  assert.equal(groups[0].code, `step_failed:book:${shipmentId}`);
  assert.equal((await asUser(s, '/v1/console/exceptions?carrier=ups&severity=error')).body.items.some((x: { id: number }) => x.id === id), true);
  assert.equal((await asUser(s, '/v1/console/exceptions?carrier=dhl')).body.items.some((x: { id: number }) => x.id === id), false);
  assert.equal((await asUser(s, '/v1/console/exceptions?minAgeHours=1')).body.items.some((x: { id: number }) => x.id === id), false, 'not an hour old yet');
  assert.equal((await asUser(s, '/v1/console/exceptions?assignee=-')).body.items.some((x: { id: number }) => x.id === id), true);
  // exceptions the workflow raises name only their subject: the warehouse and carrier come from the order's part
  const bare = Number((await pool.query(`insert into hub_exceptions (key, code, severity, message, details) values ($1, $2, 'warning', 'no scan', $3) returning id`, [orderId, `no_scan:${shipmentId}`, JSON.stringify({ class: 'missing_scan', subject: { entity: 'shipment', id: shipmentId } })])).rows[0].id);
  const ids = async (q: string) => (await asUser(s, `/v1/console/exceptions?${q}`)).body.items.map((x: { id: number }) => x.id) as number[];
  assert.ok((await ids('warehouse=loc-east')).includes(bare));
  assert.ok((await ids('carrier=UPS')).includes(bare), 'carrier codes match case-insensitively');
  assert.ok((await ids('partner=loc-east')).includes(bare));
  assert.ok(!(await ids('warehouse=loc-west')).includes(bare));
  assert.ok(!(await ids('carrier=dhl')).includes(bare));
  assert.ok((await ids('partner=carrier')).includes(id), 'the system of a failed step is a partner');

  const assigned = await asUser(s, `/v1/console/exceptions/${id}/assign`, { method: 'POST', body: { assignee: 'maria' } });
  assert.equal(assigned.body.assignee, 'maria');
  const detail = (await asUser(s, `/v1/console/exceptions/${id}`)).body;
  assert.equal(detail.plan.kind, 'rerun_step');
  assert.equal(detail.plan.editable, 'step_input');
  assert.equal(detail.editable.shipTo.street, '1 Wrong St');

  const applied = await asUser(s, `/v1/console/exceptions/${id}/apply`, { method: 'POST', body: {} });
  assert.equal(applied.status, 200, JSON.stringify(applied.body));
  assert.equal(applied.body.did, 'ran carrier.book again');
  assert.equal(applied.body.exception.status, 'resolved');
  const step = (await pool.query(`select status, attempts from hub_workflow_steps where instance = $1`, [orderId])).rows[0];
  assert.deepEqual(step, { status: 'pending', attempts: 0 }, 'the step is queued to run again');
  assertProblem(await asUser(s, `/v1/console/exceptions/${id}/apply`, { method: 'POST', body: {} }), 409, 'exception.already_resolved');
  const notes = (await asUser(s, `/v1/console/exceptions/${id}`)).body.notes.map((n: { kind: string }) => n.kind);
  assert.deepEqual(notes, ['assigned', 'action', 'resolved']);
  const audit = await pool.query(`select action from hub_audit where object_type = 'exception' and object_id = $1 order by seq`, [String(id)]);
  assert.deepEqual(audit.rows.map((r) => r.action), ['exception.assigned', 'exception.action_applied']);
});

test('edit and replay runs the step with the corrected input; an invalid event correction changes nothing', async () => {
  const s = await signIn('maria');
  const id = await stepException();
  const r = await asUser(s, `/v1/console/exceptions/${id}/replay`, { method: 'POST', body: { input: { shipTo: { name: 'Jane Customer', street: '1 Right St', city: 'Brussels' } } } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const step = (await pool.query(`select status, input from hub_workflow_steps where instance = $1`, [orderId])).rows[0];
  assert.equal(step.status, 'pending');
  assert.equal(step.input.shipTo.street, '1 Right St');
  assert.equal(step.input.shipmentId, shipmentId, 'fields not edited are kept');

  // an event behind an exception: the correction is validated against the event's schema first
  const ev = { id: randomUUID(), source: 'urn:test:console', type: 'shipment.dispatched.v1', specversion: '1.0', data: exampleData('shipment.dispatched.v1'), extensions: {}, key: 'SHP-EDIT', tenantId: 'default' };
  const seq = (await ingest(pool, [ev]))[0]!.seq;
  const x = (await pool.query(`insert into hub_exceptions (key, event_seq, code, message, details) values ('SHP-EDIT', $1, 'mapping.bad', 'bad data', '{"class":"mapping_error"}') returning id`, [seq])).rows[0].id;
  const before = (await pool.query(`select count(*)::int as n from hub_events`)).rows[0].n;
  const bad = await asUser(s, `/v1/console/exceptions/${x}/replay`, { method: 'POST', body: { data: { nonsense: true } } });
  assertProblem(bad, 400, 'exception.invalid_edit');
  assert.match(bad.body.detail, /not a valid shipment\.dispatched\.v1/);
  assert.equal((await pool.query(`select count(*)::int as n from hub_events`)).rows[0].n, before, 'no event stored');
  assert.equal((await pool.query(`select status from hub_exceptions where id = $1`, [x])).rows[0].status, 'open', 'still open');
  const good = await asUser(s, `/v1/console/exceptions/${x}/replay`, { method: 'POST', body: { data: exampleData('shipment.dispatched.v1'), note: 'fixed the carrier code' } });
  assert.equal(good.status, 200, JSON.stringify(good.body));
  const copy = (await pool.query(`select extensions from hub_events where id = $1`, [good.body.eventId])).rows[0];
  assert.equal(copy.extensions.replayof, ev.id);
  // without exceptions:write nothing is replayed
  const v = await signIn('viewer');
  assertProblem(await asUser(v, `/v1/console/exceptions/${x}/replay`, { method: 'POST', body: { data: {} } }), 403, 'auth.missing_scope');
});

test('the live overview streams server-sent events; the overview counts open exceptions by class', async () => {
  const s = await signIn('maria');
  const r = await fetch(`${api.url}/v1/console/live?once=true`, { headers: { cookie: s.cookie } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type')!, /^text\/event-stream/);
  const text = await r.text();
  assert.match(text, /^id: 1\nevent: overview\nretry: \d+\ndata: \{/);
  const o = JSON.parse(text.split('data: ')[1]!.trim());
  assert.ok(o.exceptions.open >= 1);
  assert.ok(o.backlog.some((b: { queue: string }) => b.queue === 'events'));
});

test('the extensions that link an event to its raw delivery or its original are the hub\'s own: a client cannot send them', async () => {
  for (const ext of ['hubreceipt', 'replayof']) {
    const r = await post(api, cloudEvent('shipment.dispatched.v1', { [ext]: '1' }));
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(JSON.stringify(r.body), new RegExp(`${ext}[^]*is set by the hub itself`));
  }
});
