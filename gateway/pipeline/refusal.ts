/**
 * Requests refused before any operation runs (no valid token, a malformed purpose, a rate limit,
 * a body too large) leave one `deny` event each, stored before the answer leaves; if it cannot be
 * stored the caller gets 503 instead. The refusal is then thrown: yoga answers with the error's
 * `extensions.http` status and headers.
 */
import type { AuditSink } from '../../audit/audit-event.ts';
import { GatewayError } from '../../core/errors.ts';
import { requestState } from './request-state.ts';
import { recordRequestEvent } from './request-event.ts';

export const auditUnavailable = (): GatewayError =>
  new GatewayError('SERVICE_UNAVAILABLE', 'audit log unavailable; the request was not processed');

/** Appends the request's one event for a refusal; false when it could not be stored. */
export async function auditRefusal(
  sink: AuditSink,
  request: Request,
  error: GatewayError,
  operation: { type?: string; name?: string | null } = {},
): Promise<boolean> {
  const state = requestState(request);
  return recordRequestEvent(sink, state, request, {
    operationType: operation.type ?? state.operation?.type ?? 'http',
    operationName: operation.name ?? state.operation?.name ?? null,
    decision: 'deny',
    reason: `${error.code}: ${error.message}`,
  });
}

/** Audits the refusal, then throws it (or SERVICE_UNAVAILABLE when its event could not be stored). */
export async function refuse(sink: AuditSink, request: Request, error: GatewayError): Promise<never> {
  throw (await auditRefusal(sink, request, error)) ? error : auditUnavailable();
}
