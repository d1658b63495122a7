/**
 * Casbin's Adapter over the gateway store's `casbin_rule` table (node-casbin keeps each adapter in
 * its own file). Read-only: policy lines are derived from grants, so writes go through
 * {@link PolicyStore}, which changes a grant and its lines in one transaction.
 */
import type { Adapter, Model } from 'casbin';
import type { PolicyStore } from '../policy-store.ts';

/** Casbin's Adapter over the store's `casbin_rule` table. Writes go through {@link PolicyStore}. */
export class KyselyCasbinAdapter implements Adapter {
  constructor(private readonly store: Pick<PolicyStore, 'casbinRules'>) {}

  async loadPolicy(model: Model): Promise<void> {
    // Lines are unique by construction (each names its grant), so they go into the model in bulk:
    // casbin's addPolicy scans the whole policy for a duplicate on every call, which is quadratic
    // and blocked the event loop for minutes at 100,000 lines.
    const ast = model.model.get('p')?.get('p');
    for (const [ptype, ...rule] of await this.store.casbinRules()) {
      if (ptype === 'p' && ast) ast.policy.push(rule);
      else model.addPolicy('p', ptype!, rule);
    }
  }

  async savePolicy(): Promise<boolean> {
    throw new Error('policy lines are derived from grants; change grants instead');
  }

  async addPolicy(): Promise<void> {
    throw new Error('policy lines are derived from grants; change grants instead');
  }

  async removePolicy(): Promise<void> {
    throw new Error('policy lines are derived from grants; change grants instead');
  }

  async removeFilteredPolicy(): Promise<void> {
    throw new Error('policy lines are derived from grants; change grants instead');
  }
}
