/**
 * useAudit: exactly one audit event per executed operation, allowed or denied, stored durably
 * before the answer leaves. If the event cannot be stored, the answer is replaced by
 * SERVICE_UNAVAILABLE: no data without a trace.
 *
 * Registered before useAuthorization so that its onExecuteDone also sees operations that
 * authorization stopped.
 */
import { createHash } from 'node:crypto';
import { print, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { auditEvent, type AuditDecision, type AuditSink } from '../../audit/audit-event.ts';
import { requestState } from './request-state.ts';
import type { AccessPlan } from '../../policies/access-plan.ts';
import { GatewayError } from '../../core/errors.ts';
import { normalizeError } from './normalize-error.ts';

export interface AuditOptions {
  readonly sink: AuditSink;
}

const hashes = new WeakMap<object, string>();

function documentHash(document: object): string {
  let hash = hashes.get(document);
  if (!hash) {
    hash = createHash('sha256').update(print(document as never)).digest('hex');
    hashes.set(document, hash);
  }
  return hash;
}

/** "grants: a, b" for an allowed operation: the same for every request under one (cached) plan. */
const grantLists = new WeakMap<AccessPlan, string>();
function grantsOf(plan: AccessPlan): string {
  let list = grantLists.get(plan);
  if (list === undefined) {
    list = `grants: ${[...plan.datasets.values()].flatMap((d) => d.grants).join(', ')}`;
    grantLists.set(plan, list);
  }
  return list;
}

function outcome(result: ExecutionResult): { decision: AuditDecision; reason: string | null } {
  const errors = result.errors ?? [];
  if (errors.length === 0) return { decision: 'allow', reason: null };
  // Errors are seen here before masking: a source failure still wrapped in its GraphQLError is
  // recorded with the code the caller gets (SERVICE_UNAVAILABLE), not as an internal error.
  const codes = errors.map((e) => String(e.extensions?.code ?? (e.originalError ? normalizeError(e).code : 'INTERNAL_SERVER_ERROR')));
  const denied = codes.find((c) => ['FORBIDDEN', 'PURPOSE_REQUIRED', 'UNAUTHENTICATED', 'QUERY_TOO_COMPLEX', 'RATE_LIMITED', 'BAD_USER_INPUT'].includes(c));
  const first = errors[0]!;
  if (denied && !result.data) return { decision: 'deny', reason: `${denied}: ${first.message}` };
  return { decision: 'error', reason: `${codes[0]}: ${first.message}` };
}

export function useAudit(options: AuditOptions): Plugin {
  return {
    onExecute({ args }) {
      const started = Date.now();
      return {
        async onExecuteDone({ result, setResult }) {
          if (Symbol.asyncIterator in (result as object)) return; // no streaming operations in this schema
          const executed = result as ExecutionResult;
          const state = requestState(args.contextValue as object);
          const operation = args.document.definitions.find(
            (d: { kind: string; name?: { value: string } }) => d.kind === 'OperationDefinition' && (!args.operationName || d.name?.value === args.operationName),
          ) as { operation?: string; name?: { value: string } } | undefined;
          const { decision, reason } = outcome(executed);
          try {
            await options.sink.append(
              auditEvent(
                { requestId: state.requestId, started, viewer: state.viewer, purpose: state.purpose },
                {
                  operationType: operation?.operation ?? 'query',
                  operationName: args.operationName ?? operation?.name?.value ?? null,
                  operationHash: documentHash(args.document),
                  fields: [...state.trace.fields].sort(),
                  decision,
                  reason: reason ?? (state.access ? grantsOf(state.access) : null),
                  rows: state.trace.rows,
                  subjects: [...state.trace.subjects],
                  change: state.trace.change ?? null,
                },
              ),
            );
          } catch {
            setResult({ errors: [new GatewayError('SERVICE_UNAVAILABLE', 'audit log unavailable; no data was returned')] });
          }
        },
      };
    },
  };
}
