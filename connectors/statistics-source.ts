/**
 * The port for counting: grouped counts of one dataset's rows inside a scope, computed in the
 * source (never by fetching rows). Like every read it takes a {@link Scope} and refuses to run
 * without one; it returns counts only, never a row.
 */
import type { Condition, Scope } from '../core/conditions.ts';

export interface CountRequest {
  readonly scope: Scope;
  /** Logical fields to group by, in order; `ageBand` is the 5-year band of the derived age. */
  readonly groupBy: readonly string[];
  /**
   * Filters to count under, each a list of conditions ANDed with the scope: one count per filter
   * per group, from one pass over the rows. Groups where every count is 0 are not returned.
   */
  readonly filters: readonly (readonly Condition[])[];
}

/** One group: its values in `groupBy` order and its count under each filter, in `filters` order. */
export interface CountRow {
  readonly group: readonly (string | null)[];
  readonly counts: readonly number[];
}

export interface StatisticsSource {
  count(request: CountRequest): Promise<CountRow[]>;
}
