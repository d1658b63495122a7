/**
 * The gateway's HTTP surface: express hosting yoga at /graphql, health and readiness probes, and
 * the plugins assembled in one ordered list.
 */
import express from 'express';
import { createSchema, createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { GraphQLError } from 'graphql';
import type { Runtime } from './runtime.ts';
import { isGatewayError, normalizeError } from './errors.ts';
import { isConnectorError } from '../connectors/connector-error.ts';
import { useAuthentication } from './plugins/use-authentication.ts';
import { useAuthorization } from './plugins/use-authorization.ts';
import { useAudit } from './plugins/use-audit.ts';
import { useBenchBaseline } from './plugins/use-bench-baseline.ts';
import { sharedDataTypeDefs } from '../schema/shared-data.graphql.ts';
import { sharedDataResolvers } from '../schema/shared-data-resolvers.ts';
import { adminResolvers, adminTypeDefs } from '../schema/admin-schema.ts';
import { auditResolvers, auditTypeDefs } from '../schema/audit/audit-schema.ts';
import { auditExportHandler } from './audit/audit-export-route.ts';

export interface Gateway {
  readonly app: express.Express;
  readonly yoga: YogaServerInstance<Record<string, unknown>, Record<string, unknown>>;
}

function mergeResolvers(...maps: Record<string, Record<string, unknown>>[]): Record<string, Record<string, unknown>> {
  const merged: Record<string, Record<string, unknown>> = {};
  for (const map of maps) for (const [type, fields] of Object.entries(map)) merged[type] = { ...merged[type], ...fields };
  return merged;
}

export function createGateway(runtime: Runtime): Gateway {
  const schema = createSchema({
    typeDefs: [sharedDataTypeDefs, adminTypeDefs, auditTypeDefs],
    resolvers: mergeResolvers(
      sharedDataResolvers(runtime.sources) as never,
      adminResolvers({
        store: runtime.policyStore,
        authorizer: runtime.authorizer,
        policyChanged: runtime.policyChanged,
      }) as never,
      auditResolvers({ reader: runtime.auditReader, verify: runtime.verifyAudit }) as never,
    ),
  });

  // Order matters:
  // 1. useAuthentication rejects a request without a valid token before it is even parsed.
  // 2. useAudit registers its after-hook before anything can stop execution, so that denied
  //    operations are audited too, and replaces the answer if the event cannot be stored.
  // 3. useAuthorization checks the whole operation against the access plan; nothing is read when
  //    it says no.
  const plugins: Plugin[] = runtime.config.unsafeBenchBaseline
    ? [useAuthentication({ authenticator: runtime.authenticator, audit: runtime.audit }), useBenchBaseline()]
    : [
        useAuthentication({ authenticator: runtime.authenticator, audit: runtime.audit }),
        useAudit({ sink: runtime.audit }),
        useAuthorization({ authorizer: runtime.authorizer }),
      ];

  const yoga = createYoga({
    schema,
    plugins,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'Lianqiao', headers: JSON.stringify({ Authorization: 'Bearer <token>', 'X-Purpose': 'elderly-allowance' }) },
    // Batching is off: one operation per request, each authorized and audited on its own.
    batching: false,
    maskedErrors: {
      maskError(error) {
        // The gateway's own errors, and GraphQL's and yoga's request errors (syntax, validation,
        // malformed body) are safe to show as they are; anything else is normalised and masked.
        if (error instanceof GraphQLError && !isGatewayError(error)) {
          const original = error.originalError;
          const requestError = !original || !!error.extensions?.http;
          if (requestError && !isConnectorError(original)) {
            return new GraphQLError(error.message, { nodes: error.nodes, path: error.path, extensions: error.extensions });
          }
        }
        const normalized = normalizeError(error);
        const located = error instanceof GraphQLError ? error : undefined;
        return new GraphQLError(normalized.message, { nodes: located?.nodes, path: located?.path, extensions: normalized.extensions });
      },
    },
    logging: false,
  });

  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await runtime.readiness();
    res.status(checks.ready ? 200 : 503).json(checks);
  });
  app.get(
    '/audit/export',
    auditExportHandler({
      authenticate: (header: string | undefined) => runtime.authenticator.authenticate(header),
      reader: runtime.auditReader,
      sink: runtime.audit,
      instanceId: runtime.config.instanceId,
    }),
  );
  app.use(yoga.graphqlEndpoint, yoga as unknown as express.RequestHandler);
  return { app, yoga: yoga as never };
}
