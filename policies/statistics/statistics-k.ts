/**
 * The threshold k of small-cell suppression (CONTRACT.md § Statistics without individuals): counts
 * from 1 to k−1 are never shown. k is set per dataset, 10 by default, and never below 5 whatever
 * the configuration says.
 */
import type { StatisticsDataset } from './statistics-fields.ts';

export const DEFAULT_K = 10;
export const MIN_K = 5;

export type StatisticsThresholds = Readonly<Partial<Record<StatisticsDataset, number>>>;

/** k for `dataset`: the configured value if it is a whole number, else the default; at least {@link MIN_K}. */
export function kFor(dataset: StatisticsDataset, configured: StatisticsThresholds = {}): number {
  const k = configured[dataset];
  return Math.max(MIN_K, Number.isInteger(k) ? k! : DEFAULT_K);
}

/**
 * `STATISTICS_K`: `population=10,housing=15` (datasets not named keep the default). A k below
 * {@link MIN_K}, a dataset without statistics or a malformed entry is a problem, reported at start.
 */
export function parseStatisticsThresholds(text: string | undefined): { thresholds: StatisticsThresholds; problems: string[] } {
  const thresholds: Partial<Record<StatisticsDataset, number>> = {};
  const problems: string[] = [];
  for (const entry of (text ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const m = /^(population|housing)\s*=\s*(\d{1,6})$/.exec(entry);
    if (!m) {
      problems.push(`STATISTICS_K: "${entry}" is not dataset=k with dataset population or housing (e.g. population=10,housing=15)`);
      continue;
    }
    const k = Number(m[2]);
    if (k < MIN_K) problems.push(`STATISTICS_K: k for ${m[1]} is ${k}; it is never below ${MIN_K}`);
    else thresholds[m[1] as StatisticsDataset] = k;
  }
  return { thresholds, problems };
}
