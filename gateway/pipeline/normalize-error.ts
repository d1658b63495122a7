/** One normaliser from `unknown` to the closed error model. */
import { GraphQLError } from 'graphql';
import { GatewayError, isGatewayError } from '../../core/errors.ts';
import { isConnectorError } from '../../connectors/connector-error.ts';

/**
 * Turns anything thrown into a GatewayError. Known failures keep their code; connector failures
 * become SERVICE_UNAVAILABLE naming the source (or BAD_USER_INPUT for a foreign cursor); the rest
 * becomes an INTERNAL_SERVER_ERROR whose message tells nothing about the inside.
 */
export function normalizeError(error: unknown): GatewayError {
  if (isGatewayError(error)) return error;
  if (error instanceof GraphQLError && error.originalError) return normalizeError(error.originalError);
  if (isConnectorError(error)) {
    if (error.kind === 'bad-cursor') return new GatewayError('BAD_USER_INPUT', error.message, { cause: error });
    return new GatewayError('SERVICE_UNAVAILABLE', `source ${error.source} is unavailable`, {
      cause: error,
      details: { source: error.source },
    });
  }
  return new GatewayError('INTERNAL_SERVER_ERROR', 'Unexpected error.', { cause: error });
}
