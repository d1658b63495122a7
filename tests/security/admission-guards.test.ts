/**
 * The admission review's guards, adversarially, through the real gateway: each attempt is refused
 * with the contract's code (FORBIDDEN for who-may-do-what, BAD_USER_INPUT for wrong states and bad
 * input) and leaves the store and the trail's change events exactly as they were.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { BACKENDS, createTestGateway, NANJING_EAST, TIANPING, type TestGateway } from '../setup.ts';
import type { Role } from '../../core/identity.ts';

const PROPOSE = `mutation($input: ProposeDutyDelegationInput!) { proposeDutyDelegation(input: $input) { id state } }`;
const REVIEW = `mutation($id: ID!, $decision: DelegationDecision!, $streets: [ID!], $reason: String!) {
  reviewDutyDelegation(id: $id, decision: $decision, streets: $streets, reason: $reason) { id state } }`;
const WITHDRAW_DELEGATION = `mutation($id: ID!, $reason: String!) { withdrawDutyDelegation(id: $id, reason: $reason) { id state } }`;
const ASK = `mutation($input: RequestAccessInput!) { requestAccess(input: $input) { id state } }`;
const DECIDE = `mutation($id: ID!, $decision: AccessRequestDecision!, $fields: [RequestedFieldInput!], $rows: String, $validUntil: String, $reason: String!) {
  reviewAccessRequest(id: $id, decision: $decision, fields: $fields, rows: $rows, validUntil: $validUntil, reason: $reason) { id state grant { id } } }`;
const CANCEL = `mutation($id: ID!, $reason: String!) { cancelAccessRequest(id: $id, reason: $reason) { id state } }`;
const WITHDRAW_GRANT = `mutation($id: ID!, $reason: String!) { withdrawGrant(id: $id, reason: $reason) { id state } }`;

const who = {
  urban: { sub: 'admin-urban', org: 'dept:urban-management', roles: ['department_admin'] as Role[] },
  civil: { sub: 'admin-civil', org: 'dept:civil-affairs', roles: ['department_admin'] as Role[] },
  huangpu: { sub: 'reviewer-huangpu', org: 'district:310101', roles: ['district_reviewer'] as Role[] },
  xuhui: { sub: 'reviewer-xuhui', org: 'district:310104', roles: ['district_reviewer'] as Role[] },
  // The proposer, signed in as a reviewer of the district: still not allowed to review it.
  selfReviewer: { sub: 'admin-urban', org: 'district:310101', roles: ['district_reviewer'] as Role[] },
  streetAdmin: { sub: 'admin-nanjing-east', org: NANJING_EAST, roles: ['street_admin'] as Role[] },
  xuhuiAdmin: { sub: 'admin-tianping', org: TIANPING, roles: ['street_admin'] as Role[] },
  clerk: { sub: 'clerk-nanjing-east', org: NANJING_EAST, roles: ['street_staff'] as Role[] },
  psb: { sub: 'owner-psb', org: 'dept:public-security', roles: ['data_owner'] as Role[] },
  psb2: { sub: 'owner-psb-2', org: 'dept:public-security', roles: ['data_owner'] as Role[] },
  // The requester, signed in as the dataset's owner: still not allowed to review their own request.
  selfOwner: { sub: 'admin-nanjing-east', org: 'dept:public-security', roles: ['data_owner'] as Role[] },
  housing: { sub: 'owner-housing', org: 'dept:housing', roles: ['data_owner'] as Role[] },
};

const FIELDS = [
  { field: 'name', access: 'FULL' },
  { field: 'phone', access: 'MASKED' },
  { field: 'streetCode', access: 'FULL' },
];
const AGE_65 = JSON.stringify({ field: 'age', op: 'gte', value: 65 });

for (const backend of BACKENDS) {
  describe(`admission guards (${backend})`, () => {
    let gw: TestGateway;
    const tokens: Record<string, string> = {};
    let delegation: string;

    const run = async (as: keyof typeof who, query: string, variables: Record<string, unknown>) =>
      (await gw.graphql(query, { token: tokens[as], variables })).body;

    /** Everything an admission change could touch. */
    const storeState = async () =>
      JSON.stringify(
        (
          await sql`select
            (select json_agg(t order by id) from access_request t) as requests,
            (select json_agg(t order by id) from duty_delegation t) as delegations,
            (select json_agg(t order by delegation_id, street) from duty_delegation_street t) as streets,
            (select json_agg(t order by id) from "grant" t) as grants,
            (select json_agg(t order by grant_id) from grant_review t) as reviews,
            (select version from policy_version) as version,
            (select count(*) from audit_event where operation_name like 'change:%')::int as events`.execute(gw.runtime.databases.store)
        ).rows[0],
      );

    /** Runs `attempt`, expects it refused with `code`, and the store untouched. */
    const refused = async (code: 'FORBIDDEN' | 'BAD_USER_INPUT', as: keyof typeof who, query: string, variables: Record<string, unknown>, message?: RegExp) => {
      await gw.runtime.audit.flush?.();
      const before = await storeState();
      const body = await run(as, query, variables);
      expect(body.errors?.[0]?.extensions?.code, JSON.stringify(body.errors)).toBe(code);
      if (message) expect(body.errors[0].message).toMatch(message);
      await gw.runtime.audit.flush?.();
      expect(await storeState()).toBe(before);
      return body.errors[0].message as string;
    };

    const ask = async (overrides: Record<string, unknown> = {}) => {
      const body = await run('streetAdmin', ASK, {
        input: { duty: 'elderly-allowance', dataset: 'population', fields: FIELDS, rows: AGE_65, reason: 'Home visits', legalBasis: '沪民规〔2026〕1号', validUntil: '2099-12-31', ...overrides },
      });
      expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
      return body.data.requestAccess.id as string;
    };

    beforeAll(async () => {
      gw = await createTestGateway({ backend });
      for (const [name, claims] of Object.entries(who)) tokens[name] = await gw.token(claims);
      const proposed = await run('urban', PROPOSE, {
        input: { duty: 'grid-inspection', streets: ['310101002', '310101013'], legalBasis: '沪城管规〔2026〕9号', validUntil: '2099-12-31' },
      });
      delegation = proposed.data.proposeDutyDelegation.id;
    }, 120_000);
    afterAll(async () => {
      await gw?.close();
    });

    describe('duty delegations', () => {
      it('only the delegating department proposes, with valid streets, a legal basis and a future period', async () => {
        const input = { duty: 'grid-inspection', streets: ['310101019'], legalBasis: '沪城管规〔2026〕9号', validUntil: '2099-12-31' };
        await refused('FORBIDDEN', 'streetAdmin', PROPOSE, { input }, /department_admin/);
        await refused('FORBIDDEN', 'civil', PROPOSE, { input }, /delegated by dept:urban-management/);
        await refused('BAD_USER_INPUT', 'urban', PROPOSE, { input: { ...input, duty: 'no-such-duty' } }, /unknown duty/);
        await refused('BAD_USER_INPUT', 'urban', PROPOSE, { input: { ...input, validUntil: '2020-01-01' } }, /in the past/);
        await refused('BAD_USER_INPUT', 'urban', PROPOSE, { input: { ...input, validFrom: '2020-01-01' } }, /in the past/);
        await refused('BAD_USER_INPUT', 'urban', PROPOSE, { input: { ...input, validUntil: '31/12/2099' } }, /not an ISO date/);
        await refused('BAD_USER_INPUT', 'urban', PROPOSE, { input: { ...input, streets: ['31010119'] } }, /bad street code/);
        await refused('BAD_USER_INPUT', 'urban', PROPOSE, { input: { ...input, streets: ['310101019', '310101019'] } }, /twice/);
        await refused('BAD_USER_INPUT', 'urban', PROPOSE, { input: { ...input, legalBasis: '   ' } }, /legalBasis/);
        await refused('BAD_USER_INPUT', 'urban', PROPOSE, { input: { ...input, validFrom: '2099-12-31', validUntil: '2099-01-01' } }, /not before/);
      });

      it('a reviewer answers only for their district, never their own proposal, and only once', async () => {
        await refused('FORBIDDEN', 'xuhui', REVIEW, { id: delegation, decision: 'ADMIT', reason: 'ok' }, /no street of district 310104/);
        await refused('FORBIDDEN', 'urban', REVIEW, { id: delegation, decision: 'ADMIT', reason: 'ok' }, /district_reviewer/);
        await refused('FORBIDDEN', 'selfReviewer', REVIEW, { id: delegation, decision: 'ADMIT', reason: 'ok' }, /own proposal/);
        await refused('BAD_USER_INPUT', 'huangpu', REVIEW, { id: delegation, decision: 'ADMIT', streets: ['310104003'], reason: 'ok' }, /not in delegation/);
        await refused('BAD_USER_INPUT', 'huangpu', REVIEW, { id: delegation, decision: 'ADMIT', reason: ' ' }, /reason/);
        await refused('BAD_USER_INPUT', 'huangpu', REVIEW, { id: 'dd-nothing', decision: 'ADMIT', reason: 'ok' }, /no duty delegation/);

        const first = await run('huangpu', REVIEW, { id: delegation, decision: 'ADMIT', streets: ['310101002'], reason: 'Staff in place' });
        expect(first.errors).toBeUndefined();
        await refused('BAD_USER_INPUT', 'huangpu', REVIEW, { id: delegation, decision: 'REJECT', streets: ['310101002'], reason: 'changed my mind' }, /already reviewed/);
        const second = await run('huangpu', REVIEW, { id: delegation, decision: 'REJECT', reason: 'Not the Bund' });
        expect(second.data.reviewDutyDelegation.state).toBe('ADMITTED');
        await refused('BAD_USER_INPUT', 'huangpu', REVIEW, { id: delegation, decision: 'ADMIT', reason: 'again' }, /ADMITTED/);
      });

      it('only the delegating department withdraws, and only once', async () => {
        const other = await run('urban', PROPOSE, { input: { duty: 'illegal-construction', streets: ['310101019'], legalBasis: 'x', validUntil: '2099-12-31' } });
        const id = other.data.proposeDutyDelegation.id;
        await refused('FORBIDDEN', 'civil', WITHDRAW_DELEGATION, { id, reason: 'not mine' }, /not dept:civil-affairs/);
        await refused('FORBIDDEN', 'huangpu', WITHDRAW_DELEGATION, { id, reason: 'no' }, /department_admin/);
        expect((await run('urban', WITHDRAW_DELEGATION, { id, reason: 'Proposed by mistake' })).data.withdrawDutyDelegation.state).toBe('WITHDRAWN');
        await refused('BAD_USER_INPUT', 'urban', WITHDRAW_DELEGATION, { id, reason: 'again' }, /WITHDRAWN/);
        await refused('BAD_USER_INPUT', 'huangpu', REVIEW, { id, decision: 'ADMIT', reason: 'late' }, /WITHDRAWN/);
      });
    });

    describe('access requests', () => {
      it('a street admin asks only for their own street, for a duty in force there, with valid terms', async () => {
        const input = { duty: 'elderly-allowance', dataset: 'population', fields: FIELDS, reason: 'r', legalBasis: 'b', validUntil: '2099-12-31' };
        await refused('FORBIDDEN', 'streetAdmin', ASK, { input: { ...input, street: '310104003' } }, /own street/);
        await refused('FORBIDDEN', 'clerk', ASK, { input }, /street_admin/);
        await refused('FORBIDDEN', 'xuhuiAdmin', ASK, { input: { ...input, duty: 'employment-assistance' } }, /not delegated/);
        await refused('BAD_USER_INPUT', 'streetAdmin', ASK, { input: { ...input, dataset: 'tax' } }, /unknown dataset/);
        await refused('BAD_USER_INPUT', 'streetAdmin', ASK, { input: { ...input, fields: [...FIELDS, { field: 'salary', access: 'FULL' }] } }, /unknown field 'salary'/);
        await refused('BAD_USER_INPUT', 'streetAdmin', ASK, { input: { ...input, fields: [...FIELDS, { field: 'houseId', access: 'FULL' }] } }, /internal/);
        await refused('BAD_USER_INPUT', 'streetAdmin', ASK, { input: { ...input, fields: [{ field: 'name', access: 'FULL' }] } }, /streetCode/);
        await refused('BAD_USER_INPUT', 'streetAdmin', ASK, { input: { ...input, fields: [...FIELDS, { field: 'name', access: 'MASKED' }] } }, /twice/);
        await refused('BAD_USER_INPUT', 'streetAdmin', ASK, { input: { ...input, validUntil: '2001-01-01' } }, /in the past/);
        await refused('BAD_USER_INPUT', 'streetAdmin', ASK, { input: { ...input, reason: '' } }, /reason/);
        for (const rows of ['{"field": "age", "op": "gte"', '{"field": "age", "op": "like", "value": 1}', '{"field": "age", "op": "gte", "value": "old"}', '{"field": "salary", "op": "eq", "value": 1}', '{"any": []}', '"drop table"', `{"field": "name", "op": "eq", "value": "x", "sql": "1=1"}`]) {
          await refused('BAD_USER_INPUT', 'streetAdmin', ASK, { input: { ...input, rows } }, /rows/);
        }
      });

      it('only an owner of the dataset reviews, never their own request, and only a pending one', async () => {
        const id = await ask();
        await refused('FORBIDDEN', 'housing', DECIDE, { id, decision: 'APPROVE', reason: 'ok' }, /not owned by dept:housing/);
        await refused('FORBIDDEN', 'streetAdmin', DECIDE, { id, decision: 'APPROVE', reason: 'ok' }, /data_owner/);
        await refused('FORBIDDEN', 'selfOwner', DECIDE, { id, decision: 'APPROVE', reason: 'ok' }, /own request/);
        await refused('BAD_USER_INPUT', 'psb', DECIDE, { id, decision: 'APPROVE', reason: '' }, /reason/);
        await refused('BAD_USER_INPUT', 'psb', DECIDE, { id, decision: 'REJECT', fields: FIELDS, reason: 'no' }, /reason only/);
        const rejected = await run('psb', DECIDE, { id, decision: 'REJECT', reason: 'Not needed for the duty' });
        expect(rejected.data.reviewAccessRequest.state).toBe('REJECTED');
        await refused('BAD_USER_INPUT', 'psb2', DECIDE, { id, decision: 'APPROVE', reason: 'overrule' }, /REJECTED/);
        await refused('BAD_USER_INPUT', 'streetAdmin', CANCEL, { id, reason: 'too late' }, /REJECTED/);
      });

      it('approval is never wider than the request', async () => {
        const id = await ask();
        const wider = (variables: Record<string, unknown>, why: RegExp) => refused('BAD_USER_INPUT', 'psb', DECIDE, { id, decision: 'APPROVE', reason: 'ok', ...variables }, why);
        await wider({ fields: [...FIELDS, { field: 'gender', access: 'FULL' }] }, /gender was not asked for/);
        await wider({ fields: [{ field: 'name', access: 'FULL' }, { field: 'phone', access: 'FULL' }, { field: 'streetCode', access: 'FULL' }] }, /phone was asked masked, not full/);
        await wider({ validUntil: '2100-01-01' }, /later than the one asked/);
        await wider({ rows: JSON.stringify({ field: 'age', op: 'gte', value: 60 }) }, /row condition/);
        await wider({ rows: JSON.stringify({ any: [{ field: 'age', op: 'gte', value: 65 }, { field: 'gender', op: 'eq', value: 'male' }] }) }, /row condition/);
        await wider({ rows: JSON.stringify({ field: 'gender', op: 'eq', value: 'male' }) }, /row condition/);
        await wider({ rows: '' }, /row condition/);
        await wider({ validUntil: '2002-01-01' }, /in the past/);
        await wider({ rows: '{"field": "age"}' }, /rows/);
        await wider({ fields: [{ field: 'name', access: 'FULL' }] }, /streetCode/);
        // Narrower in every way is accepted: fewer fields, masked for full, earlier end, stricter rows.
        const ok = await run('psb', DECIDE, {
          id,
          decision: 'APPROVE',
          fields: [{ field: 'name', access: 'MASKED' }, { field: 'streetCode', access: 'FULL' }],
          rows: JSON.stringify({ all: [{ field: 'age', op: 'gte', value: 70 }, { field: 'gender', op: 'eq', value: 'female' }] }),
          validUntil: '2098-01-01',
          reason: 'Names masked; women over 70 only, for this pilot',
        });
        expect(ok.errors, JSON.stringify(ok.errors)).toBeUndefined();
        expect(ok.data.reviewAccessRequest.grant.id).toBe(`grant-${id}`);
      });

      it('two owners approving the same request at once: exactly one wins, one grant exists', async () => {
        const id = await ask();
        const results = await Promise.all(
          (['psb', 'psb2'] as const).map((as) => run(as, DECIDE, { id, decision: 'APPROVE', reason: `approved by ${as}` })),
        );
        const won = results.filter((r) => !r.errors);
        const lost = results.filter((r) => r.errors);
        expect(won).toHaveLength(1);
        expect(lost.map((r) => r.errors[0].extensions.code)).toEqual(['BAD_USER_INPUT']);
        const grants = await sql<{ n: number }>`select count(*)::int as n from "grant" where id = ${`grant-${id}`}`.execute(gw.runtime.databases.store);
        expect(grants.rows[0]!.n).toBe(1);
        const events = await sql<{ n: number }>`select count(*)::int as n from audit_event where operation_name = 'change:reviewAccessRequest' and change->>'request' = ${id}`.execute(gw.runtime.databases.store);
        expect(events.rows[0]!.n).toBe(1);
      });

      it('a request is cancelled only by its street while pending; a grant is withdrawn only by its owner, once', async () => {
        const id = await ask();
        await refused('FORBIDDEN', 'xuhuiAdmin', CANCEL, { id, reason: 'not mine' });
        const approved = await run('psb', DECIDE, { id, decision: 'APPROVE', reason: 'As asked' });
        const grant = approved.data.reviewAccessRequest.grant.id;
        await refused('BAD_USER_INPUT', 'streetAdmin', CANCEL, { id, reason: 'cancel an approved one' }, /APPROVED/);
        await refused('FORBIDDEN', 'housing', WITHDRAW_GRANT, { id: grant, reason: 'not ours' }, /does not own/);
        await refused('FORBIDDEN', 'streetAdmin', WITHDRAW_GRANT, { id: grant, reason: 'no' }, /data_owner/);
        await refused('BAD_USER_INPUT', 'psb', WITHDRAW_GRANT, { id: grant, reason: '' }, /reason/);
        await refused('BAD_USER_INPUT', 'psb', WITHDRAW_GRANT, { id: 'grant-nothing', reason: 'x' }, /no grant/);
        expect((await run('psb', WITHDRAW_GRANT, { id: grant, reason: 'Review over' })).data.withdrawGrant.state).toBe('WITHDRAWN');
        await refused('BAD_USER_INPUT', 'psb', WITHDRAW_GRANT, { id: grant, reason: 'again' }, /already withdrawn/);
      });
    });
  });
}
