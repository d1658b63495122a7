/** How an audit writer is set up, and what it reports about itself (the gateway's metrics). */
import type { Kysely } from 'kysely';
import type { SigningKey } from './audit-keys.ts';
import type { HashAlgorithm } from './audit-crypto.ts';

export interface AuditLogOptions {
  readonly db: Kysely<any>;
  /** This instance's chain; one per running gateway process (`config.instanceId`). */
  readonly chainId: string;
  /** Signs the checkpoints: Ed25519, or SM2 (then the chain is hashed with SM3 by default). */
  readonly signingKey: SigningKey;
  /** The chain's hash algorithm. Default: SM3 with an SM2 signing key, SHA-256 otherwise. */
  readonly hashAlgorithm?: HashAlgorithm;
  readonly subjectKey: Buffer;
  /** Stored in every event; defaults to `chainId`. */
  readonly instance?: string;
  /** How long the writer gathers events before inserting them, ms (an event waits at most this long for its batch to leave). Default 5. */
  readonly batchWindowMs?: number;
  /** Most events in one insert statement. Default 1000. */
  readonly maxBatch?: number;
  /** Batches in flight at once (each inserts its rows at once and waits for its predecessor's commit only to move the head). Default 3. */
  readonly pipelineDepth?: number;
  /** How often the head is signed while it moves, ms. Default 1000. */
  readonly checkpointEveryMs?: number;
  /** A batch not committed within this many ms is failed (its events may still land). Default 10000. */
  readonly commitTimeoutMs?: number;
  /** Clock (tests). */
  readonly now?: () => Date;
  /** Problems of background work (checkpoints, partition creation, a lost chain). Default: ignored. */
  readonly onBackgroundError?: (error: unknown) => void;
}

export interface AuditLogStats {
  /** Events waiting for the next batch. */
  readonly queueDepth: number;
  /** Events in the batch being committed. */
  readonly inFlight: number;
  readonly committed: number;
  readonly failed: number;
  /** Insert statements that committed. */
  readonly batches: number;
  readonly lastBatchSize: number;
  /** Duration of the last successful commit statement, ms. */
  readonly lastCommitMs: number;
  readonly headSeq: number;
  readonly lastCheckpointSeq: number;
}
