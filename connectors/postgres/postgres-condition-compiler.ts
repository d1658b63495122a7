/**
 * Compiles structured {@link Condition}s into kysely expressions. Column names come only from the
 * connector's own field map; every value is a bound parameter. Conditions on the derived `age`
 * field become birth-date comparisons, so an index on the birth date serves them.
 */
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { Condition, Scalar } from '../../core/conditions.ts';
import { birthDateBound, todayInCity } from '../../core/time.ts';

export interface ColumnResolver {
  /** The qualified column for a logical field; throws for a field the mapping does not have. */
  column(field: string): string;
  /** For a derived field, the field it is computed from (age → birthDate). */
  derivedFrom(field: string): string | undefined;
}

const SQL_OPS = { eq: '=', ne: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;

export function compileConditions(
  eb: ExpressionBuilder<any, any>,
  conditions: readonly Condition[],
  columns: ColumnResolver,
  today: string = todayInCity(),
): Expression<SqlBool> {
  return eb.and(conditions.map((c) => compileCondition(eb, c, columns, today)));
}

function compileCondition(
  eb: ExpressionBuilder<any, any>,
  condition: Condition,
  columns: ColumnResolver,
  today: string,
): Expression<SqlBool> {
  if ('all' in condition) return eb.and(condition.all.map((c) => compileCondition(eb, c, columns, today)));
  if ('any' in condition) return eb.or(condition.any.map((c) => compileCondition(eb, c, columns, today)));
  const { field, op, value } = condition;
  const source = columns.derivedFrom(field);
  if (source === 'birthDate' && field === 'age') return compileAge(eb, columns.column(source), op, value, today);
  const ref = eb.ref(columns.column(field));
  switch (op) {
    case 'in': {
      const list = asList(value, field);
      return list.length === 0 ? sql<SqlBool>`false` : eb(ref, 'in', list as Scalar[]);
    }
    case 'startsWith': {
      if (typeof value !== 'string') throw new TypeError(`startsWith on ${field} needs a string`);
      const pattern = value.replace(/[\\%_]/g, (ch) => `\\${ch}`) + '%';
      return sql<SqlBool>`${ref} like ${pattern}`;
    }
    default: {
      if (Array.isArray(value)) throw new TypeError(`${op} on ${field} needs one value`);
      if (value === null) return op === 'eq' ? eb(ref, 'is', null) : op === 'ne' ? eb(ref, 'is not', null) : sql<SqlBool>`false`;
      return eb(ref, SQL_OPS[op], value as Scalar);
    }
  }
}

function asList(value: Scalar | readonly Scalar[], field: string): readonly Scalar[] {
  if (!Array.isArray(value)) throw new TypeError(`in on ${field} needs a list`);
  return value;
}

function compileAge(
  eb: ExpressionBuilder<any, any>,
  birthColumn: string,
  op: Condition extends infer C ? (C extends { op: infer O } ? O : never) : never,
  value: Scalar | readonly Scalar[],
  today: string,
): Expression<SqlBool> {
  const birth = eb.ref(birthColumn);
  const years = (v: Scalar): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 200) throw new TypeError('age needs a whole number of years');
    return v;
  };
  // age >= n ⇔ birth <= bound(n);  age <= n ⇔ birth > bound(n + 1)
  const atLeast = (n: number) => eb(birth, '<=', birthDateBound(n, today));
  const atMost = (n: number) => eb(birth, '>', birthDateBound(n + 1, today));
  switch (op) {
    case 'gte':
      return atLeast(years(value as Scalar));
    case 'gt':
      return atLeast(years(value as Scalar) + 1);
    case 'lte':
      return atMost(years(value as Scalar));
    case 'lt': {
      const n = years(value as Scalar);
      return n === 0 ? sql<SqlBool>`false` : atMost(n - 1);
    }
    case 'eq': {
      const n = years(value as Scalar);
      return eb.and([atLeast(n), atMost(n)]);
    }
    case 'ne': {
      const n = years(value as Scalar);
      return eb.not(eb.and([atLeast(n), atMost(n)]));
    }
    case 'in': {
      const list = asList(value, 'age');
      if (list.length === 0) return sql<SqlBool>`false`;
      return eb.or(list.map((v) => eb.and([atLeast(years(v)), atMost(years(v))])));
    }
    default:
      throw new TypeError(`${op} is not supported on age`);
  }
}
