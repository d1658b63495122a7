// Street admin: the street's access requests and their states; one request in full, cancellable
// while it waits.
import { html, useState } from '../../lib/html.js';
import { t } from '../../lib/i18n.js';
import { graphql } from '../../lib/api.js';
import { hrefOf } from '../../lib/router.js';
import { useQuery } from '../../lib/use-query.js';
import { ErrorBox, FilterForm, Loading, Outcome, Pager } from '../../components/common.js';
import { AccessRequestCard } from '../../components/access-request-card.js';
import { ACCESS_REQUEST_CHANGES, ACCESS_REQUEST_FIELDS } from '../../lib/admission-fragments.js';

export const REQUEST_STATES = ['PENDING', 'APPROVED', 'REJECTED', 'CANCELLED'];
export const DATASETS = ['population', 'housing', 'social_security'];

const LIST = /* GraphQL */ `
  query ConsoleAccessRequests($state: AccessRequestState, $dataset: String, $first: Int, $after: String) {
    accessRequests(state: $state, dataset: $dataset, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { ${ACCESS_REQUEST_FIELDS} } }
    }
  }
`;
const ONE = /* GraphQL */ `query ConsoleAccessRequest($id: ID!) { accessRequest(id: $id) { ${ACCESS_REQUEST_FIELDS} ${ACCESS_REQUEST_CHANGES} } }`;
const CANCEL = /* GraphQL */ `mutation ConsoleCancelAccessRequest($id: ID!, $reason: String!) { cancelAccessRequest(id: $id, reason: $reason) { id state } }`;

export function requestFilters(params) {
  return [
    { name: 'state', label: t('common.state'), type: 'select', options: REQUEST_STATES.map((s) => [s, t(`state.${s}`)]) },
    { name: 'dataset', label: t('common.dataset'), type: 'select', options: DATASETS.map((d) => [d, t(`dataset.${d}`)]) },
  ];
}

export function StreetRequests({ params }) {
  const { data, error, loading } = useQuery(LIST, {
    state: params.get('state') || undefined,
    dataset: params.get('dataset') || undefined,
    first: 20,
    after: params.get('after') || undefined,
  });
  const connection = data?.accessRequests;
  return html`<section class="view" data-view="street-requests">
    <h1>${t('view.streetRequests')}</h1>
    <p><a class="button" href="/console/street/requests/new">${t('view.streetRequestNew')}</a></p>
    <${FilterForm} params=${params} fields=${requestFilters(params)} />
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    ${connection
      ? html`${connection.edges.length === 0 ? html`<p class="empty">${t('common.none')}</p>` : null}
          <div class="cards">
            ${connection.edges.map(({ node }) => html`<${AccessRequestCard} request=${node} href=${`/console/street/requests/${encodeURIComponent(node.id)}`} />`)}
          </div>
          <${Pager} pageInfo=${connection.pageInfo} totalCount=${connection.totalCount} shown=${connection.edges.length} params=${params} />`
      : null}
  </section>`;
}

export function StreetRequest({ match }) {
  const { data, error, loading, reload } = useQuery(ONE, { id: match.id });
  const [reason, setReason] = useState('');
  const [outcome, setOutcome] = useState({});
  const request = data?.accessRequest;
  const cancel = async (event) => {
    event.preventDefault();
    try {
      await graphql(CANCEL, { id: match.id, reason });
      setOutcome({ done: t('request.cancelled') });
      reload();
    } catch (error) {
      setOutcome({ error });
    }
  };
  return html`<section class="view" data-view="street-request">
    <h1>${t('view.streetRequest')}</h1>
    <p><a href=${hrefOf('/console/street/requests')}>← ${t('view.streetRequests')}</a></p>
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    ${!loading && !error && !request ? html`<p class="empty">${t('common.notFound')}</p>` : null}
    ${request
      ? html`<${AccessRequestCard} request=${request}>
          ${request.state === 'PENDING'
            ? html`<form class="inline-form" onSubmit=${cancel}>
                <label><span>${t('common.reason')}</span><input name="reason" required value=${reason} onInput=${(e) => setReason(e.currentTarget.value)} /></label>
                <button type="submit" class="danger">${t('request.cancel')}</button>
              </form>`
            : null}
          <${Outcome} error=${outcome.error} done=${outcome.done} />
        </${AccessRequestCard}>`
      : null}
  </section>`;
}
