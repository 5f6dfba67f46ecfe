/** Dead letters: inspect one, replay one or every one a filter selects, and watch the replay's progress. */
import { api, can, q } from '../api.ts';
import { fmtTime, h, pretty, replace, toast } from '../dom.ts';

interface DeadLetter {
  id: number; eventSeq: number; eventId: string; key: string; type: string; source: string; reason: string; errorClass: string; errorCode: string;
  attempts: number; status: string; createdAt: string; replayCount: number; payload?: unknown;
}
interface Progress { replayId: number; total: number; replaying: number; replayed: number; failed: number; done: boolean }

const FILTERS = ['status', 'type', 'key', 'source', 'errorCode', 'errorClass'] as const;

export async function deadLettersView(params: URLSearchParams): Promise<{ el: HTMLElement; stop: () => void }> {
  const f: Record<string, string> = {};
  for (const k of FILTERS) {
    const v = params.get(k);
    if (v) f[k] = v;
  }
  if (!f.status) f.status = 'open';
  const page = await api.get<{ items: DeadLetter[] }>(`/v1/dead-letters${q({ ...f, limit: 200 })}`);
  let timer: number | undefined;
  const progress = h('div', { id: 'replay-progress', 'aria-live': 'polite' });
  const inspect = h('div', { id: 'dead-letter-detail' });

  const watch = (replayId: number, total: number) => {
    const bar = h('progress', { max: Math.max(1, total), value: 0, 'aria-label': 'Replay progress' });
    const label = h('span', null, `replay ${replayId}: 0 of ${total}`);
    replace(progress, bar, ' ', label);
    const tick = async () => {
      const p = await api.get<Progress>(`/v1/replays/${replayId}`);
      bar.value = p.replayed + p.failed;
      label.textContent = `replay ${replayId}: ${p.replayed} replayed, ${p.failed} failed again, ${p.replaying} waiting of ${p.total}${p.done ? ' — done' : ''}`;
      progress.dataset.done = String(p.done);
      if (!p.done) timer = window.setTimeout(() => void tick(), 500);
      else toast(`Replay ${replayId} done: ${p.replayed} replayed, ${p.failed} failed`);
    };
    void tick();
  };
  const replay = async (body: Record<string, unknown>) => {
    try {
      const r = await api.post<{ replayId: number; total: number }>('/v1/dead-letters/replay', body);
      if (r.total === 0) toast('Nothing to replay: no open dead letter matches', 'error');
      watch(r.replayId, r.total);
    } catch (e) {
      toast((e as Error).message, 'error');
    }
  };
  const show = async (id: number) => {
    const d = await api.get<DeadLetter>(`/v1/dead-letters/${id}`);
    replace(inspect, h('h2', null, `Dead letter ${d.id}`),
      h('dl', { class: 'facts' },
        h('dt', null, 'Event'), h('dd', null, `${d.type} ${d.eventId} from ${d.source}`),
        h('dt', null, 'Key'), h('dd', null, h('a', { href: `#/timeline/${encodeURIComponent(d.key)}` }, d.key)),
        h('dt', null, 'Why'), h('dd', null, `${d.errorClass} ${d.errorCode}: ${d.reason}`),
        h('dt', null, 'Attempts'), h('dd', null, String(d.attempts)),
      ),
      h('pre', { id: 'dead-letter-payload' }, pretty(d.payload ?? null)));
    (inspect.querySelector('h2') as HTMLElement | null)?.focus();
  };
  const filterForm = h('form', {
    class: 'filters',
    'aria-label': 'Filter dead letters',
    onsubmit: (e: Event) => {
      e.preventDefault();
      const next: Record<string, string> = {};
      for (const [k, v] of new FormData(e.target as HTMLFormElement)) if (typeof v === 'string' && v.trim()) next[k] = v.trim();
      location.hash = `#/dead-letters${q(next)}`;
    },
  },
    ...(['type', 'key', 'source', 'errorCode'] as const).map((k) => h('div', { class: 'field' }, h('label', { for: `dl-${k}` }, k), h('input', { id: `dl-${k}`, name: k, value: f[k] ?? '' }))),
    h('div', { class: 'field' }, h('label', { for: 'dl-errorClass' }, 'errorClass'), h('select', { id: 'dl-errorClass', name: 'errorClass' }, ['', 'transient', 'permanent', 'business'].map((o) => h('option', { value: o, selected: f.errorClass === o }, o || 'any')))),
    h('div', { class: 'field' }, h('label', { for: 'dl-status' }, 'status'), h('select', { id: 'dl-status', name: 'status' }, ['open', 'replaying', 'replayed'].map((o) => h('option', { value: o, selected: f.status === o }, o)))),
    h('div', { class: 'field' }, h('button', { type: 'submit' }, 'Filter')),
  );
  const { status: _status, ...selection } = f;
  const el = h('section', null,
    h('h1', null, 'Dead letters'),
    filterForm,
    can('exceptions:write') && f.status === 'open'
      ? h('p', null, h('button', {
          type: 'button', id: 'replay-filtered', disabled: Object.keys(selection).length === 0 && page.items.length === 0,
          onclick: () => void replay(Object.keys(selection).length ? selection : { ids: page.items.map((d) => d.id) }),
        }, Object.keys(selection).length ? 'Replay every open dead letter matching the filter' : `Replay the ${page.items.length} shown`))
      : null,
    progress,
    h('table', { id: 'dead-letters' },
      h('caption', null, `${page.items.length} dead letter(s)`),
      h('thead', null, h('tr', null, ['#', 'Type', 'Key', 'Error', 'Attempts', 'Created', ''].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, page.items.map((d) => h('tr', { dataset: { id: String(d.id) } },
        h('td', null, h('button', { type: 'button', class: 'link', onclick: () => void show(d.id) }, String(d.id))),
        h('td', null, d.type),
        h('td', null, h('a', { href: `#/timeline/${encodeURIComponent(d.key)}` }, d.key)),
        h('td', null, `${d.errorClass} ${d.errorCode}`),
        h('td', null, String(d.attempts)),
        h('td', null, fmtTime(d.createdAt)),
        h('td', null, can('exceptions:write') && d.status === 'open' ? h('button', { type: 'button', class: 'replay-one', onclick: () => void replay({ ids: [d.id] }) }, 'Replay') : d.status),
      ))),
    ),
    inspect,
  );
  return { el, stop: () => window.clearTimeout(timer) };
}
