/**
 * Emergency sessions in the gateway store (kysely: PGlite or PostgreSQL).
 *
 * Writes take the kysely handle they run on, so that a change runs in the same transaction as its
 * audit event (`TransactionalAuditSink.appendWith`). The limits are checked inside that
 * transaction under advisory locks (the user's, then the street's, always in that order), so two
 * starts racing on two instances cannot both pass "one open session per user" or the street's
 * hourly budget.
 */
import { sql, type Kysely } from 'kysely';
import { GatewayError } from '../../core/errors.ts';
import type { Viewer } from '../../core/identity.ts';
import type { StartPlan } from './emergency-rules.ts';
import { expiryUnrecorded, REVIEW_DUE_MS, type EmergencySession, type EmergencyVerdict } from './emergency-session.ts';

export interface EmergencyLimits {
  /** Sessions a street may start within any hour (`EMERGENCY_STARTS_PER_STREET_PER_HOUR`). */
  readonly startsPerStreetPerHour: number;
}

export const defaultEmergencyLimits: EmergencyLimits = { startsPerStreetPerHour: 5 };

/** Session ids are UUIDs made here; anything else is no session (and costs no query). */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isSessionId(value: string): boolean {
  return SESSION_ID.test(value);
}

const date = (v: unknown): Date | null => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));
const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? (JSON.parse(v) as string[]) : []);

function rowToSession(row: Record<string, unknown>): EmergencySession {
  return {
    id: row.id as string,
    userSub: row.user_sub as string,
    org: row.org as string,
    street: row.street as string,
    duty: row.duty as string,
    subjectIdNumber: (row.subject_id_number as string | null) ?? null,
    reason: row.reason as string,
    caseRef: row.case_ref as string,
    grants: list(row.grants),
    fields: list(row.fields),
    owners: list(row.owners),
    startedAt: date(row.started_at)!,
    expiresAt: date(row.expires_at)!,
    endedAt: date(row.ended_at),
    endedBy: (row.ended_by as string | null) ?? null,
    verdict: (row.verdict as EmergencyVerdict | null) ?? null,
    reviewNote: (row.review_note as string | null) ?? null,
    reviewedBy: (row.reviewed_by as string | null) ?? null,
    reviewedAt: date(row.reviewed_at),
  };
}

export interface SessionFilter {
  /** Only sessions that opened data of this department (a data owner's view); undefined: all. */
  readonly owner?: string;
  /** Only this user's sessions. */
  readonly userSub?: string;
  /** `unreviewed`: not reviewed yet; `overdue`: not reviewed REVIEW_DUE_MS after the start. */
  readonly review?: 'any' | 'unreviewed' | 'overdue' | 'reviewed';
}

export interface EmergencyStoreOptions {
  /**
   * Called when a look-up finds a session past its expiry with no STOP written yet: records that
   * STOP (schema/emergency/emergency-expiry.ts) and answers the session as it now is. The next
   * touch of a session is one of the two ways its expiry gets into the trail; the sweep is the other.
   */
  readonly onExpired?: (session: EmergencySession) => Promise<EmergencySession | undefined>;
  readonly now?: () => number;
}

export class EmergencyStore {
  constructor(
    private readonly db: Kysely<any>,
    private readonly options: EmergencyStoreOptions = {},
  ) {}

  /**
   * The session with this id, or undefined (also for an id that is not a session id). A session
   * found expired with its STOP unwritten has it written first (when an `onExpired` is set).
   */
  async get(id: string, on: Kysely<any> = this.db): Promise<EmergencySession | undefined> {
    if (!isSessionId(id)) return undefined;
    const row = await on.selectFrom('emergency_session').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const session = rowToSession(row);
    const onExpired = this.options.onExpired;
    if (onExpired && on === this.db && expiryUnrecorded(session, this.options.now?.() ?? Date.now())) return (await onExpired(session)) ?? session;
    return session;
  }

  /**
   * Marks an expired session as stopped at its expiry, inside `on` (the transaction that appends its
   * STOP event). Undefined when it is not expired or its stop is already recorded (ended early, or
   * another instance got there first: the row lock makes the second writer see the first's end).
   */
  async recordExpiry(on: Kysely<any>, id: string, now: Date): Promise<EmergencySession | undefined> {
    const row = await on
      .updateTable('emergency_session')
      .set({ ended_at: sql`expires_at`, ended_by: null })
      .where('id', '=', id)
      .where('ended_at', 'is', null)
      .where('expires_at', '<=', now)
      .returningAll()
      .executeTakeFirst();
    return row ? rowToSession(row) : undefined;
  }

  /** Ids of sessions past their expiry with no STOP recorded, oldest expiry first, at most `limit`. */
  async expiredUnrecorded(now: Date, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('emergency_session')
      .select('id')
      .where('ended_at', 'is', null)
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id as string);
  }

  /**
   * Records a new session after checking, under locks, that the user has no open one and the street
   * is within its hourly budget. Throws BAD_USER_INPUT (open session) or RATE_LIMITED.
   */
  async start(on: Kysely<any>, plan: StartPlan, viewer: Viewer, limits: EmergencyLimits): Promise<EmergencySession> {
    const now = plan.startedAt;
    await sql`select pg_advisory_xact_lock(hashtextextended(${`lianqiao:emergency:user:${viewer.sub}`}, 0))`.execute(on);
    await sql`select pg_advisory_xact_lock(hashtextextended(${`lianqiao:emergency:street:${plan.street}`}, 0))`.execute(on);
    const open = await on
      .selectFrom('emergency_session')
      .select(['id', 'expires_at'])
      .where('user_sub', '=', viewer.sub)
      .where('ended_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (open) {
      throw new GatewayError('BAD_USER_INPUT', `you already have an open emergency session (${String(open.id)}); end it before starting another`, {
        details: { openSession: open.id },
      });
    }
    const hourAgo = new Date(now.getTime() - 3_600_000);
    const recent = await on
      .selectFrom('emergency_session')
      .select((eb) => [eb.fn.countAll<string>().as('n'), eb.fn.min('started_at').as('first')])
      .where('street', '=', plan.street)
      .where('started_at', '>', hourAgo)
      .executeTakeFirstOrThrow();
    if (Number(recent.n) >= limits.startsPerStreetPerHour) {
      const first = date(recent.first) ?? now;
      const retryAfter = Math.max(1, Math.ceil((first.getTime() + 3_600_000 - now.getTime()) / 1000));
      throw new GatewayError('RATE_LIMITED', `street ${plan.street} started ${limits.startsPerStreetPerHour} emergency sessions within the last hour; that is its limit`, {
        details: { retryAfterSeconds: retryAfter },
      });
    }
    const row = await on
      .insertInto('emergency_session')
      .values({
        id: crypto.randomUUID(),
        user_sub: viewer.sub,
        org: viewer.org,
        street: plan.street,
        duty: plan.duty,
        subject_id_number: plan.subjectIdNumber,
        reason: plan.reason,
        case_ref: plan.caseRef,
        grants: JSON.stringify(plan.grants),
        fields: JSON.stringify(plan.fields),
        owners: JSON.stringify(plan.owners),
        started_at: plan.startedAt,
        expires_at: plan.expiresAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return rowToSession(row);
  }

  /** Ends an open session; undefined when it was no longer open (ended or expired meanwhile). */
  async end(on: Kysely<any>, id: string, by: string, at: Date): Promise<EmergencySession | undefined> {
    const row = await on
      .updateTable('emergency_session')
      .set({ ended_at: at, ended_by: by })
      .where('id', '=', id)
      .where('ended_at', 'is', null)
      .where('expires_at', '>', at)
      .returningAll()
      .executeTakeFirst();
    return row ? rowToSession(row) : undefined;
  }

  /**
   * Records the review (once: undefined when it was reviewed meanwhile). It ends nothing: an
   * UNJUSTIFIED verdict on an open session is preceded by {@link end} with its own STOP event.
   */
  async review(
    on: Kysely<any>,
    id: string,
    review: { verdict: EmergencyVerdict; note: string; by: string; at: Date },
  ): Promise<EmergencySession | undefined> {
    const row = await on
      .updateTable('emergency_session')
      .set({ verdict: review.verdict, review_note: review.note, reviewed_by: review.by, reviewed_at: review.at })
      .where('id', '=', id)
      .where('reviewed_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    return row ? rowToSession(row) : undefined;
  }

  /** Sessions newest first, at most `limit`. */
  async list(filter: SessionFilter, limit: number, now: Date = new Date()): Promise<EmergencySession[]> {
    let query = this.db.selectFrom('emergency_session').selectAll().orderBy('started_at', 'desc').orderBy('id').limit(limit);
    if (filter.userSub) query = query.where('user_sub', '=', filter.userSub);
    if (filter.owner) query = query.where(sql<boolean>`owners @> ${JSON.stringify([filter.owner])}::jsonb`);
    if (filter.review === 'reviewed') query = query.where('reviewed_at', 'is not', null);
    if (filter.review === 'unreviewed' || filter.review === 'overdue') query = query.where('reviewed_at', 'is', null);
    if (filter.review === 'overdue') query = query.where('started_at', '<=', new Date(now.getTime() - REVIEW_DUE_MS));
    return (await query.execute()).map(rowToSession);
  }
}
