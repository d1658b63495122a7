/**
 * Tamper evidence: every kind of tampering an attacker with full database rights (but without
 * the signing key) can do is detected and names its chain and sequence number, through
 * `verifyAudit` and through the real `npm run audit:verify` CLI.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompiledQuery, Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import { migrateStore, openPglite, pgliteDatabase } from '../../gateway/store/databases.ts';
import { auditPartitionName, monthStart } from '../../audit/migrations/0002-audit.ts';
import { AuditLog } from '../../audit/audit-writer.ts';
import { eventHash } from '../../audit/audit-encoding.ts';
import { checkpointPayload } from '../../audit/audit-checkpoint.ts';
import { recordFromRow, type AuditRecord } from '../../audit/audit-rows.ts';
import {
  loadPublicKeys,
  loadSigningKey,
  loadSubjectKey,
  publicKeyFileFor,
  publicKeyFingerprint,
} from '../../audit/audit-keys.ts';
import { verifyAudit, type ChainIntegrity } from '../../audit/audit-verifier.ts';
import type { AuditEventInput } from '../../audit/audit-event.ts';
import { BACKENDS, TEST_SECRET, freshDatabase, type Backend } from '../backends.ts';
import { openAuditStore } from './audit-fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

type Query = (text: string, params?: unknown[]) => Promise<{ rows: any[] }>;

interface Store {
  readonly db: Kysely<any>;
  readonly url?: string;
  /** Runs `fn` as an attacker with superuser rights: triggers off (session_replication_role = replica). */
  attack(fn: (q: Query) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

async function openStore(backend: Backend): Promise<Store> {
  const store = await openAuditStore(backend, 'lianqiao_audit_verify');
  return {
    db: store.db,
    url: store.url,
    close: store.close,
    async attack(fn) {
      if (!store.url) {
        // PGlite has a single session: the setting holds for the attacker's statements, then is reset.
        await sql.raw('set session_replication_role = replica').execute(store.db);
        try {
          await fn((text, params) => store.db.executeQuery(CompiledQuery.raw(text, params ?? [])) as Promise<{ rows: any[] }>);
        } finally {
          await sql.raw('set session_replication_role = origin').execute(store.db);
        }
        return;
      }
      const client = new pg.Client({ connectionString: store.url });
      await client.connect();
      try {
        await client.query('set session_replication_role = replica');
        await fn((text, params) => client.query(text, params as unknown[]));
      } finally {
        await client.end();
      }
    },
  };
}

const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lianqiao-audit-verify-'));
const signingKeyFile = path.join(keyDir, 'signing.pem');
const signingKey = loadSigningKey(signingKeyFile, { create: true });
const subjectKey = loadSubjectKey(path.join(keyDir, 'subject'), { create: true });
const trusted = loadPublicKeys(publicKeyFileFor(signingKeyFile));

function event(i: number, over: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    time: new Date(),
    durationMs: 3,
    actor: { sub: `staff-${i}`, org: 'street:310104003', roles: ['street_staff'] },
    purpose: 'rental-registration',
    operationType: 'query',
    operationName: `Op${i}`,
    operationHash: 'b'.repeat(64),
    fields: ['housing.address', 'population.name'],
    decision: 'allow',
    reason: 'grants: g-2',
    rows: 1,
    subjects: [`31010419800101${String(1000 + i)}`],
    requestId: `r-${i}`,
    ...over,
  };
}

/**
 * Twelve events: checkpoints signed at seq 4 and seq 10, then an unsigned tail of two (a live
 * writer between two checkpoints).
 */
async function buildChain(db: Kysely<any>, chainId: string): Promise<void> {
  const log = await AuditLog.open({ db, chainId, signingKey, subjectKey, checkpointEveryMs: 0 });
  for (let i = 1; i <= 4; i++) await log.append(event(i));
  await log.checkpoint();
  for (let i = 5; i <= 10; i++) await log.append(event(i));
  await log.checkpoint();
  for (let i = 11; i <= 12; i++) await log.append(event(i));
  await log.flush();
}

async function rows(q: Query, chainId: string): Promise<AuditRecord[]> {
  const { rows } = await q('select * from audit_event where chain_id = $1 order by seq', [chainId]);
  return rows.map(recordFromRow);
}

/** Rewrites `from`..end with correct links and hashes, as someone who knows the (public) algorithm would. */
async function rehash(q: Query, chainId: string, from: number, change: (r: AuditRecord) => AuditRecord): Promise<void> {
  const all = await rows(q, chainId);
  let prev = all.find((r) => r.seq === from - 1)!.hash;
  for (const original of all.filter((r) => r.seq >= from)) {
    const changed = original.seq === from ? change(original) : original;
    const next = { ...changed, prevHash: prev };
    const hash = eventHash(next);
    await q('update audit_event set actor_sub = $1, prev_hash = $2, hash = $3 where chain_id = $4 and seq = $5', [
      next.actorSub,
      prev,
      hash,
      chainId,
      original.seq,
    ]);
    prev = hash;
  }
  // A careful attacker also moves the registry's head hash.
  await q('update audit_chain set head_hash = $1 where chain_id = $2', [prev, chainId]);
}

describe.each(BACKENDS)('audit verification on %s', (backend) => {
  let store: Store;
  let n = 0;
  const fresh = async (name: string): Promise<string> => {
    const chainId = `${backend}-${name}-${++n}`;
    await buildChain(store.db, chainId);
    return chainId;
  };
  const check = async (chainId: string): Promise<ChainIntegrity> => {
    const report = await verifyAudit(store.db, trusted);
    const chain = report.chains.find((c) => c.chainId === chainId);
    expect(chain).toBeDefined();
    if (!chain!.intact) expect(report.intact).toBe(false);
    return chain!;
  };
  const expectProblem = async (chainId: string, seq: number, kind: string): Promise<void> => {
    const chain = await check(chainId);
    expect(chain.intact).toBe(false);
    expect(chain.firstProblem).toMatchObject({ chainId, seq, kind });
  };

  beforeAll(async () => {
    store = await openStore(backend);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('finds an untouched trail intact, and reports the unsigned tail as information', async () => {
    const a = await fresh('intact');
    const b = await fresh('intact');
    const report = await verifyAudit(store.db, trusted);
    expect(report.intact).toBe(true);
    expect(report.firstProblem).toBeUndefined();
    for (const id of [a, b]) {
      expect(report.chains.find((c) => c.chainId === id)).toMatchObject({
        intact: true,
        events: 12,
        firstSeq: 1,
        lastSeq: 12,
        checkpoints: 2,
        lastCheckpointSeq: 10,
        unsignedTail: 2,
      });
    }
  });

  it('detects an altered field', async () => {
    const id = await fresh('altered');
    await store.attack((q) => q(`update audit_event set purpose = 'grid-inspection' where chain_id = $1 and seq = 5`, [id]).then(() => {}));
    await expectProblem(id, 5, 'altered');
  });

  it('detects an event deleted from the middle', async () => {
    const id = await fresh('deleted');
    await store.attack((q) => q('delete from audit_event where chain_id = $1 and seq = 6', [id]).then(() => {}));
    await expectProblem(id, 6, 'deleted');
  });

  it('detects an inserted event, even one with a correct hash and link', async () => {
    const id = await fresh('inserted');
    await store.attack(async (q) => {
      const all = await rows(q, id);
      const before = all.find((r) => r.seq === 6)!;
      const original = all.find((r) => r.seq === 7)!;
      const forged = { ...original, actorSub: 'ghost', time: new Date(original.time.getTime() + 1), prevHash: before.hash };
      const hash = eventHash(forged);
      await q(
        `insert into audit_event select chain_id, seq, prev_hash, $1, "time" + interval '1 millisecond', started_at, duration_ms, 'ghost',
           actor_org, actor_roles, purpose, operation_type, operation_name, operation_hash, fields, decision, reason, "rows",
           subject_hashes, change, request_id, instance from audit_event where chain_id = $2 and seq = 7`,
        [hash, id],
      );
    });
    await expectProblem(id, 7, 'inserted');
  });

  it('detects an event appended beyond the chain head', async () => {
    const id = await fresh('appended');
    await store.attack(async (q) => {
      const last = (await rows(q, id)).at(-1)!;
      const forged = { ...last, seq: 13, prevHash: last.hash, actorSub: 'ghost' };
      await q(
        `insert into audit_event select chain_id, 13, $1, $2, "time", started_at, duration_ms, 'ghost', actor_org, actor_roles, purpose,
           operation_type, operation_name, operation_hash, fields, decision, reason, "rows", subject_hashes, change, request_id, instance
           from audit_event where chain_id = $3 and seq = 12`,
        [last.hash, eventHash(forged), id],
      );
    });
    await expectProblem(id, 13, 'inserted');
  });

  it('detects two swapped events', async () => {
    const id = await fresh('swapped');
    await store.attack(async (q) => {
      await q('update audit_event set seq = -5 where chain_id = $1 and seq = 5', [id]);
      await q('update audit_event set seq = 5 where chain_id = $1 and seq = 6', [id]);
      await q('update audit_event set seq = 6 where chain_id = $1 and seq = -5', [id]);
    });
    await expectProblem(id, 5, 'reordered');
  });

  it('detects two events whose contents were swapped in place', async () => {
    const id = await fresh('swapped-content');
    // Everything but the chain columns (seq, prev_hash, hash) trades places.
    const content = `"time", started_at, duration_ms, actor_sub, actor_org, actor_roles, purpose, operation_type, operation_name,
      operation_hash, fields, decision, reason, "rows", subject_hashes, change, request_id, instance`;
    await store.attack(async (q) => {
      await q(`create temporary table swap as select seq, ${content} from audit_event where chain_id = $1 and seq in (8, 9)`, [id]);
      await q(
        `update audit_event e set (${content}) = (select ${content} from swap s where s.seq = 17 - e.seq)
          where chain_id = $1 and seq in (8, 9)`,
        [id],
      );
      await q('drop table swap');
    });
    await expectProblem(id, 8, 'reordered');
  });

  it('detects a chain rewritten and re-hashed without the signing key', async () => {
    const id = await fresh('rehashed');
    await store.attack((q) => rehash(q, id, 5, (r) => ({ ...r, actorSub: 'scapegoat' })));
    await expectProblem(id, 5, 'rehashed');
  });

  it('detects a re-hashed chain whose checkpoint was re-signed with another key, or edited', async () => {
    const resigned = await fresh('resigned');
    const edited = await fresh('edited-checkpoint');
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
    await store.attack(async (q) => {
      await rehash(q, resigned, 5, (r) => ({ ...r, actorSub: 'scapegoat' }));
      const head = (await rows(q, resigned)).find((r) => r.seq === 10)!;
      const forged = { chainId: resigned, seq: 10, headHash: head.hash, signedAt: new Date(), kind: 'periodic', keyId: publicKeyFingerprint(publicKey) };
      const signature = crypto.sign(null, Buffer.from(checkpointPayload(forged)), privateKey).toString('base64');
      await q('update audit_checkpoint set head_hash = $1, key_id = $2, signature = $3 where chain_id = $4 and seq = 10', [
        head.hash,
        forged.keyId,
        signature,
        resigned,
      ]);

      await rehash(q, edited, 5, (r) => ({ ...r, actorSub: 'scapegoat' }));
      const head2 = (await rows(q, edited)).find((r) => r.seq === 10)!;
      await q('update audit_checkpoint set head_hash = $1 where chain_id = $2 and seq = 10', [head2.hash, edited]);
    });
    await expectProblem(resigned, 10, 'bad-signature');
    await expectProblem(edited, 10, 'bad-signature');
  });

  it('detects a deleted tail, behind the last checkpoint or not', async () => {
    const unsigned = await fresh('tail-unsigned');
    const signed = await fresh('tail-signed');
    await store.attack(async (q) => {
      await q('delete from audit_event where chain_id = $1 and seq > 10', [unsigned]);
      await q('delete from audit_event where chain_id = $1 and seq > 8', [signed]);
      await q('update audit_chain set head_seq = 8 where chain_id = $1', [signed]); // the registry "fixed" too
    });
    await expectProblem(unsigned, 11, 'deleted');
    await expectProblem(signed, 9, 'deleted');
  });

  it('detects events deleted from the start of a chain', async () => {
    const id = await fresh('head-deleted');
    await store.attack((q) => q('delete from audit_event where chain_id = $1 and seq <= 2', [id]).then(() => {}));
    await expectProblem(id, 1, 'deleted');
  });

  it('flags a long unsigned tail (checkpoints removed) but not a short one', async () => {
    const id = `${backend}-long-tail`;
    let clock = new Date(Date.now() - 3_600_000);
    const log = await AuditLog.open({ db: store.db, chainId: id, signingKey, subjectKey, checkpointEveryMs: 0, now: () => clock });
    for (let i = 0; i < 5; i++) {
      await log.append(event(i));
      clock = new Date(clock.getTime() + 60_000);
    }
    await log.flush();
    await expectProblem(id, 1, 'unsigned-tail');
  });

  it('trusts only the given public key', async () => {
    const id = await fresh('other-key');
    const other = crypto.generateKeyPairSync('ed25519').publicKey;
    const report = await verifyAudit(store.db, other);
    expect(report.chains.find((c) => c.chainId === id)?.firstProblem).toMatchObject({ kind: 'bad-signature', seq: 4 });
  });

  it('accepts a chain whose old month was exported and detached, anchored by its month-end checkpoint', async () => {
    const id = `${backend}-archived`;
    const m2 = monthStart(new Date(), 2);
    let clock = new Date(m2.getTime() + 5 * 86_400_000);
    const log = await AuditLog.open({ db: store.db, chainId: id, signingKey, subjectKey, checkpointEveryMs: 0, now: () => clock });
    for (let i = 1; i <= 3; i++) await log.append(event(i));
    clock = new Date(monthStart(m2, 1).getTime() + 3_600_000);
    for (let i = 4; i <= 5; i++) await log.append(event(i));
    await log.close();
    const partition = auditPartitionName(m2);
    await sql`alter table audit_event detach partition ${sql.table(partition)}`.execute(store.db);
    try {
      const chain = await check(id);
      expect(chain).toMatchObject({ intact: true, events: 2, firstSeq: 4, archivedThrough: 3 });
    } finally {
      await sql`alter table audit_event attach partition ${sql.table(partition)}
        for values from (${sql.lit(m2.toISOString())}) to (${sql.lit(monthStart(m2, 1).toISOString())})`.execute(store.db);
    }
  });

  it('keeps memory flat by streaming in batches (small batch size, same verdicts)', async () => {
    const id = await fresh('batched');
    await store.attack((q) => q(`update audit_event set "rows" = 99 where chain_id = $1 and seq = 9`, [id]).then(() => {}));
    const report = await verifyAudit(store.db, trusted, { batchSize: 2 });
    expect(report.chains.find((c) => c.chainId === id)?.firstProblem).toMatchObject({ seq: 9, kind: 'altered' });
  });
});

// ---------------------------------------------------------------------------------------------

function runCli(env: Record<string, string>): { status: number | null; out: string } {
  const result = spawnSync('npx', ['tsx', 'gateway/cli/audit-verify.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: '', AUDIT_SIGNING_KEY: '', AUDIT_SUBJECT_KEY: '', INSTANCE_ID: '', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

describe('npm run audit:verify on an embedded data directory', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lianqiao-audit-cli-'));
  const env = { DATA_DIR: dataDir };

  async function withStore(fn: (db: Kysely<any>, pglite: PGlite) => Promise<void>): Promise<void> {
    const pglite = await openPglite(dataDir);
    const db = pgliteDatabase(pglite);
    try {
      await fn(db, pglite);
    } finally {
      await db.destroy().catch(() => {});
      if (!pglite.closed) await pglite.close();
    }
  }

  it('exits 2 when there is no store to check', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'lianqiao-audit-cli-empty-'));
    loadSigningKey(path.join(empty, 'audit-signing-key.pem'), { create: true });
    const { status, out } = runCli({ DATA_DIR: empty });
    expect(status).toBe(2);
    expect(out).toMatch(/could not check/);
  });

  // Four CLI processes (tsx each): on a loaded machine that alone takes more than the default minute.
  it('exits 0 on an intact trail, 1 naming the first bad record once tampered, 2 when it cannot check', { timeout: 240_000 }, async () => {
    await withStore(async (db) => {
      await migrateStore(db);
      const key = loadSigningKey(path.join(dataDir, 'audit-signing-key.pem'), { create: true });
      const subject = loadSubjectKey(path.join(dataDir, 'audit-subject-key'), { create: true });
      const log = await AuditLog.open({ db, chainId: 'gw-cli', signingKey: key, subjectKey: subject, checkpointEveryMs: 0 });
      for (let i = 1; i <= 8; i++) await log.append(event(i));
      await log.close();
    });

    const intact = runCli(env);
    expect(intact.out).toMatch(/INTACT/);
    expect(intact.status).toBe(0);

    await withStore(async (_db, pglite) => {
      await pglite.exec('set session_replication_role = replica');
      await pglite.query(`update audit_event set actor_sub = 'someone-else' where chain_id = 'gw-cli' and seq = 3`);
    });
    const tampered = runCli(env);
    expect(tampered.status).toBe(1);
    expect(tampered.out).toMatch(/chain gw-cli seq 3 \(altered\)/);

    // A live gateway holds the directory: refuse to open it behind its back.
    fs.writeFileSync(path.join(dataDir, 'gateway.pid'), String(process.pid));
    const busy = runCli(env);
    expect(busy.status).toBe(2);
    expect(busy.out).toMatch(/stop it first|auditIntegrity/);
    fs.rmSync(path.join(dataDir, 'gateway.pid'));

    // Without the trusted public key file there is nothing to check signatures against.
    const pub = path.join(dataDir, 'audit-signing-key.pem.pub');
    fs.renameSync(pub, `${pub}.away`);
    const noKey = runCli(env);
    expect(noKey.status).toBe(2);
    expect(noKey.out).toMatch(/public key/);
    fs.renameSync(`${pub}.away`, pub);
  });
});

describe.runIf(BACKENDS.includes('postgres'))('npm run audit:verify on PostgreSQL', () => {
  it('exits 0 on an intact trail and 1 naming the first bad record once tampered', async () => {
    const fresh = await freshDatabase('lianqiao_audit_cli');
    const pool = new pg.Pool({ connectionString: fresh.url, max: 2 });
    pool.on('connect', (client) => client.on('error', () => {}));
    pool.on('error', () => {});
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
    try {
      await migrateStore(db);
      const log = await AuditLog.open({ db, chainId: 'gw-pg-cli', signingKey, subjectKey, checkpointEveryMs: 0 });
      for (let i = 1; i <= 8; i++) await log.append(event(i));
      await log.close();
      const env = { DATABASE_URL: fresh.url, JWT_SECRET: TEST_SECRET, AUDIT_SIGNING_KEY: signingKeyFile };
      const intact = runCli(env);
      expect(intact.out).toMatch(/INTACT/);
      expect(intact.status).toBe(0);

      const client = new pg.Client({ connectionString: fresh.url });
      await client.connect();
      await client.query('set session_replication_role = replica');
      await client.query(`delete from audit_event where chain_id = 'gw-pg-cli' and seq = 4`);
      await client.end();
      const tampered = runCli(env);
      expect(tampered.status).toBe(1);
      expect(tampered.out).toMatch(/chain gw-pg-cli seq 4 \(deleted\)/);
    } finally {
      await db.destroy().catch(() => {});
      await fresh.drop();
    }
  });
});
