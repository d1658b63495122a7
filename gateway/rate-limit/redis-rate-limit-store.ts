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
import type { RateLimitCounter, RateLimitHit, RateLimitStore } from './rate-limit-store.ts';

/** Every key of the call counted at once: KEYS[i] with its window ARGV[i]; returns count, ttl pairs. */
const HIT_SCRIPT = `
local out = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, ARGV[i])
    ttl = tonumber(ARGV[i])
  end
  out[2 * i - 1] = count
  out[2 * i] = ttl
end
return out
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

type WithHit = Redis & { lianqiaoRateHit(keyCount: number, ...keysThenWindows: (string | number)[]): Promise<number[]> };

export class RedisRateLimitStore implements RateLimitStore {
  readonly #client: WithHit;
  readonly #prefix: string;

  private constructor(options: RedisRateLimitStoreOptions) {
    this.#prefix = options.prefix ?? 'lianqiao:rate:';
    const client = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Many requests arrive together (each counted against its user and its organisation in one
      // call): commands issued in the same tick leave in one write and come back in one read,
      // instead of a system call pair each.
      enableAutoPipelining: true,
      commandTimeout: options.commandTimeoutMs ?? 250,
      retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
    });
    client.on('error', (error) => options.onError?.(error));
    client.defineCommand('lianqiaoRateHit', { lua: HIT_SCRIPT }); // the number of keys comes first in each call
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

  async hit(counters: readonly RateLimitCounter[]): Promise<RateLimitHit[]> {
    const args: (string | number)[] = new Array(counters.length * 2);
    for (let i = 0; i < counters.length; i++) {
      args[i] = this.#prefix + counters[i]!.key;
      args[counters.length + i] = counters[i]!.windowMs;
    }
    const reply = await this.#client.lianqiaoRateHit(counters.length, ...args);
    return counters.map((_, i) => ({ count: Number(reply[2 * i]), resetMs: Math.max(0, Number(reply[2 * i + 1])) }));
  }

  async close(): Promise<void> {
    this.#client.disconnect();
  }
}
