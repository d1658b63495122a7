/**
 * Overlapping grants, end to end through the sources: random grants (random fields, levels and
 * row conditions) for one street and duty are compiled by the real compiler, and the real
 * connectors read a small seeded data set under the plan: population through PostgreSQL (PGlite,
 * and real PostgreSQL when TEST_DATABASE_URL is set), social security through the HTTP service.
 *
 * The property, checked against conditions evaluated here on the unrestricted rows:
 * - a row appears iff some grant admits it (in every page, in totalCount, in look-ups);
 * - on every returned row, each field's access is the best level among the grants admitting that
 *   row (none when none grants it), and a field not granted on the row does not leave the source;
 * - a filter or sort on a field runs over exactly the admitted rows where that field is full.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql, type Kysely } from 'kysely';
import type { Condition, Scalar, Scope } from '../../core/conditions.ts';
import { POPULATION, SOCIAL_SECURITY, type DatasetDef, type DatasetName } from '../../core/datasets.ts';
import { PostgresConnector } from '../../connectors/postgres/postgres-connector.ts';
import { HttpConnector } from '../../connectors/http/http-connector.ts';
import { rowTags, type Connector, type Row, type RowRules } from '../../connectors/connector.ts';
import { accessOnRow, rowsWhereFull, type DatasetAccess, type FieldAccess } from '../../policies/access-plan.ts';
import type { StoredGrant } from '../../policies/policy-store.ts';
import { POPULATION_TABLE } from '../../demo/source-schema.ts';
import { seedSources } from '../../demo/seed-sources.ts';
import { startSocialSecurityService, type SocialSecurityService } from '../../demo/social-security-service.ts';
import { ageOn, todayInCity } from '../../core/time.ts';
import { BACKENDS, openBackendDatabase } from '../backends.ts';
import { PLAN_STREET, planOf, testGrant } from '../grant-plans.ts';

const LEVEL: Record<FieldAccess, number> = { masked: 1, full: 2 };
const KEY = 'idNumber';

/** Fields a grant of the dataset may name. */
const grantable = (dataset: DatasetDef) => dataset.fields.filter((f) => !f.internal).map((f) => f.name);

/** The reference semantics of a row condition, on a row's logical values (SQL's: a comparison with NULL does not hold). */
function holds(condition: Condition | null, row: Row, today: string): boolean {
  if (condition === null) return true;
  if ('all' in condition) return condition.all.every((c) => holds(c, row, today));
  if ('any' in condition) return condition.any.some((c) => holds(c, row, today));
  const { field, op, value } = condition;
  const actual = field === 'age' ? (typeof row.birthDate === 'string' ? ageOn(row.birthDate, today) : null) : row[field];
  if (value === null) return op === 'eq' ? actual === null : op === 'ne' ? actual !== null : false;
  if (actual === null || actual === undefined) return false;
  const v = value as Scalar;
  switch (op) {
    case 'eq':
      return actual === v;
    case 'ne':
      return actual !== v;
    case 'in':
      return (value as readonly Scalar[]).includes(actual as Scalar);
    case 'startsWith':
      return String(actual).startsWith(String(v));
    case 'lt':
      return (actual as number | string) < (v as number | string);
    case 'lte':
      return (actual as number | string) <= (v as number | string);
    case 'gt':
      return (actual as number | string) > (v as number | string);
    case 'gte':
      return (actual as number | string) >= (v as number | string);
  }
}

/** The rules the shared-data resolvers hand a connector: join keys always whole. */
function rulesOf(data: DatasetAccess): RowRules | undefined {
  if (!data.perRow) return undefined;
  const shownUnder = Object.fromEntries(Object.entries(data.perRow.shownUnder).filter(([field]) => field !== KEY && field !== 'houseId'));
  return { tags: data.perRow.tags, shownUnder };
}

interface Spec {
  readonly rows: Condition | null;
  readonly fields: Record<string, FieldAccess>;
}

function grantsArb(dataset: DatasetDef, condition: fc.Arbitrary<Condition>): fc.Arbitrary<Spec[]> {
  return fc.array(
    fc.record({
      rows: fc.option(condition, { freq: 4, nil: null }),
      fields: fc.dictionary(fc.constantFrom(...grantable(dataset)), fc.constantFrom<FieldAccess>('full', 'masked'), { minKeys: 1, maxKeys: 6 }),
    }),
    { minLength: 1, maxLength: 4 },
  );
}

function combined(leaf: fc.Arbitrary<Condition>): fc.Arbitrary<Condition> {
  return fc.oneof(
    { weight: 4, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(leaf, { minLength: 2, maxLength: 3 }).map((all): Condition => ({ all })) },
    { weight: 1, arbitrary: fc.array(leaf, { minLength: 2, maxLength: 3 }).map((any): Condition => ({ any })) },
  );
}

/**
 * Checks one answer against the reference: `rows` came back under `data` for keys/pages whose
 * candidates are `truth` (the unrestricted rows, by key).
 */
function checkRows(
  name: DatasetName,
  specs: readonly Spec[],
  data: DatasetAccess,
  rules: RowRules | undefined,
  rows: readonly Row[],
  truth: ReadonlyMap<string, Row>,
  fields: readonly string[],
  today: string,
): void {
  const admitted = [...truth.values()].filter((row) => specs.some((s) => holds(s.rows, row, today))).map((r) => String(r[KEY]));
  expect(rows.map((r) => String(r[KEY])).sort(), `${name}: the rows some grant admits`).toEqual(admitted.sort());
  for (const row of rows) {
    const raw = truth.get(String(row[KEY]))!;
    const admitting = specs.filter((s) => holds(s.rows, raw, today));
    const tags = rowTags(row);
    for (const field of fields) {
      const expected = Math.max(0, ...admitting.map((s) => (s.fields[field] ? LEVEL[s.fields[field]] : 0)));
      const got = accessOnRow(data, field, tags);
      expect(got ? LEVEL[got] : 0, `${name}.${field} on ${row[KEY]}: level`).toBe(expected);
      if (expected > 0) expect(row[field], `${name}.${field} on ${row[KEY]}: value`).toEqual(raw[field]);
      else if (rules?.shownUnder[field]) expect(row[field], `${name}.${field} on ${row[KEY]}: must not leave the source`).toBeNull();
    }
  }
}

async function allPages(connector: Connector, scope: Scope, fields: readonly string[], rowRules: RowRules | undefined, first: number) {
  const rows: Row[] = [];
  let after: string | null = null;
  let totalCount: number | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const page = await connector.find({ scope, fields, rowRules, first, after, withTotalCount: true });
    if (totalCount !== undefined) expect(page.totalCount, 'totalCount is the same on every page').toBe(totalCount);
    totalCount = page.totalCount;
    rows.push(...page.rows);
    if (!page.hasNextPage) break;
    after = page.cursors.at(-1)!;
  }
  expect(totalCount, 'totalCount agrees with the rows returned').toBe(rows.length);
  return rows;
}

describe.each(BACKENDS)('overlapping grants combine exactly, on %s', (backend) => {
  let db: Kysely<any>;
  let close: () => Promise<void>;
  let service: SocialSecurityService;
  let population: PostgresConnector;
  let socialSecurity: HttpConnector;
  const queries: { sql: string; parameters: readonly unknown[] }[] = [];
  const today = todayInCity();
  const populationFields = grantable(POPULATION);
  const accountFields = grantable(SOCIAL_SECURITY);
  let people: Map<string, Row>;
  let accounts: Map<string, Row>;
  let ethnicities: string[];
  let residentSince: string[];
  const street: Scope = { streets: [PLAN_STREET], conditions: [] };

  beforeAll(async () => {
    const opened = await openBackendDatabase(backend, 'lianqiao_overlap');
    db = opened.db;
    close = opened.close;
    await seedSources({ population: db, housing: db, socialSecurity: db }, { persons: 600 });
    population = new PostgresConnector({ dataset: POPULATION, db, table: POPULATION_TABLE, onQuery: (q) => queries.push(q) });
    service = await startSocialSecurityService({ db, onError: () => {} });
    socialSecurity = new HttpConnector({ dataset: SOCIAL_SECURITY, baseUrl: service.url });
    // The unrestricted rows of the street: what the reference evaluates the grants' conditions on.
    const plain = await population.find({ scope: street, fields: populationFields, first: 1000 });
    people = new Map(plain.rows.map((r) => [String(r[KEY]), r]));
    const plainAccounts = await socialSecurity.lookup({ scope: { streets: 'all', conditions: [] }, fields: accountFields, by: KEY, keys: [...people.keys()] });
    accounts = new Map(plainAccounts.map((r) => [String(r[KEY]), r]));
    ethnicities = [...new Set([...people.values()].map((r) => String(r.ethnicity)))].sort();
    residentSince = [...new Set([...people.values()].map((r) => String(r.residentSince)))].sort();
  }, 120_000);

  afterAll(async () => {
    await service?.close();
    await socialSecurity?.close();
    await close?.();
  });

  it('the seeded street is big and varied enough for the property to mean something', async () => {
    expect(people.size).toBeGreaterThanOrEqual(15);
    expect(accounts.size).toBeGreaterThanOrEqual(10);
    const ages = [...people.values()].map((r) => Number(r.age));
    expect(Math.min(...ages)).toBeLessThan(40);
    expect(Math.max(...ages)).toBeGreaterThanOrEqual(65);
    const direct = await sql<{ n: string }>`select count(*) as n from population.person where street_code = ${PLAN_STREET}`.execute(db);
    expect(people.size).toBe(Number(direct.rows[0]!.n));
  });

  const populationCondition = () =>
    combined(
      fc.oneof(
        fc.integer({ min: 10, max: 95 }).map((value): Condition => ({ field: 'age', op: 'gte', value })),
        fc.integer({ min: 10, max: 95 }).map((value): Condition => ({ field: 'age', op: 'lt', value })),
        fc.constantFrom('male', 'female').map((value): Condition => ({ field: 'gender', op: 'eq', value })),
        fc.constantFrom(...ethnicities).map((value): Condition => ({ field: 'ethnicity', op: 'ne', value })),
        fc.subarray(ethnicities, { minLength: 1 }).map((value): Condition => ({ field: 'ethnicity', op: 'in', value })),
        fc.constantFrom(...residentSince).map((value): Condition => ({ field: 'residentSince', op: 'lt', value })),
        fc.constantFrom('13', '15', '18').map((value): Condition => ({ field: 'phone', op: 'startsWith', value })),
        fc.constantFrom('eq', 'ne').map((op): Condition => ({ field: 'phone', op: op as 'eq' | 'ne', value: null })),
      ),
    );

  it('population through PostgreSQL: pages, totalCount and look-ups show each field only where an admitting grant grants it', async () => {
    await fc.assert(
      fc.asyncProperty(grantsArb(POPULATION, populationCondition()), fc.integer({ min: 3, max: 40 }), async (specs, first) => {
        const grants: StoredGrant[] = specs.map((s, i) => testGrant(`g${i}`, s.fields, s.rows));
        const data = planOf(grants).datasets.get('population')!;
        const rules = rulesOf(data);
        const found = await allPages(population, data.scope, populationFields, rules, first);
        checkRows('population', specs, data, rules, found, people, populationFields, today);
        const looked = await population.lookup({ scope: data.scope, fields: populationFields, rowRules: rules, by: KEY, keys: [...people.keys()] });
        checkRows('population', specs, data, rules, looked, people, populationFields, today);
      }),
      { numRuns: backend === 'pglite' ? 60 : 40 },
    );
  });

  const comparison = fc.record({
    field: fc.nat(),
    row: fc.nat(),
    op: fc.constantFrom('eq' as const, 'ne' as const),
    sort: fc.option(fc.record({ field: fc.nat(), desc: fc.boolean() }), { nil: undefined }),
  });

  it('a filter or sort on a field compares it only on rows where it is full: the same rows with any value there', async () => {
    const sortable = populationFields.filter((f) => f !== 'age');
    await fc.assert(
      fc.asyncProperty(grantsArb(POPULATION, populationCondition()), comparison, async (specs, pick) => {
        const grants: StoredGrant[] = specs.map((s, i) => testGrant(`f${i}`, s.fields, s.rows));
        const data = planOf(grants).datasets.get('population')!;
        // Authorization lets an operation compare only fields full on some row.
        const full = populationFields.filter((f) => data.fields.get(f) === 'full');
        fc.pre(full.length > 0);
        const field = full[pick.field % full.length]!;
        const value = [...people.values()][pick.row % people.size]![field] as Scalar;
        const filter: Condition = { field, op: pick.op, value };
        const sortFields = sortable.filter((f) => data.fields.get(f) === 'full');
        const sort = pick.sort && sortFields.length > 0 ? { field: sortFields[pick.sort.field % sortFields.length]!, direction: pick.sort.desc ? ('desc' as const) : ('asc' as const) } : undefined;
        const compared = [field, ...(sort ? [sort.field] : [])];
        const rules = rulesOf(data);
        const rows: Row[] = [];
        let after: string | null = null;
        for (;;) {
          const page = await population.find({ scope: data.scope, fields: populationFields, rowRules: rules, where: [filter, ...rowsWhereFull(data, compared)], orderBy: sort, first: 50, after, withTotalCount: true });
          rows.push(...page.rows);
          if (!page.hasNextPage) {
            expect(page.totalCount).toBe(rows.length);
            break;
          }
          after = page.cursors.at(-1)!;
        }
        const levelOn = (raw: Row, f: string) => Math.max(0, ...specs.filter((s) => holds(s.rows, raw, today)).map((s) => (s.fields[f] ? LEVEL[s.fields[f]] : 0)));
        const expected = [...people.values()]
          .filter((raw) => specs.some((s) => holds(s.rows, raw, today)))
          .filter((raw) => compared.every((f) => levelOn(raw, f) === 2))
          .filter((raw) => holds(filter, raw, today))
          .map((raw) => String(raw[KEY]));
        expect(rows.map((r) => String(r[KEY])).sort()).toEqual(expected.sort());
        for (const row of rows) for (const f of compared) expect(accessOnRow(data, f, rowTags(row))).toBe('full');
      }),
      { numRuns: backend === 'pglite' ? 60 : 40 },
    );
  });

  const accountCondition = () =>
    combined(
      fc.oneof(
        fc.constantFrom('none', 'contributing', 'receiving').map((value): Condition => ({ field: 'pensionStatus', op: 'eq', value })),
        fc.subarray(['none', 'contributing', 'receiving'], { minLength: 1 }).map((value): Condition => ({ field: 'pensionStatus', op: 'in', value })),
        fc.constantFrom('employee', 'resident', 'none').map((value): Condition => ({ field: 'medicalInsuranceType', op: 'ne', value })),
        fc.integer({ min: 0, max: 6000 }).map((value): Condition => ({ field: 'monthlyPension', op: 'gte', value })),
        fc.boolean().map((value): Condition => ({ field: 'minimumLivingAssistance', op: 'eq', value })),
        fc.constantFrom('eq', 'ne').map((op): Condition => ({ field: 'employer', op: op as 'eq' | 'ne', value: null })),
      ),
    );

  it('social security through the HTTP service: look-ups and pages, the same property', async () => {
    await fc.assert(
      fc.asyncProperty(grantsArb(SOCIAL_SECURITY, accountCondition()), async (specs) => {
        const grants = specs.map((s, i) => testGrant(`s${i}`, s.fields, s.rows, { dataset: 'social_security', owner: 'dept:hrss' }));
        const data = planOf(grants).datasets.get('social_security')!;
        const rules = rulesOf(data);
        const looked = await socialSecurity.lookup({ scope: data.scope, fields: accountFields, rowRules: rules, by: KEY, keys: [...accounts.keys()] });
        checkRows('social_security', specs, data, rules, looked, accounts, accountFields, today);
        // Pages over the whole account table: the reference is restricted to this street's persons.
        const pages = await allPages(socialSecurity, data.scope, accountFields, rules, 200);
        const ours = pages.filter((r) => accounts.has(String(r[KEY])));
        const admittedElsewhere = pages.length - ours.length;
        expect(admittedElsewhere).toBeGreaterThanOrEqual(0);
        checkRows('social_security', specs, data, rules, ours, accounts, accountFields, today);
      }),
      { numRuns: 25 },
    );
  });

  it('one grant (or grants alike) reads exactly as before: no CASE, no tags', async () => {
    const data = planOf([testGrant('one', { name: 'full', phone: 'masked', streetCode: 'full' }, { field: 'age', op: 'gte', value: 65 })]).datasets.get('population')!;
    expect(data.perRow).toBeUndefined();
    queries.length = 0;
    const page = await population.find({ scope: data.scope, fields: ['name', 'phone', 'streetCode'], rowRules: rulesOf(data), first: 5 });
    expect(page.rows.length).toBeGreaterThan(0);
    expect(queries[0]!.sql).not.toMatch(/case when/i);
    expect(queries[0]!.sql).not.toContain('__t0');
    expect(rowTags(page.rows[0]!)).toBeUndefined();
  });

  it('puts each granting condition into the SQL per field, with values as parameters', async () => {
    const minority = ethnicities.find((e) => e !== '汉族') ?? ethnicities[0]!;
    const data = planOf([
      testGrant('minority', { phone: 'full', streetCode: 'full' }, { field: 'ethnicity', op: 'eq', value: minority }),
      testGrant('everyone', { name: 'masked', streetCode: 'full' }),
    ]).datasets.get('population')!;
    queries.length = 0;
    const page = await population.find({ scope: data.scope, fields: ['idNumber', 'name', 'phone', 'ethnicity'], rowRules: rulesOf(data), first: 100 });
    const text = queries[0]!.sql;
    expect(text).toMatch(/case when .*"ethnicity" = \$\d+.* then "person"\."phone" end as "phone"/i);
    expect(text).not.toContain(minority);
    expect(queries[0]!.parameters).toContain(minority);
    expect(page.rows.some((row) => row.ethnicity === minority)).toBe(true);
    for (const row of page.rows) {
      expect(row.phone).toEqual(row.ethnicity === minority ? people.get(String(row.idNumber))!.phone : null);
      expect(rowTags(row)).toEqual([row.ethnicity === minority]);
    }
  });

  it('over HTTP, a row-dependent field is asked for only under the conditions that grant it', async () => {
    const bodies: { path: string; body: any }[] = [];
    const wire = new HttpConnector({ dataset: SOCIAL_SECURITY, baseUrl: service.url, onRequest: (r) => bodies.push(r) });
    const RECEIVING: Condition = { field: 'pensionStatus', op: 'eq', value: 'receiving' };
    const data = planOf([
      testGrant('status', { pensionStatus: 'full' }, null, { dataset: 'social_security', owner: 'dept:hrss' }),
      testGrant('amount', { monthlyPension: 'full', employer: 'masked' }, RECEIVING, { dataset: 'social_security', owner: 'dept:hrss' }),
    ]).datasets.get('social_security')!;
    const rows = await wire.lookup({ scope: data.scope, fields: ['idNumber', 'pensionStatus', 'monthlyPension', 'employer'], rowRules: rulesOf(data), by: KEY, keys: [...accounts.keys()] });
    await wire.close();
    // One request for the fields every row may show, one per tag with the tag's condition and fields.
    expect(bodies).toHaveLength(2);
    const [plain, tagged] = bodies.map((b) => b.body);
    expect(plain.fields.sort()).toEqual(['idNumber', 'pensionStatus']);
    expect(plain.conditions).toEqual([]);
    expect(tagged.fields.sort()).toEqual(['employer', 'idNumber', 'monthlyPension']);
    expect(tagged.conditions).toEqual([RECEIVING]);
    expect(rows.length).toBe(accounts.size);
    for (const row of rows) {
      const receiving = accounts.get(String(row.idNumber))!.pensionStatus === 'receiving';
      expect(rowTags(row)).toEqual([receiving]);
      expect(row.monthlyPension).toEqual(receiving ? accounts.get(String(row.idNumber))!.monthlyPension : null);
    }
  });
});
