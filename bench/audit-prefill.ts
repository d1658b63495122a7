/**
 * Fills the bench store's audit trail up to N events once (S5 pages over it), through the
 * AuditLog's own write path — big batches, many concurrent appenders, group commit — so every
 * event is hashed onto its chain and checkpoints are signed: the trail stays verifiable.
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import { migrateStore, postgresDatabase } from '../gateway/store/databases.ts';
import { AuditLog } from '../audit/audit-writer.ts';
import type { AuditEventInput } from '../audit/audit-event.ts';
import type { SigningKey } from '../audit/audit-keys.ts';
import { SYNTHETIC_STREET_CODES } from '../demo/synthetic-data.ts';

const PURPOSES = ['elderly-allowance', 'minimum-living-assistance', 'rental-registration', 'grid-inspection', 'employment-assistance'];

function idNumber(i: number): string {
  const birth = 19400101 + (i % 60) * 10000 + (i % 12) * 100 + (i % 28);
  return `310101${birth}${String(i % 1000).padStart(3, '0')}${i % 11 === 0 ? 'X' : i % 10}`;
}

function event(i: number): AuditEventInput {
  const street = SYNTHETIC_STREET_CODES[i % SYNTHETIC_STREET_CODES.length]!;
  const denied = i % 17 === 0;
  const subjects = denied ? 0 : 1 + (i % 8);
  return {
    time: new Date(),
    durationMs: 3 + (i % 20),
    actor: { sub: `staff-${street}-${i % 40}`, org: `street:${street}`, roles: ['street_staff'] },
    purpose: PURPOSES[i % PURPOSES.length]!,
    operationType: 'query',
    operationName: denied ? null : 'PeopleReview',
    operationHash: crypto.createHash('sha256').update(String(i % 50)).digest('hex'),
    fields: ['population.name', 'population.idNumber', 'population.birthDate', 'population.residenceAddress'],
    decision: denied ? 'deny' : 'allow',
    reason: denied ? 'FORBIDDEN: purpose "elderly-allowance" does not allow this operation; not granted: population.phone' : 'grants: population-elderly-allowance',
    rows: subjects,
    subjects: Array.from({ length: subjects }, (_, k) => idNumber(i * 13 + k)),
    requestId: crypto.randomUUID(),
  };
}

export interface PrefillResult {
  readonly before: number;
  readonly after: number;
  readonly appended: number;
  readonly seconds: number;
}

export async function countAuditEvents(storeUrl: string): Promise<number> {
  const db = postgresDatabase(storeUrl, { poolSize: 1 });
  try {
    await migrateStore(db);
    const { rows } = await sql<{ n: string }>`select count(*)::text as n from audit_event`.execute(db);
    return Number(rows[0]?.n ?? 0);
  } finally {
    await db.destroy();
  }
}

export async function prefillAudit(
  storeUrl: string,
  keys: { signingKey: SigningKey; subjectKey: Buffer },
  target: number,
  log: (line: string) => void,
): Promise<PrefillResult> {
  const before = await countAuditEvents(storeUrl);
  if (before >= target) return { before, after: before, appended: 0, seconds: 0 };
  const missing = target - before;
  log(`pre-filling the audit trail: ${missing.toLocaleString('en')} events (it holds ${before.toLocaleString('en')})`);
  const db = postgresDatabase(storeUrl, { poolSize: 4 });
  const started = performance.now();
  try {
    const auditLog = await AuditLog.open({
      db,
      chainId: `bench-prefill-${Date.now().toString(36)}`,
      signingKey: keys.signingKey,
      subjectKey: keys.subjectKey,
      maxBatch: 2000,
      pipelineDepth: 2,
      commitTimeoutMs: 60_000,
    });
    let next = 0;
    let lastLogged = 0;
    const worker = async () => {
      while (next < missing) {
        const i = next++;
        await auditLog.append(event(before + i));
        if (next - lastLogged >= 200_000) {
          lastLogged = next;
          log(`  ${next.toLocaleString('en')} / ${missing.toLocaleString('en')}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 4000 }, worker));
    await auditLog.close();
  } finally {
    await db.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const after = await countAuditEvents(storeUrl);
  log(`pre-filled ${(after - before).toLocaleString('en')} events in ${seconds.toFixed(1)} s`);
  return { before, after, appended: after - before, seconds };
}
