/**
 * What a duty and a grant are, as the policy files, the admin API and the store all hold them.
 * Their checks live in `grant-admission.ts`; the files' parser in `policy-files/`.
 */
import type { Condition } from '../core/conditions.ts';
import type { DatasetName } from '../core/datasets.ts';
import type { FieldAccess } from './access-plan.ts';
import type { EmergencyClause } from './emergency/emergency-clause.ts';
import type { DutyDisclosure } from './duty-disclosure.ts';

/**
 * A grant's access to a field: the plan's levels, and `aggregate` (below `masked`): the field may
 * only be grouped and filtered on in `statistics` (policies/statistics/), never read, listed,
 * sorted or looked up by. The ordinary plan never holds it.
 */
export type GrantFieldAccess = FieldAccess | 'aggregate';

export interface DutyDef extends DutyDisclosure {
  /** A duty id (`DUTY_ID` in core/identity.ts): what `X-Purpose` names. */
  id: string;
  title: string;
  /** The department that delegated the duty to streets, e.g. `dept:civil-affairs`. */
  delegatedBy: string;
  /** The streets (9-digit codes) the duty is delegated to. */
  streets: 'all' | string[];
}

export interface GrantDef {
  /** Unique across all grants, `[a-z0-9-]` (`GRANT_ID`). */
  id: string;
  /** The department granting; must own `dataset`. */
  owner: string;
  dataset: DatasetName;
  /** The duty (purpose) the grant serves. */
  duty: string;
  /** The streets holding the grant; each sees only the rows of its own street. */
  streets: 'all' | string[];
  fields: Record<string, GrantFieldAccess>;
  /** Row condition on the dataset's own fields, ANDed with the street scope. */
  rows: Condition | null;
  /**
   * Start of validity. As written: an ISO date (a calendar day in city time, UTC+8) or date-time
   * (zone-less = city time). Once admitted (`admitGrant`), an instant in ISO UTC form.
   */
  validFrom: string | null;
  /**
   * End of validity, exclusive. As written: an ISO date (inclusive: in force through that whole
   * day in city time) or date-time (zone-less = city time). Once admitted, an instant (ISO UTC).
   */
  validUntil: string | null;
  /** Emergency fields and the longest session (`emergency/emergency-clause.ts`); absent: none. */
  emergency?: EmergencyClause | null;
}

export interface PolicySet {
  duties: DutyDef[];
  grants: GrantDef[];
}
