/**
 * The audit events of an emergency session's steps (START, STOP, review), built in one place so
 * that a STOP written by `endEmergencyAccess` and one written for an expiry (emergency-expiry.ts)
 * carry the same facts in the same shape.
 */
import { auditEvent, type AuditEventInput } from '../../audit/audit-event.ts';
import type { Viewer } from '../../core/identity.ts';
import { scrubText } from '../../core/personal-data.ts';
import type { EmergencySession } from '../../policies/emergency/emergency-session.ts';

/** Who caused the step: a request (its id and viewer), or the gateway itself (an expiry: no viewer). */
export interface StepOrigin {
  readonly requestId: string;
  readonly viewer: Viewer | undefined;
}

/** The event of one step of a session, with the session's facts and the step's own `extra`. */
export function sessionEvent(
  origin: StepOrigin,
  session: EmergencySession,
  step: string,
  action: string,
  extra: Record<string, unknown>,
  reason: string,
  { withSubject = true }: { withSubject?: boolean } = {},
): AuditEventInput {
  return auditEvent(
    { requestId: origin.requestId, started: Date.now(), viewer: origin.viewer, purpose: session.duty },
    {
      operationType: 'mutation',
      operationName: `emergency:${step}`,
      decision: 'allow',
      reason,
      fields: [...session.fields],
      subjects: withSubject && session.subjectIdNumber ? [session.subjectIdNumber] : [],
      change: {
        action,
        session: session.id,
        user: session.userSub,
        org: session.org,
        street: session.street,
        duty: session.duty,
        caseRef: scrubText(session.caseRef),
        expiresAt: session.expiresAt.toISOString(),
        ...extra,
      },
    },
  );
}
