// Data owner: requests for the department's datasets (pending first), each with what it would
// change; one request's review: approve as asked or narrowed (fewer fields, MASKED for FULL, an
// earlier end, a stricter row condition, an emergency clause with fewer fields or minutes, or
// none), or reject, always with a reason.
import { html, useState } from '../../lib/html.js';
import { t } from '../../lib/i18n.js';
import { graphql } from '../../lib/api.js';
import { hrefOf } from '../../lib/router.js';
import { useQuery } from '../../lib/use-query.js';
import { ErrorBox, FilterForm, Loading, Outcome, Pager } from '../../components/common.js';
import { AccessRequestCard } from '../../components/access-request-card.js';
import { ACCESS_REQUEST_CHANGES, ACCESS_REQUEST_FIELDS } from '../../lib/admission-fragments.js';
import { requestFilters } from '../street/street-requests.js';

const LIST = /* GraphQL */ `
  query ConsoleOwnerRequests($state: AccessRequestState, $dataset: String, $first: Int, $after: String) {
    accessRequests(state: $state, dataset: $dataset, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { ${ACCESS_REQUEST_FIELDS} ${ACCESS_REQUEST_CHANGES} } }
    }
  }
`;
const ONE = /* GraphQL */ `query ConsoleOwnerRequest($id: ID!) { accessRequest(id: $id) { ${ACCESS_REQUEST_FIELDS} ${ACCESS_REQUEST_CHANGES} } }`;
const REVIEW = /* GraphQL */ `
  mutation ConsoleReviewAccessRequest($id: ID!, $decision: AccessRequestDecision!, $fields: [RequestedFieldInput!], $rows: String, $validUntil: String,
    $emergency: RequestedEmergencyInput, $dropEmergency: Boolean, $reason: String!) {
    reviewAccessRequest(id: $id, decision: $decision, fields: $fields, rows: $rows, validUntil: $validUntil,
      emergency: $emergency, dropEmergency: $dropEmergency, reason: $reason) { id state grant { id } }
  }
`;

export function OwnerRequests({ params }) {
  const state = params.has('state') ? params.get('state') || undefined : 'PENDING';
  const { data, error, loading } = useQuery(LIST, { state, dataset: params.get('dataset') || undefined, first: 20, after: params.get('after') || undefined });
  const connection = data?.accessRequests;
  return html`<section class="view" data-view="owner-requests">
    <h1>${t('view.ownerRequests')}</h1>
    <${FilterForm} params=${new URLSearchParams({ ...Object.fromEntries(params), state: state ?? '' })} fields=${requestFilters(params)} />
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    ${connection
      ? html`${connection.edges.length === 0 ? html`<p class="empty">${t('common.none')}</p>` : null}
          <div class="cards">
            ${connection.edges.map(
              ({ node }) => html`<${AccessRequestCard} request=${node} href=${`/console/owner/requests/${encodeURIComponent(node.id)}`}>
                ${node.state === 'PENDING' ? html`<a class="button" href=${`/console/owner/requests/${encodeURIComponent(node.id)}`} data-test="review">${t('request.review')}</a>` : null}
              </${AccessRequestCard}>`,
            )}
          </div>
          <${Pager} pageInfo=${connection.pageInfo} totalCount=${connection.totalCount} shown=${connection.edges.length} params=${params} />`
      : null}
  </section>`;
}

/** The city day (+08:00) an exclusive end instant falls in, as a date input shows it. */
function cityDayOfEnd(instant) {
  const ms = Date.parse(instant ?? '');
  return Number.isNaN(ms) ? '' : new Date(ms - 1 + 8 * 3_600_000).toISOString().slice(0, 10);
}

function ReviewForm({ request, onDone }) {
  const [fields, setFields] = useState(() => Object.fromEntries(request.fields.map((f) => [f.field, String(f.access).toUpperCase()])));
  const [rows, setRows] = useState(request.rows ?? '');
  const [validUntil, setValidUntil] = useState(cityDayOfEnd(request.validUntil));
  const [emergency, setEmergency] = useState(() => Object.fromEntries((request.emergency?.fields ?? []).map((f) => [f.field, String(f.access).toUpperCase()])));
  const [emergencyMinutes, setEmergencyMinutes] = useState(String(request.emergency?.maxMinutes ?? ''));
  const [reason, setReason] = useState('');
  const [outcome, setOutcome] = useState({});
  const review = async (decision) => {
    if (!reason.trim()) {
      setOutcome({ error: { code: 'BAD_USER_INPUT', message: t('review.reasonRequired') } });
      return;
    }
    const approved = Object.entries(fields)
      .filter(([, access]) => access)
      .map(([field, access]) => ({ field, access }));
    const emergencyFields = Object.entries(emergency)
      .filter(([, access]) => access)
      .map(([field, access]) => ({ field, access }));
    // Every emergency field left out: approved without the clause.
    const clause = request.emergency
      ? emergencyFields.length > 0
        ? { emergency: { fields: emergencyFields, maxMinutes: emergencyMinutes === '' ? undefined : Number(emergencyMinutes) } }
        : { dropEmergency: true }
      : {};
    const variables =
      decision === 'APPROVE'
        ? { id: request.id, decision, fields: approved, rows: rows.trim() || undefined, validUntil: validUntil || undefined, ...clause, reason }
        : { id: request.id, decision, reason };
    try {
      const data = await graphql(REVIEW, variables);
      setOutcome({ done: t(decision === 'APPROVE' ? 'review.approved' : 'review.rejected', { grant: data.reviewAccessRequest.grant?.id ?? '' }) });
      onDone();
    } catch (error) {
      setOutcome({ error });
    }
  };
  return html`<form class="form review" data-test="review-form" onSubmit=${(e) => e.preventDefault()}>
    <h3>${t('review.title')}</h3>
    <p class="hint">${t('review.narrowHint')}</p>
    <table class="data">
      <thead><tr><th>${t('common.field')}</th><th>${t('request.asked')}</th><th>${t('review.approve')}</th></tr></thead>
      <tbody>
        ${request.fields.map((f) => {
          const askedFull = String(f.access).toUpperCase() === 'FULL';
          return html`<tr data-field=${f.field}>
            <td><code>${f.field}</code></td>
            <td>${t(askedFull ? 'access.full' : 'access.masked')}</td>
            <td>
              <select name=${`approve:${f.field}`} value=${fields[f.field] ?? ''} onChange=${(e) => setFields({ ...fields, [f.field]: e.currentTarget.value })}>
                ${askedFull ? html`<option value="FULL">${t('access.full')}</option>` : null}
                <option value="MASKED">${t('access.masked')}</option>
                <option value="">${t('review.leaveOut')}</option>
              </select>
            </td>
          </tr>`;
        })}
      </tbody>
    </table>
    ${request.emergency
      ? html`<div data-test="review-emergency">
          <p class="hint">${t('review.emergencyHint')}</p>
          <table class="data">
            <thead><tr><th>${t('common.field')}</th><th>${t('request.asked')}</th><th>${t('review.approve')}</th></tr></thead>
            <tbody>
              ${request.emergency.fields.map((f) => {
                const askedFull = String(f.access).toUpperCase() === 'FULL';
                return html`<tr data-field=${f.field}>
                  <td><code>${f.field}</code></td>
                  <td>${t(askedFull ? 'access.full' : 'access.masked')}</td>
                  <td>
                    <select name=${`approve-emergency:${f.field}`} value=${emergency[f.field] ?? ''} onChange=${(e) => setEmergency({ ...emergency, [f.field]: e.currentTarget.value })}>
                      ${askedFull ? html`<option value="FULL">${t('access.full')}</option>` : null}
                      <option value="MASKED">${t('access.masked')}</option>
                      <option value="">${t('review.leaveOut')}</option>
                    </select>
                  </td>
                </tr>`;
              })}
            </tbody>
          </table>
          <label><span>${t('review.emergencyMinutes')}</span>
            <input name="emergencyMinutes" type="number" min="1" max=${request.emergency.maxMinutes} value=${emergencyMinutes} onInput=${(e) => setEmergencyMinutes(e.currentTarget.value)} /></label>
        </div>`
      : null}
    <label><span>${t('review.rows')}</span><input name="rows" value=${rows} onInput=${(e) => setRows(e.currentTarget.value)} /></label>
    <label><span>${t('common.validUntil')}</span><input name="validUntil" type="date" value=${validUntil} max=${cityDayOfEnd(request.validUntil)} onInput=${(e) => setValidUntil(e.currentTarget.value)} /></label>
    <label><span>${t('common.reason')}</span><textarea name="reason" rows="2" value=${reason} onInput=${(e) => setReason(e.currentTarget.value)}></textarea></label>
    <div class="actions">
      <button type="button" data-test="approve" onClick=${() => review('APPROVE')}>${t('review.approveButton')}</button>
      <button type="button" class="danger" data-test="reject" onClick=${() => review('REJECT')}>${t('review.rejectButton')}</button>
    </div>
    <${Outcome} error=${outcome.error} done=${outcome.done} />
  </form>`;
}

export function OwnerRequest({ match }) {
  const { data, error, loading, reload } = useQuery(ONE, { id: match.id });
  const request = data?.accessRequest;
  return html`<section class="view" data-view="owner-request">
    <h1>${t('view.ownerRequest')}</h1>
    <p><a href=${hrefOf('/console/owner/requests')}>← ${t('view.ownerRequests')}</a></p>
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    ${!loading && !error && !request ? html`<p class="empty">${t('common.notFound')}</p>` : null}
    ${request
      ? html`<${AccessRequestCard} request=${request}>
          ${request.state === 'PENDING' ? html`<${ReviewForm} request=${request} onDone=${reload} />` : null}
        </${AccessRequestCard}>`
      : null}
  </section>`;
}
