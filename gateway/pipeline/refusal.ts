/**
 * Requests refused before any operation runs (a rate limit, a body too large, a document over the
 * token limit) are audited the way useAuthentication audits an UNAUTHENTICATED one: one `deny`
 * event, stored before the answer leaves; if it cannot be stored, 503 instead.
 */
import { auditEvent, type AuditSink } from '../../audit/audit-event.ts';
import type { Viewer } from '../../core/identity.ts';
import { GatewayError } from '../../core/errors.ts';

export interface Refusal {
  readonly request: Request;
  readonly viewer?: Viewer;
  readonly error: GatewayError;
  /** When handling the request started (Date.now()). */
  readonly started: number;
  readonly requestId?: string;
  /** `http` when refused before the operation was parsed. */
  readonly operationType?: string;
  readonly operationName?: string | null;
}

/** Appends the refusal's audit event; false when it could not be stored. */
export async function auditRefusal(sink: AuditSink, refusal: Refusal): Promise<boolean> {
  const { error, viewer, request } = refusal;
  try {
    await sink.append(
      auditEvent(
        { requestId: refusal.requestId ?? crypto.randomUUID(), started: refusal.started, viewer, purpose: request.headers.get('x-purpose') },
        { operationType: refusal.operationType ?? 'http', operationName: refusal.operationName ?? null, decision: 'deny', reason: `${error.code}: ${error.message}` },
      ),
    );
    return true;
  } catch {
    return false;
  }
}

/** A GraphQL-shaped error answer with the error's code and details, at `status`. */
export function refusalResponse(error: GatewayError, status = error.status, headers: Record<string, string> = {}): Response {
  const { http: _http, ...extensions } = error.extensions as Record<string, unknown>;
  return new Response(JSON.stringify({ errors: [{ message: error.message, extensions }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

export const AUDIT_UNAVAILABLE = (): Response =>
  refusalResponse(new GatewayError('SERVICE_UNAVAILABLE', 'audit log unavailable; the request was not processed'));
