/**
 * What one street may count for one duty: the rows (its street and the grants' row conditions, as
 * for every read) and the fields it may group or filter on, each granted at least `aggregate` on
 * every row those grants admit together. Pure: built from the duty's ordinary plan (for its refusal
 * and street, so delegation and duty rules are decided in one place) and the grants.
 *
 * Why not the ordinary plan's fields: `aggregate` is below `masked` and the ordinary plan never holds
 * it (its fields are all readable). Why "on every row": as in the grant compiler, a field granted by
 * a grant with a row condition only must not be grouped over rows that another grant admits.
 */
import type { Condition, Scope } from '../../core/conditions.ts';
import { canonicalJson } from '../../core/canonical-json.ts';
import type { AccessPlan } from '../access-plan.ts';
import { grantIsValid } from '../grant-admission.ts';
import type { StoredGrant } from '../policy-store.ts';
import type { StatisticsDataset } from './statistics-fields.ts';

export interface StatisticsPlan {
  /** Why nothing may be counted, or null. */
  readonly refusal: string | null;
  readonly scope: Scope;
  /** Dataset fields granted at least `aggregate` on every row in scope. */
  readonly fields: ReadonlySet<string>;
  /** Grants that contribute. */
  readonly grants: readonly string[];
}

export function compileStatisticsPlan(
  plan: AccessPlan,
  dataset: StatisticsDataset,
  grants: Iterable<StoredGrant>,
  now: number,
): StatisticsPlan {
  const none = (refusal: string): StatisticsPlan => ({ refusal, scope: { streets: [], conditions: [] }, fields: new Set(), grants: [] });
  if (plan.refusal) return none(plan.refusal);
  const street = plan.street;
  if (!street) return none(`organisation ${plan.org} is not a street office`);
  const groups = new Map<string, { condition: Condition | null; grants: StoredGrant[] }>();
  for (const grant of grants) {
    if (grant.dataset !== dataset || grant.duty !== plan.purpose || !grantIsValid(grant, now)) continue;
    if (grant.streets !== 'all' && !grant.streets.includes(street)) continue;
    const key = grant.rows === null ? 'null' : canonicalJson(grant.rows);
    const group = groups.get(key) ?? { condition: grant.rows, grants: [] };
    group.grants.push(grant);
    groups.set(key, group);
  }
  if (groups.size === 0) return none(`no grant on ${dataset} for duty "${plan.purpose}" reaches street ${street}`);
  const all = [...groups.values()];
  const every = all.find((g) => g.condition === null);
  const grantedIn = (g: { grants: StoredGrant[] }) => new Set(g.grants.flatMap((x) => Object.keys(x.fields)));
  // A field counts where a grant without row condition gives it, or every condition group does.
  const fields = every ? grantedIn(every) : new Set<string>();
  if (!every) {
    const sets = all.map(grantedIn);
    for (const f of sets[0]!) if (sets.every((s) => s.has(f))) fields.add(f);
  }
  const conditions: Condition[] = every ? [] : all.length === 1 ? [all[0]!.condition!] : [{ any: all.map((g) => g.condition!) }];
  return {
    refusal: null,
    scope: { streets: [street], conditions },
    fields,
    grants: all.flatMap((g) => g.grants.map((x) => x.id)),
  };
}
