/**
 * The embedded demo's admission history and the policy files under the review's rules: admitted
 * delegations for the six duties, one proposal waiting, pending and decided requests (written like
 * the synthetic source data, without audit events), standing grants shown as from files with their
 * document reference, and `policy:check`'s standing-grant warnings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from '../setup.ts';
import { admissionSeeded, seedAdmissionDemo } from '../../demo/admission-seed.ts';
import { standingGrantDocuments, standingPolicyWarnings } from '../../policies/admission/standing-policies.ts';
import { loadPolicyDirectory } from '../../policies/policy-files/load-policy-directory.ts';

describe('the admission demo data (pglite)', () => {
  let gw: TestGateway;
  let auditor: string;
  beforeAll(async () => {
    gw = await createTestGateway();
    expect(await admissionSeeded(gw.runtime.admissionStore)).toBe(false);
    await seedAdmissionDemo({ db: gw.runtime.databases.store, store: gw.runtime.admissionStore, duties: gw.runtime.authorizer.duties() });
    await gw.runtime.policyChanged();
    auditor = await gw.token({ sub: 'auditor-1', org: 'office:security', roles: ['auditor'] });
  }, 120_000);
  afterAll(async () => {
    await gw?.close();
  });

  it('holds admitted delegations of the six duties and one proposal waiting for review', async () => {
    const { body } = await gw.graphql(
      `{ admitted: dutyDelegations(state: ADMITTED, first: 100) { totalCount edges { node { duty legalBasis streets { inForce } } } }
         proposed: dutyDelegations(state: PROPOSED) { totalCount edges { node { id duty streets { street district state } } } } }`,
      { token: auditor },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.admitted.edges.map((e: { node: { duty: string } }) => e.node.duty).sort()).toEqual([
      'elderly-allowance',
      'employment-assistance',
      'grid-inspection',
      'illegal-construction',
      'minimum-living-assistance',
      'rental-registration',
    ]);
    for (const { node } of body.data.admitted.edges) expect(node.streets.every((s: { inForce: boolean }) => s.inForce)).toBe(true);
    expect(body.data.proposed.edges).toEqual([
      {
        node: {
          id: 'dd-demo-grid-inspection-huangpu',
          duty: 'grid-inspection',
          streets: [
            { street: '310101002', district: '310101', state: 'PROPOSED' },
            { street: '310101013', district: '310101', state: 'PROPOSED' },
          ],
        },
      },
    ]);
  });

  it('holds pending and decided requests; the approved one serves its narrowed grant', async () => {
    const { body } = await gw.graphql(`{ accessRequests(first: 50) { edges { node { id state changes { field changed } decision { decision } grant { id state } } } } }`, { token: auditor });
    const states = body.data.accessRequests.edges.map((e: { node: { state: string } }) => e.node.state).sort();
    expect(states).toEqual(['APPROVED', 'CANCELLED', 'PENDING', 'PENDING', 'PENDING', 'REJECTED']);
    const pending = body.data.accessRequests.edges.find((e: { node: { id: string } }) => e.node.id === 'ar-demo-elderly-phone').node;
    expect(pending.changes.find((c: { field: string }) => c.field === 'population.phone').changed).toBe(true);
    const approved = body.data.accessRequests.edges.find((e: { node: { state: string } }) => e.node.state === 'APPROVED').node;
    expect(approved.grant).toEqual({ id: 'grant-ar-demo-grid-residents', state: 'ACTIVE' });
    const clerk = await gw.token({ sub: 'clerk-fenglin', org: 'street:310104008', roles: ['street_staff'] });
    const read = await gw.graphql(`{ people(first: 2) { edges { node { name residenceAddress } } } }`, { token: clerk, purpose: 'grid-inspection' });
    expect(read.body.errors).toBeUndefined();
    for (const { node } of read.body.data.people.edges) expect(node.residenceAddress).toContain('***');
  });

  it('is demo data, not anybody\'s act: it leaves no audit events', async () => {
    const { body } = await gw.graphql(`{ auditEvents(first: 100) { edges { node { operationName } } } }`, { token: auditor });
    const names = body.data.auditEvents.edges.map((e: { node: { operationName: string } }) => e.node.operationName);
    expect(names.filter((n: string | null) => n?.startsWith('change:'))).toEqual([]);
  });

  it('shows standing grants as from files, with their document reference', async () => {
    const owner = await gw.token({ sub: 'owner-psb', org: 'dept:public-security', roles: ['data_owner'] });
    const { body } = await gw.graphql(`{ grants(dataset: "population") { id fromFiles document state approvedBy } }`, { token: owner });
    const standing = body.data.grants.find((g: { id: string }) => g.id === 'population-elderly-allowance');
    expect(standing).toEqual({ id: 'population-elderly-allowance', fromFiles: true, document: 'policies/grants/population.yaml:7', state: 'ACTIVE', approvedBy: null });
    const reviewed = body.data.grants.find((g: { id: string }) => g.id === 'grant-ar-demo-grid-residents');
    expect(reviewed).toMatchObject({ fromFiles: false, document: null, approvedBy: 'owner-psb' });
    expect(body.data.grants.find((g: { id: string }) => g.id === 'population-elderly-allowance-phone-expired').state).toBe('EXPIRED');
  });
});

describe('policy:check under the admission rules', () => {
  it('warns of a standing grant naming a street its duty is not delegated to', async () => {
    const { set } = await loadPolicyDirectory();
    const documents = await standingGrantDocuments();
    expect(standingPolicyWarnings(set, documents)).toEqual([]);
    const stray = { ...set.grants.find((g) => g.id === 'housing-grid-inspection')!, id: 'stray', streets: ['310101002'] };
    const warnings = standingPolicyWarnings({ ...set, grants: [stray] }, documents);
    expect(warnings.map((w) => w.message)).toEqual([
      "warning: grant 'stray' names 310101002, where duty 'grid-inspection' has no standing delegation; it serves there only while an admitted delegation is in force",
    ]);
  });
});
