/**
 * Indexes for the auditors' one-filter searches at trail scale (10 million events and more): every
 * filter of `auditEvents` starts from an index whose order is the page's order (newest first by
 * `time, chain_id, seq`), so a page reads its 51 rows from each monthly partition's index and stops,
 * however rare the value. Without them a rare organisation, purpose or decision walks the whole
 * time index filtering row by row.
 *
 * - `actor_org` and `purpose`: few distinct values, but some are rare (an office, a new duty).
 * - `decision`: only the refusals and errors, a few percent of the trail (`allow`, the bulk, is
 *   answered from the time index with a filter that almost always matches). Partial, so ingest pays
 *   for it only on the rare rows.
 * - `actor_sub` gets the page's tie-breakers so that a busy clerk's page needs no sort.
 *
 * Each is created on the partitioned table, so PostgreSQL adds it to every monthly partition,
 * existing and future.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const auditSearchIndexesMigration: Migration = {
  async up(db: Kysely<any>) {
    await sql`create index if not exists audit_event_org on audit_event (actor_org, "time", chain_id, seq)`.execute(db);
    await sql`create index if not exists audit_event_purpose on audit_event (purpose, "time", chain_id, seq)`.execute(db);
    await sql`create index if not exists audit_event_refused on audit_event (decision, "time", chain_id, seq) where decision <> 'allow'`.execute(db);
    await sql`create index if not exists audit_event_actor_page on audit_event (actor_sub, "time", chain_id, seq)`.execute(db);
    await sql`drop index if exists audit_event_actor`.execute(db);
  },
};
