// Street staff: look one person up for a duty in force, with the fields the duty's grants allow.
// Reading under an open emergency session is a choice made for each read (a box left unticked by
// default): only then is X-Emergency sent, the session's extra fields asked for, and the read
// flagged, reviewed afterwards, and shown to the person as an emergency read. An ordinary read
// stays ordinary while a session is open.
import { html, useState } from '../../lib/html.js';
import { t } from '../../lib/i18n.js';
import { graphql } from '../../lib/api.js';
import { useQuery } from '../../lib/use-query.js';
import { useEmergencySession } from '../../lib/emergency-session.js';
import { ErrorBox, Loading } from '../../components/common.js';

const GRANTS = /* GraphQL */ `query ConsoleLookupGrants { me { dutiesInForce { id title } grants { dataset duty fields { field access } } } }`;
const FIELD = /^[A-Za-z][A-Za-z0-9]*$/;

/** Person fields a duty's population grants allow (full or masked), as GraphQL selections. */
function grantedFields(me, duty) {
  const fields = new Set(['idNumber']);
  for (const g of me?.grants ?? []) {
    if (g.duty !== duty || g.dataset !== 'population') continue;
    for (const f of g.fields) if ((f.access === 'full' || f.access === 'masked') && FIELD.test(f.field)) fields.add(f.field);
  }
  return fields;
}

export function PersonLookup({ claims }) {
  const grants = useQuery(GRANTS, {});
  const { session } = useEmergencySession(claims.roles.includes('street_staff'));
  const duties = grants.data?.me.dutiesInForce ?? [];
  const [duty, setDuty] = useState('');
  const [idNumber, setIdNumber] = useState('');
  const [caseRef, setCaseRef] = useState('');
  const [underSession, setUnderSession] = useState(false);
  const [result, setResult] = useState(null);
  const chosenDuty = duty || session?.duty || duties[0]?.id || '';
  const sessionFits = !!session && session.duty === chosenDuty;
  const emergency = underSession && sessionFits;
  const submit = async (event) => {
    event.preventDefault();
    const fields = grantedFields(grants.data?.me, chosenDuty);
    const extra = emergency ? session.fields.filter((f) => f.startsWith('population.')).map((f) => f.slice('population.'.length)).filter((f) => FIELD.test(f)) : [];
    for (const f of extra) fields.add(f);
    const query = `query ConsolePersonLookup($id: ID!) { person(idNumber: $id) { ${[...fields].join(' ')} } }`;
    setResult({ loading: true });
    try {
      const data = await graphql(query, { id: idNumber.trim().toUpperCase() }, { purpose: chosenDuty, caseRef: caseRef.trim() || (emergency ? session.caseRef : undefined), emergency: emergency ? session.id : undefined });
      setResult({ person: data.person, fields: [...fields], extra: new Set(extra), emergency: emergency ? session.id : null });
    } catch (error) {
      setResult({ error });
    }
  };
  const toggle = (checked) => {
    setUnderSession(checked);
    if (checked && session?.subjectIdNumber && !idNumber) setIdNumber(session.subjectIdNumber);
  };
  return html`<section class="view" data-view="street-lookup">
    <h1>${t('view.streetLookup')}</h1>
    <p class="hint">${t('lookup.intro')}</p>
    <${ErrorBox} error=${grants.error} />
    ${grants.loading ? html`<${Loading} />` : null}
    ${grants.data
      ? html`<form class="form" data-test="lookup-form" onSubmit=${submit}>
          <label>
            <span>${t('common.duty')}</span>
            <select name="duty" value=${chosenDuty} onChange=${(e) => setDuty(e.currentTarget.value)}>
              ${duties.map((d) => html`<option value=${d.id}>${d.id} · ${d.title}</option>`)}
            </select>
          </label>
          <label><span>${t('lookup.idNumber')}</span><input name="idNumber" autocomplete="off" maxlength="18" value=${idNumber} onInput=${(e) => setIdNumber(e.currentTarget.value)} /></label>
          <label><span>${t('emergency.caseRef')}</span><input name="caseRef" value=${caseRef} placeholder=${emergency ? session.caseRef : ''} onInput=${(e) => setCaseRef(e.currentTarget.value)} /></label>
          ${session
            ? html`<label class="check emergency-choice">
                <input type="checkbox" name="underSession" data-test="under-session" checked=${emergency} disabled=${!sessionFits} onChange=${(e) => toggle(e.currentTarget.checked)} />
                <span>${sessionFits ? t('lookup.underSession', { duty: session.duty }) : t('lookup.sessionOtherDuty', { duty: session.duty })}</span>
              </label>`
            : null}
          <div class="actions"><button type="submit" data-test="lookup-submit" class=${emergency ? 'danger' : ''} disabled=${!idNumber.trim() || !chosenDuty}>${emergency ? t('lookup.readEmergency') : t('lookup.read')}</button></div>
        </form>`
      : null}
    ${result?.loading ? html`<${Loading} />` : null}
    <${ErrorBox} error=${result?.error} />
    ${result && !result.loading && !result.error
      ? result.person
        ? html`<div data-test="lookup-result" data-emergency=${result.emergency ? 'true' : 'false'}>
            ${result.emergency ? html`<div class="emergency-flag" role="status" data-test="read-flagged">${t('lookup.flagged', { id: result.emergency })}</div>` : null}
            <dl class="details">
              ${result.fields.map(
                (f) => html`<dt>${f}${result.extra.has(f) ? html` <span class="badge badge-rejected">${t('resident.emergency')}</span>` : null}</dt><dd data-field=${f}>${result.person[f] ?? '—'}</dd>`,
              )}
            </dl>
          </div>`
        : html`<p class="empty" data-test="lookup-none">${t('lookup.none')}</p>`
      : null}
  </section>`;
}
