/**
 * The gateway's HTTP surface: express with the security headers, the health and readiness probes,
 * /metrics, the audit export route, yoga mounted at its GraphQL endpoint, and the web console.
 */
import express from 'express';
import type { Runtime } from '../runtime.ts';
import { securityHeaders } from './security-headers.ts';
import { auditExportHandler } from './audit-export-route.ts';
import { consoleRoute } from './console-route.ts';
import { demoTokens } from '../cli/demo-tokens.ts';

export interface AppOptions {
  /** The GraphQL endpoint's path and its handler (yoga). */
  readonly graphqlEndpoint: string;
  readonly graphql: express.RequestHandler;
}

export function createApp(runtime: Runtime, options: AppOptions): express.Express {
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
  app.use(options.graphqlEndpoint, options.graphql);
  // The web console and its assets; the demo users' tokens only in the embedded demo.
  const secret = runtime.config.embedded ? runtime.tokenSecret : undefined;
  app.use(consoleRoute({ demoUsers: secret ? () => demoTokens(secret) : undefined }));
  return app;
}
