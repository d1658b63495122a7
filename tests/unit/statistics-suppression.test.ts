/**
 * Small-cell suppression, table-style: primary (0 included), differencing and complementary
 * suppression, the grid of fixed domains, and the fields/k rules around them.
 */
import { describe, expect, it } from 'vitest';
import { suppressCells, type GroupCounts } from '../../policies/statistics/suppression.ts';
import { AGE_BANDS, fillGrid, groupDomain, OutsideDomainError } from '../../policies/statistics/statistics-domains.ts';
import { kFor, MIN_K, parseStatisticsThresholds } from '../../policies/statistics/statistics-k.ts';
import { ageBandCondition, ageBandOf } from '../../policies/statistics/statistics-fields.ts';

const g = (group: (string | null)[], ...counts: number[]): GroupCounts => ({ group, counts });
const shown = (cells: { group: readonly (string | null)[]; count: number | null; suppressed: boolean }[]) =>
  Object.fromEntries(cells.map((c) => [c.group.join('|'), c.suppressed ? 'S' : c.count]));

describe('suppressCells', () => {
  it('shows counts of k and more, suppresses 0..k-1 and a complement for it', () => {
    const r = suppressCells([g(['a'], 10), g(['b'], 3), g(['c'], 25), g(['d'], 12)], 1, 10);
    // b is primary; the line's hidden sum 3 < k, so the smallest shown cell (a: 10) is suppressed too.
    expect(shown(r.cells)).toEqual({ a: 'S', b: 'S', c: 25, d: 12 });
    expect(r).toMatchObject({ primary: 1, complementary: 1 });
  });

  it('an empty group is a suppressed cell, exactly like a small one, and needs its complement', () => {
    const empty = suppressCells([g(['a'], 0), g(['b'], 30), g(['c'], 25)], 1, 10);
    const small = suppressCells([g(['a'], 4), g(['b'], 30), g(['c'], 25)], 1, 10);
    expect(empty.cells).toEqual(small.cells);
    expect(shown(empty.cells)).toEqual({ a: 'S', b: 30, c: 'S' });
    // Two empty groups alone would leave 0 to share: the line's total minus the shown cells says
    // both are empty; the smallest shown cell joins them.
    expect(shown(suppressCells([g(['a'], 0), g(['b'], 0), g(['c'], 25), g(['d'], 40)], 1, 10).cells)).toEqual({ a: 'S', b: 'S', c: 'S', d: 40 });
  });

  it('needs no complement when the suppressed cells together hold k or more', () => {
    const r = suppressCells([g(['a'], 6), g(['b'], 7), g(['c'], 40)], 1, 10);
    expect(shown(r.cells)).toEqual({ a: 'S', b: 'S', c: 40 });
    expect(r.complementary).toBe(0);
  });

  it('lists every group given, in the order given, even when all are suppressed', () => {
    const groups = Array.from({ length: 10 }, (_, i) => g([`v${i}`], i % 2));
    const r = suppressCells(groups, 1, 10);
    expect(r.cells.map((c) => c.group[0])).toEqual(groups.map((x) => x.group[0]));
    expect(r.cells.every((c) => c.suppressed && c.count === null)).toBe(true);
  });

  it('a single group under k is suppressed, 0 included', () => {
    expect(suppressCells([g([], 4)], 0, 10).cells).toEqual([{ group: [], count: null, suppressed: true }]);
    expect(suppressCells([g([], 0)], 0, 10).cells).toEqual([{ group: [], count: null, suppressed: true }]);
    expect(suppressCells([g([], 40)], 0, 10).cells).toEqual([{ group: [], count: 40, suppressed: false }]);
  });

  it('suppresses in both directions of a two-way table', () => {
    const r = suppressCells(
      [g(['F', 'x'], 2), g(['F', 'y'], 30), g(['M', 'x'], 20), g(['M', 'y'], 40)],
      2,
      10,
    );
    // F|x primary; its row (F) and its column (x) each need a complement, and those then need one
    // in their own lines: the 2×2 pattern.
    expect(shown(r.cells)).toEqual({ 'F|x': 'S', 'F|y': 'S', 'M|x': 'S', 'M|y': 'S' });
  });

  it('differencing: a cell that differs by 0..k-1 from a coarser filter is suppressed', () => {
    // Asked filter first, then the unfiltered count of the same group. b differs by 0: nobody in b
    // fails the filter, which is as telling as one person failing it.
    const r = suppressCells([g(['a'], 40, 41), g(['b'], 30, 30), g(['c'], 50, 70), g(['d'], 60, 80)], 1, 10);
    expect(r.differencing).toBe(2);
    expect(shown(r.cells)).toEqual({ a: 'S', b: 'S', c: 50, d: 60 });
  });

  it('differencing: totals that differ by 0..k-1 suppress every cell', () => {
    // Each cell differs by 10+ or is small, but the totals differ by 3 persons.
    const r = suppressCells([g(['a'], 40, 50), g(['b'], 30, 40), g(['z'], 0, 3)], 1, 10);
    // Totals 70 against 93: far enough; z is primary and b its complement.
    expect(shown(r.cells)).toEqual({ a: 40, b: 'S', z: 'S' });
    const tight = suppressCells([g(['a'], 40, 40), g(['b'], 30, 30), g(['z'], 0, 3)], 1, 10);
    expect(tight.cells.every((c) => c.suppressed)).toBe(true);
  });
});

describe('the grid of fixed domains', () => {
  it('lists every combination, first field slowest, with zeros where the source had no group', () => {
    const grid = fillGrid([['F', 'M'], ['x', 'y', 'z']], [g(['M', 'y'], 7, 9), g(['F', 'x'], 3, 3)], 2);
    expect(grid.totals).toEqual([10, 12]);
    expect(grid.cells).toEqual([
      g(['F', 'x'], 3, 3), g(['F', 'y'], 0, 0), g(['F', 'z'], 0, 0),
      g(['M', 'x'], 0, 0), g(['M', 'y'], 7, 9), g(['M', 'z'], 0, 0),
    ]);
    expect(fillGrid([], [g([], 12)], 1).cells).toEqual([g([], 12)]);
    expect(fillGrid([], [], 1).cells).toEqual([g([], 0)]);
    // A group outside a narrowed domain with nobody under the asked filter counts in the totals only.
    expect(fillGrid([['F']], [g(['F'], 20, 20), g(['M'], 0, 15)], 2)).toEqual({ cells: [g(['F'], 20, 20)], totals: [20, 35] });
  });

  it('fails closed on a value outside the domain rather than list a group someone is in', () => {
    expect(() => fillGrid([['F', 'M']], [g(['X'], 1)], 1)).toThrow(OutsideDomainError);
    expect(() => fillGrid([['F', 'M']], [g([null], 2)], 1)).toThrow(OutsideDomainError);
  });

  it('every groupable field has a fixed domain; free text has none', () => {
    const scope = { streets: ['310104003'], conditions: [] };
    expect(groupDomain('population', 'gender', scope)).toEqual(['male', 'female']);
    expect(groupDomain('population', 'ageBand', scope)).toEqual(AGE_BANDS);
    expect(AGE_BANDS).toHaveLength(21);
    expect(AGE_BANDS[0]).toBe('0-4');
    expect(AGE_BANDS.at(-1)).toBe('100+');
    expect(groupDomain('population', 'streetCode', scope)).toEqual(['310104003']);
    expect(groupDomain('housing', 'usage', scope)).toEqual(['residential', 'commercial', 'mixed']);
    expect(groupDomain('housing', 'tenure', scope)).toEqual(['owned', 'rented', 'public']);
    expect(groupDomain('population', 'ethnicity', scope)).toBeUndefined();
    expect(groupDomain('housing', 'ageBand', scope)).toBeUndefined();
    expect(groupDomain('population', 'streetCode', { streets: 'all', conditions: [] })).toBeUndefined();
  });
});

describe('k and age bands', () => {
  it('k defaults to 10 and is never below 5', () => {
    expect(kFor('population')).toBe(10);
    expect(kFor('housing', { housing: 20 })).toBe(20);
    expect(kFor('population', { population: 2 })).toBe(MIN_K);
    expect(kFor('population', { population: 0.5 })).toBe(10);
  });

  it('STATISTICS_K sets k per dataset and refuses anything below 5', () => {
    expect(parseStatisticsThresholds('population=12, housing=5')).toEqual({ thresholds: { population: 12, housing: 5 }, problems: [] });
    expect(parseStatisticsThresholds(undefined)).toEqual({ thresholds: {}, problems: [] });
    const bad = parseStatisticsThresholds('population=3,social_security=10,housing');
    expect(bad.thresholds).toEqual({});
    expect(bad.problems).toHaveLength(3);
    expect(bad.problems[0]).toMatch(/never below 5/);
  });

  it.each([
    [0, '0-4'],
    [4, '0-4'],
    [65, '65-69'],
    [69, '65-69'],
    [99, '95-99'],
    [100, '100+'],
    [117, '100+'],
  ])('age %i is in band %s, and the band condition admits it', (age, band) => {
    expect(ageBandOf(age)).toBe(band);
    expect(ageBandCondition(band)).toBeDefined();
  });

  it.each(['65-70', '66-70', '1956-01-01', '100-104', '', '-5-0'])('%j is not a band', (band) => {
    expect(ageBandCondition(band)).toBeUndefined();
  });
});
