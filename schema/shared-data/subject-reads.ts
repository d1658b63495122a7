/**
 * Whose data an answer carried, and which fields of it: each person is recorded with the fields
 * read for them, not the whole operation's (a house's owner with the house's fields, the residents
 * with theirs), so that a resident's `myDataAccess` and the auditors' subject access report list
 * exactly what was read about that person.
 *
 * Cheap per row: the fields of one selection are worked out once per field node list (graphql-js
 * hands the same list for every item of a list) and shared by every row resolved there; a row
 * allocates only when a grant hides a selected field on that row, or when one person is reached
 * through two selections with different fields.
 */
import { Kind, type FieldNode, type FragmentDefinitionNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { DATASETS, type DatasetName } from '../../core/datasets.ts';
import type { AuditTrace } from '../../audit/audit-event.ts';

/** The `dataset.field` names of one selection, and the bare names to check a row's view against. */
export interface SelectionFields {
  readonly qualified: ReadonlySet<string>;
  readonly names: readonly string[];
}

const FIELDS: Readonly<Record<DatasetName, ReadonlySet<string>>> = Object.fromEntries(
  Object.values(DATASETS).map((d) => [d.name, new Set(d.fields.filter((f) => !f.internal).map((f) => f.name))]),
) as unknown as Record<DatasetName, ReadonlySet<string>>;

const cache = new WeakMap<readonly FieldNode[], SelectionFields>();

/**
 * The dataset fields selected under `info`'s field (under `edges { node }` for a connection),
 * through fragments; directives are ignored, as authorization ignores them.
 */
export function selectionFields(info: GraphQLResolveInfo, dataset: DatasetName, connection = false): SelectionFields {
  const hit = cache.get(info.fieldNodes);
  if (hit) return hit;
  const names = new Set<string>();
  const fragments = info.fragments as Readonly<Record<string, FragmentDefinitionNode | undefined>>;
  const visited = new Set<string>();
  const walk = (set: SelectionSetNode | undefined, depth: number) => {
    if (!set) return;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        if (depth > 0) {
          if (s.name.value === (depth === 2 ? 'edges' : 'node')) walk(s.selectionSet, depth - 1);
        } else if (FIELDS[dataset].has(s.name.value)) names.add(s.name.value);
      } else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet, depth);
      else if (!visited.has(`${depth}:${s.name.value}`)) {
        visited.add(`${depth}:${s.name.value}`);
        walk(fragments[s.name.value]?.selectionSet, depth);
      }
    }
  };
  for (const node of info.fieldNodes) walk(node.selectionSet, connection ? 2 : 0);
  const list = [...names].sort();
  const fields: SelectionFields = { names: list, qualified: new Set(list.map((n) => `${dataset}.${n}`)) };
  cache.set(info.fieldNodes, fields);
  return fields;
}

/**
 * `fields` and the fields a root compared its rows on (`filter:dataset.field`, as the event names
 * them): every row it returned was compared so. One set per root call, not per row.
 */
export function withCompared(fields: SelectionFields, dataset: DatasetName, compared: readonly string[]): SelectionFields {
  if (compared.length === 0) return fields;
  return { names: fields.names, qualified: new Set([...fields.qualified, ...compared.map((f) => `filter:${dataset}.${f}`)]) };
}

/** Records `id` as a subject with `fields` (merged with what other selections read for them). */
export function recordSubject(trace: AuditTrace, id: string, fields: ReadonlySet<string>): void {
  trace.subjects.add(id);
  const had = trace.subjectFields.get(id);
  if (had === undefined) trace.subjectFields.set(id, fields);
  else if (had !== fields) {
    let missing = false;
    for (const f of fields) if (!had.has(f)) missing = true;
    if (missing) trace.subjectFields.set(id, new Set([...had, ...fields]));
  }
}

const OWNER_FIELDS = ['ownerIdNumber', 'ownerName'];

/**
 * Records the persons a row's view carried, with the selection's fields the view holds: the
 * person of a population or social-security row; the owner of a house, when the owner's fields
 * were read.
 */
export function recordRowSubjects(trace: AuditTrace, dataset: DatasetName, raw: Record<string, unknown>, view: Record<string, unknown>, fields: SelectionFields): void {
  const id = dataset === 'housing' ? raw.ownerIdNumber : raw.idNumber;
  if (id === null || id === undefined || id === '') return;
  if (dataset === 'housing' && !OWNER_FIELDS.some((f) => fields.qualified.has(`housing.${f}`) && f in view)) return;
  let shown = fields.qualified;
  for (const name of fields.names) {
    if (!(name in view)) {
      // A grant hid a selected field on this row: only what the row showed.
      shown = new Set([...fields.qualified].filter((f) => f.startsWith('filter:') || fields.names.some((n) => n in view && f === `${dataset}.${n}`)));
      break;
    }
  }
  recordSubject(trace, String(id), shown);
}
