// Security officer: unusual access in a window (volume outliers, night access, FORBIDDEN bursts,
// large operations), each with the events behind it.
import { html } from '../../lib/html.js';
import { t, formatTime } from '../../lib/i18n.js';
import { useQuery } from '../../lib/use-query.js';
import { ErrorBox, FilterForm, Loading } from '../../components/common.js';
import { cityDay, cityDayAfter, cityDayStart } from './audit-time.js';
import { eventHref } from './audit-event-search.js';

const QUERY = /* GraphQL */ `
  query ConsoleAuditAnomalies($from: String!, $to: String!) {
    auditAnomalies(from: $from, to: $to) { kind actorSub actorOrg message from to metric threshold eventCount events { chainId seq time } }
  }
`;

export function AuditAnomalies({ params }) {
  const from = params.get('from') || cityDay(-6);
  const to = params.get('to') || cityDay(0);
  const { data, error, loading } = useQuery(QUERY, { from: cityDayStart(from), to: cityDayAfter(to) });
  return html`<section class="view" data-view="audit-anomalies">
    <h1>${t('view.auditAnomalies')}</h1>
    <${FilterForm}
      params=${new URLSearchParams({ from, to })}
      fields=${[
        { name: 'from', label: t('audit.from'), type: 'date' },
        { name: 'to', label: t('audit.toInclusive'), type: 'date' },
      ]}
    />
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    ${data
      ? data.auditAnomalies.length === 0
        ? html`<p class="empty">${t('audit.noAnomalies')}</p>`
        : html`<ul class="cards" data-test="anomalies">
            ${data.auditAnomalies.map(
              (f) => html`<li class="card">
                <h2>${t(`anomaly.${f.kind}`) === `anomaly.${f.kind}` ? f.kind : t(`anomaly.${f.kind}`)}</h2>
                <p>${f.message}</p>
                <p class="hint">
                  ${f.actorSub ?? '—'} · ${f.actorOrg ?? '—'} · ${formatTime(f.from)} – ${formatTime(f.to)} ·
                  ${t('audit.metric', { metric: f.metric, threshold: f.threshold, count: f.eventCount })}
                </p>
                <ul class="inline">
                  ${f.events.slice(0, 10).map((e) => html`<li><a href=${eventHref(e)}>${formatTime(e.time)}</a></li>`)}
                </ul>
              </li>`,
            )}
          </ul>`
      : null}
  </section>`;
}
