/**
 * Row conditions and scopes: the structured, parameterised language in which grants restrict rows
 * and requests filter them. Compiled by each connector into its own query language; never pasted.
 */
import { fieldDef, type DatasetDef, type FieldDef } from './datasets.ts';
import { isCalendarDate } from './time.ts';

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

// ---------------------------------------------------------------------------------------------
// The one validator of a condition tree: policy files, the admin API and the HTTP source protocol
// all call it, so a condition means the same (and is refused for the same reasons) everywhere.

/** Deepest nesting of `all`/`any` in a condition tree. */
export const MAX_CONDITION_DEPTH = 8;
/** Largest list an `in` condition may carry. */
export const MAX_IN_VALUES = 1000;

/** A step of a path into a nested value: a key, or a list index. */
export type PathStep = string | number;

/** One reason a condition is refused; `path` starts with the caller's `at`. */
export interface ConditionIssue {
  readonly path: readonly PathStep[];
  readonly message: string;
}

const SHAPE = 'a condition is {field, op, value}, {all: [conditions]} or {any: [conditions]}';

/** `rows.all[1].op` */
export function formatPath(path: readonly PathStep[]): string {
  let out = '';
  for (const step of path) out += typeof step === 'number' ? `[${step}]` : out ? `.${step}` : step;
  return out;
}

/**
 * What a value is, never what it says: messages may travel to logs and other services, and a
 * filter value can be an ID number or a name.
 */
export function describeKind(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'number') return Number.isFinite(value) ? 'a number' : 'a non-finite number';
  if (typeof value === 'boolean') return 'true or false';
  return typeof value;
}

/** A name from the input, quoted and cut short. */
function quote(name: unknown): string {
  if (typeof name !== 'string') return describeKind(name);
  return `'${name.length > 64 ? `${name.slice(0, 64)}…` : name}'`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** Why `value` does not fit `field`'s type, or undefined when it does. */
function valueMismatch(field: FieldDef, value: unknown): string | undefined {
  const got = describeKind(value);
  switch (field.type) {
    case 'string':
      if (typeof value !== 'string') return `must be text, got ${got}`;
      if (field.values && !field.values.includes(value)) return `must be one of ${field.values.join(', ')}`;
      return undefined;
    case 'date':
      return isCalendarDate(value) ? undefined : `must be a date YYYY-MM-DD naming a real day, got ${typeof value === 'string' ? 'other text' : got}`;
    case 'int':
      return typeof value === 'number' && Number.isSafeInteger(value) ? undefined : `must be an integer, got ${got}`;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : `must be a number, got ${got}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `must be true or false, got ${got}`;
  }
}

function walk(dataset: DatasetDef, condition: unknown, where: PathStep[], depth: number, issues: ConditionIssue[]): void {
  const at = (p: readonly PathStep[]) => formatPath(p) || 'condition';
  const push = (path: PathStep[], message: string): void => {
    issues.push({ path, message: `${at(path)}: ${message}` });
  };
  if (!isPlainObject(condition)) return push(where, `${SHAPE}, got ${describeKind(condition)}`);
  const keys = Object.keys(condition);
  if ('all' in condition || 'any' in condition) {
    const combinator = 'all' in condition ? 'all' : 'any';
    for (const k of keys) if (k !== combinator) push([...where, k], `unexpected key ${quote(k)} next to '${combinator}' (${SHAPE})`);
    const parts = condition[combinator];
    const partsAt = [...where, combinator];
    if (depth >= MAX_CONDITION_DEPTH) return push(partsAt, `conditions nested deeper than ${MAX_CONDITION_DEPTH} levels`);
    if (!Array.isArray(parts) || parts.length === 0) {
      return push(partsAt, `'${combinator}' takes a non-empty list of conditions, got ${describeKind(parts)}`);
    }
    parts.forEach((part, i) => walk(dataset, part, [...partsAt, i], depth + 1, issues));
    return;
  }

  const before = issues.length;
  for (const k of keys) if (k !== 'field' && k !== 'op' && k !== 'value') push([...where, k], `unknown key ${quote(k)} (${SHAPE})`);
  for (const k of ['field', 'op', 'value'] as const) if (!(k in condition)) push(where, `missing '${k}' (${SHAPE})`);
  if (issues.length > before) return;

  const { field, op, value } = condition;
  const fieldAt = [...where, 'field'];
  const opAt = [...where, 'op'];
  const valueAt = [...where, 'value'];
  const def = typeof field === 'string' ? fieldDef(dataset, field) : undefined;
  if (!def) push(fieldAt, `unknown field ${quote(field)} in dataset ${dataset.name}`);
  else if (def.internal) push(fieldAt, `field '${def.name}' is internal to dataset ${dataset.name} and cannot be used in a condition`);
  if (typeof op !== 'string' || !(COMPARISON_OPS as readonly string[]).includes(op)) {
    push(opAt, `unknown operator ${quote(op)} (expected one of ${COMPARISON_OPS.join(', ')})`);
  }
  if (issues.length > before || !def) return;

  const typed = (v: unknown, path: PathStep[]) => {
    const why = valueMismatch(def, v);
    if (why) push(path, `value for '${def.name}' (${def.type}) ${why}`);
  };
  if (op === 'in') {
    if (!Array.isArray(value) || value.length === 0 || value.length > MAX_IN_VALUES) {
      return push(valueAt, `'in' takes a non-empty list of at most ${MAX_IN_VALUES} values, got ${describeKind(value)}`);
    }
    value.forEach((v, i) => typed(v, [...valueAt, i]));
    return;
  }
  if (Array.isArray(value)) return push(valueAt, `only 'in' takes a list of values, '${String(op)}' takes one value`);
  if (op === 'startsWith') {
    if (def.type !== 'string') return push(opAt, `'startsWith' applies to text fields only, '${def.name}' is ${def.type}`);
    if (typeof value !== 'string' || value === '') return push(valueAt, `'startsWith' takes a non-empty text prefix, got ${describeKind(value)}`);
    return;
  }
  if (value === null) {
    if (op !== 'eq' && op !== 'ne') push(valueAt, `'${String(op)}' cannot compare with null (only eq and ne can)`);
    return;
  }
  if (def.type === 'boolean' && op !== 'eq' && op !== 'ne') {
    return push(opAt, `'${String(op)}' cannot order boolean field '${def.name}' (use eq or ne)`);
  }
  typed(value, valueAt);
}

/**
 * THE check of a row condition against a dataset: its shape, that each field exists and is not
 * internal (derived fields such as `age` are fine), that each operator is known and each value fits
 * the field's type (real days `YYYY-MM-DD`, safe integers, finite numbers, booleans, enumeration
 * values; `in` takes a non-empty list of at most {@link MAX_IN_VALUES}; `startsWith` a non-empty
 * prefix of a text field; `null` with `eq` and `ne` only; booleans cannot be ordered), nesting at
 * most {@link MAX_CONDITION_DEPTH}. One issue per problem, empty when valid. Messages name paths,
 * fields and types, never the values given. Linear in the size of the tree.
 *
 * @param at where the condition sits in its container, prefixed to every issue's path
 * @example validateCondition(POPULATION, { field: 'age', op: 'gte', value: 65 }) // []
 */
export function validateCondition(dataset: DatasetDef, condition: unknown, at: readonly PathStep[] = []): ConditionIssue[] {
  const issues: ConditionIssue[] = [];
  walk(dataset, condition, [...at], 0, issues);
  return issues;
}
