/**
 * Searching the audit trail for auditors: filters, keyset pagination newest first, and a total
 * counted only when asked for. A search by subject starts from the subject-hash index.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { GatewayError } from '../core/errors.ts';
import { eventFromRow, type AuditRecord } from './audit-rows.ts';
import { recordedCaseRef } from '../core/case-reference.ts';

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
  /** Events sent with this `X-Case-Ref` (its recorded form; exact match). */
  readonly caseRef?: string | null;
}

/**
 * An event as a search page shows it: the stored record without its subjects' keyed hashes, which
 * no auditor view shows, only their number. Decoding a page of 50 events was mostly the parsing
 * of those hash arrays (up to hundreds of 64-character strings a page); the count comes from the
 * store instead.
 */
export type AuditEventSummary = Omit<AuditRecord, 'subjectHashes'> & { readonly subjectCount: number };

export interface AuditEventEdge {
  readonly cursor: string;
  readonly node: AuditEventSummary;
}

export interface AuditEventPage {
  readonly edges: readonly AuditEventEdge[];
  readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor: string | null };
  /** Counted only when asked for: on a large trail it is the one costly part of a page. */
  totalCount(): Promise<number>;
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

/** A position in the trail's (time, chain, seq) order, as searches and exports use it. */
export interface TrailPosition {
  readonly time: Date;
  readonly chainId: string;
  readonly seq: number;
}

/** The opaque cursor of a place in the trail (newest-first pages of auditEvents and myDataAccess). */
export function encodeTrailCursor(r: TrailPosition): string {
  return Buffer.from(JSON.stringify([r.time.toISOString(), r.chainId, r.seq]), 'utf8').toString('base64url');
}

/** The place a cursor of {@link encodeTrailCursor} names; BAD_USER_INPUT naming `listing` otherwise. */
export function decodeTrailCursor(cursor: string, listing = 'auditEvents'): TrailPosition {
  try {
    const [time, chainId, seq] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string, number];
    const t = new Date(time);
    if (typeof chainId !== 'string' || !Number.isSafeInteger(seq) || Number.isNaN(t.getTime())) throw new Error('bad cursor');
    return { time: t, chainId, seq };
  } catch {
    throw new GatewayError('BAD_USER_INPUT', `after is not a cursor of ${listing}`, { details: { argument: 'after' } });
  }
}

/** All of `conditions`, joined with `and` (`true` when there is none). */
export const and = (conditions: RawBuilder<unknown>[]): RawBuilder<unknown> =>
  conditions.length === 0 ? sql`true` : sql.join(conditions, sql` and `);

/** What a search reads from: the store, the key subjects were hashed with, the largest page. */
export interface SearchContext {
  readonly db: Kysely<any>;
  readonly hashSubject: (idNumber: string) => string;
  readonly maxPageSize: number;
}

/**
 * The rows a filter searches: with a subject, first the subject's events through the GIN index
 * (a person's events are few, however large the trail), so that stale statistics cannot turn
 * the search into a walk of the whole time index filtering for one hash.
 */
function source(ctx: SearchContext, filter: AuditEventFilter): RawBuilder<unknown> {
  if (!filter.subjectIdNumber) return sql`audit_event`;
  return sql`(select * from audit_event where subject_hashes @> array[${ctx.hashSubject(filter.subjectIdNumber)}]::text[] offset 0)`;
}

/** The filter as SQL conditions on `audit_event`. */
function conditions(filter: AuditEventFilter): RawBuilder<unknown>[] {
  const c: RawBuilder<unknown>[] = [];
  if (filter.from) c.push(sql`"time" >= ${parseInstant(filter.from, 'from').toISOString()}::timestamptz`);
  if (filter.to) c.push(sql`"time" < ${parseInstant(filter.to, 'to').toISOString()}::timestamptz`);
  if (filter.actor) c.push(sql`actor_sub = ${filter.actor}`);
  if (filter.org) c.push(sql`actor_org = ${filter.org}`);
  if (filter.purpose) c.push(sql`purpose = ${filter.purpose}`);
  if (filter.decision) c.push(sql`decision = ${filter.decision}`);
  if (filter.caseRef) c.push(sql`case_ref = ${recordedCaseRef(filter.caseRef)}`);
  return c;
}

/** Every column of `audit_event` but the subject hashes, and their number. */
const SUMMARY_COLUMNS = sql.raw(
  'chain_id, seq, prev_hash, hash, "time", started_at, duration_ms, actor_sub, actor_org, actor_roles, purpose, operation_type, ' +
    'operation_name, operation_hash, fields, decision, reason, "rows", change, request_id, instance, hash_alg, case_ref, ' +
    'cardinality(subject_hashes) as subject_count',
);

/** Events matching `filter`, newest first, `first` per page after the cursor `after`. */
export async function searchEvents(
  ctx: SearchContext,
  filter: AuditEventFilter = {},
  first = 50,
  after?: string | null,
): Promise<AuditEventPage> {
  if (!Number.isInteger(first) || first < 0 || first > ctx.maxPageSize) {
    throw new GatewayError('BAD_USER_INPUT', `first must be between 0 and ${ctx.maxPageSize}`, { details: { argument: 'first' } });
  }
  const base = conditions(filter);
  const page = [...base];
  if (after) {
    const k = decodeTrailCursor(after);
    page.push(sql`("time", chain_id, seq) < (${k.time.toISOString()}::timestamptz, ${k.chainId}, ${k.seq})`);
  }
  const { rows } = await sql<Record<string, unknown>>`
    select ${SUMMARY_COLUMNS} from ${source(ctx, filter)} as e where ${and(page)}
     order by "time" desc, chain_id desc, seq desc limit ${first + 1}`.execute(ctx.db);
  const edges: AuditEventEdge[] = new Array(Math.min(first, rows.length));
  for (let i = 0; i < edges.length; i++) {
    const row = rows[i]!;
    const node: AuditEventSummary = eventFromRow(row, { subjectCount: Number(row.subject_count) });
    edges[i] = { cursor: encodeTrailCursor(node), node };
  }
  let counted: Promise<number> | undefined;
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > first, endCursor: edges.length > 0 ? edges[edges.length - 1].cursor : null },
    totalCount: () =>
      (counted ??= sql<{ n: unknown }>`select count(*) as n from ${source(ctx, filter)} as e where ${and(base)}`
        .execute(ctx.db)
        .then((r) => Number(r.rows[0].n))),
  };
}

