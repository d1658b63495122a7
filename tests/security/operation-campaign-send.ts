/**
 * How the campaign talks to the gateway process: over real HTTP on loopback (node:http, so that an
 * abort is the client closing its socket after the whole request was sent), as one JSON POST, a GET,
 * a batch array, or a POST abandoned mid-flight; and the tokens of each kind of caller.
 */
import http from 'node:http';
import { signToken } from '../../gateway/auth/token-signer.ts';
import type { Printed } from './operation-campaign-model.ts';

export type Mode = 'post' | 'get' | 'batch' | 'abort';

export interface Sent {
  readonly aborted: boolean;
  readonly status: number;
  readonly requestId: string | null;
  readonly body: any;
}

export interface Headers {
  readonly token?: string | undefined;
  readonly purpose?: string | undefined;
  readonly caseRef?: string | undefined;
}

/** A header value must be printable ASCII on the wire: other text is sent URI-encoded, as a browser would. */
function onTheWire(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURI(value);
}

function headersOf(h: Headers, json: boolean): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (json) headers['content-type'] = 'application/json';
  if (h.token) headers.authorization = `Bearer ${h.token}`;
  if (h.purpose !== undefined) headers['x-purpose'] = onTheWire(h.purpose);
  if (h.caseRef !== undefined) headers['x-case-ref'] = onTheWire(h.caseRef);
  return headers;
}

/** Sends one request; `abortAfterMs` (mode abort): closes the socket that long after the request was written. */
export function send(base: string, mode: Mode, operations: readonly Printed[], h: Headers, abortAfterMs = 0): Promise<Sent> {
  const url = new URL('/graphql', base);
  let body: string | undefined;
  let method = 'POST';
  if (mode === 'get') {
    method = 'GET';
    const op = operations[0]!;
    url.searchParams.set('query', op.query);
    url.searchParams.set('variables', JSON.stringify(op.variables));
    if (op.operationName) url.searchParams.set('operationName', op.operationName);
  } else if (mode === 'batch') {
    body = JSON.stringify(operations.map((op) => ({ query: op.query, variables: op.variables, operationName: op.operationName })));
  } else {
    const op = operations[0]!;
    body = JSON.stringify({ query: op.query, variables: op.variables, operationName: op.operationName });
  }
  return new Promise<Sent>((resolve, reject) => {
    const request = http.request(url, { method, agent: false, headers: headersOf(h, body !== undefined) }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => {
        let parsed: unknown = null;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          parsed = { unparsed: text };
        }
        resolve({ aborted: false, status: response.statusCode ?? 0, requestId: (response.headers['x-request-id'] as string | undefined) ?? null, body: parsed });
      });
      response.on('error', () => resolve({ aborted: true, status: 0, requestId: null, body: null }));
    });
    request.on('error', (error) => (request.destroyed && mode === 'abort' ? resolve({ aborted: true, status: 0, requestId: null, body: null }) : reject(error)));
    if (mode === 'abort') request.on('finish', () => setTimeout(() => request.destroy(), abortAfterMs));
    request.end(body);
  });
}

export interface TokenFactory {
  good(claims: { sub: string; org: string; roles: string[] }): Promise<string>;
  /** A well-formed token signed with another key. */
  forged(claims: { sub: string; org: string; roles: string[] }): Promise<string>;
}

export function tokenFactory(secret: string): TokenFactory {
  const cache = new Map<string, Promise<string>>();
  const sign = (key: string, claims: { sub: string; org: string; roles: string[] }) => {
    const id = `${key === secret ? 'good' : 'forged'}|${claims.sub}|${claims.org}|${claims.roles.join(',')}`;
    if (!cache.has(id)) cache.set(id, signToken(key, claims as never, '2h'));
    return cache.get(id)!;
  };
  return { good: (claims) => sign(secret, claims), forged: (claims) => sign(`${secret}-forged-by-someone-else`, claims) };
}
