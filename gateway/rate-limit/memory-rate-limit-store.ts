/**
 * The in-process adapter of {@link RateLimitStore}: fixed windows in a Map. Used alone in
 * single-instance mode, and as the fallback while Redis is unreachable.
 */
import type { RateLimitCounter, RateLimitHit, RateLimitStore } from './rate-limit-store.ts';

interface Window {
  count: number;
  endsAt: number;
}

export interface MemoryRateLimitStoreOptions {
  /** Clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
  /** Expired windows are swept once the map holds this many keys. Default 10,000. */
  readonly sweepAbove?: number;
}

export class MemoryRateLimitStore implements RateLimitStore {
  readonly #windows = new Map<string, Window>();
  readonly #now: () => number;
  readonly #sweepAbove: number;

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#sweepAbove = options.sweepAbove ?? 10_000;
  }

  async hit(counters: readonly RateLimitCounter[]): Promise<RateLimitHit[]> {
    const now = this.#now();
    return counters.map(({ key, windowMs }) => this.#hitOne(key, windowMs, now));
  }

  #hitOne(key: string, windowMs: number, now: number): RateLimitHit {
    let window = this.#windows.get(key);
    if (!window || window.endsAt <= now) {
      if (this.#windows.size >= this.#sweepAbove) this.#sweep(now);
      window = { count: 0, endsAt: now + windowMs };
      this.#windows.set(key, window);
    }
    window.count += 1;
    return { count: window.count, resetMs: window.endsAt - now };
  }

  /** Keys with a window still open (tests and diagnostics). */
  get size(): number {
    return this.#windows.size;
  }

  #sweep(now: number): void {
    for (const [key, window] of this.#windows) if (window.endsAt <= now) this.#windows.delete(key);
  }

  async close(): Promise<void> {
    this.#windows.clear();
  }
}
