// Resident: who read my data, when, for which duty and case, which fields (names only), and
// whether it was an emergency read. Only the signed-in resident's own reads.
import { html } from '../../lib/html.js';
import { t, formatTime, currentLanguage } from '../../lib/i18n.js';
import { useQuery } from '../../lib/use-query.js';
import { ErrorBox, Loading, Pager } from '../../components/common.js';

const QUERY = /* GraphQL */ `
  query ConsoleMyDataAccess($first: Int, $after: String) {
    myDataAccess(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { time organisation { id name nameZh } duty { id title titleZh } caseRef fields emergency } }
    }
  }
`;

export function MyDataAccess({ params }) {
  const { data, error, loading } = useQuery(QUERY, { first: 20, after: params.get('after') || undefined });
  const connection = data?.myDataAccess;
  const zh = currentLanguage() === 'zh';
  return html`<section class="view" data-view="resident-reads">
    <h1>${t('view.residentReads')}</h1>
    <p class="hint">${t('resident.intro')}</p>
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    ${connection
      ? html`${connection.edges.length === 0 ? html`<p class="empty">${t('resident.none')}</p>` : null}
          <table class="data" data-test="my-data-access">
            <thead><tr><th>${t('audit.time')}</th><th>${t('resident.organisation')}</th><th>${t('common.duty')}</th><th>${t('resident.caseRef')}</th><th>${t('common.fields')}</th><th></th></tr></thead>
            <tbody>
              ${connection.edges.map(
                ({ node }) => html`<tr>
                  <td>${formatTime(node.time)}</td>
                  <td>${(zh && node.organisation.nameZh) || node.organisation.name}</td>
                  <td>${node.duty ? (zh && node.duty.titleZh) || node.duty.title : '—'}</td>
                  <td>${node.caseRef ?? '—'}</td>
                  <td>${node.fields.join(', ')}</td>
                  <td>${node.emergency ? html`<span class="badge badge-rejected">${t('resident.emergency')}</span>` : null}</td>
                </tr>`,
              )}
            </tbody>
          </table>
          <${Pager} pageInfo=${connection.pageInfo} totalCount=${connection.totalCount} shown=${connection.edges.length} params=${params} />`
      : null}
  </section>`;
}
