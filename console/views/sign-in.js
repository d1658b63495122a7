// Sign-in with a bearer token; in the embedded demo, a picker of the demo users.
import { html, useEffect, useState } from '../lib/html.js';
import { t } from '../lib/i18n.js';
import { graphql } from '../lib/api.js';
import { claimsOf, signIn, signOut } from '../lib/session.js';
import { navigate } from '../lib/router.js';
import { ErrorBox } from '../components/common.js';
import { LanguageSwitch } from '../components/language-switch.js';

async function enter(value, next, setError) {
  const claims = claimsOf(value);
  if (!claims) {
    setError({ code: 'UNAUTHENTICATED', message: t('signIn.notAToken') });
    return;
  }
  signIn(value);
  try {
    // The gateway checks the token; the console only decoded it.
    await graphql('query ConsoleSignIn { me { sub org roles } }');
  } catch (error) {
    signOut();
    setError(error);
    return;
  }
  navigate(next && next.startsWith('/console/') ? next : '/console', { replace: true });
}

export function SignIn({ params, onLanguage }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState(null);
  const [demo, setDemo] = useState([]);
  const next = params.get('next') ?? '';
  useEffect(() => {
    document.title = t('signIn.title');
    fetch('/console/demo-users.json')
      .then((r) => (r.ok ? r.json() : { users: [] }))
      .then((body) => setDemo(body.users ?? []))
      .catch(() => setDemo([]));
  }, []);
  return html`<div class="sign-in">
    <header class="topbar">
      <span class="brand">${t('app.name')}</span>
      <${LanguageSwitch} onChange=${onLanguage} />
    </header>
    <main class="content narrow">
      <h1>${t('signIn.title')}</h1>
      <p>${t('signIn.intro')}</p>
      ${params.get('expired') ? html`<div class="notice">${t('signIn.expired')}</div>` : null}
      <${ErrorBox} error=${error} />
      ${demo.length > 0
        ? html`<section class="demo-users">
            <h2>${t('signIn.demoUsers')}</h2>
            <p>${t('signIn.demoIntro')}</p>
            <ul>
              ${demo.map((user) => {
                const claims = claimsOf(user.token);
                return html`<li>
                  <button type="button" data-demo-user=${claims?.sub} onClick=${() => enter(user.token, next, setError)}>
                    <strong>${claims ? claims.roles.map((r) => t(`role.${r}`)).join(' · ') : ''}</strong>
                    <span>${claims?.sub} · ${claims?.org}</span>
                    <small>${user.label}</small>
                  </button>
                </li>`;
              })}
            </ul>
          </section>`
        : null}
      <form
        class="token-form"
        onSubmit=${(e) => {
          e.preventDefault();
          enter(value, next, setError);
        }}
      >
        <label>
          <span>${t('signIn.token')}</span>
          <textarea name="token" rows="4" value=${value} onInput=${(e) => setValue(e.currentTarget.value)} placeholder="eyJhbGciOi…"></textarea>
        </label>
        <p class="hint">${t('signIn.tokenHint')}</p>
        <button type="submit">${t('signIn.submit')}</button>
      </form>
    </main>
  </div>`;
}
