// A row condition (JSON, e.g. {"op":"gte","field":"age","value":65}) in words: "age ≥ 65".
import { html } from '../../lib/html.js';
import { t } from '../../lib/i18n.js';

const OPS = { eq: '=', ne: '≠', gt: '>', gte: '≥', lt: '<', lte: '≤', in: '∈', contains: '∋', startsWith: '^=', isNull: '= ∅' };

export function describeCondition(condition) {
  if (!condition || typeof condition !== 'object') return '';
  if (Array.isArray(condition.all)) return condition.all.map(describeCondition).join(` ${t('condition.and')} `);
  if (Array.isArray(condition.any)) return `(${condition.any.map(describeCondition).join(` ${t('condition.or')} `)})`;
  if (condition.not) return `${t('condition.not')} (${describeCondition(condition.not)})`;
  const value = Array.isArray(condition.value) ? `{${condition.value.join(', ')}}` : JSON.stringify(condition.value);
  return `${condition.field} ${OPS[condition.op] ?? condition.op} ${value ?? ''}`.trim();
}

export function RowCondition({ json }) {
  if (!json) return html`<span class="hint">${t('common.allRows')}</span>`;
  let text;
  try {
    text = describeCondition(JSON.parse(json));
  } catch {
    text = json;
  }
  return html`<code class="condition" title=${json}>${text}</code>`;
}
