/**
 * The audit log's write side: one writer per gateway instance, group commit, a hash chain per
 * instance and signed checkpoints.
 *
 * How an event becomes evidence:
 * 1. `append(event)` sanitises the event, replaces the subjects' idNumbers by their keyed hashes
 *    and queues it; the caller waits.
 * 2. The single writer gathers what arrived during `batchWindowMs` (or while the previous batch
 *    was committing, up to `maxBatch`), gives each event the next sequence number of this
 *    instance's chain, the previous event's hash and its own hash (SHA-256, or SM3 with
 *    `AUDIT_CRYPTO=sm`) over {@link canonicalEncoding}, and sends the whole batch in ONE call
 *    (`audit_append`, migration 0003) that inserts it and then advances the chain's head in
 *    `audit_chain`. The call is its own transaction: either every event of the batch is durable
 *    (PostgreSQL's `synchronous_commit = on`, the default) or none is. Each row is the hashed canonical text
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
 *    `(chain, seq, headHash, signedAt)` with the Ed25519 (or SM2) key kept outside the database
 *    and stores the checkpoint. It also signs the last event of a month before the first event of
 *    the next one, so that retiring old monthly partitions leaves each chain anchored on a signed
 *    hash.
 * 5. `appendWith(change, event)` queues a store change with its event, in order with the plain
 *    events: the writer lets the pipeline run empty, then runs the change and `audit_append` in
 *    one transaction, so the change and its event are kept together or not at all.
 *
 * `time` is the instant the log recorded the event (never decreasing along a chain, the partition
 * key); `startedAt` is when the operation started (the event's own `time`).
 */
import crypto from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { GatewayError } from '../core/errors.ts';
import { ensureAuditPartitions, monthStart } from './migrations/0002-audit.ts';
import type { AuditEventInput, TransactionalAuditSink } from './audit-event.ts';
import { subjectHasher, type SigningKey } from './audit-keys.ts';
import { GENESIS_HASH, canonicalPieces, encodeContent } from './audit-encoding.ts';
import type { HashAlgorithm } from './audit-crypto.ts';
import { ChainCheckpointer, type CheckpointKind } from './audit-checkpointer.ts';
import { eventContent } from './audit-content.ts';
import { appendBatch, claimChain, HeadMovedError, readHead, sendsJsonBytes, type Head } from './audit-chain-store.ts';
import { encodeBatch, encodedPieces } from './audit-batch-bytes.ts';
import {
  ChainLostError,
  ChangeFailed,
  commitChangeWithEvent,
  isChange,
  unavailable,
  withTimeout,
  type InFlight,
  type Pending,
  type PendingChange,
  type PreparedEvent,
  type Queued,
} from './audit-writer-queue.ts';
import type { AuditLogOptions, AuditLogStats } from './audit-writer-options.ts';

export type { AuditLogOptions, AuditLogStats } from './audit-writer-options.ts';

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
  /** @internal the content context of {@link eventContent}. */
  readonly hashSubject: (idNumber: string) => string;
  readonly instance: string;
  /** SHA-256, or SM3 when the chain's checkpoints are signed with SM2 (`AUDIT_CRYPTO=sm`). */
  readonly hashAlgorithm: HashAlgorithm;
  private readonly batchWindowMs: number;
  /** @internal Send each batch as its UTF-8 bytes ({@link encodeBatch}); PGlite takes only a string. */
  bytesPayload = false;
  private readonly maxBatch: number;
  private readonly pipelineDepth: number;
  private readonly checkpointEveryMs: number;
  private readonly commitTimeoutMs: number;
  readonly now: () => Date;
  private readonly onBackgroundError: (error: unknown) => void;
  /** Guards the chain's head row: a second process on the same chain id makes this one fail closed. */
  readonly owner = crypto.randomUUID();

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
  private idleWaiters: Array<() => void> = [];
  private readonly checkpoints: ChainCheckpointer;
  private counters = { inFlight: 0, committed: 0, failed: 0, batches: 0, lastBatchSize: 0, lastCommitMs: 0 };

  private constructor(options: AuditLogOptions) {
    this.db = options.db;
    this.chainId = options.chainId;
    this.signingKey = options.signingKey;
    this.hashSubject = subjectHasher(options.subjectKey);
    this.instance = options.instance ?? options.chainId;
    this.hashAlgorithm = options.hashAlgorithm ?? (options.signingKey.algorithm === 'sm2' ? 'sm3' : 'sha256');
    this.batchWindowMs = options.batchWindowMs ?? 5;
    this.maxBatch = Math.max(1, options.maxBatch ?? 1000);
    this.pipelineDepth = Math.max(1, options.pipelineDepth ?? 3);
    this.checkpointEveryMs = options.checkpointEveryMs ?? 1000;
    this.commitTimeoutMs = options.commitTimeoutMs ?? 10_000;
    this.now = options.now ?? (() => new Date());
    this.onBackgroundError = options.onBackgroundError ?? (() => {});
    this.checkpoints = new ChainCheckpointer(this.db, this.chainId, this.signingKey, () => this.head, this.now);
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
    this.bytesPayload = await sendsJsonBytes(this.db);
    for (const problem of await ensureAuditPartitions(this.db, this.now(), 3)) this.onBackgroundError(problem);
    this.head = await claimChain(this.db, this.chainId, this.owner);
    this.tail = this.head;
    await this.checkpoints.start(this.checkpointEveryMs, this.onBackgroundError);
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
  checkpoint(kind: CheckpointKind = 'periodic'): Promise<void> {
    return this.checkpoints.checkpoint(kind);
  }

  /** Stops taking events, commits what is queued, writes a final checkpoint, stops the timers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush();
    this.checkpoints.stop();
    await this.checkpoints.settled();
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
      lastCheckpointSeq: this.checkpoints.lastSeq,
    };
  }

  // -------------------------------------------------------------------------------------------

  private prepare(event: AuditEventInput): PreparedEvent {
    const content = eventContent(event, this);
    return encodedPieces(canonicalPieces(encodeContent(content, content.startedAt.toISOString())));
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
   * One change and its event ({@link commitChangeWithEvent}), with nothing else in flight: the event
   * follows the committed head, and the head moves only once that transaction has committed.
   */
  private async runChange(item: PendingChange): Promise<void> {
    try {
      if (this.fatal) throw this.fatal;
      if (this.headStale) await this.reloadHead();
      this.tail = this.head;
      const prev = this.head;
      const time = new Date(Math.max(this.now().getTime(), prev.time.getTime()));
      if (prev.seq > 0 && monthStart(time).getTime() !== monthStart(prev.time).getTime()) await this.enterMonth(time);
      const started = performance.now();
      this.head = await commitChangeWithEvent(this.db, this, item.change, prev, time, this.commitTimeoutMs);
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
      const prevSeq = this.tail.seq;
      const { payload: bytes, lastHash } = encodeBatch(batch, this.hashAlgorithm, this.tail.hash, prevSeq, timeIso);
      const payload = this.bytesPayload ? bytes : bytes.toString('utf8');
      const last = { seq: prevSeq + batch.length, hash: lastHash, time };
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

  /** {@link appendBatch} on this chain, on the store or inside a change's transaction. */
  private insert(payload: Buffer | string, count: number, prevSeq: number, last: Head, timeIso: string, on: Kysely<any> = this.db): Promise<void> {
    return appendBatch(on, this, payload, count, prevSeq, last, timeIso);
  }

  /** After a failure: the head as the store has it (a batch may have committed although we saw an error). */
  private async reloadHead(): Promise<void> {
    const row = await readHead(this.db, this.chainId);
    if (!row || row.owner !== this.owner) {
      this.fatal = new ChainLostError(`audit chain ${this.chainId} is now written by another process; this one stops writing`);
      this.onBackgroundError(this.fatal);
      throw this.fatal;
    }
    this.head = row.head;
    this.checkpoints.headAt(this.head.seq);
    this.headStale = false;
  }

  /** First batch of a new month: partitions ahead, and a signed anchor on the old month's last event. */
  private async enterMonth(time: Date): Promise<void> {
    for (const problem of await ensureAuditPartitions(this.db, time, 3)) this.onBackgroundError(problem);
    if (this.checkpoints.lastSeq < this.head.seq) {
      await this.checkpoints.settled();
      await this.checkpoint('month-end');
    }
  }
}
