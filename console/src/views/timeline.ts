/**
 * One order's or shipment's timeline: every event from every system in occurrence order,
 * the raw payload beside the canonical event, the partner calls with their retries, the
 * trace ids.
 */
import type { ConsoleTimeline as Timeline } from '../../../src/api/console-views.ts';
import { api } from '../api.ts';
import { fmtTime, h, pretty } from '../dom.ts';


export async function timelineView(key: string): Promise<HTMLElement> {
  const t = await api.get<Timeline>(`/v1/console/timeline/${encodeURIComponent(key)}`);
  const retries = t.entries.reduce((s, e) => s + Math.max(0, e.attempts.length - 1), 0) + t.partnerCalls.reduce((s, c) => s + Math.max(0, c.attempts - 1), 0);
  return h(
    'section',
    { class: 'timeline' },
    h('h1', null, t.order && t.order !== key ? `Shipment ${key}` : `Order ${key}`),
    h('dl', { class: 'facts', id: 'timeline-facts' },
      h('dt', null, 'Order'), h('dd', null, t.order ?? '—'),
      h('dt', null, 'Workflow'), h('dd', null, t.workflow ? `${t.workflow.status} (updated ${fmtTime(t.workflow.updatedAt)})` : '—'),
      h('dt', null, 'Shipments'), h('dd', { id: 'timeline-shipments' }, t.shipments.length ? t.shipments.map((s) => h('span', { class: 'chip' }, `${s.shipmentId} · ${s.carrier ?? '?'} ${s.trackingNumber ?? ''} · ${s.status ?? ''}`)) : '—'),
      h('dt', null, 'Trace ids'), h('dd', { id: 'timeline-traces' }, t.traceIds.length ? t.traceIds.map((x) => h('code', { class: 'chip' }, x)) : 'none recorded'),
      h('dt', null, 'Correlation ids'), h('dd', null, t.correlationIds.length ? t.correlationIds.slice(0, 5).map((x) => h('code', { class: 'chip' }, x)) : '—'),
      h('dt', null, 'Retries'), h('dd', { id: 'timeline-retries' }, String(retries)),
    ),
    t.exceptions.length
      ? h('section', null, h('h2', null, 'Exceptions'), h('ul', { id: 'timeline-exceptions' }, t.exceptions.map((x) => h('li', { class: `sev-${x.severity}` }, h('a', { href: `#/exceptions/${x.id}` }, `${x.class} · ${x.code}`), ` — ${x.status}: ${x.message}`))))
      : null,
    h('h2', null, `Events (${t.entries.length})`),
    t.hiddenTypes ? h('p', { class: 'muted' }, `${t.hiddenTypes} event(s) need a read scope you do not have.`) : null,
    h('ol', { class: 'events', id: 'timeline-events' }, t.entries.map((e) =>
      h('li', { class: `event st-${e.status}`, dataset: { type: e.type, system: e.system } },
        h('details', null,
          h('summary', null,
            h('time', { datetime: e.at }, fmtTime(e.at)), ' ',
            h('span', { class: `sys sys-${e.system.replace(/[^a-z]/g, '')}` }, e.system), ' ',
            h('strong', null, e.type), ' ',
            h('span', { class: 'muted' }, e.key), ' ',
            h('span', { class: `badge st-${e.status}` }, e.status),
            e.attempts.length > 1 ? h('span', { class: 'badge retry' }, `${e.attempts.length} attempts`) : null,
          ),
          h('div', { class: 'pair' },
            h('div', null, h('h3', null, 'Canonical event'), h('pre', { class: 'canonical' }, pretty(e.canonical))),
            h('div', null, h('h3', null, e.raw ? `As ${e.raw.partner} sent it (${e.raw.contentType})` : 'As received'), h('pre', { class: 'raw' }, e.raw ? e.raw.body : `not kept: ${e.system === 'hub' ? 'made by the hub itself' : 'read from the partner by polling or change capture'}`)),
          ),
          h('p', { class: 'muted' }, `event ${e.id} from ${e.source} · received ${fmtTime(e.receivedAt)}${e.traceId ? ` · trace ${e.traceId}` : ''}${e.correlationId ? ` · correlation ${e.correlationId}` : ''}`),
          e.attempts.length ? h('ul', { class: 'attempts' }, e.attempts.map((a) => h('li', null, `#${a.attempt} ${a.outcome} at ${fmtTime(a.at)}${a.errorCode ? ` — ${a.errorCode}: ${a.errorMessage ?? ''}` : ''}`))) : null,
        ),
      ),
    )),
    h('h2', null, `Partner calls (${t.partnerCalls.length})`),
    t.hiddenCalls ? h('p', { class: 'muted' }, `${t.hiddenCalls} partner call(s) need the orders:read scope.`) : null,
    h('ol', { class: 'events', id: 'timeline-calls' }, t.partnerCalls.map((c) =>
      h('li', { class: `event st-${c.status}`, dataset: { partner: c.partner } },
        h('details', null,
          h('summary', null, h('time', { datetime: c.createdAt }, fmtTime(c.createdAt)), ' ', h('span', { class: `sys sys-${c.partner.replace(/[^a-z]/g, '')}` }, c.partner), ' ', h('strong', null, c.step), ' ', h('span', { class: `badge st-${c.status}` }, c.status), c.attempts > 1 ? h('span', { class: 'badge retry' }, `${c.attempts} attempts`) : null),
          h('div', { class: 'pair' },
            h('div', null, h('h3', null, 'Sent'), h('pre', null, pretty(c.input))),
            h('div', null, h('h3', null, c.error && c.status !== 'done' ? 'Error' : 'Answer'), h('pre', null, pretty(c.error && c.status !== 'done' ? c.error : c.output))),
          ),
          h('p', { class: 'muted' }, `step key ${c.stepKey} · last change ${fmtTime(c.updatedAt)}`),
        ),
      ),
    )),
  );
}
