/**
 * useTelemetry: one structured log line and one metrics observation per GraphQL request.
 *
 * The log line carries the request id (the audit event's), the actor (sub, org), the purpose, the
 * operation name and type, the decision and code the caller saw, rows returned and the duration;
 * never variables, fields' values or SQL (see `gateway/logger.ts` for the redaction behind it).
 *
 * It reads the *final* answer: `onResultProcess` runs after every plugin's after-hook (useAudit
 * replacing an answer it could not record, error masking), so decision and code are what the
 * caller got. Requests ended before execution (401 from useAuthentication, a rate limit, a body
 * too large) never reach a result; `onResponse` records those from their HTTP status.
 *
 * Registered first in the plugin list so that its `onRequest` sees every request (the start time)
 * even when a later plugin ends it early.
 */
import type { ExecutionResult, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { noteParsedOperation, requestState } from './request-state.ts';
import { isErrorCode } from '../../core/errors.ts';
import { scrubText } from '../../core/personal-data.ts';
import type { GatewayMetrics, OperationDecision } from '../metrics.ts';
import { isResident } from '../../core/identity.ts';

export interface TelemetryOptions {
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
}

const DENIALS = new Set(['FORBIDDEN', 'PURPOSE_REQUIRED', 'UNAUTHENTICATED', 'QUERY_TOO_COMPLEX', 'RATE_LIMITED', 'BAD_USER_INPUT']);

/**
 * The code of an answered error. Masked errors carry the closed model's code; request errors
 * (syntax, validation, variable coercion) carry none and are the caller's input.
 */
export function codeOf(error: GraphQLError | { extensions?: Record<string, unknown> }): string {
  const code = error.extensions?.code;
  return isErrorCode(code) ? code : 'BAD_USER_INPUT';
}

/** The same classification as the audit event's: denied before reading, or failed while answering. */
export function classify(result: ExecutionResult): { decision: OperationDecision; code: string } {
  const errors = result.errors;
  if (!errors || errors.length === 0) return { decision: 'allow', code: 'OK' };
  const code = codeOf(errors[0]!);
  const denied = errors.some((e) => DENIALS.has(codeOf(e)));
  return { decision: denied && !result.data ? 'deny' : 'error', code };
}

/** What an answer that never reached execution means, from its HTTP status. */
function classifyStatus(status: number): { decision: OperationDecision; code: string } {
  if (status < 300) return { decision: 'allow', code: 'OK' };
  if (status === 401) return { decision: 'deny', code: 'UNAUTHENTICATED' };
  if (status === 429) return { decision: 'deny', code: 'RATE_LIMITED' };
  if (status === 413) return { decision: 'deny', code: 'QUERY_TOO_COMPLEX' };
  if (status === 503) return { decision: 'error', code: 'SERVICE_UNAVAILABLE' };
  if (status >= 500) return { decision: 'error', code: 'INTERNAL_SERVER_ERROR' };
  return { decision: 'deny', code: 'BAD_USER_INPUT' };
}

const round = (ms: number) => Math.round(ms * 10) / 10;

export function useTelemetry(options: TelemetryOptions): Plugin {
  const { logger, metrics } = options;

  const record = (request: Request, decision: OperationDecision, code: string, status?: number) => {
    const state = requestState(request);
    state.logged = true;
    const ms = performance.now() - state.startedAt;
    const name = state.operation?.name ?? null;
    metrics.operation(name, decision, code, ms / 1000);
    const level = decision !== 'error' ? 'info' : code === 'INTERNAL_SERVER_ERROR' ? 'error' : 'warn';
    if (!logger.isLevelEnabled(level)) return;
    logger[level](
      {
        requestId: state.requestId,
        // A resident's sub is their ID number: the log line says only that a resident asked.
        actor: state.viewer ? { sub: isResident(state.viewer) ? 'resident' : state.viewer.sub, org: state.viewer.org } : null,
        purpose: state.purpose ? scrubText(state.purpose.slice(0, 100)) : null,
        operation: name ? name.slice(0, 100) : null,
        operationType: state.operation?.type ?? null,
        decision,
        code,
        rows: decision === 'allow' || decision === 'error' ? state.trace.rows : 0,
        durationMs: round(ms),
        ...(status !== undefined ? { status } : {}),
      },
      'operation',
    );
  };

  return {
    onRequest({ request }) {
      requestState(request); // the start time
    },
    // The operation's name and type, for this line and the audit event (the state keeps them).
    onParse: noteParsedOperation,
    onResultProcess({ request, result }) {
      if (requestState(request).logged || Array.isArray(result) || Symbol.asyncIterator in (result as object)) return;
      const { decision, code } = classify(result as ExecutionResult);
      // A refusal before parsing (401, 413, 429, 503) carries its status: log it as onResponse would.
      const statuses = ((result as ExecutionResult).errors ?? []).map((e) => Number((e.extensions?.http as { status?: number } | undefined)?.status ?? 0));
      const status = Math.max(0, ...statuses);
      record(request, decision, code, status >= 300 && !requestState(request).operation ? status : undefined);
    },
    onResponse({ request, response }) {
      if (requestState(request).logged) return;
      if ((response.headers.get('content-type') ?? '').startsWith('text/html')) return; // GraphiQL
      const { decision, code } = classifyStatus(response.status);
      record(request, decision, code, response.status);
    },
  };
}
