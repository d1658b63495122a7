/**
 * createGateway composes the gateway: the schema (shared data, admin, audit), the request pipeline
 * (pipeline/pipeline.ts, the one ordered list of plugins) and yoga's options, served by the
 * gateway's HTTP listener (http/app.ts).
 */
import { createSchema, createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Runtime } from './runtime.ts';
import { createPipeline, type PipelineStages } from './pipeline/pipeline.ts';
import { useErrorMasking } from './pipeline/use-error-masking.ts';
import { createApp, type GatewayApp } from './http/app.ts';
import { sharedDataTypeDefs } from '../schema/shared-data/shared-data.graphql.ts';
import { sharedDataResolvers } from '../schema/shared-data/shared-data-resolvers.ts';
import { adminResolvers, adminTypeDefs } from '../schema/admin/admin-schema.ts';
import { auditResolvers, auditTypeDefs } from '../schema/audit/audit-schema.ts';
import { admissionResolvers, admissionTypeDefs } from '../schema/admission/admission-resolvers.ts';
import { emergencyTypeDefs } from '../schema/emergency/emergency.graphql.ts';
import { emergencyResolvers } from '../schema/emergency/emergency-resolvers.ts';
import { emergencyActivity, withEmergencyFindings } from '../audit/emergency-findings.ts';
import { residentsResolvers, residentsTypeDefs } from '../schema/residents/residents-schema.ts';
import { statisticsResolvers, statisticsTypeDefs } from '../schema/statistics/statistics-schema.ts';
import { graphiqlPage } from './http/console-route.ts';

export interface Gateway {
  /** The HTTP request listener: the GraphQL endpoint straight to yoga, every other route by express. */
  readonly app: GatewayApp;
  readonly yoga: YogaServerInstance<Record<string, unknown>, Record<string, unknown>>;
}

export interface GatewayOptions {
  /** Stages replaced in the pipeline (the benchmark's baseline); none in the product. */
  readonly stages?: PipelineStages;
}

function mergeResolvers(...maps: Record<string, Record<string, unknown>>[]): Record<string, Record<string, unknown>> {
  const merged: Record<string, Record<string, unknown>> = {};
  for (const map of maps) for (const [type, fields] of Object.entries(map)) merged[type] = { ...merged[type], ...fields };
  return merged;
}

export function createGateway(runtime: Runtime, options: GatewayOptions = {}): Gateway {
  const schema = createSchema({
    typeDefs: [sharedDataTypeDefs, adminTypeDefs, auditTypeDefs, admissionTypeDefs, emergencyTypeDefs, residentsTypeDefs, statisticsTypeDefs],
    resolvers: mergeResolvers(
      sharedDataResolvers(runtime.sources) as never,
      adminResolvers({
        store: runtime.policyStore,
        authorizer: runtime.authorizer,
        policyChanged: runtime.policyChanged,
        audit: runtime.audit,
      }) as never,
      auditResolvers({ reader: withEmergencyFindings(runtime.auditReader, runtime.databases.store), verify: runtime.verifyAudit }) as never,
      admissionResolvers({ store: runtime.admissionStore, grants: runtime.policyStore, authorizer: runtime.authorizer, audit: runtime.audit, policyChanged: runtime.policyChanged }) as never,
      emergencyResolvers({
        sessions: runtime.emergencySessions,
        authorizer: runtime.authorizer,
        audit: runtime.audit,
        limits: runtime.config.emergency,
        activity: (session, from, to) => emergencyActivity(runtime.databases.store, session, from, to),
      }) as never,
      residentsResolvers({ disclosure: runtime.residentDisclosure, duties: () => runtime.authorizer.duties() }) as never,
      statisticsResolvers({ authorizer: runtime.authorizer, sources: runtime.statistics, thresholds: runtime.config.statisticsK }) as never,
    ),
  });

  const yoga = createYoga({
    schema,
    plugins: createPipeline(runtime, options.stages),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'Lianqiao', headers: JSON.stringify({ Authorization: 'Bearer <token>', 'X-Purpose': 'elderly-allowance' }) },
    // GraphiQL's page with every asset from the gateway (no CDN), under a CSP with no inline script.
    renderGraphiQL: graphiqlPage,
    // Batching is off: one operation per request, each authorized and audited on its own.
    batching: false,
    // No file uploads in this API: GraphQL multipart requests are refused (415) instead of parsed.
    multipart: false,
    // The body limit is useBodyLimit's (MAX_BODY_BYTES, audited, 413): yoga's own, at 25 MB, would
    // only pipe every body through a TransformStream of its own per request, declared length or not.
    maxRequestBodySize: false,
    // yoga would answer every origin; CORS is off unless CORS_ORIGINS names who may call from a browser.
    cors:
      runtime.config.corsOrigins.length > 0
        ? {
            origin: [...runtime.config.corsOrigins],
            methods: ['GET', 'POST'],
            allowedHeaders: ['authorization', 'content-type', 'x-purpose', 'x-emergency', 'x-case-ref'],
            exposedHeaders: ['retry-after', 'x-request-id'],
            credentials: false,
            maxAge: 600,
          }
        : false,
    maskedErrors: useErrorMasking(runtime.logger),
    logging: false,
  });

  const app = createApp(runtime, { graphqlEndpoint: yoga.graphqlEndpoint, graphql: yoga });
  return { app, yoga: yoga as never };
}
