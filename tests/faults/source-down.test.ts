/**
 * One source down, on real PostgreSQL: the population registry behind a TCP proxy that the test
 * cuts, and the social-security HTTP service behind a stand-in that forwards, answers 500 or never
 * answers. Operations that need the missing source fail with SERVICE_UNAVAILABLE naming it
 * (`extensions.source`); the others are served; each leaves exactly one audit event.
 */
import { sql } from 'kysely';
import { listenGateway, type ListeningGateway } from '../fixtures/http-server.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, NANJING_EAST, type TestGateway } from '../setup.ts';
import { postgresDatabase } from '../../gateway/store/databases.ts';
import { startSocialSecurityService, type SocialSecurityService } from '../../demo/social-security-service.ts';
import {
  logCapture,
  REAL_POSTGRES,
  startTcpProxy,
  switchableHttpSource,
  targetOf,
  throughPort,
  waitFor,
  type SwitchableHttpSource,
  type TcpProxy,
} from './fault-tools.ts';

describe.runIf(REAL_POSTGRES)('one source down (real PostgreSQL)', () => {
  let proxy: TcpProxy;
  let socialSecurity: SwitchableHttpSource;
  let service: SocialSecurityService;
  let serviceDb: ReturnType<typeof postgresDatabase>;
  let gw: TestGateway;
  let capture: ReturnType<typeof logCapture>;
  let listening: ListeningGateway;
  let base: string;
  let clerk: string;
  let elderId: string;

  beforeAll(async () => {
    proxy = await startTcpProxy(targetOf(process.env.TEST_DATABASE_URL!));
    socialSecurity = await switchableHttpSource();
    capture = logCapture();
    let realUrl = '';
    gw = await createTestGateway({
      backend: 'postgres',
      logger: capture.logger,
      env: { SOCIAL_SECURITY_URL: socialSecurity.url, SOURCE_TIMEOUT_MS: '400' },
      rewriteUrl: (setting, url) => {
        realUrl = url;
        return setting === 'POPULATION_DATABASE_URL' ? throughPort(url, proxy.port) : url;
      },
    });
    // The department's service, on the seeded database, behind the stand-in.
    serviceDb = postgresDatabase(realUrl);
    service = await startSocialSecurityService({ db: serviceDb, onError: () => {} });
    socialSecurity.upstream = service.url;
    clerk = await gw.token({ sub: 'clerk-src', org: NANJING_EAST, roles: ['street_staff'] });
    listening = await listenGateway(gw.gateway);
    base = listening.base;
    const { body } = await ask(`{ people(first: 1) { edges { node { idNumber } } } }`, 'elderly-allowance');
    elderId = body.data.people.edges[0].node.idNumber;
  });
  afterAll(async () => {
    await listening?.close();
    await gw?.close();
    await service?.close();
    await serviceDb?.destroy();
    await socialSecurity?.close();
    await proxy?.close();
  });

  const ask = (query: string, purpose: string, variables?: Record<string, unknown>) =>
    gw.graphql(query, { token: clerk, purpose, variables });

  /** Audit events of this instance, newest last. */
  const events = async () => {
    const { rows } = await sql<{ operation_name: string | null; decision: string; reason: string | null }>`
      select operation_name, decision, reason from audit_event where chain_id = ${gw.config.instanceId} order by seq`.execute(
      gw.runtime.databases.store,
    );
    return rows;
  };

  it('population down: reads of persons fail naming the source, me and houses without residents are served, all audited', async () => {
    const before = (await events()).length;
    await proxy.cut();
    try {
      const people = await ask(`query People { people(first: 3) { edges { node { name } } } }`, 'elderly-allowance');
      expect(people.status).toBe(503);
      expect(people.body.data ?? null).toBeNull();
      expect(people.body.errors[0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', source: 'population' });
      expect(people.body.errors[0].message).toBe('source population is unavailable');

      const me = await ask(`query Me { me { sub org } }`, 'elderly-allowance');
      expect(me.body.errors).toBeUndefined();
      expect(me.body.data.me).toEqual({ sub: 'clerk-src', org: NANJING_EAST });

      const houses = await ask(`query Houses { houses(first: 3) { edges { node { id address } } } }`, 'rental-registration');
      expect(houses.body.errors).toBeUndefined();
      expect(houses.body.data.houses.edges.length).toBeGreaterThan(0);

      const residents = await ask(`query Residents { houses(first: 3) { edges { node { id residents { name } } } } }`, 'rental-registration');
      expect(residents.body.errors[0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', source: 'population' });
      expect(JSON.stringify(residents.body.data ?? null)).not.toMatch(/"name"/);

      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(503);
      expect((await ready.json()).checks).toEqual({ store: 'ok', population: 'unavailable', housing: 'ok', social_security: 'ok' });
    } finally {
      await proxy.restore();
    }
    const audited = (await events()).slice(before);
    expect(audited.map((e) => [e.operation_name, e.decision])).toEqual([
      ['People', 'error'],
      ['Me', 'allow'],
      ['Houses', 'allow'],
      ['Residents', 'error'],
    ]);
    expect(audited[0]!.reason).toMatch(/^SERVICE_UNAVAILABLE: source population /);

    // Back without a restart.
    await waitFor(async () => !(await ask(`{ people(first: 1) { totalCount } }`, 'elderly-allowance')).body.errors, 10_000, 'population back');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/lianqiao_source_request_duration_seconds_count\{source="population",method="find",outcome="unavailable"\} [1-9]/);
    expect(capture.messages(/^source population failed$/).length).toBeGreaterThan(0);
  });

  for (const mode of ['error500', 'silent'] as const) {
    it(`social security ${mode === 'error500' ? 'answering 500' : 'not answering'}: its reads fail naming it, the rest is served, all audited`, async () => {
      const before = (await events()).length;
      socialSecurity.mode = mode;
      try {
        const account = await ask(`query Account($id: ID!) { socialSecurityAccount(idNumber: $id) { pensionStatus } }`, 'elderly-allowance', {
          id: elderId,
        });
        expect(account.body.errors[0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', source: 'social_security' });
        expect(account.body.data?.socialSecurityAccount ?? null).toBeNull();

        const people = await ask(`query People { people(first: 3) { edges { node { name age } } } }`, 'elderly-allowance');
        expect(people.body.errors).toBeUndefined();
        expect(people.body.data.people.edges.length).toBeGreaterThan(0);

        const ready = await fetch(`${base}/readyz`);
        expect(ready.status).toBe(503);
        expect((await ready.json()).checks.social_security).toBe('unavailable');
      } finally {
        socialSecurity.mode = 'forward';
      }
      const audited = (await events()).slice(before);
      expect(audited.map((e) => [e.operation_name, e.decision])).toEqual([
        ['Account', 'error'],
        ['People', 'allow'],
      ]);
      const back = await ask(`query Account($id: ID!) { socialSecurityAccount(idNumber: $id) { pensionStatus } }`, 'elderly-allowance', { id: elderId });
      expect(back.body.errors).toBeUndefined();
    });
  }
});
