/**
 * The PostgreSQL adapter of the Connector port (kysely over a `pg` pool or PGlite).
 *
 * - Selects only the requested columns.
 * - Pushes the scope (street codes + compiled conditions) into the WHERE clause of every query.
 * - Row-dependent fields ({@link RowRules}): each tag is a boolean column of the same query, and
 *   such a field is `CASE WHEN <its tags> THEN column END`, so its value never leaves the database
 *   on a row no granting condition admits.
 * - Keyset pagination on (order column, row id): stable cursors, no OFFSET.
 * - Batched lookups: one query per batch of keys.
 * - Identifiers come only from {@link PostgresTableMapping}; values are always parameters.
 */
import { createHash } from 'node:crypto';
import { sql, type CompiledQuery, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { Condition, Scope } from '../../core/conditions.ts';
import type { Connector, FindRequest, LookupRequest, Page, Row, RowRules } from '../connector.ts';
import { assertScope, hasRowRules, tagRow } from '../connector.ts';
import { ConnectorError } from '../connector-error.ts';
import type { DatasetDef, FieldDef } from '../../core/datasets.ts';
import { ageOn, isCalendarDate, todayInCity } from '../../core/time.ts';
import { compileConditions, type ColumnResolver } from './postgres-condition-compiler.ts';
import { boundStatement, CURSOR_ROW, CURSOR_VALUE, identity, LIMIT, type BoundStatement } from './bound-statement.ts';

/** Where a dataset lives in a PostgreSQL source, and how its logical fields map to columns. */
export interface PostgresTableMapping {
  readonly schema: string;
  readonly table: string;
  /** A unique, never-reused, monotonically assigned column used as the keyset tiebreaker. */
  readonly rowId: string;
  /** Logical field → column. Derived fields (age) are not listed. */
  readonly columns: Readonly<Record<string, string>>;
}

export interface PostgresConnectorOptions {
  readonly dataset: DatasetDef;
  readonly db: Kysely<any>;
  readonly table: PostgresTableMapping;
  /** Observes every statement sent (tests read the SQL; metrics time it). */
  readonly onQuery?: (query: { sql: string; parameters: readonly unknown[] }) => void;
  /** Largest number of keys in one lookup statement; larger lists are split. */
  readonly maxBatch?: number;
}

interface CursorData {
  /** Fingerprint of the query the cursor belongs to. */
  f: string;
  /** Order value of the last row (absent when ordered by row id only). */
  v?: unknown;
  /** Row id of the last row. */
  r: string;
}

const ROW_ID = '__rid';

export class PostgresConnector implements Connector {
  readonly dataset: DatasetDef;
  readonly #db: Kysely<any>;
  readonly #table: PostgresTableMapping;
  readonly #qualified: string;
  readonly #fields: ReadonlyMap<string, FieldDef>;
  readonly #onQuery?: PostgresConnectorOptions['onQuery'];
  readonly #maxBatch: number;
  readonly #columns: ColumnResolver;
  /** Finds compiled once per shape (see #prepared). */
  readonly #finds = new Map<string, PreparedFind>();

  constructor(options: PostgresConnectorOptions) {
    this.dataset = options.dataset;
    this.#db = options.db;
    this.#table = options.table;
    this.#qualified = `${options.table.schema}.${options.table.table}`;
    this.#fields = new Map(options.dataset.fields.map((f) => [f.name, f]));
    this.#onQuery = options.onQuery;
    this.#maxBatch = options.maxBatch ?? 1000;
    const table = options.table;
    const fields = this.#fields;
    const name = options.dataset.name;
    this.#columns = {
      column(field) {
        const column = table.columns[field];
        if (!column) throw new TypeError(`${name} has no column for field ${JSON.stringify(field)}`);
        return `${table.table}.${column}`;
      },
      derivedFrom(field) {
        const def = fields.get(field);
        if (!def) throw new TypeError(`${name} has no field ${JSON.stringify(field)}`);
        return def.derivedFrom;
      },
    };
  }

  async find(request: FindRequest): Promise<Page> {
    assertScope(request.scope, this.dataset.name);
    const today = todayInCity();
    const rules = hasRowRules(request.rowRules, this.dataset.name) ? request.rowRules : undefined;
    const prepared = this.#prepared(request, rules, today);
    const cursor = request.after ? this.#decodeCursor(request.after, prepared.fingerprint) : undefined;
    // The cursor's order value goes into the query: an edited one is the caller's bad input, not a
    // failure of the source (a date that is no day would make the database refuse the query).
    if (cursor && prepared.orderType !== undefined && cursor.v != null && !fitsField(prepared.orderType, cursor.v)) {
      throw new ConnectorError('bad-cursor', this.dataset.name, 'malformed cursor');
    }
    const first = Math.max(0, Math.floor(request.first));
    const statement = prepared.page.bind(first + 1, cursor ? (prepared.ordered ? cursor.v : undefined) : undefined, cursor?.r);
    const [rows, count] = await Promise.all([
      this.#execute(statement),
      prepared.count ? this.#execute(prepared.count) : Promise.resolve(undefined),
    ]);
    const shown = Math.min(first, rows.length);
    const pageRows: Row[] = new Array(shown);
    for (let i = 0; i < shown; i++) pageRows[i] = prepared.decode(rows[i], today);
    const { fingerprint, ordered } = prepared;
    let cursors: string[] | undefined;
    return {
      rows: pageRows,
      // Encoded on first use: most reads never ask for a cursor.
      get cursors() {
        return (cursors ??= rows.slice(0, shown).map((raw) => encodeCursor(fingerprint, String(raw[ROW_ID]), ordered ? cursorValue(raw.__order) : undefined)));
      },
      hasNextPage: rows.length > first,
      totalCount: count ? Number(count[0]?.count ?? 0) : undefined,
    };
  }

  /**
   * The statements of a find, built and compiled once per shape: scope and row rules (by identity:
   * a cached access plan hands the same objects every time), fields, filters, order, whether a
   * cursor follows and the city's day (age bounds are parameters of that day). Per request only
   * the page size and the cursor's position are bound; every value stays a parameter.
   */
  #prepared(request: FindRequest, rules: RowRules | undefined, today: string): PreparedFind {
    const key = `${identity(request.scope)}\u0001${rules ? identity(rules) : 0}\u0001${today}\u0001${request.fields.join('\u0002')}\u0001${
      request.where && request.where.length > 0 ? JSON.stringify(request.where) : ''
    }\u0001${request.orderBy ? `${request.orderBy.field} ${request.orderBy.direction ?? 'asc'}` : ''}\u0001${request.after ? 1 : 0}${request.withTotalCount ? 1 : 0}`;
    const found = this.#finds.get(key);
    if (found) return found;
    const prepared = this.#prepareFind(request, rules, today);
    // Filter values make the shapes open-ended: a bounded cache, rebuilt when full.
    if (this.#finds.size >= MAX_PREPARED) this.#finds.clear();
    this.#finds.set(key, prepared);
    return prepared;
  }

  #prepareFind(request: FindRequest, rules: RowRules | undefined, today: string): PreparedFind {
    const orderField = request.orderBy?.field;
    const direction = request.orderBy?.direction ?? 'asc';
    const orderColumn = orderField ? this.#orderColumn(orderField) : undefined;
    const base = (eb: ExpressionBuilder<any, any>) => this.#where(eb, request.scope, request.where ?? [], today);
    let query = this.#db
      .selectFrom(`${this.#qualified} as ${this.#table.table}`)
      .select((eb) => this.#selection(eb, request.fields, rules, today))
      .select(sql.ref(`${this.#table.table}.${this.#table.rowId}`).as(ROW_ID))
      .where(base);
    if (orderColumn) query = query.select(sql.ref(orderColumn).as('__order'));
    if (request.after) {
      const rid = sql.ref(`${this.#table.table}.${this.#table.rowId}`);
      const cmp = direction === 'asc' ? sql.raw('>') : sql.raw('<');
      query = orderColumn
        ? query.where(sql<SqlBool>`(${sql.ref(orderColumn)}, ${rid}) ${cmp} (${CURSOR_VALUE}, ${CURSOR_ROW})`)
        : query.where(sql<SqlBool>`${rid} ${cmp} ${CURSOR_ROW}`);
    }
    if (orderColumn) query = query.orderBy(sql.ref(orderColumn), direction);
    query = query.orderBy(sql.ref(`${this.#table.table}.${this.#table.rowId}`), direction).limit(sql<number>`${LIMIT}`);
    const count = request.withTotalCount
      ? this.#db
          .selectFrom(`${this.#qualified} as ${this.#table.table}`)
          .select(sql<string>`count(*)`.as('count'))
          .where(base)
          .compile()
      : undefined;
    return {
      page: boundStatement(query.compile(), !!request.after, !!orderColumn && !!request.after),
      count,
      fingerprint: this.#fingerprint(request),
      ordered: !!orderColumn,
      orderType: orderField ? this.#fields.get(orderField)?.type : undefined,
      decode: this.#decoder(request.fields, rules),
    };
  }

  async lookup(request: LookupRequest): Promise<Row[]> {
    assertScope(request.scope, this.dataset.name);
    if (request.by !== this.dataset.key && !this.dataset.lookupFields.includes(request.by)) {
      throw new TypeError(`${this.dataset.name} cannot be looked up by ${request.by}`);
    }
    const keys = [...new Set(request.keys)];
    if (keys.length === 0) return [];
    const today = todayInCity();
    const rules = hasRowRules(request.rowRules, this.dataset.name) ? request.rowRules : undefined;
    const byColumn = this.#columns.column(request.by);
    const fields = request.fields.includes(request.by) ? request.fields : [...request.fields, request.by];
    const chunks: string[][] = [];
    for (let i = 0; i < keys.length; i += this.#maxBatch) chunks.push(keys.slice(i, i + this.#maxBatch));
    const results = await Promise.all(
      chunks.map((chunk) =>
        this.#run(
          this.#db
            .selectFrom(`${this.#qualified} as ${this.#table.table}`)
            .select((eb) => this.#selection(eb, fields, rules, today))
            .where((eb) => eb.and([eb(eb.ref(byColumn), 'in', chunk), this.#where(eb, request.scope, [], today)])),
        ),
      ),
    );
    const decode = this.#decoder(fields, rules);
    return results.flat().map((r) => decode(r, today));
  }

  async health(): Promise<void> {
    await this.#run(this.#db.selectFrom(`${this.#qualified} as ${this.#table.table}`).select(sql`1`.as('one')).limit(1));
  }

  async close(): Promise<void> {
    // The pool belongs to whoever opened it (several connectors may share one); nothing to do here.
  }

  #where(
    eb: ExpressionBuilder<any, any>,
    scope: Scope,
    where: readonly Condition[],
    today: string,
  ): Expression<SqlBool> {
    const parts: Expression<SqlBool>[] = [];
    const streetField = this.dataset.streetField;
    if (streetField && scope.streets !== 'all') {
      parts.push(
        scope.streets.length === 0
          ? sql<SqlBool>`false`
          : eb(eb.ref(this.#columns.column(streetField)), 'in', [...scope.streets]),
      );
    }
    if (scope.conditions.length > 0) parts.push(compileConditions(eb, scope.conditions, this.#columns, today));
    if (where.length > 0) parts.push(compileConditions(eb, where, this.#columns, today));
    return eb.and(parts);
  }

  /**
   * Columns to select, each aliased to its logical name (a derived field selects its source column
   * under its own name). Under row rules, a field listed in `shownUnder` is nulled on rows where
   * none of its tags holds, and every tag is selected as a boolean `__t<i>`.
   */
  #selection(eb: ExpressionBuilder<any, any>, fields: readonly string[], rules: RowRules | undefined, today: string) {
    const tags = rules ? rules.tags.map((tag) => compileConditions(eb, [tag], this.#columns, today)) : [];
    const selection = [];
    for (const field of new Set(fields)) {
      const def = this.#fields.get(field);
      if (!def) throw new TypeError(`${this.dataset.name} has no field ${JSON.stringify(field)}`);
      const column = sql.ref(this.#columns.column(def.derivedFrom ?? field));
      const under = rules?.shownUnder[field];
      if (!under) {
        selection.push(column.as(field));
        continue;
      }
      const shown = under.length === 0 ? sql<SqlBool>`false` : eb.or(under.map((i) => tags[i]!));
      selection.push(sql`case when ${shown} then ${column} end`.as(field));
    }
    tags.forEach((tag, i) => selection.push(sql<boolean>`${tag}`.as(`__t${i}`)));
    return selection;
  }

  #orderColumn(field: string): string {
    const def = this.#fields.get(field);
    if (!def || def.derivedFrom || def.internal) throw new TypeError(`${this.dataset.name} cannot be ordered by ${field}`);
    return this.#columns.column(field);
  }

  /** Turns a driver row into the port's Row: each field's conversion picked once per statement. */
  #decoder(fields: readonly string[], rules: RowRules | undefined): (raw: Record<string, unknown>, today: string) => Row {
    const plan = fields.map((field) => {
      const def = this.#fields.get(field)!;
      return { field, age: def.derivedFrom === 'birthDate', type: def.type };
    });
    const tags = rules ? rules.tags.map((_, i) => `__t${i}`) : undefined;
    return (raw, today) => {
      const row: Row = {};
      for (const { field, age, type } of plan) {
        if (age) {
          const birth = normalize(raw[field], 'date');
          row[field] = typeof birth === 'string' ? ageOn(birth, today) : null;
        } else {
          row[field] = normalize(raw[field], type);
        }
      }
      // A tag whose condition is unknown on the row (SQL NULL) does not hold.
      return tags ? tagRow(row, tags.map((tag) => raw[tag] === true)) : row;
    };
  }

  #fingerprint(request: FindRequest): string {
    return createHash('sha256')
      .update(
        JSON.stringify([this.dataset.name, request.orderBy ?? null, request.where ?? [], request.scope.streets, request.scope.conditions]),
      )
      .digest('base64url')
      .slice(0, 16);
  }

  #decodeCursor(cursor: string, fingerprint: string): CursorData {
    let data: CursorData;
    try {
      data = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorData;
    } catch {
      throw new ConnectorError('bad-cursor', this.dataset.name, 'malformed cursor');
    }
    if (!data || typeof data !== 'object' || typeof data.f !== 'string' || typeof data.r !== 'string' || !/^\d{1,19}$/.test(data.r)) {
      throw new ConnectorError('bad-cursor', this.dataset.name, 'malformed cursor');
    }
    if (data.f !== fingerprint) {
      throw new ConnectorError('bad-cursor', this.dataset.name, 'cursor belongs to another query (order, filter or scope differ)');
    }
    if ('v' in data && !['string', 'number'].includes(typeof data.v)) {
      throw new ConnectorError('bad-cursor', this.dataset.name, 'malformed cursor');
    }
    return data;
  }

  async #run(query: { compile(): CompiledQuery }): Promise<any[]> {
    return this.#execute(query.compile());
  }

  /** Sends one compiled statement (observed first, if asked), its failures as ConnectorErrors. */
  async #execute(compiled: CompiledQuery): Promise<any[]> {
    this.#onQuery?.({ sql: compiled.sql, parameters: compiled.parameters });
    try {
      return (await this.#db.executeQuery(compiled)).rows as any[];
    } catch (error) {
      if (error instanceof TypeError) throw error;
      throw toConnectorError(error, this.dataset.name);
    }
  }
}

const MAX_PREPARED = 1000;

/** What a find compiles once per shape (see PostgresConnector#prepared). */
interface PreparedFind {
  readonly page: BoundStatement;
  readonly count?: CompiledQuery;
  readonly fingerprint: string;
  /** Whether rows are ordered by a field (the cursor then carries its value). */
  readonly ordered: boolean;
  readonly orderType?: FieldDef['type'];
  readonly decode: (raw: Record<string, unknown>, today: string) => Row;
}

/** The cursor of one row: `{"f":…,"r":…[,"v":…]}` in base64url, written directly (no object per row). */
function encodeCursor(fingerprint: string, row: string, value: string | number | undefined): string {
  const json = value === undefined ? `{"f":"${fingerprint}","r":"${row}"}` : `{"f":"${fingerprint}","r":"${row}","v":${JSON.stringify(value)}}`;
  return Buffer.from(json, 'utf8').toString('base64url');
}

function cursorValue(value: unknown): string | number {
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === 'number') return value;
  return String(value);
}

/** Maps driver values onto the API's types: dates as `YYYY-MM-DD`, numerics as numbers. */
function normalize(value: unknown, type: FieldDef['type']): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'date':
      if (value instanceof Date) return value.toISOString().slice(0, 10);
      return String(value).slice(0, 10);
    case 'int':
    case 'number':
      return typeof value === 'number' ? value : Number(value);
    case 'boolean':
      return Boolean(value);
    default:
      return typeof value === 'string' ? value.trimEnd() : String(value);
  }
}

/** Whether a cursor's order value can be a value of a field of `type`. */
function fitsField(type: string | undefined, value: unknown): boolean {
  if (type === 'date') return isCalendarDate(value);
  // Numerics come back from the driver as text (cursorValue keeps them so).
  if (type === 'int' || type === 'number') return (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && /^-?\d{1,30}(\.\d{1,30})?$/.test(value));
  return typeof value === 'string';
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

/** Any failure of the database becomes a ConnectorError without SQL or connection details. */
function toConnectorError(error: unknown, source: string): ConnectorError {
  const code = (error as { code?: string } | null)?.code;
  if (code === '57014') return new ConnectorError('timeout', source, `source ${source} did not answer in time`, { cause: error });
  if (code && (UNAVAILABLE_CODES.has(code) || code.startsWith('08') || code === '57P01' || code === '57P03')) {
    return new ConnectorError('unavailable', source, `source ${source} is unavailable`, { cause: error });
  }
  return new ConnectorError('unavailable', source, `source ${source} failed to answer`, { cause: error });
}
