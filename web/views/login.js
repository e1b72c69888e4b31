// Login page: POST /api/v1/auth/token, then GET /me.

import * as api from '../api.js';
import { h, field, makeForm, val } from '../dom.js';
import { state, navigate, takeReturnTo } from '../state.js';

export function loginView() {
  const username = h('input', {
    type: 'text', name: 'username', autocomplete: 'username', required: true,
    autocapitalize: 'none', spellcheck: false, 'data-autofocus': true,
  });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const notice = state.notice ? h('p', { class: 'notice', role: 'status' }, state.notice) : null;
  state.notice = '';
  const form = makeForm([
    field('Username', username),
    field('Password', password),
  ], 'Log in', async (f) => {
    await api.login(val(f, 'username'), f.elements.password.value);
    state.me = await api.get('/me');
    password.value = '';
    navigate(takeReturnTo());
  }, { class: 'login-form', 'aria-labelledby': 'login-title' });
  const el = h('section', { class: 'login card' },
    h('h1', { id: 'login-title' }, 'Log in to ownmail'),
    notice,
    form);
  return el;
}
