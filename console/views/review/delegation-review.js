// District reviewer: proposed delegations of duties to the district's streets; admit all or some of
// the streets, or reject, always with a reason.
import { html, useState } from '../../lib/html.js';
import { t, formatTime } from '../../lib/i18n.js';
import { graphql } from '../../lib/api.js';
import { useQuery } from '../../lib/use-query.js';
import { ErrorBox, FilterForm, Loading, Outcome, Pager, StateBadge, Street } from '../../components/common.js';
import { DELEGATION_FIELDS } from '../../lib/admission-fragments.js';

export const DELEGATION_STATES = ['PROPOSED', 'ADMITTED', 'REJECTED', 'WITHDRAWN', 'EXPIRED'];

export const DELEGATIONS = /* GraphQL */ `
  query ConsoleDutyDelegations($state: DelegationState, $duty: ID, $street: ID, $first: Int, $after: String) {
    dutyDelegations(state: $state, duty: $duty, street: $street, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { ${DELEGATION_FIELDS} } }
    }
  }
`;
const REVIEW = /* GraphQL */ `
  mutation ConsoleReviewDutyDelegation($id: ID!, $decision: DelegationDecision!, $streets: [ID!], $reason: String!) {
    reviewDutyDelegation(id: $id, decision: $decision, streets: $streets, reason: $reason) { id state }
  }
`;

export function DelegationSummary({ delegation: d, children }) {
  return html`<article class="card delegation" data-delegation=${d.id} data-state=${d.state}>
    <header><h2><code>${d.duty}</code> ${d.dutyTitle ?? ''} <small>${d.id}</small></h2><${StateBadge} state=${d.state} /></header>
    <dl class="details compact">
      <dt>${t('common.delegatedBy')}</dt><dd>${d.delegatedBy}</dd>
      <dt>${t('common.legalBasis')}</dt><dd>${d.legalBasis}</dd>
      <dt>${t('delegation.period')}</dt><dd>${d.validFrom ? formatTime(d.validFrom) : t('delegation.fromAdmission')} – ${formatTime(d.validUntil)}</dd>
      ${d.note ? html`<dt>${t('delegation.note')}</dt><dd>${d.note}</dd>` : null}
      <dt>${t('delegation.proposedBy')}</dt><dd>${d.proposedBy} · ${formatTime(d.proposedAt)}</dd>
      ${d.withdrawnAt ? html`<dt>${t('delegation.withdrawnBy')}</dt><dd>${d.withdrawnBy} · ${formatTime(d.withdrawnAt)} · ${d.withdrawalReason}</dd>` : null}
      <dt>${t('common.streets')}</dt>
      <dd><ul class="street-states">
        ${(d.streets ?? []).map((s) => html`<li data-street=${s.street}><${Street} code=${s.street} /> <${StateBadge} state=${s.state} /> ${s.inForce ? html`<span class="badge badge-active">${t('delegation.inForce')}</span>` : null} ${s.reason ? html`<small>${s.reason}</small>` : null}</li>`)}
      </ul></dd>
    </dl>
    ${children}
  </article>`;
}

function ReviewDelegation({ delegation, district, onDone }) {
  const mine = delegation.streets.filter((s) => s.state === 'PROPOSED' && String(s.street).replace(/^street:/, '').startsWith(district));
  const [chosen, setChosen] = useState(() => new Set(mine.map((s) => s.street)));
  const [reason, setReason] = useState('');
  const [outcome, setOutcome] = useState({});
  if (mine.length === 0) return null;
  const review = async (decision) => {
    if (!reason.trim()) return setOutcome({ error: { code: 'BAD_USER_INPUT', message: t('review.reasonRequired') } });
    try {
      await graphql(REVIEW, { id: delegation.id, decision, streets: decision === 'ADMIT' ? [...chosen] : undefined, reason });
      // The card may leave the list (it is no longer waiting): the view says what was done.
      onDone(t(decision === 'ADMIT' ? 'delegation.admitted' : 'delegation.rejected', { id: delegation.id }));
    } catch (error) {
      setOutcome({ error });
    }
  };
  return html`<form class="form review" data-test="delegation-review" onSubmit=${(e) => e.preventDefault()}>
    <fieldset><legend>${t('delegation.streetsToAdmit')}</legend>
      ${mine.map(
        (s) => html`<label class="check"><input type="checkbox" name="street" value=${s.street} checked=${chosen.has(s.street)}
          onChange=${(e) => {
            const next = new Set(chosen);
            e.currentTarget.checked ? next.add(s.street) : next.delete(s.street);
            setChosen(next);
          }} /> <${Street} code=${s.street} /></label>`,
      )}
    </fieldset>
    <label><span>${t('common.reason')}</span><textarea name="reason" rows="2" value=${reason} onInput=${(e) => setReason(e.currentTarget.value)}></textarea></label>
    <div class="actions">
      <button type="button" data-test="admit" disabled=${chosen.size === 0} onClick=${() => review('ADMIT')}>${t('delegation.admit')}</button>
      <button type="button" class="danger" data-test="reject" onClick=${() => review('REJECT')}>${t('delegation.reject')}</button>
    </div>
    <${Outcome} error=${outcome.error} done=${outcome.done} />
  </form>`;
}

export function DelegationReview({ params, claims }) {
  const district = claims.org.replace(/^district:/, '');
  const state = params.has('state') ? params.get('state') || undefined : 'PROPOSED';
  const { data, error, loading, reload } = useQuery(DELEGATIONS, { state, first: 20, after: params.get('after') || undefined });
  const [done, setDone] = useState(null);
  const connection = data?.dutyDelegations;
  const onDone = (message) => {
    setDone(message);
    reload();
  };
  return html`<section class="view" data-view="reviewer-delegations">
    <h1>${t('view.reviewerDelegations')}</h1>
    <${Outcome} done=${done} />
    <${FilterForm} params=${new URLSearchParams({ ...Object.fromEntries(params), state: state ?? '' })}
      fields=${[{ name: 'state', label: t('common.state'), type: 'select', options: DELEGATION_STATES.map((s) => [s, t(`state.${s}`)]) }]} />
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    ${connection
      ? html`${connection.edges.length === 0 ? html`<p class="empty">${t('common.none')}</p>` : null}
          <div class="cards">
            ${connection.edges.map(({ node }) => html`<${DelegationSummary} delegation=${node}><${ReviewDelegation} delegation=${node} district=${district} onDone=${onDone} /></${DelegationSummary}>`)}
          </div>
          <${Pager} pageInfo=${connection.pageInfo} totalCount=${connection.totalCount} shown=${connection.edges.length} params=${params} />`
      : null}
  </section>`;
}
