// Street admin (and staff): the duties in force for the street, i.e. those it may declare in X-Purpose.
import { html } from '../../lib/html.js';
import { t } from '../../lib/i18n.js';
import { useQuery } from '../../lib/use-query.js';
import { ErrorBox, Loading, Street } from '../../components/common.js';

const QUERY = /* GraphQL */ `query ConsoleStreetDuties { me { street duties { id title delegatedBy } } }`;

export function StreetDuties() {
  const { data, error, loading } = useQuery(QUERY, {});
  return html`<section class="view" data-view="street-duties">
    <h1>${t('view.streetDuties')}</h1>
    ${data?.me.street ? html`<p>${t('street.ofStreet')} <${Street} code=${data.me.street} /></p>` : null}
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    ${data
      ? data.me.duties.length === 0
        ? html`<p class="empty">${t('street.noDuties')}</p>`
        : html`<table class="data" data-test="duties">
            <thead><tr><th>${t('common.duty')}</th><th>${t('common.title')}</th><th>${t('common.delegatedBy')}</th></tr></thead>
            <tbody>${data.me.duties.map((d) => html`<tr><td><code>${d.id}</code></td><td>${d.title}</td><td>${d.delegatedBy}</td></tr>`)}</tbody>
          </table>`
      : null}
  </section>`;
}
