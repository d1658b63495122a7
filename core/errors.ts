/**
 * The closed error model. Every error a client sees carries one of these codes in
 * `extensions.code`; anything else is masked as an internal error by the gateway's error masking.
 *
 * One rule maps a code to an HTTP status, for every surface (GraphQL and the plain HTTP routes):
 *
 * - {@link HTTP_STATUS} is the status of a request the code refuses as a whole: 401 without a valid
 *   token, 403 for a caller who may not, 400 for input that cannot be served, 429 over a rate limit,
 *   503 when a store, source or the audit log cannot answer, 500 for anything unexpected. The plain
 *   HTTP routes (`/audit/export`) answer with it.
 * - A GraphQL answer follows GraphQL over HTTP (and the graphql-http compliance suite): an operation
 *   that was parsed and executed is answered 200 with its errors in the body, whatever they are,
 *   except that the request-level codes ({@link REQUEST_LEVEL}: 401, 429, 503, 500) keep their
 *   status, as the contract documents them. {@link graphqlStatus} applies this; GatewayError carries
 *   the result in `extensions.http.status`, which yoga sends (and strips from the body).
 * - A refusal may carry its own status and headers (`extensions.http`, e.g. 413 with a body over the
 *   limit, `Retry-After` with 429, `WWW-Authenticate` with 401): yoga answers with them.
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

/** The HTTP status of a request refused as a whole with this code. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  PURPOSE_REQUIRED: 400,
  BAD_USER_INPUT: 400,
  QUERY_TOO_COMPLEX: 400,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
};

/** Codes about the request itself rather than the operation: their status holds in a GraphQL answer too. */
export const REQUEST_LEVEL: ReadonlySet<ErrorCode> = new Set(['UNAUTHENTICATED', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE', 'INTERNAL_SERVER_ERROR']);

/** The status of a GraphQL answer carrying this code (see the rule above). */
export function graphqlStatus(code: ErrorCode): number {
  return REQUEST_LEVEL.has(code) ? HTTP_STATUS[code] : 200;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(HTTP_STATUS, value);
}

export interface GatewayErrorOptions {
  cause?: unknown;
  /** Extra machine-readable detail for the client, e.g. the forbidden fields. */
  details?: Record<string, unknown>;
  /** The answer's status and headers when they differ from {@link graphqlStatus} (413, Retry-After ...). */
  http?: { readonly status?: number; readonly headers?: Readonly<Record<string, string>> };
}

/** The one error type the gateway raises on purpose. Its message is safe to show a client. */
export class GatewayError extends GraphQLError {
  readonly code: ErrorCode;
  /** The status of a GraphQL answer carrying this error. */
  readonly status: number;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    const status = options.http?.status ?? graphqlStatus(code);
    super(message, {
      originalError: options.cause instanceof Error ? options.cause : undefined,
      extensions: { code, ...(options.details ?? {}), http: { status, ...(options.http?.headers ? { headers: { ...options.http.headers } } : {}) } },
    });
    this.code = code;
    this.status = status;
  }
}

export function isGatewayError(error: unknown): error is GatewayError {
  return error instanceof GatewayError;
}
