/**
 * Charts drawn as SVG: a line chart of percentiles over time and a horizontal bar chart.
 * Each has a text alternative (aria-label) and the numbers beside it in a table, so the
 * chart is never the only way to read the data.
 */
import { h, s } from './dom.ts';

export interface LineSeries {
  name: string;
  cls: string;
  values: Array<number | null>;
}

const W = 560;
const H = 200;
const PAD = { l: 56, r: 12, t: 12, b: 28 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function lineChart(id: string, title: string, labels: string[], series: LineSeries[], fmt: (v: number) => string): HTMLElement {
  const all = series.flatMap((x) => x.values.filter((v): v is number => v !== null));
  const max = niceMax(Math.max(0, ...all));
  const n = Math.max(1, labels.length - 1);
  const x = (i: number) => PAD.l + (i / n) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - (v / max) * (H - PAD.t - PAD.b);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': `${title}: ${series.map((se) => `${se.name} ${summary(se.values, fmt)}`).join('; ')}` });
  for (const f of [0, 0.5, 1]) {
    svg.appendChild(s('line', { x1: PAD.l, x2: W - PAD.r, y1: y(max * f), y2: y(max * f), class: 'grid' }));
    svg.appendChild(s('text', { x: PAD.l - 6, y: y(max * f) + 4, class: 'axis', 'text-anchor': 'end' }, fmt(max * f)));
  }
  const ticks = Math.min(labels.length, 6);
  for (let k = 0; k < ticks; k++) {
    const i = Math.round((k / Math.max(1, ticks - 1)) * (labels.length - 1));
    const anchor = k === 0 ? 'start' : k === ticks - 1 ? 'end' : 'middle';
    svg.appendChild(s('text', { x: x(i), y: H - 8, class: 'axis', 'text-anchor': anchor }, labels[i] ?? ''));
  }
  let drawn = 0;
  for (const se of series) {
    let d = '';
    se.values.forEach((v, i) => {
      if (v === null) return;
      d += `${d === '' || se.values[i - 1] === null ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)} `;
      drawn++;
    });
    if (d) svg.appendChild(s('path', { d, class: `line ${se.cls}` }));
    se.values.forEach((v, i) => {
      if (v !== null) svg.appendChild(s('circle', { cx: x(i), cy: y(v), r: 2.5, class: `dot ${se.cls}` }));
    });
  }
  const legend = h('ul', { class: 'legend' }, series.map((se) => h('li', { class: se.cls }, se.name)));
  return h('figure', { class: 'chart-box', id, dataset: { chart: id, points: String(drawn) } }, h('figcaption', null, title), svg as unknown as Node, legend);
}

function summary(values: Array<number | null>, fmt: (v: number) => string): string {
  const v = values.filter((x): x is number => x !== null);
  if (!v.length) return 'no data';
  return `from ${fmt(Math.min(...v))} to ${fmt(Math.max(...v))}`;
}

export function barChart(id: string, title: string, bars: Array<{ label: string; value: number; note?: string }>, fmt: (v: number) => string, maxValue?: number): HTMLElement {
  const rowH = 26;
  const h0 = Math.max(1, bars.length) * rowH + 8;
  const max = maxValue ?? niceMax(Math.max(0, ...bars.map((b) => b.value)));
  const labelW = 170;
  const svg = s('svg', { viewBox: `0 0 ${W} ${h0}`, class: 'chart', role: 'img', 'aria-label': `${title}: ${bars.map((b) => `${b.label} ${fmt(b.value)}`).join('; ') || 'no data'}` });
  bars.forEach((b, i) => {
    const yy = 4 + i * rowH;
    const w = max > 0 ? ((W - labelW - 80) * b.value) / max : 0;
    svg.appendChild(s('text', { x: labelW - 8, y: yy + 16, class: 'axis', 'text-anchor': 'end' }, b.label));
    svg.appendChild(s('rect', { x: labelW, y: yy + 3, width: Math.max(1, w).toFixed(1), height: rowH - 8, class: 'bar' }));
    svg.appendChild(s('text', { x: labelW + w + 6, y: yy + 16, class: 'axis' }, fmt(b.value) + (b.note ? ` ${b.note}` : '')));
  });
  if (!bars.length) svg.appendChild(s('text', { x: 10, y: 20, class: 'axis' }, 'no data in this window'));
  return h('figure', { class: 'chart-box', id, dataset: { chart: id, points: String(bars.length) } }, h('figcaption', null, title), svg as unknown as Node);
}
