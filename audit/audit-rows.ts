/**
 * The stored forms of the audit trail: one event as hashed, read and exported, and one signed
 * checkpoint, with their mapping from `audit_event` / `audit_checkpoint` rows (pg or PGlite).
 */
import type { JsonValue } from '../core/canonical-json.ts';
import { hashAlgorithmOf, type HashAlgorithm } from './audit-crypto.ts';

/** One stored audit event, as hashed, read and exported. */
export interface AuditRecord {
  readonly chainId: string;
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
  /** When the log recorded the event (UTC, millisecond precision). */
  readonly time: Date;
  /** When the operation started. */
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly actorSub: string | null;
  readonly actorOrg: string | null;
  readonly actorRoles: readonly string[];
  readonly purpose: string | null;
  readonly operationType: string;
  readonly operationName: string | null;
  readonly operationHash: string | null;
  readonly fields: readonly string[];
  readonly decision: string;
  readonly reason: string | null;
  readonly rows: number;
  /** Hex HMAC-SHA-256 of each subject's idNumber, sorted, without duplicates. */
  readonly subjectHashes: readonly string[];
  readonly change: JsonValue;
  readonly requestId: string;
  readonly instance: string;
  /** The chain hash algorithm of this event (`hash_alg`; NULL, from before SM3 existed, is SHA-256). */
  readonly hashAlg: HashAlgorithm;
  /**
   * `X-Case-Ref` of the operation. Encoded (and hashed) only when present, so events without one
   * keep the encoding and hashes they always had.
   */
  readonly caseRef?: string | null;
}

/** A signed statement "chain `chainId` had head `headHash` at `seq`". */
export interface CheckpointRecord {
  readonly chainId: string;
  readonly seq: number;
  readonly headHash: string;
  readonly signedAt: Date;
  /** `periodic`, `month-end` (last event before a new month) or `close`. */
  readonly kind: string;
  readonly keyId: string;
  /** Base64 signature over `checkpointPayload`: Ed25519, or SM2 (DER), as the `keyId` prefix says. */
  readonly signature: string;
}

/** A timestamp column as pg (Date) or PGlite (Date or text) returns it. */
export const toDate = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));

/** Maps an `audit_event` row (pg or PGlite) to a record. */
export function recordFromRow(row: Record<string, unknown>): AuditRecord {
  return eventFromRow(row, { subjectHashes: (row.subject_hashes as string[] | null) ?? [] });
}

/** Every field of a record but its subjects, from `row`, and `rest` (the subjects, or their count). */
export function eventFromRow<T extends object>(row: Record<string, unknown>, rest: T): Omit<AuditRecord, 'subjectHashes'> & T {
  return {
    chainId: String(row.chain_id),
    seq: Number(row.seq),
    prevHash: String(row.prev_hash),
    hash: String(row.hash),
    time: toDate(row.time),
    startedAt: toDate(row.started_at),
    durationMs: Number(row.duration_ms),
    actorSub: (row.actor_sub as string | null) ?? null,
    actorOrg: (row.actor_org as string | null) ?? null,
    actorRoles: (row.actor_roles as string[] | null) ?? [],
    purpose: (row.purpose as string | null) ?? null,
    operationType: String(row.operation_type),
    operationName: (row.operation_name as string | null) ?? null,
    operationHash: (row.operation_hash as string | null) ?? null,
    fields: (row.fields as string[] | null) ?? [],
    decision: String(row.decision),
    reason: (row.reason as string | null) ?? null,
    rows: Number(row.rows),
    change: (row.change as JsonValue | undefined) ?? null,
    requestId: String(row.request_id),
    instance: String(row.instance),
    // An unknown name is kept as it is: the event then fails verification instead of passing as SHA-256.
    hashAlg: hashAlgorithmOf(row.hash_alg) ?? (String(row.hash_alg) as HashAlgorithm),
    caseRef: (row.case_ref as string | null | undefined) ?? null,
    ...rest,
  };
}

export function checkpointFromRow(row: Record<string, unknown>): CheckpointRecord {
  return {
    chainId: String(row.chain_id),
    seq: Number(row.seq),
    headHash: String(row.head_hash),
    signedAt: toDate(row.signed_at),
    kind: String(row.kind),
    keyId: String(row.key_id),
    signature: String(row.signature),
  };
}
