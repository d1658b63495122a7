/**
 * Everything a running gateway holds, assembled once from configuration: the store and sources,
 * connectors, policies and the authorizer, the audit log, the authenticator. Adapters are chosen
 * here and nowhere else.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config } from './config.ts';
import { openDatabases, migrateStore, type Databases, type OpenOptions } from './store/databases.ts';
import { PostgresConnector } from '../connectors/postgres/postgres-connector.ts';
import { HttpConnector } from '../connectors/http/http-connector.ts';
import { startSocialSecurityService, type SocialSecurityService } from '../connectors/http/social-security-service.ts';
import { HOUSING, POPULATION, SOCIAL_SECURITY } from '../connectors/datasets.ts';
import {
  HOUSING_TABLE,
  POPULATION_TABLE,
  createHousingSchema,
  createPopulationSchema,
  createSocialSecuritySchema,
} from '../connectors/demo/source-schema.ts';
import { seedSources, sourcesAreSeeded } from '../connectors/demo/seed-sources.ts';
import type { SharedDataSources } from '../schema/shared-data-resolvers.ts';
import { PolicyStore } from '../policies/policy-store.ts';
import { CasbinAuthorizer } from '../policies/authorizer.ts';
import { loadPolicyDirectory } from '../policies/policy-files.ts';
import { RedisPolicyWatcher } from '../policies/redis-policy-watcher.ts';
import { createAuthenticator, type Authenticator } from './auth/authenticator.ts';
import { AuditLog } from './audit/audit-log.ts';
import { loadAuditKeys } from './audit/audit-keys.ts';
import { AuditReader } from './audit/audit-reader.ts';
import { verifyAudit, type IntegrityReport } from './audit/audit-verifier.ts';

export interface RuntimeOptions extends OpenOptions {
  /** Observes every SQL statement a PostgreSQL source connector sends (tests read it). */
  readonly onSourceQuery?: (source: string, query: { sql: string; parameters: readonly unknown[] }) => void;
  /** Observes every HTTP request the social-security connector sends. */
  readonly onHttpRequest?: (request: { path: string; body: unknown }) => void;
  /** How often each instance checks the store's policy version (the safety net under Redis). */
  readonly policyPollMs?: number;
  /** Log sink for operational messages. */
  readonly log?: (level: 'info' | 'warn' | 'error', message: string, detail?: unknown) => void;
}

export interface Runtime {
  readonly config: Config;
  readonly databases: Databases;
  readonly sources: SharedDataSources;
  readonly policyStore: PolicyStore;
  readonly authorizer: CasbinAuthorizer;
  readonly authenticator: Authenticator;
  readonly audit: AuditLog;
  readonly auditReader: AuditReader;
  readonly verifyAudit: () => Promise<IntegrityReport>;
  /** The HS256 secret in use, when tokens are signed with one (embedded mode, tests). */
  readonly tokenSecret?: string;
  /** Reload this instance's policies and tell the others. */
  policyChanged(): Promise<void>;
  readiness(): Promise<{ ready: boolean; checks: Record<string, 'ok' | 'unavailable'> }>;
  close(): Promise<void>;
}

/** The embedded mode's HS256 secret: generated once under DATA_DIR, read by `npm run token`. */
export function embeddedTokenSecret(dataDir: string, create: boolean): string | undefined {
  const file = path.join(dataDir, 'jwt-secret');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  if (!create) return undefined;
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  fs.writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}

export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const log = options.log ?? (() => {});
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };
  try {
    const databases = await openDatabases(config, options);
    closers.push(() => databases.close());
    await migrateStore(databases.store);

    // Demo sources: create and seed the embedded departments' tables on first start.
    if (!config.sources.populationUrl) await createPopulationSchema(databases.population);
    if (!config.sources.housingUrl) await createHousingSchema(databases.housing);
    if (databases.socialSecurity) await createSocialSecuritySchema(databases.socialSecurity);
    const demoSources = !config.sources.populationUrl && !config.sources.housingUrl && !!databases.socialSecurity;
    if (demoSources && config.seedPersons > 0 && !(await sourcesAreSeeded(databases.population))) {
      log('info', `seeding ${config.seedPersons} synthetic persons into the embedded demo sources`);
      await seedSources(
        { population: databases.population, housing: databases.housing, socialSecurity: databases.socialSecurity! },
        { persons: config.seedPersons },
      );
    }

    let socialSecurityUrl = config.sources.socialSecurityUrl;
    if (!socialSecurityUrl) {
      const service: SocialSecurityService = await startSocialSecurityService({ db: databases.socialSecurity! });
      closers.push(() => service.close());
      socialSecurityUrl = service.url;
    }
    const onQuery = (source: string) => (options.onSourceQuery ? (q: { sql: string; parameters: readonly unknown[] }) => options.onSourceQuery!(source, q) : undefined);
    const sources: SharedDataSources = {
      population: new PostgresConnector({ dataset: POPULATION, db: databases.population, table: POPULATION_TABLE, onQuery: onQuery('population') }),
      housing: new PostgresConnector({ dataset: HOUSING, db: databases.housing, table: HOUSING_TABLE, onQuery: onQuery('housing') }),
      social_security: new HttpConnector({
        dataset: SOCIAL_SECURITY,
        baseUrl: socialSecurityUrl,
        timeoutMs: config.sources.timeoutMs,
        onRequest: options.onHttpRequest,
      }),
    };

    // Policies: the files in policies/ are loaded into the store (idempotent), then Casbin.
    const policyStore = new PolicyStore(databases.store);
    const { set, problems } = await loadPolicyDirectory();
    if (problems.length > 0) {
      throw new Error(`policy files are invalid:\n${problems.map((p) => `  ${p.file}:${p.line}: ${p.message}`).join('\n')}`);
    }
    await policyStore.syncFromFiles(set.duties, set.grants);
    const authorizer = await CasbinAuthorizer.create({
      store: policyStore,
      onReload: (version, ms) => log('info', `policies reloaded (version ${version}, ${ms.toFixed(1)} ms)`),
      onError: (error) => log('error', 'policy reload failed; refusing shared-data reads until it succeeds', error),
    });
    let watcher: RedisPolicyWatcher | undefined;
    if (config.redisUrl) {
      watcher = await RedisPolicyWatcher.create({ url: config.redisUrl, onError: (e) => log('warn', 'redis', e) });
      watcher.setUpdateCallback(() => void authorizer.reload().catch(() => {}));
      closers.push(() => watcher!.close());
    }
    const poll = setInterval(() => void authorizer.reload().catch(() => {}), options.policyPollMs ?? 2000);
    poll.unref();
    closers.push(async () => clearInterval(poll));

    // Identity.
    const tokenSecret = config.jwt.secret ?? (config.jwt.jwksUrl ? undefined : embeddedTokenSecret(config.dataDir, true));
    const authenticator = createAuthenticator({ ...config.jwt, secret: tokenSecret });

    // Audit.
    const keys = await loadAuditKeys(config, { create: !config.databaseUrl });
    const audit = await AuditLog.open({
      db: databases.store,
      chainId: config.instanceId,
      signingKey: keys.signingKey,
      subjectKey: keys.subjectKey,
    });
    closers.push(() => audit.close());
    const auditReader = new AuditReader({ db: databases.store, subjectKey: keys.subjectKey });

    const runtime: Runtime = {
      config,
      databases,
      sources,
      policyStore,
      authorizer,
      authenticator,
      audit,
      auditReader,
      verifyAudit: () => verifyAudit(databases.store, keys.publicKey),
      tokenSecret,
      async policyChanged() {
        await authorizer.reload();
        await watcher?.update();
      },
      async readiness() {
        const probe = async (fn: () => Promise<unknown>) => {
          try {
            await fn();
            return 'ok' as const;
          } catch {
            return 'unavailable' as const;
          }
        };
        const [store, population, housing, socialSecurity] = await Promise.all([
          probe(() => policyStore.version()),
          probe(() => sources.population.health()),
          probe(() => sources.housing.health()),
          probe(() => sources.social_security.health()),
        ]);
        const checks = { store, population, housing, social_security: socialSecurity };
        return { ready: Object.values(checks).every((c) => c === 'ok'), checks };
      },
      close,
    };
    return runtime;
  } catch (error) {
    await close();
    throw error;
  }
}
