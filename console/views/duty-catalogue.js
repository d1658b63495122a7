// Platform admin (and anyone signed in who needs it): the duty catalogue.
import { html } from '../lib/html.js';
import { t } from '../lib/i18n.js';
import { useQuery } from '../lib/use-query.js';
import { ErrorBox, Loading, Streets } from '../components/common.js';

const QUERY = /* GraphQL */ `query ConsoleDuties { duties { id title delegatedBy allStreets streets } }`;

export function DutyCatalogue() {
  const { data, error, loading } = useQuery(QUERY, {});
  return html`<section class="view" data-view="duties">
    <h1>${t('view.duties')}</h1>
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    ${data
      ? html`<table class="data" data-test="duty-catalogue">
          <thead><tr><th>${t('common.duty')}</th><th>${t('common.title')}</th><th>${t('common.delegatedBy')}</th><th>${t('common.streets')}</th></tr></thead>
          <tbody>${data.duties.map((d) => html`<tr><td><code>${d.id}</code></td><td>${d.title}</td><td>${d.delegatedBy}</td><td><${Streets} codes=${d.streets} all=${d.allStreets} /></td></tr>`)}</tbody>
        </table>`
      : null}
  </section>`;
}
