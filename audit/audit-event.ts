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
  /** For administrative changes: what changed (grant created, revoked ...). */
  readonly change?: Readonly<Record<string, unknown>> | null;
  readonly requestId: string;
  /** `X-Case-Ref`: the case or application number the read was made for (CONTRACT.md); null when none. */
  readonly caseRef?: string | null;
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
  /** For administrative changes: what changed. */
  change?: Record<string, unknown>;
}

export function newTrace(): AuditTrace {
  return { fields: new Set(), rows: 0, subjects: new Set() };
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
  const subjects = denied ? [] : [...(outcome.subjects ?? []), ...(resident ? [viewer!.sub] : [])];
  const reason = outcome.reason == null ? null : scrubText(outcome.reason).slice(0, MAX_REASON_LENGTH);
  return {
    time: new Date(origin.started),
    durationMs: Math.max(0, Date.now() - origin.started),
    actor: { sub: resident ? 'resident' : (viewer?.sub ?? null), org: viewer?.org ?? null, roles: [...(viewer?.roles ?? [])] },
    purpose: recordedPurpose(origin.purpose),
    operationType: outcome.operationType,
    operationName: scrubOperationName(outcome.operationName),
    operationHash: outcome.operationHash ?? null,
    fields: [...(outcome.fields ?? []), ...[...new Set(outcome.filters ?? [])].sort().map((f) => `filter:${f}`)],
    decision: outcome.decision,
    reason,
    rows: denied ? 0 : (outcome.rows ?? 0),
    subjects,
    change: outcome.change ?? null,
    requestId: origin.requestId,
    caseRef: recordedCaseRef(origin.caseRef),
  };
}
