/**
 * The port behind the rate limiter: a counter per key in a fixed time window. Adapters:
 * {@link MemoryRateLimitStore} (one process) and {@link RedisRateLimitStore} (shared by every
 * instance), chosen once at start-up from `REDIS_URL`.
 */

/** One request counted: how many were counted in the key's current window, and when it ends. */
export interface RateLimitHit {
  /** Requests counted in the current window, this one included. */
  readonly count: number;
  /** Milliseconds until the current window ends and the count starts again from zero. */
  readonly resetMs: number;
}

/** A counter to count one request against: its key and the length of its windows. */
export interface RateLimitCounter {
  readonly key: string;
  readonly windowMs: number;
}

export interface RateLimitStore {
  /**
   * Counts one request against each counter, in a window of `windowMs` that starts with the key's
   * first request; the hits in the counters' order. All at once, so that a request costs one round
   * trip to a shared store however many counters it is counted against. Rejects when the store
   * cannot answer (the limiter then falls back, never lets through).
   */
  hit(counters: readonly RateLimitCounter[]): Promise<RateLimitHit[]>;
  close(): Promise<void>;
}
