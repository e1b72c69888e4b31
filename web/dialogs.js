// Modal dialogs built on <dialog> (focus is trapped and restored by the browser).

import { h, nextId, copyButton, makeForm, checkbox } from './dom.js';

function openDialog(children, props = {}) {
  const titleId = nextId('dlg');
  const dlg = h('dialog', { 'aria-labelledby': titleId, ...props }, children(titleId));
  document.body.append(dlg);
  const opener = document.activeElement;
  dlg.addEventListener('close', () => {
    dlg.remove();
    if (opener && opener.isConnected) opener.focus();
  });
  dlg.showModal();
  return dlg;
}

/**
 * Asks for confirmation; resolves true or false. With typeToConfirm (a text,
 * or a list of accepted texts of which the first is shown) the confirm button
 * stays disabled until one of them is typed.
 */
export function confirmDialog({ title, message, confirmLabel = 'Delete', danger = true, typeToConfirm }) {
  return new Promise((resolve) => {
    let result = false;
    const ok = h('button', { type: 'button', class: danger ? 'danger' : 'primary' }, confirmLabel);
    const cancel = h('button', { type: 'button' }, 'Cancel');
    let typed = null;
    const accepted = [typeToConfirm || []].flat();
    if (accepted.length) {
      typed = h('input', { type: 'text', id: nextId('t'), autocomplete: 'off', spellcheck: false, autocapitalize: 'none' });
      ok.disabled = true;
      typed.addEventListener('input', () => { ok.disabled = !accepted.includes(typed.value.trim()); });
    }
    const dlg = openDialog((titleId) => [
      h('h2', { id: titleId }, title),
      (Array.isArray(message) ? message : [message]).map((m) => h('p', {}, m)),
      typed ? h('div', { class: 'field' },
        h('label', { for: typed.id }, 'Type ', h('code', {}, accepted[0]), ' to confirm'), typed) : null,
      h('div', { class: 'actions' }, cancel, ok),
    ], { class: 'confirm', role: 'alertdialog' });
    ok.addEventListener('click', () => { result = true; dlg.close(); });
    cancel.addEventListener('click', () => dlg.close());
    dlg.addEventListener('close', () => resolve(result));
    (typed || cancel).focus();
  });
}

/**
 * Shows secrets the server returns only once (generated password, recovery
 * key, API key secret). Each has a copy button; closing needs an explicit
 * "I have stored it" tick so the warning cannot be clicked away unread.
 */
export function secretDialog({ title, intro, secrets, warning }) {
  return new Promise((resolve) => {
    const ack = checkbox('I have stored this in a safe place', { name: 'ack' });
    const done = h('button', { type: 'button', class: 'primary', disabled: true }, 'Done');
    ack.input.addEventListener('change', () => { done.disabled = !ack.input.checked; });
    const dlg = openDialog((titleId) => [
      h('h2', { id: titleId }, title),
      intro ? h('p', {}, intro) : null,
      h('p', { class: 'warning', role: 'note' }, h('strong', {}, 'Shown only once. '), warning),
      h('dl', { class: 'secrets' }, secrets.map((s) => [
        h('dt', {}, s.label),
        h('dd', {},
          h('output', { class: 'secret', dataset: { secret: s.key || s.label } }, s.value),
          copyButton(s.value, 'Copy', `Copy ${s.label}`)),
      ])),
      ack.el,
      h('div', { class: 'actions' }, done),
    ], { class: 'secret-dialog' });
    // Escape must not dismiss the only copy of a secret before it was acknowledged.
    dlg.addEventListener('cancel', (ev) => { if (!ack.input.checked) ev.preventDefault(); });
    done.addEventListener('click', () => dlg.close());
    dlg.addEventListener('close', () => resolve());
    dlg.querySelector('button.copy')?.focus();
  });
}

/**
 * A form in a dialog. onSubmit(form) may throw an ApiError, which is shown in
 * the dialog; its resolved value becomes the dialog's result (null on cancel).
 */
export function formDialog({ title, fields, submitLabel = 'Save', onSubmit, intro }) {
  return new Promise((resolve) => {
    let result = null;
    let dlg = null;
    const cancel = h('button', { type: 'button' }, 'Cancel');
    const form = makeForm(fields, submitLabel, async (f) => {
      result = await onSubmit(f);
      dlg.close();
    });
    form.querySelector('.actions').prepend(cancel);
    dlg = openDialog((titleId) => [
      h('h2', { id: titleId }, title),
      intro ? h('p', {}, intro) : null,
      form,
    ]);
    cancel.addEventListener('click', () => dlg.close());
    dlg.addEventListener('close', () => resolve(result));
    form.querySelector('input, textarea, select')?.focus();
  });
}
