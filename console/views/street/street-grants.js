// Street admin (and staff): the street's grants as a field table (full / masked / not granted) per
// duty in force, and the grants themselves with their row conditions and end dates.
import { html } from '../../lib/html.js';
import { t, formatTime } from '../../lib/i18n.js';
import { useQuery } from '../../lib/use-query.js';
import { ErrorBox, Loading } from '../../components/common.js';
import { FieldAccessTable } from './field-access-table.js';
import { RowCondition } from '../owner/row-condition.js';
import { GrantOrigin } from '../owner/owner-grants.js';
import { EmergencyClause } from '../../components/access-request-card.js';
import { useDutiesInForce } from './duties-in-force.js';

const QUERY = /* GraphQL */ `
  query ConsoleStreetGrants { me { org street grants { id dataset duty fields { field access } emergency { fields { field access } maxMinutes } rows validUntil origin fromFiles document request { id } approvedBy } } }
`;

export function StreetGrants() {
  const { data, error, loading } = useQuery(QUERY, {});
  const inForce = useDutiesInForce();
  const me = data?.me;
  return html`<section class="view" data-view="street-grants">
    <h1>${t('view.streetGrants')}</h1>
    <p class="hint">${t('street.grantsIntro')}</p>
    <${ErrorBox} error=${error ?? inForce.error} />
    ${loading || inForce.loading ? html`<${Loading} />` : null}
    ${me && !inForce.loading ? html`<${FieldAccessTable} org=${me.org} duties=${inForce.duties.map((d) => d.id)} />` : null}
    ${me
      ? html`<h2>${t('street.grantList')}</h2>
          <table class="data" data-test="street-grant-list">
            <thead><tr><th>${t('common.grant')}</th><th>${t('common.dataset')}</th><th>${t('common.duty')}</th><th>${t('clause.title')}</th><th>${t('common.rows')}</th><th>${t('common.validUntil')}</th><th>${t('common.origin')}</th></tr></thead>
            <tbody>
              ${me.grants.map(
                (g) => html`<tr data-grant=${g.id}>
                  <td><code>${g.id}</code></td><td>${g.dataset}</td><td>${g.duty}</td><td><${EmergencyClause} clause=${g.emergency} /></td><td><${RowCondition} json=${g.rows} /></td>
                  <td>${g.validUntil ? formatTime(g.validUntil) : t('common.noEnd')}</td><td><${GrantOrigin} grant=${g} /></td>
                </tr>`,
              )}
            </tbody>
          </table>`
      : null}
  </section>`;
}
