/**
 * The gateway's HTTP surface: express hosting yoga at /graphql, health and readiness probes, and
 * the plugins assembled in one ordered list.
 */
import express from 'express';
import { createSchema, createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { GraphQLError } from 'graphql';
import type { Runtime } from './runtime.ts';
import { isGatewayError } from '../core/errors.ts';
import { normalizeError } from './pipeline/normalize-error.ts';
import { isConnectorError } from '../connectors/connector-error.ts';
import { useAuthentication, viewerOf } from './pipeline/use-authentication.ts';
import { useAuthorization } from './pipeline/use-authorization.ts';
import { useAudit } from './pipeline/use-audit.ts';
import { useTelemetry } from './pipeline/use-telemetry.ts';
import { useBenchBaseline } from '../bench/baseline/use-open-access.ts';
import { sharedDataTypeDefs } from '../schema/shared-data/shared-data.graphql.ts';
import { sharedDataResolvers } from '../schema/shared-data/shared-data-resolvers.ts';
import { adminResolvers, adminTypeDefs } from '../schema/admin/admin-schema.ts';
import { auditResolvers, auditTypeDefs } from '../schema/audit/audit-schema.ts';
import { admissionResolvers, admissionTypeDefs } from '../schema/admission/admission-resolvers.ts';
import { auditExportHandler } from './http/audit-export-route.ts';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useRateLimit } from './pipeline/use-rate-limit.ts';
import { useBodyLimit } from './pipeline/use-body-limit.ts';
import { useOperationLimits } from './pipeline/use-operation-limits.ts';
import { useSchemaPrivacy } from './pipeline/use-schema-privacy.ts';
import { usePersistedOperationsOnly } from './pipeline/use-persisted-operations.ts';
import { securityHeaders } from './http/security-headers.ts';
import type { AuditSink } from '../audit/audit-event.ts';

/** The baseline's audit sink: takes every event and keeps none. */
const NO_AUDIT: AuditSink = { append: async () => {} };

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
    typeDefs: [sharedDataTypeDefs, adminTypeDefs, auditTypeDefs, admissionTypeDefs],
    resolvers: mergeResolvers(
      sharedDataResolvers(runtime.sources) as never,
      adminResolvers({
        store: runtime.policyStore,
        authorizer: runtime.authorizer,
        policyChanged: runtime.policyChanged,
        audit: runtime.audit,
      }) as never,
      auditResolvers({ reader: runtime.auditReader, verify: runtime.verifyAudit }) as never,
      admissionResolvers({ store: runtime.admissionStore, grants: runtime.policyStore, authorizer: runtime.authorizer, audit: runtime.audit, policyChanged: runtime.policyChanged }) as never,
    ),
  });

  // Who a request is from, verified once by useAuthentication and read by the plugins after it.
  const onLimited = (kind: string) => runtime.metrics.limitHit(kind);
  const limits = runtime.config.limits;

  // Order matters:
  // 0. useTelemetry comes first so that it sees every request start, even one a later plugin ends
  //    early; it reads the final answer (after useAudit and error masking) for its log line and metrics.
  // 1. useAuthentication rejects a request without a valid token before it is even parsed.
  // 2. useRateLimit (onRequest) counts the authenticated request against its user and organisation
  //    before its body is read; 429 + Retry-After, audited.
  // 3. useCSRFPrevention and useBodyLimit (onRequestParse) refuse, before the body is parsed, a
  //    browser "simple" request without a preflight-forcing header and a body over MAX_BODY_BYTES
  //    (413, audited). Then, in allow-list mode, only persisted operations get past onParams.
  // 4. useAudit registers its after-hook before anything can stop execution, so that denied
  //    operations are audited too, and replaces the answer if the event cannot be stored.
  // 5. useOperationLimits: the token limit applies while parsing (it audits those refusals itself,
  //    as they never execute); depth, aliases, root fields, cost and page size are checked in
  //    onExecute, here, after useAudit (which audits the refusal) and before authorization, so
  //    nothing is authorized or read for an operation over a limit. It also sets the deadline.
  // 6. useSchemaPrivacy: introspection only for platform admins in production (onExecute, audited
  //    by useAudit), and no "Did you mean" suggestions for anyone else.
  // 7. useAuthorization checks the whole operation against the access plan; nothing is read when
  //    it says no.
  // The bench-only baseline (LIANQIAO_UNSAFE_BENCH_BASELINE=1, refused in production) is this same
  // list with exactly what the benchmark prices switched off: authorization (with masking and the
  // grants' row conditions) and the audit trail. Everything else stays, so the ratio is their cost.
  const baseline = runtime.config.unsafeBenchBaseline;
  const audit: AuditSink = baseline ? NO_AUDIT : runtime.audit;
  const plugins: Plugin[] = [
    useTelemetry({ logger: runtime.logger, metrics: runtime.metrics }),
    useAuthentication({ authenticator: runtime.authenticator, audit }),
    useRateLimit({ limiter: runtime.rateLimiter, viewerOf, audit, onLimited }),
    // Authorization and X-Purpose are not CORS-safelisted, so a browser sends neither without a
    // preflight. Content-Type is not in the list: text/plain is "simple" and carries one.
    useCSRFPrevention({ requestHeaders: ['authorization', 'x-purpose', 'x-graphql-yoga-csrf'] }),
    useBodyLimit({ maxBytes: limits.maxBodyBytes, audit, viewerOf, onLimited }),
    ...(runtime.persistedOperations ? [usePersistedOperationsOnly(runtime.persistedOperations)] : []),
    ...(baseline ? [] : [useAudit({ sink: audit })]),
    useOperationLimits({
      maxDepth: limits.maxDepth,
      maxAliases: limits.maxAliases,
      maxTokens: limits.maxTokens,
      maxRootFields: limits.maxRootFields,
      maxCost: limits.maxCost,
      timeoutMs: limits.operationTimeoutMs,
      audit,
      viewerOf,
      onLimited,
    }),
    useSchemaPrivacy({ production: runtime.config.production, viewerOf }),
    baseline ? useBenchBaseline() : useAuthorization({ authorizer: runtime.authorizer }),
  ];

  const yoga = createYoga({
    schema,
    plugins,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'Lianqiao', headers: JSON.stringify({ Authorization: 'Bearer <token>', 'X-Purpose': 'elderly-allowance' }) },
    // Batching is off: one operation per request, each authorized and audited on its own.
    batching: false,
    // No file uploads in this API: GraphQL multipart requests are refused (415) instead of parsed.
    multipart: false,
    // yoga would answer every origin; CORS is off unless CORS_ORIGINS names who may call from a browser.
    cors:
      runtime.config.corsOrigins.length > 0
        ? {
            origin: [...runtime.config.corsOrigins],
            methods: ['GET', 'POST'],
            allowedHeaders: ['authorization', 'content-type', 'x-purpose'],
            exposedHeaders: ['retry-after', 'x-request-id'],
            credentials: false,
            maxAge: 600,
          }
        : false,
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
        // The client learns nothing; the operator gets the cause (scrubbed by the logger's error
        // serializer: no SQL parameters, ID numbers or phone numbers).
        if (normalized.code === 'INTERNAL_SERVER_ERROR') {
          runtime.logger.error({ err: normalized.originalError ?? error, path: located?.path?.join('.') }, 'unexpected error (masked)');
        } else if (isConnectorError(normalized.originalError)) {
          const source = normalized.originalError.source;
          runtime.logger.warn({ err: normalized.originalError, source, path: located?.path?.join('.') }, `source ${source} failed`);
        }
        return new GraphQLError(normalized.message, { nodes: located?.nodes, path: located?.path, extensions: normalized.extensions });
      },
    },
    logging: false,
  });

  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders(yoga.graphqlEndpoint));
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
      rateLimit: baseline || !runtime.rateLimiter ? undefined : (viewer) => runtime.rateLimiter!.check(viewer),
    }),
  );
  app.use(yoga.graphqlEndpoint, yoga as unknown as express.RequestHandler);
  return { app, yoga: yoga as never };
}
