/**
 * A change to the emergency sessions and its audit event (START, STOP, review), kept together:
 * in one transaction when the audit sink can take part in one (`appendWith`), else the change is
 * committed, its event appended, and an undo run if the event could not be stored, so that no
 * session is ever usable without its START in the trail.
 */
import type { Kysely, Transaction } from 'kysely';
import type { AuditEventInput, AuditSink, TransactionalAuditSink } from '../../audit/audit-event.ts';
import { GatewayError, isGatewayError } from '../../core/errors.ts';

export function isTransactionalSink(sink: AuditSink): sink is TransactionalAuditSink {
  return typeof (sink as Partial<TransactionalAuditSink>).appendWith === 'function';
}

const unavailable = (cause: unknown) => new GatewayError('SERVICE_UNAVAILABLE', 'the gateway store or the audit log is unavailable; nothing was changed', { cause });

/**
 * Runs `change` and records `event(result)`; both are kept or (as far as the store allows) neither.
 * Rejects with the change's own GatewayError (a rule it enforces), else SERVICE_UNAVAILABLE.
 */
export async function changeWithEvent<T>(
  deps: { readonly audit: AuditSink; readonly db: Kysely<any> },
  change: (on: Kysely<any>) => Promise<T>,
  event: (result: T) => AuditEventInput,
  undo?: (result: T) => Promise<unknown>,
): Promise<T> {
  const sink = deps.audit;
  if (isTransactionalSink(sink)) {
    try {
      return await sink.appendWith((trx: Transaction<any>) => change(trx), event);
    } catch (error) {
      throw isGatewayError(error) ? error : unavailable(error);
    }
  }
  let result: T;
  try {
    result = await deps.db.transaction().execute((trx) => change(trx));
  } catch (error) {
    throw isGatewayError(error) ? error : unavailable(error);
  }
  try {
    await sink.append(event(result));
  } catch (error) {
    if (undo) await undo(result).catch(() => {});
    throw new GatewayError('SERVICE_UNAVAILABLE', 'audit log unavailable; the change was not kept', { cause: error });
  }
  return result;
}
