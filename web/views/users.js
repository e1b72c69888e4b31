// Users tab: create (the generated password and the recovery key are shown
// once), enable/disable, edit display name and quota, delete.

import * as api from '../api.js';
import {
  h, field, makeForm, val, quotaInput, checkbox, pagedTable, enabledBadge, formatBytes,
  formatDate, errorBox, action, notify,
} from '../dom.js';
import { confirmDialog, secretDialog, formDialog } from '../dialogs.js';

const usersPath = (d) => `/domains/${api.seg(d.name)}/users`;
const userPath = (d, u) => `${usersPath(d)}/${api.seg(u.local)}`;

const ONCE_WARNING = 'Mailboxes are encrypted and the server keeps no copy of these secrets: '
  + 'if they are lost, nobody — not even an administrator — can recover them or the mail they protect. '
  + 'Hand them to the user over a safe channel now.';

function showCreated(created) {
  const secrets = [{ label: 'Address', key: 'address', value: created.user.address }];
  if (created.password) secrets.push({ label: 'Generated password', key: 'password', value: created.password });
  secrets.push({ label: 'Recovery key', key: 'recovery_key', value: created.recovery_key });
  return secretDialog({
    title: `User ${created.user.address} created`,
    intro: created.password
      ? 'The server generated a password. Give the user both the password and the recovery key.'
      : 'Give the user the recovery key: it is the only way to set a new password if theirs is forgotten.',
    secrets,
    warning: ONCE_WARNING,
  });
}

function createForm(d, onCreated) {
  const quota = quotaInput('quota_bytes');
  const enabled = checkbox('Enabled', { name: 'enabled', checked: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'new-password' });
  const form = makeForm([
    h('div', { class: 'grid' },
      field('Local part', h('input', {
        type: 'text', name: 'local', required: true, autocomplete: 'off', spellcheck: false,
        autocapitalize: 'none', placeholder: 'alice',
      }), `The part before @${d.name}.`),
      field('Display name', h('input', { type: 'text', name: 'display_name', maxLength: 256 })),
      field('Password (optional)', password,
        'At least 10 characters. Leave empty and the server generates a strong one.'),
      field('Quota', quota, `Empty uses the domain default (${formatBytes(d.default_quota_bytes)}); 0 is unlimited.`)),
    enabled.el,
  ], 'Create user', async (f) => {
    const body = { local: val(f, 'local'), enabled: enabled.input.checked };
    if (val(f, 'display_name')) body.display_name = val(f, 'display_name');
    if (password.value) body.password = password.value;
    const q = quota.value();
    if (q !== undefined) body.quota_bytes = q;
    const created = await api.post(usersPath(d), body);
    f.reset();
    await showCreated(created);
    onCreated(created.user);
  });
  return h('section', { class: 'card' }, h('h2', {}, 'Add a user'), form);
}

function editDialog(d, u) {
  const quota = quotaInput('quota_bytes', u.quota_bytes);
  const name = h('input', { type: 'text', name: 'display_name', maxLength: 256, value: u.display_name });
  return formDialog({
    title: `Edit ${u.address}`,
    fields: [field('Display name', name), field('Quota', quota, '0 means unlimited.')],
    onSubmit: () => api.patch(userPath(d, u), {
      display_name: name.value.trim(),
      quota_bytes: quota.value() ?? 0,
    }),
  });
}

export function usersTab(d, ctx) {
  const box = errorBox();
  let list = null;
  const act = (fn) => action(box, fn);
  const row = (u) => {
    const toggle = h('button', { type: 'button', 'aria-label': `${u.enabled ? 'Disable' : 'Enable'} ${u.address}` },
      u.enabled ? 'Disable' : 'Enable');
    toggle.addEventListener('click', act(async (btn) => {
      const changed = await api.patch(userPath(d, u), { enabled: !u.enabled });
      notify(`${u.address} ${changed.enabled ? 'enabled' : 'disabled'}.`);
      list.update(btn, changed);
    }));
    const edit = h('button', { type: 'button', 'aria-label': `Edit ${u.address}` }, 'Edit…');
    edit.addEventListener('click', act(async (btn) => {
      const changed = await editDialog(d, u);
      if (changed) {
        notify(`${u.address} saved.`);
        list.update(btn, changed);
      }
    }));
    const del = h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${u.address}` }, 'Delete');
    del.addEventListener('click', act(async () => {
      const ok = await confirmDialog({
        title: `Delete ${u.address}?`,
        message: 'The mailbox and all of its mail, calendars and contacts are deleted. This cannot be undone.',
      });
      if (!ok) return;
      await api.del(userPath(d, u));
      notify(`${u.address} deleted.`);
      list.reload();
      ctx.refresh();
    }));
    return [
      h('span', { class: 'strong' }, u.address),
      u.display_name || h('span', { class: 'muted' }, '—'),
      formatBytes(u.quota_bytes),
      enabledBadge(u.enabled),
      String(u.app_password_count),
      formatDate(u.created_at),
      h('div', { class: 'row-actions' }, toggle, edit, del),
    ];
  };
  list = pagedTable({
    path: usersPath(d),
    columns: ['Address', 'Display name', 'Quota', 'Status', 'App passwords', 'Created', 'Actions'],
    row,
    caption: `Users of ${d.name}`,
    empty: 'No users yet.',
  });
  return h('div', {},
    h('section', { class: 'card' }, h('h2', {}, 'Users'), box, list.el),
    createForm(d, () => { list.reload(); ctx.refresh(); }));
}
