/**
 * Redis absent at start and lost mid-run, with two instances on real PostgreSQL. The test runs its
 * own redis-server child on a free port (the machine's shared Redis is never touched) and kills and
 * restarts it. Both instances poll the store only every 60 s; Redis only speeds up the news, since
 * every read confirms the store's policy version.
 *
 * Expected: the instances start and serve without Redis (single-instance mode), say so once,
 * connect when Redis appears, refuse at once a grant withdrawn on the other instance whether or not
 * Redis is there, and reconnect without flooding the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, NANJING_EAST, type TestGateway } from '../setup.ts';
import { logCapture, privateRedis, REAL_POSTGRES, REDIS_SERVER_AVAILABLE, waitFor, type PrivateRedis } from './fault-tools.ts';

const RUN = REAL_POSTGRES && !!process.env.TEST_REDIS_URL && REDIS_SERVER_AVAILABLE;

const PROBES = {
  'social-security-elderly-allowance': {
    owner: 'dept:hrss',
    purpose: 'elderly-allowance',
    query: `{ people(first: 2) { edges { node { name socialSecurity { pensionStatus } } } } }`,
  },
  'social-security-minimum-living-assistance': {
    owner: 'dept:hrss',
    purpose: 'minimum-living-assistance',
    query: `{ people(first: 2) { edges { node { name socialSecurity { monthlyPension } } } } }`,
  },
  'housing-rental-registration': {
    owner: 'dept:housing',
    purpose: 'rental-registration',
    query: `{ houses(first: 2) { edges { node { id address } } } }`,
  },
} as const;
type GrantId = keyof typeof PROBES;

describe.runIf(RUN)('Redis down at start and mid-run (real PostgreSQL, private redis-server)', () => {
  let redis: PrivateRedis;
  let a: TestGateway;
  let b: TestGateway;
  const logsA = logCapture();
  const logsB = logCapture();
  let clerk: string;

  beforeAll(async () => {
    redis = await privateRedis(); // not started: Redis is down when the gateways start
    const started = Date.now();
    a = await createTestGateway({ backend: 'postgres', env: { REDIS_URL: redis.url }, policyPollMs: 60_000, logger: logsA.logger });
    b = await createTestGateway({ shareWith: a, env: { REDIS_URL: redis.url }, policyPollMs: 60_000, logger: logsB.logger });
    expect(Date.now() - started).toBeLessThan(30_000);
    clerk = await b.token({ sub: 'clerk-redis', org: NANJING_EAST, roles: ['street_staff'] });
  });
  afterAll(async () => {
    await b?.runtime.close();
    await a?.close();
    await redis?.stop();
  });

  const allowedOn = async (gw: TestGateway, grant: GrantId) => {
    const probe = PROBES[grant];
    const { body } = await gw.graphql(probe.query, { token: clerk, purpose: probe.purpose });
    if (body.errors?.[0]?.extensions?.code === 'FORBIDDEN') return false;
    expect(body.errors).toBeUndefined();
    return true;
  };
  const revokeOnA = async (grant: GrantId) => {
    const owner = await a.token({ sub: 'owner', org: PROBES[grant].owner, roles: ['data_owner'] });
    const { body } = await a.graphql(`mutation { revokeGrant(id: "${grant}") { id } }`, { token: owner });
    expect(body.errors).toBeUndefined();
  };
  /** ms until B refuses the grant's probe, or Infinity after `withinMs`. */
  const refusedOnBAfter = async (grant: GrantId, withinMs: number) => {
    const since = Date.now();
    while (Date.now() - since < withinMs) {
      if (!(await allowedOn(b, grant))) return Date.now() - since;
      await new Promise((r) => setTimeout(r, 20));
    }
    return Number.POSITIVE_INFINITY;
  };
  const redisLines = (logs: ReturnType<typeof logCapture>, state: 'connected' | 'unavailable') =>
    logs.messages(state === 'connected' ? /^redis connected: policy changes/ : /^redis unavailable: serving in single-instance mode/);

  it('starts and serves without Redis, says so once, then connects and propagates', async () => {
    expect(await allowedOn(b, 'social-security-elderly-allowance')).toBe(true);
    const readiness = await b.runtime.readiness();
    expect(readiness.ready).toBe(true); // Redis is optional
    expect(readiness.checks.redis).toBe('unavailable');
    await new Promise((r) => setTimeout(r, 1500)); // several reconnection attempts
    for (const logs of [logsA, logsB]) {
      expect(redisLines(logs, 'unavailable')).toHaveLength(1);
      expect(redisLines(logs, 'unavailable')[0]!.level).toBe(40);
      expect(redisLines(logs, 'connected')).toHaveLength(0);
    }

    await redis.start();
    await waitFor(async () => (await a.runtime.readiness()).checks.redis === 'ok' && (await b.runtime.readiness()).checks.redis === 'ok', 10_000, 'both instances on Redis');
    expect(redisLines(logsB, 'connected')).toHaveLength(1);

    await revokeOnA('social-security-elderly-allowance');
    expect(await refusedOnBAfter('social-security-elderly-allowance', 1000)).toBeLessThan(1000);
  });

  it('keeps serving when Redis dies, refuses at once a grant withdrawn on the other instance, and propagates again once Redis is back', async () => {
    await redis.stop();
    await waitFor(() => redisLines(logsB, 'unavailable').length === 2, 10_000, 'B noticing Redis is gone');
    expect((await b.runtime.readiness()).checks.redis).toBe('unavailable');

    // Without Redis both keep serving, and a withdrawal that has answered on A is in force on B at
    // once: every read confirms the store's policy version, so no read waits for the news (CONTRACT.md).
    expect(await allowedOn(b, 'social-security-minimum-living-assistance')).toBe(true);
    await revokeOnA('social-security-minimum-living-assistance');
    expect(await allowedOn(a, 'social-security-minimum-living-assistance')).toBe(false);
    expect(await allowedOn(b, 'social-security-minimum-living-assistance')).toBe(false);

    await new Promise((r) => setTimeout(r, 1500)); // retries must not flood the log
    await redis.start();
    expect(await refusedOnBAfter('social-security-minimum-living-assistance', 8000)).toBeLessThan(8000);
    await waitFor(async () => (await a.runtime.readiness()).checks.redis === 'ok', 10_000, 'A back on Redis');

    await revokeOnA('housing-rental-registration');
    expect(await refusedOnBAfter('housing-rental-registration', 1000)).toBeLessThan(1000);

    for (const logs of [logsA, logsB]) {
      expect(redisLines(logs, 'unavailable')).toHaveLength(2);
      expect(redisLines(logs, 'connected')).toHaveLength(2);
    }
    const metrics = await b.runtime.metrics.render();
    expect(metrics).toMatch(/lianqiao_dependency_up\{dependency="redis"\} 1/);
  });
});
