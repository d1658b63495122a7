// Street staff: start an emergency (break-glass) session for a duty in force whose grants carry an
// emergency clause: optionally for one person, with a reason of 20 characters or more (counted as
// you type), the case reference, and at most the clause's minutes. The gateway checks it all again.
import { html, useEffect, useState } from '../../lib/html.js';
import { t } from '../../lib/i18n.js';
import { graphql } from '../../lib/api.js';
import { useQuery } from '../../lib/use-query.js';
import { adoptSession, SESSION_FIELDS, useEmergencySession } from '../../lib/emergency-session.js';
import { Access, ErrorBox, Loading, Outcome } from '../../components/common.js';

const CLAUSES = /* GraphQL */ `
  query ConsoleEmergencyClauses {
    me { street dutiesInForce { id title } grants { id dataset duty emergency { fields { field access } maxMinutes } } }
  }
`;
const START = /* GraphQL */ `
  mutation ConsoleStartEmergency($duty: ID!, $subject: ID, $reason: String!, $caseRef: String!, $minutes: Int) {
    startEmergencyAccess(duty: $duty, subjectIdNumber: $subject, reason: $reason, caseRef: $caseRef, minutes: $minutes) { ${SESSION_FIELDS} }
  }
`;

/** As the gateway counts (a Chinese character is one). */
export const MIN_REASON = 20;
const chars = (text) => [...text.trim()].length;

/** Duties in force with an emergency clause: their title, the fields it adds, the longest session (the shortest clause). */
export function emergencyDuties(me) {
  const byDuty = new Map();
  for (const d of me?.dutiesInForce ?? []) {
    const clauses = (me.grants ?? []).filter((g) => g.duty === d.id && g.emergency);
    if (clauses.length === 0) continue;
    byDuty.set(d.id, {
      id: d.id,
      title: d.title,
      maxMinutes: Math.min(...clauses.map((g) => g.emergency.maxMinutes)),
      fields: clauses.flatMap((g) => g.emergency.fields.map((f) => ({ field: `${g.dataset}.${f.field}`, access: f.access }))),
    });
  }
  return [...byDuty.values()];
}

export function EmergencyStart() {
  const clauses = useQuery(CLAUSES, {});
  const open = useEmergencySession();
  const duties = emergencyDuties(clauses.data?.me);
  const [duty, setDuty] = useState('');
  const [subject, setSubject] = useState('');
  const [reason, setReason] = useState('');
  const [caseRef, setCaseRef] = useState('');
  const [minutes, setMinutes] = useState('');
  const [outcome, setOutcome] = useState({});
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!duty && duties.length > 0) setDuty(duties[0].id);
  }, [duties.length]);
  const chosen = duties.find((d) => d.id === duty);
  useEffect(() => {
    if (chosen) setMinutes(String(chosen.maxMinutes));
  }, [chosen?.id]);
  const count = chars(reason);
  const ready = chosen && count >= MIN_REASON && caseRef.trim() !== '' && Number(minutes) >= 1 && Number(minutes) <= chosen.maxMinutes;
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setOutcome({});
    try {
      const variables = { duty, subject: subject.trim() || undefined, reason: reason.trim(), caseRef: caseRef.trim(), minutes: Number(minutes) };
      const data = await graphql(START, variables);
      // The ID number as typed (normalised as the gateway does): asking for it back would be a look-up.
      adoptSession({ ...data.startEmergencyAccess, subjectIdNumber: data.startEmergencyAccess.forOnePerson ? variables.subject.toUpperCase() : null });
      setOutcome({ done: t('emergency.started') });
      setReason('');
    } catch (error) {
      setOutcome({ error });
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="view" data-view="street-emergency">
    <h1>${t('view.streetEmergency')}</h1>
    <p class="hint">${t('emergency.intro')}</p>
    <${ErrorBox} error=${clauses.error} />
    ${clauses.loading ? html`<${Loading} />` : null}
    ${open.session
      ? html`<div class="notice" data-test="emergency-open">${t('emergency.alreadyOpen')} <a href="/console/street/lookup">${t('emergency.readUnder')}</a></div>`
      : null}
    ${clauses.data && duties.length === 0 ? html`<p class="empty" data-test="no-emergency-duty">${t('emergency.noClause')}</p>` : null}
    ${clauses.data && duties.length > 0 && !open.session
      ? html`<form class="form" data-test="emergency-form" onSubmit=${submit}>
          <label>
            <span>${t('common.duty')}</span>
            <select name="duty" value=${duty} onChange=${(e) => setDuty(e.currentTarget.value)}>
              ${duties.map((d) => html`<option value=${d.id}>${d.id} · ${d.title}</option>`)}
            </select>
          </label>
          ${chosen
            ? html`<div class="hint" data-test="emergency-fields">
                ${t('emergency.adds')} ${chosen.fields.map((f) => html`<span class="field-chip"><code>${f.field}</code> <${Access} access=${f.access} /></span>`)}
              </div>`
            : null}
          <label>
            <span>${t('emergency.subject')}</span>
            <input name="subject" inputmode="text" autocomplete="off" maxlength="18" value=${subject} placeholder=${t('emergency.subjectHint')} onInput=${(e) => setSubject(e.currentTarget.value)} />
          </label>
          <label>
            <span>${t('common.reason')}</span>
            <textarea name="reason" rows="3" value=${reason} onInput=${(e) => setReason(e.currentTarget.value)}></textarea>
            <span class=${count >= MIN_REASON ? 'counter counter-ok' : 'counter'} data-test="reason-counter" aria-live="polite">${t('emergency.reasonCount', { count, min: MIN_REASON })}</span>
          </label>
          <label>
            <span>${t('emergency.caseRef')}</span>
            <input name="caseRef" value=${caseRef} onInput=${(e) => setCaseRef(e.currentTarget.value)} />
          </label>
          <label>
            <span>${t('emergency.minutes', { max: chosen?.maxMinutes ?? '' })}</span>
            <input name="minutes" type="number" min="1" max=${chosen?.maxMinutes ?? 60} value=${minutes} onInput=${(e) => setMinutes(e.currentTarget.value)} />
          </label>
          <div class="actions"><button type="submit" class="danger" data-test="emergency-start" disabled=${!ready || busy}>${t('emergency.start')}</button></div>
        </form>`
      : null}
    <${Outcome} error=${outcome.error} done=${outcome.done} />
  </section>`;
}
