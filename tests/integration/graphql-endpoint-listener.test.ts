/**
 * The GraphQL endpoint is served by a node:http listener straight to yoga (gateway/http/app.ts),
 * not through express. Whatever a client sends there, valid or not, must be answered exactly as
 * express answered it: the same status, the same headers (the security headers above all) and the
 * same body. Each request is sent over a real socket both to the gateway's listener and to the
 * express app alone (which still mounts yoga at the endpoint), and the two answers compared.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, createTestGateway, NANJING_EAST, type TestGateway } from '../setup.ts';

interface Sent {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

const QUERY = '{ people(first: 2) { totalCount edges { node { name age } } } }';

function requests(token: string): Sent[] {
  const auth = { authorization: `Bearer ${token}`, 'x-purpose': 'elderly-allowance' };
  const json = { ...auth, 'content-type': 'application/json', accept: 'application/json' };
  return [
    { name: 'a valid POST', method: 'POST', path: '/graphql', headers: json, body: JSON.stringify({ query: QUERY }) },
    { name: 'a POST without a token', method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUERY }) },
    { name: 'malformed JSON', method: 'POST', path: '/graphql', headers: json, body: '{"query": ' },
    { name: 'a body that is not an object', method: 'POST', path: '/graphql', headers: json, body: '[1,2]' },
    { name: 'a syntax error', method: 'POST', path: '/graphql', headers: json, body: JSON.stringify({ query: '{ people(' }) },
    { name: 'an unknown content type', method: 'POST', path: '/graphql', headers: { ...auth, 'content-type': 'text/plain' }, body: QUERY },
    { name: 'a multipart upload', method: 'POST', path: '/graphql', headers: { ...auth, 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--' },
    { name: 'a body over the limit', method: 'POST', path: '/graphql', headers: json, body: JSON.stringify({ query: QUERY, pad: 'x'.repeat(200_000) }) },
    { name: 'a POST with a query string', method: 'POST', path: '/graphql?operationName=x', headers: json, body: JSON.stringify({ query: QUERY }) },
    { name: 'a GET query', method: 'GET', path: `/graphql?query=${encodeURIComponent(QUERY)}`, headers: { ...auth, accept: 'application/json' } },
    { name: 'a GET with the query repeated', method: 'GET', path: `/graphql?query=${encodeURIComponent(QUERY)}&query=${encodeURIComponent('{ __typename }')}`, headers: { ...auth, accept: 'application/json' } },
    { name: 'a GET with malformed escapes', method: 'GET', path: '/graphql?query=%zz%7B&variables=%', headers: { ...auth, accept: 'application/json' } },
    { name: 'a GET mutation', method: 'GET', path: `/graphql?query=${encodeURIComponent('mutation { __typename }')}`, headers: { ...auth, accept: 'application/json' } },
    { name: 'a GET without a query', method: 'GET', path: '/graphql', headers: { ...auth, accept: 'application/json' } },
    { name: "GraphiQL's page", method: 'GET', path: '/graphql', headers: { accept: 'text/html' } },
    { name: "GraphiQL's page with a query string", method: 'GET', path: '/graphql?query=%7B__typename%7D', headers: { accept: 'text/html,application/xhtml+xml' } },
    { name: 'HEAD', method: 'HEAD', path: '/graphql', headers: auth },
    { name: 'OPTIONS', method: 'OPTIONS', path: '/graphql', headers: { origin: 'http://elsewhere.example', 'access-control-request-method': 'POST' } },
    { name: 'PUT', method: 'PUT', path: '/graphql', headers: json, body: JSON.stringify({ query: QUERY }) },
    { name: 'DELETE', method: 'DELETE', path: '/graphql', headers: auth },
    { name: 'a trailing slash', method: 'POST', path: '/graphql/', headers: json, body: JSON.stringify({ query: QUERY }) },
    { name: 'another case', method: 'POST', path: '/GraphQL', headers: json, body: JSON.stringify({ query: QUERY }) },
    { name: 'a sub-path', method: 'GET', path: '/graphql/x', headers: { accept: 'text/html' } },
    { name: 'a fragment', method: 'GET', path: '/graphql?query=%7B__typename%7D#x', headers: { ...auth, accept: 'application/json' } },
  ];
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** Sends one request as written (no client normalisation of the path) and reads the whole answer. */
function send(port: number, sent: Sent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, method: sent.method, path: sent.path, headers: sent.headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    // A body over the limit may be refused before it is all sent: the answer is what counts.
    request.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    request.end(sent.body);
  });
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** An answer without what differs from one request to the next (its date, its server-made id). */
function comparable(answer: Answer): Answer {
  const headers = { ...answer.headers };
  delete headers.date;
  if (headers['x-request-id'] !== undefined) headers['x-request-id'] = String(headers['x-request-id']).replace(UUID, '<uuid>');
  return { status: answer.status, headers, body: answer.body.replace(UUID, '<uuid>') };
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.once('listening', () => resolve((server.address() as AddressInfo).port)));
}

describe.each(BACKENDS)('the GraphQL endpoint outside express, on %s', (backend) => {
  let gw: TestGateway;
  let token = '';
  let ours: http.Server;
  let viaExpress: http.Server;
  let oursPort = 0;
  let expressPort = 0;

  beforeAll(async () => {
    gw = await createTestGateway({ backend, persons: 50 });
    token = await gw.token({ sub: 'listener-clerk', org: NANJING_EAST, roles: ['street_staff'] });
    ours = gw.gateway.app.listen(0, '127.0.0.1');
    viaExpress = http.createServer(gw.gateway.app.express).listen(0, '127.0.0.1');
    [oursPort, expressPort] = await Promise.all([listen(ours), listen(viaExpress)]);
  });
  afterAll(async () => {
    for (const server of [ours, viaExpress]) {
      server?.closeAllConnections();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    }
    await gw?.close();
  });

  it('answers every kind of request exactly as express did', async () => {
    for (const sent of requests(token)) {
      const direct = await send(oursPort, sent);
      const express = await send(expressPort, sent);
      expect(comparable(direct), sent.name).toEqual(comparable(express));
    }
  });

  it('sends the API security headers and a server-made request id on an operation', async () => {
    const answer = await send(oursPort, requests(token)[0]!);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).data.people.totalCount).toBeGreaterThan(0);
    expect(answer.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'");
    expect(answer.headers['x-frame-options']).toBe('DENY');
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.headers['x-powered-by']).toBeUndefined();
    expect(answer.headers['x-request-id']).toMatch(UUID);
  });

  it('never takes a client-sent request id', async () => {
    const sent = requests(token)[0]!;
    const answer = await send(oursPort, { ...sent, headers: { ...sent.headers, 'x-request-id': 'chosen-by-client' } });
    expect(answer.headers['x-request-id']).not.toBe('chosen-by-client');
    expect(answer.headers['x-request-id']).toMatch(UUID);
  });

  it('answers a malformed HTTP request with 400 and keeps serving', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(oursPort, '127.0.0.1', () => socket.end('POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(reply.startsWith('HTTP/1.1 400')).toBe(true);
    expect((await send(oursPort, requests(token)[0]!)).status).toBe(200);
  });

  it('serves the other routes through express, with their headers', async () => {
    const health = await send(oursPort, { name: 'healthz', method: 'GET', path: '/healthz' });
    expect(health.status).toBe(200);
    expect(comparable(health)).toEqual(comparable(await send(expressPort, { name: 'healthz', method: 'GET', path: '/healthz' })));
    const page = await send(oursPort, { name: 'console', method: 'GET', path: '/console' });
    expect(comparable(page)).toEqual(comparable(await send(expressPort, { name: 'console', method: 'GET', path: '/console' })));
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
  });
});
