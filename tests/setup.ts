/**
 * One setup module for the integration tests: `createTestGateway()` builds a real runtime on
 * embedded PGlite (always) or on a fresh database of the real PostgreSQL server named by
 * TEST_DATABASE_URL, with Redis when TEST_REDIS_URL is set.
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { loadConfig, type Config } from '../gateway/config.ts';
import { createRuntime, type Runtime, type RuntimeOptions } from '../gateway/runtime.ts';
import { createGateway, type Gateway } from '../gateway/server.ts';
import { signToken } from '../gateway/auth/token-signer.ts';
import { loadAuditKeys } from '../audit/audit-keys.ts';
import { postgresDatabase } from '../gateway/store/databases.ts';
import { seedSources } from '../demo/seed-sources.ts';
import type { Role } from '../core/identity.ts';
import { freshDatabase, TEST_SECRET, type Backend } from './backends.ts';

export { BACKENDS, freshDatabase, TEST_SECRET, type Backend } from './backends.ts';

export interface TestGatewayOptions extends RuntimeOptions {
  readonly backend?: Backend;
  readonly persons?: number;
  readonly env?: Record<string, string>;
  /** Use Redis (TEST_REDIS_URL) for multi-instance propagation. */
  readonly redis?: boolean;
  /** Share another test gateway's databases (a second instance). */
  readonly shareWith?: TestGateway;
  /**
   * Postgres backend: rewrites the fresh database's URL per setting (`DATABASE_URL`,
   * `POPULATION_DATABASE_URL`, `HOUSING_DATABASE_URL`, `SOCIAL_SECURITY_DATABASE_URL`), e.g. to send
   * the store through a fault-injecting proxy. Seeding always uses the real URL.
   */
  readonly rewriteUrl?: (setting: string, url: string) => string;
}

export interface TestGateway {
  readonly backend: Backend;
  readonly runtime: Runtime;
  readonly gateway: Gateway;
  readonly config: Config;
  readonly env: Record<string, string>;
  /** Runs one GraphQL operation in-process through yoga. */
  graphql(
    query: string,
    options?: { token?: string | null; purpose?: string; variables?: Record<string, unknown>; operationName?: string },
  ): Promise<{ status: number; body: any }>;
  token(claims: { sub?: string; org: string; roles: Role[] }, ttl?: string): Promise<string>;
  close(): Promise<void>;
}

export async function createTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const backend = options.backend ?? options.shareWith?.backend ?? 'pglite';
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lianqiao-test-'));
  let drop: (() => Promise<void>) | undefined;
  let env: Record<string, string> = {
    DATA_DIR: dataDir,
    JWT_SECRET: TEST_SECRET,
    SEED_PERSONS: String(options.persons ?? 600),
    LOG_LEVEL: 'silent',
    INSTANCE_ID: `test-${Math.random().toString(36).slice(2, 10)}`,
    // Tests send thousands of operations as one user: the limiter runs, with budgets no test
    // reaches unless it sets RATE_LIMITS itself (tests/security/rate-limit.test.ts does).
    RATE_LIMITS: TEST_RATE_LIMITS,
    // Load tests queue thousands of operations on one pool on a busy CI machine: the deadline
    // (10 s by default) would cut the slowest. Tests of the deadline set their own.
    OPERATION_TIMEOUT_MS: '60000',
    ...options.env,
  };
  if (options.shareWith) {
    env = { ...options.shareWith.env, INSTANCE_ID: `test-${Math.random().toString(36).slice(2, 10)}`, ...options.env };
  } else if (backend === 'postgres') {
    const db = await freshDatabase();
    drop = db.drop;
    // Real sources are the departments' own: the runtime never seeds them, the test does.
    const source = postgresDatabase(db.url);
    await seedSources({ population: source, housing: source, socialSecurity: source }, { persons: options.persons ?? 600 });
    await source.destroy();
    const url = (setting: string) => options.rewriteUrl?.(setting, db.url) ?? db.url;
    env = {
      ...env,
      DATABASE_URL: url('DATABASE_URL'),
      POPULATION_DATABASE_URL: url('POPULATION_DATABASE_URL'),
      HOUSING_DATABASE_URL: url('HOUSING_DATABASE_URL'),
      SOCIAL_SECURITY_DATABASE_URL: url('SOCIAL_SECURITY_DATABASE_URL'),
      ...options.env,
    };
  }
  if (options.redis) {
    if (!process.env.TEST_REDIS_URL) throw new Error('TEST_REDIS_URL is not set');
    env.REDIS_URL = process.env.TEST_REDIS_URL;
  }
  const config = loadConfig(env);
  // Outside the embedded mode the gateway never creates audit keys itself: provision them here.
  loadAuditKeys(config, { create: true });
  const runtime = await createRuntime(config, {
    inMemory: backend === 'pglite' && !options.shareWith,
    policyPollMs: 500,
    ...options,
  });
  const gateway = createGateway(runtime);
  const token: TestGateway['token'] = (claims, ttl = '1h') =>
    signToken(TEST_SECRET, { sub: claims.sub ?? `user-${claims.org}`, org: claims.org, roles: claims.roles }, ttl);
  return {
    backend,
    runtime,
    gateway,
    config,
    env,
    async graphql(query, o = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      if (o.purpose) headers['x-purpose'] = o.purpose;
      const response = await gateway.yoga.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers,
        body: JSON.stringify({ query, variables: o.variables, operationName: o.operationName }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
    token,
    async close() {
      await runtime.close();
      if (drop) await drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Common principals of the demo policies. */
/** Rate limits of test gateways: every subject at a million a minute. */
export const TEST_RATE_LIMITS = ['street_staff', 'street_admin', 'data_owner', 'auditor', 'platform_admin', 'org'].map((s) => `${s}=1000000/min`).join(',');

export const NANJING_EAST = 'street:310101002';
export const THE_BUND = 'street:310101013';
export const TIANPING = 'street:310104003';
