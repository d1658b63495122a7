/**
 * Relations between datasets (a person's household, a house's residents, a person's account) obey
 * the same rules as top-level reads, including the one a null would break: a row the target's row
 * condition hides must not be told apart from a missing one.
 *
 * Under rental-registration, housing is granted only for owned and rented dwellings, while the
 * population grant has no condition: `person { household }` answering `null` would tell which
 * persons live in public housing, which is exactly what the housing condition withholds. A source
 * grant cannot carry a condition on another dataset's fields, so whenever the target's rows are
 * narrowed by a row condition, following the relation is refused (FORBIDDEN, naming it) — the
 * target can still be read at the root, where rows outside the scope simply do not exist.
 */
import type { DatasetName } from '../core/datasets.ts';
import type { AccessPlan } from './access-plan.ts';

export interface DatasetRelation {
  /** The schema's name of the relation field: `Type.field`. */
  readonly key: string;
  /** The relation named in refusals like a field: `dataset.field`. */
  readonly name: string;
  readonly from: DatasetName;
  readonly to: DatasetName;
}

/** The relations of the shared data model (schema/shared-data declares the same fields). */
export const DATASET_RELATIONS: readonly DatasetRelation[] = [
  { key: 'Person.household', name: 'population.household', from: 'population', to: 'housing' },
  { key: 'Person.socialSecurity', name: 'population.socialSecurity', from: 'population', to: 'social_security' },
  { key: 'House.residents', name: 'housing.residents', from: 'housing', to: 'population' },
];

const BY_KEY: ReadonlyMap<string, DatasetRelation> = new Map(DATASET_RELATIONS.map((r) => [r.key, r]));

export function datasetRelation(key: string): DatasetRelation | undefined {
  return BY_KEY.get(key);
}

/**
 * Why `relation` (a `Type.field` key) may not be followed under `plan`, or null when it may. An
 * unknown relation is refused (fail closed).
 */
export function relationRefusal(plan: AccessPlan, key: string): string | null {
  const relation = BY_KEY.get(key);
  if (!relation) return `unknown relation ${key}`;
  const target = plan.datasets.get(relation.to);
  if (!target) return `${relation.name}: no grant on ${relation.to} under "${plan.purpose}"`;
  if (target.scope.conditions.length > 0) {
    return (
      `${relation.name}: the grants on ${relation.to} under "${plan.purpose}" admit only some rows (a row condition), ` +
      `and an empty answer would reveal the rows it hides; read ${relation.to} directly instead`
    );
  }
  return null;
}
