// Aliases tab: create (or the catch-all "*"), edit targets, enable/disable, delete.

import * as api from '../api.js';
import {
  h, field, makeForm, val, checkbox, pagedTable, enabledBadge, formatDate, errorBox,
  action, notify,
} from '../dom.js';
import { confirmDialog, formDialog } from '../dialogs.js';

const aliasesPath = (d) => `/domains/${api.seg(d.name)}/aliases`;
const aliasPath = (d, a) => `${aliasesPath(d)}/${api.seg(a.local)}`;

/** Targets typed one per line (commas and spaces also separate). */
export const parseTargets = (text) => text.split(/[\s,;]+/).map((t) => t.trim()).filter(Boolean);

const TARGETS_HINT = 'One address per line, up to 100. An address in a domain hosted here must be an existing user or alias.';

function targetsInput(value = '') {
  const ta = h('textarea', { name: 'targets', rows: 3, required: true, spellcheck: false, autocapitalize: 'none' });
  ta.value = value;
  return ta;
}

const aliasTitle = (a) => (a.local === '*' ? `catch-all of ${a.domain}` : a.address);

function createForm(d, onCreated) {
  const catchAll = checkbox(`Catch-all: receive mail for every unknown address of ${d.name}`, { name: 'catch_all' });
  const local = h('input', {
    type: 'text', name: 'local', required: true, autocomplete: 'off', spellcheck: false,
    autocapitalize: 'none', placeholder: 'info',
  });
  catchAll.input.addEventListener('change', () => {
    local.disabled = catchAll.input.checked;
    if (local.disabled) local.value = '';
  });
  const targets = targetsInput();
  const enabled = checkbox('Enabled', { name: 'enabled', checked: true });
  const form = makeForm([
    h('div', { class: 'grid' },
      field('Local part', local, `The part before @${d.name}.`),
      field('Targets', targets, TARGETS_HINT)),
    catchAll.el,
    enabled.el,
  ], 'Create alias', async (f) => {
    const body = {
      local: catchAll.input.checked ? '*' : val(f, 'local'),
      targets: parseTargets(targets.value),
      enabled: enabled.input.checked,
    };
    const a = await api.post(aliasesPath(d), body);
    notify(`Alias ${a.address} created.`);
    f.reset();
    local.disabled = false;
    onCreated(a);
  });
  return h('section', { class: 'card' }, h('h2', {}, 'Add an alias'), form);
}

function editTargets(d, a) {
  const targets = targetsInput(a.targets.join('\n'));
  targets.rows = Math.min(12, Math.max(3, a.targets.length + 1));
  return formDialog({
    title: `Targets of ${aliasTitle(a)}`,
    fields: [field('Targets', targets, TARGETS_HINT)],
    onSubmit: () => api.patch(aliasPath(d, a), { targets: parseTargets(targets.value) }),
  });
}

export function aliasesTab(d, ctx) {
  const box = errorBox();
  let list = null;
  const act = (fn) => action(box, fn);
  const row = (a) => {
    const name = aliasTitle(a);
    const edit = h('button', { type: 'button', 'aria-label': `Edit targets of ${name}` }, 'Edit targets…');
    edit.addEventListener('click', act(async (btn) => {
      const changed = await editTargets(d, a);
      if (changed) {
        notify(`Targets of ${name} saved.`);
        list.update(btn, changed);
      }
    }));
    const toggle = h('button', { type: 'button', 'aria-label': `${a.enabled ? 'Disable' : 'Enable'} ${name}` },
      a.enabled ? 'Disable' : 'Enable');
    toggle.addEventListener('click', act(async (btn) => {
      const changed = await api.patch(aliasPath(d, a), { enabled: !a.enabled });
      notify(`${name} ${changed.enabled ? 'enabled' : 'disabled'}.`);
      list.update(btn, changed);
    }));
    const del = h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${name}` }, 'Delete');
    del.addEventListener('click', act(async () => {
      if (!await confirmDialog({ title: `Delete ${name}?`, message: 'Mail to this address will no longer be delivered.' })) return;
      await api.del(aliasPath(d, a));
      notify(`${name} deleted.`);
      list.reload();
      ctx.refresh();
    }));
    return [
      a.local === '*'
        ? h('span', { class: 'strong' }, a.address, ' ', h('span', { class: 'badge' }, 'catch-all'))
        : h('span', { class: 'strong' }, a.address),
      h('ul', { class: 'plain' }, a.targets.map((t) => h('li', {}, t))),
      enabledBadge(a.enabled),
      formatDate(a.updated_at),
      h('div', { class: 'row-actions' }, edit, toggle, del),
    ];
  };
  list = pagedTable({
    path: aliasesPath(d),
    columns: ['Address', 'Targets', 'Status', 'Updated', 'Actions'],
    row,
    caption: `Aliases of ${d.name}`,
    empty: 'No aliases yet.',
  });
  return h('div', {},
    h('section', { class: 'card' }, h('h2', {}, 'Aliases'), box, list.el),
    createForm(d, () => { list.reload(); ctx.refresh(); }));
}
