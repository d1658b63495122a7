/**
 * The SQL of one audit chain, as its writer uses it: claiming the chain's head row in
 * `audit_chain`, appending a batch through `audit_append` (migration 0003), reading the head back
 * after a failure, and storing a signed checkpoint. The writer decides when; this file says how.
 */
import { sql, type Kysely } from 'kysely';
import { AUDIT_HEAD_MOVED } from './migrations/0003-audit-append.ts';
import { GENESIS_HASH } from './audit-encoding.ts';
import { toDate, type CheckpointRecord } from './audit-rows.ts';

/** A chain's last event: where the next one links. */
export interface Head {
  readonly seq: number;
  readonly hash: string;
  readonly time: Date;
}

/** The head guard did not match: nothing of the batch was inserted. */
export class HeadMovedError extends Error {
  override readonly name = 'HeadMovedError';
}

/** Whether the driver sends a Buffer as the json parameter's bytes (pg does; PGlite does not). */
export function sendsJsonBytes(db: Kysely<any>): Promise<boolean> {
  return sql<{ v: unknown }>`select (${Buffer.from('[7]')}::json ->> 0) as v`
    .execute(db)
    .then((r) => String(r.rows[0]?.v) === '7')
    .catch(() => false);
}

/** Creates the chain, or takes it over from a previous process with the same id; its head. */
export async function claimChain(db: Kysely<any>, chainId: string, owner: string): Promise<Head> {
  const { rows } = await sql<{ head_seq: unknown; head_hash: string; head_time: unknown }>`
    insert into audit_chain (chain_id, owner, head_seq, head_hash, head_time)
    values (${chainId}, ${owner}, 0, ${GENESIS_HASH}, ${new Date(0).toISOString()}::timestamptz)
    on conflict (chain_id) do update set owner = excluded.owner, updated_at = now()
    returning head_seq, head_hash, head_time`.execute(db);
  return { seq: Number(rows[0].head_seq), hash: rows[0].head_hash, time: toDate(rows[0].head_time) };
}

/** The chain's head as the store has it, and who owns it; undefined if the chain is unknown. */
export async function readHead(db: Kysely<any>, chainId: string): Promise<{ owner: string; head: Head } | undefined> {
  const { rows } = await sql<{ owner: string; head_seq: unknown; head_hash: string; head_time: unknown }>`
    select owner, head_seq, head_hash, head_time from audit_chain where chain_id = ${chainId}`.execute(db);
  const row = rows[0];
  return row && { owner: row.owner, head: { seq: Number(row.head_seq), hash: row.head_hash, time: toDate(row.head_time) } };
}

/** The sequence number of the chain's last stored checkpoint, 0 if none. */
export async function lastCheckpointSeq(db: Kysely<any>, chainId: string): Promise<number> {
  const cp = await sql<{ seq: unknown }>`
    select seq from audit_checkpoint where chain_id = ${chainId} order by seq desc limit 1`.execute(db);
  return cp.rows.length > 0 ? Number(cp.rows[0].seq) : 0;
}

/**
 * One call, one transaction (`audit_append`, migration 0003): insert the batch, then advance the
 * head only if `owner` still owns the chain and the head is at `prevSeq`; otherwise the call fails
 * with {@link HeadMovedError} and nothing of the batch stays. `on` is the store, or a transaction
 * on it that the batch then joins.
 */
export async function appendBatch(
  on: Kysely<any>,
  chain: { readonly chainId: string; readonly owner: string },
  payload: Buffer | string,
  count: number,
  prevSeq: number,
  last: Head,
  timeIso: string,
): Promise<void> {
  try {
    await sql`select audit_append(${chain.chainId}, ${chain.owner}, ${prevSeq}, ${last.seq}, ${last.hash},
      ${timeIso}::timestamptz, ${count}, ${payload}::json) as inserted`.execute(on);
  } catch (error) {
    if ((error as { code?: string }).code === AUDIT_HEAD_MOVED) throw new HeadMovedError((error as Error).message);
    throw error;
  }
}

/** Stores a signed checkpoint (a second one at the same seq is ignored). */
export async function storeCheckpoint(db: Kysely<any>, cp: CheckpointRecord): Promise<void> {
  await sql`
    insert into audit_checkpoint (chain_id, seq, head_hash, signed_at, kind, key_id, signature)
    values (${cp.chainId}, ${cp.seq}, ${cp.headHash}, ${cp.signedAt.toISOString()}::timestamptz,
            ${cp.kind}, ${cp.keyId}, ${cp.signature})
    on conflict (chain_id, seq) do nothing`.execute(db);
}
