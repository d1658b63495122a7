/**
 * The admission review's records in the gateway store (kysely: PGlite or PostgreSQL): duty
 * delegations and their per-street answers, access requests and their decisions, and the review's
 * side of each grant (request, approver, reasons). Reads take the store; every write takes the
 * transaction it must commit in (with its audit event, `TransactionalAuditSink.appendWith`).
 *
 * Transitions are conditional updates (`where state = 'PENDING'` …): of two reviewers deciding
 * the same thing at once, exactly one changes a row; the other finds nothing to change. Every
 * change that moves what a street may read bumps `policy_version` in the same transaction.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Condition } from '../core/conditions.ts';
import type { DatasetName } from '../core/datasets.ts';
import type { FieldAccess } from './access-plan.ts';
import type { AccessRequest, AccessRequestState } from './admission/access-request.ts';
import type { DelegationStreet, DelegationStreetState, DutyDelegation } from './admission/duty-delegation.ts';
import type { DelegationWindow } from './admission/delegation-windows.ts';
import type { EmergencyClause } from './emergency/emergency-clause.ts';

function iso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}

/** jsonb comes back parsed from both drivers; a JSON text (a driver without jsonb parsing) is parsed here. */
function json<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/** The review's side of a grant. */
export interface GrantReview {
  readonly grantId: string;
  readonly requestId: string | null;
  readonly approvedBy: string | null;
  readonly approvedAt: string | null;
  readonly approvalReason: string | null;
  readonly legalBasis: string | null;
  readonly withdrawnBy: string | null;
  readonly withdrawnAt: string | null;
  readonly withdrawalReason: string | null;
}

/** What a proposal stores: the delegation's own facts, and its streets with their districts. */
export type NewDelegation = Pick<DutyDelegation, 'id' | 'duty' | 'delegatedBy' | 'legalBasis' | 'validFrom' | 'validUntil' | 'note' | 'proposedBy'> & {
  readonly streets: readonly { street: string; district: string }[];
};

/** What a request stores when it is made. */
export type NewAccessRequest = Pick<
  AccessRequest,
  'id' | 'street' | 'duty' | 'dataset' | 'fields' | 'rows' | 'reason' | 'legalBasis' | 'validUntil' | 'requestedBy'
> &
  Partial<Pick<AccessRequest, 'emergency'>>;

export interface RequestDecision {
  readonly state: 'APPROVED' | 'REJECTED';
  readonly by: string;
  readonly at: Date;
  readonly reason: string;
  readonly approvedFields?: Readonly<Record<string, FieldAccess>>;
  readonly approvedRows?: Condition | null;
  readonly approvedUntil?: string;
  readonly approvedEmergency?: EmergencyClause | null;
  readonly grantId?: string;
}

function rowToRequest(r: Record<string, unknown>): AccessRequest {
  return {
    id: r.id as string,
    street: r.street as string,
    duty: r.duty as string,
    dataset: r.dataset as DatasetName,
    fields: json(r.fields),
    rows: r.row_condition == null ? null : json<Condition>(r.row_condition),
    reason: r.reason as string,
    legalBasis: r.legal_basis as string,
    validUntil: iso(r.valid_until)!,
    requestedBy: r.requested_by as string,
    requestedAt: iso(r.requested_at)!,
    state: r.state as AccessRequestState,
    reviewedBy: (r.reviewed_by as string | null) ?? null,
    reviewedAt: iso(r.reviewed_at),
    decisionReason: (r.decision_reason as string | null) ?? null,
    approvedFields: r.approved_fields == null ? null : json(r.approved_fields),
    approvedRows: r.approved_rows == null ? null : json<Condition>(r.approved_rows),
    approvedUntil: iso(r.approved_until),
    grantId: (r.grant_id as string | null) ?? null,
    emergency: r.emergency == null ? null : json<EmergencyClause>(r.emergency),
    approvedEmergency: r.approved_emergency == null ? null : json<EmergencyClause>(r.approved_emergency),
    cancelledBy: (r.cancelled_by as string | null) ?? null,
    cancelledAt: iso(r.cancelled_at),
    cancelReason: (r.cancel_reason as string | null) ?? null,
  };
}

function rowToStreet(r: Record<string, unknown>): DelegationStreet {
  return {
    street: r.street as string,
    district: r.district as string,
    state: r.state as DelegationStreetState,
    reviewedBy: (r.reviewed_by as string | null) ?? null,
    reviewedAt: iso(r.reviewed_at),
    reason: (r.reason as string | null) ?? null,
  };
}

function rowToDelegation(r: Record<string, unknown>, streets: DelegationStreet[]): DutyDelegation {
  return {
    id: r.id as string,
    duty: r.duty as string,
    delegatedBy: r.delegated_by as string,
    legalBasis: r.legal_basis as string,
    validFrom: iso(r.valid_from),
    validUntil: iso(r.valid_until)!,
    note: (r.note as string | null) ?? null,
    proposedBy: r.proposed_by as string,
    proposedAt: iso(r.proposed_at)!,
    withdrawnBy: (r.withdrawn_by as string | null) ?? null,
    withdrawnAt: iso(r.withdrawn_at),
    withdrawalReason: (r.withdrawal_reason as string | null) ?? null,
    streets,
  };
}

function rowToReview(r: Record<string, unknown>): GrantReview {
  return {
    grantId: r.grant_id as string,
    requestId: (r.request_id as string | null) ?? null,
    approvedBy: (r.approved_by as string | null) ?? null,
    approvedAt: iso(r.approved_at),
    approvalReason: (r.approval_reason as string | null) ?? null,
    legalBasis: (r.legal_basis as string | null) ?? null,
    withdrawnBy: (r.withdrawn_by as string | null) ?? null,
    withdrawnAt: iso(r.withdrawn_at),
    withdrawalReason: (r.withdrawal_reason as string | null) ?? null,
  };
}

export class AdmissionStore {
  constructor(private readonly db: Kysely<any>) {}

  // -- duty delegations ------------------------------------------------------------------------

  /** One delegation with its streets; `lock` (inside a transaction) holds its row until commit. */
  async delegation(id: string, trx?: Transaction<any>, lock = false): Promise<DutyDelegation | undefined> {
    const db = trx ?? this.db;
    let query = db.selectFrom('duty_delegation').selectAll().where('id', '=', id);
    if (lock) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    if (!row) return undefined;
    const streets = await db.selectFrom('duty_delegation_street').selectAll().where('delegation_id', '=', id).orderBy('street').execute();
    return rowToDelegation(row, streets.map(rowToStreet));
  }

  /** Delegations, newest first, narrowed in SQL by duty, delegating department and street. */
  async delegations(filter: { duty?: string; delegatedBy?: string; street?: string; district?: string } = {}): Promise<DutyDelegation[]> {
    let query = this.db.selectFrom('duty_delegation').selectAll().orderBy('proposed_at', 'desc').orderBy('id');
    if (filter.duty) query = query.where('duty', '=', filter.duty);
    if (filter.delegatedBy) query = query.where('delegated_by', '=', filter.delegatedBy);
    for (const [column, value] of [['street', filter.street], ['district', filter.district]] as const) {
      if (!value) continue;
      query = query.where('id', 'in', this.db.selectFrom('duty_delegation_street').select('delegation_id').where(column, '=', value));
    }
    const rows = await query.execute();
    if (rows.length === 0) return [];
    const streets = await this.db
      .selectFrom('duty_delegation_street')
      .selectAll()
      .where('delegation_id', 'in', rows.map((r) => r.id as string))
      .orderBy('street')
      .execute();
    const byDelegation = new Map<string, DelegationStreet[]>();
    for (const s of streets) {
      const list = byDelegation.get(s.delegation_id as string) ?? [];
      list.push(rowToStreet(s));
      byDelegation.set(s.delegation_id as string, list);
    }
    return rows.map((r) => rowToDelegation(r, byDelegation.get(r.id as string) ?? []));
  }

  /** Admitted, unwithdrawn, unexpired street delegations: what the authorizer puts in force. */
  async delegationWindows(): Promise<DelegationWindow[]> {
    const rows = await this.db
      .selectFrom('duty_delegation as d')
      .innerJoin('duty_delegation_street as s', 's.delegation_id', 'd.id')
      .select(['d.id', 'd.duty', 's.street', 'd.valid_from', 'd.valid_until'])
      .where('d.withdrawn_at', 'is', null)
      .where('s.state', '=', 'ADMITTED')
      .where('d.valid_until', '>', new Date())
      .execute();
    return rows.map((r) => ({
      delegation: r.id as string,
      duty: r.duty as string,
      street: r.street as string,
      from: r.valid_from == null ? null : Date.parse(iso(r.valid_from)!),
      until: Date.parse(iso(r.valid_until)!),
    }));
  }

  async insertDelegation(trx: Transaction<any>, d: NewDelegation, at: Date): Promise<DutyDelegation> {
    await trx
      .insertInto('duty_delegation')
      .values({
        id: d.id,
        duty: d.duty,
        delegated_by: d.delegatedBy,
        legal_basis: d.legalBasis,
        valid_from: d.validFrom,
        valid_until: d.validUntil,
        note: d.note,
        proposed_by: d.proposedBy,
        proposed_at: at,
      })
      .execute();
    await trx
      .insertInto('duty_delegation_street')
      .values(d.streets.map((s) => ({ delegation_id: d.id, street: s.street, district: s.district, state: 'PROPOSED' })))
      .execute();
    return (await this.delegation(d.id, trx))!;
  }

  /**
   * Answers the still-PROPOSED `streets` of a delegation. @returns how many rows changed (fewer
   * than asked: another review got there first, and the caller must roll back).
   */
  async answerStreets(
    trx: Transaction<any>,
    id: string,
    streets: readonly string[],
    answer: { state: 'ADMITTED' | 'REJECTED'; by: string; at: Date; reason: string },
  ): Promise<number> {
    if (streets.length === 0) return 0;
    const result = await trx
      .updateTable('duty_delegation_street')
      .set({ state: answer.state, reviewed_by: answer.by, reviewed_at: answer.at, reason: answer.reason })
      .where('delegation_id', '=', id)
      .where('street', 'in', [...streets])
      .where('state', '=', 'PROPOSED')
      .returning('street')
      .execute();
    if (answer.state === 'ADMITTED') await this.bumpPolicyVersion(trx);
    // Counted from `returning`: not every driver reports affected rows.
    return result.length;
  }

  /** @returns false when it was already withdrawn. */
  async withdrawDelegation(trx: Transaction<any>, id: string, by: string, at: Date, reason: string): Promise<boolean> {
    const result = await trx
      .updateTable('duty_delegation')
      .set({ withdrawn_by: by, withdrawn_at: at, withdrawal_reason: reason })
      .where('id', '=', id)
      .where('withdrawn_at', 'is', null)
      .returning('id')
      .execute();
    await this.bumpPolicyVersion(trx);
    return result.length === 1;
  }

  // -- access requests -------------------------------------------------------------------------

  async request(id: string, trx?: Transaction<any>): Promise<AccessRequest | undefined> {
    const row = await (trx ?? this.db).selectFrom('access_request').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? rowToRequest(row) : undefined;
  }

  /** Requests, newest first, narrowed in SQL. */
  async requests(filter: { state?: AccessRequestState; dataset?: string; datasets?: readonly string[]; street?: string } = {}): Promise<AccessRequest[]> {
    let query = this.db.selectFrom('access_request').selectAll().orderBy('requested_at', 'desc').orderBy('id');
    if (filter.state) query = query.where('state', '=', filter.state);
    if (filter.dataset) query = query.where('dataset', '=', filter.dataset);
    if (filter.datasets) {
      if (filter.datasets.length === 0) return [];
      query = query.where('dataset', 'in', [...filter.datasets]);
    }
    if (filter.street) query = query.where('street', '=', filter.street);
    return (await query.execute()).map(rowToRequest);
  }

  async insertRequest(trx: Transaction<any>, r: NewAccessRequest, at: Date): Promise<AccessRequest> {
    await trx
      .insertInto('access_request')
      .values({
        id: r.id,
        street: r.street,
        duty: r.duty,
        dataset: r.dataset,
        fields: JSON.stringify(r.fields),
        row_condition: r.rows === null ? null : JSON.stringify(r.rows),
        reason: r.reason,
        legal_basis: r.legalBasis,
        valid_until: r.validUntil,
        requested_by: r.requestedBy,
        requested_at: at,
        emergency: r.emergency ? JSON.stringify(r.emergency) : null,
      })
      .execute();
    return (await this.request(r.id, trx))!;
  }

  /** Decides a PENDING request. @returns the decided request, or undefined when it was no longer pending. */
  async decideRequest(trx: Transaction<any>, id: string, d: RequestDecision): Promise<AccessRequest | undefined> {
    const row = await trx
      .updateTable('access_request')
      .set({
        state: d.state,
        reviewed_by: d.by,
        reviewed_at: d.at,
        decision_reason: d.reason,
        approved_fields: d.approvedFields ? JSON.stringify(d.approvedFields) : null,
        approved_rows: d.approvedRows ? JSON.stringify(d.approvedRows) : null,
        approved_until: d.approvedUntil ?? null,
        approved_emergency: d.approvedEmergency ? JSON.stringify(d.approvedEmergency) : null,
        grant_id: d.grantId ?? null,
      })
      .where('id', '=', id)
      .where('state', '=', 'PENDING')
      .returningAll()
      .executeTakeFirst();
    return row ? rowToRequest(row) : undefined;
  }

  /** Cancels a PENDING request. @returns undefined when it was no longer pending. */
  async cancelRequest(trx: Transaction<any>, id: string, by: string, at: Date, reason: string): Promise<AccessRequest | undefined> {
    const row = await trx
      .updateTable('access_request')
      .set({ state: 'CANCELLED', cancelled_by: by, cancelled_at: at, cancel_reason: reason })
      .where('id', '=', id)
      .where('state', '=', 'PENDING')
      .returningAll()
      .executeTakeFirst();
    return row ? rowToRequest(row) : undefined;
  }

  // -- the review's side of grants -------------------------------------------------------------

  async grantReviews(ids: readonly string[]): Promise<Map<string, GrantReview>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.selectFrom('grant_review').selectAll().where('grant_id', 'in', [...ids]).execute();
    return new Map(rows.map((r) => [r.grant_id as string, rowToReview(r)]));
  }

  async recordApproval(
    trx: Transaction<any>,
    review: { grantId: string; requestId: string; by: string; at: Date; reason: string; legalBasis: string },
  ): Promise<void> {
    await trx
      .insertInto('grant_review')
      .values({
        grant_id: review.grantId,
        request_id: review.requestId,
        approved_by: review.by,
        approved_at: review.at,
        approval_reason: review.reason,
        legal_basis: review.legalBasis,
      })
      .execute();
  }

  async recordWithdrawal(trx: Transaction<any>, grantId: string, by: string, at: Date, reason: string): Promise<void> {
    const values = { withdrawn_by: by, withdrawn_at: at, withdrawal_reason: reason };
    await trx
      .insertInto('grant_review')
      .values({ grant_id: grantId, ...values })
      .onConflict((oc) => oc.column('grant_id').doUpdateSet(values))
      .execute();
  }

  /** Every instance compares this version to know its plans are stale (see the policy store). */
  async bumpPolicyVersion(trx: Transaction<any>): Promise<void> {
    await trx.updateTable('policy_version').set({ version: sql`version + 1`, changed_at: sql`now()` }).where('id', '=', 1).execute();
  }
}
