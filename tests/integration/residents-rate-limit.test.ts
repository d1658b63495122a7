/**
 * Residents share the organisation `resident` but not its budget: each resident is counted on
 * their own, under a digest of their ID number (the limiter's store never holds it in clear).
 */
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../gateway/rate-limit/rate-limiter.ts';
import { MemoryRateLimitStore } from '../../gateway/rate-limit/memory-rate-limit-store.ts';
import { parseRateLimits } from '../../gateway/rate-limit/rate-limit-rules.ts';

describe('rate limits of residents', () => {
  it("one resident spending their budget leaves everyone else's untouched, and no ID number is a key", async () => {
    const keys: string[] = [];
    const store = new MemoryRateLimitStore();
    const hit = store.hit.bind(store);
    store.hit = (counters) => (keys.push(...counters.map((c) => c.key)), hit(counters));
    const limiter = new RateLimiter({ rules: parseRateLimits('resident=3/min,org=5/min').rules!, store });
    const a = { sub: '310101194511036017', org: 'resident', roles: ['resident'] as const };
    const b = { sub: '310104198802024321', org: 'resident', roles: ['resident'] as const };
    for (let i = 0; i < 3; i++) expect((await limiter.check(a)).allowed).toBe(true);
    expect(await limiter.check(a)).toMatchObject({ allowed: false });
    for (let i = 0; i < 3; i++) expect((await limiter.check(b)).allowed).toBe(true);
    expect(keys.some((k) => k.includes(a.sub) || k.includes(b.sub))).toBe(false);
    // A street's staff still share their organisation's budget.
    const clerks = [1, 2, 3, 4, 5, 6].map((n) => ({ sub: `clerk-${n}`, org: 'street:310101002', roles: ['street_staff'] as const }));
    const decisions = [];
    for (const clerk of clerks) decisions.push((await limiter.check(clerk)).allowed);
    expect(decisions).toEqual([true, true, true, true, true, false]);
    await limiter.close();
  });
});
