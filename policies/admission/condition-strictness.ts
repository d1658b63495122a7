/**
 * "A stricter row condition" (CONTRACT.md: approval is never wider than the request), decided
 * safely: {@link isAtLeastAsStrict} answers true only when every row the approved condition admits
 * is provably admitted by the asked one, and false whenever it cannot prove it. The proof is
 * syntactic and sound, not complete: the approved condition must keep every conjunct of the asked
 * one, or replace it by one that implies it on the same field (`age >= 70` for `age >= 65`,
 * `tenure in [rented]` for `tenure in [owned, rented]`), and may add any further conjuncts.
 *
 * Ordering is trusted only on numbers, integers and dates: text is ordered by the source's
 * collation, which the gateway does not know, so text conditions count only through equality,
 * membership and prefixes.
 */
import type { ComparisonOp, Condition, Scalar } from '../../core/conditions.ts';
import { fieldDef, type DatasetDef } from '../../core/datasets.ts';
import { canonicalJson } from '../../core/canonical-json.ts';

type Comparison = Extract<Condition, { field: string }>;

function isComparison(c: Condition): c is Comparison {
  return 'field' in c;
}

/** The conjuncts of a condition (nested `all`s flattened). */
function conjuncts(c: Condition): Condition[] {
  return 'all' in c ? c.all.flatMap(conjuncts) : [c];
}

const LOWER: readonly ComparisonOp[] = ['gt', 'gte'];
const UPPER: readonly ComparisonOp[] = ['lt', 'lte'];

/** -1, 0, 1 when `a` and `b` are ordered values of the same kind; undefined otherwise. */
function order(dataset: DatasetDef, field: string, a: unknown, b: unknown): number | undefined {
  const def = fieldDef(dataset, field);
  if (!def) return undefined;
  if ((def.type === 'int' || def.type === 'number') && typeof a === 'number' && typeof b === 'number' && Number.isFinite(a) && Number.isFinite(b)) {
    return Math.sign(a - b);
  }
  const date = /^\d{4}-\d{2}-\d{2}$/;
  if (def.type === 'date' && typeof a === 'string' && typeof b === 'string' && date.test(a) && date.test(b)) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return undefined;
}

/** Does the single value `v` satisfy `w` (a comparison on the same field)? undefined: cannot tell. */
function valueSatisfies(dataset: DatasetDef, v: Scalar, w: Comparison): boolean | undefined {
  if (v === null) return undefined;
  const same = (x: unknown) => x !== null && canonicalJson(x) === canonicalJson(v);
  switch (w.op) {
    case 'eq':
      return same(w.value);
    case 'ne':
      return w.value !== null && !same(w.value) ? true : undefined;
    case 'in':
      return Array.isArray(w.value) && w.value.some(same);
    case 'startsWith':
      return typeof v === 'string' && typeof w.value === 'string' && v.startsWith(w.value);
    default: {
      const o = order(dataset, w.field, v, w.value);
      if (o === undefined) return undefined;
      return w.op === 'gt' ? o > 0 : w.op === 'gte' ? o >= 0 : w.op === 'lt' ? o < 0 : o <= 0;
    }
  }
}

/** Does comparison `n` imply comparison `w`? Sound; false when unsure. */
function comparisonImplies(dataset: DatasetDef, n: Comparison, w: Comparison): boolean {
  if (n.field !== w.field) return false;
  if (canonicalJson(n) === canonicalJson(w)) return true;
  // n admits only known values: each must satisfy w.
  if (n.op === 'eq' && !Array.isArray(n.value)) return valueSatisfies(dataset, n.value as Scalar, w) === true;
  if (n.op === 'in' && Array.isArray(n.value) && n.value.length > 0) {
    return n.value.every((v) => valueSatisfies(dataset, v, w) === true);
  }
  // Bounds in the same direction, at least as tight.
  const nLower = LOWER.includes(n.op);
  const nUpper = UPPER.includes(n.op);
  if ((nLower && LOWER.includes(w.op)) || (nUpper && UPPER.includes(w.op))) {
    const o = order(dataset, n.field, n.value, w.value);
    if (o === undefined) return false;
    const tighter = nLower ? o : -o; // > 0: n's bound is further inside
    if (tighter > 0) return true;
    // Equal bounds: a strict bound implies a loose one, not the reverse.
    return tighter === 0 && (n.op === w.op || n.op === 'gt' || n.op === 'lt');
  }
  if (n.op === 'startsWith' && w.op === 'startsWith' && typeof n.value === 'string' && typeof w.value === 'string') {
    return n.value.startsWith(w.value);
  }
  return false;
}

/** Does `n` imply `w`? */
function implies(dataset: DatasetDef, n: Condition, w: Condition): boolean {
  if (canonicalJson(n) === canonicalJson(w)) return true;
  // n = a OR b implies w when each alternative does.
  if ('any' in n) return n.any.every((part) => implies(dataset, part, w));
  // n = a AND b implies w when one conjunct does, or when it implies every conjunct of w.
  if ('all' in n) {
    if ('all' in w) return w.all.every((part) => implies(dataset, n, part));
    return n.all.some((part) => implies(dataset, part, w));
  }
  if ('all' in w) return w.all.every((part) => implies(dataset, n, part));
  // w = a OR b is implied when n implies one alternative.
  if ('any' in w) return w.any.some((part) => implies(dataset, n, part));
  return isComparison(n) && isComparison(w) && comparisonImplies(dataset, n, w);
}

/**
 * Whether every row `narrow` admits is admitted by `wide` (null: every row). Both must already be
 * valid conditions on `dataset` (validateCondition).
 *
 * @example isAtLeastAsStrict(POPULATION, {all: [{field: 'age', op: 'gte', value: 65}, {field: 'gender', op: 'eq', value: 'female'}]}, {field: 'age', op: 'gte', value: 65}) // true
 * @example isAtLeastAsStrict(POPULATION, {field: 'age', op: 'gte', value: 60}, {field: 'age', op: 'gte', value: 65}) // false
 */
export function isAtLeastAsStrict(dataset: DatasetDef, narrow: Condition | null, wide: Condition | null): boolean {
  if (wide === null) return true;
  if (narrow === null) return false;
  const have = conjuncts(narrow);
  return conjuncts(wide).every((w) => implies(dataset, narrow, w) || have.some((n) => implies(dataset, n, w)));
}
