/**
 * Casbin's Watcher over Redis pub/sub (ioredis): a policy change on one instance reaches every
 * instance within milliseconds. Losing Redis never opens access: each instance also polls the
 * store's policy version, and a publish that fails only delays propagation to that poll.
 *
 * A Redis that is down at start or goes away is retried in the background (ioredis' retry
 * strategy); the instance keeps serving meanwhile. Connection changes are reported once each
 * ({@link RedisPolicyWatcherOptions.onStateChange}), not once per failed attempt. After a
 * reconnection the channel is subscribed again and the update callback runs once, so that a
 * change published while this instance was cut off is picked up at once.
 */
import { Redis } from 'ioredis';
import type { Watcher } from 'casbin';

export const POLICY_CHANNEL = 'lianqiao:policy-changed';

export interface RedisPolicyWatcherOptions {
  readonly url: string;
  readonly channel?: string;
  /** Every client error (each failed reconnection attempt too). */
  readonly onError?: (error: unknown) => void;
  /**
   * Called when the watcher becomes able (both connections up, channel subscribed) or unable to
   * propagate changes: once per change, with the last error when it goes down.
   */
  readonly onStateChange?: (connected: boolean, error?: unknown) => void;
}

export class RedisPolicyWatcher implements Watcher {
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #channel: string;
  readonly #options: RedisPolicyWatcherOptions;
  #callback: (message: string) => void = () => {};
  #pubReady = false;
  #subscribed = false;
  /** Set once create() returned: from then on every (re)subscription may follow missed changes. */
  #catchUp = false;
  #subscribing: Promise<void> | undefined;
  #connected: boolean | undefined;
  #lastError: unknown;
  #closed = false;

  private constructor(options: RedisPolicyWatcherOptions) {
    this.#options = options;
    const common = { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (n: number) => Math.min(n * 200, 2000) };
    this.#pub = new Redis(options.url, common);
    // Subscribed by #subscribe on every 'ready', so that a subscription that failed is retried too.
    this.#sub = new Redis(options.url, { ...common, enableOfflineQueue: true, autoResubscribe: false });
    this.#channel = options.channel ?? POLICY_CHANNEL;
    for (const client of [this.#pub, this.#sub]) {
      client.on('error', (e) => {
        this.#lastError = e;
        options.onError?.(e);
      });
    }
    this.#pub.on('ready', () => {
      this.#pubReady = true;
      this.#report();
    });
    this.#pub.on('close', () => {
      this.#pubReady = false;
      this.#report();
    });
    this.#sub.on('ready', () => {
      this.#subscribing = this.#subscribe();
    });
    this.#sub.on('close', () => {
      this.#subscribed = false;
      this.#report();
    });
    this.#sub.on('message', (channel, message) => {
      if (channel === this.#channel) this.#callback(message);
    });
  }

  /** True while changes propagate both ways (both connections up, channel subscribed). */
  get connected(): boolean {
    return this.#connected === true;
  }

  async #subscribe(): Promise<void> {
    try {
      await this.#sub.subscribe(this.#channel);
      this.#subscribed = true;
      this.#report();
      // Anything published while this instance was cut off (or before Redis first came up) is
      // lost: catch up now.
      if (this.#catchUp) this.#callback('reconnected');
    } catch (error) {
      this.#lastError = error;
      this.#report();
    }
  }

  #report(): void {
    if (this.#closed) return;
    const connected = this.#pubReady && this.#subscribed;
    if (connected === this.#connected) return;
    // Going down is reported once the first attempt failed (#connected undefined → false), not per retry.
    this.#connected = connected;
    this.#options.onStateChange?.(connected, connected ? undefined : this.#lastError);
  }

  /** Connects both clients; a Redis that is down at start is retried in the background. */
  static async create(options: RedisPolicyWatcherOptions): Promise<RedisPolicyWatcher> {
    const watcher = new RedisPolicyWatcher(options);
    // ioredis re-subscribes by itself after reconnecting.
    await Promise.allSettled([watcher.#pub.connect(), watcher.#sub.connect()]);
    await watcher.#subscribing;
    watcher.#report();
    watcher.#catchUp = true;
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
    this.#closed = true;
    this.#pub.disconnect();
    this.#sub.disconnect();
  }
}
