/**
 * When a chain's head gets signed: at least every `everyMs` while it moves (a timer), on demand
 * (shutdown, the last event of a month, tests), never twice at once and never for a head already
 * signed. The signature itself is `audit-checkpoint.ts`; storing it is `audit-chain-store.ts`.
 */
import type { Kysely } from 'kysely';
import { signCheckpoint } from './audit-checkpoint.ts';
import { lastCheckpointSeq, storeCheckpoint, type Head } from './audit-chain-store.ts';
import type { SigningKey } from './audit-keys.ts';

export type CheckpointKind = 'periodic' | 'month-end' | 'close';

export class ChainCheckpointer {
  /** The highest seq signed (or believed signed) so far. */
  lastSeq = 0;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Kysely<any>,
    private readonly chainId: string,
    private readonly signingKey: SigningKey,
    /** The chain's committed head, read at signing time. */
    private readonly head: () => Head,
    private readonly now: () => Date,
  ) {}

  /** Reads the last stored checkpoint and, with `everyMs` > 0, starts signing on a timer. */
  async start(everyMs: number, onError: (error: unknown) => void): Promise<void> {
    this.lastSeq = await lastCheckpointSeq(this.db, this.chainId);
    if (everyMs > 0) {
      this.timer = setInterval(() => {
        this.checkpoint().catch(onError);
      }, everyMs);
      this.timer.unref();
    }
  }

  /** Signs the head if it moved since the last checkpoint; joins a signing already running. */
  checkpoint(kind: CheckpointKind = 'periodic'): Promise<void> {
    if (this.running) return this.running;
    this.running = this.write(kind).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Waits for a signing in progress (whatever its outcome). */
  async settled(): Promise<void> {
    if (this.running) await this.running.catch(() => {});
  }

  /** Stops the timer; a signing in progress goes on. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The store's head is behind what was signed (a failed batch): sign again from there on. */
  headAt(seq: number): void {
    this.lastSeq = Math.min(this.lastSeq, seq);
  }

  private async write(kind: CheckpointKind): Promise<void> {
    const head = this.head();
    if (head.seq === 0 || head.seq <= this.lastSeq) return;
    const unsigned = {
      chainId: this.chainId,
      seq: head.seq,
      headHash: head.hash,
      signedAt: new Date(this.now().getTime()),
      kind,
      keyId: this.signingKey.keyId,
    };
    await storeCheckpoint(this.db, { ...unsigned, signature: signCheckpoint(unsigned, this.signingKey) });
    this.lastSeq = Math.max(this.lastSeq, head.seq);
  }
}
