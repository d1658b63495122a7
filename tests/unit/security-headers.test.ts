/**
 * The security headers are computed once at start-up (gateway/http/security-headers.ts); every
 * kind of answer must still carry exactly what helmet itself would set for its policy, on every
 * request, including one whose handler tries to set a header of its own first.
 */
import http from 'node:http';
import express from 'express';
import helmet from 'helmet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP_DIRECTIVES, GRAPHIQL_CSP_DIRECTIVES, securityHeaders } from '../../gateway/http/security-headers.ts';

const API_DIRECTIVES = { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] };

function serve(app: express.Express): Promise<{ url: string; close: () => Promise<void> }> {
  return new Promise((resolve) => {
    const server = http.createServer(app).listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      resolve({ url: `http://127.0.0.1:${address.port}`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

function answering(app: express.Express): express.Express {
  app.use((_req, res) => {
    res.type('text/plain').send('ok');
  });
  return app;
}

/** The headers of an answer, without those that vary per response. */
function stable(response: Response): Record<string, string> {
  const out: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!['date', 'content-length', 'etag', 'connection', 'keep-alive'].includes(name)) out[name] = value;
  });
  return out;
}

describe('security headers computed once', () => {
  let ours: { url: string; close: () => Promise<void> };
  const references: Record<string, { url: string; close: () => Promise<void> }> = {};

  beforeAll(async () => {
    const app = express();
    app.use(securityHeaders('/graphql'));
    ours = await serve(answering(app));
    for (const [kind, directives] of Object.entries({ api: API_DIRECTIVES, console: CONSOLE_CSP_DIRECTIVES, graphiql: GRAPHIQL_CSP_DIRECTIVES })) {
      const reference = express();
      reference.use(helmet({ contentSecurityPolicy: { useDefaults: false, directives: directives as Record<string, string[]> }, frameguard: { action: 'deny' } }));
      references[kind] = await serve(answering(reference));
    }
  });
  afterAll(async () => {
    await ours.close();
    for (const r of Object.values(references)) await r.close();
  });

  const cases: [string, string, RequestInit][] = [
    ['api', '/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }],
    ['api', '/healthz', {}],
    ['console', '/console', {}],
    ['console', '/console/app.js', {}],
    ['graphiql', '/graphql', { headers: { accept: 'text/html' } }],
  ];
  for (const [kind, path, init] of cases) {
    it(`${path} ${init.method ?? 'GET'} ${kind}: the same headers as helmet sets, every time`, async () => {
      const expected = stable(await fetch(`${references[kind]!.url}${path}`, init));
      expect(expected['content-security-policy']).toBeTruthy();
      for (let i = 0; i < 3; i++) expect(stable(await fetch(`${ours.url}${path}`, init))).toEqual(expected);
    });
  }

  it('the API policy allows nothing, and an answer never carries X-Powered-By', async () => {
    const response = await fetch(`${ours.url}/graphql`, { method: 'POST', body: '{}' });
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-powered-by')).toBeNull();
  });
});
