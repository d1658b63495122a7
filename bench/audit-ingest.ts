/**
 * Durable audit ingest into real PostgreSQL: N concurrent appenders (each awaiting its own commit,
 * as gateway requests do) push events through one AuditLog; then the chain is verified.
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/audit-ingest.ts
 *
 * Env: BENCH_EVENTS (default 200000), BENCH_CONCURRENCY (default 3000), BENCH_SUBJECTS (persons per
 * event, default 2), BENCH_MAX_BATCH (default 1000), BENCH_KEEP=1 to keep the scratch database,
 * BENCH_AUDIT_CRYPTO (`default`: SHA-256 + Ed25519; `sm`: SM3 chain + SM2 checkpoints, as
 * `AUDIT_CRYPTO=sm` runs the gateway).
 * Prints JSON: {eventsPerSecond, events, concurrency, batches, meanBatch, verifyMs, intact, crypto, ...}.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { migrateStore, postgresDatabase } from '../gateway/store/databases.ts';
import { AuditLog } from '../audit/audit-writer.ts';
import { loadPublicKeys, loadSigningKey, loadSubjectKey, publicKeyFileFor } from '../audit/audit-keys.ts';
import { verifyAudit } from '../audit/audit-verifier.ts';
import type { AuditEventInput } from '../audit/audit-event.ts';
import { AUDIT_CRYPTO_SUITES, parseAuditCrypto } from '../audit/audit-crypto.ts';
import { freshDatabase } from '../tests/backends.ts';

const base = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const total = Number(process.env.BENCH_EVENTS ?? 200_000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 3000);
const subjectsPerEvent = Number(process.env.BENCH_SUBJECTS ?? 2);
const maxBatch = Number(process.env.BENCH_MAX_BATCH ?? 1000);
const pipelineDepth = Number(process.env.BENCH_PIPELINE ?? 3);
const suite = AUDIT_CRYPTO_SUITES[parseAuditCrypto(process.env.BENCH_AUDIT_CRYPTO) ?? 'default'];

function idNumber(i: number): string {
  return `310101${String(19500101 + (i % 28)).padStart(8, '0')}${String(i % 1000).padStart(3, '0')}X`;
}

function event(i: number): AuditEventInput {
  return {
    time: new Date(),
    durationMs: 4,
    actor: { sub: `staff-${i % 500}`, org: `street:3101010${String(i % 20).padStart(2, '0')}`, roles: ['street_staff'] },
    purpose: 'elderly-allowance',
    operationType: 'query',
    operationName: 'ElderlyReview',
    operationHash: 'f'.repeat(64),
    fields: ['population.name', 'population.idNumber', 'population.birthDate', 'social_security.pensionStatus'],
    decision: 'allow',
    reason: 'grants: g-elderly-310101',
    rows: subjectsPerEvent,
    subjects: Array.from({ length: subjectsPerEvent }, (_, k) => idNumber(i * 7 + k)),
    requestId: crypto.randomUUID(),
  };
}

async function main(): Promise<void> {
  const scratch = await freshDatabase('lianqiao_bench', base);
  const db = postgresDatabase(scratch.url, { poolSize: 4 });
  const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lianqiao-bench-'));
  try {
    await migrateStore(db);
    const signingKey = loadSigningKey(path.join(keyDir, 'signing.pem'), { create: true, algorithm: suite.signature });
    const subjectKey = loadSubjectKey(path.join(keyDir, 'subject'), { create: true });
    const log = await AuditLog.open({ db, chainId: 'bench-1', signingKey, subjectKey, maxBatch, pipelineDepth });

    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const i = next++;
        await log.append(event(i));
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (performance.now() - started) / 1000;
    const stats = log.stats();
    await log.close();

    const { rows } = await sql<{ n: string }>`select count(*) as n from audit_event`.execute(db);
    const v0 = performance.now();
    const report = await verifyAudit(db, loadPublicKeys(publicKeyFileFor(path.join(keyDir, 'signing.pem'))));
    const verifyMs = Math.round(performance.now() - v0);
    const { rows: sizeRows } = await sql<{ size: string }>`select pg_size_pretty(pg_database_size(current_database())) as size`.execute(db);
    console.log(
      JSON.stringify({
        eventsPerSecond: Math.round(total / seconds),
        crypto: suite.name,
        events: total,
        stored: Number(rows[0].n),
        concurrency,
        subjectsPerEvent,
        batches: stats.batches,
        meanBatch: Math.round(stats.committed / Math.max(1, stats.batches)),
        failed: stats.failed,
        verifyMs,
        verifiedPerSecond: Math.round(report.events / (verifyMs / 1000)),
        intact: report.intact,
        databaseSize: sizeRows[0].size,
      }),
    );
  } finally {
    await db.destroy();
    fs.rmSync(keyDir, { recursive: true, force: true });
    if (process.env.BENCH_KEEP !== '1') await scratch.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
