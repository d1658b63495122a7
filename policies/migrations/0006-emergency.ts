/**
 * Emergency access: a grant's emergency clause, and the sessions streets open under it.
 *
 * A session row is the gateway's own record of who opened it, for what and until when; the audit
 * trail holds its START, STOP and review events (the evidence). The row is mutable on purpose (it is
 * ended and reviewed), the trail is not.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const emergencyMigration: Migration = {
  async up(db: Kysely<any>) {
    await sql`alter table "grant" add column if not exists emergency jsonb`.execute(db);
    await db.schema
      .createTable('emergency_session')
      .ifNotExists()
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_sub', 'text', (c) => c.notNull())
      .addColumn('org', 'text', (c) => c.notNull())
      .addColumn('street', 'text', (c) => c.notNull())
      .addColumn('duty', 'text', (c) => c.notNull())
      // The one person the session is for, when it is for one: the rows are restricted to them.
      .addColumn('subject_id_number', 'text')
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('case_ref', 'text', (c) => c.notNull())
      // What the session widened at its start (grant ids, `dataset.field` names): for the reviewers.
      .addColumn('grants', 'jsonb', (c) => c.notNull())
      .addColumn('fields', 'jsonb', (c) => c.notNull())
      // The departments owning those datasets: whose data owners review the session.
      .addColumn('owners', 'jsonb', (c) => c.notNull())
      .addColumn('started_at', 'timestamptz', (c) => c.notNull())
      .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
      .addColumn('ended_at', 'timestamptz')
      .addColumn('ended_by', 'text')
      .addColumn('verdict', 'text')
      .addColumn('review_note', 'text')
      .addColumn('reviewed_by', 'text')
      .addColumn('reviewed_at', 'timestamptz')
      .execute();
    await db.schema.createIndex('emergency_session_user').ifNotExists().on('emergency_session').columns(['user_sub', 'expires_at']).execute();
    await db.schema.createIndex('emergency_session_street').ifNotExists().on('emergency_session').columns(['street', 'started_at']).execute();
    await db.schema.createIndex('emergency_session_review').ifNotExists().on('emergency_session').columns(['reviewed_at', 'started_at']).execute();
  },
};
