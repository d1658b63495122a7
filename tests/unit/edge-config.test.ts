/**
 * The edge's settings: operation limits, rate limits, CORS origins and the persisted-operations
 * file, with their defaults and one clear message per bad value.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../gateway/config.ts';
import { configProblems } from './config-problems.ts';
import { DEFAULT_RATE_LIMITS, describeRule, parseRateLimits } from '../../gateway/rate-limit/rate-limit-rules.ts';
import { loadPersistedOperations, PersistedOperationsError } from '../../gateway/pipeline/use-persisted-operations.ts';

const problems = configProblems;

describe('edge configuration', () => {
  it('has limits on by default', () => {
    const config = loadConfig({});
    expect(config.limits).toEqual({
      maxDepth: 8,
      maxAliases: 15,
      maxTokens: 2000,
      maxRootFields: 10,
      maxCost: 2000,
      maxBodyBytes: 102_400,
      operationTimeoutMs: 10_000,
    });
    expect(config.rateLimits).toEqual(DEFAULT_RATE_LIMITS);
    expect(config.corsOrigins).toEqual([]);
    expect(config.persistedOperationsFile).toBeUndefined();
  });

  it('reads every limit from its variable', () => {
    const config = loadConfig({
      MAX_QUERY_DEPTH: '12',
      MAX_QUERY_ALIASES: '30',
      MAX_QUERY_TOKENS: '5000',
      MAX_ROOT_FIELDS: '4',
      MAX_QUERY_COST: '50000',
      MAX_BODY_BYTES: '2048',
      OPERATION_TIMEOUT_MS: '2500',
      RATE_LIMITS: 'street_staff=60/s, auditor=10/min,org=100000/h',
      CORS_ORIGINS: 'https://portal.example.gov.cn, http://localhost:5173',
    });
    expect(config.limits).toEqual({ maxDepth: 12, maxAliases: 30, maxTokens: 5000, maxRootFields: 4, maxCost: 50_000, maxBodyBytes: 2048, operationTimeoutMs: 2500 });
    expect(config.rateLimits).toMatchObject({
      street_staff: { limit: 60, windowMs: 1000 },
      auditor: { limit: 10, windowMs: 60_000 },
      org: { limit: 100_000, windowMs: 3_600_000 },
      data_owner: DEFAULT_RATE_LIMITS.data_owner,
    });
    expect(config.corsOrigins).toEqual(['https://portal.example.gov.cn', 'http://localhost:5173']);
  });

  it('RATE_LIMITS=off turns rate limiting off', () => {
    expect(loadConfig({ RATE_LIMITS: 'off' }).rateLimits).toBeNull();
  });

  it.each([
    [{ MAX_QUERY_DEPTH: '0' }, 'MAX_QUERY_DEPTH must be a whole number from 1 to 100, got "0"'],
    [{ MAX_QUERY_ALIASES: 'many' }, 'MAX_QUERY_ALIASES must be a whole number from 0 to 1000, got "many"'],
    [{ MAX_QUERY_TOKENS: '10' }, 'MAX_QUERY_TOKENS must be a whole number from 100 to 100000'],
    [{ MAX_ROOT_FIELDS: '-1' }, 'MAX_ROOT_FIELDS must be a whole number from 1 to 100'],
    [{ MAX_QUERY_COST: '2e3' }, 'MAX_QUERY_COST must be a whole number'],
    [{ MAX_BODY_BYTES: '100kb' }, 'MAX_BODY_BYTES must be a whole number from 1024 to 10485760, got "100kb"'],
    [{ OPERATION_TIMEOUT_MS: '5' }, 'OPERATION_TIMEOUT_MS must be a whole number from 100 to 300000'],
    [{ RATE_LIMITS: 'street_staff:600/min' }, 'RATE_LIMITS: "street_staff:600/min" is not SUBJECT=COUNT/UNIT'],
    [{ RATE_LIMITS: 'clerk=600/min' }, 'RATE_LIMITS: unknown subject "clerk"'],
    [{ RATE_LIMITS: 'org=600/day' }, 'RATE_LIMITS: unknown unit "day"'],
    [{ RATE_LIMITS: 'auditor=0/min' }, 'RATE_LIMITS: the count in "auditor=0/min" must be from 1'],
    [{ CORS_ORIGINS: '*' }, 'CORS_ORIGINS: "*" is not an origin'],
    [{ CORS_ORIGINS: 'https://portal.example.gov.cn/app' }, 'CORS_ORIGINS: "https://portal.example.gov.cn/app" is not an origin'],
    [{ CORS_ORIGINS: 'ftp://x.example' }, 'CORS_ORIGINS: "ftp://x.example" is not an origin'],
    [{ PERSISTED_OPERATIONS_FILE: '/nonexistent/ops.json' }, 'PERSISTED_OPERATIONS_FILE: /nonexistent/ops.json does not exist'],
  ])('rejects %j with a clear message', (env, message) => {
    expect(problems(env as Record<string, string>).join('\n')).toContain(message);
  });

  it('reports every bad rate-limit entry', () => {
    expect(parseRateLimits('clerk=1/min,org=1/day,auditor=5/min').problems).toHaveLength(2);
  });

  it('describes rules the way they are written', () => {
    expect(describeRule({ limit: 600, windowMs: 60_000 })).toBe('600/min');
    expect(describeRule({ limit: 5, windowMs: 1000 })).toBe('5/s');
    expect(describeRule({ limit: 9, windowMs: 3_600_000 })).toBe('9/h');
  });
});

describe('persisted operations file', () => {
  const write = (content: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lianqiao-ops-'));
    const file = path.join(dir, 'ops.json');
    fs.writeFileSync(file, content);
    return file;
  };

  it('loads id → document', () => {
    const ops = loadPersistedOperations(write(JSON.stringify({ count: '{ people { totalCount } }' })));
    expect(ops.get('count')).toBe('{ people { totalCount } }');
  });

  it.each([
    ['not json', /PERSISTED_OPERATIONS_FILE .*ops\.json: .*JSON/],
    ['[]', /expected a JSON object/],
    ['{}', /lists no operation/],
    ['{"a": 1}', /"a" is not a string/],
    ['{"a": "{ people { "}', /"a" is not a GraphQL document/],
    [JSON.stringify({ ['0'.repeat(64)]: '{ me { sub } }' }), /is not the SHA-256 of its document/],
  ])('refuses %s with a clear message', (content, message) => {
    expect(() => loadPersistedOperations(write(content))).toThrow(PersistedOperationsError);
    expect(() => loadPersistedOperations(write(content))).toThrow(message);
  });
});
