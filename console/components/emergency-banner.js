// The banner a street clerk sees on every view while their emergency session is open: for which
// duty and case, the time left (counting down, gone by itself at the expiry), what reading under it
// means, and "end now". Loud on purpose: nobody should forget that a session is open.
import { html, useState } from '../lib/html.js';
import { t } from '../lib/i18n.js';
import { endEmergencySession, formatCountdown, useEmergencySession } from '../lib/emergency-session.js';
import { ErrorBox } from './common.js';

export function EmergencyBanner({ claims }) {
  const staff = claims.roles.includes('street_staff');
  const { session, secondsLeft, expired } = useEmergencySession(staff);
  const [error, setError] = useState(null);
  const [ending, setEnding] = useState(false);
  const [ended, setEnded] = useState(null);
  if (!staff) return null;
  if (!session) {
    if (ended) return html`<div class="emergency-over" role="status" data-test="emergency-over">${t('emergency.endedNotice')}</div>`;
    if (expired) return html`<div class="emergency-over" role="status" data-test="emergency-over">${t('emergency.expiredNotice')}</div>`;
    return null;
  }
  const end = async () => {
    setEnding(true);
    setError(null);
    try {
      setEnded(await endEmergencySession(session.id));
    } catch (caught) {
      setError(caught);
    } finally {
      setEnding(false);
    }
  };
  return html`<section class="emergency-banner" data-test="emergency-banner" data-session=${session.id} aria-label=${t('emergency.bannerLabel')}>
    <div class="emergency-main">
      <strong>${t('emergency.bannerTitle')}</strong>
      <span> ${t('emergency.bannerFor', { duty: session.duty, caseRef: session.caseRef })}</span>
      ${session.forOnePerson
        ? html`<span data-test="emergency-one-person"> ${session.subjectIdNumber ? t('emergency.bannerOnePerson', { id: session.subjectIdNumber }) : t('emergency.bannerOnePersonOnly')}</span>`
        : null}
    </div>
    <div class="emergency-time">
      <span class="countdown" data-test="emergency-countdown" data-seconds=${secondsLeft} role="timer">${formatCountdown(secondsLeft)}</span>
      <span> ${t('emergency.left')}</span>
    </div>
    <button type="button" class="danger" data-test="emergency-end" disabled=${ending} onClick=${end}>${t('emergency.endNow')}</button>
    <p class="emergency-rule">${t('emergency.bannerRule')} <a href="/console/street/lookup">${t('emergency.readUnder')}</a></p>
    <${ErrorBox} error=${error} />
  </section>`;
}
