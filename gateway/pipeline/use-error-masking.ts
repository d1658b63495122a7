/**
 * Error masking: what a client may see of an error. The gateway's own errors (GatewayError, the
 * closed model) and GraphQL's and yoga's request errors (syntax, validation, malformed body) are
 * shown as they are; anything else is normalised (normalize-error.ts) and, when unexpected, masked
 * as INTERNAL_SERVER_ERROR. The operator gets the cause in the log, scrubbed by the logger's error
 * serializer (no SQL parameters, ID numbers or phone numbers).
 *
 * This is yoga's `maskedErrors` option (yoga runs it for every error of every answer, also those
 * thrown before execution); the status an answer gets follows from the codes (core/errors.ts).
 */
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { isGatewayError } from '../../core/errors.ts';
import { isConnectorError } from '../../connectors/connector-error.ts';
import { normalizeError } from './normalize-error.ts';

export interface ErrorMasking {
  maskError(error: unknown): Error;
}

export function useErrorMasking(logger: Pick<Logger, 'error' | 'warn'>): ErrorMasking {
  return {
    maskError(error) {
      if (error instanceof GraphQLError && !isGatewayError(error)) {
        const original = error.originalError;
        const requestError = !original || !!error.extensions?.http;
        if (requestError && !isConnectorError(original)) {
          return new GraphQLError(error.message, { nodes: error.nodes, path: error.path, extensions: error.extensions });
        }
      }
      const normalized = normalizeError(error);
      const located = error instanceof GraphQLError ? error : undefined;
      if (normalized.code === 'INTERNAL_SERVER_ERROR') {
        logger.error({ err: normalized.originalError ?? error, path: located?.path?.join('.') }, 'unexpected error (masked)');
      } else if (isConnectorError(normalized.originalError)) {
        const source = normalized.originalError.source;
        logger.warn({ err: normalized.originalError, source, path: located?.path?.join('.') }, `source ${source} failed`);
      }
      return new GraphQLError(normalized.message, { nodes: located?.nodes, path: located?.path, extensions: normalized.extensions });
    },
  };
}
