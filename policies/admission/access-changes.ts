/**
 * What an access request would change, field by field: what the street can read today under the
 * duty and what it could read once the request is approved as asked. Both sides are compiled by
 * the authorizer's own compiler ({@link compileAccessPlan}) over the loaded grants, the "after"
 * side with the request's grant added, so the preview follows every rule a real read follows
 * (delegation in force, validity periods, grants whose row conditions differ). Each field also says
 * what an emergency session for the duty opens of it, today and after: the emergency clauses of the
 * grants in force for the street and duty ({@link emergencyGrants}, the session's own rule).
 */
import { DATASETS, type DatasetName } from '../../core/datasets.ts';
import type { AccessPlan } from '../access-plan.ts';
import { compileAccessPlan, type Decide } from '../grant-compiler.ts';
import { grantIsValid } from '../grant-admission.ts';
import type { DutyDef, GrantDef } from '../policy-definitions.ts';
import type { StoredGrant } from '../policy-store.ts';
import type { DelegationIndex } from './delegation-windows.ts';
import { emergencyGrants } from '../emergency/emergency-plan.ts';
import type { EmergencyFieldAccess } from '../emergency/emergency-clause.ts';

export interface AccessChange {
  /** `dataset.field` */
  readonly field: string;
  readonly today: 'full' | 'masked' | 'denied';
  readonly after: 'full' | 'masked' | 'denied';
  readonly todayRule: string;
  readonly afterRule: string;
  /** What an emergency session for the duty opens of the field today, or null. */
  readonly todayEmergency: EmergencyFieldAccess | null;
  readonly afterEmergency: EmergencyFieldAccess | null;
}

export interface PolicySnapshot {
  readonly duties: ReadonlyMap<string, DutyDef>;
  readonly grants: ReadonlyMap<string, StoredGrant>;
  readonly delegations: DelegationIndex;
  readonly version: number;
}

/**
 * Casbin's decision over lines derived from `grants` (policy-store `casbinLines`: allow lines only,
 * `*` for all streets), with the model's `grantValid`: the same answer the enforcer gives.
 */
function decideFromGrants(grants: ReadonlyMap<string, StoredGrant>, now: number): Decide {
  return (sub, dom, obj, act) => {
    const dot = obj.indexOf('.');
    const dataset = obj.slice(0, dot);
    const field = obj.slice(dot + 1);
    const wanted = act === 'read' ? 'full' : 'masked';
    for (const g of grants.values()) {
      if (g.duty !== dom || g.dataset !== dataset || g.fields[field] !== wanted || !grantIsValid(g, now)) continue;
      if (g.streets !== 'all' && !g.streets.includes(sub)) continue;
      return [true, [g.streets === 'all' ? '*' : sub, dom, obj, act, 'allow', g.id]];
    }
    return [false, []];
  };
}

/** The plan street `street` would get for `duty` at `now` under `snapshot` (plus `extra` grants). */
export function simulatePlan(snapshot: PolicySnapshot, street: string, duty: string, now: number, extra: readonly GrantDef[] = []): AccessPlan {
  let grants = snapshot.grants;
  if (extra.length > 0) {
    const more = new Map(grants);
    for (const g of extra) {
      more.set(g.id, { ...g, origin: 'api', createdBy: 'preview', createdAt: new Date(now).toISOString(), revokedAt: null, revokedBy: null });
    }
    grants = more;
  }
  return compileAccessPlan({
    org: `street:${street}`,
    purpose: duty,
    duties: snapshot.duties,
    grants,
    decide: decideFromGrants(grants, now),
    policyVersion: snapshot.version,
    now,
    delegations: snapshot.delegations,
  });
}

/** Per field of `dataset`: the widest level any emergency clause in force for the street and duty opens. */
function emergencyLevels(grants: Iterable<StoredGrant>, street: string, duty: string, dataset: DatasetName, now: number): Map<string, EmergencyFieldAccess> {
  const levels = new Map<string, EmergencyFieldAccess>();
  for (const g of emergencyGrants(grants, street, duty, now)) {
    if (g.dataset !== dataset) continue;
    for (const [field, access] of Object.entries(g.emergency.fields)) {
      if (access === 'full' || !levels.has(field)) levels.set(field, access);
    }
  }
  return levels;
}

/** Field-by-field preview of `dataset` for `street` and `duty`: today, and with `proposed` granted. */
export function accessChanges(
  snapshot: PolicySnapshot,
  street: string,
  duty: string,
  dataset: DatasetName,
  proposed: GrantDef | null,
  now: number = Date.now(),
): AccessChange[] {
  const today = simulatePlan(snapshot, street, duty, now);
  const after = proposed ? simulatePlan(snapshot, street, duty, now, [proposed]) : today;
  const emergencyToday = emergencyLevels(snapshot.grants.values(), street, duty, dataset, now);
  const withProposed: StoredGrant[] = proposed
    ? [{ ...proposed, origin: 'api', createdBy: 'preview', createdAt: new Date(now).toISOString(), revokedAt: null, revokedBy: null }]
    : [];
  const emergencyAfter = proposed ? emergencyLevels([...snapshot.grants.values(), ...withProposed], street, duty, dataset, now) : emergencyToday;
  return DATASETS[dataset].fields
    .filter((f) => !f.internal)
    .map((f) => {
      const key = `${dataset}.${f.name}`;
      const t = today.decisions.get(key);
      const a = after.decisions.get(key);
      return {
        field: key,
        today: t?.access ?? 'denied',
        after: a?.access ?? 'denied',
        todayRule: t?.rule ?? 'no decision',
        afterRule: a?.rule ?? 'no decision',
        todayEmergency: emergencyToday.get(f.name) ?? null,
        afterEmergency: emergencyAfter.get(f.name) ?? null,
      };
    });
}
