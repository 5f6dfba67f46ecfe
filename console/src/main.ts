/**
 * The console's shell: sign-in gate, navigation, hash routes (#/overview, #/search?q=,
 * #/timeline/<key>, #/exceptions, #/exceptions/<id>, #/dead-letters, #/connectors,
 * #/kpis) and the search box every page carries.
 */
import { can, currentSession, onSession, restoreSession, signOut } from './api.ts';
import { h, replace, toast } from './dom.ts';
import { signInView } from './views/signin.ts';
import { overviewView } from './views/overview.ts';
import { searchView } from './views/search.ts';
import { timelineView } from './views/timeline.ts';
import { exceptionsView, exceptionView } from './views/exceptions.ts';
import { deadLettersView } from './views/dead-letters.ts';
import { connectorsView } from './views/connectors.ts';
import { kpisView } from './views/kpis.ts';

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const who = document.getElementById('who') as HTMLElement;

/** What a view leaves behind to stop (a live stream, a poll). */
let cleanup: (() => void) | undefined;

const SECTIONS: Array<{ path: string; label: string; scope?: string }> = [
  { path: '#/overview', label: 'Overview', scope: 'exceptions:read' },
  { path: '#/exceptions', label: 'Exceptions', scope: 'exceptions:read' },
  { path: '#/dead-letters', label: 'Dead letters', scope: 'exceptions:read' },
  { path: '#/connectors', label: 'Connectors', scope: 'exceptions:read' },
  { path: '#/kpis', label: 'KPIs', scope: 'orders:read' },
];

function renderNav(): void {
  const s = currentSession();
  nav.hidden = !s;
  if (!s) {
    replace(nav);
    replace(who);
    return;
  }
  const here = location.hash.split('?')[0] || '#/overview';
  const searchBox = h('input', { type: 'search', name: 'q', id: 'search-q', placeholder: 'Order, Odoo ref, tracking no., PO, partner ref', 'aria-label': 'Search by business key', autocomplete: 'off' });
  replace(
    nav,
    h('ul', null, SECTIONS.filter((x) => !x.scope || can(x.scope)).map((x) => h('li', null, h('a', { href: x.path, 'aria-current': here.startsWith(x.path) ? 'page' : undefined }, x.label)))),
    h('form', {
      role: 'search',
      class: 'search',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const v = searchBox.value.trim();
        if (v) location.hash = `#/search?q=${encodeURIComponent(v)}`;
      },
    }, searchBox, h('button', { type: 'submit' }, 'Search')),
  );
  replace(
    who,
    h('span', null, `${s.user.displayName} · ${s.user.tenant}${can('pii:read') ? '' : ' · personal data masked'}`),
    h('button', {
      type: 'button',
      class: 'link',
      onclick: async () => {
        await signOut();
        location.hash = '#/signin';
      },
    }, 'Sign out'),
  );
}

/** Focus moves to the new page's content on navigation, not on the first load (Tab then starts at the skip link). */
let firstRoute = true;

async function route(): Promise<void> {
  cleanup?.();
  cleanup = undefined;
  const s = currentSession();
  const hash = location.hash || '#/overview';
  const [path, query] = hash.slice(1).split('?') as [string, string | undefined];
  const params = new URLSearchParams(query ?? '');
  renderNav();
  if (!s) {
    replace(main, signInView(() => {
      location.hash = path === '/signin' || !path ? '#/overview' : hash;
      void route();
    }));
    return;
  }
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  try {
    const view = parts[0] ?? 'overview';
    let out: { el: HTMLElement; stop?: () => void };
    if (view === 'search') out = { el: await searchView(params.get('q') ?? '') };
    else if (view === 'timeline' && parts[1]) out = { el: await timelineView(parts.slice(1).join('/')) };
    else if (view === 'exceptions' && parts[1]) out = { el: await exceptionView(Number(parts[1])) };
    else if (view === 'exceptions') out = { el: await exceptionsView(params) };
    else if (view === 'dead-letters') out = await deadLettersView(params);
    else if (view === 'connectors') out = { el: await connectorsView() };
    else if (view === 'kpis') out = { el: await kpisView(params.get('window') ?? '24h') };
    else out = can('exceptions:read') ? overviewView() : { el: await searchView('') };
    replace(main, out.el);
    cleanup = out.stop;
    const heading = main.querySelector('h1');
    if (heading) document.title = `${heading.textContent} · Logistics hub`;
    if (!firstRoute) main.focus({ preventScroll: true });
    firstRoute = false;
  } catch (e) {
    replace(main, h('section', null, h('h1', null, 'Something went wrong'), h('p', { role: 'alert', class: 'error' }, (e as Error).message)));
    toast((e as Error).message, 'error');
  }
}

onSession(() => renderNav());
window.addEventListener('hashchange', () => void route());
await restoreSession();
await route();
