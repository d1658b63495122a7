/**
 * HttpConnector end to end: against the real social-security service (in-process, over PGlite and,
 * when TEST_DATABASE_URL is set, over a fresh PostgreSQL database), and against fake HTTP sources
 * that hang, fail, flap or talk nonsense.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Kysely } from 'kysely';
import { BACKENDS, openBackendDatabase } from '../backends.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../../core/conditions.ts';
import { ConnectorError } from '../../connectors/connector-error.ts';
import { SOCIAL_SECURITY } from '../../core/datasets.ts';
import { createSocialSecuritySchema } from '../../demo/source-schema.ts';
import { HttpConnector } from '../../connectors/http/http-connector.ts';
import type { HttpConnectorOptions } from '../../connectors/http/http-connector.ts';
import type { LookupBody } from '../../connectors/http/http-protocol.ts';
import { startSocialSecurityService, type SocialSecurityService } from '../../demo/social-security-service.ts';

/** Headers of a request sent the way the gateway's connector sends it: with the service's credential. */
function asGateway(service: SocialSecurityService, headers: Record<string, string> = {}): Record<string, string> {
  const url = new URL(service.url);
  const basic = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64');
  return { ...headers, authorization: `Basic ${basic}` };
}


const ALL: Scope = { streets: 'all', conditions: [] };
const RECEIVING: Scope = { streets: 'all', conditions: [{ field: 'pensionStatus', op: 'eq', value: 'receiving' }] };

/** An 18-character resident ID with a correct ISO 7064 MOD 11-2 check character. */
function idNumber(seq: number): string {
  const body = `31010119${String(1940 + (seq % 40)).slice(2)}0101${String(100 + seq).padStart(3, '0')}`.slice(0, 17);
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((acc, ch, i) => acc + Number(ch) * weights[i], 0);
  return body + '10X98765432'[sum % 11];
}

interface Account {
  idNumber: string;
  pensionStatus: 'none' | 'contributing' | 'receiving';
  monthlyPension: number;
  medicalInsuranceType: 'employee' | 'resident' | 'none';
  employer: string | null;
  lastContributionMonth: string | null;
  minimumLivingAssistance: boolean;
}

const ACCOUNTS: Account[] = Array.from({ length: 30 }, (_, i) => {
  const pensionStatus = (['receiving', 'contributing', 'none'] as const)[i % 3];
  return {
    idNumber: idNumber(i),
    pensionStatus,
    monthlyPension: pensionStatus === 'receiving' ? 3000 + i * 10.5 : 0,
    medicalInsuranceType: (['employee', 'resident', 'none'] as const)[i % 3],
    employer: pensionStatus === 'contributing' ? `Employer ${i}` : null,
    lastContributionMonth: pensionStatus === 'none' ? null : `2024-${String((i % 12) + 1).padStart(2, '0')}`,
    minimumLivingAssistance: i % 5 === 0,
  };
});
const RECEIVING_IDS = ACCOUNTS.filter((a) => a.pensionStatus === 'receiving').map((a) => a.idNumber);

async function insertAccounts(db: Kysely<any>): Promise<void> {
  await db
    .insertInto('social_security.account')
    .values(
      ACCOUNTS.map((a) => ({
        id_number: a.idNumber,
        pension_status: a.pensionStatus,
        monthly_pension: a.monthlyPension,
        medical_insurance_type: a.medicalInsuranceType,
        employer: a.employer,
        last_contribution_month: a.lastContributionMonth,
        minimum_living_assistance: a.minimumLivingAssistance,
      })),
    )
    .execute();
}

function byId<T extends { idNumber?: unknown }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => String(a.idNumber).localeCompare(String(b.idNumber)));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

describe.each(BACKENDS)('HttpConnector → social-security service on %s', (backend) => {
  let backendDb: Awaited<ReturnType<typeof openBackendDatabase>>;
  let service: SocialSecurityService;
  let requests: { path: string; body: unknown }[];
  let connector: HttpConnector;

  beforeAll(async () => {
    backendDb = await openBackendDatabase(backend, 'lianqiao_http');
    await createSocialSecuritySchema(backendDb.db);
    await insertAccounts(backendDb.db);
    service = await startSocialSecurityService({ db: backendDb.db, port: 0 });
  });

  afterAll(async () => {
    await connector?.close();
    await service?.close();
    await backendDb?.close();
  });

  function newConnector(options: Partial<HttpConnectorOptions> = {}): HttpConnector {
    requests = [];
    connector = new HttpConnector({
      dataset: SOCIAL_SECURITY,
      baseUrl: service.url,
      onRequest: (r) => requests.push(r),
      ...options,
    });
    return connector;
  }

  it('answers health checks', async () => {
    await expect(newConnector().health()).resolves.toBeUndefined();
    expect(requests.map((r) => r.path)).toEqual(['/health']);
  });

  it('gives a local caller without the credential nothing: 401 on every route, no account data', async () => {
    const everyone = JSON.stringify({ by: 'idNumber', keys: ACCOUNTS.map((a) => a.idNumber), fields: ['pensionStatus', 'monthlyPension', 'employer'], conditions: [] });
    const json = { 'content-type': 'application/json' };
    const credential = decodeURIComponent(new URL(service.url).password);
    const attempts: [string, RequestInit][] = [
      ['/lookup', { method: 'POST', headers: json, body: everyone }],
      ['/find', { method: 'POST', headers: json, body: JSON.stringify({ fields: ['idNumber', 'employer'], first: 1000 }) }],
      ['/health', {}],
      ['/lookup', { method: 'POST', headers: { ...json, authorization: 'Bearer not-the-credential-but-long-enough-0123456789' }, body: everyone }],
      ['/lookup', { method: 'POST', headers: { ...json, authorization: `Basic ${Buffer.from('gateway:wrong').toString('base64')}` }, body: everyone }],
      ['/lookup', { method: 'POST', headers: { ...json, authorization: `Basic ${Buffer.from(credential).toString('base64')}` }, body: everyone }],
      ['/lookup', { method: 'POST', headers: { ...json, authorization: credential }, body: everyone }],
    ];
    for (const [path, init] of attempts) {
      const response = await fetch(`${service.origin}${path}`, init);
      const text = await response.text();
      expect(response.status, `${path} ${JSON.stringify(init.headers)}`).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(JSON.parse(text)).toEqual({ error: { code: 'UNAUTHORIZED', message: 'credential required' } });
      for (const a of ACCOUNTS) expect(text).not.toContain(a.idNumber);
    }
    // The credential itself opens it, as Basic (what the connector sends) or as a bearer token.
    const bearer = await fetch(`${service.origin}/lookup`, { method: 'POST', headers: { ...json, authorization: `Bearer ${credential}` }, body: everyone });
    expect(bearer.status).toBe(200);
    expect(((await bearer.json()) as { rows: unknown[] }).rows).toHaveLength(ACCOUNTS.length);
  });

  it('refuses a connector that was not given the credential, and each start makes its own', async () => {
    const c = newConnector({ baseUrl: service.origin, retries: 0 });
    await expect(c.lookup({ scope: ALL, by: 'idNumber', keys: [ACCOUNTS[0].idNumber], fields: ['employer'] })).rejects.toMatchObject({ kind: 'bad-response' });
    await expect(c.health()).rejects.toBeInstanceOf(ConnectorError);
    const second = await startSocialSecurityService({ db: backendDb.db });
    try {
      expect(new URL(second.url).password).not.toBe(new URL(service.url).password);
      expect(new URL(second.url).password.length).toBeGreaterThanOrEqual(32);
      const stale = newConnector({ baseUrl: service.url.replace(service.origin.slice('http://'.length), second.origin.slice('http://'.length)), retries: 0 });
      await expect(stale.health()).rejects.toBeInstanceOf(ConnectorError);
    } finally {
      await second.close();
    }
  });

  it('returns only the requested fields (plus the lookup key)', async () => {
    const c = newConnector();
    const wanted = [ACCOUNTS[0], ACCOUNTS[1], ACCOUNTS[2]];
    const rows = await c.lookup({ scope: ALL, by: 'idNumber', keys: wanted.map((a) => a.idNumber), fields: ['pensionStatus', 'monthlyPension'] });
    expect(byId(rows)).toEqual(
      byId(wanted.map((a) => ({ idNumber: a.idNumber, pensionStatus: a.pensionStatus, monthlyPension: a.monthlyPension }))),
    );
    for (const row of rows) expect(Object.keys(row).sort()).toEqual(['idNumber', 'monthlyPension', 'pensionStatus']);
  });

  it('the service itself projects: a raw request for one field gets no other account field', async () => {
    const response = await fetch(`${service.origin}/lookup`, {
      method: 'POST',
      headers: asGateway(service, { 'content-type': 'application/json' }),
      body: JSON.stringify({ by: 'idNumber', keys: [ACCOUNTS[1].idNumber], fields: ['employer'], conditions: [] } satisfies LookupBody),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { rows: Record<string, unknown>[] };
    expect(body.rows).toHaveLength(1);
    expect(body.rows[0].employer).toBe(ACCOUNTS[1].employer);
    for (const key of Object.keys(body.rows[0])) expect(['employer', 'idNumber']).toContain(key);
  });

  it('pushes the scope conditions to the service and sends one request for 20 keys', async () => {
    const c = newConnector();
    const keys = ACCOUNTS.slice(0, 20).map((a) => a.idNumber);
    const rows = await c.lookup({ scope: RECEIVING, by: 'idNumber', keys: [...keys, keys[0], keys[3]], fields: ['pensionStatus'] });
    const expected = ACCOUNTS.slice(0, 20).filter((a) => a.pensionStatus === 'receiving');
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(20);
    expect(byId(rows)).toEqual(byId(expected.map((a) => ({ idNumber: a.idNumber, pensionStatus: 'receiving' }))));
    expect(requests).toHaveLength(1);
    const sent = requests[0].body as LookupBody;
    expect(requests[0].path).toBe('/lookup');
    expect(sent.keys).toHaveLength(20); // deduplicated
    expect(sent.conditions).toEqual(RECEIVING.conditions);
    expect(sent).not.toHaveProperty('streets');
  });

  it('splits key lists above maxBatch into several requests and merges the rows', async () => {
    const c = newConnector({ maxBatch: 10 });
    const rows = await c.lookup({ scope: ALL, by: 'idNumber', keys: ACCOUNTS.map((a) => a.idNumber), fields: ['minimumLivingAssistance'] });
    expect(requests).toHaveLength(3);
    expect(byId(rows)).toEqual(byId(ACCOUNTS.map((a) => ({ idNumber: a.idNumber, minimumLivingAssistance: a.minimumLivingAssistance }))));
  });

  it('makes no request for an empty key list (or keys that cannot exist)', async () => {
    const c = newConnector();
    await expect(c.lookup({ scope: ALL, by: 'idNumber', keys: [], fields: ['pensionStatus'] })).resolves.toEqual([]);
    await expect(c.lookup({ scope: ALL, by: 'idNumber', keys: ['', 'x'.repeat(500)], fields: ['pensionStatus'] })).resolves.toEqual([]);
    expect(requests).toHaveLength(0);
  });

  it('pages through find results under the scope conditions, with a total count', async () => {
    const c = newConnector();
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page = await c.find({ scope: RECEIVING, fields: ['idNumber', 'pensionStatus'], first: 4, after, withTotalCount: true });
      pages += 1;
      expect(page.totalCount).toBe(RECEIVING_IDS.length);
      expect(page.cursors).toHaveLength(page.rows.length);
      for (const row of page.rows) {
        expect(row.pensionStatus).toBe('receiving');
        expect(Object.keys(row).sort()).toEqual(['idNumber', 'pensionStatus']);
        seen.push(String(row.idNumber));
      }
      if (!page.hasNextPage) break;
      after = page.cursors[page.cursors.length - 1];
      expect(pages).toBeLessThan(10);
    }
    expect(pages).toBe(Math.ceil(RECEIVING_IDS.length / 4));
    expect(seen.sort()).toEqual([...RECEIVING_IDS].sort());
  });

  it('applies request filters and ordering in find', async () => {
    const c = newConnector();
    const page = await c.find({
      scope: ALL,
      fields: ['idNumber', 'monthlyPension'],
      where: [{ field: 'monthlyPension', op: 'gt', value: 3100 }],
      orderBy: { field: 'monthlyPension', direction: 'desc' },
      first: 100,
    });
    const expected = ACCOUNTS.filter((a) => a.monthlyPension > 3100).sort((a, b) => b.monthlyPension - a.monthlyPension);
    expect(page.rows.map((r) => r.idNumber)).toEqual(expected.map((a) => a.idNumber));
    expect(page.hasNextPage).toBe(false);
    expect(page.totalCount).toBeUndefined();
  });

  it('turns a cursor the service did not issue for this query into bad-cursor', async () => {
    const c = newConnector();
    const first = await c.find({ scope: ALL, fields: ['idNumber'], first: 2 });
    const error = await rejection(c.find({ scope: RECEIVING, fields: ['idNumber'], first: 2, after: first.cursors[1] }));
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).kind).toBe('bad-cursor');
    const garbage = await rejection(c.find({ scope: ALL, fields: ['idNumber'], first: 2, after: 'not-a-cursor' }));
    expect((garbage as ConnectorError).kind).toBe('bad-cursor');
  });

  it('refuses unknown fields: locally before sending, and in the service', async () => {
    const c = newConnector();
    await expect(c.lookup({ scope: ALL, by: 'idNumber', keys: [ACCOUNTS[0].idNumber], fields: ['streetCode'] })).rejects.toThrow(/unknown field/);
    await expect(
      c.find({ scope: { streets: 'all', conditions: [{ field: 'password', op: 'eq', value: 'x' }] }, fields: ['idNumber'], first: 1 }),
    ).rejects.toThrow(/unknown field/);
    expect(requests).toHaveLength(0);

    const post = (path: string, body: string) =>
      fetch(`${service.origin}${path}`, { method: 'POST', headers: asGateway(service, { 'content-type': 'application/json' }), body });
    const cases: [string, string][] = [
      ['/lookup', JSON.stringify({ by: 'idNumber', keys: ['x'], fields: ['pensionStatus', 'id_number'], conditions: [] })],
      ['/lookup', JSON.stringify({ by: 'idNumber', keys: ['x'], fields: ['pensionStatus'], conditions: [{ field: 'rid', op: 'gt', value: 0 }] })],
      ['/lookup', JSON.stringify({ by: 'employer', keys: ['x'], fields: ['pensionStatus'], conditions: [] })],
      ['/lookup', JSON.stringify({ by: 'idNumber', keys: Array.from({ length: 1001 }, (_, i) => `k${i}`), fields: ['pensionStatus'], conditions: [] })],
      ['/lookup', JSON.stringify({ by: 'idNumber', keys: ['x'], fields: ['monthlyPension'], conditions: [{ field: 'monthlyPension', op: 'gt', value: '1; drop table x' }] })],
      ['/find', JSON.stringify({ fields: ['idNumber'], first: 5, orderBy: { field: 'pension_status', direction: 'asc' } })],
      ['/find', JSON.stringify({ fields: ['idNumber'], first: -1 })],
      ['/find', '{"fields": ['],
      ['/find', '[]'],
    ];
    for (const [path, body] of cases) {
      const response = await post(path, body);
      expect(response.status, `${path} ${body.slice(0, 120)}`).toBe(400);
      const answer = (await response.json()) as { error: { code: string; message: string } };
      expect(answer.error.code).toBe('BAD_REQUEST');
      expect(answer.error.message).not.toMatch(/select|social_security\.account|at .*\.ts/i);
    }
  });

  it('refuses a call without a scope, before any request', async () => {
    const c = newConnector();
    const noScope = { by: 'idNumber', keys: [ACCOUNTS[0].idNumber], fields: ['pensionStatus'] } as unknown as Parameters<HttpConnector['lookup']>[0];
    await expect(c.lookup(noScope)).rejects.toThrow(/without a scope/);
    const noScopeFind = { fields: ['idNumber'], first: 5 } as unknown as Parameters<HttpConnector['find']>[0];
    await expect(c.find(noScopeFind)).rejects.toThrow(/without a scope/);
    expect(requests).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Fake sources
// ---------------------------------------------------------------------------------------------

interface Fake {
  url: string;
  hits: IncomingMessage[];
  close(): Promise<void>;
}

const fakes: Fake[] = [];

async function fakeSource(handler: (req: IncomingMessage, res: ServerResponse, hit: number) => void): Promise<Fake> {
  const hits: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req);
    req.resume(); // drain the body; the handler decides whether and how to answer
    handler(req, res, hits.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake: Fake = {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  fakes.push(fake);
  return fake;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const LOOKUP = { scope: ALL, by: 'idNumber', keys: [idNumber(1)], fields: ['pensionStatus'] } as const;

function httpConnector(url: string, options: Partial<HttpConnectorOptions> = {}): HttpConnector {
  return new HttpConnector({ dataset: SOCIAL_SECURITY, baseUrl: url, timeoutMs: 300, retries: 2, backoffMs: 10, ...options });
}

describe('HttpConnector against failing sources', () => {
  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((f) => f.close()));
  });

  it('gives up on a source that never answers with a timeout error, in bounded time', async () => {
    const fake = await fakeSource(() => {
      /* never answers */
    });
    const c = httpConnector(fake.url, { timeoutMs: 200, retries: 2 });
    const started = Date.now();
    const error = await rejection(c.lookup(LOOKUP));
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).kind).toBe('timeout');
    expect((error as ConnectorError).source).toBe('social_security');
    expect((error as ConnectorError).message).toBe('source social_security did not answer within 200 ms');
    expect(fake.hits).toHaveLength(3);
    expect(elapsed).toBeGreaterThanOrEqual(200 * 3 - 20);
    expect(elapsed).toBeLessThan(200 * 3 + 2000);
  });

  it('times out on a source that sends headers and then stalls the body', async () => {
    const fake = await fakeSource((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"rows": [');
    });
    const c = httpConnector(fake.url, { timeoutMs: 200, retries: 0 });
    const error = await rejection(c.lookup(LOOKUP));
    expect((error as ConnectorError).kind).toBe('timeout');
    expect(fake.hits).toHaveLength(1);
  });

  it('retries a 500 `retries` times, then reports the source unavailable', async () => {
    const fake = await fakeSource((_req, res) => json(res, 500, { error: { code: 'INTERNAL', message: 'relation "x" does not exist at line 1' } }));
    const c = httpConnector(fake.url, { retries: 2 });
    const error = await rejection(c.lookup(LOOKUP));
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).kind).toBe('unavailable');
    expect((error as ConnectorError).message).not.toContain('relation');
    expect(fake.hits).toHaveLength(3);
  });

  it('succeeds after a retry when a 503 is followed by a 200', async () => {
    const fake = await fakeSource((_req, res, hit) =>
      hit === 1 ? json(res, 503, { error: { code: 'UNAVAILABLE', message: 'busy' } }) : json(res, 200, { rows: [{ idNumber: idNumber(1), pensionStatus: 'none' }] }),
    );
    const c = httpConnector(fake.url);
    await expect(c.lookup(LOOKUP)).resolves.toEqual([{ idNumber: idNumber(1), pensionStatus: 'none' }]);
    expect(fake.hits).toHaveLength(2);
  });

  it('reports a non-JSON answer as bad-response, without retrying or quoting it', async () => {
    const fake = await fakeSource((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>secret page</html>'));
    const c = httpConnector(fake.url);
    const error = await rejection(c.lookup(LOOKUP));
    expect((error as ConnectorError).kind).toBe('bad-response');
    expect((error as ConnectorError).message).not.toContain('secret');
    expect(fake.hits).toHaveLength(1);
  });

  it('reports a JSON answer of the wrong shape as bad-response', async () => {
    const fake = await fakeSource((_req, res) => json(res, 200, { rows: 'all of them' }));
    const c = httpConnector(fake.url);
    await expect(c.lookup(LOOKUP)).rejects.toMatchObject({ kind: 'bad-response' });
    const findFake = await fakeSource((_req, res) => json(res, 200, { rows: [{ idNumber: 'a' }], cursors: [], hasNextPage: false }));
    await expect(httpConnector(findFake.url).find({ scope: ALL, fields: ['idNumber'], first: 5 })).rejects.toMatchObject({ kind: 'bad-response' });
  });

  it('never retries a 4xx; BAD_CURSOR becomes bad-cursor', async () => {
    const badRequest = await fakeSource((_req, res) => json(res, 400, { error: { code: 'BAD_REQUEST', message: 'no' } }));
    await expect(httpConnector(badRequest.url).lookup(LOOKUP)).rejects.toMatchObject({ kind: 'bad-response' });
    expect(badRequest.hits).toHaveLength(1);
    const badCursor = await fakeSource((_req, res) => json(res, 400, { error: { code: 'BAD_CURSOR', message: 'no' } }));
    await expect(httpConnector(badCursor.url).find({ scope: ALL, fields: ['idNumber'], first: 5, after: 'x' })).rejects.toMatchObject({
      kind: 'bad-cursor',
    });
    expect(badCursor.hits).toHaveLength(1);
  });

  it('reports a refused connection as unavailable', async () => {
    const fake = await fakeSource(() => {});
    const url = fake.url;
    await fake.close();
    const requests: unknown[] = [];
    const c = httpConnector(url, { retries: 1, onRequest: (r) => requests.push(r) });
    const error = await rejection(c.lookup(LOOKUP));
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).kind).toBe('unavailable');
    expect((error as ConnectorError).message).not.toContain('127.0.0.1');
    expect(requests).toHaveLength(2);
    await expect(c.health()).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('a service whose database is gone answers 503 without detail, and the connector says unavailable', async () => {
    const { db } = await openBackendDatabase('pglite');
    await createSocialSecuritySchema(db);
    const logged: unknown[] = [];
    const service = await startSocialSecurityService({ db, onError: (e) => logged.push(e) });
    try {
      await db.destroy();
      const response = await fetch(`${service.origin}/lookup`, {
        method: 'POST',
        headers: asGateway(service, { 'content-type': 'application/json' }),
        body: JSON.stringify({ by: 'idNumber', keys: ['x'], fields: ['pensionStatus'], conditions: [] }),
      });
      expect(response.status).toBe(503);
      const text = await response.text();
      expect(text).not.toMatch(/select|social_security\.account|closed|\.ts/i);
      expect(JSON.parse(text)).toEqual({ error: { code: 'UNAVAILABLE', message: expect.any(String) } });
      expect((await fetch(`${service.origin}/health`, { headers: asGateway(service) })).status).toBe(503);
      const requests: unknown[] = [];
      const c = httpConnector(service.url, { retries: 1, onRequest: (r) => requests.push(r) });
      await expect(c.lookup(LOOKUP)).rejects.toMatchObject({ kind: 'unavailable' });
      expect(requests).toHaveLength(2);
      await expect(c.health()).rejects.toMatchObject({ kind: 'unavailable' });
      expect(logged.length).toBeGreaterThan(0);
    } finally {
      await service.close();
    }
  });

  it('sends URL credentials as Basic auth and never puts them in a message', async () => {
    const fake = await fakeSource((_req, res) => json(res, 500, {}));
    const c = httpConnector(fake.url.replace('http://', 'http://hrss:s3cret@'), { retries: 0 });
    const error = await rejection(c.lookup(LOOKUP));
    expect((error as ConnectorError).kind).toBe('unavailable');
    expect(String((error as Error).message)).not.toContain('s3cret');
    expect(fake.hits[0].headers.authorization).toBe(`Basic ${Buffer.from('hrss:s3cret').toString('base64')}`);
  });

  it('close() aborts requests in flight', async () => {
    const fake = await fakeSource(() => {});
    const c = httpConnector(fake.url, { timeoutMs: 10_000 });
    const pending = rejection(c.lookup(LOOKUP));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await c.close();
    const error = await pending;
    expect((error as ConnectorError).kind).toBe('unavailable');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(fake.hits).toHaveLength(1);
    await expect(c.lookup(LOOKUP)).rejects.toMatchObject({ kind: 'unavailable' });
  });
});
