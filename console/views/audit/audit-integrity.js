// Security officer: the trail's integrity (every chain and its signed checkpoints), checked on demand.
import { html, useState } from '../../lib/html.js';
import { t, formatTime } from '../../lib/i18n.js';
import { useQuery } from '../../lib/use-query.js';
import { ErrorBox, Loading } from '../../components/common.js';

const QUERY = /* GraphQL */ `
  query ConsoleAuditIntegrity {
    auditIntegrity {
      intact checkedAt events checkpoints
      firstProblem { chainId seq kind message }
      chains { chainId events firstSeq lastSeq checkpoints lastCheckpointSeq unsignedTail archivedThrough intact firstProblem { seq kind message } }
    }
  }
`;

export function AuditIntegrity() {
  const [run, setRun] = useState(0);
  const { data, error, loading } = useQuery(QUERY, { run }, { skip: run === 0 });
  const report = data?.auditIntegrity;
  return html`<section class="view" data-view="audit-integrity">
    <h1>${t('view.auditIntegrity')}</h1>
    <p>${t('audit.integrityIntro')}</p>
    <button type="button" data-test="check-integrity" onClick=${() => setRun((n) => n + 1)}>${t('audit.checkNow')}</button>
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    ${report
      ? html`<div class=${report.intact ? 'success' : 'error'} data-test="integrity" data-intact=${String(report.intact)}>
            <strong>${report.intact ? t('audit.intact') : t('audit.tampered')}</strong>
            ${t('audit.integritySummary', { events: report.events, checkpoints: report.checkpoints, at: formatTime(report.checkedAt) })}
            ${report.firstProblem ? html`<p>${report.firstProblem.kind}: ${report.firstProblem.message} (${report.firstProblem.chainId} #${report.firstProblem.seq})</p>` : null}
          </div>
          <table class="data">
            <thead><tr><th>${t('audit.chain')}</th><th>${t('audit.events')}</th><th>${t('audit.seqRange')}</th><th>${t('audit.checkpoints')}</th><th>${t('audit.unsignedTail')}</th><th>${t('audit.state')}</th></tr></thead>
            <tbody>
              ${report.chains.map(
                (c) => html`<tr>
                  <td><code>${c.chainId}</code></td><td class="num">${c.events}</td><td>${c.firstSeq ?? '—'} – ${c.lastSeq ?? '—'}</td>
                  <td class="num">${c.checkpoints}</td><td class="num">${c.unsignedTail}</td>
                  <td>${c.intact ? t('audit.intact') : `${t('audit.tampered')}: ${c.firstProblem?.kind ?? ''} #${c.firstProblem?.seq ?? ''}`}</td>
                </tr>`,
              )}
            </tbody>
          </table>`
      : null}
  </section>`;
}
