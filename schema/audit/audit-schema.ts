/**
 * The auditors' GraphQL API: search the trail, report who read a person's data, check the chain,
 * list anomalies. Every field is for the `auditor` role only (street staff, street admins and
 * data owners get FORBIDDEN), and every auditor query is itself audited by the gateway's audit
 * plugin like any other operation. Auditors read no source data here: subjects appear only as a
 * count, never as an idNumber or hash.
 */
import type { IResolvers } from '@graphql-tools/utils';
import { hasRole, type Viewer } from '../../core/identity.ts';
import { resolverContext } from '../resolver-context.ts';
import { GatewayError } from '../../core/errors.ts';
import type { AuditRecord } from '../../audit/audit-rows.ts';
import { parseInstant, type AuditEventFilter, type AuditEventPage, type AuditEventSummary } from '../../audit/audit-search.ts';
import type { AuditReader } from '../../audit/audit-reader.ts';
import type { IntegrityReport } from '../../audit/audit-verifier.ts';

export const auditTypeDefs = /* GraphQL */ `
  extend type Query {
    "Audit events, newest first (auditors only)."
    auditEvents(filter: AuditEventFilter, first: Int = 50, after: String): AuditEventConnection!
    "Who read this person's data, when and for which purpose (auditors only)."
    subjectAccessReport(idNumber: ID!): SubjectAccessReport!
    "Checks every audit chain and its signed checkpoints (auditors only)."
    auditIntegrity: IntegrityReport!
    "Unusual access in [from, to): volume outliers, night access, FORBIDDEN bursts, large operations (auditors only)."
    auditAnomalies(from: String!, to: String!): [AuditFinding!]!
  }

  enum AuditDecision {
    allow
    deny
    error
  }

  "Times are ISO 8601: a date (midnight UTC) or a date-time with a zone. from is inclusive, to exclusive."
  input AuditEventFilter {
    from: String
    to: String
    "The actor's sub."
    actor: String
    "The actor's organisation."
    org: String
    purpose: String
    decision: AuditDecision
    "Events whose answer carried this person's data."
    subjectIdNumber: ID
    "The case or application number sent in X-Case-Ref (exact match)."
    caseRef: String
  }

  type AuditActor {
    sub: String
    org: String
    roles: [String!]!
  }

  type AuditEvent {
    chainId: String!
    "Sequence number in the chain (a 64-bit integer, as a string)."
    seq: String!
    "When the audit log recorded the event."
    time: String!
    "When the operation started."
    startedAt: String!
    durationMs: Int!
    actor: AuditActor!
    purpose: String
    operationType: String!
    operationName: String
    operationHash: String
    "dataset.field names read (or asked for, when refused)."
    fields: [String!]!
    decision: AuditDecision!
    reason: String
    rows: Int!
    "How many persons' data the answer carried (their ids are stored only as keyed hashes)."
    subjectCount: Int!
    "For administrative changes: what changed, as JSON."
    change: String
    requestId: String!
    instance: String!
    "The case or application number sent in X-Case-Ref, if any."
    caseRef: String
    prevHash: String!
    hash: String!
    "The chain hash algorithm of this event: sha256, or sm3 (AUDIT_CRYPTO=sm)."
    hashAlg: String!
  }

  type AuditEventEdge {
    cursor: String!
    node: AuditEvent!
  }

  type AuditPageInfo {
    hasNextPage: Boolean!
    endCursor: String
  }

  type AuditEventConnection {
    edges: [AuditEventEdge!]!
    pageInfo: AuditPageInfo!
    totalCount: Int!
  }

  type SubjectAccess {
    time: String!
    actorSub: String
    actorOrg: String
    purpose: String
    operationType: String!
    operationName: String
    decision: AuditDecision!
    fields: [String!]!
    chainId: String!
    seq: String!
  }

  type SubjectAccessReport {
    idNumber: ID!
    totalAccesses: Int!
    "Newest first; truncated when there are more than the report lists."
    accesses: [SubjectAccess!]!
    truncated: Boolean!
  }

  type AuditIntegrityProblem {
    chainId: String!
    seq: String!
    "altered, deleted, inserted, reordered, rehashed, bad-signature or unsigned-tail."
    kind: String!
    message: String!
  }

  type AuditChainIntegrity {
    chainId: String!
    events: Float!
    firstSeq: String
    lastSeq: String
    checkpoints: Float!
    lastCheckpointSeq: String
    "Events after the last signed checkpoint: protected by the hash chain only."
    unsignedTail: Float!
    "The chain's first events up to this seq were archived (old partitions detached)."
    archivedThrough: String
    "Hash algorithms of the events checked: sha256, sm3."
    hashAlgorithms: [String!]!
    "Signature algorithms of the checkpoints confirmed: ed25519, sm2."
    signatureAlgorithms: [String!]!
    intact: Boolean!
    firstProblem: AuditIntegrityProblem
  }

  type IntegrityReport {
    intact: Boolean!
    checkedAt: String!
    events: Float!
    checkpoints: Float!
    chains: [AuditChainIntegrity!]!
    "Every algorithm checked, by name: SHA-256, Ed25519, SM3, SM2."
    algorithms: [String!]!
    firstProblem: AuditIntegrityProblem
  }

  type AuditFinding {
    "volume-outlier, night-access, forbidden-burst or large-operation."
    kind: String!
    actorSub: String
    actorOrg: String
    message: String!
    from: String!
    to: String!
    metric: Float!
    threshold: Float!
    eventCount: Int!
    events: [AuditEvent!]!
  }
`;

export interface AuditResolverDeps {
  readonly reader: Pick<AuditReader, 'searchEvents' | 'subjectAccessReport' | 'anomalies'>;
  readonly verify: () => Promise<IntegrityReport>;
}

function requireAuditor(context: object): Viewer {
  const viewer = resolverContext(context).viewer;
  if (!hasRole(viewer, 'auditor')) throw new GatewayError('FORBIDDEN', 'Only auditors may read the audit trail.');
  return viewer!;
}

const iso = (d: Date): string => d.toISOString();
const seqString = (n: number | null | undefined): string | null => (n === null || n === undefined ? null : String(n));
const INT_MAX = 2_147_483_647;

export function auditResolvers(deps: AuditResolverDeps): IResolvers {
  return {
    Query: {
      auditEvents: async (_: unknown, args: { filter?: AuditEventFilter | null; first?: number | null; after?: string | null }, context: object) => {
        requireAuditor(context);
        const filter = args.filter ?? {};
        const page = await deps.reader.searchEvents(filter, args.first ?? 50, args.after);
        // Searching the trail for a person is a look-up of that person, as subjectAccessReport is.
        if (filter.subjectIdNumber) resolverContext(context).trace.subjects.add(filter.subjectIdNumber.trim());
        return page;
      },
      subjectAccessReport: async (_: unknown, args: { idNumber: string }, context: object) => {
        requireAuditor(context);
        const report = await deps.reader.subjectAccessReport(args.idNumber);
        // Looking a person up is itself an access to what is known about them: the event of this
        // query names them (as a keyed hash, like every subject), so it shows in their next report.
        resolverContext(context).trace.subjects.add(report.idNumber);
        return report;
      },
      auditIntegrity: async (_: unknown, __: unknown, context: object) => {
        requireAuditor(context);
        return deps.verify();
      },
      auditAnomalies: async (_: unknown, args: { from: string; to: string }, context: object) => {
        requireAuditor(context);
        return deps.reader.anomalies(parseInstant(args.from, 'from'), parseInstant(args.to, 'to'));
      },
    },
    AuditEventConnection: {
      totalCount: async (page: AuditEventPage) => Math.min(INT_MAX, await page.totalCount()),
    },
    AuditEvent: {
      seq: (r: AuditEventSummary) => String(r.seq),
      time: (r: AuditEventSummary) => iso(r.time),
      startedAt: (r: AuditEventSummary) => iso(r.startedAt),
      actor: (r: AuditEventSummary) => ({ sub: r.actorSub, org: r.actorOrg, roles: r.actorRoles }),
      // A search page carries the count (AuditEventSummary); an anomaly's events the whole record.
      subjectCount: (r: AuditRecord | AuditEventSummary) => ('subjectCount' in r ? r.subjectCount : r.subjectHashes.length),
      change: (r: AuditEventSummary) => (r.change === null ? null : JSON.stringify(r.change)),
    },
    SubjectAccess: {
      time: (r: { time: Date }) => iso(r.time),
      seq: (r: { seq: number }) => String(r.seq),
    },
    AuditIntegrityProblem: {
      seq: (p: { seq: number }) => String(p.seq),
    },
    AuditChainIntegrity: {
      firstSeq: (c: { firstSeq: number | null }) => seqString(c.firstSeq),
      lastSeq: (c: { lastSeq: number | null }) => seqString(c.lastSeq),
      lastCheckpointSeq: (c: { lastCheckpointSeq: number | null }) => seqString(c.lastCheckpointSeq),
      archivedThrough: (c: { archivedThrough: number | null }) => seqString(c.archivedThrough),
    },
    AuditFinding: {
      from: (f: { from: Date }) => iso(f.from),
      to: (f: { to: Date }) => iso(f.to),
    },
  };
}
