/**
 * Each audit event records the algorithm of its chain hash (`hash_alg`), so that one trail can
 * hold SHA-256 and SM3 events (`AUDIT_CRYPTO=sm`, CONTRACT.md § National cryptography) and the
 * verifier checks each with its own. NULL is SHA-256: every event written before this migration.
 * For SM3 events the algorithm is also inside the hashed text (`"hashAlg":"sm3"`), so changing
 * the column alone breaks the event's hash.
 *
 * `audit_append` is recreated to map the payload's `hashAlg` onto the column.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { AUDIT_APPEND_COLUMNS, createAuditAppend } from './0003-audit-append.ts';

export const auditHashAlgorithmMigration: Migration = {
  async up(db: Kysely<any>) {
    await sql`alter table audit_event add column if not exists hash_alg text`.execute(db);
    await createAuditAppend(db, [...AUDIT_APPEND_COLUMNS, ['hash_alg', 'hashAlg', 'text']]);
  },
};
