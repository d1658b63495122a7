/**
 * The read side of the audit trail, for auditors: search with keyset pagination
 * (`audit-search.ts`), subject access reports (`audit-subject-report.ts`), anomaly findings
 * (`audit-anomalies.ts`) and streaming export (`audit-export.ts`), over one store and subject key.
 * Every query is bounded (page size, report size, findings per kind, events per finding) or
 * streamed in keyset batches, so a trail of millions of events costs index look-ups, not memory.
 *
 * The caller (GraphQL resolvers, the export route) checks the auditor role; this module does not
 * know about requests.
 */
import type { Kysely } from 'kysely';
import { subjectHasher } from './audit-keys.ts';
import { searchEvents, type AuditEventFilter, type AuditEventPage } from './audit-search.ts';
import { subjectAccessReport, type SubjectAccessReport } from './audit-subject-report.ts';
import { defaultAnomalyOptions, findAnomalies, type AnomalyOptions, type AuditFinding } from './audit-anomalies.ts';
import { exportEvents, type ExportFormat } from './audit-export.ts';

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

export class AuditReader {
  readonly db: Kysely<any>;
  readonly hashSubject: (idNumber: string) => string;
  readonly anomalyOptions: AnomalyOptions;
  readonly maxPageSize: number;
  private readonly maxReportAccesses: number;
  private readonly exportBatchSize: number;

  constructor(options: AuditReaderOptions) {
    this.db = options.db;
    this.hashSubject = subjectHasher(options.subjectKey);
    this.anomalyOptions = { ...defaultAnomalyOptions, ...options.anomalies };
    this.maxReportAccesses = options.maxReportAccesses ?? 1000;
    this.maxPageSize = options.maxPageSize ?? 500;
    this.exportBatchSize = options.exportBatchSize ?? 2000;
  }

  /** Events matching `filter`, newest first, `first` per page after the cursor `after`. */
  searchEvents(filter: AuditEventFilter = {}, first = 50, after?: string | null): Promise<AuditEventPage> {
    return searchEvents(this, filter, first, after);
  }

  /** Who read this person's data, when, for which purpose: through the subject-hash index. */
  subjectAccessReport(idNumber: string): Promise<SubjectAccessReport> {
    return subjectAccessReport(this.db, this.hashSubject, idNumber, this.maxReportAccesses);
  }

  /** Findings in [from, to); `options` override the reader's anomaly settings. */
  anomalies(from: Date, to: Date, options: Partial<AnomalyOptions> = {}): Promise<AuditFinding[]> {
    return findAnomalies(this.db, from, to, { ...this.anomalyOptions, ...options });
  }

  /** Every event recorded in [from, to), oldest first, as JSON Lines or CSV, one batch per string. */
  exportEvents(from: Date, to: Date, format: ExportFormat): AsyncGenerator<string> {
    return exportEvents(this.db, from, to, format, this.exportBatchSize);
  }
}
