/**
 * useEmergency: a read sent with `X-Emergency: <session id>` runs under that emergency session.
 * Before authorization, the session is looked up (in the store, on every request: once
 * `endEmergencyAccess` has answered, no instance serves one more read under it) and checked for
 * this viewer, street and declared duty; any doubt is FORBIDDEN and nothing is read, and a store
 * that cannot answer is SERVICE_UNAVAILABLE. An accepted session hands authorization the widening
 * ({@link emergencyPlan}) and flags the operation's audit event, so auditors and residents see the
 * read as an emergency read.
 *
 * Registered after useAudit (whose after-hook records the refusals) and before useAuthorization.
 */
import type { Plugin } from 'graphql-yoga';
import { GatewayError, isGatewayError } from '../../core/errors.ts';
import type { AccessPlan } from '../../policies/access-plan.ts';
import type { StoredGrant } from '../../policies/policy-store.ts';
import { emergencyGrants, widenPlan } from '../../policies/emergency/emergency-plan.ts';
import { readRefusal } from '../../policies/emergency/emergency-rules.ts';
import { isSessionId, type EmergencyStore } from '../../policies/emergency/emergency-store.ts';
import type { EmergencySession } from '../../policies/emergency/emergency-session.ts';
import { emergencyReadFlag } from '../../audit/emergency-read.ts';
import { collectReads } from '../../schema/shared-data/operation-reads.ts';
import { contextState } from './request-state.ts';
import { normalizeError } from './normalize-error.ts';

export interface EmergencyOptions {
  readonly sessions: Pick<EmergencyStore, 'get'>;
  /** The grants the authorizer decides with (its loaded set), so the widening follows the same policy version. */
  readonly grants: () => Iterable<StoredGrant>;
  readonly now?: () => number;
}

/** The header a client sends with each read under an emergency session. */
export const EMERGENCY_HEADER = 'x-emergency';

const sessions = new WeakMap<object, EmergencySession>();
const grantSources = new WeakMap<object, EmergencyOptions>();

/**
 * The plan authorization uses for this request: `plan` itself, or, under an accepted emergency
 * session, `plan` widened to the emergency fields of the session's duty (and its rows restricted).
 */
export function emergencyPlan(context: object, plan: AccessPlan): AccessPlan {
  const session = sessions.get(context);
  const options = grantSources.get(context);
  if (!session || !options) return plan;
  const now = options.now?.() ?? Date.now();
  return widenPlan(plan, session, emergencyGrants(options.grants(), session.street, session.duty, now));
}

/** A refused operation's event names the fields it asked for, as authorization's refusals do. */
function recordAskedFields(args: Parameters<NonNullable<Plugin['onExecute']>>[0]['args'], into: Set<string>): void {
  try {
    const analysis = collectReads(args.schema, args.document, args.operationName, args.variableValues as Record<string, unknown>);
    for (const [dataset, fields] of analysis.reads) for (const f of fields) into.add(`${dataset}.${f}`);
  } catch {
    // A document the walk refuses is refused by authorization's own checks; the event keeps what it has.
  }
}

type OnExecuteArgs = Parameters<NonNullable<Plugin['onExecute']>>[0];

export function useEmergency(options: EmergencyOptions): Plugin {
  return {
    // Synchronous without X-Emergency (nearly every read): no promise for the hook runner to await.
    onExecute({ args, setResultAndStopExecution }) {
      const context = args.contextValue as object & { request?: Request };
      const header = context.request?.headers.get(EMERGENCY_HEADER)?.trim();
      if (!header) return;
      return checkSession(context, header, args, setResultAndStopExecution);
    },
  };

  async function checkSession(
    context: object & { request?: Request },
    header: string,
    args: OnExecuteArgs['args'],
    setResultAndStopExecution: OnExecuteArgs['setResultAndStopExecution'],
  ): Promise<void> {
    const state = contextState(context);
    try {
      let session: EmergencySession | undefined;
      try {
        session = await options.sessions.get(header);
      } catch (error) {
        throw isGatewayError(error) ? error : new GatewayError('SERVICE_UNAVAILABLE', 'emergency sessions cannot be checked; nothing was read', { cause: error });
      }
      const refusal = readRefusal(session, state.viewer, state.purpose, options.now?.() ?? Date.now());
      if (refusal || !session) {
        state.trace.change = { ...state.trace.change, ...emergencyReadFlag(isSessionId(header) ? header : null, null, true) };
        recordAskedFields(args, state.trace.fields);
        throw new GatewayError('FORBIDDEN', refusal ?? 'X-Emergency names no emergency session of yours');
      }
      state.trace.change = { ...state.trace.change, ...emergencyReadFlag(session.id, session.caseRef, false) };
      sessions.set(context, session);
      grantSources.set(context, options);
    } catch (caught) {
      setResultAndStopExecution({ errors: [normalizeError(caught)] });
    }
  }
}
