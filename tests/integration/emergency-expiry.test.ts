/**
 * Every emergency session stops with exactly one STOP event. An early end writes it
 * (`endEmergencyAccess`); an expiry has it written by whichever instance notices first: the sweep
 * on a timer, or the next look-up of the session (a read under it, its user ending it, a reviewer
 * opening it). On PGlite and real PostgreSQL, and on two instances racing for the same expiry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { BACKENDS, createTestGateway, NANJING_EAST, type TestGateway } from '../setup.ts';
import type { Role } from '../../core/identity.ts';
import { emergencyCall, REASON, START } from './emergency-fixtures.ts';

const AUDITOR = { sub: 'auditor-expiry', org: 'office:security', roles: ['auditor'] as Role[] };
const PHONE = `{ people(first: 3) { edges { node { phone } } } }`;
const SESSION = `query($id: ID!) { emergencySession(id: $id) { id state endedAt endedBy expiresAt secondsLeft } }`;

/** Starts a session for a new clerk of Nanjing East; its id and the clerk's token. */
async function started(gw: TestGateway, sub: string): Promise<{ id: string; token: string }> {
  const token = await gw.token({ sub, org: NANJING_EAST, roles: ['street_staff'] });
  const r = await emergencyCall(gw)(token, START, { variables: { duty: 'elderly-allowance', reason: REASON, caseRef: `CASE-${sub}`, minutes: 10 } });
  expect(r.body.errors).toBeUndefined();
  return { id: r.body.data.startEmergencyAccess.id as string, token };
}

/** Time passes: the session started two hours ago and ran out a minute ago (also frees the street's hourly budget). */
async function expire(gw: TestGateway, id: string): Promise<void> {
  await sql`update emergency_session set started_at = now() - interval '2 hours', expires_at = now() - interval '1 minute' where id = ${id}`.execute(gw.runtime.databases.store);
}

async function stops(gw: TestGateway, id: string): Promise<Record<string, any>[]> {
  return (await sql<Record<string, any>>`select * from audit_event where change->>'action' = 'emergency-stop' and change->>'session' = ${id} order by seq`.execute(gw.runtime.databases.store))
    .rows;
}

for (const backend of BACKENDS) {
  describe(`an emergency session's STOP event (${backend})`, () => {
    let gw: TestGateway;
    let call: ReturnType<typeof emergencyCall>;

    beforeAll(async () => {
      gw = await createTestGateway({ backend, persons: 200 });
      call = emergencyCall(gw);
    });
    afterAll(async () => {
      await gw?.close();
    });

    it('an expiry noticed by the sweep writes one STOP with reason expired; a second sweep writes none', async () => {
      const { id } = await started(gw, 'expiry-sweep');
      expect(await gw.runtime.emergencyExpiry.sweep()).toBe(0);
      expect(await stops(gw, id)).toHaveLength(0);
      await expire(gw, id);
      // This sweep writes it, unless the runtime's own timer got there first: one STOP either way.
      await gw.runtime.emergencyExpiry.sweep();
      const written = await stops(gw, id);
      expect(written).toHaveLength(1);
      const expiresAt = (await gw.runtime.emergencySessions.get(id))!.expiresAt.toISOString();
      expect(written[0].change).toMatchObject({ action: 'emergency-stop', session: id, stopReason: 'expired', endedBy: null, endedAt: expiresAt, user: 'expiry-sweep' });
      // Nobody acted: the gateway recorded what the clock did.
      expect(written[0].actor_sub).toBeNull();
      expect(written[0].decision).toBe('allow');
      expect(await gw.runtime.emergencyExpiry.sweep()).toBe(0);
      expect(await stops(gw, id)).toHaveLength(1);
      const seen = await call(await gw.token(AUDITOR), SESSION, { variables: { id } });
      expect(seen.body.data.emergencySession).toMatchObject({ state: 'EXPIRED', endedAt: expiresAt, endedBy: null, secondsLeft: 0 });
    });

    it('an expiry noticed by a read under the session: STOP first, then the read refused, nothing read', async () => {
      const { id, token } = await started(gw, 'expiry-read');
      const before = await call(token, PHONE, { purpose: 'elderly-allowance', emergency: id });
      expect(before.body.errors).toBeUndefined();
      await expire(gw, id);
      const after = await call(token, PHONE, { purpose: 'elderly-allowance', emergency: id });
      expect(after.body.errors[0].extensions.code).toBe('FORBIDDEN');
      expect(after.body.data ?? null).toBeNull();
      const [stop] = await stops(gw, id);
      expect(stop?.change.stopReason).toBe('expired');
      await gw.runtime.audit.flush();
      const refusal = (await sql<Record<string, any>>`select seq from audit_event where change->'emergency'->>'session' = ${id} and decision = 'deny'`.execute(gw.runtime.databases.store)).rows;
      expect(refusal).toHaveLength(1);
      expect(Number(refusal[0].seq)).toBeGreaterThan(Number(stop.seq));
      await call(token, PHONE, { purpose: 'elderly-allowance', emergency: id });
      expect(await gw.runtime.emergencyExpiry.sweep()).toBe(0);
      expect(await stops(gw, id)).toHaveLength(1);
    });

    it('ending an expired session is refused, and writes the expiry STOP (once) rather than a second kind', async () => {
      const { id, token } = await started(gw, 'expiry-end');
      await expire(gw, id);
      const end = `mutation($id: ID!) { endEmergencyAccess(id: $id) { id } }`;
      const r = await call(token, end, { variables: { id } });
      expect(r.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      const again = await call(token, end, { variables: { id } });
      expect(again.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      const written = await stops(gw, id);
      expect(written.map((e) => e.change.stopReason)).toEqual(['expired']);
    });

    it('a session ended early has its one STOP (ended); its expiry later writes none', async () => {
      const { id, token } = await started(gw, 'expiry-early');
      const r = await call(token, `mutation($id: ID!) { endEmergencyAccess(id: $id) { state } }`, { variables: { id } });
      expect(r.body.data.endEmergencyAccess.state).toBe('ENDED');
      await sql`update emergency_session set started_at = now() - interval '2 hours', ended_at = now() - interval '90 minutes', expires_at = now() - interval '1 minute' where id = ${id}`.execute(
        gw.runtime.databases.store,
      );
      await gw.runtime.emergencyExpiry.sweep();
      await call(token, PHONE, { purpose: 'elderly-allowance', emergency: id });
      const written = await stops(gw, id);
      expect(written.map((e) => e.change.stopReason)).toEqual(['ended']);
      const seen = await call(await gw.token(AUDITOR), SESSION, { variables: { id } });
      expect(seen.body.data.emergencySession.state).toBe('ENDED');
    });

    it('an UNJUSTIFIED review of an open session stops it with one STOP (unjustified), then the review; its expiry later writes none', async () => {
      const { id, token } = await started(gw, 'expiry-unjustified');
      const auditor = await gw.token(AUDITOR);
      const r = await call(auditor, `mutation($id: ID!) { reviewEmergencyAccess(id: $id, verdict: UNJUSTIFIED, note: "A routine visit, no emergency.") { state endedBy review { verdict } } }`, {
        variables: { id },
      });
      expect(r.body.data.reviewEmergencyAccess).toEqual({ state: 'ENDED', endedBy: AUDITOR.sub, review: { verdict: 'UNJUSTIFIED' } });
      const written = await stops(gw, id);
      expect(written.map((e) => [e.change.stopReason, e.change.endedBy, e.actor_sub])).toEqual([['unjustified', AUDITOR.sub, AUDITOR.sub]]);
      const review = (await sql<Record<string, any>>`select seq, change from audit_event where change->>'action' = 'emergency-review' and change->>'session' = ${id}`.execute(gw.runtime.databases.store)).rows;
      expect(review.map((e) => e.change.stopped)).toEqual([true]);
      expect(Number(review[0].seq)).toBeGreaterThan(Number(written[0].seq));
      const read = await call(token, PHONE, { purpose: 'elderly-allowance', emergency: id });
      expect(read.body.errors[0].extensions.code).toBe('FORBIDDEN');
      await sql`update emergency_session set expires_at = now() - interval '1 minute' where id = ${id}`.execute(gw.runtime.databases.store);
      await gw.runtime.emergencyExpiry.sweep();
      expect(await stops(gw, id)).toHaveLength(1);
    });

    it('a JUSTIFIED review of an open session stops nothing: the session runs on to its own STOP', async () => {
      const { id } = await started(gw, 'expiry-justified');
      const r = await call(await gw.token(AUDITOR), `mutation($id: ID!) { reviewEmergencyAccess(id: $id, verdict: JUSTIFIED, note: "Justified.") { state } }`, { variables: { id } });
      expect(r.body.data.reviewEmergencyAccess.state).toBe('OPEN');
      expect(await stops(gw, id)).toHaveLength(0);
      await expire(gw, id);
      await gw.runtime.emergencyExpiry.sweep();
      expect((await stops(gw, id)).map((e) => e.change.stopReason)).toEqual(['expired']);
    });

    it("a one-person session's expiry is no read of that person: nothing new on their page", async () => {
      const token = await gw.token({ sub: 'expiry-one', org: NANJING_EAST, roles: ['street_staff'] });
      const people = await call(token, `{ people(first: 1) { edges { node { idNumber } } } }`, { purpose: 'elderly-allowance' });
      const subject = people.body.data.people.edges[0].node.idNumber as string;
      const r = await call(token, START, { variables: { duty: 'elderly-allowance', subject, reason: REASON, caseRef: 'CASE-ONE', minutes: 10 } });
      const id = r.body.data.startEmergencyAccess.id as string;
      const resident = await gw.token({ sub: subject, org: 'resident', roles: ['resident'] });
      const page = `{ myDataAccess(first: 50) { totalCount edges { node { organisation { id } fields } } } }`;
      await gw.runtime.audit.flush();
      const before = (await call(resident, page)).body.data.myDataAccess;
      await expire(gw, id);
      await gw.runtime.emergencyExpiry.sweep();
      const [stop] = await stops(gw, id);
      expect(stop.change.stopReason).toBe('expired');
      expect(stop.subject_hashes ?? []).toEqual([]);
      const after = (await call(resident, page)).body.data.myDataAccess;
      expect(after.totalCount).toBe(before.totalCount);
      for (const { node } of after.edges) expect(node.organisation.id).not.toBe('');
    });

    it('the trail stays intact', async () => {
      const r = await call(await gw.token(AUDITOR), `{ auditIntegrity { intact } }`);
      expect(r.body.data.auditIntegrity.intact).toBe(true);
    });
  });
}

describe.runIf(!!process.env.TEST_DATABASE_URL)('two instances racing for one expiry (postgres)', () => {
  let a: TestGateway;
  let b: TestGateway;

  beforeAll(async () => {
    a = await createTestGateway({ backend: 'postgres', persons: 200 });
    b = await createTestGateway({ shareWith: a });
  });
  afterAll(async () => {
    await b?.runtime.close();
    await a?.close();
  });

  it('sweeps and look-ups on both instances at once write exactly one STOP', async () => {
    for (let round = 0; round < 5; round++) {
      const { id, token } = await started(a, `expiry-race-${round}`);
      await expire(a, id);
      const auditor = await a.token(AUDITOR);
      const results = await Promise.all([
        a.runtime.emergencyExpiry.sweep(),
        b.runtime.emergencyExpiry.sweep(),
        emergencyCall(a)(token, PHONE, { purpose: 'elderly-allowance', emergency: id }),
        emergencyCall(b)(token, PHONE, { purpose: 'elderly-allowance', emergency: id }),
        emergencyCall(b)(auditor, SESSION, { variables: { id } }),
        a.runtime.emergencyExpiry.sweep(),
        b.runtime.emergencyExpiry.sweep(),
      ]);
      for (const read of results.slice(2, 4) as { body: any }[]) expect(read.body.errors[0].extensions.code).toBe('FORBIDDEN');
      expect(await stops(a, id)).toHaveLength(1);
      expect((results[4] as { body: any }).body.data.emergencySession.state).toBe('EXPIRED');
    }
  });
});
