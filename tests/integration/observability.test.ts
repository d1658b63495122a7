/**
 * Logs and metrics as an operator sees them: one structured line per operation with no personal
 * data in it, masked errors logged with a scrubbed cause, and /metrics with aggregate numbers.
 */
import { sql } from 'kysely';
import { listenGateway, type ListeningGateway } from '../fixtures/http-server.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, createTestGateway, NANJING_EAST, type TestGateway } from '../setup.ts';
import { logCapture } from '../faults/fault-tools.ts';

/** An 18-character ID number or an 11-digit mobile number standing on its own. */
const ID_NUMBER = /(?<![0-9A-Za-z.])\d{17}[\dXx](?![0-9A-Za-z])/;
const PHONE = /(?<![0-9A-Za-z.])1[3-9]\d{9}(?![0-9A-Za-z])/;

describe.each(BACKENDS)('logs and metrics on %s', (backend) => {
  let gw: TestGateway;
  let capture: ReturnType<typeof logCapture>;
  let listening: ListeningGateway;
  let base: string;
  let clerk: string;

  beforeAll(async () => {
    capture = logCapture();
    gw = await createTestGateway({ backend, logger: capture.logger });
    clerk = await gw.token({ sub: 'clerk-obs', org: NANJING_EAST, roles: ['street_staff'] });
    listening = await listenGateway(gw.gateway);
    base = listening.base;
  });
  afterAll(async () => {
    await listening?.close();
    await gw?.close();
  });

  it('writes one line per operation with request id, actor, purpose, name, decision, code and duration, and no personal data', async () => {
    capture.lines.length = 0;
    const seen = { ids: new Set<string>(), phones: new Set<string>(), names: new Set<string>() };
    const keep = (p: any) => {
      if (p?.idNumber) seen.ids.add(p.idNumber);
      if (p?.phone) seen.phones.add(p.phone);
      if (p?.name) seen.names.add(p.name);
    };

    const people = await gw.graphql(`query Elderly { people(first: 50) { edges { node { idNumber name } } } }`, {
      token: clerk,
      purpose: 'elderly-allowance',
    });
    expect(people.body.errors).toBeUndefined();
    people.body.data.people.edges.forEach((e: any) => keep(e.node));

    const houses = await gw.graphql(`query Tenants { houses(first: 30) { edges { node { residents { idNumber name phone } } } } }`, {
      token: clerk,
      purpose: 'rental-registration',
    });
    expect(houses.body.errors).toBeUndefined();
    houses.body.data.houses.edges.forEach((e: any) => e.node.residents.forEach(keep));
    expect(seen.phones.size).toBeGreaterThan(0);

    const someId = [...seen.ids][0]!;
    const one = await gw.graphql(`query One($id: ID!) { person(idNumber: $id) { idNumber name } }`, {
      token: clerk,
      purpose: 'elderly-allowance',
      variables: { id: someId },
    });
    expect(one.body.data.person.idNumber).toBe(someId);
    // Denied: phone is not granted for this purpose (the variables still carry an ID number).
    const denied = await gw.graphql(`query Phone($id: ID!) { person(idNumber: $id) { phone } }`, {
      token: clerk,
      purpose: 'elderly-allowance',
      variables: { id: someId },
    });
    expect(denied.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const unauthenticated = await gw.graphql(`{ people { totalCount } }`, { token: null, purpose: 'elderly-allowance' });
    expect(unauthenticated.status).toBe(401);

    // Names as the source holds them, too (the answers may mask some).
    const db = gw.runtime.databases.population;
    const { rows } = await sql<{ name: string; id_number: string; phone: string | null }>`
      select name, id_number, phone from population.person order by id_number limit 300`.execute(db);
    for (const r of rows) {
      seen.names.add(r.name.trim());
      seen.ids.add(r.id_number.trim());
      if (r.phone) seen.phones.add(r.phone.trim());
    }

    const operations = capture.records().filter((r) => r.msg === 'operation');
    expect(operations).toHaveLength(5);
    const [elderly, tenants, single, phone, anonymous] = operations;
    expect(elderly).toMatchObject({
      level: 30,
      service: 'lianqiao',
      instance: gw.config.instanceId,
      actor: { sub: 'clerk-obs', org: NANJING_EAST },
      purpose: 'elderly-allowance',
      operation: 'Elderly',
      operationType: 'query',
      decision: 'allow',
      code: 'OK',
      rows: people.body.data.people.edges.length,
    });
    expect(elderly.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof elderly.durationMs).toBe('number');
    expect(tenants).toMatchObject({ operation: 'Tenants', decision: 'allow', purpose: 'rental-registration' });
    expect(single).toMatchObject({ operation: 'One', decision: 'allow', rows: 1 });
    expect(phone).toMatchObject({ operation: 'Phone', decision: 'deny', code: 'FORBIDDEN' });
    expect(anonymous).toMatchObject({ decision: 'deny', code: 'UNAUTHENTICATED', status: 401, actor: null });

    // The request id is the audit event's.
    const audited = await sql<{ request_id: string; decision: string }>`
      select request_id, decision from audit_event where request_id = ${elderly.requestId}`.execute(gw.runtime.databases.store);
    expect(audited.rows).toEqual([{ request_id: elderly.requestId, decision: 'allow' }]);

    const text = capture.text();
    expect(text).not.toMatch(ID_NUMBER);
    expect(text).not.toMatch(PHONE);
    for (const id of seen.ids) expect(text).not.toContain(id);
    for (const p of seen.phones) expect(text).not.toContain(p);
    for (const name of seen.names) expect(text).not.toContain(`"${name}"`);
    for (const name of [...seen.names].filter((n) => n.length >= 3)) expect(text).not.toContain(name);
  });

  it('logs an unexpected error with its cause, scrubbed, while the client sees only INTERNAL_SERVER_ERROR', async () => {
    capture.lines.length = 0;
    const population = gw.runtime.sources.population;
    const original = population.find;
    const leaky = Object.assign(new Error('boom while reading 11010519491231002X for 13812345678 via postgres://app:s3cret@db/pop'), {
      parameters: ['11010519491231002X', '张三'],
      detail: 'Key (id_number)=(11010519491231002X) already exists.',
      code: 'XX000',
    });
    (population as { find: unknown }).find = async () => {
      throw new TypeError('unexpected shape', { cause: leaky });
    };
    try {
      const { body } = await gw.graphql(`query Broken { people(first: 1) { edges { node { name } } } }`, {
        token: clerk,
        purpose: 'elderly-allowance',
      });
      expect(body.errors[0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
      expect(JSON.stringify(body)).not.toMatch(/boom|s3cret|13812345678|unexpected shape/);
    } finally {
      (population as { find: unknown }).find = original;
    }
    const records = capture.records();
    const masked = records.find((r) => r.msg === 'unexpected error (masked)');
    expect(masked).toBeDefined();
    expect(masked!.level).toBe(50);
    expect(masked!.err.type).toBe('TypeError');
    expect(masked!.err.message).toBe('unexpected shape');
    expect(masked!.err.cause.message).toContain('boom while reading [id-number] for [phone] via postgres://[credentials]@db/pop');
    expect(masked!.err.cause.code).toBe('XX000');
    expect(masked!.err.cause.parameters).toBeUndefined();
    expect(masked!.err.cause.detail).toBeUndefined();
    expect(records.find((r) => r.msg === 'operation')).toMatchObject({ operation: 'Broken', decision: 'error', code: 'INTERNAL_SERVER_ERROR', level: 50 });
    const text = capture.text();
    expect(text).not.toContain('11010519491231002X');
    expect(text).not.toContain('13812345678');
    expect(text).not.toContain('s3cret');
    expect(text).not.toContain('张三');
  });

  it('serves aggregate metrics at /metrics without a token', async () => {
    await gw.graphql(`query Elderly { people(first: 5) { totalCount edges { node { name } } } }`, { token: clerk, purpose: 'elderly-allowance' });
    gw.runtime.metrics.limitHit('user');
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/lianqiao_operations_total\{decision="allow",code="OK"\} \d+/);
    expect(text).toMatch(/lianqiao_operations_total\{decision="deny",code="FORBIDDEN"\} \d+/);
    expect(text).toMatch(/lianqiao_operations_total\{decision="deny",code="UNAUTHENTICATED"\} \d+/);
    expect(text).toMatch(/lianqiao_operation_duration_seconds_count\{operation="Elderly"\} [1-9]/);
    expect(text).toMatch(/lianqiao_source_request_duration_seconds_count\{source="population",method="find",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/lianqiao_source_request_duration_seconds_count\{source="housing",method="find",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/lianqiao_policy_reloads_total\{outcome="ok"\} [1-9]/);
    expect(text).toMatch(/lianqiao_policy_up 1/);
    expect(text).toMatch(/lianqiao_audit_queue_depth \d+/);
    expect(text).toMatch(/lianqiao_audit_last_commit_seconds [\d.e-]+/);
    expect(text).toMatch(/lianqiao_audit_events_committed_total [1-9]/);
    expect(text).toMatch(/lianqiao_rate_limit_hits_total\{kind="user"\} 1/);
    expect(text).toMatch(/process_cpu_seconds_total/);
    // Aggregates only: no actor, organisation, purpose or ID number.
    expect(text).not.toContain('clerk-obs');
    expect(text).not.toContain(NANJING_EAST);
    expect(text).not.toContain('elderly-allowance');
    expect(text).not.toMatch(ID_NUMBER);
  });

  it('/readyz reports each dependency', async () => {
    const response = await fetch(`${base}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ready: true,
      checks: { store: 'ok', population: 'ok', housing: 'ok', social_security: 'ok' },
    });
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/lianqiao_dependency_up\{dependency="store"\} 1/);
  });
});
