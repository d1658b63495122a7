/**
 * Rate limits per user and per organisation: in-process, with Redis unreachable (the in-process
 * fallback still limits, and requests neither fail nor hang), and on real Redis shared by two
 * gateway instances.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sql } from 'kysely';
import { createTestGateway, NANJING_EAST, THE_BUND, TIANPING, type TestGateway } from '../setup.ts';
import type { Role } from '../../core/identity.ts';
import { RateLimiter } from '../../gateway/rate-limit/rate-limiter.ts';
import { MemoryRateLimitStore } from '../../gateway/rate-limit/memory-rate-limit-store.ts';
import { DEFAULT_RATE_LIMITS } from '../../gateway/rate-limit/rate-limit-rules.ts';
import type { RateLimitCounter, RateLimitStore } from '../../gateway/rate-limit/rate-limit-store.ts';
import { RedisRateLimitStore } from '../../gateway/rate-limit/redis-rate-limit-store.ts';

const PURPOSE = 'elderly-allowance';
const QUERY = '{ people(first: 1) { totalCount } }';

async function send(gw: TestGateway, token: string) {
  const response = await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-purpose': PURPOSE },
    body: JSON.stringify({ query: QUERY }),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() };
}

const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
/** A street of its own, so that no other test has spent its organisation budget. */
const randomStreet = () => `street:9${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;

async function auditedRateLimits(gw: TestGateway, sub: string): Promise<{ decision: string; operation_type: string }[]> {
  const { rows } = await sql<{ decision: string; operation_type: string }>`
    select decision, operation_type from audit_event where actor_sub = ${sub} and reason like 'RATE_LIMITED:%'`.execute(gw.runtime.databases.store);
  return rows;
}

describe('in-process rate limits (PGlite)', () => {
  let gw: TestGateway;
  let sourceCalls = 0;
  const limited: string[] = [];
  const token = (sub: string, org: string, roles: Role[] = ['street_staff']) => gw.token({ sub, org, roles });

  beforeAll(async () => {
    gw = await createTestGateway({
      persons: 100,
      onSourceQuery: () => sourceCalls++,
      env: { RATE_LIMITS: 'street_staff=3/min,auditor=2/min,org=5/min' },
    });
    vi.spyOn(gw.runtime.metrics, 'limitHit').mockImplementation((kind: string) => void limited.push(kind));
  });
  afterAll(async () => gw?.close());

  it('a user over budget gets 429 RATE_LIMITED with Retry-After; nothing runs; the refusal is audited', async () => {
    const sub = unique('user');
    const t = await token(sub, NANJING_EAST);
    for (let i = 0; i < 3; i++) {
      const ok = await send(gw, t);
      expect(ok.status).toBe(200);
      expect(ok.body.errors).toBeUndefined();
    }
    const before = sourceCalls;
    const refused = await send(gw, t);
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    expect(refused.body.data ?? null).toBeNull();
    expect(refused.body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', scope: 'user', limit: 3, windowMs: 60_000 });
    expect(refused.body.errors[0].extensions.retryAfter).toBe(Number(refused.retryAfter));
    expect(refused.body.errors[0].message).toMatch(/your rate limit of 3\/min is used up; retry in \d+ s/);
    expect(sourceCalls).toBe(before);
    expect(await auditedRateLimits(gw, sub)).toEqual([{ decision: 'deny', operation_type: 'http' }]);
    expect(limited).toContain('rate_user');
  });

  it('another user of the same street still has their own budget', async () => {
    const a = await token(unique('a'), TIANPING);
    for (let i = 0; i < 3; i++) await send(gw, a);
    expect((await send(gw, a)).status).toBe(429);
    expect((await send(gw, await token(unique('b'), TIANPING))).status).toBe(200);
  });

  it('the organisation budget is shared by its users', async () => {
    const org = THE_BUND;
    const first = await token(unique('org-1'), org);
    const second = await token(unique('org-2'), org);
    for (let i = 0; i < 3; i++) expect((await send(gw, first)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await send(gw, second)).status).toBe(200);
    const thirdSub = unique('org-3');
    const refused = await send(gw, await token(thirdSub, org));
    expect(refused.status).toBe(429);
    expect(refused.body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', scope: 'org', limit: 5 });
    expect(refused.body.errors[0].message).toMatch(/organisation's rate limit of 5\/min/);
    expect(await auditedRateLimits(gw, thirdSub)).toHaveLength(1);
    expect(limited).toContain('rate_org');
  });

  it('limits follow the role: an auditor has 2 a minute', async () => {
    const t = await token(unique('auditor'), 'office:security', ['auditor']);
    const ask = () =>
      gw.gateway.yoga.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` },
        body: JSON.stringify({ query: '{ me { sub } }' }),
      });
    expect((await ask()).status).toBe(200);
    expect((await ask()).status).toBe(200);
    expect((await ask()).status).toBe(429);
  });

  it('a user holding two roles gets the more generous limit', async () => {
    const t = await token(unique('two-roles'), randomStreet(), ['auditor', 'street_staff']);
    for (let i = 0; i < 3; i++) expect((await send(gw, t)).status).toBe(200);
    expect((await send(gw, t)).status).toBe(429);
  });

  it('an unauthenticated request is answered 401, not counted', async () => {
    const response = await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: QUERY }),
    });
    expect(response.status).toBe(401);
  });
});

describe('Redis unreachable at run time: the in-process fallback limits (PGlite)', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    // Nothing listens on port 1: every Redis command fails at once.
    gw = await createTestGateway({ persons: 50, env: { REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMITS: 'street_staff=2/min,org=1000/min' } });
  });
  afterAll(async () => gw?.close());

  it('never fails the request, never lets it through unlimited, never hangs', async () => {
    const t = await gw.token({ sub: unique('no-redis'), org: NANJING_EAST, roles: ['street_staff'] });
    const started = Date.now();
    const first = await send(gw, t);
    const second = await send(gw, t);
    const third = await send(gw, t);
    expect(first.status).toBe(200);
    expect(first.body.data.people.totalCount).toBeGreaterThan(0);
    expect(second.status).toBe(200);
    expect(third.status).toBe(429);
    expect(third.retryAfter).not.toBeNull();
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('RateLimiter with a failing store', () => {
  class FlakyStore implements RateLimitStore {
    down = false;
    readonly inner = new MemoryRateLimitStore();
    calls = 0;
    async hit(counters: readonly RateLimitCounter[]) {
      this.calls += 1;
      if (this.down) throw new Error('ECONNREFUSED');
      return this.inner.hit(counters);
    }
    async close() {}
  }
  const viewer = { sub: 'u', org: NANJING_EAST, roles: ['street_staff'] as Role[] };

  it('falls back while the store fails, reports the state changes once, and returns to the store', async () => {
    const store = new FlakyStore();
    const changes: boolean[] = [];
    const limiter = new RateLimiter({
      rules: { ...DEFAULT_RATE_LIMITS, street_staff: { limit: 2, windowMs: 60_000 } },
      store,
      retryStoreAfterMs: 0,
      onStoreStateChange: (healthy) => changes.push(healthy),
    });
    store.down = true;
    expect((await limiter.check(viewer)).allowed).toBe(true);
    expect((await limiter.check(viewer)).allowed).toBe(true);
    const third = await limiter.check(viewer);
    expect(third.allowed).toBe(false);
    expect(changes).toEqual([false]);
    store.down = false;
    expect((await limiter.check({ ...viewer, sub: 'v' })).allowed).toBe(true);
    expect(changes).toEqual([false, true]);
  });

  it('does not ask a failed store again until the pause is over', async () => {
    const store = new FlakyStore();
    const limiter = new RateLimiter({ rules: DEFAULT_RATE_LIMITS, store, retryStoreAfterMs: 60_000 });
    store.down = true;
    await limiter.check(viewer);
    const calls = store.calls;
    for (let i = 0; i < 10; i++) await limiter.check(viewer);
    expect(store.calls).toBe(calls);
  });

  it('a memory store windows reset', async () => {
    let now = 0;
    const store = new MemoryRateLimitStore({ now: () => now });
    const k = [{ key: 'k', windowMs: 1000 }];
    expect(await store.hit(k)).toEqual([{ count: 1, resetMs: 1000 }]);
    now = 400;
    expect(await store.hit([...k, { key: 'j', windowMs: 500 }])).toEqual([
      { count: 2, resetMs: 600 },
      { count: 1, resetMs: 500 },
    ]);
    now = 1000;
    expect(await store.hit(k)).toEqual([{ count: 1, resetMs: 1000 }]);
  });
});

const REAL = !!(process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL);

describe.runIf(REAL)('two instances share the counters in Redis (real PostgreSQL and Redis)', () => {
  let a: TestGateway;
  let b: TestGateway;

  beforeAll(async () => {
    a = await createTestGateway({ backend: 'postgres', redis: true, persons: 100, env: { RATE_LIMITS: 'street_staff=4/min,org=1000/min' } });
    b = await createTestGateway({ shareWith: a, redis: true });
  });
  afterAll(async () => {
    await b?.runtime.close();
    await a?.close();
  });

  it('a user gets 4 a minute across both instances, not 4 on each', async () => {
    const t = await a.token({ sub: unique('shared'), org: NANJING_EAST, roles: ['street_staff'] });
    expect((await send(a, t)).status).toBe(200);
    expect((await send(b, t)).status).toBe(200);
    expect((await send(a, t)).status).toBe(200);
    expect((await send(b, t)).status).toBe(200);
    const refusedOnB = await send(b, t);
    expect(refusedOnB.status).toBe(429);
    expect(Number(refusedOnB.retryAfter)).toBeGreaterThan(0);
    expect((await send(a, t)).status).toBe(429);
  });

  it('the organisation budget is shared too', async () => {
    const org = randomStreet();
    const c = await createTestGateway({ shareWith: a, redis: true, env: { RATE_LIMITS: 'street_staff=100/min,org=3/min' } });
    const d = await createTestGateway({ shareWith: c, redis: true });
    try {
      const user = (name: string) => c.token({ sub: unique(name), org, roles: ['street_staff'] });
      const ask = async (gw: TestGateway, t: string) =>
        (
          await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` },
            body: JSON.stringify({ query: '{ me { sub } }' }),
          })
        ).status;
      expect(await ask(c, await user('x'))).toBe(200);
      expect(await ask(d, await user('y'))).toBe(200);
      expect(await ask(c, await user('z'))).toBe(200);
      expect(await ask(d, await user('w'))).toBe(429);
    } finally {
      await d.runtime.close();
      await c.runtime.close();
    }
  });
});

describe.runIf(!!process.env.TEST_REDIS_URL)('the Redis store (real Redis)', () => {
  it('counts every counter of one call, each in its own window, a key named twice twice', async () => {
    const store = await RedisRateLimitStore.create({ url: process.env.TEST_REDIS_URL!, prefix: `lianqiao:test:${crypto.randomUUID()}:` });
    try {
      const first = await store.hit([
        { key: 'user', windowMs: 60_000 },
        { key: 'org', windowMs: 1_000 },
        { key: 'user', windowMs: 60_000 },
      ]);
      expect(first.map((h) => h.count)).toEqual([1, 1, 2]);
      expect(first[0]!.resetMs).toBeGreaterThan(59_000);
      expect(first[1]!.resetMs).toBeLessThanOrEqual(1_000);
      const second = await store.hit([{ key: 'org', windowMs: 1_000 }]);
      expect(second).toHaveLength(1);
      expect(second[0]!.count).toBe(2);
      await new Promise((r) => setTimeout(r, 1_100));
      const third = await store.hit([{ key: 'org', windowMs: 1_000 }, { key: 'user', windowMs: 60_000 }]);
      expect(third.map((h) => h.count)).toEqual([1, 3]);
    } finally {
      await store.close();
    }
  });
});
