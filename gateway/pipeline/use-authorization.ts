/**
 * useAuthorization: before anything is read, walk the whole operation and check every dataset
 * field it reads, filters, sorts or looks up by against the access plan of the caller's street and
 * declared purpose. Any miss rejects the whole operation, naming the fields; nothing is executed.
 */
import type { Plugin } from 'graphql-yoga';
import type { Authorizer } from '../../policies/authorizer.ts';
import { collectReads, isDataRoot } from '../../schema/shared-data/operation-reads.ts';
import { checkOperation } from '../../policies/check-operation.ts';
import { hasRole } from '../../core/identity.ts';
import { contextState } from './request-state.ts';
import { GatewayError } from '../../core/errors.ts';
import { normalizeError } from './normalize-error.ts';
import { emergencyPlan } from './use-emergency.ts';
import { caseRefRefusal } from '../../policies/duty-disclosure.ts';

export interface AuthorizationOptions {
  readonly authorizer: Authorizer;
}

export function useAuthorization(options: AuthorizationOptions): Plugin {
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const state = contextState(args.contextValue);
      try {
        const analysis = collectReads(args.schema, args.document, args.operationName, args.variableValues as Record<string, unknown>);
        state.reads = analysis.reads;
        for (const [dataset, fields] of analysis.reads) for (const f of fields) state.trace.fields.add(`${dataset}.${f}`);
        state.filters = [...analysis.filters].flatMap(([dataset, fields]) => [...fields].map((f) => `${dataset}.${f}`));
        if (![...analysis.rootFields].some(isDataRoot)) return;
        const viewer = state.viewer;
        if (!viewer) throw new GatewayError('UNAUTHENTICATED', 'authentication required');
        if (!state.purpose) throw new GatewayError('PURPOSE_REQUIRED', 'declare the duty you are working on in the X-Purpose header');
        if (!hasRole(viewer, 'street_staff')) {
          throw new GatewayError('FORBIDDEN', 'reading shared data requires the street_staff role', { details: { purpose: state.purpose } });
        }
        // Decided on the policies as they are now: a withdrawal answered on any instance before
        // this read arrived counts (CONTRACT.md, admission review), whatever Redis delivered.
        await options.authorizer.ensureCurrent();
        // Under an accepted X-Emergency session: the same plan plus the duty's emergency fields (use-emergency.ts).
        const plan = emergencyPlan(args.contextValue as object, options.authorizer.plan(viewer.org, state.purpose));
        if (plan.refusal) throw new GatewayError('FORBIDDEN', plan.refusal, { details: { purpose: state.purpose } });
        // X-Case-Ref (CONTRACT.md): a duty with requiresCaseRef reads nothing without one.
        const noCaseRef = caseRefRefusal(options.authorizer.duties(), state.purpose, state.caseRef);
        if (noCaseRef) throw noCaseRef;

        const refusal = checkOperation(plan, analysis);
        if (refusal) {
          const parts: string[] = [];
          if (refusal.notGranted.length > 0) parts.push(`not granted: ${refusal.notGranted.join(', ')}`);
          if (refusal.needsFull.length > 0) parts.push(`granted masked only, cannot filter, sort or look up by: ${refusal.needsFull.join(', ')}`);
          throw new GatewayError('FORBIDDEN', `purpose "${state.purpose}" does not allow this operation; ${parts.join('; ')}`, {
            details: { purpose: state.purpose, forbiddenFields: [...refusal.notGranted, ...refusal.needsFull].sort() },
          });
        }
        state.access = plan;
      } catch (caught) {
        setResultAndStopExecution({ errors: [normalizeError(caught)] });
      }
    },
  };
}
