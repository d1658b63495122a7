// Security officer: one event in full. Its URL names the chain, sequence number and time; the event
// is found through the same search API (a one-millisecond window at its time).
import { html } from '../../lib/html.js';
import { t, formatTime } from '../../lib/i18n.js';
import { hrefOf } from '../../lib/router.js';
import { useQuery } from '../../lib/use-query.js';
import { ErrorBox, Loading } from '../../components/common.js';
import { Decision } from './audit-event-search.js';

const QUERY = /* GraphQL */ `
  query ConsoleAuditEvent($filter: AuditEventFilter) {
    auditEvents(filter: $filter, first: 500) {
      edges { node {
        chainId seq time startedAt durationMs actor { sub org roles } purpose operationType operationName operationHash
        fields decision reason rows subjectCount change requestId instance prevHash hash
      } }
    }
  }
`;

export function AuditEventDetail({ params }) {
  const time = params.get('time');
  const at = time ? new Date(time) : null;
  const valid = at && !Number.isNaN(at.getTime());
  const filter = valid ? { from: at.toISOString(), to: new Date(at.getTime() + 1).toISOString() } : {};
  const { data, error, loading } = useQuery(QUERY, { filter }, { skip: !valid });
  const node = data?.auditEvents.edges.map((e) => e.node).find((n) => n.chainId === params.get('chain') && n.seq === params.get('seq'));
  let change = null;
  if (node?.change) {
    try {
      change = JSON.stringify(JSON.parse(node.change), null, 2);
    } catch {
      change = node.change;
    }
  }
  const rows = node
    ? [
        ['audit.time', formatTime(node.time)],
        ['audit.startedAt', formatTime(node.startedAt)],
        ['audit.duration', `${node.durationMs} ms`],
        ['audit.actor', node.actor.sub ?? '—'],
        ['audit.org', node.actor.org ?? '—'],
        ['audit.roles', node.actor.roles.join(', ')],
        ['audit.purpose', node.purpose ?? '—'],
        ['audit.operation', `${node.operationType} ${node.operationName ?? ''}`],
        ['audit.operationHash', node.operationHash ?? '—'],
        ['audit.fields', node.fields.join(', ') || '—'],
        ['audit.reason', node.reason ?? '—'],
        ['audit.rows', String(node.rows)],
        ['audit.subjects', String(node.subjectCount)],
        ['audit.requestId', node.requestId],
        ['audit.instance', node.instance],
        ['audit.chain', `${node.chainId} #${node.seq}`],
        ['audit.prevHash', node.prevHash],
        ['audit.hash', node.hash],
      ]
    : [];
  return html`<section class="view" data-view="audit-event">
    <h1>${t('view.auditEvent')}</h1>
    <p><a href=${hrefOf('/console/audit/events')}>← ${t('view.auditEvents')}</a></p>
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    ${!loading && !error && !node ? html`<p class="empty">${t('audit.eventNotFound')}</p>` : null}
    ${node
      ? html`<dl class="details" data-test="audit-event">
          <dt>${t('audit.decision')}</dt><dd><${Decision} value=${node.decision} /></dd>
          ${rows.map(([key, value]) => html`<dt>${t(key)}</dt><dd>${value}</dd>`)}
          ${change ? html`<dt>${t('audit.change')}</dt><dd><pre>${change}</pre></dd>` : null}
        </dl>`
      : null}
  </section>`;
}
