// Department admin: the department's delegations and their states, withdrawable with a reason; and
// the form to propose a duty the department delegates for some streets.
import { html, useState } from '../../lib/html.js';
import { t, currentLanguage } from '../../lib/i18n.js';
import { graphql } from '../../lib/api.js';
import { navigate } from '../../lib/router.js';
import { useQuery } from '../../lib/use-query.js';
import { ErrorBox, FilterForm, Loading, Outcome, Pager, isoDateIn } from '../../components/common.js';
import { DELEGATIONS, DELEGATION_STATES, DelegationSummary } from '../review/delegation-review.js';
import { KNOWN_STREETS, districtName, streetName } from '../../lib/streets.js';

const WITHDRAW = /* GraphQL */ `mutation ConsoleWithdrawDutyDelegation($id: ID!, $reason: String!) { withdrawDutyDelegation(id: $id, reason: $reason) { id state } }`;
const DUTIES = /* GraphQL */ `query ConsoleDepartmentDuties { duties { id title delegatedBy } }`;
const PROPOSE = /* GraphQL */ `mutation ConsoleProposeDutyDelegation($input: ProposeDutyDelegationInput!) { proposeDutyDelegation(input: $input) { id state } }`;

function WithdrawDelegation({ delegation, onDone }) {
  const [reason, setReason] = useState('');
  const [outcome, setOutcome] = useState({});
  if (delegation.state !== 'PROPOSED' && delegation.state !== 'ADMITTED') return null;
  const submit = async (event) => {
    event.preventDefault();
    try {
      await graphql(WITHDRAW, { id: delegation.id, reason });
      onDone(t('delegation.withdrawn', { id: delegation.id }));
    } catch (error) {
      setOutcome({ error });
    }
  };
  return html`<form class="inline-form" onSubmit=${submit}>
    <input name="reason" required placeholder=${t('common.reason')} value=${reason} onInput=${(e) => setReason(e.currentTarget.value)} />
    <button type="submit" class="danger small" data-test="withdraw-delegation">${t('delegation.withdraw')}</button>
    <${Outcome} error=${outcome.error} done=${outcome.done} />
  </form>`;
}

export function DepartmentDelegations({ params }) {
  const { data, error, loading, reload } = useQuery(DELEGATIONS, { state: params.get('state') || undefined, first: 20, after: params.get('after') || undefined });
  const connection = data?.dutyDelegations;
  const [done, setDone] = useState(null);
  const onDone = (message) => {
    setDone(message);
    reload();
  };
  return html`<section class="view" data-view="department-delegations">
    <h1>${t('view.departmentDelegations')}</h1>
    <${Outcome} done=${done} />
    <p><a class="button" href="/console/department/delegations/new">${t('view.departmentPropose')}</a></p>
    <${FilterForm} params=${params} fields=${[{ name: 'state', label: t('common.state'), type: 'select', options: DELEGATION_STATES.map((s) => [s, t(`state.${s}`)]) }]} />
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    ${connection
      ? html`${connection.edges.length === 0 ? html`<p class="empty">${t('common.none')}</p>` : null}
          <div class="cards">
            ${connection.edges.map(({ node }) => html`<${DelegationSummary} delegation=${node}><${WithdrawDelegation} delegation=${node} onDone=${onDone} /></${DelegationSummary}>`)}
          </div>
          <${Pager} pageInfo=${connection.pageInfo} totalCount=${connection.totalCount} shown=${connection.edges.length} params=${params} />`
      : null}
  </section>`;
}

export function ProposeDelegation({ claims }) {
  const catalogue = useQuery(DUTIES, {});
  const duties = (catalogue.data?.duties ?? []).filter((d) => d.delegatedBy === claims.org);
  const [form, setForm] = useState({ duty: '', legalBasis: '', validFrom: '', validUntil: isoDateIn(365), note: '' });
  const [streets, setStreets] = useState(new Set());
  const [outcome, setOutcome] = useState({});
  const language = currentLanguage();
  const districts = [...new Set(KNOWN_STREETS.map((s) => s.slice(0, 6)))];
  const submit = async (event) => {
    event.preventDefault();
    const duty = form.duty || duties[0]?.id;
    try {
      await graphql(PROPOSE, {
        input: { duty, streets: [...streets], legalBasis: form.legalBasis, validFrom: form.validFrom || undefined, validUntil: form.validUntil, note: form.note || undefined },
      });
      navigate('/console/department/delegations?state=PROPOSED');
    } catch (error) {
      setOutcome({ error });
    }
  };
  const set = (name) => (e) => setForm({ ...form, [name]: e.currentTarget.value });
  return html`<section class="view" data-view="department-propose">
    <h1>${t('view.departmentPropose')}</h1>
    <${ErrorBox} error=${catalogue.error} />
    <form class="form" onSubmit=${submit} data-test="propose-form">
      <label><span>${t('common.duty')}</span>
        <select name="duty" value=${form.duty} onChange=${set('duty')}>${duties.map((d) => html`<option value=${d.id}>${d.id} — ${d.title}</option>`)}</select></label>
      ${districts.map(
        (district) => html`<fieldset><legend>${district} ${districtName(district, language)}</legend>
          ${KNOWN_STREETS.filter((s) => s.startsWith(district)).map(
            (s) => html`<label class="check"><input type="checkbox" name="street" value=${s} checked=${streets.has(s)}
              onChange=${(e) => {
                const next = new Set(streets);
                e.currentTarget.checked ? next.add(s) : next.delete(s);
                setStreets(next);
              }} /> ${s} ${streetName(s, language)}</label>`,
          )}
        </fieldset>`,
      )}
      <label><span>${t('common.legalBasis')}</span><input name="legalBasis" required value=${form.legalBasis} placeholder="沪民规〔2026〕1号" onInput=${set('legalBasis')} /></label>
      <label><span>${t('delegation.validFrom')}</span><input name="validFrom" type="date" value=${form.validFrom} onInput=${set('validFrom')} /></label>
      <label><span>${t('common.validUntil')}</span><input name="validUntil" type="date" required value=${form.validUntil} onInput=${set('validUntil')} /></label>
      <label><span>${t('delegation.note')}</span><textarea name="note" rows="2" value=${form.note} onInput=${set('note')}></textarea></label>
      <div class="actions"><button type="submit" data-test="propose" disabled=${streets.size === 0}>${t('delegation.propose')}</button></div>
      <${Outcome} error=${outcome.error} />
    </form>
  </section>`;
}
