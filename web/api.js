// Fetch wrapper for the ownmail REST API (/api/v1 on the same origin).
// JSON in and out; the token lives in sessionStorage (gone when the tab closes),
// never in localStorage. Errors are application/problem+json (RFC 9457) and are
// thrown as ApiError carrying `detail` and the per-field `errors`.

const BASE = '/api/v1';
const TOKEN_KEY = 'ownmail.token';
const EXPIRES_KEY = 'ownmail.token_expires'; // epoch milliseconds
const LIFETIME_KEY = 'ownmail.token_lifetime'; // milliseconds
const REFRESH_AHEAD_MS = 60 * 1000; // refresh a minute before expiry (half-way for short tokens)
const MIN_REFRESH_DELAY_MS = 5 * 1000;

let refreshTimer = null;
let refreshing = null; // the in-flight refresh promise, shared by callers
let unauthorizedHandler = () => {};

/** An error answer of the API (or a network failure, status 0). */
export class ApiError extends Error {
  constructor(status, problem) {
    const p = problem || {};
    super(p.detail || p.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.type = p.type || '';
    this.title = p.title || '';
    this.detail = p.detail || '';
    this.errors = Array.isArray(p.errors) ? p.errors : [];
    this.retryAfter = null;
  }
}

/** Called (once per loss) when the session is gone: 401 unauthorized or refresh refused. */
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function hasSession() {
  const t = token();
  const exp = Number(sessionStorage.getItem(EXPIRES_KEY) || 0);
  return Boolean(t) && exp > Date.now();
}

function storeToken(answer) {
  sessionStorage.setItem(TOKEN_KEY, answer.access_token);
  sessionStorage.setItem(EXPIRES_KEY, String(Date.now() + answer.expires_in * 1000));
  sessionStorage.setItem(LIFETIME_KEY, String(answer.expires_in * 1000));
  scheduleRefresh();
}

export function clearSession() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(EXPIRES_KEY);
  sessionStorage.removeItem(LIFETIME_KEY);
  if (refreshTimer !== null) {
    clearTimeout(refreshTimer);
    refreshTimer = null;
  }
}

function msUntilRefresh() {
  const exp = Number(sessionStorage.getItem(EXPIRES_KEY) || 0);
  const lifetime = Number(sessionStorage.getItem(LIFETIME_KEY) || 0);
  return exp - Math.min(REFRESH_AHEAD_MS, lifetime / 2) - Date.now();
}

/** (Re)arms the timer that refreshes the JWT a minute before it expires. */
export function scheduleRefresh() {
  if (refreshTimer !== null) clearTimeout(refreshTimer);
  refreshTimer = null;
  if (!token()) return;
  const delay = Math.max(msUntilRefresh(), MIN_REFRESH_DELAY_MS);
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    refresh().catch((e) => {
      // A refused refresh (401) already ended the session; retry other failures.
      if (e.status !== 401 && hasSession()) scheduleRefresh();
    });
  }, delay);
}

/** POST /auth/refresh; a 401 (session too old, token revoked) ends the session. */
export function refresh() {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    try {
      const answer = await send('POST', '/auth/refresh');
      storeToken(answer);
      return answer;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

async function parseError(res) {
  const ct = res.headers.get('Content-Type') || '';
  let problem = null;
  if (ct.includes('json')) {
    try {
      problem = await res.json();
    } catch {
      problem = null;
    }
  }
  const err = new ApiError(res.status, problem);
  const ra = res.headers.get('Retry-After');
  if (ra) err.retryAfter = Number(ra);
  if (res.status === 429 && ra && !err.detail.includes(ra)) {
    err.message = `${err.message} Try again in ${ra} s.`;
  }
  return err;
}

function sessionLost() {
  clearSession();
  unauthorizedHandler();
}

async function send(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  const t = token();
  if (t && opts.auth !== false) headers.Authorization = `Bearer ${t}`;
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(BASE + path, init);
  } catch (e) {
    throw new ApiError(0, { detail: `The server cannot be reached (${e.message}).` });
  }
  if (!res.ok) {
    const err = await parseError(res);
    // "unauthorized" is a lost session; "invalid-credentials" is a wrong
    // password typed in a form and must not log the admin out.
    if (res.status === 401 && opts.auth !== false && err.type !== '/problems/invalid-credentials') {
      sessionLost();
    }
    throw err;
  }
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

/** Any request; refreshes first when the token is about to expire (timers sleep in background tabs). */
export async function request(method, path, body, opts = {}) {
  if (opts.auth !== false && token() && msUntilRefresh() <= 0) {
    try {
      await refresh();
    } catch (e) {
      if (e.status === 401) throw e;
    }
  }
  return send(method, path, body, opts);
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body);
export const patch = (path, body) => request('PATCH', path, body);
export const del = (path) => request('DELETE', path);

/** POST /auth/token; stores the JWT and arms the refresh timer. */
export async function login(username, password) {
  const answer = await send('POST', '/auth/token', { username, password }, { auth: false });
  storeToken(answer);
  return answer;
}

export function logout() {
  clearSession();
}

/** One page of a list: {items, next_cursor}. */
export function listPage(path, cursor, limit = 100) {
  const q = new URLSearchParams({ limit: String(limit) });
  if (cursor) q.set('cursor', cursor);
  return get(`${path}?${q}`);
}

/** Percent-encodes one path segment (U-labels, '/' in local parts). */
export function seg(s) {
  return encodeURIComponent(s);
}
