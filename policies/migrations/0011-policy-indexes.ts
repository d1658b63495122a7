/**
 * Indexes the policy store's writes and the emergency sweep look up by. A grant's Casbin lines carry
 * the grant's id in `v5`: replacing or withdrawing a grant deletes them by it, which without an index
 * scans every line (80 ms at 100,000 lines, inside the withdrawal's transaction). The expiry sweep
 * (schema/emergency/emergency-expiry.ts) asks for open sessions past their end on every tick.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const policyIndexesMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createIndex('casbin_rule_v5').ifNotExists().on('casbin_rule').column('v5').execute();
    await sql`create index if not exists emergency_session_open on emergency_session (expires_at) where ended_at is null`.execute(db);
  },
};
