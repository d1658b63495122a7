/**
 * useOperationLimits: an operation that is too big is refused with QUERY_TOO_COMPLEX naming the
 * limit (`extensions.limit`, `max`, `actual`) before authorization and before any source is read:
 * depth, aliases, root fields, the node-cost estimate and page sizes, measured in `onExecute`
 * (registered after useAudit, whose after-hook then audits the refusal, and before
 * useAuthorization). A string argument holding U+0000 (which PostgreSQL cannot take) is
 * BAD_USER_INPUT, here too. The token limit (useTokenLimit) and the deadline (useDeadline) are
 * their own plugins.
 */
import { getOperationAST, getVariableValues, type OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayError } from '../../core/errors.ts';
import { normalizeError } from './normalize-error.ts';
import {
  assertWithinLimits,
  defaultOperationLimits,
  measureOperation,
  type LimitName,
  type OperationLimits,
  type OperationMeasure,
} from '../limits/operation-limits.ts';
import { assertNoNulCharacters } from '../limits/text-input.ts';

export interface OperationLimitsOptions extends Partial<OperationLimits> {
  /** Counts refusals by limit name (`depth`, `aliases`, `root_fields`, `cost`, `page_size`). */
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

export function useOperationLimits(options: OperationLimitsOptions = {}): Plugin {
  const limits: OperationLimits = {
    maxDepth: options.maxDepth ?? defaultOperationLimits.maxDepth,
    maxAliases: options.maxAliases ?? defaultOperationLimits.maxAliases,
    maxRootFields: options.maxRootFields ?? defaultOperationLimits.maxRootFields,
    maxCost: options.maxCost ?? defaultOperationLimits.maxCost,
    maxPageSize: options.maxPageSize ?? defaultOperationLimits.maxPageSize,
    listSize: options.listSize ?? defaultOperationLimits.listSize,
  };
  const measuredConstant = new WeakMap<OperationDefinitionNode, OperationMeasure>();

  return {
    onExecute({ args, setResultAndStopExecution }) {
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
        const limit = (error as GatewayError).extensions?.limit as LimitName | undefined;
        if (limit) options.onLimited?.(METRIC_KIND[limit] ?? limit);
        setResultAndStopExecution({ errors: [error] });
      }
    },
  };
}
