/**
 * The pure parts of logs and metrics: label caps, the connector timer, redaction and scrubbing,
 * the WORKERS setting.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { GatewayMetrics } from '../../gateway/metrics.ts';
import { createLogger, redactPersonal, serializeError } from '../../gateway/logger.ts';
import { scrubText } from '../../core/personal-data.ts';
import { instrumentConnector } from '../../connectors/instrumented-connector.ts';
import { ConnectorError } from '../../connectors/connector-error.ts';
import type { Connector } from '../../connectors/connector.ts';
import { POPULATION } from '../../core/datasets.ts';
import { ConfigError, loadConfig } from '../../gateway/config.ts';
import { classify } from '../../gateway/pipeline/use-telemetry.ts';

const metricsText = async (m: GatewayMetrics) => m.registry.metrics();

describe('GatewayMetrics', () => {
  it('keeps the first N operation names as labels and counts the rest as "other"', async () => {
    const m = new GatewayMetrics({ maxOperationNames: 3, processMetrics: false });
    for (let i = 0; i < 10; i++) m.operation(`Op${i}`, 'allow', 'OK', 0.01);
    m.operation('Op1', 'allow', 'OK', 0.01);
    m.operation(null, 'deny', 'FORBIDDEN', 0.001);
    const text = await metricsText(m);
    const labels = new Set([...text.matchAll(/lianqiao_operation_duration_seconds_count\{operation="([^"]+)"\}/g)].map((x) => x[1]));
    expect(labels).toEqual(new Set(['Op0', 'Op1', 'Op2', 'other', 'anonymous']));
    expect(text).toMatch(/lianqiao_operation_duration_seconds_count\{operation="other"\} 7/);
    expect(text).toMatch(/lianqiao_operation_duration_seconds_count\{operation="Op1"\} 2/);
    expect(text).toMatch(/lianqiao_operations_total\{decision="allow",code="OK"\} 11/);
    expect(text).toMatch(/lianqiao_operations_total\{decision="deny",code="FORBIDDEN"\} 1/);
    expect(text).not.toMatch(/process_cpu/);
  });

  it('caps limit kinds, and limitHit works detached', async () => {
    const m = new GatewayMetrics({ processMetrics: false });
    const { limitHit } = m;
    for (let i = 0; i < 30; i++) limitHit(`kind-${i}`);
    limitHit('kind-0');
    const text = await metricsText(m);
    expect(text).toMatch(/lianqiao_rate_limit_hits_total\{kind="kind-0"\} 2/);
    expect(text).toMatch(/lianqiao_rate_limit_hits_total\{kind="other"\} 10/);
  });

  it('reads the audit writer at scrape time', async () => {
    const m = new GatewayMetrics({ processMetrics: false });
    let committed = 5;
    m.trackAudit(() => ({ queueDepth: 3, inFlight: 2, committed, failed: 1, batches: 4, lastBatchSize: 2, lastCommitMs: 12, headSeq: 5, lastCheckpointSeq: 5 }));
    expect(await metricsText(m)).toMatch(/lianqiao_audit_events_committed_total 5/);
    committed = 9;
    const text = await metricsText(m);
    expect(text).toMatch(/lianqiao_audit_events_committed_total 9/);
    expect(text).toMatch(/lianqiao_audit_queue_depth 3/);
    expect(text).toMatch(/lianqiao_audit_in_flight_events 2/);
    expect(text).toMatch(/lianqiao_audit_last_commit_seconds 0.012/);
  });

  it('two instances never share a registry', async () => {
    const a = new GatewayMetrics();
    const b = new GatewayMetrics();
    a.operation('A', 'allow', 'OK', 0.1);
    expect(await metricsText(b)).not.toMatch(/operation="A"/);
  });
});

describe('instrumentConnector', () => {
  class FakeConnector implements Connector {
    readonly dataset = POPULATION;
    #calls = 0;
    fail = false;
    async find(_request?: unknown) {
      this.#calls++;
      if (this.fail) throw new ConnectorError('timeout', 'population', 'slow');
      return { rows: [], cursors: [], hasNextPage: false };
    }
    async lookup(_request?: unknown) {
      this.#calls++;
      return [];
    }
    async health() {}
    async close() {}
    calls() {
      return this.#calls;
    }
  }

  it('times find, lookup and health per source and outcome, and keeps everything else', async () => {
    const seen: string[] = [];
    const inner = new FakeConnector();
    const c = instrumentConnector(inner, (source, method, outcome, seconds) => {
      expect(seconds).toBeGreaterThanOrEqual(0);
      seen.push(`${source}.${method}:${outcome}`);
    });
    await c.find({ scope: { streets: 'all', conditions: [] }, fields: [], first: 1 });
    await c.lookup({ scope: { streets: 'all', conditions: [] }, fields: [], by: 'idNumber', keys: [] });
    await c.health();
    inner.fail = true;
    await expect(c.find({ scope: { streets: 'all', conditions: [] }, fields: [], first: 1 })).rejects.toThrow('slow');
    expect(seen).toEqual(['population.find:ok', 'population.lookup:ok', 'population.health:ok', 'population.find:timeout']);
    expect(c.calls()).toBe(3); // private fields still work
    expect(c).toBeInstanceOf(FakeConnector);
    expect(c.dataset).toBe(POPULATION);
  });
});

describe('logger', () => {
  const capture = () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _e, done) {
        lines.push(String(chunk));
        done();
      },
    });
    return { logger: createLogger('info', stream), lines };
  };

  it('redacts personal data and payloads wherever a call site puts them', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        idNumber: '110105194912310021',
        person: { name: '王小明', phone: '13812345678', residents: { idNumber: '110105194912310021' } },
        variables: { id: '110105194912310021' },
        query: { sql: 'select', parameters: ['110105194912310021'] },
        headers: { authorization: 'Bearer abc' },
      },
      'careless',
    );
    const text = lines.join('');
    expect(text).not.toContain('110105194912310021');
    expect(text).not.toContain('13812345678');
    expect(text).not.toContain('王小明');
    expect(text).not.toContain('Bearer abc');
    expect(JSON.parse(text).person.name).toBe('[redacted]');
  });

  it('censors at any depth up to 4, in arrays too, and leaves clean objects untouched (no copy)', () => {
    const clean = { requestId: 'r', actor: { sub: 's', org: 'o' }, rows: 3 };
    expect(redactPersonal(clean)).toBe(clean);
    const dirty = { a: { b: { c: [{ phone: '13812345678', ok: 1 }] } }, keep: 'x' };
    const out = redactPersonal(dirty);
    expect(out).toEqual({ a: { b: { c: [{ phone: '[redacted]', ok: 1 }] } }, keep: 'x' });
    expect(dirty.a.b.c[0]!.phone).toBe('13812345678'); // the caller's object is not modified
  });

  it('scrubs ID numbers, phones, quoted SQL values and URL credentials from error text', () => {
    expect(scrubText('invalid input syntax for type date: "1949-12-31"')).toBe('invalid input syntax for type date: "[value]"');
    expect(scrubText('id 11010519491231002X and 110105194912310021, phone 13812345678')).toBe('id [id-number] and [id-number], phone [phone]');
    expect(scrubText('postgres://app:secret@db:5432/x')).toBe('postgres://[credentials]@db:5432/x');
    expect(scrubText('took 1736000000000 ms; uuid 8a1f2c3d-1234-4abc-9def-123456789012')).toBe('took 1736000000000 ms; uuid 8a1f2c3d-1234-4abc-9def-123456789012');
    const serialized = serializeError(
      Object.assign(new Error('duplicate key value violates unique constraint "person_id_number_key"'), {
        code: '23505',
        constraint: 'person_id_number_key',
        detail: 'Key (id_number)=(110105194912310021) already exists.',
        parameters: ['110105194912310021'],
      }),
    ) as Record<string, unknown>;
    expect(serialized).toMatchObject({ type: 'Error', code: '23505', constraint: 'person_id_number_key' });
    expect(JSON.stringify(serialized)).not.toContain('110105194912310021');
  });
});

describe('classify (decision and code of an answer)', () => {
  it('follows the audit event: denied before reading, failed while answering', () => {
    expect(classify({ data: { a: 1 } })).toEqual({ decision: 'allow', code: 'OK' });
    expect(classify({ errors: [{ message: 'x', extensions: { code: 'FORBIDDEN' } }] as never })).toEqual({ decision: 'deny', code: 'FORBIDDEN' });
    expect(classify({ data: { p: null }, errors: [{ message: 'x', extensions: { code: 'SERVICE_UNAVAILABLE' } }] as never })).toEqual({
      decision: 'error',
      code: 'SERVICE_UNAVAILABLE',
    });
    expect(classify({ errors: [{ message: 'Unknown argument' }] as never })).toEqual({ decision: 'deny', code: 'BAD_USER_INPUT' });
    expect(classify({ errors: [{ message: 'x', extensions: { code: 'SOMETHING_ELSE' } }] as never }).code).toBe('BAD_USER_INPUT');
  });
});

describe('WORKERS', () => {
  const real = {
    DATABASE_URL: 'postgres://u@db/store',
    POPULATION_DATABASE_URL: 'postgres://u@db/pop',
    HOUSING_DATABASE_URL: 'postgres://u@db/housing',
    SOCIAL_SECURITY_URL: 'http://ss.internal:4100',
    JWT_SECRET: 'x'.repeat(32),
  };

  it('defaults to 1 and accepts N with PostgreSQL everywhere', () => {
    expect(loadConfig({}).workers).toBe(1);
    expect(loadConfig({ ...real, WORKERS: '4' }).workers).toBe(4);
  });

  it('is refused above 1 when any part is embedded PGlite, with a clear message', () => {
    for (const env of [{ WORKERS: '2' }, { ...real, HOUSING_DATABASE_URL: '', WORKERS: '2' }]) {
      let error: unknown;
      try {
        loadConfig(env);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.join('\n')).toMatch(/WORKERS=2 needs PostgreSQL .* embedded PGlite directory can be open in one process only/);
    }
    expect(() => loadConfig({ WORKERS: '0' })).toThrow(/WORKERS must be a whole number from 1 to 256/);
  });
});
