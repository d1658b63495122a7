/**
 * Who may start, use, end and review an emergency session, and its limits. Pure: the resolvers and
 * the pipeline give the facts (the viewer, the session, the grants, the time) and get a decision, so
 * every rule is tested on its own and decided in one place.
 */
import { GatewayError } from '../../core/errors.ts';
import { DATASETS } from '../../core/datasets.ts';
import { hasRole, isDutyId, streetCodeOf, type Viewer } from '../../core/identity.ts';
import { DEFAULT_EMERGENCY_MINUTES } from './emergency-clause.ts';
import { emergencyFieldNames, type EmergencyGrant } from './emergency-plan.ts';
import { sessionState, type EmergencySession, type EmergencyVerdict } from './emergency-session.ts';

/** A reason must say what the emergency is: 20 characters at least (CONTRACT.md). */
export const MIN_REASON_LENGTH = 20;
export const MAX_REASON_LENGTH = 2000;
export const MAX_CASE_REF_LENGTH = 100;
export const MAX_NOTE_LENGTH = 2000;
/** A resident ID number (GB 11643): 17 digits and a check character. */
export const ID_NUMBER = /^\d{17}[\dX]$/;

/** Characters as a reader counts them (a Chinese character is one). */
const length = (text: string): number => [...text].length;

export interface StartRequest {
  readonly duty: string;
  readonly subjectIdNumber?: string | null;
  readonly reason: string;
  readonly caseRef: string;
  /** Shorter than the grants allow, if the clerk wishes; never longer. */
  readonly minutes?: number | null;
}

/** A start request that passed every check: what the store records (the session's own facts at its start). */
export type StartPlan = Pick<
  EmergencySession,
  'street' | 'duty' | 'subjectIdNumber' | 'reason' | 'caseRef' | 'grants' | 'fields' | 'owners' | 'startedAt' | 'expiresAt'
>;

export interface StartFacts {
  readonly viewer: Viewer | undefined;
  /** Why the street may not work on the duty at all (the normal plan's refusal), or null. */
  readonly dutyRefusal: string | null;
  /** The grants in force for the street and duty that carry an emergency clause. */
  readonly grants: readonly EmergencyGrant[];
  readonly now: number;
}

const badInput = (argument: string, message: string) => new GatewayError('BAD_USER_INPUT', message, { details: { argument } });

/**
 * Checks a start request; throws the error the caller gets (FORBIDDEN for who and what,
 * BAD_USER_INPUT for the arguments). The session lasts the shortest `maxMinutes` of the grants it
 * opens (each owner's limit holds), or `minutes` when shorter.
 */
export function planStart(request: StartRequest, facts: StartFacts): StartPlan {
  const viewer = facts.viewer;
  if (!viewer) throw new GatewayError('UNAUTHENTICATED', 'authentication required');
  const street = streetCodeOf(viewer.org);
  if (!hasRole(viewer, 'street_staff') || !street) {
    throw new GatewayError('FORBIDDEN', 'only street staff of a street office may start emergency access');
  }
  const duty = request.duty.trim();
  if (!isDutyId(duty)) throw badInput('duty', 'duty must be a duty id');
  const reason = request.reason.trim();
  if (length(reason) < MIN_REASON_LENGTH) throw badInput('reason', `reason must say what the emergency is, in ${MIN_REASON_LENGTH} characters or more`);
  if (length(reason) > MAX_REASON_LENGTH) throw badInput('reason', `reason must be at most ${MAX_REASON_LENGTH} characters`);
  const caseRef = request.caseRef.trim();
  if (caseRef === '') throw badInput('caseRef', 'caseRef must name the case or incident');
  if (length(caseRef) > MAX_CASE_REF_LENGTH) throw badInput('caseRef', `caseRef must be at most ${MAX_CASE_REF_LENGTH} characters`);
  let subject: string | null = null;
  if (request.subjectIdNumber !== undefined && request.subjectIdNumber !== null) {
    subject = request.subjectIdNumber.trim().toUpperCase();
    if (!ID_NUMBER.test(subject)) throw badInput('subjectIdNumber', 'subjectIdNumber must be an 18-character resident ID number');
  }
  if (facts.dutyRefusal) throw new GatewayError('FORBIDDEN', facts.dutyRefusal, { details: { purpose: duty } });
  if (facts.grants.length === 0) {
    throw new GatewayError('FORBIDDEN', `no grant for duty "${duty}" allows emergency access for street ${street}`, { details: { purpose: duty } });
  }
  const allowed = Math.min(...facts.grants.map((g) => g.emergency.maxMinutes ?? DEFAULT_EMERGENCY_MINUTES));
  let minutes = allowed;
  if (request.minutes !== undefined && request.minutes !== null) {
    if (!Number.isInteger(request.minutes) || request.minutes < 1) throw badInput('minutes', 'minutes must be a whole number of at least 1');
    if (request.minutes > allowed) throw badInput('minutes', `the grants allow at most ${allowed} minutes of emergency access for "${duty}"`);
    minutes = request.minutes;
  }
  return {
    street,
    duty,
    subjectIdNumber: subject,
    reason,
    caseRef,
    grants: facts.grants.map((g) => g.id),
    fields: emergencyFieldNames(facts.grants),
    owners: [...new Set(facts.grants.map((g) => DATASETS[g.dataset].owner))].sort(),
    startedAt: new Date(facts.now),
    expiresAt: new Date(facts.now + minutes * 60_000),
  };
}

/**
 * Why `session` may not widen this read, or null when it may: it must exist, be the viewer's own,
 * be for the viewer's street and the duty the read declares, and be open.
 * Every refusal says the same to a caller who is not the session's user, so that a guessed id
 * teaches nothing about other people's sessions.
 */
export function readRefusal(session: EmergencySession | undefined, viewer: Viewer | undefined, purpose: string | undefined, now: number): string | null {
  if (!session || !viewer || session.userSub !== viewer.sub || session.org !== viewer.org) {
    return 'X-Emergency names no emergency session of yours';
  }
  if (!hasRole(viewer, 'street_staff')) return 'emergency access requires the street_staff role';
  if (purpose !== session.duty) return `emergency session ${session.id} is for duty "${session.duty}"; declare it in X-Purpose`;
  const state = sessionState(session, now);
  if (state === 'ENDED') return `emergency session ${session.id} has ended`;
  if (state === 'EXPIRED') return `emergency session ${session.id} has expired`;
  return null;
}

/** Throws unless `viewer` may end `session`: its own user, while it is open. */
export function checkEnd(session: EmergencySession | undefined, viewer: Viewer | undefined, now: number): EmergencySession {
  if (!session || !viewer || session.userSub !== viewer.sub || session.org !== viewer.org) {
    throw new GatewayError('FORBIDDEN', 'no emergency session of yours has this id');
  }
  const state = sessionState(session, now);
  if (state !== 'OPEN') throw new GatewayError('BAD_USER_INPUT', `emergency session ${session.id} has already ${state === 'ENDED' ? 'ended' : 'expired'}`);
  return session;
}

/** Whether `viewer` may see `session` in the review lists: a data owner of a department it concerns, or an auditor. */
export function mayReview(session: EmergencySession, viewer: Viewer | undefined): boolean {
  if (!viewer) return false;
  if (hasRole(viewer, 'auditor')) return true;
  return hasRole(viewer, 'data_owner') && session.owners.includes(viewer.org);
}

/**
 * Throws unless `viewer` may review `session` now: a data owner of a department whose data it
 * opened, or an auditor; never the session's own user; once.
 */
export function checkReview(session: EmergencySession | undefined, viewer: Viewer | undefined, verdict: string, note: string): { verdict: EmergencyVerdict; note: string } {
  if (!viewer) throw new GatewayError('UNAUTHENTICATED', 'authentication required');
  if (!hasRole(viewer, 'data_owner') && !hasRole(viewer, 'auditor')) {
    throw new GatewayError('FORBIDDEN', 'emergency sessions are reviewed by data owners and auditors');
  }
  if (!session) throw new GatewayError('BAD_USER_INPUT', 'no emergency session has this id', { details: { argument: 'id' } });
  if (session.userSub === viewer.sub) throw new GatewayError('FORBIDDEN', 'nobody reviews their own emergency session');
  if (!mayReview(session, viewer)) {
    throw new GatewayError('FORBIDDEN', `emergency session ${session.id} opened data of ${session.owners.join(', ')}; only their data owners or an auditor review it`);
  }
  if (session.reviewedAt) throw new GatewayError('BAD_USER_INPUT', `emergency session ${session.id} was already reviewed`);
  if (verdict !== 'JUSTIFIED' && verdict !== 'UNJUSTIFIED') throw badInput('verdict', 'verdict must be JUSTIFIED or UNJUSTIFIED');
  const trimmed = note.trim();
  if (trimmed === '') throw badInput('note', 'note must say why');
  if (length(trimmed) > MAX_NOTE_LENGTH) throw badInput('note', `note must be at most ${MAX_NOTE_LENGTH} characters`);
  return { verdict, note: trimmed };
}
