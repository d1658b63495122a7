/**
 * What the admission resolvers need, and the two things every one of them does the same way:
 * who is asking, and committing a change together with its audit event.
 */
import type { Transaction } from 'kysely';
import { GatewayError, isGatewayError } from '../../core/errors.ts';
import { DATASETS } from '../../core/datasets.ts';
import { hasRole, type Role, type Viewer } from '../../core/identity.ts';
import { auditEvent, type TransactionalAuditSink } from '../../audit/audit-event.ts';
import type { Authorizer } from '../../policies/authorizer.ts';
import type { AdmissionStore } from '../../policies/admission-store.ts';
import type { PolicyStore } from '../../policies/policy-store.ts';
import type { PolicySnapshot } from '../../policies/admission/access-changes.ts';
import { resolverContext } from '../resolver-context.ts';

export interface AdmissionDeps {
  readonly store: AdmissionStore;
  readonly grants: PolicyStore;
  readonly authorizer: Authorizer;
  /** Each change and its event in one transaction. */
  readonly audit: TransactionalAuditSink;
  /** Tells every instance (this one included) that the policies changed. */
  readonly policyChanged: () => Promise<void>;
  /** Standing grants' policy files, by grant id (the "document" of a grant from files). */
  readonly standingDocuments?: ReadonlyMap<string, string>;
  /** The clock (tests). Default Date.now. */
  readonly now?: () => number;
}

export function viewerOf(context: object): Viewer {
  const viewer = resolverContext(context).viewer;
  if (!viewer) throw new GatewayError('UNAUTHENTICATED', 'authentication required');
  return viewer;
}

export function requireRole(viewer: Viewer, ...roles: Role[]): void {
  if (!roles.some((r) => hasRole(viewer, r))) throw new GatewayError('FORBIDDEN', `requires role ${roles.join(' or ')}`);
}

export function seesEverything(viewer: Viewer): boolean {
  return hasRole(viewer, 'platform_admin') || hasRole(viewer, 'auditor');
}

/** Datasets whose department the viewer is a data owner of. */
export function ownedDatasets(viewer: Viewer): string[] {
  if (!hasRole(viewer, 'data_owner')) return [];
  return Object.values(DATASETS).filter((d) => d.owner === viewer.org).map((d) => d.name);
}

/** The authorizer's current policies, for previews (after making sure they are current). */
export async function snapshotOf(deps: AdmissionDeps): Promise<PolicySnapshot> {
  await deps.authorizer.ensureCurrent();
  return {
    duties: new Map(deps.authorizer.duties().map((d) => [d.id, d])),
    grants: new Map(deps.authorizer.grants().map((g) => [g.id, g])),
    delegations: deps.authorizer.delegations(),
    version: deps.authorizer.version,
  };
}

/** A fresh id: prefix + 12 hex digits (policy ids are `[a-z0-9-]`). */
export function newId(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

/**
 * Runs `change` and writes its audit event in one transaction (there is never a change without
 * its event, nor an event of a change that did not happen), then tells every instance when the
 * policies moved. A refusal thrown inside `change` rolls it back and reaches the caller as is;
 * anything else (store or audit log unreachable) is SERVICE_UNAVAILABLE, nothing changed.
 */
export async function commitChange<T>(
  deps: AdmissionDeps,
  context: object,
  action: string,
  change: (trx: Transaction<any>) => Promise<T>,
  describe: (result: T) => Record<string, unknown>,
  options: { policyMoved: boolean | ((result: T) => boolean) } = { policyMoved: true },
): Promise<T> {
  const state = resolverContext(context);
  const started = Date.now();
  let result: T;
  try {
    result = await deps.audit.appendWith(change, (r) =>
      auditEvent(
        { requestId: state.requestId, started, viewer: state.viewer, purpose: state.purpose },
        {
          operationType: 'mutation',
          operationName: `change:${action}`,
          decision: 'allow',
          reason: `admission review: ${action}, committed with this event`,
          change: { action, ...describe(r) },
        },
      ),
    );
  } catch (error) {
    if (isGatewayError(error)) throw error;
    const cause = (error as { cause?: unknown } | null)?.cause;
    if (isGatewayError(cause)) throw cause;
    throw new GatewayError('SERVICE_UNAVAILABLE', 'the store or the audit log is unavailable; nothing was changed', { cause: error });
  }
  state.trace.change = { action, ...describe(result) };
  const moved = typeof options.policyMoved === 'function' ? options.policyMoved(result) : options.policyMoved;
  // The change is committed; telling the instances is best effort: each read re-checks the store's
  // policy version anyway (Authorizer.ensureCurrent).
  if (moved) await deps.policyChanged().catch(() => {});
  return result;
}
