// DKIM keys tab: generate (ed25519 or rsa-2048), rotate, delete.

import * as api from '../api.js';
import {
  h, field, makeForm, val, pagedTable, badge, formatDate, errorBox, action, notify, copyButton,
} from '../dom.js';
import { confirmDialog } from '../dialogs.js';

const keysPath = (d) => `/domains/${api.seg(d.name)}/dkim-keys`;
const keyPath = (d, k) => `${keysPath(d)}/${api.seg(k.selector)}`;

const shorten = (s, n = 48) => (s.length > n ? `${s.slice(0, n)}…` : s);

function createForm(d, onCreated) {
  const algorithm = h('select', { name: 'algorithm' },
    h('option', { value: 'ed25519' }, 'ed25519 (RFC 8463)'),
    h('option', { value: 'rsa-2048' }, 'rsa-2048'));
  const form = makeForm([
    h('div', { class: 'grid' },
      field('Algorithm', algorithm,
        'Not every receiver verifies ed25519 yet; an rsa-2048 key next to it covers them.'),
      field('Selector (optional)', h('input', {
        type: 'text', name: 'selector', autocomplete: 'off', spellcheck: false, autocapitalize: 'none',
        placeholder: 's202611',
      }), 'One lower-case DNS label. Leave empty and the server picks one.')),
  ], 'Generate key', async (f) => {
    const body = { algorithm: algorithm.value };
    if (val(f, 'selector')) body.selector = val(f, 'selector');
    const k = await api.post(keysPath(d), body);
    notify(`DKIM key ${k.selector} created. Publish its TXT record (DNS records tab).`);
    f.elements.selector.value = '';
    onCreated(k);
  });
  return h('section', { class: 'card' }, h('h2', {}, 'Generate a DKIM key'), form);
}

export function dkimTab(d) {
  const box = errorBox();
  let list = null;
  const act = (fn) => action(box, fn);
  const row = (k) => {
    const actions = h('div', { class: 'row-actions' });
    if (k.status === 'active') {
      const rotate = h('button', { type: 'button', 'aria-label': `Rotate ${k.selector}` }, 'Rotate');
      rotate.addEventListener('click', act(async () => {
        const ok = await confirmDialog({
          title: `Rotate ${k.selector}?`,
          message: [
            `A new ${k.algorithm} key with a new selector becomes active. ${k.selector} is retired and stays published in DNS until you delete it.`,
            'Publish the new TXT record before deleting the old one.',
          ],
          confirmLabel: 'Rotate',
          danger: false,
        });
        if (!ok) return;
        const fresh = await api.post(`${keyPath(d, k)}/rotate`);
        notify(`New key ${fresh.selector} is active; ${k.selector} is retired.`);
        list.reload();
      }));
      actions.append(rotate);
    }
    const del = h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${k.selector}` }, 'Delete');
    del.addEventListener('click', act(async () => {
      const ok = await confirmDialog({
        title: `Delete DKIM key ${k.selector}?`,
        message: k.status === 'active'
          ? 'This key is active: mail is no longer signed with it, and receivers can no longer verify mail it signed. Remove its TXT record afterwards.'
          : 'Receivers can no longer verify mail this retired key signed. Remove its TXT record afterwards.',
      });
      if (!ok) return;
      await api.del(keyPath(d, k));
      notify(`DKIM key ${k.selector} deleted.`);
      list.reload();
    }));
    actions.append(del);
    return [
      h('span', { class: 'strong' }, k.selector),
      k.algorithm,
      k.status === 'active' ? badge('active', 'ok') : badge('retired', 'off'),
      formatDate(k.created_at),
      h('div', { class: 'dns-cell' },
        h('code', { class: 'mono' }, `${k.dns_name}.`),
        h('code', { class: 'mono muted', title: k.txt }, shorten(k.txt)),
        copyButton(k.txt, 'Copy TXT', `Copy the TXT value of ${k.selector}`)),
      actions,
    ];
  };
  list = pagedTable({
    path: keysPath(d),
    columns: ['Selector', 'Algorithm', 'Status', 'Created', 'DNS record', 'Actions'],
    row,
    caption: `DKIM keys of ${d.name}`,
    empty: 'No DKIM keys yet: outgoing mail of this domain is not signed.',
  });
  return h('div', {},
    h('section', { class: 'card' }, h('h2', {}, 'DKIM keys'), box, list.el),
    createForm(d, () => list.reload()));
}
