/**
 * Opens the gateway store and the demo sources, chosen once from configuration:
 * real PostgreSQL (a `pg` pool per URL) or one embedded PGlite under DATA_DIR in which the store
 * and each demo source keep their own schema.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Kysely, Migrator, PostgresDialect } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { KyselyPGlite } from 'kysely-pglite';
import type { Config } from '../config.ts';
import { storeMigrationProvider } from './migrations/index.ts';

// Dates, numerics and bigints come back as strings: the connectors map them to the API's types.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => v);
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

export interface Databases {
  readonly store: Kysely<any>;
  readonly population: Kysely<any>;
  readonly housing: Kysely<any>;
  /** The demo social-security service's own database; undefined when an external API is configured. */
  readonly socialSecurity?: Kysely<any>;
  /** The embedded PGlite, if any. */
  readonly pglite?: PGlite;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Embedded PGlite in memory instead of under DATA_DIR (tests). */
  readonly inMemory?: boolean;
  /** Statement time limit on PostgreSQL pools, ms. */
  readonly statementTimeoutMs?: number;
  readonly poolSize?: number;
  /** How long a query may wait for a free pool connection before the source counts as unavailable. Default 10 s. */
  readonly poolWaitMs?: number;
}

export function postgresDatabase(url: string, options: OpenOptions = {}): Kysely<any> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.poolWaitMs ?? 10_000,
    statement_timeout: options.statementTimeoutMs,
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  // Nor a checked-out one: pg emits 'error' on a client whose connection drops, also while a query
  // runs (that query is rejected as well), and pg-pool listens only while the client is idle.
  // Unheard, the event would be an uncaught exception that takes the whole gateway down.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  return new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
}

export async function openPglite(dataDir: string | undefined): Promise<PGlite> {
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
  // Same value shapes as the pg pool above: dates, numerics and bigints as strings.
  const parsers = { 1082: (v: string) => v, 1700: (v: string) => v, 20: (v: string) => v };
  const pglite = dataDir ? new PGlite(path.join(dataDir, 'pglite'), { parsers }) : new PGlite({ parsers });
  await pglite.waitReady;
  return pglite;
}

export function pgliteDatabase(pglite: PGlite): Kysely<any> {
  return new Kysely<any>({ dialect: new KyselyPGlite(pglite).dialect });
}

export async function openDatabases(config: Config, options: OpenOptions = {}): Promise<Databases> {
  const s = config.sources;
  const needsEmbedded =
    !config.databaseUrl || !s.populationUrl || !s.housingUrl || (!s.socialSecurityUrl && !s.socialSecurityDatabaseUrl);
  const pglite = needsEmbedded ? await openPglite(options.inMemory ? undefined : config.dataDir) : undefined;
  const embeddedDb = pglite ? pgliteDatabase(pglite) : undefined;
  const open = (url: string | undefined): Kysely<any> => (url ? postgresDatabase(url, options) : embeddedDb!);

  const store = open(config.databaseUrl);
  const population = open(config.sources.populationUrl);
  const housing = open(config.sources.housingUrl);
  const socialSecurity = s.socialSecurityUrl ? undefined : open(s.socialSecurityDatabaseUrl);
  const all = [...new Set([store, population, housing, socialSecurity].filter((d): d is Kysely<any> => !!d))];
  return {
    store,
    population,
    housing,
    socialSecurity,
    pglite,
    async close() {
      await Promise.allSettled(all.map((db) => db.destroy()));
      if (pglite && !pglite.closed) await pglite.close();
    },
  };
}

/** Brings the gateway store's schema up to date (idempotent). */
export async function migrateStore(db: Kysely<any>): Promise<void> {
  const migrator = new Migrator({ db, provider: storeMigrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`store migration ${failed} failed`, { cause: error });
  }
}
