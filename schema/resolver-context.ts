/**
 * What resolvers need from the request they serve, declared here so that the schema never reaches
 * into the gateway: the gateway fills one {@link ResolverContext} per request and hangs it on the
 * GraphQL context under {@link RESOLVER_CONTEXT}; resolvers read it with {@link resolverContext}.
 */
import type { Viewer } from '../core/identity.ts';
import type { DatasetName } from '../core/datasets.ts';
import type { AccessPlan } from '../policies/access-plan.ts';
import type { AuditTrace } from '../audit/audit-event.ts';

export interface ResolverContext {
  /** The server-made id of the request (and of its one audit event). */
  readonly requestId: string;
  readonly viewer?: Viewer;
  /** The duty declared in `X-Purpose`. */
  readonly purpose?: string;
  /** The case or application number declared in `X-Case-Ref` (raw; the audit event keeps its recorded form). */
  readonly caseRef?: string;
  /** What the operation did so far; written into its audit event. */
  readonly trace: AuditTrace;
  /** Set by authorization; shared-data resolvers refuse to run without it. */
  access?: AccessPlan;
  /** Dataset fields the operation selects (from the authorization walk): the connectors' projection. */
  reads?: Map<DatasetName, Set<string>>;
  /** Per-request DataLoaders, created lazily by the shared-data resolvers. */
  loaders?: unknown;
}

/** The GraphQL context key under which the gateway puts the request's {@link ResolverContext}. */
export const RESOLVER_CONTEXT = 'lianqiao';

/** The request's resolver context; throws when a resolver runs outside the gateway's pipeline. */
export function resolverContext(context: unknown): ResolverContext {
  const state = (context as Record<string, ResolverContext | undefined> | null)?.[RESOLVER_CONTEXT];
  if (!state) throw new TypeError('resolver called without the gateway pipeline: refusing to run');
  return state;
}
