/**
 * Need-based access control through the real gateway, on PGlite and real PostgreSQL.
 * First a decision table over the demo policies, then adversarial operations, each of which a
 * naive gateway (checking only top-level fields, or trusting filters) would let through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { BACKENDS, createTestGateway, NANJING_EAST, THE_BUND, TIANPING, type TestGateway } from '../setup.ts';
import type { Role } from '../../core/identity.ts';
import { ageOn, todayInCity } from '../../core/time.ts';

type Expect = 'full' | 'masked' | 'denied';
interface Case {
  who: { org: string; roles: Role[] };
  purpose: string;
  field: string; // dataset.field
  expect: Expect;
}

const CLERK_HP = { org: NANJING_EAST, roles: ['street_staff'] as Role[] };
const CLERK_XH = { org: TIANPING, roles: ['street_staff'] as Role[] };
const STREET_ADMIN = { org: NANJING_EAST, roles: ['street_admin'] as Role[] };
const OWNER = { org: 'dept:public-security', roles: ['data_owner'] as Role[] };
const AUDITOR = { org: 'office:security', roles: ['auditor'] as Role[] };

const c = (who: Case['who'], purpose: string, field: string, expect: Expect): Case => ({ who, purpose, field, expect });

/** The decision table: role × duty × field → full / masked / denied. */
const TABLE: Case[] = [
  // elderly-allowance (all streets)
  c(CLERK_HP, 'elderly-allowance', 'population.name', 'full'),
  c(CLERK_HP, 'elderly-allowance', 'population.idNumber', 'full'),
  c(CLERK_HP, 'elderly-allowance', 'population.birthDate', 'full'),
  c(CLERK_HP, 'elderly-allowance', 'population.age', 'full'),
  c(CLERK_HP, 'elderly-allowance', 'population.residenceAddress', 'full'),
  c(CLERK_HP, 'elderly-allowance', 'population.hukouAddress', 'masked'),
  c(CLERK_HP, 'elderly-allowance', 'population.streetCode', 'full'),
  c(CLERK_HP, 'elderly-allowance', 'population.phone', 'denied'), // only an expired grant names it
  c(CLERK_HP, 'elderly-allowance', 'population.ethnicity', 'denied'),
  c(CLERK_HP, 'elderly-allowance', 'population.gender', 'denied'),
  c(CLERK_HP, 'elderly-allowance', 'social_security.pensionStatus', 'full'),
  c(CLERK_HP, 'elderly-allowance', 'social_security.monthlyPension', 'denied'),
  c(CLERK_HP, 'elderly-allowance', 'housing.address', 'denied'),
  c(CLERK_XH, 'elderly-allowance', 'population.name', 'full'),
  c(CLERK_XH, 'elderly-allowance', 'population.hukouAddress', 'masked'),
  // minimum-living-assistance
  c(CLERK_HP, 'minimum-living-assistance', 'population.gender', 'full'),
  c(CLERK_HP, 'minimum-living-assistance', 'population.phone', 'denied'),
  c(CLERK_HP, 'minimum-living-assistance', 'housing.ownerName', 'full'),
  c(CLERK_HP, 'minimum-living-assistance', 'housing.buildingArea', 'full'),
  c(CLERK_HP, 'minimum-living-assistance', 'housing.usage', 'denied'),
  c(CLERK_HP, 'minimum-living-assistance', 'social_security.monthlyPension', 'full'),
  c(CLERK_HP, 'minimum-living-assistance', 'social_security.employer', 'full'),
  c(CLERK_HP, 'minimum-living-assistance', 'social_security.minimumLivingAssistance', 'full'),
  c(CLERK_HP, 'minimum-living-assistance', 'social_security.pensionStatus', 'denied'),
  // rental-registration
  c(CLERK_HP, 'rental-registration', 'population.name', 'full'),
  c(CLERK_HP, 'rental-registration', 'population.phone', 'full'),
  c(CLERK_HP, 'rental-registration', 'population.idNumber', 'masked'),
  c(CLERK_HP, 'rental-registration', 'population.birthDate', 'denied'),
  c(CLERK_HP, 'rental-registration', 'housing.address', 'full'),
  c(CLERK_HP, 'rental-registration', 'housing.tenure', 'full'),
  c(CLERK_HP, 'rental-registration', 'housing.ownerName', 'full'),
  c(CLERK_HP, 'rental-registration', 'housing.ownerIdNumber', 'masked'),
  c(CLERK_HP, 'rental-registration', 'housing.buildingArea', 'denied'),
  // grid-inspection and illegal-construction: Xuhui streets only
  c(CLERK_XH, 'grid-inspection', 'housing.address', 'full'),
  c(CLERK_XH, 'grid-inspection', 'housing.usage', 'full'),
  c(CLERK_XH, 'grid-inspection', 'population.name', 'masked'),
  c(CLERK_XH, 'grid-inspection', 'population.phone', 'denied'),
  c(CLERK_HP, 'grid-inspection', 'housing.address', 'denied'),
  c(CLERK_XH, 'illegal-construction', 'housing.buildingArea', 'full'),
  c(CLERK_XH, 'illegal-construction', 'housing.builtYear', 'full'),
  c(CLERK_XH, 'illegal-construction', 'housing.tenure', 'denied'),
  c(CLERK_HP, 'illegal-construction', 'housing.address', 'denied'),
  // employment-assistance: Huangpu streets only
  c(CLERK_HP, 'employment-assistance', 'population.name', 'full'),
  c(CLERK_HP, 'employment-assistance', 'social_security.employer', 'full'),
  c(CLERK_HP, 'employment-assistance', 'social_security.lastContributionMonth', 'full'),
  c(CLERK_HP, 'employment-assistance', 'social_security.monthlyPension', 'denied'),
  c(CLERK_XH, 'employment-assistance', 'population.name', 'denied'),
  // roles that read no source data
  c(STREET_ADMIN, 'elderly-allowance', 'population.name', 'denied'),
  c(OWNER, 'elderly-allowance', 'population.name', 'denied'),
  c(AUDITOR, 'elderly-allowance', 'population.name', 'denied'),
  c(AUDITOR, 'rental-registration', 'housing.address', 'denied'),
  // unknown duty
  c(CLERK_HP, 'no-such-duty', 'population.name', 'denied'),
];

function queryFor(field: string): string {
  const [dataset, name] = field.split('.');
  if (dataset === 'population') return `{ people(first: 5) { edges { node { ${name} } } } }`;
  if (dataset === 'housing') return `{ houses(first: 5) { edges { node { ${name} } } } }`;
  return `{ people(first: 20) { edges { node { socialSecurity { ${name} } } } } }`;
}

function valuesOf(body: any, field: string): unknown[] {
  const [dataset, name] = field.split('.');
  const root = dataset === 'housing' ? body.data.houses : body.data.people;
  return root.edges
    .map((e: any) => (dataset === 'social_security' ? e.node.socialSecurity?.[name!] : e.node[name!]))
    .filter((v: unknown) => v !== null && v !== undefined);
}

const MASKED: Record<string, RegExp> = {
  idNumber: /^\d{6}\*{8}[\dX]{4}$/,
  ownerIdNumber: /^\d{6}\*{8}[\dX]{4}$/,
  name: /^\p{Script=Han}{1,2}\*+$/u,
  ownerName: /^\p{Script=Han}{1,2}\*+$/u,
  hukouAddress: /\*\*\*$/,
  address: /\*\*\*$/,
  phone: /^\d{3}\*{4}\d{4}$/,
  birthDate: /^\d{4}$/,
};

describe.each(BACKENDS)('access control on %s', (backend) => {
  let gw: TestGateway;
  const sqlSeen: string[] = [];
  const tokens = new Map<string, string>();
  const token = async (who: { org: string; roles: Role[] }) => {
    const key = `${who.org}/${who.roles.join(',')}`;
    if (!tokens.has(key)) tokens.set(key, await gw.token({ sub: `u-${key}`, ...who }));
    return tokens.get(key)!;
  };

  beforeAll(async () => {
    gw = await createTestGateway({ backend, onSourceQuery: (_s, q) => sqlSeen.push(q.sql) });
  });
  afterAll(async () => gw?.close());

  describe('decision table', () => {
    it(`has at least 40 cases (${TABLE.length})`, () => {
      expect(TABLE.length).toBeGreaterThanOrEqual(40);
    });

    it.each(TABLE.map((t) => [`${t.who.roles[0]}@${t.who.org} ${t.purpose} ${t.field} → ${t.expect}`, t] as const))('%s', async (_n, t) => {
      const { body } = await gw.graphql(queryFor(t.field), { token: await token(t.who), purpose: t.purpose });
      if (t.expect === 'denied') {
        expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
        expect(body.data ?? null).toBeNull();
        return;
      }
      expect(body.errors).toBeUndefined();
      const values = valuesOf(body, t.field);
      expect(values.length).toBeGreaterThan(0);
      const name = t.field.split('.')[1]!;
      const pattern = MASKED[name];
      for (const value of values) {
        if (t.expect === 'masked') expect(String(value)).toMatch(pattern!);
        else if (pattern && typeof value === 'string') expect(value).not.toMatch(pattern);
      }
    });

    it('explainAccess names the deciding grant or rule without reading data', async () => {
      const before = sqlSeen.length;
      const { body } = await gw.graphql(
        `{ explainAccess(org: "${NANJING_EAST}", purpose: "elderly-allowance", fields: ["population.name", "population.hukouAddress", "population.phone"]) { field decision grant rule } }`,
        { token: await token(AUDITOR) },
      );
      expect(body.errors).toBeUndefined();
      const [name, hukou, phone] = body.data.explainAccess;
      expect(name).toMatchObject({ decision: 'full', grant: 'population-elderly-allowance' });
      expect(hukou).toMatchObject({ decision: 'masked', grant: 'population-elderly-allowance' });
      expect(phone.decision).toBe('denied');
      expect(phone.rule).toMatch(/no valid grant/);
      expect(sqlSeen.length).toBe(before);
    });
  });

  describe('scope', () => {
    it('a Nanjing East clerk under elderly-allowance sees only people of that street aged 65+', async () => {
      const { body } = await gw.graphql(
        `{ people(first: 100) { totalCount edges { node { idNumber streetCode birthDate age hukouAddress } } } }`,
        { token: await token(CLERK_HP), purpose: 'elderly-allowance' },
      );
      expect(body.errors).toBeUndefined();
      const today = todayInCity();
      const direct = await sql<{ n: string }>`select count(*) as n from population.person where street_code = '310101002' and birth_date <= ${today}::date - interval '65 years'`.execute(
        gw.runtime.databases.population,
      );
      expect(body.data.people.totalCount).toBe(Number(direct.rows[0]!.n));
      expect(body.data.people.totalCount).toBeGreaterThan(0);
      for (const { node } of body.data.people.edges) {
        expect(node.streetCode).toBe('310101002');
        expect(ageOn(node.birthDate, today)).toBeGreaterThanOrEqual(65);
        expect(node.hukouAddress).toMatch(/\*\*\*$/);
      }
    });

    it('every source query issued under a scope carries it in SQL', async () => {
      sqlSeen.length = 0;
      await gw.graphql(`{ houses(first: 5) { edges { node { address residents { name } } } } }`, {
        token: await token(CLERK_HP),
        purpose: 'rental-registration',
      });
      expect(sqlSeen.length).toBeGreaterThanOrEqual(2);
      for (const text of sqlSeen) expect(text).toMatch(/"street_code" in \(\$\d+\)/);
      // the housing grant's row condition (tenure in owned, rented) is in the housing query too
      expect(sqlSeen.some((t) => /"house"\."tenure" in \(\$\d+, \$\d+\)/.test(t))).toBe(true);
    });

    it("totalCount of another street's rows is 0 for this street", async () => {
      const { body } = await gw.graphql(`{ people(filter: { streetCode: { eq: "310101013" } }) { totalCount } }`, {
        token: await token(CLERK_HP),
        purpose: 'elderly-allowance',
      });
      expect(body.data.people.totalCount).toBe(0);
      const direct = await sql<{ n: string }>`select count(*) as n from population.person where street_code = '310101013'`.execute(gw.runtime.databases.population);
      expect(Number(direct.rows[0]!.n)).toBeGreaterThan(0);
    });

    it("person(idNumber:) of another street's resident answers exactly like an unknown id", async () => {
      const other = await sql<{ id: string }>`select id_number as id from population.person where street_code = '310101013' order by rid limit 1`.execute(
        gw.runtime.databases.population,
      );
      const query = `query($id: ID!) { person(idNumber: $id) { name } }`;
      const t = await token(CLERK_HP);
      const outside = await gw.graphql(query, { token: t, purpose: 'elderly-allowance', variables: { id: other.rows[0]!.id } });
      const unknown = await gw.graphql(query, { token: t, purpose: 'elderly-allowance', variables: { id: '310101190001011234' } });
      expect(outside.body).toEqual({ data: { person: null } });
      expect(unknown.body).toEqual(outside.body);
    });

    it('a social-security account is in scope only when its person is', async () => {
      const rows = await sql<{ id: string; street: string; birth: string }>`
        select p.id_number as id, p.street_code as street, p.birth_date::text as birth from population.person p
        join social_security.account a on a.id_number = p.id_number order by p.rid`.execute(gw.runtime.databases.population);
      const today = todayInCity();
      const inScope = rows.rows.find((r) => r.street === '310101002' && ageOn(r.birth, today) >= 65)!;
      const young = rows.rows.find((r) => r.street === '310101002' && ageOn(r.birth, today) < 60)!;
      const otherStreet = rows.rows.find((r) => r.street === '310101013' && ageOn(r.birth, today) >= 65)!;
      const query = `query($id: ID!) { socialSecurityAccount(idNumber: $id) { idNumber pensionStatus } }`;
      const t = await token(CLERK_HP);
      const ask = (id: string) => gw.graphql(query, { token: t, purpose: 'elderly-allowance', variables: { id } });
      expect((await ask(inScope.id)).body.data.socialSecurityAccount.idNumber).toBe(inScope.id);
      expect((await ask(young.id)).body).toEqual({ data: { socialSecurityAccount: null } });
      expect((await ask(otherStreet.id)).body).toEqual({ data: { socialSecurityAccount: null } });
    });

    it('the same clerk under rental-registration sees houses and their residents, idNumbers masked', async () => {
      const { body } = await gw.graphql(`{ houses(first: 10) { edges { node { address tenure residents { name phone idNumber } } } } }`, {
        token: await token(CLERK_HP),
        purpose: 'rental-registration',
      });
      expect(body.errors).toBeUndefined();
      const houses = body.data.houses.edges.map((e: any) => e.node);
      expect(houses.length).toBeGreaterThan(0);
      for (const h of houses) expect(['owned', 'rented']).toContain(h.tenure);
      const residents = houses.flatMap((h: any) => h.residents);
      expect(residents.length).toBeGreaterThan(0);
      for (const r of residents) expect(r.idNumber).toMatch(MASKED.idNumber!);
    });
  });

  describe('adversarial operations', () => {
    const forbidden = async (query: string, purpose: string, who = CLERK_HP, variables?: Record<string, unknown>) => {
      const before = sqlSeen.length;
      const { body } = await gw.graphql(query, { token: await token(who), purpose, variables });
      expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(body.data ?? null).toBeNull();
      expect(sqlSeen.length).toBe(before); // rejected before any source was read
      return body.errors[0];
    };

    it('asking for monthlyPension under elderly-allowance is FORBIDDEN and names the field', async () => {
      const error = await forbidden(`{ people { edges { node { name socialSecurity { monthlyPension } } } } }`, 'elderly-allowance');
      expect(error.extensions.forbiddenFields).toEqual(['social_security.monthlyPension']);
      expect(error.message).toContain('social_security.monthlyPension');
    });

    it('through an alias', async () => {
      const error = await forbidden(`{ people { edges { node { name contact: phone } } } }`, 'elderly-allowance');
      expect(error.extensions.forbiddenFields).toEqual(['population.phone']);
    });

    it('through a named fragment', async () => {
      await forbidden(`query { people { edges { node { ...P } } } } fragment P on Person { name phone }`, 'elderly-allowance');
    });

    it('through an inline fragment', async () => {
      await forbidden(`{ people { edges { node { ... on Person { phone } } } } }`, 'elderly-allowance');
    });

    it('through a fragment nested in a fragment', async () => {
      await forbidden(
        `query { people { edges { ...E } } } fragment E on PersonEdge { node { ...P } } fragment P on Person { name ... on Person { phone } }`,
        'elderly-allowance',
      );
    });

    it('behind @include(if: false) and @skip(if: true)', async () => {
      await forbidden(`query($no: Boolean = false) { people { edges { node { name phone @include(if: $no) } } } }`, 'elderly-allowance');
      await forbidden(`{ people { edges { node { name phone @skip(if: true) } } } }`, 'elderly-allowance');
    });

    it('through a variable filter on a field not granted', async () => {
      const error = await forbidden(
        `query($f: PersonFilter) { people(filter: $f) { totalCount } }`,
        'elderly-allowance',
        CLERK_HP,
        { f: { phone: { startsWith: '138' } } },
      );
      expect(error.extensions.forbiddenFields).toEqual(['population.phone']);
    });

    it('through a nested relation: house { residents { phone } } under grid-inspection', async () => {
      const error = await forbidden(`{ houses { edges { node { address residents { name phone } } } } }`, 'grid-inspection', CLERK_XH);
      expect(error.extensions.forbiddenFields).toEqual(['population.phone']);
    });

    it('through a relation to a dataset the duty has no grant on', async () => {
      const error = await forbidden(`{ people { edges { node { name household { id } } } } }`, 'elderly-allowance');
      expect(error.extensions.forbiddenFields).toContain('housing');
    });

    it('a filter on a masked field is refused (no oracle on the clear value)', async () => {
      await forbidden(`{ people(filter: { idNumber: { startsWith: "310101195" } }) { totalCount } }`, 'rental-registration');
      await forbidden(`{ houses(filter: { ownerIdNumber: { eq: "310101195601011234" } }) { totalCount } }`, 'rental-registration');
    });

    it('a sort on a masked or ungranted field is refused', async () => {
      await forbidden(`{ people(orderBy: { field: idNumber }) { totalCount } }`, 'rental-registration');
      await forbidden(`{ people(orderBy: { field: birthDate }) { totalCount } }`, 'rental-registration');
    });

    it('a lookup by a masked key is refused', async () => {
      await forbidden(`{ person(idNumber: "310101195601011234") { name } }`, 'rental-registration');
    });

    it('many aliases of a forbidden field are refused as one', async () => {
      const aliases = Array.from({ length: 12 }, (_, i) => `a${i}: phone`).join(' ');
      const error = await forbidden(`{ people { edges { node { ${aliases} } } } }`, 'elderly-allowance');
      expect(error.extensions.forbiddenFields).toEqual(['population.phone']);
    });

    it('a JSON array of operations is not executed', async () => {
      const before = sqlSeen.length;
      const response = await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await token(CLERK_HP)}`, 'x-purpose': 'elderly-allowance' },
        body: JSON.stringify([{ query: '{ people { totalCount } }' }, { query: '{ people { edges { node { phone } } } }' }]),
      });
      expect(response.status).toBeGreaterThanOrEqual(400);
      const body = await response.json();
      expect(body.data ?? null).toBeNull();
      expect(sqlSeen.length).toBe(before);
    });

    it('a purpose delegated to other streets only is FORBIDDEN', async () => {
      const error = await forbidden(`{ houses { edges { node { address } } } }`, 'grid-inspection', CLERK_HP);
      expect(error.message).toMatch(/not delegated to street 310101002/);
    });

    it('no purpose: PURPOSE_REQUIRED', async () => {
      const { body } = await gw.graphql(`{ people { totalCount } }`, { token: await token(CLERK_HP) });
      expect(body.errors[0].extensions.code).toBe('PURPOSE_REQUIRED');
    });

    it('an expired grant does not count', async () => {
      await forbidden(`{ people { edges { node { phone } } } }`, 'elderly-allowance');
    });

    it('a grant created with a future validFrom does not count yet; revoking one takes effect at once', async () => {
      const owner = await token(OWNER);
      const create = (id: string, validFrom: string | null) =>
        gw.graphql(
          `mutation($input: GrantInput!) { createGrant(input: $input) { id active } }`,
          {
            token: owner,
            variables: {
              input: {
                id,
                dataset: 'population',
                duty: 'elderly-allowance',
                streets: ['310101002'],
                fields: [{ field: 'ethnicity', access: 'full' }, { field: 'streetCode', access: 'full' }],
                validFrom,
              },
            },
          },
        );
      const future = await create('test-future-ethnicity', '2999-01-01');
      expect(future.body.data.createGrant).toEqual({ id: 'test-future-ethnicity', active: false });
      await forbidden(`{ people { edges { node { ethnicity } } } }`, 'elderly-allowance');

      const now = await create('test-now-ethnicity', null);
      expect(now.body.data.createGrant.active).toBe(true);
      const allowed = await gw.graphql(`{ people(first: 3) { edges { node { ethnicity } } } }`, { token: await token(CLERK_HP), purpose: 'elderly-allowance' });
      expect(allowed.body.errors).toBeUndefined();
      // Granted to Nanjing East only: The Bund's clerk is still refused.
      await forbidden(`{ people { edges { node { ethnicity } } } }`, 'elderly-allowance', { org: THE_BUND, roles: ['street_staff'] });

      const revoke = await gw.graphql(`mutation { revokeGrant(id: "test-now-ethnicity") { id active revokedBy } }`, { token: owner });
      expect(revoke.body.data.revokeGrant).toMatchObject({ active: false, revokedBy: 'u-dept:public-security/data_owner' });
      await forbidden(`{ people { edges { node { ethnicity } } } }`, 'elderly-allowance');
    });
  });

  describe('administration', () => {
    it("a data owner cannot grant or revoke another department's dataset", async () => {
      const owner = await token(OWNER);
      const { body } = await gw.graphql(
        `mutation { createGrant(input: { id: "x-housing", dataset: "housing", duty: "elderly-allowance", fields: [{ field: "address", access: full }, { field: "streetCode", access: full }] }) { id } }`,
        { token: owner },
      );
      expect(body.errors[0].extensions.code).toBe('FORBIDDEN');
      const revoke = await gw.graphql(`mutation { revokeGrant(id: "housing-rental-registration") { id } }`, { token: owner });
      expect(revoke.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      const listed = await gw.graphql(`{ grants(dataset: "housing") { id } }`, { token: owner });
      expect(listed.body.errors[0].extensions.code).toBe('FORBIDDEN');
    });

    it('a street clerk cannot create grants; a street admin reads only grants that reach their street', async () => {
      const clerk = await gw.graphql(`mutation { revokeGrant(id: "population-elderly-allowance") { id } }`, { token: await token(CLERK_HP) });
      expect(clerk.body.errors[0].extensions.code).toBe('FORBIDDEN');
      // Names every street, but under a duty delegated to Xuhui's streets only: it cannot reach Nanjing East.
      const housingOwner = await token({ org: 'dept:housing', roles: ['data_owner'] });
      const created = await gw.graphql(
        `mutation { createGrant(input: { id: "housing-illegal-construction-all", dataset: "housing", duty: "illegal-construction", fields: [{ field: "address", access: full }, { field: "streetCode", access: full }] }) { id allStreets } }`,
        { token: housingOwner },
      );
      expect(created.body.data?.createGrant, JSON.stringify(created.body.errors)).toEqual({ id: 'housing-illegal-construction-all', allStreets: true });
      const { body } = await gw.graphql(`{ grants { id allStreets streets } }`, { token: await token(STREET_ADMIN) });
      expect(body.errors).toBeUndefined();
      const ids = body.data.grants.map((g: any) => g.id);
      expect(ids).toContain('population-elderly-allowance');
      expect(ids).not.toContain('housing-illegal-construction'); // Xuhui streets only
      expect(ids).not.toContain('housing-illegal-construction-all'); // all streets, but a duty Nanjing East does not hold
      for (const g of body.data.grants) expect(g.allStreets || g.streets.includes('310101002')).toBe(true);
    });

    it('me lists the duties delegated to my street', async () => {
      const { body } = await gw.graphql(`{ me { org street duties { id } grants { id } } }`, { token: await token(CLERK_HP) });
      const duties = body.data.me.duties.map((d: any) => d.id).sort();
      expect(duties).toEqual(['elderly-allowance', 'employment-assistance', 'minimum-living-assistance', 'rental-registration']);
      expect(body.data.me.grants.map((g: any) => g.id)).not.toContain('population-elderly-allowance-phone-expired');
    });
  });
});
