/**
 * The attacker of `statistics`, written as code: in a random population and a random sequence of
 * answers (groupings of up to two fields, filters of up to three equalities), it tries to work out
 * a suppressed count or to single out fewer than k persons, from one answer or any pair of answers,
 * by subtracting cells and totals. A finding counts only when what it concludes is true.
 *
 * It also tries to tell an empty group from a small one: from which groups an answer lists, from a
 * line whose suppressed cells leave nothing to share, and from two nested filters whose counts are
 * equal (nobody fails the extra condition) or differ by fewer than k (the differencing pair).
 *
 * What it knows, beyond the cells every answer shows: the total of every line of an answer that the
 * coarser answer (the same filter, grouped without that line's field) shows, and the algorithm's
 * rule that a suppressed cell holds 0 or more persons.
 *
 * Answers are computed exactly as the resolver does: counts under the filter lattice
 * (filter-lattice.ts) for each group, the full grid of the fields' domains (statistics-domains.ts),
 * then suppressCells; only the counting (SQL in the product) is done here in memory.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { suppressCells, type GroupCounts, type StatisticsCell } from '../../policies/statistics/suppression.ts';
import { filterLattice, groupedOnlyDrops } from '../../policies/statistics/filter-lattice.ts';
import { fillGrid } from '../../policies/statistics/statistics-domains.ts';

type Field = 'gender' | 'band' | 'eth';
type Person = Readonly<Record<Field, string>>;
const DOMAIN: Readonly<Record<Field, readonly string[]>> = { gender: ['F', 'M'], band: ['0-4', '5-9', '10-14', '15-19'], eth: ['han', 'hui', 'tibetan'] };
const FIELDS = Object.keys(DOMAIN) as Field[];

interface Query {
  readonly groupBy: readonly Field[];
  readonly filter: readonly (readonly [Field, string])[];
}
interface Answer {
  readonly query: Query;
  readonly cells: readonly StatisticsCell[];
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
  const grid = fillGrid(domainsOf(query), [...groups.values()], lattice.length);
  const sameByConstruction = groupedOnlyDrops(query.filter.map(([f]) => f), query.groupBy);
  return { query, cells: suppressCells(grid.cells, query.groupBy.length, k, { totals: grid.totals, sameByConstruction }).cells };
}

/** The domain of each grouped field, narrowed to the asked value where the filter fixes it (as the resolver does). */
function domainsOf(query: Query): string[][] {
  return query.groupBy.map((f) => {
    const fixed = query.filter.find(([g]) => g === f);
    return fixed ? [fixed[1]] : [...DOMAIN[f]];
  });
}

/** Every combination of the answer's domains, in the order an answer lists them. */
function crossProduct(query: Query): string[] {
  return domainsOf(query).reduce<string[][]>((acc, d) => acc.flatMap((prefix) => d.map((v) => [...prefix, v])), [[]]).map(keyOf);
}

/** Persons matching `filter` whose `groupBy` values are `values` at the given positions. */
function truth(persons: readonly Person[], filter: Query['filter'], fixed: readonly (readonly [Field, string])[]): number {
  return persons.filter((p) => matches(p, filter) && matches(p, fixed)).length;
}

type Finding = string;

/**
 * One answer: which groups it lists (they must not depend on who exists), and each line's total,
 * where the coarser answer shows it, minus its shown cells, shared among its suppressed cells.
 */
function attackOne(persons: readonly Person[], a: Answer, k: number): Finding[] {
  const findings: Finding[] = [];
  const what = JSON.stringify(a.query);
  if (keyOf(a.cells.map((c) => keyOf(c.group))) !== keyOf(crossProduct(a.query))) {
    findings.push(`${what}: the groups listed are not the full grid, so which are listed tells which are empty`);
  }
  for (const c of a.cells) if (!c.suppressed && (c.count ?? 0) < k) findings.push(`${what}: a count below k is shown`);
  const dims = a.query.groupBy.length;
  for (let d = 0; d < dims; d++) {
    const coarser = answer(persons, { groupBy: a.query.groupBy.filter((_, i) => i !== d), filter: a.query.filter }, k);
    const totals = new Map(coarser.cells.map((c) => [keyOf(c.group), c.count]));
    const lines = new Map<string, StatisticsCell[]>();
    for (const c of a.cells) {
      const rest = keyOf(c.group.filter((_, i) => i !== d));
      lines.set(rest, [...(lines.get(rest) ?? []), c]);
    }
    for (const [restKey, line] of lines) {
      const total = totals.get(restKey);
      if (total === null || total === undefined) continue;
      const suppressed = line.filter((c) => c.suppressed);
      if (suppressed.length === 0) continue;
      const rest = total - line.reduce((s, c) => s + (c.count ?? 0), 0);
      if (suppressed.length === 1) findings.push(`line of ${what}: the one suppressed cell ${keyOf(suppressed[0]!.group)} is ${rest}`);
      else if (rest === 0) findings.push(`line of ${what}: every suppressed cell is empty`);
      else if (rest < k) findings.push(`line of ${what}: every suppressed cell is below k (together ${rest})`);
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
    // A difference of 0 says a group (the persons failing b's extra conditions) is empty.
    if (d === real && d >= 0 && d < k) findings.push(`${JSON.stringify(a.query)} − ${JSON.stringify(b.query)}: ${what} singles out ${d}`);
  };
  // Same grouping: cell by cell (unless b adds conditions on grouped fields only: its cells then
  // equal a's, or are empty, by construction, which tells nothing).
  const added = b.query.filter.filter(([f, v]) => !a.query.filter.some(([g, w]) => g === f && w === v));
  if (keyOf(a.query.groupBy) === keyOf(b.query.groupBy) && !added.every(([f]) => a.query.groupBy.includes(f))) {
    const inB = new Map(b.cells.map((c) => [keyOf(c.group), c]));
    for (const c of a.cells) {
      const other = inB.get(keyOf(c.group));
      if (c.count === null || !other || other.count === null) continue;
      const fixed = a.query.groupBy.map((f, i) => [f, c.group[i]!] as const);
      singled(`cell ${keyOf(c.group)}`, c.count - other.count, truth(persons, a.query.filter, fixed) - truth(persons, b.query.filter, fixed));
    }
  }
  // Totals, when neither shows a suppressed cell.
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
      return { query: q, cells: [...counts].map(([key, count]) => ({ group: JSON.parse(key), count, suppressed: false })) };
    };
    const all = open({ groupBy: ['band'], filter: [] });
    const women = open({ groupBy: ['band'], filter: [['gender', 'F']] });
    expect(attackPair(persons, all, women, 10)).not.toEqual([]);
    // The product's answers to the same two questions give nothing away.
    expect(attackPair(persons, answer(persons, all.query, 10), answer(persons, women.query, 10), 10)).toEqual([]);
  });

  it('tells an empty group from a small one where answers list only the groups that exist (the test can fail)', () => {
    // Nobody is M in band 5-9; two persons are F there. Listing only non-empty groups, even
    // suppressed, tells the first apart from the second.
    const persons: Person[] = [
      ...Array.from({ length: 30 }, () => ({ gender: 'F', band: '0-4', eth: 'han' })),
      ...Array.from({ length: 30 }, () => ({ gender: 'M', band: '0-4', eth: 'han' })),
      { gender: 'F', band: '5-9', eth: 'han' },
      { gender: 'F', band: '5-9', eth: 'hui' },
    ];
    const q: Query = { groupBy: ['gender', 'band'], filter: [] };
    const product = answer(persons, q, 10);
    const listingOnlyWhatExists: Answer = { query: q, cells: product.cells.filter((c) => truth(persons, [], q.groupBy.map((f, i) => [f, c.group[i]!] as const)) > 0) };
    expect(attackOne(persons, listingOnlyWhatExists, 10).join()).toMatch(/which are empty/);
    expect(attackOne(persons, product, 10)).toEqual([]);
  });

  it('a filter that matches nobody and one that matches 1..k-1 persons get the same answer', () => {
    fc.assert(
      fc.property(fc.array(person, { maxLength: 60 }), fc.integer({ min: 1, max: 9 }), fc.shuffledSubarray(['gender', 'band'] as Field[], { maxLength: 2 }), (random, few, groupBy) => {
        // eth 'tibetan' is nobody's in the first population; then `few` persons get it.
        const persons = random.filter((p) => p.eth !== 'tibetan');
        const filter = [['eth', 'tibetan'] as const];
        const none = answer(persons, { groupBy, filter }, 10);
        const some = answer([...persons, ...Array.from({ length: few }, () => ({ gender: 'F', band: '0-4', eth: 'tibetan' }))], { groupBy, filter }, 10);
        expect(some.cells).toEqual(none.cells);
        expect(none.cells.every((c) => c.suppressed && c.count === null)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('a differencing pair whose counts are equal tells that a group is empty, unless differencing counts 0 (the test can fail)', () => {
    // Every woman of band 0-4 is han: filtering on han changes nothing for that cell.
    const persons: Person[] = [
      ...Array.from({ length: 40 }, () => ({ gender: 'F', band: '0-4', eth: 'han' })),
      ...Array.from({ length: 25 }, () => ({ gender: 'F', band: '5-9', eth: 'han' })),
      ...Array.from({ length: 25 }, () => ({ gender: 'F', band: '5-9', eth: 'hui' })),
      ...Array.from({ length: 20 }, () => ({ gender: 'F', band: '10-14', eth: 'han' })),
      ...Array.from({ length: 20 }, () => ({ gender: 'F', band: '15-19', eth: 'han' })),
      ...Array.from({ length: 20 }, () => ({ gender: 'F', band: '15-19', eth: 'hui' })),
    ];
    const all: Query = { groupBy: ['band'], filter: [['gender', 'F']] };
    const han: Query = { groupBy: ['band'], filter: [['gender', 'F'], ['eth', 'han']] };
    // Without the coarser filters' counts (no differencing), the cell 0-4 shows 40 in both.
    const noDifferencing = (q: Query): Answer => {
      const rows = DOMAIN.band.map((band) => ({ group: [band], counts: [persons.filter((p) => matches(p, q.filter) && p.band === band).length] }));
      return { query: q, cells: suppressCells(rows, 1, 10).cells };
    };
    expect(attackPair(persons, noDifferencing(all), noDifferencing(han), 10).join()).toMatch(/singles out 0/);
    expect(attackPair(persons, answer(persons, all, 10), answer(persons, han, 10), 10)).toEqual([]);
  });
});
