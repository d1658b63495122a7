/**
 * The bench's PostgreSQL databases: created when absent, seeded with the deterministic synthetic
 * sources when they do not hold exactly the expected number of persons, and the gateway store
 * migrated. Also picks in-scope ids for the lookup scenarios straight from the source tables.
 *
 *   npx tsx bench/databases.ts   # prepare both databases only (what `npm run bench` does first)
 */
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import { migrateStore, postgresDatabase } from '../gateway/store/databases.ts';
import { seedSources } from '../demo/seed-sources.ts';
import { PostgresConnector } from '../connectors/postgres/postgres-connector.ts';
import { POPULATION } from '../core/datasets.ts';
import { POPULATION_TABLE } from '../demo/source-schema.ts';
import type { FindRequest } from '../connectors/connector.ts';

export const DEFAULT_BENCH_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/lianqiao_bench';
export const DEFAULT_BENCH_REDIS_URL = 'redis://127.0.0.1:6379';

/** The same server, another database. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

/** Creates the database named in `url` on its server when it does not exist yet. */
export async function ensureDatabase(url: string): Promise<boolean> {
  const name = databaseName(url);
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  try {
    const { rows } = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (rows.length > 0) return false;
    await admin.query(`create database "${name.replace(/"/g, '""')}"`);
    return true;
  } finally {
    await admin.end();
  }
}

/** Drops a scratch database (forcefully: benchmark scratch only). */
export async function dropDatabase(url: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`drop database if exists "${databaseName(url).replace(/"/g, '""')}" with (force)`);
  } finally {
    await admin.end();
  }
}

async function countPersons(db: Kysely<any>): Promise<number> {
  const { rows } = await sql<{ t: string | null }>`select to_regclass('population.person')::text as t`.execute(db);
  if (!rows[0]?.t) return 0;
  const houses = await sql<{ t: string | null }>`select to_regclass('housing.house')::text as t, to_regclass('social_security.account')::text as s`.execute(db);
  const row = houses.rows[0] as { t: string | null; s: string | null } | undefined;
  if (!row?.t || !row.s) return 0;
  const counted = await sql<{ n: string }>`select count(*)::text as n from population.person`.execute(db);
  return Number(counted.rows[0]?.n ?? 0);
}

/** `random_page_cost` set on the bench's source databases (PostgreSQL's default is 4; see prepareDatabase). */
export const SOURCE_RANDOM_PAGE_COST = 1.1;

export interface PreparedDatabase {
  readonly url: string;
  readonly persons: number;
  readonly created: boolean;
  /** Seconds spent seeding in this run (0 when the data was already there). */
  readonly seededSeconds: number;
}

/**
 * Makes `url` hold exactly `persons` synthetic persons with their houses and accounts, and the
 * gateway store's schema.
 */
export async function prepareDatabase(url: string, persons: number, log: (line: string) => void): Promise<PreparedDatabase> {
  const created = await ensureDatabase(url);
  // Three pools so that the three sources load concurrently, as they would from three departments.
  const population = postgresDatabase(url, { poolSize: 2 });
  const housing = postgresDatabase(url, { poolSize: 2 });
  const socialSecurity = postgresDatabase(url, { poolSize: 2 });
  try {
    await migrateStore(population);
    const have = await countPersons(population);
    let seededSeconds = 0;
    if (have !== persons) {
      log(`seeding ${persons.toLocaleString('en')} persons into ${databaseName(url)} (found ${have.toLocaleString('en')})`);
      const started = performance.now();
      let lastPrinted = 0;
      await seedSources(
        { population, housing, socialSecurity },
        {
          persons,
          onProgress: (done) => {
            if (done - lastPrinted >= 100_000 || done === persons) {
              lastPrinted = done;
              log(`  ${done.toLocaleString('en')} / ${persons.toLocaleString('en')}`);
            }
          },
        },
      );
      seededSeconds = (performance.now() - started) / 1000;
      log(`seeded ${databaseName(url)} in ${seededSeconds.toFixed(1)} s`);
    }
    // Source tuning any DBA would do for a registry whose working set is in memory: random and
    // sequential page reads cost nearly the same, so the planner should walk a street's own index
    // (person_street_rid) instead of the primary key. With the default (4) it walks the primary key
    // and discards ~3,000 rows of other streets and ages per S1 page (0.74 vs 0.24 ms per query,
    // measured); the gateway's SQL is the same either way. Applies to new sessions.
    await sql`alter database ${sql.id(databaseName(url))} set random_page_cost = ${sql.lit(SOURCE_RANDOM_PAGE_COST)}`.execute(population);
    return { url, persons, created, seededSeconds };
  } finally {
    await Promise.all([population.destroy(), housing.destroy(), socialSecurity.destroy()]);
  }
}

export interface ScenarioIds {
  /** Persons of the street with a house in the same street and a social-security account. */
  readonly personIds: string[];
  /** Owned or rented houses of the street with at least one resident. */
  readonly houseIds: string[];
}

/** Reads ids for S2/S3 from the source tables directly (the bench's knowledge, not the gateway's). */
export async function pickScenarioIds(url: string, street: string, count: number): Promise<ScenarioIds> {
  const db = postgresDatabase(url, { poolSize: 1 });
  try {
    const persons = await sql<{ id: string }>`
      select p.id_number as id
        from population.person p
        join housing.house h on h.id = p.house_id and h.street_code = p.street_code
        join social_security.account a on a.id_number = p.id_number
       where p.street_code = ${street}
       order by md5(p.id_number)
       limit ${count}`.execute(db);
    const houses = await sql<{ id: string }>`
      select h.id
        from housing.house h
       where h.street_code = ${street}
         and h.tenure in ('owned', 'rented')
         and exists (select 1 from population.person p where p.house_id = h.id and p.street_code = ${street})
       order by md5(h.id)
       limit ${count}`.execute(db);
    return { personIds: persons.rows.map((r) => r.id.trim()), houseIds: houses.rows.map((r) => r.id) };
  } finally {
    await db.destroy();
  }
}

export interface QueryPlan {
  readonly sql: string;
  /** EXPLAIN (ANALYZE, BUFFERS) output, warm cache. */
  readonly plan: string[];
  readonly executionMs: number;
}

/**
 * The statement the population connector sends for S1 (the elderly-allowance scope: the clerk's
 * street and age >= 65; the projection S1 reads plus the join keys), captured from the connector
 * itself, and PostgreSQL's plan for it on `url`.
 */
export async function explainS1(url: string, street: string): Promise<QueryPlan> {
  const db = postgresDatabase(url, { poolSize: 1 });
  let captured: { sql: string; parameters: readonly unknown[] } | undefined;
  try {
    const connector = new PostgresConnector({
      dataset: POPULATION,
      db,
      table: POPULATION_TABLE,
      onQuery: (q) => (captured ??= q),
    });
    await connector.find({
      scope: { streets: [street], conditions: [{ field: 'age', op: 'gte', value: 65 }] },
      fields: ['name', 'idNumber', 'birthDate', 'residenceAddress', 'hukouAddress', 'houseId'],
      first: 20,
      after: null,
      where: [],
    } as FindRequest);
  } finally {
    await db.destroy();
  }
  if (!captured) throw new Error('the connector sent no statement');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    let rows: { 'QUERY PLAN': string }[] = [];
    for (let i = 0; i < 3; i++) rows = (await client.query(`explain (analyze, buffers) ${captured.sql}`, [...captured.parameters])).rows;
    const plan = rows.map((r) => r['QUERY PLAN']);
    const executionMs = Number(/Execution Time: ([\d.]+) ms/.exec(plan.join('\n'))?.[1] ?? Number.NaN);
    return { sql: captured.sql, plan, executionMs };
  } finally {
    await client.end();
  }
}

/** Server versions for the report. */
export async function postgresVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('show server_version');
    return String(rows[0].server_version);
  } finally {
    await client.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.BENCH_DATABASE_URL ?? DEFAULT_BENCH_DATABASE_URL;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  prepareDatabase(url, 1_000_000, log)
    .then(() => prepareDatabase(withDatabase(url, `${databaseName(url)}_10k`), 10_000, log))
    .then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
}
