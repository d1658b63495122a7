/**
 * `audit_append`: how the audit writer commits a batch (see `audit/audit-writer.ts`).
 *
 * The batch's rows are inserted first and the chain's head is advanced last, in one call (one
 * transaction): a guard that fails raises `LQ409` and takes the inserted rows back with it.
 * Inserting first matters under pipelining: the next batch parses and indexes its rows while the
 * previous one is still running, and only then waits for it to commit (each batch holds a
 * transaction-level advisory lock named after its last sequence number; the next one takes it,
 * shared, by its previous sequence number) before it judges and moves the head. Were the head
 * row locked first, every batch would queue behind the whole previous one.
 *
 * The payload is a JSON array of events, each its canonical encoding (the hashed text) with its
 * `hash` in front; the keys below are the canonical encoding's (camelCase) and map onto the
 * columns. `v` (the encoding version) is not a column.
 */
import { sql, type Kysely, type Migration } from 'kysely';

/** Column, canonical key, SQL type: what `audit_append` reads from each payload element. */
export type AppendColumn = readonly [column: string, key: string, type: string];

export const AUDIT_APPEND_COLUMNS: readonly AppendColumn[] = [
  ['chain_id', 'chainId', 'text'],
  ['seq', 'seq', 'bigint'],
  ['prev_hash', 'prevHash', 'text'],
  ['hash', 'hash', 'text'],
  ['time', 'time', 'timestamptz'],
  ['started_at', 'startedAt', 'timestamptz'],
  ['duration_ms', 'durationMs', 'integer'],
  ['actor_sub', 'actorSub', 'text'],
  ['actor_org', 'actorOrg', 'text'],
  ['actor_roles', 'actorRoles', 'text[]'],
  ['purpose', 'purpose', 'text'],
  ['operation_type', 'operationType', 'text'],
  ['operation_name', 'operationName', 'text'],
  ['operation_hash', 'operationHash', 'text'],
  ['fields', 'fields', 'text[]'],
  ['decision', 'decision', 'text'],
  ['reason', 'reason', 'text'],
  ['rows', 'rows', 'integer'],
  ['subject_hashes', 'subjectHashes', 'text[]'],
  ['change', 'change', 'jsonb'],
  ['request_id', 'requestId', 'text'],
  ['instance', 'instance', 'text'],
];

/** SQLSTATE of a guard failure: the head moved, or another process owns the chain now. */
export const AUDIT_HEAD_MOVED = 'LQ409';

export const auditAppendMigration: Migration = {
  async up(db: Kysely<any>) {
    await createAuditAppend(db, AUDIT_APPEND_COLUMNS);
  },
};

/** (Re)creates `audit_append` for these columns (migration 0004 adds `hash_alg`). */
export async function createAuditAppend(db: Kysely<any>, spec: readonly AppendColumn[]): Promise<void> {
  const columns = spec.map(([c]) => `"${c}"`).join(', ');
  const keys = spec.map(([, k]) => `r."${k}"`).join(', ');
  const types = spec.map(([, k, t]) => `"${k}" ${t}`).join(', ');
  await sql
    .raw(
      `create or replace function audit_append(
         p_chain text, p_owner text, p_prev_seq bigint, p_last_seq bigint, p_last_hash text,
         p_last_time timestamptz, p_count integer, p_payload json
       ) returns integer language plpgsql as $fn$
       declare
         inserted integer;
         claimed integer;
       begin
         -- Held until this batch commits: the batch after it waits here before its head update.
         perform pg_advisory_xact_lock(hashtextextended(p_chain || '/' || p_last_seq::text, 0));
         insert into audit_event (${columns})
         select ${keys} from json_to_recordset(p_payload) as r(${types});
         get diagnostics inserted = row_count;
         -- Rows are in; now wait for the batch before this one (if it is still running) to commit.
         perform pg_advisory_xact_lock_shared(hashtextextended(p_chain || '/' || p_prev_seq::text, 0));
         -- The row is locked on quals every version satisfies (chain and owner) and head_seq is
         -- compared in SET, on the latest committed version: a batch whose predecessor is still
         -- running waits for that commit instead of judging a stale snapshot (a WHERE on
         -- head_seq would skip the row without waiting, as READ COMMITTED does).
         update audit_chain
            set head_seq = case when head_seq = p_prev_seq then p_last_seq else head_seq end,
                head_hash = case when head_seq = p_prev_seq then p_last_hash else head_hash end,
                head_time = case when head_seq = p_prev_seq then p_last_time else head_time end,
                updated_at = now()
          where chain_id = p_chain and owner = p_owner
         returning (head_seq = p_last_seq and head_hash = p_last_hash)::int into claimed;
         if claimed is distinct from 1 or inserted <> p_count then
           raise exception 'audit chain %: head moved or chain taken over (claimed %, inserted % of %)',
             p_chain, coalesce(claimed, 0), inserted, p_count using errcode = '${AUDIT_HEAD_MOVED}';
         end if;
         return inserted;
       end
       $fn$`,
    )
    .execute(db);
}
