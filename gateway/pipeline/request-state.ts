/**
 * The per-request state the plugins hand each other: ONE store, keyed by the `Request`, the one
 * object that lives through every phase of a request (onRequest, parsing, execution, the result,
 * the response), as yoga's own plugins keep theirs. It disappears with the request.
 *
 * The resolver context ({@link ResolverContext}, what resolvers may read) is this same object,
 * hung on the GraphQL context under RESOLVER_CONTEXT by useAuthentication.
 */
import { getOperationAST, type DocumentNode } from 'graphql';
import type { Viewer } from '../../core/identity.ts';
import { newTrace } from '../../audit/audit-event.ts';
import type { ResolverContext } from '../../schema/resolver-context.ts';

export interface RequestState extends ResolverContext {
  /** The server-made id of the request (the `x-request-id` response header; its audit event's id). */
  readonly requestId: string;
  /** When handling started: `performance.now()` for durations, `Date.now()` for the event's time. */
  readonly startedAt: number;
  readonly started: number;
  /** The verified caller (useAuthentication). */
  viewer?: Viewer;
  /** The declared duty (`X-Purpose`), once it is known to be a well-formed duty id. */
  purpose?: string;
  /** The raw `X-Case-Ref`, trimmed (the audit event keeps its recorded form). */
  caseRef?: string;
  /** The operation about to run, once parsed (useTelemetry; for the audit event and the log line). */
  operation?: { readonly name: string | null; readonly type: string };
  /** The request's one audit event has been written (or could not be): no second one. */
  audited: boolean;
  /** `dataset.field` the operation filters, sorts or looks up by (useAuthorization; for the audit event). */
  filters?: readonly string[];
  /** The request's log line and metrics observation are written (useTelemetry). */
  logged?: boolean;
}

const states = new WeakMap<Request, RequestState>();

/** The state of `request`, created on first use. */
export function requestState(request: Request): RequestState {
  let state = states.get(request);
  if (!state) {
    state = { requestId: crypto.randomUUID(), startedAt: performance.now(), started: Date.now(), trace: newTrace(), audited: false };
    states.set(request, state);
  }
  return state;
}

/** The state of the request a yoga context belongs to (`context.request`). */
export function contextState(context: unknown): RequestState {
  const request = (context as { request?: Request } | null | undefined)?.request;
  if (!request) throw new TypeError('no request in the GraphQL context: the pipeline runs inside yoga only');
  return requestState(request);
}

/**
 * An envelop `onParse` hook noting the parsed operation's name and type in the request's state
 * (for the audit event and the log line, also when the operation never executes). Idempotent, so
 * each plugin that needs it registers it and works on its own.
 */
export function noteParsedOperation({ context }: { context: unknown }) {
  return ({ result }: { result: unknown }) => {
    const request = (context as { request?: Request } | null)?.request;
    if (!request || !result || result instanceof Error) return;
    const operationName = (context as { params?: { operationName?: string | null } }).params?.operationName;
    const operation = getOperationAST(result as DocumentNode, operationName);
    if (operation) requestState(request).operation = { name: operation.name?.value ?? null, type: operation.operation };
  };
}
