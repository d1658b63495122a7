/**
 * The read side of the audit trail, for auditors: search with keyset pagination, subject access
 * reports, anomaly findings and streaming export. Every query is bounded (page size, report size,
 * findings per kind, events per finding) or streamed in keyset batches, so a trail of millions of
 * events costs index look-ups, not memory.
 *
 * The caller (GraphQL resolvers, the export route) checks the auditor role; this module does not
 * know about requests.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { GatewayError } from '../core/errors.ts';
import { subjectHasher } from './audit-keys.ts';
import { recordFromRow, type AuditRecord } from './audit-log.ts';

export interface AuditEventFilter {
  /** Inclusive lower bound on the record time (ISO 8601). */
  readonly from?: string | null;
  /** Exclusive upper bound on the record time (ISO 8601). */
  readonly to?: string | null;
  /** Actor `sub`. */
  readonly actor?: string | null;
  /** Actor organisation. */
  readonly org?: string | null;
  readonly purpose?: string | null;
  readonly decision?: string | null;
  /** Events whose answer carried this person's data (matched by keyed hash). */
  readonly subjectIdNumber?: string | null;
}

export interface AuditEventEdge {
  readonly cursor: string;
  readonly node: AuditRecord;
}

export interface AuditEventPage {
  readonly edges: readonly AuditEventEdge[];
  readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor: string | null };
  /** Counted only when asked for: on a large trail it is the one costly part of a page. */
  totalCount(): Promise<number>;
}

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

export type AuditFindingKind = 'volume-outlier' | 'night-access' | 'forbidden-burst' | 'large-operation';

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

export type ExportFormat = 'jsonl' | 'csv';

export interface AuditReaderOptions {
  readonly db: Kysely<any>;
  /** The HMAC key subjects were hashed with. */
  readonly subjectKey: Buffer;
  readonly anomalies?: Partial<AnomalyOptions>;
  /** Most accesses listed in one subject access report. Default 1000. */
  readonly maxReportAccesses?: number;
  /** Largest page of `searchEvents`. Default 500. */
  readonly maxPageSize?: number;
  /** Rows per export batch. Default 2000. */
  readonly exportBatchSize?: number;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Parses an instant given by a user: `YYYY-MM-DD` (midnight UTC) or an ISO 8601 date-time with
 * `Z` or an offset (`2025-01-01T00:00:00+08:00`). Throws BAD_USER_INPUT otherwise.
 */
export function parseInstant(value: string, name: string): Date {
  const v = value.trim();
  const date = ISO_DATE.test(v) ? new Date(`${v}T00:00:00Z`) : ISO_DATE_TIME.test(v) ? new Date(v) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new GatewayError('BAD_USER_INPUT', `${name} must be an ISO 8601 date (2025-01-31) or date-time with a zone (2025-01-31T08:00:00+08:00)`, {
      details: { argument: name },
    });
  }
  return date;
}

function encodeCursor(r: { time: Date; chainId: string; seq: number }): string {
  return Buffer.from(JSON.stringify([r.time.toISOString(), r.chainId, r.seq]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { time: Date; chainId: string; seq: number } {
  try {
    const [time, chainId, seq] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string, number];
    const t = new Date(time);
    if (typeof chainId !== 'string' || !Number.isSafeInteger(seq) || Number.isNaN(t.getTime())) throw new Error('bad cursor');
    return { time: t, chainId, seq };
  } catch {
    throw new GatewayError('BAD_USER_INPUT', 'after is not a cursor of auditEvents', { details: { argument: 'after' } });
  }
}

const and = (conditions: RawBuilder<unknown>[]): RawBuilder<unknown> =>
  conditions.length === 0 ? sql`true` : sql.join(conditions, sql` and `);

/** The export view of a record: every stored column, so that an export can be re-verified offline. */
export function exportObject(r: AuditRecord): Record<string, unknown> {
  return {
    chainId: r.chainId,
    seq: r.seq,
    time: r.time.toISOString(),
    startedAt: r.startedAt.toISOString(),
    durationMs: r.durationMs,
    actorSub: r.actorSub,
    actorOrg: r.actorOrg,
    actorRoles: r.actorRoles,
    purpose: r.purpose,
    operationType: r.operationType,
    operationName: r.operationName,
    operationHash: r.operationHash,
    fields: r.fields,
    decision: r.decision,
    reason: r.reason,
    rows: r.rows,
    subjectHashes: r.subjectHashes,
    change: r.change,
    requestId: r.requestId,
    instance: r.instance,
    prevHash: r.prevHash,
    hash: r.hash,
  };
}

/** Columns of the CSV export, in order (the keys of {@link exportObject}). */
export const CSV_COLUMNS: readonly string[] = [
  'chainId', 'seq', 'time', 'startedAt', 'durationMs', 'actorSub', 'actorOrg', 'actorRoles', 'purpose', 'operationType',
  'operationName', 'operationHash', 'fields', 'decision', 'reason', 'rows', 'subjectHashes', 'change', 'requestId',
  'instance', 'prevHash', 'hash',
];

/** RFC 4180 field: quoted when it holds a quote, comma or line break; quotes doubled. */
export function csvField(value: unknown): string {
  const text =
    value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export class AuditReader {
  private readonly db: Kysely<any>;
  private readonly hashSubject: (idNumber: string) => string;
  readonly anomalyOptions: AnomalyOptions;
  private readonly maxReportAccesses: number;
  private readonly maxPageSize: number;
  private readonly exportBatchSize: number;

  constructor(options: AuditReaderOptions) {
    this.db = options.db;
    this.hashSubject = subjectHasher(options.subjectKey);
    this.anomalyOptions = { ...defaultAnomalyOptions, ...options.anomalies };
    this.maxReportAccesses = options.maxReportAccesses ?? 1000;
    this.maxPageSize = options.maxPageSize ?? 500;
    this.exportBatchSize = options.exportBatchSize ?? 2000;
  }

  /**
   * The rows a filter searches: with a subject, first the subject's events through the GIN index
   * (a person's events are few, however large the trail), so that stale statistics cannot turn
   * the search into a walk of the whole time index filtering for one hash.
   */
  private source(filter: AuditEventFilter): RawBuilder<unknown> {
    if (!filter.subjectIdNumber) return sql`audit_event`;
    return sql`(select * from audit_event where subject_hashes @> array[${this.hashSubject(filter.subjectIdNumber)}]::text[] offset 0)`;
  }

  private conditions(filter: AuditEventFilter): RawBuilder<unknown>[] {
    const c: RawBuilder<unknown>[] = [];
    if (filter.from) c.push(sql`"time" >= ${parseInstant(filter.from, 'from').toISOString()}::timestamptz`);
    if (filter.to) c.push(sql`"time" < ${parseInstant(filter.to, 'to').toISOString()}::timestamptz`);
    if (filter.actor) c.push(sql`actor_sub = ${filter.actor}`);
    if (filter.org) c.push(sql`actor_org = ${filter.org}`);
    if (filter.purpose) c.push(sql`purpose = ${filter.purpose}`);
    if (filter.decision) c.push(sql`decision = ${filter.decision}`);
    return c;
  }

  /** Events matching `filter`, newest first, `first` per page after the cursor `after`. */
  async searchEvents(filter: AuditEventFilter = {}, first = 50, after?: string | null): Promise<AuditEventPage> {
    if (!Number.isInteger(first) || first < 0 || first > this.maxPageSize) {
      throw new GatewayError('BAD_USER_INPUT', `first must be between 0 and ${this.maxPageSize}`, { details: { argument: 'first' } });
    }
    const base = this.conditions(filter);
    const page = [...base];
    if (after) {
      const k = decodeCursor(after);
      page.push(sql`("time", chain_id, seq) < (${k.time.toISOString()}::timestamptz, ${k.chainId}, ${k.seq})`);
    }
    const { rows } = await sql<Record<string, unknown>>`
      select * from ${this.source(filter)} as e where ${and(page)}
       order by "time" desc, chain_id desc, seq desc limit ${first + 1}`.execute(this.db);
    const records = rows.slice(0, first).map(recordFromRow);
    const edges = records.map((node) => ({ cursor: encodeCursor(node), node }));
    let counted: Promise<number> | undefined;
    return {
      edges,
      pageInfo: { hasNextPage: rows.length > first, endCursor: edges.length > 0 ? edges[edges.length - 1].cursor : null },
      totalCount: () =>
        (counted ??= sql<{ n: unknown }>`select count(*) as n from ${this.source(filter)} as e where ${and(base)}`
          .execute(this.db)
          .then((r) => Number(r.rows[0].n))),
    };
  }

  /** Who read this person's data, when, for which purpose: through the subject-hash index. */
  async subjectAccessReport(idNumber: string): Promise<SubjectAccessReport> {
    const id = idNumber.trim();
    if (id.length === 0 || id.length > 64) {
      throw new GatewayError('BAD_USER_INPUT', 'idNumber must be a resident ID number', { details: { argument: 'idNumber' } });
    }
    const matches = sql`subject_hashes @> array[${this.hashSubject(id)}]::text[]`;
    const [list, count] = await Promise.all([
      sql<Record<string, unknown>>`
        select "time", actor_sub, actor_org, purpose, operation_type, operation_name, decision, fields, chain_id, seq
          from audit_event where ${matches}
         order by "time" desc, chain_id desc, seq desc limit ${this.maxReportAccesses}`.execute(this.db),
      sql<{ n: unknown }>`select count(*) as n from audit_event where ${matches}`.execute(this.db),
    ]);
    const accesses = list.rows.map((r) => ({
      time: r.time instanceof Date ? r.time : new Date(String(r.time)),
      actorSub: (r.actor_sub as string | null) ?? null,
      actorOrg: (r.actor_org as string | null) ?? null,
      purpose: (r.purpose as string | null) ?? null,
      operationType: String(r.operation_type),
      operationName: (r.operation_name as string | null) ?? null,
      decision: String(r.decision),
      fields: (r.fields as string[] | null) ?? [],
      chainId: String(r.chain_id),
      seq: Number(r.seq),
    }));
    const totalAccesses = Number(count.rows[0].n);
    return { idNumber: id, totalAccesses, accesses, truncated: totalAccesses > accesses.length };
  }

  /**
   * Findings in [from, to): volume outliers, night access, FORBIDDEN bursts and large operations,
   * each with the events behind it. `options` override the reader's anomaly settings.
   */
  async anomalies(from: Date, to: Date, options: Partial<AnomalyOptions> = {}): Promise<AuditFinding[]> {
    if (!(from.getTime() < to.getTime())) throw new GatewayError('BAD_USER_INPUT', 'from must be before to', { details: { argument: 'from' } });
    const o = { ...this.anomalyOptions, ...options };
    const findings = await Promise.all([
      this.volumeOutliers(from, to, o),
      this.nightAccess(from, to, o),
      this.forbiddenBursts(from, to, o),
      this.largeOperations(from, to, o),
    ]);
    return findings.flat();
  }

  private async events(where: RawBuilder<unknown>, order: RawBuilder<unknown>, limit: number): Promise<AuditRecord[]> {
    const { rows } = await sql<Record<string, unknown>>`select * from audit_event where ${where} order by ${order} limit ${limit}`.execute(this.db);
    return rows.map(recordFromRow);
  }

  private async volumeOutliers(from: Date, to: Date, o: AnomalyOptions): Promise<AuditFinding[]> {
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
       order by day.persons desc limit ${o.maxFindingsPerKind}`.execute(this.db);
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
          events: await this.events(where, sql`cardinality(subject_hashes) desc, "time"`, o.eventsPerFinding),
        };
      }),
    );
  }

  private async nightAccess(from: Date, to: Date, o: AnomalyOptions): Promise<AuditFinding[]> {
    const hour = sql`extract(hour from ("time" at time zone ${o.timeZone}))`;
    const night =
      o.nightStartHour > o.nightEndHour
        ? sql`(${hour} >= ${o.nightStartHour} or ${hour} < ${o.nightEndHour})`
        : sql`(${hour} >= ${o.nightStartHour} and ${hour} < ${o.nightEndHour})`;
    const range = sql`"time" >= ${from.toISOString()}::timestamptz and "time" < ${to.toISOString()}::timestamptz`;
    const { rows } = await sql<Record<string, unknown>>`
      select actor_sub, max(actor_org) as actor_org, count(*)::bigint as n, min("time") as first, max("time") as last
        from audit_event where ${range} and actor_sub is not null and ${night}
       group by actor_sub order by n desc limit ${o.maxFindingsPerKind}`.execute(this.db);
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
        events: await this.events(sql`actor_sub = ${r.actor_sub} and ${range} and ${night}`, sql`"time", chain_id, seq`, o.eventsPerFinding),
      })),
    );
  }

  private async forbiddenBursts(from: Date, to: Date, o: AnomalyOptions): Promise<AuditFinding[]> {
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
      select * from peak order by n desc limit ${o.maxFindingsPerKind}`.execute(this.db);
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
          events: await this.events(where, sql`"time", chain_id, seq`, o.eventsPerFinding),
        };
      }),
    );
  }

  private async largeOperations(from: Date, to: Date, o: AnomalyOptions): Promise<AuditFinding[]> {
    const { rows } = await sql<Record<string, unknown>>`
      select * from audit_event
       where "time" >= ${from.toISOString()}::timestamptz and "time" < ${to.toISOString()}::timestamptz
         and cardinality(subject_hashes) > ${o.maxPersonsPerOperation}
       order by cardinality(subject_hashes) desc, "time" limit ${o.maxFindingsPerKind}`.execute(this.db);
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

  /**
   * Every event recorded in [from, to), oldest first, as JSON Lines or CSV (with a header),
   * fetched in keyset batches: memory stays flat however many events there are. Each yielded
   * string holds one batch of lines.
   */
  async *exportEvents(from: Date, to: Date, format: ExportFormat): AsyncGenerator<string> {
    if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
    let after: { time: Date; chainId: string; seq: number } | undefined;
    for (;;) {
      const keyset = after
        ? sql`and ("time", chain_id, seq) > (${after.time.toISOString()}::timestamptz, ${after.chainId}, ${after.seq})`
        : sql``;
      // An ordered walk of the time index is always the right plan here; right after a burst of
      // inserts the statistics may suggest sorting the whole remaining range for every batch.
      // The transaction lasts one batch only: nothing is held while the client downloads.
      const { rows } = await this.db.transaction().execute(async (trx) => {
        await sql`set local enable_sort = off`.execute(trx);
        await sql`set local enable_bitmapscan = off`.execute(trx);
        return sql<Record<string, unknown>>`
          select * from audit_event
           where "time" >= ${from.toISOString()}::timestamptz and "time" < ${to.toISOString()}::timestamptz ${keyset}
           order by "time", chain_id, seq limit ${this.exportBatchSize}`.execute(trx);
      });
      if (rows.length === 0) return;
      let chunk = '';
      for (const row of rows) {
        const o = exportObject(recordFromRow(row));
        chunk += format === 'csv' ? `${CSV_COLUMNS.map((c) => csvField(o[c])).join(',')}\r\n` : `${JSON.stringify(o)}\n`;
      }
      const last = recordFromRow(rows[rows.length - 1]);
      after = { time: last.time, chainId: last.chainId, seq: last.seq };
      yield chunk;
      if (rows.length < this.exportBatchSize) return;
    }
  }
}
