/**
 * The Connector port: the only way the gateway reads a department's data.
 *
 * A connector never sees a request, a token or a purpose. It sees a {@link Scope} (which rows the
 * caller may see, already compiled from grants) and the logical fields to read. Every read method
 * takes a scope and refuses to run without one, so a forgotten authorization check fails loudly
 * instead of silently returning the whole registry.
 *
 * Field names are the dataset's logical names (see `datasets.ts`); each adapter maps them to its own
 * columns or JSON keys from its own field map, never from anything a request supplies.
 */
import type { DatasetDef } from '../core/datasets.ts';
import type { Condition, Scope } from '../core/conditions.ts';

export interface OrderBy {
  readonly field: string;
  readonly direction: 'asc' | 'desc';
}

/**
 * Fields that may leave the source on some rows of the scope only (several grants with different
 * row conditions). The adapter evaluates each tag in its own query, reports per row which tags
 * hold (`row[ROW_TAGS]`), and returns a field listed in `shownUnder` only on rows where one of its
 * tags holds (null elsewhere). Fields not listed come back on every row in scope, as without rules.
 */
export interface RowRules {
  /** Row conditions on the dataset's own fields, compiled like the scope's (values as parameters). */
  readonly tags: readonly Condition[];
  /** Field → indexes into `tags`; the value is returned where any of them holds. */
  readonly shownUnder: Readonly<Record<string, readonly number[]>>;
}

/** Which of the request's `rowRules.tags` hold on a returned row, in order; present only when tags were asked for. */
export const ROW_TAGS: unique symbol = Symbol('lianqiao.rowTags');

export interface FindRequest {
  readonly scope: Scope;
  /** Logical fields to return. The adapter adds what it needs for cursors itself. */
  readonly fields: readonly string[];
  /** Row-dependent fields; absent or without tags: every field on every row in scope. */
  readonly rowRules?: RowRules;
  /** Request filters (already authorized), ANDed with the scope. */
  readonly where?: readonly Condition[];
  readonly orderBy?: OrderBy;
  readonly first: number;
  readonly after?: string | null;
  /** Count all rows matching scope and filters (in the source, not by fetching them). */
  readonly withTotalCount?: boolean;
}

export type Row = Record<string, unknown>;

/** A row as an adapter returns it under {@link RowRules}: the tags that hold on it travel with it (never into JSON). */
type TaggedRow = Row & { [ROW_TAGS]?: readonly boolean[] };

/** The tags that hold on `row` (see {@link RowRules}); undefined when none were asked for. */
export function rowTags(row: Row): readonly boolean[] | undefined {
  return (row as TaggedRow)[ROW_TAGS];
}

/** Attaches the tags that hold on a row; adapters call it. */
export function tagRow(row: Row, tags: readonly boolean[]): Row {
  (row as TaggedRow)[ROW_TAGS] = tags;
  return row;
}

export interface Page {
  readonly rows: readonly Row[];
  /** One opaque cursor per row, same order. */
  readonly cursors: readonly string[];
  readonly hasNextPage: boolean;
  readonly totalCount?: number;
}

export interface LookupRequest {
  readonly scope: Scope;
  readonly fields: readonly string[];
  /** The field the keys are matched on: the dataset key, or a declared lookup field such as `houseId`. */
  readonly by: string;
  readonly keys: readonly string[];
  /** Row-dependent fields, as for {@link FindRequest.rowRules}. */
  readonly rowRules?: RowRules;
}

/** The port every source adapter implements. */
export interface Connector {
  /** The dataset this connector serves. */
  readonly dataset: DatasetDef;
  /** Rows in scope matching filters, keyset-paginated. */
  find(request: FindRequest): Promise<Page>;
  /** All rows in scope whose `by` field is one of `keys`, in one source round trip. */
  lookup(request: LookupRequest): Promise<Row[]>;
  /** Resolves when the source answers; rejects with a ConnectorError otherwise. */
  health(): Promise<void>;
  close(): Promise<void>;
}

/** Refuse a call that carries no scope: the guard every adapter runs first. */
export function assertScope(scope: Scope | undefined | null, dataset: string): asserts scope is Scope {
  if (!scope || (scope.streets !== 'all' && !Array.isArray(scope.streets)) || !Array.isArray(scope.conditions)) {
    throw new TypeError(`connector for ${dataset} called without a scope: refusing to read`);
  }
}

/** Whether a request carries tags to evaluate; throws on rules that point at tags that do not exist. */
export function hasRowRules(rules: RowRules | undefined, dataset: string): rules is RowRules {
  if (!rules || rules.tags.length === 0) {
    if (rules && Object.keys(rules.shownUnder).length > 0) throw new TypeError(`${dataset}: row rules name tags but carry none`);
    return false;
  }
  for (const [field, tags] of Object.entries(rules.shownUnder)) {
    for (const i of tags) {
      if (!Number.isInteger(i) || i < 0 || i >= rules.tags.length) throw new TypeError(`${dataset}: row rule of ${field} names no tag ${i}`);
    }
  }
  return true;
}

/**
 * The port for counting (`statistics`): grouped counts of one dataset's rows inside a scope, computed in
 * the source (never by fetching rows). Like every read it takes a {@link Scope} and refuses to run
 * without one; it returns counts only, never a row. A port of its own, beside {@link Connector}: only
 * the sources that can count (population and housing) have one.
 */
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
