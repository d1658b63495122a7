// Street admin (and staff): the duties in force for the street, i.e. those it may declare in X-Purpose.
import { html } from '../../lib/html.js';
import { t, formatTime } from '../../lib/i18n.js';
import { useQuery } from '../../lib/use-query.js';
import { ErrorBox, Loading, Street } from '../../components/common.js';

const QUERY = /* GraphQL */ `query ConsoleStreetDuties { me { street duties { id title delegatedBy } } }`;
/** The admitted delegations that put each duty in force here: legal basis and period. */
const DELEGATIONS = /* GraphQL */ `
  query ConsoleStreetDelegations($street: ID) {
    dutyDelegations(state: ADMITTED, street: $street, first: 100) { edges { node { id duty legalBasis validFrom validUntil streets { street inForce } } } }
  }
`;

export function StreetDuties() {
  const { data, error, loading } = useQuery(QUERY, {});
  const street = data?.me.street;
  const delegations = useQuery(DELEGATIONS, { street }, { skip: !street });
  const basis = (duty) =>
    (delegations.data?.dutyDelegations.edges ?? [])
      .map((e) => e.node)
      .filter((d) => d.duty === duty && d.streets.some((s) => s.street === street && s.inForce));
  return html`<section class="view" data-view="street-duties">
    <h1>${t('view.streetDuties')}</h1>
    ${data?.me.street ? html`<p>${t('street.ofStreet')} <${Street} code=${data.me.street} /></p>` : null}
    <${ErrorBox} error=${error ?? delegations.error} />
    ${loading ? html`<${Loading} />` : null}
    ${data
      ? data.me.duties.length === 0
        ? html`<p class="empty">${t('street.noDuties')}</p>`
        : html`<table class="data" data-test="duties">
            <thead><tr><th>${t('common.duty')}</th><th>${t('common.title')}</th><th>${t('common.delegatedBy')}</th><th>${t('common.legalBasis')}</th><th>${t('common.validUntil')}</th></tr></thead>
            <tbody>
              ${data.me.duties.map(
                (d) => html`<tr data-duty=${d.id}>
                  <td><code>${d.id}</code></td><td>${d.title}</td><td>${d.delegatedBy}</td>
                  <td>${basis(d.id).map((b) => html`<div>${b.legalBasis}</div>`)}</td>
                  <td>${basis(d.id).map((b) => html`<div>${formatTime(b.validUntil)}</div>`)}</td>
                </tr>`,
              )}
            </tbody>
          </table>`
      : null}
  </section>`;
}
