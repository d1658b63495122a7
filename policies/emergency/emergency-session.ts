/**
 * An emergency session (CONTRACT.md § "Emergency access (break-glass)"): one street clerk, one
 * duty, optionally one person, for at most the grants' `maxMinutes`; started with a reason and a
 * case reference, ended early or at its expiry, and reviewed afterwards by someone else.
 *
 * START and the review each write an event, and every session stops with exactly one STOP event:
 * written by `endEmergencyAccess` for an early end (or an UNJUSTIFIED review of an open session, just
 * before its review event), or, for an expiry, by whichever instance notices
 * it first (a sweep on a timer, or the next look-up of the session: schema/emergency/emergency-expiry.ts).
 * From `expiresAt` on every read under the session is refused whether or not that STOP is written yet.
 *
 * The row says which stop it had: `endedAt` before `expiresAt` is an early end (by `endedBy`);
 * `endedAt` equal to `expiresAt` (and `endedBy` null) is an expiry whose STOP is in the trail; no
 * `endedAt` past `expiresAt` is an expiry whose STOP is still to be written.
 */
export type EmergencyVerdict = 'JUSTIFIED' | 'UNJUSTIFIED';

export type EmergencyState = 'OPEN' | 'ENDED' | 'EXPIRED';

export interface EmergencySession {
  readonly id: string;
  /** The clerk who started it: the only one who may read under it. */
  readonly userSub: string;
  readonly org: string;
  /** 9-digit street code of `org`. */
  readonly street: string;
  readonly duty: string;
  /** When set, every row read under the session is this person's (or their account, their houses). */
  readonly subjectIdNumber: string | null;
  readonly reason: string;
  readonly caseRef: string;
  /** Grants whose emergency clauses the session opened, at its start. */
  readonly grants: readonly string[];
  /** `dataset.field` the session added to the duty's plan, at its start. */
  readonly fields: readonly string[];
  /** Departments owning those datasets: their data owners review the session. */
  readonly owners: readonly string[];
  readonly startedAt: Date;
  readonly expiresAt: Date;
  readonly endedAt: Date | null;
  readonly endedBy: string | null;
  readonly verdict: EmergencyVerdict | null;
  readonly reviewNote: string | null;
  readonly reviewedBy: string | null;
  readonly reviewedAt: Date | null;
}

/** Unreviewed this long after its start, a session is overdue for review (CONTRACT.md: 3 days). */
export const REVIEW_DUE_MS = 3 * 86_400_000;

export function sessionState(session: EmergencySession, now: number): EmergencyState {
  const ended = session.endedAt?.getTime();
  // An end at the expiry instant is the expiry's recorded STOP, not an early end.
  if (ended !== undefined && ended <= now && ended < session.expiresAt.getTime()) return 'ENDED';
  if (session.expiresAt.getTime() <= now) return 'EXPIRED';
  return 'OPEN';
}

/** When the session stopped (ended early or expired), or null while it is open. */
export function sessionStoppedAt(session: EmergencySession, now: number): Date | null {
  const state = sessionState(session, now);
  if (state === 'OPEN') return null;
  return state === 'ENDED' ? session.endedAt : session.expiresAt;
}

/** Past its expiry with no STOP event written for it yet (what the expiry recorder looks for). */
export function expiryUnrecorded(session: EmergencySession, now: number): boolean {
  return session.endedAt === null && session.expiresAt.getTime() <= now;
}

export function isOverdue(session: EmergencySession, now: number): boolean {
  return session.reviewedAt === null && session.startedAt.getTime() + REVIEW_DUE_MS <= now;
}
