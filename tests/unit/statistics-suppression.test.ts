/**
 * Small-cell suppression, table-style: primary, differencing and complementary suppression, the
 * last resort of leaving a line out, and the fields/k rules around them.
 */
import { describe, expect, it } from 'vitest';
import { suppressCells, type GroupCounts } from '../../policies/statistics/suppression.ts';
import { kFor, MIN_K, parseStatisticsThresholds } from '../../policies/statistics/statistics-k.ts';
import { ageBandCondition, ageBandOf } from '../../policies/statistics/statistics-fields.ts';

const g = (group: (string | null)[], ...counts: number[]): GroupCounts => ({ group, counts });
const shown = (cells: { group: readonly (string | null)[]; count: number | null; suppressed: boolean }[]) =>
  Object.fromEntries(cells.map((c) => [c.group.join('|'), c.suppressed ? 'S' : c.count]));

describe('suppressCells', () => {
  it('shows counts of k and more, suppresses 1..k-1 and a complement for it', () => {
    const r = suppressCells([g(['a'], 10), g(['b'], 3), g(['c'], 25), g(['d'], 12)], 1, 10);
    // b is primary; the line's hidden sum 3 < k, so the smallest shown cell (a: 10) is suppressed too.
    expect(shown(r.cells)).toEqual({ a: 'S', b: 'S', c: 25, d: 12 });
    expect(r).toMatchObject({ primary: 1, complementary: 1, omitted: 0 });
  });

  it('needs no complement when the suppressed cells together leave k possibilities', () => {
    // 6 + 7 = 13 hidden, 2 cells: either could be anything from 1 to 12.
    const r = suppressCells([g(['a'], 6), g(['b'], 7), g(['c'], 40)], 1, 10);
    expect(shown(r.cells)).toEqual({ a: 'S', b: 'S', c: 40 });
    expect(r.complementary).toBe(0);
  });

  it('leaves out a line whose cells are all small and together too few', () => {
    // Ten groups of one: a total of 10 would say each is exactly 1.
    const groups = Array.from({ length: 10 }, (_, i) => g([`v${i}`], 1));
    const r = suppressCells(groups, 1, 10);
    expect(r.cells).toEqual([]);
    expect(r.omitted).toBe(10);
  });

  it('a single group under k is suppressed; zero groups are no cells', () => {
    expect(suppressCells([g([], 4)], 0, 10).cells).toEqual([{ group: [], count: null, suppressed: true }]);
    expect(suppressCells([g([], 40)], 0, 10).cells).toEqual([{ group: [], count: 40, suppressed: false }]);
    expect(suppressCells([g(['a'], 0, 12)], 1, 10).cells).toEqual([]);
  });

  it('lists age bands in their natural order', () => {
    const r = suppressCells([g(['10-14'], 20), g(['5-9'], 30), g(['0-4'], 40), g(['100+'], 12)], 1, 10);
    expect(r.cells.map((c) => c.group[0])).toEqual(['0-4', '5-9', '10-14', '100+']);
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

  it('differencing: a cell that differs by 1..k-1 from a coarser filter is suppressed', () => {
    // Asked filter first, then the unfiltered count of the same group.
    const r = suppressCells([g(['a'], 40, 41), g(['b'], 30, 30), g(['c'], 50, 70)], 1, 10);
    expect(r.differencing).toBe(1);
    expect(shown(r.cells).a).toBe('S');
    expect(shown(r.cells).c).toBe(50);
  });

  it('differencing: totals that differ by 1..k-1 suppress every cell', () => {
    // Each cell differs by 0 or 10+, but a group exists only without the filter (3 persons).
    const r = suppressCells([g(['a'], 40, 40), g(['b'], 30, 30), g(['z'], 0, 3)], 1, 10);
    expect(r.cells.every((c) => c.suppressed)).toBe(true);
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
