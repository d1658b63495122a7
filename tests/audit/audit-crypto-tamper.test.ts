/**
 * Tampering is detected under both algorithm sets (SHA-256 + Ed25519, SM3 + SM2), on every
 * backend: an edited field, a deleted or inserted event, a reordering, a chain re-hashed by someone
 * without the signing key, an algorithm swapped on stored events, and a forged checkpoint. The
 * verifier also says which algorithms it checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { CompiledQuery, sql } from 'kysely';
import { AuditLog } from '../../audit/audit-writer.ts';
import { eventHash } from '../../audit/audit-encoding.ts';
import { recordFromRow, type AuditRecord } from '../../audit/audit-rows.ts';
import { verifyAudit } from '../../audit/audit-verifier.ts';
import { signCheckpoint } from '../../audit/audit-checkpoint.ts';
import type { AuditEventInput } from '../../audit/audit-event.ts';
import type { HashAlgorithm, SignatureAlgorithm } from '../../audit/audit-crypto.ts';
import { BACKENDS } from '../backends.ts';
import { auditTestKeys, openAuditStore, type AuditTestKeys, type AuditTestStore } from './audit-fixtures.ts';

type Query = (text: string, params?: unknown[]) => Promise<{ rows: any[] }>;

const SUITES: readonly { name: string; signature: SignatureAlgorithm; hash: HashAlgorithm; labels: string[] }[] = [
  { name: 'SHA-256 + Ed25519', signature: 'ed25519', hash: 'sha256', labels: ['SHA-256', 'Ed25519'] },
  { name: 'SM3 + SM2', signature: 'sm2', hash: 'sm3', labels: ['SM3', 'SM2'] },
];

function event(i: number): AuditEventInput {
  return {
    time: new Date(),
    durationMs: 2,
    actor: { sub: `staff-${i}`, org: 'street:310104003', roles: ['street_staff'] },
    purpose: 'rental-registration',
    operationType: 'query',
    operationName: `Op${i}`,
    operationHash: 'b'.repeat(64),
    fields: ['housing.address'],
    decision: 'allow',
    reason: 'grants: g-2',
    rows: 1,
    subjects: [`31010419800101${String(1000 + i)}`],
    requestId: `r-${i}`,
  };
}

describe.each(BACKENDS)('tamper detection on %s', (backend) => {
  let store: AuditTestStore;

  beforeAll(async () => {
    store = await openAuditStore(backend, 'lianqiao_crypto_tamper');
  }, 60_000);
  afterAll(async () => {
    await store?.close();
  });

  /** Runs `fn` as an attacker with superuser rights: triggers off (session_replication_role = replica). */
  async function attack(fn: (q: Query) => Promise<unknown>): Promise<void> {
    if (!store.url) {
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
  }

  describe.each(SUITES)('with $name', (suite) => {
    let keys: AuditTestKeys;
    let counter = 0;

    beforeAll(() => {
      keys = auditTestKeys(`tamper-${suite.signature}`, suite.signature);
    });

    /** Twelve events, checkpoints signed at 4 and 10, an unsigned tail of two. */
    async function chain(label: string): Promise<string> {
      const chainId = `${suite.signature}-${label}-${++counter}`;
      const log = await AuditLog.open({ db: store.db, chainId, signingKey: keys.signingKey, subjectKey: keys.subjectKey, checkpointEveryMs: 0 });
      for (let i = 1; i <= 4; i++) await log.append(event(i));
      await log.checkpoint();
      for (let i = 5; i <= 10; i++) await log.append(event(i));
      await log.checkpoint();
      for (let i = 11; i <= 12; i++) await log.append(event(i));
      await log.flush();
      return chainId;
    }

    const verdict = async (chainId: string) => {
      const report = await verifyAudit(store.db, keys.trusted);
      return report.chains.find((c) => c.chainId === chainId)!;
    };
    const stored = async (q: Query, chainId: string): Promise<AuditRecord[]> =>
      (await q('select * from audit_event where chain_id = $1 order by seq', [chainId])).rows.map(recordFromRow);

    it('hashes with the suite, records it, and verifies intact naming the algorithms', async () => {
      const id = await chain('intact');
      const { rows } = await sql<{ hash_alg: string | null; n: string }>`
        select hash_alg, count(*) as n from audit_event where chain_id = ${id} group by hash_alg`.execute(store.db);
      expect(rows.map((r) => r.hash_alg)).toEqual([suite.hash === 'sha256' ? null : 'sm3']);
      const cps = await sql<{ key_id: string }>`select key_id from audit_checkpoint where chain_id = ${id}`.execute(store.db);
      for (const cp of cps.rows) expect(cp.key_id.startsWith(`${suite.signature}:`)).toBe(true);
      const c = await verdict(id);
      expect(c).toMatchObject({ intact: true, events: 12, checkpoints: 2, hashAlgorithms: [suite.hash], signatureAlgorithms: [suite.signature] });
      const report = await verifyAudit(store.db, keys.trusted);
      for (const label of suite.labels) expect(report.algorithms).toContain(label);
    });

    it('detects an edited field', async () => {
      const id = await chain('edit');
      await attack((q) => q(`update audit_event set actor_sub = 'someone-else' where chain_id = $1 and seq = 6`, [id]));
      expect((await verdict(id)).firstProblem).toMatchObject({ seq: 6, kind: 'altered' });
    });

    it('detects a deleted event', async () => {
      const id = await chain('delete');
      await attack((q) => q(`delete from audit_event where chain_id = $1 and seq = 7`, [id]));
      expect((await verdict(id)).firstProblem).toMatchObject({ seq: 7, kind: 'deleted' });
    });

    it('detects an inserted event', async () => {
      const id = await chain('insert');
      await attack((q) =>
        q(
          `insert into audit_event select chain_id, seq, prev_hash, hash, "time" + interval '1 millisecond', started_at, duration_ms, actor_sub, actor_org,
             actor_roles, purpose, operation_type, 'Injected', operation_hash, fields, decision, reason, "rows", subject_hashes,
             change, request_id, instance, hash_alg from audit_event where chain_id = $1 and seq = 5`,
          [id],
        ),
      );
      expect((await verdict(id)).firstProblem).toMatchObject({ seq: 5, kind: 'inserted' });
    });

    it('detects two events swapped', async () => {
      const id = await chain('reorder');
      await attack(async (q) => {
        await q(`update audit_event set seq = -1 where chain_id = $1 and seq = 5`, [id]);
        await q(`update audit_event set seq = 5 where chain_id = $1 and seq = 6`, [id]);
        await q(`update audit_event set seq = 6 where chain_id = $1 and seq = -1`, [id]);
      });
      expect((await verdict(id)).firstProblem).toMatchObject({ seq: 5, kind: 'reordered' });
    });

    it('detects a chain re-hashed with the right algorithm but without the signing key', async () => {
      const id = await chain('rehash');
      await attack(async (q) => {
        const all = await stored(q, id);
        let prev = all.find((r) => r.seq === 2)!.hash;
        for (const original of all.filter((r) => r.seq >= 3)) {
          const next = { ...original, actorSub: original.seq === 3 ? 'someone-else' : original.actorSub, prevHash: prev };
          const hash = eventHash(next);
          await q('update audit_event set actor_sub = $1, prev_hash = $2, hash = $3 where chain_id = $4 and seq = $5', [
            next.actorSub,
            prev,
            hash,
            id,
            original.seq,
          ]);
          prev = hash;
        }
        await q('update audit_chain set head_hash = $1 where chain_id = $2', [prev, id]);
      });
      expect((await verdict(id)).firstProblem).toMatchObject({ seq: 1, kind: 'rehashed' });
    });

    it('detects the other hash algorithm swapped in, even when re-hashed consistently', async () => {
      const id = await chain('swap');
      const other: HashAlgorithm = suite.hash === 'sha256' ? 'sm3' : 'sha256';
      // Only the column changed: the event's hash no longer matches.
      await attack((q) => q(`update audit_event set hash_alg = $1 where chain_id = $2 and seq = 11`, [other === 'sha256' ? null : other, id]));
      expect((await verdict(id)).firstProblem).toMatchObject({ seq: 11, kind: 'altered' });
      // The whole chain re-hashed under the other algorithm: the signed checkpoints refuse it.
      const id2 = await chain('swap-all');
      await attack(async (q) => {
        let prev = '0'.repeat(64);
        for (const original of await stored(q, id2)) {
          const next = { ...original, hashAlg: other, prevHash: prev };
          const hash = eventHash(next);
          await q('update audit_event set hash_alg = $1, prev_hash = $2, hash = $3 where chain_id = $4 and seq = $5', [
            other === 'sha256' ? null : other,
            prev,
            hash,
            id2,
            original.seq,
          ]);
          prev = hash;
        }
        await q('update audit_chain set head_hash = $1 where chain_id = $2', [prev, id2]);
      });
      expect((await verdict(id2)).firstProblem).toMatchObject({ seq: 1, kind: 'rehashed' });
    });

    it('detects a checkpoint forged with another key of the same algorithm', async () => {
      const id = await chain('forged');
      const intruder = auditTestKeys(`intruder-${suite.signature}`, suite.signature).signingKey;
      await attack(async (q) => {
        const cp = (await q(`select * from audit_checkpoint where chain_id = $1 and seq = 10`, [id])).rows[0];
        const unsigned = { chainId: id, seq: 10, headHash: String(cp.head_hash), signedAt: new Date(cp.signed_at), kind: String(cp.kind), keyId: keys.signingKey.keyId };
        await q(`update audit_checkpoint set signature = $1 where chain_id = $2 and seq = 10`, [signCheckpoint(unsigned, intruder), id]);
      });
      expect((await verdict(id)).firstProblem).toMatchObject({ seq: 10, kind: 'bad-signature' });
    });
  });
});
