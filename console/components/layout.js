// Every signed-in page: who you are, your role's views, the language switch, GraphiQL and sign-out.
import { html, useEffect } from '../lib/html.js';
import { t } from '../lib/i18n.js';
import { navigate } from '../lib/router.js';
import { signOut } from '../lib/session.js';
import { viewsFor } from '../views/index.js';
import { LanguageSwitch } from './language-switch.js';
import { EmergencyBanner } from './emergency-banner.js';
import { clearEmergencySession } from '../lib/emergency-session.js';

export function Layout({ claims, route, title, onLanguage, children }) {
  const views = viewsFor(claims.roles).filter((v) => v.nav);
  useEffect(() => {
    document.title = title ? `${title} · ${t('app.name')}` : t('app.name');
  }, [title]);
  const groups = [];
  for (const view of views) {
    let group = groups.find((g) => g.name === view.group);
    if (!group) groups.push((group = { name: view.group, views: [] }));
    group.views.push(view);
  }
  return html`<div class="shell">
    <header class="topbar">
      <a class="brand" href="/console">${t('app.name')}</a>
      <span class="who" data-test="who">
        <span class="sub">${claims.sub}</span>
        <span class="org">${claims.org}</span>
        <span class="roles">${claims.roles.map((r) => t(`role.${r}`)).join(' · ')}</span>
      </span>
      <${LanguageSwitch} onChange=${onLanguage} />
      <a class="graphiql" href="/graphql">GraphiQL</a>
      <button
        type="button"
        class="secondary"
        data-test="sign-out"
        onClick=${() => {
          signOut();
          clearEmergencySession();
          navigate('/console/sign-in');
        }}
      >
        ${t('common.signOut')}
      </button>
    </header>
    <nav class="sidebar" aria-label=${t('common.views')}>
      ${groups.map(
        (g) => html`<div class="nav-group">
          <h2>${t(`role.${g.name}`)}</h2>
          <ul>
            ${g.views.map(
              (v) => html`<li>
                <a href=${v.path} data-view-link=${v.id} aria-current=${route.path === v.path || route.path.startsWith(v.path + '/') ? 'page' : undefined}
                  >${t(v.title)}</a
                >
              </li>`,
            )}
          </ul>
        </div>`,
      )}
    </nav>
    <main class="content"><${EmergencyBanner} claims=${claims} />${children}</main>
  </div>`;
}
