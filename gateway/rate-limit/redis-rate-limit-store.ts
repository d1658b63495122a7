/**
 * The Redis adapter of {@link RateLimitStore}: one counter per key shared by every gateway
 * instance. INCR, and PEXPIRE on the window's first request, run as one Lua script so that a key
 * never outlives its window; Redis's own clock decides when a window ends, so instances with
 * skewed clocks still agree.
 *
 * It fails fast rather than waits: no offline queue and a short command timeout, so that a Redis
 * outage costs a request a few milliseconds (the limiter then counts in-process), never a hang.
 */
import { Redis } from 'ioredis';
import type { RateLimitHit, RateLimitStore } from './rate-limit-store.ts';

const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

export interface RedisRateLimitStoreOptions {
  readonly url: string;
  /** Prefix of every key. Default `lianqiao:rate:`. */
  readonly prefix?: string;
  /** Longest wait for one answer, ms. Default 250. */
  readonly commandTimeoutMs?: number;
  /** Connection errors (reported by ioredis on every retry; the limiter logs state changes). */
  readonly onError?: (error: unknown) => void;
}

type WithHit = Redis & { lianqiaoRateHit(key: string, windowMs: number): Promise<[number, number]> };

export class RedisRateLimitStore implements RateLimitStore {
  readonly #client: WithHit;
  readonly #prefix: string;

  private constructor(options: RedisRateLimitStoreOptions) {
    this.#prefix = options.prefix ?? 'lianqiao:rate:';
    const client = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Every request counts twice (user and organisation) and many arrive together: commands
      // issued in the same tick leave in one write and come back in one read, instead of a
      // system call pair each.
      enableAutoPipelining: true,
      commandTimeout: options.commandTimeoutMs ?? 250,
      retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
    });
    client.on('error', (error) => options.onError?.(error));
    client.defineCommand('lianqiaoRateHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    this.#client = client as WithHit;
  }

  /** Connects; a Redis that is down at start is retried in the background (the limiter falls back meanwhile). */
  static async create(options: RedisRateLimitStoreOptions): Promise<RedisRateLimitStore> {
    const store = new RedisRateLimitStore(options);
    await store.#client.connect().catch((error: unknown) => options.onError?.(error));
    return store;
  }

  get connected(): boolean {
    return this.#client.status === 'ready';
  }

  async hit(key: string, windowMs: number): Promise<RateLimitHit> {
    const [count, resetMs] = await this.#client.lianqiaoRateHit(this.#prefix + key, windowMs);
    return { count: Number(count), resetMs: Math.max(0, Number(resetMs)) };
  }

  async close(): Promise<void> {
    this.#client.disconnect();
  }
}
