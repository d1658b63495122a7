/**
 * Overlapping grants through the whole gateway (PGlite, and real PostgreSQL when
 * TEST_DATABASE_URL is set): a street holds the demo's elderly-allowance grants (persons aged
 * 65+) and, for the same duty, a second grant on every person of the street with fewer fields.
 * What a clerk sees is decided per row, masked per row, and filters, sorts and look-ups compare a
 * field only on the rows where it is full.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import fc from 'fast-check';
import { BACKENDS, createTestGateway, NANJING_EAST, TIANPING, type TestGateway } from '../setup.ts';
import type { Condition } from '../../core/conditions.ts';
import { POPULATION } from '../../core/datasets.ts';
import type { Row } from '../../connectors/connector.ts';
import { PostgresConnector } from '../../connectors/postgres/postgres-connector.ts';
import { POPULATION_TABLE } from '../../demo/source-schema.ts';
import type { FieldAccess } from '../../policies/access-plan.ts';
import { ageOn, todayInCity } from '../../core/time.ts';
import { applyMask } from '../../policies/masks.ts';
import type { GrantDef } from '../../policies/policy-definitions.ts';

const STREET = NANJING_EAST.slice('street:'.length);
const DUTY = 'elderly-allowance';
const CLERK = { org: NANJING_EAST, roles: ['street_staff' as const] };

const EVERYONE: GrantDef = {
  id: 'test-overlap-everyone',
  owner: 'dept:public-security',
  dataset: 'population',
  duty: DUTY,
  streets: [STREET],
  fields: { name: 'masked', gender: 'full', streetCode: 'full' },
  rows: null,
  validFrom: null,
  validUntil: null,
};

const RECEIVING_PENSION: GrantDef = {
  id: 'test-overlap-pension-amount',
  owner: 'dept:hrss',
  dataset: 'social_security',
  duty: DUTY,
  streets: [STREET],
  fields: { pensionStatus: 'full', monthlyPension: 'full' },
  rows: { field: 'pensionStatus', op: 'eq', value: 'receiving' },
  validFrom: null,
  validUntil: null,
};

describe.each(BACKENDS)('overlapping grants through the gateway, on %s', (backend) => {
  let gw: TestGateway;
  let token: string;
  const persons = new Map<string, { name: string; age: number; gender: string }>();
  const accounts = new Map<string, { pensionStatus: string; monthlyPension: number }>();

  beforeAll(async () => {
    gw = await createTestGateway({ backend, persons: 600 });
    await gw.runtime.policyStore.createGrant(EVERYONE, 'test');
    await gw.runtime.policyStore.createGrant(RECEIVING_PENSION, 'test');
    await gw.runtime.authorizer.reload(true);
    token = await gw.token(CLERK);
    const today = todayInCity();
    const rows = await sql<{ id: string; name: string; birth: string; gender: string }>`
      select id_number as id, name, to_char(birth_date, 'YYYY-MM-DD') as birth, gender
      from population.person where street_code = ${STREET}`.execute(gw.runtime.databases.population);
    for (const r of rows.rows) persons.set(r.id, { name: r.name, age: ageOn(r.birth, today), gender: r.gender });
    const ss = await sql<{ id: string; status: string; pension: string }>`
      select id_number as id, pension_status as status, monthly_pension as pension from social_security.account`.execute(
      gw.runtime.databases.socialSecurity ?? gw.runtime.databases.population,
    );
    for (const r of ss.rows) accounts.set(r.id, { pensionStatus: r.status, monthlyPension: Number(r.pension) });
  }, 180_000);
  afterAll(async () => gw?.close());

  const read = (query: string) => gw.graphql(query, { token, purpose: DUTY });

  it('shows every person the grants admit together, each field only under a grant that admits the row', async () => {
    expect([...persons.values()].some((p) => p.age >= 65) && [...persons.values()].some((p) => p.age < 65)).toBe(true);
    const seen = new Set<string>();
    let after: string | null = null;
    let total = -1;
    for (;;) {
      const { body } = await read(
        `{ people(first: 25${after ? `, after: "${after}"` : ''}) { totalCount pageInfo { hasNextPage endCursor } edges { node { idNumber name gender age streetCode } } } }`,
      );
      expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
      const page = body.data.people;
      total = page.totalCount;
      for (const { node } of page.edges) {
        // The clerk sees idNumber only on the elderly grant's rows: identify rows by the values they must have.
        const candidates = [...persons.entries()].filter(([, p]) => p.gender === node.gender);
        if (node.idNumber !== null) {
          const person = persons.get(node.idNumber)!;
          expect(person.age).toBeGreaterThanOrEqual(65);
          expect(node).toEqual({ idNumber: node.idNumber, name: person.name, gender: person.gender, age: person.age, streetCode: STREET });
          seen.add(node.idNumber);
        } else {
          // Only the every-person grant admits this row: name masked, no age, no idNumber.
          expect(node.age).toBeNull();
          const match = candidates.find(([, p]) => p.age < 65 && applyMask('name', p.name) === node.name);
          expect(match, `a person under 65 whose masked name is ${node.name}`).toBeDefined();
          expect(node.streetCode).toBe(STREET);
          seen.add(`young:${seen.size}`);
        }
      }
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(total).toBe(persons.size);
    expect(seen.size).toBe(persons.size);
    expect([...seen].filter((k) => !k.startsWith('young:')).length).toBe([...persons.values()].filter((p) => p.age >= 65).length);
  });

  it('filters, sorts and look-ups compare a field only on the rows where it is full: never an oracle on a masked value', async () => {
    const elderly = [...persons.entries()].filter(([, p]) => p.age >= 65);
    const young = [...persons.entries()].filter(([, p]) => p.age < 65);
    const count = async (query: string) => {
      const { body } = await read(query);
      expect(body.errors, `${query}: ${JSON.stringify(body.errors)}`).toBeUndefined();
      return body.data.people.totalCount as number;
    };
    // name is masked on the rows only the every-person grant admits: a filter finds nobody there.
    const [, youngPerson] = young[0]!;
    const youngNamesakes = elderly.filter(([, p]) => p.name === youngPerson.name).length;
    expect(await count(`{ people(filter: { name: { eq: ${JSON.stringify(youngPerson.name)} } }) { totalCount } }`)).toBe(youngNamesakes);
    const [, oldPerson] = elderly[0]!;
    expect(await count(`{ people(filter: { name: { eq: ${JSON.stringify(oldPerson.name)} } }) { totalCount } }`)).toBe(
      elderly.filter(([, p]) => p.name === oldPerson.name).length,
    );
    expect(await count(`{ people(filter: { age: { gte: 80 } }) { totalCount } }`)).toBe(elderly.filter(([, p]) => p.age >= 80).length);
    expect(await count(`{ people(filter: { age: { lt: 65 } }) { totalCount } }`)).toBe(0);
    // A sort on birthDate lists the rows where birthDate is full: the elderly grant's.
    const { body: sorted } = await read(`{ people(first: 100, orderBy: { field: birthDate, direction: DESC }) { totalCount edges { node { idNumber } } } }`);
    expect(sorted.errors).toBeUndefined();
    expect(sorted.data.people.totalCount).toBe(elderly.length);
    expect(sorted.data.people.edges.map((e: any) => e.node.idNumber).sort()).toEqual(elderly.map(([id]) => id).sort().slice(0, 100));
    // A look-up by idNumber answers only where idNumber is full, else null as for an unknown id.
    const { body: found } = await read(`{ old: person(idNumber: "${elderly[0]![0]}") { name } young: person(idNumber: "${young[0]![0]}") { name } }`);
    expect(found.errors).toBeUndefined();
    expect(found.data).toEqual({ old: { name: oldPerson.name }, young: null });
    // A field granted the same everywhere filters everywhere.
    expect(await count(`{ people(filter: { gender: { eq: "female" } }) { totalCount } }`)).toBe([...persons.values()].filter((p) => p.gender === 'female').length);
    // A field full on no row is still refused before anything is read.
    const { body: refused } = await read(`{ people(filter: { hukouAddress: { eq: "x" } }) { totalCount } }`);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(refused.data?.people ?? null).toBeNull();
  });

  it('nested social-security fields obey the per-row rule through the HTTP source', async () => {
    const { body } = await read(`{ people(first: 100) { edges { node { idNumber socialSecurity { pensionStatus monthlyPension } } } } }`);
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    let receiving = 0;
    let others = 0;
    for (const { node } of body.data.people.edges) {
      if (node.idNumber === null || node.socialSecurity === null) continue;
      const account = accounts.get(node.idNumber)!;
      expect(node.socialSecurity.pensionStatus).toBe(account.pensionStatus);
      if (account.pensionStatus === 'receiving') {
        receiving += 1;
        expect(node.socialSecurity.monthlyPension).toBe(account.monthlyPension);
      } else {
        others += 1;
        expect(node.socialSecurity.monthlyPension).toBeNull();
      }
    }
    expect(receiving).toBeGreaterThan(0);
    expect(others).toBeGreaterThan(0);
  });

  it('explainAccess states the per-grant picture', async () => {
    const owner = await gw.token({ org: 'dept:public-security', roles: ['data_owner'] });
    const { body } = await gw.graphql(
      `{ explainAccess(org: "${NANJING_EAST}", purpose: "${DUTY}", fields: ["population.name", "population.gender", "population.idNumber"]) { field decision grant rule } }`,
      { token: owner },
    );
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    const [name, gender, idNumber] = body.data.explainAccess;
    expect(name.decision).toBe('full');
    expect(name.rule).toContain('depends on the row');
    expect(name.rule).toContain('population-elderly-allowance');
    expect(name.rule).toContain('masked on every row (test-overlap-everyone)');
    expect(gender).toMatchObject({ decision: 'full', grant: EVERYONE.id });
    expect(idNumber.rule).toContain('not shown on other rows');
    expect(idNumber.rule).toContain('run over the rows where it is full only');
  });

  it('property: random overlapping grants, read through GraphQL, show each field on a row exactly at the best level of the grants admitting it', async () => {
    const street = TIANPING.slice('street:'.length);
    const duty = 'grid-inspection';
    const clerk = await gw.token({ org: TIANPING, roles: ['street_staff'] });
    const fields = POPULATION.fields.filter((f) => !f.internal).map((f) => f.name);
    // The unrestricted rows of the street in row-id order: the order the gateway pages in.
    const reader = new PostgresConnector({ dataset: POPULATION, db: gw.runtime.databases.population, table: POPULATION_TABLE });
    const truth = (await reader.find({ scope: { streets: [street], conditions: [] }, fields, first: 1000 })).rows;
    expect(truth.length).toBeGreaterThanOrEqual(10);
    const today = todayInCity();
    const standing = gw.runtime.authorizer
      .grants()
      .filter((g) => g.dataset === 'population' && g.duty === duty && !g.revokedAt && (g.streets === 'all' || g.streets.includes(street)));
    const condition = fc.oneof(
      fc.integer({ min: 20, max: 90 }).map((value): Condition => ({ field: 'age', op: 'gte', value })),
      fc.constantFrom('male', 'female').map((value): Condition => ({ field: 'gender', op: 'eq', value })),
      fc.constantFrom('13', '15', '18').map((value): Condition => ({ field: 'phone', op: 'startsWith', value })),
    );
    const specs = fc.array(
      fc.record({
        rows: fc.option(condition, { freq: 3, nil: null }),
        fields: fc.dictionary(fc.constantFrom(...fields), fc.constantFrom<FieldAccess>('full', 'masked'), { minKeys: 1, maxKeys: 5 }),
      }),
      { minLength: 1, maxLength: 3 },
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(specs, async (random) => {
        const ids = random.map((_, i) => `test-prop-${run}-${i}`);
        run += 1;
        for (const [i, spec] of random.entries()) {
          await gw.runtime.policyStore.createGrant(
            { id: ids[i]!, owner: 'dept:public-security', dataset: 'population', duty, streets: [street], fields: spec.fields, rows: spec.rows, validFrom: null, validUntil: null },
            'test',
          );
        }
        await gw.runtime.authorizer.reload(true);
        try {
          // Aggregate-only fields (statistics) are never readable: a standing grant counts here with what it lets a query read.
          const readable = (f: Readonly<Record<string, string>>) =>
            Object.fromEntries(Object.entries(f).filter(([, access]) => access === 'full' || access === 'masked')) as Record<string, FieldAccess>;
          const all = [...standing.map((g) => ({ rows: g.rows, fields: readable(g.fields) })), ...random];
          // Asking for a field no grant gives is refused as a whole: ask for every field some grant gives.
          const asked = fields.filter((f) => all.some((g) => g.fields[f]));
          const { body } = await gw.graphql(`{ people(first: 100) { totalCount edges { node { ${asked.join(' ')} } } } }`, { token: clerk, purpose: duty });
          expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
          const admitted = truth.filter((row) => all.some((g) => holdsOn(g.rows, row, today)));
          expect(body.data.people.totalCount).toBe(admitted.length);
          const nodes = body.data.people.edges.map((e: any) => e.node);
          expect(nodes.length).toBe(Math.min(100, admitted.length));
          nodes.forEach((node: Record<string, unknown>, i: number) => {
            const raw = admitted[i]!;
            for (const def of POPULATION.fields) {
              if (!asked.includes(def.name)) continue;
              const levels = all.filter((g) => holdsOn(g.rows, raw, today)).map((g) => g.fields[def.name]);
              const expected = levels.includes('full') ? raw[def.name] : levels.includes('masked') ? applyMask(def.mask ?? 'none', raw[def.name]) : null;
              expect(node[def.name], `${def.name} on row ${i}`).toEqual(expected);
            }
          });
        } finally {
          for (const id of ids) await gw.runtime.policyStore.revokeGrant(id, 'test');
          await gw.runtime.authorizer.reload(true);
        }
      }),
      { numRuns: backend === 'pglite' ? 15 : 10 },
    );
  });
});

/** A row condition on a row's logical values, as SQL evaluates it (a comparison with NULL does not hold). */
function holdsOn(condition: Condition | null, row: Row, today: string): boolean {
  if (condition === null) return true;
  if ('all' in condition) return condition.all.every((c) => holdsOn(c, row, today));
  if ('any' in condition) return condition.any.some((c) => holdsOn(c, row, today));
  const actual = condition.field === 'age' ? (typeof row.birthDate === 'string' ? ageOn(row.birthDate, today) : null) : row[condition.field];
  if (actual === null || actual === undefined) return false;
  switch (condition.op) {
    case 'eq':
      return actual === condition.value;
    case 'gte':
      return (actual as number) >= (condition.value as number);
    case 'startsWith':
      return String(actual).startsWith(String(condition.value));
    default:
      throw new Error(`the reference does not evaluate ${condition.op}`);
  }
}
