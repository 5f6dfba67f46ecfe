import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HubError } from '../../../src/domain/errors.ts';
import { createOdooClient, expectResult, json2Body, NO_RESULT, type OdooClientConfig } from '../../../src/connectors/odoo/client.ts';
import { decodeMethodCall } from '../../../src/connectors/odoo/xmlrpc.ts';
import { exchange, type Exchange } from '../../helpers/odoo-transcripts.ts';

interface Req {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}
type Reply = { status?: number; headers?: Record<string, string | string[]>; body: string } | 'hang' | 'destroy';
type Handler = (req: Req) => Reply;

const servers: { close(): void; closeAllConnections(): void }[] = [];
after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

/** A real HTTP server answering with recorded bodies; records what it received. */
async function serve(handler: Handler): Promise<{ url: string; requests: Req[] }> {
  const requests: Req[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Req = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(r);
      const reply = handler(r);
      if (reply === 'hang') return;
      if (reply === 'destroy') return void req.socket.destroy();
      res.writeHead(reply.status ?? 200, reply.headers ?? {});
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

/** Replays a recorded response (Content-Type and, when given, a Set-Cookie value). */
function recorded(x: Exchange, cookie?: string): Reply {
  const headers: Record<string, string | string[]> = { 'Content-Type': String(x.response.headers['Content-Type']) };
  if (cookie) headers['Set-Cookie'] = `session_id=${cookie}; Max-Age=604800; HttpOnly; Path=/`;
  return { status: x.response.status, headers, body: x.response.body };
}

const API_KEY = 'fb2aee6b08b71cf50e662def8e8490be5cb27fa3';
const base = (url: string, o: Partial<OdooClientConfig> = {}): OdooClientConfig => ({ url, db: 'logi', login: 'admin', secret: 'admin', timeoutMs: 5000, ...o });

async function rejectsWith(p: Promise<unknown>, code: string, errorClass: string): Promise<HubError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof HubError, String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.errorClass, errorClass);
    return err;
  }
  assert.fail(`expected ${code}`);
}

const V01 = '01-version-authenticate.json';

test('XML-RPC: authenticate once, execute_kw sent exactly as Python sends it', async () => {
  const auth = exchange(V01, 'XML-RPC common.authenticate OK');
  const read = exchange(V01, 'XML-RPC execute_kw authenticated with the API key');
  const { url, requests } = await serve((r) => (r.path === '/xmlrpc/2/common' ? recorded(auth) : recorded(read)));
  const recordedCall = decodeMethodCall(read.request.body);
  const [, , secret, model, method, args, kwargs] = recordedCall.params as [string, number, string, string, string, unknown[], Record<string, unknown>];
  const client = createOdooClient(base(url, { protocol: 'xmlrpc', secret }));
  assert.deepEqual(await client.call(model, method, args, kwargs), [{ id: 2, login: 'admin', name: 'Mitchell Admin' }]);
  assert.deepEqual(await client.call(model, method, args, kwargs), [{ id: 2, login: 'admin', name: 'Mitchell Admin' }]);
  assert.equal(requests.filter((r) => r.path === '/xmlrpc/2/common').length, 1);
  assert.equal(requests[0]!.body, auth.request.body);
  assert.equal(requests[1]!.body, read.request.body);
  assert.equal(requests[1]!.headers['content-type'], 'text/xml');
  assert.equal(await client.protocol(), 'xmlrpc');
  await client.close();
});

test('XML-RPC: version, wrong password (authenticate → False), faults, cannot marshal None', async () => {
  const wrong = exchange(V01, 'XML-RPC common.authenticate wrong password');
  let next: Exchange = exchange('09-errors.json', 'XML-RPC: write on missing record');
  const { url } = await serve((r) => {
    if (r.path === '/xmlrpc/2/common') return decodeMethodCall(r.body).methodName === 'version' ? recorded(exchange(V01, 'XML-RPC common.version()')) : recorded(exchange(V01, 'XML-RPC common.authenticate OK'));
    return recorded(next);
  });
  const v = await createOdooClient(base(url, { protocol: 'xmlrpc' })).version();
  assert.deepEqual([v.major, v.serverVersion, v.serverSerie], [18, '18.0-20250702', '18.0']);
  const client = createOdooClient(base(url, { protocol: 'xmlrpc' }));
  const e = await rejectsWith(client.call('sale.order', 'write', [[99999999], { note: 'x' }]), 'odoo.business_error', 'business');
  assert.equal(e.message, 'Record does not exist or has been deleted.\n(Record: sale.order(99999999,), User: 2)');
  next = exchange('11-stock-quant-inventory.json', 'XML-RPC: stock.quant action_apply_inventory');
  await rejectsWith(client.call('stock.quant', 'action_apply_inventory', [[4]]), 'odoo.cannot_marshal_none', 'permanent');

  const { url: url2 } = await serve(() => recorded(wrong));
  await rejectsWith(createOdooClient(base(url2, { protocol: 'xmlrpc', secret: 'wrong-password' })).call('res.partner', 'search', [[]]), 'odoo.access_denied', 'permanent');
});

test('JSON-RPC: authenticate, execute_kw, None result is NO_RESULT, errors keep the class', async () => {
  let next: Exchange = exchange(V01, 'JSON-RPC execute_kw authenticated with the API key');
  const { url, requests } = await serve((r) => {
    const params = (JSON.parse(r.body) as { params: { service: string; method: string } }).params;
    if (params.service === 'common') return recorded(exchange(V01, 'JSON-RPC common.authenticate with the API key'));
    return recorded(next);
  });
  const client = createOdooClient(base(url, { protocol: 'jsonrpc', secret: API_KEY }));
  assert.deepEqual(await client.call('res.users', 'read', [[2]], { fields: ['login', 'name'] }), [{ id: 2, login: 'admin', name: 'Mitchell Admin' }]);
  const sent = JSON.parse(requests[1]!.body) as { params: unknown };
  assert.deepEqual(sent.params, { service: 'object', method: 'execute_kw', args: ['logi', 2, API_KEY, 'res.users', 'read', [[2]], { fields: ['login', 'name'] }] });
  next = exchange('11-stock-quant-inventory.json', 'JSON-RPC: stock.quant action_apply_inventory');
  const none = await client.call('stock.quant', 'action_apply_inventory', [[4]]);
  assert.equal(none, NO_RESULT);
  assert.throws(() => expectResult(none), (e: HubError) => e.code === 'odoo.no_result');
  next = exchange('09-errors.json', 'JSON-RPC: write on missing record');
  await rejectsWith(client.call('sale.order', 'write', [[99999999], { note: 'x' }]), 'odoo.missing_record', 'business');
  next = exchange('07-invoicing.json', 'JSON-RPC: [B: customer without payment term] sale.advance.payment.inv create_invoices');
  const action = (await client.call('sale.advance.payment.inv', 'create_invoices', [[17]])) as { context: Record<string, unknown> };
  assert.equal(action.context.default_invoice_payment_term_id, null);
});

test('web session: cookie login, session expiry → one re-login → the call is repeated once', async () => {
  const auth = exchange('10-web-session-json.json', 'POST /web/session/authenticate OK');
  const ok = exchange('10-web-session-json.json', 'POST /web/dataset/call_kw/sale.order/search_read with the session cookie');
  const expired = exchange('10-web-session-json.json', 'call_kw with an invalid session cookie');
  let logins = 0;
  let expireNext = 0;
  const { url, requests } = await serve((r) => {
    if (r.path === '/web/session/authenticate') return recorded(auth, `sid${++logins}`);
    if (r.path === '/web/session/destroy') return recorded(exchange('10-web-session-json.json', 'destroy (logout)'), 'anon');
    if (expireNext > 0) {
      expireNext--;
      return recorded(expired);
    }
    return recorded(ok, `sid${logins}`);
  });
  const client = createOdooClient(base(url, { protocol: 'web' }));
  const kwargs = { domain: [['state', '=', 'sale']], fields: ['name', 'state', 'partner_id', 'delivery_status'], limit: 2, order: 'id desc' };
  const first = (await client.call('sale.order', 'search_read', [], kwargs)) as { id: number }[];
  assert.deepEqual(first.map((r) => r.id), [64, 63]);
  const authBody = JSON.parse(requests[0]!.body) as { params: unknown };
  assert.deepEqual(authBody.params, { db: 'logi', login: 'admin', password: 'admin' });
  assert.equal(requests[1]!.path, '/web/dataset/call_kw/sale.order/search_read');
  assert.equal(requests[1]!.headers.cookie, 'session_id=sid1');
  assert.deepEqual((JSON.parse(requests[1]!.body) as { params: unknown }).params, { model: 'sale.order', method: 'search_read', args: [], kwargs });

  expireNext = 1;
  assert.deepEqual(((await client.call('sale.order', 'search_read', [], kwargs)) as { id: number }[]).map((r) => r.id), [64, 63]);
  assert.equal(logins, 2);
  assert.equal(requests.at(-1)!.headers.cookie, 'session_id=sid2');

  expireNext = 2; // still expired after the re-login: reported, not looped on
  await rejectsWith(client.call('sale.order', 'search_read', [], kwargs), 'odoo.session_expired', 'transient');
  assert.equal(logins, 3);

  const { url: bad } = await serve(() => recorded(exchange('10-web-session-json.json', 'authenticate with a wrong password')));
  await rejectsWith(createOdooClient(base(bad, { protocol: 'web', secret: 'wrong-password' })).call('res.partner', 'search', [[]]), 'odoo.access_denied', 'permanent');

  await client.close();
  assert.equal(requests.at(-1)!.path, '/web/session/destroy');
  await rejectsWith(client.call('res.partner', 'search', [[]]), 'odoo.invalid_argument', 'permanent');
});

test('JSON-2: bearer key, database header, positional arguments become named ones', async () => {
  const { url, requests } = await serve((r) => {
    if (r.path === '/json/2/sale.order/action_quotation_sent') {
      return { status: 422, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'odoo.exceptions.UserError', message: 'Only draft orders can be marked as sent directly.', arguments: [], context: {}, debug: '' }) };
    }
    if (r.path === '/json/2/stock.quant/action_apply_inventory') return { headers: { 'Content-Type': 'application/json' }, body: 'null' };
    return { headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: JSON.stringify({ ok: true }) };
  });
  const client = createOdooClient(base(url, { protocol: 'json2', secret: API_KEY }));
  const bodyOf = (i: number) => JSON.parse(requests[i]!.body) as Record<string, unknown>;

  await client.call('sale.order', 'search_read', [[['state', '=', 'sale']], ['name']], { limit: 2, context: { lang: 'en_US' } });
  assert.equal(requests[0]!.path, '/json/2/sale.order/search_read');
  assert.equal(requests[0]!.headers.authorization, `bearer ${API_KEY}`);
  assert.equal(requests[0]!.headers['x-odoo-database'], 'logi');
  assert.match(String(requests[0]!.headers['content-type']), /^application\/json/);
  assert.deepEqual(bodyOf(0), { domain: [['state', '=', 'sale']], fields: ['name'], limit: 2, context: { lang: 'en_US' } });

  await client.call('sale.order', 'search', [[['id', '>', 1]], 0, 5, 'id desc']);
  assert.deepEqual(bodyOf(1), { domain: [['id', '>', 1]], offset: 0, limit: 5, order: 'id desc' });
  await client.call('sale.order', 'read', [[1, 2], ['name']]);
  assert.deepEqual(bodyOf(2), { ids: [1, 2], fields: ['name'] });
  await client.call('res.partner', 'write', [[7], { name: 'X' }]);
  assert.deepEqual(bodyOf(3), { ids: [7], vals: { name: 'X' } });
  await client.call('res.partner', 'create', [[{ name: 'A' }, { name: 'B' }]]);
  assert.deepEqual(bodyOf(4), { vals_list: [{ name: 'A' }, { name: 'B' }] });
  await client.call('res.partner', 'unlink', [[9]]);
  assert.deepEqual(bodyOf(5), { ids: [9] });
  await client.call('sale.order', 'action_confirm', [[60]], { context: { skip_sms: true } });
  assert.deepEqual(bodyOf(6), { ids: [60], context: { skip_sms: true } });
  await client.call('sale.order', 'search_count', [[]]);
  assert.deepEqual(bodyOf(7), { domain: [] });

  assert.equal(await client.call('stock.quant', 'action_apply_inventory', [[4]]), NO_RESULT);
  const e = await rejectsWith(client.call('sale.order', 'action_quotation_sent', [[60]]), 'odoo.user_error', 'business');
  assert.equal(e.message, 'Only draft orders can be marked as sent directly.');
  assert.throws(() => json2Body('x.model', 'do_it', [[1], 'a', 'b'], {}), (err: HubError) => err.code === 'odoo.invalid_argument');
  assert.throws(() => json2Body('res.partner', 'write', [[1], {}], { vals: {} }), /both positionally and by name/);
});

test('auto: Odoo 19 with an API key → JSON-2; 18, or a password → JSON-RPC', async () => {
  const v18 = exchange(V01, 'JSON-RPC common.version()');
  const v19body = v18.response.body.replaceAll('18.0', '19.0').replace('[18, 0, 0', '[19, 0, 0');
  for (const [body, secret, expected] of [
    [v19body, API_KEY, 'json2'],
    [v19body, 'admin', 'jsonrpc'],
    [v18.response.body, API_KEY, 'jsonrpc'],
  ] as const) {
    const { url, requests } = await serve((r) => {
      if (r.path === '/jsonrpc') {
        const p = (JSON.parse(r.body) as { params: { method: string } }).params;
        if (p.method === 'version') return { headers: { 'Content-Type': 'application/json' }, body };
        if (p.method === 'authenticate') return recorded(exchange(V01, 'JSON-RPC common.authenticate OK'));
        return { headers: { 'Content-Type': 'application/json' }, body: '{"jsonrpc": "2.0", "id": 3, "result": [1]}' };
      }
      return { headers: { 'Content-Type': 'application/json' }, body: '[1]' };
    });
    const client = createOdooClient(base(url, { protocol: 'auto', secret }));
    assert.deepEqual(await client.call('res.partner', 'search', [[]]), [1]);
    assert.equal(await client.protocol(), expected);
    assert.equal((await client.version()).major, body === v19body ? 19 : 18);
    assert.equal(requests.filter((r) => r.body.includes('"version"')).length, 1, 'version read once');
    assert.equal(requests.some((r) => r.path.startsWith('/json/2/')), expected === 'json2');
  }
});

test('timeout → odoo.timeout (transient)', async () => {
  const { url } = await serve(() => 'hang');
  const t0 = Date.now();
  const e = await rejectsWith(createOdooClient(base(url, { protocol: 'jsonrpc', timeoutMs: 200 })).call('res.partner', 'search', [[]]), 'odoo.timeout', 'transient');
  assert.ok(Date.now() - t0 < 3000);
  assert.ok(e.retryAfterMs !== undefined && e.retryAfterMs > 0);
});

test('connection refused → odoo.unavailable (transient); connection dropped → odoo.unavailable', async () => {
  const { url } = await serve(() => 'destroy');
  const closedPort = await serve(() => ({ body: '' }));
  const s = servers.pop()!;
  s.closeAllConnections();
  s.close();
  await new Promise((r) => setTimeout(r, 50));
  await rejectsWith(createOdooClient(base(closedPort.url, { protocol: 'xmlrpc' })).call('res.partner', 'search', [[]]), 'odoo.unavailable', 'transient');
  await rejectsWith(createOdooClient(base(url, { protocol: 'jsonrpc' })).call('res.partner', 'search', [[]]), 'odoo.unavailable', 'transient');
});

test('proxy 502/503/504 HTML → transient; HTML with 200 → odoo.protocol; 400 Invalid JSON data → permanent', async () => {
  let reply: Reply = { status: 502, headers: { 'Content-Type': 'text/html' }, body: '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>' };
  const { url } = await serve(() => reply);
  for (const protocol of ['xmlrpc', 'jsonrpc', 'web', 'json2'] as const) {
    const e = await rejectsWith(createOdooClient(base(url, { protocol, secret: API_KEY })).call('res.partner', 'search', [[]]), 'odoo.unavailable', 'transient');
    assert.match(e.message, /502 Bad Gateway/);
  }
  reply = { status: 503, headers: { 'Content-Type': 'text/html', 'Retry-After': '12' }, body: 'Service Unavailable' };
  assert.equal((await rejectsWith(createOdooClient(base(url, { protocol: 'jsonrpc' })).call('res.partner', 'search', [[]]), 'odoo.unavailable', 'transient')).retryAfterMs, 12000);
  reply = { status: 504, body: 'Gateway Timeout' };
  await rejectsWith(createOdooClient(base(url, { protocol: 'xmlrpc' })).call('res.partner', 'search', [[]]), 'odoo.unavailable', 'transient');
  reply = { status: 200, headers: { 'Content-Type': 'text/html' }, body: '<html>captive portal</html>' };
  for (const protocol of ['xmlrpc', 'jsonrpc', 'json2'] as const) {
    await rejectsWith(createOdooClient(base(url, { protocol, secret: API_KEY })).call('res.partner', 'search', [[]]), 'odoo.protocol', 'transient');
  }
  const bad = exchange('12-wire-format-edge-cases.json', 'malformed JSON body');
  reply = recorded(bad);
  await rejectsWith(createOdooClient(base(url, { protocol: 'jsonrpc' })).call('res.partner', 'search', [[]]), 'odoo.bad_request', 'permanent');
});

test('a value XML-RPC cannot carry is refused before sending', async () => {
  const { url, requests } = await serve(() => recorded(exchange(V01, 'XML-RPC common.authenticate OK')));
  await rejectsWith(createOdooClient(base(url, { protocol: 'xmlrpc' })).call('res.partner', 'search', [[['id', '=', 2 ** 40]]]), 'odoo.invalid_argument', 'permanent');
  assert.equal(requests.filter((r) => r.path === '/xmlrpc/2/object').length, 0);
});
