/**
 * Time and caches in the admission review: every read is decided on the delegations and grants
 * as they are at that instant. An end date needs no change at all (a grant and a delegation that
 * end seconds from now), and once a withdrawal has answered, no instance serves one more read
 * under it: two instances on real PostgreSQL with Redis, and with Redis unreachable, both polling
 * the store only every 60 s, so neither Redis delivery nor polling can be what stops the read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, createTestGateway, NANJING_EAST, type TestGateway } from '../setup.ts';
import type { Role } from '../../core/identity.ts';

const REAL = !!process.env.TEST_DATABASE_URL;
const WITH_REDIS = REAL && !!process.env.TEST_REDIS_URL;

const PEOPLE = `{ people(first: 2) { edges { node { name phone streetCode } } } }`;
const who = {
  department: { sub: 'admin-urban', org: 'dept:urban-management', roles: ['department_admin'] as Role[] },
  reviewer: { sub: 'reviewer-310101', org: 'district:310101', roles: ['district_reviewer'] as Role[] },
  streetAdmin: { sub: 'admin-nanjing-east', org: NANJING_EAST, roles: ['street_admin'] as Role[] },
  owner: { sub: 'owner-psb', org: 'dept:public-security', roles: ['data_owner'] as Role[] },
  clerk: { sub: 'clerk-nanjing-east', org: NANJING_EAST, roles: ['street_staff'] as Role[] },
};

async function as(gw: TestGateway, role: keyof typeof who, query: string, variables?: Record<string, unknown>, purpose?: string) {
  const { body } = await gw.graphql(query, { token: await gw.token(who[role]), variables, purpose });
  return body;
}

/** Grid inspection delegated to Nanjing East Road until `until`; returns the delegation id. */
async function delegate(gw: TestGateway, until: string): Promise<string> {
  const proposed = await as(gw, 'department', `mutation($input: ProposeDutyDelegationInput!) { proposeDutyDelegation(input: $input) { id } }`, {
    input: { duty: 'grid-inspection', streets: ['310101002'], legalBasis: '沪城管规〔2026〕9号', validUntil: until },
  });
  const id = proposed.data.proposeDutyDelegation.id;
  const admitted = await as(gw, 'reviewer', `mutation($id: ID!) { reviewDutyDelegation(id: $id, decision: ADMIT, reason: "ok") { state } }`, { id });
  expect(admitted.data.reviewDutyDelegation.state).toBe('ADMITTED');
  return id;
}

/** The street asks for phone (masked) under grid inspection; the owner approves until `until`. Returns the grant id. */
async function grantPhone(gw: TestGateway, until: string): Promise<string> {
  const asked = await as(gw, 'streetAdmin', `mutation($input: RequestAccessInput!) { requestAccess(input: $input) { id } }`, {
    input: { duty: 'grid-inspection', dataset: 'population', fields: [{ field: 'phone', access: 'MASKED' }, { field: 'streetCode', access: 'FULL' }], reason: 'call ahead', legalBasis: 'x', validUntil: '2099-12-31' },
  });
  const approved = await as(gw, 'owner', `mutation($id: ID!, $until: String) { reviewAccessRequest(id: $id, decision: APPROVE, validUntil: $until, reason: "ok") { grant { id } } }`, {
    id: asked.data.requestAccess.id,
    until,
  });
  expect(approved.errors, JSON.stringify(approved.errors)).toBeUndefined();
  return approved.data.reviewAccessRequest.grant.id;
}

const code = (body: { errors?: { extensions?: { code?: string } }[] }) => body.errors?.[0]?.extensions?.code ?? 'OK';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const backend of BACKENDS) {
  describe(`end dates need no change (${backend})`, () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await createTestGateway({ backend, policyPollMs: 60_000 });
    }, 120_000);
    afterAll(async () => {
      await gw?.close();
    });

    it('a grant ending 2 s from now serves reads until then and none after, with nothing changed in between', async () => {
      await delegate(gw, '2099-12-31');
      // 2 s from the approval's start (a little more on a machine so loaded that the approval
      // and the first read would not fit in 2 s).
      const end = Date.now() + 2500;
      const grant = await grantPhone(gw, new Date(end).toISOString());
      expect(code(await as(gw, 'clerk', PEOPLE, undefined, 'grid-inspection'))).toBe('OK');
      const version = gw.runtime.authorizer.version;
      await sleep(end - Date.now() + 50);
      const after = await as(gw, 'clerk', PEOPLE, undefined, 'grid-inspection');
      expect(after.errors[0].extensions.forbiddenFields).toEqual(['population.phone']);
      expect(gw.runtime.authorizer.version).toBe(version); // no change, no reload made it stop
      const state = await as(gw, 'owner', `query { expiringGrants(withinDays: 1) { id } grants(dataset: "population") { id state } }`);
      expect(state.data.grants.find((g: { id: string }) => g.id === grant).state).toBe('EXPIRED');
      expect(state.data.expiringGrants.map((g: { id: string }) => g.id)).not.toContain(grant);
    });

    it('a delegation ending 2 s from now puts the duty in force until then and not after', async () => {
      const fresh = await createTestGateway({ backend, policyPollMs: 60_000 });
      try {
        await delegate(fresh, new Date(Date.now() + 2000).toISOString());
        expect(code(await as(fresh, 'clerk', `{ people(first: 1) { edges { node { name } } } }`, undefined, 'grid-inspection'))).toBe('OK');
        await sleep(2100);
        const after = await as(fresh, 'clerk', `{ people(first: 1) { edges { node { name } } } }`, undefined, 'grid-inspection');
        expect(code(after)).toBe('FORBIDDEN');
        expect(after.errors[0].message).toContain('not delegated');
      } finally {
        await fresh.close();
      }
    });

    it('expiringGrants lists the active grants ending within the window, soonest first', async () => {
      const soon = await grantPhone(gw, new Date(Date.now() + 3 * 86_400_000).toISOString());
      const body = await as(gw, 'owner', `{ expiringGrants(withinDays: 7) { id state validUntil } }`);
      expect(body.data.expiringGrants.map((g: { id: string }) => g.id)).toContain(soon);
      expect(code(await as(gw, 'owner', `{ expiringGrants(withinDays: 0) { id } }`))).toBe('BAD_USER_INPUT');
      expect(code(await as(gw, 'clerk', `{ expiringGrants { id } }`))).toBe('FORBIDDEN');
    });
  });
}

describe.runIf(REAL)('a withdrawal that answered stops the very next read on every instance', () => {
  const variants = [
    ...(WITH_REDIS ? [{ name: 'with Redis', env: { REDIS_URL: process.env.TEST_REDIS_URL! } }] : []),
    // Nothing listens there: no notification can reach the other instance.
    { name: 'with Redis unreachable', env: { REDIS_URL: 'redis://127.0.0.1:1' } },
  ];
  for (const variant of variants) {
    describe(variant.name, () => {
      let a: TestGateway;
      let b: TestGateway;
      beforeAll(async () => {
        a = await createTestGateway({ backend: 'postgres', env: variant.env, policyPollMs: 60_000 });
        b = await createTestGateway({ shareWith: a, env: variant.env, policyPollMs: 60_000 });
      }, 120_000);
      afterAll(async () => {
        await b?.runtime.close();
        await a?.close();
      });

      it('withdrawGrant on A: the next read on B is refused', async () => {
        const delegation = await delegate(a, '2099-12-31');
        const grant = await grantPhone(a, '2099-06-30');
        // B serves under the grant (its plan is cached and warm).
        for (let i = 0; i < 3; i++) expect(code(await as(b, 'clerk', PEOPLE, undefined, 'grid-inspection'))).toBe('OK');
        const withdrawn = await as(a, 'owner', `mutation($id: ID!) { withdrawGrant(id: $id, reason: "end of pilot") { state } }`, { id: grant });
        expect(withdrawn.data.withdrawGrant.state).toBe('WITHDRAWN');
        const next = await as(b, 'clerk', PEOPLE, undefined, 'grid-inspection');
        expect(next.errors[0].extensions.forbiddenFields).toEqual(['population.phone']);

        // And the delegation: B refuses the duty itself on the next read.
        expect(code(await as(b, 'clerk', `{ people(first: 1) { edges { node { name } } } }`, undefined, 'grid-inspection'))).toBe('OK');
        const ended = await as(a, 'department', `mutation($id: ID!) { withdrawDutyDelegation(id: $id, reason: "over") { state } }`, { id: delegation });
        expect(ended.data.withdrawDutyDelegation.state).toBe('WITHDRAWN');
        const refused = await as(b, 'clerk', `{ people(first: 1) { edges { node { name } } } }`, undefined, 'grid-inspection');
        expect(code(refused)).toBe('FORBIDDEN');
        expect(refused.errors[0].message).toContain('not delegated');
      });

      it('concurrent reads on B share the version check and all see a withdrawal that answered before them', async () => {
        await delegate(a, '2099-12-31');
        const grant = await grantPhone(a, '2099-06-30');
        expect(code(await as(b, 'clerk', PEOPLE, undefined, 'grid-inspection'))).toBe('OK');
        await as(a, 'owner', `mutation($id: ID!) { withdrawGrant(id: $id, reason: "end") { state } }`, { id: grant });
        const burst = await Promise.all(Array.from({ length: 20 }, () => as(b, 'clerk', PEOPLE, undefined, 'grid-inspection')));
        expect(burst.map(code)).toEqual(Array(20).fill('FORBIDDEN'));
      });
    });
  }
});
