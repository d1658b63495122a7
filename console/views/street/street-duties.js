// Street admin (and staff): the duties in force for the street, i.e. those it may declare in
// X-Purpose, with the delegation (legal basis, period) that put each in force.
import { html } from '../../lib/html.js';
import { t, formatTime } from '../../lib/i18n.js';
import { ErrorBox, Loading, Street } from '../../components/common.js';
import { useDutiesInForce } from './duties-in-force.js';

export function StreetDuties() {
  const { me, duties, error, loading } = useDutiesInForce();
  return html`<section class="view" data-view="street-duties">
    <h1>${t('view.streetDuties')}</h1>
    ${me?.street ? html`<p>${t('street.ofStreet')} <${Street} code=${me.street} /></p>` : null}
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    ${me && !loading
      ? duties.length === 0
        ? html`<p class="empty">${t('street.noDuties')}</p>`
        : html`<table class="data" data-test="duties">
            <thead><tr><th>${t('common.duty')}</th><th>${t('common.title')}</th><th>${t('common.delegatedBy')}</th><th>${t('common.legalBasis')}</th><th>${t('common.validUntil')}</th></tr></thead>
            <tbody>
              ${duties.map(
                (d) => html`<tr data-duty=${d.id}>
                  <td><code>${d.id}</code></td><td>${d.title}</td><td>${d.delegatedBy}</td>
                  <td>${d.delegations.length === 0 ? html`<span class="hint">${t('street.standingDuty')}</span>` : d.delegations.map((b) => html`<div>${b.legalBasis}</div>`)}</td>
                  <td>${d.delegations.map((b) => html`<div>${formatTime(b.validUntil)}</div>`)}</td>
                </tr>`,
              )}
            </tbody>
          </table>`
      : null}
  </section>`;
}
