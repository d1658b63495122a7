/**
 * What a duty tells residents and asks of its reads (CONTRACT.md § Residents, `X-Case-Ref`): its
 * title in Chinese beside the English one, whether a read needs a case reference, and how many days
 * its reads stay hidden from the resident (inspections that must not be tipped off).
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const dutyDisclosureMigration: Migration = {
  async up(db: Kysely<any>) {
    await sql`alter table duty add column if not exists title_zh text`.execute(db);
    await sql`alter table duty add column if not exists requires_case_ref boolean not null default false`.execute(db);
    await sql`alter table duty add column if not exists disclosure_delay_days integer not null default 0`.execute(db);
  },
};
