/**
 * Configuration from the environment, validated once at start. Every bad value gets its own clear
 * message; all of them are reported together so a deployer fixes them in one go.
 */
import path from 'node:path';

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
  };
  /** Persons the embedded demo seeds on first start. */
  readonly seedPersons: number;
  /** Names this process's audit chain; unique per running instance. */
  readonly instanceId: string;
  readonly logLevel: string;
  readonly production: boolean;
  /**
   * Bench-only (`LIANQIAO_UNSAFE_BENCH_BASELINE=1`): authorization, masking and audit switched
   * off to measure what safety costs. Refused in production.
   */
  readonly unsafeBenchBaseline: boolean;
  /** True when nothing external is configured: PGlite + demo sources + demo tokens. */
  readonly embedded: boolean;
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
  const unsafeBenchBaseline = get('LIANQIAO_UNSAFE_BENCH_BASELINE') === '1';
  if (unsafeBenchBaseline && nodeEnv === 'production') {
    problems.push('LIANQIAO_UNSAFE_BENCH_BASELINE switches off authorization and audit; it is refused with NODE_ENV=production');
  }

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
    },
    seedPersons: int('SEED_PERSONS', 5000, 0, 50_000_000),
    instanceId: get('INSTANCE_ID') ?? `gw-${process.pid}-${Date.now().toString(36)}`,
    logLevel,
    production: nodeEnv === 'production',
    unsafeBenchBaseline,
    embedded,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
