/**
 * Emergency access (break-glass) through the real gateway, on PGlite and real PostgreSQL: a
 * session from its start to its review, with what it widens, what it leaves alone, the trail it
 * leaves (START, flagged reads, STOP, review), the anomaly, the review queue and the overdue list.
 * The adversarial cases (someone else's session, wrong street or duty, ended or expired, one
 * person's session used for another) are in tests/security/emergency-access.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { BACKENDS, createTestGateway, NANJING_EAST, type TestGateway } from '../setup.ts';
import type { Role } from '../../core/identity.ts';
import { emergencyCall, START, REASON } from './emergency-fixtures.ts';
import { isEmergencyRead } from '../../audit/emergency-read.ts';

const CLERK = { sub: 'clerk-nanjing-east', org: NANJING_EAST, roles: ['street_staff'] as Role[] };
const PSB_OWNER = { sub: 'owner-psb', org: 'dept:public-security', roles: ['data_owner'] as Role[] };
const HOUSING_OWNER = { sub: 'owner-housing', org: 'dept:housing', roles: ['data_owner'] as Role[] };
const AUDITOR = { sub: 'auditor-1', org: 'office:security', roles: ['auditor'] as Role[] };

const ELDERLY = `query Elderly { people(first: 50) { totalCount edges { node { idNumber age phone hukouAddress } } } }`;

for (const backend of BACKENDS) {
  describe(`emergency access (${backend})`, () => {
    let gw: TestGateway;
    let call: ReturnType<typeof emergencyCall>;
    let clerk: string;
    let sessionId: string;

    beforeAll(async () => {
      gw = await createTestGateway({ backend, persons: 400 });
      call = emergencyCall(gw);
      clerk = await gw.token(CLERK);
    });
    afterAll(async () => {
      await gw?.close();
    });

    const events = async (where: ReturnType<typeof sql>) =>
      (await sql<Record<string, any>>`select * from audit_event where ${where} order by "time", seq`.execute(gw.runtime.databases.store)).rows;

    it("the data owner's grants show their emergency clauses", async () => {
      const r = await call(await gw.token(PSB_OWNER), `{ grants(dataset: "population") { id emergency { fields { field access } maxMinutes } } }`);
      const byId = new Map(r.body.data.grants.map((g: { id: string; emergency: unknown }) => [g.id, g.emergency]));
      expect(byId.get('population-elderly-allowance')).toEqual({
        fields: [
          { field: 'phone', access: 'full' },
          { field: 'hukouAddress', access: 'full' },
        ],
        maxMinutes: 60,
      });
      expect(byId.get('population-rental-registration')).toBeNull();
    });

    it('without a session, the duty does not allow the emergency fields', async () => {
      const r = await call(clerk, ELDERLY, { purpose: 'elderly-allowance' });
      expect(r.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(r.body.errors[0].extensions.forbiddenFields).toEqual(['population.phone']);
    });

    it('starts a session for the duty: its fields, its end, its START event and the anomaly', async () => {
      const r = await call(clerk, START, { variables: { duty: 'elderly-allowance', reason: REASON, caseRef: 'CASE-2026-118' } });
      expect(r.body.errors).toBeUndefined();
      const s = r.body.data.startEmergencyAccess;
      sessionId = s.id;
      expect(s.state).toBe('OPEN');
      expect(s.duty).toBe('elderly-allowance');
      expect(s.fields).toEqual(['population.hukouAddress', 'population.phone']);
      expect(s.grants).toEqual(['population-elderly-allowance']);
      expect(s.secondsLeft).toBeGreaterThan(3500);
      expect(s.secondsLeft).toBeLessThanOrEqual(3600);
      expect(Date.parse(s.expiresAt) - Date.parse(s.startedAt)).toBe(60 * 60_000);

      const start = await events(sql`change->>'action' = 'emergency-start' and change->>'session' = ${sessionId}`);
      expect(start).toHaveLength(1);
      expect(start[0]!.actor_sub).toBe(CLERK.sub);
      expect(start[0]!.purpose).toBe('elderly-allowance');
      expect(start[0]!.change.caseRef).toBe('CASE-2026-118');

      const auditor = await gw.token(AUDITOR);
      const anomalies = await call(auditor, `query($from: String!, $to: String!) { auditAnomalies(from: $from, to: $to) { kind actorSub message } }`, {
        variables: { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() },
      });
      const found = anomalies.body.data.auditAnomalies.filter((f: { kind: string }) => f.kind === 'emergency-access');
      expect(found).toHaveLength(1);
      expect(found[0].actorSub).toBe(CLERK.sub);
      expect(found[0].message).toContain('CASE-2026-118');
    });

    it('the clerk sees the open session with its time left', async () => {
      const r = await call(clerk, `{ myEmergencySession { id state secondsLeft } }`);
      expect(r.body.data.myEmergencySession.id).toBe(sessionId);
      expect(r.body.data.myEmergencySession.secondsLeft).toBeGreaterThan(0);
    });

    it('a read with X-Emergency gets the emergency fields on the same rows, and its event is flagged', async () => {
      const normal = await call(clerk, `query { people(first: 50) { totalCount edges { node { idNumber age hukouAddress } } } }`, { purpose: 'elderly-allowance' });
      const r = await call(clerk, ELDERLY, { purpose: 'elderly-allowance', emergency: sessionId });
      expect(r.body.errors).toBeUndefined();
      const people = r.body.data.people;
      // Rows are never widened: the same persons (aged 65+ of the street) as without the session.
      expect(people.totalCount).toBe(normal.body.data.people.totalCount);
      expect(people.totalCount).toBeGreaterThan(0);
      for (const { node } of people.edges) {
        expect(node.age).toBeGreaterThanOrEqual(65);
        expect(node.phone).toMatch(/^1\d{10}$/); // in clear
        expect(node.hukouAddress).not.toContain('*'); // no longer masked
      }
      const flagged = await events(sql`change->'emergency'->>'session' = ${sessionId} and decision = 'allow'`);
      expect(flagged).toHaveLength(1);
      expect(flagged[0]!.change.emergency).toEqual({ session: sessionId, caseRef: 'CASE-2026-118', refused: false });
      expect(isEmergencyRead(flagged[0]!.change)).toBe(true);
      // The refusals flagged in the trail are not emergency reads (nothing was read under the session).
      expect(isEmergencyRead({ emergency: { session: sessionId, caseRef: null, refused: true } })).toBe(false);
      expect(isEmergencyRead({ action: 'createGrant' })).toBe(false);
      expect(flagged[0]!.reason).toContain(`emergency-session:${sessionId}`);
      expect(flagged[0]!.fields).toContain('population.phone');
    });

    it('fields outside the emergency list stay refused, naming them; nothing is read', async () => {
      const r = await call(clerk, `query { people(first: 5) { edges { node { idNumber phone gender ethnicity } } } }`, { purpose: 'elderly-allowance', emergency: sessionId });
      expect(r.body.data ?? null).toBeNull();
      expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
      expect(r.body.errors[0].extensions.forbiddenFields).toEqual(['population.ethnicity', 'population.gender']);
    });

    it('a second session while one is open is refused', async () => {
      const r = await call(clerk, START, { variables: { duty: 'elderly-allowance', reason: REASON, caseRef: 'CASE-2' } });
      expect(r.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      expect(r.body.errors[0].extensions.openSession).toBe(sessionId);
    });

    it('data owners of the department and auditors see it in the review queue; another department does not', async () => {
      const q = `{ emergencySessions(review: UNREVIEWED) { id user state overdue } }`;
      const psb = await call(await gw.token(PSB_OWNER), q);
      expect(psb.body.data.emergencySessions.map((s: { id: string }) => s.id)).toContain(sessionId);
      const auditor = await call(await gw.token(AUDITOR), q);
      expect(auditor.body.data.emergencySessions.map((s: { id: string }) => s.id)).toContain(sessionId);
      const housing = await call(await gw.token(HOUSING_OWNER), q);
      expect(housing.body.data.emergencySessions).toEqual([]);
      const asClerk = await call(clerk, q);
      expect(asClerk.body.errors[0].extensions.code).toBe('FORBIDDEN');
    });

    it('ends early: a STOP event, and the id widens nothing any more', async () => {
      const r = await call(clerk, `mutation($id: ID!) { endEmergencyAccess(id: $id) { id state endedAt secondsLeft } }`, { variables: { id: sessionId } });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data.endEmergencyAccess).toMatchObject({ id: sessionId, state: 'ENDED', secondsLeft: 0 });
      expect(await events(sql`change->>'action' = 'emergency-stop' and change->>'session' = ${sessionId}`)).toHaveLength(1);

      const again = await call(clerk, `mutation($id: ID!) { endEmergencyAccess(id: $id) { id } }`, { variables: { id: sessionId } });
      expect(again.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      const read = await call(clerk, ELDERLY, { purpose: 'elderly-allowance', emergency: sessionId });
      expect(read.body.data ?? null).toBeNull();
      expect(read.body.errors[0].extensions.code).toBe('FORBIDDEN');
      expect(read.body.errors[0].message).toContain('has ended');
      const mine = await call(clerk, `{ myEmergencySession { id } }`);
      expect(mine.body.data.myEmergencySession).toBeNull();
    });

    it('is reviewed once, by a data owner of the department, with a review event', async () => {
      // What the reviewer judges: the operations under the session, from the trail.
      const seen = await call(await gw.token(PSB_OWNER), `query($id: ID!) { emergencySession(id: $id) { activity { operations allowed refused rows persons fields } } }`, { variables: { id: sessionId } });
      const activity = seen.body.data.emergencySession.activity;
      // One allowed read; refused: the fields outside the list and the read after the end.
      expect(activity).toMatchObject({ operations: 3, allowed: 1, refused: 2 });
      expect(activity.rows).toBeGreaterThan(0);
      expect(activity.persons).toBe(activity.rows);
      expect(activity.fields).toEqual(['population.age', 'population.hukouAddress', 'population.idNumber', 'population.phone']);
      const review = `mutation($id: ID!, $verdict: EmergencyVerdict!) { reviewEmergencyAccess(id: $id, verdict: $verdict, note: "Resident found unwell; call justified.") { id review { verdict reviewer note } overdue } }`;
      const housing = await call(await gw.token(HOUSING_OWNER), review, { variables: { id: sessionId, verdict: 'JUSTIFIED' } });
      expect(housing.body.errors[0].extensions.code).toBe('FORBIDDEN');
      const r = await call(await gw.token(PSB_OWNER), review, { variables: { id: sessionId, verdict: 'JUSTIFIED' } });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data.reviewEmergencyAccess.review).toEqual({ verdict: 'JUSTIFIED', reviewer: PSB_OWNER.sub, note: 'Resident found unwell; call justified.' });
      const twice = await call(await gw.token(AUDITOR), review, { variables: { id: sessionId, verdict: 'UNJUSTIFIED' } });
      expect(twice.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      const ev = await events(sql`change->>'action' = 'emergency-review' and change->>'session' = ${sessionId}`);
      expect(ev).toHaveLength(1);
      expect(ev[0]!.change.verdict).toBe('JUSTIFIED');
    });

    it('unreviewed 3 days after its start, a session is overdue', async () => {
      const other = await gw.token({ ...CLERK, sub: 'clerk-nanjing-east-2' });
      const r = await call(other, START, { variables: { duty: 'elderly-allowance', reason: REASON, caseRef: 'CASE-OLD', minutes: 5 } });
      expect(r.body.errors).toBeUndefined();
      const id = r.body.data.startEmergencyAccess.id as string;
      expect(Date.parse(r.body.data.startEmergencyAccess.expiresAt) - Date.parse(r.body.data.startEmergencyAccess.startedAt)).toBe(5 * 60_000);
      const overdue = `{ overdueEmergencySessions { id overdue } }`;
      const before = await call(await gw.token(AUDITOR), overdue);
      expect(before.body.data.overdueEmergencySessions.map((s: { id: string }) => s.id)).not.toContain(id);
      // Time passes: the session started four days ago.
      await sql`update emergency_session set started_at = started_at - interval '4 days', expires_at = expires_at - interval '4 days' where id = ${id}`.execute(gw.runtime.databases.store);
      const after = await call(await gw.token(AUDITOR), overdue);
      expect(after.body.data.overdueEmergencySessions).toContainEqual({ id, overdue: true });
      const owner = await call(await gw.token(PSB_OWNER), overdue);
      expect(owner.body.data.overdueEmergencySessions).toContainEqual({ id, overdue: true });
      const housing = await call(await gw.token(HOUSING_OWNER), overdue);
      expect(housing.body.data.overdueEmergencySessions).toEqual([]);
    });

    it('the trail stays intact', async () => {
      const r = await call(await gw.token(AUDITOR), `{ auditIntegrity { intact } }`);
      expect(r.body.data.auditIntegrity.intact).toBe(true);
    });
  });
}
