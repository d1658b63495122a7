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

export interface FindRequest {
  readonly scope: Scope;
  /** Logical fields to return. The adapter adds what it needs for cursors itself. */
  readonly fields: readonly string[];
  /** Request filters (already authorized), ANDed with the scope. */
  readonly where?: readonly Condition[];
  readonly orderBy?: OrderBy;
  readonly first: number;
  readonly after?: string | null;
  /** Count all rows matching scope and filters (in the source, not by fetching them). */
  readonly withTotalCount?: boolean;
}

export type Row = Record<string, unknown>;

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
