// DOM helpers. Everything is built with createElement and textContent:
// data from the server never goes through innerHTML.

import { listPage } from './api.js';

let uid = 0;
export const nextId = (prefix = 'id') => `${prefix}-${++uid}`;

const NEVER = new Set(['innerHTML', 'outerHTML', 'srcdoc']);

/**
 * h('button', {class: 'x', onclick: fn, 'aria-label': '..'}, 'text', childNode, [more])
 * Props set DOM properties (or attributes for aria-*, data-* and unknown names);
 * undefined and null are skipped. Strings among the children become text nodes.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (NEVER.has(key)) throw new Error(`h(): ${key} is not allowed`);
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'for') el.htmlFor = value;
    else if (key.startsWith('on')) {
      if (typeof value !== 'function') throw new Error(`h(): ${key} must be a function`);
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.includes('-') || !(key in el)) {
      if (value !== false) el.setAttribute(key, value === true ? '' : String(value));
    } else el[key] = value;
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// ------------------------------------------------------------------ formatting

const UNITS = [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]];

export function formatBytes(n) {
  if (!n) return 'unlimited';
  for (const [unit, size] of UNITS) {
    if (n >= size) {
      const v = n / size;
      return `${Number.isInteger(v) ? v : v.toFixed(1)} ${unit}`;
    }
  }
  return `${n} B`;
}

/** <time> showing "2026-11-25 16:00 UTC"; '—' for null. */
export function formatDate(ts) {
  if (!ts) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: ts, title: ts }, ts.replace('T', ' ').replace(/:\d\dZ$/, ' UTC'));
}

export function badge(text, kind = '') {
  return h('span', { class: `badge ${kind}`.trim() }, text);
}

export const enabledBadge = (on) => (on ? badge('enabled', 'ok') : badge('disabled', 'off'));

// ------------------------------------------------------------------ live messages

/** A short message in the page's polite live region (success feedback). */
export function notify(message) {
  const region = document.getElementById('status');
  if (!region) return;
  region.textContent = message;
  region.hidden = false;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => { region.hidden = true; }, 5000);
}

// ------------------------------------------------------------------ forms and errors

/** A labelled form control; the hint is tied to the input with aria-describedby. */
export function field(labelText, input, hint) {
  if (!input.id) input.id = nextId('f');
  const wrap = h('div', { class: 'field' }, h('label', { for: input.id }, labelText), input);
  if (hint) {
    const hintId = `${input.id}-hint`;
    wrap.append(h('p', { class: 'hint', id: hintId }, hint));
    input.setAttribute('aria-describedby', hintId);
  }
  return wrap;
}

/** A checkbox with its label after it. */
export function checkbox(labelText, props = {}) {
  const input = h('input', { type: 'checkbox', id: nextId('c'), ...props });
  input.defaultChecked = input.checked; // form.reset() returns to the initial state
  return { input, el: h('div', { class: 'field check' }, input, h('label', { for: input.id }, labelText)) };
}

export function errorBox() {
  return h('div', { class: 'error-box', role: 'alert', hidden: true });
}

/** Shows an ApiError: its detail, then each `errors[]` entry; marks the named inputs invalid. */
export function showError(box, err, form) {
  clearError(box, form);
  const detail = err.detail || err.title || err.message || 'Something went wrong.';
  box.append(h('p', { class: 'error-detail' }, detail));
  const fieldErrors = err.errors || [];
  if (fieldErrors.length) {
    box.append(h('ul', { class: 'error-list' }, fieldErrors.map((fe) =>
      h('li', {}, fe.field ? h('strong', {}, `${fe.field}: `) : null, fe.message))));
  }
  if (form) {
    for (const fe of fieldErrors) {
      const name = String(fe.field || '').replace(/\[\d+\]$/, '');
      const input = name && form.querySelector(`[name="${CSS.escape(name)}"]`);
      if (input) {
        input.setAttribute('aria-invalid', 'true');
        input.closest('.field')?.append(h('p', { class: 'field-error' }, fe.message));
      }
    }
  }
  box.hidden = false;
}

export function clearError(box, form) {
  clear(box);
  box.hidden = true;
  if (form) {
    form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
    form.querySelectorAll('.field-error').forEach((el) => el.remove());
  }
}

/** A click handler running fn(button); an ApiError it throws is shown in box. */
export const action = (box, fn) => async (ev) => {
  const btn = ev.currentTarget;
  clearError(box);
  try {
    await fn(btn);
  } catch (err) {
    showError(box, err);
    box.scrollIntoView({ block: 'nearest' });
  }
};

/**
 * A form whose submit runs onSubmit(form); errors thrown by it are shown in the
 * form's alert box. The submit button is disabled while the request runs.
 */
export function makeForm(children, submitLabel, onSubmit, props = {}) {
  const box = errorBox();
  const submit = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  const form = h('form', { novalidate: true, ...props }, box, children,
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearError(box, form);
    submit.disabled = true;
    try {
      await onSubmit(form);
    } catch (err) {
      showError(box, err, form);
    } finally {
      submit.disabled = false;
    }
  });
  form.errorBox = box;
  return form;
}

/** The trimmed value of a named control of a form. */
export const val = (form, name) => String(form.elements[name].value).trim();

/** A number input plus a unit select; value() is bytes, or undefined when empty. */
export function quotaInput(name, initial) {
  const num = h('input', { type: 'number', name, min: '0', step: 'any', inputMode: 'decimal' });
  const unit = h('select', { 'aria-label': 'Unit' },
    ['MiB', 'GiB', 'TiB'].map((u) => h('option', { value: u }, u)));
  if (initial !== undefined) {
    const [u, size] = UNITS.slice(0, 3).find(([, s]) => initial >= s && initial % s === 0) || ['MiB', 2 ** 20];
    num.value = String(initial / size);
    unit.value = u;
  }
  const wrap = h('div', { class: 'quota' }, num, unit);
  wrap.input = num;
  wrap.value = () => {
    if (num.value.trim() === '') return undefined;
    const size = UNITS.find(([u]) => u === unit.value)[1];
    return Math.round(Number(num.value) * size);
  };
  return wrap;
}

// ------------------------------------------------------------------ clipboard

export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch { /* fall through to the selection fallback */ }
  }
  const ta = h('textarea', { readOnly: true, class: 'offscreen' });
  ta.value = text;
  document.body.append(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch { ok = false; }
  ta.remove();
  return ok;
}

/** A button copying getText(); says "Copied" for a moment. */
export function copyButton(getText, label = 'Copy', accessibleName = undefined) {
  const btn = h('button', { type: 'button', class: 'copy', 'aria-label': accessibleName }, label);
  btn.addEventListener('click', async () => {
    const ok = await copyText(typeof getText === 'function' ? getText() : getText);
    btn.textContent = ok ? 'Copied' : 'Copy failed: select and copy by hand';
    notify(ok ? 'Copied to the clipboard.' : 'Could not copy; select the text and copy it by hand.');
    setTimeout(() => { btn.textContent = label; }, 2000);
  });
  return btn;
}

// ------------------------------------------------------------------ tables and paging

/** A responsive table: below 640px each row becomes a card labelled by data-label. */
export function table(columns, caption) {
  const tbody = h('tbody');
  const el = h('table', { class: 'data' },
    caption ? h('caption', { class: 'sr-only' }, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
    tbody);
  const makeRow = (cells) => h('tr', {}, cells.map((c, i) => h('td', { dataset: { label: columns[i] } }, c)));
  const addRow = (cells) => tbody.appendChild(makeRow(cells));
  return { el: h('div', { class: 'table-wrap' }, el), tbody, addRow, makeRow };
}

/**
 * A table filled from a paginated list endpoint; a "More" button follows
 * next_cursor. row(item) returns the cells. reload() starts over.
 */
export function pagedTable({ path, columns, row, empty, caption }) {
  const t = table(columns, caption);
  const box = errorBox();
  const emptyMsg = h('p', { class: 'muted empty', hidden: true }, empty || 'Nothing here yet.');
  const more = h('button', { type: 'button', class: 'more', hidden: true }, 'More');
  let cursor = null;
  let count = 0;
  async function load() {
    more.disabled = true;
    clearError(box);
    try {
      const page = await listPage(path, cursor);
      for (const item of page.items) t.addRow(row(item));
      count += page.items.length;
      cursor = page.next_cursor;
      more.hidden = !cursor;
      emptyMsg.hidden = count > 0;
      t.el.hidden = count === 0;
    } catch (err) {
      showError(box, err);
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener('click', load);
  const el = h('div', { class: 'paged' }, box, t.el, emptyMsg, more);
  const reload = () => {
    clear(t.tbody);
    cursor = null;
    count = 0;
    return load();
  };
  reload();
  /** Redraws the row holding `node` from a changed item (keeps the loaded pages). */
  const update = (node, item) => {
    const tr = node.closest('tr');
    if (!tr) return;
    const focusAt = [...tr.querySelectorAll('button, a')].indexOf(document.activeElement);
    const fresh = t.makeRow(row(item));
    tr.replaceWith(fresh);
    const again = fresh.querySelectorAll('button, a')[focusAt];
    if (focusAt >= 0 && again) again.focus();
  };
  return { el, reload, update };
}
