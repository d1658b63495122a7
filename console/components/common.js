// Small pieces every view uses: loading and error states, state badges, street labels, a filter
// form whose values live in the URL, and cursor paging kept in the URL.
import { html, useEffect, useState } from '../lib/html.js';
import { t, currentLanguage } from '../lib/i18n.js';
import { setParams } from '../lib/router.js';
import { streetName } from '../lib/streets.js';

export function Loading() {
  return html`<p class="loading" role="status">${t('common.loading')}</p>`;
}

/** A gateway error, by its code (the message is the gateway's, shown as given). */
export function ErrorBox({ error }) {
  if (!error) return null;
  const code = error.code ?? 'INTERNAL_SERVER_ERROR';
  return html`<div class="error" role="alert" data-code=${code}>
    <strong>${t(`error.${code}`) === `error.${code}` ? code : t(`error.${code}`)}</strong>
    <span> ${error.message}</span>
  </div>`;
}

export function Notice({ children }) {
  return html`<div class="notice" role="status">${children}</div>`;
}

export function StateBadge({ state }) {
  if (!state) return null;
  const key = `state.${state}`;
  const label = t(key) === key ? state : t(key);
  return html`<span class=${`badge badge-${String(state).toLowerCase()}`}>${label}</span>`;
}

/** `310101002 南京东路` for a street code or `street:` org. */
export function Street({ code }) {
  const bare = String(code ?? '').replace(/^street:/, '');
  const name = streetName(bare, currentLanguage());
  return html`<span class="street">${bare}${name ? html` <small>${name}</small>` : null}</span>`;
}

export function Streets({ codes, all }) {
  if (all) return html`<span>${t('common.allStreets')}</span>`;
  return html`<span>${(codes ?? []).map((c, i) => html`${i > 0 ? ', ' : ''}<${Street} code=${c} />`)}</span>`;
}

export function Access({ access }) {
  const value = String(access ?? 'denied').toLowerCase();
  const key = value === 'full' ? 'access.full' : value === 'masked' ? 'access.masked' : value === 'aggregate' ? 'access.aggregate' : 'access.denied';
  return html`<span class=${`access access-${value === 'full' || value === 'masked' || value === 'aggregate' ? value : 'denied'}`}>${t(key)}</span>`;
}

/**
 * A filter form over the URL's query parameters: submitting it changes the URL (and so the view),
 * and starts again at the first page.
 * fields: [{ name, label, type?: 'text'|'date'|'datetime-local'|'select', options?: [[value, label]] }]
 */
export function FilterForm({ fields, params, id }) {
  const fromUrl = () => Object.fromEntries(fields.map((f) => [f.name, params.get(f.name) ?? '']));
  const [values, setValues] = useState(fromUrl);
  // Back and forward change the URL under the form: show what the URL now says.
  const key = params.toString();
  useEffect(() => setValues(fromUrl()), [key]);
  const submit = (event) => {
    event.preventDefault();
    setParams({ ...values, after: '' });
  };
  const clear = () => {
    const empty = Object.fromEntries(fields.map((f) => [f.name, '']));
    setValues(empty);
    setParams({ ...empty, after: '' });
  };
  return html`<form class="filters" id=${id} onSubmit=${submit}>
    ${fields.map(
      (f) => html`<label>
        <span>${f.label}</span>
        ${f.type === 'select'
          ? html`<select name=${f.name} value=${values[f.name]} onChange=${(e) => setValues({ ...values, [f.name]: e.currentTarget.value })}>
              <option value="">${t('common.any')}</option>
              ${f.options.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
            </select>`
          : html`<input
              name=${f.name}
              type=${f.type ?? 'text'}
              value=${values[f.name]}
              placeholder=${f.placeholder ?? ''}
              onInput=${(e) => setValues({ ...values, [f.name]: e.currentTarget.value })}
            />`}
      </label>`,
    )}
    <div class="actions">
      <button type="submit">${t('common.apply')}</button>
      <button type="button" class="secondary" onClick=${clear}>${t('common.clear')}</button>
    </div>
  </form>`;
}

/** Cursor paging: the cursor is the URL's `after`; back goes back in the browser's history. */
export function Pager({ pageInfo, totalCount, shown, params }) {
  const after = params.get('after');
  return html`<nav class="pager" aria-label=${t('common.paging')}>
    <span class="count">${t('common.shownOf', { shown, total: totalCount ?? '?' })}</span>
    ${after ? html`<button type="button" class="secondary" onClick=${() => setParams({ after: '' })}>${t('common.firstPage')}</button>` : null}
    ${after ? html`<button type="button" class="secondary" onClick=${() => history.back()}>${t('common.previousPage')}</button>` : null}
    ${pageInfo?.hasNextPage
      ? html`<button type="button" data-test="next-page" onClick=${() => setParams({ after: pageInfo.endCursor })}>${t('common.nextPage')}</button>`
      : null}
  </nav>`;
}

/** A mutation's outcome under its form: what went wrong, or what was done. */
export function Outcome({ error, done }) {
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (done) return html`<div class="success" role="status">${done}</div>`;
  return null;
}

/** The ISO date `days` from today (local calendar), for date inputs' defaults. */
export function isoDateIn(days) {
  const d = new Date(Date.now() + days * 86_400_000);
  return d.toISOString().slice(0, 10);
}
