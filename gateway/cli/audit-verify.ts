/**
 * `npm run audit:verify`: checks every audit chain and its signed checkpoints.
 *
 * Exit codes: 0 intact, 1 tampered (prints the first bad record: chain, seq, kind), 2 could not
 * check (bad configuration, missing public key file, no store, the embedded store in use by a
 * running gateway ...).
 *
 * Trust: checkpoints are checked against `<AUDIT_SIGNING_KEY>.pub` and `<AUDIT_SM2_SIGNING_KEY>.pub`,
 * whichever exist (files), never against a key found in the database, so that a trail is checked
 * whatever `AUDIT_CRYPTO` says now. Each event is checked with the hash it records (SHA-256 or SM3), each checkpoint with
 * its key's algorithm (Ed25519 or SM2); the report names the algorithms it checked. The store is
 * opened read-only in spirit: no migration is run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { ConfigError, loadConfig } from '../config.ts';
import { openPglite, pgliteDatabase, postgresDatabase } from '../store/databases.ts';
import { gatewayHolding } from './data-dir-lock.ts';
import { loadTrustedPublicKeys } from '../../audit/audit-keys.ts';
import { ALGORITHM_LABELS } from '../../audit/audit-crypto.ts';
import { verifyAudit, type IntegrityReport } from '../../audit/audit-verifier.ts';

class CannotCheck extends Error {}

/** Intact chains listed one per line up to this many (a chain per gateway start adds up). */
const MAX_INTACT_LINES = 50;

function describe(report: IntegrityReport): string[] {
  const lines = [
    `audit trail: ${report.chains.length} chain(s), ${report.events} event(s), ${report.checkpoints} signed checkpoint(s)`,
    `algorithms checked: ${report.algorithms.length > 0 ? report.algorithms.join(', ') : 'none (empty trail)'}`,
  ];
  let intactShown = 0;
  for (const c of report.chains) {
    if (!c.firstProblem && ++intactShown > MAX_INTACT_LINES) continue;
    const range = c.firstSeq === null ? 'no events' : `seq ${c.firstSeq}..${c.lastSeq}`;
    const parts = [`${c.events} event(s) (${range})`, `${c.checkpoints} checkpoint(s)`];
    if (c.lastCheckpointSeq !== null) parts.push(`last signed seq ${c.lastCheckpointSeq}`);
    if (c.unsignedTail > 0) parts.push(`unsigned tail ${c.unsignedTail} event(s)`);
    if (c.archivedThrough !== null) parts.push(`archived through seq ${c.archivedThrough}`);
    const algorithms = [...c.hashAlgorithms, ...c.signatureAlgorithms].map((a) => ALGORITHM_LABELS[a] ?? a);
    if (algorithms.length > 0) parts.push(algorithms.join(' + '));
    const verdict = c.firstProblem ? `TAMPERED at seq ${c.firstProblem.seq} (${c.firstProblem.kind}): ${c.firstProblem.message}` : 'intact';
    lines.push(`  chain ${c.chainId}: ${parts.join(', ')}: ${verdict}`);
  }
  if (intactShown > MAX_INTACT_LINES) lines.push(`  ... and ${intactShown - MAX_INTACT_LINES} more intact chain(s)`);
  return lines;
}

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    throw new CannotCheck(error instanceof ConfigError ? error.message : String(error));
  }
  let keys;
  try {
    keys = loadTrustedPublicKeys(config);
  } catch (error) {
    throw new CannotCheck((error as Error).message);
  }

  let db: Kysely<any>;
  let closePglite: (() => Promise<void>) | undefined;
  if (config.databaseUrl) {
    db = postgresDatabase(config.databaseUrl, { poolSize: 2 });
  } else {
    const running = gatewayHolding(config.dataDir);
    if (running !== undefined) {
      throw new CannotCheck(
        `the gateway (pid ${running}) is using the embedded store in ${config.dataDir}; stop it first, or ask it with the auditIntegrity query`,
      );
    }
    if (!fs.existsSync(path.join(config.dataDir, 'pglite'))) throw new CannotCheck(`no embedded store in ${config.dataDir}`);
    const pglite = await openPglite(config.dataDir);
    db = pgliteDatabase(pglite);
    closePglite = () => pglite.close();
  }
  try {
    try {
      const { rows } = await sql<{ t: string | null }>`select to_regclass('audit_event')::text as t`.execute(db);
      if (!rows[0]?.t) throw new CannotCheck('the store has no audit tables (never migrated?)');
    } catch (error) {
      if (error instanceof CannotCheck) throw error;
      throw new CannotCheck(`cannot reach the store: ${(error as Error).message}`);
    }
    const report = await verifyAudit(db, keys);
    for (const line of describe(report)) console.log(line);
    if (report.intact) {
      console.log('result: INTACT');
      return 0;
    }
    const p = report.firstProblem!;
    console.log(`result: TAMPERED: first bad record: chain ${p.chainId} seq ${p.seq} (${p.kind}): ${p.message}`);
    return 1;
  } finally {
    await db.destroy().catch(() => {});
    if (closePglite) await closePglite().catch(() => {});
  }
}

// Exit code 1 means "tampered": nothing else may end the process with it.
const cannotCheck = (error: unknown): never => {
  console.error(`audit:verify: could not check: ${(error as Error)?.message ?? String(error)}`);
  process.exit(2);
};
process.on('uncaughtException', cannotCheck);
process.on('unhandledRejection', cannotCheck);

main().then(
  (code) => process.exit(code),
  (error) => cannotCheck(error),
);
