// One access request as everyone involved sees it: what was asked, by whom and why, its state, the
// decision, the grant it created, and (for review) what it would change field by field.
import { html } from '../lib/html.js';
import { t, formatTime } from '../lib/i18n.js';
import { Access, StateBadge, Street } from './common.js';
import { RowCondition } from '../views/owner/row-condition.js';

export function FieldList({ fields }) {
  return html`<ul class="field-list">
    ${(fields ?? []).map((f) => html`<li data-field=${f.field}><code>${f.field}</code> <${Access} access=${f.access} /></li>`)}
  </ul>`;
}

/** A grant's or request's emergency clause: its fields (each full or masked) and its longest session. */
export function EmergencyClause({ clause }) {
  if (!clause) return html`<span class="muted" data-test="emergency-clause" data-none="true">${t('clause.none')}</span>`;
  return html`<div class="emergency-clause" data-test="emergency-clause" data-minutes=${clause.maxMinutes}>
    <${FieldList} fields=${clause.fields} />
    <small>${t('clause.minutes', { minutes: clause.maxMinutes })}</small>
  </div>`;
}

export function ChangesTable({ changes }) {
  if (!changes || changes.length === 0) return null;
  return html`<table class="data changes" data-test="changes">
    <thead><tr><th>${t('common.field')}</th><th>${t('request.today')}</th><th>${t('request.afterApproval')}</th><th>${t('request.afterEmergency')}</th></tr></thead>
    <tbody>
      ${changes.map(
        (c) => html`<tr data-field=${c.field} class=${c.changed ? 'changed' : ''}>
          <td><code>${c.field}</code></td>
          <td title=${c.todayRule}><${Access} access=${c.today} /></td>
          <td title=${c.afterRule}><${Access} access=${c.after} /></td>
          <td data-test="after-emergency">${c.afterEmergency ? html`<${Access} access=${c.afterEmergency} />` : '—'}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

export function AccessRequestCard({ request, href, children }) {
  const r = request;
  return html`<article class="card request" data-request=${r.id} data-state=${r.state}>
    <header>
      <h2>${href ? html`<a href=${href}>${r.id}</a>` : r.id}</h2>
      <${StateBadge} state=${r.state} />
    </header>
    <dl class="details compact">
      <dt>${t('common.street')}</dt><dd><${Street} code=${r.street} /></dd>
      <dt>${t('common.duty')}</dt><dd><code>${r.duty}</code></dd>
      <dt>${t('common.dataset')}</dt><dd>${t(`dataset.${r.dataset}`)} <code>${r.dataset}</code></dd>
      <dt>${t('request.fieldsAsked')}</dt><dd><${FieldList} fields=${r.fields} /></dd>
      <dt>${t('common.rows')}</dt><dd><${RowCondition} json=${r.rows} /></dd>
      ${r.emergency ? html`<dt>${t('clause.title')}</dt><dd data-test="asked-emergency"><${EmergencyClause} clause=${r.emergency} /></dd>` : null}
      <dt>${t('common.reason')}</dt><dd>${r.reason}</dd>
      <dt>${t('common.legalBasis')}</dt><dd>${r.legalBasis}</dd>
      <dt>${t('request.askedUntil')}</dt><dd>${formatTime(r.validUntil)}</dd>
      <dt>${t('request.requestedBy')}</dt><dd>${r.requestedBy} · ${formatTime(r.requestedAt)}</dd>
      ${r.decision
        ? html`<dt>${t('request.decision')}</dt>
            <dd>
              ${r.decision.reviewer} · ${formatTime(r.decision.at)} · ${r.decision.reason}
              ${r.decision.fields ? html`<${FieldList} fields=${r.decision.fields} />` : null}
              ${r.decision.rows ? html`<${RowCondition} json=${r.decision.rows} />` : null}
              ${r.decision.validUntil ? html` · ${t('common.validUntil')} ${formatTime(r.decision.validUntil)}` : null}
              ${r.decision.decision === 'APPROVE' && (r.emergency || r.decision.emergency)
                ? html`<div data-test="approved-emergency">${t('clause.title')}: <${EmergencyClause} clause=${r.decision.emergency} /></div>`
                : null}
            </dd>`
        : null}
      ${r.cancelledAt ? html`<dt>${t('request.cancelledBy')}</dt><dd>${r.cancelledBy} · ${formatTime(r.cancelledAt)} · ${r.cancelReason}</dd>` : null}
      ${r.grant ? html`<dt>${t('common.grant')}</dt><dd><code>${r.grant.id}</code></dd>` : null}
    </dl>
    ${r.changes ? html`<h3>${t('request.changes')}</h3><${ChangesTable} changes=${r.changes} />` : null}
    ${children}
  </article>`;
}
