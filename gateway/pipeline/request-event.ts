/**
 * The one way a request's event is stored: at most once per request (its state remembers), with
 * the origin every event of a request shares (server-made request id, start, viewer, the raw
 * X-Purpose and X-Case-Ref, which auditEvent reduces to their recorded forms). useAudit and the
 * refusals before parsing (refusal.ts) both record through here.
 */
import { auditEvent, type AuditSink, type EventOutcome } from '../../audit/audit-event.ts';
import type { RequestState } from './request-state.ts';

/** True once the request has its event (now or earlier); false when it could not be stored. */
export async function recordRequestEvent(sink: AuditSink, state: RequestState, request: Request | undefined, outcome: EventOutcome): Promise<boolean> {
  if (state.audited) return true;
  state.audited = true;
  try {
    await sink.append(
      auditEvent({ requestId: state.requestId, started: state.started, viewer: state.viewer, purpose: request?.headers.get('x-purpose'), caseRef: request?.headers.get('x-case-ref') }, outcome),
    );
    return true;
  } catch {
    return false;
  }
}
