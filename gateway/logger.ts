/**
 * Structured logs (pino). Never log idNumbers, phones or names: log ids of requests and actors.
 *
 * Three layers keep personal data out of the logs:
 * 1. The gateway logs only what it chose to (request id, actor sub/org, purpose, operation name,
 *    decision, code, duration): never variables, rows, SQL or its parameters.
 * 2. {@link redactPersonal}: keys that hold personal data or request payloads (`idNumber`, `phone`,
 *    `name`, `variables`, `parameters`, `sql`, ...) are censored wherever a careless call site puts
 *    them, at any depth up to 4 (pino's `formatters.log`). Hand-written rather than pino's `redact`
 *    because wildcard redact paths cost ~30 µs per line, this ~1 µs, and every request logs a line.
 * 3. Errors go through {@link serializeError}: a whitelist of fields (type, message, code, stack,
 *    cause, the source of a connector error, the schema objects a database error names), with ID
 *    numbers, phone numbers and quoted SQL values scrubbed from the text. A database error's
 *    `detail`, `where` and `internalQuery`, and any `parameters` or `sql`, are never logged.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { scrubText } from '../core/personal-data.ts';

export type { Logger } from 'pino';

/** Keys whose values never reach a log line, at any depth (see {@link redactPersonal}). */
export const REDACTED_KEYS: ReadonlySet<string> = new Set([
  // personal data
  'idNumber', 'ownerIdNumber', 'subjectIdNumber', 'phone', 'name', 'ownerName',
  // request payloads and SQL, which may carry it
  'variables', 'parameters', 'sql', 'query', 'body',
  // credentials
  'authorization', 'password', 'connectionString',
]);
const CENSOR = '[redacted]';
const MAX_DEPTH = 4;

const isPlain = (value: unknown): value is Record<string, unknown> => {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/**
 * A copy of `value` with every {@link REDACTED_KEYS} key censored, in plain objects and arrays up
 * to depth 4; returns `value` itself (no allocation) when there is nothing to censor. Errors are
 * left to {@link serializeError}.
 */
export function redactPersonal<T>(value: T, depth = 0): T {
  if (depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const clean = redactPersonal(item, depth + 1);
      if (clean !== item) (copy ??= [...value])[i] = clean;
    }
    return (copy ?? value) as T;
  }
  if (!isPlain(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key in value) {
    const item = value[key];
    const clean = REDACTED_KEYS.has(key) ? CENSOR : redactPersonal(item, depth + 1);
    if (clean !== item) (copy ??= { ...value })[key] = clean;
  }
  return (copy ?? value) as T;
}

/** Fields of database (pg) and system errors that name schema objects or states, never values. */
const SAFE_FIELDS = ['code', 'kind', 'source', 'severity', 'routine', 'schema', 'table', 'column', 'constraint', 'dataType', 'errno', 'syscall'];

/**
 * pino's `err` serializer: a whitelist of an error's fields, scrubbed (see the module comment).
 *
 * @example logger.error({ err }, 'unexpected error')
 */
export function serializeError(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error)) {
    if (error === null || error === undefined) return error;
    return { type: typeof error, message: scrubText(String(error)).slice(0, 500) };
  }
  const out: Record<string, unknown> = {
    type: error.constructor?.name ?? error.name,
    message: scrubText(error.message),
  };
  const fields = error as unknown as Record<string, unknown>;
  for (const key of SAFE_FIELDS) {
    const value = fields[key];
    if (typeof value === 'string' || typeof value === 'number') out[key] = typeof value === 'string' ? scrubText(value) : value;
  }
  if (error.stack) out.stack = scrubText(error.stack);
  if (depth < 4) {
    if (error.cause !== undefined) out.cause = serializeError(error.cause, depth + 1);
    if (error instanceof AggregateError) out.errors = error.errors.slice(0, 5).map((e) => serializeError(e, depth + 1));
  }
  return out;
}

/**
 * The gateway's logger: JSON lines on stdout (or `destination`), personal data redacted.
 *
 * @example createLogger('info').info({ requestId }, 'operation')
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'lianqiao' },
    formatters: { log: (object: Record<string, unknown>) => redactPersonal(object) },
    serializers: { err: serializeError },
  };
  return destination ? pino(options, destination) : pino(options);
}
