/**
 * The alert rules and the Grafana dashboard in observability/ name only metrics the hub
 * registers (with the labels it gives them), every rule has a severity and a summary, and
 * the dashboard is a dashboard; these checks catch what breaks silently: a renamed metric or
 * label. With promtool installed (Debian's `prometheus` package; .ci/run installs it), the
 * rules also pass `promtool check rules`, and the unit tests in alerts.test.yml show each alert
 * firing on the series a failing hub exposes (and staying quiet otherwise).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createMetrics } from '../../src/platform/metrics.ts';

const root = join(import.meta.dirname, '..', '..');
const metrics = createMetrics({ defaultMetrics: false });
const registered = new Map<string, string[]>();
for (const m of (await metrics.registry.getMetricsAsJSON()) as unknown as { name: string; type: string }[]) {
  const labels = ((metrics.registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] })?.labelNames ?? []) as string[];
  registered.set(m.name, labels);
  if (m.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) registered.set(m.name + s, [...labels, 'le']);
}

/** Metric names and the labels matched or grouped on in one PromQL expression. */
function uses(expr: string): { name: string; labels: string[] }[] {
  const out: { name: string; labels: string[] }[] = [];
  for (const m of expr.matchAll(/\b(hub_[a-z0-9_]+)(\{([^}]*)\})?/g)) {
    const labels = [...(m[3] ?? '').matchAll(/([a-z_]+)\s*(=|!=|=~|!~)/g)].map((x) => x[1]!);
    out.push({ name: m[1]!, labels });
  }
  return out;
}

function check(expr: string, where: string): void {
  const found = uses(expr);
  assert.ok(found.length > 0, `${where}: names no hub metric`);
  for (const u of found) {
    assert.ok(registered.has(u.name), `${where}: ${u.name} is not a metric of the hub`);
    for (const l of u.labels) assert.ok(registered.get(u.name)!.includes(l), `${where}: ${u.name} has no label ${l}`);
  }
  for (const by of expr.matchAll(/\bby \(([^)]*)\)/g)) {
    for (const l of by[1]!.split(',').map((x) => x.trim())) {
      assert.ok(found.some((u) => registered.get(u.name)!.includes(l)), `${where}: no metric in it has the label ${l}`);
    }
  }
}

test('alert rules: every expression names registered metrics and labels; every rule has a severity and a summary', () => {
  const doc = parse(readFileSync(join(root, 'observability', 'prometheus', 'alerts.yml'), 'utf8')) as { groups: { name: string; rules: { alert: string; expr: string; labels?: { severity?: string }; annotations?: { summary?: string } }[] }[] };
  const rules = doc.groups.flatMap((g) => g.rules);
  assert.ok(rules.length >= 6);
  assert.equal(new Set(rules.map((r) => r.alert)).size, rules.length, 'alert names are unique');
  for (const r of rules) {
    check(r.expr, r.alert);
    assert.ok(['warning', 'critical'].includes(r.labels?.severity ?? ''), `${r.alert}: severity`);
    assert.ok(r.annotations?.summary, `${r.alert}: summary`);
  }
  for (const needed of ['hub_backlog', 'hub_dead_letters_total', 'hub_connector_breaker_open', 'hub_odoo_capture_last_poll_timestamp_seconds']) {
    assert.ok(rules.some((r) => uses(r.expr).some((u) => u.name === needed)), `an alert watches ${needed}`);
  }
});

test('Grafana dashboard: valid JSON, unique panel ids, every query on registered metrics and labels', () => {
  const dash = JSON.parse(readFileSync(join(root, 'observability', 'grafana', 'hub.json'), 'utf8')) as { title: string; panels: { id: number; title: string; targets: { expr: string }[] }[] };
  assert.equal(dash.title, 'odoo-logistics-hub');
  assert.equal(new Set(dash.panels.map((p) => p.id)).size, dash.panels.length);
  for (const p of dash.panels) for (const t of p.targets) check(t.expr, `panel "${p.title}"`);
});

test('the checks catch a renamed metric and an unknown label', () => {
  assert.throws(() => check('rate(hub_workflow_step_total[5m])', 'probe'), /hub_workflow_step_total is not a metric/);
  assert.throws(() => check('hub_backlog{queu="events"}', 'probe'), /has no label queu/);
  assert.throws(() => check('sum by (tenant) (rate(hub_dead_letters_total[5m]))', 'probe'), /no metric in it has the label tenant/);
});

const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
const promtool = (...args: string[]) => spawnSync(PROMTOOL!, args, { encoding: 'utf8', timeout: 60_000 });

test('promtool: the rules are valid and every alert unit test passes', { skip: PROMTOOL ? false : 'promtool is not installed (apt-get install prometheus)' }, () => {
  const dir = join(root, 'observability', 'prometheus');
  const check = promtool('check', 'rules', join(dir, 'alerts.yml'));
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /SUCCESS: \d+ rules found/);
  const unit = promtool('test', 'rules', join(dir, 'alerts.test.yml'));
  assert.equal(unit.status, 0, unit.stdout + unit.stderr);
  // the unit tests can fail: a wrong expectation is reported
  const wrong = join(tmpdir(), `alerts-wrong-${process.pid}.test.yml`);
  writeFileSync(wrong, readFileSync(join(dir, 'alerts.test.yml'), 'utf8').replace('rule_files:\n  - alerts.yml', `rule_files:\n  - ${join(dir, 'alerts.yml')}`).replace('(3000 waiting)', '(2999 waiting)'));
  const bad = promtool('test', 'rules', wrong);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stdout + bad.stderr, /HubBacklogGrowing/);
});
