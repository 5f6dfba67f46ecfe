/** Search results: what a business key names, each opening its timeline. */
import { api, q } from '../api.ts';
import { h } from '../dom.ts';

interface Hit {
  kind: string;
  key: string;
  matchedBy: string;
  order: string | null;
}

export async function searchView(term: string): Promise<HTMLElement> {
  const box = document.getElementById('search-q') as HTMLInputElement | null;
  if (box && term) box.value = term;
  if (!term) return h('section', null, h('h1', null, 'Search'), h('p', null, 'Type an order number, an Odoo reference, a tracking number, a PO number or a partner reference in the search box.'));
  const r = await api.get<{ items: Hit[]; hidden: number }>(`/v1/console/search${q({ q: term })}`);
  if (r.items.length === 1) {
    // one answer: open it straight away
    location.replace(`#/timeline/${encodeURIComponent(r.items[0]!.key)}`);
  }
  return h(
    'section',
    null,
    h('h1', null, `Search: ${term}`),
    r.items.length
      ? h('ul', { class: 'hits', id: 'search-hits' }, r.items.map((x) => h('li', null, h('a', { href: `#/timeline/${encodeURIComponent(x.key)}` }, `${x.kind} ${x.key}`), h('span', { class: 'muted' }, ` — ${x.matchedBy}${x.order && x.order !== x.key ? `, order ${x.order}` : ''}`))))
      : h('p', { id: 'search-empty' }, 'Nothing matches this key.'),
    r.hidden ? h('p', { class: 'muted' }, `${r.hidden} more result(s) need a read scope you do not have.`) : null,
  );
}
