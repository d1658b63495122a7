/**
 * A resident's view of the trail (CONTRACT.md § Residents: who read my data): every read of one
 * person's data, newest first, straight from `audit_event` (the evidence itself, not a copy that
 * could drift from it), found through the subject-hash GIN index the auditors' subject access
 * report uses. A person's events are few however large the trail, so a page costs one GIN probe per
 * monthly partition and a sort of that person's events, not a walk of the time index.
 *
 * What a resident is shown is deliberately less than an auditor sees: when, which organisation,
 * for which duty, the case reference, the field names (never values), whether it was an emergency
 * read. Not who in the organisation (the clerk's user id), not the operation's text.
 *
 * Delayed disclosure: a duty's `disclosureDelayDays` keeps its reads out of the list until that many
 * days after they happened; the filter is on the event's recorded time, so a delayed read appears
 * by itself once the delay has passed, and nothing is ever dropped.
 *
 * Excluded: events the resident made themself (`actor_org = 'resident'`), which record the resident
 * as their subject so that the trail never holds their ID number in clear as an actor (see
 * `auditEvent`), and statistics answers, which carry no subjects at all.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { GatewayError } from '../core/errors.ts';
import { RESIDENT_ORG } from '../core/identity.ts';
import { subjectHasher } from './audit-keys.ts';
import { fieldsForSubject } from './audit-event.ts';
import { EMERGENCY_START_ACTION, EMERGENCY_STOP_ACTION, EMERGENCY_REVIEW_ACTION } from './emergency-read.ts';
import { decodeTrailCursor, encodeTrailCursor } from './audit-search.ts';

export interface ResidentAccess {
  /** When the trail recorded the read. */
  readonly time: Date;
  readonly org: string | null;
  /** The duty declared in `X-Purpose`. */
  readonly duty: string | null;
  readonly caseRef: string | null;
  /** `dataset.field` names read; never values. */
  readonly fields: readonly string[];
  readonly emergency: boolean;
  readonly cursor: string;
}

export interface ResidentAccessPage {
  readonly edges: readonly { readonly cursor: string; readonly node: ResidentAccess }[];
  readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor: string | null };
  totalCount(): Promise<number>;
}

export interface ResidentDisclosureOptions {
  readonly db: Kysely<any>;
  /** The HMAC key subjects were hashed with. */
  readonly subjectKey: Buffer;
  /** Largest page. Default 100. */
  readonly maxPageSize?: number;
}

export interface DisclosureQuery {
  readonly first: number;
  readonly after?: string | null;
  /** Delay in days per duty id (duties without a delay need not be listed). */
  readonly delays: ReadonlyMap<string, number>;
  /** Now, for the delays (tests). */
  readonly now?: Date;
}

/**
 * Whether an event was an emergency (break-glass) read: the emergency session is recorded in the
 * event's `change` as `{ emergency: { session, caseRef, refused } }`, part of the hashed record; a
 * refused use of a session read nothing and carries no subject anyway. Without an `X-Case-Ref`, an
 * emergency read shows the case its session was started for.
 */
const EMERGENCY = sql<boolean>`coalesce(e.change -> 'emergency' ->> 'session' is not null and coalesce(e.change -> 'emergency' ->> 'refused', 'false') <> 'true', false)`;

/**
 * An emergency session is not itself a read of the person it is for (CONTRACT.md: the list holds
 * reads of the person's data; residents see emergency reads as such): its START, STOP and review
 * events, and the operation events of the emergency mutations, are not listed; each read under the
 * session is, flagged emergency, with its own fields. (Auditors see the session's events in the
 * subject access report.)
 */
const SESSION_BOOKKEEPING = [
  EMERGENCY_START_ACTION,
  EMERGENCY_STOP_ACTION,
  EMERGENCY_REVIEW_ACTION,
  'startEmergencyAccess',
  'endEmergencyAccess',
  'reviewEmergencyAccess',
];

const numberOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export class ResidentDisclosure {
  readonly #db: Kysely<any>;
  readonly #hash: (idNumber: string) => string;
  readonly #maxPageSize: number;

  constructor(options: ResidentDisclosureOptions) {
    this.#db = options.db;
    this.#hash = subjectHasher(options.subjectKey);
    this.#maxPageSize = options.maxPageSize ?? 100;
  }

  /** Reads of `idNumber`'s data, newest first, `first` per page after `after`. */
  async page(idNumber: string, query: DisclosureQuery): Promise<ResidentAccessPage> {
    const { first } = query;
    if (!Number.isInteger(first) || first < 0 || first > this.#maxPageSize) {
      throw new GatewayError('BAD_USER_INPUT', `first must be between 0 and ${this.#maxPageSize}`, { details: { argument: 'first' } });
    }
    const now = query.now ?? new Date();
    const base = this.#conditions(query.delays, now);
    const page = [...base];
    if (query.after) {
      const k = decodeTrailCursor(query.after, 'myDataAccess');
      page.push(sql`(e."time", e.chain_id, e.seq) < (${k.time.toISOString()}::timestamptz, ${k.chainId}, ${k.seq})`);
    }
    // `offset 0` keeps the planner on the GIN probe (see AuditReader.source).
    const hash = this.#hash(idNumber);
    const source = sql`(select * from audit_event where subject_hashes @> array[${hash}]::text[] offset 0)`;
    const { rows } = await sql<Record<string, unknown>>`
      select e."time", e.actor_org, e.purpose,
             coalesce(e.case_ref, e.change -> 'emergency' ->> 'caseRef') as case_ref, e.fields,
             e.change -> 'subjectFields' as subject_fields, array_position(e.subject_hashes, ${hash}::text) as subject_position,
             e.chain_id, e.seq, ${EMERGENCY} as emergency
        from ${source} as e where ${sql.join(page, sql` and `)}
       order by e."time" desc, e.chain_id desc, e.seq desc limit ${first + 1}`.execute(this.#db);
    const edges = rows.slice(0, first).map((r) => {
      const time = r.time instanceof Date ? r.time : new Date(String(r.time));
      const cursor = encodeTrailCursor({ time, chainId: String(r.chain_id), seq: Number(r.seq) });
      const node: ResidentAccess = {
        time,
        org: (r.actor_org as string | null) ?? null,
        duty: (r.purpose as string | null) ?? null,
        caseRef: (r.case_ref as string | null | undefined) ?? null,
        // Only what was read for this person, not for others in the same operation.
        fields: fieldsForSubject((r.fields as string[] | null) ?? [], { subjectFields: r.subject_fields }, numberOrNull(r.subject_position)),
        emergency: r.emergency === true,
        cursor,
      };
      return { cursor, node };
    });
    let counted: Promise<number> | undefined;
    return {
      edges,
      pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null },
      totalCount: () =>
        (counted ??= sql<{ n: unknown }>`select count(*) as n from ${source} as e where ${sql.join(base, sql` and `)}`
          .execute(this.#db)
          .then((r) => Number(r.rows[0]!.n))),
    };
  }

  /** Not the resident's own events; a delayed duty's reads only once their delay has passed. */
  #conditions(delays: ReadonlyMap<string, number>, now: Date): RawBuilder<unknown>[] {
    const c: RawBuilder<unknown>[] = [
      sql`e.actor_org is distinct from ${RESIDENT_ORG}`,
      sql`coalesce(e.change ->> 'action' not in (${sql.join(SESSION_BOOKKEEPING)}), true)`,
    ];
    for (const [duty, days] of delays) {
      if (!(days > 0)) continue;
      const cutoff = new Date(now.getTime() - days * 86_400_000).toISOString();
      c.push(sql`(e.purpose is distinct from ${duty} or e."time" <= ${cutoff}::timestamptz)`);
    }
    return c;
  }
}
