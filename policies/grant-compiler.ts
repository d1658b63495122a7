/**
 * Turns Casbin's decisions and the grants behind them into an {@link AccessPlan} for one
 * (organisation, purpose). Pure: the authorizer feeds it the enforcer and the grants it loaded.
 */
import type { Condition } from '../core/conditions.ts';
import { DATASETS, type DatasetName } from '../core/datasets.ts';
import { streetCodeOf } from '../core/identity.ts';
import type { AccessPlan, DatasetAccess, FieldAccess, FieldDecision } from './access-plan.ts';
import type { DutyDef } from './policy-definitions.ts';
import { grantIsValid, validityBoundaries } from './grant-admission.ts';
import type { StoredGrant } from './policy-store.ts';
import { canonicalJson } from '../core/canonical-json.ts';

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
  else if (duty.streets !== 'all' && !duty.streets.includes(street)) {
    refusal = `duty "${purpose}" is not delegated to street ${street}`;
  }

  for (const dataset of Object.values(DATASETS)) {
    const fields = new Map<string, FieldAccess>();
    const contributing = new Set<string>();
    const groups = refusal ? [] : conditionGroups(input, street!, dataset.name);
    for (const def of dataset.fields) {
      if (def.internal) continue;
      const obj = `${dataset.name}.${def.name}`;
      if (refusal) {
        decisions.set(obj, { field: obj, access: 'denied', grant: null, rule: refusal });
        continue;
      }
      const decision = coverAllRows(decideField(input, street!, obj), def.name, groups);
      decisions.set(obj, decision);
      if (decision.access !== 'denied') {
        fields.set(def.name, decision.access);
        if (decision.grant) contributing.add(decision.grant);
      }
    }
    if (fields.size === 0) continue;
    datasets.set(dataset.name, {
      dataset: dataset.name,
      fields,
      grants: [...contributing],
      scope: { streets: [street!], conditions: rowConditions(groups) },
    });
  }

  return {
    org,
    purpose,
    street,
    policyVersion: input.policyVersion,
    refusal,
    datasets,
    decisions,
    expiresAt: nextValidityChange(input.grants, now),
  };
}

function decideField(input: CompileInput, street: string, obj: string): FieldDecision {
  const [full, fullRule] = input.decide(street, input.purpose, obj, 'read');
  if (full) return { field: obj, access: 'full', grant: fullRule[5] ?? null, rule: fullRule.join(', ') };
  const [masked, maskedRule] = input.decide(street, input.purpose, obj, 'read_masked');
  if (masked) return { field: obj, access: 'masked', grant: maskedRule[5] ?? null, rule: maskedRule.join(', ') };
  // A deny line that matched is named; otherwise it is the default.
  const denyRule = fullRule.length > 0 ? fullRule : maskedRule;
  return {
    field: obj,
    access: 'denied',
    grant: null,
    rule: denyRule.length > 0 ? `denied by ${denyRule.join(', ')}` : `no valid grant for ${obj} under "${input.purpose}"`,
  };
}

/** Applicable grants of one dataset that share a row condition (`null`: every row of the street). */
interface ConditionGroup {
  readonly key: string;
  readonly condition: Condition | null;
  readonly grants: readonly StoredGrant[];
}

/** The valid grants of `dataset` for this street and duty, grouped by identical row condition. */
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
  return [...groups].map(([key, g]) => ({ key, ...g }));
}

const LEVEL: Readonly<Record<FieldAccess, number>> = { masked: 1, full: 2 };

/**
 * A field is shown on every row the plan admits, so it may only be shown where it is granted on
 * every one of them. Rows are the union of the grants' row conditions; when the applicable grants
 * have different conditions, a field granted by one of them only (grant A: `phone` for persons
 * aged 65+, grant B: `name` for everyone) would otherwise also show on rows that only B admits.
 * So with more than one condition a field keeps the best access that covers all rows: that of a
 * grant without a row condition, or the lowest across all conditions when every one grants it;
 * otherwise it is denied, naming why. Never more than Casbin's own decision (deny lines hold).
 */
function coverAllRows(decision: FieldDecision, field: string, groups: readonly ConditionGroup[]): FieldDecision {
  if (decision.access === 'denied' || groups.length <= 1) return decision;
  const levelIn = (group: ConditionGroup): number =>
    Math.max(0, ...group.grants.map((g) => (g.fields[field] ? LEVEL[g.fields[field] as FieldAccess] : 0)));
  const everyRow = groups.find((g) => g.condition === null);
  const fromEveryRowGrant = everyRow ? levelIn(everyRow) : 0;
  const fromAllConditions = Math.min(...groups.map(levelIn));
  const covered = Math.min(LEVEL[decision.access], Math.max(fromEveryRowGrant, fromAllConditions));
  if (covered === LEVEL[decision.access]) return decision;
  const partial = groups.filter((g) => levelIn(g) > covered).flatMap((g) => g.grants.map((x) => x.id));
  const why = `granted ${covered === 0 ? '' : 'in full '}only on part of the rows this duty may see (${partial.join(', ')}); the grants' row conditions differ`;
  if (covered === 0) return { field: decision.field, access: 'denied', grant: null, rule: `${decision.field} ${why}` };
  return { field: decision.field, access: 'masked', grant: decision.grant, rule: `${decision.rule}; masked: ${why}` };
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
