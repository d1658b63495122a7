/**
 * Bench-only: the "no safety" baseline of `npm run bench`. Same server, schema, resolvers and
 * connectors, but every dataset field is read in full, only the caller's street scopes rows, and
 * nothing is audited, so the cost of being safe shows as a ratio. Refused when NODE_ENV=production
 * (config.ts) and announced loudly at start.
 */
import type { Plugin } from 'graphql-yoga';
import { DATASETS, type DatasetName } from '../../core/datasets.ts';
import { streetCodeOf } from '../../core/identity.ts';
import type { AccessPlan, DatasetAccess } from '../../policies/access-plan.ts';
import { collectReads } from '../../schema/shared-data/operation-reads.ts';
import { requestState } from '../../gateway/pipeline/request-state.ts';
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

export function useBenchBaseline(): Plugin {
  const plans = new Map<string, AccessPlan>();
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const state = requestState(args.contextValue as object);
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
