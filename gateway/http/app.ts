/**
 * The gateway's HTTP surface: express with the security headers, the health and readiness probes,
 * /metrics, the audit export route, yoga mounted at its GraphQL endpoint, and the web console; and
 * in front of it a node:http request listener that hands the GraphQL endpoint itself straight to
 * yoga, with the same security headers, so that the API's answers do not pay for express's
 * request and response wrapping and its router on every operation.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import querystring from 'node:querystring';
import express from 'express';
import type { Runtime } from '../runtime.ts';
import { graphqlSecurityHeaders, securityHeaders } from './security-headers.ts';
import { auditExportHandler } from './audit-export-route.ts';
import { consoleRoute } from './console-route.ts';
import { demoTokens } from '../cli/demo-tokens.ts';

export interface AppOptions {
  /** The GraphQL endpoint's path and its handler (yoga). */
  readonly graphqlEndpoint: string;
  readonly graphql: (req: IncomingMessage, res: ServerResponse) => unknown;
}

/** The gateway's request listener, and a way to listen with it (as express's `app.listen`). */
export interface GatewayApp {
  (req: IncomingMessage, res: ServerResponse): void;
  /** A node:http server with the default options (keep-alive and timeouts as node sets them). */
  listen(port: number, host: string, callback?: (error?: Error) => void): http.Server;
  /** Every route but the GraphQL endpoint itself. */
  readonly express: express.Express;
}

export function createApp(runtime: Runtime, options: AppOptions): GatewayApp {
  const app = expressApp(runtime, options);
  const endpoint = options.graphqlEndpoint;
  const headers = graphqlSecurityHeaders(endpoint);
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '';
    // Only the endpoint's exact path, with or without a query string; every other spelling (a
    // trailing slash, another case, an absolute URL, a fragment) goes through express as before.
    const exact = url === endpoint;
    if (!exact && !(url.startsWith(endpoint) && url.charCodeAt(endpoint.length) === 0x3f /* ? */ && !url.includes('#'))) {
      app(req, res);
      return;
    }
    // As express does for yoga (its req.query, parsed by the "simple" query parser), so that the
    // parameters of a GET reach yoga exactly as they did behind express, repeated names included.
    if (!exact) (req as IncomingMessage & { query?: unknown }).query = querystring.parse(url.slice(endpoint.length + 1));
    headers(req, endpoint, res);
    void options.graphql(req, res);
  };
  return Object.assign(listener, {
    express: app,
    listen(port: number, host: string, callback?: (error?: Error) => void): http.Server {
      const server = http.createServer(listener);
      if (callback) {
        let called = false;
        const once = (error?: Error) => {
          if (called) return;
          called = true;
          callback(error);
        };
        server.once('error', once);
        return server.listen(port, host, () => once());
      }
      return server.listen(port, host);
    },
  });
}

function expressApp(runtime: Runtime, options: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders(options.graphqlEndpoint));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await runtime.readiness();
    res.status(checks.ready ? 200 : 503).json(checks);
  });
  // Aggregate numbers only (counts and durations by decision, code, operation name, source): no
  // ids, users or purposes, hence no token. Restrict it at the network if even that is too much.
  app.get('/metrics', async (_req, res) => {
    try {
      const text = await runtime.metrics.render();
      res.set('content-type', runtime.metrics.contentType).send(text);
    } catch (error) {
      runtime.logger.warn({ err: error }, 'metrics could not be collected');
      res.status(503).type('text/plain').send('metrics unavailable\n');
    }
  });
  app.get(
    '/audit/export',
    auditExportHandler({
      authenticate: (header: string | undefined) => runtime.authenticator.authenticate(header),
      reader: runtime.auditReader,
      sink: runtime.audit,
      instanceId: runtime.config.instanceId,
      rateLimit: runtime.rateLimiter ? (viewer) => runtime.rateLimiter!.check(viewer) : undefined,
    }),
  );
  app.use(options.graphqlEndpoint, options.graphql as express.RequestHandler);
  // The web console and its assets; the demo users' tokens only in the embedded demo.
  const secret = runtime.config.embedded ? runtime.tokenSecret : undefined;
  app.use(consoleRoute({ demoUsers: secret ? () => demoTokens(secret) : undefined }));
  return app;
}
