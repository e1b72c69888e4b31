// API keys: create (the secret is shown once), revoke.

import * as api from '../api.js';
import {
  h, field, makeForm, val, pagedTable, formatDate, errorBox, action, notify,
} from '../dom.js';
import { confirmDialog, secretDialog } from '../dialogs.js';
import { isGlobal } from '../state.js';

/** <input type="datetime-local"> is local time; the API wants RFC 3339 UTC. */
function toRfc3339(local) {
  const t = new Date(local);
  if (Number.isNaN(t.getTime())) return local; // let the server explain what is wrong
  return t.toISOString().replace(/\.\d+Z$/, 'Z');
}

function createForm(onCreated) {
  const form = makeForm([
    h('div', { class: 'grid' },
      field('Name', h('input', { type: 'text', name: 'name', required: true, maxLength: 64, autocomplete: 'off' }),
        'What the key is for, e.g. "backup script".'),
      field('Expires (optional)', h('input', { type: 'datetime-local', name: 'expires_at' }),
        'Your local time. Empty: the key never expires.')),
  ], 'Create API key', async (f) => {
    const body = { name: val(f, 'name') };
    if (val(f, 'expires_at')) body.expires_at = toRfc3339(val(f, 'expires_at'));
    const k = await api.post('/api-keys', body);
    f.reset();
    await secretDialog({
      title: `API key "${k.name}" created`,
      intro: `Send it as "Authorization: Bearer <secret>". It acts with the rights of ${k.owner}.`,
      secrets: [{ label: 'Secret', key: 'secret', value: k.secret }],
      warning: 'The server stores only a hash of the secret and can never show it again. '
        + 'If it is lost, revoke the key and create a new one.',
    });
    onCreated(k);
  });
  return h('section', { class: 'card' }, h('h2', {}, 'Create an API key'), form);
}

export function apiKeysView() {
  const box = errorBox();
  let list = null;
  const act = (fn) => action(box, fn);
  const row = (k) => {
    const revoke = h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke ${k.name}` }, 'Revoke');
    revoke.addEventListener('click', act(async () => {
      const ok = await confirmDialog({
        title: `Revoke API key "${k.name}"?`,
        message: 'Programs using it get 401 from now on.',
        confirmLabel: 'Revoke',
      });
      if (!ok) return;
      await api.del(`/api-keys/${api.seg(k.id)}`);
      notify(`API key ${k.name} revoked.`);
      list.reload();
    }));
    const expired = k.expires_at && Date.parse(k.expires_at) < Date.now();
    return [
      h('span', { class: 'strong' }, k.name),
      h('code', { class: 'mono' }, k.id),
      k.owner,
      formatDate(k.created_at),
      k.expires_at ? h('span', {}, formatDate(k.expires_at), expired ? ' (expired)' : '') : 'never',
      k.last_used_at ? formatDate(k.last_used_at) : h('span', { class: 'muted' }, 'never'),
      h('div', { class: 'row-actions' }, revoke),
    ];
  };
  list = pagedTable({
    path: '/api-keys',
    columns: ['Name', 'Id', 'Owner', 'Created', 'Expires', 'Last used', 'Actions'],
    row,
    caption: 'API keys',
    empty: 'No API keys.',
  });
  return h('div', { class: 'view' },
    h('h1', {}, 'API keys'),
    h('p', {}, isGlobal() ? 'Every admin\'s keys. A key acts with its owner\'s role and domains.'
      : 'Your keys. A key acts with your role and domains.'),
    box,
    h('section', { class: 'card' }, list.el),
    createForm(() => list.reload()));
}
