/**
 * The Authorizer port: what the pipeline and the admin API ask of the policy engine. The Casbin
 * adapter behind it lives in `casbin/casbin-authorizer.ts` (kysely keeps each dialect's port in
 * its own short file the same way).
 *
 * Fail-closed: if the policies cannot be (re)loaded, {@link Authorizer.plan} throws
 * SERVICE_UNAVAILABLE instead of answering from a state it can no longer vouch for.
 */
import type { AccessPlan, FieldDecision } from './access-plan.ts';
import type { DutyDef } from './policy-definitions.ts';
import type { StoredGrant } from './policy-store.ts';
import type { DelegationIndex } from './admission/delegation-windows.ts';

export interface Authorizer {
  /** The access plan for (org, purpose) at `now`; cached. Throws SERVICE_UNAVAILABLE when stale. */
  plan(org: string, purpose: string, now?: number): AccessPlan;
  /** Per-field decisions with the deciding grant or rule, without reading data. */
  explain(org: string, purpose: string, fields: readonly string[]): FieldDecision[];
  duties(): readonly DutyDef[];
  /** Grants currently loaded (revoked ones included). */
  grants(): readonly StoredGrant[];
  /** Admitted delegations loaded with the grants (the admission review). */
  delegations(): DelegationIndex;
  readonly version: number;
  /** Reloads from the store if its policy version moved (or always, with force). */
  reload(force?: boolean): Promise<void>;
  /**
   * Resolves once this instance's policies are those of a store version read after the call
   * began: a withdrawal that answered (on any instance) before a read arrived is seen by that
   * read. Concurrent callers share one version check. Rejects SERVICE_UNAVAILABLE when the store
   * cannot say.
   */
  ensureCurrent(): Promise<void>;
}
