/**
 * The federated core through the real gateway: relations across the three sources with a fixed
 * number of source queries, token rejection, and bad input answered clearly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, UnsecuredJWT } from 'jose';
import { BACKENDS, createTestGateway, NANJING_EAST, TEST_SECRET, type TestGateway } from '../setup.ts';

describe.each(BACKENDS)('gateway core on %s', (backend) => {
  let gw: TestGateway;
  let clerk: string;
  const sqlBySource: Record<string, string[]> = {};
  const httpPaths: string[] = [];

  beforeAll(async () => {
    gw = await createTestGateway({
      backend,
      onSourceQuery: (source, q) => (sqlBySource[source] ??= []).push(q.sql),
      onHttpRequest: (r) => httpPaths.push(r.path),
    });
    clerk = await gw.token({ sub: 'clerk-1', org: NANJING_EAST, roles: ['street_staff'] });
  });
  afterAll(async () => gw?.close());

  const reset = () => {
    for (const key of Object.keys(sqlBySource)) delete sqlBySource[key];
    httpPaths.length = 0;
  };

  it('answers a page of 20 people with household and social security in 3 source queries', async () => {
    reset();
    const { status, body } = await gw.graphql(
      `{ people(first: 20) { edges { node { idNumber name household { id address tenure } socialSecurity { monthlyPension employer } } } } }`,
      { token: clerk, purpose: 'minimum-living-assistance' },
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const nodes = body.data.people.edges.map((e: any) => e.node);
    expect(nodes).toHaveLength(20);
    expect(nodes.filter((n: any) => n.household !== null).length).toBeGreaterThan(0);
    expect(nodes.filter((n: any) => n.socialSecurity !== null).length).toBeGreaterThan(0);
    expect(sqlBySource.population).toHaveLength(1);
    expect(sqlBySource.housing).toHaveLength(1);
    expect(httpPaths).toEqual(['/lookup']);
  });

  it('resolves house residents across sources in one batched query per level', async () => {
    reset();
    const { body } = await gw.graphql(
      `{ houses(first: 10) { totalCount edges { node { id address residents { name phone idNumber } } } } }`,
      { token: clerk, purpose: 'rental-registration' },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.houses.edges.length).toBeGreaterThan(0);
    expect(body.data.houses.totalCount).toBeGreaterThanOrEqual(body.data.houses.edges.length);
    // one page query + one count query on housing, one residents lookup on population
    expect(sqlBySource.housing).toHaveLength(2);
    expect(sqlBySource.population).toHaveLength(1);
  });

  describe('token rejection', () => {
    const query = `{ people(first: 1) { edges { node { name } } } }`;
    const cases: [string, () => Promise<string | null>][] = [
      ['missing', async () => null],
      [
        'expired',
        async () =>
          new SignJWT({ org: NANJING_EAST, roles: ['street_staff'] })
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('x')
            .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
            .sign(new TextEncoder().encode(TEST_SECRET)),
      ],
      ['alg none', async () => new UnsecuredJWT({ org: NANJING_EAST, roles: ['street_staff'] }).setSubject('x').setExpirationTime('1h').encode()],
      [
        'wrong key',
        async () =>
          new SignJWT({ org: NANJING_EAST, roles: ['street_staff'] })
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('x')
            .setExpirationTime('1h')
            .sign(new TextEncoder().encode('another-secret-another-secret-another-secret')),
      ],
      ['malformed', async () => 'not.a.jwt'],
      ['garbage', async () => '%%%'],
      [
        'unknown role',
        async () =>
          new SignJWT({ org: NANJING_EAST, roles: ['superuser'] })
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('x')
            .setExpirationTime('1h')
            .sign(new TextEncoder().encode(TEST_SECRET)),
      ],
      [
        'no exp',
        async () =>
          new SignJWT({ org: NANJING_EAST, roles: ['street_staff'] })
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('x')
            .sign(new TextEncoder().encode(TEST_SECRET)),
      ],
      [
        '100 KB claim',
        async () =>
          new SignJWT({ org: NANJING_EAST, roles: ['street_staff'], pad: 'x'.repeat(100_000) })
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('x')
            .setExpirationTime('1h')
            .sign(new TextEncoder().encode(TEST_SECRET)),
      ],
    ];
    it.each(cases)('%s token: 401 UNAUTHENTICATED and nothing run', async (_name, make) => {
      reset();
      const { status, body } = await gw.graphql(query, { token: await make(), purpose: 'elderly-allowance' });
      expect(status).toBe(401);
      expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      expect(body.data).toBeUndefined();
      expect(sqlBySource.population).toBeUndefined();
    });
  });

  describe('bad input', () => {
    it('an unknown field is a validation error, not a crash', async () => {
      const { status, body } = await gw.graphql(`{ people { edges { node { salary } } } }`, { token: clerk, purpose: 'elderly-allowance' });
      // application/json clients get 200 with errors (GraphQL over HTTP); never a 500
      expect(status).toBe(200);
      expect(body.data).toBeUndefined();
      expect(body.errors[0].message).toMatch(/Cannot query field "salary"/);
      expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/);
    });

    it.each([
      ['first: -1', `{ people(first: -1) { totalCount } }`],
      ['first: 100000', `{ people(first: 100000) { totalCount } }`],
      ['a malformed cursor', `{ people(first: 5, after: "bm90LWEtY3Vyc29y") { totalCount } }`],
      ['a date filter that is no date', `{ people(filter: { birthDate: { lte: "yesterday" } }) { totalCount } }`],
    ])('%s: BAD_USER_INPUT', async (_name, query) => {
      const { body } = await gw.graphql(query, { token: clerk, purpose: 'elderly-allowance' });
      expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      expect(body.data?.people ?? null).toBeNull();
      expect(JSON.stringify(body)).not.toMatch(/select|stack|\.ts:/i);
    });

    it('a cursor from another query is refused', async () => {
      const first = await gw.graphql(`{ people(first: 2) { pageInfo { endCursor } } }`, { token: clerk, purpose: 'elderly-allowance' });
      const cursor = first.body.data.people.pageInfo.endCursor;
      const { body } = await gw.graphql(`query($c: String) { people(first: 2, after: $c, orderBy: { field: birthDate }) { totalCount } }`, {
        token: clerk,
        purpose: 'elderly-allowance',
        variables: { c: cursor },
      });
      expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    });

    it('a broken JSON body gets a clear 400', async () => {
      const response = await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${clerk}` },
        body: '{"query": "{ people { totalCount } ',
      });
      expect(response.status).toBe(400);
      const body = await response.json();
      expect(body.errors[0].message).toMatch(/JSON/i);
    });

    it('the gateway is still healthy afterwards', async () => {
      const { body } = await gw.graphql(`{ people(first: 1) { totalCount } }`, { token: clerk, purpose: 'elderly-allowance' });
      expect(body.data.people.totalCount).toBeGreaterThan(0);
      expect((await gw.runtime.readiness()).ready).toBe(true);
    });
  });
});
