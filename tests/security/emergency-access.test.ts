/**
 * Emergency access attacked through the real gateway, on PGlite and real PostgreSQL. Each attempt
 * must be a clear error and read nothing (no source query is sent): a session of another user or
 * street, a session sent under another duty, an ended or expired session, a guessed id, fields
 * outside the emergency list; a session for one person must return that person's rows only, with
 * the restriction pushed into the source query; nobody reviews their own session; one open session
 * per user, even when the starts race; a per-street hourly budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { BACKENDS, createTestGateway, NANJING_EAST, THE_BUND, type TestGateway } from '../setup.ts';
import type { Role } from '../../core/identity.ts';
import { emergencyCall, REASON, START } from '../integration/emergency-fixtures.ts';

const staff = (sub: string, org = NANJING_EAST) => ({ sub, org, roles: ['street_staff'] as Role[] });
const LIMIT = 6;

for (const backend of BACKENDS) {
  describe(`emergency access under attack (${backend})`, () => {
    let gw: TestGateway;
    let call: ReturnType<typeof emergencyCall>;
    const queries: { source: string; sql: string; parameters: readonly unknown[] }[] = [];
    let alice: string;
    let session: string;
    /** Two persons of Nanjing East the duty may see (aged 65+). */
    let p1: string;
    let p2: string;

    const start = async (token: string, variables: Record<string, unknown> = {}) =>
      call(token, START, { variables: { duty: 'elderly-allowance', reason: REASON, caseRef: 'CASE-A', ...variables } });

    /** Runs `fn` and returns the source queries it caused. */
    const sourceQueriesOf = async <T>(fn: () => Promise<T>): Promise<{ result: T; sent: typeof queries }> => {
      const before = queries.length;
      const result = await fn();
      return { result, sent: queries.slice(before) };
    };

    beforeAll(async () => {
      gw = await createTestGateway({
        backend,
        persons: 400,
        env: { EMERGENCY_STARTS_PER_STREET_PER_HOUR: String(LIMIT) },
        onSourceQuery: (source, q) => queries.push({ source, ...q }),
      });
      call = emergencyCall(gw);
      alice = await gw.token(staff('alice'));
      const people = await call(alice, `{ people(first: 2, orderBy: { field: idNumber, direction: ASC }) { edges { node { idNumber } } } }`, { purpose: 'elderly-allowance' });
      [p1, p2] = people.body.data.people.edges.map((e: { node: { idNumber: string } }) => e.node.idNumber);
      expect(p1 && p2).toBeTruthy();
      const r = await start(alice);
      session = r.body.data.startEmergencyAccess.id;
    });
    afterAll(async () => {
      await gw?.close();
    });

    const PHONE = `{ people(first: 5) { edges { node { idNumber phone } } } }`;

    /** The attempt is FORBIDDEN, carries no data, and sent nothing to any source. */
    const refusedWithoutReading = async (token: string, headers: { purpose?: string; emergency?: string }, message?: string) => {
      const { result, sent } = await sourceQueriesOf(() => call(token, PHONE, headers));
      expect(result.body.data ?? null).toBeNull();
      expect(result.body.errors[0].extensions.code).toBe('FORBIDDEN');
      if (message) expect(result.body.errors[0].message).toContain(message);
      expect(sent).toEqual([]);
      return result;
    };

    it('the session works for its own user (the baseline the attacks are measured against)', async () => {
      const r = await call(alice, PHONE, { purpose: 'elderly-allowance', emergency: session });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data.people.edges.length).toBeGreaterThan(0);
    });

    it("another user of the same street cannot use it", async () => {
      await refusedWithoutReading(await gw.token(staff('bob')), { purpose: 'elderly-allowance', emergency: session }, 'no emergency session of yours');
    });

    it('a clerk of another street cannot use it, even one with the same user id', async () => {
      await refusedWithoutReading(await gw.token(staff('carol', THE_BUND)), { purpose: 'elderly-allowance', emergency: session });
      await refusedWithoutReading(await gw.token(staff('alice', THE_BUND)), { purpose: 'elderly-allowance', emergency: session });
    });

    it('a user with the same id but another role cannot use it', async () => {
      await refusedWithoutReading(await gw.token({ sub: 'alice', org: NANJING_EAST, roles: ['street_admin'] }), { purpose: 'elderly-allowance', emergency: session });
    });

    it('it does not widen another duty', async () => {
      await refusedWithoutReading(alice, { purpose: 'minimum-living-assistance', emergency: session }, 'is for duty "elderly-allowance"');
    });

    it('a guessed or malformed id is refused like someone else\'s session, and the attempt is flagged in the trail', async () => {
      const guessed = crypto.randomUUID();
      await refusedWithoutReading(alice, { purpose: 'elderly-allowance', emergency: guessed }, 'no emergency session of yours');
      await refusedWithoutReading(alice, { purpose: 'elderly-allowance', emergency: "' or 1=1 --" }, 'no emergency session of yours');
      const { rows } = await sql<Record<string, any>>`select decision, "rows", fields, change from audit_event where change->'emergency'->>'session' = ${guessed}`.execute(gw.runtime.databases.store);
      expect(rows).toEqual([{ decision: 'deny', rows: 0, fields: ['population.idNumber', 'population.phone'], change: { emergency: { session: guessed, caseRef: null, refused: true } } }]);
    });

    it('fields outside the emergency list are refused, naming them', async () => {
      const { result, sent } = await sourceQueriesOf(() => call(alice, `{ people(first: 5) { edges { node { phone ethnicity } } } }`, { purpose: 'elderly-allowance', emergency: session }));
      expect(result.body.errors[0].extensions.code).toBe('FORBIDDEN');
      expect(result.body.errors[0].extensions.forbiddenFields).toEqual(['population.ethnicity']);
      expect(sent).toEqual([]);
      // Not on another dataset either: the clause widens population only.
      const ss = await call(alice, `{ people(first: 1) { edges { node { socialSecurity { monthlyPension } } } } }`, { purpose: 'elderly-allowance', emergency: session });
      expect(ss.body.errors[0].extensions.forbiddenFields).toEqual(['social_security.monthlyPension']);
    });

    it('nobody reviews their own session, whatever role they hold besides', async () => {
      const review = `mutation($id: ID!) { reviewEmergencyAccess(id: $id, verdict: JUSTIFIED, note: "fine") { id } }`;
      for (const roles of [['data_owner'], ['auditor']] as Role[][]) {
        const self = await gw.token({ sub: 'alice', org: roles[0] === 'auditor' ? 'office:security' : 'dept:public-security', roles });
        const r = await call(self, review, { variables: { id: session } });
        expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
        expect(r.body.errors[0].message).toContain('their own');
      }
      const clerk = await call(alice, review, { variables: { id: session } });
      expect(clerk.body.errors[0].extensions.code).toBe('FORBIDDEN');
      const { rows } = await sql<{ reviewed_at: unknown }>`select reviewed_at from emergency_session where id = ${session}`.execute(gw.runtime.databases.store);
      expect(rows[0]!.reviewed_at).toBeNull();
    });

    it('an expired session widens nothing and cannot be ended', async () => {
      await sql`update emergency_session set expires_at = now() - interval '1 second' where id = ${session}`.execute(gw.runtime.databases.store);
      await refusedWithoutReading(alice, { purpose: 'elderly-allowance', emergency: session }, 'has expired');
      const end = await call(alice, `mutation($id: ID!) { endEmergencyAccess(id: $id) { id } }`, { variables: { id: session } });
      expect(end.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    });

    it('a session for one person returns that person only, restricted in the source query', async () => {
      const r = await start(alice, { subject: p1 });
      expect(r.body.errors).toBeUndefined();
      const forP1 = r.body.data.startEmergencyAccess.id as string;
      const headers = { purpose: 'elderly-allowance', emergency: forP1 };
      const { result, sent } = await sourceQueriesOf(() => call(alice, `{ people(first: 50) { totalCount edges { node { idNumber phone } } } }`, headers));
      expect(result.body.errors).toBeUndefined();
      expect(result.body.data.people.totalCount).toBe(1);
      expect(result.body.data.people.edges.map((e: { node: { idNumber: string } }) => e.node.idNumber)).toEqual([p1]);
      const population = sent.filter((q) => q.source === 'population');
      expect(population.length).toBeGreaterThan(0);
      for (const q of population) expect(q.parameters).toContain(p1);

      // Their account is there (the restriction reaches the social-security source too); following
      // Person.socialSecurity is refused like any relation into a dataset narrowed by a condition.
      const own = await call(alice, `query($id: ID!) { socialSecurityAccount(idNumber: $id) { pensionStatus } }`, { ...headers, variables: { id: p1 } });
      expect(own.body.errors, JSON.stringify(own.body.errors)).toBeUndefined();
      expect(own.body.data.socialSecurityAccount).not.toBeNull();
      const related = await call(alice, `query($id: ID!) { person(idNumber: $id) { socialSecurity { pensionStatus } } }`, { ...headers, variables: { id: p1 } });
      expect(related.body.errors[0].extensions.forbiddenFields).toEqual(['population.socialSecurity']);
      // ... but the other person, asked for directly, by filter, or through their account, does not exist.
      const other = await call(alice, `query($id: ID!) { person(idNumber: $id) { idNumber phone } socialSecurityAccount(idNumber: $id) { pensionStatus } }`, { ...headers, variables: { id: p2 } });
      expect(other.body.errors).toBeUndefined();
      expect(other.body.data).toEqual({ person: null, socialSecurityAccount: null });
      const filtered = await call(alice, `query($id: String!) { people(filter: { idNumber: { eq: $id } }) { totalCount } }`, { ...headers, variables: { id: p2 } });
      expect(filtered.body.data.people.totalCount).toBe(0);
      // Without the session the same person is there (the restriction is the session's, not the data's).
      const normal = await call(alice, `query($id: ID!) { person(idNumber: $id) { idNumber } }`, { purpose: 'elderly-allowance', variables: { id: p2 } });
      expect(normal.body.data.person).toEqual({ idNumber: p2 });
      await call(alice, `mutation($id: ID!) { endEmergencyAccess(id: $id) { id } }`, { variables: { id: forP1 } });
    });

    it('starting is for street staff, on a duty with an emergency clause, with a real reason', async () => {
      const owner = await gw.token({ sub: 'owner', org: 'dept:public-security', roles: ['data_owner'] });
      const cases: [string, Record<string, unknown>, string][] = [
        [owner, {}, 'FORBIDDEN'],
        [await gw.token({ sub: 'admin', org: NANJING_EAST, roles: ['street_admin'] }), {}, 'FORBIDDEN'],
        [alice, { duty: 'rental-registration' }, 'FORBIDDEN'], // no emergency clause
        [alice, { duty: 'illegal-construction' }, 'FORBIDDEN'], // not delegated to Nanjing East
        [alice, { duty: 'no-such-duty' }, 'FORBIDDEN'],
        [alice, { reason: 'x'.repeat(19) }, 'BAD_USER_INPUT'],
        [alice, { reason: '                         ' }, 'BAD_USER_INPUT'],
        [alice, { caseRef: '  ' }, 'BAD_USER_INPUT'],
        [alice, { minutes: 61 }, 'BAD_USER_INPUT'],
        [alice, { subject: '12345' }, 'BAD_USER_INPUT'],
      ];
      for (const [token, variables, code] of cases) {
        const r = await start(token, variables);
        expect({ variables, code: r.body.errors?.[0]?.extensions?.code }).toEqual({ variables, code });
      }
      const { rows } = await sql<{ n: string }>`select count(*)::bigint as n from emergency_session where user_sub in ('owner', 'admin') or (user_sub = 'alice' and ended_at is null and expires_at > now())`.execute(gw.runtime.databases.store);
      expect(Number(rows[0]!.n)).toBe(0);
    });

    it('one open session per user, even when starts race', async () => {
      const dave = await gw.token(staff('dave'));
      const results = await Promise.all(Array.from({ length: 4 }, () => start(dave)));
      const ok = results.filter((r) => !r.body.errors);
      expect(ok).toHaveLength(1);
      for (const r of results.filter((x) => x.body.errors)) expect(r.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    });

    it('a street may start only so many sessions an hour; other streets are not affected', async () => {
      const { rows } = await sql<{ n: string }>`select count(*)::bigint as n from emergency_session where street = '310101002'`.execute(gw.runtime.databases.store);
      let used = Number(rows[0]!.n);
      let i = 0;
      while (used < LIMIT) {
        const r = await start(await gw.token(staff(`filler-${i++}`)));
        expect(r.body.errors).toBeUndefined();
        used++;
      }
      const over = await start(await gw.token(staff('eve')));
      expect(over.status).toBe(429);
      expect(over.body.errors[0].extensions.code).toBe('RATE_LIMITED');
      const elsewhere = await start(await gw.token(staff('frank', THE_BUND)));
      expect(elsewhere.body.errors).toBeUndefined();
    });

    it('when the audit log cannot take the START, no session is left open', async () => {
      const audit = gw.runtime.audit as unknown as Record<string, unknown>;
      const saved = { append: audit.append, appendWith: audit.appendWith };
      const fail = () => Promise.reject(new Error('audit down'));
      audit.append = fail;
      if (saved.appendWith) audit.appendWith = fail;
      const grace = await gw.token(staff('grace', THE_BUND));
      let r;
      try {
        r = await start(grace);
      } finally {
        audit.append = saved.append;
        if (saved.appendWith) audit.appendWith = saved.appendWith;
      }
      expect(r.status).toBe(503);
      expect(r.body.data ?? null).toBeNull();
      const mine = await call(grace, `{ myEmergencySession { id } }`);
      expect(mine.body.data.myEmergencySession).toBeNull();
      // And she can start one once the log is back: the failed start left nothing that blocks her.
      const again = await start(grace);
      expect(again.body.errors).toBeUndefined();
    });

    it('an UNJUSTIFIED review of a session still open ends it at once', async () => {
      const ivan = await gw.token(staff('ivan', THE_BUND));
      const r = await start(ivan);
      const id = r.body.data.startEmergencyAccess.id as string;
      const auditor = await gw.token({ sub: 'auditor-1', org: 'office:security', roles: ['auditor'] });
      const review = await call(auditor, `mutation($id: ID!) { reviewEmergencyAccess(id: $id, verdict: UNJUSTIFIED, note: "No emergency: a routine visit.") { state endedBy review { verdict } } }`, { variables: { id } });
      expect(review.body.data.reviewEmergencyAccess).toEqual({ state: 'ENDED', endedBy: 'auditor-1', review: { verdict: 'UNJUSTIFIED' } });
      await refusedWithoutReading(ivan, { purpose: 'elderly-allowance', emergency: id }, 'has ended');
      const { rows } = await sql<Record<string, any>>`select change from audit_event where change->>'action' = 'emergency-review' and change->>'session' = ${id}`.execute(gw.runtime.databases.store);
      expect(rows.map((x) => x.change.stopped)).toEqual([true]);
    });

    it('a grant withdrawn during a session stops its widening at once', async () => {
      const henry = await gw.token(staff('henry', THE_BUND));
      const r = await start(henry);
      expect(r.body.errors).toBeUndefined();
      const id = r.body.data.startEmergencyAccess.id as string;
      expect((await call(henry, PHONE, { purpose: 'elderly-allowance', emergency: id })).body.errors).toBeUndefined();
      const owner = await gw.token({ sub: 'owner-psb', org: 'dept:public-security', roles: ['data_owner'] });
      const revoked = await call(owner, `mutation { revokeGrant(id: "population-elderly-allowance") { id } }`);
      expect(revoked.body.errors).toBeUndefined();
      await refusedWithoutReading(henry, { purpose: 'elderly-allowance', emergency: id });
    });
  });
}
