// A field table: every dataset field against every duty, each cell full, masked or not granted, with
// the grant or rule that decided it (from explainAccess: nothing is read). Used by street admins for
// their street and by data owners' access simulator.
import { html, useEffect, useState } from '../../lib/html.js';
import { t } from '../../lib/i18n.js';
import { graphql } from '../../lib/api.js';
import { Access, ErrorBox, Loading } from '../../components/common.js';

/** The gateway allows at most 10 root fields per operation: explain 9 duties per request. */
const PER_REQUEST = 9;

export async function explainDuties(org, duties) {
  const result = {};
  for (let i = 0; i < duties.length; i += PER_REQUEST) {
    const batch = duties.slice(i, i + PER_REQUEST);
    const vars = batch.map((_, j) => `$p${j}: String!`).join(', ');
    const fields = batch.map((_, j) => `d${j}: explainAccess(org: $org, purpose: $p${j}) { field decision grant rule }`).join('\n');
    const variables = { org, ...Object.fromEntries(batch.map((d, j) => [`p${j}`, d])) };
    const data = await graphql(`query ConsoleExplainAccess($org: String!, ${vars}) { ${fields} }`, variables);
    batch.forEach((duty, j) => (result[duty] = data[`d${j}`]));
  }
  return result;
}

export function FieldAccessTable({ org, duties }) {
  const [state, setState] = useState({ loading: true });
  const key = JSON.stringify([org, duties]);
  useEffect(() => {
    let live = true;
    setState({ loading: true });
    explainDuties(org, duties).then(
      (byDuty) => live && setState({ byDuty }),
      (error) => live && setState({ error }),
    );
    return () => (live = false);
  }, [key]);
  if (state.loading) return html`<${Loading} />`;
  if (state.error) return html`<${ErrorBox} error=${state.error} />`;
  if (duties.length === 0) return html`<p class="empty">${t('street.noDuties')}</p>`;
  const fields = state.byDuty[duties[0]].map((d) => d.field);
  const datasets = [...new Set(fields.map((f) => f.split('.')[0]))];
  const cell = (duty, field) => state.byDuty[duty].find((d) => d.field === field);
  return html`<div class="field-tables">
    ${datasets.map(
      (dataset) => html`<table class="data field-table" data-dataset=${dataset}>
        <caption>${t(`dataset.${dataset}`)} <code>${dataset}</code></caption>
        <thead><tr><th>${t('common.field')}</th>${duties.map((d) => html`<th><code>${d}</code></th>`)}</tr></thead>
        <tbody>
          ${fields
            .filter((f) => f.startsWith(dataset + '.'))
            .map(
              (field) => html`<tr data-field=${field}>
                <th scope="row">${field.slice(dataset.length + 1)}</th>
                ${duties.map((duty) => {
                  const d = cell(duty, field);
                  return html`<td data-duty=${duty} title=${d?.grant ? `${t('common.grant')}: ${d.grant} · ${d.rule}` : d?.rule ?? ''}><${Access} access=${d?.decision} /></td>`;
                })}
              </tr>`,
            )}
        </tbody>
      </table>`,
    )}
  </div>`;
}
