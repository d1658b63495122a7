/**
 * Operation limits and the HTTP edge, through the real gateway on PGlite and real PostgreSQL:
 * every oversized operation is refused with QUERY_TOO_COMPLEX naming its limit (or 413/400 at the
 * HTTP level) before any source is read, the refusal is audited, and the gateway answers normally
 * afterwards. Then introspection and suggestions in production, mutations over GET, CSRF, security
 * headers, CORS, the persisted-operations allow-list and the per-operation deadline.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sql } from 'kysely';
import pg from 'pg';
import { getIntrospectionQuery } from 'graphql';
import { BACKENDS, createTestGateway, NANJING_EAST, type TestGateway } from '../setup.ts';
import type { Role } from '../../core/identity.ts';
import { createSocialSecuritySchema } from '../../demo/source-schema.ts';
import { seedSources } from '../../demo/seed-sources.ts';

const PURPOSE = 'elderly-allowance';

/** A listening express app for a test gateway; closed with the returned function. */
async function listen(gw: TestGateway): Promise<{ url: string; close(): Promise<void> }> {
  const server = gw.gateway.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function refusalsAudited(gw: TestGateway, sub: string, code: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*) as n from audit_event where actor_sub = ${sub} and reason like ${code + ':%'}`.execute(
    gw.runtime.databases.store,
  );
  return Number(rows[0]!.n);
}

/** `{ people { edges { node { household { residents { household ... name } } } } } }`, exactly `depth` levels deep. */
function deepQuery(depth: number): string {
  const chain = depth - 4; // relations under node, alternating Person.household and House.residents
  let inner = chain % 2 === 0 ? 'name' : 'id';
  for (let level = chain; level > 0; level--) inner = `${level % 2 === 1 ? 'household' : 'residents'} { ${inner} }`;
  return `{ people(first: 1) { edges { node { ${inner} } } } }`;
}

const aliasQuery = (n: number) => `{ people(first: 1) { edges { node { ${Array.from({ length: n }, (_, i) => `a${i}: name`).join(' ')} } } } }`;

describe.each(BACKENDS)('operation limits on %s', (backend) => {
  let gw: TestGateway;
  let sourceCalls = 0;
  let server: { url: string; close(): Promise<void> };
  const limited: string[] = [];

  beforeAll(async () => {
    gw = await createTestGateway({ backend, onSourceQuery: () => sourceCalls++, onHttpRequest: () => sourceCalls++ });
    vi.spyOn(gw.runtime.metrics, 'limitHit').mockImplementation((kind: string) => void limited.push(kind));
    server = await listen(gw);
  });
  afterAll(async () => {
    await server?.close();
    await gw?.close();
  });

  const clerk = (sub: string) => gw.token({ sub, org: NANJING_EAST, roles: ['street_staff'] });

  /** Sends `query`; expects QUERY_TOO_COMPLEX naming `limit`, no data, no source read, one audited refusal. */
  async function tooComplex(query: string, limit: string, message: RegExp) {
    const sub = `limits-${limit}-${Math.random().toString(36).slice(2, 8)}`;
    const before = sourceCalls;
    const { status, body } = await gw.graphql(query, { token: await clerk(sub), purpose: PURPOSE });
    expect(status).toBeLessThan(500);
    expect(body.data ?? null).toBeNull();
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit });
    expect(body.errors[0].message).toMatch(message);
    expect(sourceCalls).toBe(before);
    expect(limited).toContain(limit === 'rootFields' ? 'root_fields' : limit);
    expect(await refusalsAudited(gw, sub, 'QUERY_TOO_COMPLEX')).toBe(1);
    return body.errors[0];
  }

  it('depth 50: QUERY_TOO_COMPLEX "query depth 50 exceeds the limit of 8"', async () => {
    const error = await tooComplex(deepQuery(50), 'depth', /^query depth 50 exceeds the limit of 8$/);
    expect(error.extensions).toMatchObject({ max: 8, actual: 50 });
  });

  it('depth 9 is refused, depth 8 runs', async () => {
    await tooComplex(deepQuery(9), 'depth', /query depth 9 exceeds the limit of 8/);
    const { body } = await gw.graphql(deepQuery(8), { token: await clerk('depth-ok'), purpose: 'rental-registration' });
    expect(body.errors?.[0]?.extensions?.code).not.toBe('QUERY_TOO_COMPLEX');
  });

  it('16 aliases: QUERY_TOO_COMPLEX naming the alias limit', async () => {
    const error = await tooComplex(aliasQuery(16), 'aliases', /16 aliases, more than the limit of 15/);
    expect(error.extensions).toMatchObject({ max: 15, actual: 16 });
  });

  it('1,000 aliases: refused (the document is over the token limit before its aliases are counted)', async () => {
    await tooComplex(aliasQuery(1000), 'tokens', /more than 2000 tokens/);
  });

  it('a huge token count: refused while parsing, and still audited', async () => {
    const query = `{ people(first: 1) { edges { node { ${'name '.repeat(20_000)} } } } }`;
    const error = await tooComplex(query, 'tokens', /^query has more than 2000 tokens, the limit$/);
    expect(error.extensions.max).toBe(2000);
    // The same document again (yoga caches parse results): refused and audited again.
    await tooComplex(query, 'tokens', /2000 tokens/);
  });

  it('22 levels of fragments spreading the next twice: answered at once, not in 2^22 steps', async () => {
    let query = `query Doubling { people(first: 1) { totalCount edges { node { ...F0 } } } }\n`;
    for (let i = 0; i < 22; i++) query += `fragment F${i} on Person { ...F${i + 1} ...F${i + 1} }\n`;
    query += `fragment F22 on Person { name birthDate }\n`;
    const started = performance.now();
    const { status, body } = await gw.graphql(query, { token: await clerk('fragment-doubling'), purpose: PURPOSE });
    // A generous bound (the issue's: the walks alone take under 50 ms); the exponential walk took 14 s.
    expect(performance.now() - started).toBeLessThan(3000);
    expect(status).toBe(200);
    expect(body.errors ?? []).toEqual([]);
    expect(typeof body.data.people.totalCount).toBe('number');
  });

  it('11 root fields: QUERY_TOO_COMPLEX naming the root-field limit', async () => {
    const query = `{ ${Array.from({ length: 11 }, (_, i) => `r${i}: people(first: 1) { totalCount }`).join(' ')} }`;
    const error = await tooComplex(query, 'rootFields', /11 root fields, more than the limit of 10/);
    expect(error.extensions).toMatchObject({ max: 10, actual: 11 });
  });

  it('cost over 2,000: first × nesting multiplies', async () => {
    const query = `{ people(first: 100) { edges { node { household { residents { socialSecurity { employer } } } } } } }`;
    const error = await tooComplex(query, 'cost', /query cost 2301 exceeds the limit of 2000/);
    expect(error.extensions).toMatchObject({ max: 2000, actual: 2301 });
  });

  it('cost counts `first` given through a variable', async () => {
    const sub = 'cost-variable';
    const before = sourceCalls;
    const { body } = await gw.graphql(
      `query($n: Int) { people(first: $n) { edges { node { household { residents { socialSecurity { employer } } } } } } }`,
      { token: await clerk(sub), purpose: PURPOSE, variables: { n: 100 } },
    );
    expect(body.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'cost' });
    expect(sourceCalls).toBe(before);
  });

  it('a page size over 100 is refused before any source is read', async () => {
    const before = sourceCalls;
    const { body } = await gw.graphql(`{ people(first: 101) { totalCount } }`, { token: await clerk('page'), purpose: PURPOSE });
    expect(body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'pageSize', max: 100 });
    expect(body.errors[0].message).toBe('first must be between 0 and 100');
    expect(sourceCalls).toBe(before);
  });

  it('a body of 1 MB: 413, audited, nothing read', async () => {
    const sub = 'body-1mb';
    const before = sourceCalls;
    const response = await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await clerk(sub)}`, 'x-purpose': PURPOSE },
      body: JSON.stringify({ query: '{ people { totalCount } }', variables: { pad: 'x'.repeat(1024 * 1024) } }),
    });
    expect(response.status).toBe(413);
    const body = await response.json();
    expect(body.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'bodySize', max: 102400 });
    expect(body.errors[0].message).toBe('request body exceeds the limit of 102400 bytes');
    expect(sourceCalls).toBe(before);
    expect(await refusalsAudited(gw, sub, 'QUERY_TOO_COMPLEX')).toBe(1);
    expect(limited).toContain('body_size');
  });

  it('a body of 1 MB over a real socket (Content-Length declared): 413', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await clerk('body-socket')}`, 'x-purpose': PURPOSE },
      body: JSON.stringify({ query: '{ people { totalCount } }', variables: { pad: 'x'.repeat(1024 * 1024) } }),
    });
    expect(response.status).toBe(413);
    expect((await response.json()).errors[0].extensions.limit).toBe('bodySize');
  });

  it('a body just under the limit is read and answered', async () => {
    // A 90 KB comment: bytes count against the body limit, not against the token limit.
    const { body } = await gw.graphql(`# ${'x'.repeat(90_000)}\n{ people(first: 1) { totalCount } }`, { token: await clerk('body-ok'), purpose: PURPOSE });
    expect(body.errors).toBeUndefined();
    expect(body.data.people.totalCount).toBeGreaterThan(0);
  });

  it('a 10,000-element batch array: refused (413 for its size), nothing executed', async () => {
    const before = sourceCalls;
    const batch = Array.from({ length: 10_000 }, () => ({ query: '{ people { totalCount } }' }));
    const response = await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await clerk('batch')}`, 'x-purpose': PURPOSE },
      body: JSON.stringify(batch),
    });
    expect(response.status).toBe(413);
    expect(sourceCalls).toBe(before);
  });

  it('a small batch array: 400, one operation per request', async () => {
    const before = sourceCalls;
    const response = await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await clerk('batch-2')}`, 'x-purpose': PURPOSE },
      body: JSON.stringify([{ query: '{ me { sub } }' }, { query: '{ me { sub } }' }]),
    });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.data ?? null).toBeNull();
    expect(sourceCalls).toBe(before);
  });

  it('the gateway is still healthy afterwards', async () => {
    const { body } = await gw.graphql(`{ people(first: 100) { totalCount edges { node { name } } } }`, { token: await clerk('after'), purpose: PURPOSE });
    expect(body.errors).toBeUndefined();
    expect(body.data.people.edges.length).toBeGreaterThan(0);
    expect((await gw.runtime.readiness()).ready).toBe(true);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('a mutation over GET is refused (405) and changes nothing', async () => {
    const owner = await gw.token({ sub: 'owner-get', org: 'dept:public-security', roles: ['data_owner'] });
    const mutation = encodeURIComponent('mutation { revokeGrant(id: "population-elderly-allowance") { id active } }');
    const response = await gw.gateway.yoga.fetch(`http://gateway.test/graphql?query=${mutation}`, {
      headers: { authorization: `Bearer ${owner}`, accept: 'application/json' },
    });
    expect(response.status).toBe(405);
    const body = await response.json();
    expect(body.data ?? null).toBeNull();
    const { body: grants } = await gw.graphql(`{ grants(dataset: "population") { id active } }`, { token: owner });
    expect(grants.data.grants.find((g: any) => g.id === 'population-elderly-allowance').active).toBe(true);
  });

  it('a query over GET with the token is answered', async () => {
    const query = encodeURIComponent('{ people(first: 1) { totalCount } }');
    const response = await gw.gateway.yoga.fetch(`http://gateway.test/graphql?query=${query}`, {
      headers: { authorization: `Bearer ${await clerk('get-ok')}`, 'x-purpose': PURPOSE, accept: 'application/json' },
    });
    expect(response.status).toBe(200);
    expect((await response.json()).data.people.totalCount).toBeGreaterThan(0);
  });

  it('CSRF: a simple GET or form POST without a preflight-forcing header runs nothing', async () => {
    const before = sourceCalls;
    const query = encodeURIComponent('{ people(first: 1) { totalCount } }');
    const get = await gw.gateway.yoga.fetch(`http://gateway.test/graphql?query=${query}`, { headers: { accept: 'application/json' } });
    expect([401, 403]).toContain(get.status);
    const form = await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `query=${query}`,
    });
    expect([401, 403]).toContain(form.status);
    for (const r of [get, form]) expect((await r.json()).data ?? null).toBeNull();
    expect(sourceCalls).toBe(before);
  });

  it('CSRF: a simple GET whose only header is the purpose is refused too', async () => {
    // X-Purpose forces a preflight, so this passes CSRF prevention, and then needs a token.
    const query = encodeURIComponent('{ people(first: 1) { totalCount } }');
    const response = await gw.gateway.yoga.fetch(`http://gateway.test/graphql?query=${query}`, { headers: { 'x-purpose': PURPOSE } });
    expect(response.status).toBe(401);
  });

  it('security headers on API answers and on the GraphiQL page', async () => {
    const api = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await clerk('headers')}` },
      body: JSON.stringify({ query: '{ me { sub } }' }),
    });
    expect(api.status).toBe(200);
    expect(api.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
    expect(api.headers.get('x-frame-options')).toBe('DENY');
    expect(api.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    expect(api.headers.get('referrer-policy')).toBe('no-referrer');
    expect(api.headers.get('x-powered-by')).toBeNull();
    const health = await fetch(`${server.url}/healthz`);
    expect(health.headers.get('content-security-policy')).toContain("default-src 'none'");

    const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    // GraphiQL is served by the gateway itself (no CDN), with no inline script.
    const html = await page.text();
    expect(html).toContain('/console/vendor/graphiql/yoga-graphiql.umd.js');
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script>/);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain('unpkg.com');
    expect(csp).not.toContain("'unsafe-eval'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('no CORS headers by default', async () => {
    const preflight = await fetch(`${server.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const post = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/json', authorization: `Bearer ${await clerk('cors')}` },
      body: JSON.stringify({ query: '{ me { sub } }' }),
    });
    expect(post.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('production mode, CORS and a higher token limit (PGlite)', () => {
  let gw: TestGateway;
  let server: { url: string; close(): Promise<void> };
  const PORTAL = 'https://portal.example.gov.cn';
  const token = (roles: Role[], org = NANJING_EAST) => gw.token({ sub: `prod-${roles[0]}`, org, roles });

  beforeAll(async () => {
    gw = await createTestGateway({ persons: 50, env: { NODE_ENV: 'production', CORS_ORIGINS: PORTAL, MAX_QUERY_TOKENS: '20000' } });
    server = await listen(gw);
  });
  afterAll(async () => {
    await server?.close();
    await gw?.close();
  });

  it('introspection is refused for a clerk and audited', async () => {
    const clerk = await token(['street_staff']);
    for (const query of [`{ __schema { types { name } } }`, `{ __type(name: "Person") { fields { name } } }`, getIntrospectionQuery()]) {
      const { body } = await gw.graphql(query, { token: clerk });
      expect(body.data ?? null).toBeNull();
      expect(body.errors[0].extensions.code).toBe('FORBIDDEN');
      expect(body.errors[0].message).toMatch(/introspection is available to platform administrators only/);
    }
    expect(await refusalsAudited(gw, 'prod-street_staff', 'FORBIDDEN')).toBeGreaterThanOrEqual(3);
  });

  it('introspection is allowed for a platform admin', async () => {
    const { body } = await gw.graphql(getIntrospectionQuery(), { token: await token(['platform_admin'], 'platform') });
    expect(body.errors).toBeUndefined();
    expect(body.data.__schema.types.map((t: any) => t.name)).toContain('Person');
  });

  it('__typename is not introspection', async () => {
    const { body } = await gw.graphql(`{ __typename }`, { token: await token(['street_staff']) });
    expect(body).toEqual({ data: { __typename: 'Query' } });
  });

  it('no "Did you mean" in error messages for anyone but a platform admin', async () => {
    const clerk = await token(['street_staff']);
    const cases: [string, Record<string, unknown> | undefined][] = [
      [`{ people { edges { node { nam } } } }`, undefined],
      [`{ people(orderBy: { field: nam }) { totalCount } }`, undefined],
      [`{ peeple { totalCount } }`, undefined],
      [`query($o: PersonOrder) { people(orderBy: $o) { totalCount } }`, { o: { field: 'nam' } }],
      [`query($f: PersonFiltr) { people { totalCount } }`, undefined],
    ];
    for (const [query, variables] of cases) {
      const { body } = await gw.graphql(query, { token: clerk, purpose: PURPOSE, variables });
      expect(body.errors?.length).toBeGreaterThan(0);
      expect(JSON.stringify(body)).not.toMatch(/Did you mean/);
    }
    const admin = await gw.graphql(`{ people { edges { node { nam } } } }`, { token: await token(['platform_admin'], 'platform') });
    expect(admin.body.errors[0].message).toMatch(/Did you mean "name"/);
  });

  it('1,000 aliases under a higher token limit: QUERY_TOO_COMPLEX naming the alias limit', async () => {
    const { body } = await gw.graphql(aliasQuery(1000), { token: await token(['street_staff']), purpose: PURPOSE });
    expect(body.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'aliases', actual: 1000, max: 15 });
  });

  it('CORS for the configured origin only', async () => {
    const preflight = await fetch(`${server.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: PORTAL, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-purpose' },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(PORTAL);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/x-purpose/);
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
    const post = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { origin: PORTAL, 'content-type': 'application/json', authorization: `Bearer ${await token(['street_staff'])}` },
      body: JSON.stringify({ query: '{ me { sub } }' }),
    });
    expect(post.headers.get('access-control-allow-origin')).toBe(PORTAL);
    const other = await fetch(`${server.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
  });
});

describe('persisted operations only (PGlite)', () => {
  let gw: TestGateway;
  let dir: string;
  const document = `query Count { people(first: 1) { totalCount } }`;
  const id = createHash('sha256').update(document).digest('hex');
  const send = async (body: Record<string, unknown>) => {
    const token = await gw.token({ sub: 'persisted', org: NANJING_EAST, roles: ['street_staff'] });
    const response = await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-purpose': PURPOSE },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lianqiao-persisted-'));
    const file = path.join(dir, 'operations.json');
    fs.writeFileSync(file, JSON.stringify({ [id]: document }));
    gw = await createTestGateway({ persons: 50, env: { PERSISTED_OPERATIONS_FILE: file } });
  });
  afterAll(async () => {
    await gw?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs a listed operation by its id', async () => {
    const { body } = await send({ extensions: { persistedQuery: { version: 1, sha256Hash: id } } });
    expect(body.errors).toBeUndefined();
    expect(body.data.people.totalCount).toBeGreaterThan(0);
  });

  it('refuses a document that is not on the list, even a harmless one', async () => {
    const { body } = await send({ query: '{ me { sub } }' });
    expect(body.data ?? null).toBeNull();
    expect(body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(body.errors[0].message).toMatch(/only persisted operations/);
  });

  it('refuses an unknown id', async () => {
    const { body } = await send({ extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } });
    expect(body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(body.errors[0].message).toBe('unknown persisted operation');
  });

  it('refuses the listed document sent as text (the list is of ids)', async () => {
    const { body } = await send({ query: document });
    expect(body.errors[0].extensions.code).toBe('FORBIDDEN');
  });
});

describe('the per-operation deadline (PGlite, a hanging HTTP source)', () => {
  let gw: TestGateway;
  let source: http.Server;
  const aborted: number[] = [];
  let received = 0;

  beforeAll(async () => {
    // A social-security service that never answers: it records when the gateway gives up on a call.
    source = http.createServer((req) => {
      received += 1;
      const at = Date.now();
      req.socket.once('close', () => aborted.push(Date.now() - at));
    });
    source.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => source.once('listening', () => resolve()));
    const { port } = source.address() as AddressInfo;
    gw = await createTestGateway({ persons: 0, env: { SOCIAL_SECURITY_URL: `http://127.0.0.1:${port}`, OPERATION_TIMEOUT_MS: '1000' } });
    const db = gw.runtime.databases.population;
    await createSocialSecuritySchema(db);
    await seedSources({ population: db, housing: gw.runtime.databases.housing, socialSecurity: db }, { persons: 200 });
    // Warm the population source up, so that the deadline is spent waiting on the HTTP source.
    await gw.graphql(`{ people(first: 5) { edges { node { name } } } }`, {
      token: await gw.token({ sub: 'deadline-warm-up', org: NANJING_EAST, roles: ['street_staff'] }),
      purpose: PURPOSE,
    });
  });
  afterAll(async () => {
    await gw?.close();
    source?.closeAllConnections();
    await new Promise<void>((resolve) => source?.close(() => resolve()));
  });

  it('answers SERVICE_UNAVAILABLE naming the time limit, and the source call is cancelled', async () => {
    const started = Date.now();
    const { status, body } = await gw.graphql(`{ people(first: 5) { edges { node { name socialSecurity { pensionStatus } } } } }`, {
      token: await gw.token({ sub: 'deadline', org: NANJING_EAST, roles: ['street_staff'] }),
      purpose: PURPOSE,
    });
    const elapsed = Date.now() - started;
    expect(received).toBeGreaterThan(0);
    expect(status).toBe(503);
    expect(body.data ?? null).toBeNull();
    expect(body.errors[0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', limit: 'time', max: 1000 });
    expect(body.errors[0].message).toMatch(/time limit of 1000 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(4000);
    // The HTTP connector's per-attempt limit is the operation's: the hanging call is abandoned.
    await vi.waitFor(() => expect(aborted.length).toBeGreaterThan(0), { timeout: 3000 });
    expect(aborted[0]).toBeLessThan(3000);
    const { rows } = await sql<{ decision: string; reason: string }>`select decision, reason from audit_event where actor_sub = 'deadline'`.execute(
      gw.runtime.databases.store,
    );
    expect(rows).toEqual([{ decision: 'error', reason: expect.stringMatching(/^SERVICE_UNAVAILABLE: .*time limit/) }]);
  });

  it('a client that goes away mid-flight still leaves exactly one event, with the rows read until then', async () => {
    const server = await listen(gw);
    try {
      const controller = new AbortController();
      const before = received;
      const answer = fetch(`${server.url}/graphql`, {
        method: 'POST',
        signal: controller.signal,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await gw.token({ sub: 'aborted', org: NANJING_EAST, roles: ['street_staff'] })}`,
          'x-purpose': PURPOSE,
        },
        body: JSON.stringify({ query: `{ people(first: 5) { edges { node { name socialSecurity { pensionStatus } } } } }` }),
      });
      // Abort once the gateway is waiting on the hanging source (the people are read by then).
      await vi.waitFor(() => expect(received).toBeGreaterThan(before), { timeout: 3000 });
      controller.abort();
      await expect(answer).rejects.toThrow();
      const events = async () =>
        (
          await sql<{ decision: string; reason: string; rows: number }>`select decision, reason, rows from audit_event where actor_sub = 'aborted'`.execute(
            gw.runtime.databases.store,
          )
        ).rows;
      // Nobody waits for this answer: poll for its event (generously: the audit commit is slow on a busy machine).
      await vi.waitFor(async () => expect(await events()).toHaveLength(1), { timeout: 30_000, interval: 100 });
      // Past the deadline nothing more is written for it.
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const [event] = await events();
      expect(await events()).toHaveLength(1);
      expect(event!.decision).toBe('error');
      expect(event!.reason).toMatch(/^SERVICE_UNAVAILABLE: /);
      // The persons were read and counted before the wait on the hanging source.
      const { body } = await gw.graphql(`{ people(first: 5) { edges { node { name } } } }`, {
        token: await gw.token({ sub: 'aborted-count', org: NANJING_EAST, roles: ['street_staff'] }),
        purpose: PURPOSE,
      });
      expect(body.data.people.edges.length).toBeGreaterThan(0);
      expect(Number(event!.rows)).toBe(body.data.people.edges.length);
    } finally {
      await server.close();
    }
  });

  it('answers normally when the hanging source is not asked', async () => {
    const { body } = await gw.graphql(`{ people(first: 5) { edges { node { name } } } }`, {
      token: await gw.token({ sub: 'deadline-2', org: NANJING_EAST, roles: ['street_staff'] }),
      purpose: PURPOSE,
    });
    expect(body.errors).toBeUndefined();
    expect(body.data.people.edges.length).toBeGreaterThan(0);
  });
});

describe.runIf(!!process.env.TEST_DATABASE_URL)('source statements are cancelled at the time limit (real PostgreSQL)', () => {
  let gw: TestGateway;
  let locker: pg.Client;

  beforeAll(async () => {
    gw = await createTestGateway({ backend: 'postgres', persons: 100, env: { OPERATION_TIMEOUT_MS: '800' } });
    locker = new pg.Client({ connectionString: gw.env.POPULATION_DATABASE_URL });
    await locker.connect();
  });
  afterAll(async () => {
    await locker?.end().catch(() => {});
    await gw?.close();
  });

  it('a query blocked at the source is cancelled by PostgreSQL, not left running', async () => {
    await locker.query('begin');
    await locker.query('lock table population.person in access exclusive mode');
    const blocked = async () =>
      Number(
        (
          await locker.query(
            `select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query ilike '%population%person%' and pid <> pg_backend_pid()`,
          )
        ).rows[0].n,
      );
    try {
      const started = Date.now();
      const { status, body } = await gw.graphql(`{ people(first: 5) { edges { node { name } } } }`, {
        token: await gw.token({ sub: 'blocked', org: NANJING_EAST, roles: ['street_staff'] }),
        purpose: PURPOSE,
      });
      expect(status).toBe(503);
      expect(body.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(3000);
      // statement_timeout (= OPERATION_TIMEOUT_MS here) ends the waiting statement on the server.
      await vi.waitFor(async () => expect(await blocked()).toBe(0), { timeout: 3000, interval: 100 });
    } finally {
      await locker.query('rollback');
    }
    const { body } = await gw.graphql(`{ people(first: 5) { edges { node { name } } } }`, {
      token: await gw.token({ sub: 'unblocked', org: NANJING_EAST, roles: ['street_staff'] }),
      purpose: PURPOSE,
    });
    expect(body.errors).toBeUndefined();
  });
});
