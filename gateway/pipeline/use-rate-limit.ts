/**
 * useRateLimit: every authenticated request counts against its user's and its organisation's
 * budget (per role, `RATE_LIMITS`). Over budget: 429 RATE_LIMITED with `Retry-After`, audited
 * like an UNAUTHENTICATED refusal, and nothing else runs: the body is not even read.
 *
 * Runs in `onRequestParse` right after useAuthentication, which has verified the token and put
 * the viewer in the request's state by then.
 */
import type { Plugin } from 'graphql-yoga';
import type { AuditSink } from '../../audit/audit-event.ts';
import { GatewayError } from '../../core/errors.ts';
import type { RateLimiter } from '../rate-limit/rate-limiter.ts';
import { describeRule } from '../rate-limit/rate-limit-rules.ts';
import { requestState } from './request-state.ts';
import { wantsGraphiQL } from './use-authentication.ts';
import { refuse } from './refusal.ts';

export interface RateLimitOptions {
  /** Null: rate limiting is off (`RATE_LIMITS=off`). */
  readonly limiter: RateLimiter | null;
  readonly audit: AuditSink;
  /** Counts refusals (`rate_user`, `rate_org`), e.g. `runtime.metrics.limitHit`. */
  readonly onLimited?: (kind: string) => void;
}

export function useRateLimit(options: RateLimitOptions): Plugin {
  const limiter = options.limiter;
  if (!limiter) return {};
  return {
    async onRequestParse({ request }) {
      if (wantsGraphiQL(request) || request.method === 'OPTIONS') return;
      const viewer = requestState(request).viewer;
      if (!viewer) return; // useAuthentication has refused it already
      const decision = await limiter.check(viewer);
      if (decision.allowed) return;
      options.onLimited?.(`rate_${decision.scope}`);
      const retryAfter = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
      const whose = decision.scope === 'user' ? 'your' : "your organisation's";
      const error = new GatewayError('RATE_LIMITED', `${whose} rate limit of ${describeRule(decision.rule)} is used up; retry in ${retryAfter} s`, {
        details: { scope: decision.scope, limit: decision.rule.limit, windowMs: decision.rule.windowMs, retryAfter },
        http: { status: 429, headers: { 'retry-after': String(retryAfter) } },
      });
      return refuse(options.audit, request, error);
    },
  };
}
