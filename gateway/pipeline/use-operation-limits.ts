/**
 * useOperationLimits: an operation that is too big is refused with QUERY_TOO_COMPLEX naming the
 * limit (`extensions.limit`, `max`, `actual`) before authorization and before any source is read;
 * one that runs too long is cut off.
 *
 * - Tokens: while parsing (graphql-armor's token-counting parser), so a huge document is never
 *   built. Such a request never reaches execution, so useAudit cannot see it: this plugin audits
 *   it from `onExecutionResult` (503 if the event cannot be stored).
 * - Depth, aliases, root fields, the node-cost estimate and page sizes: in `onExecute`, registered
 *   after useAudit (whose after-hook then audits the refusal) and before useAuthorization.
 * - Text: a string argument holding U+0000 (which PostgreSQL cannot take) is BAD_USER_INPUT, here too.
 * - Time: execution gets an AbortSignal and a deadline; past it the answer is SERVICE_UNAVAILABLE
 *   (limit `time`) and no further resolver starts. Source calls in flight end at their own limits
 *   (PostgreSQL `statement_timeout`, the HTTP connector's timeout), both wired to the same setting.
 */
import { MaxTokensParserWLexer } from '@escape.tech/graphql-armor-max-tokens';
import {
  getOperationAST,
  getVariableValues,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type OperationDefinitionNode,
  type ParseOptions,
  type Source,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { AuditSink } from '../../audit/audit-event.ts';
import { requestState } from './request-state.ts';
import { type Viewer } from '../../core/identity.ts';
import { GatewayError } from '../../core/errors.ts';
import { normalizeError } from './normalize-error.ts';
import {
  assertWithinLimits,
  defaultOperationLimits,
  limitExceeded,
  measureOperation,
  type LimitName,
  type OperationLimits,
  type OperationMeasure,
} from '../limits/operation-limits.ts';
import { assertNoNulCharacters } from '../limits/text-input.ts';
import { requestIdOf } from './use-authentication.ts';
import { auditRefusal } from './refusal.ts';

export interface OperationLimitsOptions extends Partial<OperationLimits> {
  /** Most lexical tokens in a document. Default 2,000. */
  readonly maxTokens?: number;
  /** Longest an operation may run, ms. Default 10,000. */
  readonly timeoutMs?: number;
  readonly audit: AuditSink;
  readonly viewerOf: (request: Request) => Promise<Viewer | undefined>;
  /** Counts refusals by limit name (`depth`, `aliases`, `tokens`, `root_fields`, `cost`, `page_size`, `time`). */
  readonly onLimited?: (kind: string) => void;
}

const METRIC_KIND: Readonly<Record<LimitName, string>> = {
  depth: 'depth',
  aliases: 'aliases',
  tokens: 'tokens',
  rootFields: 'root_fields',
  cost: 'cost',
  pageSize: 'page_size',
  bodySize: 'body_size',
  time: 'time',
};

type Context = { request?: Request; params?: { operationName?: string | null } };

export function useOperationLimits(options: OperationLimitsOptions): Plugin {
  const limits: OperationLimits = {
    maxDepth: options.maxDepth ?? defaultOperationLimits.maxDepth,
    maxAliases: options.maxAliases ?? defaultOperationLimits.maxAliases,
    maxRootFields: options.maxRootFields ?? defaultOperationLimits.maxRootFields,
    maxCost: options.maxCost ?? defaultOperationLimits.maxCost,
    maxPageSize: options.maxPageSize ?? defaultOperationLimits.maxPageSize,
    listSize: options.listSize ?? defaultOperationLimits.listSize,
  };
  const maxTokens = options.maxTokens ?? 2000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const executed = new WeakSet<object>();
  const measuredConstant = new WeakMap<OperationDefinitionNode, OperationMeasure>();
  const limited = (error: unknown) => {
    const limit = (error as GatewayError).extensions?.limit as LimitName | undefined;
    if (limit) options.onLimited?.(METRIC_KIND[limit] ?? limit);
  };

  const parseWithTokenLimit = (source: string | Source, parseOptions?: ParseOptions): DocumentNode => {
    let exceeded = false;
    const parser = new MaxTokensParserWLexer(source, { ...parseOptions, n: maxTokens, onReject: [() => (exceeded = true)], propagateOnRejection: true });
    try {
      return parser.parseDocument();
    } catch (error) {
      if (!exceeded) throw error;
      throw limitExceeded('tokens', `query has more than ${maxTokens} tokens, the limit`, maxTokens);
    }
  };

  return {
    onParse({ setParseFn }) {
      setParseFn(parseWithTokenLimit as never);
    },

    onExecute({ args, executeFn, setExecuteFn, setResultAndStopExecution }) {
      executed.add(args.contextValue as object);
      try {
        assertNoNulCharacters(args.document, args.variableValues);
        const operation = getOperationAST(args.document, args.operationName);
        if (operation) {
          // yoga hands the same DocumentNode for the same query text: an operation without
          // variables measures the same every time, so it is measured once.
          const constant = !operation.variableDefinitions?.length;
          let measure = constant ? measuredConstant.get(operation) : undefined;
          if (!measure) {
            const coerced = getVariableValues(args.schema, operation.variableDefinitions ?? [], (args.variableValues ?? {}) as Record<string, unknown>);
            measure = measureOperation(args.schema, args.document, operation, coerced.coerced ?? {}, limits);
            if (constant) measuredConstant.set(operation, measure);
          }
          assertWithinLimits(measure, limits);
        }
      } catch (caught) {
        const error = normalizeError(caught);
        limited(error);
        setResultAndStopExecution({ errors: [error] });
        return;
      }

      setExecuteFn(((execArgs: ExecutionArgs & { signal?: AbortSignal }) => {
        // One signal for execution: aborted by the deadline below or when the client goes away.
        // (Forwarded by a listener rather than AbortSignal.any, which costs far more per request.)
        const controller = new AbortController();
        const signal = controller.signal;
        const outer = execArgs.signal ?? (execArgs.contextValue as Context | undefined)?.request?.signal;
        const forward = () => controller.abort(outer?.reason);
        if (outer?.aborted) forward();
        else outer?.addEventListener('abort', forward, { once: true });
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<ExecutionResult>((resolve) => {
          timer = setTimeout(() => {
            const error = new GatewayError('SERVICE_UNAVAILABLE', `the operation did not finish within the time limit of ${timeoutMs} ms; no data was returned`, {
              details: { limit: 'time', max: timeoutMs },
            });
            controller.abort(error);
            limited(error);
            resolve({ errors: [error] });
          }, timeoutMs);
        });
        const run = Promise.resolve(executeFn({ ...execArgs, signal } as ExecutionArgs));
        return Promise.race([run, deadline]).finally(() => {
          clearTimeout(timer);
          outer?.removeEventListener('abort', forward);
        });
      }) as never);
    },

    // A document refused while parsing never executes: audit it here, like useAudit would have.
    async onExecutionResult({ result, setResult, request, context }) {
      if (executed.has(context as object) || Symbol.asyncIterator in (result as object)) return;
      const errors = (result as ExecutionResult).errors ?? [];
      const refusal = errors.find((e) => e.extensions?.code === 'QUERY_TOO_COMPLEX');
      if (!refusal) return;
      limited(refusal);
      const state = requestState(context as object);
      const error = new GatewayError('QUERY_TOO_COMPLEX', refusal.message, { details: { ...(refusal.extensions as Record<string, unknown>) } });
      const stored = await auditRefusal(options.audit, {
        request,
        viewer: state.viewer ?? (await options.viewerOf(request)),
        error,
        started: Date.now() - (performance.now() - state.startedAt),
        requestId: requestIdOf(request),
        operationType: 'http',
        operationName: (context as Context).params?.operationName ?? null,
      });
      if (!stored) setResult({ errors: [new GatewayError('SERVICE_UNAVAILABLE', 'audit log unavailable; no data was returned')] });
    },
  };
}
