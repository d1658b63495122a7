/**
 * The wire format between {@link HttpConnector} (the gateway side) and a department's HTTP data
 * service (e.g. `social-security-service.ts`). Both sides import this file, so a change here changes
 * both ends at once.
 *
 * - `POST {base}/lookup` body {@link LookupBody} → `200` {@link LookupResult}
 * - `POST {base}/find`   body {@link FindBody}   → `200` {@link FindResult}
 * - `GET  {base}/health`                          → `200 { status: 'ok' }`
 * - every request carries the source's credential, `Authorization: Basic <any user>:<credential>`
 *   (what {@link HttpConnector} sends for a base URL with userinfo) or `Bearer <credential>`;
 *   without it: `401 { error: { code: 'UNAUTHORIZED' } }` and nothing is read.
 * - errors: `400 { error: { code: 'BAD_REQUEST' | 'BAD_CURSOR', message } }`; `401`, `404`, `405`, `413`,
 *   `415` for requests that do not reach a route; `5xx` otherwise (`503` when the service's own
 *   database does not answer, `500` for anything unexpected, with a generic message).
 *
 * Field names are the dataset's logical names. The service validates every field, condition field
 * and `orderBy` field against its dataset definition and refuses unknown ones; it never maps a name
 * it receives to a column other than through its own table mapping.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { validateCondition, type Condition, type PathStep } from '../../core/conditions.ts';
import type { OrderBy, Row } from '../connector.ts';
import type { DatasetDef } from '../../core/datasets.ts';

/** At most this many keys in one lookup request (the client splits larger batches itself). */
export const MAX_LOOKUP_KEYS = 1_000;
/** At most this many rows in one find page. */
export const MAX_PAGE_SIZE = 1_000;
/** Request bodies above this size are refused with 413. */
export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * Most condition nodes in one request, over all its trees (depth and `in` lengths are limited by
 * `validateCondition` in core/conditions.ts, the one rule the policy files use too).
 */
export const MAX_CONDITION_NODES = 200;
export const MAX_KEY_LENGTH = 128;
export const MAX_CURSOR_LENGTH = 4_096;

export const PROTOCOL_PATHS = { lookup: '/lookup', find: '/find', health: '/health' } as const;

/** Shortest credential a source accepts (a random one is 43 characters of base64url). */
export const MIN_CREDENTIAL_LENGTH = 32;

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Whether an `Authorization` header carries `credential`: Basic auth with it as the password (any
 * user name), or a Bearer token equal to it. Compared in constant time.
 */
export function carriesCredential(authorization: string | undefined, credential: string): boolean {
  if (!authorization || credential.length < MIN_CREDENTIAL_LENGTH) return false;
  const [scheme, value = ''] = authorization.trim().split(/\s+/, 2);
  let given: string | undefined;
  if (/^bearer$/i.test(scheme ?? '')) given = value;
  else if (/^basic$/i.test(scheme ?? '')) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    given = colon < 0 ? undefined : decoded.slice(colon + 1);
  }
  return given !== undefined && timingSafeEqual(digest(given), digest(credential));
}

/**
 * `base` with the credential as its userinfo: the URL a connector is configured with
 * (`SOCIAL_SECURITY_URL`). {@link HttpConnector} sends it as Basic auth and never shows it.
 */
export function withCredential(base: string, credential: string, user = 'gateway'): string {
  const url = new URL(base);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(credential);
  return url.href.replace(/\/+$/, '');
}

export interface LookupBody {
  by: string;
  keys: string[];
  fields: string[];
  conditions: Condition[];
}

export interface LookupResult {
  rows: Row[];
}

export interface FindBody {
  fields: string[];
  where: Condition[];
  conditions: Condition[];
  orderBy?: OrderBy;
  first: number;
  after?: string | null;
  withTotalCount?: boolean;
}

export interface FindResult {
  rows: Row[];
  cursors: string[];
  hasNextPage: boolean;
  totalCount?: number;
}

export interface HealthResult {
  status: 'ok';
}

/** Codes a 400 carries; the others accompany 401, 404, 405, 413, 415, 500 and 503. */
export type ProtocolErrorCode =
  | 'BAD_REQUEST'
  | 'BAD_CURSOR'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export interface ErrorResult {
  error: { code: ProtocolErrorCode; message: string };
}

/** A request body that does not follow the protocol. Its message is safe to send back (no values echoed). */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

// ---------------------------------------------------------------------------------------------
// Request validation (service side; the client runs it too before sending, to fail fast)
// ---------------------------------------------------------------------------------------------

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Quotes a name for an error message without echoing arbitrary input at length. */
function quote(name: string): string {
  const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  return JSON.stringify(shown);
}

function checkKnownKeys(value: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new ProtocolError(`${what}: unexpected property ${quote(key)}`);
  }
}

function checkField(dataset: DatasetDef, field: unknown, what: string): string {
  if (typeof field !== 'string' || field.length === 0) throw new ProtocolError(`${what} must be a non-empty string`);
  if (!dataset.fields.some((f) => f.name === field)) {
    throw new ProtocolError(`${what}: unknown field ${quote(field)} for dataset ${dataset.name}`);
  }
  return field;
}

function checkFields(dataset: DatasetDef, fields: unknown): string[] {
  if (!Array.isArray(fields)) throw new ProtocolError('fields must be an array of field names');
  if (fields.length > dataset.fields.length * 2) throw new ProtocolError('fields: too many entries');
  return [...new Set(fields.map((f, i) => checkField(dataset, f, `fields[${i}]`)))];
}

/** Nodes of a condition tree, counting no further than `limit` (so a huge tree costs little). */
function countNodes(value: unknown, limit: number): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && count <= limit) {
    const node = stack.pop();
    count++;
    if (isPlainObject(node)) {
      const parts = Array.isArray(node.all) ? node.all : Array.isArray(node.any) ? node.any : undefined;
      if (parts) for (const part of parts) stack.push(part);
    }
  }
  return count;
}

/**
 * One condition through the shared validator: what the policy files refuse, the protocol refuses
 * (the first problem is named; messages carry paths and types, never values).
 */
function checkCondition(dataset: DatasetDef, value: unknown, at: readonly PathStep[], budget: { nodes: number }): Condition {
  budget.nodes -= countNodes(value, budget.nodes);
  if (budget.nodes < 0) throw new ProtocolError(`conditions: more than ${MAX_CONDITION_NODES} nodes`);
  const issues = validateCondition(dataset, value, at);
  if (issues.length > 0) throw new ProtocolError(issues[0]!.message);
  return value as Condition;
}

function checkConditions(dataset: DatasetDef, value: unknown, name: string, budget: { nodes: number }): Condition[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ProtocolError(`${name} must be an array of conditions`);
  return value.map((c, i) => checkCondition(dataset, c, [name, i], budget));
}

/** Validates a `/lookup` body against the dataset; returns a normalised copy or throws {@link ProtocolError}. */
export function parseLookupBody(dataset: DatasetDef, body: unknown): LookupBody {
  if (!isPlainObject(body)) throw new ProtocolError('body must be a JSON object');
  checkKnownKeys(body, ['by', 'keys', 'fields', 'conditions'], 'body');
  const by = body.by;
  if (typeof by !== 'string' || (by !== dataset.key && !dataset.lookupFields.includes(by))) {
    throw new ProtocolError(`by must be ${[dataset.key, ...dataset.lookupFields].map(quote).join(' or ')}`);
  }
  const keys = body.keys;
  if (!Array.isArray(keys)) throw new ProtocolError('keys must be an array of strings');
  if (keys.length > MAX_LOOKUP_KEYS) throw new ProtocolError(`keys: at most ${MAX_LOOKUP_KEYS} per request`);
  for (const key of keys) {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw new ProtocolError(`keys must be non-empty strings of at most ${MAX_KEY_LENGTH} characters`);
    }
  }
  const fields = checkFields(dataset, body.fields);
  const conditions = checkConditions(dataset, body.conditions, 'conditions', { nodes: MAX_CONDITION_NODES });
  return { by, keys: [...new Set(keys as string[])], fields, conditions };
}

/** Validates a `/find` body against the dataset; returns a normalised copy or throws {@link ProtocolError}. */
export function parseFindBody(dataset: DatasetDef, body: unknown): FindBody {
  if (!isPlainObject(body)) throw new ProtocolError('body must be a JSON object');
  checkKnownKeys(body, ['fields', 'where', 'conditions', 'orderBy', 'first', 'after', 'withTotalCount'], 'body');
  const fields = checkFields(dataset, body.fields);
  const budget = { nodes: MAX_CONDITION_NODES };
  const where = checkConditions(dataset, body.where, 'where', budget);
  const conditions = checkConditions(dataset, body.conditions, 'conditions', budget);
  const first = body.first;
  if (typeof first !== 'number' || !Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw new ProtocolError(`first must be an integer between 0 and ${MAX_PAGE_SIZE}`);
  }
  const result: FindBody = { fields, where, conditions, first };
  if (body.orderBy !== undefined && body.orderBy !== null) {
    const orderBy = body.orderBy;
    if (!isPlainObject(orderBy)) throw new ProtocolError('orderBy must be an object');
    checkKnownKeys(orderBy, ['field', 'direction'], 'orderBy');
    const field = checkField(dataset, orderBy.field, 'orderBy.field');
    if (orderBy.direction !== 'asc' && orderBy.direction !== 'desc') throw new ProtocolError("orderBy.direction must be 'asc' or 'desc'");
    result.orderBy = { field, direction: orderBy.direction };
  }
  if (body.after !== undefined && body.after !== null) {
    if (typeof body.after !== 'string' || body.after.length > MAX_CURSOR_LENGTH) {
      throw new ProtocolError(`after must be a cursor string of at most ${MAX_CURSOR_LENGTH} characters`);
    }
    result.after = body.after;
  }
  if (body.withTotalCount !== undefined) {
    if (typeof body.withTotalCount !== 'boolean') throw new ProtocolError('withTotalCount must be a boolean');
    result.withTotalCount = body.withTotalCount;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Response validation (client side)
// ---------------------------------------------------------------------------------------------

function isRowArray(value: unknown): value is Row[] {
  return Array.isArray(value) && value.every(isPlainObject);
}

export function isLookupResult(value: unknown): value is LookupResult {
  return isPlainObject(value) && isRowArray(value.rows);
}

export function isFindResult(value: unknown): value is FindResult {
  if (!isPlainObject(value) || !isRowArray(value.rows)) return false;
  const { cursors, hasNextPage, totalCount } = value;
  return (
    Array.isArray(cursors) &&
    cursors.length === value.rows.length &&
    cursors.every((c) => typeof c === 'string') &&
    typeof hasNextPage === 'boolean' &&
    (totalCount === undefined || (typeof totalCount === 'number' && Number.isInteger(totalCount) && totalCount >= 0))
  );
}

export function isHealthResult(value: unknown): value is HealthResult {
  return isPlainObject(value) && value.status === 'ok';
}

export function isErrorResult(value: unknown): value is ErrorResult {
  return isPlainObject(value) && isPlainObject(value.error) && typeof value.error.code === 'string';
}
