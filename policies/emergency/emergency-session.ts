/**
 * An emergency session (CONTRACT.md § "Emergency access (break-glass)"): one street clerk, one
 * duty, optionally one person, for at most the grants' `maxMinutes`; started with a reason and a
 * case reference, ended early or at its expiry, and reviewed afterwards by someone else.
 *
 * START, an early end (STOP) and the review each write an event; an expiry writes none, as a
 * grant's end writes none: the START event records `expiresAt`, and from that instant every read
 * under the session is refused (and that refusal is an event, flagged with the session).
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
  if (session.endedAt && session.endedAt.getTime() <= now) return 'ENDED';
  if (session.expiresAt.getTime() <= now) return 'EXPIRED';
  return 'OPEN';
}

/** When the session stopped (ended early or expired), or null while it is open. */
export function sessionStoppedAt(session: EmergencySession, now: number): Date | null {
  const state = sessionState(session, now);
  if (state === 'OPEN') return null;
  return state === 'ENDED' ? session.endedAt : session.expiresAt;
}

export function isOverdue(session: EmergencySession, now: number): boolean {
  return session.reviewedAt === null && session.startedAt.getTime() + REVIEW_DUE_MS <= now;
}
