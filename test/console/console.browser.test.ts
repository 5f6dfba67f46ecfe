/**
 * The operations console in a real browser (Debian's Chromium driven by Playwright) against a
 * hub running the order flow through the Odoo, WMS and EasyPost simulators on a real
 * PostgreSQL. What an operator does: sign in, watch the live overview, find a shipment by its
 * tracking number and read its timeline, resolve an exception, replay a dead letter, read
 * the connector health and the KPI charts, on a laptop (1280×800) and a tablet (820×1180).
 * Screenshots of every page are kept in test-artifacts/console/.
 *
 * Needs Chromium: `apt-get install chromium` (.ci/run installs it), or CHROMIUM_PATH.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freshDatabase } from '../helpers/db.ts';
import { startLandscape, type Landscape } from '../../src/demo/landscape.ts';
import { createUser } from '../../src/security/users.ts';
import { ingest } from '../../src/pipeline/inbox.ts';
import { EXAMPLE_EVENT_DATA } from '../../src/domain/examples.ts';
import { SCOPES } from '../../src/domain/scopes.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const ARTIFACTS = resolve('test-artifacts/console');
const PASSWORD = 'blue console harbour 42';

let l: Landscape;
let browser: Browser;
const db = await freshDatabase();
const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows as T[];

/** Polls until `done` holds (the simulators move on their own, in real time). */
async function until(what: string, done: () => Promise<boolean>, o: { timeoutMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function saleOrder(lines: [product: number, qty: number][], ref: string): string {
  const so = l.odoo.db.call(2, 'sale.order', 'create', [{ partner_id: 10, client_order_ref: ref, order_line: lines.map(([p, n]) => [0, 0, { product_id: p, product_uom_qty: n }]) }], {}) as number;
  l.odoo.db.call(2, 'sale.order', 'action_confirm', [[so]], {});
  const [row] = l.odoo.db.call(2, 'sale.order', 'read', [[so], ['name']], {}) as { name: string }[];
  return `ord-${row!.name}`;
}
const workflow = async (orderId: string) =>
  (await q<{ status: string; state: { parts: { status: string; trackingNumber?: string; shipmentId: string }[] } }>(`select status, state from hub_workflows where instance = $1`, [orderId]))[0];

let happy: string;
let tracking: string;
let shortOrder: string;
let deadLetterId: number;

before(async () => {
  assert.ok(CHROMIUM, 'Chromium is needed for the console tests: apt-get install chromium (or set CHROMIUM_PATH)');
  mkdirSync(ARTIFACTS, { recursive: true });
  // the simulators run on the wall clock like the hub, so every milestone falls in the KPI window that ends now
  l = await startLandscape({ databaseUrl: db.url, captureIntervalMs: 1000, realTime: true });
  for (const name of ['USPS', 'UPS', 'FedEx', 'DHLExpress']) l.odoo.db.call(2, 'delivery.carrier', 'create', [{ name, delivery_type: 'fixed', invoice_policy: 'estimated', product_id: 51 }], {});
  await createUser(db.pool, { tenantId: 'default', username: 'operator', displayName: 'Olga Operator', password: PASSWORD, scopes: [...SCOPES], actor: 'test' });

  // an order delivered and invoiced, and one short-picked (a stock shortage for the workbench)
  happy = saleOrder([[13, 1]], 'CONSOLE-HAPPY');
  shortOrder = saleOrder([[20, 3]], 'CONSOLE-SHORT');
  l.east.scriptShort(shortOrder, { 'E-COM10': { shortQty: 1, reason: 'damaged' } });
  // parcels that arrive within seconds of their booking
  const booked = async (o: string) => (await workflow(o))?.state.parts.map((p) => p.trackingNumber).filter((t): t is string => !!t) ?? [];
  await until('both orders booked', async () => (await booked(happy)).length === 1 && (await booked(shortOrder)).length >= 1, { timeoutMs: 120_000 });
  for (const t of [...(await booked(happy)), ...(await booked(shortOrder))]) {
    l.easypost.script(t, [
      { status: 'in_transit', status_detail: 'arrived_at_facility', afterSeconds: 4 },
      { status: 'out_for_delivery', status_detail: 'out_for_delivery', afterSeconds: 8 },
      { status: 'delivered', status_detail: 'arrived_at_destination', afterSeconds: 12 },
    ]);
  }
  await until('both orders delivered and invoiced', async () => (await workflow(happy))?.status === 'completed' && (await workflow(shortOrder))?.status === 'completed', { timeoutMs: 120_000 });
  tracking = (await booked(happy))[0]!;

  // a dead letter: an event the pipeline gave up on (its handler failed for good)
  const ev = { id: randomUUID(), source: 'urn:test:console', type: 'vehicle.position.v1', specversion: '1.0', data: structuredClone((EXAMPLE_EVENT_DATA as Record<string, unknown>)['vehicle.position.v1']), extensions: {}, key: 'VEH-CONSOLE', tenantId: 'default' };
  const [stored] = await ingest(db.pool, [ev]);
  await until('the event handled', async () => (await q(`select 1 from hub_keys where key = 'VEH-CONSOLE' and pending = 0`)).length === 1);
  deadLetterId = (await q<{ id: number }>(`insert into hub_dead_letters (event_seq, key, type, source, reason, error_class, error_code, attempts) values ($1, 'VEH-CONSOLE', $2, $3, 'the telematics mapper failed', 'permanent', 'test.mapper_failed', 3) returning id`, [stored!.seq, ev.type, ev.source]))[0]!.id;

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
});

after(async () => {
  await browser?.close();
  await l?.stop();
});

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true });

async function signedIn(viewport = { width: 1280, height: 800 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on('pageerror', (e) => assert.fail(`script error in the console: ${e.message}`));
  await page.goto(`${l.hub.url}/console`);
  await page.getByLabel('User name').fill('operator');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  return page;
}

describe('operations console', () => {
  it('a wrong password is refused on the form; the right one opens the live overview', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${l.hub.url}/console`);
    await page.getByLabel('User name').fill('operator');
    await page.getByLabel('Password').fill('not the password');
    await page.keyboard.press('Enter');
    await page.locator('#signin-error').filter({ hasText: 'wrong user name or password' }).waitFor();
    await shot(page, '01-signin-refused');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    // live: the server pushes a fresh snapshot every interval
    await page.waitForFunction(() => Number((globalThis as any).document.getElementById('live-status')?.dataset.updates ?? 0) >= 2, null, { timeout: 15_000 });
    assert.match(await page.locator('#exceptions-by-class').innerText(), /stock_shortage/);
    assert.match(await page.locator('#backlog').innerText(), /events/);
    assert.equal(await page.locator('#kpi-dead').innerText(), '1');
    await shot(page, '02-overview');
    await context.close();
  });

  it('finds a shipment by its tracking number and shows its timeline: every system, raw beside canonical, partner calls, trace ids', async () => {
    const page = await signedIn();
    await page.getByLabel('Search by business key').fill(tracking);
    await page.getByLabel('Search by business key').press('Enter');
    await page.locator('#timeline-events').waitFor();
    const heading = await page.getByRole('heading', { level: 1 }).innerText();
    assert.match(heading, /^Shipment /);
    assert.match(await page.locator('#timeline-shipments').innerText(), new RegExp(tracking));
    const types = await page.locator('#timeline-events > li').evaluateAll((els: any[]) => els.map((e) => e.dataset.type));
    for (const t of ['order.released.v1', 'shipment.booked.v1', 'shipment.dispatched.v1', 'shipment.delivered.v1']) assert.ok(types.includes(t), `${t} on the timeline (${types.join(', ')})`);
    const systems = new Set(await page.locator('#timeline-events > li').evaluateAll((els: any[]) => els.map((e) => e.dataset.system)));
    assert.ok(systems.has('hub') && systems.has('odoo') && [...systems].some((s) => s === 'wms' || s?.startsWith('carrier:')), `events from several systems: ${[...systems].join(', ')}`);
    // a webhook-borne event: the partner's raw body is shown beside the canonical event
    const fromWebhook = page.locator('#timeline-events > li').filter({ has: page.locator('pre.raw', { hasNotText: 'not kept' }) }).first();
    await fromWebhook.locator('summary').click();
    assert.match(await fromWebhook.locator('h3').nth(1).innerText(), /^As .+ sent it/);
    assert.ok((await fromWebhook.locator('pre.raw').innerText()).length > 20);
    const calls = await page.locator('#timeline-calls > li').evaluateAll((els: any[]) => els.map((e) => e.dataset.partner));
    assert.ok(calls.includes('odoo') && calls.includes('carrier') && calls.includes('wms'), `partner calls: ${calls.join(', ')}`);
    assert.match(await page.locator('#timeline-retries').innerText(), /^\d+$/);
    await shot(page, '03-timeline');
    await page.context().close();
  });

  it('resolves an exception from the workbench; the resolution is recorded with the user and audited', async () => {
    const page = await signedIn();
    await nav(page, 'Exceptions').click();
    await page.locator('#exception-groups').waitFor();
    assert.match(await page.locator('#exception-groups').innerText(), /stock_shortage/);
    await page.getByLabel('Class').selectOption('stock_shortage');
    // the flow's exception names only its shipment; the warehouse comes from the order's part
    await page.getByLabel('Warehouse').fill('loc-east');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForFunction(() => (globalThis as any).location.hash.includes('class=stock_shortage') && (globalThis as any).location.hash.includes('warehouse=loc-east'));
    assert.equal(await page.locator('#exception-list tbody tr').count(), 1, 'the short pick at loc-east');
    await shot(page, '04-exceptions');
    const first = page.locator('#exception-list tbody tr').first();
    const id = Number(await first.getAttribute('data-id'));
    await first.getByRole('link', { name: String(id) }).click();
    await page.locator('#exception-status').filter({ hasText: 'Open' }).waitFor();
    await page.getByRole('button', { name: 'Assign to me' }).click();
    await page.locator('#exception-assignee').filter({ hasText: 'operator' }).waitFor();
    await page.getByLabel('Resolution').fill('Backordered the damaged unit; the customer agreed');
    await page.getByRole('button', { name: 'Resolve', exact: true }).click();
    await page.locator('#exception-status').filter({ hasText: /^Resolved/ }).waitFor();
    await shot(page, '05-exception-resolved');
    const [x] = await q<{ status: string; resolved_by: string; resolution: string; assignee: string }>(`select status, resolved_by, resolution, assignee from hub_exceptions where id = $1`, [id]);
    assert.equal(x!.status, 'resolved');
    assert.match(x!.resolved_by, /^user:usr_/);
    assert.equal(x!.assignee, 'operator');
    const audit = await q<{ action: string }>(`select action from hub_audit where object_type = 'exception' and object_id = $1 order by seq`, [String(id)]);
    assert.deepEqual(audit.map((a) => a.action), ['exception.assigned', 'exception.resolved']);
    assert.deepEqual((await page.locator('#exception-notes li').evaluateAll((els: any[]) => els.map((e) => e.dataset.kind))), ['assigned', 'resolved']);
    await page.context().close();
  });

  it('replays a dead letter and follows the replay to its end', async () => {
    const page = await signedIn();
    await nav(page, 'Dead letters').click();
    const row = page.locator(`#dead-letters tr[data-id="${deadLetterId}"]`);
    await row.waitFor();
    await row.getByRole('button', { name: String(deadLetterId) }).click();
    await page.locator('#dead-letter-detail').filter({ hasText: 'the telematics mapper failed' }).waitFor();
    assert.match(await page.locator('#dead-letter-payload').innerText(), /VEH|vehicleId/);
    await row.getByRole('button', { name: 'Replay' }).click();
    await page.locator('#replay-progress[data-done="true"]').waitFor({ timeout: 30_000 });
    assert.match(await page.locator('#replay-progress').innerText(), /1 replayed, 0 failed again/);
    await shot(page, '06-dead-letter-replayed');
    const [d] = await q<{ status: string }>(`select status from hub_dead_letters where id = $1`, [deadLetterId]);
    assert.equal(d!.status, 'replayed');
    await page.context().close();
  });

  it('shows connector health and every KPI chart with data', async () => {
    const page = await signedIn();
    await nav(page, 'Connectors').click();
    await page.locator('#connector-health').waitFor();
    const health = await page.locator('#connector-health').innerText();
    for (const c of ['odoo', 'easypost', 'wms']) assert.match(health, new RegExp(c), `${c} in the connector health`);
    assert.match(await page.locator('#capture-lag').innerText(), /sale\.order/);
    await shot(page, '07-connectors');
    await nav(page, 'KPIs').click();
    await page.locator('#kpi-table').waitFor();
    for (const chart of ['chart-orderToDispatch', 'chart-dispatchToDelivery', 'chart-deliveryConfirmationLag', 'chart-podToInvoice', 'chart-exceptions', 'chart-ontime']) {
      const points = Number(await page.locator(`#${chart}`).getAttribute('data-points'));
      assert.ok(points > 0, `${chart} is drawn with data (${points} points): ${await page.locator('#kpi-table').innerText()}`);
      assert.ok((await page.locator(`#${chart} svg`).boundingBox())!.height > 20, `${chart} is visible`);
    }
    await page.getByLabel('Window', { exact: true }).selectOption('7d');
    await page.waitForFunction(() => (globalThis as any).location.hash === '#/kpis?window=7d');
    await page.locator('#chart-orderToDispatch').waitFor();
    await shot(page, '08-kpis');
    await page.context().close();
  });

  it('works from the keyboard alone and fits a tablet', async () => {
    const page = await signedIn({ width: 820, height: 1180 });
    await page.reload();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    // the first Tab reaches the skip link, Enter moves the focus to the content
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => (globalThis as any).document.activeElement?.textContent), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => (globalThis as any).document.activeElement?.id), 'main');
    // every navigation link is reachable with Tab and opens with Enter
    await page.focus('#nav a[href="#/exceptions"]');
    await page.keyboard.press('Enter');
    await page.locator('#exception-groups').waitFor();
    const overflow = await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth - (globalThis as any).innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling on a tablet (${overflow} px too wide)`);
    await shot(page, '09-tablet-exceptions');
    await page.context().close();
  });
});
