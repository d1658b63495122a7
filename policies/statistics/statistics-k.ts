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
