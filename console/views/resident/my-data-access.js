// Resident: who read my data, when, for which duty and case, which fields (names only, never the
// values), and whether it was an emergency read. Only the signed-in resident's own reads, newest
// first, a page at a time. Made for a phone first: one card per read, nothing wider than the screen.
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

/** Reads per page: a phone screen or two. */
const PAGE = 10;

function ReadEntry({ node, zh }) {
  return html`<li class=${node.emergency ? 'read-entry read-emergency' : 'read-entry'} data-test="read-entry" data-emergency=${node.emergency ? 'true' : 'false'}>
    <div class="read-head">
      <time datetime=${node.time}>${formatTime(node.time)}</time>
      ${node.emergency ? html`<span class="badge badge-emergency" data-test="emergency-read">${t('resident.emergency')}</span>` : null}
    </div>
    <div class="read-org">${(zh && node.organisation.nameZh) || node.organisation.name}</div>
    <div class="read-duty">${node.duty ? (zh && node.duty.titleZh) || node.duty.title : t('resident.noDuty')}</div>
    ${node.emergency ? html`<p class="read-note">${t('resident.emergencyNote')}</p>` : null}
    <dl class="read-facts">
      <dt>${t('resident.caseRef')}</dt><dd>${node.caseRef ?? '—'}</dd>
      <dt>${t('common.fields')}</dt>
      <dd><ul class="field-list">${node.fields.map((f) => html`<li><code>${f}</code></li>`)}</ul></dd>
    </dl>
  </li>`;
}

export function MyDataAccess({ params }) {
  const { data, error, loading } = useQuery(QUERY, { first: PAGE, after: params.get('after') || undefined });
  const connection = data?.myDataAccess;
  const zh = currentLanguage() === 'zh';
  return html`<section class="view resident" data-view="resident-reads">
    <h1>${t('view.residentReads')}</h1>
    <p class="hint">${t('resident.intro')}</p>
    <details class="explain" data-test="disclosure-delay">
      <summary>${t('resident.delayTitle')}</summary>
      <p>${t('resident.delayText')}</p>
    </details>
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    ${connection
      ? html`${connection.edges.length === 0 ? html`<p class="empty">${t('resident.none')}</p>` : null}
          <ol class="reads" data-test="my-data-access">
            ${connection.edges.map(({ node, cursor }) => html`<${ReadEntry} key=${cursor} node=${node} zh=${zh} />`)}
          </ol>
          <${Pager} pageInfo=${connection.pageInfo} totalCount=${connection.totalCount} shown=${connection.edges.length} params=${params} />`
      : null}
  </section>`;
}
