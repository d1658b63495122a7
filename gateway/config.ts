/**
 * Configuration from the environment, validated once at start. Every bad value gets its own clear
 * message; all of them are reported together so a deployer fixes them in one go.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseRateLimits, type RateLimitRules } from './rate-limit/rate-limit-rules.ts';
import { parseAuditCrypto, type AuditCryptoName } from '../audit/audit-crypto.ts';
import { parseStatisticsThresholds, type StatisticsThresholds } from '../policies/statistics/statistics-k.ts';

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Where the embedded mode keeps PGlite, the token secret and the audit keys. */
  readonly dataDir: string;
  /** Gateway store; undefined = embedded PGlite under dataDir. */
  readonly databaseUrl?: string;
  readonly sources: {
    /** PostgreSQL URL of the population registry; undefined = embedded demo source. */
    readonly populationUrl?: string;
    /** PostgreSQL URL of the housing registry; undefined = embedded demo source. */
    readonly housingUrl?: string;
    /** Base URL of the social-security HTTP API; undefined = the demo service, started in-process. */
    readonly socialSecurityUrl?: string;
    /** PostgreSQL URL for the in-process demo social-security service's data; undefined = embedded. */
    readonly socialSecurityDatabaseUrl?: string;
    /** Time limit for one source call, in ms. */
    readonly timeoutMs: number;
  };
  readonly redisUrl?: string;
  readonly jwt: {
    /** HS256 secret; in embedded mode generated once under dataDir when not given. */
    readonly secret?: string;
    readonly jwksUrl?: string;
    readonly issuer?: string;
    readonly audience?: string;
  };
  readonly audit: {
    /** File holding the Ed25519 private key (PEM) that signs chain checkpoints. */
    readonly signingKeyFile: string;
    /** File holding the HMAC key for subject hashes. */
    readonly subjectKeyFile: string;
    /** `AUDIT_CRYPTO`: `default` (SHA-256 + Ed25519) or `sm` (SM3 + SM2, its key in `sm2SigningKeyFile`). */
    readonly crypto: AuditCryptoName;
    readonly sm2SigningKeyFile: string;
  };
  /** Persons the embedded demo seeds on first start. */
  readonly seedPersons: number;
  /** Names this process's audit chain; unique per running instance. */
  readonly instanceId: string;
  /**
   * Worker processes (node:cluster) sharing the port, PostgreSQL and Redis; each worker has its
   * own audit chain, `${instanceId}-w${n}`. Default 1 (no cluster). Needs PostgreSQL for the store
   * and every source: an embedded PGlite directory can be open in one process only.
   */
  readonly workers: number;
  readonly logLevel: string;
  readonly production: boolean;
  /** True when nothing external is configured: PGlite + demo sources + demo tokens. */
  readonly embedded: boolean;
  /** What one request may ask for (QUERY_TOO_COMPLEX beyond it). */
  readonly limits: {
    /** `MAX_QUERY_DEPTH`, default 8. */
    readonly maxDepth: number;
    /** `MAX_QUERY_ALIASES`, default 15. */
    readonly maxAliases: number;
    /** `MAX_QUERY_TOKENS`, default 2000. */
    readonly maxTokens: number;
    /** `MAX_ROOT_FIELDS`, default 10. */
    readonly maxRootFields: number;
    /** `MAX_QUERY_COST`: estimated objects in an answer (page size × nesting), default 2000. */
    readonly maxCost: number;
    /** `MAX_BODY_BYTES`, default 102400 (100 KB); larger bodies get 413. */
    readonly maxBodyBytes: number;
    /**
     * `OPERATION_TIMEOUT_MS`, default 10000: an operation's deadline. Also the source PostgreSQL
     * pools' statement_timeout (the server cancels what the operation gave up on), and a cap on
     * the HTTP connector's per-attempt timeout: min(SOURCE_TIMEOUT_MS, OPERATION_TIMEOUT_MS).
     */
    readonly operationTimeoutMs: number;
  };
  /** `RATE_LIMITS` per role and per organisation; null when `RATE_LIMITS=off`. */
  readonly rateLimits: RateLimitRules | null;
  /** `STATISTICS_K`: the small-cell threshold per dataset (default 10, never below 5). */
  readonly statisticsK: StatisticsThresholds;
  /** `CORS_ORIGINS` (comma-separated origins); empty: no CORS headers at all. */
  readonly corsOrigins: readonly string[];
  /** `PERSISTED_OPERATIONS_FILE`: when set, only the operations it lists run. */
  readonly persistedOperationsFile?: string;
  /** Emergency access: `EMERGENCY_STARTS_PER_STREET_PER_HOUR` (default 5) sessions a street may start per hour. */
  readonly emergency: { readonly startsPerStreetPerHour: number };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads and validates the configuration; throws {@link ConfigError} listing every problem. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return Number(raw);
  };
  const url = (name: string, protocols: readonly string[]): string | undefined => {
    const raw = get(name);
    if (raw === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      problems.push(`${name} is not a URL (expected ${protocols.join(' or ')}//...)`);
      return undefined;
    }
    if (!protocols.includes(parsed.protocol)) {
      problems.push(`${name} must use ${protocols.join(' or ')}, got ${parsed.protocol}`);
      return undefined;
    }
    return raw;
  };

  const port = int('PORT', 4000, 0, 65535);
  const host = get('HOST') ?? '127.0.0.1';
  const dataDir = path.resolve(get('DATA_DIR') ?? './.data');
  const pgProtocols = ['postgres:', 'postgresql:'];
  const databaseUrl = url('DATABASE_URL', pgProtocols);
  const populationUrl = url('POPULATION_DATABASE_URL', pgProtocols);
  const housingUrl = url('HOUSING_DATABASE_URL', pgProtocols);
  const socialSecurityUrl = url('SOCIAL_SECURITY_URL', ['http:', 'https:']);
  const socialSecurityDatabaseUrl = url('SOCIAL_SECURITY_DATABASE_URL', pgProtocols);
  const timeoutMs = int('SOURCE_TIMEOUT_MS', 5000, 50, 120_000);
  const redisUrl = url('REDIS_URL', ['redis:', 'rediss:']);

  const secret = get('JWT_SECRET');
  const jwksUrl = url('JWT_JWKS_URL', ['http:', 'https:']);
  if (secret && jwksUrl) problems.push('set either JWT_SECRET or JWT_JWKS_URL, not both');
  if (secret && Buffer.byteLength(secret) < 32) problems.push('JWT_SECRET must be at least 32 bytes for HS256');
  if (jwksUrl && !get('JWT_ISSUER')) problems.push('JWT_JWKS_URL needs JWT_ISSUER (the identity provider issuer)');
  if (jwksUrl && !get('JWT_AUDIENCE')) problems.push('JWT_JWKS_URL needs JWT_AUDIENCE');

  const embedded = !databaseUrl && !populationUrl && !housingUrl && !socialSecurityUrl && !socialSecurityDatabaseUrl;
  if (databaseUrl && !secret && !jwksUrl) {
    problems.push('with DATABASE_URL set, configure JWT_SECRET or JWT_JWKS_URL (the embedded demo secret is only for embedded mode)');
  }

  const logLevel = get('LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const nodeEnv = get('NODE_ENV') ?? 'development';
  const workers = int('WORKERS', 1, 1, 256);
  const needsPglite = !databaseUrl || !populationUrl || !housingUrl || (!socialSecurityUrl && !socialSecurityDatabaseUrl);
  if (workers > 1 && needsPglite) {
    problems.push(
      `WORKERS=${workers} needs PostgreSQL for the store and every source (DATABASE_URL, POPULATION_DATABASE_URL, HOUSING_DATABASE_URL, ` +
        'and SOCIAL_SECURITY_URL or SOCIAL_SECURITY_DATABASE_URL): an embedded PGlite directory can be open in one process only; use WORKERS=1',
    );
  }

  const limits: Config['limits'] = {
    maxDepth: int('MAX_QUERY_DEPTH', 8, 1, 100),
    maxAliases: int('MAX_QUERY_ALIASES', 15, 0, 1000),
    maxTokens: int('MAX_QUERY_TOKENS', 2000, 100, 100_000),
    maxRootFields: int('MAX_ROOT_FIELDS', 10, 1, 100),
    maxCost: int('MAX_QUERY_COST', 2000, 1, 10_000_000),
    maxBodyBytes: int('MAX_BODY_BYTES', 102_400, 1024, 10_485_760),
    operationTimeoutMs: int('OPERATION_TIMEOUT_MS', 10_000, 100, 300_000),
  };
  const rateLimits = parseRateLimits(get('RATE_LIMITS'));
  problems.push(...rateLimits.problems);
  const statisticsK = parseStatisticsThresholds(get('STATISTICS_K'));
  problems.push(...statisticsK.problems);
  const corsOrigins: string[] = [];
  for (const entry of (get('CORS_ORIGINS') ?? '').split(',').map((o) => o.trim()).filter(Boolean)) {
    let origin: URL | undefined;
    try {
      origin = new URL(entry);
    } catch {
      // reported below
    }
    if (!origin || !['http:', 'https:'].includes(origin.protocol) || origin.origin !== entry.replace(/\/$/, '')) {
      problems.push(`CORS_ORIGINS: "${entry}" is not an origin like https://portal.example.gov.cn (scheme, host and port only; "*" is not accepted)`);
    } else corsOrigins.push(origin.origin);
  }
  const persistedOperationsFile = get('PERSISTED_OPERATIONS_FILE');
  if (persistedOperationsFile && !fs.existsSync(persistedOperationsFile)) {
    problems.push(`PERSISTED_OPERATIONS_FILE: ${persistedOperationsFile} does not exist`);
  }

  const auditCrypto = parseAuditCrypto(get('AUDIT_CRYPTO'));
  if (!auditCrypto) problems.push(`AUDIT_CRYPTO must be "default" or "sm", not ${JSON.stringify(get('AUDIT_CRYPTO'))}`);

  const config: Config = {
    port,
    host,
    dataDir,
    databaseUrl,
    sources: { populationUrl, housingUrl, socialSecurityUrl, socialSecurityDatabaseUrl, timeoutMs },
    redisUrl,
    jwt: { secret, jwksUrl, issuer: get('JWT_ISSUER'), audience: get('JWT_AUDIENCE') },
    audit: {
      signingKeyFile: path.resolve(get('AUDIT_SIGNING_KEY') ?? path.join(dataDir, 'audit-signing-key.pem')),
      subjectKeyFile: path.resolve(get('AUDIT_SUBJECT_KEY') ?? path.join(dataDir, 'audit-subject-key')),
      crypto: auditCrypto ?? 'default',
      sm2SigningKeyFile: path.resolve(get('AUDIT_SM2_SIGNING_KEY') ?? path.join(dataDir, 'audit-sm2-signing-key.pem')),
    },
    seedPersons: int('SEED_PERSONS', 5000, 0, 50_000_000),
    instanceId: get('INSTANCE_ID') ?? `gw-${process.pid}-${Date.now().toString(36)}`,
    workers,
    logLevel,
    production: nodeEnv === 'production',
    embedded,
    limits,
    rateLimits: rateLimits.rules,
    statisticsK: statisticsK.thresholds,
    corsOrigins,
    persistedOperationsFile: persistedOperationsFile ? path.resolve(persistedOperationsFile) : undefined,
    emergency: { startsPerStreetPerHour: int('EMERGENCY_STARTS_PER_STREET_PER_HOUR', 5, 1, 1000) },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
