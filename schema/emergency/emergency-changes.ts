/**
 * A change to the emergency sessions and its audit event (START, STOP, review) in ONE transaction
 * on the gateway store (`TransactionalAuditSink.appendWith`): no session is ever usable without its
 * START in the trail, and no START is in the trail for a session that was not made.
 */
import type { Kysely, Transaction } from 'kysely';
import type { AuditEventInput, TransactionalAuditSink } from '../../audit/audit-event.ts';
import { GatewayError, isGatewayError } from '../../core/errors.ts';

/**
 * Runs `change` and records `event(result)`; both are kept or neither is. Rejects with the
 * change's own GatewayError (a rule it enforces under its locks), else SERVICE_UNAVAILABLE.
 */
export async function changeWithEvent<T>(
  audit: TransactionalAuditSink,
  change: (on: Kysely<any>) => Promise<T>,
  event: (result: T) => AuditEventInput,
): Promise<T> {
  try {
    return await audit.appendWith((trx: Transaction<any>) => change(trx), event);
  } catch (error) {
    if (isGatewayError(error)) throw error;
    // A rule the change enforced, should the writer hand it back wrapped.
    const cause = (error as { cause?: unknown } | null)?.cause;
    if (isGatewayError(cause)) throw cause;
    throw new GatewayError('SERVICE_UNAVAILABLE', 'the gateway store or the audit log is unavailable; nothing was changed', { cause: error });
  }
}
