/**
 * Several instances starting together on a fresh store all load the policy files: each must
 * succeed, and the store must hold each grant and policy line once.
 */
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { migrateStore } from '../../gateway/store/databases.ts';
import { PolicyStore } from '../../policies/policy-store.ts';
import { loadPolicyDirectory } from '../../policies/policy-files/load-policy-directory.ts';
import { openBackendDatabase } from '../backends.ts';

describe.runIf(!!process.env.TEST_DATABASE_URL)('policy files synced by instances starting together (real PostgreSQL)', () => {
  it('four concurrent syncs on a fresh store all succeed and store each grant and line once', async () => {
    const { db, close } = await openBackendDatabase('postgres', 'lianqiao_sync');
    try {
      await migrateStore(db);
      const { set, problems } = await loadPolicyDirectory();
      expect(problems).toEqual([]);
      // One store object per "instance"; the pool gives each sync its own connection.
      const results = await Promise.allSettled(Array.from({ length: 4 }, () => new PolicyStore(db).syncFromFiles(set.duties, set.grants)));
      expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      // Exactly one of them found work to do.
      expect(results.map((r) => (r as PromiseFulfilledResult<boolean>).value).filter(Boolean)).toHaveLength(1);
      const grants = await sql<{ n: string }>`select count(*)::text as n from "grant"`.execute(db);
      expect(Number(grants.rows[0]!.n)).toBe(set.grants.length);
      const lines = await sql<{ n: string; d: string }>`
        select count(*)::text as n, count(distinct (ptype, v0, v1, v2, v3, v4, v5))::text as d from casbin_rule`.execute(db);
      expect(Number(lines.rows[0]!.n)).toBeGreaterThan(0);
      expect(lines.rows[0]!.n).toBe(lines.rows[0]!.d);
    } finally {
      await close();
    }
  });
});

describe.runIf(!!process.env.TEST_DATABASE_URL)('the policy store finds a grant\'s lines by index (real PostgreSQL)', () => {
  it('deleting a grant\'s lines and sweeping open emergency sessions use their indexes, not a scan', async () => {
    const { db, close } = await openBackendDatabase('postgres', 'lianqiao_policy_index');
    try {
      await migrateStore(db);
      // Enough lines that a scan would cost more than the index, and fresh statistics for the planner.
      await sql`insert into casbin_rule (ptype, v0, v1, v2, v3, v4, v5)
        select 'p', 'street:' || (g % 500), 'duty-' || (g % 40), 'population', 'name', 'full', 'grant-' || g
        from generate_series(1, 20000) g`.execute(db);
      await sql`analyze casbin_rule`.execute(db);
      await sql`analyze emergency_session`.execute(db);
      const plan = async (statement: ReturnType<typeof sql>) =>
        (await sql<{ 'QUERY PLAN': string }>`explain ${statement}`.execute(db)).rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(await plan(sql`delete from casbin_rule where v5 = 'grant-77'`)).toMatch(/casbin_rule_v5/);
      await sql`set enable_seqscan = off`.execute(db);
      expect(await plan(sql`select id from emergency_session where ended_at is null and expires_at <= now()`)).toMatch(/emergency_session_open/);
    } finally {
      await close();
    }
  });
});
