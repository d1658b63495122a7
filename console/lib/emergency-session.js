// The signed-in clerk's open emergency session, shared by the banner shown on every view and the
// views that start it, end it or read under it. The time left is counted down in the browser from
// the gateway's `secondsLeft` (not from `expiresAt`, so a wrong clock on this computer does not
// shorten or lengthen it); at zero the session is dropped here, and the gateway refuses it anyway.
import { graphql } from './api.js';
import { useEffect, useState } from './html.js';

// Asking for `subjectIdNumber` is a look-up of that person (recorded, and listed on their page), so
// the banner's repeated question asks only whether the session is for one person; the ID number is
// the one the clerk typed, as the start answered it.
export const SESSION_FIELDS = 'id duty forOnePerson reason caseRef fields startedAt expiresAt secondsLeft state';
const MINE = /* GraphQL */ `query ConsoleMyEmergencySession { myEmergencySession { ${SESSION_FIELDS} } }`;
const END = /* GraphQL */ `mutation ConsoleEndEmergency($id: ID!) { endEmergencyAccess(id: $id) { id state endedAt } }`;

/** { session, endsAt (this browser's clock, ms), loaded, error } */
let state = { session: null, endsAt: 0, loaded: false, error: null };
let timer = null;
const listeners = new Set();

function publish(next) {
  state = next;
  clearTimeout(timer);
  // Ends by itself at expiry: the banner goes, and reads are no longer offered under it.
  if (state.session) timer = setTimeout(() => publish({ ...state, session: null, endsAt: 0, expired: state.session.id }), Math.max(0, state.endsAt - Date.now()));
  for (const listener of listeners) listener(state);
}

/** Takes a session as the gateway answered it (start, or myEmergencySession), keeping the ID number the start gave. */
export function adoptSession(session) {
  const known = state.session?.id === session?.id ? state.session?.subjectIdNumber : undefined;
  if (session && session.subjectIdNumber === undefined && known) session = { ...session, subjectIdNumber: known };
  publish({ session: session && session.state === 'OPEN' && session.secondsLeft > 0 ? session : null, endsAt: session ? Date.now() + session.secondsLeft * 1000 : 0, loaded: true, error: null });
}

let asking = null;

/** Asks the gateway for the open session (on sign-in and after anything that may have changed it); one call at a time. */
export function refreshEmergencySession() {
  asking ??= graphql(MINE)
    .then(
      (data) => adoptSession(data.myEmergencySession),
      (error) => publish({ ...state, loaded: true, error }),
    )
    .finally(() => {
      asking = null;
    });
  return asking;
}

/** Ends the session now; resolves with the ended session, rejects with the gateway's error. */
export async function endEmergencySession(id) {
  try {
    const data = await graphql(END, { id });
    return data.endEmergencyAccess;
  } finally {
    await refreshEmergencySession();
  }
}

/** Forgets the session (sign-out). */
export function clearEmergencySession() {
  publish({ session: null, endsAt: 0, loaded: false, error: null });
}

/**
 * The open session and the seconds left, re-rendering every second while one is open.
 * `enabled` false (not street staff) asks nothing.
 */
export function useEmergencySession(enabled = true) {
  const [current, setCurrent] = useState(state);
  const [, tick] = useState(0);
  useEffect(() => {
    if (!enabled) return;
    listeners.add(setCurrent);
    if (!state.loaded) refreshEmergencySession();
    setCurrent(state);
    return () => listeners.delete(setCurrent);
  }, [enabled]);
  useEffect(() => {
    if (!current.session) return;
    const interval = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(interval);
  }, [current.session?.id]);
  if (!enabled) return { session: null, secondsLeft: 0, loaded: true, error: null };
  const secondsLeft = current.session ? Math.max(0, Math.ceil((current.endsAt - Date.now()) / 1000)) : 0;
  return { session: current.session, secondsLeft, loaded: current.loaded, error: current.error, expired: current.expired };
}

/** `12:05` (minutes:seconds), or `1:02:05` past an hour. */
export function formatCountdown(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}
