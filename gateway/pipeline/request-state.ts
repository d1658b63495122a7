/**
 * The per-request state the plugins hand each other.
 *
 * Plugins never hang loose fields on the yoga context: each request's state lives in one
 * {@link RequestState} kept in a WeakMap keyed by the context object, so it disappears with it.
 */
import type { Viewer } from '../../core/identity.ts';
import { newTrace } from '../../audit/audit-event.ts';
import type { ResolverContext } from '../../schema/resolver-context.ts';

export interface RequestState extends ResolverContext {
  /** The HTTP request's id (the `x-request-id` response header); one per operation's audit event. */
  requestId: string;
  readonly startedAt: number;
  viewer?: Viewer;
  purpose?: string;
}

const states = new WeakMap<object, RequestState>();

/** The state of the request a yoga context belongs to, created on first use. */
export function requestState(context: object): RequestState {
  let state = states.get(context);
  if (!state) {
    state = { requestId: crypto.randomUUID(), startedAt: performance.now(), trace: newTrace() };
    states.set(context, state);
  }
  return state;
}
