// Router and session state of the ownmail admin UI.
// Routes live in the URL hash so the static file server needs no fallback:
//   #/login  #/domains  #/domains/<domain>[/<tab>]  #/admins  #/api-keys  #/me

import * as api from './api.js';
import { h, clear } from './dom.js';
import { loginView } from './views/login.js';
import { domainsView } from './views/domains.js';
import { domainView } from './views/domain.js';
import { adminsView } from './views/admins.js';
import { apiKeysView } from './views/apikeys.js';
import { meView } from './views/me.js';

import { state, isGlobal, navigate } from './state.js';

let renderSeq = 0;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const parts = raw.split('/').filter(Boolean).map((p) => {
    try { return decodeURIComponent(p); } catch { return p; }
  });
  return parts;
}

const ROUTES = [
  { match: (p) => p[0] === 'domains' && p.length === 1, title: 'Domains', nav: 'domains', view: () => domainsView() },
  {
    match: (p) => p[0] === 'domains' && p.length >= 2,
    title: (p) => p[1], nav: 'domains', view: (p) => domainView(p[1], p[2] || 'users'),
  },
  { match: (p) => p[0] === 'admins', title: 'Admins', nav: 'admins', view: () => adminsView(), global: true },
  { match: (p) => p[0] === 'api-keys', title: 'API keys', nav: 'api-keys', view: () => apiKeysView() },
  { match: (p) => p[0] === 'me', title: 'My account', nav: 'me', view: () => meView() },
];

function renderNav(current) {
  const nav = document.getElementById('nav');
  clear(nav);
  if (!state.me) return;
  const link = (key, href, label) => h('a', { href, 'aria-current': key === current ? 'page' : undefined }, label);
  const logout = h('button', { type: 'button', class: 'link-button' }, 'Log out');
  logout.addEventListener('click', () => {
    api.logout();
    state.me = null;
    state.notice = 'You are logged out.';
    navigate('#/login');
  });
  nav.append(h('ul', {},
    h('li', {}, link('domains', '#/domains', 'Domains')),
    isGlobal() ? h('li', {}, link('admins', '#/admins', 'Admins')) : null,
    h('li', {}, link('api-keys', '#/api-keys', 'API keys')),
    h('li', {}, link('me', '#/me', state.me.username)),
    h('li', {}, logout)));
}

async function loadMe() {
  if (state.me || !api.hasSession()) return state.me;
  try {
    state.me = await api.get('/me');
    api.scheduleRefresh();
  } catch {
    state.me = null;
  }
  return state.me;
}

async function route() {
  const seq = ++renderSeq;
  const main = document.getElementById('main');
  const parts = parseHash();
  if (parts[0] !== 'login' && !api.hasSession()) api.clearSession();
  const me = await loadMe();
  if (seq !== renderSeq) return;
  if (!me) {
    if (parts[0] !== 'login' && parts.length) state.returnTo = location.hash;
    if (parts[0] !== 'login') {
      history.replaceState(null, '', '#/login');
    }
    renderNav(null);
    show(main, await loginView(), 'Log in');
    return;
  }
  const r = ROUTES.find((x) => x.match(parts));
  if (!r || (r.global && !isGlobal())) {
    history.replaceState(null, '', '#/domains');
    return route();
  }
  renderNav(r.nav);
  const view = await r.view(parts);
  if (seq !== renderSeq) return;
  show(main, view, typeof r.title === 'function' ? r.title(parts) : r.title);
}

function show(main, node, title) {
  clear(main);
  main.append(node);
  document.title = `${title} · ownmail admin`;
  // Move focus to the new content for keyboard and screen-reader users.
  const first = main.querySelector('[data-autofocus]');
  if (first) first.focus();
  else main.focus({ preventScroll: true });
}

api.onUnauthorized(() => {
  if (!state.me) return;
  state.me = null;
  state.notice = 'Your session has ended. Please log in again.';
  state.returnTo = location.hash;
  document.querySelectorAll('dialog[open]').forEach((d) => d.close());
  navigate('#/login');
});

document.querySelector('.skip-link')?.addEventListener('click', (ev) => {
  ev.preventDefault();
  document.getElementById('main').focus();
});

window.addEventListener('hashchange', route);
route();
