/**
 * Bench-only: the "no safety" baseline of `npm run bench`. Same server, schema, resolvers and
 * connectors, but every dataset field is read in full, only the caller's street scopes rows, and
 * nothing is audited, so the cost of being safe shows as a ratio. It replaces the authorization
 * stage through the pipeline's `stages` seam (bench/baseline/baseline-main.ts); nothing in the
 * product can switch it on.
 */
import type { Plugin } from 'graphql-yoga';
import { DATASETS, type DatasetName } from '../../core/datasets.ts';
import { streetCodeOf } from '../../core/identity.ts';
import type { AccessPlan, DatasetAccess } from '../../policies/access-plan.ts';
import { collectReads } from '../../schema/shared-data/operation-reads.ts';
import { contextState } from '../../gateway/pipeline/request-state.ts';
import { normalizeError } from '../../gateway/pipeline/normalize-error.ts';

function openPlan(org: string, purpose: string): AccessPlan {
  const street = streetCodeOf(org) ?? null;
  const datasets = new Map<DatasetName, DatasetAccess>();
  for (const dataset of Object.values(DATASETS)) {
    datasets.set(dataset.name, {
      dataset: dataset.name,
      fields: new Map(dataset.fields.filter((f) => !f.internal).map((f) => [f.name, 'full' as const])),
      scope: { streets: street ? [street] : [], conditions: [] },
      grants: [],
    });
  }
  return { org, purpose, street, policyVersion: 0, refusal: null, datasets, decisions: new Map(), expiresAt: Number.POSITIVE_INFINITY };
}

export function useOpenAccess(): Plugin {
  const plans = new Map<string, AccessPlan>();
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const state = contextState(args.contextValue);
      try {
        state.reads = collectReads(args.schema, args.document, args.operationName, args.variableValues as Record<string, unknown>).reads;
        const org = state.viewer?.org ?? '';
        let plan = plans.get(org);
        if (!plan) plans.set(org, (plan = openPlan(org, state.purpose ?? '')));
        state.access = plan;
      } catch (caught) {
        setResultAndStopExecution({ errors: [normalizeError(caught)] });
      }
    },
  };
}
