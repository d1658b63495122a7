// Security officer: export the trail of a window as JSON Lines or CSV, through /audit/export.
import { html, useState } from '../../lib/html.js';
import { t } from '../../lib/i18n.js';
import { downloadAuditExport } from '../../lib/api.js';
import { setParams } from '../../lib/router.js';
import { Outcome } from '../../components/common.js';
import { cityDay, cityDayAfter, cityDayStart } from './audit-time.js';

export function AuditExport({ params }) {
  const [from, setFrom] = useState(params.get('from') || cityDay(-6));
  const [to, setTo] = useState(params.get('to') || cityDay(0));
  const [format, setFormat] = useState(params.get('format') === 'csv' ? 'csv' : 'jsonl');
  const [outcome, setOutcome] = useState({});
  const submit = async (event) => {
    event.preventDefault();
    setParams({ from, to, format });
    setOutcome({ busy: true });
    try {
      const file = await downloadAuditExport({ from: cityDayStart(from), to: cityDayAfter(to), format });
      setOutcome({ done: t('audit.exported', { name: file.name, bytes: file.bytes }) });
    } catch (error) {
      setOutcome({ error });
    }
  };
  return html`<section class="view" data-view="audit-export">
    <h1>${t('view.auditExport')}</h1>
    <p>${t('audit.exportIntro')}</p>
    <form class="filters" onSubmit=${submit}>
      <label><span>${t('audit.from')}</span><input type="date" name="from" value=${from} onInput=${(e) => setFrom(e.currentTarget.value)} /></label>
      <label><span>${t('audit.toInclusive')}</span><input type="date" name="to" value=${to} onInput=${(e) => setTo(e.currentTarget.value)} /></label>
      <label><span>${t('audit.format')}</span>
        <select name="format" value=${format} onChange=${(e) => setFormat(e.currentTarget.value)}>
          <option value="jsonl">JSON Lines</option><option value="csv">CSV</option>
        </select></label>
      <div class="actions"><button type="submit" data-test="export" disabled=${outcome.busy}>${t('audit.download')}</button></div>
    </form>
    <${Outcome} error=${outcome.error} done=${outcome.done} />
  </section>`;
}
