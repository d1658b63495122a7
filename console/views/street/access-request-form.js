// Street admin: ask a data owner for fields of one dataset under a duty in force, each FULL or
// MASKED, optionally with a row condition and an emergency clause (fields readable only under an
// emergency session, and its longest session), with a reason, a legal basis and an end date.
import { html, useEffect, useState } from '../../lib/html.js';
import { t } from '../../lib/i18n.js';
import { graphql } from '../../lib/api.js';
import { navigate } from '../../lib/router.js';
import { useQuery } from '../../lib/use-query.js';
import { Access, ErrorBox, Loading, Outcome, isoDateIn } from '../../components/common.js';
import { DATASETS } from './street-requests.js';
import { useDutiesInForce } from './duties-in-force.js';

const EXPLAIN = /* GraphQL */ `query ConsoleRequestFormToday($org: String!, $purpose: String!) { explainAccess(org: $org, purpose: $purpose) { field decision grant } }`;
const REQUEST = /* GraphQL */ `
  mutation ConsoleRequestAccess($input: RequestAccessInput!) { requestAccess(input: $input) { id state } }
`;

export function AccessRequestForm({ params }) {
  const inForce = useDutiesInForce();
  const duties = inForce.duties;
  const org = inForce.me?.org;
  const [duty, setDuty] = useState(params.get('duty') ?? '');
  const [dataset, setDataset] = useState(params.get('dataset') ?? 'population');
  const [asked, setAsked] = useState({});
  const [rows, setRows] = useState('');
  const [emergency, setEmergency] = useState({});
  const [emergencyMinutes, setEmergencyMinutes] = useState('60');
  const [reason, setReason] = useState('');
  const [legalBasis, setLegalBasis] = useState('');
  const [validUntil, setValidUntil] = useState(isoDateIn(180));
  const [outcome, setOutcome] = useState({});
  useEffect(() => {
    if (!duty && duties.length > 0) setDuty(duties[0].id);
  }, [duties.length]);
  const today = useQuery(EXPLAIN, { org: org ?? '', purpose: duty }, { skip: !duty || !org });
  const fields = (today.data?.explainAccess ?? []).filter((f) => f.field.startsWith(dataset + '.'));
  // A population or housing grant always includes the street field in full (DOMAIN.md): asked by default.
  const streetField = `${dataset}.streetCode`;
  useEffect(() => {
    if (fields.some((f) => f.field === streetField) && asked[streetField] === undefined) setAsked({ ...asked, [streetField]: 'FULL' });
  }, [streetField, fields.length]);
  const submit = async (event) => {
    event.preventDefault();
    const chosen = Object.entries(asked)
      .filter(([field, access]) => access && field.startsWith(dataset + '.'))
      .map(([field, access]) => ({ field: field.slice(dataset.length + 1), access }));
    if (chosen.length === 0) {
      setOutcome({ error: { code: 'BAD_USER_INPUT', message: t('request.pickFields') } });
      return;
    }
    const emergencyFields = Object.entries(emergency)
      .filter(([field, access]) => access && field.startsWith(dataset + '.'))
      .map(([field, access]) => ({ field: field.slice(dataset.length + 1), access }));
    // Minutes as typed: the gateway checks them (1 to 720) by the grant's one rule.
    const clause = emergencyFields.length > 0 ? { fields: emergencyFields, maxMinutes: emergencyMinutes === '' ? undefined : Number(emergencyMinutes) } : undefined;
    try {
      const data = await graphql(REQUEST, { input: { duty, dataset, fields: chosen, rows: rows.trim() || undefined, reason, legalBasis, validUntil, emergency: clause } });
      navigate(`/console/street/requests/${encodeURIComponent(data.requestAccess.id)}`);
    } catch (error) {
      setOutcome({ error });
    }
  };
  return html`<section class="view" data-view="street-request-new">
    <h1>${t('view.streetRequestNew')}</h1>
    <${ErrorBox} error=${inForce.error} />
    ${inForce.loading ? html`<${Loading} />` : null}
    <form class="form" onSubmit=${submit} data-test="request-form">
      <label><span>${t('common.duty')}</span>
        <select name="duty" value=${duty} onChange=${(e) => setDuty(e.currentTarget.value)}>
          ${duties.map((d) => html`<option value=${d.id}>${d.id} — ${d.title}</option>`)}
        </select></label>
      <label><span>${t('common.dataset')}</span>
        <select name="dataset" value=${dataset} onChange=${(e) => setDataset(e.currentTarget.value)}>
          ${DATASETS.map((d) => html`<option value=${d}>${t(`dataset.${d}`)}</option>`)}
        </select></label>
      <${ErrorBox} error=${today.error} />
      <table class="data" data-test="request-fields">
        <thead><tr><th>${t('common.field')}</th><th>${t('request.today')}</th><th>${t('request.ask')}</th><th>${t('request.emergencyColumn')}</th></tr></thead>
        <tbody>
          ${fields.map(
            (f) => html`<tr data-field=${f.field}>
              <td><code>${f.field.slice(dataset.length + 1)}</code></td>
              <td><${Access} access=${f.decision} /></td>
              <td>
                <select name=${`ask:${f.field}`} value=${asked[f.field] ?? ''} onChange=${(e) => setAsked({ ...asked, [f.field]: e.currentTarget.value })}>
                  <option value="">—</option>
                  <option value="FULL">${t('access.full')}</option>
                  <option value="MASKED">${t('access.masked')}</option>
                </select>
              </td>
              <td>
                <select name=${`emergency:${f.field}`} value=${emergency[f.field] ?? ''} onChange=${(e) => setEmergency({ ...emergency, [f.field]: e.currentTarget.value })}>
                  <option value="">—</option>
                  <option value="FULL">${t('access.full')}</option>
                  <option value="MASKED">${t('access.masked')}</option>
                </select>
              </td>
            </tr>`,
          )}
        </tbody>
      </table>
      <p class="hint" data-test="emergency-intro">${t('request.emergencyIntro')}</p>
      <label><span>${t('request.emergencyMinutes')}</span>
        <input name="emergencyMinutes" type="number" min="1" max="720" value=${emergencyMinutes} onInput=${(e) => setEmergencyMinutes(e.currentTarget.value)} /></label>
      <label><span>${t('request.rowsOptional')}</span>
        <input name="rows" value=${rows} placeholder='{"field":"age","op":"gte","value":65}' onInput=${(e) => setRows(e.currentTarget.value)} /></label>
      <label><span>${t('common.reason')}</span><textarea name="reason" required rows="2" value=${reason} onInput=${(e) => setReason(e.currentTarget.value)}></textarea></label>
      <label><span>${t('common.legalBasis')}</span><input name="legalBasis" required value=${legalBasis} placeholder="沪民规〔2026〕1号" onInput=${(e) => setLegalBasis(e.currentTarget.value)} /></label>
      <label><span>${t('common.validUntil')}</span><input name="validUntil" type="date" required value=${validUntil} onInput=${(e) => setValidUntil(e.currentTarget.value)} /></label>
      <div class="actions"><button type="submit" data-test="submit-request">${t('request.submit')}</button></div>
      <${Outcome} error=${outcome.error} />
    </form>
  </section>`;
}
