/**
 * The PostgreSQL connector against PGlite and (when TEST_DATABASE_URL is set) real PostgreSQL:
 * projection, scope in SQL, keyset pagination, batched lookups, cursors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { PostgresConnector } from '../../connectors/postgres/postgres-connector.ts';
import { HOUSING, POPULATION } from '../../core/datasets.ts';
import { HOUSING_TABLE, POPULATION_TABLE } from '../../demo/source-schema.ts';
import { seedSources } from '../../demo/seed-sources.ts';
import { ConnectorError } from '../../connectors/connector-error.ts';
import { ageOn, todayInCity } from '../../core/time.ts';
import { openPglite, pgliteDatabase, postgresDatabase } from '../../gateway/store/databases.ts';
import type { Scope } from '../../core/conditions.ts';
import { BACKENDS, freshDatabase } from '../backends.ts';

const STREET = '310101002';

describe.each(BACKENDS)('PostgresConnector on %s', (backend) => {
  let db: Kysely<any>;
  let cleanup: () => Promise<void>;
  const queries: { sql: string; parameters: readonly unknown[] }[] = [];
  let population: PostgresConnector;
  let housing: PostgresConnector;

  beforeAll(async () => {
    if (backend === 'postgres') {
      const fresh = await freshDatabase('lianqiao_connector');
      db = postgresDatabase(fresh.url);
      cleanup = async () => {
        await db.destroy();
        await fresh.drop();
      };
    } else {
      const pglite = await openPglite(undefined);
      db = pgliteDatabase(pglite);
      cleanup = async () => {
        await db.destroy();
      };
    }
    await seedSources({ population: db, housing: db, socialSecurity: db }, { persons: 3000 });
    population = new PostgresConnector({ dataset: POPULATION, db, table: POPULATION_TABLE, onQuery: (q) => queries.push(q) });
    housing = new PostgresConnector({ dataset: HOUSING, db, table: HOUSING_TABLE, onQuery: (q) => queries.push(q) });
  });
  afterAll(async () => cleanup?.());

  const streetScope: Scope = { streets: [STREET], conditions: [] };

  it('selects only the requested columns', async () => {
    queries.length = 0;
    const page = await population.find({ scope: streetScope, fields: ['name', 'streetCode'], first: 5 });
    expect(page.rows.length).toBe(5);
    for (const row of page.rows) expect(Object.keys(row).sort()).toEqual(['name', 'streetCode']);
    const text = queries[0]!.sql;
    expect(text).toContain('"name"');
    expect(text).not.toContain('phone');
    expect(text).not.toContain('id_number');
  });

  it('puts the street scope and row conditions in the SQL, with values as parameters', async () => {
    queries.length = 0;
    const scope: Scope = { streets: [STREET], conditions: [{ field: 'age', op: 'gte', value: 65 }] };
    const page = await population.find({ scope, fields: ['idNumber', 'birthDate', 'streetCode', 'age'], first: 100, withTotalCount: true });
    const [select, count] = queries;
    for (const q of [select!, count!]) {
      expect(q.sql).toMatch(/"street_code" in \(\$1\)/);
      expect(q.sql).toMatch(/"birth_date" <= \$2/);
      expect(q.parameters).toContain(STREET);
      expect(q.sql).not.toContain(STREET);
    }
    const today = todayInCity();
    for (const row of page.rows) {
      expect(row.streetCode).toBe(STREET);
      expect(ageOn(String(row.birthDate), today)).toBeGreaterThanOrEqual(65);
      expect(row.age).toBe(ageOn(String(row.birthDate), today));
    }
    // totalCount is counted in SQL and matches a direct count.
    const direct = await sql<{ n: string }>`select count(*) as n from population.person where street_code = ${STREET} and birth_date <= ${today}::date - interval '65 years'`.execute(db);
    expect(page.totalCount).toBe(Number(direct.rows[0]!.n));
    expect(page.totalCount).toBeGreaterThan(0);
  });

  it('treats request values as data, never as SQL', async () => {
    const page = await population.find({
      scope: streetScope,
      fields: ['name'],
      where: [{ field: 'name', op: 'eq', value: "x' or '1'='1" }],
      first: 10,
    });
    expect(page.rows).toEqual([]);
    const prefix = await population.find({ scope: streetScope, fields: ['name'], where: [{ field: 'name', op: 'startsWith', value: '%' }], first: 10 });
    expect(prefix.rows).toEqual([]);
  });

  it('paginates 1,000+ rows with keyset cursors, without gaps or repeats', async () => {
    const scope: Scope = { streets: 'all', conditions: [] };
    const direct = await sql<{ n: string }>`select count(*) as n from population.person`.execute(db);
    const total = Number(direct.rows[0]!.n);
    expect(total).toBeGreaterThanOrEqual(1000);
    for (const orderBy of [undefined, { field: 'birthDate', direction: 'desc' as const }]) {
      const seen = new Set<string>();
      let after: string | null = null;
      let pages = 0;
      let previous: string | undefined;
      for (;;) {
        const page = await population.find({ scope, fields: ['idNumber', 'birthDate'], first: 97, after, orderBy });
        for (const row of page.rows) {
          const id = String(row.idNumber);
          expect(seen.has(id)).toBe(false);
          seen.add(id);
          if (orderBy && previous) expect(String(row.birthDate) <= previous).toBe(true);
          previous = String(row.birthDate);
        }
        pages += 1;
        if (!page.hasNextPage) break;
        after = page.cursors.at(-1)!;
      }
      expect(seen.size).toBe(total);
      expect(pages).toBe(Math.ceil(total / 97));
    }
  });

  it('rejects a malformed cursor and a cursor from another query', async () => {
    await expect(population.find({ scope: streetScope, fields: ['name'], first: 5, after: 'not-a-cursor' })).rejects.toMatchObject({
      kind: 'bad-cursor',
    });
    const page = await population.find({ scope: streetScope, fields: ['name'], first: 5 });
    const other: Scope = { streets: ['310101013'], conditions: [] };
    const attempt = population.find({ scope: other, fields: ['name'], first: 5, after: page.cursors.at(-1) });
    await expect(attempt).rejects.toBeInstanceOf(ConnectorError);
    await expect(attempt).rejects.toMatchObject({ kind: 'bad-cursor' });
  });

  it('looks up a batch of keys in one query, inside the scope only', async () => {
    const inStreet = await population.find({ scope: streetScope, fields: ['idNumber', 'houseId'], first: 20 });
    const elsewhere = await population.find({ scope: { streets: ['310104003'], conditions: [] }, fields: ['idNumber'], first: 5 });
    const keys = [...inStreet.rows, ...elsewhere.rows].map((r) => String(r.idNumber));
    queries.length = 0;
    const rows = await population.lookup({ scope: streetScope, fields: ['idNumber', 'name'], by: 'idNumber', keys });
    expect(queries).toHaveLength(1);
    expect(rows.map((r) => r.idNumber).sort()).toEqual(inStreet.rows.map((r) => r.idNumber).sort());

    queries.length = 0;
    const houseIds = [...new Set(inStreet.rows.map((r) => String(r.houseId)))];
    const residents = await population.lookup({ scope: streetScope, fields: ['name'], by: 'houseId', keys: houseIds });
    expect(queries).toHaveLength(1);
    expect(residents.length).toBeGreaterThanOrEqual(inStreet.rows.length);
    const houses = await housing.lookup({ scope: streetScope, fields: ['id', 'address'], by: 'id', keys: houseIds });
    expect(houses.length).toBe(houseIds.length);
  });

  it('refuses a call without a scope', async () => {
    await expect(population.find({ fields: ['name'], first: 1 } as never)).rejects.toThrow(/without a scope/);
    await expect(population.lookup({ fields: ['name'], by: 'idNumber', keys: ['x'] } as never)).rejects.toThrow(/without a scope/);
  });

  it('refuses fields that are not in its field map', async () => {
    await expect(population.find({ scope: streetScope, fields: ['name; drop table x'], first: 1 })).rejects.toThrow(/no field/);
  });

  // Each find's SQL is compiled once per shape and reused (connectors/postgres/bound-statement.ts):
  // what one caller's scope, filter, row rules or cursor put into a statement must never reach another's.
  it('a reused statement never carries another scope, filter, row rule or cursor', async () => {
    const everyone = await population.find({ scope: { streets: 'all', conditions: [] }, fields: ['streetCode'], first: 100 });
    const other = String(everyone.rows.find((r) => r.streetCode !== STREET)!.streetCode);
    const a = { streets: [STREET], conditions: [] };
    const b = { streets: [other], conditions: [{ field: 'age', op: 'gte', value: 60 }] } as Scope;
    for (let round = 0; round < 3; round++) {
      const onA = await population.find({ scope: a, fields: ['streetCode', 'idNumber'], first: 10 });
      const onB = await population.find({ scope: b, fields: ['streetCode', 'idNumber', 'age'], first: 10 });
      expect(onA.rows.length).toBe(10);
      expect(onB.rows.length).toBe(10);
      expect(onA.rows.every((r) => r.streetCode === STREET)).toBe(true);
      expect(onB.rows.every((r) => r.streetCode === other && Number(r.age) >= 60)).toBe(true);
      // A fresh scope object with other streets, on a shape already compiled for `a`.
      const fresh = await population.find({ scope: { streets: [other], conditions: [] }, fields: ['streetCode', 'idNumber'], first: 10 });
      expect(fresh.rows.every((r) => r.streetCode === other)).toBe(true);
    }
    // The same shape with different filter values: each answer holds its own value only.
    const some = (await population.find({ scope: a, fields: ['idNumber'], first: 3 })).rows.map((r) => String(r.idNumber));
    for (const id of some) {
      const page = await population.find({ scope: a, fields: ['idNumber'], where: [{ field: 'idNumber', op: 'eq', value: id }], first: 5 });
      expect(page.rows.map((r) => r.idNumber)).toEqual([id]);
    }
    // Pages after different cursors of one shape: consecutive, never the first page again.
    const first = await population.find({ scope: a, fields: ['idNumber'], first: 5 });
    const second = await population.find({ scope: a, fields: ['idNumber'], first: 5, after: first.cursors.at(-1)! });
    const third = await population.find({ scope: a, fields: ['idNumber'], first: 5, after: second.cursors.at(-1)! });
    const ids = [...first.rows, ...second.rows, ...third.rows].map((r) => r.idNumber);
    expect(new Set(ids).size).toBe(15);
    const all = await population.find({ scope: a, fields: ['idNumber'], first: 15 });
    expect(all.rows.map((r) => r.idNumber)).toEqual(ids);
    // Row rules of one plan are not those of another: a field shown under a tag on one call is null on the next.
    const shown = await population.find({ scope: a, fields: ['idNumber', 'phone'], first: 5, rowRules: { tags: [{ field: 'age', op: 'gte', value: 0 }], shownUnder: { phone: [0] } } });
    const hidden = await population.find({ scope: a, fields: ['idNumber', 'phone'], first: 5, rowRules: { tags: [{ field: 'age', op: 'gte', value: 200 }], shownUnder: { phone: [0] } } });
    expect(shown.rows.some((r) => r.phone !== null)).toBe(true);
    expect(hidden.rows.every((r) => r.phone === null)).toBe(true);
  });
});
