/**
 * Small-cell suppression for `statistics` (CONTRACT.md § Statistics without individuals). Pure: the
 * connector counts, this decides what may be shown. Tested table-style and against an attacker
 * written as code (tests/unit/statistics-*.test.ts).
 *
 * Every answer lists the full grid of its grouping fields' domains (statistics-domains.ts), so
 * an empty group is a cell like any other: a count of 0 is suppressed exactly as 1..k−1 is, and the
 * presence of a small group cannot be tested by asking whether its cell is listed.
 *
 * The attacker we defend against knows every count any answer shows, the total of every line of
 * an answer that a coarser answer shows (a line: the cells that agree on every grouping field but
 * one; for one grouping field, the whole answer), and that a suppressed cell holds 0 or more
 * persons (0 to k−1 by the primary rule, any number by the two others). Three rules, in this order:
 *
 * 1. Primary: a count from 0 to k−1 is suppressed.
 * 2. Differencing ("threshold on the complement", noise-free): an answer under filter C is compared
 *    with the same grouping under every coarser filter P (C without some of its conditions, down to
 *    no filter at all), counted in the same source query. Where a cell's count under P and under C
 *    differ by 0 to k−1 persons, the cell is suppressed; where the totals do, every cell is. So two
 *    answers whose filters are nested (the only way filters of equalities, one per field, can overlap)
 *    never show two counts whose difference is fewer than k persons: neither a small group nor an
 *    empty one (a difference of 0 would say that nobody in the cell fails the extra condition).
 *    Filters are therefore limited to equalities, one per field (no ranges, no lists: `age >= 30`
 *    against `age >= 31` would differ by one birth year's persons, with no condition to compare
 *    against).
 * 3. Complementary: a line that shows cells never holds exactly one suppressed cell (it would be the
 *    line's total minus the shown cells), and the suppressed cells of such a line hold k or more
 *    persons together (else the attacker learns they are all small, and with 0 left over, all
 *    empty): the smallest shown cell of the line is suppressed too until both hold. A line with no
 *    shown cell needs nothing more: its total is a cell of the coarser answer, the same sum, which
 *    that answer suppresses if it is below k. Lines interact, so this runs to a fixed point (each
 *    round hides one more cell: at most as many rounds as cells).
 *
 * Not modelled (SECURITY.md): an attacker who reasons about which shown cell rule 3 would have
 * picked, to tell a complementary cell from a primary one.
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
  /** Every group given, in the order given. */
  readonly cells: StatisticsCell[];
  readonly primary: number;
  readonly differencing: number;
  readonly complementary: number;
}

interface Work {
  readonly group: readonly (string | null)[];
  readonly count: number;
  readonly order: number;
  suppressed: boolean;
}

const keyOf = (group: readonly (string | null)[]): string => JSON.stringify(group);

/**
 * Applies the three rules to the groups of one answer with `dims` grouping fields: every group of
 * the answer's grid, zeros included (statistics-domains.ts fillGrid), in the order to list them.
 */
export function suppressCells(
  groups: readonly GroupCounts[],
  dims: number,
  k: number,
  options: {
    /** Totals under each filter over every row in scope; by default the sums of `groups`. */
    readonly totals?: readonly number[];
    /** Coarser filters (by index) not compared cell by cell (filter-lattice.ts groupedOnlyDrops). */
    readonly sameByConstruction?: ReadonlySet<number>;
  } = {},
): SuppressionReport {
  const sameByConstruction = options.sameByConstruction ?? new Set<number>();
  let primary = 0;
  let differencing = 0;
  let complementary = 0;
  let totals = options.totals;
  if (!totals) {
    const sums: number[] = [];
    for (const g of groups) g.counts.forEach((c, i) => (sums[i] = (sums[i] ?? 0) + c));
    totals = sums;
  }
  const close = (coarser: number, asked: number) => coarser - asked >= 0 && coarser - asked < k;
  const allByTotals = totals.slice(1).some((t) => close(t, totals[0] ?? 0));

  const cells: Work[] = groups.map((g, order) => {
    const count = g.counts[0] ?? 0;
    let suppressed = false;
    if (count < k) {
      suppressed = true;
      primary++;
    } else if (allByTotals || g.counts.some((c, i) => i > 0 && !sameByConstruction.has(i) && close(c, count))) {
      suppressed = true;
      differencing++;
    }
    return { group: g.group, count, order, suppressed };
  });

  // Lines: for each grouping field, the cells that agree on all the others.
  const lines: Work[][] = [];
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

  for (let changed = true; changed; ) {
    changed = false;
    for (const line of lines) {
      let m = 0;
      let hidden = 0;
      let smallest: Work | undefined;
      for (const c of line) {
        if (c.suppressed) {
          m++;
          hidden += c.count;
        } else if (!smallest || c.count < smallest.count) smallest = c;
      }
      // Nothing hidden, or nothing shown to subtract from the line's total, or enough hidden.
      if (m === 0 || !smallest || (m >= 2 && hidden >= k)) continue;
      smallest.suppressed = true;
      complementary++;
      changed = true;
    }
  }

  return {
    cells: cells.map((c) => ({ group: c.group, count: c.suppressed ? null : c.count, suppressed: c.suppressed })),
    primary,
    differencing,
    complementary,
  };
}
