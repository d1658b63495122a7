/**
 * The audit log's write side: one writer per gateway instance, group commit, a hash chain per
 * instance and signed checkpoints.
 *
 * How an event becomes evidence:
 * 1. `append(event)` sanitises the event, replaces the subjects' idNumbers by their keyed hashes
 *    and queues it; the caller waits.
 * 2. The single writer gathers what arrived during `batchWindowMs` (or while the previous batch
 *    was committing, up to `maxBatch`), gives each event the next sequence number of this
 *    instance's chain, the previous event's hash and its own SHA-256 over
 *    {@link canonicalEncoding}, and sends the whole batch in ONE call (`audit_append`, migration
 *    0003) that inserts it and then advances the chain's head in `audit_chain`. The call is its
 *    own transaction: either every event of the batch is durable (PostgreSQL's
 *    `synchronous_commit = on`, the default) or none is. Each row is the hashed canonical text
 *    itself with its hash in front, so what is stored is read from exactly what was hashed.
 *    Up to `pipelineDepth` batches are in flight at once: while PostgreSQL inserts and commits
 *    one, the writer hashes the next, and the next batch's rows go in while its predecessor
 *    commits. Order is still safe: each batch's guarded head update names the head the previous
 *    batch leaves, waits for that batch's commit, and fails (taking its rows back) if it did
 *    not happen.
 * 3. Only then are the waiters released. A failed batch rejects every waiter with
 *    SERVICE_UNAVAILABLE and leaves the in-memory head untouched; before the next batch the head is
 *    re-read from `audit_chain`, which also covers a batch that committed although its reply was
 *    lost. The head row is guarded by `owner`: a second process using the same chain id makes the
 *    older one fail closed instead of forking the chain.
 * 4. At least every `checkpointEveryMs` while the head moves, the writer signs
 *    `(chain, seq, headHash, signedAt)` with the Ed25519 key kept outside the database and stores
 *    the checkpoint. It also signs the last event of a month before the first event of the next
 *    one, so that retiring old monthly partitions leaves each chain anchored on a signed hash.
 *
 * `time` is the instant the log recorded the event (never decreasing along a chain, the partition
 * key); `startedAt` is when the operation started (the event's own `time`).
 */
import crypto, { type KeyObject } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { GatewayError } from '../core/errors.ts';
import { canonicalJson, type JsonValue } from '../core/canonical-json.ts';
import { ensureAuditPartitions, monthStart } from './migrations/0002-audit.ts';
import { AUDIT_HEAD_MOVED } from './migrations/0003-audit-append.ts';
import type { AuditEventInput, TransactionalAuditSink } from './audit-event.ts';
import { subjectHasher, type SigningKey } from './audit-keys.ts';

/** `prevHash` of the first event of every chain. */
export const GENESIS_HASH = '0'.repeat(64);


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
  /** Base64 Ed25519 signature over {@link checkpointPayload}. */
  readonly signature: string;
}

const str = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v));
/** A string array as JSON (one native call; the same text as mapping JSON.stringify over it). */
const strs = (a: readonly string[]): string => JSON.stringify(a);

/** The fields of an event that do not depend on its place in the chain. */
type EventContent = Omit<AuditRecord, 'seq' | 'prevHash' | 'hash' | 'time'>;

/**
 * The canonical encoding around the three values known only when the writer places the event in
 * the chain: `head + prevHash + middle + seq + tail + time + END`. Shared by the writer (which
 * builds the pieces once per event, at append time) and the verifier, so both produce the same
 * bytes by construction.
 */
interface CanonicalPieces {
  readonly head: string;
  readonly middle: string;
  readonly tail: string;
}
const CANONICAL_END = '","v":1}';

/** Each field of an event's content as JSON text (canonical for `change`). */
type EncodedContent = { readonly [K in keyof EventContent]: string };

function encodeContent(r: EventContent, startedAtIso: string): EncodedContent {
  return {
    chainId: str(r.chainId),
    startedAt: str(startedAtIso),
    durationMs: String(r.durationMs),
    actorSub: str(r.actorSub),
    actorOrg: str(r.actorOrg),
    actorRoles: strs(r.actorRoles),
    purpose: str(r.purpose),
    operationType: str(r.operationType),
    operationName: str(r.operationName),
    operationHash: str(r.operationHash),
    fields: strs(r.fields),
    decision: str(r.decision),
    reason: str(r.reason),
    rows: String(r.rows),
    subjectHashes: strs(r.subjectHashes),
    change: canonicalJson(r.change),
    requestId: str(r.requestId),
    instance: str(r.instance),
  };
}

function canonicalPieces(e: EncodedContent): CanonicalPieces {
  return {
    head:
      `{"actorOrg":${e.actorOrg},"actorRoles":${e.actorRoles},"actorSub":${e.actorSub},"chainId":${e.chainId}` +
      `,"change":${e.change},"decision":${e.decision},"durationMs":${e.durationMs},"fields":${e.fields}` +
      `,"instance":${e.instance},"operationHash":${e.operationHash},"operationName":${e.operationName}` +
      `,"operationType":${e.operationType},"prevHash":"`,
    middle: `","purpose":${e.purpose},"reason":${e.reason},"requestId":${e.requestId},"rows":${e.rows},"seq":`,
    tail: `,"startedAt":${e.startedAt},"subjectHashes":${e.subjectHashes},"time":"`,
  };
}

/** Lower-case hex SHA-256 of `text` (UTF-8); the one-shot `crypto.hash` where Node has it (20.12+). */
const sha256Hex: (text: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (text) => (crypto as unknown as { hash(algorithm: string, data: string, encoding: 'hex'): string }).hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The canonical encoding (version 1) of an event, the input of its hash: exactly
 * {@link canonicalJson} of this object (keys in sorted order), times as ISO-8601 UTC with
 * milliseconds, hashes as lower-case hex:
 *
 * `{actorOrg, actorRoles, actorSub, chainId, change, decision, durationMs, fields, instance,
 *   operationHash, operationName, operationType, prevHash, purpose, reason, requestId, rows, seq,
 *   startedAt, subjectHashes, time, v: 1}`
 *
 * It is written out piecewise because the writer runs it once per event on the hot path; a test
 * checks it equals the generic form.
 */
export function canonicalEncoding(r: Omit<AuditRecord, 'hash'>): string {
  const p = canonicalPieces(encodeContent(r, r.startedAt.toISOString()));
  return `${p.head}${r.prevHash}${p.middle}${r.seq}${p.tail}${r.time.toISOString()}${CANONICAL_END}`;
}

/** Lower-case hex SHA-256 of the event's canonical encoding (UTF-8). */
export function eventHash(r: Omit<AuditRecord, 'hash'>): string {
  return sha256Hex(canonicalEncoding(r));
}

/** The bytes a checkpoint signature covers. */
export function checkpointPayload(cp: Omit<CheckpointRecord, 'signature'>): string {
  return canonicalJson({
    chainId: cp.chainId,
    headHash: cp.headHash,
    keyId: cp.keyId,
    kind: cp.kind,
    seq: cp.seq,
    signedAt: cp.signedAt.toISOString(),
    v: 1,
  });
}

export function signCheckpoint(cp: Omit<CheckpointRecord, 'signature'>, privateKey: KeyObject): string {
  return crypto.sign(null, Buffer.from(checkpointPayload(cp), 'utf8'), privateKey).toString('base64');
}

export function checkpointSignatureValid(cp: CheckpointRecord, publicKey: KeyObject): boolean {
  try {
    return crypto.verify(null, Buffer.from(checkpointPayload(cp), 'utf8'), publicKey, Buffer.from(cp.signature, 'base64'));
  } catch {
    return false;
  }
}

// The writer sends each event as its canonical encoding itself with its hash in front
// (`{"hash":"…",` + the canonical JSON without its `{`), so the stored row is read from exactly the
// bytes that were hashed; `audit_append` (migration 0003) maps the canonical keys onto the columns.

const toDate = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));

/** Maps an `audit_event` row (pg or PGlite) to a record. */
export function recordFromRow(row: Record<string, unknown>): AuditRecord {
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
    subjectHashes: (row.subject_hashes as string[] | null) ?? [],
    change: (row.change as JsonValue | undefined) ?? null,
    requestId: String(row.request_id),
    instance: String(row.instance),
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

// ---------------------------------------------------------------------------------------------
// Sanitising: PostgreSQL text cannot hold NUL and UTF-8 cannot hold lone surrogates; either would
// fail the whole batch, or come back different from what was hashed. Replace them up front.

const SUSPECT = /[\u0000\uD800-\uDFFF]/;
const BAD = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function clean(s: string): string {
  return SUSPECT.test(s) ? s.replace(BAD, '\uFFFD') : s;
}
function cleanOpt(s: string | null | undefined): string | null {
  return s === null || s === undefined ? null : clean(String(s));
}

/** The JSON value `value` stands for, as jsonb will store and return it. */
export function toJsonValue(value: unknown, depth = 0): JsonValue {
  if (value === null || value === undefined || depth > 64) return null;
  switch (typeof value) {
    case 'string':
      return clean(value);
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return null;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) return value.map((v) => toJsonValue(v, depth + 1));
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === 'function') return toJsonValue(withToJson.toJSON(), depth + 1);
  const out: { [key: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    out[clean(k)] = toJsonValue(v, depth + 1);
  }
  return out;
}

const INT32_MAX = 2_147_483_647;
const toInt = (n: number): number => (Number.isFinite(n) ? Math.min(INT32_MAX, Math.max(0, Math.round(n))) : 0);

/**
 * An event ready for the writer: its canonical pieces, computed once at append time so the writer
 * only concatenates and hashes.
 */
interface PreparedEvent {
  readonly pieces: CanonicalPieces;
}

// ---------------------------------------------------------------------------------------------

export interface AuditLogOptions {
  readonly db: Kysely<any>;
  /** This instance's chain; one per running gateway process (`config.instanceId`). */
  readonly chainId: string;
  readonly signingKey: SigningKey;
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

interface Pending {
  readonly event: PreparedEvent;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A change and its event, queued in order with the plain events ({@link AuditLog.appendWith}). The
 * writer runs it alone, with no batch in flight, so the chain's head it builds on is the committed one.
 */
interface PendingChange {
  /** Runs the change in `trx` and prepares its event; throws what the change threw. */
  readonly change: (trx: Transaction<any>) => Promise<PreparedEvent>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

type Queued = Pending | PendingChange;
const isChange = (q: Queued): q is PendingChange => 'change' in q;

/** What a change threw (as opposed to the audit write failing): rejected as it is. */
class ChangeFailed extends Error {
  override readonly name = 'ChangeFailed';
}

interface Head {
  readonly seq: number;
  readonly hash: string;
  readonly time: Date;
}

interface InFlight {
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

class ChainLostError extends Error {
  override readonly name = 'ChainLostError';
}

/** The head guard did not match: nothing of the batch was inserted. */
class HeadMovedError extends Error {
  override readonly name = 'HeadMovedError';
}

/**
 * The gateway's {@link AuditSink}: see the module comment for the design.
 *
 * @example
 * const log = await AuditLog.open({ db: store, chainId: config.instanceId, signingKey, subjectKey });
 * await log.append(event); // resolves once durable; rejects with SERVICE_UNAVAILABLE otherwise
 * await log.close();
 */
export class AuditLog implements TransactionalAuditSink {
  readonly chainId: string;
  private readonly db: Kysely<any>;
  private readonly signingKey: SigningKey;
  private readonly hashSubject: (idNumber: string) => string;
  private readonly instance: string;
  private readonly batchWindowMs: number;
  /** Send each batch as UTF-8 bytes (see {@link jsonArrayBytes}) rather than one big string. */
  private bytesPayload = false;
  private readonly maxBatch: number;
  private readonly pipelineDepth: number;
  private readonly checkpointEveryMs: number;
  private readonly commitTimeoutMs: number;
  private readonly now: () => Date;
  private readonly onBackgroundError: (error: unknown) => void;
  private readonly owner = crypto.randomUUID();

  private queue: Queued[] = [];
  /** The last committed event. */
  private head: Head = { seq: 0, hash: GENESIS_HASH, time: new Date(0) };
  /** The last event handed to the database (equals `head` when nothing is in flight). */
  private tail: Head = this.head;
  private headStale = false;
  private fatal: Error | undefined;
  private writing = false;
  private closed = false;
  private batchTimer: NodeJS.Timeout | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private checkpointRunning: Promise<void> | undefined;
  private idleWaiters: Array<() => void> = [];
  private lastCheckpointSeq = 0;
  private counters = { inFlight: 0, committed: 0, failed: 0, batches: 0, lastBatchSize: 0, lastCommitMs: 0 };

  private constructor(options: AuditLogOptions) {
    this.db = options.db;
    this.chainId = options.chainId;
    this.signingKey = options.signingKey;
    this.hashSubject = subjectHasher(options.subjectKey);
    this.instance = options.instance ?? options.chainId;
    this.batchWindowMs = options.batchWindowMs ?? 5;
    this.maxBatch = Math.max(1, options.maxBatch ?? 1000);
    this.pipelineDepth = Math.max(1, options.pipelineDepth ?? 3);
    this.checkpointEveryMs = options.checkpointEveryMs ?? 1000;
    this.commitTimeoutMs = options.commitTimeoutMs ?? 10_000;
    this.now = options.now ?? (() => new Date());
    this.onBackgroundError = options.onBackgroundError ?? (() => {});
  }

  /**
   * Claims the chain (creating it, or taking it over from a previous process with the same chain
   * id), makes sure the coming monthly partitions exist and starts the checkpoint timer.
   * Throws when the store cannot be reached: the gateway must not serve without its audit log.
   */
  static async open(options: AuditLogOptions): Promise<AuditLog> {
    const log = new AuditLog(options);
    await log.start();
    return log;
  }

  private async start(): Promise<void> {
    // Whether the driver sends a Buffer as the json parameter's bytes (pg does; PGlite does not).
    this.bytesPayload = await sql<{ v: unknown }>`select (${Buffer.from('[7]')}::json ->> 0) as v`
      .execute(this.db)
      .then((r) => String(r.rows[0]?.v) === '7')
      .catch(() => false);
    for (const problem of await ensureAuditPartitions(this.db, this.now(), 3)) this.onBackgroundError(problem);
    const { rows } = await sql<{ head_seq: unknown; head_hash: string; head_time: unknown }>`
      insert into audit_chain (chain_id, owner, head_seq, head_hash, head_time)
      values (${this.chainId}, ${this.owner}, 0, ${GENESIS_HASH}, ${new Date(0).toISOString()}::timestamptz)
      on conflict (chain_id) do update set owner = excluded.owner, updated_at = now()
      returning head_seq, head_hash, head_time`.execute(this.db);
    this.head = { seq: Number(rows[0].head_seq), hash: rows[0].head_hash, time: toDate(rows[0].head_time) };
    this.tail = this.head;
    const cp = await sql<{ seq: unknown }>`
      select seq from audit_checkpoint where chain_id = ${this.chainId} order by seq desc limit 1`.execute(this.db);
    this.lastCheckpointSeq = cp.rows.length > 0 ? Number(cp.rows[0].seq) : 0;
    if (this.checkpointEveryMs > 0) {
      this.checkpointTimer = setInterval(() => {
        this.checkpoint().catch(this.onBackgroundError);
      }, this.checkpointEveryMs);
      this.checkpointTimer.unref();
    }
  }

  /** Resolves once `event` is durably stored; rejects with SERVICE_UNAVAILABLE if it could not be. */
  append(event: AuditEventInput): Promise<void> {
    if (this.closed) return Promise.reject(new GatewayError('SERVICE_UNAVAILABLE', 'The audit log is closed.'));
    if (this.fatal) return Promise.reject(unavailable(this.fatal));
    let prepared: PreparedEvent;
    try {
      prepared = this.prepare(event);
    } catch (error) {
      return Promise.reject(unavailable(error));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ event: prepared, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Runs `change` and places `event(result)` in the chain in ONE transaction on the store: both are
   * kept or neither is (CONTRACT.md, admission review). The pair keeps its place in the order of
   * appends: events appended before it are committed first, and the writer waits for this
   * transaction before it sends the next batch (a change is an administrative act, rare next to
   * reads, so the pipeline pausing for it costs little).
   *
   * Rejects with what `change` (or `event`) threw, nothing kept; with SERVICE_UNAVAILABLE if the
   * event could not be stored, the change rolled back. `change` must use only `trx` and must not
   * append to this log itself: the writer is waiting for it.
   */
  appendWith<T>(change: (trx: Transaction<any>) => Promise<T>, event: (result: T) => AuditEventInput): Promise<T> {
    if (this.closed) return Promise.reject(new GatewayError('SERVICE_UNAVAILABLE', 'The audit log is closed.'));
    if (this.fatal) return Promise.reject(unavailable(this.fatal));
    let result: T;
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        change: async (trx) => {
          let prepared: PreparedEvent;
          try {
            result = await change(trx);
            prepared = this.prepare(event(result));
          } catch (error) {
            throw new ChangeFailed('the change failed', { cause: error });
          }
          return prepared;
        },
        resolve: () => resolve(result),
        reject,
      });
      this.schedule();
    });
  }

  /** Commits everything queued so far (successfully or not). Never rejects. */
  async flush(): Promise<void> {
    this.clearBatchTimer();
    while (this.writing || this.queue.length > 0) {
      if (!this.writing) void this.drain();
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  /**
   * Signs the current head if it moved since the last checkpoint. Runs on a timer; public for
   * shutdown and tests. Rejects if the checkpoint could not be stored.
   */
  checkpoint(kind: 'periodic' | 'month-end' | 'close' = 'periodic'): Promise<void> {
    if (this.checkpointRunning) return this.checkpointRunning;
    this.checkpointRunning = this.writeCheckpoint(kind).finally(() => {
      this.checkpointRunning = undefined;
    });
    return this.checkpointRunning;
  }

  /** Stops taking events, commits what is queued, writes a final checkpoint, stops the timers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush();
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    if (this.checkpointRunning) await this.checkpointRunning.catch(() => {});
    await this.checkpoint('close').catch(this.onBackgroundError);
  }

  stats(): AuditLogStats {
    return {
      queueDepth: this.queue.length,
      inFlight: this.counters.inFlight,
      committed: this.counters.committed,
      failed: this.counters.failed,
      batches: this.counters.batches,
      lastBatchSize: this.counters.lastBatchSize,
      lastCommitMs: this.counters.lastCommitMs,
      headSeq: this.head.seq,
      lastCheckpointSeq: this.lastCheckpointSeq,
    };
  }

  // -------------------------------------------------------------------------------------------

  private prepare(event: AuditEventInput): PreparedEvent {
    const startedAt = event.time instanceof Date && !Number.isNaN(event.time.getTime()) ? event.time : this.now();
    const startedAtIso = startedAt.toISOString();
    const content: EventContent = {
      chainId: this.chainId,
      startedAt,
      durationMs: toInt(event.durationMs),
      actorSub: cleanOpt(event.actor.sub),
      actorOrg: cleanOpt(event.actor.org),
      actorRoles: event.actor.roles.map((r) => clean(String(r))),
      purpose: cleanOpt(event.purpose),
      operationType: clean(String(event.operationType)),
      operationName: cleanOpt(event.operationName),
      operationHash: cleanOpt(event.operationHash),
      fields: event.fields.map((f) => clean(String(f))),
      decision: clean(String(event.decision)),
      reason: cleanOpt(event.reason),
      rows: toInt(event.rows),
      subjectHashes: [...new Set(event.subjects.map((s) => this.hashSubject(String(s))))].sort(),
      change: event.change === undefined || event.change === null ? null : toJsonValue(event.change),
      requestId: clean(String(event.requestId)),
      instance: this.instance,
    };
    return { pieces: canonicalPieces(encodeContent(content, startedAtIso)) };
  }

  private schedule(): void {
    if (this.writing) return; // the running writer takes what queued up when its commit ends
    if (this.queue.length >= this.maxBatch) {
      this.clearBatchTimer();
      void this.drain();
    } else if (!this.batchTimer) {
      this.batchTimer = setTimeout(() => {
        this.batchTimer = undefined;
        void this.drain();
      }, this.batchWindowMs);
    }
  }

  private clearBatchTimer(): void {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
  }

  /**
   * The single writer. Keeps up to `pipelineDepth` batches in flight and settles them in order.
   * Anything that needs the committed head (a stale head after a failure, a new month) first lets
   * the pipeline run empty.
   */
  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    const pipeline: InFlight[] = [];
    try {
      for (;;) {
        while (this.queue.length > 0 && pipeline.length < this.pipelineDepth) {
          const time = new Date(Math.max(this.now().getTime(), this.tail.time.getTime()));
          const newMonth = this.tail.seq > 0 && monthStart(time).getTime() !== monthStart(this.tail.time).getTime();
          const first = this.queue[0]!;
          if ((this.fatal || this.headStale || newMonth || isChange(first)) && pipeline.length > 0) break;
          if (isChange(first)) {
            this.queue.shift();
            await this.runChange(first);
            continue;
          }
          const size = this.plainPrefix();
          const batch = (size === this.queue.length ? this.queue : this.queue.slice(0, size)) as Pending[];
          this.queue = size === this.queue.length ? [] : this.queue.slice(size);
          const inFlight = await this.send(batch, time, newMonth, pipeline.length > 0);
          if (inFlight) pipeline.push(inFlight);
        }
        const next = pipeline.shift();
        if (!next) {
          if (this.queue.length === 0) break;
          continue;
        }
        await this.settle(next);
        if (pipeline.length === 0) this.tail = this.head;
      }
    } finally {
      this.writing = false;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** How many plain events lead the queue (at most `maxBatch`): the next batch. */
  private plainPrefix(): number {
    const limit = Math.min(this.queue.length, this.maxBatch);
    for (let i = 0; i < limit; i++) if (isChange(this.queue[i]!)) return i;
    return limit;
  }

  /**
   * One change and its event in one transaction, with nothing else in flight: the event follows the
   * committed head, `audit_append` runs inside the change's transaction (its guard and advisory
   * locks included), and the head moves only once that transaction has committed. A transaction not
   * finished within `commitTimeoutMs` is failed; should it still reach its end, it finds itself
   * abandoned and rolls back.
   */
  private async runChange(item: PendingChange): Promise<void> {
    let abandoned = false;
    const abandon = new Error('abandoned after the commit timeout');
    try {
      if (this.fatal) throw this.fatal;
      if (this.headStale) await this.reloadHead();
      this.tail = this.head;
      const prev = this.head;
      const time = new Date(Math.max(this.now().getTime(), prev.time.getTime()));
      if (prev.seq > 0 && monthStart(time).getTime() !== monthStart(prev.time).getTime()) await this.enterMonth(time);
      const timeIso = time.toISOString();
      const started = performance.now();
      let last: Head | undefined;
      const work = this.db.transaction().execute(async (trx) => {
        const { pieces } = await item.change(trx);
        if (abandoned) throw abandon;
        const seq = prev.seq + 1;
        const canonical = `${pieces.head}${prev.hash}${pieces.middle}${seq}${pieces.tail}${timeIso}${CANONICAL_END}`;
        const hash = sha256Hex(canonical);
        const next = { seq, hash, time };
        await this.insert(`[{"hash":"${hash}",${canonical.slice(1)}]`, 1, prev.seq, next, timeIso, trx);
        if (abandoned) throw abandon;
        last = next;
      });
      try {
        await withTimeout(work, this.commitTimeoutMs);
      } catch (error) {
        abandoned = true;
        throw error;
      }
      this.head = last!;
      this.tail = this.head;
      this.counters.lastCommitMs = performance.now() - started;
      this.counters.committed += 1;
      this.counters.batches += 1;
      this.counters.lastBatchSize = 1;
      item.resolve();
    } catch (error) {
      if (error instanceof ChangeFailed) {
        // The transaction rolled back before the chain was touched: the head is as it was.
        item.reject(error.cause);
        return;
      }
      this.headStale = true;
      this.counters.failed += 1;
      item.reject(unavailable(error));
    }
  }

  /** Hashes a batch onto the tail of the chain and sends it; rejects its waiters if it cannot. */
  private async send(batch: readonly Pending[], time: Date, newMonth: boolean, pipelined: boolean): Promise<InFlight | undefined> {
    try {
      if (this.fatal) throw this.fatal;
      if (this.headStale) {
        await this.reloadHead();
        this.tail = this.head;
        time = new Date(Math.max(time.getTime(), this.tail.time.getTime()));
        newMonth = this.tail.seq > 0 && monthStart(time).getTime() !== monthStart(this.tail.time).getTime();
      }
      if (newMonth) await this.enterMonth(time);
      const timeIso = time.toISOString();
      const rows: string[] = new Array(batch.length);
      let prevHash = this.tail.hash;
      let seq = this.tail.seq;
      for (let i = 0; i < batch.length; i++) {
        const { pieces } = batch[i].event;
        seq += 1;
        const canonical = `${pieces.head}${prevHash}${pieces.middle}${seq}${pieces.tail}${timeIso}${CANONICAL_END}`;
        const hash = sha256Hex(canonical);
        // The row is the hashed text itself, with the hash put in front.
        rows[i] = `{"hash":"${hash}",${canonical.slice(1)}`;
        prevHash = hash;
      }
      const payload = this.bytesPayload ? jsonArrayBytes(rows) : `[${rows.join(',')}]`;
      const prevSeq = this.tail.seq;
      const last = { seq, hash: prevHash, time };
      const done = withTimeout(this.insert(payload, batch.length, prevSeq, last, timeIso), this.commitTimeoutMs);
      done.catch(() => {}); // settled (and reported) in order by settle()
      this.tail = last;
      this.counters.inFlight += batch.length;
      return { batch, payload, prevSeq, last, timeIso, pipelined, done, started: performance.now() };
    } catch (error) {
      this.headStale = true;
      this.counters.failed += batch.length;
      for (const p of batch) p.reject(unavailable(error));
      return undefined;
    }
  }

  /**
   * Waits for a batch's commit. A batch that committed although an earlier one reported a
   * failure proves the earlier one committed too (its guard named that batch's head), so a success
   * always leaves a known head.
   */
  private async settle(inFlight: InFlight): Promise<void> {
    try {
      try {
        await inFlight.done;
      } catch (error) {
        // Sent on another connection, it may have reached the server before its predecessor:
        // its guard then saw the older head and inserted nothing. Now that the predecessor has
        // committed, send it again.
        if (!(error instanceof HeadMovedError) || !inFlight.pipelined || this.headStale || this.head.seq !== inFlight.prevSeq) throw error;
        await withTimeout(
          this.insert(inFlight.payload, inFlight.batch.length, inFlight.prevSeq, inFlight.last, inFlight.timeIso),
          this.commitTimeoutMs,
        );
      }
      this.counters.lastCommitMs = performance.now() - inFlight.started;
      this.head = inFlight.last;
      this.headStale = false;
      this.counters.committed += inFlight.batch.length;
      this.counters.batches += 1;
      this.counters.lastBatchSize = inFlight.batch.length;
      for (const p of inFlight.batch) p.resolve();
    } catch (error) {
      this.headStale = true;
      this.counters.failed += inFlight.batch.length;
      for (const p of inFlight.batch) p.reject(unavailable(error));
    } finally {
      this.counters.inFlight -= inFlight.batch.length;
    }
  }

  /**
   * One call, one transaction (`audit_append`, migration 0003): insert the batch, then advance the
   * head only if this process still owns the chain and the head is where it believes; otherwise the
   * call fails with AUDIT_HEAD_MOVED and nothing of the batch stays.
   */
  private async insert(
    payload: Buffer | string,
    count: number,
    prevSeq: number,
    last: Head,
    timeIso: string,
    on: Kysely<any> = this.db,
  ): Promise<void> {
    try {
      await sql`select audit_append(${this.chainId}, ${this.owner}, ${prevSeq}, ${last.seq}, ${last.hash},
        ${timeIso}::timestamptz, ${count}, ${payload}::json) as inserted`.execute(on);
    } catch (error) {
      if ((error as { code?: string }).code === AUDIT_HEAD_MOVED) throw new HeadMovedError((error as Error).message);
      throw error;
    }
  }

  /** After a failure: the head as the store has it (a batch may have committed although we saw an error). */
  private async reloadHead(): Promise<void> {
    const { rows } = await sql<{ owner: string; head_seq: unknown; head_hash: string; head_time: unknown }>`
      select owner, head_seq, head_hash, head_time from audit_chain where chain_id = ${this.chainId}`.execute(this.db);
    const row = rows[0];
    if (!row || row.owner !== this.owner) {
      this.fatal = new ChainLostError(`audit chain ${this.chainId} is now written by another process; this one stops writing`);
      this.onBackgroundError(this.fatal);
      throw this.fatal;
    }
    this.head = { seq: Number(row.head_seq), hash: row.head_hash, time: toDate(row.head_time) };
    this.lastCheckpointSeq = Math.min(this.lastCheckpointSeq, this.head.seq);
    this.headStale = false;
  }

  /** First batch of a new month: partitions ahead, and a signed anchor on the old month's last event. */
  private async enterMonth(time: Date): Promise<void> {
    for (const problem of await ensureAuditPartitions(this.db, time, 3)) this.onBackgroundError(problem);
    if (this.lastCheckpointSeq < this.head.seq) {
      if (this.checkpointRunning) await this.checkpointRunning.catch(() => {});
      await this.checkpoint('month-end');
    }
  }

  private async writeCheckpoint(kind: string): Promise<void> {
    const head = this.head;
    if (head.seq === 0 || head.seq <= this.lastCheckpointSeq) return;
    const unsigned = {
      chainId: this.chainId,
      seq: head.seq,
      headHash: head.hash,
      signedAt: new Date(this.now().getTime()),
      kind,
      keyId: this.signingKey.keyId,
    };
    const signature = signCheckpoint(unsigned, this.signingKey.privateKey);
    await sql`
      insert into audit_checkpoint (chain_id, seq, head_hash, signed_at, kind, key_id, signature)
      values (${unsigned.chainId}, ${unsigned.seq}, ${unsigned.headHash}, ${unsigned.signedAt.toISOString()}::timestamptz,
              ${kind}, ${unsigned.keyId}, ${signature})
      on conflict (chain_id, seq) do nothing`.execute(this.db);
    this.lastCheckpointSeq = Math.max(this.lastCheckpointSeq, head.seq);
  }
}

/**
 * `[row,row,…]` as UTF-8 bytes, written row by row into one buffer. The batch is about a megabyte:
 * joining the rows into one string and letting the driver measure and encode it copied it three
 * times (join, flatten, encode), which cost more than hashing the events. PostgreSQL's binary form
 * of `json` is its text, so the bytes go as they are (where the driver passes a Buffer through:
 * probed once at open).
 */
function jsonArrayBytes(rows: readonly string[]): Buffer {
  let size = 1 + Math.max(1, rows.length);
  for (const row of rows) size += Buffer.byteLength(row, 'utf8');
  const bytes = Buffer.allocUnsafe(size);
  let at = bytes.write('[', 0, 'latin1');
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) at += bytes.write(',', at, 'latin1');
    at += bytes.write(rows[i]!, at, 'utf8');
  }
  at += bytes.write(']', at, 'latin1');
  return at === size ? bytes : bytes.subarray(0, at);
}

function unavailable(cause: unknown): GatewayError {
  return new GatewayError('SERVICE_UNAVAILABLE', 'The audit trail could not record this operation; nothing was returned.', {
    cause,
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  promise.catch(() => {}); // a late failure after the timeout must not become an unhandled rejection
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`audit commit did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
