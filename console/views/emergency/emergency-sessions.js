// Data owners (sessions that opened their department's data) and security officers: the emergency
// sessions to review, newest first, overdue ones marked (3 days after the start). Each shows who
// opened it, where, for which duty and case, why, when, whether for one person, and what the audit
// trail holds of the reads made under it; the verdict (JUSTIFIED or UNJUSTIFIED) comes with a note.
// A session's own user cannot review it: the gateway refuses, and the refusal is shown as it came.
import { html, useState } from '../../lib/html.js';
import { t, formatTime } from '../../lib/i18n.js';
import { graphql } from '../../lib/api.js';
import { setParams } from '../../lib/router.js';
import { useQuery } from '../../lib/use-query.js';
import { ErrorBox, Loading, Outcome, StateBadge, Street } from '../../components/common.js';

const SESSIONS = /* GraphQL */ `
  query ConsoleEmergencySessions($review: EmergencyReviewFilter) {
    emergencySessions(review: $review, first: 100) {
      id user org street duty forOnePerson reason caseRef fields startedAt expiresAt endedAt endedBy state reviewDueAt overdue
      review { verdict note reviewer reviewedAt }
      activity { operations allowed refused rows persons fields }
    }
  }
`;
const SUBJECT = /* GraphQL */ `query ConsoleEmergencySubject($id: ID!) { emergencySession(id: $id) { id subjectIdNumber } }`;
const REVIEW = /* GraphQL */ `
  mutation ConsoleReviewEmergency($id: ID!, $verdict: EmergencyVerdict!, $note: String!) {
    reviewEmergencyAccess(id: $id, verdict: $verdict, note: $note) { id review { verdict note reviewer reviewedAt } }
  }
`;
const FILTERS = ['UNREVIEWED', 'OVERDUE', 'REVIEWED', 'ANY'];

/** Whom the session was for: nobody in particular, or one person, shown only when asked (a look-up, audited). */
function Subject({ session }) {
  const [shown, setShown] = useState(null);
  if (!session.forOnePerson) return html`<span data-test="subject">${t('emergency.noSubject')}</span>`;
  const reveal = async () => {
    try {
      const data = await graphql(SUBJECT, { id: session.id });
      setShown({ id: data.emergencySession?.subjectIdNumber ?? '—' });
    } catch (error) {
      setShown({ error });
    }
  };
  if (shown?.id) return html`<code data-test="subject">${shown.id}</code>`;
  return html`<span data-test="subject">${t('emergency.onePerson')} <button type="button" class="secondary small" onClick=${reveal}>${t('emergency.showSubject')}</button><${ErrorBox} error=${shown?.error} /></span>`;
}

function ReviewForm({ session, onDone }) {
  const [verdict, setVerdict] = useState('JUSTIFIED');
  const [note, setNote] = useState('');
  const [outcome, setOutcome] = useState({});
  const submit = async (event) => {
    event.preventDefault();
    setOutcome({});
    try {
      const data = await graphql(REVIEW, { id: session.id, verdict, note });
      onDone(data.reviewEmergencyAccess);
    } catch (error) {
      setOutcome({ error });
    }
  };
  return html`<form class="inline-form review-form" data-test="review-form" onSubmit=${submit}>
    <select name="verdict" value=${verdict} onChange=${(e) => setVerdict(e.currentTarget.value)}>
      <option value="JUSTIFIED">${t('emergency.JUSTIFIED')}</option>
      <option value="UNJUSTIFIED">${t('emergency.UNJUSTIFIED')}</option>
    </select>
    <textarea name="note" rows="2" placeholder=${t('emergency.notePlaceholder')} value=${note} onInput=${(e) => setNote(e.currentTarget.value)}></textarea>
    <button type="submit" data-test="review-submit" disabled=${note.trim() === ''}>${t('emergency.review')}</button>
    <${Outcome} error=${outcome.error} done=${outcome.done} />
  </form>`;
}

function SessionCard({ session, me, onReviewed }) {
  const a = session.activity;
  return html`<li class="card" data-test="emergency-session" data-session=${session.id} data-overdue=${session.overdue ? 'true' : 'false'}>
    <header>
      <h2>${session.duty}</h2>
      <${StateBadge} state=${session.state} />
      ${session.overdue ? html`<span class="badge badge-overdue" data-test="overdue">${t('emergency.overdue')}</span>` : null}
      ${session.review ? html`<span class=${`badge verdict-${session.review.verdict.toLowerCase()}`}>${t(`emergency.${session.review.verdict}`)}</span>` : null}
      ${session.user === me ? html`<span class="badge" data-test="own-session">${t('emergency.yours')}</span>` : null}
    </header>
    <dl class="details compact">
      <dt>${t('emergency.user')}</dt><dd data-test="user">${session.user}</dd>
      <dt>${t('common.street')}</dt><dd><${Street} code=${session.street} /></dd>
      <dt>${t('emergency.subjectShort')}</dt><dd><${Subject} session=${session} /></dd>
      <dt>${t('common.reason')}</dt><dd data-test="reason">${session.reason}</dd>
      <dt>${t('emergency.caseRef')}</dt><dd>${session.caseRef}</dd>
      <dt>${t('emergency.period')}</dt><dd>${formatTime(session.startedAt)} → ${formatTime(session.endedAt ?? session.expiresAt)} ${session.endedBy ? t('emergency.endedBy', { by: session.endedBy }) : session.state === 'EXPIRED' ? t('emergency.expiredAt') : ''}</dd>
      <dt>${t('emergency.reviewDue')}</dt><dd>${formatTime(session.reviewDueAt)}</dd>
      <dt>${t('emergency.reads')}</dt>
      <dd data-test="activity">
        ${t('emergency.activity', { operations: a.operations, allowed: a.allowed, refused: a.refused, rows: a.rows, persons: a.persons })}
        ${a.fields.length ? html`<div><small>${a.fields.join(', ')}</small></div>` : null}
      </dd>
      ${session.review
        ? html`<dt>${t('emergency.review')}</dt><dd data-test="review">${t(`emergency.${session.review.verdict}`)} · ${session.review.reviewer} · ${formatTime(session.review.reviewedAt)}<div>${session.review.note}</div></dd>`
        : null}
    </dl>
    ${session.review ? null : html`<${ReviewForm} session=${session} onDone=${onReviewed} />`}
  </li>`;
}

export function EmergencySessions({ params, claims }) {
  const review = FILTERS.includes(params.get('review')) ? params.get('review') : 'UNREVIEWED';
  const { data, error, loading, reload } = useQuery(SESSIONS, { review });
  const sessions = data?.emergencySessions ?? [];
  const [reviewed, setReviewed] = useState(null);
  const onReviewed = (result) => {
    setReviewed(result);
    reload();
  };
  return html`<section class="view" data-view="emergency-sessions">
    <h1>${t('view.emergencySessions')}</h1>
    <p class="hint">${t('emergency.queueIntro')}</p>
    <div class="filters">
      <label>
        <span>${t('emergency.filter')}</span>
        <select name="review" value=${review} onChange=${(e) => setParams({ review: e.currentTarget.value })}>
          ${FILTERS.map((f) => html`<option value=${f}>${t(`emergency.filter${f}`)}</option>`)}
        </select>
      </label>
    </div>
    ${reviewed
      ? html`<div class="success" role="status" data-test="review-done">${t('emergency.reviewedNotice', { id: reviewed.id, verdict: t(`emergency.${reviewed.review.verdict}`) })}</div>`
      : null}
    <${ErrorBox} error=${error} />
    ${loading ? html`<${Loading} />` : null}
    ${data && sessions.length === 0 ? html`<p class="empty">${t('emergency.queueEmpty')}</p>` : null}
    <ul class="cards" data-test="emergency-sessions">
      ${sessions.map((s) => html`<${SessionCard} key=${s.id} session=${s} me=${claims.sub} onReviewed=${onReviewed} />`)}
    </ul>
  </section>`;
}
