/**
 * The decision on one operation: every field it reads must be granted, every field it filters,
 * sorts or looks up by must be granted in full, every dataset it reaches must have a grant.
 * Pure, so the benchmark measures exactly what a request pays.
 */
import type { DatasetName } from '../core/datasets.ts';
import type { AccessPlan } from './access-plan.ts';
import { datasetRelation, relationRefusal } from './relation-rules.ts';

/** What an operation touches, per dataset (the schema's walk of the operation produces it). */
export interface OperationAnalysis {
  /** Fields selected on each dataset. */
  readonly reads: ReadonlyMap<DatasetName, ReadonlySet<string>>;
  /** Fields used in filters, sorts and look-ups: these must be granted in full. */
  readonly filters: ReadonlyMap<DatasetName, ReadonlySet<string>>;
  /** Datasets reached through a relation or read at the root. */
  readonly datasets: ReadonlySet<DatasetName>;
  /**
   * Relation fields followed (`Person.household`): each must be one the plan lets a caller follow
   * without an empty answer revealing rows the target's row condition hides (`relation-rules.ts`).
   */
  readonly relations?: ReadonlySet<string>;
}

export interface OperationRefusal {
  /** Fields (or whole datasets) with no grant for the purpose. */
  readonly notGranted: readonly string[];
  /** Fields granted only masked but used in a filter, sort or lookup. */
  readonly needsFull: readonly string[];
  /** Why each refused relation (named as in `notGranted`) may not be followed. */
  readonly relations?: readonly string[];
}

/** @returns null when the plan allows the whole operation. */
export function checkOperation(plan: AccessPlan, analysis: OperationAnalysis): OperationRefusal | null {
  const notGranted = new Set<string>();
  const needsFull = new Set<string>();
  const granted = (dataset: DatasetName, field: string) => plan.datasets.get(dataset)?.fields.get(field);
  for (const [dataset, fields] of analysis.reads) {
    for (const field of fields) if (!granted(dataset, field)) notGranted.add(`${dataset}.${field}`);
  }
  for (const [dataset, fields] of analysis.filters) {
    for (const field of fields) {
      const access = granted(dataset, field);
      if (!access) notGranted.add(`${dataset}.${field}`);
      else if (access !== 'full') needsFull.add(`${dataset}.${field}`);
    }
  }
  // Reaching a dataset at all (a relation, a count) needs some grant on it.
  for (const dataset of analysis.datasets) if (!plan.datasets.has(dataset)) notGranted.add(dataset);
  // A relation into rows a condition narrows would answer null (or []) for the hidden ones.
  const relations: string[] = [];
  for (const key of analysis.relations ?? []) {
    const why = relationRefusal(plan, key);
    if (why === null) continue;
    notGranted.add(datasetRelation(key)?.name ?? key);
    relations.push(why);
  }
  if (notGranted.size === 0 && needsFull.size === 0) return null;
  return { notGranted: [...notGranted].sort(), needsFull: [...needsFull].sort(), ...(relations.length > 0 ? { relations } : {}) };
}
