/**
 * The HTTP adapter of the Connector port: reads a department's data through its JSON service
 * (wire format in `http-protocol.ts`), e.g. the social-security bureau's service.
 *
 * - Refuses to run without a scope; sends the scope's row `conditions` to the service, which applies
 *   them in its own query. `scope.streets` is not sent: a dataset served this way has no street field,
 *   the gateway scopes it by asking only for keys it already found in scope.
 * - One HTTP request per batch of keys (deduplicated; split into parallel chunks above `maxBatch`).
 * - Row-dependent fields ({@link RowRules}) need no protocol of their own: the rows are asked for
 *   once more per tag, in parallel, with the tag added to the conditions and only the fields that
 *   tag grants, so the service's own query decides which tags hold and a field's value never
 *   leaves the service on a row where none of its tags holds. One tag costs one more request.
 * - Every attempt has its own time limit (`AbortSignal.timeout`). Network errors, timeouts and
 *   500/502/503/504 are retried with exponential backoff and jitter (reads are idempotent); 4xx never.
 * - Failures become {@link ConnectorError}s whose messages name the source only: never the URL, its
 *   credentials or the response body.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Condition } from '../../core/conditions.ts';
import type { Connector, FindRequest, LookupRequest, Page, Row, RowRules } from '../connector.ts';
import { assertScope, hasRowRules, tagRow } from '../connector.ts';
import { ConnectorError } from '../connector-error.ts';
import type { DatasetDef } from '../../core/datasets.ts';
import {
  MAX_KEY_LENGTH,
  MAX_LOOKUP_KEYS,
  PROTOCOL_PATHS,
  ProtocolError,
  isErrorResult,
  isFindResult,
  isHealthResult,
  isLookupResult,
  parseFindBody,
  parseLookupBody,
} from './http-protocol.ts';
import type { FindBody, LookupBody } from './http-protocol.ts';

export interface HttpConnectorOptions {
  readonly dataset: DatasetDef;
  /** The service's base URL, e.g. `http://ss.internal:4100` (user:password, if any, is sent as Basic auth). */
  readonly baseUrl: string;
  /** Time limit of one attempt, response body included. Default 5000. */
  readonly timeoutMs?: number;
  /** Extra attempts after a retryable failure. Default 2. */
  readonly retries?: number;
  /** First backoff delay; doubles per retry, with jitter. Default 100. */
  readonly backoffMs?: number;
  /** Most keys in one lookup request (capped at the protocol's limit). Default 500. */
  readonly maxBatch?: number;
  readonly fetch?: typeof fetch;
  /** Observes every HTTP attempt (tests count them; metrics may too). */
  readonly onRequest?: (request: { path: string; body: unknown }) => void;
}

const RETRYABLE_STATUS = new Set([500, 502, 503, 504]);

/** One failed attempt: the error to raise, and whether another attempt may help. */
class AttemptFailure {
  constructor(
    readonly error: ConnectorError,
    readonly retryable: boolean,
  ) {}
}

export class HttpConnector implements Connector {
  readonly dataset: DatasetDef;
  readonly #base: string;
  readonly #authorization?: string;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #backoffMs: number;
  readonly #maxBatch: number;
  readonly #fetch: typeof fetch;
  readonly #onRequest?: HttpConnectorOptions['onRequest'];
  readonly #closer = new AbortController();

  constructor(options: HttpConnectorOptions) {
    this.dataset = options.dataset;
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new TypeError(`HttpConnector for ${options.dataset.name}: baseUrl is not a valid URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`HttpConnector for ${options.dataset.name}: baseUrl must be http or https`);
    }
    if (url.username || url.password) {
      const user = decodeURIComponent(url.username);
      const password = decodeURIComponent(url.password);
      this.#authorization = `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
      url.username = '';
      url.password = '';
    }
    url.search = '';
    url.hash = '';
    this.#base = url.href.replace(/\/+$/, '');
    this.#timeoutMs = positive(options.timeoutMs, 5000, 'timeoutMs');
    this.#retries = Math.floor(nonNegative(options.retries, 2, 'retries'));
    this.#backoffMs = nonNegative(options.backoffMs, 100, 'backoffMs');
    this.#maxBatch = Math.min(MAX_LOOKUP_KEYS, Math.floor(positive(options.maxBatch, 500, 'maxBatch')));
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#onRequest = options.onRequest;
  }

  async lookup(request: LookupRequest): Promise<Row[]> {
    assertScope(request.scope, this.dataset.name);
    // A key the protocol cannot carry (empty, or longer than any key) cannot match a row: drop it.
    const keys = [...new Set(request.keys)].filter((k) => typeof k === 'string' && k.length > 0 && k.length <= MAX_KEY_LENGTH);
    const rules = hasRowRules(request.rowRules, this.dataset.name) ? request.rowRules : undefined;
    const keep = new Set([...request.fields, request.by]);
    if (!rules) {
      const rows = await this.#lookupRaw(request.by, keys, [...request.fields], [...request.scope.conditions]);
      return rows.map((row) => project(row, keep));
    }
    const key = this.dataset.key;
    const uniform = [...new Set([...request.fields.filter((f) => !Object.hasOwn(rules.shownUnder, f)), key])];
    const [rows, ...tagged] = await Promise.all([
      this.#lookupRaw(request.by, keys, uniform, [...request.scope.conditions]),
      ...rules.tags.map((tag, i) =>
        this.#lookupRaw(request.by, keys, tagFields(rules, request.fields, i, key), [...request.scope.conditions, tag]),
      ),
    ]);
    return merge(rows!, tagged, rules, request.fields, key, keep);
  }

  async find(request: FindRequest): Promise<Page> {
    assertScope(request.scope, this.dataset.name);
    const rules = hasRowRules(request.rowRules, this.dataset.name) ? request.rowRules : undefined;
    const key = this.dataset.key;
    const fields = rules ? [...new Set([...request.fields.filter((f) => !Object.hasOwn(rules.shownUnder, f)), key])] : [...request.fields];
    const body: FindBody = this.#validate(() =>
      parseFindBody(this.dataset, {
        fields,
        where: [...(request.where ?? [])],
        conditions: [...request.scope.conditions],
        ...(request.orderBy ? { orderBy: { field: request.orderBy.field, direction: request.orderBy.direction } } : {}),
        first: request.first,
        ...(request.after ? { after: request.after } : {}),
        ...(request.withTotalCount ? { withTotalCount: true } : {}),
      }),
    );
    const result = await this.#post(PROTOCOL_PATHS.find, body);
    if (!isFindResult(result) || (request.withTotalCount && result.totalCount === undefined)) throw this.#badResponse('find');
    const keep = new Set(request.fields);
    let rows: Row[];
    if (!rules) {
      rows = result.rows.map((row) => project(row, keep));
    } else {
      // The page's rows, asked again per tag: the service's own query decides which tags hold.
      const keys = result.rows.map((row) => row[key]).filter((k): k is string => typeof k === 'string' && k.length > 0 && k.length <= MAX_KEY_LENGTH);
      const tagged = await Promise.all(
        rules.tags.map((tag, i) => this.#lookupRaw(key, keys, tagFields(rules, request.fields, i, key), [...request.scope.conditions, tag])),
      );
      rows = merge(result.rows, tagged, rules, request.fields, key, keep);
    }
    return {
      rows,
      cursors: result.cursors,
      hasNextPage: result.hasNextPage,
      ...(request.withTotalCount ? { totalCount: result.totalCount } : {}),
    };
  }

  /** One protocol lookup (validated first, split into chunks of `maxBatch` keys); rows as the service sent them. */
  async #lookupRaw(by: string, keys: readonly string[], fields: string[], conditions: Condition[]): Promise<Row[]> {
    const template = this.#validate(() => parseLookupBody(this.dataset, { by, keys: [], fields, conditions }));
    if (keys.length === 0) return [];
    const chunks: string[][] = [];
    for (let i = 0; i < keys.length; i += this.#maxBatch) chunks.push(keys.slice(i, i + this.#maxBatch));
    const results = await Promise.all(
      chunks.map(async (chunk) => {
        const body: LookupBody = { ...template, keys: this.#validate(() => parseLookupBody(this.dataset, { ...template, keys: chunk })).keys };
        const result = await this.#post(PROTOCOL_PATHS.lookup, body);
        if (!isLookupResult(result)) throw this.#badResponse('lookup');
        return result.rows;
      }),
    );
    return results.flat();
  }

  async health(): Promise<void> {
    // A probe: one attempt, no retries, so readiness reflects the source now.
    const result = await this.#attemptOrThrow('GET', PROTOCOL_PATHS.health, undefined);
    if (!isHealthResult(result)) throw this.#badResponse('health');
  }

  async close(): Promise<void> {
    if (!this.#closer.signal.aborted) this.#closer.abort();
  }

  /** Runs the shared validator; a request the protocol refuses is a programming error, not a source failure. */
  #validate<T>(parse: () => T): T {
    try {
      return parse();
    } catch (error) {
      if (error instanceof ProtocolError) throw new TypeError(`${this.dataset.name}: ${error.message}`);
      throw error;
    }
  }

  async #post(path: string, body: unknown): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.#attempt('POST', path, body);
      if (!(outcome instanceof AttemptFailure)) return outcome;
      if (!outcome.retryable || attempt >= this.#retries || this.#closer.signal.aborted) throw outcome.error;
      const delay = this.#backoffMs * 2 ** attempt * (0.5 + Math.random());
      try {
        await sleep(delay, undefined, { signal: this.#closer.signal });
      } catch {
        throw this.#closed();
      }
    }
  }

  async #attemptOrThrow(method: 'GET' | 'POST', path: string, body: unknown): Promise<unknown> {
    const outcome = await this.#attempt(method, path, body);
    if (outcome instanceof AttemptFailure) throw outcome.error;
    return outcome;
  }

  /** One HTTP exchange. Resolves with the parsed JSON of a 200, or an {@link AttemptFailure}. */
  async #attempt(method: 'GET' | 'POST', path: string, body: unknown): Promise<unknown> {
    const source = this.dataset.name;
    if (this.#closer.signal.aborted) return new AttemptFailure(this.#closed(), false);
    this.#onRequest?.({ path, body });
    const signal = AbortSignal.any([AbortSignal.timeout(this.#timeoutMs), this.#closer.signal]);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#authorization) headers.authorization = this.#authorization;

    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(`${this.#base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        redirect: 'manual',
      });
      text = await response.text();
    } catch (error) {
      if (this.#closer.signal.aborted) return new AttemptFailure(this.#closed(error), false);
      if (isTimeout(error)) {
        return new AttemptFailure(
          new ConnectorError('timeout', source, `source ${source} did not answer within ${this.#timeoutMs} ms`, { cause: error }),
          true,
        );
      }
      return new AttemptFailure(
        new ConnectorError('unavailable', source, `source ${source} is unavailable (connection failed)`, { cause: error }),
        true,
      );
    }

    if (response.status === 200) {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return new AttemptFailure(this.#badResponse(path.slice(1), 'not JSON'), false);
      }
    }
    if (response.status >= 500) {
      return new AttemptFailure(
        new ConnectorError('unavailable', source, `source ${source} is unavailable (HTTP ${response.status})`),
        RETRYABLE_STATUS.has(response.status),
      );
    }
    let code: string | undefined;
    try {
      const parsed = JSON.parse(text) as unknown;
      if (isErrorResult(parsed)) code = parsed.error.code;
    } catch {
      // no usable error body: the status alone speaks
    }
    if (response.status === 400 && code === 'BAD_CURSOR') {
      return new AttemptFailure(new ConnectorError('bad-cursor', source, `invalid cursor for source ${source}`), false);
    }
    return new AttemptFailure(
      new ConnectorError('bad-response', source, `source ${source} refused the request (HTTP ${response.status}${code ? ` ${code}` : ''})`),
      false,
    );
  }

  #badResponse(operation: string, what = 'unexpected shape'): ConnectorError {
    return new ConnectorError('bad-response', this.dataset.name, `source ${this.dataset.name} sent an invalid ${operation} response (${what})`);
  }

  #closed(cause?: unknown): ConnectorError {
    return new ConnectorError('unavailable', this.dataset.name, `connector for source ${this.dataset.name} is closed`, { cause });
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || (error.cause instanceof Error && error.cause.name === 'TimeoutError'));
}

/** The fields asked for under tag `i`: the row key and the fields that tag may show. */
function tagFields(rules: RowRules, fields: readonly string[], i: number, key: string): string[] {
  return [...new Set([key, ...fields.filter((f) => rules.shownUnder[f]?.includes(i))])];
}

/**
 * Rows of the scope with the row-dependent fields filled in from the per-tag answers: a tag holds
 * on a row when its answer has the row; a field takes its value from an answer of one of its tags.
 */
function merge(
  rows: readonly Row[],
  tagged: readonly (readonly Row[])[],
  rules: RowRules,
  fields: readonly string[],
  key: string,
  keep: ReadonlySet<string>,
): Row[] {
  const byTag = tagged.map((answer) => new Map(answer.filter((r) => typeof r[key] === 'string').map((r) => [r[key] as string, r])));
  return rows.map((row) => {
    const id = row[key];
    const tags = byTag.map((answer) => typeof id === 'string' && answer.has(id));
    const out = project(row, keep);
    for (const field of fields) {
      const under = rules.shownUnder[field];
      if (!under) continue;
      const source = under.find((i) => tags[i]);
      out[field] = source === undefined ? null : (byTag[source]!.get(id as string)?.[field] ?? null);
    }
    return tagRow(out, tags);
  });
}

/** Keeps only the fields the caller asked for, whatever the service sent. */
function project(row: Row, keep: ReadonlySet<string>): Row {
  const out: Row = {};
  for (const field of keep) if (Object.hasOwn(row, field)) out[field] = row[field];
  return out;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`HttpConnector: ${name} must be a positive number`);
  return value;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`HttpConnector: ${name} must be zero or more`);
  return value;
}
