/**
 * The closed error model. Every error a client sees carries one of these codes in
 * `extensions.code`; anything else is masked as an internal error by the gateway's error masking.
 */
import { GraphQLError } from 'graphql';

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'PURPOSE_REQUIRED'
  | 'BAD_USER_INPUT'
  | 'QUERY_TOO_COMPLEX'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 200,
  PURPOSE_REQUIRED: 200,
  BAD_USER_INPUT: 200,
  QUERY_TOO_COMPLEX: 200,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
};

export interface GatewayErrorOptions {
  cause?: unknown;
  /** Extra machine-readable detail for the client, e.g. the forbidden fields. */
  details?: Record<string, unknown>;
}

/** The one error type the gateway raises on purpose. Its message is safe to show a client. */
export class GatewayError extends GraphQLError {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, {
      originalError: options.cause instanceof Error ? options.cause : undefined,
      extensions: { code, ...(options.details ?? {}), http: { status: HTTP_STATUS[code] } },
    });
    this.code = code;
    this.status = HTTP_STATUS[code];
  }
}

export function isGatewayError(error: unknown): error is GatewayError {
  return error instanceof GatewayError;
}
