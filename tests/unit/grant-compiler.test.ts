/**
 * The grant compiler on its own: how several grants of one duty and dataset combine. Decisions
 * come from the grants' own Casbin lines (tests/grant-plans.ts), so the only thing under test is
 * the compiler's combination of fields, levels and row conditions.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Condition } from '../../core/conditions.ts';
import { accessOnRow, rowsWhereFull, type FieldAccess } from '../../policies/access-plan.ts';
import type { StoredGrant } from '../../policies/policy-store.ts';
import { PLAN_NOW, PLAN_STREET, planOf as plan, testGrant } from '../grant-plans.ts';

const STREET = PLAN_STREET;
const NOW = PLAN_NOW;
const ELDERLY: Condition = { field: 'age', op: 'gte', value: 65 };
const WOMEN: Condition = { field: 'gender', op: 'eq', value: 'female' };
const grant = testGrant;
const planOf = (grants: readonly StoredGrant[], deny: readonly string[] = []) => plan(grants, { deny, now: NOW });

describe('compileAccessPlan: one grant', () => {
  it('keeps one level per field, no per-row picture, the grant’s row condition as the scope', () => {
    const plan = planOf([grant('a', { name: 'full', phone: 'masked', streetCode: 'full' }, ELDERLY)]);
    const population = plan.datasets.get('population')!;
    expect(Object.fromEntries(population.fields)).toEqual({ name: 'full', phone: 'masked', streetCode: 'full' });
    expect(population.perRow).toBeUndefined();
    expect(population.scope).toEqual({ streets: [STREET], conditions: [ELDERLY] });
    expect(plan.decisions.get('population.phone')).toMatchObject({ access: 'masked', grant: 'a' });
    expect(plan.decisions.get('population.phone')?.varies).toBeFalsy();
    expect(plan.decisions.get('population.gender')?.access).toBe('denied');
  });
});

describe('compileAccessPlan: overlapping grants', () => {
  it('grants with the same row condition merge: the best level per field, no per-row picture', () => {
    const plan = planOf([grant('a', { name: 'masked', phone: 'full' }, ELDERLY), grant('b', { name: 'full' }, { ...ELDERLY })]);
    const population = plan.datasets.get('population')!;
    expect(Object.fromEntries(population.fields)).toEqual({ name: 'full', phone: 'full' });
    expect(population.perRow).toBeUndefined();
  });

  it('a field granted alike under every condition costs nothing per row', () => {
    const plan = planOf([grant('a', { name: 'full', streetCode: 'full' }, ELDERLY), grant('b', { name: 'full', streetCode: 'full' }, WOMEN)]);
    const population = plan.datasets.get('population')!;
    expect(population.perRow).toBeUndefined();
    expect(population.fields.get('name')).toBe('full');
    expect(population.scope.conditions).toEqual([{ any: [ELDERLY, WOMEN] }]);
  });

  it('a field of grant A shows only on rows grant A admits, at the best level of the admitting grants', () => {
    const plan = planOf([
      grant('elderly', { name: 'full', phone: 'full', residenceAddress: 'full', streetCode: 'full' }, ELDERLY),
      grant('everyone', { name: 'masked', residenceAddress: 'masked', streetCode: 'full' }),
    ]);
    const population = plan.datasets.get('population')!;
    // Rows: every row of the street (the all-rows grant).
    expect(population.scope.conditions).toEqual([]);
    expect(population.perRow?.tags).toEqual([ELDERLY]);
    expect(population.perRow?.shownUnder).toEqual({ phone: [0] });
    const onRow = (field: string, elderly: boolean) => accessOnRow(population, field, [elderly]);
    expect([onRow('phone', true), onRow('phone', false)]).toEqual(['full', undefined]);
    expect([onRow('name', true), onRow('name', false)]).toEqual(['full', 'masked']);
    expect([onRow('streetCode', true), onRow('streetCode', false)]).toEqual(['full', 'full']);
    // Asked for at the best level some row has; compared only where full.
    expect(Object.fromEntries(population.fields)).toEqual({ name: 'full', phone: 'full', residenceAddress: 'full', streetCode: 'full' });
    expect(rowsWhereFull(population, ['phone', 'name', 'streetCode'])).toEqual([ELDERLY]);
    expect(rowsWhereFull(population, ['streetCode'])).toEqual([]);
    // A source that reported no tags gets the level every row is sure of (fail-closed).
    expect(accessOnRow(population, 'phone', undefined)).toBeUndefined();
    expect(accessOnRow(population, 'name', undefined)).toBe('masked');
  });

  it('explainAccess states the per-grant picture', () => {
    const plan = planOf([grant('elderly', { phone: 'full', streetCode: 'full' }, ELDERLY), grant('women', { phone: 'masked', streetCode: 'full' }, WOMEN)]);
    const phone = plan.decisions.get('population.phone')!;
    expect(phone).toMatchObject({ access: 'full', varies: true });
    expect(phone.byGrant).toEqual([
      { grant: 'elderly', access: 'full', rows: ELDERLY },
      { grant: 'women', access: 'masked', rows: WOMEN },
    ]);
    expect(phone.rule).toContain('full where');
    expect(phone.rule).toContain('(elderly)');
    expect(phone.rule).toContain('masked where');
    expect(phone.rule).toContain('(women)');
    expect(phone.rule).toContain('run over the rows where it is full only');
  });

  it('never lends a level above Casbin’s decision (a deny line holds on every row)', () => {
    const plan = planOf([grant('elderly', { phone: 'full', name: 'full' }, ELDERLY), grant('everyone', { name: 'full' })], ['population.phone']);
    const population = plan.datasets.get('population')!;
    expect(population.fields.has('phone')).toBe(false);
    expect(population.perRow).toBeUndefined();
    expect(plan.decisions.get('population.phone')?.rule).toContain('deny-line');
  });

  it('ignores expired, withdrawn and other streets’ grants', () => {
    const plan = planOf([
      grant('live', { name: 'full' }, ELDERLY),
      grant('expired', { phone: 'full' }, WOMEN, { validUntil: '2026-01-01T00:00:00Z' }),
      grant('withdrawn', { gender: 'full' }, null, { revokedAt: '2026-06-01T00:00:00Z', revokedBy: 'x' }),
      grant('elsewhere', { ethnicity: 'full' }, null, { streets: ['310104003'] }),
    ]);
    const population = plan.datasets.get('population')!;
    expect(Object.fromEntries(population.fields)).toEqual({ name: 'full' });
    expect(population.scope.conditions).toEqual([ELDERLY]);
    expect(population.grants).toEqual(['live']);
  });

  it('keeps tags in a stable order whatever order the grants were loaded in', () => {
    const a = grant('a', { phone: 'full' }, ELDERLY);
    const b = grant('b', { name: 'full' }, WOMEN);
    expect(planOf([a, b]).datasets.get('population')?.perRow?.tags).toEqual(planOf([b, a]).datasets.get('population')?.perRow?.tags);
  });
});

/** Abstract rows: which of a few row conditions hold on them. */
const POOL: readonly (Condition | null)[] = [
  null,
  ELDERLY,
  WOMEN,
  { field: 'ethnicity', op: 'eq', value: '回族' },
  { all: [ELDERLY, WOMEN] },
];
const FIELDS = ['idNumber', 'name', 'phone', 'birthDate', 'residenceAddress'] as const;
const LEVEL: Record<FieldAccess, number> = { masked: 1, full: 2 };

const grantsArb = fc.array(
  fc.record({
    rows: fc.integer({ min: 0, max: POOL.length - 1 }),
    fields: fc.dictionary(fc.constantFrom(...FIELDS), fc.constantFrom<FieldAccess>('full', 'masked'), { minKeys: 1 }),
  }),
  { minLength: 1, maxLength: 5 },
);

describe('compileAccessPlan: property over random overlapping grants', () => {
  it('per row, a field gets exactly the best level of the grants admitting that row', () => {
    fc.assert(
      fc.property(grantsArb, fc.array(fc.boolean(), { minLength: POOL.length, maxLength: POOL.length }), (specs, truth) => {
        // truth[i]: whether POOL[i] holds on the row (POOL[0], no condition, always holds).
        const holds = (i: number) => i === 0 || truth[i] === true;
        const grants = specs.map((s, i) => grant(`g${i}`, s.fields, POOL[s.rows]!));
        const plan = planOf(grants);
        const population = plan.datasets.get('population')!;
        const admitting = specs.filter((s) => holds(s.rows));
        // The row's tags as a source would report them.
        const tags = (population.perRow?.tags ?? []).map((tag) => holds(POOL.findIndex((c) => JSON.stringify(c) === JSON.stringify(tag))));
        for (const field of FIELDS) {
          const expected = Math.max(0, ...admitting.map((s) => (s.fields[field] ? LEVEL[s.fields[field]!] : 0)));
          const got = admitting.length === 0 ? 0 : (LEVEL[accessOnRow(population, field, tags) as FieldAccess] ?? 0);
          expect(got).toBe(expected);
          // What an operation may ask for: the best level on some row.
          const best = Math.max(0, ...specs.map((s) => (s.fields[field] ? LEVEL[s.fields[field]!] : 0)));
          expect(population.fields.get(field) ? LEVEL[population.fields.get(field)!] : 0).toBe(best);
          // What filters and sorts run over: exactly the rows where the field is full.
          if (best === 2 && admitting.length > 0) {
            const where = rowsWhereFull(population, [field]);
            const holdsHere = (c: Condition): boolean => {
              if ('any' in c) return c.any.some(holdsHere);
              const i = POOL.findIndex((p) => JSON.stringify(p) === JSON.stringify(c));
              return holds(i);
            };
            expect(where.every(holdsHere), `${field}: compared on this row`).toBe(expected === 2);
          }
          // shownUnder lists exactly the tags of conditional grants that grant the field.
          const under = population.perRow?.shownUnder[field];
          if (under) expect(under.some((i) => tags[i])).toBe(expected > 0);
        }
      }),
      { numRuns: 500 },
    );
  });
});
