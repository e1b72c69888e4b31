// Session state shared by the router and the views.

/** `me` is GET /api/v1/me of the logged-in admin; `notice` is shown once on the login page. */
export const state = { me: null, notice: '', returnTo: '' };

export const isGlobal = () => state.me?.role === 'global';

/** Goes to a route; re-renders when the hash is already the same. */
export function navigate(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

/** Where to go after logging in: the page the admin was sent away from, else the domains. */
export function takeReturnTo() {
  const to = state.returnTo && !state.returnTo.startsWith('#/login') ? state.returnTo : '#/domains';
  state.returnTo = '';
  return to;
}
