/**
 * useAudit: exactly one audit event per request that reaches GraphQL processing, stored durably
 * before the answer leaves. If the event cannot be stored, the answer is replaced by
 * SERVICE_UNAVAILABLE: no data without a trace.
 *
 * - An executed operation, allowed or denied, is recorded from `onExecuteDone`. Registered before
 *   useAuthorization, so operations that authorization or a limit stopped are seen too.
 * - Execution that rejects (the client went away, the executor was aborted, a plugin failed) is
 *   turned into an answer here, so that `onExecuteDone` still runs: the event says `error` and
 *   carries the rows read until then. A deadline's answer is recorded the same way.
 * - A request that never executes (a parse or validation error, a document over the token limit,
 *   an unknown operation name, a subscription, a persisted-operation refusal) is recorded from
 *   yoga's `onExecutionResult`, which every GraphQL answer passes.
 * - A request refused before it has GraphQL parameters (a body that is not JSON, a batch array,
 *   `variables` that are not an object, no query) is recorded from `onResultProcess`.
 *
 * Requests refused before they are parsed (token, purpose, rate, body size) are audited by the
 * plugin that refuses them (refusal.ts); the request's state remembers that it has its event.
 */
import { createHash } from 'node:crypto';
import { getOperationAST, print, type ExecutionArgs, type ExecutionResult, type GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { AuditDecision, AuditSink, EventOutcome } from '../../audit/audit-event.ts';
import { contextState, noteParsedOperation, requestState, type RequestState } from './request-state.ts';
import type { AccessPlan } from '../../policies/access-plan.ts';
import { GatewayError, isErrorCode, isGatewayError } from '../../core/errors.ts';
import { normalizeError } from './normalize-error.ts';
import { auditUnavailable } from './refusal.ts';
import { recordRequestEvent } from './request-event.ts';

export interface AuditOptions {
  readonly sink: AuditSink;
}

const hashes = new WeakMap<object, string>();

function documentHash(document: object): string {
  let hash = hashes.get(document);
  if (!hash) {
    hash = createHash('sha256').update(print(document as never)).digest('hex');
    hashes.set(document, hash);
  }
  return hash;
}

/** "grants: a, b" for an allowed operation: the same for every request under one (cached) plan. */
const grantLists = new WeakMap<AccessPlan, string>();
function grantsOf(plan: AccessPlan): string {
  let list = grantLists.get(plan);
  if (list === undefined) {
    list = `grants: ${[...plan.datasets.values()].flatMap((d) => d.grants).join(', ')}`;
    grantLists.set(plan, list);
  }
  return list;
}

/**
 * The trace's field names sorted, as recorded. They follow from the document (and the variables,
 * a directive's condition; and what a resolver adds), so the same document mostly yields the same
 * names in the same order: the last sorted list per document is reused when the trace holds exactly
 * the names it was made from, in the same order; otherwise it is sorted anew. The list is frozen:
 * every event shares it, nothing may change it.
 */
const sortedFields = new WeakMap<object, { readonly from: readonly string[]; readonly sorted: readonly string[] }>();
function fieldsOf(document: object, fields: ReadonlySet<string>): readonly string[] {
  const last = sortedFields.get(document);
  if (last && last.from.length === fields.size) {
    let i = 0;
    let same = true;
    for (const name of fields) {
      if (name !== last.from[i++]) {
        same = false;
        break;
      }
    }
    if (same) return last.sorted;
  }
  const from = Object.freeze([...fields]);
  const sorted = Object.freeze([...from].sort());
  sortedFields.set(document, { from, sorted });
  return sorted;
}

/** Whether `value` is a promise (or any thenable), to wait for it only then. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

const DENIALS = new Set(['FORBIDDEN', 'PURPOSE_REQUIRED', 'UNAUTHENTICATED', 'QUERY_TOO_COMPLEX', 'RATE_LIMITED', 'BAD_USER_INPUT']);

/**
 * An answered error's code. Errors are seen here before masking: a source failure still wrapped
 * in its GraphQLError is recorded with the code the caller gets (SERVICE_UNAVAILABLE); GraphQL's
 * own request errors (syntax, validation, coercion) carry none and are the caller's input.
 */
function codeOf(error: GraphQLError): string {
  const code = error.extensions?.code;
  if (isErrorCode(code)) return code;
  return error.originalError ? normalizeError(error).code : 'BAD_USER_INPUT';
}

/** What the caller is told: an unexpected error's own message (it may hold anything) is never recorded. */
function messageOf(error: GraphQLError): string {
  if (isGatewayError(error) || !error.originalError) return error.message;
  return normalizeError(error).message;
}

function outcome(result: ExecutionResult): { decision: AuditDecision; reason: string | null } {
  const errors = result.errors ?? [];
  if (errors.length === 0) return { decision: 'allow', reason: null };
  const codes = errors.map(codeOf);
  const denied = codes.find((c) => DENIALS.has(c));
  const first = errors[0]!;
  if (denied && !result.data) return { decision: 'deny', reason: `${denied}: ${messageOf(first)}` };
  return { decision: 'error', reason: `${codes[0]}: ${messageOf(first)}` };
}

/** A rejected execution as an answer: the client's abort, or whatever the executor threw. */
function rejectionResult(caught: unknown, request: Request | undefined): ExecutionResult {
  const aborted = request?.signal.aborted || (caught as { name?: string } | null)?.name === 'AbortError';
  const error = aborted
    ? new GatewayError('SERVICE_UNAVAILABLE', 'the request was aborted before its answer was complete; no data was returned', { details: { aborted: true } })
    : normalizeError(caught);
  return { errors: [error] };
}

export function useAudit(options: AuditOptions): Plugin {
  const record = (state: RequestState, request: Request | undefined, event: EventOutcome): Promise<boolean> => recordRequestEvent(options.sink, state, request, event);

  return {
    onParse: noteParsedOperation,

    onExecute({ args, executeFn, setExecuteFn }) {
      const request = (args.contextValue as { request?: Request }).request;
      // A throw or a rejection becomes the answer; a result that is already there is not wrapped
      // in a promise of its own (one promise per request fewer).
      const rejected = (caught: unknown) => rejectionResult(caught, request);
      setExecuteFn(((execArgs: ExecutionArgs) => {
        try {
          const result = executeFn(execArgs);
          return isThenable(result) ? Promise.resolve(result).catch(rejected) : result;
        } catch (caught) {
          return rejected(caught);
        }
      }) as never);
      return {
        async onExecuteDone({ result, setResult }) {
          if (Symbol.asyncIterator in (result as object)) return; // no streaming operations in this schema
          const executed = result as ExecutionResult;
          const state = contextState(args.contextValue);
          const operation = getOperationAST(args.document, args.operationName);
          let { decision, reason } = outcome(executed);
          if (decision === 'allow' && request?.signal.aborted) {
            // The rows were read, but the answer never reached the client.
            decision = 'error';
            reason = 'SERVICE_UNAVAILABLE: the request was aborted before its answer was complete';
          }
          const stored = await record(state, request, {
            operationType: operation?.operation ?? 'query',
            operationName: args.operationName ?? operation?.name?.value ?? null,
            operationHash: documentHash(args.document),
            fields: fieldsOf(args.document, state.trace.fields),
            filters: state.filters ?? [],
            decision,
            reason: reason ?? (state.access ? grantsOf(state.access) : null),
            rows: state.trace.rows,
            subjects: [...state.trace.subjects],
            subjectFields: state.trace.subjectFields,
            change: state.trace.change ?? null,
          });
          if (!stored) setResult({ errors: [new GatewayError('SERVICE_UNAVAILABLE', 'audit log unavailable; no data was returned')] });
        },
      };
    },

    // Every GraphQL answer passes here; one that never executed has no event yet.
    async onExecutionResult({ result, setResult, request, context }) {
      const state = requestState(request);
      if (state.audited) return;
      const answer: ExecutionResult = Symbol.asyncIterator in (result as object) || Array.isArray(result) ? { errors: [] } : (result as ExecutionResult);
      let { decision, reason } = outcome(answer);
      if (decision === 'allow') {
        // Nothing executed and no error: a streamed answer (subscriptions are not served) or an abort.
        decision = 'error';
        reason = request.signal.aborted ? 'SERVICE_UNAVAILABLE: the request was aborted' : 'BAD_USER_INPUT: the operation was not executed';
      }
      const stored = await record(state, request, {
        operationType: state.operation?.type ?? 'http',
        operationName: state.operation?.name ?? (context as { params?: { operationName?: string | null } }).params?.operationName ?? null,
        decision,
        reason,
      });
      if (!stored) setResult({ errors: [auditUnavailable()] });
    },

    // A request yoga refused before there was an operation (a body that is not JSON, a batch array,
    // parameters of the wrong shape, a body whose reading the client aborted) reaches no hook above:
    // its answer passes only here, and gets its one event here.
    async onResultProcess({ request, result, setResult }) {
      const state = requestState(request);
      if (state.audited) return;
      const first = Array.isArray(result) || Symbol.asyncIterator in (result as object) ? undefined : (result as ExecutionResult).errors?.[0];
      const aborted = request.signal.aborted;
      const stored = await record(state, request, {
        operationType: 'http',
        operationName: null,
        decision: aborted ? 'error' : 'deny',
        reason: aborted ? 'SERVICE_UNAVAILABLE: the request was aborted before it was read' : `BAD_USER_INPUT: ${first?.message ?? 'the request is not a GraphQL operation'}`,
      });
      if (!stored) setResult({ errors: [auditUnavailable()] });
    },
  };
}
