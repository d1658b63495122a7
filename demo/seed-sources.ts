/**
 * Loads the deterministic synthetic data (synthetic-data.ts) into the three demo sources.
 *
 * Works on real PostgreSQL (kysely PostgresDialect over a `pg` pool) and on PGlite (kysely-pglite).
 * Each batch goes in as one `insert ... select * from unnest($1::text[], ...)` statement per table,
 * with every value a bound parameter. Each table takes its batches in generation order (so the same
 * seed gives the same rows with the same identities); the three tables load concurrently, and
 * generation of the next batch overlaps the inserts of the previous one.
 *
 * Not atomic: the tables are truncated first and then filled batch by batch, so a failed seed leaves
 * them partly filled; seed again to repair.
 */
import { sql, type Kysely } from 'kysely';
import {
  createHousingSchema,
  createPopulationSchema,
  createSocialSecuritySchema,
  HOUSING_TABLE,
  POPULATION_TABLE,
  SOCIAL_SECURITY_TABLE,
} from './source-schema.ts';
import { generateSyntheticData } from './synthetic-data.ts';

export interface SeedTargets {
  readonly population: Kysely<any>;
  readonly housing: Kysely<any>;
  readonly socialSecurity: Kysely<any>;
}

export interface SeedOptions {
  readonly persons: number;
  readonly seed?: number;
  /** Called after each loaded batch with the number of persons loaded so far. */
  readonly onProgress?: (done: number) => void;
  /** Persons per insert batch (houses and accounts follow their persons). Default 10,000. */
  readonly batchSize?: number;
  /** The data set's "today" (see SyntheticOptions.referenceDate). */
  readonly referenceDate?: string;
  /**
   * Drop the secondary indexes during the load and build them again afterwards. Default: only for
   * loads of 100,000 persons or more, where it is measurably faster.
   */
  readonly rebuildIndexes?: boolean;
}

export interface SeedResult {
  readonly persons: number;
  readonly houses: number;
  readonly accounts: number;
  readonly ms: number;
}

interface TableMapping {
  readonly schema: string;
  readonly table: string;
  readonly columns: Readonly<Record<string, string>>;
}

interface LoadColumn {
  readonly field: string;
  readonly column: string;
  /** PostgreSQL element type of the unnest parameter. */
  readonly type: string;
}

/** Columns of a source table in mapping order, with the array type each parameter is cast to. */
function loadColumns(mapping: TableMapping, types: Readonly<Record<string, string>>): LoadColumn[] {
  return Object.entries(mapping.columns).map(([field, column]) => ({ field, column, type: types[field] ?? 'text' }));
}

const PERSON_COLUMNS = loadColumns(POPULATION_TABLE, { birthDate: 'date', residentSince: 'date' });
const HOUSE_COLUMNS = loadColumns(HOUSING_TABLE, { buildingArea: 'numeric', builtYear: 'int4', registeredAt: 'date' });
const ACCOUNT_COLUMNS = loadColumns(SOCIAL_SECURITY_TABLE, { monthlyPension: 'numeric', minimumLivingAssistance: 'bool' });

/** Secondary indexes built by the create*Schema functions (the unique keys stay during a load). */
const SECONDARY_INDEXES = {
  population: ['population.person_street_rid', 'population.person_street_birth', 'population.person_house'],
  housing: ['housing.house_street_rid', 'housing.house_owner'],
  socialSecurity: [] as string[],
} as const;

function tableName(mapping: TableMapping) {
  return sql.table(`${mapping.schema}.${mapping.table}`);
}

async function insertRows(
  db: Kysely<any>,
  mapping: TableMapping,
  columns: readonly LoadColumn[],
  rows: readonly object[],
): Promise<void> {
  if (rows.length === 0) return;
  const arrays = columns.map((c) => {
    const values = new Array<unknown>(rows.length);
    for (let i = 0; i < rows.length; i++) values[i] = (rows[i] as Record<string, unknown>)[c.field];
    return sql`${values}::${sql.raw(c.type)}[]`;
  });
  await sql`insert into ${tableName(mapping)} (${sql.join(columns.map((c) => sql.ref(c.column)))})
    select * from unnest(${sql.join(arrays)})`.execute(db);
}

/** True if population.person exists and has at least one row. */
export async function sourcesAreSeeded(db: Kysely<any>): Promise<boolean> {
  const { rows } = await sql<{ t: string | null }>`select to_regclass('population.person')::text as t`.execute(db);
  if (!rows[0]?.t) return false;
  const found = await sql<{ one: number }>`select 1 as one from population.person limit 1`.execute(db);
  return found.rows.length > 0;
}

/**
 * Creates the three source schemas if needed, empties the tables (restarting their identities) and
 * loads `options.persons` synthetic persons with their houses and social-security accounts.
 */
export async function seedSources(targets: SeedTargets, options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const { population, housing, socialSecurity } = targets;
  if (!Number.isInteger(options.persons) || options.persons < 0) {
    throw new Error(`persons must be a non-negative integer, got ${options.persons}`);
  }
  const rebuildIndexes = options.rebuildIndexes ?? options.persons >= 100_000;

  await createPopulationSchema(population);
  await createHousingSchema(housing);
  await createSocialSecuritySchema(socialSecurity);
  await sql`truncate table ${tableName(POPULATION_TABLE)} restart identity`.execute(population);
  await sql`truncate table ${tableName(HOUSING_TABLE)} restart identity`.execute(housing);
  await sql`truncate table ${tableName(SOCIAL_SECURITY_TABLE)} restart identity`.execute(socialSecurity);
  if (rebuildIndexes) {
    for (const index of SECONDARY_INDEXES.population) await sql`drop index if exists ${sql.raw(index)}`.execute(population);
    for (const index of SECONDARY_INDEXES.housing) await sql`drop index if exists ${sql.raw(index)}`.execute(housing);
  }

  // Each table takes its batches strictly in generation order, so the identity column (rid) and
  // the physical row order are the same on every seed. The three tables load concurrently (when
  // they have their own connections; on one PGlite the statements simply queue), and generation of
  // the next batch overlaps the inserts of the previous one.
  let housesDone: Promise<void> = Promise.resolve();
  let personsDone: Promise<void> = Promise.resolve();
  let accountsDone: Promise<void> = Promise.resolve();

  const maxInFlight = 2;
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let persons = 0;
  let houses = 0;
  let accounts = 0;
  let loaded = 0;

  try {
    for (const batch of generateSyntheticData({
      persons: options.persons,
      seed: options.seed,
      batchSize: options.batchSize ?? 10_000,
      referenceDate: options.referenceDate,
    })) {
      if (failure) break;
      persons += batch.persons.length;
      houses += batch.houses.length;
      accounts += batch.accounts.length;
      const size = batch.persons.length;
      housesDone = housesDone.then(() => insertRows(housing, HOUSING_TABLE, HOUSE_COLUMNS, batch.houses));
      personsDone = personsDone.then(() => insertRows(population, POPULATION_TABLE, PERSON_COLUMNS, batch.persons));
      accountsDone = accountsDone.then(() => insertRows(socialSecurity, SOCIAL_SECURITY_TABLE, ACCOUNT_COLUMNS, batch.accounts));
      const task: Promise<void> = Promise.all([housesDone, personsDone, accountsDone])
        .then(() => {
          loaded += size;
          options.onProgress?.(loaded);
        })
        .catch((error: unknown) => {
          failure ??= { error };
        });
      inFlight.add(task);
      void task.finally(() => inFlight.delete(task));
      while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    }
  } catch (error) {
    failure ??= { error };
  } finally {
    await Promise.all(inFlight);
    if (rebuildIndexes) {
      // create*Schema builds the dropped indexes again (if not exists), the two sources in
      // parallel; after a failure too, so that a half-loaded source is still indexed.
      const rebuilt = Promise.all([createPopulationSchema(population), createHousingSchema(housing)]);
      if (failure) await rebuilt.catch(() => {});
      else await rebuilt;
    }
  }
  if (failure) throw failure.error;

  await Promise.all([
    sql`analyze ${tableName(POPULATION_TABLE)}`.execute(population),
    sql`analyze ${tableName(HOUSING_TABLE)}`.execute(housing),
    sql`analyze ${tableName(SOCIAL_SECURITY_TABLE)}`.execute(socialSecurity),
  ]);

  return { persons, houses, accounts, ms: Math.round(performance.now() - started) };
}
