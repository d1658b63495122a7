/**
 * Grouped counts on PostgreSQL (the {@link StatisticsSource} port): one `GROUP BY` statement per
 * answer, scoped exactly as every read of the PostgreSQL connector (street codes and compiled row
 * conditions in the WHERE clause, values as parameters, columns only from the table mapping), with
 * one `count(*) filter (where …)` per filter so that the differencing defence's coarser filters cost
 * no extra pass over the rows. No row leaves the source, only groups and their counts.
 */
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { Condition, Scope } from '../../core/conditions.ts';
import type { DatasetDef } from '../../core/datasets.ts';
import { todayInCity } from '../../core/time.ts';
import { assertScope } from '../connector.ts';
import { ConnectorError } from '../connector-error.ts';
import type { CountRequest, CountRow, StatisticsSource } from '../connector.ts';
import { compileConditions, type ColumnResolver } from './postgres-condition-compiler.ts';
import type { PostgresTableMapping } from './postgres-connector.ts';

export interface PostgresStatisticsOptions {
  readonly dataset: DatasetDef;
  readonly db: Kysely<any>;
  readonly table: PostgresTableMapping;
  /** Observes every statement sent (tests read the SQL). */
  readonly onQuery?: (query: { sql: string; parameters: readonly unknown[] }) => void;
}

/** Width and open end of the age bands (policies/statistics/statistics-fields.ts has the same). */
const BAND_YEARS = 5;
const BAND_OPEN_FROM = 100;

export class PostgresStatistics implements StatisticsSource {
  readonly dataset: DatasetDef;
  readonly #options: PostgresStatisticsOptions;
  readonly #columns: ColumnResolver;

  constructor(options: PostgresStatisticsOptions) {
    this.dataset = options.dataset;
    this.#options = options;
    const { table, dataset } = options;
    this.#columns = {
      column(field) {
        const column = table.columns[field];
        if (!column) throw new TypeError(`${dataset.name} has no column for field ${JSON.stringify(field)}`);
        return `${table.table}.${column}`;
      },
      derivedFrom(field) {
        const def = dataset.fields.find((f) => f.name === field);
        if (!def) throw new TypeError(`${dataset.name} has no field ${JSON.stringify(field)}`);
        return def.derivedFrom;
      },
    };
  }

  async count(request: CountRequest): Promise<CountRow[]> {
    assertScope(request.scope, this.dataset.name);
    if (request.filters.length === 0) throw new TypeError('count needs at least one filter (an empty list counts every row in scope)');
    const today = todayInCity();
    const { table } = this.#options;
    const groups = request.groupBy.map((field, i) => this.#groupExpression(field, today).as(`g${i}`));
    const query = this.#options.db
      .selectFrom(`${table.schema}.${table.table} as ${table.table}`)
      .select((eb) => [
        ...groups,
        ...request.filters.map((f, i) =>
          (f.length === 0 ? sql<string>`count(*)` : sql<string>`count(*) filter (where ${compileConditions(eb, f, this.#columns, today)})`).as(`n${i}`),
        ),
      ])
      .where((eb) => this.#where(eb, request.scope, today));
    const grouped = groups.length === 0 ? query : query.groupBy(request.groupBy.map((_, i) => sql.raw(String(i + 1))) as never);
    const compiled = grouped.compile();
    this.#options.onQuery?.({ sql: compiled.sql, parameters: compiled.parameters });
    let rows: Record<string, unknown>[];
    try {
      rows = (await grouped.execute()) as Record<string, unknown>[];
    } catch (error) {
      throw new ConnectorError('unavailable', this.dataset.name, `source ${this.dataset.name} failed to answer`, { cause: error });
    }
    return rows
      .map((r) => ({
        group: request.groupBy.map((_, i) => {
          const v = r[`g${i}`];
          return v === null || v === undefined ? null : String(v).trimEnd();
        }),
        counts: request.filters.map((_, i) => Number(r[`n${i}`] ?? 0)),
      }))
      .filter((r) => r.counts.some((c) => c > 0));
  }

  /** A grouping field as SQL: its column, or the age band computed from the birth date on `today`. */
  #groupExpression(field: string, today: string) {
    if (field === 'ageBand') {
      const birth = sql.ref(this.#columns.column('birthDate'));
      // A birth date after today counts in the first band, as ageBandOf does: every band is one of
      // the fixed domain's (policies/statistics/statistics-domains.ts).
      const age = sql`greatest(date_part('year', age(${today}::date, ${birth}))::int, 0)`;
      return sql<string>`case when ${birth} is null then null
        when ${age} >= ${sql.lit(BAND_OPEN_FROM)} then ${sql.lit(`${BAND_OPEN_FROM}+`)}
        else ((${age} / ${sql.lit(BAND_YEARS)}) * ${sql.lit(BAND_YEARS)})::text || '-' || ((${age} / ${sql.lit(BAND_YEARS)}) * ${sql.lit(BAND_YEARS)} + ${sql.lit(BAND_YEARS - 1)})::text end`;
    }
    const def = this.dataset.fields.find((f) => f.name === field);
    if (!def || def.derivedFrom || def.internal) throw new TypeError(`${this.dataset.name} cannot be grouped by ${field}`);
    return sql<string>`${sql.ref(this.#columns.column(field))}`;
  }

  #where(eb: ExpressionBuilder<any, any>, scope: Scope, today: string): Expression<SqlBool> {
    const parts: Expression<SqlBool>[] = [];
    const streetField = this.dataset.streetField;
    if (streetField && scope.streets !== 'all') {
      parts.push(scope.streets.length === 0 ? sql<SqlBool>`false` : eb(eb.ref(this.#columns.column(streetField)), 'in', [...scope.streets]));
    }
    if (scope.conditions.length > 0) parts.push(compileConditions(eb, scope.conditions as Condition[], this.#columns, today));
    return eb.and(parts);
  }
}
