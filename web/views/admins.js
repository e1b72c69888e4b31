// Admins (global admins only): create, edit role/domains/enabled, set password, delete.

import * as api from '../api.js';
import {
  h, field, makeForm, val, checkbox, pagedTable, badge, enabledBadge, formatDate, errorBox,
  action, notify,
} from '../dom.js';
import { confirmDialog, formDialog } from '../dialogs.js';
import { state } from '../state.js';

const adminPath = (a) => `/admins/${api.seg(a.username)}`;
const parseDomains = (text) => text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
const ROLE_HINT = 'A global admin manages everything; a domain admin only the users, aliases and DKIM keys of its domains.';
const DOMAINS_HINT = 'For a domain admin: the domains it manages, separated by commas or new lines.';

function roleSelect(value = 'domain') {
  const sel = h('select', { name: 'role' },
    h('option', { value: 'domain' }, 'domain admin'),
    h('option', { value: 'global' }, 'global admin'));
  sel.value = value;
  return sel;
}

/** Shows the domains field only for the domain role. */
function domainsField(role, value = '') {
  const ta = h('textarea', { name: 'domains', rows: 2, spellcheck: false, autocapitalize: 'none' });
  ta.value = value;
  const f = field('Domains', ta, DOMAINS_HINT);
  const sync = () => { f.hidden = role.value !== 'domain'; };
  role.addEventListener('change', sync);
  sync();
  return { f, ta };
}

function createForm(onCreated) {
  const role = roleSelect();
  const domains = domainsField(role);
  const enabled = checkbox('Enabled', { name: 'enabled', checked: true });
  const form = makeForm([
    h('div', { class: 'grid' },
      field('Username', h('input', {
        type: 'text', name: 'username', required: true, autocomplete: 'off', spellcheck: false,
        autocapitalize: 'none',
      }), 'Letters, digits and . _ @ + -'),
      field('Password', h('input', { type: 'password', name: 'password', required: true, autocomplete: 'new-password' }),
        'At least 10 characters.'),
      field('Role', role, ROLE_HINT),
      domains.f),
    enabled.el,
  ], 'Create admin', async (f) => {
    const body = {
      username: val(f, 'username'), password: f.elements.password.value, role: role.value,
      enabled: enabled.input.checked,
    };
    if (role.value === 'domain') body.domains = parseDomains(domains.ta.value);
    const a = await api.post('/admins', body);
    notify(`Admin ${a.username} created.`);
    f.reset();
    role.dispatchEvent(new Event('change'));
    onCreated(a);
  });
  return h('section', { class: 'card' }, h('h2', {}, 'Add an admin'), form);
}

function editDialog(a) {
  const role = roleSelect(a.role);
  const domains = domainsField(role, a.domains.join('\n'));
  const enabled = checkbox('Enabled', { name: 'enabled', checked: a.enabled });
  return formDialog({
    title: `Edit ${a.username}`,
    fields: [field('Role', role, ROLE_HINT), domains.f, enabled.el],
    onSubmit: () => api.patch(adminPath(a), {
      role: role.value,
      domains: role.value === 'domain' ? parseDomains(domains.ta.value) : [],
      enabled: enabled.input.checked,
    }),
  });
}

function passwordDialog(a) {
  const pw = h('input', { type: 'password', name: 'password', autocomplete: 'new-password' });
  return formDialog({
    title: `New password for ${a.username}`,
    fields: [field('New password', pw, 'At least 10 characters.')],
    submitLabel: 'Set password',
    onSubmit: async () => { await api.patch(adminPath(a), { password: pw.value }); return true; },
  });
}

export function adminsView() {
  const box = errorBox();
  let list = null;
  const act = (fn) => action(box, fn);
  const row = (a) => {
    const self = a.username === state.me.username;
    const edit = h('button', { type: 'button', 'aria-label': `Edit ${a.username}` }, 'Edit…');
    edit.addEventListener('click', act(async (btn) => {
      const changed = await editDialog(a);
      if (changed) {
        notify(`${a.username} saved.`);
        list.update(btn, changed);
      }
    }));
    const pw = self
      ? h('a', { href: '#/me', class: 'button' }, 'Change password')
      : h('button', { type: 'button', 'aria-label': `Set password of ${a.username}` }, 'Set password…');
    if (!self) {
      pw.addEventListener('click', act(async () => {
        if (await passwordDialog(a)) notify(`Password of ${a.username} changed.`);
      }));
    }
    const del = h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${a.username}` }, 'Delete');
    del.addEventListener('click', act(async () => {
      const ok = await confirmDialog({
        title: `Delete admin ${a.username}?`,
        message: self ? 'This is you: you will be logged out.' : 'Its API keys are deleted with it.',
      });
      if (!ok) return;
      await api.del(adminPath(a));
      notify(`Admin ${a.username} deleted.`);
      list.reload();
    }));
    return [
      h('span', { class: 'strong' }, a.username, self ? h('span', { class: 'muted' }, ' (you)') : null),
      a.role === 'global' ? badge('global', 'ok') : badge('domain'),
      a.domains.length ? h('ul', { class: 'plain' }, a.domains.map((d) => h('li', {}, d))) : h('span', { class: 'muted' }, '—'),
      enabledBadge(a.enabled),
      formatDate(a.created_at),
      h('div', { class: 'row-actions' }, edit, pw, del),
    ];
  };
  list = pagedTable({
    path: '/admins',
    columns: ['Username', 'Role', 'Domains', 'Status', 'Created', 'Actions'],
    row,
    caption: 'Admins',
  });
  return h('div', { class: 'view' },
    h('h1', {}, 'Admins'),
    box,
    h('section', { class: 'card' }, list.el),
    createForm(() => list.reload()));
}
