/**
 * The authorizer decides a plan on the lines of its (duty, street) and the duty's all-streets lines
 * only. These cases put lines next to each other that differ in exactly one of duty, street or
 * grant validity: an index that left out a line that can match shows as a wrong decision (lines it
 * wrongly kept would still be filtered out by Casbin's matcher, and must be). No database: the
 * authorizer reads its narrow PolicySource port, here in memory, through the real Casbin adapter.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { admitGrant } from '../../policies/grant-admission.ts';
import { CasbinAuthorizer, type PolicySource } from '../../policies/casbin/casbin-authorizer.ts';
import type { DutyDef, GrantDef } from '../../policies/policy-definitions.ts';
import { casbinLines, type StoredGrant } from '../../policies/policy-store.ts';

/** The policy store as the authorizer reads it, in memory: lines derived from grants as the store derives them. */
function memoryPolicies(): PolicySource & { upsertDuty(duty: DutyDef): Promise<void>; createGrant(grant: GrantDef, by: string): Promise<void> } {
  const duties = new Map<string, DutyDef>();
  const grants = new Map<string, StoredGrant>();
  let version = 0;
  return {
    version: async () => version,
    duties: async () => [...duties.values()],
    grants: async () => [...grants.values()],
    casbinRules: async () => [...grants.values()].flatMap((g) => casbinLines(g).map((line) => ['p', ...line])),
    async upsertDuty(duty) {
      duties.set(duty.id, duty);
      version++;
    },
    async createGrant(grant, by) {
      grants.set(grant.id, { ...admitGrant(grant), origin: 'api', createdBy: by, createdAt: new Date(0).toISOString(), revokedAt: null, revokedBy: null });
      version++;
    },
  } as PolicySource & { upsertDuty(duty: DutyDef): Promise<void>; createGrant(grant: GrantDef, by: string): Promise<void> };
}

const OURS = '310101990';
const OTHER = '310101991';
const DUTY = 'index-duty';
const OTHER_DUTY = 'index-other-duty';

function grant(id: string, streets: GrantDef['streets'], duty: string, fields: GrantDef['fields'], extra: Partial<GrantDef> = {}): GrantDef {
  return { id, owner: 'dept:public-security', dataset: 'population', duty, streets, fields, rows: null, validFrom: null, validUntil: null, ...extra };
}

describe('authorizer: plans decided on their own lines', () => {
  let authorizer: CasbinAuthorizer;

  beforeAll(async () => {
    const store = memoryPolicies();
    for (const id of [DUTY, OTHER_DUTY]) await store.upsertDuty({ id, title: id, delegatedBy: 'dept:civil-affairs', streets: 'all' });
    await store.createGrant(grant('g-ours-name', [OURS], DUTY, { name: 'full' }), 'test');
    await store.createGrant(grant('g-all-phone', 'all', DUTY, { phone: 'masked' }), 'test');
    await store.createGrant(grant('g-other-street', [OTHER], DUTY, { idNumber: 'full', ethnicity: 'full' }), 'test');
    await store.createGrant(grant('g-other-duty', [OURS], OTHER_DUTY, { gender: 'full' }), 'test');
    await store.createGrant(grant('g-expired', [OURS], DUTY, { birthDate: 'full' }, { validUntil: '2001-01-01T00:00:00Z' }), 'test');
    // Lines of many other streets under the same duty: none of them may count for ours.
    // Two grants of one duty with different row conditions: rows are the union, and a field shows
    // on a row only where a grant admitting that row grants it.
    const OVERLAP = 'index-overlap-duty';
    await store.upsertDuty({ id: OVERLAP, title: OVERLAP, delegatedBy: 'dept:civil-affairs', streets: 'all' });
    await store.createGrant(grant('g-elderly-phone', [OURS], OVERLAP, { name: 'full', phone: 'full', residenceAddress: 'full', streetCode: 'full' }, { rows: { field: 'age', op: 'gte', value: 65 } }), 'test');
    await store.createGrant(grant('g-everyone-name', [OURS], OVERLAP, { name: 'full', residenceAddress: 'masked', streetCode: 'full' }), 'test');
    await store.createGrant(grant('g-young-gender', [OTHER], OVERLAP, { gender: 'full', name: 'full', streetCode: 'full' }, { rows: { field: 'age', op: 'lt', value: 30 } }), 'test');
    await store.createGrant(grant('g-old-gender', [OTHER], OVERLAP, { gender: 'masked', name: 'full', streetCode: 'full' }, { rows: { field: 'age', op: 'gte', value: 80 } }), 'test');
    const many = Array.from({ length: 200 }, (_, i) => `3109${String(i).padStart(5, '0')}`);
    await store.createGrant(grant('g-many-streets', many, DUTY, { residenceAddress: 'full', hukouAddress: 'full' }), 'test');
    authorizer = await CasbinAuthorizer.create({ store });
  });


  const access = (org: string, duty: string, field: string) => authorizer.explain(`street:${org}`, duty, [`population.${field}`])[0]!;

  it('counts the street’s own lines and the duty’s all-streets lines, naming the grant', () => {
    expect(access(OURS, DUTY, 'name')).toMatchObject({ access: 'full', grant: 'g-ours-name' });
    expect(access(OURS, DUTY, 'phone')).toMatchObject({ access: 'masked', grant: 'g-all-phone' });
    expect(access(OTHER, DUTY, 'phone')).toMatchObject({ access: 'masked', grant: 'g-all-phone' });
    expect(access(OTHER, DUTY, 'idNumber')).toMatchObject({ access: 'full', grant: 'g-other-street' });
    expect(access('310900007', DUTY, 'hukouAddress')).toMatchObject({ access: 'full', grant: 'g-many-streets' });
  });

  it('never lends a line of another street, another duty or an expired grant', () => {
    expect(access(OURS, DUTY, 'idNumber').access).toBe('denied');
    expect(access(OURS, DUTY, 'ethnicity').access).toBe('denied');
    expect(access(OURS, DUTY, 'hukouAddress').access).toBe('denied');
    expect(access(OURS, DUTY, 'gender').access).toBe('denied');
    expect(access(OURS, OTHER_DUTY, 'gender')).toMatchObject({ access: 'full', grant: 'g-other-duty' });
    expect(access(OURS, OTHER_DUTY, 'name').access).toBe('denied');
    expect(access(OURS, OTHER_DUTY, 'phone').access).toBe('denied');
    expect(access(OURS, DUTY, 'birthDate').access).toBe('denied');
    expect(access(OTHER, DUTY, 'name').access).toBe('denied');
  });

  it('combines grants with different row conditions row by row, naming each grant', () => {
    const OVERLAP = 'index-overlap-duty';
    // Granted alike by every grant that admits rows: one level, on every row.
    expect(access(OURS, OVERLAP, 'name')).toMatchObject({ access: 'full' });
    expect(access(OURS, OVERLAP, 'name').varies).toBeFalsy();
    // Granted by the 65+ grant only, while another grant admits everyone: shown on the elderly
    // grant's rows only (the per-row picture is in the plan).
    const phone = access(OURS, OVERLAP, 'phone');
    expect(phone).toMatchObject({ access: 'full', varies: true });
    expect(phone.rule).toContain('g-elderly-phone');
    expect(phone.rule).toContain('not shown on other rows');
    expect(phone.byGrant).toEqual(
      expect.arrayContaining([
        { grant: 'g-elderly-phone', access: 'full', rows: { field: 'age', op: 'gte', value: 65 } },
        { grant: 'g-everyone-name', access: 'none', rows: null },
      ]),
    );
    // Full under the conditional grant, masked under the all-rows one: depends on the row.
    expect(access(OURS, OVERLAP, 'residenceAddress')).toMatchObject({ access: 'full', varies: true });
    // Two conditional grants, full under one and masked under the other.
    expect(access(OTHER, OVERLAP, 'gender')).toMatchObject({ access: 'full', varies: true });
    expect(access(OTHER, OVERLAP, 'name')).toMatchObject({ access: 'full' });
    // One condition only (the usual case): nothing changes.
    expect(access(OURS, DUTY, 'name')).toMatchObject({ access: 'full', grant: 'g-ours-name' });
    const plan = authorizer.plan(`street:${OURS}`, DUTY);
    expect(plan.datasets.get('population')?.perRow).toBeUndefined();
    const overlap = authorizer.plan(`street:${OURS}`, OVERLAP).datasets.get('population')!;
    expect(overlap.perRow?.tags).toEqual([{ field: 'age', op: 'gte', value: 65 }]);
    expect(overlap.perRow?.shownUnder).toEqual({ phone: [0] });
    expect(overlap.scope.conditions).toEqual([]);
  });

  it('decides the same again after a reload (the index is rebuilt, not appended to)', async () => {
    await authorizer.reload(true);
    expect(access(OURS, DUTY, 'name')).toMatchObject({ access: 'full', grant: 'g-ours-name' });
    expect(access(OURS, DUTY, 'idNumber').access).toBe('denied');
    expect(access(OTHER, DUTY, 'phone')).toMatchObject({ access: 'masked', grant: 'g-all-phone' });
  });
});
