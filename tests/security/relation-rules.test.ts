/**
 * Nested fields obey the same rules as top-level ones (issue 17 item 8): under rental-registration
 * housing is granted for owned and rented dwellings only, so `person { household }` answering
 * `null` told which persons live in public housing. Following a relation into rows a row condition
 * narrows is refused; the same rows stay readable at the root, and relations into unconditioned
 * grants keep working.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../core/identity.ts';
import { BACKENDS, createTestGateway, NANJING_EAST, type TestGateway } from '../setup.ts';

const CLERK = { org: NANJING_EAST, roles: ['street_staff'] as Role[] };

describe.each(BACKENDS)('relations into narrowed rows on %s', (backend) => {
  let gw: TestGateway;
  const ask = async (query: string, purpose: string) => gw.graphql(query, { token: await gw.token(CLERK), purpose });

  beforeAll(async () => {
    gw = await createTestGateway({ backend, persons: 300 });
  });
  afterAll(async () => gw?.close());

  it('the demo data has persons of the street living in public housing (else the test proves nothing)', async () => {
    const street = NANJING_EAST.slice('street:'.length);
    const { rows } = await sql<{ n: string }>`
      select count(*)::text as n from population.person p join housing.house h on h.id = p.house_id
      where p.street_code = ${street} and h.tenure = 'public'`.execute(gw.runtime.databases.population);
    expect(Number(rows[0]!.n)).toBeGreaterThan(0);
  });

  it('refuses person { household } under rental-registration, naming the relation, before any source is read', async () => {
    const { body } = await ask(`{ people(first: 50) { edges { node { idNumber household { id tenure } } } } }`, 'rental-registration');
    expect(body.data ?? null).toBeNull();
    expect(body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(body.errors[0].extensions.forbiddenFields).toEqual(['population.household']);
  });

  it('refuses it through a fragment and an alias too', async () => {
    const { body } = await ask(
      `query { people(first: 5) { edges { node { ...P } } } } fragment P on Person { home: household { id } }`,
      'rental-registration',
    );
    expect(body.errors[0].extensions.forbiddenFields).toEqual(['population.household']);
  });

  it('still answers the houses at the root and their residents', async () => {
    const { body } = await ask(`{ houses(first: 5) { edges { node { id tenure residents { name } } } } }`, 'rental-registration');
    expect(body.errors).toBeUndefined();
    const tenures = body.data.houses.edges.map((e: any) => e.node.tenure);
    expect(tenures.length).toBeGreaterThan(0);
    expect(tenures.every((t: string) => t === 'owned' || t === 'rented')).toBe(true);
  });

  it('follows household where the housing grant has no row condition', async () => {
    const { body } = await ask(`{ people(first: 20) { edges { node { idNumber household { id tenure } } } } }`, 'minimum-living-assistance');
    expect(body.errors).toBeUndefined();
    expect(body.data.people.edges.some((e: any) => e.node.household?.tenure === 'public')).toBe(true);
  });
});
