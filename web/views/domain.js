// One domain: summary plus tabs for users, aliases, DKIM keys, DNS records
// and (global admins) settings. The tab is part of the URL: #/domains/<d>/<tab>.

import * as api from '../api.js';
import {
  h, clear, field, makeForm, quotaInput, checkbox, enabledBadge, formatBytes, errorBox,
  showError, notify,
} from '../dom.js';
import { isGlobal, navigate } from '../state.js';
import { domainHref, deleteDomain } from './domains.js';
import { usersTab } from './users.js';
import { aliasesTab } from './aliases.js';
import { dkimTab } from './dkim.js';
import { dnsTab } from './dns.js';

const TABS = [
  { id: 'users', label: 'Users', render: usersTab },
  { id: 'aliases', label: 'Aliases', render: aliasesTab },
  { id: 'dkim', label: 'DKIM keys', render: dkimTab },
  { id: 'dns', label: 'DNS records', render: dnsTab },
  { id: 'settings', label: 'Settings', render: settingsTab, global: true },
];

function summary(d) {
  const items = [
    ['Status', enabledBadge(d.enabled)],
    ['Users', `${d.user_count}${d.max_users ? ` of at most ${d.max_users}` : ''}`],
    ['Aliases', String(d.alias_count)],
    ['Default quota', formatBytes(d.default_quota_bytes)],
  ];
  return h('dl', { class: 'summary' }, items.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))));
}

function header(d) {
  return h('header', { class: 'domain-header' },
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/domains' }, 'Domains'), ' / '),
    h('h1', {}, d.name_unicode || d.name,
      d.name_unicode && d.name_unicode !== d.name ? h('span', { class: 'muted small' }, ` (${d.name})`) : null),
    d.description ? h('p', { class: 'description' }, d.description) : null,
    summary(d));
}

function settingsTab(d, ctx) {
  const quota = quotaInput('default_quota_bytes', d.default_quota_bytes);
  const enabled = checkbox('Enabled (a disabled domain receives no mail)', { name: 'enabled', checked: d.enabled });
  const description = h('input', { type: 'text', name: 'description', maxLength: 256, value: d.description });
  const maxUsers = h('input', { type: 'number', name: 'max_users', min: '0', step: '1', value: String(d.max_users) });
  const form = makeForm([
    h('div', { class: 'grid' },
      field('Description', description),
      field('Default mailbox quota', quota, '0 means unlimited; applies to new users.'),
      field('Maximum users', maxUsers, '0 means unlimited.')),
    enabled.el,
  ], 'Save settings', async () => {
    const body = { description: description.value.trim(), enabled: enabled.input.checked };
    body.default_quota_bytes = quota.value() ?? 0;
    body.max_users = maxUsers.value === '' ? 0 : Number(maxUsers.value);
    await api.patch(`/domains/${api.seg(d.name)}`, body);
    notify('Settings saved.');
    ctx.refresh();
  });
  const box = errorBox();
  const del = h('button', { type: 'button', class: 'danger' }, 'Delete this domain…');
  del.addEventListener('click', async () => {
    try {
      if (await deleteDomain(d, box)) navigate('#/domains');
    } catch (err) {
      showError(box, err);
    }
  });
  return h('div', {},
    h('section', { class: 'card' }, h('h2', {}, 'Settings'), form),
    h('section', { class: 'card danger-zone' }, h('h2', {}, 'Delete domain'), box,
      h('p', {}, 'Deleting a domain that still has users or aliases asks for a second confirmation.'), del));
}

function tabList(tabs, active, select) {
  const list = h('div', { role: 'tablist', class: 'tabs', 'aria-label': 'Domain sections' });
  const buttons = tabs.map((t) => {
    const b = h('button', {
      type: 'button', role: 'tab', id: `tab-${t.id}`, 'aria-controls': 'tab-panel',
      'aria-selected': t.id === active ? 'true' : 'false', tabIndex: t.id === active ? 0 : -1,
    }, t.label);
    b.addEventListener('click', () => select(t.id));
    return b;
  });
  // Arrow keys move between tabs (WAI-ARIA tabs pattern, automatic activation).
  list.addEventListener('keydown', (ev) => {
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    let j = null;
    if (ev.key === 'ArrowRight') j = (i + 1) % buttons.length;
    else if (ev.key === 'ArrowLeft') j = (i - 1 + buttons.length) % buttons.length;
    else if (ev.key === 'Home') j = 0;
    else if (ev.key === 'End') j = buttons.length - 1;
    if (j === null) return;
    ev.preventDefault();
    buttons[j].focus();
    select(tabs[j].id);
  });
  list.append(...buttons);
  list.buttons = buttons;
  return list;
}

export async function domainView(name, tab) {
  let d;
  try {
    d = await api.get(`/domains/${api.seg(name)}`);
  } catch (err) {
    const box = errorBox();
    showError(box, err);
    return h('div', { class: 'view' }, h('h1', {}, name), box, h('p', {}, h('a', { href: '#/domains' }, 'Back to the domains')));
  }
  const tabs = TABS.filter((t) => !t.global || isGlobal());
  let active = tabs.some((t) => t.id === tab) ? tab : 'users';
  if (active !== tab) history.replaceState(null, '', `${domainHref(d.name)}/${active}`);
  const head = h('div', {}, header(d));
  const panel = h('div', { role: 'tabpanel', id: 'tab-panel', class: 'tab-panel', tabIndex: 0 });
  const ctx = {
    async refresh() {
      try {
        d = await api.get(`/domains/${api.seg(d.name)}`);
        clear(head).append(header(d));
      } catch { /* the summary stays as it was */ }
    },
  };
  const renderPanel = () => {
    panel.setAttribute('aria-labelledby', `tab-${active}`);
    clear(panel).append(tabs.find((t) => t.id === active).render(d, ctx));
  };
  const list = tabList(tabs, active, (id) => {
    active = id;
    list.buttons.forEach((b, i) => {
      const on = tabs[i].id === id;
      b.setAttribute('aria-selected', on ? 'true' : 'false');
      b.tabIndex = on ? 0 : -1;
    });
    history.replaceState(null, '', `${domainHref(d.name)}/${id}`);
    renderPanel();
  });
  renderPanel();
  return h('div', { class: 'view' }, head, list, panel);
}
