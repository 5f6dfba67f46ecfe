/**
 * The exception workbench: groups by class and cause, a filtered list, and one exception
 * with everything a person can do about it (assign, comment, apply the suggested action,
 * edit and replay, resolve), each recorded in its history and the audit trail.
 */
import { api, can, currentSession, q } from '../api.ts';
import { fmtTime, h, pretty, replace, toast } from '../dom.ts';

interface Item {
  id: number; key: string; eventSeq: number | null; code: string; class: string; severity: string; message: string; status: string; assignee: string | null;
  details: Record<string, unknown>; createdAt: string; updatedAt: string; resolvedAt: string | null; resolvedBy: string | null; resolution: string | null;
}
interface Group { class: string; code: string; severity: string; count: number; oldest: string; newest: string; assigned: number; suggestedAction: { code: string; description: string } | null }
interface Note { id: number; at: string; actor: string; actorName: string; kind: string; text: string }

const FILTERS = ['status', 'class', 'code', 'severity', 'partner', 'warehouse', 'carrier', 'assignee', 'minAgeHours', 'maxAgeHours'] as const;
const CLASSES = ['', 'delivery_failed', 'address_issue', 'refused', 'damaged', 'lost', 'delayed', 'weather', 'customs_hold', 'return_to_sender', 'missing_scan', 'missing_ack', 'eta_breached', 'stock_shortage', 'quantity_discrepancy', 'price_discrepancy', 'freight_variance', 'duplicate_invoice', 'partner_rejected', 'mapping_error', 'duplicate_reference', 'other'];

function age(iso: string): string {
  const s = (Date.now() - new Date(iso).getTime()) / 1000;
  return s < 3600 ? `${Math.max(0, Math.round(s / 60))} min` : s < 172800 ? `${Math.round(s / 3600)} h` : `${Math.round(s / 86400)} d`;
}

export async function exceptionsView(params: URLSearchParams): Promise<HTMLElement> {
  const f: Record<string, string> = {};
  for (const k of FILTERS) {
    const v = params.get(k);
    if (v) f[k] = v;
  }
  if (!params.has('status')) f.status = 'open';
  const [groups, list] = await Promise.all([
    api.get<{ groups: Group[] }>(`/v1/console/exception-groups${q(f)}`),
    api.get<{ items: Item[]; total: number }>(`/v1/console/exceptions${q({ ...f, limit: 100 })}`),
  ]);
  const field = (name: string, label: string, input: HTMLElement) => h('div', { class: 'field' }, h('label', { for: `f-${name}` }, label), input);
  const text = (name: string) => h('input', { id: `f-${name}`, name, value: f[name] ?? '' });
  const select = (name: string, options: string[]) => {
    const el = h('select', { id: `f-${name}`, name }, options.map((o) => h('option', { value: o, selected: (f[name] ?? '') === o }, o || 'any')));
    return el;
  };
  const form = h('form', {
    class: 'filters',
    'aria-label': 'Filter exceptions',
    onsubmit: (e: Event) => {
      e.preventDefault();
      const data = new FormData(e.target as HTMLFormElement);
      const next: Record<string, string> = {};
      for (const [k, v] of data) if (typeof v === 'string' && v.trim()) next[k] = v.trim();
      location.hash = `#/exceptions${q({ status: 'open', ...next })}`;
    },
  },
    field('status', 'Status', select('status', ['open', 'resolved'])),
    field('class', 'Class', select('class', CLASSES)),
    field('severity', 'Severity', select('severity', ['', 'critical', 'error', 'warning', 'info'])),
    field('partner', 'Partner', text('partner')),
    field('warehouse', 'Warehouse', text('warehouse')),
    field('carrier', 'Carrier', text('carrier')),
    field('assignee', 'Assignee (- for nobody)', text('assignee')),
    field('minAgeHours', 'Older than (h)', h('input', { id: 'f-minAgeHours', name: 'minAgeHours', type: 'number', min: 0, step: 'any', value: f.minAgeHours ?? '' })),
    field('maxAgeHours', 'Newer than (h)', h('input', { id: 'f-maxAgeHours', name: 'maxAgeHours', type: 'number', min: 0, step: 'any', value: f.maxAgeHours ?? '' })),
    h('div', { class: 'field buttons' }, h('button', { type: 'submit' }, 'Filter'), h('a', { href: '#/exceptions', class: 'button secondary' }, 'Clear')),
  );
  return h(
    'section',
    null,
    h('h1', null, 'Exceptions'),
    form,
    h('h2', null, 'By class and cause'),
    h('table', { id: 'exception-groups' },
      h('caption', null, `${groups.groups.length} group(s)`),
      h('thead', null, h('tr', null, ['Class', 'Cause', 'Severity', 'Count', 'Assigned', 'Oldest', 'Suggested action'].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, groups.groups.map((g) => h('tr', { class: `sev-${g.severity}` },
        h('td', null, h('a', { href: `#/exceptions${q({ ...f, class: g.class, code: g.code })}` }, g.class)),
        h('td', null, h('code', null, g.code)),
        h('td', null, h('span', { class: `badge sev-${g.severity}` }, g.severity)),
        h('td', null, String(g.count)),
        h('td', null, String(g.assigned)),
        h('td', null, age(g.oldest)),
        h('td', null, g.suggestedAction?.description ?? '—'),
      ))),
    ),
    h('h2', null, `Exceptions (${list.total})`),
    h('table', { id: 'exception-list' },
      h('caption', null, list.total > list.items.length ? `newest ${list.items.length} of ${list.total}` : `${list.total} exception(s)`),
      h('thead', null, h('tr', null, ['#', 'Key', 'Class', 'Severity', 'Message', 'Assignee', 'Age'].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, list.items.map((x) => h('tr', { class: `sev-${x.severity}`, dataset: { id: String(x.id) } },
        h('td', null, h('a', { href: `#/exceptions/${x.id}` }, String(x.id))),
        h('td', null, h('a', { href: `#/timeline/${encodeURIComponent(x.key)}` }, x.key)),
        h('td', null, x.class),
        h('td', null, h('span', { class: `badge sev-${x.severity}` }, x.severity)),
        h('td', null, x.message),
        h('td', null, x.assignee ?? '—'),
        h('td', null, age(x.createdAt)),
      ))),
    ),
  );
}

interface Detail {
  exception: Item;
  notes: Note[];
  plan: { kind: string; description: string; editable: string | null };
  editable: unknown;
}

export async function exceptionView(id: number): Promise<HTMLElement> {
  const root = h('section', { class: 'exception' });
  const load = async () => {
    const d = await api.get<Detail>(`/v1/console/exceptions/${id}`);
    render(d);
  };
  const act = async (what: string, f: () => Promise<unknown>) => {
    try {
      await f();
      toast(what);
      await load();
    } catch (e) {
      toast((e as Error).message, 'error');
      const err = root.querySelector('#action-error');
      if (err) err.textContent = (e as Error).message;
    }
  };
  const render = (d: Detail) => {
    const x = d.exception;
    const open = x.status === 'open';
    const writable = can('exceptions:write') && open;
    const me = currentSession()?.user.username ?? '';
    const assignee = h('input', { id: 'assignee', value: x.assignee ?? '', 'aria-label': 'Assignee' });
    const comment = h('textarea', { id: 'comment', rows: 3, 'aria-label': 'Comment' });
    const resolution = h('textarea', { id: 'resolution', rows: 2, 'aria-label': 'Resolution' });
    const edit = h('textarea', { id: 'edit-json', rows: 12, class: 'code', 'aria-label': d.plan.editable === 'step_input' ? 'Step input (JSON)' : 'Event data (JSON)' });
    const editable = d.plan.editable === 'event_data' ? (d.editable as { data?: unknown } | null)?.data : d.editable;
    if (editable !== null && editable !== undefined) edit.value = pretty(editable);
    replace(
      root,
      h('h1', null, `Exception ${x.id}: ${x.class}`),
      h('p', { class: `badge sev-${x.severity}` }, x.severity),
      h('p', { id: 'exception-status', class: `status-${x.status}` }, open ? 'Open' : `Resolved ${fmtTime(x.resolvedAt)} by ${d.notes.filter((n) => n.kind === 'resolved').at(-1)?.actorName ?? x.resolvedBy}: ${x.resolution}`),
      h('dl', { class: 'facts' },
        h('dt', null, 'Message'), h('dd', null, x.message),
        h('dt', null, 'Cause'), h('dd', null, h('code', null, x.code)),
        h('dt', null, 'Key'), h('dd', null, h('a', { href: `#/timeline/${encodeURIComponent(x.key)}` }, x.key)),
        h('dt', null, 'Raised'), h('dd', null, fmtTime(x.createdAt)),
        h('dt', null, 'Assignee'), h('dd', { id: 'exception-assignee' }, x.assignee ?? 'nobody'),
        h('dt', null, 'Suggested'), h('dd', null, d.plan.description),
      ),
      h('details', null, h('summary', null, 'Details'), h('pre', null, pretty(x.details))),
      h('p', { class: 'error', role: 'alert', id: 'action-error' }),
      writable
        ? h('div', { class: 'actions' },
            h('section', { 'aria-labelledby': 'h-assign' }, h('h2', { id: 'h-assign' }, 'Assign'), assignee,
              h('button', { type: 'button', id: 'assign', onclick: () => act('Assigned', () => api.post(`/v1/console/exceptions/${id}/assign`, { assignee: assignee.value.trim() || null })) }, 'Assign'),
              h('button', { type: 'button', class: 'secondary', onclick: () => act('Assigned to you', () => api.post(`/v1/console/exceptions/${id}/assign`, { assignee: me })) }, 'Assign to me')),
            h('section', { 'aria-labelledby': 'h-apply' }, h('h2', { id: 'h-apply' }, 'Suggested action'), h('p', null, d.plan.description),
              h('button', { type: 'button', id: 'apply-action', onclick: () => act('Action applied', () => api.post(`/v1/console/exceptions/${id}/apply`, {})) }, d.plan.kind === 'rerun_step' ? 'Run the step again' : d.plan.kind === 'replay_event' ? 'Replay the event' : 'Mark done and resolve')),
            d.plan.editable && editable !== null && editable !== undefined
              ? h('section', { 'aria-labelledby': 'h-edit' }, h('h2', { id: 'h-edit' }, d.plan.editable === 'step_input' ? 'Edit the step input and run again' : 'Edit the event data and replay'), edit,
                  h('button', {
                    type: 'button', id: 'edit-replay',
                    onclick: () => act('Replayed', async () => {
                      let value: unknown;
                      try {
                        value = JSON.parse(edit.value);
                      } catch (e) {
                        throw new Error(`the edited text is not JSON: ${(e as Error).message}`);
                      }
                      return api.post(`/v1/console/exceptions/${id}/replay`, d.plan.editable === 'step_input' ? { input: value } : { data: value });
                    }),
                  }, 'Replay with these changes'))
              : d.plan.editable ? h('p', { class: 'muted' }, 'Editing and replaying needs the pii:read scope: the data holds personal details.') : null,
            h('section', { 'aria-labelledby': 'h-resolve' }, h('h2', { id: 'h-resolve' }, 'Resolve'), resolution,
              h('button', { type: 'button', id: 'resolve', onclick: () => act('Resolved', () => {
                if (!resolution.value.trim()) throw new Error('say what was done before resolving');
                return api.post(`/v1/exceptions/${id}/resolve`, { resolution: resolution.value.trim() });
              }) }, 'Resolve')),
          )
        : null,
      h('section', { 'aria-labelledby': 'h-notes' },
        h('h2', { id: 'h-notes' }, 'History'),
        h('ol', { id: 'exception-notes', class: 'notes' }, d.notes.map((n) => h('li', { dataset: { kind: n.kind } }, h('time', { datetime: n.at }, fmtTime(n.at)), ` ${n.actorName} — ${n.kind}: ${n.text}`))),
        can('exceptions:write')
          ? h('div', null, comment, h('button', { type: 'button', id: 'add-comment', onclick: () => act('Comment added', () => {
              if (!comment.value.trim()) throw new Error('write a comment first');
              return api.post(`/v1/console/exceptions/${id}/comments`, { text: comment.value.trim() });
            }) }, 'Add comment'))
          : null,
      ),
    );
  };
  await load();
  return root;
}
