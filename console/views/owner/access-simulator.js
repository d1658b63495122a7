// Data owner: the access simulator. For a street and a duty, each field allowed, masked or denied,
// the grant or rule that decided it, and that grant's row condition; nothing is read.
import { html, useState } from '../../lib/html.js';
import { t } from '../../lib/i18n.js';
import { setParams } from '../../lib/router.js';
import { useQuery } from '../../lib/use-query.js';
import { Access, ErrorBox, Loading } from '../../components/common.js';
import { KNOWN_STREETS, streetName } from '../../lib/streets.js';
import { currentLanguage } from '../../lib/i18n.js';
import { RowCondition } from './row-condition.js';

const DUTIES = /* GraphQL */ `query ConsoleSimulatorDuties { duties { id title } grants { id rows } }`;
const EXPLAIN = /* GraphQL */ `query ConsoleSimulate($org: String!, $purpose: String!) { explainAccess(org: $org, purpose: $purpose) { field decision grant rule } }`;

export function AccessSimulator({ params }) {
  const street = (params.get('street') ?? '').replace(/^street:/, '');
  const duty = params.get('duty') ?? '';
  const [form, setForm] = useState({ street, duty });
  const catalogue = useQuery(DUTIES, {});
  const valid = /^\d{9}$/.test(street) && duty;
  const result = useQuery(EXPLAIN, { org: `street:${street}`, purpose: duty }, { skip: !valid });
  const conditions = new Map((catalogue.data?.grants ?? []).map((g) => [g.id, g.rows]));
  return html`<section class="view" data-view="owner-simulator">
    <h1>${t('view.ownerSimulator')}</h1>
    <p class="hint">${t('simulator.intro')}</p>
    <form class="filters" onSubmit=${(e) => (e.preventDefault(), setParams(form))}>
      <label><span>${t('common.street')}</span>
        <input name="street" list="known-streets" value=${form.street} placeholder="310101002" onInput=${(e) => setForm({ ...form, street: e.currentTarget.value })} />
        <datalist id="known-streets">${KNOWN_STREETS.map((c) => html`<option value=${c}>${streetName(c, currentLanguage())}</option>`)}</datalist>
      </label>
      <label><span>${t('common.duty')}</span>
        <select name="duty" value=${form.duty} onChange=${(e) => setForm({ ...form, duty: e.currentTarget.value })}>
          <option value="">—</option>
          ${(catalogue.data?.duties ?? []).map((d) => html`<option value=${d.id}>${d.id} — ${d.title}</option>`)}
        </select></label>
      <div class="actions"><button type="submit">${t('simulator.run')}</button></div>
    </form>
    <${ErrorBox} error=${catalogue.error ?? result.error} />
    ${result.loading ? html`<${Loading} />` : null}
    ${result.data
      ? html`<table class="data" data-test="simulation">
          <thead><tr><th>${t('common.field')}</th><th>${t('simulator.decision')}</th><th>${t('common.grant')}</th><th>${t('common.rows')}</th><th>${t('simulator.rule')}</th></tr></thead>
          <tbody>
            ${result.data.explainAccess.map(
              (d) => html`<tr data-field=${d.field}>
                <td><code>${d.field}</code></td><td><${Access} access=${d.decision} /></td>
                <td>${d.grant ? html`<code>${d.grant}</code>` : '—'}</td>
                <td>${d.grant && conditions.has(d.grant) ? html`<${RowCondition} json=${conditions.get(d.grant)} />` : '—'}</td>
                <td><small>${d.rule}</small></td>
              </tr>`,
            )}
          </tbody>
        </table>`
      : null}
  </section>`;
}
