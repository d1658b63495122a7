/**
 * The decision sees relations (policies/relation-rules.ts through checkOperation): a relation into a
 * dataset whose rows a condition narrows is refused, naming it; into unconditioned rows it is not.
 */
import { describe, expect, it } from 'vitest';
import type { Condition } from '../../core/conditions.ts';
import type { DatasetName } from '../../core/datasets.ts';
import type { AccessPlan, DatasetAccess, FieldAccess } from '../../policies/access-plan.ts';
import { checkOperation } from '../../policies/check-operation.ts';
import { DATASET_RELATIONS, relationRefusal } from '../../policies/relation-rules.ts';

function plan(datasets: Partial<Record<DatasetName, Condition[]>>): AccessPlan {
  const access = (name: DatasetName, conditions: Condition[]): DatasetAccess => ({
    dataset: name,
    fields: new Map<string, FieldAccess>([['id', 'full'], ['idNumber', 'full'], ['name', 'full']]),
    scope: { streets: ['310101002'], conditions },
    grants: [`g-${name}`],
  });
  return {
    org: 'street:310101002',
    purpose: 'some-duty',
    street: '310101002',
    policyVersion: 1,
    refusal: null,
    datasets: new Map(Object.entries(datasets).map(([name, conditions]) => [name as DatasetName, access(name as DatasetName, conditions!)])),
    decisions: new Map(),
    expiresAt: Number.POSITIVE_INFINITY,
  };
}

const HIDES_PUBLIC: Condition = { field: 'tenure', op: 'in', value: ['owned', 'rented'] };
const ELDERLY: Condition = { field: 'age', op: 'gte', value: 65 };
const analysis = (relations: string[], datasets: DatasetName[]) => ({
  reads: new Map<DatasetName, Set<string>>([['population', new Set(['name'])], ['housing', new Set(['id'])]]),
  filters: new Map(),
  datasets: new Set(datasets),
  relations: new Set(relations),
});

describe('relations in the decision', () => {
  it('refuses Person.household when housing rows are narrowed, naming population.household', () => {
    const refusal = checkOperation(plan({ population: [], housing: [HIDES_PUBLIC] }), analysis(['Person.household'], ['population', 'housing']));
    expect(refusal?.notGranted).toEqual(['population.household']);
    expect(refusal?.relations?.[0]).toMatch(/row condition/);
  });

  it('refuses House.residents when population rows are narrowed', () => {
    const refusal = checkOperation(plan({ population: [ELDERLY], housing: [] }), analysis(['House.residents'], ['population', 'housing']));
    expect(refusal?.notGranted).toEqual(['housing.residents']);
  });

  it('lets relations into unconditioned rows through, and the same rows at the root', () => {
    const p = plan({ population: [ELDERLY], housing: [HIDES_PUBLIC], social_security: [] });
    expect(checkOperation(p, analysis(['Person.socialSecurity'], ['population', 'social_security']))).toBeNull();
    expect(checkOperation(p, analysis([], ['population', 'housing']))).toBeNull();
    expect(checkOperation(plan({ population: [], housing: [] }), analysis(['Person.household', 'House.residents'], ['population', 'housing']))).toBeNull();
  });

  it('refuses an unknown relation and one into a dataset without a grant', () => {
    expect(relationRefusal(plan({ population: [] }), 'Person.secretFile')).toMatch(/unknown relation/);
    expect(relationRefusal(plan({ population: [] }), 'Person.household')).toMatch(/no grant on housing/);
    expect(DATASET_RELATIONS.map((r) => r.key).sort()).toEqual(['House.residents', 'Person.household', 'Person.socialSecurity']);
  });
});
