/**
 * An access request (CONTRACT.md § Admission review, step 2): a street asks, for a duty in force
 * there, for fields of one dataset (each full or masked), optionally a row condition, with a
 * reason, a legal basis and an end date. The data owner approves it as asked or narrower, or
 * rejects it; approval creates an ordinary grant ({@link requestGrant}).
 */
import type { Condition } from '../../core/conditions.ts';
import { DATASETS, type DatasetName } from '../../core/datasets.ts';
import type { FieldAccess } from '../access-plan.ts';
import type { GrantDef } from '../policy-definitions.ts';
import { isAtLeastAsStrict } from './condition-strictness.ts';
import type { EmergencyClause } from '../emergency/emergency-clause.ts';

export type AccessRequestState = 'PENDING' | 'APPROVED' | 'REJECTED' | 'CANCELLED';

export interface AccessRequest {
  readonly id: string;
  /** 9-digit street code. */
  readonly street: string;
  readonly duty: string;
  readonly dataset: DatasetName;
  readonly fields: Readonly<Record<string, FieldAccess>>;
  readonly rows: Condition | null;
  readonly reason: string;
  readonly legalBasis: string;
  readonly validUntil: string;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly state: AccessRequestState;
  readonly reviewedBy: string | null;
  readonly reviewedAt: string | null;
  readonly decisionReason: string | null;
  readonly approvedFields: Readonly<Record<string, FieldAccess>> | null;
  readonly approvedRows: Condition | null;
  readonly approvedUntil: string | null;
  readonly grantId: string | null;
  /** The emergency clause asked for (fields readable only under an emergency session), or none. */
  readonly emergency: EmergencyClause | null;
  /** The emergency clause approved: as asked, narrower, or none. */
  readonly approvedEmergency: EmergencyClause | null;
  readonly cancelledBy: string | null;
  readonly cancelledAt: string | null;
  readonly cancelReason: string | null;
}

/** What a data owner approves: the request's terms, or narrower ones. */
export interface Approval {
  readonly fields: Readonly<Record<string, FieldAccess>>;
  readonly rows: Condition | null;
  /** ISO instant (epoch ms in `untilMs`). */
  readonly validUntil: string;
  readonly untilMs: number;
  /** The emergency clause granted, or none (a request that asked for none gets none). */
  readonly emergency?: EmergencyClause | null;
}

const LEVEL: Readonly<Record<FieldAccess, number>> = { masked: 1, full: 2 };

/**
 * Why `approval` is wider than what `request` asked (more fields, full for masked, a later end,
 * a row condition not provably at least as strict); empty when it is within it.
 */
export function widerThanAsked(request: Pick<AccessRequest, 'dataset' | 'fields' | 'rows' | 'validUntil' | 'emergency'>, approval: Approval): string[] {
  const problems: string[] = [];
  for (const [field, access] of Object.entries(approval.fields)) {
    const asked = request.fields[field];
    if (!asked) problems.push(`${field} was not asked for`);
    else if (LEVEL[access] > LEVEL[asked]) problems.push(`${field} was asked ${asked}, not ${access}`);
  }
  if (approval.untilMs > Date.parse(request.validUntil)) problems.push(`the end ${approval.validUntil} is later than the one asked (${request.validUntil})`);
  if (!isAtLeastAsStrict(DATASETS[request.dataset], approval.rows, request.rows)) {
    problems.push(
      'the row condition cannot be shown to be at least as strict as the one asked: keep the asked condition and AND more to it ({"all": [asked, …]}), or tighten a bound of it',
    );
  }
  problems.push(...emergencyWiderThanAsked(request.emergency, approval.emergency ?? null));
  return problems;
}

/**
 * Why an approved emergency clause is wider than the one asked: a clause where none was asked, an
 * emergency field not asked, full for masked, a longer session. Dropping the clause, leaving fields
 * out, masked for full and fewer minutes are all narrower.
 */
export function emergencyWiderThanAsked(asked: EmergencyClause | null, approved: EmergencyClause | null): string[] {
  if (!approved) return [];
  if (!asked) return ['an emergency clause was not asked for'];
  const problems: string[] = [];
  for (const [field, access] of Object.entries(approved.fields)) {
    const wanted = asked.fields[field];
    if (!wanted) problems.push(`emergency field ${field} was not asked for`);
    else if (LEVEL[access] > LEVEL[wanted]) problems.push(`emergency field ${field} was asked ${wanted}, not ${access}`);
  }
  if (approved.maxMinutes > asked.maxMinutes) problems.push(`emergency sessions of ${approved.maxMinutes} minutes are longer than the ${asked.maxMinutes} asked`);
  return problems;
}

/** The grant an approval creates: the request's street and duty, the approved terms, ending at the approved end. */
export function requestGrant(request: AccessRequest, approval: Approval, grantId: string): GrantDef {
  return {
    id: grantId,
    owner: DATASETS[request.dataset].owner,
    dataset: request.dataset,
    duty: request.duty,
    streets: [request.street],
    fields: { ...approval.fields },
    rows: approval.rows,
    validFrom: null,
    validUntil: approval.validUntil,
    emergency: approval.emergency ? { fields: { ...approval.emergency.fields }, maxMinutes: approval.emergency.maxMinutes } : null,
  };
}
