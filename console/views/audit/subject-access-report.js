// Security officer: who read this person's data, when and for which purpose. Looking a person up is
// itself recorded (the gateway names the person in this query's own audit event).
import { html, useState } from '../../lib/html.js';
import { t, formatTime } from '../../lib/i18n.js';
import { hrefOf, setParams } from '../../lib/router.js';
import { useQuery } from '../../lib/use-query.js';
import { ErrorBox, Loading } from '../../components/common.js';
import { Decision, eventHref } from './audit-event-search.js';

const QUERY = /* GraphQL */ `
  query ConsoleSubjectAccessReport($idNumber: ID!) {
    subjectAccessReport(idNumber: $idNumber) {
      idNumber totalAccesses truncated
      accesses { time actorSub actorOrg purpose operationType operationName decision fields chainId seq }
    }
  }
`;

export function SubjectAccessReport({ params }) {
  const id = params.get('id') ?? '';
  const [value, setValue] = useState(id);
  const { data, error, loading } = useQuery(QUERY, { idNumber: id }, { skip: !id });
  const report = data?.subjectAccessReport;
  return html`<section class="view" data-view="audit-subject">
    <h1>${t('view.auditSubject')}</h1>
    <form
      class="filters"
      onSubmit=${(e) => {
        e.preventDefault();
        setParams({ id: value.trim() });
      }}
    >
      <label><span>${t('audit.idNumber')}</span><input name="id" value=${value} maxlength="18" onInput=${(e) => setValue(e.currentTarget.value)} /></label>
      <div class="actions"><button type="submit">${t('audit.lookUp')}</button></div>
    </form>
    <p class="hint">${t('audit.subjectRecorded')}</p>
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    ${report
      ? html`<p data-test="subject-total">${t('audit.subjectTotal', { id: report.idNumber, total: report.totalAccesses })}
            ${report.truncated ? t('audit.truncated') : ''}
            <a href=${hrefOf('/console/audit/events', { subject: report.idNumber })}>${t('audit.searchSubject')}</a></p>
          <table class="data" data-test="subject-accesses">
            <thead><tr><th>${t('audit.time')}</th><th>${t('audit.actor')}</th><th>${t('audit.org')}</th><th>${t('audit.purpose')}</th><th>${t('audit.operation')}</th><th>${t('audit.decision')}</th><th>${t('audit.fields')}</th></tr></thead>
            <tbody>
              ${report.accesses.map(
                (a) => html`<tr>
                  <td><a href=${eventHref(a)}>${formatTime(a.time)}</a></td>
                  <td>${a.actorSub ?? '—'}</td><td>${a.actorOrg ?? '—'}</td><td>${a.purpose ?? '—'}</td>
                  <td>${a.operationName ?? a.operationType}</td><td><${Decision} value=${a.decision} /></td>
                  <td>${a.fields.join(', ')}</td>
                </tr>`,
              )}
            </tbody>
          </table>`
      : null}
  </section>`;
}
