/** Duties, grants and the Casbin rules compiled from them. */
import { sql, type Kysely, type Migration } from 'kysely';

export const policyMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('duty')
      .ifNotExists()
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('delegated_by', 'text', (c) => c.notNull())
      .addColumn('streets', 'jsonb', (c) => c.notNull())
      .addColumn('origin', 'text', (c) => c.notNull().defaultTo('file'))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    await db.schema
      .createTable('grant')
      .ifNotExists()
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('dataset', 'text', (c) => c.notNull())
      .addColumn('duty', 'text', (c) => c.notNull())
      .addColumn('streets', 'jsonb', (c) => c.notNull())
      .addColumn('fields', 'jsonb', (c) => c.notNull())
      .addColumn('row_condition', 'jsonb')
      .addColumn('valid_from', 'timestamptz')
      .addColumn('valid_until', 'timestamptz')
      .addColumn('origin', 'text', (c) => c.notNull().defaultTo('file'))
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('revoked_at', 'timestamptz')
      .addColumn('revoked_by', 'text')
      .execute();
    await db.schema.createIndex('grant_duty').ifNotExists().on('grant').columns(['duty', 'dataset']).execute();
    await db.schema
      .createTable('casbin_rule')
      .ifNotExists()
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('ptype', 'text', (c) => c.notNull())
      .addColumn('v0', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('v1', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('v2', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('v3', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('v4', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('v5', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
    await db.schema.createIndex('casbin_rule_v1').ifNotExists().on('casbin_rule').columns(['v1', 'v0']).execute();
    // One row: bumped on every policy change so instances can tell they are stale.
    await db.schema
      .createTable('policy_version')
      .ifNotExists()
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('version', 'bigint', (c) => c.notNull())
      .addColumn('changed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    await sql`insert into policy_version (id, version) values (1, 1) on conflict (id) do nothing`.execute(db);
  },
};
