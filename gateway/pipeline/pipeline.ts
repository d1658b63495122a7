/**
 * The request pipeline: the ONE ordered list of plugins every GraphQL request passes, and why it
 * is in this order. `createGateway` composes it with the schema; the bench replaces stages through
 * {@link PipelineStages} (code, never configuration: no setting switches off authorization,
 * masking or audit).
 */
import type { Plugin } from 'graphql-yoga';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { AuditSink } from '../../audit/audit-event.ts';
import type { Runtime } from '../runtime.ts';
import { enableIf } from './enable-if.ts';
import { useTelemetry } from './use-telemetry.ts';
import { useAuthentication } from './use-authentication.ts';
import { useRateLimit } from './use-rate-limit.ts';
import { useBodyLimit } from './use-body-limit.ts';
import { usePersistedOperationsOnly } from './use-persisted-operations.ts';
import { useAudit } from './use-audit.ts';
import { useTokenLimit } from './use-token-limit.ts';
import { useOperationLimits } from './use-operation-limits.ts';
import { useDeadline } from './use-deadline.ts';
import { useSchemaPrivacy } from './use-schema-privacy.ts';
import { useAuthorization } from './use-authorization.ts';
import { useEmergency } from './use-emergency.ts';

/** Stages a caller may replace: the seam the benchmark's baseline uses (bench/baseline/). */
export interface PipelineStages {
  /** Replaces useAuthorization (the access plan, masks and row conditions). */
  readonly authorization?: Plugin;
  /** Replaces the audit log every stage writes to; `null` removes useAudit and keeps no event. */
  readonly audit?: AuditSink | null;
}

/** Takes every event and keeps none: only reachable through {@link PipelineStages.audit} `null`. */
const DISCARD: AuditSink = { append: async () => {} };

export function createPipeline(runtime: Runtime, stages: PipelineStages = {}): Plugin[] {
  const audit = stages.audit === null ? DISCARD : (stages.audit ?? runtime.audit);
  const onLimited = (kind: string) => runtime.metrics.limitHit(kind);
  const limits = runtime.config.limits;

  // Order matters:
  // 1. useTelemetry first, so that it sees every request start, even one a later plugin ends
  //    early; it reads the final answer (after useAudit and error masking) for its log line and
  //    metrics, and notes the parsed operation's name and type in the request's state.
  // 2. useAuthentication (onRequestParse) refuses a request without a valid token, or with an
  //    X-Purpose that is not a duty id, before its body is read.
  // 3. useRateLimit counts the authenticated request against its user and organisation before its
  //    body is read; 429 + Retry-After.
  // 4. useCSRFPrevention and useBodyLimit (onRequestParse) refuse a browser "simple" request
  //    without a preflight-forcing header and a body over MAX_BODY_BYTES (413). Authorization and
  //    X-Purpose are not CORS-safelisted, so a browser sends neither without a preflight;
  //    Content-Type is not in the list: text/plain is "simple" and carries one. Then, in
  //    allow-list mode, only persisted operations get past onParams.
  //    (2-4 audit their refusals themselves: those requests are never parsed.)
  // 5. useAudit registers its hooks before anything can stop execution, so that every operation,
  //    denied, failed, aborted or timed out, leaves its one event, and so does every answer that
  //    never executed; it replaces the answer if the event cannot be stored.
  // 6. useTokenLimit parses with a token ceiling; useOperationLimits checks depth, aliases, root
  //    fields, cost and page size in onExecute, after useAudit (which audits the refusal) and
  //    before authorization, so nothing is authorized or read for an operation over a limit;
  //    useDeadline bounds the execution that follows.
  // 7. useSchemaPrivacy: introspection only for platform admins in production (audited by
  //    useAudit), and no "Did you mean" suggestions for anyone else.
  // 8. useEmergency checks an X-Emergency session (after useAudit, which records a refusal) and
  //    hands useAuthorization the widening; useAuthorization checks the whole operation against
  //    the access plan; nothing is read when either says no.
  return [
    useTelemetry({ logger: runtime.logger, metrics: runtime.metrics }),
    useAuthentication({ authenticator: runtime.authenticator, audit }),
    useRateLimit({ limiter: runtime.rateLimiter, audit, onLimited }),
    useCSRFPrevention({ requestHeaders: ['authorization', 'x-purpose', 'x-case-ref', 'x-graphql-yoga-csrf'] }),
    useBodyLimit({ maxBytes: limits.maxBodyBytes, audit, onLimited }),
    enableIf(runtime.persistedOperations, () => usePersistedOperationsOnly(runtime.persistedOperations!)),
    enableIf(stages.audit !== null, () => useAudit({ sink: audit })),
    useTokenLimit({ maxTokens: limits.maxTokens, onLimited }),
    useOperationLimits({
      maxDepth: limits.maxDepth,
      maxAliases: limits.maxAliases,
      maxRootFields: limits.maxRootFields,
      maxCost: limits.maxCost,
      onLimited,
    }),
    useDeadline({ timeoutMs: limits.operationTimeoutMs, onLimited }),
    useSchemaPrivacy({ production: runtime.config.production }),
    useEmergency({ sessions: runtime.emergencySessions, grants: () => runtime.authorizer.grants() }),
    stages.authorization ?? useAuthorization({ authorizer: runtime.authorizer }),
  ];
}
