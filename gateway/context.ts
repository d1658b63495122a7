/**
 * Who is asking, and the per-request state the plugins hand each other.
 *
 * Plugins never hang loose fields on the yoga context: each request's state lives in one
 * {@link RequestState} kept in a WeakMap keyed by the context object, so it disappears with it.
 */
export const ROLES = ['street_staff', 'street_admin', 'data_owner', 'auditor', 'platform_admin'] as const;
export type Role = (typeof ROLES)[number];

/** The authenticated caller, from the token's claims. */
export interface Viewer {
  readonly sub: string;
  readonly org: string;
  readonly roles: readonly Role[];
}

/** What one operation did, gathered while it runs and written as its audit event. */
export interface AuditTrace {
  /** `dataset.field` read by the operation (as authorized, before execution). */
  fields: Set<string>;
  /** Rows of source data returned to the caller. */
  rows: number;
  /** idNumbers of persons whose data the answer carried (hashed before storage). */
  subjects: Set<string>;
  /** For administrative changes: what changed. */
  change?: Record<string, unknown>;
}

export interface RequestState {
  /** The HTTP request's id (the `x-request-id` response header); one per operation's audit event. */
  requestId: string;
  readonly startedAt: number;
  viewer?: Viewer;
  purpose?: string;
  trace: AuditTrace;
  /** Set by the authorization plugin; resolvers of shared data refuse to run without it. */
  access?: import('../policies/access-plan.ts').AccessPlan;
  /** Dataset fields the operation selects (from the authorization walk): the connectors' projection. */
  reads?: Map<import('../connectors/datasets.ts').DatasetName, Set<string>>;
  /** Per-request DataLoaders, created lazily by the shared-data resolvers. */
  loaders?: unknown;
}

const states = new WeakMap<object, RequestState>();

export function newTrace(): AuditTrace {
  return { fields: new Set(), rows: 0, subjects: new Set() };
}

/** The state of the request a yoga context belongs to, created on first use. */
export function requestState(context: object): RequestState {
  let state = states.get(context);
  if (!state) {
    state = { requestId: crypto.randomUUID(), startedAt: performance.now(), trace: newTrace() };
    states.set(context, state);
  }
  return state;
}

export function hasRole(viewer: Viewer | undefined, role: Role): boolean {
  return !!viewer && viewer.roles.includes(role);
}
