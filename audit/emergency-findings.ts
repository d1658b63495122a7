/**
 * Emergency access as an anomaly: every emergency session started in [from, to) is a finding the
 * moment its START event is in the trail (no threshold: break-glass is always worth a look), with
 * the START event and the reads made under the session behind it.
 *
 * Read from the trail itself, not from the session table, so the finding is as trustworthy as the
 * chain. {@link withEmergencyFindings} adds them to a reader's other anomalies.
 */
import { sql, type Kysely } from 'kysely';
import { recordFromRow } from './audit-rows.ts';
import type { AnomalyOptions, AuditFinding } from './audit-anomalies.ts';
import type { AuditReader } from './audit-reader.ts';
import { EMERGENCY_START_ACTION } from './emergency-read.ts';


export async function emergencyFindings(db: Kysely<any>, from: Date, to: Date, options: Pick<AnomalyOptions, 'eventsPerFinding' | 'maxFindingsPerKind'>): Promise<AuditFinding[]> {
  const { rows } = await sql<Record<string, unknown>>`
    select * from audit_event
     where "time" >= ${from.toISOString()}::timestamptz and "time" < ${to.toISOString()}::timestamptz
       and change->>'action' = ${EMERGENCY_START_ACTION}
     order by "time" desc, chain_id, seq limit ${options.maxFindingsPerKind}`.execute(db);
  return Promise.all(
    rows.map(async (row) => {
      const start = recordFromRow(row);
      const change = (start.change ?? {}) as Record<string, unknown>;
      const session = String(change.session ?? '');
      const expiresAt = new Date(String(change.expiresAt ?? start.time.toISOString()));
      const until = Number.isNaN(expiresAt.getTime()) ? start.time : expiresAt;
      const underIt = sql`"time" >= ${start.time.toISOString()}::timestamptz and "time" <= ${until.toISOString()}::timestamptz
        and change->'emergency'->>'session' = ${session}`;
      const count = await sql<{ n: string }>`select count(*)::bigint as n from audit_event where ${underIt}`.execute(db);
      const reads = Number(count.rows[0]?.n ?? 0);
      const { rows: readRows } = await sql<Record<string, unknown>>`
        select * from audit_event where ${underIt} order by "time", chain_id, seq limit ${Math.max(0, options.eventsPerFinding - 1)}`.execute(db);
      return {
        kind: 'emergency-access' as const,
        actorSub: start.actorSub,
        actorOrg: start.actorOrg,
        message:
          `${start.actorSub ?? 'someone'} (${start.actorOrg ?? 'no organisation'}) started emergency access for duty "${start.purpose ?? '?'}"` +
          ` (case ${String(change.caseRef ?? '?')}) until ${until.toISOString()}; ${reads} operation${reads === 1 ? '' : 's'} under it so far`,
        from: start.time,
        to: until,
        metric: reads,
        threshold: 0,
        eventCount: 1 + reads,
        events: [start, ...readRows.map(recordFromRow)],
      };
    }),
  );
}

/** What was done under one emergency session, from the trail: for its reviewers. */
export interface EmergencyActivity {
  /** Operations sent with the session's id in X-Emergency. */
  readonly operations: number;
  readonly allowed: number;
  readonly refused: number;
  /** Rows returned, and persons whose data was returned (counted per operation), by the allowed ones. */
  readonly rows: number;
  readonly persons: number;
  /** `dataset.field` read by the allowed operations. */
  readonly fields: readonly string[];
}

/** The operations recorded under `session` between `from` and `to` (its start and its stop). */
export async function emergencyActivity(db: Kysely<any>, session: string, from: Date, to: Date): Promise<EmergencyActivity> {
  const { rows } = await sql<Record<string, unknown>>`
    select count(*)::bigint as operations,
           count(*) filter (where decision = 'allow')::bigint as allowed,
           coalesce(sum("rows") filter (where decision = 'allow'), 0)::bigint as row_count,
           coalesce(sum(cardinality(subject_hashes)) filter (where decision = 'allow'), 0)::bigint as persons,
           coalesce((select array_agg(distinct f order by f) from audit_event e2, unnest(e2.fields) f
                      where e2."time" >= ${from.toISOString()}::timestamptz and e2."time" <= ${to.toISOString()}::timestamptz
                        and e2.change->'emergency'->>'session' = ${session} and e2.decision = 'allow'), '{}') as fields
      from audit_event
     where "time" >= ${from.toISOString()}::timestamptz and "time" <= ${to.toISOString()}::timestamptz
       and change->'emergency'->>'session' = ${session}`.execute(db);
  const r = rows[0] ?? {};
  const operations = Number(r.operations ?? 0);
  const allowed = Number(r.allowed ?? 0);
  return {
    operations,
    allowed,
    refused: operations - allowed,
    rows: Number(r.row_count ?? 0),
    persons: Number(r.persons ?? 0),
    fields: (r.fields as string[] | null) ?? [],
  };
}

/** `reader`'s search and reports as they are, its anomalies with the emergency findings added. */
export function withEmergencyFindings(reader: AuditReader, db: Kysely<any>): Pick<AuditReader, 'searchEvents' | 'subjectAccessReport' | 'anomalies'> {
  return {
    searchEvents: (...args) => reader.searchEvents(...args),
    subjectAccessReport: (...args) => reader.subjectAccessReport(...args),
    anomalies: async (from, to, options = {}) => {
      const o = { ...reader.anomalyOptions, ...options };
      const [others, emergencies] = await Promise.all([reader.anomalies(from, to, options), emergencyFindings(db, from, to, o)]);
      return [...emergencies, ...others];
    },
  };
}
