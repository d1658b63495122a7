/**
 * The emergency rules on their own (no database): the widening adds the emergency fields of the
 * session's duty and street and nothing else, never widens rows, restricts a one-person session to
 * that person on every dataset; who may use, end and review a session; the start's limits; the
 * grant clause's validation in the policy files.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DATASETS, type DatasetName } from '../../core/datasets.ts';
import type { Condition } from '../../core/conditions.ts';
import { canonicalJson } from '../../core/canonical-json.ts';
import type { Role, Viewer } from '../../core/identity.ts';
import type { AccessPlan, DatasetAccess, FieldAccess } from '../../policies/access-plan.ts';
import type { StoredGrant } from '../../policies/policy-store.ts';
import { emergencyGrants, subjectCondition, widenPlan } from '../../policies/emergency/emergency-plan.ts';
import { checkEnd, checkReview, planStart, readRefusal } from '../../policies/emergency/emergency-rules.ts';
import type { EmergencySession } from '../../policies/emergency/emergency-session.ts';
import { parseGrantsFile } from '../../policies/policy-files/parse-policy-files.ts';
import { GatewayError } from '../../core/errors.ts';

const NOW = Date.parse('2026-12-04T10:00:00Z');
const STREETS = ['310101002', '310101013'];
const DUTIES = ['elderly-allowance', 'rental-registration'];
const NAMES = Object.keys(DATASETS) as DatasetName[];
const visible = (d: DatasetName) => DATASETS[d].fields.filter((f) => !f.internal).map((f) => f.name);
const LEVEL: Record<FieldAccess, number> = { masked: 1, full: 2 };

const access = fc.constantFrom<FieldAccess>('full', 'masked');
const fieldsOf = (d: DatasetName) => fc.dictionary(fc.constantFrom(...visible(d)), access, { minKeys: 0, maxKeys: 4 });
const condition = (d: DatasetName): fc.Arbitrary<Condition> => fc.constantFrom(...visible(d)).map((f) => ({ field: f, op: 'eq' as const, value: `v-${f}` }));

const datasetAccess = (street: string) =>
  fc.constantFrom(...NAMES).chain((d) =>
    fc.record({ fields: fieldsOf(d), conditions: fc.array(condition(d), { maxLength: 2 }) }).map(
      ({ fields, conditions }): DatasetAccess => ({ dataset: d, fields: new Map(Object.entries(fields)), scope: { streets: [street], conditions }, grants: ['g-base'] }),
    ),
  );

const plan = fc.record({ street: fc.constantFrom(...STREETS), duty: fc.constantFrom(...DUTIES) }).chain(({ street, duty }) =>
  fc.array(datasetAccess(street), { maxLength: 3 }).map(
    (list): AccessPlan => ({
      org: `street:${street}`,
      purpose: duty,
      street,
      policyVersion: 1,
      refusal: null,
      datasets: new Map(list.map((a) => [a.dataset, a])),
      decisions: new Map(),
      expiresAt: Number.POSITIVE_INFINITY,
    }),
  ),
);

const grant = fc.constantFrom(...NAMES).chain((d) =>
  fc.record({
    id: fc.constantFrom('g-a', 'g-b', 'g-c', 'g-d', 'g-e'),
    duty: fc.constantFrom(...DUTIES),
    streets: fc.oneof(fc.constant('all' as const), fc.subarray(STREETS, { minLength: 1 })),
    rows: fc.option(condition(d), { nil: null }),
    emergency: fc.option(fc.record({ fields: fieldsOf(d), maxMinutes: fc.integer({ min: 1, max: 120 }) }), { nil: null }),
    revoked: fc.boolean(),
    expired: fc.boolean(),
  }).map(
    (g): StoredGrant => ({
      id: g.id,
      owner: DATASETS[d].owner,
      dataset: d,
      duty: g.duty,
      streets: g.streets === 'all' ? 'all' : [...g.streets],
      fields: { streetCode: 'full' },
      rows: g.rows,
      validFrom: null,
      validUntil: g.expired ? '2026-01-01T00:00:00Z' : null,
      emergency: g.emergency,
      origin: 'file',
      createdBy: 'test',
      createdAt: '2026-01-01T00:00:00Z',
      revokedAt: g.revoked ? '2026-02-01T00:00:00Z' : null,
      revokedBy: null,
    }),
  ),
);

function session(over: Partial<EmergencySession> = {}): EmergencySession {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    userSub: 'alice',
    org: 'street:310101002',
    street: '310101002',
    duty: 'elderly-allowance',
    subjectIdNumber: null,
    reason: 'r'.repeat(20),
    caseRef: 'C-1',
    grants: [],
    fields: [],
    owners: ['dept:public-security'],
    startedAt: new Date(NOW - 60_000),
    expiresAt: new Date(NOW + 60_000),
    endedAt: null,
    endedBy: null,
    verdict: null,
    reviewNote: null,
    reviewedBy: null,
    reviewedAt: null,
    ...over,
  };
}

const keyOf = (c: Condition) => canonicalJson(c);

describe('widenPlan', () => {
  it('adds exactly the emergency fields of the valid grants of the session street and duty, and never widens rows', () => {
    fc.assert(
      fc.property(plan, fc.array(grant, { maxLength: 6 }), fc.option(fc.constant('310101199001011234'), { nil: null }), (base, grants, subject) => {
        const s = session({ street: base.street!, org: base.org, duty: base.purpose, subjectIdNumber: subject });
        const chosen = emergencyGrants(grants, s.street, s.duty, NOW);
        // Only grants in force, with a clause, for this duty and street.
        for (const g of chosen) {
          expect(g.revokedAt).toBeNull();
          expect(g.validUntil).toBeNull();
          expect(g.duty).toBe(s.duty);
          expect(g.streets === 'all' || g.streets.includes(s.street)).toBe(true);
        }
        const wide = widenPlan(base, s, chosen);
        for (const [name, data] of wide.datasets) {
          const before = base.datasets.get(name);
          const own = chosen.filter((g) => g.dataset === name);
          expect(before || own.length > 0).toBeTruthy();
          // Rows: the same street, every condition of the normal plan, every clause's grant condition, and the subject.
          expect(data.scope.streets).toEqual([s.street]);
          const keys = new Set(data.scope.conditions.map(keyOf));
          for (const c of before?.scope.conditions ?? []) expect(keys.has(keyOf(c))).toBe(true);
          for (const g of own) if (g.rows) expect(keys.has(keyOf(g.rows))).toBe(true);
          if (subject) expect(keys.has(keyOf(subjectCondition(name, subject)))).toBe(true);
          // Fields: each is the better of the normal access and the clauses' access, nothing more.
          for (const [field, got] of data.fields) {
            const levels = [before?.fields.get(field), ...own.map((g) => g.emergency.fields[field])].filter((a): a is FieldAccess => !!a);
            expect(levels.length).toBeGreaterThan(0);
            expect(LEVEL[got]).toBe(Math.max(...levels.map((a) => LEVEL[a])));
          }
          for (const [field] of before?.fields ?? []) expect(data.fields.has(field)).toBe(true);
          for (const g of own) for (const field of Object.keys(g.emergency.fields)) expect(data.fields.has(field)).toBe(true);
        }
        for (const name of base.datasets.keys()) expect(wide.datasets.has(name)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('leaves a plan of another street or duty, or a refused plan, as it is', () => {
    fc.assert(
      fc.property(plan, fc.array(grant, { maxLength: 4 }), (base, grants) => {
        const otherDuty = session({ street: base.street!, duty: DUTIES.find((d) => d !== base.purpose)! });
        expect(widenPlan(base, otherDuty, emergencyGrants(grants, otherDuty.street, otherDuty.duty, NOW))).toBe(base);
        const otherStreet = session({ street: STREETS.find((x) => x !== base.street)!, duty: base.purpose });
        expect(widenPlan(base, otherStreet, emergencyGrants(grants, otherStreet.street, otherStreet.duty, NOW))).toBe(base);
        const refused = { ...base, refusal: 'not delegated' };
        expect(widenPlan(refused, session({ street: base.street!, duty: base.purpose }), [])).toBe(refused);
      }),
    );
  });
});

describe('widenPlan with row-dependent access (overlapping grants)', () => {
  const young: Condition = { field: 'age', op: 'lt', value: 65 };
  const old: Condition = { field: 'age', op: 'gte', value: 65 };
  // name: masked on every row, full where `old` holds; phone: shown only where `young` holds.
  const base: AccessPlan = {
    org: 'street:310101002',
    purpose: 'elderly-allowance',
    street: '310101002',
    policyVersion: 1,
    refusal: null,
    datasets: new Map([
      [
        'population',
        {
          dataset: 'population',
          fields: new Map<string, FieldAccess>([['streetCode', 'full'], ['name', 'full'], ['phone', 'masked']]),
          scope: { streets: ['310101002'], conditions: [{ any: [young, old] }] },
          grants: ['a', 'b'],
          perRow: {
            tags: [young, old],
            tagGrants: [['a'], ['b']],
            levels: new Map([
              ['name', { base: 1, byTag: [1, 2] }],
              ['phone', { base: 0, byTag: [1, 0] }],
            ]),
            shownUnder: { phone: [0] },
          },
        },
      ],
    ]),
    decisions: new Map(),
    expiresAt: Number.POSITIVE_INFINITY,
  };
  const clause = (fields: Record<string, FieldAccess>) =>
    ({ id: 'b', dataset: 'population', duty: 'elderly-allowance', streets: 'all', rows: old, emergency: { fields, maxMinutes: 60 } }) as never;

  it('keeps the per-row rules of the fields the session does not raise', () => {
    const wide = widenPlan(base, session(), [clause({ hukouAddress: 'full' })]);
    const data = wide.datasets.get('population')!;
    expect(data.perRow?.levels.get('name')).toEqual({ base: 1, byTag: [1, 2] });
    expect(data.perRow?.levels.get('phone')).toEqual({ base: 0, byTag: [1, 0] });
    expect(data.perRow?.shownUnder).toEqual({ phone: [0] });
    expect(data.fields.get('hukouAddress')).toBe('full');
    // The rows: only those of the clause's grant (old), inside the normal scope.
    expect(data.scope.conditions).toEqual([{ any: [young, old] }, old]);
  });

  it('raises a row-dependent field to the clause level on every row left in scope', () => {
    const wide = widenPlan(base, session(), [clause({ phone: 'full', name: 'masked' })]);
    const data = wide.datasets.get('population')!;
    expect(data.perRow?.levels.has('phone')).toBe(false);
    expect(data.perRow?.shownUnder).toEqual({});
    expect(data.fields.get('phone')).toBe('full');
    // Masked does not lower what the normal plan gives.
    expect(data.perRow?.levels.get('name')).toEqual({ base: 1, byTag: [1, 2] });
  });
});

const viewer = (sub: string, org: string, ...roles: Role[]): Viewer => ({ sub, org, roles });

describe('who may use a session', () => {
  const s = session();
  const cases: [string, Viewer | undefined, string | undefined, EmergencySession | undefined, RegExp | null][] = [
    ['its user, its duty, open', viewer('alice', 'street:310101002', 'street_staff'), 'elderly-allowance', s, null],
    ['another user', viewer('bob', 'street:310101002', 'street_staff'), 'elderly-allowance', s, /no emergency session of yours/],
    ['the same id in another street', viewer('alice', 'street:310101013', 'street_staff'), 'elderly-allowance', s, /no emergency session of yours/],
    ['without street_staff', viewer('alice', 'street:310101002', 'street_admin'), 'elderly-allowance', s, /street_staff/],
    ['another duty', viewer('alice', 'street:310101002', 'street_staff'), 'rental-registration', s, /is for duty/],
    ['no duty', viewer('alice', 'street:310101002', 'street_staff'), undefined, s, /is for duty/],
    ['ended', viewer('alice', 'street:310101002', 'street_staff'), 'elderly-allowance', session({ endedAt: new Date(NOW - 1) }), /has ended/],
    ['expired', viewer('alice', 'street:310101002', 'street_staff'), 'elderly-allowance', session({ expiresAt: new Date(NOW) }), /has expired/],
    ['unknown', viewer('alice', 'street:310101002', 'street_staff'), 'elderly-allowance', undefined, /no emergency session of yours/],
    ['anonymous', undefined, 'elderly-allowance', s, /no emergency session of yours/],
  ];
  it.each(cases)('%s', (_name, v, purpose, sess, expected) => {
    const refusal = readRefusal(sess, v, purpose, NOW);
    if (expected === null) expect(refusal).toBeNull();
    else expect(refusal).toMatch(expected);
  });

  it('only its user ends it, while it is open', () => {
    expect(() => checkEnd(s, viewer('bob', s.org, 'street_staff'), NOW)).toThrow(/no emergency session of yours/);
    expect(() => checkEnd(session({ endedAt: new Date(NOW - 1) }), viewer('alice', s.org, 'street_staff'), NOW)).toThrow(/already ended/);
    expect(checkEnd(s, viewer('alice', s.org, 'street_staff'), NOW)).toBe(s);
  });
});

describe('who may review a session', () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
      return 'ok';
    } catch (e) {
      return (e as GatewayError).code;
    }
  };
  it('never its own user, whatever their roles; owners of its departments and auditors; once', () => {
    fc.assert(
      fc.property(fc.subarray(['street_staff', 'data_owner', 'auditor', 'platform_admin'] as Role[]), fc.constantFrom('dept:public-security', 'office:security', 'street:310101002'), (roles, org) => {
        expect(code(() => checkReview(session(), viewer('alice', org, ...roles), 'JUSTIFIED', 'ok'))).not.toBe('ok');
      }),
    );
    expect(code(() => checkReview(session(), viewer('o', 'dept:public-security', 'data_owner'), 'JUSTIFIED', 'ok'))).toBe('ok');
    expect(code(() => checkReview(session(), viewer('a', 'office:security', 'auditor'), 'UNJUSTIFIED', 'ok'))).toBe('ok');
    expect(code(() => checkReview(session(), viewer('o', 'dept:housing', 'data_owner'), 'JUSTIFIED', 'ok'))).toBe('FORBIDDEN');
    expect(code(() => checkReview(session(), viewer('o', 'street:310101002', 'street_staff'), 'JUSTIFIED', 'ok'))).toBe('FORBIDDEN');
    expect(code(() => checkReview(session({ reviewedAt: new Date(NOW) }), viewer('a', 'office:security', 'auditor'), 'JUSTIFIED', 'ok'))).toBe('BAD_USER_INPUT');
    expect(code(() => checkReview(session(), viewer('a', 'office:security', 'auditor'), 'JUSTIFIED', '  '))).toBe('BAD_USER_INPUT');
  });
});

describe('starting a session', () => {
  const clerk = viewer('alice', 'street:310101002', 'street_staff');
  const clause = (maxMinutes: number, id = 'g') =>
    ({ id, dataset: 'population', duty: 'elderly-allowance', emergency: { fields: { phone: 'full' }, maxMinutes } }) as never;
  const facts = { viewer: clerk, dutyRefusal: null, grants: [clause(60)], now: NOW };
  const request = { duty: 'elderly-allowance', reason: 'r'.repeat(20), caseRef: 'C-1' };

  it('a reason of 20 characters is enough, 19 is not, counted as a reader counts (20 Chinese characters pass)', () => {
    expect(() => planStart({ ...request, reason: 'r'.repeat(19) }, facts)).toThrow(/20 characters/);
    expect(planStart({ ...request, reason: '独居老人连续两次上门走访未应门邻居报告异常情况' }, facts).reason).toHaveLength(23);
    expect(() => planStart({ ...request, reason: '独居老人连续两次上门走访未应门' }, facts)).toThrow(/20 characters/);
  });

  it("lasts the shortest of the grants' maxMinutes, or less when asked, never more", () => {
    const two = { ...facts, grants: [clause(60, 'a'), clause(30, 'b')] };
    const p = planStart(request, two);
    expect(p.expiresAt.getTime() - p.startedAt.getTime()).toBe(30 * 60_000);
    expect(planStart({ ...request, minutes: 10 }, two).expiresAt.getTime()).toBe(NOW + 10 * 60_000);
    expect(() => planStart({ ...request, minutes: 31 }, two)).toThrow(/at most 30 minutes/);
    expect(() => planStart({ ...request, minutes: 0 }, two)).toThrow(/at least 1/);
  });

  it('needs a grant with an emergency clause and a duty the street holds', () => {
    expect(() => planStart(request, { ...facts, grants: [] })).toThrow(/no grant/);
    expect(() => planStart(request, { ...facts, dutyRefusal: 'duty "x" is not delegated' })).toThrow(/not delegated/);
    expect(() => planStart(request, { ...facts, viewer: viewer('o', 'dept:public-security', 'data_owner', 'street_staff') })).toThrow(/street staff/);
  });
});

describe('the emergency clause in a grants file', () => {
  const file = (emergency: string) => `grants:
  - id: g1
    owner: dept:public-security
    dataset: population
    duty: elderly-allowance
    streets: all
    fields: { name: full, streetCode: full }
${emergency}`;
  const problems = (emergency: string) => parseGrantsFile(file(emergency), 'g.yaml').problems.map((p) => p.message);

  it('is read with its default length', () => {
    const parsed = parseGrantsFile(file('    emergency: { fields: { phone: full } }'), 'g.yaml');
    expect(parsed.problems).toEqual([]);
    expect(parsed.grants[0]!.emergency).toEqual({ fields: { phone: 'full' }, maxMinutes: 60 });
  });

  it.each([
    ['    emergency: { fields: { shoeSize: full } }', /unknown field 'shoeSize'/],
    ['    emergency: { fields: { houseId: full } }', /internal/],
    ['    emergency: { fields: { phone: always } }', /bad access/],
    ['    emergency: { fields: {} }', /at least one field/],
    ['    emergency: { fields: { phone: full }, maxMinutes: 0 }', /maxMinutes/],
    ['    emergency: { fields: { phone: full }, maxMinutes: 721 }', /maxMinutes/],
    ['    emergency: { fields: { phone: full }, maxMinutes: 1.5 }', /maxMinutes/],
    ['    emergency: { fields: { phone: full }, forever: true }', /unknown key 'forever'/],
    ['    emergency: yes', /must be a mapping/],
  ])('refuses %s', (emergency, message) => {
    expect(problems(emergency).join('\n')).toMatch(message);
  });
});
