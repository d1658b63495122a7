/**
 * useAuthorization: before anything is read, walk the whole operation and check every dataset
 * field it reads, filters, sorts or looks up by against the access plan of the caller's street and
 * declared purpose. Any miss rejects the whole operation, naming the fields; nothing is executed.
 */
import type { Plugin } from 'graphql-yoga';
import type { DatasetName } from '../../connectors/datasets.ts';
import type { Authorizer } from '../../policies/authorizer.ts';
import { collectReads, isDataRoot } from '../authorization/operation-reads.ts';
import { hasRole, requestState } from '../context.ts';
import { GatewayError, normalizeError } from '../errors.ts';

export interface AuthorizationOptions {
  readonly authorizer: Authorizer;
}

export function useAuthorization(options: AuthorizationOptions): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const state = requestState(args.contextValue as object);
      try {
        const analysis = collectReads(args.schema, args.document, args.operationName, args.variableValues as Record<string, unknown>);
        state.reads = analysis.reads;
        for (const [dataset, fields] of analysis.reads) for (const f of fields) state.trace.fields.add(`${dataset}.${f}`);
        if (![...analysis.rootFields].some(isDataRoot)) return;
        const viewer = state.viewer;
        if (!viewer) throw new GatewayError('UNAUTHENTICATED', 'authentication required');
        if (!state.purpose) throw new GatewayError('PURPOSE_REQUIRED', 'declare the duty you are working on in the X-Purpose header');
        if (!hasRole(viewer, 'street_staff')) {
          throw new GatewayError('FORBIDDEN', 'reading shared data requires the street_staff role', { details: { purpose: state.purpose } });
        }
        const plan = options.authorizer.plan(viewer.org, state.purpose);
        if (plan.refusal) throw new GatewayError('FORBIDDEN', plan.refusal, { details: { purpose: state.purpose } });

        const forbidden = new Set<string>();
        const check = (dataset: DatasetName, field: string, needsFull: boolean) => {
          const access = plan.datasets.get(dataset)?.fields.get(field);
          if (!access || (needsFull && access !== 'full')) forbidden.add(`${dataset}.${field}`);
        };
        for (const [dataset, fields] of analysis.reads) for (const field of fields) check(dataset, field, false);
        for (const [dataset, fields] of analysis.filters) for (const field of fields) check(dataset, field, true);
        for (const dataset of analysis.datasets) {
          // Reaching a dataset at all (a relation, a count) needs some grant on it, except social
          // security lookups, which are scoped through the person and need their own grant anyway.
          if (!plan.datasets.has(dataset)) forbidden.add(dataset);
        }
        if (forbidden.size > 0) {
          const fields = [...forbidden].sort();
          throw new GatewayError(
            'FORBIDDEN',
            `not granted for purpose "${state.purpose}": ${fields.join(', ')} (filters, sorts and lookups need full access)`,
            { details: { purpose: state.purpose, forbiddenFields: fields } },
          );
        }
        state.access = plan;
      } catch (caught) {
        setResultAndStopExecution({ errors: [normalizeError(caught)] });
      }
    },
  };
}
