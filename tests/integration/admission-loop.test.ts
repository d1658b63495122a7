/**
 * The admission review's whole loop through the real gateway, embedded and on real PostgreSQL
 * (+ Redis when TEST_REDIS_URL is set): a department proposes grid inspection for two Huangpu
 * streets → the Huangpu reviewer admits one and rejects the other → the street admin asks for
 * person fields → the public-security owner approves narrower → a clerk reads exactly the
 * narrowed fields → the owner withdraws the grant → the next read is FORBIDDEN → the department
 * withdraws the delegation → the duty itself is refused. Every step is in `auditEvents`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, createTestGateway, NANJING_EAST, type TestGateway } from '../setup.ts';

const WITH_REDIS = !!process.env.TEST_REDIS_URL;

export const OPS = {
  propose: `mutation Propose($input: ProposeDutyDelegationInput!) {
    proposeDutyDelegation(input: $input) { id duty state legalBasis validUntil streets { street district state inForce } }
  }`,
  review: `mutation Review($id: ID!, $decision: DelegationDecision!, $streets: [ID!], $reason: String!) {
    reviewDutyDelegation(id: $id, decision: $decision, streets: $streets, reason: $reason) { id state streets { street state inForce reviewedBy reason } }
  }`,
  withdrawDelegation: `mutation WithdrawDelegation($id: ID!, $reason: String!) {
    withdrawDutyDelegation(id: $id, reason: $reason) { id state withdrawnBy withdrawalReason streets { street inForce } }
  }`,
  request: `mutation Ask($input: RequestAccessInput!) {
    requestAccess(input: $input) { id street duty dataset state fields { field access } validUntil changes { field today after changed } }
  }`,
  approve: `mutation Approve($id: ID!, $fields: [RequestedFieldInput!], $validUntil: String, $reason: String!) {
    reviewAccessRequest(id: $id, decision: APPROVE, fields: $fields, validUntil: $validUntil, reason: $reason) {
      id state decision { decision reviewer reason fields { field access } validUntil }
      grant { id state streets fields { field access } validUntil approvedBy approvalReason request { id } fromFiles }
    }
  }`,
  withdrawGrant: `mutation WithdrawGrant($id: ID!, $reason: String!) {
    withdrawGrant(id: $id, reason: $reason) { id state withdrawnBy withdrawalReason revokedAt }
  }`,
  read: `query Residents { people(first: 3) { totalCount edges { node { name phone residenceAddress streetCode } } } }`,
  events: `query Trail($actor: String) { auditEvents(filter: { actor: $actor }, first: 100) { edges { node { operationName decision change actor { sub } } } } }`,
};

for (const backend of BACKENDS) {
  describe(`the admission loop (${backend}${backend === 'postgres' && WITH_REDIS ? ' + Redis' : ''})`, () => {
    let gw: TestGateway;
    const tokens: Record<string, string> = {};

    beforeAll(async () => {
      gw = await createTestGateway({ backend, redis: backend === 'postgres' && WITH_REDIS });
      tokens.department = await gw.token({ sub: 'admin-urban-management', org: 'dept:urban-management', roles: ['department_admin'] });
      tokens.reviewer = await gw.token({ sub: 'reviewer-310101', org: 'district:310101', roles: ['district_reviewer'] });
      tokens.streetAdmin = await gw.token({ sub: 'admin-nanjing-east', org: NANJING_EAST, roles: ['street_admin'] });
      tokens.owner = await gw.token({ sub: 'owner-psb', org: 'dept:public-security', roles: ['data_owner'] });
      tokens.clerk = await gw.token({ sub: 'clerk-nanjing-east', org: NANJING_EAST, roles: ['street_staff'] });
      tokens.auditor = await gw.token({ sub: 'auditor-1', org: 'office:security', roles: ['auditor'] });
    }, 120_000);
    afterAll(async () => {
      await gw?.close();
    });

    const run = async (who: string, query: string, variables?: Record<string, unknown>, purpose?: string) =>
      (await gw.graphql(query, { token: tokens[who], variables, purpose })).body;

    it('walks propose → admit → request → approve narrowed → read → withdraw → FORBIDDEN, each step audited', async () => {
      // Grid inspection is a Xuhui duty: Nanjing East Road may not declare it yet.
      const before = await run('clerk', OPS.read, undefined, 'grid-inspection');
      expect(before.errors[0].extensions.code).toBe('FORBIDDEN');
      expect(before.errors[0].message).toContain('not delegated to street 310101002');

      const proposed = await run('department', OPS.propose, {
        input: { duty: 'grid-inspection', streets: ['310101002', '310101013'], legalBasis: '沪城管规〔2026〕9号', validUntil: '2099-12-31', note: 'Huangpu pilot' },
      });
      expect(proposed.errors).toBeUndefined();
      const delegation = proposed.data.proposeDutyDelegation;
      expect(delegation).toMatchObject({ duty: 'grid-inspection', state: 'PROPOSED', legalBasis: '沪城管规〔2026〕9号' });
      expect(delegation.streets.map((s: { state: string }) => s.state)).toEqual(['PROPOSED', 'PROPOSED']);

      const admitted = await run('reviewer', OPS.review, { id: delegation.id, decision: 'ADMIT', streets: ['310101002'], reason: 'Grid staff are in place' });
      expect(admitted.errors).toBeUndefined();
      expect(admitted.data.reviewDutyDelegation.state).toBe('PROPOSED'); // The Bund still waits
      const rejected = await run('reviewer', OPS.review, { id: delegation.id, decision: 'REJECT', streets: ['310101013'], reason: 'No grid staff on the Bund yet' });
      expect(rejected.data.reviewDutyDelegation.state).toBe('ADMITTED');
      expect(rejected.data.reviewDutyDelegation.streets).toEqual([
        { street: '310101002', state: 'ADMITTED', inForce: true, reviewedBy: 'reviewer-310101', reason: 'Grid staff are in place' },
        { street: '310101013', state: 'REJECTED', inForce: false, reviewedBy: 'reviewer-310101', reason: 'No grid staff on the Bund yet' },
      ]);

      const inForce = async () =>
        (await run('streetAdmin', `{ me { dutiesInForce { id } } }`)).data.me.dutiesInForce.map((d: { id: string }) => d.id);
      expect(await inForce()).toContain('grid-inspection');

      // In force: the standing grant (name masked) now serves Nanjing East Road; phone is not granted.
      const nameOnly = await run('clerk', `{ people(first: 1) { edges { node { name streetCode } } } }`, undefined, 'grid-inspection');
      expect(nameOnly.errors).toBeUndefined();
      expect(nameOnly.data.people.edges[0].node.streetCode).toBe('310101002');
      const noPhone = await run('clerk', OPS.read, undefined, 'grid-inspection');
      expect(noPhone.errors[0].extensions.forbiddenFields).toEqual(['population.phone', 'population.residenceAddress']);

      const asked = await run('streetAdmin', OPS.request, {
        input: {
          duty: 'grid-inspection',
          dataset: 'population',
          fields: [
            { field: 'phone', access: 'FULL' },
            { field: 'residenceAddress', access: 'FULL' },
            { field: 'gender', access: 'FULL' },
            { field: 'streetCode', access: 'FULL' },
          ],
          reason: 'Inspectors call ahead before visiting a dwelling',
          legalBasis: '沪城管规〔2026〕9号',
          validUntil: '2099-12-31',
        },
      });
      expect(asked.errors).toBeUndefined();
      const request = asked.data.requestAccess;
      expect(request.state).toBe('PENDING');
      const change = (field: string) => request.changes.find((c: { field: string }) => c.field === `population.${field}`);
      expect(change('phone')).toEqual({ field: 'population.phone', today: 'denied', after: 'full', changed: true });
      expect(change('name')).toEqual({ field: 'population.name', today: 'masked', after: 'masked', changed: false });
      expect(change('gender')).toMatchObject({ today: 'denied', after: 'full' });

      const approved = await run('owner', OPS.approve, {
        id: request.id,
        fields: [
          { field: 'phone', access: 'MASKED' },
          { field: 'residenceAddress', access: 'FULL' },
          { field: 'streetCode', access: 'FULL' },
        ],
        validUntil: '2099-06-30',
        reason: 'Phone masked: inspectors need to recognise a number, not dial it from here; gender is not needed',
      });
      expect(approved.errors).toBeUndefined();
      const decided = approved.data.reviewAccessRequest;
      expect(decided.state).toBe('APPROVED');
      expect(decided.decision).toMatchObject({ decision: 'APPROVE', reviewer: 'owner-psb' });
      const grant = decided.grant;
      expect(grant).toMatchObject({ state: 'ACTIVE', streets: ['310101002'], approvedBy: 'owner-psb', request: { id: request.id }, fromFiles: false });
      // jsonb keeps its own key order.
      expect([...grant.fields].sort((a: { field: string }, b: { field: string }) => a.field.localeCompare(b.field))).toEqual([
        { field: 'phone', access: 'masked' },
        { field: 'residenceAddress', access: 'full' },
        { field: 'streetCode', access: 'full' },
      ]);

      // The clerk reads exactly the narrowed fields: phone masked, address in full, gender refused.
      const read = await run('clerk', OPS.read, undefined, 'grid-inspection');
      expect(read.errors).toBeUndefined();
      expect(read.data.people.totalCount).toBeGreaterThan(0);
      for (const { node } of read.data.people.edges) {
        expect(node.phone).toMatch(/^\d{3}\*{4}\d{4}$/);
        expect(node.residenceAddress).not.toContain('***');
        expect(node.name).toMatch(/\*/);
        expect(node.streetCode).toBe('310101002');
      }
      const gender = await run('clerk', `{ people(first: 1) { edges { node { gender } } } }`, undefined, 'grid-inspection');
      expect(gender.errors[0].extensions.forbiddenFields).toEqual(['population.gender']);

      const withdrawn = await run('owner', OPS.withdrawGrant, { id: grant.id, reason: 'The pilot ends; inspectors use the hotline' });
      expect(withdrawn.errors).toBeUndefined();
      expect(withdrawn.data.withdrawGrant).toMatchObject({ state: 'WITHDRAWN', withdrawnBy: 'owner-psb', withdrawalReason: 'The pilot ends; inspectors use the hotline' });
      const after = await run('clerk', OPS.read, undefined, 'grid-inspection');
      expect(after.errors[0].extensions.code).toBe('FORBIDDEN');
      expect(after.data ?? null).toBeNull();

      const ended = await run('department', OPS.withdrawDelegation, { id: delegation.id, reason: 'Pilot over' });
      expect(ended.data.withdrawDutyDelegation).toMatchObject({ state: 'WITHDRAWN', withdrawnBy: 'admin-urban-management' });
      const refusedDuty = await run('clerk', `{ people(first: 1) { edges { node { name } } } }`, undefined, 'grid-inspection');
      expect(refusedDuty.errors[0].extensions.code).toBe('FORBIDDEN');
      expect(refusedDuty.errors[0].message).toContain('not delegated');
      expect(await inForce()).not.toContain('grid-inspection');
      expect(await inForce()).toContain('elderly-allowance');

      // Every step in the trail, each change with its own event.
      const trail = await run('auditor', OPS.events);
      const changes = trail.data.auditEvents.edges.map((e: { node: { operationName: string } }) => e.node.operationName).filter((n: string) => n?.startsWith('change:'));
      expect(changes.reverse()).toEqual([
        'change:proposeDutyDelegation',
        'change:reviewDutyDelegation',
        'change:reviewDutyDelegation',
        'change:requestAccess',
        'change:reviewAccessRequest',
        'change:withdrawGrant',
        'change:withdrawDutyDelegation',
      ]);
      const names = trail.data.auditEvents.edges.map((e: { node: { operationName: string | null; decision: string } }) => `${e.node.operationName}:${e.node.decision}`);
      for (const op of ['Propose:allow', 'Review:allow', 'Ask:allow', 'Approve:allow', 'WithdrawGrant:allow', 'WithdrawDelegation:allow', 'Residents:allow', 'Residents:deny']) {
        expect(names).toContain(op);
      }
      const approval = trail.data.auditEvents.edges.find((e: { node: { operationName: string } }) => e.node.operationName === 'change:reviewAccessRequest').node;
      expect(JSON.parse(approval.change)).toMatchObject({ action: 'reviewAccessRequest', decision: 'APPROVE', grant: grant.id, fields: { phone: 'masked' } });
    });
  });
}
