/** KPI charts over a selectable window: lead-time percentiles, exceptions by class, carrier on-time rate. */
import type { KpiReport as Report } from '../../../src/workflows/order-to-delivery/kpis.ts';
import { api, q } from '../api.ts';
import { barChart, lineChart } from '../charts.ts';
import { fmtDuration, h, table } from '../dom.ts';


const WINDOWS = [['1h', 'Last hour'], ['24h', 'Last 24 hours'], ['7d', 'Last 7 days'], ['30d', 'Last 30 days']] as const;

export async function kpisView(window: string): Promise<HTMLElement> {
  const r = await api.get<Report>(`/v1/console/kpis${q({ window })}`);
  const label = (iso: string) => {
    const d = new Date(iso);
    const stamp = d.toISOString();
    // a day or more per bucket: the date; several hours: date and hour; less: the time of day (UTC)
    return r.window.bucketSeconds >= 86400 ? stamp.slice(5, 10) : r.window.bucketSeconds >= 6 * 3600 ? `${stamp.slice(5, 10)} ${stamp.slice(11, 13)}h` : stamp.slice(11, 16);
  };
  const select = h('select', { id: 'kpi-window', 'aria-label': 'Window', onchange: (e: Event) => { location.hash = `#/kpis?window=${(e.target as HTMLSelectElement).value}`; } },
    WINDOWS.map(([v, t]) => h('option', { value: v, selected: v === window }, t)));
  return h('section', null,
    h('h1', null, 'KPIs'),
    h('p', null, h('label', { for: 'kpi-window' }, 'Window '), select),
    table('Lead times', ['Measure', 'Count', 'p50', 'p90', 'p95', 'p99'], r.series.map((s) => [s.label, String(s.count), fmtDuration(s.p50), fmtDuration(s.p90), fmtDuration(s.p95), fmtDuration(s.p99)]), { id: 'kpi-table' }),
    h('div', { class: 'grid2' },
      r.series.map((s) => lineChart(`chart-${s.name}`, `${s.label} (p50 and p90)`, s.points.map((p) => label(p.at)), [
        { name: 'p50', cls: 's1', values: s.points.map((p) => p.p50) },
        { name: 'p90', cls: 's2', values: s.points.map((p) => p.p90) },
      ], fmtDuration)),
      barChart('chart-exceptions', 'Exceptions by class (raised in the window)', r.exceptionsByClass.map((c) => ({ label: c.class, value: c.total, note: c.open ? `(${c.open} open)` : '' })), (v) => String(Math.round(v))),
      barChart('chart-ontime', 'Carrier on-time rate', r.carrierOnTime.map((c) => ({ label: c.carrier, value: c.rate ?? 0, note: `(${c.onTime}/${c.delivered})` })), (v) => `${Math.round(v * 100)} %`, 1),
    ),
  );
}
