/**
 * How the trail records emergency access. START, STOP and review events carry `change.action`
 * (the constants below). An operation sent with `X-Emergency` carries `change.emergency`: the
 * session (and its case reference), for the reads it widened and for the reads it refused.
 * Structured and inside the hashed record, so residents' disclosure, auditors' searches and the
 * anomaly query read the same flag, and it cannot be removed without breaking the chain.
 */
import type { JsonValue } from '../core/canonical-json.ts';

/** `change.action` of the events a session's start, stop and review write (schema/emergency). */
export const EMERGENCY_START_ACTION = 'emergency-start';
export const EMERGENCY_STOP_ACTION = 'emergency-stop';
export const EMERGENCY_REVIEW_ACTION = 'emergency-review';

export interface EmergencyReadFlag {
  /** The session id; null when the header named no session id at all. */
  readonly session: string | null;
  readonly caseRef: string | null;
  /** True when the session was not accepted (someone else's, ended, expired, wrong duty). */
  readonly refused: boolean;
}

/** The `change` entry of an event whose operation carried `X-Emergency`. */
export function emergencyReadFlag(session: string | null, caseRef: string | null, refused: boolean): { emergency: EmergencyReadFlag } {
  return { emergency: { session, caseRef, refused } };
}

/** The flag of a stored event's `change`, or null when the event is not an emergency read. */
export function emergencyReadOf(change: JsonValue | Readonly<Record<string, unknown>> | null | undefined): EmergencyReadFlag | null {
  if (!change || typeof change !== 'object' || Array.isArray(change)) return null;
  const flag = (change as Record<string, unknown>).emergency;
  if (!flag || typeof flag !== 'object' || Array.isArray(flag)) return null;
  const f = flag as Record<string, unknown>;
  return {
    session: typeof f.session === 'string' ? f.session : null,
    caseRef: typeof f.caseRef === 'string' ? f.caseRef : null,
    refused: f.refused === true,
  };
}

/** Whether a stored event is a read that an emergency session widened (what residents are shown). */
export function isEmergencyRead(change: JsonValue | Readonly<Record<string, unknown>> | null | undefined): boolean {
  const flag = emergencyReadOf(change);
  return !!flag && !flag.refused && flag.session !== null;
}
