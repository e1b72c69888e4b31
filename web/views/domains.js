// Domains list: create (global admins), open, delete (with a forced delete
// when the domain still has users or aliases).

import * as api from '../api.js';
import {
  h, field, makeForm, val, quotaInput, pagedTable, enabledBadge, errorBox, showError,
  clearError, notify, checkbox,
} from '../dom.js';
import { confirmDialog } from '../dialogs.js';
import { isGlobal, navigate } from '../state.js';

export const domainHref = (name) => `#/domains/${encodeURIComponent(name)}`;

/** The domain's name as a person reads it, with the A-label when it differs. */
export function domainLabel(d) {
  if (d.name_unicode && d.name_unicode !== d.name) {
    return [h('span', {}, d.name_unicode), ' ', h('span', { class: 'muted small' }, `(${d.name})`)];
  }
  return d.name;
}

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Deletes a domain; asks again, with the name typed, when it is not empty. Resolves true when deleted. */
export async function deleteDomain(d, box) {
  const ok = await confirmDialog({
    title: `Delete ${d.name_unicode || d.name}?`,
    message: 'The domain and its DKIM keys are removed.',
  });
  if (!ok) return false;
  try {
    await api.del(`/domains/${api.seg(d.name)}`);
  } catch (err) {
    if (err.type !== '/problems/domain-not-empty') throw err;
    const now = await api.get(`/domains/${api.seg(d.name)}`).catch(() => null);
    const forced = await confirmDialog({
      title: `${d.name_unicode || d.name} is not empty`,
      message: [
        now ? `It still has ${plural(now.user_count, 'user')} and ${plural(now.alias_count, 'alias', 'aliases')}.` : err.detail,
        'Deleting it anyway removes every user with their mailbox, every alias and every DKIM key of the domain. This cannot be undone.',
      ],
      confirmLabel: 'Delete everything',
      typeToConfirm: [d.name_unicode || d.name, d.name],
    });
    if (!forced) return false;
    await api.del(`/domains/${api.seg(d.name)}?force=true`);
  }
  clearError(box);
  notify(`Domain ${d.name} deleted.`);
  return true;
}

function createForm() {
  const quota = quotaInput('default_quota_bytes');
  const enabled = checkbox('Enabled', { name: 'enabled', checked: true });
  const form = makeForm([
    h('div', { class: 'grid' },
      field('Domain name', h('input', {
        type: 'text', name: 'name', required: true, autocomplete: 'off', spellcheck: false,
        placeholder: 'example.com',
      }), 'An ASCII or internationalised name, e.g. bücher.example.'),
      field('Description', h('input', { type: 'text', name: 'description', maxLength: 256 })),
      field('Default mailbox quota', quota, 'For new users. Empty uses the server default; 0 means unlimited.'),
      field('Maximum users', h('input', { type: 'number', name: 'max_users', min: '0', step: '1' }),
        'Empty or 0 means unlimited.')),
    enabled.el,
  ], 'Create domain', async (f) => {
    const body = { name: val(f, 'name'), enabled: enabled.input.checked };
    if (val(f, 'description')) body.description = val(f, 'description');
    const q = quota.value();
    if (q !== undefined) body.default_quota_bytes = q;
    if (val(f, 'max_users') !== '') body.max_users = Number(val(f, 'max_users'));
    const d = await api.post('/domains', body);
    notify(`Domain ${d.name} created.`);
    navigate(domainHref(d.name));
  }, { 'aria-labelledby': 'create-domain-title' });
  return h('section', { class: 'card' }, h('h2', { id: 'create-domain-title' }, 'Add a domain'), form);
}

export function domainsView() {
  const box = errorBox();
  const global = isGlobal();
  let list = null;
  const row = (d) => {
    const actions = h('div', { class: 'row-actions' },
      h('a', { href: domainHref(d.name), class: 'button' }, 'Open'));
    if (global) {
      const del = h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${d.name}` }, 'Delete');
      del.addEventListener('click', async () => {
        try {
          if (await deleteDomain(d, box)) list.reload();
        } catch (err) {
          showError(box, err);
        }
      });
      actions.append(del);
    }
    return [
      h('a', { href: domainHref(d.name), class: 'strong' }, domainLabel(d)),
      d.description ? d.description : h('span', { class: 'muted' }, '—'),
      String(d.user_count) + (d.max_users ? ` / ${d.max_users}` : ''),
      String(d.alias_count),
      enabledBadge(d.enabled),
      actions,
    ];
  };
  list = pagedTable({
    path: '/domains',
    columns: ['Domain', 'Description', 'Users', 'Aliases', 'Status', 'Actions'],
    row,
    caption: 'Domains',
    empty: global ? 'No domains yet. Add the first one below.' : 'You manage no domains.',
  });
  return h('div', { class: 'view' },
    h('h1', {}, 'Domains'),
    box,
    h('section', { class: 'card' }, list.el),
    global ? createForm() : null);
}
