/**
 * What the audit writer queues and sends (plain events, changes with their event, batches in
 * flight), how a change and its event are committed together, and how failures reach the caller.
 */
import type { Kysely, Transaction } from 'kysely';
import { GatewayError } from '../core/errors.ts';
import { encodeBatch, type EncodedPieces } from './audit-batch-bytes.ts';
import type { HashAlgorithm } from './audit-crypto.ts';
import { appendBatch, type Head } from './audit-chain-store.ts';

/**
 * An event ready for the writer: its canonical pieces and their size, computed once at append time
 * so the writer only writes them into the batch's bytes and hashes ({@link encodeBatch}).
 */
export type PreparedEvent = EncodedPieces;

export interface Pending {
  readonly event: PreparedEvent;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A change and its event, queued in order with the plain events (`AuditLog.appendWith`). The
 * writer runs it alone, with no batch in flight, so the chain's head it builds on is the committed one.
 */
export interface PendingChange {
  /** Runs the change in `trx` and prepares its event; throws what the change threw. */
  readonly change: (trx: Transaction<any>) => Promise<PreparedEvent>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export type Queued = Pending | PendingChange;
export const isChange = (q: Queued): q is PendingChange => 'change' in q;

/** What a change threw (as opposed to the audit write failing): rejected as it is. */
export class ChangeFailed extends Error {
  override readonly name = 'ChangeFailed';
}

export interface InFlight {
  readonly batch: readonly Pending[];
  /** JSON array of the batch's rows, for json_to_recordset. */
  readonly payload: Buffer | string;
  /** The head this batch's guard expects, and the head once it commits. */
  readonly prevSeq: number;
  readonly last: Head;
  readonly timeIso: string;
  /** Whether an earlier batch was still in flight when this one was sent. */
  readonly pipelined: boolean;
  readonly done: Promise<void>;
  readonly started: number;
}

export class ChainLostError extends Error {
  override readonly name = 'ChainLostError';
}

/**
 * Runs `change` and places its event right after `prev` in ONE transaction on the store:
 * `audit_append` (its head guard and advisory locks included) joins the change's transaction, so
 * both commit or neither does. Resolves with the chain's new head once committed. A transaction not
 * finished within `timeoutMs` is failed; should it still reach its end, it finds itself abandoned
 * and rolls back.
 */
export async function commitChangeWithEvent(
  db: Kysely<any>,
  chain: { readonly chainId: string; readonly owner: string; readonly hashAlgorithm: HashAlgorithm; readonly bytesPayload: boolean },
  change: (trx: Transaction<any>) => Promise<PreparedEvent>,
  prev: Head,
  time: Date,
  timeoutMs: number,
): Promise<Head> {
  let abandoned = false;
  const abandon = new Error('abandoned after the commit timeout');
  const timeIso = time.toISOString();
  const work = db.transaction().execute(async (trx) => {
    const event = await change(trx);
    if (abandoned) throw abandon;
    const { payload, lastHash } = encodeBatch([{ event }], chain.hashAlgorithm, prev.hash, prev.seq, timeIso);
    const next: Head = { seq: prev.seq + 1, hash: lastHash, time };
    await appendBatch(trx, chain, chain.bytesPayload ? payload : payload.toString('utf8'), 1, prev.seq, next, timeIso);
    if (abandoned) throw abandon;
    return next;
  });
  try {
    return await withTimeout(work, timeoutMs);
  } catch (error) {
    abandoned = true;
    throw error;
  }
}

export function unavailable(cause: unknown): GatewayError {
  return new GatewayError('SERVICE_UNAVAILABLE', 'The audit trail could not record this operation; nothing was returned.', {
    cause,
  });
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  promise.catch(() => {}); // a late failure after the timeout must not become an unhandled rejection
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`audit commit did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
