/**
 * useRateLimit: every authenticated request counts against its user's and its organisation's
 * budget (per role, `RATE_LIMITS`). Over budget: 429 RATE_LIMITED with `Retry-After`, audited
 * like an UNAUTHENTICATED refusal, and nothing else runs: the body is not even read.
 *
 * Runs in `onRequest` right after useAuthentication, which has verified the token by then; the
 * viewer comes from useAuthentication (`viewerOf`), which runs first.
 */
import type { Plugin } from 'graphql-yoga';
import type { AuditSink } from '../../audit/audit-event.ts';
import type { Viewer } from '../../core/identity.ts';
import { GatewayError } from '../../core/errors.ts';
import type { RateLimiter } from '../rate-limit/rate-limiter.ts';
import { describeRule } from '../rate-limit/rate-limit-rules.ts';
import { requestIdOf } from './use-authentication.ts';
import { AUDIT_UNAVAILABLE, auditRefusal, refusalResponse } from './refusal.ts';

export interface RateLimitOptions {
  /** Null: rate limiting is off (`RATE_LIMITS=off`). */
  readonly limiter: RateLimiter | null;
  readonly viewerOf: (request: Request) => Promise<Viewer | undefined>;
  readonly audit: AuditSink;
  /** Counts refusals (`rate_user`, `rate_org`), e.g. `runtime.metrics.limitHit`. */
  readonly onLimited?: (kind: string) => void;
}

/** GraphiQL's page itself needs no token (useAuthentication lets it through too). */
function wantsGraphiQL(request: Request): boolean {
  return request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html');
}

export function useRateLimit(options: RateLimitOptions): Plugin {
  const limiter = options.limiter;
  if (!limiter) return {};
  return {
    async onRequest({ request, endResponse }) {
      if (wantsGraphiQL(request) || request.method === 'OPTIONS') return;
      const started = Date.now();
      const viewer = await options.viewerOf(request);
      if (!viewer) return; // useAuthentication has answered 401 already
      const decision = await limiter.check(viewer);
      if (decision.allowed) return;
      options.onLimited?.(`rate_${decision.scope}`);
      const retryAfter = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
      const whose = decision.scope === 'user' ? 'your' : "your organisation's";
      const error = new GatewayError('RATE_LIMITED', `${whose} rate limit of ${describeRule(decision.rule)} is used up; retry in ${retryAfter} s`, {
        details: { scope: decision.scope, limit: decision.rule.limit, windowMs: decision.rule.windowMs, retryAfter },
      });
      const stored = await auditRefusal(options.audit, { request, viewer, error, started, requestId: requestIdOf(request) });
      endResponse(stored ? refusalResponse(error, 429, { 'retry-after': String(retryAfter) }) : AUDIT_UNAVAILABLE());
    },
  };
}
