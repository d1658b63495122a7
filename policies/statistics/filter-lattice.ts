/**
 * The filters an answer is compared with by the differencing defence (policies/statistics/
 * suppression.ts rule 2): the asked conditions first, then every proper subset of them, down to no
 * condition at all. 2^n filters for n conditions, hence the small limit on n.
 */
export function filterLattice<C>(conditions: readonly C[]): C[][] {
  const n = conditions.length;
  const sets: C[][] = [];
  for (let mask = (1 << n) - 1; mask >= 0; mask--) sets.push(conditions.filter((_, i) => (mask & (1 << i)) !== 0));
  return sets;
}

/**
 * The filters of {@link filterLattice} (by index) that differ from the asked one only by conditions
 * on grouped fields. A cell's count under such a filter equals its count under the asked one by
 * construction (the cell's own value is the dropped condition, or the cell is empty under the asked
 * filter), so that equality tells nothing and the differencing rule does not compare cells with it;
 * the totals still are (they differ by the persons of the other values).
 */
export function groupedOnlyDrops(conditionFields: readonly string[], groupBy: readonly string[]): Set<number> {
  const n = conditionFields.length;
  const out = new Set<number>();
  for (let mask = (1 << n) - 1, i = 0; mask >= 0; mask--, i++) {
    if (i === 0) continue;
    if (conditionFields.every((f, j) => (mask & (1 << j)) !== 0 || groupBy.includes(f))) out.add(i);
  }
  return out;
}
