/**
 * The STOP event of an expired emergency session. A session that runs out was never ended by
 * anyone, yet its trail must still say when it stopped (CONTRACT.md § "Emergency access": START
 * and STOP are audit events): whichever instance notices the expiry first writes it, once.
 *
 * Two ways notice it: a sweep on a timer (every instance runs one), and the next look-up of the
 * session (`EmergencyStore` calls {@link EmergencyExpiry.record} when it finds one expired with its
 * STOP unwritten: a read under it, its user ending it, a reviewer opening it). The session row's
 * `ended_at` is set to its `expires_at` in the same transaction as the event
 * (`TransactionalAuditSink.appendWith`), and only while it is still null, so a second instance
 * racing for the same session updates no row, writes no event, and answers the session as the
 * first left it.
 */
import type { TransactionalAuditSink } from '../../audit/audit-event.ts';
import { EMERGENCY_STOP_ACTION } from '../../audit/emergency-read.ts';
import { expiryUnrecorded, type EmergencySession } from '../../policies/emergency/emergency-session.ts';
import type { EmergencyStore } from '../../policies/emergency/emergency-store.ts';
import { sessionEvent } from './emergency-events.ts';

/** How often an instance sweeps for expired sessions by default (a touch records it sooner). */
export const EXPIRY_SWEEP_MS = 30_000;

/** Sessions recorded per sweep at most; a backlog is worked off over the following sweeps. */
const SWEEP_BATCH = 100;

export interface EmergencyExpiryDeps {
  /** A store without an `onExpired` of its own (this recorder is that hook for the others). */
  readonly sessions: Pick<EmergencyStore, 'get' | 'recordExpiry' | 'expiredUnrecorded'>;
  readonly audit: TransactionalAuditSink;
  readonly now?: () => number;
  /** Told when a sweep could not record (the store or the trail unavailable); the next sweep retries. */
  readonly onError?: (error: unknown) => void;
}

/** Nothing to write: the stop was recorded meanwhile (another instance, or an early end). */
class AlreadyStopped extends Error {}

export class EmergencyExpiry {
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<number> | null = null;

  constructor(private readonly deps: EmergencyExpiryDeps) {}

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /**
   * Writes the expiry's STOP for this session if no STOP is written yet; answers the session as it
   * is afterwards (stopped at its expiry, or as whoever stopped it first left it). Rejects when the
   * store or the trail cannot take it (nothing written; the sweep tries again).
   */
  async record(session: EmergencySession): Promise<EmergencySession | undefined> {
    if (!expiryUnrecorded(session, this.now())) return session;
    return (await this.write(session.id)).session;
  }

  /**
   * The hook for `EmergencyStore`'s look-ups: {@link record}, but a failure to write is reported
   * (onError) and the session answered as read. It is expired either way, so every read under it is
   * still refused; the sweep writes its STOP once the trail takes events again.
   */
  async touched(session: EmergencySession): Promise<EmergencySession | undefined> {
    try {
      return await this.record(session);
    } catch (error) {
      this.deps.onError?.(error);
      return session;
    }
  }

  /** The STOP and the row's end in one transaction; `written` false when someone stopped it first. */
  private async write(id: string): Promise<{ session: EmergencySession | undefined; written: boolean }> {
    const at = new Date(this.now());
    try {
      const session = await this.deps.audit.appendWith(
        async (trx) => {
          const stopped = await this.deps.sessions.recordExpiry(trx, id, at);
          if (!stopped) throw new AlreadyStopped();
          return stopped;
        },
        (s) =>
          sessionEvent(
            // No request caused it and nobody acted: the gateway records what the clock did.
            { requestId: `emergency-expiry:${s.id}`, viewer: undefined },
            s,
            'stop',
            EMERGENCY_STOP_ACTION,
            { stopReason: 'expired', endedBy: null, endedAt: s.expiresAt.toISOString(), noticedAt: at.toISOString() },
            `emergency access expired: session ${s.id}`,
            // Nobody looked anyone up: the person's page must not list an expiry as a read by an unknown organisation.
            { withSubject: false },
          ),
      );
      return { session, written: true };
    } catch (error) {
      const cause = (error as { cause?: unknown } | null)?.cause;
      if (error instanceof AlreadyStopped || cause instanceof AlreadyStopped) return { session: await this.deps.sessions.get(id), written: false };
      throw error;
    }
  }

  /** Records the STOP of every expired session still without one (up to a batch); how many this instance wrote. */
  sweep(): Promise<number> {
    // One sweep at a time per instance; a timer tick during a slow sweep joins it.
    this.sweeping ??= (async () => {
      let written = 0;
      try {
        for (const id of await this.deps.sessions.expiredUnrecorded(new Date(this.now()), SWEEP_BATCH)) {
          if ((await this.write(id)).written) written += 1;
        }
      } finally {
        this.sweeping = null;
      }
      return written;
    })();
    return this.sweeping;
  }

  /** Sweeps every `intervalMs` until {@link stop}; a failed sweep is reported and retried next time. */
  start(intervalMs: number = EXPIRY_SWEEP_MS): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.sweep().catch((error: unknown) => this.deps.onError?.(error));
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a sweep under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sweeping?.catch(() => {});
  }
}
