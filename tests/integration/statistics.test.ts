/**
 * Statistics without individuals (CONTRACT.md) through the real gateway on every backend: counts
 * match the source inside the street and the duty's rows, small cells never show, aggregate access
 * groups but never reads, and each answer is one audit event without subjects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { BACKENDS, createTestGateway, NANJING_EAST, TIANPING, type TestGateway } from '../setup.ts';
import { ageOn, todayInCity } from '../../core/time.ts';
import { ageBandOf } from '../../policies/statistics/statistics-fields.ts';
import { AGE_BANDS } from '../../policies/statistics/statistics-domains.ts';

const K = 10;
const STATS = /* GraphQL */ `
  query Stats($dataset: String!, $groupBy: [String!]!, $filter: StatisticsFilter) {
    statistics(dataset: $dataset, groupBy: $groupBy, filter: $filter) { group count suppressed }
  }`;

interface Cell {
  group: (string | null)[];
  count: number | null;
  suppressed: boolean;
}

describe.each(BACKENDS)('statistics on %s', (backend) => {
  let gw: TestGateway;
  let tianping: string;
  let nanjing: string;
  const sqlSeen: string[] = [];

  async function stats(token: string | null, purpose: string | null, variables: Record<string, unknown>) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (purpose) headers['x-purpose'] = purpose;
    const response = await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: STATS, variables }),
    });
    return (await response.json()) as { data?: { statistics: Cell[] } | null; errors?: { extensions: { code: string; forbiddenFields?: string[] } }[] };
  }

  /** The truth, straight from the population source: persons of a street by a key. */
  async function truth(street: string, key: (p: { band: string; gender: string }) => string | null, where: (p: { age: number; gender: string }) => boolean = () => true) {
    const { rows } = await sql<{ birth_date: unknown; gender: string }>`
      select birth_date, gender from population.person where street_code = ${street}`.execute(gw.runtime.databases.population);
    const today = todayInCity();
    const counts = new Map<string | null, number>();
    for (const r of rows) {
      const birth = r.birth_date instanceof Date ? r.birth_date.toISOString().slice(0, 10) : String(r.birth_date).slice(0, 10);
      const age = ageOn(birth, today);
      if (!where({ age, gender: r.gender })) continue;
      const k = key({ band: ageBandOf(age), gender: r.gender });
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return counts;
  }

  beforeAll(async () => {
    gw = await createTestGateway({ backend, persons: 3000, onSourceQuery: (_s, q) => sqlSeen.push(q.sql) });
    tianping = await gw.token({ sub: 'clerk-tianping', org: TIANPING, roles: ['street_staff'] });
    nanjing = await gw.token({ sub: 'clerk-nanjing', org: NANJING_EAST, roles: ['street_staff'] });
  });
  afterAll(async () => gw?.close());

  it("counts a street's persons by age band under an aggregate grant: exact where shown, small cells suppressed", async () => {
    const body = await stats(tianping, 'grid-inspection', { dataset: 'population', groupBy: ['ageBand'] });
    expect(body.errors).toBeUndefined();
    const cells = body.data!.statistics;
    const real = await truth('310104003', (p) => p.band);
    // Every band is listed, youngest first, whether anyone is in it or not.
    expect(cells.map((c) => c.group[0])).toEqual(AGE_BANDS);
    for (const cell of cells) {
      const n = real.get(cell.group[0]!) ?? 0;
      if (cell.suppressed) expect(cell.count).toBeNull();
      else {
        expect(cell.count).toBe(n);
        expect(n).toBeGreaterThanOrEqual(K);
      }
    }
    // Every small band is hidden; both kinds of cell occur in the demo data.
    for (const [band, n] of real) if (n < K) expect(cells.find((c) => c.group[0] === band)?.count ?? null).toBeNull();
    expect(cells.some((c) => c.suppressed)).toBe(true);
    expect(cells.some((c) => !c.suppressed)).toBe(true);
    // No suppressed cell can be worked out from the street's total (a one-cell answer) and the others.
    const total = (await stats(tianping, 'grid-inspection', { dataset: 'population', groupBy: [] })).data!.statistics[0]!;
    expect(total.count).toBe([...real.values()].reduce((a, b) => a + b, 0));
    expect(cells.filter((c) => c.suppressed).length).not.toBe(1);
  });

  it('groups by two fields and filters on equalities, inside the scope', async () => {
    const body = await stats(tianping, 'grid-inspection', { dataset: 'population', groupBy: ['gender', 'ageBand'], filter: { gender: { eq: 'female' } } });
    expect(body.errors).toBeUndefined();
    const real = await truth('310104003', (p) => `${p.gender}|${p.band}`);
    const cells = body.data!.statistics;
    // The filter fixes gender: only its value is listed, with every band.
    expect(cells.map((c) => c.group.join('|'))).toEqual(AGE_BANDS.map((b) => `female|${b}`));
    for (const cell of cells) if (!cell.suppressed) expect(cell.count).toBe(real.get(cell.group.join('|')));
    expect(cells.some((c) => !c.suppressed)).toBe(true);
    // The street's rows only, in one grouped statement with the street in its WHERE clause.
    sqlSeen.length = 0;
    await stats(tianping, 'grid-inspection', { dataset: 'housing', groupBy: ['tenure'] });
    expect(sqlSeen).toHaveLength(1);
    expect(sqlSeen[0]).toMatch(/group by/i);
    expect(sqlSeen[0]).toMatch(/street_code" in \(/i);
  });

  /** The truth of one groupable field in the Tianping street, straight from the source. */
  async function fieldTruth(dataset: 'population' | 'housing', field: string): Promise<Map<string, number>> {
    if (field === 'ageBand') return (await truth('310104003', (p) => p.band)) as Map<string, number>;
    const column = { gender: 'gender', streetCode: 'street_code', usage: 'usage', tenure: 'tenure' }[field]!;
    const table = dataset === 'population' ? sql.raw('population.person') : sql.raw('housing.house');
    const { rows } = await sql<{ v: string; n: unknown }>`
      select ${sql.ref(column)} as v, count(*) as n from ${table} where street_code = '310104003' group by 1`.execute(
      gw.runtime.databases[dataset],
    );
    return new Map(rows.map((r) => [String(r.v).trimEnd(), Number(r.n)]));
  }

  it.each([
    ['population', 'gender', ['male', 'female']],
    ['population', 'ageBand', AGE_BANDS],
    ['population', 'streetCode', ['310104003']],
    ['housing', 'usage', ['residential', 'commercial', 'mixed']],
    ['housing', 'tenure', ['owned', 'rented', 'public']],
    ['housing', 'streetCode', ['310104003']],
  ] as const)('%s grouped by %s lists every value of its domain, counts exact where shown', async (dataset, field, domain) => {
    const real = await fieldTruth(dataset, field);
    // Alone, and under filters that leave every cell small or empty (answers of suppressed cells
    // only, which once came back as []): a rare value, and a street outside the scope.
    const rare = dataset === 'population' ? (field === 'ageBand' ? { gender: { eq: 'female' }, streetCode: { eq: '310101002' } } : { ageBand: { eq: '95-99' } }) : field === 'usage' ? { tenure: { eq: 'public' }, streetCode: { eq: '310101002' } } : { usage: { eq: 'mixed' } };
    for (const filter of [undefined, rare, { streetCode: { eq: '310101002' } }] as Record<string, { eq: string }>[]) {
      const body = await stats(tianping, 'grid-inspection', { dataset, groupBy: [field], filter });
      expect(body.errors).toBeUndefined();
      const cells = body.data!.statistics;
      expect(cells.map((c) => c.group[0])).toEqual(filter?.[field] ? [filter[field].eq] : [...domain]);
      for (const cell of cells) {
        if (cell.suppressed) expect(cell.count).toBeNull();
        else {
          expect(filter).toBeUndefined();
          expect(cell.count).toBe(real.get(cell.group[0]!) ?? 0);
          expect(cell.count).toBeGreaterThanOrEqual(K);
        }
      }
      if (!filter) for (const [value, n] of real) if (n < K) expect(cells.find((c) => c.group[0] === value)?.suppressed).toBe(true);
    }
  });

  it('an empty group and a small one look the same: a filter matching nobody answers as one matching 1..k-1', async () => {
    const real = await truth('310104003', (p) => p.band);
    const empty = AGE_BANDS.find((b) => !real.has(b));
    const few = AGE_BANDS.find((b) => (real.get(b) ?? 0) > 0 && real.get(b)! < K);
    expect(empty).toBeDefined();
    expect(few).toBeDefined();
    for (const groupBy of [[], ['gender']]) {
      const a = await stats(tianping, 'grid-inspection', { dataset: 'population', groupBy, filter: { ageBand: { eq: empty } } });
      const b = await stats(tianping, 'grid-inspection', { dataset: 'population', groupBy, filter: { ageBand: { eq: few } } });
      expect(a.errors).toBeUndefined();
      expect(a.data!.statistics).toEqual(b.data!.statistics);
      expect(a.data!.statistics).toHaveLength(groupBy.length === 0 ? 1 : 2);
      expect(a.data!.statistics.every((c) => c.suppressed && c.count === null)).toBe(true);
    }
    // Another street's code filters to nobody: suppressed, like any empty group, never refused or [].
    const other = await stats(tianping, 'grid-inspection', { dataset: 'population', groupBy: ['streetCode'], filter: { streetCode: { eq: '310101002' } } });
    expect(other.data!.statistics).toEqual([{ group: ['310101002'], count: null, suppressed: true }]);
  });

  it("keeps to the duty's row condition: elderly-allowance counts only persons aged 65 and over", async () => {
    const body = await stats(nanjing, 'elderly-allowance', { dataset: 'population', groupBy: ['ageBand'] });
    expect(body.errors).toBeUndefined();
    // Every band is listed; those below 65 hold nobody under the duty's rows, and show as suppressed.
    expect(body.data!.statistics.map((c) => c.group[0])).toEqual(AGE_BANDS);
    const real = await truth('310101002', (p) => p.band, (p) => p.age >= 65);
    for (const cell of body.data!.statistics) {
      if (Number(cell.group[0]!.replace(/[-+].*$/, '')) < 65) expect(cell).toMatchObject({ count: null, suppressed: true });
      if (!cell.suppressed) expect(cell.count).toBe(real.get(cell.group[0]!));
    }
  });

  it.each([
    ['birth dates by day', { dataset: 'population', groupBy: ['birthDate'] }, 'BAD_USER_INPUT'],
    ['exact ages', { dataset: 'population', groupBy: ['age'] }, 'BAD_USER_INPUT'],
    ['names', { dataset: 'population', groupBy: ['name'] }, 'BAD_USER_INPUT'],
    ['three fields', { dataset: 'population', groupBy: ['gender', 'ageBand', 'streetCode'] }, 'BAD_USER_INPUT'],
    ['a dataset without statistics', { dataset: 'social_security', groupBy: [] }, 'BAD_USER_INPUT'],
    ['a band that is not one', { dataset: 'population', groupBy: [], filter: { ageBand: { eq: '65-70' } } }, 'BAD_USER_INPUT'],
    ['a field without a fixed set of values', { dataset: 'population', groupBy: ['ethnicity'] }, 'BAD_USER_INPUT'],
    ['age bands of houses', { dataset: 'housing', groupBy: ['ageBand'] }, 'BAD_USER_INPUT'],
    ['a filter not granted', { dataset: 'population', groupBy: [], filter: { ethnicity: { eq: 'han' } } }, 'FORBIDDEN'],
  ])('refuses %s before reading anything', async (_what, variables, code) => {
    sqlSeen.length = 0;
    const body = await stats(tianping, 'grid-inspection', variables);
    expect(body.errors?.[0]?.extensions.code).toBe(code);
    expect(sqlSeen).toEqual([]);
  });

  it('needs a purpose, the street_staff role and a duty delegated to the street', async () => {
    const auditor = await gw.token({ sub: 'a', org: 'office:security', roles: ['auditor'] });
    sqlSeen.length = 0;
    expect((await stats(tianping, null, { dataset: 'population', groupBy: [] })).errors?.[0]?.extensions.code).toBe('PURPOSE_REQUIRED');
    expect((await stats(auditor, 'grid-inspection', { dataset: 'population', groupBy: [] })).errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    expect((await stats(nanjing, 'grid-inspection', { dataset: 'population', groupBy: [] })).errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    expect((await stats(null, 'grid-inspection', { dataset: 'population', groupBy: [] })).errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
    expect(sqlSeen).toEqual([]);
  });

  it('aggregate access groups and counts but never reads, lists or filters rows', async () => {
    for (const query of [
      `{ people(first: 5) { edges { node { gender } } } }`,
      `{ people(first: 5) { edges { node { birthDate } } } }`,
      `{ people(first: 5, filter: { gender: { eq: "female" } }) { totalCount } }`,
      `{ houses(first: 5) { edges { node { tenure } } } }`,
    ]) {
      const { body } = await gw.graphql(query, { token: tianping, purpose: 'grid-inspection' });
      expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });

  it('a birth date after today (a data error) counts in the first band, never as a band outside the grid', async () => {
    const db = gw.runtime.databases.population;
    await sql`insert into population.person (id_number, name, gender, birth_date, ethnicity, hukou_address, residence_address, street_code, resident_since)
      values ('31010420991231999X', 'x', 'female', '2099-12-31', 'han', 'a', 'a', '310104003', '2020-01-01')`.execute(db);
    try {
      const after = await stats(tianping, 'grid-inspection', { dataset: 'population', groupBy: ['ageBand'] });
      expect(after.errors).toBeUndefined();
      expect(after.data!.statistics.map((c) => c.group[0])).toEqual(AGE_BANDS);
      const real = await truth('310104003', (p) => p.band);
      expect(real.get('0-4')).toBeGreaterThan(0);
      for (const cell of after.data!.statistics) if (!cell.suppressed) expect(cell.count).toBe(real.get(cell.group[0]!));
    } finally {
      await sql`delete from population.person where id_number = '31010420991231999X'`.execute(db);
    }
  });

  it('leaves exactly one audit event per answer, naming the fields and no person', async () => {
    const db = gw.runtime.databases.store;
    const before = Number((await sql<{ n: unknown }>`select count(*) as n from audit_event`.execute(db)).rows[0]!.n);
    await stats(tianping, 'grid-inspection', { dataset: 'population', groupBy: ['gender', 'ageBand'] });
    const { rows } = await sql<{ fields: string[]; subject_hashes: string[]; decision: string; purpose: string; rows: number }>`
      select fields, subject_hashes, decision, purpose, "rows" from audit_event order by "time" desc, seq desc limit 1`.execute(db);
    const after = Number((await sql<{ n: unknown }>`select count(*) as n from audit_event`.execute(db)).rows[0]!.n);
    expect(after - before).toBe(1);
    expect(rows[0]).toMatchObject({ decision: 'allow', purpose: 'grid-inspection', subject_hashes: [], rows: 0 });
    expect([...rows[0]!.fields].sort()).toEqual(['population.ageBand', 'population.gender']);
  });
});
