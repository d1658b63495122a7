// Every view has its own URL under /console, with its filters and paging in the query string, so a
// view can be bookmarked and shared. Links inside the console change the URL without a page load.
import { useEffect, useState } from './html.js';

const EVENT = 'lianqiao:navigate';

export function currentRoute() {
  return { path: location.pathname.replace(/\/+$/, '') || '/console', params: new URLSearchParams(location.search) };
}

/** `/console/x` with the non-empty params as its query string. */
export function hrefOf(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') query.set(key, String(value));
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export function navigate(href, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  window.dispatchEvent(new Event(EVENT));
  window.scrollTo(0, 0);
}

/** Replaces some query parameters of the current view (e.g. a new filter, the next page). */
export function setParams(patch) {
  const { path, params } = currentRoute();
  const next = Object.fromEntries(params.entries());
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined || value === null || value === '') delete next[key];
    else next[key] = String(value);
  }
  navigate(hrefOf(path, next));
}

/** The current route, re-rendering on every navigation (links, back and forward). */
export function useRoute() {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    window.addEventListener('popstate', update);
    window.addEventListener(EVENT, update);
    // A navigation made during the first render (a redirect) happened before this listener existed.
    update();
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(EVENT, update);
    };
  }, []);
  return route;
}

/** Same-origin links to the console are followed in place; others (GraphiQL, downloads) as usual. */
export function interceptLinks() {
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target.closest?.('a[href]');
    if (!link || link.target || link.hasAttribute('download')) return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || !(url.pathname === '/console' || url.pathname.startsWith('/console/'))) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
}

/** Matches `/console/owner/requests/:id` against a path; returns the named parts or null. */
export function matchPath(pattern, path) {
  const a = pattern.split('/');
  const b = path.split('/');
  if (a.length !== b.length) return null;
  const named = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith(':')) named[a[i].slice(1)] = decodeURIComponent(b[i]);
    else if (a[i] !== b[i]) return null;
  }
  return named;
}
