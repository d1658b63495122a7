/**
 * The subject access report: who read this person's data, when, for which purpose, found through
 * the subject-hash index (the trail holds keyed hashes of idNumbers, never the idNumbers).
 */
import { sql, type Kysely } from 'kysely';
import { GatewayError } from '../core/errors.ts';
import { toDate } from './audit-rows.ts';
import { fieldsForSubject } from './audit-event.ts';
import { EMERGENCY_START_ACTION } from './emergency-read.ts';

export interface SubjectAccess {
  readonly time: Date;
  readonly actorSub: string | null;
  readonly actorOrg: string | null;
  readonly purpose: string | null;
  readonly operationType: string;
  readonly operationName: string | null;
  readonly decision: string;
  readonly fields: readonly string[];
  readonly chainId: string;
  readonly seq: number;
}

export interface SubjectAccessReport {
  readonly idNumber: string;
  readonly totalAccesses: number;
  /** Newest first, at most `maxReportAccesses`. */
  readonly accesses: readonly SubjectAccess[];
  readonly truncated: boolean;
}

/** The report of the person with `idNumber`, newest access first, at most `maxAccesses` listed. */
export async function subjectAccessReport(
  db: Kysely<any>,
  hashSubject: (idNumber: string) => string,
  idNumber: string,
  maxAccesses: number,
): Promise<SubjectAccessReport> {
  const id = idNumber.trim();
  if (id.length === 0 || id.length > 64) {
    throw new GatewayError('BAD_USER_INPUT', 'idNumber must be a resident ID number', { details: { argument: 'idNumber' } });
  }
  const hash = hashSubject(id);
  const matches = sql`subject_hashes @> array[${hash}]::text[]`;
  // One probe of the subject index for the list and the total: the count is a window over the
  // same matching rows (two queries read every one of a much-read person's events twice).
  const list = await sql<Record<string, unknown>>`
    select "time", actor_sub, actor_org, purpose, operation_type, operation_name, decision, fields,
           change -> 'subjectFields' as subject_fields, array_position(subject_hashes, ${hash}::text) as subject_position,
           coalesce(change ->> 'action' = ${EMERGENCY_START_ACTION}, false) as session_start, chain_id, seq,
           count(*) over () as total
      from audit_event where ${matches}
     order by "time" desc, chain_id desc, seq desc limit ${maxAccesses}`.execute(db);
  const accesses = list.rows.map((r) => ({
    time: toDate(r.time),
    actorSub: (r.actor_sub as string | null) ?? null,
    actorOrg: (r.actor_org as string | null) ?? null,
    purpose: (r.purpose as string | null) ?? null,
    operationType: String(r.operation_type),
    operationName: (r.operation_name as string | null) ?? null,
    decision: String(r.decision),
    // What the operation read for this person, not for the others it read; opening an emergency
    // session about them reads nothing (its fields are the session's, listed with the session).
    fields: r.session_start === true ? [] : fieldsForSubject((r.fields as string[] | null) ?? [], { subjectFields: r.subject_fields }, r.subject_position == null ? null : Number(r.subject_position)),
    chainId: String(r.chain_id),
    seq: Number(r.seq),
  }));
  const totalAccesses = list.rows.length > 0 ? Number(list.rows[0]!.total) : 0;
  return { idNumber: id, totalAccesses, accesses, truncated: totalAccesses > accesses.length };
}

