/** The gateway store's migrations, in order. Add a file, then list it here. */
import type { Migration, MigrationProvider } from 'kysely';
import { policyMigration } from '../../../policies/migrations/0001-policy.ts';
import { auditMigration } from '../../../audit/migrations/0002-audit.ts';
import { auditAppendMigration } from '../../../audit/migrations/0003-audit-append.ts';
import { auditHashAlgorithmMigration } from '../../../audit/migrations/0004-audit-hash-algorithm.ts';
import { admissionMigration } from '../../../policies/migrations/0005-admission.ts';
import { emergencyMigration } from '../../../policies/migrations/0006-emergency.ts';
import { auditCaseRefMigration } from '../../../audit/migrations/0007-audit-case-ref.ts';
import { dutyDisclosureMigration } from '../../../policies/migrations/0008-duty-disclosure.ts';
import { requestEmergencyMigration } from '../../../policies/migrations/0009-request-emergency.ts';
import { auditSearchIndexesMigration } from '../../../audit/migrations/0010-audit-search-indexes.ts';
import { policyIndexesMigration } from '../../../policies/migrations/0011-policy-indexes.ts';

export const STORE_MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-policy': policyMigration,
  '0002-audit': auditMigration,
  '0003-audit-append': auditAppendMigration,
  '0004-audit-hash-algorithm': auditHashAlgorithmMigration,
  '0005-admission': admissionMigration,
  '0006-emergency': emergencyMigration,
  '0007-audit-case-ref': auditCaseRefMigration,
  '0008-duty-disclosure': dutyDisclosureMigration,
  '0009-request-emergency': requestEmergencyMigration,
  '0010-audit-search-indexes': auditSearchIndexesMigration,
  '0011-policy-indexes': policyIndexesMigration,
};

export const storeMigrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...STORE_MIGRATIONS }),
};
