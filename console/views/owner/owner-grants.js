// Data owner: the grants of the department's datasets, filtered by dataset, duty, street and state
// (in the URL), each withdrawable with a reason; and the grants ending within 30 days.
import { html, useState } from '../../lib/html.js';
import { t, formatTime } from '../../lib/i18n.js';
import { graphql } from '../../lib/api.js';
import { useQuery } from '../../lib/use-query.js';
import { ErrorBox, FilterForm, Loading, Outcome, StateBadge, Streets } from '../../components/common.js';
import { EmergencyClause, FieldList } from '../../components/access-request-card.js';
import { GRANT_FIELDS } from '../../lib/admission-fragments.js';
import { RowCondition } from './row-condition.js';
import { DATASETS } from '../street/street-requests.js';

const LIST = /* GraphQL */ `query ConsoleOwnerGrants($dataset: String, $duty: String) { grants(dataset: $dataset, duty: $duty) { ${GRANT_FIELDS} } }`;
const EXPIRING = /* GraphQL */ `query ConsoleExpiringGrants { expiringGrants(withinDays: 30) { ${GRANT_FIELDS} } }`;
const WITHDRAW = /* GraphQL */ `mutation ConsoleWithdrawGrant($id: ID!, $reason: String!) { withdrawGrant(id: $id, reason: $reason) { id state } }`;
export const GRANT_STATES = ['ACTIVE', 'EXPIRED', 'WITHDRAWN'];

function Withdraw({ grant, onDone }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [outcome, setOutcome] = useState({});
  if (grant.state !== 'ACTIVE') return null;
  if (!open) return html`<button type="button" class="danger small" data-test="withdraw" onClick=${() => setOpen(true)}>${t('grant.withdraw')}</button>`;
  const submit = async (event) => {
    event.preventDefault();
    try {
      await graphql(WITHDRAW, { id: grant.id, reason });
      onDone(t('grant.withdrawn', { id: grant.id }));
    } catch (error) {
      setOutcome({ error });
    }
  };
  return html`<form class="inline-form" onSubmit=${submit}>
    <input name="reason" required placeholder=${t('common.reason')} value=${reason} onInput=${(e) => setReason(e.currentTarget.value)} />
    <button type="submit" class="danger small" data-test="confirm-withdraw">${t('grant.confirmWithdraw')}</button>
    <${Outcome} error=${outcome.error} done=${outcome.done} />
  </form>`;
}

/** Where a grant comes from: a policy file (standing grant, with its document) or an approved request. */
export function GrantOrigin({ grant: g }) {
  if (g.fromFiles) return html`<small>${t('origin.file')}${g.document ? html` · <code>${g.document}</code>` : null}</small>`;
  return html`<small>${t('origin.api')}${g.request ? html` · <code>${g.request.id}</code>` : null}${g.approvedBy ? ` · ${g.approvedBy}` : ''}</small>`;
}

export function GrantTable({ grants, onChange }) {
  if (grants.length === 0) return html`<p class="empty">${t('common.none')}</p>`;
  return html`<table class="data" data-test="grants">
    <thead><tr>
      <th>${t('common.grant')}</th><th>${t('common.dataset')}</th><th>${t('common.duty')}</th><th>${t('common.streets')}</th>
      <th>${t('common.fields')}</th><th>${t('clause.title')}</th><th>${t('common.rows')}</th><th>${t('common.validUntil')}</th><th>${t('common.state')}</th><th></th>
    </tr></thead>
    <tbody>
      ${grants.map(
        (g) => html`<tr data-grant=${g.id}>
          <td><code>${g.id}</code><br /><${GrantOrigin} grant=${g} /></td>
          <td>${g.dataset}</td><td>${g.duty}</td><td><${Streets} codes=${g.streets} all=${g.allStreets} /></td>
          <td><${FieldList} fields=${g.fields} /></td><td><${EmergencyClause} clause=${g.emergency} /></td><td><${RowCondition} json=${g.rows} /></td>
          <td>${g.validUntil ? formatTime(g.validUntil) : t('common.noEnd')}</td>
          <td><${StateBadge} state=${g.state} />${g.withdrawalReason ? html`<br /><small>${g.withdrawnBy}: ${g.withdrawalReason}</small>` : null}</td>
          <td><${Withdraw} grant=${g} onDone=${onChange} /></td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

/** A list whose rows can be withdrawn: reloads, and says above the list what was done. */
function useWithdrawals(reload) {
  const [done, setDone] = useState(null);
  return [
    done,
    (message) => {
      setDone(message);
      reload();
    },
  ];
}

export function OwnerGrants({ params }) {
  const { data, error, loading, reload } = useQuery(LIST, { dataset: params.get('dataset') || undefined, duty: params.get('duty') || undefined });
  const [done, onChange] = useWithdrawals(reload);
  const street = (params.get('street') ?? '').replace(/^street:/, '');
  const state = params.get('state');
  const grants = (data?.grants ?? []).filter(
    (g) => (!street || g.allStreets || g.streets.includes(street)) && (!state || g.state === state),
  );
  return html`<section class="view" data-view="owner-grants">
    <h1>${t('view.ownerGrants')}</h1>
    <${Outcome} done=${done} />
    <${FilterForm}
      params=${params}
      fields=${[
        { name: 'dataset', label: t('common.dataset'), type: 'select', options: DATASETS.map((d) => [d, t(`dataset.${d}`)]) },
        { name: 'duty', label: t('common.duty') },
        { name: 'street', label: t('common.street'), placeholder: '310101002' },
        { name: 'state', label: t('common.state'), type: 'select', options: GRANT_STATES.map((s) => [s, t(`state.${s}`)]) },
      ]}
    />
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    ${data ? html`<${GrantTable} grants=${grants} onChange=${onChange} />` : null}
  </section>`;
}

export function ExpiringGrants() {
  const { data, error, loading, reload } = useQuery(EXPIRING, {});
  const [done, onChange] = useWithdrawals(reload);
  return html`<section class="view" data-view="owner-expiring">
    <h1>${t('view.ownerExpiring')}</h1>
    <${Outcome} done=${done} />
    <p class="hint">${t('grant.expiringIntro')}</p>
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    ${data ? html`<${GrantTable} grants=${data.expiringGrants} onChange=${onChange} />` : null}
  </section>`;
}
