/**
 * Turns Casbin's decisions and the grants behind them into an {@link AccessPlan} for one
 * (organisation, purpose). Pure: the authorizer feeds it the enforcer and the grants it loaded.
 *
 * Overlapping grants combine exactly. A street may hold several grants for one duty and dataset
 * (each approved access request is one), with different fields, levels and row conditions. A row
 * is visible when some grant admits it; a field shows on a row only where a grant admitting that
 * row grants it, at the best level among those grants (full beats masked), and never above
 * Casbin's own decision for the field. Grants are grouped by identical row condition; a field
 * that every group grants alike (always so with one grant) keeps one level and costs nothing per
 * row. Any other field is row-dependent: the plan lists the groups' conditions as tags and each
 * such field's level under each tag; the source evaluates the tags in its own query and returns
 * the field's value only where a tag granting it holds (`RowRules` in connectors/connector.ts).
 *
 * Filters, sorts and look-ups need the field in full, and run only over the rows where it is full
 * (`rowsWhereFull` in access-plan.ts): a comparison over rows where the field is masked or not
 * granted would be an oracle on its value. The alternative, refusing them unless the field is full
 * on every row, would let one more approved grant (a few masked fields for everyone, say) take
 * away a street's look-up by ID number under grants it already held; restricting keeps every
 * grant's own answers as they were, and adds the new grant's rows where they can be answered.
 */
import type { Condition } from '../core/conditions.ts';
import { DATASETS, type DatasetName } from '../core/datasets.ts';
import { streetCodeOf } from '../core/identity.ts';
import { ACCESS_LEVEL } from './access-plan.ts';
import type {
  AccessLevel,
  AccessPlan,
  DatasetAccess,
  FieldAccess,
  FieldDecision,
  FieldLevels,
  GrantContribution,
  RowDependentAccess,
} from './access-plan.ts';
import type { DutyDef } from './policy-definitions.ts';
import { grantIsValid, validityBoundaries } from './grant-admission.ts';
import type { StoredGrant } from './policy-store.ts';
import { canonicalJson } from '../core/canonical-json.ts';
import { delegationInForce, nextDelegationChange, NO_DELEGATIONS, type DelegationIndex } from './admission/delegation-windows.ts';

/** The part of Casbin the compiler needs: a decision with the rule that made it. */
export type Decide = (sub: string, duty: string, obj: string, act: 'read' | 'read_masked') => [boolean, string[]];

export interface CompileInput {
  readonly org: string;
  readonly purpose: string;
  readonly duties: ReadonlyMap<string, DutyDef>;
  readonly grants: ReadonlyMap<string, StoredGrant>;
  readonly decide: Decide;
  readonly policyVersion: number;
  readonly now: number;
  /**
   * Admitted delegations (the admission review). A duty is delegated to a street when the duty's
   * own street list (the standing delegations of the policy files) names it, or when one of these
   * is in force at `now`.
   */
  readonly delegations?: DelegationIndex;
}

export function compileAccessPlan(input: CompileInput): AccessPlan {
  const { org, purpose, now } = input;
  const street = streetCodeOf(org) ?? null;
  const duty = input.duties.get(purpose);
  const decisions = new Map<string, FieldDecision>();
  const datasets = new Map<DatasetName, DatasetAccess>();

  let refusal: string | null = null;
  if (!street) refusal = `organisation ${org} is not a street office; shared data is read by streets only`;
  else if (!duty) refusal = `unknown purpose "${purpose}"`;
  else if (
    duty.streets !== 'all' &&
    !duty.streets.includes(street) &&
    !delegationInForce(input.delegations ?? NO_DELEGATIONS, purpose, street, now)
  ) {
    refusal = `duty "${purpose}" is not delegated to street ${street}`;
  }

  for (const dataset of Object.values(DATASETS)) {
    if (refusal) {
      for (const def of dataset.fields) {
        if (def.internal) continue;
        const obj = `${dataset.name}.${def.name}`;
        decisions.set(obj, { field: obj, access: 'denied', grant: null, rule: refusal });
      }
      continue;
    }
    const access = compileDataset(input, street!, dataset.name, decisions);
    if (access) datasets.set(dataset.name, access);
  }

  return {
    org,
    purpose,
    street,
    policyVersion: input.policyVersion,
    refusal,
    datasets,
    decisions,
    expiresAt: Math.min(
      nextValidityChange(input.grants, now),
      street ? nextDelegationChange(input.delegations ?? NO_DELEGATIONS, purpose, street, now) : Number.POSITIVE_INFINITY,
    ),
  };
}

/**
 * One dataset's access: each field's level on the rows of each grant row condition, from which
 * the plan keeps either one level (the field is granted alike wherever it is granted: the usual
 * case, and always so with one grant) or the per-row picture the source evaluates.
 */
function compileDataset(
  input: CompileInput,
  street: string,
  dataset: DatasetName,
  decisions: Map<string, FieldDecision>,
): DatasetAccess | undefined {
  const groups = conditionGroups(input, street, dataset);
  const every = groups.find((g) => g.condition === null);
  const conditional = groups.filter((g) => g.condition !== null);
  const fields = new Map<string, FieldAccess>();
  const levels = new Map<string, FieldLevels>();
  const contributing = new Set<string>();

  for (const def of DATASETS[dataset].fields) {
    if (def.internal) continue;
    const obj = `${dataset}.${def.name}`;
    const casbin = decideField(input, street, obj);
    const byGrant: GrantContribution[] = groups.flatMap((g) =>
      g.grants.map((grant) => ({ grant: grant.id, access: grant.fields[def.name] ?? 'none', rows: g.condition })),
    );
    if (casbin.access === 'denied' || groups.length === 0) {
      decisions.set(obj, casbin.access === 'denied' ? { ...casbin, byGrant } : denied(obj, `no applicable grant for ${obj}`));
      continue;
    }
    // Never more than Casbin's own decision (a deny line holds on every row).
    const cap = ACCESS_LEVEL[casbin.access];
    const levelIn = (group: ConditionGroup): AccessLevel => {
      let best = 0;
      for (const grant of group.grants) {
        const granted = grant.fields[def.name];
        if (granted) best = Math.max(best, ACCESS_LEVEL[granted as FieldAccess] ?? 0);
      }
      return Math.min(cap, best) as AccessLevel;
    };
    const base: AccessLevel = every ? levelIn(every) : 0;
    const byTag = conditional.map(levelIn);
    // The level every admitted row is sure to have, and the best some row may have.
    const floor = every ? base : (Math.min(...byTag) as AccessLevel);
    const top = Math.max(base, ...byTag) as AccessLevel;
    for (const group of groups) {
      if (levelIn(group) > 0) for (const grant of group.grants) if (grant.fields[def.name]) contributing.add(grant.id);
    }
    if (top === 0) {
      decisions.set(obj, { ...denied(obj, `no applicable grant gives ${obj}`), byGrant });
      continue;
    }
    if (floor === top) {
      const access: FieldAccess = top === 2 ? 'full' : 'masked';
      fields.set(def.name, access);
      decisions.set(obj, { ...casbin, access, byGrant });
      continue;
    }
    // Depends on the row: asked for at its best level; compared only where full (rowsWhereFull).
    const best: FieldAccess = top === 2 ? 'full' : 'masked';
    fields.set(def.name, best);
    levels.set(def.name, { base, byTag });
    decisions.set(obj, { field: obj, access: best, varies: true, grant: casbin.grant, rule: describeVarying(obj, every, base, conditional, byTag), byGrant });
  }

  if (fields.size === 0) return undefined;
  let perRow: RowDependentAccess | undefined;
  if (levels.size > 0) {
    const shownUnder: Record<string, readonly number[]> = {};
    for (const [field, l] of levels) {
      if (l.base === 0) shownUnder[field] = l.byTag.flatMap((level, i) => (level > 0 ? [i] : []));
    }
    perRow = {
      tags: conditional.map((g) => g.condition!),
      tagGrants: conditional.map((g) => g.grants.map((x) => x.id)),
      levels,
      shownUnder,
    };
  }
  return {
    dataset,
    fields,
    grants: [...contributing].sort(),
    // Frozen: a scope is a value (sources key their compiled statements on it).
    scope: Object.freeze({ streets: Object.freeze([street]), conditions: Object.freeze(rowConditions(groups)) }),
    ...(perRow ? { perRow } : {}),
  };
}

function denied(field: string, rule: string): FieldDecision {
  return { field, access: 'denied', grant: null, rule };
}

function decideField(input: CompileInput, street: string, obj: string): FieldDecision {
  const [full, fullRule] = input.decide(street, input.purpose, obj, 'read');
  if (full) return { field: obj, access: 'full', grant: fullRule[5] ?? null, rule: fullRule.join(', ') };
  const [masked, maskedRule] = input.decide(street, input.purpose, obj, 'read_masked');
  if (masked) return { field: obj, access: 'masked', grant: maskedRule[5] ?? null, rule: maskedRule.join(', ') };
  // A deny line that matched is named; otherwise it is the default.
  const denyRule = fullRule.length > 0 ? fullRule : maskedRule;
  return denied(obj, denyRule.length > 0 ? `denied by ${denyRule.join(', ')}` : `no valid grant for ${obj} under "${input.purpose}"`);
}

/** Applicable grants of one dataset that share a row condition (`null`: every row of the street). */
interface ConditionGroup {
  readonly key: string;
  readonly condition: Condition | null;
  readonly grants: readonly StoredGrant[];
}

/**
 * The valid grants of `dataset` for this street and duty, grouped by identical row condition, in
 * a stable order (so a plan's tags do not move between reloads).
 */
function conditionGroups(input: CompileInput, street: string, dataset: DatasetName): ConditionGroup[] {
  const groups = new Map<string, { condition: Condition | null; grants: StoredGrant[] }>();
  for (const grant of input.grants.values()) {
    if (grant.dataset !== dataset || grant.duty !== input.purpose || !grantIsValid(grant, input.now)) continue;
    if (grant.streets !== 'all' && !grant.streets.includes(street)) continue;
    const key = grant.rows === null ? 'null' : canonicalJson(grant.rows);
    const group = groups.get(key) ?? { condition: grant.rows, grants: [] };
    group.grants.push(grant);
    groups.set(key, group);
  }
  return [...groups]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, g]) => ({ key, condition: g.condition, grants: g.grants.sort((x, y) => (x.id < y.id ? -1 : 1)) }));
}

const LEVEL_NAME = ['not shown', 'masked', 'full'] as const;

/** explainAccess's words for a row-dependent field: per row condition, the level and the grants. */
function describeVarying(
  field: string,
  every: ConditionGroup | undefined,
  base: AccessLevel,
  conditional: readonly ConditionGroup[],
  byTag: readonly AccessLevel[],
): string {
  const parts: string[] = [];
  if (every && base > 0) parts.push(`${LEVEL_NAME[base]} on every row (${every.grants.map((g) => g.id).join(', ')})`);
  conditional.forEach((group, i) => {
    if (byTag[i]! > base) parts.push(`${LEVEL_NAME[byTag[i]!]} where ${canonicalJson(group.condition)} (${group.grants.map((g) => g.id).join(', ')})`);
  });
  const elsewhere = base === 0 ? 'not shown on other rows' : `${LEVEL_NAME[base]} on other rows`;
  const compare = byTag.includes(2)
    ? 'filters, sorts and look-ups by it run over the rows where it is full only'
    : 'it may not be filtered, sorted or looked up by (full on no row)';
  return `${field} depends on the row: ${parts.join('; ')}; ${elsewhere}; ${compare}`;
}

/**
 * Rows of the dataset the purpose may see: a row qualifies when some applicable grant admits it.
 * A grant without a row condition admits every row of the street.
 */
function rowConditions(groups: readonly ConditionGroup[]): Condition[] {
  if (groups.length === 0 || groups.some((g) => g.condition === null)) return [];
  const conditions = groups.map((g) => g.condition!);
  return conditions.length === 1 ? [conditions[0]!] : [{ any: conditions }];
}

function nextValidityChange(grants: ReadonlyMap<string, StoredGrant>, now: number): number {
  let next = Number.POSITIVE_INFINITY;
  for (const grant of grants.values()) {
    if (grant.revokedAt) continue;
    for (const at of validityBoundaries(grant)) if (at > now && at < next) next = at;
  }
  return next;
}
