/**
 * Everything a running gateway holds, assembled once from configuration: the store and sources,
 * connectors, policies and the authorizer, the audit log, the authenticator. Adapters are chosen
 * here and nowhere else.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config } from './config.ts';
import type { Kysely } from 'kysely';
import { openDatabases, migrateStore, postgresDatabase, type Databases, type OpenOptions } from './store/databases.ts';
import { PostgresConnector } from '../connectors/postgres/postgres-connector.ts';
import { HttpConnector } from '../connectors/http/http-connector.ts';
import { startSocialSecurityService, type SocialSecurityService } from '../demo/social-security-service.ts';
import { HOUSING, POPULATION, SOCIAL_SECURITY } from '../core/datasets.ts';
import {
  HOUSING_TABLE,
  POPULATION_TABLE,
  createHousingSchema,
  createPopulationSchema,
  createSocialSecuritySchema,
} from '../demo/source-schema.ts';
import { seedSources, sourcesAreSeeded } from '../demo/seed-sources.ts';
import { admissionSeeded, seedAdmissionDemo } from '../demo/admission-seed.ts';
import type { SharedDataSources } from '../schema/shared-data/shared-data-resolvers.ts';
import { PolicyStore } from '../policies/policy-store.ts';
import { AdmissionStore } from '../policies/admission-store.ts';
import { CasbinAuthorizer } from '../policies/casbin/casbin-authorizer.ts';
import { loadPolicyDirectory } from '../policies/policy-files/load-policy-directory.ts';
import { RedisPolicyWatcher } from '../policies/casbin/redis-policy-watcher.ts';
import { createAuthenticator, type Authenticator } from './auth/authenticator.ts';
import { AuditLog } from '../audit/audit-writer.ts';
import { loadAuditKeys } from '../audit/audit-keys.ts';
import { AuditReader } from '../audit/audit-reader.ts';
import { ResidentDisclosure } from '../audit/resident-disclosure.ts';
import { PostgresStatistics } from '../connectors/postgres/postgres-statistics.ts';
import type { StatisticsSource } from '../connectors/connector.ts';
import type { StatisticsDataset } from '../policies/statistics/statistics-fields.ts';
import { verifyAudit, type IntegrityReport } from '../audit/audit-verifier.ts';
import { createLogger, type Logger } from './logger.ts';
import { GatewayMetrics, type GatewayMetricsOptions } from './metrics.ts';
import { instrumentConnector } from '../connectors/instrumented-connector.ts';
import { RateLimiter } from './rate-limit/rate-limiter.ts';
import { MemoryRateLimitStore } from './rate-limit/memory-rate-limit-store.ts';
import { RedisRateLimitStore } from './rate-limit/redis-rate-limit-store.ts';
import { loadPersistedOperations } from './pipeline/use-persisted-operations.ts';
import { EmergencyStore } from '../policies/emergency/emergency-store.ts';
import { EmergencyExpiry } from '../schema/emergency/emergency-expiry.ts';

export interface RuntimeOptions extends OpenOptions {
  /** Observes every SQL statement a PostgreSQL source connector sends (tests read it). */
  readonly onSourceQuery?: (source: string, query: { sql: string; parameters: readonly unknown[] }) => void;
  /** Observes every HTTP request the social-security connector sends. */
  readonly onHttpRequest?: (request: { path: string; body: unknown }) => void;
  /** How often each instance checks the store's policy version (the safety net under Redis). */
  readonly policyPollMs?: number;
  /** Log sink for operational messages. Default: {@link RuntimeOptions.logger}. */
  readonly log?: (level: 'info' | 'warn' | 'error', message: string, detail?: unknown) => void;
  /** The structured logger (operation lines, masked errors, dependency changes). Default: pino at LOG_LEVEL on stdout. */
  readonly logger?: Logger;
  readonly metricsOptions?: GatewayMetricsOptions;
}

export interface Runtime {
  readonly config: Config;
  readonly databases: Databases;
  readonly sources: SharedDataSources;
  readonly policyStore: PolicyStore;
  /** Duty delegations, access requests and the review's side of grants. */
  readonly admissionStore: AdmissionStore;
  readonly authorizer: CasbinAuthorizer;
  /** Emergency (break-glass) sessions, in the gateway store. */
  readonly emergencySessions: EmergencyStore;
  /** Writes the STOP event of expired sessions (a sweep on a timer; look-ups in emergencySessions too). */
  readonly emergencyExpiry: EmergencyExpiry;
  readonly authenticator: Authenticator;
  readonly audit: AuditLog;
  readonly auditReader: AuditReader;
  /** A resident's reads of their own data, from the trail (`myDataAccess`). */
  readonly residentDisclosure: ResidentDisclosure;
  /** Grouped counts pushed into the population and housing sources (`statistics`). */
  readonly statistics: Readonly<Record<StatisticsDataset, StatisticsSource>>;
  readonly verifyAudit: () => Promise<IntegrityReport>;
  /** The HS256 secret in use, when tokens are signed with one (embedded mode, tests). */
  readonly tokenSecret?: string;
  /** Reload this instance's policies and tell the others. */
  policyChanged(): Promise<void>;
  /** This runtime's logger, bound to its instance id. */
  readonly logger: Logger;
  /** This runtime's metrics (its own prom-client Registry), served at /metrics. */
  readonly metrics: GatewayMetrics;
  /** Per-user and per-organisation request budgets (Redis-backed with REDIS_URL); null when RATE_LIMITS=off. */
  readonly rateLimiter: RateLimiter | null;
  /** The allow-list of PERSISTED_OPERATIONS_FILE (id → document), when that mode is on. */
  readonly persistedOperations?: ReadonlyMap<string, string>;
  /**
   * Each dependency's state. `ready` needs the store and every source; Redis (when configured) is
   * reported but optional: without it the instance serves on in single-instance mode.
   */
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

/** How long /readyz waits for one dependency before calling it unavailable. */
const READINESS_TIMEOUT_MS = 3000;

/**
 * Logs a dependency's health once per change (not once per failed attempt or request): the
 * first failure at `error`/`warn` with its cause, the recovery at `info`.
 */
function transitions(log: NonNullable<RuntimeOptions['log']>, down: { level: 'warn' | 'error'; message: string }, up: string) {
  let healthy = true;
  return {
    failed(error?: unknown) {
      if (!healthy) return;
      healthy = false;
      log(down.level, down.message, error);
    },
    succeeded() {
      if (healthy) return;
      healthy = true;
      log('info', up);
    },
  };
}

export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = (options.logger ?? createLogger(config.logLevel)).child({ instance: config.instanceId });
  const log: NonNullable<RuntimeOptions['log']> =
    options.log ?? ((level, message, detail) => (detail === undefined ? logger[level](message) : logger[level]({ err: detail }, message)));
  const metrics = new GatewayMetrics(options.metricsOptions);
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

    // No source statement may outlive the operation it serves: the connectors' PostgreSQL pools
    // carry statement_timeout = OPERATION_TIMEOUT_MS, so the server cancels a query its operation
    // gave up on; each HTTP attempt is held to min(SOURCE_TIMEOUT_MS, OPERATION_TIMEOUT_MS).
    // (The store's pool has none: audit exports run long.)
    const httpTimeoutMs = Math.min(config.sources.timeoutMs, config.limits.operationTimeoutMs);
    const sourceDb = (url: string | undefined, opened: Kysely<any>): Kysely<any> => {
      if (!url) return opened; // embedded PGlite: one process, nothing to cancel remotely
      const statementTimeoutMs = options.statementTimeoutMs ?? config.limits.operationTimeoutMs;
      const db = postgresDatabase(url, { statementTimeoutMs, poolSize: options.poolSize });
      closers.push(() => db.destroy());
      return db;
    };

    let socialSecurityUrl = config.sources.socialSecurityUrl;
    if (!socialSecurityUrl) {
      const service: SocialSecurityService = await startSocialSecurityService({
        db: sourceDb(config.sources.socialSecurityDatabaseUrl, databases.socialSecurity!),
      });
      closers.push(() => service.close());
      socialSecurityUrl = service.url;
    }
    const onQuery = (source: string) => (options.onSourceQuery ? (q: { sql: string; parameters: readonly unknown[] }) => options.onSourceQuery!(source, q) : undefined);
    // Every connector call is timed per source and method (lianqiao_source_request_duration_seconds).
    const populationDb = sourceDb(config.sources.populationUrl, databases.population);
    const housingDb = sourceDb(config.sources.housingUrl, databases.housing);
    const statistics = {
      population: new PostgresStatistics({ dataset: POPULATION, db: populationDb, table: POPULATION_TABLE, onQuery: onQuery('population') }),
      housing: new PostgresStatistics({ dataset: HOUSING, db: housingDb, table: HOUSING_TABLE, onQuery: onQuery('housing') }),
    };
    const sources: SharedDataSources = {
      population: instrumentConnector(
        new PostgresConnector({ dataset: POPULATION, db: populationDb, table: POPULATION_TABLE, onQuery: onQuery('population') }),
        metrics.sourceCall,
      ),
      housing: instrumentConnector(
        new PostgresConnector({ dataset: HOUSING, db: housingDb, table: HOUSING_TABLE, onQuery: onQuery('housing') }),
        metrics.sourceCall,
      ),
      social_security: instrumentConnector(
        new HttpConnector({
          dataset: SOCIAL_SECURITY,
          baseUrl: socialSecurityUrl,
          timeoutMs: httpTimeoutMs,
          onRequest: options.onHttpRequest,
        }),
        metrics.sourceCall,
      ),
    };

    // Policies: the files in policies/ are loaded into the store (idempotent), then Casbin.
    const policyStore = new PolicyStore(databases.store);
    const admissionStore = new AdmissionStore(databases.store);
    const { set, problems } = await loadPolicyDirectory();
    if (problems.length > 0) {
      throw new Error(`policy files are invalid:\n${problems.map((p) => `  ${p.file}:${p.line}: ${p.message}`).join('\n')}`);
    }
    await policyStore.syncFromFiles(set.duties, set.grants);
    const policyHealth = transitions(
      log,
      { level: 'error', message: 'policy reload failed (store unreachable?); refusing shared-data reads until it succeeds' },
      'policies reloaded again; shared-data reads resume',
    );
    const authorizer = await CasbinAuthorizer.create({
      store: policyStore,
      delegations: () => admissionStore.delegationWindows(),
      onReload: (version, ms) => {
        metrics.policyReloaded(version, ms);
        policyHealth.succeeded();
        log('info', `policies reloaded (version ${version}, ${ms.toFixed(1)} ms)`);
      },
      onError: (error) => {
        metrics.policyReloadFailed();
        policyHealth.failed(error);
      },
    });
    let watcher: RedisPolicyWatcher | undefined;
    if (config.redisUrl) {
      watcher = await RedisPolicyWatcher.create({
        url: config.redisUrl,
        // One line per connection change, not one per retry.
        onStateChange: (connected, error) => {
          metrics.dependency('redis', connected);
          if (connected) log('info', 'redis connected: policy changes propagate to the other instances');
          else log('warn', 'redis unavailable: serving in single-instance mode (policy changes reach other instances by store polling) until it is back', error);
        },
      });
      watcher.setUpdateCallback(() => void authorizer.reload().catch(() => {}));
      closers.push(() => watcher!.close());
    }
    // The safety net under Redis, and the way back from a store outage (a failed reload marks the
    // policies stale; the next successful one clears it). One poll at a time: a slow store must not
    // pile reloads up.
    let polling = false;
    const poll = setInterval(() => {
      if (polling) return;
      polling = true;
      authorizer
        .reload()
        .catch(() => {})
        .finally(() => {
          polling = false;
        });
    }, options.policyPollMs ?? 2000);
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
      onBackgroundError: (error) => log('warn', 'audit background work (checkpoint, partitions) failed', error),
    });
    closers.push(() => audit.close());
    if (config.audit.crypto === 'sm') log('info', `audit trail: SM3 hash chain, SM2-signed checkpoints (key ${keys.signingKey.keyId})`);
    metrics.trackAudit(() => audit.stats());
    // Observe append outcomes, to log an audit outage once (and its end) rather than per request.
    const auditHealth = transitions(
      log,
      { level: 'error', message: 'audit log cannot store events: operations answer SERVICE_UNAVAILABLE until it can' },
      'audit log stores events again',
    );
    const append = audit.append.bind(audit);
    audit.append = (event) =>
      append(event).then(
        () => auditHealth.succeeded(),
        (error: unknown) => {
          auditHealth.failed(error instanceof Error && error.cause !== undefined ? error.cause : error);
          throw error;
        },
      );
    // The embedded demo (not the in-memory test stores) starts with a reviewed admission history.
    if (config.embedded && !options.inMemory && config.seedPersons > 0 && !(await admissionSeeded(admissionStore))) {
      await seedAdmissionDemo({ db: databases.store, store: admissionStore, duties: authorizer.duties() });
      await authorizer.reload();
    }
    const auditReader = new AuditReader({ db: databases.store, subjectKey: keys.subjectKey });
    const emergencyExpiry = new EmergencyExpiry({
      sessions: new EmergencyStore(databases.store),
      audit,
      onError: (error) => log('warn', 'emergency session expiries could not be recorded; the next sweep retries', error),
    });
    emergencyExpiry.start();
    closers.push(() => emergencyExpiry.stop());

    // Rate limits: counted in Redis across instances when configured, else in-process; while Redis
    // is unreachable each instance counts in-process (never unlimited, never a failed request).
    let rateLimiter: RateLimiter | null = null;
    if (config.rateLimits) {
      const store = config.redisUrl ? await RedisRateLimitStore.create({ url: config.redisUrl }) : new MemoryRateLimitStore();
      rateLimiter = new RateLimiter({
        rules: config.rateLimits,
        store,
        onStoreStateChange: (healthy, error) =>
          healthy
            ? log('info', 'redis answers again: rate limits are shared across instances')
            : log('warn', 'redis unavailable: rate limits are counted per instance until it is back', error),
      });
      closers.push(() => rateLimiter!.close());
    }
    const persistedOperations = config.persistedOperationsFile ? loadPersistedOperations(config.persistedOperationsFile) : undefined;

    const runtime: Runtime = {
      config,
      databases,
      sources,
      policyStore,
      admissionStore,
      authorizer,
      emergencySessions: new EmergencyStore(databases.store, { onExpired: (s) => emergencyExpiry.touched(s) }),
      emergencyExpiry,
      authenticator,
      audit,
      auditReader,
      residentDisclosure: new ResidentDisclosure({ db: databases.store, subjectKey: keys.subjectKey }),
      statistics,
      verifyAudit: () => verifyAudit(databases.store, keys.publicKey),
      tokenSecret,
      async policyChanged() {
        await authorizer.reload();
        await watcher?.update();
      },
      logger,
      metrics,
      rateLimiter,
      persistedOperations,
      async readiness() {
        const probe = async (name: string, fn: () => Promise<unknown>) => {
          let timer: NodeJS.Timeout | undefined;
          try {
            await Promise.race([
              fn(),
              new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error(`no answer within ${READINESS_TIMEOUT_MS} ms`)), READINESS_TIMEOUT_MS);
              }),
            ]);
            metrics.dependency(name, true);
            return 'ok' as const;
          } catch {
            metrics.dependency(name, false);
            return 'unavailable' as const;
          } finally {
            clearTimeout(timer);
          }
        };
        const [store, population, housing, socialSecurity] = await Promise.all([
          probe('store', () => policyStore.version()),
          probe('population', () => sources.population.health()),
          probe('housing', () => sources.housing.health()),
          probe('social_security', () => sources.social_security.health()),
        ]);
        const checks: Record<string, 'ok' | 'unavailable'> = { store, population, housing, social_security: socialSecurity };
        const ready = Object.values(checks).every((c) => c === 'ok');
        if (watcher) checks.redis = watcher.connected ? 'ok' : 'unavailable';
        return { ready, checks };
      },
      close,
    };
    return runtime;
  } catch (error) {
    await close();
    throw error;
  }
}
