/**
 * What one audit event holds (CONTRACT.md): who, purpose, operation, fields read, decision and
 * reason, rows and subjects returned, time, duration, instance.
 */
import type { Transaction } from 'kysely';
import { isDutyId, isResident, type Viewer } from '../core/identity.ts';
import { scrubOperationName, scrubText } from '../core/personal-data.ts';
import { recordedCaseRef } from '../core/case-reference.ts';

export type AuditDecision = 'allow' | 'deny' | 'error';

export interface AuditEventInput {
  /** When the operation started. */
  readonly time: Date;
  readonly durationMs: number;
  readonly actor: { readonly sub: string | null; readonly org: string | null; readonly roles: readonly string[] };
  readonly purpose: string | null;
  /** `query`, `mutation`, `subscription`, `export` or `http` for requests refused before parsing. */
  readonly operationType: string;
  readonly operationName: string | null;
  /** SHA-256 (hex) of the operation document as received. */
  readonly operationHash: string | null;
  /** `dataset.field` names the operation read (or asked for, when denied). */
  readonly fields: readonly string[];
  readonly decision: AuditDecision;
  /** The error code and message when not allowed; the deciding grants when allowed. */
  readonly reason: string | null;
  readonly rows: number;
  /** idNumbers in clear; the audit log stores only their keyed hashes. */
  readonly subjects: readonly string[];
  /**
   * Which of `fields` were read for each subject, when that differs between them: distinct field
   * sets, and for `subjects[i]` the index of its set. Absent: every subject had all of `fields`.
   * The writer stores it in hash order ({@link subjectFieldTable}).
   */
  readonly subjectFields?: SubjectFieldSets;
  /** For administrative changes: what changed (grant created, revoked ...). */
  readonly change?: Readonly<Record<string, unknown>> | null;
  readonly requestId: string;
  /** `X-Case-Ref`: the case or application number the read was made for (CONTRACT.md); null when none. */
  readonly caseRef?: string | null;
}

/** Distinct field sets (each in event order: read, then compared; the list sorted) and each subject's set, in `subjects` order. */
export interface SubjectFieldSets {
  readonly sets: readonly (readonly string[])[];
  readonly bySubject: readonly number[];
}

/**
 * The stored form of {@link SubjectFieldSets}, in the event's `change` as `subjectFields` (part of the
 * hashed record, so the event's encoding is unchanged): `of[i]` is the set of the subject whose hash
 * is `subjectHashes[i]`. Small: one short list per distinct set, one integer per subject.
 */
export interface SubjectFieldTable {
  readonly sets: readonly (readonly string[])[];
  readonly of: readonly number[];
}

/**
 * The table of `event` for its sorted subject hashes, given each subject's hash in `subjects` order;
 * null when the event has none.
 */
export function subjectFieldTable(event: AuditEventInput, hashes: readonly string[], sortedHashes: readonly string[]): SubjectFieldTable | null {
  const table = event.subjectFields;
  if (!table || hashes.length !== table.bySubject.length) return null;
  const setOf = new Map<string, number>();
  hashes.forEach((h, i) => setOf.set(h, table.bySubject[i]!));
  return { sets: table.sets, of: sortedHashes.map((h) => setOf.get(h) ?? 0) };
}

/**
 * The fields an event read for the subject at `position` (1-based, in its subject hashes): its own
 * set where the event keeps a table, else all of the event's fields.
 */
export function fieldsForSubject(fields: readonly string[], change: unknown, position: number | null): readonly string[] {
  const table = (change as { subjectFields?: { sets?: unknown; of?: unknown } } | null)?.subjectFields;
  if (!table || !Array.isArray(table.sets) || !Array.isArray(table.of) || !position) return fields;
  const set = table.sets[table.of[position - 1] as number];
  return Array.isArray(set) ? (set as string[]) : fields;
}

/**
 * A change to the gateway store and its audit event, written in one transaction: there is never a
 * change without its event, nor an event of a change that did not happen (CONTRACT.md, admission
 * review). `change` runs inside the transaction; `event` is built from its result; the event is placed
 * in the chain in that same transaction. Rejects (and nothing is kept) if either fails.
 */
export interface TransactionalAuditSink extends AuditSink {
  appendWith<T>(change: (trx: Transaction<any>) => Promise<T>, event: (result: T) => AuditEventInput): Promise<T>;
}

/** The write side of the audit log, as the gateway's plugins see it. */
export interface AuditSink {
  /**
   * Resolves once the event is durably stored; rejects if it could not be (the caller must then
   * answer SERVICE_UNAVAILABLE and no data).
   */
  append(event: AuditEventInput): Promise<void>;
}

/** What one operation did, gathered while it runs and written as its audit event. */
export interface AuditTrace {
  /** `dataset.field` read by the operation (as authorized, before execution). */
  fields: Set<string>;
  /** Rows of source data returned to the caller. */
  rows: number;
  /** idNumbers of persons whose data the answer carried (hashed before storage). */
  subjects: Set<string>;
  /**
   * For subjects whose fields are known: the `dataset.field` names read for that person (sets are
   * shared between subjects of one selection; never mutate one, replace it).
   */
  subjectFields: Map<string, ReadonlySet<string>>;
  /** For administrative changes: what changed. */
  change?: Record<string, unknown>;
}

export function newTrace(): AuditTrace {
  return { fields: new Set(), rows: 0, subjects: new Set(), subjectFields: new Map() };
}

/** Where and for whom an event is recorded: the request it belongs to. */
export interface EventOrigin {
  /** The server-made request id (never a client's header). */
  readonly requestId: string;
  /** When handling started, `Date.now()` milliseconds. */
  readonly started: number;
  readonly viewer?: Viewer | undefined;
  /** The raw `X-Purpose`; recorded only when it is a well-formed duty id. */
  readonly purpose?: string | null | undefined;
  /** The raw `X-Case-Ref`; recorded through `recordedCaseRef` (core/case-reference.ts). */
  readonly caseRef?: string | null | undefined;
}

/** What happened: everything of an event that is not its origin. */
export interface EventOutcome {
  /** `query`, `mutation`, `subscription`, `export` or `http` for requests refused before parsing. */
  readonly operationType: string;
  readonly operationName?: string | null;
  readonly operationHash?: string | null;
  readonly decision: AuditDecision;
  /** A code and a fixed text, or the deciding grants; scrubbed of personal data here in any case. */
  readonly reason?: string | null;
  readonly fields?: readonly string[];
  /**
   * `dataset.field` names the operation filtered, sorted or looked up by. Recorded among `fields` as
   * `filter:dataset.field`, so the event's encoding stays what it is.
   */
  readonly filters?: readonly string[];
  readonly rows?: number;
  readonly subjects?: readonly string[];
  /** Per subject, the `dataset.field` names read for them; subjects not in it had all the fields. */
  readonly subjectFields?: ReadonlyMap<string, ReadonlySet<string>>;
  readonly change?: Readonly<Record<string, unknown>> | null;
}

/** Longest reason kept: reasons are codes and short texts, never payloads. */
export const MAX_REASON_LENGTH = 1000;

/**
 * The recorded form of `X-Purpose`: a duty id, or null for anything else (never the raw text). An ID
 * number or a phone number has the form of a duty id too: what the scrubber would change is personal
 * data, and is not recorded either.
 */
export function recordedPurpose(purpose: string | null | undefined): string | null {
  const trimmed = purpose?.trim();
  return isDutyId(trimmed) && scrubText(trimmed) === trimmed ? trimmed : null;
}

/**
 * The one place an audit event is assembled. Every plugin, route and resolver that records an
 * event calls this, so the actor, the purpose's form, the reason's scrubbing and "a denied operation
 * returned no rows" are decided once.
 */
export function auditEvent(origin: EventOrigin, outcome: EventOutcome): AuditEventInput {
  const viewer = origin.viewer;
  const denied = outcome.decision === 'deny';
  // A resident's sub is their ID number: the trail keeps it only as a keyed subject hash, never in clear.
  const resident = isResident(viewer);
  const subjects = denied ? [] : [...new Set([...(outcome.subjects ?? []), ...(resident ? [viewer!.sub] : [])])];
  const fields = [...(outcome.fields ?? []), ...[...new Set(outcome.filters ?? [])].sort().map((f) => `filter:${f}`)];
  const reason = outcome.reason == null ? null : scrubText(outcome.reason).slice(0, MAX_REASON_LENGTH);
  return {
    time: new Date(origin.started),
    durationMs: Math.max(0, Date.now() - origin.started),
    actor: { sub: resident ? 'resident' : (viewer?.sub ?? null), org: viewer?.org ?? null, roles: [...(viewer?.roles ?? [])] },
    purpose: recordedPurpose(origin.purpose),
    operationType: outcome.operationType,
    operationName: scrubOperationName(outcome.operationName),
    operationHash: outcome.operationHash ?? null,
    fields,
    decision: outcome.decision,
    reason,
    rows: denied ? 0 : (outcome.rows ?? 0),
    subjects,
    ...subjectFieldSets(subjects, fields, outcome.subjectFields),
    change: outcome.change ?? null,
    requestId: origin.requestId,
    caseRef: recordedCaseRef(origin.caseRef),
  };
}

/** Fields read (sorted), then the fields compared (`filter:…`, sorted): the order an event lists them in. */
function orderFields(fields: Iterable<string>): string[] {
  const read: string[] = [];
  const compared: string[] = [];
  for (const f of fields) (f.startsWith('filter:') ? compared : read).push(f);
  return [...read.sort(), ...compared.sort()];
}

/**
 * Each subject's fields as distinct sets, canonical (each set sorted, the sets sorted), or nothing
 * when every subject had all of `fields` (most operations: one kind of row). Linear in subjects
 * plus the sizes of the distinct sets: subjects of one selection share one set object.
 */
function subjectFieldSets(
  subjects: readonly string[],
  fields: readonly string[],
  known: ReadonlyMap<string, ReadonlySet<string>> | undefined,
): { subjectFields?: SubjectFieldSets } {
  if (!known || known.size === 0 || subjects.length === 0) return {};
  const all = orderFields(fields);
  const byObject = new Map<ReadonlySet<string> | undefined, string>();
  const keyed = new Map<string, readonly string[]>();
  const keys = subjects.map((s) => {
    const set = known.get(s);
    let key = byObject.get(set);
    if (key === undefined) {
      const list = set ? orderFields(set) : all;
      key = JSON.stringify(list);
      byObject.set(set, key);
      keyed.set(key, list);
    }
    return key;
  });
  const allKey = JSON.stringify(all);
  if (keys.every((k) => k === allKey)) return {};
  const order = [...keyed.keys()].sort();
  const index = new Map(order.map((k, i) => [k, i]));
  return { subjectFields: { sets: order.map((k) => keyed.get(k)!), bySubject: keys.map((k) => index.get(k)!) } };
}
