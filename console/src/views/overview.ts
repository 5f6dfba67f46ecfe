/** The live overview: rates, backlog, dead letters, open exceptions; pushed by server-sent events. */
import type { Overview } from '../../../src/api/console-views.ts';
import { h, replace, table, fmtDuration } from '../dom.ts';

export function overviewView(): { el: HTMLElement; stop: () => void } {
  const status = h('p', { class: 'live', id: 'live-status', 'aria-live': 'polite' }, 'connecting…');
  const body = h('div', { id: 'overview-body' });
  const el = h('section', null, h('h1', null, 'Overview'), status, body);
  const render = (o: Overview) => {
    const waiting = o.backlog.reduce((s, b) => s + b.waiting, 0);
    replace(
      body,
      h('div', { class: 'cards' },
        card('Events per second', o.eventsPerSecond.total.toFixed(2), `over the last ${o.windowSeconds} s`, 'kpi-rate'),
        card('Work waiting', String(waiting), `${o.backlog.filter((b) => b.waiting > 0).length} queue(s) busy`, 'kpi-backlog'),
        card('Dead letters', String(o.deadLetters.open), `${o.deadLetters.replaying} replaying`, 'kpi-dead', o.deadLetters.open > 0 ? '#/dead-letters' : undefined),
        card('Open exceptions', String(o.exceptions.open), `${o.exceptions.byClass.reduce((s, c) => s + c.critical, 0)} critical`, 'kpi-exceptions', '#/exceptions'),
      ),
      h('div', { class: 'grid2' },
        table('Events per second by type', ['Type', 'per s'], o.eventsPerSecond.byType.slice(0, 15).map((r) => [r.type, r.rate.toFixed(2)]), { id: 'rates-by-type' }),
        table('Events per second by source', ['Source', 'per s'], o.eventsPerSecond.bySource.slice(0, 15).map((r) => [r.source, r.rate.toFixed(2)]), { id: 'rates-by-source' }),
        table('Backlog per queue', ['Queue', 'Waiting', 'Oldest'], o.backlog.map((b) => [b.queue, String(b.waiting), fmtDuration(b.oldestSeconds)]), { id: 'backlog' }),
        table('Open exceptions by class', ['Class', 'Open', 'Critical'], o.exceptions.byClass.map((c) => [h('a', { href: `#/exceptions?class=${encodeURIComponent(c.class)}` }, c.class), String(c.open), String(c.critical)]), { id: 'exceptions-by-class' }),
        table('Open dead letters by error class', ['Error class', 'Open'], o.deadLetters.byErrorClass.map((d) => [d.errorClass, String(d.open)]), { id: 'dead-by-class' }),
      ),
    );
  };
  const source = new EventSource('/v1/console/live', { withCredentials: true });
  let updates = 0;
  source.addEventListener('overview', (e) => {
    updates++;
    render(JSON.parse((e as MessageEvent).data) as Overview);
    status.textContent = `live · updated ${new Date().toLocaleTimeString()}`;
    status.dataset.updates = String(updates);
  });
  source.addEventListener('error', () => {
    status.textContent = 'reconnecting…';
  });
  return { el, stop: () => source.close() };
}

function card(title: string, value: string, note: string, id: string, href?: string): HTMLElement {
  const inner = [h('span', { class: 'card-title' }, title), h('span', { class: 'card-value', id }, value), h('span', { class: 'card-note' }, note)];
  return href ? h('a', { class: 'card', href }, inner) : h('div', { class: 'card' }, inner);
}
