// Security officer: search the trail with filters and paging (all in the URL).
import { html } from '../../lib/html.js';
import { t, formatTime } from '../../lib/i18n.js';
import { hrefOf } from '../../lib/router.js';
import { useQuery } from '../../lib/use-query.js';
import { ErrorBox, FilterForm, Loading, Pager } from '../../components/common.js';
import { auditFilterOf } from './audit-time.js';

const QUERY = /* GraphQL */ `
  query ConsoleAuditEvents($filter: AuditEventFilter, $first: Int, $after: String) {
    auditEvents(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { chainId seq time actor { sub org roles } purpose operationType operationName decision reason rows subjectCount } }
    }
  }
`;

export const DECISIONS = ['allow', 'deny', 'error'];

export function decisionOptions() {
  return DECISIONS.map((d) => [d, t(`decision.${d}`)]);
}

export function Decision({ value }) {
  return html`<span class=${`decision decision-${value}`}>${t(`decision.${value}`)}</span>`;
}

export function eventHref(node) {
  return hrefOf('/console/audit/event', { chain: node.chainId, seq: node.seq, time: node.time });
}

export function AuditEventSearch({ params }) {
  const first = Math.min(500, Math.max(1, Number(params.get('first')) || 50));
  const { data, error, loading } = useQuery(QUERY, { filter: auditFilterOf(params), first, after: params.get('after') || undefined });
  const connection = data?.auditEvents;
  return html`<section class="view" data-view="audit-events">
    <h1>${t('view.auditEvents')}</h1>
    <${FilterForm}
      params=${params}
      fields=${[
        { name: 'from', label: t('audit.from'), type: 'date' },
        { name: 'to', label: t('audit.toInclusive'), type: 'date' },
        { name: 'actor', label: t('audit.actor') },
        { name: 'org', label: t('audit.org'), placeholder: 'street:310101002' },
        { name: 'purpose', label: t('audit.purpose'), placeholder: 'elderly-allowance' },
        { name: 'decision', label: t('audit.decision'), type: 'select', options: decisionOptions() },
        { name: 'subject', label: t('audit.subject'), placeholder: t('audit.subjectHint') },
      ]}
    />
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    ${connection
      ? html`<table class="data" data-test="audit-events">
            <thead>
              <tr>
                <th>${t('audit.time')}</th><th>${t('audit.actor')}</th><th>${t('audit.org')}</th><th>${t('audit.purpose')}</th>
                <th>${t('audit.operation')}</th><th>${t('audit.decision')}</th><th>${t('audit.rows')}</th><th>${t('audit.subjects')}</th>
              </tr>
            </thead>
            <tbody>
              ${connection.edges.map(
                ({ node }) => html`<tr>
                  <td><a href=${eventHref(node)}>${formatTime(node.time)}</a></td>
                  <td>${node.actor.sub ?? '—'}</td>
                  <td>${node.actor.org ?? '—'}</td>
                  <td>${node.purpose ?? '—'}</td>
                  <td><code>${node.operationType}</code> ${node.operationName ?? ''}</td>
                  <td><${Decision} value=${node.decision} /></td>
                  <td class="num">${node.rows}</td>
                  <td class="num">${node.subjectCount}</td>
                </tr>`,
              )}
            </tbody>
          </table>
          ${connection.edges.length === 0 ? html`<p class="empty">${t('common.none')}</p>` : null}
          <${Pager} pageInfo=${connection.pageInfo} totalCount=${connection.totalCount} shown=${connection.edges.length} params=${params} />`
      : null}
  </section>`;
}
