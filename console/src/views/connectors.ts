/** Connector health: circuits, latency, errors, rate-limit use, change-capture lag, partner SLAs. */
import type { ConnectorHealth } from '../../../src/platform/connector-health.ts';
import { api } from '../api.ts';
import { fmtDuration, fmtTime, h, table } from '../dom.ts';

interface Connectors {
  at: string;
  connectors: ConnectorHealth[];
  capture: Array<{ model: string; lastPolledAt: string | null; lagSeconds: number | null; lastChangeAt: string | null }>;
  sla: Array<{ partner: string; kind: string; target: string; measured: number; breaches: number; adherence: number | null }>;
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)} %`);
const ms = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${Math.round(v)} ms`);

export async function connectorsView(): Promise<HTMLElement> {
  const c = await api.get<Connectors>('/v1/console/connectors');
  return h('section', null,
    h('h1', null, 'Connectors'),
    h('p', { class: 'muted' }, `as of ${fmtTime(c.at)}; calls and latency since this hub process started`),
    table('Connector health', ['Connector', 'Tenant', 'Circuit', 'Calls', 'Error rate', 'p50', 'p95', 'Rate-limit tokens'], c.connectors.map((x) => [
      x.connector, x.tenant ?? '—', h('span', { class: `badge ${x.breakerOpen ? 'sev-critical' : 'ok'}` }, x.breakerOpen ? 'open' : 'closed'),
      String(x.calls), pct(x.errorRate), ms(x.p50Ms), ms(x.p95Ms), x.rateLimitTokens === null || x.rateLimitTokens === undefined ? '—' : String(Math.floor(x.rateLimitTokens)),
    ]), { id: 'connector-health' }),
    table('Odoo change capture', ['Model', 'Last poll', 'Lag', 'Last change seen'], c.capture.map((m) => [m.model, fmtTime(m.lastPolledAt), fmtDuration(m.lagSeconds), fmtTime(m.lastChangeAt)]), { id: 'capture-lag' }),
    table('Partner SLA adherence (last 24 h)', ['Partner', 'Measure', 'Target', 'Measured', 'Breaches', 'Adherence'], c.sla.map((s) => [s.partner, s.kind, s.target, String(s.measured), String(s.breaches), h('span', { class: s.adherence !== null && s.adherence < 0.95 ? 'badge sev-error' : 'badge ok' }, pct(s.adherence))]), { id: 'sla' }),
  );
}
