/**
 * An emergency clause set through the API rather than the policy files, on PGlite and real
 * PostgreSQL: `createGrant` with `emergency` passes the files' one rule (fields of the dataset,
 * full or masked, 1 to 720 minutes, default 60), the grant shows it, a clerk's session under it reads
 * the clause's fields and nothing more, and each change leaves exactly one change event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { BACKENDS, createTestGateway, NANJING_EAST, type TestGateway } from '../setup.ts';
import type { Role } from '../../core/identity.ts';
import { emergencyCall, REASON, START } from '../integration/emergency-fixtures.ts';

const CREATE = `mutation($input: GrantInput!) { createGrant(input: $input) { id emergency { fields { field access } maxMinutes } } }`;
const GRANTS = `query($duty: String) { grants(dataset: "population", duty: $duty) { id emergency { fields { field access } maxMinutes } } }`;
const DUTY = 'minimum-living-assistance';

const owner = { sub: 'owner-psb', org: 'dept:public-security', roles: ['data_owner'] as Role[] };
const clerk = { sub: 'clerk-api-clause', org: NANJING_EAST, roles: ['street_staff'] as Role[] };

const grantInput = (id: string, emergency: unknown) => ({
  id,
  dataset: 'population',
  duty: DUTY,
  streets: ['310101002'],
  fields: [
    { field: 'idNumber', access: 'full' },
    { field: 'name', access: 'full' },
    { field: 'streetCode', access: 'full' },
  ],
  validUntil: '2099-12-31',
  emergency,
});

for (const backend of BACKENDS) {
  describe(`emergency clause through createGrant (${backend})`, () => {
    let gw: TestGateway;
    let call: ReturnType<typeof emergencyCall>;
    let ownerToken: string;
    let clerkToken: string;

    const changeEvents = async (grant: string) =>
      (
        await sql<{ n: number }>`select count(*)::int as n from audit_event
          where operation_name = 'change:createGrant' and change->'grant'->>'id' = ${grant}`.execute(gw.runtime.databases.store)
      ).rows[0].n;

    beforeAll(async () => {
      gw = await createTestGateway({ backend, persons: 200 });
      call = emergencyCall(gw);
      ownerToken = await gw.token(owner);
      clerkToken = await gw.token(clerk);
    }, 120_000);
    afterAll(async () => {
      await gw?.close();
    });

    it('refuses a clause the files would refuse, naming the field, and stores nothing', async () => {
      const cases: [unknown, RegExp][] = [
        [{ fields: [{ field: 'shoeSize', access: 'full' }] }, /emergency: unknown field 'shoeSize' in dataset population/],
        [{ fields: [{ field: 'houseId', access: 'full' }] }, /emergency: field 'houseId' is internal/],
        [{ fields: [{ field: 'phone', access: 'aggregate' }] }, /emergency: bad access "aggregate" for 'phone'/],
        [{ fields: [] }, /emergency.fields must map at least one field/],
        [{ fields: [{ field: 'phone', access: 'full' }], maxMinutes: 0 }, /maxMinutes must be a whole number of minutes from 1 to 720/],
        [{ fields: [{ field: 'phone', access: 'full' }], maxMinutes: 721 }, /maxMinutes must be a whole number of minutes from 1 to 720/],
        [{ fields: [{ field: 'phone', access: 'full' }, { field: 'phone', access: 'masked' }] }, /emergency.fields: field phone listed twice/],
      ];
      for (const [i, [emergency, message]] of cases.entries()) {
        const id = `api-clause-bad-${i}`;
        const r = await call(ownerToken, CREATE, { variables: { input: grantInput(id, emergency) } });
        expect(r.body.errors?.[0]?.extensions?.code, JSON.stringify(r.body)).toBe('BAD_USER_INPUT');
        expect(r.body.errors[0].message).toMatch(message);
        await gw.runtime.audit.flush?.();
        expect(await gw.runtime.databases.store.selectFrom('grant').select('id').where('id', '=', id).executeTakeFirst()).toBeUndefined();
        expect(await changeEvents(id)).toBe(0);
      }
    });

    it('a session under an API clause reads its fields, at its level, for at most its minutes, and nothing wider', async () => {
      // Before the grant, the duty allows no emergency session at the street.
      const before = await call(clerkToken, START, { variables: { duty: DUTY, reason: REASON, caseRef: 'CASE-API-0' } });
      expect(before.body.errors?.[0]?.extensions?.code).toBeDefined();

      const created = await call(ownerToken, CREATE, {
        variables: { input: grantInput('api-clause-ok', { fields: [{ field: 'phone', access: 'full' }, { field: 'hukouAddress', access: 'masked' }], maxMinutes: 20 }) },
      });
      expect(created.body.errors, JSON.stringify(created.body.errors)).toBeUndefined();
      const clause = { fields: [{ field: 'phone', access: 'full' }, { field: 'hukouAddress', access: 'masked' }], maxMinutes: 20 };
      expect(created.body.data.createGrant.emergency).toEqual(clause);
      await gw.runtime.audit.flush?.();
      expect(await changeEvents('api-clause-ok')).toBe(1);
      const listed = await call(ownerToken, GRANTS, { variables: { duty: DUTY } });
      expect(listed.body.data.grants.find((g: { id: string }) => g.id === 'api-clause-ok').emergency).toEqual(clause);

      // Longer than the clause allows: refused.
      const tooLong = await call(clerkToken, START, { variables: { duty: DUTY, reason: REASON, caseRef: 'CASE-API-1', minutes: 21 } });
      expect(tooLong.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      expect(tooLong.body.errors[0].message).toMatch(/at most 20 minutes/);

      const started = await call(clerkToken, START, { variables: { duty: DUTY, reason: REASON, caseRef: 'CASE-API-1' } });
      expect(started.body.errors, JSON.stringify(started.body.errors)).toBeUndefined();
      const session = started.body.data.startEmergencyAccess;
      expect(session.fields).toEqual(['population.hukouAddress', 'population.phone']);
      expect(Date.parse(session.expiresAt) - Date.parse(session.startedAt)).toBe(20 * 60_000);

      const read = await call(clerkToken, `{ people(first: 5) { edges { node { idNumber phone hukouAddress } } } }`, { purpose: DUTY, emergency: session.id });
      expect(read.body.errors, JSON.stringify(read.body.errors)).toBeUndefined();
      const nodes = read.body.data.people.edges.map((e: { node: Record<string, string> }) => e.node);
      expect(nodes.length).toBeGreaterThan(0);
      for (const n of nodes) {
        expect(n.phone).toMatch(/^1\d{10}$/);
        expect(n.hukouAddress).toMatch(/\*/);
      }
      // Without the session the same fields are refused: the clause is all that opened them.
      const plain = await call(clerkToken, `{ people(first: 1) { edges { node { phone } } } }`, { purpose: DUTY });
      expect(plain.body.errors[0].extensions.forbiddenFields).toEqual(['population.phone']);
      // Under the session, a field outside the clause stays refused, naming it.
      const wider = await call(clerkToken, `{ people(first: 1) { edges { node { phone ethnicity } } } }`, { purpose: DUTY, emergency: session.id });
      expect(wider.body.errors[0].extensions.code).toBe('FORBIDDEN');
      expect(wider.body.errors[0].extensions.forbiddenFields).toEqual(['population.ethnicity']);
    });

    it('maxMinutes left out is the default 60', async () => {
      const created = await call(ownerToken, CREATE, { variables: { input: { ...grantInput('api-clause-default', { fields: [{ field: 'ethnicity', access: 'masked' }] }), duty: 'elderly-allowance' } } });
      expect(created.body.errors, JSON.stringify(created.body.errors)).toBeUndefined();
      expect(created.body.data.createGrant.emergency).toEqual({ fields: [{ field: 'ethnicity', access: 'masked' }], maxMinutes: 60 });
      await gw.runtime.audit.flush?.();
      expect(await changeEvents('api-clause-default')).toBe(1);
    });
  });
}
