/**
 * An access request may ask for an emergency clause, and its approval records the clause granted
 * (as asked, narrower, or none): both kept beside the request's other terms.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const requestEmergencyMigration: Migration = {
  async up(db: Kysely<any>) {
    await sql`alter table access_request add column if not exists emergency jsonb`.execute(db);
    await sql`alter table access_request add column if not exists approved_emergency jsonb`.execute(db);
  },
};
