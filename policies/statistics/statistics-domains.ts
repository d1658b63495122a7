/**
 * The fixed domain of every grouping field, and the full grid of an answer. An answer lists every
 * combination of its grouping fields' domains, counted or not: a group that is listed only when
 * someone is in it tells that someone is (CONTRACT.md § Statistics without individuals: a count of
 * 0 and a count of 1..k−1 must look the same). So a field may be grouped on only when its values
 * are known before the source is asked (an enumeration, the age bands up to the open band, the
 * caller's own streets); free-text fields such as ethnicity are refused.
 *
 * A source row whose value lies outside the domain is not shown under a new group: the answer
 * fails (closed), since the group would exist only because someone is in it.
 */
import type { Scope } from '../../core/conditions.ts';
import { DATASETS } from '../../core/datasets.ts';
import { AGE_BAND_OPEN_FROM, AGE_BAND_YEARS, ageBandOf, type StatisticsDataset } from './statistics-fields.ts';
import type { GroupCounts } from './suppression.ts';

/** Every age band, youngest first: `0-4` … `95-99`, `100+`. */
export const AGE_BANDS: readonly string[] = [
  ...Array.from({ length: AGE_BAND_OPEN_FROM / AGE_BAND_YEARS }, (_, i) => ageBandOf(i * AGE_BAND_YEARS)),
  `${AGE_BAND_OPEN_FROM}+`,
];

/**
 * The values `field` can take in an answer for `scope`, in the order cells are listed, or undefined
 * when the field has no fixed domain (and may then be filtered on but not grouped by).
 */
export function groupDomain(dataset: StatisticsDataset, field: string, scope: Scope): readonly string[] | undefined {
  if (field === 'ageBand') return dataset === 'population' ? AGE_BANDS : undefined;
  const def = DATASETS[dataset].fields.find((f) => f.name === field);
  if (!def) return undefined;
  if (field === DATASETS[dataset].streetField) return scope.streets === 'all' ? undefined : [...scope.streets].sort();
  return def.values;
}

/**
 * The domains of an answer's grouping fields: each field's domain, or only the asked value where the
 * filter fixes the field (the other values are empty by the question itself, which tells nothing,
 * and as cells they would only force needless complementary suppression). Undefined where a field
 * has no fixed domain.
 */
export function answerDomains(
  dataset: StatisticsDataset,
  groupBy: readonly string[],
  fixed: Readonly<Record<string, string | undefined>>,
  scope: Scope,
): (readonly string[])[] | undefined {
  const out: (readonly string[])[] = [];
  for (const field of groupBy) {
    const domain = groupDomain(dataset, field, scope);
    if (!domain) return undefined;
    const asked = fixed[field];
    out.push(asked === undefined ? domain : [asked]);
  }
  return out;
}

/** A group came back from the source with a value no domain holds. */
export class OutsideDomainError extends Error {}

/**
 * The cells of an answer: every combination of `domains` (the first field varying slowest), with
 * the source's counts where it returned the group and zeros elsewhere; and the totals under each
 * filter over every row (groups outside a narrowed domain count there: they hold persons under
 * the coarser filters the differencing rule compares with). Linear in cells + rows.
 */
export function fillGrid(
  domains: readonly (readonly string[])[],
  rows: readonly GroupCounts[],
  filters: number,
): { cells: GroupCounts[]; totals: number[] } {
  const index = new Map<string, number>();
  const cells: { group: string[]; counts: number[] }[] = [];
  const walk = (prefix: string[]) => {
    if (prefix.length === domains.length) {
      index.set(JSON.stringify(prefix), cells.length);
      cells.push({ group: prefix, counts: new Array<number>(filters).fill(0) });
      return;
    }
    for (const v of domains[prefix.length]!) walk([...prefix, v]);
  };
  walk([]);
  const totals = new Array<number>(filters).fill(0);
  for (const row of rows) {
    row.counts.forEach((c, i) => (totals[i] = (totals[i] ?? 0) + c));
    const at = index.get(JSON.stringify(row.group));
    if (at === undefined) {
      // Outside the answer's grid: fine while nobody of it matches the asked filter.
      if ((row.counts[0] ?? 0) === 0) continue;
      throw new OutsideDomainError(`the source holds a value outside the grouping fields' domains (${JSON.stringify(row.group)})`);
    }
    const cell = cells[at]!;
    row.counts.forEach((c, i) => (cell.counts[i] = (cell.counts[i] ?? 0) + c));
  }
  return { cells, totals };
}
