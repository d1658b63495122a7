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

  const result: OperationReads = {
    operation,
    reads: new Map(),
    filters: new Map(),
    datasets: new Set(),
    relations: new Set(),
    rootFields: new Set(),
    variables,
  };
  const add = (map: Map<DatasetName, Set<string>>, dataset: DatasetName, field: string) => {
    let set = map.get(dataset);
    if (!set) map.set(dataset, (set = new Set()));
    set.add(field);
  };

  const rootType = schema.getRootType(operation.operation);
  if (!rootType) throw new GatewayError('BAD_USER_INPUT', `${operation.operation} is not supported`);

  const walk = (selectionSet: SelectionSetNode, parent: GraphQLObjectType, depth: number, spreads: ReadonlySet<string>) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (isObjectType(type)) walk(selection.selectionSet, type, depth, spreads);
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        // Validation rejects cycles; the guard keeps a broken document from looping here.
        if (!fragment || spreads.has(name)) continue;
        const type = schema.getType(fragment.typeCondition.name.value);
        if (isObjectType(type)) walk(fragment.selectionSet, type, depth, new Set([...spreads, name]));
        continue;
      }
      const fieldName = selection.name.value;
      if (fieldName.startsWith('__')) continue;
      const fieldDef = parent.getFields()[fieldName];
      if (!fieldDef) continue; // validation already named it
      if (depth === 0) {
        result.rootFields.add(fieldName);
        const root = DATA_ROOTS[fieldName];
        if (root && parent === rootType) {
          result.datasets.add(root.dataset);
          const args = argumentsOf(fieldDef, selection, variables);
          if (root.lookupBy) add(result.filters, root.dataset, root.lookupBy);
          const filter = args.filter as Record<string, unknown> | null | undefined;
          if (filter) for (const key of Object.keys(filter)) if (filter[key] != null) add(result.filters, root.dataset, key);
          const orderBy = args.orderBy as { field?: string } | null | undefined;
          if (orderBy?.field) add(result.filters, root.dataset, orderBy.field);
        }
      }
      const dataset = TYPE_DATASET[parent.name];
      const relation = RELATIONS[`${parent.name}.${fieldName}`];
      if (relation) {
        result.datasets.add(relation);
        result.relations.add(`${parent.name}.${fieldName}`);
      } else if (dataset) add(result.reads, dataset, fieldName);
      if (selection.selectionSet) {
        const type = getNamedType(fieldDef.type);
        if (isObjectType(type)) walk(selection.selectionSet, type, depth + 1, spreads);
      }
    }
  };
  walk(operation.selectionSet, rootType, 0, new Set());
  return result;
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
