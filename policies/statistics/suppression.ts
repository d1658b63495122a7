/**
 * Small-cell suppression for `statistics` (CONTRACT.md § Statistics without individuals). Pure: the
 * connector counts, this decides what may be shown. Tested table-style and against an attacker
 * written as code (tests/unit/statistics-*.test.ts).
 *
 * The attacker we defend against knows every count any answer shows, the total of every line of
 * an answer (a line: the cells that agree on every grouping field but one; for one grouping field,
 * the whole answer), because a coarser answer may show it, and that a suppressed cell holds at least
 * one person. Three rules, in this order:
 *
 * 1. Primary: a count from 1 to k−1 is suppressed.
 * 2. Differencing ("threshold on the complement", noise-free): an answer under filter C is compared
 *    with the same grouping under every coarser filter P (C without some of its conditions, down to
 *    no filter at all), counted in the same source query. Where a cell's count under P and under C
 *    differ by 1 to k−1 persons, the cell is suppressed; where the totals do, every cell is. So two
 *    answers whose filters are nested (the only way filters of equalities, one per field, can overlap)
 *    never show two counts whose difference singles out fewer than k persons. Filters are therefore
 *    limited to equalities, one per field (no ranges, no lists: `age >= 30` against `age >= 31`
 *    would differ by one birth year's persons, with no condition to compare against).
 * 3. Complementary: a line never holds exactly one suppressed cell (it would be the line's total
 *    minus the shown cells), and in a line with several, the most the attacker can work out for one
 *    of them (the line's total minus the shown cells, minus one for each other suppressed cell) must
 *    be at least k, so that no suppressed cell can even be told to be small: the smallest shown
 *    cell of the line is suppressed too until both hold. A line left with no cell to add (all its
 *    cells suppressed, and together too few) has its suppressed cells left out of the answer: a
 *    group the attacker does not know exists is a group they cannot solve for. Lines interact, so
 *    this runs to a fixed point (each round hides one more cell: at most as many rounds as cells).
 */

/** Counts of one group: `counts[0]` under the asked filter, `counts[i]` under the i-th coarser filter. */
export interface GroupCounts {
  readonly group: readonly (string | null)[];
  readonly counts: readonly number[];
}

export interface StatisticsCell {
  /** One value per grouping field, in `groupBy` order. */
  readonly group: readonly (string | null)[];
  /** Null when suppressed. */
  readonly count: number | null;
  readonly suppressed: boolean;
}

/** Why each cell ended as it did (tests and the audit reason read it). */
export interface SuppressionReport {
  readonly cells: StatisticsCell[];
  readonly primary: number;
  readonly differencing: number;
  readonly complementary: number;
  /** Cells left out (rule 3's last resort). */
  readonly omitted: number;
}

type State = 'shown' | 'suppressed' | 'omitted';

interface Work {
  readonly group: readonly (string | null)[];
  readonly key: string;
  readonly count: number;
  state: State;
}

const NATURAL = new Intl.Collator('en', { numeric: true });
const keyOf = (group: readonly (string | null)[]): string => JSON.stringify(group);

/**
 * Applies the three rules to the groups of one answer with `dims` grouping fields.
 * Groups whose count under the asked filter is 0 are not cells of the answer.
 */
export function suppressCells(groups: readonly GroupCounts[], dims: number, k: number): SuppressionReport {
  let primary = 0;
  let differencing = 0;
  let complementary = 0;
  let omitted = 0;
  const totals: number[] = [];
  for (const g of groups) g.counts.forEach((c, i) => (totals[i] = (totals[i] ?? 0) + c));
  const small = (d: number) => d > 0 && d < k;
  const allByTotals = totals.slice(1).some((t) => small(t - (totals[0] ?? 0)));

  const cells: Work[] = [];
  for (const g of groups) {
    const count = g.counts[0] ?? 0;
    if (count <= 0) continue;
    let state: State = 'shown';
    if (count < k) {
      state = 'suppressed';
      primary++;
    } else if (allByTotals || g.counts.slice(1).some((c) => small(c - count))) {
      state = 'suppressed';
      differencing++;
    }
    cells.push({ group: g.group, key: keyOf(g.group), count, state });
  }

  // Lines: for each grouping field, the cells that agree on all the others.
  const lines: Work[][] = [];
  if (dims >= 1) {
    for (let d = 0; d < dims; d++) {
      const byRest = new Map<string, Work[]>();
      for (const cell of cells) {
        const rest = keyOf(cell.group.filter((_, i) => i !== d));
        const line = byRest.get(rest);
        if (line) line.push(cell);
        else byRest.set(rest, [cell]);
      }
      lines.push(...byRest.values());
    }
  }

  for (let changed = true; changed; ) {
    changed = false;
    for (const line of lines) {
      let m = 0;
      let hidden = 0;
      for (const c of line) {
        if (c.state === 'suppressed') m++;
        if (c.state !== 'shown') hidden += c.count;
      }
      // One suppressed cell alone in its line is the line's total minus the shown cells: exact.
      if (m === 0 || (m >= 2 && hidden - (m - 1) >= k)) continue;
      const shown = line.filter((c) => c.state === 'shown');
      if (shown.length > 0) {
        const smallest = shown.reduce((a, b) => (b.count < a.count || (b.count === a.count && b.key < a.key) ? b : a));
        smallest.state = 'suppressed';
        complementary++;
      } else {
        for (const c of line) {
          if (c.state === 'suppressed') {
            c.state = 'omitted';
            omitted++;
          }
        }
      }
      changed = true;
    }
  }

  const out = cells
    .filter((c) => c.state !== 'omitted')
    // Natural order, so that age bands read 0-4, 5-9, 10-14 … rather than as text.
    .sort((a, b) => NATURAL.compare(a.key, b.key))
    .map((c) => ({ group: c.group, count: c.state === 'shown' ? c.count : null, suppressed: c.state === 'suppressed' }));
  return { cells: out, primary, differencing, complementary, omitted };
}
