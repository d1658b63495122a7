/**
 * Anomaly findings over a period of the trail: volume outliers against an actor's own baseline,
 * night access, FORBIDDEN bursts and single operations returning many persons, each with (a
 * bounded number of) the events behind it. Every query is bounded by `maxFindingsPerKind` and
 * `eventsPerFinding`.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { GatewayError } from '../core/errors.ts';
import { recordFromRow, type AuditRecord } from './audit-rows.ts';

export type AuditFindingKind = 'volume-outlier' | 'night-access' | 'forbidden-burst' | 'large-operation' | 'emergency-access';

export interface AuditFinding {
  readonly kind: AuditFindingKind;
  readonly actorSub: string | null;
  readonly actorOrg: string | null;
  readonly message: string;
  /** The period the finding covers. */
  readonly from: Date;
  readonly to: Date;
  /** What was measured (persons, events ...) and the threshold it crossed. */
  readonly metric: number;
  readonly threshold: number;
  /** Events behind the finding; `events` holds at most `eventsPerFinding` of them. */
  readonly eventCount: number;
  readonly events: readonly AuditRecord[];
}

export interface AnomalyOptions {
  /** Zone for "night" and "day". Default Asia/Shanghai. */
  readonly timeZone: string;
  /** Night is [nightStartHour, nightEndHour) local time, wrapping midnight. Default 22 and 6. */
  readonly nightStartHour: number;
  readonly nightEndHour: number;
  /** This many FORBIDDEN denials for one actor within `forbiddenBurstWindowMs` is a burst. Default 10 in 5 min. */
  readonly forbiddenBurstCount: number;
  readonly forbiddenBurstWindowMs: number;
  /** One operation returning more persons than this is reported. Default 500. */
  readonly maxPersonsPerOperation: number;
  /** A day's persons read above `volumeFactor` × the actor's daily average over `baselineDays`... Default 5. */
  readonly volumeFactor: number;
  /** ... and at least this many persons. Default 100. */
  readonly volumeMinPersons: number;
  /** Days before `from` that make an actor's usual volume. Default 28. */
  readonly baselineDays: number;
  readonly eventsPerFinding: number;
  readonly maxFindingsPerKind: number;
}

export const defaultAnomalyOptions: AnomalyOptions = {
  timeZone: 'Asia/Shanghai',
  nightStartHour: 22,
  nightEndHour: 6,
  forbiddenBurstCount: 10,
  forbiddenBurstWindowMs: 5 * 60_000,
  maxPersonsPerOperation: 500,
  volumeFactor: 5,
  volumeMinPersons: 100,
  baselineDays: 28,
  eventsPerFinding: 50,
  maxFindingsPerKind: 200,
};

/**
 * Findings in [from, to): volume outliers, night access, FORBIDDEN bursts and large operations,
 * each with the events behind it.
 */
export async function findAnomalies(db: Kysely<any>, from: Date, to: Date, o: AnomalyOptions): Promise<AuditFinding[]> {
  if (!(from.getTime() < to.getTime())) throw new GatewayError('BAD_USER_INPUT', 'from must be before to', { details: { argument: 'from' } });
  const findings = await Promise.all([
    volumeOutliers(db, from, to, o),
    nightAccess(db, from, to, o),
    forbiddenBursts(db, from, to, o),
    largeOperations(db, from, to, o),
  ]);
  return findings.flat();
}

async function events(db: Kysely<any>, where: RawBuilder<unknown>, order: RawBuilder<unknown>, limit: number): Promise<AuditRecord[]> {
  const { rows } = await sql<Record<string, unknown>>`select * from audit_event where ${where} order by ${order} limit ${limit}`.execute(db);
  return rows.map(recordFromRow);
}

async function volumeOutliers(db: Kysely<any>, from: Date, to: Date, o: AnomalyOptions): Promise<AuditFinding[]> {
  const tz = o.timeZone;
  const baselineFrom = new Date(from.getTime() - o.baselineDays * 86_400_000);
  const { rows } = await sql<Record<string, unknown>>`
    with day as (
      select actor_sub, max(actor_org) as actor_org, ("time" at time zone ${tz})::date as d,
             sum(cardinality(subject_hashes))::bigint as persons, count(*)::bigint as n
        from audit_event
       where "time" >= ${from.toISOString()}::timestamptz and "time" < ${to.toISOString()}::timestamptz
         and actor_sub is not null and decision = 'allow'
       group by actor_sub, d
    ), base as (
      select actor_sub, sum(cardinality(subject_hashes))::float8 / ${o.baselineDays} as avg
        from audit_event
       where "time" >= ${baselineFrom.toISOString()}::timestamptz and "time" < ${from.toISOString()}::timestamptz
         and actor_sub is not null and decision = 'allow'
         and actor_sub in (select actor_sub from day)
       group by actor_sub
    )
    select day.actor_sub, day.actor_org, day.persons, day.n, coalesce(base.avg, 0) as baseline,
           to_char(day.d, 'YYYY-MM-DD') as day,
           greatest((day.d::timestamp at time zone ${tz}), ${from.toISOString()}::timestamptz) as day_start,
           least(((day.d + 1)::timestamp at time zone ${tz}), ${to.toISOString()}::timestamptz) as day_end
      from day left join base on base.actor_sub = day.actor_sub
     where day.persons >= ${o.volumeMinPersons} and day.persons > ${o.volumeFactor} * coalesce(base.avg, 0)
     order by day.persons desc limit ${o.maxFindingsPerKind}`.execute(db);
  return Promise.all(
    rows.map(async (r) => {
      const persons = Number(r.persons);
      const baseline = Number(r.baseline);
      const start = r.day_start as Date;
      const end = r.day_end as Date;
      const where = sql`actor_sub = ${r.actor_sub} and "time" >= ${start.toISOString()}::timestamptz and "time" < ${end.toISOString()}::timestamptz
        and decision = 'allow' and cardinality(subject_hashes) > 0`;
      return {
        kind: 'volume-outlier' as const,
        actorSub: r.actor_sub as string,
        actorOrg: (r.actor_org as string | null) ?? null,
        message:
          `${r.actor_sub} read ${persons} persons on ${r.day} (${tz}), ` +
          (baseline > 0 ? `${(persons / baseline).toFixed(1)}× their usual ${baseline.toFixed(1)} a day` : `with no reads in the ${o.baselineDays} days before`),
        from: start,
        to: end,
        metric: persons,
        threshold: Math.max(o.volumeMinPersons, o.volumeFactor * baseline),
        eventCount: Number(r.n),
        events: await events(db, where, sql`cardinality(subject_hashes) desc, "time"`, o.eventsPerFinding),
      };
    }),
  );
}

async function nightAccess(db: Kysely<any>, from: Date, to: Date, o: AnomalyOptions): Promise<AuditFinding[]> {
  const hour = sql`extract(hour from ("time" at time zone ${o.timeZone}))`;
  const night =
    o.nightStartHour > o.nightEndHour
      ? sql`(${hour} >= ${o.nightStartHour} or ${hour} < ${o.nightEndHour})`
      : sql`(${hour} >= ${o.nightStartHour} and ${hour} < ${o.nightEndHour})`;
  const range = sql`"time" >= ${from.toISOString()}::timestamptz and "time" < ${to.toISOString()}::timestamptz`;
  const { rows } = await sql<Record<string, unknown>>`
    select actor_sub, max(actor_org) as actor_org, count(*)::bigint as n, min("time") as first, max("time") as last
      from audit_event where ${range} and actor_sub is not null and ${night}
     group by actor_sub order by n desc limit ${o.maxFindingsPerKind}`.execute(db);
  const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;
  return Promise.all(
    rows.map(async (r) => ({
      kind: 'night-access' as const,
      actorSub: r.actor_sub as string,
      actorOrg: (r.actor_org as string | null) ?? null,
      message: `${r.actor_sub} made ${Number(r.n)} requests between ${hh(o.nightStartHour)} and ${hh(o.nightEndHour)} (${o.timeZone})`,
      from: r.first as Date,
      to: r.last as Date,
      metric: Number(r.n),
      threshold: 0,
      eventCount: Number(r.n),
      events: await events(db, sql`actor_sub = ${r.actor_sub} and ${range} and ${night}`, sql`"time", chain_id, seq`, o.eventsPerFinding),
    })),
  );
}

async function forbiddenBursts(db: Kysely<any>, from: Date, to: Date, o: AnomalyOptions): Promise<AuditFinding[]> {
  const forbidden = sql`decision = 'deny' and position('FORBIDDEN' in coalesce(reason, '')) > 0 and actor_sub is not null`;
  const { rows } = await sql<Record<string, unknown>>`
    with d as (
      select actor_sub, actor_org, "time",
             count(*) over (partition by actor_sub order by "time"
                            range between (${o.forbiddenBurstWindowMs}::float8 * interval '1 millisecond') preceding and current row) as n
        from audit_event
       where "time" >= ${from.toISOString()}::timestamptz and "time" < ${to.toISOString()}::timestamptz and ${forbidden}
    ), peak as (
      select distinct on (actor_sub) actor_sub, actor_org, n, "time" as peak_end
        from d where n >= ${o.forbiddenBurstCount}
       order by actor_sub, n desc, "time"
    )
    select * from peak order by n desc limit ${o.maxFindingsPerKind}`.execute(db);
  return Promise.all(
    rows.map(async (r) => {
      const end = r.peak_end as Date;
      const start = new Date(end.getTime() - o.forbiddenBurstWindowMs);
      const where = sql`actor_sub = ${r.actor_sub} and ${forbidden}
        and "time" >= ${start.toISOString()}::timestamptz and "time" <= ${end.toISOString()}::timestamptz`;
      const n = Number(r.n);
      return {
        kind: 'forbidden-burst' as const,
        actorSub: r.actor_sub as string,
        actorOrg: (r.actor_org as string | null) ?? null,
        message: `${r.actor_sub} was refused (FORBIDDEN) ${n} times within ${Math.round(o.forbiddenBurstWindowMs / 60_000)} min`,
        from: start,
        to: end,
        metric: n,
        threshold: o.forbiddenBurstCount,
        eventCount: n,
        events: await events(db, where, sql`"time", chain_id, seq`, o.eventsPerFinding),
      };
    }),
  );
}

async function largeOperations(db: Kysely<any>, from: Date, to: Date, o: AnomalyOptions): Promise<AuditFinding[]> {
  const { rows } = await sql<Record<string, unknown>>`
    select * from audit_event
     where "time" >= ${from.toISOString()}::timestamptz and "time" < ${to.toISOString()}::timestamptz
       and cardinality(subject_hashes) > ${o.maxPersonsPerOperation}
     order by cardinality(subject_hashes) desc, "time" limit ${o.maxFindingsPerKind}`.execute(db);
  return rows.map((row) => {
    const e = recordFromRow(row);
    return {
      kind: 'large-operation' as const,
      actorSub: e.actorSub,
      actorOrg: e.actorOrg,
      message: `${e.actorSub ?? 'an anonymous caller'}'s ${e.operationName ?? e.operationType} returned ${e.subjectHashes.length} persons (limit ${o.maxPersonsPerOperation})`,
      from: e.time,
      to: e.time,
      metric: e.subjectHashes.length,
      threshold: o.maxPersonsPerOperation,
      eventCount: 1,
      events: [e],
    };
  });
}

