/**
 * Resolvers of the shared data model. They never decide access themselves: they read the request's
 * AccessPlan (set by useAuthorization before execution), hand each connector the plan's scope and
 * the projection the operation asked for, batch relations with per-request DataLoaders, and turn
 * rows into masked views before any other resolver sees them.
 */
import DataLoader from 'dataloader';
import type { GraphQLResolveInfo } from 'graphql';
import type { Condition, Scope } from '../../core/conditions.ts';
import { rowTags, type Connector, type Page, type Row, type RowRules } from '../../connectors/connector.ts';
import { DATASETS, type DatasetName, type FieldDef } from '../../core/datasets.ts';
import { resolverContext, type ResolverContext } from '../resolver-context.ts';
import { selectsField } from './operation-reads.ts';
import { recordRowSubjects, recordSubject, selectionFields, withCompared } from './subject-reads.ts';
import { isCalendarDate } from '../../core/time.ts';
import { GatewayError } from '../../core/errors.ts';
import { accessOnRow, rowsWhereFull, type AccessPlan, type DatasetAccess } from '../../policies/access-plan.ts';
import { applyMask } from '../../policies/masks.ts';

export interface SharedDataSources {
  readonly population: Connector;
  readonly housing: Connector;
  readonly social_security: Connector;
}

/** Keys a view keeps out of GraphQL's sight, for joins and audit. */
const RAW = Symbol('raw');
type View = Record<string, unknown> & { [RAW]: Row };

export const MAX_PAGE_SIZE = 100;

interface Loaders {
  /** Root look-ups (`person`, `house`, `socialSecurityAccount`): over the rows where the key is full. */
  personLookedUp: DataLoader<string, View | null>;
  houseLookedUp: DataLoader<string, View | null>;
  accountLookedUp: DataLoader<string, View | null>;
  /** Relations: joins on keys the gateway already holds, over the whole scope. */
  personsByHouse: DataLoader<string, View[]>;
  houseById: DataLoader<string, View | null>;
  accountOfPersonInScope: DataLoader<string, View | null>;
  personInScope: DataLoader<string, boolean>;
}

function access(state: ResolverContext, dataset: DatasetName): { plan: AccessPlan; data: DatasetAccess } {
  const plan = state.access;
  const data = plan?.datasets.get(dataset);
  // useAuthorization checked the whole operation already; reaching here without a plan is a bug.
  if (!plan || !data) throw new GatewayError('FORBIDDEN', `no access to ${dataset} was authorized for this operation`);
  return { plan, data };
}

/** Fields to fetch: what the operation reads that the plan grants, plus the keys joins need. */
function projection(state: ResolverContext, dataset: DatasetName, extra: readonly string[]): string[] {
  const granted = state.access?.datasets.get(dataset)?.fields;
  const wanted = new Set<string>(extra);
  for (const field of state.reads?.get(dataset) ?? []) if (granted?.has(field)) wanted.add(field);
  return [...wanted];
}

const JOIN_KEYS: Readonly<Record<DatasetName, readonly string[]>> = {
  population: ['idNumber', 'houseId'],
  housing: ['id', 'ownerIdNumber'],
  social_security: ['idNumber'],
};

/**
 * The plan's row-dependent fields for the connector (see `RowRules`). Join keys are fetched whole
 * even there: the gateway needs them for relations and for the audit event's subjects, and shows
 * them only where {@link toView} finds them granted on the row.
 */
function rowRules(data: DatasetAccess, dataset: DatasetName): RowRules | undefined {
  if (!data.perRow) return undefined;
  // Once per plan: the same rules object each time lets the source reuse its compiled statement.
  let rules = RULES.get(data);
  if (!rules) {
    const shownUnder = Object.fromEntries(Object.entries(data.perRow.shownUnder).filter(([field]) => !JOIN_KEYS[dataset].includes(field)));
    RULES.set(data, (rules = Object.freeze({ tags: data.perRow.tags, shownUnder: Object.freeze(shownUnder) })));
  }
  return rules;
}

const RULES = new WeakMap<DatasetAccess, RowRules>();

/** Each dataset's fields by name. */
const FIELD_INDEX = Object.fromEntries(Object.values(DATASETS).map((d) => [d.name, new Map(d.fields.map((f) => [f.name, f]))])) as unknown as Record<
  DatasetName,
  ReadonlyMap<string, FieldDef>
>;

/**
 * Masks a row under the grants that admit it (per row where they differ) and counts it for the
 * audit event. Whose data it carries is recorded where it is resolved ({@link seen}): the same view
 * may be shown under two selections with different fields.
 */
function toView(state: ResolverContext, dataset: DatasetName, row: Row): View {
  const { data } = access(state, dataset);
  const view = { [RAW]: row } as View;
  const tags = rowTags(row);
  // The row holds only the fields fetched (a handful of the dataset's): walk those alone.
  const fields = FIELD_INDEX[dataset];
  for (const name in row) {
    const field = fields.get(name);
    if (!field) continue;
    const granted = accessOnRow(data, name, tags);
    if (!granted) continue;
    view[name] = granted === 'full' ? row[name] : applyMask(field.mask ?? 'none', row[name]);
  }
  state.trace.rows += 1;
  return view;
}

/** Records the persons of views resolved under `info`, with the fields that selection read. */
function seen<T extends View | View[] | null>(state: ResolverContext, dataset: DatasetName, info: GraphQLResolveInfo, views: T, lookedUpBy?: string): T {
  if (!views) return views;
  const fields = withCompared(selectionFields(info, dataset), dataset, lookedUpBy ? [lookedUpBy] : []);
  if (Array.isArray(views)) for (const v of views) recordRowSubjects(state.trace, dataset, v[RAW], v, fields);
  else recordRowSubjects(state.trace, dataset, (views as View)[RAW], views as View, fields);
  return views;
}

/** What a look-up by filter compared, for the person it names. */
const LOOKED_UP_BY: Partial<Record<DatasetName, ReadonlySet<string>>> = {
  population: new Set(['filter:population.idNumber']),
  housing: new Set(['filter:housing.ownerIdNumber']),
};

function loaders(state: ResolverContext, sources: SharedDataSources): Loaders {
  if (state.loaders) return state.loaders as Loaders;
  const scopeOf = (dataset: DatasetName): Scope => access(state, dataset).data.scope;
  const fields = (dataset: DatasetName) => projection(state, dataset, JOIN_KEYS[dataset]);
  const rulesOf = (dataset: DatasetName) => rowRules(access(state, dataset).data, dataset);
  /** A look-up by a key the caller supplied compares that key: only where it is full on the row. */
  const lookupScopeOf = (dataset: DatasetName, by: string): Scope => {
    const { data } = access(state, dataset);
    const restriction = rowsWhereFull(data, [by]);
    return restriction.length === 0 ? data.scope : { ...data.scope, conditions: [...data.scope.conditions, ...restriction] };
  };
  const byKey = (dataset: DatasetName, connector: Connector, by: string, scope: () => Scope) =>
    new DataLoader<string, View | null>(async (keys) => {
      const rows = await connector.lookup({ scope: scope(), fields: fields(dataset), rowRules: rulesOf(dataset), by, keys });
      const found = new Map(rows.map((r) => [String(r[by]), r]));
      return keys.map((k) => (found.has(k) ? toView(state, dataset, found.get(k)!) : null));
    });
  const created: Loaders = {
    personLookedUp: byKey('population', sources.population, 'idNumber', () => lookupScopeOf('population', 'idNumber')),
    houseLookedUp: byKey('housing', sources.housing, 'id', () => lookupScopeOf('housing', 'id')),
    accountLookedUp: byKey('social_security', sources.social_security, 'idNumber', () => lookupScopeOf('social_security', 'idNumber')),
    personsByHouse: new DataLoader(async (keys) => {
      const rows = await sources.population.lookup({ scope: scopeOf('population'), fields: fields('population'), rowRules: rulesOf('population'), by: 'houseId', keys });
      const grouped = new Map<string, Row[]>();
      for (const row of rows) {
        const key = String(row.houseId);
        grouped.set(key, [...(grouped.get(key) ?? []), row]);
      }
      return keys.map((k) => (grouped.get(k) ?? []).map((r) => toView(state, 'population', r)));
    }),
    houseById: byKey('housing', sources.housing, 'id', () => scopeOf('housing')),
    // Callers pass only idNumbers of persons already found in scope (or checked by personInScope).
    accountOfPersonInScope: byKey('social_security', sources.social_security, 'idNumber', () => scopeOf('social_security')),
    personInScope: new DataLoader(async (keys) => {
      // The person's street and the population grant's row condition decide; no person data leaves.
      const plan = state.access!;
      const scope: Scope = plan.datasets.get('population')?.scope ?? { streets: [plan.street!], conditions: [] };
      const rows = await sources.population.lookup({ scope, fields: ['idNumber'], by: 'idNumber', keys });
      const found = new Set(rows.map((r) => String(r.idNumber)));
      return keys.map((k) => found.has(k));
    }),
  };
  state.loaders = created;
  return created;
}

type FilterInput = Record<string, Record<string, unknown> | null | undefined> | null | undefined;


/** Request filters as connector conditions, validated for shape (access was checked before). */
export function filterConditions(dataset: DatasetName, filter: FilterInput): Condition[] {
  if (!filter) return [];
  const def = DATASETS[dataset];
  const conditions: Condition[] = [];
  for (const [field, ops] of Object.entries(filter)) {
    if (!ops) continue;
    const type = def.fields.find((f) => f.name === field)?.type;
    for (const [op, value] of Object.entries(ops)) {
      if (value === null || value === undefined) continue;
      const values = Array.isArray(value) ? value : [value];
      if (op === 'in' && (values.length === 0 || values.length > 100)) {
        throw new GatewayError('BAD_USER_INPUT', `filter ${field}.in takes 1 to 100 values`);
      }
      for (const v of values) {
        if (typeof v === 'string' && v.length > 200) throw new GatewayError('BAD_USER_INPUT', `filter ${field}.${op} is too long`);
        if (type === 'date' && !isCalendarDate(v)) {
          throw new GatewayError('BAD_USER_INPUT', `filter ${field}.${op} needs a date as YYYY-MM-DD`);
        }
        if (field === 'age' && (typeof v !== 'number' || v < 0 || v > 200)) {
          throw new GatewayError('BAD_USER_INPUT', `filter age.${op} needs 0 to 200`);
        }
      }
      conditions.push({ field, op: op as Condition extends { op: infer O } ? O : never, value: value as never });
    }
  }
  return conditions;
}

/** The idNumbers a filter names exactly (`eq`, `in`): a person's own, or a house owner's. */
function lookedUpPersons(dataset: DatasetName, filter: FilterInput): string[] {
  const key = dataset === 'population' ? 'idNumber' : dataset === 'housing' ? 'ownerIdNumber' : undefined;
  const ops = key ? (filter as Record<string, { eq?: unknown; in?: unknown } | null | undefined> | null | undefined)?.[key] : undefined;
  if (!ops) return [];
  const values = [ops.eq, ...(Array.isArray(ops.in) ? ops.in : [])];
  return values.filter((v): v is string => typeof v === 'string' && v.length > 0);
}

function pageSize(first: unknown): number {
  if (typeof first !== 'number' || !Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw new GatewayError('BAD_USER_INPUT', `first must be between 0 and ${MAX_PAGE_SIZE}`, { details: { argument: 'first' } });
  }
  return first;
}

function wantsTotalCount(info: GraphQLResolveInfo): boolean {
  // Counting costs a query: only run it when some selection of this field asks for it.
  return selectsField(info.fieldNodes, info.fragments, 'totalCount');
}

/** A connection's edge: its cursor is read through the page only when the operation asks for it. */
class Edge {
  constructor(
    readonly page: Page,
    readonly index: number,
    readonly node: View,
  ) {}
  get cursor(): string {
    return this.page.cursors[this.index]!;
  }
}

class PageInfo {
  constructor(readonly page: Page) {}
  get hasNextPage(): boolean {
    return this.page.hasNextPage;
  }
  get endCursor(): string | null {
    return this.page.cursors.at(-1) ?? null;
  }
}

async function connection(
  state: ResolverContext,
  connector: Connector,
  dataset: DatasetName,
  args: { filter?: FilterInput; orderBy?: { field: string; direction?: 'ASC' | 'DESC' } | null; first?: number; after?: string | null },
  info: GraphQLResolveInfo,
) {
  const { data } = access(state, dataset);
  const first = pageSize(args.first ?? 20);
  const where = filterConditions(dataset, args.filter);
  // Filters and the sort compare their fields: only over the rows where each is full.
  const compared = [...where.flatMap((c) => ('field' in c ? [c.field] : [])), ...(args.orderBy ? [args.orderBy.field] : [])];
  // Looking a person up through a filter is an access to that person, whatever comes back.
  for (const id of lookedUpPersons(dataset, args.filter)) recordSubject(state.trace, id, LOOKED_UP_BY[dataset]!);
  const page = await connector.find({
    scope: data.scope,
    fields: projection(state, dataset, JOIN_KEYS[dataset]),
    rowRules: rowRules(data, dataset),
    where: [...where, ...rowsWhereFull(data, compared)],
    orderBy: args.orderBy ? { field: args.orderBy.field, direction: args.orderBy.direction === 'DESC' ? 'desc' : 'asc' } : undefined,
    first,
    after: args.after ?? null,
    withTotalCount: wantsTotalCount(info),
  });
  const fields = withCompared(selectionFields(info, dataset, true), dataset, [...new Set(compared)]);
  const edges = page.rows.map((row, i) => {
    const node = toView(state, dataset, row);
    recordRowSubjects(state.trace, dataset, row, node, fields);
    return new Edge(page, i, node);
  });
  return {
    edges,
    pageInfo: new PageInfo(page),
    totalCount: page.totalCount ?? 0,
  };
}

export function sharedDataResolvers(sources: SharedDataSources) {
  const state = (context: object) => resolverContext(context);
  return {
    Query: {
      person: async (_: unknown, args: { idNumber: string }, context: object, info: GraphQLResolveInfo) =>
        seen(state(context), 'population', info, await loaders(state(context), sources).personLookedUp.load(args.idNumber), 'idNumber'),
      people: (_: unknown, args: any, context: object, info: GraphQLResolveInfo) =>
        connection(state(context), sources.population, 'population', args, info),
      house: async (_: unknown, args: { id: string }, context: object, info: GraphQLResolveInfo) =>
        seen(state(context), 'housing', info, await loaders(state(context), sources).houseLookedUp.load(args.id), 'id'),
      houses: (_: unknown, args: any, context: object, info: GraphQLResolveInfo) =>
        connection(state(context), sources.housing, 'housing', args, info),
      socialSecurityAccount: async (_: unknown, args: { idNumber: string }, context: object, info: GraphQLResolveInfo) => {
        const s = state(context);
        const l = loaders(s, sources);
        // The account exists for this caller only when its person is in the caller's scope.
        if (!(await l.personInScope.load(args.idNumber))) return null;
        return seen(s, 'social_security', info, await l.accountLookedUp.load(args.idNumber), 'idNumber');
      },
    },
    Person: {
      household: async (person: View, _: unknown, context: object, info: GraphQLResolveInfo) => {
        const houseId = person[RAW].houseId;
        return houseId ? seen(state(context), 'housing', info, await loaders(state(context), sources).houseById.load(String(houseId))) : null;
      },
      socialSecurity: async (person: View, _: unknown, context: object, info: GraphQLResolveInfo) => {
        const idNumber = person[RAW].idNumber;
        return idNumber ? seen(state(context), 'social_security', info, await loaders(state(context), sources).accountOfPersonInScope.load(String(idNumber))) : null;
      },
    },
    House: {
      residents: async (house: View, _: unknown, context: object, info: GraphQLResolveInfo) => {
        const id = house[RAW].id;
        return id ? seen(state(context), 'population', info, await loaders(state(context), sources).personsByHouse.load(String(id))) : [];
      },
    },
  };
}
