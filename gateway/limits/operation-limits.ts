/**
 * What an operation would cost, measured on its document before anything runs, and the limits it
 * must keep. Depth and aliases are measured by graphql-armor's rules; root fields and the node
 * estimate are ours (armor's cost-limit only reads literal `first` arguments and prices scalars by
 * depth, not objects by page size).
 *
 * The node estimate counts the objects an answer may hold: a list multiplies what is under it by
 * its size (a connection's `first`, with its default when omitted; {@link OperationLimits.listSize}
 * for a list without one, such as `House.residents`). So
 * `people(first: 100) { edges { node { household { residents { socialSecurity { employer } } } } } }`
 * is 1 + 100 + 100 + 100 + 1,000 + 1,000 = 2,301 objects.
 */
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import {
  getArgumentValues,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  isObjectType,
  Kind,
  validate,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';
import { GatewayError } from '../../core/errors.ts';
import { MAX_PAGE_SIZE } from '../../schema/shared-data/shared-data-resolvers.ts';
import { isDataRoot } from '../../schema/shared-data/operation-reads.ts';

/** The limits' names, as `extensions.limit` and as the metrics' kind. */
export type LimitName = 'depth' | 'aliases' | 'tokens' | 'rootFields' | 'cost' | 'pageSize' | 'bodySize' | 'time';

export interface OperationLimits {
  /** Deepest field nesting (fragments do not add a level). */
  readonly maxDepth: number;
  /** Aliases in the operation, fragments included (`__typename` aliases are free). */
  readonly maxAliases: number;
  /** Root fields of the operation. */
  readonly maxRootFields: number;
  /** Estimated objects in the answer. */
  readonly maxCost: number;
  /** Largest `first` of a shared-data connection (the resolvers enforce the same {@link MAX_PAGE_SIZE}). */
  readonly maxPageSize: number;
  /** Assumed size of a list that takes no `first`, for the estimate. */
  readonly listSize: number;
}

export const defaultOperationLimits: OperationLimits = {
  maxDepth: 8,
  maxAliases: 15,
  maxRootFields: 10,
  maxCost: 2000,
  maxPageSize: MAX_PAGE_SIZE,
  listSize: 10,
};

export interface OperationMeasure {
  readonly depth: number;
  readonly aliases: number;
  readonly rootFields: number;
  readonly cost: number;
  /** `first` values of shared-data connections outside 0..maxPageSize. */
  readonly badPageSizes: readonly number[];
}

/** QUERY_TOO_COMPLEX naming the limit, the limit and what was found. */
export function limitExceeded(limit: LimitName, message: string, max: number, actual?: number): GatewayError {
  return new GatewayError('QUERY_TOO_COMPLEX', message, { details: { limit, max, ...(actual === undefined ? {} : { actual }) } });
}

/** Runs an armor rule with no ceiling and returns what it measured for each operation, in document order. */
function armorMeasure(
  schema: GraphQLSchema,
  document: DocumentNode,
  rule: (options: { n: number; onAccept: ((ctx: unknown, details: { n: number }) => void)[] }) => ValidationRule,
): number[] {
  const found: number[] = [];
  validate(schema, document, [rule({ n: Number.POSITIVE_INFINITY, onAccept: [(_ctx, details) => found.push(details.n)] })]);
  return found;
}

/**
 * Depth and aliases of each operation of a document. They do not depend on variables, and yoga
 * hands out the same DocumentNode for the same query text (its parse cache), so they are measured
 * once per document.
 */
const shapes = new WeakMap<DocumentNode, { depths: number[]; aliases: number[] }>();

function shapeOf(schema: GraphQLSchema, document: DocumentNode): { depths: number[]; aliases: number[] } {
  let shape = shapes.get(document);
  if (!shape) {
    shape = {
      depths: armorMeasure(schema, document, (o) => maxDepthRule({ ...o, flattenFragments: true, ignoreIntrospection: true }) as ValidationRule),
      aliases: armorMeasure(schema, document, (o) => maxAliasesRule(o) as ValidationRule),
    };
    shapes.set(document, shape);
  }
  return shape;
}

/** Measures the operation `operation` of `document` (validated), with its coerced variables. */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  limits: OperationLimits = defaultOperationLimits,
): OperationMeasure {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const index = Math.max(0, operations.indexOf(operation));
  const { depths, aliases } = shapeOf(schema, document);

  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const rootType = schema.getRootType(operation.operation);
  const badPageSizes: number[] = [];

  // Root fields, through fragments on the root type: each fragment counted once and its count
  // reused at every spread (as the estimate below), so the count stays linear in the document.
  const rootCounts = new Map<string, number>();
  const countRoot = (set: SelectionSetNode, seen: Set<string>): number => {
    let count = 0;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        if (s.name.value !== '__typename') count += 1;
      } else if (s.kind === Kind.INLINE_FRAGMENT) count += countRoot(s.selectionSet, seen);
      else {
        const name = s.name.value;
        let known = rootCounts.get(name);
        if (known === undefined) {
          const fragment = fragments.get(name);
          if (!fragment || seen.has(name)) continue;
          seen.add(name);
          known = countRoot(fragment.selectionSet, seen);
          seen.delete(name);
          rootCounts.set(name, known);
        }
        count += known;
      }
    }
    return count;
  };
  const rootFields = countRoot(operation.selectionSet, new Set());

  // Objects per unit of the enclosing multiplier, memoised per fragment (the estimate is linear).
  const memo = new Map<string, number>();
  const objects = (set: SelectionSetNode, parent: ReturnType<GraphQLSchema['getType']>, pageSize: number | undefined, seen: ReadonlySet<string>): number => {
    if (!isObjectType(parent)) return 0;
    let total = 0;
    for (const s of set.selections) {
      if (s.kind === Kind.INLINE_FRAGMENT) {
        const type = s.typeCondition ? schema.getType(s.typeCondition.name.value) : parent;
        total += objects(s.selectionSet, isObjectType(type) ? type : parent, pageSize, seen);
        continue;
      }
      if (s.kind === Kind.FRAGMENT_SPREAD) {
        const name = s.name.value;
        const fragment = fragments.get(name);
        if (!fragment || seen.has(name)) continue;
        const key = `${name}|${pageSize ?? ''}`;
        let cost = memo.get(key);
        if (cost === undefined) {
          const type = schema.getType(fragment.typeCondition.name.value);
          cost = objects(fragment.selectionSet, isObjectType(type) ? type : parent, pageSize, new Set([...seen, name]));
          memo.set(key, cost);
        }
        total += cost;
        continue;
      }
      if (s.name.value.startsWith('__')) continue;
      const field: GraphQLField<unknown, unknown> | undefined = parent.getFields()[s.name.value];
      if (!field || !isCompositeType(getNamedType(field.type))) continue;
      let first: number | undefined;
      if (field.args.some((a) => a.name === 'first')) {
        try {
          const value = getArgumentValues(field, s, variables).first;
          if (typeof value === 'number') first = value;
        } catch {
          // Variables that do not coerce are reported when the operation runs; nothing runs then.
        }
        if (first !== undefined && parent === rootType && isDataRoot(s.name.value) && (first < 0 || first > limits.maxPageSize)) {
          badPageSizes.push(first);
        }
      }
      const isList = isListType(getNullableType(field.type));
      const size = isList ? Math.max(0, pageSize ?? first ?? limits.listSize) : 1;
      // A connection's `first` sizes the list directly under it (its edges).
      const childPage = !isList && first !== undefined ? Math.max(0, first) : undefined;
      const below = s.selectionSet ? objects(s.selectionSet, getNamedType(field.type), childPage, seen) : 0;
      total += size * (1 + below);
    }
    return total;
  };
  const cost = objects(operation.selectionSet, rootType ?? undefined, undefined, new Set());

  return { depth: depths[index] ?? 0, aliases: aliases[index] ?? 0, rootFields, cost, badPageSizes };
}

/** Throws the first limit the measure breaks: QUERY_TOO_COMPLEX naming it, or BAD_USER_INPUT for a page size. */
export function assertWithinLimits(measure: OperationMeasure, limits: OperationLimits = defaultOperationLimits): void {
  if (measure.badPageSizes.length > 0) {
    throw new GatewayError('BAD_USER_INPUT', `first must be between 0 and ${limits.maxPageSize}`, {
      details: { argument: 'first', limit: 'pageSize', max: limits.maxPageSize, actual: measure.badPageSizes[0] },
    });
  }
  if (measure.depth > limits.maxDepth) {
    throw limitExceeded('depth', `query depth ${measure.depth} exceeds the limit of ${limits.maxDepth}`, limits.maxDepth, measure.depth);
  }
  if (measure.aliases > limits.maxAliases) {
    throw limitExceeded('aliases', `query has ${measure.aliases} aliases, more than the limit of ${limits.maxAliases}`, limits.maxAliases, measure.aliases);
  }
  if (measure.rootFields > limits.maxRootFields) {
    throw limitExceeded(
      'rootFields',
      `query has ${measure.rootFields} root fields, more than the limit of ${limits.maxRootFields}`,
      limits.maxRootFields,
      measure.rootFields,
    );
  }
  if (measure.cost > limits.maxCost) {
    throw limitExceeded(
      'cost',
      `query cost ${measure.cost} exceeds the limit of ${limits.maxCost} (estimated objects in the answer: each list multiplies what it holds by its page size)`,
      limits.maxCost,
      measure.cost,
    );
  }
}
