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
