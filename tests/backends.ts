/** Which backends the integration tests run on, and fresh databases on the real server. */
import pg from 'pg';
import type { Kysely } from 'kysely';
import { openPglite, pgliteDatabase, postgresDatabase } from '../gateway/store/databases.ts';

export type Backend = 'pglite' | 'postgres';

/** Embedded always; real PostgreSQL when TEST_DATABASE_URL is set. */
export const BACKENDS: readonly Backend[] = ['pglite', ...(process.env.TEST_DATABASE_URL ? (['postgres'] as const) : [])];

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

/**
 * The one database factory of the tests and the bench: creates a uniquely named database on the server
 * of `base` (by default TEST_DATABASE_URL); returns its URL and a dropper.
 */
export async function freshDatabase(
  prefix = 'lianqiao_test',
  base: string | undefined = process.env.TEST_DATABASE_URL,
): Promise<{ url: string; drop(): Promise<void> }> {
  if (!base) throw new Error('TEST_DATABASE_URL is not set');
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      await client.query(`drop database if exists "${name}" with (force)`);
      await client.end();
    },
  };
}


/** A Kysely on one backend: in-memory PGlite, or a fresh database on the real server (`url` set). */
export async function openBackendDatabase(
  backend: Backend,
  prefix = 'lianqiao_test',
  options: { poolSize?: number } = {},
): Promise<{ db: Kysely<any>; url?: string; close(): Promise<void> }> {
  if (backend === 'pglite') {
    const pglite = await openPglite(undefined);
    const db = pgliteDatabase(pglite);
    return {
      db,
      async close() {
        await db.destroy();
        if (!pglite.closed) await pglite.close();
      },
    };
  }
  const fresh = await freshDatabase(prefix);
  const db = postgresDatabase(fresh.url, { poolSize: options.poolSize ?? 4 });
  return {
    db,
    url: fresh.url,
    async close() {
      await db.destroy();
      await fresh.drop();
    },
  };
}
