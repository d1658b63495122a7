/**
 * Access plans from grants alone, for tests of how grants combine: the decisions Casbin would
 * make over the grants' own lines (`casbinLines`, matched as model.conf matches them), fed to the
 * real compiler. No store, no enforcer: the unit under test is the compiler and what reads its plan.
 */
import type { Condition } from '../core/conditions.ts';
import type { DatasetName } from '../core/datasets.ts';
import { compileAccessPlan, type Decide } from '../policies/grant-compiler.ts';
import type { AccessPlan } from '../policies/access-plan.ts';
import { casbinLines, type StoredGrant } from '../policies/policy-store.ts';
import type { DutyDef, GrantDef } from '../policies/policy-definitions.ts';

export const PLAN_STREET = '310101002';
export const PLAN_DUTY = 'overlap-duty';
export const PLAN_NOW = Date.parse('2026-12-04T12:00:00Z');

const DUTIES = new Map<string, DutyDef>([[PLAN_DUTY, { id: PLAN_DUTY, title: PLAN_DUTY, delegatedBy: 'dept:civil-affairs', streets: 'all' }]]);

export function testGrant(
  id: string,
  fields: GrantDef['fields'],
  rows: Condition | null = null,
  extra: Partial<StoredGrant> & { dataset?: DatasetName } = {},
): StoredGrant {
  return {
    id,
    owner: 'dept:public-security',
    dataset: 'population',
    duty: PLAN_DUTY,
    streets: 'all',
    fields,
    rows,
    validFrom: null,
    validUntil: null,
    origin: 'api',
    createdBy: 'test',
    createdAt: '2026-01-01T00:00:00Z',
    revokedAt: null,
    revokedBy: null,
    ...extra,
  };
}

/** Casbin's answer over the grants' allow lines (and deny lines for `deny` objects), validity at `now`. */
export function decideFrom(grants: readonly StoredGrant[], now: number, deny: readonly string[] = []): Decide {
  const valid = grants.filter((g) => !g.revokedAt && (!g.validUntil || Date.parse(g.validUntil) > now));
  const lines = valid.flatMap((g) => casbinLines(g));
  return (sub, dom, obj, act) => {
    if (deny.includes(obj)) return [false, ['*', dom, obj, act, 'deny', 'deny-line']];
    const matching = lines.find((l) => (l[0] === sub || l[0] === '*') && l[1] === dom && l[2] === obj && l[3] === act);
    return matching ? [true, matching] : [false, []];
  };
}

/** The plan of street {@link PLAN_STREET} for {@link PLAN_DUTY} under exactly these grants. */
export function planOf(grants: readonly StoredGrant[], options: { deny?: readonly string[]; now?: number } = {}): AccessPlan {
  const now = options.now ?? Date.now();
  return compileAccessPlan({
    org: `street:${PLAN_STREET}`,
    purpose: PLAN_DUTY,
    duties: DUTIES,
    grants: new Map(grants.map((g) => [g.id, g])),
    decide: decideFrom(grants, now, options.deny),
    policyVersion: 1,
    now,
  });
}
