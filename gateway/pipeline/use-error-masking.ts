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

/**
 * yoga puts the JSON parser's own error, which quotes the caller's body, under `originalError`; its
 * presence is also what keeps such an answer at 400 (GraphQL over HTTP). Without it the error's own
 * `http.status` stands on its own (the `spec` flag would let yoga answer 200).
 */
function withoutEcho(extensions: GraphQLError['extensions'] | undefined): Record<string, unknown> {
  const { originalError, ...rest } = extensions ?? {};
  if (originalError === undefined) return rest;
  const http = rest.http as { status?: number; headers?: Record<string, string> } | undefined;
  return http ? { ...rest, http: { status: http.status, headers: http.headers } } : rest;
}

export function useErrorMasking(logger: Pick<Logger, 'error' | 'warn'>): ErrorMasking {
  return {
    maskError(error) {
      if (error instanceof GraphQLError && !isGatewayError(error)) {
        const original = error.originalError;
        const requestError = !original || !!error.extensions?.http;
        if (requestError && !isConnectorError(original)) {
          return new GraphQLError(error.message, { nodes: error.nodes, path: error.path, extensions: withoutEcho(error.extensions) });
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
