import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../gateway/config.ts';
import { configProblems } from './config-problems.ts';

const problems = configProblems;

describe('loadConfig', () => {
  it('defaults to the embedded mode on 127.0.0.1:4000', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 4000, host: '127.0.0.1', embedded: true, seedPersons: 5000 });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir.endsWith('.data')).toBe(true);
  });

  it('reads real services from their own settings', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u@db/store',
      POPULATION_DATABASE_URL: 'postgresql://u@db/pop',
      HOUSING_DATABASE_URL: 'postgres://u@db/housing',
      SOCIAL_SECURITY_URL: 'http://ss.internal:4100',
      REDIS_URL: 'redis://127.0.0.1:6379',
      JWT_SECRET: 'x'.repeat(32),
      PORT: '8080',
    });
    expect(config.embedded).toBe(false);
    expect(config.sources.populationUrl).toBe('postgresql://u@db/pop');
    expect(config.port).toBe(8080);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT must be a whole number from 0 to 65535, got "eighty"'],
    [{ PORT: '70000' }, 'PORT must be a whole number'],
    [{ DATABASE_URL: 'not a url', JWT_SECRET: 'x'.repeat(32) }, 'DATABASE_URL is not a URL'],
    [{ DATABASE_URL: 'mysql://db/x', JWT_SECRET: 'x'.repeat(32) }, 'DATABASE_URL must use postgres: or postgresql:, got mysql:'],
    [{ SOCIAL_SECURITY_URL: 'ftp://x' }, 'SOCIAL_SECURITY_URL must use http: or https:'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL must use redis: or rediss:'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET must be at least 32 bytes'],
    [{ JWT_SECRET: 'x'.repeat(32), JWT_JWKS_URL: 'https://idp/jwks' }, 'set either JWT_SECRET or JWT_JWKS_URL, not both'],
    [{ JWT_JWKS_URL: 'https://idp/jwks' }, 'JWT_JWKS_URL needs JWT_ISSUER'],
    [{ DATABASE_URL: 'postgres://db/x' }, 'with DATABASE_URL set, configure JWT_SECRET or JWT_JWKS_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of'],
    [{ SEED_PERSONS: '-5' }, 'SEED_PERSONS must be a whole number'],
    [{ SOURCE_TIMEOUT_MS: '10' }, 'SOURCE_TIMEOUT_MS must be a whole number from 50'],
  ])('rejects %j with a clear message', (env, message) => {
    expect(problems(env as Record<string, string>).join('\n')).toContain(message);
  });

  it('reports every problem at once', () => {
    expect(problems({ PORT: 'x', LOG_LEVEL: 'y', REDIS_URL: 'z' })).toHaveLength(3);
  });
});
