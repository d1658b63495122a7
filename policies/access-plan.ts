/**
 * What one organisation may read for one purpose, compiled once per (org, purpose, policy version)
 * and cached: per request, authorization is a map look-up and a walk of the operation.
 *
 * Several grants of one duty and dataset combine row by row: a field shows on a row only where a
 * grant that admits that row grants the field, at the best level among those grants. When every
 * admitting grant grants a field alike (always so with one grant) the plan says so in
 * {@link DatasetAccess.fields} alone; otherwise {@link DatasetAccess.perRow} says, per grant row
 * condition, what each such field gets, and the source reports per row which conditions hold.
 */
import type { Condition, Scope } from '../core/conditions.ts';
import type { DatasetName } from '../core/datasets.ts';

export type FieldAccess = 'full' | 'masked';

/** Ordered access: 0 not shown, 1 masked, 2 full; the best of several grants is the largest. */
export type AccessLevel = 0 | 1 | 2;

export const ACCESS_LEVEL: Readonly<Record<FieldAccess, AccessLevel>> = { masked: 1, full: 2 };

/** What one applicable grant gives a field, and on which rows (explainAccess's per-grant picture). */
export interface GrantContribution {
  readonly grant: string;
  readonly access: FieldAccess | 'none';
  /** The grant's row condition; null: every row of the street. */
  readonly rows: Condition | null;
}

export interface FieldDecision {
  /** `dataset.field` */
  readonly field: string;
  /**
   * `full`: full on every row the purpose may see (so it may be filtered and sorted on);
   * `masked`: readable, but not in full on every row (masked, or full or not shown depending on the
   * row: see `varies`); `denied`: on no row.
   */
  readonly access: FieldAccess | 'denied';
  /** True when the field's access depends on the row (grants with different row conditions). */
  readonly varies?: boolean;
  /** The grant that allowed it, or the rule that denied it. */
  readonly grant: string | null;
  readonly rule: string;
  /** Each applicable grant of the dataset: what it gives this field, on which rows. */
  readonly byGrant?: readonly GrantContribution[];
}

/** A field whose access depends on the row: its level on every row, and on rows under each tag. */
export interface FieldLevels {
  /** Level on every row the purpose may see (from grants without a row condition; else 0). */
  readonly base: AccessLevel;
  /** `byTag[i]`: level on rows where `tags[i]` holds. */
  readonly byTag: readonly AccessLevel[];
}

/**
 * Row-dependent access of one dataset. Its `tags` and `shownUnder` are exactly the connector port's
 * `RowRules` (connectors/connector.ts): the source returns such a field's value only on rows where
 * one of its tags holds, and reports per row which tags hold, so the level is decided per row.
 */
export interface RowDependentAccess {
  /** The distinct row conditions of the applicable grants (grants without one are in `base`). */
  readonly tags: readonly Condition[];
  /** The grants behind each tag. */
  readonly tagGrants: readonly (readonly string[])[];
  /** Fields whose access depends on the row; every other granted field is uniform. */
  readonly levels: ReadonlyMap<string, FieldLevels>;
  /** Fields not shown on every row (base 0): the tags under which their value may leave the source. */
  readonly shownUnder: Readonly<Record<string, readonly number[]>>;
}

export interface DatasetAccess {
  readonly dataset: DatasetName;
  /**
   * Fields the purpose may read; a field absent here is denied. `full` only where the field is
   * full on every row the purpose may see: that is what filters, sorts and look-ups need. A
   * row-dependent field is `masked` here; what it shows on a row is {@link accessOnRow}'s answer.
   */
  readonly fields: ReadonlyMap<string, FieldAccess>;
  /** Rows the purpose may see: the street's jurisdiction and the grants' row conditions. */
  readonly scope: Scope;
  /** Grants that contribute to this dataset. */
  readonly grants: readonly string[];
  /** Present only when some field's access differs between the grants' row conditions. */
  readonly perRow?: RowDependentAccess;
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

/** The access a plan gives to `dataset.field` on every row (see {@link DatasetAccess.fields}), or undefined when denied. */
export function fieldAccess(plan: AccessPlan, dataset: DatasetName, field: string): FieldAccess | undefined {
  return plan.datasets.get(dataset)?.fields.get(field);
}

/**
 * The access `field` has on one row, given which of `perRow.tags` hold on it (as the connector
 * reported them). Fail-closed: a tag the source did not report counts as not holding.
 */
export function accessOnRow(data: DatasetAccess, field: string, tags: readonly boolean[] | undefined): FieldAccess | undefined {
  const levels = data.perRow?.levels.get(field);
  if (!levels) return data.fields.get(field);
  let level: AccessLevel = levels.base;
  for (let i = 0; i < levels.byTag.length; i++) {
    const under = levels.byTag[i]!;
    if (under > level && tags?.[i] === true) level = under;
  }
  return level === 2 ? 'full' : level === 1 ? 'masked' : undefined;
}
