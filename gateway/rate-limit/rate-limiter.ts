/**
 * Counts every authenticated request twice, against its user (`sub`) and its organisation (one
 * call to the store for both), and says whether it may go on.
 *
 * The counters live in a {@link RateLimitStore} (Redis across instances, or in-process). When the
 * store fails at run time the limiter counts in its in-process fallback instead: a Redis outage
 * neither lets traffic through unlimited nor fails the request. It retries the store after a
 * short pause, so a hung Redis costs one command timeout per pause, not one per request.
 *
 * @example
 * const limiter = new RateLimiter({ rules: DEFAULT_RATE_LIMITS, store: new MemoryRateLimitStore() });
 * const decision = await limiter.check({ sub: 'u1', org: 'street:310101002', roles: ['street_staff'] });
 * if (!decision.allowed) respond429(decision.retryAfterMs);
 */
import { createHash } from 'node:crypto';
import { isResident } from '../../core/identity.ts';
import type { Viewer } from '../../core/identity.ts';
import { MemoryRateLimitStore } from './memory-rate-limit-store.ts';
import type { RateLimitRule, RateLimitRules } from './rate-limit-rules.ts';
import type { RateLimitCounter, RateLimitHit, RateLimitStore } from './rate-limit-store.ts';

export type RateLimitScope = 'user' | 'org';

export type RateLimitDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      /** Whose budget is spent: the user's or the whole organisation's. */
      readonly scope: RateLimitScope;
      readonly rule: RateLimitRule;
      /** When the spent window ends. */
      readonly retryAfterMs: number;
    };

export interface RateLimiterOptions {
  readonly rules: RateLimitRules;
  /** Where the counters live: Redis (shared) or in-process. */
  readonly store: RateLimitStore;
  /** Counts while `store` fails. Default: a new in-process store (or `store` itself when it is one). */
  readonly fallback?: RateLimitStore;
  /** How long to count in the fallback after the store failed before trying it again. Default 1000 ms. */
  readonly retryStoreAfterMs?: number;
  /** Called when the store starts failing (with the error) and when it answers again. */
  readonly onStoreStateChange?: (healthy: boolean, error?: unknown) => void;
}

export class RateLimiter {
  readonly rules: RateLimitRules;
  readonly #store: RateLimitStore;
  readonly #fallback: RateLimitStore;
  readonly #retryAfterMs: number;
  readonly #onStateChange?: RateLimiterOptions['onStoreStateChange'];
  #storeDownUntil = 0;
  #healthy = true;

  constructor(options: RateLimiterOptions) {
    this.rules = options.rules;
    this.#store = options.store;
    this.#fallback = options.fallback ?? (options.store instanceof MemoryRateLimitStore ? options.store : new MemoryRateLimitStore());
    this.#retryAfterMs = options.retryStoreAfterMs ?? 1000;
    this.#onStateChange = options.onStoreStateChange;
  }

  /** The most generous limit among the user's roles: a user is not slowed by also holding a narrow role. */
  userRule(viewer: Viewer): RateLimitRule {
    let best: RateLimitRule | undefined;
    for (const role of viewer.roles) {
      const rule = this.rules[role];
      if (!best || rule.limit / rule.windowMs > best.limit / best.windowMs) best = rule;
    }
    return best ?? this.rules.street_staff;
  }

  /** Counts one request of `viewer` against its user and its organisation. */
  async check(viewer: Viewer): Promise<RateLimitDecision> {
    const user = this.userRule(viewer);
    const org = this.rules.org;
    // Residents are no organisation: each is their own (so one cannot spend everyone's budget), and
    // their sub, an ID number, is counted under a digest rather than kept in the store in clear.
    const resident = isResident(viewer) ? createHash('sha256').update(viewer.sub).digest('base64url').slice(0, 22) : undefined;
    const [userHit, orgHit] = (await this.#hit([
      { key: `user:${user.windowMs}:${resident ? `resident:${resident}` : viewer.sub}`, windowMs: user.windowMs },
      { key: `org:${org.windowMs}:${resident ? `resident:${resident}` : viewer.org}`, windowMs: org.windowMs },
    ])) as [RateLimitHit, RateLimitHit];
    const over: { scope: RateLimitScope; rule: RateLimitRule; hit: RateLimitHit }[] = [];
    if (userHit.count > user.limit) over.push({ scope: 'user', rule: user, hit: userHit });
    if (orgHit.count > org.limit) over.push({ scope: 'org', rule: org, hit: orgHit });
    if (over.length === 0) return { allowed: true };
    // When both are spent, the caller must wait for the later of the two windows.
    const worst = over.reduce((a, b) => (b.hit.resetMs > a.hit.resetMs ? b : a));
    return { allowed: false, scope: worst.scope, rule: worst.rule, retryAfterMs: Math.max(worst.hit.resetMs, 1) };
  }

  async #hit(counters: readonly RateLimitCounter[]): Promise<RateLimitHit[]> {
    if (this.#store === this.#fallback || Date.now() < this.#storeDownUntil) return this.#fallback.hit(counters);
    try {
      const hit = await this.#store.hit(counters);
      if (!this.#healthy) {
        this.#healthy = true;
        this.#onStateChange?.(true);
      }
      return hit;
    } catch (error) {
      this.#storeDownUntil = Date.now() + this.#retryAfterMs;
      if (this.#healthy) {
        this.#healthy = false;
        this.#onStateChange?.(false, error);
      }
      return this.#fallback.hit(counters);
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#store.close(), this.#fallback.close()]);
  }
}
