/**
 * Two gateway instances sharing real PostgreSQL and Redis: a grant revoked on instance A is
 * refused on instance B within one second.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, NANJING_EAST, type TestGateway } from '../setup.ts';

const REAL = !!(process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL);

describe.runIf(REAL)('two instances on real PostgreSQL and Redis', () => {
  let a: TestGateway;
  let b: TestGateway;

  beforeAll(async () => {
    // B polls the store only every 60 s: within a second, only Redis can have told it.
    a = await createTestGateway({ backend: 'postgres', redis: true, policyPollMs: 60_000 });
    b = await createTestGateway({ shareWith: a, redis: true, policyPollMs: 60_000 });
  });
  afterAll(async () => {
    await b?.runtime.close();
    await a?.close();
  });

  it('a revoke on A is refused on B within 1 second', async () => {
    const owner = await a.token({ sub: 'owner', org: 'dept:hrss', roles: ['data_owner'] });
    const clerk = await b.token({ sub: 'clerk', org: NANJING_EAST, roles: ['street_staff'] });
    const query = `{ people(first: 2) { edges { node { name socialSecurity { pensionStatus } } } } }`;
    const before = await b.graphql(query, { token: clerk, purpose: 'elderly-allowance' });
    expect(before.body.errors).toBeUndefined();

    const revoke = await a.graphql(`mutation { revokeGrant(id: "social-security-elderly-allowance") { id } }`, { token: owner });
    expect(revoke.body.errors).toBeUndefined();
    const revokedAt = Date.now();
    let refusedAfter = Number.POSITIVE_INFINITY;
    while (Date.now() - revokedAt < 1000) {
      const { body } = await b.graphql(query, { token: clerk, purpose: 'elderly-allowance' });
      if (body.errors?.[0]?.extensions?.code === 'FORBIDDEN') {
        refusedAfter = Date.now() - revokedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(refusedAfter).toBeLessThan(1000);
  });
});
