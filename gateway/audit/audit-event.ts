/**
 * What one audit event holds (CONTRACT.md): who, purpose, operation, fields read, decision and
 * reason, rows and subjects returned, time, duration, instance.
 */
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
}

/** The write side of the audit log, as the gateway's plugins see it. */
export interface AuditSink {
  /**
   * Resolves once the event is durably stored; rejects if it could not be (the caller must then
   * answer SERVICE_UNAVAILABLE and no data).
   */
  append(event: AuditEventInput): Promise<void>;
}
