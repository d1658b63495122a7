/**
 * "Approval is never wider than the request" for row conditions: whenever the review accepts an
 * approved condition as at least as strict as the asked one, every row the approved one admits is
 * admitted by the asked one (fast-check over random conditions and rows, with SQL's treatment of
 * null); and the documented ways to narrow (AND more, tighten a bound, fewer values) are accepted.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Condition, Scalar } from '../../core/conditions.ts';
import { POPULATION } from '../../core/datasets.ts';
import { isAtLeastAsStrict } from '../../policies/admission/condition-strictness.ts';
import { validateCondition } from '../../core/conditions.ts';

type Row = Record<string, Scalar>;

/** A row condition as SQL evaluates it: a comparison with null is unknown, and unknown admits nothing. */
function admits(c: Condition, row: Row): boolean {
  if ('all' in c) return c.all.every((p) => admits(p, row));
  if ('any' in c) return c.any.some((p) => admits(p, row));
  const v = row[c.field] ?? null;
  const w = c.value;
  if (c.op === 'eq' && w === null) return v === null;
  if (c.op === 'ne' && w === null) return v !== null;
  if (v === null) return false;
  switch (c.op) {
    case 'eq':
      return v === w;
    case 'ne':
      return v !== w;
    case 'in':
      return (w as Scalar[]).includes(v);
    case 'startsWith':
      return typeof v === 'string' && v.startsWith(w as string);
    default: {
      const [a, b] = [v as number | string, w as number | string];
      return c.op === 'gt' ? a > b : c.op === 'gte' ? a >= b : c.op === 'lt' ? a < b : a <= b;
    }
  }
}

const ages = fc.integer({ min: 0, max: 100 });
const dates = fc.constantFrom('1940-01-01', '1950-06-15', '1960-02-29', '1975-12-31', '1990-07-01');
const names = fc.constantFrom('张三', '张伟', '李四', '王五', '欧阳明');
const genders = fc.constantFrom('male', 'female');
const ops = fc.constantFrom('eq', 'ne', 'lt', 'lte', 'gt', 'gte') as fc.Arbitrary<'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte'>;

const comparison: fc.Arbitrary<Condition> = fc.oneof(
  fc.record({ field: fc.constant('age'), op: ops, value: ages }),
  fc.record({ field: fc.constant('age'), op: fc.constant('in' as const), value: fc.uniqueArray(ages, { minLength: 1, maxLength: 4 }) }),
  fc.record({ field: fc.constant('birthDate'), op: ops, value: dates }),
  fc.record({ field: fc.constant('gender'), op: fc.constantFrom('eq', 'ne') as fc.Arbitrary<'eq' | 'ne'>, value: fc.oneof(genders, fc.constant(null)) }),
  fc.record({ field: fc.constant('gender'), op: fc.constant('in' as const), value: fc.uniqueArray(genders, { minLength: 1, maxLength: 2 }) }),
  fc.record({ field: fc.constant('name'), op: fc.constantFrom('eq', 'ne') as fc.Arbitrary<'eq' | 'ne'>, value: names }),
  fc.record({ field: fc.constant('name'), op: fc.constant('startsWith' as const), value: fc.constantFrom('张', '欧阳', '李四', '王') }),
);

const condition: fc.Arbitrary<Condition> = fc.letrec<{ c: Condition }>((tie) => ({
  c: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    comparison,
    fc.record({ all: fc.array(tie('c'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ any: fc.array(tie('c'), { minLength: 1, maxLength: 3 }) }),
  ),
})).c;

const row: fc.Arbitrary<Row> = fc.record({
  age: fc.oneof(ages, fc.constant(null)),
  birthDate: fc.oneof(dates, fc.constant(null)),
  gender: fc.oneof(genders, fc.constant(null)),
  name: fc.oneof(names, fc.constant(null)),
});

describe('approved row conditions are at least as strict as asked', () => {
  it('generates valid conditions', () => {
    fc.assert(
      fc.property(condition, (c) => {
        expect(validateCondition(POPULATION, c).map((issue) => issue.message)).toEqual([]);
      }),
    );
  });

  it('accepted ⇒ every row the approval admits, the request admits (random pairs)', () => {
    fc.assert(
      fc.property(condition, condition, fc.array(row, { minLength: 30, maxLength: 30 }), (narrow, wide, rows) => {
        if (!isAtLeastAsStrict(POPULATION, narrow, wide)) return;
        for (const r of rows) if (admits(narrow, r)) expect(admits(wide, r), JSON.stringify({ narrow, wide, r })).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('accepted ⇒ sound, also for approvals built from the request (the common case)', () => {
    const derived = condition.chain((wide) =>
      fc.tuple(
        fc.constant(wide),
        fc.oneof(
          fc.constant<Condition>(wide),
          condition.map((extra): Condition => ({ all: [wide, extra] })),
          condition.map((extra): Condition => ({ any: [wide, extra] })),
          condition,
        ),
      ),
    );
    fc.assert(
      fc.property(derived, fc.array(row, { minLength: 30, maxLength: 30 }), ([wide, narrow], rows) => {
        if (!isAtLeastAsStrict(POPULATION, narrow, wide)) return;
        for (const r of rows) if (admits(narrow, r)) expect(admits(wide, r)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('the request ANDed with anything, or itself, is always accepted', () => {
    fc.assert(
      fc.property(condition, condition, (wide, extra) => {
        expect(isAtLeastAsStrict(POPULATION, wide, wide)).toBe(true);
        expect(isAtLeastAsStrict(POPULATION, { all: [wide, extra] }, wide)).toBe(true);
        expect(isAtLeastAsStrict(POPULATION, { all: [extra, wide] }, wide)).toBe(true);
        expect(isAtLeastAsStrict(POPULATION, wide, null)).toBe(true);
      }),
    );
  });

  it.each<[string, Condition | null, Condition | null, boolean]>([
    ['a tighter lower bound', { field: 'age', op: 'gte', value: 70 }, { field: 'age', op: 'gte', value: 65 }, true],
    ['a strict bound at the same value', { field: 'age', op: 'gt', value: 65 }, { field: 'age', op: 'gte', value: 65 }, true],
    ['a looser lower bound', { field: 'age', op: 'gte', value: 60 }, { field: 'age', op: 'gte', value: 65 }, false],
    ['a loose bound for a strict one', { field: 'age', op: 'gte', value: 65 }, { field: 'age', op: 'gt', value: 65 }, false],
    ['an earlier birth-date bound', { field: 'birthDate', op: 'lte', value: '1950-06-15' }, { field: 'birthDate', op: 'lte', value: '1960-02-29' }, true],
    ['fewer values', { field: 'gender', op: 'in', value: ['female'] }, { field: 'gender', op: 'in', value: ['female', 'male'] }, true],
    ['more values', { field: 'gender', op: 'in', value: ['female', 'male'] }, { field: 'gender', op: 'in', value: ['female'] }, false],
    ['a longer prefix', { field: 'name', op: 'startsWith', value: '欧阳' }, { field: 'name', op: 'startsWith', value: '欧' }, true],
    ['no condition for one', null, { field: 'age', op: 'gte', value: 65 }, false],
    ['an OR that widens', { any: [{ field: 'age', op: 'gte', value: 65 }, { field: 'gender', op: 'eq', value: 'male' }] }, { field: 'age', op: 'gte', value: 65 }, false],
    ['text ordered by an unknown collation', { field: 'name', op: 'gte', value: '李' } as Condition, { field: 'name', op: 'gte', value: '张' } as Condition, false],
    ['another field entirely', { field: 'gender', op: 'eq', value: 'female' }, { field: 'age', op: 'gte', value: 65 }, false],
  ])('%s', (_, narrow, wide, expected) => {
    expect(isAtLeastAsStrict(POPULATION, narrow, wide)).toBe(expected);
  });
});
