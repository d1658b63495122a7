/**
 * Walks a validated operation once and lists every dataset field it reads, filters, sorts or looks
 * up by: through aliases, named and inline fragments, variables and nested relations alike. This
 * is what authorization decides on, before any source is touched.
 *
 * Directives (`@skip`, `@include`) are deliberately ignored: a field that could be read must be
 * granted, whatever the variables say this time.
 */
import {
  getArgumentValues,
  getNamedType,
  getVariableValues,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { DATASETS, type DatasetName } from '../../core/datasets.ts';
import { GatewayError } from '../../core/errors.ts';

export interface OperationReads {
  readonly operation: OperationDefinitionNode;
  /** Fields selected on each dataset's type (relation fields excluded). */
  readonly reads: Map<DatasetName, Set<string>>;
  /** Fields used in filters, sorts and lookups: these must be granted in full. */
  readonly filters: Map<DatasetName, Set<string>>;
  /** Datasets reached through a relation or read at the root. */
  readonly datasets: Set<DatasetName>;
  /** Relation fields followed, `Type.field` (policies/relation-rules.ts decides which may be). */
  readonly relations: Set<string>;
  /** Root field names of the operation. */
  readonly rootFields: Set<string>;
  /** Coerced variable values (for resolvers and audit). */
  readonly variables: Record<string, unknown>;
}

const TYPE_DATASET: Readonly<Record<string, DatasetName>> = Object.fromEntries(
  Object.values(DATASETS).map((d) => [d.typeName, d.name]),
);

/** Object fields that join to another dataset, and the dataset they reach. */
const RELATIONS: Readonly<Record<string, DatasetName>> = {
  'Person.household': 'housing',
  'Person.socialSecurity': 'social_security',
  'House.residents': 'population',
};

/** Root fields that read shared data, with what their arguments filter on. */
const DATA_ROOTS: Readonly<Record<string, { dataset: DatasetName; lookupBy?: string }>> = {
  person: { dataset: 'population', lookupBy: 'idNumber' },
  people: { dataset: 'population' },
  house: { dataset: 'housing', lookupBy: 'id' },
  houses: { dataset: 'housing' },
  socialSecurityAccount: { dataset: 'social_security', lookupBy: 'idNumber' },
};

export function isDataRoot(field: string): boolean {
  return Object.hasOwn(DATA_ROOTS, field);
}

export function datasetOfType(typeName: string): DatasetName | undefined {
  return TYPE_DATASET[typeName];
}

export function collectReads(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  rawVariables: Record<string, unknown> | null | undefined,
): OperationReads {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation) throw new GatewayError('BAD_USER_INPUT', operationName ? `unknown operation "${operationName}"` : 'operation name required');
  // An operation without variables reads the same every time, and yoga hands the same parsed
  // document for the same text: walk it once. (Callers only read the result.)
  const constant = !operation.variableDefinitions?.length;
  const known = constant ? constantReads.get(operation) : undefined;
  if (known && known.schema === schema) return known.reads;
  const result = walkOperation(schema, document, operation, rawVariables);
  if (constant) constantReads.set(operation, { schema, reads: result });
  return result;
}

const constantReads = new WeakMap<OperationDefinitionNode, { schema: GraphQLSchema; reads: OperationReads }>();

/** What a selection set contributes to an operation's reads; a fragment's is computed once and merged. */
interface Contribution {
  readonly reads: Map<DatasetName, Set<string>>;
  readonly filters: Map<DatasetName, Set<string>>;
  readonly datasets: Set<DatasetName>;
  readonly relations: Set<string>;
  readonly rootFields: Set<string>;
}

const emptyContribution = (): Contribution => ({ reads: new Map(), filters: new Map(), datasets: new Set(), relations: new Set(), rootFields: new Set() });

function addTo(map: Map<DatasetName, Set<string>>, dataset: DatasetName, field: string): void {
  let set = map.get(dataset);
  if (!set) map.set(dataset, (set = new Set()));
  set.add(field);
}

function merge(into: Contribution, from: Contribution): void {
  for (const [dataset, fields] of from.reads) for (const f of fields) addTo(into.reads, dataset, f);
  for (const [dataset, fields] of from.filters) for (const f of fields) addTo(into.filters, dataset, f);
  for (const d of from.datasets) into.datasets.add(d);
  for (const r of from.relations) into.relations.add(r);
  for (const f of from.rootFields) into.rootFields.add(f);
}

/**
 * The walk is linear in the document: each fragment is walked once per kind of place it is spread
 * in (at the root or below it, the only thing a fragment's contribution depends on besides its own
 * type condition), and a spread merges that contribution, whose size is bounded by the schema. A
 * walk that followed every spread would double per level of `fragment F0 on Person { ...F1 ...F1 }`.
 */
function walkOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  rawVariables: Record<string, unknown> | null | undefined,
): OperationReads {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);

  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables ?? {});
  if (coerced.errors) throw new GatewayError('BAD_USER_INPUT', coerced.errors.map((e) => e.message).join('; '));
  const variables = coerced.coerced;

  const rootType = schema.getRootType(operation.operation);
  if (!rootType) throw new GatewayError('BAD_USER_INPUT', `${operation.operation} is not supported`);

  /** Each fragment's contribution, at the root (`name|0`) and below it (`name|1`). */
  const done = new Map<string, Contribution>();
  /** Fragments being walked: validation rejects cycles; this keeps a broken document from looping. */
  const walking = new Set<string>();

  const fragmentContribution = (name: string, depth: number): Contribution | undefined => {
    const key = `${name}|${depth === 0 ? 0 : 1}`;
    const known = done.get(key);
    if (known) return known;
    const fragment = fragments.get(name);
    if (!fragment || walking.has(name)) return undefined;
    const type = schema.getType(fragment.typeCondition.name.value);
    if (!isObjectType(type)) return undefined;
    const own = emptyContribution();
    walking.add(name);
    try {
      walk(fragment.selectionSet, type, depth, own);
    } finally {
      walking.delete(name);
    }
    done.set(key, own);
    return own;
  };

  const walk = (selectionSet: SelectionSetNode, parent: GraphQLObjectType, depth: number, into: Contribution): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (isObjectType(type)) walk(selection.selectionSet, type, depth, into);
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const contribution = fragmentContribution(selection.name.value, depth);
        if (contribution) merge(into, contribution);
        continue;
      }
      const fieldName = selection.name.value;
      if (fieldName.startsWith('__')) continue;
      const fieldDef = parent.getFields()[fieldName];
      if (!fieldDef) continue; // validation already named it
      if (depth === 0) {
        into.rootFields.add(fieldName);
        const root = DATA_ROOTS[fieldName];
        if (root && parent === rootType) {
          into.datasets.add(root.dataset);
          const args = argumentsOf(fieldDef, selection, variables);
          if (root.lookupBy) addTo(into.filters, root.dataset, root.lookupBy);
          const filter = args.filter as Record<string, unknown> | null | undefined;
          if (filter) for (const key of Object.keys(filter)) if (filter[key] != null) addTo(into.filters, root.dataset, key);
          const orderBy = args.orderBy as { field?: string } | null | undefined;
          if (orderBy?.field) addTo(into.filters, root.dataset, orderBy.field);
        }
      }
      const dataset = TYPE_DATASET[parent.name];
      const relation = RELATIONS[`${parent.name}.${fieldName}`];
      if (relation) {
        into.datasets.add(relation);
        into.relations.add(`${parent.name}.${fieldName}`);
      } else if (dataset) addTo(into.reads, dataset, fieldName);
      if (selection.selectionSet) {
        const type = getNamedType(fieldDef.type);
        if (isObjectType(type)) walk(selection.selectionSet, type, depth + 1, into);
      }
    }
  };
  const result: OperationReads = { operation, ...emptyContribution(), variables };
  walk(operation.selectionSet, rootType, 0, result);
  return result;
}

/**
 * Whether any of `fieldNodes`' selections, through inline and named fragments, selects `name`
 * (e.g. a connection's `totalCount`). Each fragment is looked into once: linear in the document.
 */
export function selectsField(
  fieldNodes: readonly FieldNode[],
  fragments: Readonly<Record<string, FragmentDefinitionNode | undefined>>,
  name: string,
): boolean {
  const visited = new Set<string>();
  const visit = (set: SelectionSetNode | undefined): boolean => {
    if (!set) return false;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        if (s.name.value === name) return true;
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        if (visit(s.selectionSet)) return true;
      } else if (!visited.has(s.name.value)) {
        visited.add(s.name.value);
        if (visit(fragments[s.name.value]?.selectionSet)) return true;
      }
    }
    return false;
  };
  return fieldNodes.some((node) => visit(node.selectionSet));
}

function argumentsOf(
  fieldDef: Parameters<typeof getArgumentValues>[0],
  node: Parameters<typeof getArgumentValues>[1],
  variables: Record<string, unknown>,
): Record<string, unknown> {
  try {
    return getArgumentValues(fieldDef, node, variables);
  } catch (error) {
    throw new GatewayError('BAD_USER_INPUT', (error as Error).message);
  }
}
