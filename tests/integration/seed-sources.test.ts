import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { BACKENDS, openBackendDatabase } from '../backends.ts';
import { seedSources, sourcesAreSeeded } from '../../demo/seed-sources.ts';
import { collectSyntheticData } from '../../demo/synthetic-data.ts';

const PERSONS = 2000;
const SEED = 4242;

async function counts(db: Kysely<any>): Promise<{ persons: number; houses: number; accounts: number }> {
  const { rows } = await sql<{ p: string; h: string; a: string }>`select
      (select count(*) from population.person)::text as p,
      (select count(*) from housing.house)::text as h,
      (select count(*) from social_security.account)::text as a`.execute(db);
  return { persons: Number(rows[0].p), houses: Number(rows[0].h), accounts: Number(rows[0].a) };
}

/** A digest of every row (identity column included) of the three tables. */
async function digests(db: Kysely<any>): Promise<string[]> {
  const { rows } = await sql<{ d: string }>`
    select md5(string_agg(t::text, '|' order by rid)) as d from population.person t
    union all select md5(string_agg(t::text, '|' order by rid)) from housing.house t
    union all select md5(string_agg(t::text, '|' order by rid)) from social_security.account t`.execute(db);
  return rows.map((r) => r.d);
}

describe.each(BACKENDS)('seedSources on %s', (kind) => {
  let backend: Awaited<ReturnType<typeof openBackendDatabase>>;
  const expected = collectSyntheticData({ persons: PERSONS, seed: SEED });

  beforeAll(async () => {
    backend = await openBackendDatabase(kind, 'lianqiao_seed_test');
  });

  afterAll(async () => {
    await backend?.close();
  });

  it('reports an empty database as not seeded', async () => {
    expect(await sourcesAreSeeded(backend.db)).toBe(false);
  });

  it('creates the schemas and loads the generated persons, houses and accounts', async () => {
    const progress: number[] = [];
    const result = await seedSources(
      { population: backend.db, housing: backend.db, socialSecurity: backend.db },
      { persons: PERSONS, seed: SEED, batchSize: 500, onProgress: (done) => progress.push(done) },
    );
    expect(result.persons).toBe(PERSONS);
    expect(result.houses).toBe(expected.houses.length);
    expect(result.accounts).toBe(expected.accounts.length);
    expect(result.ms).toBeGreaterThanOrEqual(0);
    expect(await counts(backend.db)).toEqual({
      persons: PERSONS,
      houses: expected.houses.length,
      accounts: expected.accounts.length,
    });
    expect(progress.length).toBeGreaterThanOrEqual(4);
    expect(progress.at(-1)).toBe(PERSONS);
    expect(await sourcesAreSeeded(backend.db)).toBe(true);
  });

  it('stores exactly the generated values, in generation order', async () => {
    const persons = await sql<Record<string, string | null>>`select rid::text, id_number, name, gender,
        birth_date::text, ethnicity, phone, hukou_address, residence_address, street_code,
        resident_since::text, house_id from population.person p order by p.rid`.execute(backend.db);
    expect(persons.rows).toEqual(
      expected.persons.map((p, i) => ({
        rid: String(i + 1),
        id_number: p.idNumber,
        name: p.name,
        gender: p.gender,
        birth_date: p.birthDate,
        ethnicity: p.ethnicity,
        phone: p.phone,
        hukou_address: p.hukouAddress,
        residence_address: p.residenceAddress,
        street_code: p.streetCode,
        resident_since: p.residentSince,
        house_id: p.houseId,
      })),
    );
    const houses = await sql<Record<string, string | null>>`select id, address, street_code,
        building_area::text, usage, tenure, owner_id_number, owner_name, built_year::text,
        registered_at::text from housing.house order by rid`.execute(backend.db);
    expect(houses.rows).toEqual(
      expected.houses.map((h) => ({
        id: h.id,
        address: h.address,
        street_code: h.streetCode,
        building_area: h.buildingArea.toFixed(2),
        usage: h.usage,
        tenure: h.tenure,
        owner_id_number: h.ownerIdNumber,
        owner_name: h.ownerName,
        built_year: String(h.builtYear),
        registered_at: h.registeredAt,
      })),
    );
    const accounts = await sql<Record<string, string | null>>`select id_number, pension_status,
        monthly_pension::text, medical_insurance_type, employer, last_contribution_month,
        minimum_living_assistance::text from social_security.account order by rid`.execute(backend.db);
    expect(accounts.rows).toEqual(
      expected.accounts.map((a) => ({
        id_number: a.idNumber,
        pension_status: a.pensionStatus,
        monthly_pension: a.monthlyPension.toFixed(2),
        medical_insurance_type: a.medicalInsuranceType,
        employer: a.employer,
        last_contribution_month: a.lastContributionMonth,
        minimum_living_assistance: String(a.minimumLivingAssistance),
      })),
    );
  });

  it('gives the same rows on a second seed (identities restarted, indexes rebuilt)', async () => {
    const before = await digests(backend.db);
    const result = await seedSources(
      { population: backend.db, housing: backend.db, socialSecurity: backend.db },
      { persons: PERSONS, seed: SEED, rebuildIndexes: true },
    );
    expect(result.persons).toBe(PERSONS);
    expect(await counts(backend.db)).toEqual({
      persons: PERSONS,
      houses: expected.houses.length,
      accounts: expected.accounts.length,
    });
    expect(await digests(backend.db)).toEqual(before);
    const { rows } = await sql<{ indexname: string }>`select indexname from pg_indexes
      where schemaname in ('population', 'housing') order by indexname`.execute(backend.db);
    expect(rows.map((r) => r.indexname)).toEqual(
      expect.arrayContaining(['house_owner', 'house_street_rid', 'person_house', 'person_street_birth', 'person_street_rid']),
    );
  });

  it('gives other rows for another seed', async () => {
    const before = await digests(backend.db);
    await seedSources(
      { population: backend.db, housing: backend.db, socialSecurity: backend.db },
      { persons: PERSONS, seed: SEED + 1 },
    );
    expect((await counts(backend.db)).persons).toBe(PERSONS);
    const after = await digests(backend.db);
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect(after[2]).not.toBe(before[2]);
  });
});
