// The console's entry point: who is signed in, which views their roles have, and which one the URL names.
import { html, render, useEffect, useState } from './lib/html.js';
import { interceptLinks, matchPath, navigate, useRoute, hrefOf } from './lib/router.js';
import { claimsOf, signOut, token } from './lib/session.js';
import { onUnauthenticated } from './lib/api.js';
import { t } from './lib/i18n.js';
import { Layout } from './components/layout.js';
import { SignIn } from './views/sign-in.js';
import { VIEWS, viewsFor } from './views/index.js';

/** Replaces the current URL once rendered (a redirect that keeps the history clean). */
function Redirect({ to }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function homeOf(roles) {
  return viewsFor(roles).find((v) => v.nav)?.path ?? '/console/none';
}

function App() {
  const route = useRoute();
  const [, setLanguageTick] = useState(0);
  const current = token();
  const claims = current ? claimsOf(current) : null;

  useEffect(
    () =>
      onUnauthenticated(() => {
        signOut();
        navigate(hrefOf('/console/sign-in', { expired: '1' }), { replace: true });
      }),
    [],
  );

  const onLanguage = () => setLanguageTick((n) => n + 1);

  if (route.path === '/console/sign-in') return html`<${SignIn} params=${route.params} onLanguage=${onLanguage} />`;
  if (!claims) {
    const next = route.path === '/console' ? '' : route.path + (route.params.toString() ? `?${route.params}` : '');
    return html`<${Redirect} to=${hrefOf('/console/sign-in', { next })} />`;
  }
  if (route.path === '/console') return html`<${Redirect} to=${homeOf(claims.roles)} />`;

  let match = null;
  let view = null;
  for (const candidate of VIEWS) {
    match = matchPath(candidate.path, route.path);
    if (match) {
      view = candidate;
      break;
    }
  }
  const allowed = view && view.roles.some((r) => claims.roles.includes(r));
  let body;
  if (!view) body = html`<section class="view"><h1>${t('common.notFound')}</h1><p><a href="/console">${t('common.home')}</a></p></section>`;
  else if (!allowed)
    // The gateway would refuse these calls anyway; the console does not even make them.
    body = html`<section class="view" data-view="not-for-role"><h1>${t('common.notForRole')}</h1><p>${t('common.notForRoleText')}</p></section>`;
  else {
    const View = view.component;
    body = html`<${View} key=${route.path} params=${route.params} match=${match} claims=${claims} />`;
  }
  return html`<${Layout} claims=${claims} route=${route} onLanguage=${onLanguage} title=${view && allowed ? t(view.title) : ''}>${body}</${Layout}>`;
}

interceptLinks();
const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
