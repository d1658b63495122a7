/**
 * The widening of an access plan under an open emergency session: the street's normal plan for the
 * session's duty, plus the emergency fields of the grants that serve that duty for that street, and
 * nothing else. Rows are never widened: each emergency field's grant's row condition is added to the
 * dataset's scope (so the field shows only on rows its grant admits), and a session for one person
 * restricts every dataset to that person, pushed to the sources like any condition.
 *
 * Since a one-person session narrows every dataset by a condition, following a relation into another
 * dataset (`Person.socialSecurity`, `House.residents`) is refused under it like any relation into
 * narrowed rows (relation-rules.ts); the person's account is read at the root instead.
 *
 * Composed from the normal plan here rather than compiled with it, so the cached plans and the
 * compiler stay as they are; the widened plan lives for one request.
 */
import type { Condition } from '../../core/conditions.ts';
import type { DatasetName } from '../../core/datasets.ts';
import { DATASETS } from '../../core/datasets.ts';
import { canonicalJson } from '../../core/canonical-json.ts';
import { ACCESS_LEVEL, type AccessLevel, type AccessPlan, type DatasetAccess, type FieldAccess, type FieldDecision, type RowDependentAccess } from '../access-plan.ts';
import { grantIsValid } from '../grant-admission.ts';
import type { StoredGrant } from '../policy-store.ts';
import type { EmergencyClause } from './emergency-clause.ts';
import type { EmergencySession } from './emergency-session.ts';

/** A grant that carries an emergency clause. */
export type EmergencyGrant = StoredGrant & { readonly emergency: EmergencyClause };

/** The grants in force at `now` for this street and duty that allow emergency fields. */
export function emergencyGrants(grants: Iterable<StoredGrant>, street: string, duty: string, now: number): EmergencyGrant[] {
  const found: EmergencyGrant[] = [];
  for (const grant of grants) {
    if (!grant.emergency || grant.duty !== duty || !grantIsValid(grant, now)) continue;
    if (grant.streets !== 'all' && !grant.streets.includes(street)) continue;
    found.push(grant as EmergencyGrant);
  }
  return found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The field of each dataset that names the person a row is about. */
const SUBJECT_FIELD: Readonly<Record<DatasetName, string>> = {
  population: 'idNumber',
  social_security: 'idNumber',
  // A dwelling is the person's when they own it.
  housing: 'ownerIdNumber',
};

/** Rows of `dataset` about one person. */
export function subjectCondition(dataset: DatasetName, idNumber: string): Condition {
  return { field: SUBJECT_FIELD[dataset], op: 'eq', value: idNumber };
}

/** `dataset.field` names the grants' clauses add, sorted. */
export function emergencyFieldNames(grants: readonly EmergencyGrant[]): string[] {
  return [...new Set(grants.flatMap((g) => Object.keys(g.emergency.fields).map((f) => `${g.dataset}.${f}`)))].sort();
}

const LEVEL: Readonly<Record<FieldAccess, AccessLevel>> = ACCESS_LEVEL;

/**
 * The normal plan's row-dependent access with the emergency fields raised. Every row left in scope
 * is admitted by the grant whose clause raised a field (its row condition is ANDed in), so such a
 * field is at least at the clause's level on every row: its per-row levels are raised to it, and a
 * field then alike on every row leaves the per-row rules (and may leave the source on every row).
 * Fields the session did not raise keep their per-row rules exactly.
 */
function upgradePerRow(perRow: RowDependentAccess, raisedTo: ReadonlyMap<string, AccessLevel>): RowDependentAccess {
  const levels = new Map(perRow.levels);
  const shownUnder: Record<string, readonly number[]> = { ...perRow.shownUnder };
  for (const [field, floor] of raisedTo) {
    const current = levels.get(field);
    if (!current) continue;
    const raised = { base: Math.max(current.base, floor) as AccessLevel, byTag: current.byTag.map((l) => Math.max(l, floor) as AccessLevel) };
    if (raised.byTag.every((l) => l === raised.base)) levels.delete(field);
    else levels.set(field, raised);
    if (raised.base > 0) delete shownUnder[field];
  }
  return { ...perRow, levels, shownUnder };
}

/** The grant list marker an emergency read carries into its audit event's reason. */
export function emergencyGrantMarker(sessionId: string): string {
  return `emergency-session:${sessionId}`;
}

/**
 * `plan` widened by the emergency clauses of `grants` for `session`. The caller has checked that the
 * session is open, is the viewer's, and is for the plan's street and duty; a plan that refuses the
 * duty stays refused.
 */
export function widenPlan(plan: AccessPlan, session: EmergencySession, grants: readonly EmergencyGrant[]): AccessPlan {
  if (plan.refusal || plan.street !== session.street || plan.purpose !== session.duty) return plan;
  const datasets = new Map<DatasetName, DatasetAccess>(plan.datasets);
  const decisions = new Map<string, FieldDecision>(plan.decisions);
  const marker = emergencyGrantMarker(session.id);

  for (const name of Object.keys(DATASETS) as DatasetName[]) {
    const own = grants.filter((g) => g.dataset === name);
    const base = datasets.get(name);
    if (own.length === 0 && !base) continue;
    const fields = new Map<string, FieldAccess>(base?.fields ?? []);
    const conditions: Condition[] = [...(base?.scope.conditions ?? [])];
    const seen = new Set(conditions.map((c) => canonicalJson(c)));
    const addCondition = (c: Condition) => {
      const key = canonicalJson(c);
      if (!seen.has(key)) conditions.push(c), seen.add(key);
    };
    /** The level each emergency field has on every row left in scope. */
    const raisedTo = new Map<string, AccessLevel>();
    for (const grant of own) {
      // The emergency field is shown only where its grant admits the row.
      if (grant.rows) addCondition(grant.rows);
      for (const [field, access] of Object.entries(grant.emergency.fields)) {
        raisedTo.set(field, Math.max(raisedTo.get(field) ?? 0, LEVEL[access]) as AccessLevel);
        const current = fields.get(field);
        if (current && LEVEL[current] >= LEVEL[access]) continue;
        fields.set(field, access);
        decisions.set(`${name}.${field}`, {
          field: `${name}.${field}`,
          access,
          grant: grant.id,
          rule: `emergency session ${session.id} under the emergency clause of grant ${grant.id}`,
        });
      }
    }
    if (session.subjectIdNumber) addCondition(subjectCondition(name, session.subjectIdNumber));
    const perRow = base?.perRow ? upgradePerRow(base.perRow, raisedTo) : undefined;
    datasets.set(name, {
      dataset: name,
      fields,
      ...(perRow ? { perRow } : {}),
      scope: { streets: [session.street], conditions },
      // The marker goes with the datasets the session widened, once each: the audit reason lists it.
      grants: [...(base?.grants ?? []), ...own.map((g) => g.id).filter((id) => !base?.grants.includes(id)), ...(own.length > 0 ? [marker] : [])],
    });
  }
  return { ...plan, datasets, decisions, expiresAt: Math.min(plan.expiresAt, session.expiresAt.getTime()) };
}
