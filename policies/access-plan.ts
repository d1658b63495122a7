/**
 * What one organisation may read for one purpose, compiled once per (org, purpose, policy version)
 * and cached: per request, authorization is a map look-up and a walk of the operation.
 */
import type { Scope } from '../core/conditions.ts';
import type { DatasetName } from '../core/datasets.ts';

export type FieldAccess = 'full' | 'masked';

export interface FieldDecision {
  /** `dataset.field` */
  readonly field: string;
  readonly access: FieldAccess | 'denied';
  /** The grant that allowed it, or the rule that denied it. */
  readonly grant: string | null;
  readonly rule: string;
}

export interface DatasetAccess {
  readonly dataset: DatasetName;
  /** Granted fields; a field absent here is denied. */
  readonly fields: ReadonlyMap<string, FieldAccess>;
  /** Rows the purpose may see: the street's jurisdiction and the grants' row conditions. */
  readonly scope: Scope;
  /** Grants that contribute to this dataset. */
  readonly grants: readonly string[];
}

export interface AccessPlan {
  readonly org: string;
  readonly purpose: string;
  /** The caller's street code, when the organisation is a street office. */
  readonly street: string | null;
  readonly policyVersion: number;
  /** Why no data may be read at all for this (org, purpose), or null when the duty is delegated. */
  readonly refusal: string | null;
  readonly datasets: ReadonlyMap<DatasetName, DatasetAccess>;
  /** Every dataset field's decision, for explainAccess and audit. */
  readonly decisions: ReadonlyMap<string, FieldDecision>;
  /** Epoch ms after which a grant's validity period changes the answer; the cache drops it then. */
  readonly expiresAt: number;
}

/** The access a plan gives to `dataset.field`, or undefined when denied. */
export function fieldAccess(plan: AccessPlan, dataset: DatasetName, field: string): FieldAccess | undefined {
  return plan.datasets.get(dataset)?.fields.get(field);
}
