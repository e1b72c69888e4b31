// End-to-end test of the admin UI (web/) against the real stack: serve_stack.py
// starts Redis and ownmail-api (serving web/), Debian's Chromium is driven by
// playwright-core. Run by run.sh (or `node --test admin_ui.test.mjs`).
//
// Environment: OWNMAIL_BIN_DIR, OWNMAIL_SOURCE_DIR (passed on to the stack),
// CHROMIUM (default /usr/bin/chromium), OWNMAIL_UI_SCREENSHOT (default /tmp/ownmail-ui.png).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT = process.env.OWNMAIL_UI_SCREENSHOT || '/tmp/ownmail-ui.png';
const STACK_START_MS = 60_000;
const TOKEN_TTL_S = 60;
const RECOVERY_RE = /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){7}$/;
const SUFFIX = `${process.pid % 100000}`;
const DOMAIN = `shop${SUFFIX}.example`;
const XSS_DOMAIN = `xss${SUFFIX}.example`;
const XSS_TEXT = '<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2</script>';

let stack = null;
let stackExit = null;
let info = null;
let browser = null;
let page = null;
let firstToken = null;
const pageErrors = [];
const jsDialogs = [];

/** Starts serve_stack.py and reads its JSON line. */
async function startStack() {
  // A 60 s token lifetime makes the UI refresh its token during the run.
  stack = spawn('/usr/bin/python3', [join(HERE, 'serve_stack.py'), `api.jwt_ttl=${TOKEN_TTL_S}`], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  stackExit = once(stack, 'exit');
  const lines = createInterface({ input: stack.stdout });
  const first = new Promise((resolve, reject) => {
    lines.once('line', resolve);
    stack.once('exit', (code) => reject(new Error(`serve_stack.py exited with ${code} before it was ready`)));
  });
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('serve_stack.py did not start in time')), STACK_START_MS);
  });
  try {
    return JSON.parse(await Promise.race([first, timeout]));
  } finally {
    clearTimeout(timer);
  }
}

/** The API called from the page with the page's own session token. */
function apiFromPage(method, path, body) {
  return page.evaluate(async ([m, p, b]) => {
    const headers = { Authorization: `Bearer ${sessionStorage.getItem('ownmail.token')}` };
    if (b !== null) headers['Content-Type'] = 'application/json';
    const r = await fetch(`/api/v1${p}`, { method: m, headers, body: b === null ? undefined : JSON.stringify(b) });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  }, [method, path, body ?? null]);
}

const alertBox = () => page.locator('.error-box:visible');
const row = (text) => page.locator('table.data tbody tr', { hasText: text });

before(async () => {
  info = await startStack();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: info.url });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (msg) => {
    // Chromium logs every 4xx answer as "Failed to load resource"; those are expected here.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) pageErrors.push(msg.text());
  });
  page.on('dialog', (d) => { jsDialogs.push(d.message()); d.dismiss().catch(() => {}); });
});

after(async () => {
  await browser?.close();
  if (stack) {
    stack.stdin.end();
    const [code] = await stackExit;
    assert.equal(code, 0, 'the stack (ownmail-api) did not stop cleanly');
  }
});

test('logs in and keeps the token in sessionStorage only', async () => {
  await page.goto(`${info.url}/`);
  await page.getByRole('heading', { name: 'Log in to ownmail' }).waitFor();
  await page.getByLabel('Username').fill(info.user);
  await page.getByLabel('Password').fill(info.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Domains', level: 1 }).waitFor();
  const storage = await page.evaluate(() => ({
    session: sessionStorage.getItem('ownmail.token'),
    local: localStorage.length,
  }));
  assert.match(storage.session, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  firstToken = storage.session;
  assert.equal(storage.local, 0);
  await page.getByRole('link', { name: info.user, exact: true }).waitFor();
});

test('a bad domain name shows the server\'s validation message', async () => {
  const bad = 'bad_name..example';
  await page.getByLabel('Domain name').fill(bad);
  await page.getByRole('button', { name: 'Create domain' }).click();
  await alertBox().waitFor();
  const shown = await alertBox().innerText();
  const expected = await apiFromPage('POST', '/domains', { name: bad, enabled: true });
  assert.equal(expected.status, 422);
  assert.ok(shown.includes(expected.body.detail), `alert "${shown}" lacks "${expected.body.detail}"`);
  for (const e of expected.body.errors) assert.ok(shown.includes(e.message), `alert lacks "${e.message}"`);
  assert.equal(await page.getByLabel('Domain name').getAttribute('aria-invalid'), 'true');
});

test('creates a domain', async () => {
  await page.getByLabel('Domain name').fill(DOMAIN);
  await page.getByLabel('Description').fill('Main shop domain');
  await page.getByRole('button', { name: 'Create domain' }).click();
  await page.getByRole('heading', { name: DOMAIN, level: 1 }).waitFor();
  assert.equal(await page.getByRole('tab', { name: 'Users' }).getAttribute('aria-selected'), 'true');
  assert.ok(page.url().endsWith(`#/domains/${DOMAIN}/users`) || page.url().endsWith(`#/domains/${DOMAIN}`));
});

test('creates a user and shows the generated password and recovery key once', async () => {
  await page.getByLabel('Local part').fill('alice');
  await page.getByLabel('Display name').fill('Alice Example');
  await page.getByRole('button', { name: 'Create user' }).click();
  const dialog = page.getByRole('dialog', { name: `User alice@${DOMAIN} created` });
  await dialog.waitFor();
  const recovery = (await dialog.locator('[data-secret="recovery_key"]').innerText()).trim();
  const password = (await dialog.locator('[data-secret="password"]').innerText()).trim();
  assert.match(recovery, RECOVERY_RE);
  assert.ok(password.length >= 10, 'a generated password is shown');
  assert.match(await dialog.innerText(), /Shown only once/);
  assert.match(await dialog.innerText(), /nobody .* can recover/);
  // The copy button puts the key on the clipboard.
  await dialog.getByRole('button', { name: 'Copy Recovery key' }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), recovery);
  // Closing needs the acknowledgement.
  const done = dialog.getByRole('button', { name: 'Done' });
  assert.equal(await done.isDisabled(), true);
  await dialog.getByLabel('I have stored this in a safe place').check();
  await done.click();
  await dialog.waitFor({ state: 'detached' });
  await row(`alice@${DOMAIN}`).waitFor();
  // The key shown is the real one: it resets the password.
  const reset = await apiFromPage('POST', `/domains/${DOMAIN}/users/alice/password/reset`,
    { recovery_key: recovery, new_password: 'a new long password 1' });
  assert.equal(reset.status, 204);
});

test('creates an alias', async () => {
  await page.getByRole('tab', { name: 'Aliases' }).click();
  await page.getByRole('heading', { name: 'Add an alias' }).waitFor();
  await page.getByLabel('Local part').fill('info');
  await page.getByLabel('Targets').fill(`alice@${DOMAIN}`);
  await page.getByRole('button', { name: 'Create alias' }).click();
  const r = row(`info@${DOMAIN}`);
  await r.waitFor();
  assert.match(await r.innerText(), new RegExp(`alice@${DOMAIN.replace(/\./g, '\\.')}`));
  assert.ok(page.url().endsWith(`#/domains/${DOMAIN}/aliases`));
});

test('creates a DKIM key', async () => {
  await page.getByRole('tab', { name: 'DKIM keys' }).click();
  await page.getByLabel('Algorithm').selectOption('ed25519');
  await page.getByRole('button', { name: 'Generate key' }).click();
  const r = row('ed25519');
  await r.waitFor();
  assert.match(await r.innerText(), /active/);
  assert.match(await r.innerText(), /_domainkey/);
});

test('shows the DNS records with the MX row', async () => {
  await page.getByRole('tab', { name: 'DNS records' }).click();
  const mx = page.locator('table.data tbody tr[data-type="MX"]');
  await mx.waitFor();
  const text = await mx.innerText();
  assert.ok(text.includes(`${DOMAIN}.`), text);
  assert.match(text, /mail\.test\.example\./);
  await page.locator('tr[data-purpose="dkim"]').first().waitFor();
  await page.getByRole('button', { name: 'Copy all records as a zone file' }).click();
  const zone = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(zone, new RegExp(`^${DOMAIN.replace(/\./g, '\\.')}\\.\\t\\d+\\tIN\\tMX\\t`, 'm'));
  assert.match(zone, /\tIN\tTXT\t"v=spf1 [^"]*"$/m, 'TXT data is quoted in the zone file');
});

test('deletes the alias after a confirmation', async () => {
  await page.getByRole('tab', { name: 'Aliases' }).click();
  await row(`info@${DOMAIN}`).waitFor();
  await page.getByRole('button', { name: `Delete info@${DOMAIN}` }).click();
  const confirm = page.getByRole('alertdialog', { name: `Delete info@${DOMAIN}?` });
  await confirm.getByRole('button', { name: 'Delete' }).click();
  await row(`info@${DOMAIN}`).waitFor({ state: 'detached' });
  await page.getByText('No aliases yet.').waitFor();
  const left = await apiFromPage('GET', `/domains/${DOMAIN}/aliases/info`);
  assert.equal(left.status, 404);
});

test('the domain page looks right (screenshot)', async () => {
  await page.getByRole('tab', { name: 'Users' }).click();
  await row(`alice@${DOMAIN}`).waitFor();
  await page.locator('#status').waitFor({ state: 'hidden' }); // the "deleted" message fades
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
});

test('markup in a description is shown as text, never run', async () => {
  await page.goto(`${info.url}/#/domains`);
  await page.getByRole('heading', { name: 'Domains', level: 1 }).waitFor();
  await page.getByLabel('Domain name').fill(XSS_DOMAIN);
  await page.getByLabel('Description').fill(XSS_TEXT);
  await page.getByRole('button', { name: 'Create domain' }).click();
  await page.getByRole('heading', { name: XSS_DOMAIN, level: 1 }).waitFor();
  await page.getByText(XSS_TEXT, { exact: true }).waitFor();
  await page.goto(`${info.url}/#/domains`);
  await row(XSS_DOMAIN).waitFor();
  assert.ok((await row(XSS_DOMAIN).innerText()).includes(XSS_TEXT));
  const injected = await page.evaluate(() => ({
    xss: window.__xss,
    nodes: document.querySelectorAll('main img, main script').length,
  }));
  assert.deepEqual(injected, { xss: undefined, nodes: 0 });
  assert.deepEqual(jsDialogs, []);
});

test('refreshes the token before it expires', async () => {
  // Lifetime 60 s: the UI refreshes half-way, 30 s after the login.
  await page.waitForFunction((old) => {
    const t = sessionStorage.getItem('ownmail.token');
    return t && t !== old;
  }, firstToken, { timeout: (TOKEN_TTL_S + 15) * 1000 });
  const me = await apiFromPage('GET', '/me');
  assert.equal(me.status, 200);
  assert.equal(me.body.username, info.user);
});

test('a lost session goes back to the login page and returns after login', async () => {
  await page.goto(`${info.url}/#/api-keys`);
  await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
  await page.evaluate(() => sessionStorage.setItem('ownmail.token', 'x.y.z'));
  await page.getByRole('link', { name: 'Admins' }).click();
  await page.getByRole('heading', { name: 'Log in to ownmail' }).waitFor();
  await page.getByText('Your session has ended. Please log in again.').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('ownmail.token')), null);
  await page.getByLabel('Username').fill(info.user);
  await page.getByLabel('Password').fill(info.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Admins', level: 1 }).waitFor();
});

test('the page raised no script errors', () => {
  assert.deepEqual(pageErrors, []);
});
