/**
 * Contract tests: the connector's client against the Odoo simulator over real HTTP, for
 * every protocol. The same calls must give the same values, and the same Odoo failures the
 * same error codes and classes (except where XML-RPC cannot tell business errors apart),
 * including the faults the simulator injects.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { HubError } from '../../../src/domain/errors.ts';
import { NO_RESULT, createOdooClient, type OdooClient, type OdooProtocolChoice } from '../../../src/connectors/odoo/client.ts';
import { OdooSimulator } from '../../../simulators/odoo/server.ts';
import { ADMIN_API_KEY } from '../../../simulators/odoo/orm/seed.ts';

const v18 = await OdooSimulator.start({ version: 18 });
const v19 = await OdooSimulator.start({ version: 19 });
after(() => Promise.all([v18.stop(), v19.stop()]));

const PROTOCOLS: { protocol: Exclude<OdooProtocolChoice, 'auto'>; sim: OdooSimulator; secret: string }[] = [
  { protocol: 'xmlrpc', sim: v18, secret: 'admin' },
  { protocol: 'jsonrpc', sim: v18, secret: 'admin' },
  { protocol: 'web', sim: v18, secret: 'admin' },
  { protocol: 'json2', sim: v19, secret: ADMIN_API_KEY },
];

const clientFor = (p: (typeof PROTOCOLS)[number], timeoutMs = 5000): OdooClient =>
  createOdooClient({ url: p.sim.url, db: 'logi', login: 'admin', secret: p.secret, protocol: p.protocol, timeoutMs });

async function failure(p: Promise<unknown>): Promise<HubError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof HubError, `a HubError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a failure');
}

for (const p of PROTOCOLS) {
  test(`${p.protocol}: version, reads, create, write, unlink round trip with Odoo's values`, async () => {
    const c = clientFor(p);
    after(() => c.close());
    assert.equal((await c.version()).major, p.sim.version);
    const rows = (await c.call('res.partner', 'search_read', [[['id', '=', 10]]], { fields: ['name', 'phone'] })) as Record<string, unknown>[];
    assert.deepEqual(rows, [{ id: 10, name: 'Deco Addict', phone: '(603)-996-3829' }]);
    const id = (await c.call('res.partner', 'create', [{ name: `Contract ${p.protocol}` }])) as number | number[];
    const pid = Array.isArray(id) ? id[0]! : id;
    assert.equal(typeof pid, 'number');
    assert.equal(await c.call('res.partner', 'write', [[pid], { phone: '+1 555 0199' }]), true);
    const [row] = (await c.call('res.partner', 'read', [[pid]], { fields: ['phone', 'parent_id'] })) as Record<string, unknown>[];
    assert.equal(row!.phone, '+1 555 0199');
    assert.equal(row!.parent_id, false, 'unset many2one is false');
    assert.deepEqual(await c.call('res.partner', 'read', [[99999999]], { fields: ['name'] }), [], 'a missing id is left out');
    assert.equal(await c.call('res.partner', 'unlink', [[pid]]), true);
  });

  test(`${p.protocol}: Odoo's errors arrive classified with Odoo's message`, async () => {
    const c = clientFor(p);
    after(() => c.close());
    const missing = await failure(c.call('sale.order', 'write', [[99999999], { note: 'x' }]));
    assert.equal(missing.errorClass, 'business');
    assert.equal(missing.code, p.protocol === 'xmlrpc' ? 'odoo.business_error' : 'odoo.missing_record', 'XML-RPC cannot tell business errors apart');
    assert.match(missing.message, /Record does not exist or has been deleted/);
    const model = await failure(c.call('no.such.model', 'search', [[]]));
    assert.equal(model.code, 'odoo.unknown_model', 'recognised by its message even over XML-RPC');
    assert.equal(model.errorClass, 'permanent');
    const field = await failure(c.call('sale.order', 'search_read', [[]], { fields: ['no_such_field'] }));
    assert.equal(field.code, 'odoo.invalid_field');
    assert.equal(field.errorClass, 'permanent');
    const method = await failure(c.call('sale.order', 'no_such_method', [[1]]));
    assert.equal(method.code, 'odoo.unknown_method');
  });

  test(`${p.protocol}: injected faults are transient errors; the call works again afterwards`, async () => {
    const c = clientFor(p, 300);
    after(() => c.close());
    await c.version();
    p.sim.setFaults({ proxyError: { status: 502, count: 1 } });
    const proxy = await failure(c.call('res.partner', 'search_count', [[]]));
    assert.equal(proxy.errorClass, 'transient');
    p.sim.setFaults({ serializationFailures: { count: 1 } });
    const ser = await failure(c.call('res.partner', 'search_count', [[]]));
    assert.equal(ser.code, 'odoo.serialization_failure');
    assert.equal(ser.errorClass, 'transient');
    p.sim.setFaults({ slow: { count: 1, ms: 1000 } });
    const slow = await failure(c.call('res.partner', 'search_count', [[]]));
    assert.equal(slow.code, 'odoo.timeout');
    await p.sim.goDown(60_000);
    const down = await failure(c.call('res.partner', 'search_count', [[]]));
    assert.equal(down.code, 'odoo.unavailable');
    assert.equal(down.errorClass, 'transient');
    await p.sim.up();
    assert.equal(typeof (await c.call('res.partner', 'search_count', [[]])), 'number');
  });
}

test('web: an expired session is logged in again and the call repeated, invisibly', async () => {
  const c = clientFor(PROTOCOLS[2]!);
  after(() => c.close());
  assert.equal(typeof (await c.call('res.partner', 'search_count', [[]])), 'number');
  v18.setFaults({ expireSessions: true });
  assert.equal(typeof (await c.call('res.partner', 'search_count', [[]])), 'number');
});

test('auto: JSON-2 against Odoo 19 with an API key, JSON-RPC against 18', async () => {
  const a19 = createOdooClient({ url: v19.url, db: 'logi', login: 'admin', secret: ADMIN_API_KEY, protocol: 'auto' });
  const a18 = createOdooClient({ url: v18.url, db: 'logi', login: 'admin', secret: 'admin', protocol: 'auto' });
  after(() => Promise.all([a19.close(), a18.close()]));
  assert.equal(await a19.protocol(), 'json2');
  assert.equal(await a18.protocol(), 'jsonrpc');
  assert.equal(typeof (await a19.call('res.partner', 'search_count', [[]])), 'number');
});

test('None over the wire: JSON-RPC has no result member; the client resolves NO_RESULT', async () => {
  // a method returning None, registered on the simulator's ORM the way Odoo's action_apply_inventory behaves
  v18.db.registerMethod('res.partner', 'touch_none', () => undefined);
  const c = clientFor(PROTOCOLS[1]!);
  after(() => c.close());
  assert.equal(await c.call('res.partner', 'touch_none', [[10]]), NO_RESULT);
  const x = clientFor(PROTOCOLS[0]!);
  after(() => x.close());
  const e = await failure(x.call('res.partner', 'touch_none', [[10]]));
  assert.equal(e.code, 'odoo.cannot_marshal_none', 'XML-RPC cannot send None: the call ran, re-read to confirm');
});

test('a tenant\'s client: its configuration with the password opened from the secrets store', async () => {
  const { freshDatabase } = await import('../../helpers/db.ts');
  const { putSecret } = await import('../../../src/security/secrets.ts');
  const { validateConfig } = await import('../../../src/platform/config.ts');
  const { odooClientFor } = await import('../../../src/connectors/odoo/factory.ts');
  const { TEST_KEYRING } = await import('../../api/harness.ts');
  const db = await freshDatabase();
  const config = validateConfig({ connectors: { odoo: { default: { url: v18.url, db: 'logi', login: 'admin', secretName: 'odoo-password', protocol: 'jsonrpc' } } } });
  await assert.rejects(odooClientFor({ db: db.pool, keyring: TEST_KEYRING, config }, 'default'), /odoo-password/, 'the secret is not stored yet: the error names it');
  await assert.rejects(odooClientFor({ db: db.pool, keyring: TEST_KEYRING, config }, 'acme'), /connectors\.odoo\.acme/);
  await putSecret(db.pool, TEST_KEYRING, { tenantId: 'default', name: 'odoo-password', value: 'admin', actor: 'test', overlapSeconds: 0 });
  const c = await odooClientFor({ db: db.pool, keyring: TEST_KEYRING, config }, 'default');
  after(() => c.close());
  assert.equal(typeof (await c.call('res.partner', 'search_count', [[]])), 'number');
});
