/**
 * Row conditions and scopes: the structured, parameterised language in which grants restrict rows
 * and requests filter them. Compiled by each connector into its own query language; never pasted.
 */
export type Scalar = string | number | boolean | null;

/** Comparison operators a condition may use. `startsWith` is a parameterised prefix match. */
export type ComparisonOp = 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte' | 'in' | 'startsWith';

export const COMPARISON_OPS: readonly ComparisonOp[] = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'startsWith'];

/**
 * A structured row condition on a dataset's own fields. Compiled by each adapter into its query
 * language with values as parameters; never pasted into SQL.
 *
 * @example { field: 'age', op: 'gte', value: 65 }
 * @example { any: [{ field: 'tenure', op: 'eq', value: 'rented' }, { field: 'usage', op: 'eq', value: 'mixed' }] }
 */
export type Condition =
  | { field: string; op: ComparisonOp; value: Scalar | readonly Scalar[] }
  | { all: readonly Condition[] }
  | { any: readonly Condition[] };

/**
 * Which rows of one dataset a caller may see.
 * - `streets`: street codes (9 digits) the rows must belong to, or `'all'`. Applied on the dataset's
 *   street field; a dataset without one (social security) is scoped through its subject by the
 *   gateway, which only asks it for keys it has already found in scope.
 * - `conditions`: every one must hold (AND).
 */
export interface Scope {
  readonly streets: 'all' | readonly string[];
  readonly conditions: readonly Condition[];
}
