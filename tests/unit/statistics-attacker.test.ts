/**
 * The attacker of `statistics`, written as code: in a random population and a random sequence of
 * answers (groupings of up to two fields, filters of up to three equalities), it tries to work out
 * a suppressed count or to single out fewer than k persons, from one answer or any pair of answers,
 * by subtracting cells and totals. A finding counts only when what it concludes is true.
 *
 * What it knows, beyond the cells every answer shows: the total of every line of an answer (a
 * coarser answer may show it), and that a suppressed cell holds at least one person.
 *
 * Answers are computed exactly as the resolver does: counts under the filter lattice
 * (filter-lattice.ts) for each group, then suppressCells; only the counting (SQL in the product)
 * is done here in memory.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { suppressCells, type GroupCounts, type StatisticsCell } from '../../policies/statistics/suppression.ts';
import { filterLattice } from '../../policies/statistics/filter-lattice.ts';

type Field = 'gender' | 'band' | 'eth';
type Person = Readonly<Record<Field, string>>;
const DOMAIN: Readonly<Record<Field, readonly string[]>> = { gender: ['F', 'M'], band: ['0-4', '5-9', '10-14', '15-19'], eth: ['han', 'hui'] };
const FIELDS = Object.keys(DOMAIN) as Field[];

interface Query {
  readonly groupBy: readonly Field[];
  readonly filter: readonly (readonly [Field, string])[];
}
interface Answer {
  readonly query: Query;
  readonly cells: readonly StatisticsCell[];
  /** Truth, for judging findings: omitted groups (the attacker does not see them). */
  readonly omitted: ReadonlySet<string>;
}

const matches = (p: Person, filter: readonly (readonly [Field, string])[]) => filter.every(([f, v]) => p[f] === v);
const keyOf = (group: readonly (string | null)[]) => JSON.stringify(group);

function answer(persons: readonly Person[], query: Query, k: number): Answer {
  const lattice = filterLattice(query.filter);
  const groups = new Map<string, { group: string[]; counts: number[] }>();
  for (const p of persons) {
    const group = query.groupBy.map((f) => p[f]);
    const key = keyOf(group);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { group, counts: lattice.map(() => 0) }));
    lattice.forEach((filter, i) => {
      if (matches(p, filter)) g!.counts[i]!++;
    });
  }
  const rows: GroupCounts[] = [...groups.values()].filter((g) => g.counts.some((c) => c > 0));
  const cells = suppressCells(rows, query.groupBy.length, k).cells;
  const listed = new Set(cells.map((c) => keyOf(c.group)));
  const omitted = new Set(rows.filter((r) => r.counts[0]! > 0 && !listed.has(keyOf(r.group))).map((r) => keyOf(r.group)));
  return { query, cells, omitted };
}

/** Persons matching `filter` whose `groupBy` values are `values` at the given positions. */
function truth(persons: readonly Person[], filter: Query['filter'], fixed: readonly (readonly [Field, string])[]): number {
  return persons.filter((p) => matches(p, filter) && matches(p, fixed)).length;
}

type Finding = string;

/** One answer: each line's total minus its shown cells, shared among its suppressed cells. */
function attackOne(persons: readonly Person[], a: Answer, k: number): Finding[] {
  const findings: Finding[] = [];
  const dims = a.query.groupBy.length;
  for (let d = 0; d < dims; d++) {
    const lines = new Map<string, StatisticsCell[]>();
    for (const c of a.cells) {
      const rest = keyOf(c.group.filter((_, i) => i !== d));
      lines.set(rest, [...(lines.get(rest) ?? []), c]);
    }
    for (const line of lines.values()) {
      const fixed = a.query.groupBy.map((f, i) => [f, line[0]!.group[i]!] as const).filter((_, i) => i !== d);
      const total = truth(persons, a.query.filter, fixed);
      const suppressed = line.filter((c) => c.suppressed);
      const rest = total - line.reduce((s, c) => s + (c.count ?? 0), 0);
      if (suppressed.length === 0) continue;
      const upper = rest - (suppressed.length - 1);
      if (suppressed.length === 1) findings.push(`line of ${JSON.stringify(a.query)}: the one suppressed cell ${keyOf(suppressed[0]!.group)} is ${rest}`);
      else if (upper === 1) findings.push(`line of ${JSON.stringify(a.query)}: every suppressed cell is 1`);
      else if (upper < k) findings.push(`line of ${JSON.stringify(a.query)}: every suppressed cell is below k (at most ${upper})`);
    }
  }
  return findings;
}

const isSubset = (small: Query['filter'], big: Query['filter']) => small.every(([f, v]) => big.some(([g, w]) => g === f && w === v));

/** Two answers whose filters are nested: subtract their cells, and their totals when nothing is hidden. */
function attackPair(persons: readonly Person[], a: Answer, b: Answer, k: number): Finding[] {
  if (!isSubset(a.query.filter, b.query.filter) || a.query.filter.length === b.query.filter.length) return [];
  const findings: Finding[] = [];
  const singled = (what: string, d: number, real: number) => {
    if (d === real && d > 0 && d < k) findings.push(`${JSON.stringify(a.query)} − ${JSON.stringify(b.query)}: ${what} singles out ${d}`);
  };
  // Same grouping: cell by cell.
  if (keyOf(a.query.groupBy) === keyOf(b.query.groupBy)) {
    const inB = new Map(b.cells.map((c) => [keyOf(c.group), c]));
    for (const c of a.cells) {
      const other = inB.get(keyOf(c.group));
      if (c.count === null || !other || other.count === null) continue;
      const fixed = a.query.groupBy.map((f, i) => [f, c.group[i]!] as const);
      singled(`cell ${keyOf(c.group)}`, c.count - other.count, truth(persons, a.query.filter, fixed) - truth(persons, b.query.filter, fixed));
    }
  }
  // Totals, when neither shows a suppressed cell (omitted groups are invisible: the attacker may be wrong).
  if (a.cells.every((c) => !c.suppressed) && b.cells.every((c) => !c.suppressed)) {
    const sum = (x: Answer) => x.cells.reduce((s, c) => s + (c.count ?? 0), 0);
    singled('totals', sum(a) - sum(b), truth(persons, a.query.filter, []) - truth(persons, b.query.filter, []));
  }
  // A cell of a coarser grouping against a line of a finer one with nothing suppressed.
  const extra = b.query.groupBy.filter((f) => !a.query.groupBy.includes(f));
  if (extra.length === 1 && a.query.groupBy.every((f) => b.query.groupBy.includes(f))) {
    for (const c of a.cells) {
      if (c.count === null) continue;
      const fixed = a.query.groupBy.map((f, i) => [f, c.group[i]!] as const);
      const line = b.cells.filter((x) => fixed.every(([f, v]) => x.group[b.query.groupBy.indexOf(f)] === v));
      if (line.some((x) => x.suppressed)) continue;
      const d = c.count - line.reduce((s, x) => s + (x.count ?? 0), 0);
      singled(`cell ${keyOf(c.group)} against its line`, d, truth(persons, a.query.filter, fixed) - truth(persons, b.query.filter, fixed));
    }
  }
  return findings;
}

const person = fc.record({
  gender: fc.constantFrom(...DOMAIN.gender),
  band: fc.constantFrom(...DOMAIN.band),
  eth: fc.constantFrom(...DOMAIN.eth),
});
const query: fc.Arbitrary<Query> = fc.record({
  groupBy: fc.shuffledSubarray(FIELDS, { minLength: 0, maxLength: 2 }),
  filter: fc.shuffledSubarray(FIELDS, { minLength: 0, maxLength: 3 }).chain((fields) =>
    fc.tuple(...fields.map((f) => fc.constantFrom(...DOMAIN[f]).map((v) => [f, v] as const))),
  ),
});

describe('statistics against an attacker who subtracts', () => {
  it('no answer or pair of answers gives away a suppressed count or singles out fewer than k persons', () => {
    fc.assert(
      fc.property(
        fc.array(person, { minLength: 0, maxLength: 90 }),
        fc.array(query, { minLength: 1, maxLength: 6 }),
        fc.constantFrom(5, 10),
        (persons, queries, k) => {
          const answers = queries.map((q) => answer(persons, q, k));
          const findings = answers.flatMap((a) => attackOne(persons, a, k));
          for (const a of answers) for (const b of answers) if (a !== b) findings.push(...attackPair(persons, a, b, k));
          expect(findings).toEqual([]);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('the attacker finds what an unprotected answer gives away (the test can fail)', () => {
    // Without suppression, one person differing between a filter and no filter is found at once.
    const persons: Person[] = [...Array.from({ length: 20 }, () => ({ gender: 'F', band: '0-4', eth: 'han' })), { gender: 'M', band: '0-4', eth: 'han' }];
    const open = (q: Query): Answer => {
      const counts = new Map<string, number>();
      for (const p of persons.filter((p) => matches(p, q.filter))) {
        const key = keyOf(q.groupBy.map((f) => p[f]));
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return { query: q, cells: [...counts].map(([key, count]) => ({ group: JSON.parse(key), count, suppressed: false })), omitted: new Set() };
    };
    const all = open({ groupBy: ['band'], filter: [] });
    const women = open({ groupBy: ['band'], filter: [['gender', 'F']] });
    expect(attackPair(persons, all, women, 10)).not.toEqual([]);
    // The product's answers to the same two questions give nothing away.
    expect(attackPair(persons, answer(persons, all.query, 10), answer(persons, women.query, 10), 10)).toEqual([]);
  });
});
