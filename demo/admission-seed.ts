/**
 * The embedded demo's admission review: admitted delegations of the six duties of DOMAIN.md to
 * the streets the policy files give them, one proposal waiting for its district reviewer, and a
 * few access requests (pending, approved narrower, rejected, cancelled). Written with the store's
 * own operations in one transaction, like the synthetic source data: demo data is nobody's
 * administrative act, so it leaves no audit events (every change made through the API does).
 * Synthetic: the document numbers have the shape of real ones and refer to nothing.
 */
import type { Kysely, Transaction } from 'kysely';
import { districtOfStreet, type Role } from '../core/identity.ts';
import type { DatasetName } from '../core/datasets.ts';
import type { Condition } from '../core/conditions.ts';
import type { AdmissionStore } from '../policies/admission-store.ts';
import { PolicyStore } from '../policies/policy-store.ts';
import type { DutyDef } from '../policies/policy-definitions.ts';
import type { FieldAccess } from '../policies/access-plan.ts';
import { requestGrant, type AccessRequest } from '../policies/admission/access-request.ts';
import { SYNTHETIC_STREET_CODES } from './synthetic-data.ts';

export interface AdmissionSeedDeps {
  /** The gateway store. */
  readonly db: Kysely<any>;
  readonly store: AdmissionStore;
  readonly duties: readonly DutyDef[];
}

const LEGAL_BASIS: Readonly<Record<string, string>> = {
  'elderly-allowance': '沪民规〔2026〕1号',
  'minimum-living-assistance': '沪民规〔2026〕3号',
  'rental-registration': '沪房规〔2026〕2号',
  'illegal-construction': '沪城管规〔2026〕4号',
  'grid-inspection': '沪城管规〔2026〕5号',
  'employment-assistance': '沪人社规〔2026〕6号',
};

/** Demo end of every period: far enough for a demo, never open-ended. */
const UNTIL = '2027-12-31T16:00:00.000Z';

interface Actor {
  readonly sub: string;
  readonly org: string;
  readonly roles: Role[];
}

const deptAdmin = (org: string): Actor => ({ sub: `admin-${org.slice(5)}`, org, roles: ['department_admin'] });
const reviewer = (district: string): Actor => ({ sub: `reviewer-${district}`, org: `district:${district}`, roles: ['district_reviewer'] });
const streetAdmin = (street: string): Actor => ({ sub: street === '310101002' ? 'admin-nanjing-east' : `admin-${street}`, org: `street:${street}`, roles: ['street_admin'] });
const owner = (org: string): Actor => ({ sub: org === 'dept:public-security' ? 'owner-psb' : `owner-${org.slice(5)}`, org, roles: ['data_owner'] });

interface DemoRequest {
  readonly id: string;
  readonly street: string;
  readonly duty: string;
  readonly dataset: DatasetName;
  readonly owner: string;
  readonly fields: Record<string, FieldAccess>;
  readonly rows: Condition | null;
  readonly reason: string;
  readonly validUntil: string;
  readonly outcome: 'pending' | 'cancelled' | 'rejected' | { approved: Record<string, FieldAccess> };
  readonly decisionReason?: string;
}

const REQUESTS: readonly DemoRequest[] = [
  {
    id: 'ar-demo-elderly-phone',
    street: '310101002',
    duty: 'elderly-allowance',
    dataset: 'population',
    owner: 'dept:public-security',
    fields: { idNumber: 'full', name: 'full', phone: 'masked', streetCode: 'full' },
    rows: { field: 'age', op: 'gte', value: 65 },
    reason: 'Home visits to allowance applicants need a contact number',
    validUntil: '2027-06-30T16:00:00.000Z',
    outcome: 'pending',
  },
  {
    id: 'ar-demo-rental-area',
    street: '310104003',
    duty: 'rental-registration',
    dataset: 'housing',
    owner: 'dept:housing',
    fields: { id: 'full', address: 'full', buildingArea: 'full', streetCode: 'full' },
    rows: null,
    reason: 'Group rentals are judged by floor area per tenant',
    validUntil: '2027-03-31T16:00:00.000Z',
    outcome: 'pending',
  },
  {
    id: 'ar-demo-employment-insurance',
    street: '310101002',
    duty: 'employment-assistance',
    dataset: 'social_security',
    owner: 'dept:hrss',
    fields: { medicalInsuranceType: 'full' },
    rows: null,
    reason: 'Job seekers without insurance are referred to the resident scheme',
    validUntil: '2027-06-30T16:00:00.000Z',
    outcome: 'pending',
  },
  {
    id: 'ar-demo-grid-residents',
    street: '310104008',
    duty: 'grid-inspection',
    dataset: 'population',
    owner: 'dept:public-security',
    fields: { name: 'masked', residenceAddress: 'full', streetCode: 'full' },
    rows: null,
    reason: 'Inspectors check who lives at an address they visit',
    validUntil: '2027-12-31T16:00:00.000Z',
    outcome: { approved: { name: 'masked', residenceAddress: 'masked', streetCode: 'full' } },
    decisionReason: 'Approved with the address masked: the inspector stands at the address already',
  },
  {
    id: 'ar-demo-assistance-phone',
    street: '310101013',
    duty: 'minimum-living-assistance',
    dataset: 'population',
    owner: 'dept:public-security',
    fields: { idNumber: 'full', phone: 'full', streetCode: 'full' },
    rows: null,
    reason: 'Call claimants about missing documents',
    validUntil: '2027-06-30T16:00:00.000Z',
    outcome: 'rejected',
    decisionReason: 'The claim review does not need phone numbers: claimants are written to at their registered address',
  },
  {
    id: 'ar-demo-construction-tenure',
    street: '310104004',
    duty: 'illegal-construction',
    dataset: 'housing',
    owner: 'dept:housing',
    fields: { id: 'full', tenure: 'full', streetCode: 'full' },
    rows: null,
    reason: 'Tenants are told about enforcement separately',
    validUntil: '2027-06-30T16:00:00.000Z',
    outcome: 'cancelled',
    decisionReason: 'Asked by mistake: the enforcement procedure reaches tenants already',
  },
];

/** Whether the admission review already holds anything (then the demo is not seeded again). */
export async function admissionSeeded(store: AdmissionStore): Promise<boolean> {
  return (await store.delegations()).length > 0;
}

export async function seedAdmissionDemo(deps: AdmissionSeedDeps): Promise<void> {
  await deps.db.transaction().execute((trx) => seedIn(trx, deps));
}

async function seedIn(trx: Transaction<any>, deps: AdmissionSeedDeps): Promise<void> {
  const at = new Date();
  // Each step names who takes it and what it is, as the API would record it; here only the change runs.
  const step = <T>(_deps: AdmissionSeedDeps, _actor: Actor, _action: string, change: (t: Transaction<any>) => Promise<T>, _describe?: (r: T) => unknown) => change(trx);
  for (const duty of deps.duties) {
    const legalBasis = LEGAL_BASIS[duty.id];
    if (!legalBasis) continue;
    const streets = duty.streets === 'all' ? SYNTHETIC_STREET_CODES : duty.streets;
    const id = `dd-demo-${duty.id}`;
    await step(
      deps,
      deptAdmin(duty.delegatedBy),
      'proposeDutyDelegation',
      (trx) =>
        deps.store.insertDelegation(
          trx,
          { id, duty: duty.id, delegatedBy: duty.delegatedBy, legalBasis, validFrom: null, validUntil: UNTIL, note: 'demo data', proposedBy: deptAdmin(duty.delegatedBy).sub, streets: streets.map((street) => ({ street, district: districtOfStreet(street)! })) },
          at,
        ),
      (d) => ({ delegation: d.id, duty: d.duty, streets: d.streets.map((s) => s.street), legalBasis }),
    );
    for (const district of [...new Set(streets.map((s) => districtOfStreet(s)!))]) {
      const ours = streets.filter((s) => districtOfStreet(s) === district);
      await step(
        deps,
        reviewer(district),
        'reviewDutyDelegation',
        (trx) => deps.store.answerStreets(trx, id, ours, { state: 'ADMITTED', by: reviewer(district).sub, at, reason: 'Within the district streets\' remit; staff trained (demo data)' }),
        () => ({ delegation: id, duty: duty.id, decision: 'ADMITTED', streets: ours }),
      );
    }
  }
  // Waiting for the Huangpu reviewer: grid inspection handed down to two Huangpu streets too.
  await step(
    deps,
    deptAdmin('dept:urban-management'),
    'proposeDutyDelegation',
    (trx) =>
      deps.store.insertDelegation(
        trx,
        {
          id: 'dd-demo-grid-inspection-huangpu',
          duty: 'grid-inspection',
          delegatedBy: 'dept:urban-management',
          legalBasis: '沪城管规〔2026〕7号',
          validFrom: null,
          validUntil: UNTIL,
          note: 'Extend grid inspection to Huangpu (demo data)',
          proposedBy: deptAdmin('dept:urban-management').sub,
          streets: [
            { street: '310101002', district: '310101' },
            { street: '310101013', district: '310101' },
          ],
        },
        at,
      ),
    (d) => ({ delegation: d.id, duty: d.duty, streets: d.streets.map((s) => s.street) }),
  );

  for (const r of REQUESTS) {
    const asker = streetAdmin(r.street);
    const created = await step(
      deps,
      asker,
      'requestAccess',
      (trx) => deps.store.insertRequest(trx, { id: r.id, street: r.street, duty: r.duty, dataset: r.dataset, fields: r.fields, rows: r.rows, reason: r.reason, legalBasis: LEGAL_BASIS[r.duty]!, validUntil: r.validUntil, requestedBy: asker.sub }, at),
      (x) => ({ request: x.id, street: x.street, duty: x.duty, dataset: x.dataset, fields: x.fields }),
    );
    if (r.outcome === 'pending') continue;
    if (r.outcome === 'cancelled') {
      await step(deps, asker, 'cancelAccessRequest', (trx) => deps.store.cancelRequest(trx, r.id, asker.sub, at, r.decisionReason!), () => ({ request: r.id }));
      continue;
    }
    const by = owner(r.owner);
    if (r.outcome === 'rejected') {
      await step(deps, by, 'reviewAccessRequest', (trx) => deps.store.decideRequest(trx, r.id, { state: 'REJECTED', by: by.sub, at, reason: r.decisionReason! }), () => ({ request: r.id, decision: 'REJECT' }));
      continue;
    }
    const fields = r.outcome.approved;
    const grantId = `grant-${r.id}`;
    await step(
      deps,
      by,
      'reviewAccessRequest',
      async (trx) => {
        const decided = (await deps.store.decideRequest(trx, r.id, { state: 'APPROVED', by: by.sub, at, reason: r.decisionReason!, approvedFields: fields, approvedRows: r.rows, approvedUntil: r.validUntil, grantId })) as AccessRequest;
        await new PolicyStore(trx).createGrant(requestGrant(created, { fields, rows: r.rows, validUntil: r.validUntil, untilMs: Date.parse(r.validUntil) }, grantId), by.sub);
        await deps.store.recordApproval(trx, { grantId, requestId: r.id, by: by.sub, at, reason: r.decisionReason!, legalBasis: decided.legalBasis });
        return decided;
      },
      () => ({ request: r.id, decision: 'APPROVE', grant: grantId, fields }),
    );
  }
}
