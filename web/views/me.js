// "Me": who is logged in, and changing one's own password.

import * as api from '../api.js';
import { h, field, makeForm, notify } from '../dom.js';
import { state } from '../state.js';

export function meView() {
  const me = state.me;
  const oldPw = h('input', { type: 'password', name: 'old_password', autocomplete: 'current-password', required: true });
  const newPw = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true });
  const again = h('input', { type: 'password', name: 'password_again', autocomplete: 'new-password', required: true });
  const form = makeForm([
    field('Current password', oldPw),
    field('New password', newPw, 'At least 10 characters.'),
    field('New password again', again),
  ], 'Change password', async (f) => {
    if (newPw.value !== again.value) {
      throw Object.assign(new Error('The new passwords differ.'), {
        detail: 'The two new passwords differ.',
        errors: [{ field: 'password_again', message: 'Type the same new password twice.' }],
      });
    }
    await api.patch(`/admins/${api.seg(me.username)}`, { old_password: oldPw.value, password: newPw.value });
    f.reset();
    notify('Your password was changed.');
  }, { class: 'narrow' });
  const facts = [
    ['Username', me.username],
    ['Role', me.role === 'global' ? 'global admin' : 'domain admin'],
    ['Domains', me.domains.length ? me.domains.join(', ') : (me.role === 'global' ? 'all' : 'none')],
    ['Logged in with', me.auth === 'jwt' ? 'password (session token)' : 'API key'],
  ];
  return h('div', { class: 'view' },
    h('h1', {}, 'My account'),
    h('section', { class: 'card' },
      h('dl', { class: 'summary' }, facts.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))))),
    h('section', { class: 'card' }, h('h2', {}, 'Change password'), form));
}
