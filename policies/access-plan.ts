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
import { canonicalJson } from '../core/canonical-json.ts';

export type FieldAccess = 'full' | 'masked';

/** Ordered access: 0 not shown, 1 masked, 2 full; the best of several grants is the largest. */
export type AccessLevel = 0 | 1 | 2;

export const ACCESS_LEVEL: Readonly<Record<FieldAccess, AccessLevel>> = { masked: 1, full: 2 };

/** What one applicable grant gives a field, and on which rows (explainAccess's per-grant picture). */
export interface GrantContribution {
  readonly grant: string;
  /** `aggregate`: the grant gives the field for statistics only, which reads nothing here. */
  readonly access: FieldAccess | 'aggregate' | 'none';
  /** The grant's row condition; null: every row of the street. */
  readonly rows: Condition | null;
}

export interface FieldDecision {
  /** `dataset.field` */
  readonly field: string;
  /**
   * The best access the field has on some row the purpose may see (`denied`: on none). With
   * `varies`, it is that level on some rows only: see `rule` and `byGrant`.
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
   * Fields the purpose may ask for, at the best level they have on some row; a field absent here
   * is denied. Filters, sorts and look-ups need `full`, and run over {@link rowsWhereFull} only.
   * What a field shows on one row is {@link accessOnRow}'s answer.
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

/** The best access a plan gives to `dataset.field` on some row (see {@link DatasetAccess.fields}), or undefined when denied. */
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

/**
 * The rows on which each of `fields` is full, as conditions to AND with the scope: what a filter,
 * a sort or a look-up by these fields may run over. A field that is full on some rows only
 * (grants with different row conditions) is thus never compared on a row where it is masked or
 * not granted, so no answer (rows, order, totalCount) depends on a value the caller may not see
 * in full. Empty when each field is full on every row: the single-grant case pays nothing.
 *
 * @throws TypeError for a field full on no row (authorization refuses such an operation first).
 */
export function rowsWhereFull(data: DatasetAccess, fields: Iterable<string>): Condition[] {
  const distinct = new Map<string, Condition>();
  const seen = new Set<string>();
  for (const field of fields) {
    if (seen.has(field)) continue;
    seen.add(field);
    const levels = data.perRow?.levels.get(field);
    if (!levels) {
      if (data.fields.get(field) !== 'full') throw new TypeError(`${data.dataset}.${field} is not granted in full: refusing to compare it`);
      continue;
    }
    if (levels.base === 2) continue;
    const full = data.perRow!.tags.filter((_, i) => levels.byTag[i] === 2);
    if (full.length === 0) throw new TypeError(`${data.dataset}.${field} is full on no row: refusing to compare it`);
    const condition: Condition = full.length === 1 ? full[0]! : { any: full };
    const key = canonicalJson(condition);
    if (!distinct.has(key)) distinct.set(key, condition);
  }
  return [...distinct.values()];
}
