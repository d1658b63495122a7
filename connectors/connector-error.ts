/**
 * The errors a connector may raise. The gateway maps them onto its closed error model
 * (`gateway/errors.ts`); their messages may name the source but never carry SQL, hosts or credentials.
 */
export type ConnectorErrorKind =
  /** The source did not answer, refused the connection or failed (5xx, connection reset). */
  | 'unavailable'
  /** The source did not answer within the connector's time limit. */
  | 'timeout'
  /** A pagination cursor that this connector did not issue for this query. */
  | 'bad-cursor'
  /** The source answered with something that is not what its contract promises. */
  | 'bad-response';

export class ConnectorError extends Error {
  override readonly name = 'ConnectorError';
  constructor(
    readonly kind: ConnectorErrorKind,
    /** The source's name, e.g. `population`. */
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isConnectorError(error: unknown): error is ConnectorError {
  return error instanceof ConnectorError;
}
