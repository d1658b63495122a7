/** useRateLimit on its own: 429 with Retry-After, audited, before the body is read. */
import { describe, expect, it } from 'vitest';
import { useAuthentication } from '../../../gateway/pipeline/use-authentication.ts';
import { useRateLimit } from '../../../gateway/pipeline/use-rate-limit.ts';
import type { RateLimiter } from '../../../gateway/rate-limit/rate-limiter.ts';
import { authenticator, memorySink, oneFieldYoga, post } from './one-field-yoga.ts';

describe('useRateLimit', () => {
  const setup = (budget: number) => {
    const sink = memorySink();
    let used = 0;
    const limiter = {
      async check() {
        used += 1;
        return used <= budget ? { allowed: true } : { allowed: false, scope: 'user', rule: { limit: budget, windowMs: 60_000 }, retryAfterMs: 2500 };
      },
    } as unknown as RateLimiter;
    let ran = 0;
    const yoga = oneFieldYoga([useAuthentication({ authenticator, audit: sink }), useRateLimit({ limiter, audit: sink })], () => {
      ran += 1;
      return 'world';
    });
    return { sink, yoga, ran: () => ran };
  };

  it('answers within the budget, then 429 with Retry-After, audited, nothing run', async () => {
    const { yoga, sink, ran } = setup(2);
    const headers = { authorization: 'Bearer good' };
    expect((await post(yoga, { query: '{ hello }' }, headers)).status).toBe(200);
    expect((await post(yoga, { query: '{ hello }' }, headers)).status).toBe(200);
    const refused = await post(yoga, { query: '{ hello }' }, headers);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('3');
    expect(refused.body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', scope: 'user', limit: 2, retryAfter: 3 });
    expect(ran()).toBe(2);
    expect(sink.events.map((e) => `${e.decision} ${e.reason}`)).toEqual([expect.stringMatching(/^deny RATE_LIMITED: your rate limit of 2\/min/)]);
  });

  it('does not count a request without a valid token (useAuthentication refused it)', async () => {
    const { yoga, sink } = setup(0);
    expect((await post(yoga, { query: '{ hello }' })).status).toBe(401);
    expect(sink.events.map((e) => e.reason)).toEqual([expect.stringMatching(/^UNAUTHENTICATED/)]);
  });

  it('is absent when rate limiting is off', () => {
    expect(useRateLimit({ limiter: null, audit: memorySink() })).toEqual({});
  });
});
