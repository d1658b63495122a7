/**
 * Casbin's Watcher over Redis pub/sub (ioredis): a policy change on one instance reaches every
 * instance within milliseconds. Losing Redis never opens access: each instance also polls the
 * store's policy version, and a publish that fails only delays propagation to that poll.
 */
import { Redis } from 'ioredis';
import type { Watcher } from 'casbin';

export const POLICY_CHANNEL = 'lianqiao:policy-changed';

export interface RedisPolicyWatcherOptions {
  readonly url: string;
  readonly channel?: string;
  readonly onError?: (error: unknown) => void;
}

export class RedisPolicyWatcher implements Watcher {
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #channel: string;
  #callback: (message: string) => void = () => {};

  private constructor(options: RedisPolicyWatcherOptions) {
    const common = { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (n: number) => Math.min(n * 200, 2000) };
    this.#pub = new Redis(options.url, common);
    this.#sub = new Redis(options.url, { ...common, enableOfflineQueue: true });
    this.#channel = options.channel ?? POLICY_CHANNEL;
    for (const client of [this.#pub, this.#sub]) client.on('error', (e) => options.onError?.(e));
    this.#sub.on('message', (channel, message) => {
      if (channel === this.#channel) this.#callback(message);
    });
  }

  /** Connects both clients; a Redis that is down at start is retried in the background. */
  static async create(options: RedisPolicyWatcherOptions): Promise<RedisPolicyWatcher> {
    const watcher = new RedisPolicyWatcher(options);
    // ioredis re-subscribes by itself after reconnecting.
    await Promise.allSettled([watcher.#pub.connect(), watcher.#sub.connect()]);
    await watcher.#sub.subscribe(watcher.#channel).catch((e) => options.onError?.(e));
    return watcher;
  }

  setUpdateCallback(callback: (message: string) => void): void {
    this.#callback = callback;
  }

  /** Tells the other instances the policies changed. */
  async update(message = 'changed'): Promise<boolean> {
    try {
      await this.#pub.publish(this.#channel, message);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.#pub.disconnect();
    this.#sub.disconnect();
  }
}
