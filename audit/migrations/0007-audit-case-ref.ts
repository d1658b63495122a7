/**
 * `X-Case-Ref` in the trail (CONTRACT.md): a `case_ref` column filled by `audit_append` from the
 * canonical key `caseRef` (present only in events that carry one, see `canonicalEncoding`), and an
 * index for the auditors' search by case reference, partial because most events carry none.
 *
 * A resident's `myDataAccess` needs no index of its own: it is the subject-hash GIN probe that
 * `subjectAccessReport` uses (one probe per monthly partition), then a sort of that person's events.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { AUDIT_APPEND_COLUMNS, createAuditAppend, type AppendColumn } from './0003-audit-append.ts';

/** Every column `audit_append` fills from here on: 0003's, 0004's `hash_alg`, and `case_ref`. */
export const AUDIT_CASE_REF_COLUMNS: readonly AppendColumn[] = [...AUDIT_APPEND_COLUMNS, ['hash_alg', 'hashAlg', 'text'], ['case_ref', 'caseRef', 'text']];

export const auditCaseRefMigration: Migration = {
  async up(db: Kysely<any>) {
    await sql`alter table audit_event add column if not exists case_ref text`.execute(db);
    await sql`create index if not exists audit_event_case_ref on audit_event (case_ref, "time") where case_ref is not null`.execute(db);
    await createAuditAppend(db, AUDIT_CASE_REF_COLUMNS);
  },
};
